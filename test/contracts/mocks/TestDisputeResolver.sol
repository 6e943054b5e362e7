// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @title TestDisputeResolver
/// @notice TEST DOUBLE ONLY. Stands in for the real dispute game (a later issue) in forge tests: it records each
/// opened game and lets the test decide the outcome with {decide}. It verifies nothing; never deploy it.
contract TestDisputeResolver is IDisputeResolver {
    struct Game {
        bytes32 taskKey;
        address claimant;
        address challenger;
        bytes32 claimedRoot;
        bytes32 modelRoot;
        bytes32 inputHash;
        bytes32 outputHash;
        address opener;
        Outcome outcome;
    }

    Game[] private _games;

    event GameOpened(uint256 indexed gameId, bytes32 indexed taskKey, address claimant, address challenger);
    event GameDecided(uint256 indexed gameId, Outcome outcome);

    error TestResolverUnknownGame(uint256 gameId);
    error TestResolverAlreadyDecided(uint256 gameId);
    error TestResolverPendingNotAllowed();

    /// @inheritdoc IDisputeResolver
    function open(
        bytes32 taskKey,
        address claimant,
        address challenger,
        bytes32 claimedRoot,
        bytes32 modelRoot,
        bytes32 inputHash,
        bytes32 outputHash
    ) external returns (uint256 gameId) {
        _games.push(
            Game(taskKey, claimant, challenger, claimedRoot, modelRoot, inputHash, outputHash, msg.sender, Outcome.Pending)
        );
        gameId = _games.length;
        emit GameOpened(gameId, taskKey, claimant, challenger);
    }

    /// @notice Games the test marked as uncontested (the challenger never moved).
    mapping(uint256 gameId => bool) public uncontested;
    /// @notice Members added to a game's challenger side.
    mapping(uint256 gameId => address[]) public members;

    /// @inheritdoc IDisputeResolver
    function addChallenger(uint256 gameId, address member) external {
        members[gameId].push(member);
    }

    /// @inheritdoc IDisputeResolver
    function contested(uint256 gameId) external view returns (bool) {
        return !uncontested[gameId];
    }

    /// @notice Test hook: marks a game as won without any challenger move.
    function setUncontested(uint256 gameId, bool u) external {
        uncontested[gameId] = u;
    }

    /// @notice Test hook: decides a game.
    function decide(uint256 gameId, Outcome o) external {
        if (gameId == 0 || gameId > _games.length) revert TestResolverUnknownGame(gameId);
        if (o == Outcome.Pending) revert TestResolverPendingNotAllowed();
        Game storage g = _games[gameId - 1];
        if (g.outcome != Outcome.Pending) revert TestResolverAlreadyDecided(gameId);
        g.outcome = o;
        emit GameDecided(gameId, o);
    }

    /// @inheritdoc IDisputeResolver
    function outcome(uint256 gameId) external view returns (Outcome) {
        if (gameId == 0 || gameId > _games.length) revert TestResolverUnknownGame(gameId);
        return _games[gameId - 1].outcome;
    }

    function game(uint256 gameId) external view returns (Game memory) {
        return _games[gameId - 1];
    }

    function gameCount() external view returns (uint256) {
        return _games.length;
    }
}
