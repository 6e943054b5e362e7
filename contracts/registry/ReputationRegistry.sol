// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ShortString, ShortStrings} from "@openzeppelin/contracts/utils/ShortStrings.sol";
import {IdentityRegistry} from "./IdentityRegistry.sol";
import {MarketBinding} from "../common/MarketBinding.sol";

/// @title ReputationRegistry
/// @notice ERC-8004 Reputation Registry. Any client except the agent's owner or operators may give feedback (as
/// the ERC says); the bound TaskMarket is one client among them, writing from protocol outcomes when a task is
/// finalized, a dispute is won or lost, or a claimed task expires undelivered. Verity's verified reputation is
/// `getSummary(agentId, [market], tag1, tag2)`: only the market can write under its address, so it is unforgeable.
/// @dev Summaries come from running aggregates kept per (agent, client, tag filter), so neither writes nor
/// {getSummary} loop over stored feedback. Every filter shape is aggregated: (tag1, tag2), (tag1, any),
/// (any, tag2), (any, any). Averages carry 18 decimals (self-described by the returned decimals). Tags are at
/// most 31 bytes. {readAllFeedback} walks stored feedback of at most {MAX_SUMMARY_CLIENTS} clients and reverts
/// past {MAX_READ_ALL} entries (read those with {readFeedback}).
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
    /// @notice Most entries {readAllFeedback} walks in one call.
    uint256 public constant MAX_READ_ALL = 512;

    /// @notice The ERC-8004 identity registry agents are looked up in.
    IdentityRegistry public immutable identityRegistry;

    mapping(uint256 agentId => mapping(address client => mapping(uint64 index => Feedback))) private _feedback;
    mapping(uint256 agentId => mapping(address client => uint64 lastIndex)) private _lastIndex;
    mapping(uint256 agentId => mapping(address client => mapping(bytes32 filter => Aggregate))) private _aggregates;
    mapping(uint256 agentId => address[] clients) private _clients;
    /// @dev Response counters: per feedback (total and per responder), per (agent, client), per agent.
    mapping(bytes32 scope => uint64 count) private _responses;

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
    /// @notice A client revoked one of its feedbacks (ERC-8004).
    event FeedbackRevoked(uint256 indexed agentId, address indexed clientAddress, uint64 indexed feedbackIndex);
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
    /// @notice {getSummary} needs a non-empty client list (ERC-8004: unfiltered summaries invite Sybil spam).
    error ReputationEmptyClients();
    /// @notice The agent's owner or operator may not rate its own agent.
    error ReputationSelfFeedback(address caller, uint256 agentId);
    /// @notice The feedback is already revoked.
    error ReputationAlreadyRevoked(uint256 agentId, address client, uint64 feedbackIndex);
    /// @notice {readAllFeedback} would walk more than {MAX_READ_ALL} entries.
    error ReputationTooManyEntries(uint256 entries, uint256 max);
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

    /// @notice Records feedback for an agent from the caller (any client but the agent's owner or operators).
    /// @param agentId The agent (must exist).
    /// @param value Signed fixed-point value (the market writes +1 success, -1 failure).
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
    ) external returns (uint64 feedbackIndex) {
        if (valueDecimals > SUMMARY_DECIMALS) revert ReputationInvalidDecimals(valueDecimals);
        // INVARIANT: nobody rates their own agent (isAuthorized reverts ERC721NonexistentToken for unknown agents).
        // The bound market is exempt: an owner approving the market as operator must not silence its outcomes.
        if (identityRegistry.isAuthorized(msg.sender, agentId) && msg.sender != market) {
            revert ReputationSelfFeedback(msg.sender, agentId);
        }
        if (_lastIndex[agentId][msg.sender] == 0) _clients[agentId].push(msg.sender);
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
        _responses[_scope(agentId, clientAddress, feedbackIndex, address(0))] += 1;
        _responses[_scope(agentId, clientAddress, feedbackIndex, msg.sender)] += 1;
        _responses[_scope(agentId, clientAddress, 0, address(0))] += 1;
        _responses[_scope(agentId, clientAddress, 0, msg.sender)] += 1;
        _responses[_scope(agentId, address(0), 0, address(0))] += 1;
        _responses[_scope(agentId, address(0), 0, msg.sender)] += 1;
        emit ResponseAppended(agentId, clientAddress, feedbackIndex, msg.sender, responseURI, responseHash);
    }

    /// @notice Revokes one of the caller's feedbacks: it stays readable (isRevoked) and leaves every summary.
    /// @param agentId The agent.
    /// @param feedbackIndex The caller's 1-based feedback index.
    function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external {
        _checkIndex(agentId, msg.sender, feedbackIndex);
        Feedback storage f = _feedback[agentId][msg.sender][feedbackIndex];
        if (f.isRevoked) revert ReputationAlreadyRevoked(agentId, msg.sender, feedbackIndex);
        f.isRevoked = true;
        int192 v18 = _to18(f.value, f.valueDecimals);
        _aggregateAll(agentId, msg.sender, f.tag1.toString(), f.tag2.toString(), v18, false);
        emit FeedbackRevoked(agentId, msg.sender, feedbackIndex);
    }

    /// @notice Reads one feedback (ERC-8004).
    /// @param agentId The agent.
    /// @param clientAddress The client that wrote it.
    /// @param feedbackIndex 1-based index.
    /// @return value The value.
    /// @return valueDecimals Its decimals.
    /// @return tag1 Primary tag.
    /// @return tag2 Secondary tag.
    /// @return isRevoked Whether its client revoked it (the market never revokes).
    function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked)
    {
        _checkIndex(agentId, clientAddress, feedbackIndex);
        Feedback storage f = _feedback[agentId][clientAddress][feedbackIndex];
        return (f.value, f.valueDecimals, f.tag1.toString(), f.tag2.toString(), f.isRevoked);
    }

    /// @notice Count and average of the non-revoked feedback of the given clients matching the tags (ERC-8004).
    /// Verity's verified reputation: `clientAddresses = [market]`.
    /// @param agentId The agent.
    /// @param clientAddresses Clients to include (1..16).
    /// @param tag1 Tag filter ("" = any).
    /// @param tag2 Tag filter ("" = any).
    /// @return count Matching feedback count.
    /// @return summaryValue Average value with {SUMMARY_DECIMALS} decimals.
    /// @return summaryValueDecimals {SUMMARY_DECIMALS}.
    function getSummary(uint256 agentId, address[] calldata clientAddresses, string calldata tag1, string calldata tag2)
        external
        view
        returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals)
    {
        if (clientAddresses.length == 0) revert ReputationEmptyClients();
        if (clientAddresses.length > MAX_SUMMARY_CLIENTS) {
            revert ReputationTooManyClients(clientAddresses.length, MAX_SUMMARY_CLIENTS);
        }
        bytes32 key = _filterKey(tag1, tag2);
        int256 sum;
        for (uint256 i; i < clientAddresses.length; ++i) {
            Aggregate storage a = _aggregates[agentId][clientAddresses[i]][key];
            count += a.count;
            sum += a.sum18;
        }
        summaryValueDecimals = SUMMARY_DECIMALS;
        if (count != 0) summaryValue = int128(sum / int256(uint256(count)));
    }

    /// @notice All feedback of the given clients (every client if empty) matching the tags (ERC-8004).
    /// @param agentId The agent.
    /// @param clientAddresses Clients (at most 16; empty = {getClients}, at most 16 of them).
    /// @param tag1 Tag filter ("" = any).
    /// @param tag2 Tag filter ("" = any).
    /// @param includeRevoked Whether revoked feedback is listed.
    /// @return clients Client of each entry.
    /// @return feedbackIndexes Index of each entry.
    /// @return values Values.
    /// @return valueDecimals Decimals.
    /// @return tag1s Tag 1 of each entry.
    /// @return tag2s Tag 2 of each entry.
    /// @return revokedStatuses Revocation flags.
    function readAllFeedback(
        uint256 agentId,
        address[] memory clientAddresses,
        string memory tag1,
        string memory tag2,
        bool includeRevoked
    )
        external
        view
        returns (
            address[] memory,
            uint64[] memory,
            int128[] memory,
            uint8[] memory,
            string[] memory,
            string[] memory,
            bool[] memory
        )
    {
        if (clientAddresses.length == 0) clientAddresses = _clients[agentId];
        if (clientAddresses.length > MAX_SUMMARY_CLIENTS) {
            revert ReputationTooManyClients(clientAddresses.length, MAX_SUMMARY_CLIENTS);
        }
        AllFeedback memory r = _collect(agentId, clientAddresses, tag1, tag2, includeRevoked);
        return (r.clients, r.feedbackIndexes, r.values, r.valueDecimals, r.tag1s, r.tag2s, r.revokedStatuses);
    }

    struct AllFeedback {
        address[] clients;
        uint64[] feedbackIndexes;
        int128[] values;
        uint8[] valueDecimals;
        string[] tag1s;
        string[] tag2s;
        bool[] revokedStatuses;
    }

    function _collect(uint256 agentId, address[] memory list, string memory tag1, string memory tag2, bool includeRevoked)
        private
        view
        returns (AllFeedback memory r)
    {
        uint256 total;
        for (uint256 i; i < list.length; ++i) {
            total += _lastIndex[agentId][list[i]];
        }
        if (total > MAX_READ_ALL) revert ReputationTooManyEntries(total, MAX_READ_ALL);
        r.clients = new address[](total);
        r.feedbackIndexes = new uint64[](total);
        r.values = new int128[](total);
        r.valueDecimals = new uint8[](total);
        r.tag1s = new string[](total);
        r.tag2s = new string[](total);
        r.revokedStatuses = new bool[](total);
        uint256 n;
        for (uint256 i; i < list.length; ++i) {
            uint64 last = _lastIndex[agentId][list[i]];
            for (uint64 j = 1; j <= last; ++j) {
                Feedback storage f = _feedback[agentId][list[i]][j];
                if (f.isRevoked && !includeRevoked) continue;
                string memory t1 = f.tag1.toString();
                string memory t2 = f.tag2.toString();
                if (bytes(tag1).length != 0 && keccak256(bytes(t1)) != keccak256(bytes(tag1))) continue;
                if (bytes(tag2).length != 0 && keccak256(bytes(t2)) != keccak256(bytes(tag2))) continue;
                r.clients[n] = list[i];
                r.feedbackIndexes[n] = j;
                r.values[n] = f.value;
                r.valueDecimals[n] = f.valueDecimals;
                r.tag1s[n] = t1;
                r.tag2s[n] = t2;
                r.revokedStatuses[n] = f.isRevoked;
                ++n;
            }
        }
        // Trim the arrays to the matches (memory arrays: overwrite their length words; n <= total).
        (address[] memory c, uint64[] memory fi, int128[] memory v, uint8[] memory d) =
            (r.clients, r.feedbackIndexes, r.values, r.valueDecimals);
        (string[] memory a1, string[] memory a2, bool[] memory rv) = (r.tag1s, r.tag2s, r.revokedStatuses);
        assembly ("memory-safe") {
            mstore(c, n)
            mstore(fi, n)
            mstore(v, n)
            mstore(d, n)
            mstore(a1, n)
            mstore(a2, n)
            mstore(rv, n)
        }
    }

    /// @notice Number of responses appended (ERC-8004): to one feedback, to every feedback of a client
    /// (`feedbackIndex` 0), or to every feedback of the agent (`clientAddress` zero); by the given responders only,
    /// or by anyone when `responders` is empty.
    /// @param agentId The agent.
    /// @param clientAddress The client (zero = all).
    /// @param feedbackIndex The feedback (0 = all of the client's).
    /// @param responders Responders to count (at most 16; empty = all).
    /// @return count The number of responses.
    function getResponseCount(uint256 agentId, address clientAddress, uint64 feedbackIndex, address[] calldata responders)
        external
        view
        returns (uint64 count)
    {
        if (responders.length > MAX_SUMMARY_CLIENTS) revert ReputationTooManyClients(responders.length, MAX_SUMMARY_CLIENTS);
        uint64 index = clientAddress == address(0) ? 0 : feedbackIndex;
        if (responders.length == 0) return _responses[_scope(agentId, clientAddress, index, address(0))];
        for (uint256 i; i < responders.length; ++i) {
            count += _responses[_scope(agentId, clientAddress, index, responders[i])];
        }
    }

    /// @notice Last feedback index written by `clientAddress` for `agentId` (ERC-8004).
    /// @param agentId The agent.
    /// @param clientAddress The client.
    /// @return lastIndex 0 if none.
    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64 lastIndex) {
        return _lastIndex[agentId][clientAddress];
    }

    /// @notice Clients that wrote feedback for `agentId` (ERC-8004), in order of their first feedback.
    /// @param agentId The agent.
    /// @return clients The client list.
    function getClients(uint256 agentId) external view returns (address[] memory clients) {
        return _clients[agentId];
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
        _aggregateAll(agentId, msg.sender, tag1, tag2, _to18(value, valueDecimals), true);
    }

    function _to18(int128 value, uint8 valueDecimals) private pure returns (int192) {
        return int192(value) * int192(int256(uint256(10) ** (SUMMARY_DECIMALS - valueDecimals)));
    }

    /// @dev Adds (or removes) one value in the four filter shapes it matches.
    function _aggregateAll(uint256 agentId, address client, string memory tag1, string memory tag2, int192 v18, bool add)
        private
    {
        mapping(bytes32 => Aggregate) storage agg = _aggregates[agentId][client];
        bytes32 k1 = _filterKey(tag1, tag2);
        bytes32 k2 = _filterKey(tag1, "");
        bytes32 k3 = _filterKey("", tag2);
        bytes32 k4 = _filterKey("", "");
        _accumulate(agg[k1], v18, add);
        if (k2 != k1) _accumulate(agg[k2], v18, add);
        if (k3 != k1 && k3 != k2) _accumulate(agg[k3], v18, add);
        if (k4 != k1 && k4 != k2 && k4 != k3) _accumulate(agg[k4], v18, add);
    }

    function _accumulate(Aggregate storage a, int192 v18, bool add) private {
        if (add) {
            a.count += 1;
            a.sum18 += v18;
        } else {
            a.count -= 1;
            a.sum18 -= v18;
        }
    }

    function _scope(uint256 agentId, address client, uint64 feedbackIndex, address responder)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(agentId, client, feedbackIndex, responder));
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
