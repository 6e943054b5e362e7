// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {GameFixture} from "../utils/GameFixture.sol";
import {Tree} from "../dispute/DisputeWorld.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {DisputeCommitments as C} from "../../../contracts/dispute/DisputeCommitments.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {IoCommitments} from "../../../contracts/libraries/IoCommitments.sol";

/// @notice The TaskMarket with the real DisputeGame as its resolver (docs/protocol.md §Task market); setup and game
/// moves in {GameFixture}.
contract MarketGameTest is GameFixture {
    function setUp() public {
        _setUpGame();
    }

    // ================================================================== flows

    function test_onChainDigests_areTheGameCommitments() public {
        _scenario(1, false);
        assertEq(_inHash(honest[0]), keccak256(abi.encodePacked(uint8(6), uint32(1), claimRoots[0])), "inputHash");
        assertEq(_outHash(claimed[2]), keccak256(abi.encodePacked(uint8(7), uint32(1), claimRoots[2])), "outputHash");
    }

    function test_wrongOutput_challengerWinsGame_marketSlashes() public {
        _scenario(2, true);
        uint256 taskId = _postClaimCommit();
        uint256 before = token.balanceOf(challenger);
        vm.expectEmit(address(market));
        emit TaskMarket.ResultChallenged(1, taskId, challenger, 0, address(game), 1);
        (uint256 disputeId, uint256 gameId) = _challenge(taskId);
        assertEq(before - token.balanceOf(challenger), GAME_BOND, "game took the challenger's bond");
        DisputeGame.Game memory g = game.game(gameId);
        assertEq(g.claimant, worker, "claimant");
        assertEq(g.challenger, challenger, "challenger");
        assertEq(g.traceRoot, bytes32(0), "no trace root committed: unpinned until the reveal");
        assertEq(g.modelRoot, gameModelRoot, "model root");

        assertEq(uint256(_play(gameId)), uint256(IDisputeResolver.Outcome.ChallengerWon), "outcome");
        assertEq(game.game(gameId).traceRoot, _traceRoot(claimRoots), "the game took the revealed trace's root");

        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        vm.expectEmit(address(market));
        emit TaskMarket.TaskInvalidated(taskId, challenger, MIN_STAKE, share, FEE);
        market.resolve(disputeId);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "invalidated");
        assertEq(market.claimable(challenger), share, "slash share");
        assertEq(market.claimable(requester), FEE, "fee refunded");
        assertEq(staking.accountOf(worker).staked, 1_000e18 - MIN_STAKE, "slashed");
        // The worker's side is backed by its locked stake (no liquid bond): the challenger gets its bond back and the
        // slash share instead of the worker's bond.
        assertEq(game.credit(challenger), uint256(GAME_BOND), "own bond back");
        vm.prank(challenger);
        game.claimCredit();
        assertEq(token.balanceOf(challenger), before, "bond back");
    }

    function test_honestResult_claimantWinsGame_finalizes() public {
        _scenario(3, false);
        uint256 taskId = _postClaimCommit();
        (uint256 disputeId, uint256 gameId) = _challenge(taskId);
        assertEq(uint256(_play(gameId)), uint256(IDisputeResolver.Outcome.ClaimantWon), "outcome");
        vm.expectEmit(address(market));
        emit TaskMarket.DisputeResolved(disputeId, taskId, IDisputeResolver.Outcome.ClaimantWon);
        market.resolve(disputeId);
        assertEq(game.credit(worker), uint256(GAME_BOND), "the challenger's bond to the worker");
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
        assertEq(market.claimable(worker), FEE - FEE * FEE_BPS / 10_000, "fee paid");
        assertEq(staking.accountOf(worker).locked, 0, "stake released");
    }

    function test_claimantSilent_timesOut_marketSlashes() public {
        _scenario(4, false);
        uint256 taskId = _postClaimCommit();
        (uint256 disputeId, uint256 gameId) = _challenge(taskId);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketDisputePending.selector, disputeId));
        market.resolve(disputeId);
        vm.warp(market.getTask(taskId).challengeDeadline);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketOpenDisputes.selector, taskId, 1));
        market.finalize(taskId);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gameId);
        market.resolve(disputeId);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "invalidated");
        assertEq(game.credit(challenger), GAME_BOND, "only its own bond back");
    }

    /// A worker whose published output is not the output of its trace cannot even reveal its roots.
    function test_outputNotFromTrace_cannotBeDefended() public {
        _scenario(5, false);
        vm.prank(requester);
        uint256 taskId = market.postTask(gameModelId, _tensors(honest[0]), FEE, uint64(block.timestamp + 1 hours));
        vm.prank(worker);
        market.claim(taskId, agentId);
        bytes memory other = bytes.concat(honest[2]);
        other[0] = bytes1(uint8(other[0]) ^ 1);
        vm.prank(worker);
        market.commit(taskId, _tensors(other)); // output ≠ trace's last tensor
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        uint256 disputeId = market.challenge(
            taskId,
            0,
            _inHash(honest[0]),
            none,
            _outHash(other),
            none
        );
        uint256 gameId = market.getDispute(disputeId).gameId;
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 2));
        game.revealRoots(gameId, claimRoots, 1, 1);
    }

    /// Issue 13: no trace root is committed, so a wrong-output claimant picks its trace after the challenge. Whatever
    /// it picks — the honest t1 with its wrong output, or a t1 rewritten to "explain" the output — the trace must start
    /// at the committed input and end at the committed output, so a first wrong tensor with honest inputs exists and
    /// the bisection finds it.
    function test_noTraceRootCommitted_wrongOutputLosesWhicheverTraceItReveals() public {
        for (uint256 lieAt = 1; lieAt <= 2; ++lieAt) {
            delete honest;
            delete claimed;
            delete honestRoots;
            delete claimRoots;
            delete headers;
            _scenario(40 + lieAt, true); // claimed output t2 wrong
            if (lieAt == 1) {
                bytes memory bad = bytes.concat(claimed[1]);
                bad[5] = bytes1(uint8(bad[5]) ^ 0x11);
                claimed[1] = bad;
                claimRoots[1] = _tensorRoot(bad); // the trace of its choice: t1 wrong too
            }
            uint256 taskId = _postClaimCommit();
            (uint256 disputeId, uint256 gameId) = _challenge(taskId);
            assertEq(uint256(_play(gameId)), uint256(IDisputeResolver.Outcome.ChallengerWon), "liar loses");
            assertEq(game.game(gameId).tensorId, lieAt, "bisection reached the first wrong tensor");
            market.resolve(disputeId);
            assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "slashed");
        }
    }

    /// Issue 13: with no trace root committed, the revealed trace is bound by the commitments alone: a trace whose
    /// input tensors are not the task's input, or whose last tensors are not the committed output, is refused
    /// (DisputeBadProof 2), and a claimant with no other trace loses on time.
    function test_noTraceRootCommitted_revealNotMatchingTheCommitments_refused() public {
        _scenario(44, true);
        uint256 taskId = _postClaimCommit();
        (uint256 disputeId, uint256 gameId) = _challenge(taskId);
        bytes32[] memory wrongIn = new bytes32[](3);
        wrongIn[0] = keccak256("another input");
        wrongIn[1] = claimRoots[1];
        wrongIn[2] = claimRoots[2];
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 2));
        game.revealRoots(gameId, wrongIn, 1, 1);
        // The honest trace ends at the honest output, not at the committed (wrong) one.
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 2));
        game.revealRoots(gameId, honestRoots, 1, 1);
        // Declaring the committed output tensor as an input-side tensor does not help either.
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 2));
        game.revealRoots(gameId, claimRoots, 2, 1);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gameId);
        market.resolve(disputeId);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "slashed");
    }

    function test_challenge_revertsWhenMarketNotAllowedByGame() public {
        _scenario(6, true);
        uint256 taskId = _postClaimCommit();
        vm.prank(address(timelock));
        game.setMarket(address(market), false);
        bytes32[] memory none = new bytes32[](0);
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeUnauthorizedOpener.selector, address(market)));
        market.challenge(taskId, 0, inH, none, outH, none);
    }

    function test_challenge_revertsWithoutGameAllowance() public {
        _scenario(7, true);
        uint256 taskId = _postClaimCommit();
        vm.prank(challenger);
        token.approve(address(game), 0);
        bytes32[] memory none = new bytes32[](0);
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(game), 0, GAME_BOND)
        );
        market.challenge(taskId, 0, inH, none, outH, none);
        assertEq(market.getTask(taskId).openDisputes, 0, "nothing opened");
    }

    function test_postTask_revertsMalformedTensor() public {
        IoCommitments.Tensor[] memory ts = _tensors(hex"010203");
        ts[0].shape[0] = 4; // 4 elements declared, 3 bytes given
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidTensors.selector, 0));
        market.postTask(modelId, ts, FEE, uint64(block.timestamp + 1 hours));
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidTensors.selector, 0));
        market.postTask(modelId, new IoCommitments.Tensor[](0), FEE, uint64(block.timestamp + 1 hours));
        ts = _tensors(hex"01020304");
        ts[0].dtype = 9;
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidTensors.selector, 0));
        market.postTask(modelId, ts, FEE, uint64(block.timestamp + 1 hours));
    }

    /// The on-chain tensorRoot of an i32 tensor and of a tensor whose last word is partial equals the protocol's.
    function testFuzz_tensorRoot_matchesProtocol(bytes32 seed, uint8 n, bool wide) public pure {
        uint256 es = wide ? 4 : 1;
        bytes memory data = new bytes(uint256(n) * es);
        for (uint256 i; i < data.length; ++i) data[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
        uint32[] memory shape = new uint32[](2);
        shape[0] = 1;
        shape[1] = n;
        (bytes32 root, bool ok) = IoCommitments.tensorRoot(IoCommitments.Tensor(wide ? 3 : 1, shape, data));
        assertTrue(ok, "ok");
        assertEq(root, C.tensorRoot(wide ? 3 : 1, shape, Tree.root(Tree.build(_words(data)))), "root");
    }
}
