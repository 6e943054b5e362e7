// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ShortString, ShortStrings} from "@openzeppelin/contracts/utils/ShortStrings.sol";
import {IdentityRegistry} from "./IdentityRegistry.sol";
import {MarketBinding} from "../common/MarketBinding.sol";

/// @title ReputationRegistry
/// @notice ERC-8004-shaped Reputation Registry where feedback is written from protocol outcomes, not opinions:
/// only the bound TaskMarket (the single "client") writes, when a task is finalized, a dispute is won or lost,
/// or a claimed task expires undelivered. Readers use the ERC-8004 read API (readFeedback, getSummary, ...).
/// @dev Summaries come from running aggregates kept per (agent, client, tag filter), so no read or write loops
/// over stored feedback. Supported filters: (tag1, tag2), (tag1, any), (any, any). Tags are at most 31 bytes.
contract ReputationRegistry is MarketBinding {
    using ShortStrings for string;
    using ShortStrings for ShortString;

    struct Feedback {
        int128 value;
        uint8 valueDecimals;
        bool isRevoked;
        ShortString tag1;
        ShortString tag2;
    }

    struct Aggregate {
        uint64 count;
        int192 sum18; // sum of values normalised to 18 decimals
    }

    /// @notice Max clients in one {getSummary} call (bounds the loop over caller-supplied data).
    uint256 public constant MAX_SUMMARY_CLIENTS = 16;
    /// @notice Decimals of {getSummary}'s average.
    uint8 public constant SUMMARY_DECIMALS = 18;

    /// @notice The ERC-8004 identity registry agents are looked up in.
    IdentityRegistry public immutable identityRegistry;

    mapping(uint256 agentId => mapping(address client => mapping(uint64 index => Feedback))) private _feedback;
    mapping(uint256 agentId => mapping(address client => uint64 lastIndex)) private _lastIndex;
    mapping(uint256 agentId => mapping(address client => mapping(bytes32 filter => Aggregate))) private _aggregates;

    /// @notice Feedback was recorded (ERC-8004).
    event NewFeedback(
        uint256 indexed agentId,
        address indexed clientAddress,
        uint64 feedbackIndex,
        int128 value,
        uint8 valueDecimals,
        string indexed indexedTag1,
        string tag1,
        string tag2,
        string endpoint,
        string feedbackURI,
        bytes32 feedbackHash
    );
    /// @notice A response was appended to a feedback (ERC-8004).
    event ResponseAppended(
        uint256 indexed agentId,
        address indexed clientAddress,
        uint64 feedbackIndex,
        address indexed responder,
        string responseURI,
        bytes32 responseHash
    );

    /// @notice `valueDecimals` above 18.
    error ReputationInvalidDecimals(uint8 valueDecimals);
    /// @notice A tag longer than 31 bytes.
    error ReputationTagTooLong(uint256 length);
    /// @notice No feedback at that index.
    error ReputationIndexOutOfBounds(uint256 agentId, address client, uint64 feedbackIndex);
    /// @notice Too many clients passed to {getSummary}.
    error ReputationTooManyClients(uint256 count, uint256 max);
    /// @notice Filter (any tag1, specific tag2) is not aggregated.
    error ReputationUnsupportedFilter();
    /// @notice Empty response URI.
    error ReputationEmptyResponseURI();

    /// @param identityRegistry_ The ERC-8004 identity registry.
    constructor(IdentityRegistry identityRegistry_) {
        identityRegistry = identityRegistry_;
    }

    /// @notice ERC-8004 accessor for the identity registry.
    /// @return The identity registry address.
    function getIdentityRegistry() external view returns (address) {
        return address(identityRegistry);
    }

    /// @notice Records outcome feedback for an agent. Bound market only.
    /// @param agentId The agent (must exist).
    /// @param value Signed fixed-point value (Verity: +1 success, -1 failure).
    /// @param valueDecimals Decimals of `value` (<= 18).
    /// @param tag1 Primary dimension (<= 31 bytes), e.g. "task" or "dispute".
    /// @param tag2 Secondary dimension (<= 31 bytes), e.g. "finalized", "won", "lost", "expired".
    /// @param endpoint Service endpoint concerned (not stored).
    /// @param feedbackURI Off-chain details (not stored).
    /// @param feedbackHash Commitment to the details (Verity: the task key).
    /// @return feedbackIndex 1-based index of the new feedback for (agent, client).
    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        string calldata tag1,
        string calldata tag2,
        string memory endpoint,
        string memory feedbackURI,
        bytes32 feedbackHash
    ) external onlyMarket returns (uint64 feedbackIndex) {
        if (valueDecimals > SUMMARY_DECIMALS) revert ReputationInvalidDecimals(valueDecimals);
        identityRegistry.ownerOf(agentId); // reverts ERC721NonexistentToken for unknown agents
        feedbackIndex = _store(agentId, value, valueDecimals, tag1, tag2);
        emit NewFeedback(
            agentId, msg.sender, feedbackIndex, value, valueDecimals, tag1, tag1, tag2, endpoint, feedbackURI, feedbackHash
        );
    }

    /// @notice Appends a response (e.g. the agent's rebuttal) to a feedback. Anyone may respond; only the event
    /// is kept.
    /// @param agentId The agent.
    /// @param clientAddress The feedback's client.
    /// @param feedbackIndex The feedback's index.
    /// @param responseURI Response location (non-empty).
    /// @param responseHash Commitment to the response.
    function appendResponse(
        uint256 agentId,
        address clientAddress,
        uint64 feedbackIndex,
        string calldata responseURI,
        bytes32 responseHash
    ) external {
        if (bytes(responseURI).length == 0) revert ReputationEmptyResponseURI();
        _checkIndex(agentId, clientAddress, feedbackIndex);
        emit ResponseAppended(agentId, clientAddress, feedbackIndex, msg.sender, responseURI, responseHash);
    }

    /// @notice Reads one feedback (ERC-8004).
    /// @param agentId The agent.
    /// @param clientAddress The client that wrote it.
    /// @param feedbackIndex 1-based index.
    /// @return value The value.
    /// @return valueDecimals Its decimals.
    /// @return tag1 Primary tag.
    /// @return tag2 Secondary tag.
    /// @return isRevoked Always false in Verity (outcomes are not revoked).
    function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked)
    {
        _checkIndex(agentId, clientAddress, feedbackIndex);
        Feedback storage f = _feedback[agentId][clientAddress][feedbackIndex];
        return (f.value, f.valueDecimals, f.tag1.toString(), f.tag2.toString(), f.isRevoked);
    }

    /// @notice Count and average of feedback matching the filter (ERC-8004).
    /// @param agentId The agent.
    /// @param clientAddresses Clients to include (<= 16); empty means the bound market.
    /// @param tag1 Tag filter ("" = any).
    /// @param tag2 Tag filter ("" = any; requires a non-empty tag1).
    /// @return count Matching feedback count.
    /// @return summaryValue Average value with {SUMMARY_DECIMALS} decimals.
    /// @return summaryValueDecimals {SUMMARY_DECIMALS}.
    function getSummary(uint256 agentId, address[] calldata clientAddresses, string calldata tag1, string calldata tag2)
        external
        view
        returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals)
    {
        if (clientAddresses.length > MAX_SUMMARY_CLIENTS) {
            revert ReputationTooManyClients(clientAddresses.length, MAX_SUMMARY_CLIENTS);
        }
        if (bytes(tag1).length == 0 && bytes(tag2).length != 0) revert ReputationUnsupportedFilter();
        bytes32 key = _filterKey(tag1, tag2);
        int256 sum;
        if (clientAddresses.length == 0) {
            Aggregate storage a = _aggregates[agentId][market][key];
            (count, sum) = (a.count, a.sum18);
        } else {
            for (uint256 i; i < clientAddresses.length; ++i) {
                Aggregate storage a = _aggregates[agentId][clientAddresses[i]][key];
                count += a.count;
                sum += a.sum18;
            }
        }
        summaryValueDecimals = SUMMARY_DECIMALS;
        if (count != 0) summaryValue = int128(sum / int256(uint256(count)));
    }

    /// @notice Last feedback index written by `clientAddress` for `agentId` (ERC-8004).
    /// @param agentId The agent.
    /// @param clientAddress The client.
    /// @return lastIndex 0 if none.
    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64 lastIndex) {
        return _lastIndex[agentId][clientAddress];
    }

    /// @notice Clients that wrote feedback for `agentId` (ERC-8004): at most the bound market.
    /// @param agentId The agent.
    /// @return clients The client list.
    function getClients(uint256 agentId) external view returns (address[] memory clients) {
        if (_lastIndex[agentId][market] == 0) return new address[](0);
        clients = new address[](1);
        clients[0] = market;
    }

    function _store(uint256 agentId, int128 value, uint8 valueDecimals, string calldata tag1, string calldata tag2)
        private
        returns (uint64 feedbackIndex)
    {
        feedbackIndex = _lastIndex[agentId][msg.sender] + 1;
        _lastIndex[agentId][msg.sender] = feedbackIndex;
        _feedback[agentId][msg.sender][feedbackIndex] = Feedback({
            value: value, valueDecimals: valueDecimals, isRevoked: false, tag1: _short(tag1), tag2: _short(tag2)
        });
        int192 v18 = int192(value) * int192(int256(uint256(10) ** (SUMMARY_DECIMALS - valueDecimals)));
        bytes32 k1 = _filterKey(tag1, tag2);
        bytes32 k2 = _filterKey(tag1, "");
        bytes32 k3 = _filterKey("", "");
        mapping(bytes32 => Aggregate) storage agg = _aggregates[agentId][msg.sender];
        _accumulate(agg[k1], v18);
        if (k2 != k1) _accumulate(agg[k2], v18);
        if (k3 != k2) _accumulate(agg[k3], v18);
    }

    function _accumulate(Aggregate storage a, int192 v18) private {
        a.count += 1;
        a.sum18 += v18;
    }

    function _checkIndex(uint256 agentId, address client, uint64 feedbackIndex) private view {
        if (feedbackIndex == 0 || feedbackIndex > _lastIndex[agentId][client]) {
            revert ReputationIndexOutOfBounds(agentId, client, feedbackIndex);
        }
    }

    function _short(string calldata tag) private pure returns (ShortString) {
        if (bytes(tag).length > 31) revert ReputationTagTooLong(bytes(tag).length);
        return ShortStrings.toShortString(tag);
    }

    function _filterKey(string memory tag1, string memory tag2) private pure returns (bytes32) {
        return keccak256(abi.encode(tag1, tag2));
    }
}
