// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GameFixture} from "../utils/GameFixture.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {ValidationRegistry} from "../../../contracts/registry/ValidationRegistry.sol";
import {ModelRegistry} from "../../../contracts/registry/ModelRegistry.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {DisputeCommitments as C} from "../../../contracts/dispute/DisputeCommitments.sol";

contract CommitmentsHarness {
    function rootOfMember(uint256 n, uint256 i, bytes32 w, bytes32[] calldata s) external pure returns (bytes32) {
        return C.rootOfMember(n, i, w, s);
    }
}

/// @notice Issue 11's attacks (docs/protocol.md §Adversary), each played against the real TaskMarket and DisputeGame.
/// Each test was first run against the pre-fix contracts (commit 476ceb8) with the attack's core steps and failed as
/// recorded in its comment ("before:"); the fix makes it pass.
contract AttacksTest is GameFixture {
    address internal puppet = makeAddr("puppet");
    bytes32[] internal none;

    function setUp() public {
        _setUpGame();
        _fund(stranger, 100e18);
        _fund(puppet, 100e18);
        address[2] memory who = [stranger, puppet];
        for (uint256 i; i < 2; ++i) {
            vm.startPrank(who[i]);
            token.approve(address(game), type(uint256).max);
            token.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }
    }

    function _challengeAs(address who, uint256 taskId) internal returns (uint256 d) {
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(who);
        d = market.challenge(taskId, 0, inH, none, outH, none);
    }

    function _gameOf(uint256 d) internal view returns (uint256) {
        return market.getDispute(d).gameId;
    }

    function _status(uint256 taskId) internal view returns (uint256) {
        return uint256(market.getTask(taskId).status);
    }

    // ================================================================== attack 1: settlement blocked

    /// before: [FAIL: ValidationRequestExists(0x325a…)] — resolve reverted forever, the liar was never slashed.
    function test_attack1_liarFrontRunsItsDisputeHash_stillSlashed() public {
        _scenario(11, true);
        uint256 taskId = _postClaimCommit();
        (uint256 d, uint256 g) = _challenge(taskId);
        // The old key is now an ordinary hash anyone may use: it no longer collides with the market's record.
        vm.prank(worker);
        validation.validationRequest(worker, agentId, "", keccak256(abi.encode(address(market), d)));
        // The market's key space and the market as validator are reserved.
        bytes32 key = market.validationKey(d);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(ValidationRegistry.ValidationReservedRequestHash.selector, worker, key));
        validation.validationRequest(worker, agentId, "", key);
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(ValidationRegistry.ValidationReservedValidator.selector, worker, address(market))
        );
        validation.validationRequest(address(market), agentId, "", keccak256("other"));

        _play(g);
        market.resolve(d);
        assertEq(_status(taskId), uint256(TaskMarket.TaskStatus.Invalidated), "liar invalidated");
        assertEq(staking.accountOf(worker).staked, 1_000e18 - MIN_STAKE, "liar slashed");
        assertEq(market.claimable(requester), FEE, "fee refunded");
        (address validator,, uint8 response,,,) = validation.getValidationStatus(key);
        assertEq(validator, address(market), "the record is the market's");
        assertEq(response, 0, "result rejected");
    }

    /// A stranger that disputes an honest task and takes its hash cannot freeze the worker's fee and stake.
    /// before (same mechanism as above, run as the liar variant): resolve reverted, finalize hit MarketOpenDisputes.
    function test_attack1_strangerFreezesHonestTask_workerStillPaid() public {
        _scenario(12, false);
        uint256 taskId = _postClaimCommit();
        uint256 d = _challengeAs(stranger, taskId);
        vm.prank(stranger);
        uint256 strangerAgent = identity.register("ipfs://s");
        vm.prank(stranger);
        validation.validationRequest(stranger, strangerAgent, "", keccak256(abi.encode(address(market), d)));
        uint256 gd = _gameOf(d);
        vm.prank(worker);
        game.revealRoots(gd, claimRoots, 1, 1);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(_gameOf(d));
        market.resolve(d);
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
        assertEq(_status(taskId), uint256(TaskMarket.TaskStatus.Finalized), "finalized");
        assertEq(staking.accountOf(worker).locked, 0, "stake released");
    }

    /// Registries that revert (or burn all gas) never block resolve, finalize or cancel: the failure is an event.
    /// before: any revert in giveFeedback / validationRequest reverted the settlement itself.
    function test_attack1_revertingBookkeeping_neverBlocksSettlement() public {
        _scenario(13, true);
        uint256 t1 = _postClaimCommit();
        (uint256 d,) = _challenge(t1);
        uint256 t2 = _postClaimCommit();
        uint256 t3 = _post(hex"01");
        vm.prank(worker);
        market.claim(t3, agentId);
        vm.etch(address(reputation), hex"5b600056"); // JUMPDEST PUSH1 0 JUMP: loops until out of gas
        vm.etch(address(validation), hex"60006000fd"); // REVERT
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(_gameOf(d)); // the liar never revealed
        vm.expectEmit(address(market));
        emit TaskMarket.BookkeepingFailed(t1, d, 2);
        market.resolve(d);
        assertEq(_status(t1), uint256(TaskMarket.TaskStatus.Invalidated), "resolved");
        vm.warp(market.getTask(t2).challengeDeadline);
        market.finalize(t2);
        assertEq(_status(t2), uint256(TaskMarket.TaskStatus.Finalized), "finalized");
        market.cancel(t3);
        assertEq(_status(t3), uint256(TaskMarket.TaskStatus.Cancelled), "cancelled");
    }

    /// A caller cannot starve the bookkeeping on purpose (to skip a worker's "dispute lost") by sending little gas.
    function test_attack1_lowGasResolve_reverts() public {
        _scenario(14, true);
        uint256 taskId = _postClaimCommit();
        (uint256 d, uint256 g) = _challenge(taskId);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(g);
        (bool ok, bytes memory ret) = address(market).call{gas: 400_000}(abi.encodeCall(TaskMarket.resolve, (d)));
        assertFalse(ok, "low-gas resolve reverts");
        assertEq(bytes4(ret), TaskMarket.MarketInsufficientGas.selector, "typed error");
        market.resolve(d);
    }

    // ================================================================== attack 2: bond exhaustion

    /// before: [FAIL: honest worker never slashed: 900e18 != 1000e18] — with k = 1 liquid bond and k + 1 games the
    /// worker lost the last game on time.
    function test_attack2_bondExhaustion_honestWorkerNeverSlashed() public {
        _scenario(21, false);
        vm.startPrank(worker);
        token.transfer(treasury, token.balanceOf(worker)); // no liquid bond at all
        vm.stopPrank();
        uint256 taskId = _postClaimCommit();
        uint256 d1 = _challengeAs(stranger, taskId);
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketElementInDispute.selector, taskId, 0, d1));
        market.challenge(taskId, 0, inH, none, outH, none);
        _play(_gameOf(d1)); // the worker defends with its locked stake as bond
        market.resolve(d1);
        // Re-challenge allowed (regrace), and lost again.
        uint256 d2 = _challengeAs(stranger, taskId);
        _play(_gameOf(d2));
        market.resolve(d2);
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
        assertEq(staking.accountOf(worker).staked, 1_000e18, "honest worker never slashed");
        assertEq(game.credit(worker), 2 * uint256(GAME_BOND), "the griefer's bonds went to the worker");
    }

    /// A puppet holding the element's only slot until past the window cannot shield the liar: after the claimant
    /// win the task stays challengeable for `regrace`.
    function test_attack2_slotHolderCannotRunOutWindow() public {
        _scenario(22, true);
        uint256 taskId = _postClaimCommit();
        vm.warp(market.getTask(taskId).challengeDeadline - 1);
        uint256 dp = _challengeAs(puppet, taskId);
        uint256 gdp = _gameOf(dp);
        vm.prank(worker);
        game.revealRoots(gdp, claimRoots, 1, 1);
        vm.warp(block.timestamp + CLOCK + 1); // the puppet idles past the window
        game.timeout(_gameOf(dp));
        market.resolve(dp);
        assertTrue(market.getTask(taskId).challengeDeadline > block.timestamp, "window re-opened");
        (uint256 d, uint256 g) = _challenge(taskId);
        _play(g);
        market.resolve(d);
        assertEq(_status(taskId), uint256(TaskMarket.TaskStatus.Invalidated), "liar caught");
    }

    // ================================================================== attack 3: slash share

    /// before: [FAIL: honest challenger keeps at least half the share] — the puppet's game resolved first and took
    /// all of it.
    function test_attack3_silentPuppetFrontRun_honestJoinsAndWins() public {
        _scenario(31, true);
        uint256 taskId = _postClaimCommit();
        uint256 dp = _challengeAs(puppet, taskId);
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketElementInDispute.selector, taskId, 0, dp));
        market.challenge(taskId, 0, inH, none, outH, none);
        uint256 before = token.balanceOf(challenger);
        vm.prank(challenger);
        market.joinChallenge(dp);
        challengerMover = challenger; // the puppet goes silent; the honest member plays for the side
        assertEq(uint256(_play(_gameOf(dp))), uint256(IDisputeResolver.Outcome.ChallengerWon), "side won");
        market.resolve(dp);
        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        uint256 joinBond = market.getRules().joinBond;
        assertEq(market.claimable(challenger), share / 2 + joinBond, "half the share and the join bond back");
        assertEq(market.claimable(puppet), share / 2, "the puppet gets no more than an equal part");
        assertEq(before - token.balanceOf(challenger), joinBond, "join bond taken");
    }

    /// The join bond is the rule when the dispute opened, kept in the element's live slot (not in the 2-slot dispute
    /// record): governance raising it under a live dispute changes neither what a joiner posts nor what it gets back.
    function test_attack3_joinBondIsTheRuleAtOpen_governanceCannotChangeItUnderALiveDispute() public {
        _scenario(33, true);
        uint256 taskId = _postClaimCommit();
        uint256 dp = _challengeAs(puppet, taskId);
        uint256 atOpen = market.getRules().joinBond;
        TaskMarket.Rules memory r = market.getRules();
        r.joinBond = uint128(atOpen * 5);
        vm.prank(address(timelock));
        market.setRules(r);
        (uint256 live, uint256 bond) = market.liveDispute(taskId, 0);
        assertEq(live, dp, "live dispute");
        assertEq(bond, atOpen, "the live dispute's join bond is the one at open");
        uint256 before = token.balanceOf(challenger);
        vm.prank(challenger);
        market.joinChallenge(dp);
        assertEq(before - token.balanceOf(challenger), atOpen, "joiner posts the bond at open");
        challengerMover = challenger;
        assertEq(uint256(_play(_gameOf(dp))), uint256(IDisputeResolver.Outcome.ChallengerWon), "side won");
        market.resolve(dp);
        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        assertEq(market.claimable(challenger), share / 2 + atOpen, "the bond at open back, not the new one");
        (live, bond) = market.liveDispute(taskId, 0);
        assertEq(live + bond, 0, "the live slot is cleared at resolve");
    }

    /// A mempool copycat that lands the same challenge first gets at most an equal part, never the whole share.
    function test_attack3_mempoolCopycat_cannotTakeTheShare() public {
        _scenario(32, true);
        uint256 taskId = _postClaimCommit();
        uint256 dc = _challengeAs(stranger, taskId); // the copy lands first
        vm.prank(challenger);
        market.joinChallenge(dc);
        _play(_gameOf(dc)); // the copycat copies the moves: any member may make them
        market.resolve(dc);
        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        assertTrue(market.claimable(challenger) >= share / 2, "honest challenger keeps half");
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketDisputeAlreadyResolved.selector, dc));
        market.joinChallenge(dc);
    }

    function test_attack3_teamBoundedAndWorkerExcluded() public {
        _scenario(33, true);
        uint256 taskId = _postClaimCommit();
        uint256 d = _challengeAs(stranger, taskId);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketAlreadyOnSide.selector, d, worker));
        market.joinChallenge(d);
        vm.prank(challenger);
        market.joinChallenge(d);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketAlreadyOnSide.selector, d, challenger));
        market.joinChallenge(d);
        vm.prank(puppet);
        market.joinChallenge(d);
        address fourth = makeAddr("fourth");
        address fifth = makeAddr("fifth");
        _fund(fourth, 10e18);
        _fund(fifth, 10e18);
        vm.prank(fourth);
        token.approve(address(market), type(uint256).max);
        vm.prank(fifth);
        token.approve(address(market), type(uint256).max);
        vm.prank(fourth);
        market.joinChallenge(d);
        vm.prank(fifth);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketTeamFull.selector, d, 4));
        market.joinChallenge(d);
    }

    // ================================================================== attack 4: reputation farming

    /// before: [FAIL: next call did not revert as expected] — a 1-wei self-task posted (and paid 0 protocol fee).
    function test_attack4_oneWeiSelfTask_reverts() public {
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketFeeBelowMinimum.selector, 1, 1e15));
        market.postTask(modelId, _tensors(hex"01"), 1, uint64(block.timestamp + 1 hours));
    }

    /// Farming "task finalized" points with self-tasks at the minimum fee costs at least the protocol fee per point.
    function test_attack4_farmingCostsAtLeastProtocolFeePerPoint() public {
        uint256 minFee = market.getRules().minFee;
        _fund(worker, 1e18);
        vm.prank(worker);
        token.approve(address(market), type(uint256).max);
        uint256 spent;
        for (uint256 i; i < 3; ++i) {
            vm.prank(worker);
            uint256 taskId = market.postTask(modelId, _tensors(hex"01"), minFee, uint64(block.timestamp + 1 hours));
            vm.prank(worker);
            market.claim(taskId, agentId);
            vm.prank(worker);
            market.commit(taskId, _tensors(hex"02"));
            vm.warp(market.getTask(taskId).challengeDeadline);
            market.finalize(taskId);
            spent += minFee;
        }
        uint256 cost = spent - market.claimable(worker);
        address[] memory mk = new address[](1); // ERC-8004 getSummary: a non-empty client list (the market)
        mk[0] = address(market);
        (uint64 points,,) = reputation.getSummary(agentId, mk, "task", "finalized");
        assertEq(points, 3, "points");
        uint256 perPoint = cost / points;
        assertTrue(perPoint >= (minFee * FEE_BPS + 9_999) / 10_000 && perPoint > 0, "costs the protocol fee per point");
    }

    /// before: [FAIL: no dispute won for an uncontested game: 1 != 0] — a puppet that never moved gave "dispute won"
    /// and validation 100 for free.
    function test_attack4_idlePuppetWin_givesNothingAndCostsTheCut() public {
        vm.prank(address(timelock));
        game.setLoserCut(2_000, treasury);
        _scenario(41, false);
        uint256 taskId = _postClaimCommit();
        uint256 d = _challengeAs(puppet, taskId);
        uint256 gd = _gameOf(d);
        vm.prank(worker);
        game.revealRoots(gd, claimRoots, 1, 1);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(_gameOf(d));
        market.resolve(d);
        address[] memory mk = new address[](1); // ERC-8004 getSummary: a non-empty client list (the market)
        mk[0] = address(market);
        (uint64 won,,) = reputation.getSummary(agentId, mk, "dispute", "won");
        assertEq(won, 0, "no dispute won for an uncontested game");
        (uint64 validations,) = validation.getSummary(agentId, new address[](0), "dispute");
        assertEq(validations, 0, "no validation record");
        assertEq(game.credit(worker), uint256(GAME_BOND) * 8_000 / 10_000, "worker gets the bond minus the cut");
        assertEq(game.credit(treasury), uint256(GAME_BOND) * 2_000 / 10_000, "self-challenge costs the cut");
    }

    // ================================================================== attack 6: lesser

    /// before: [FAIL: share as at open: 0 != 50e18] — the slash split was read at resolve time.
    function test_attack6_paramsChangeUnderLiveDispute_snapshot() public {
        _scenario(61, true);
        uint256 taskId = _postClaimCommit();
        (uint256 d, uint256 g) = _challenge(taskId);
        TaskMarket.Params memory p = market.getParams();
        p.slashChallengerBps = 0;
        p.treasury = stranger;
        vm.prank(address(timelock));
        market.setParams(p);
        _play(g);
        market.resolve(d);
        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        assertEq(market.claimable(challenger), share, "share as at claim");
        assertEq(market.claimable(treasury), uint256(MIN_STAKE) - share, "treasury as at claim");
        assertEq(market.claimable(stranger), 0, "new treasury gets nothing of an old task");
    }

    /// before: [FAIL: abandoning costs stake] — a claimed task left to expire cost nothing but 1 reputation.
    function test_attack6_claimAndAbandon_slashesToRequester() public {
        uint256 taskId = _post(hex"01");
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.warp(block.timestamp + 2 hours);
        uint256 penalty = uint256(MIN_STAKE) * market.getRules().abandonBps / 10_000;
        vm.expectEmit(address(market));
        emit TaskMarket.TaskAbandoned(taskId, worker, penalty);
        market.cancel(taskId);
        assertEq(staking.accountOf(worker).staked, 1_000e18 - penalty, "abandoning costs stake");
        assertEq(market.claimable(requester), FEE + penalty, "requester compensated");
    }

    /// before: [FAIL: 2^32 leaves rejected: bytes32 mismatch] — a count of 2^32 wrapped to 0 in the list root.
    function test_attack6_nodeCount2pow32_rejected() public {
        CommitmentsHarness h = new CommitmentsHarness();
        bytes32[] memory s = new bytes32[](32);
        assertEq(h.rootOfMember(uint256(1) << 32, 0, bytes32(uint256(1)), s), bytes32(0), "2^32 leaves rejected");
        bytes32[] memory s1 = new bytes32[](32);
        assertTrue(h.rootOfMember(type(uint32).max, 0, bytes32(uint256(1)), s1) != bytes32(0), "2^32 - 1 accepted");
    }

    /// A model whose dispute cannot fit a block is refused at registration (trace > MAX_TRACE_TENSORS or one-step
    /// gas > MAX_STEP_GAS). before: registerModel took no shape and bounded nothing (no pre-fix run: new function).
    function test_attack6_modelRegistration_bounded() public {
        bytes32 root = keccak256("m");
        vm.expectRevert(
            abi.encodeWithSelector(ModelRegistry.ModelRegistryShapeOutOfBounds.selector, 1, 4096, 1, 1_000_000)
        );
        models.registerModelWithShape(root, "u", 1, ModelRegistry.Shape(1, 4096, 1, 1_000_000));
        vm.expectRevert(
            abi.encodeWithSelector(ModelRegistry.ModelRegistryShapeOutOfBounds.selector, 1, 10, 1, 15_000_001)
        );
        models.registerModelWithShape(root, "u", 1, ModelRegistry.Shape(1, 10, 1, 15_000_001));
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelRegistryShapeOutOfBounds.selector, 1, 2, 3, 1));
        models.registerModelWithShape(root, "u", 1, ModelRegistry.Shape(1, 2, 3, 1));
        uint256 id = models.registerModelWithShape(root, "u", 1, ModelRegistry.Shape(2, 4094, 1, 15_000_000));
        assertEq(models.shapeOf(id).nodeCount, 4094, "max shape accepted");
        assertEq(models.getModel(id).registrant, address(this), "registrant");
    }

    /// A claimant reveals a trace longer than the registered model's numInputs + nodeCount (here 4 roots for a 1-input,
    /// 2-node model): the game refuses the reveal, so the claimant can only run out its clock and lose.
    /// before: [FAIL: next call did not revert as expected] — any count up to MAX_TRACE_TENSORS was accepted.
    function test_attack6_revealLongerThanModel_refused() public {
        _scenario(12, false);
        gameModelId = models.registerModelWithShape(
            gameModelRoot, "ipfs://chain2", 1 << 16, ModelRegistry.Shape(1, 2, 1, 1_000_000)
        );
        // the worker's committed trace has an extra tensor before the output
        bytes32 out = claimRoots[2];
        claimRoots[2] = keccak256("padding");
        claimRoots.push(out);
        uint256 taskId = _postClaimCommit();
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(challenger);
        uint256 d = market.challenge(taskId, 0, inH, none, outH, none);
        uint256 g = _gameOf(d);
        assertEq(game.traceBound(g), 3, "bounded to numInputs + nodeCount");
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadIndex.selector, g, 4, 3));
        game.revealRoots(g, claimRoots, 1, 1);
        // only the market that opened a game bounds it, and only before the reveal
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeUnauthorizedOpener.selector, stranger));
        game.boundTrace(g, 4096);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(g);
        market.resolve(d);
        assertEq(_status(taskId), uint256(TaskMarket.TaskStatus.Invalidated), "the over-long trace loses on time");
    }
}
