// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {ShortString, ShortStrings} from "@openzeppelin/contracts/utils/ShortStrings.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {IdentityRegistry} from "./IdentityRegistry.sol";
import {MarketBinding} from "../common/MarketBinding.sol";

/// @title ValidationRegistry
/// @notice ERC-8004 Validation Registry. Agent owners/operators request validation from a validator; the
/// validator answers 0..100. Verity's TaskMarket is itself a validator: when a dispute game settles one of an
/// agent's results it files the request and answers (100 = result upheld by re-execution, 0 = result wrong).
/// @dev Summaries use running aggregates per (agent, validator | any, tag | any): no loops over stored data.
/// Tags are at most 31 bytes. Each request hash is appended to its agent's and its validator's list (ERC-8004
/// `getAgentValidations` / `getValidatorRequests`); the lists are read whole (the ERC's signatures, a copy in a view
/// that no transaction calls) or a page at a time (`...Page(offset, limit)`, at most {MAX_PAGE} entries).
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
    /// @notice Max request hashes in one page of {getAgentValidationsPage} / {getValidatorRequestsPage}.
    uint256 public constant MAX_PAGE = 256;
    /// @notice Tag (first 4 bytes) of every request hash the bound market writes; reserved for the market, so nobody
    /// can take the hash of a market record first (docs/protocol.md §Adversary, attack 1).
    bytes4 public constant MARKET_TAG = bytes4(keccak256("verity.market.v1"));

    /// @notice The ERC-8004 identity registry.
    IdentityRegistry public immutable identityRegistry;

    mapping(bytes32 requestHash => ValidationStatus) private _validations;
    mapping(uint256 agentId => mapping(address validator => mapping(bytes32 tagKey => Aggregate))) private _aggregates;
    mapping(uint256 agentId => bytes32[] requestHashes) private _agentValidations;
    mapping(address validator => bytes32[] requestHashes) private _validatorRequests;

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
    /// @notice A page larger than {MAX_PAGE}.
    error ValidationPageTooLarge(uint256 limit, uint256 max);

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
        _request(validatorAddress, agentId, requestURI, requestHash);
    }

    /// @notice The bound market files the record of one of its disputes, with itself as validator and a request URI
    /// that describes it ({marketRequestURI}): the same ValidationRequest as {validationRequest}, built here so the
    /// market's code stays small. Bound market only.
    /// @param agentId The worker's agent.
    /// @param taskId The task.
    /// @param disputeId The dispute.
    /// @param requestHash The market's key of the dispute (MARKET_TAG prefix).
    function marketValidationRequest(uint256 agentId, uint256 taskId, uint256 disputeId, bytes32 requestHash)
        external
    {
        // INVARIANT: only the bound market files requests in its own name through this entry point.
        if (msg.sender != market || msg.sender == address(0)) revert ValidationUnauthorized(msg.sender, agentId);
        _request(msg.sender, agentId, marketRequestURI(taskId, disputeId), requestHash);
    }

    /// @notice The request URI of a market dispute record: a base64 `data:` URI of the JSON
    /// `{"type":"verity-dispute","chainId":…,"market":"0x…","taskId":…,"disputeId":…}` (the request's data is on chain).
    /// @param taskId The task.
    /// @param disputeId The dispute.
    /// @return The URI.
    function marketRequestURI(uint256 taskId, uint256 disputeId) public view returns (string memory) {
        bytes memory json = abi.encodePacked(
            '{"type":"verity-dispute","chainId":',
            Strings.toString(block.chainid),
            ',"market":"',
            Strings.toHexString(market),
            '","taskId":',
            Strings.toString(taskId),
            ',"disputeId":',
            Strings.toString(disputeId),
            "}"
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    function _request(address validatorAddress, uint256 agentId, string memory requestURI, bytes32 requestHash)
        private
    {
        if (validatorAddress == address(0)) revert ValidationZeroValidator();
        if (msg.sender != market || msg.sender == address(0)) {
            // INVARIANT: the market's key space (MARKET_TAG prefix) and the market as validator are the market's alone.
            if (bytes4(requestHash) == MARKET_TAG) revert ValidationReservedRequestHash(msg.sender, requestHash);
            if (validatorAddress == market && market != address(0)) {
                revert ValidationReservedValidator(msg.sender, validatorAddress);
            }
        }
        // INVARIANT: one request per hash.
        if (_validations[requestHash].validatorAddress != address(0)) revert ValidationRequestExists(requestHash);
        if (msg.sender != market || msg.sender == address(0)) {
            // INVARIANT: only the agent's owner or operator requests validation of its work.
            if (!identityRegistry.isAuthorized(msg.sender, agentId)) revert ValidationUnauthorized(msg.sender, agentId);
        } else {
            identityRegistry.ownerOf(agentId); // the market may request for any existing agent
        }
        ValidationStatus storage s = _validations[requestHash];
        s.validatorAddress = validatorAddress;
        s.agentId = agentId;
        s.lastUpdate = uint64(block.timestamp);
        _agentValidations[agentId].push(requestHash);
        _validatorRequests[validatorAddress].push(requestHash);
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

    /// @notice Every validation request hash of an agent, oldest first (ERC-8004). A copy of the whole list: for a
    /// long list read {getAgentValidationsPage} (an RPC's eth_call gas cap may refuse a very long copy).
    /// @param agentId The agent.
    /// @return requestHashes The agent's request hashes.
    function getAgentValidations(uint256 agentId) external view returns (bytes32[] memory requestHashes) {
        return _agentValidations[agentId];
    }

    /// @notice Every request hash addressed to a validator, oldest first (ERC-8004). A copy of the whole list: for a
    /// long list read {getValidatorRequestsPage}.
    /// @param validatorAddress The validator.
    /// @return requestHashes The validator's request hashes.
    function getValidatorRequests(address validatorAddress) external view returns (bytes32[] memory requestHashes) {
        return _validatorRequests[validatorAddress];
    }

    /// @notice Number of validation requests of an agent.
    /// @param agentId The agent.
    /// @return The count.
    function getAgentValidationCount(uint256 agentId) external view returns (uint256) {
        return _agentValidations[agentId].length;
    }

    /// @notice Number of requests addressed to a validator.
    /// @param validatorAddress The validator.
    /// @return The count.
    function getValidatorRequestCount(address validatorAddress) external view returns (uint256) {
        return _validatorRequests[validatorAddress].length;
    }

    /// @notice A page of an agent's request hashes: entries [offset, offset + limit) of {getAgentValidations}
    /// (shorter at the end, empty past it).
    /// @param agentId The agent.
    /// @param offset First entry.
    /// @param limit Entries at most (<= {MAX_PAGE}).
    /// @return requestHashes The page.
    function getAgentValidationsPage(uint256 agentId, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory requestHashes)
    {
        return _page(_agentValidations[agentId], offset, limit);
    }

    /// @notice A page of a validator's request hashes: entries [offset, offset + limit) of {getValidatorRequests}.
    /// @param validatorAddress The validator.
    /// @param offset First entry.
    /// @param limit Entries at most (<= {MAX_PAGE}).
    /// @return requestHashes The page.
    function getValidatorRequestsPage(address validatorAddress, uint256 offset, uint256 limit)
        external
        view
        returns (bytes32[] memory requestHashes)
    {
        return _page(_validatorRequests[validatorAddress], offset, limit);
    }

    function _page(bytes32[] storage list, uint256 offset, uint256 limit) private view returns (bytes32[] memory out) {
        // INVARIANT: a page copies at most MAX_PAGE entries, whatever the list's length.
        if (limit > MAX_PAGE) revert ValidationPageTooLarge(limit, MAX_PAGE);
        uint256 len = list.length;
        if (offset >= len) return new bytes32[](0);
        uint256 n = len - offset < limit ? len - offset : limit;
        out = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            out[i] = list[offset + i];
        }
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
