// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IDisputeResolver
/// @notice What the TaskMarket needs from a dispute game. The market opens one game per challenged result
/// element and later polls its outcome; the game alone decides who was right (Verity: by bisecting the trace
/// to one element of one op and re-executing it on-chain). The resolver never moves market funds: the market
/// settles stake, fee and reputation itself once `outcome` is final. Bonds are the resolver's own business
/// (DisputeGame takes both sides' bonds directly from them and credits the winner); the market takes none.
/// @dev Implementations must make `outcome` final: once it returns ClaimantWon or ChallengerWon it never changes.
/// `open` is called only by a TaskMarket; implementations should restrict callers to the markets they serve.
interface IDisputeResolver {
    /// @notice Result of a game. Pending until the game is decided.
    enum Outcome {
        Pending,
        ClaimantWon,
        ChallengerWon
    }

    /// @notice Opens a game about one result element.
    /// @param taskKey keccak256(abi.encode(chainid, market, taskId, index)): identifies the challenged element.
    /// @param claimant The worker that committed the result (defends it with a trace from (model, inputs) to outputs).
    /// @param challenger The account that disputes it.
    /// @param claimedRoot The trace root the claimant is bound to (its audit answer on this element), or 0 = none:
    /// the claimant's revealed trace is then bound only by inputHash and outputHash.
    /// @param modelRoot Root of the registered model the task runs (ModelRegistry).
    /// @param inputHash keccak256(0x06 ‖ uint32 numInputs ‖ input tensorRoots) of the element (proven against the
    /// task's input root).
    /// @param outputHash keccak256(0x07 ‖ uint32 numOutputs ‖ output tensorRoots) of the claimed result (proven
    /// against the committed result root).
    /// @return gameId Resolver-local id, passed back to {outcome}.
    function open(
        bytes32 taskKey,
        address claimant,
        address challenger,
        bytes32 claimedRoot,
        bytes32 modelRoot,
        bytes32 inputHash,
        bytes32 outputHash
    ) external returns (uint256 gameId);

    /// @notice Adds `member` to the challenger side of game `gameId` (called by the market that opened it when a
    /// second challenger joins a live game on the same element): the member may make the challenger's moves.
    /// @param gameId The id returned by {open}.
    /// @param member The joining challenger.
    function addChallenger(uint256 gameId, address member) external;

    /// @notice Whether the challenger side ever moved in the game (false for a game won because the challenger let
    /// its clock run out before its first move: the market records no "dispute won" for it).
    /// @param gameId The id returned by {open}.
    /// @return True once the challenger side has made a move.
    function contested(uint256 gameId) external view returns (bool);

    /// @notice Current outcome of a game.
    /// @param gameId The id returned by {open}.
    /// @return The outcome (Pending while undecided).
    function outcome(uint256 gameId) external view returns (Outcome);
}
