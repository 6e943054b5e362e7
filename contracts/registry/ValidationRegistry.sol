// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ShortString, ShortStrings} from "@openzeppelin/contracts/utils/ShortStrings.sol";
import {IdentityRegistry} from "./IdentityRegistry.sol";
import {MarketBinding} from "../common/MarketBinding.sol";

/// @title ValidationRegistry
/// @notice ERC-8004 Validation Registry. Agent owners/operators request validation from a validator; the
/// validator answers 0..100. Verity's TaskMarket is itself a validator: when a dispute game settles one of an
/// agent's results it files the request and answers (100 = result upheld by re-execution, 0 = result wrong).
/// @dev Summaries use running aggregates per (agent, validator | any, tag | any): no loops over stored data.
/// Tags are at most 31 bytes. Per-agent / per-validator hash lists are not stored: index the events.
contract ValidationRegistry is MarketBinding {
    using ShortStrings for string;
    using ShortStrings for ShortString;

    struct ValidationStatus {
        address validatorAddress;
        uint8 response;
        bool hasResponse;
        uint64 lastUpdate;
        uint256 agentId;
        bytes32 responseHash;
        ShortString tag;
    }

    struct Aggregate {
        uint64 count;
        uint192 sum;
    }

    /// @notice Max response value.
    uint8 public constant MAX_RESPONSE = 100;
    /// @notice Max validators in one {getSummary} call.
    uint256 public constant MAX_SUMMARY_VALIDATORS = 16;
    /// @notice Tag (first 4 bytes) of every request hash the bound market writes; reserved for the market, so nobody
    /// can take the hash of a market record first (docs/protocol.md §Adversary, attack 1).
    bytes4 public constant MARKET_TAG = bytes4(keccak256("verity.market.v1"));

    /// @notice The ERC-8004 identity registry.
    IdentityRegistry public immutable identityRegistry;

    mapping(bytes32 requestHash => ValidationStatus) private _validations;
    mapping(uint256 agentId => mapping(address validator => mapping(bytes32 tagKey => Aggregate))) private _aggregates;

    /// @notice A validation was requested (ERC-8004).
    event ValidationRequest(
        address indexed validatorAddress, uint256 indexed agentId, string requestURI, bytes32 indexed requestHash
    );
    /// @notice A validator answered (ERC-8004).
    event ValidationResponse(
        address indexed validatorAddress,
        uint256 indexed agentId,
        bytes32 indexed requestHash,
        uint8 response,
        string responseURI,
        bytes32 responseHash,
        string tag
    );

    /// @notice Validator address is zero.
    error ValidationZeroValidator();
    /// @notice A request with this hash already exists.
    error ValidationRequestExists(bytes32 requestHash);
    /// @notice Caller may not request validation for the agent.
    error ValidationUnauthorized(address caller, uint256 agentId);
    /// @notice No request with this hash.
    error ValidationUnknownRequest(bytes32 requestHash);
    /// @notice Caller is not the request's validator.
    error ValidationNotValidator(address caller, address validator);
    /// @notice Response above {MAX_RESPONSE}.
    error ValidationResponseOutOfRange(uint8 response);
    /// @notice Tag longer than 31 bytes.
    error ValidationTagTooLong(uint256 length);
    /// @notice Too many validators passed to {getSummary}.
    error ValidationTooManyValidators(uint256 count, uint256 max);
    /// @notice A caller other than the bound market used a request hash in the market's reserved key space.
    error ValidationReservedRequestHash(address caller, bytes32 requestHash);
    /// @notice A caller other than the bound market named the market as validator.
    error ValidationReservedValidator(address caller, address validator);

    /// @param identityRegistry_ The ERC-8004 identity registry.
    constructor(IdentityRegistry identityRegistry_) {
        identityRegistry = identityRegistry_;
    }

    /// @notice ERC-8004 accessor for the identity registry.
    /// @return The identity registry address.
    function getIdentityRegistry() external view returns (address) {
        return address(identityRegistry);
    }

    /// @notice Requests validation of an agent's work. Agent owner/operator, or the bound market.
    /// @param validatorAddress Validator expected to answer.
    /// @param agentId The agent.
    /// @param requestURI Off-chain request data.
    /// @param requestHash Commitment to the request (unique key).
    function validationRequest(
        address validatorAddress,
        uint256 agentId,
        string calldata requestURI,
        bytes32 requestHash
    ) external {
        if (validatorAddress == address(0)) revert ValidationZeroValidator();
        if (msg.sender != market || msg.sender == address(0)) {
            // INVARIANT: the market's key space (MARKET_TAG prefix) and the market as validator are the market's alone.
            if (bytes4(requestHash) == MARKET_TAG) revert ValidationReservedRequestHash(msg.sender, requestHash);
            if (validatorAddress == market && market != address(0)) {
                revert ValidationReservedValidator(msg.sender, validatorAddress);
            }
        }
        if (_validations[requestHash].validatorAddress != address(0)) revert ValidationRequestExists(requestHash);
        if (msg.sender != market || msg.sender == address(0)) {
            if (!identityRegistry.isAuthorized(msg.sender, agentId)) revert ValidationUnauthorized(msg.sender, agentId);
        } else {
            identityRegistry.ownerOf(agentId); // the market may request for any existing agent
        }
        ValidationStatus storage s = _validations[requestHash];
        s.validatorAddress = validatorAddress;
        s.agentId = agentId;
        s.lastUpdate = uint64(block.timestamp);
        emit ValidationRequest(validatorAddress, agentId, requestURI, requestHash);
    }

    /// @notice Answers a validation request; may be called again to update the answer. Validator only.
    /// @param requestHash The request.
    /// @param response 0..100.
    /// @param responseURI Off-chain evidence.
    /// @param responseHash Commitment to the evidence.
    /// @param tag Category (<= 31 bytes).
    function validationResponse(
        bytes32 requestHash,
        uint8 response,
        string calldata responseURI,
        bytes32 responseHash,
        string calldata tag
    ) external {
        if (response > MAX_RESPONSE) revert ValidationResponseOutOfRange(response);
        if (bytes(tag).length > 31) revert ValidationTagTooLong(bytes(tag).length);
        ValidationStatus storage s = _validations[requestHash];
        address validator = s.validatorAddress;
        if (validator == address(0)) revert ValidationUnknownRequest(requestHash);
        if (msg.sender != validator) revert ValidationNotValidator(msg.sender, validator);

        uint256 agentId = s.agentId;
        if (s.hasResponse) _aggregate(agentId, validator, s.tag.toString(), s.response, false);
        _aggregate(agentId, validator, tag, response, true);
        s.response = response;
        s.hasResponse = true;
        s.responseHash = responseHash;
        s.tag = ShortStrings.toShortString(tag);
        s.lastUpdate = uint64(block.timestamp);
        emit ValidationResponse(validator, agentId, requestHash, response, responseURI, responseHash, tag);
    }

    /// @notice Status of a request (ERC-8004). Reverts for unknown requests.
    /// @param requestHash The request.
    /// @return validatorAddress The validator.
    /// @return agentId The agent.
    /// @return response Latest response (0 if none yet).
    /// @return responseHash Latest evidence commitment.
    /// @return tag Latest tag.
    /// @return lastUpdate Timestamp of the last change.
    function getValidationStatus(bytes32 requestHash)
        external
        view
        returns (
            address validatorAddress,
            uint256 agentId,
            uint8 response,
            bytes32 responseHash,
            string memory tag,
            uint256 lastUpdate
        )
    {
        ValidationStatus storage s = _validations[requestHash];
        if (s.validatorAddress == address(0)) revert ValidationUnknownRequest(requestHash);
        return (s.validatorAddress, s.agentId, s.response, s.responseHash, s.tag.toString(), s.lastUpdate);
    }

    /// @notice Count and average response for an agent (ERC-8004).
    /// @param agentId The agent.
    /// @param validatorAddresses Validators to include (<= 16); empty means all validators.
    /// @param tag Tag filter ("" = any).
    /// @return count Number of answered requests matching.
    /// @return avgResponse Average response (integer division).
    function getSummary(uint256 agentId, address[] calldata validatorAddresses, string calldata tag)
        external
        view
        returns (uint64 count, uint8 avgResponse)
    {
        if (validatorAddresses.length > MAX_SUMMARY_VALIDATORS) {
            revert ValidationTooManyValidators(validatorAddresses.length, MAX_SUMMARY_VALIDATORS);
        }
        bytes32 key = keccak256(bytes(tag));
        uint256 sum;
        if (validatorAddresses.length == 0) {
            Aggregate storage a = _aggregates[agentId][address(0)][key];
            (count, sum) = (a.count, a.sum);
        } else {
            for (uint256 i; i < validatorAddresses.length; ++i) {
                Aggregate storage a = _aggregates[agentId][validatorAddresses[i]][key];
                count += a.count;
                sum += a.sum;
            }
        }
        if (count != 0) avgResponse = uint8(sum / count);
    }

    /// @dev Adds (or removes) one response to the four aggregates it belongs to: (validator|any) x (tag|any).
    function _aggregate(uint256 agentId, address validator, string memory tag, uint8 response, bool add) private {
        bytes32 tagKey = keccak256(bytes(tag));
        bytes32 anyTag = keccak256("");
        _bump(_aggregates[agentId][validator][tagKey], response, add);
        _bump(_aggregates[agentId][address(0)][tagKey], response, add);
        if (tagKey != anyTag) {
            _bump(_aggregates[agentId][validator][anyTag], response, add);
            _bump(_aggregates[agentId][address(0)][anyTag], response, add);
        }
    }

    function _bump(Aggregate storage a, uint8 response, bool add) private {
        if (add) {
            a.count += 1;
            a.sum += response;
        } else {
            // Cannot underflow: only called to remove a response previously added to this same aggregate.
            unchecked {
                a.count -= 1;
                a.sum -= response;
            }
        }
    }
}
