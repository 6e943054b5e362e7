// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GameFixture} from "../utils/GameFixture.sol";
import {Tree} from "../dispute/DisputeWorld.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {AuditBook} from "../../../contracts/market/AuditBook.sol";
import {ModelRegistry} from "../../../contracts/registry/ModelRegistry.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {ProofLib} from "../../../contracts/verifier/lib/ProofLib.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @notice Random audits (docs/protocol.md §Audits) against the real TaskMarket: model t0 (input) → t1 → t2
/// (output), so the audited tensor j is t1 (the only intermediate). Auditors are staked accounts.
contract AuditBookTest is GameFixture {
    uint128 internal constant DEPOSIT = 2e18;
    uint128 internal constant REWARD = 1e18;
    uint64 internal constant W = 10 minutes;

    AuditBook internal book;
    address internal auditor = makeAddr("auditor");
    address internal lazy = makeAddr("lazy");

    function setUp() public {
        _setUpGame();
        book = new AuditBook(address(timelock), market, _config(10_000));
        vm.prank(address(timelock));
        market.setModules(address(book), address(0));
        address[2] memory who = [auditor, lazy];
        for (uint256 i; i < 2; ++i) {
            _setupWorker(who[i], 200e18);
            _fund(who[i], 10e18);
            vm.prank(who[i]);
            token.approve(address(book), type(uint256).max);
        }
        token.approve(address(book), type(uint256).max);
        book.fundPool(100e18);
    }

    function _config(uint16 rate) internal pure returns (AuditBook.Config memory) {
        return AuditBook.Config({
            rateBps: rate,
            commitWindow: W,
            answerWindow: W,
            revealWindow: W,
            deposit: DEPOSIT,
            reward: REWARD,
            minAuditorStake: 100e18
        });
    }

    /// Scenario plus the model registered with its declared shape (1 input, 2 nodes, 1 output).
    function _shaped(uint256 seed, bool corrupt) internal {
        _scenario(seed, corrupt);
        gameModelId = models.registerModelWithShape(
            gameModelRoot, "ipfs://chain2", 1 << 16, ModelRegistry.Shape(1, 2, 1, 1_000_000)
        );
    }

    function _seal(uint256 taskId, bytes32 root, address who, bytes32 salt) internal pure returns (bytes32) {
        return keccak256(abi.encode(taskId, root, who, salt));
    }

    function _answer(uint256 taskId) internal {
        bytes32[] memory sib = Tree.proof(Tree.build(claimRoots), 1);
        vm.prank(worker);
        book.answerAudit(taskId, _traceRoot(claimRoots), claimRoots[1], sib);
        vm.roll(block.number + 1); // reveals from the next block: the answer block's hash picks the paid seals
    }

    function _drawn(uint256 taskId) internal returns (AuditBook.Audit memory a) {
        vm.roll(block.number + 2);
        book.drawAudit(taskId);
        a = book.getAudit(taskId);
    }

    function test_audit_honestAuditorPaid_workerPaid() public {
        _shaped(1, false);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        assertEq(uint256(a.state), uint256(AuditBook.State.Selected), "selected");
        (uint32 index, uint256 j) = book.targetTensor(taskId);
        assertEq(index, 0, "element");
        assertEq(j, 1, "the intermediate tensor");
        uint256 before = token.balanceOf(auditor);
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s"));
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditTooEarly.selector, taskId, uint256(a.commitEnd) + 1));
        _answer(taskId);
        vm.warp(a.commitEnd + 1);
        _answer(taskId);
        uint256 poolBefore = book.pool();
        vm.prank(auditor);
        book.revealAudit(taskId, honestRoots[1], "s");
        assertEq(token.balanceOf(auditor), before + REWARD, "honest auditor: deposit back plus the reward");
        assertEq(book.pool(), poolBefore - REWARD, "paid from the pool");
        book.settleAudit(taskId);
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
        uint256 premium = FEE * market.getRules().auditFeeBps / 10_000;
        assertEq(book.pool(), poolBefore - REWARD + premium, "the task's premium refills the pool");
        assertEq(token.balanceOf(address(book)), book.pool(), "book holds exactly its pool");
    }

    function test_audit_lazyAuditorRandomSeal_losesDeposit() public {
        _shaped(2, false);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        uint256 before = token.balanceOf(lazy);
        vm.prank(lazy);
        book.commitAudit(taskId, _seal(taskId, keccak256("guess"), lazy, "s"));
        vm.warp(a.commitEnd + 1);
        _answer(taskId);
        vm.prank(lazy);
        book.revealAudit(taskId, keccak256("guess"), "s"); // mismatch: deposit held
        // A lazy auditor cannot re-seal after seeing the answer, nor open its seal with the right value.
        vm.prank(lazy);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditNotAuditor.selector, taskId, lazy));
        book.revealAudit(taskId, claimRoots[1], "s");
        vm.warp(a.revealEnd + 1);
        uint256 poolBefore = book.pool();
        book.settleAudit(taskId);
        assertEq(token.balanceOf(lazy), before - DEPOSIT, "lazy auditor loses its deposit");
        assertEq(book.pool(), poolBefore + DEPOSIT, "forfeited to the pool");
    }

    function test_audit_sealNotRevealed_forfeits() public {
        _shaped(3, false);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        uint256 before = token.balanceOf(lazy);
        vm.prank(lazy);
        book.commitAudit(taskId, keccak256("anything"));
        vm.warp(a.commitEnd + 1);
        _answer(taskId);
        vm.prank(auditor);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditNotAuditor.selector, taskId, auditor));
        book.revealAudit(taskId, claimRoots[1], "s"); // not an auditor of this task
        vm.prank(lazy);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditBadReveal.selector, taskId, lazy));
        book.revealAudit(taskId, claimRoots[1], "s"); // the seal was not of this value
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditTooEarly.selector, taskId, uint256(a.revealEnd) + 1));
        book.settleAudit(taskId);
        vm.warp(a.revealEnd + 1);
        book.settleAudit(taskId);
        assertEq(token.balanceOf(lazy), before - DEPOSIT, "unrevealed seal forfeits the deposit");
    }

    function test_audit_workerDoesNotAnswer_slashed() public {
        _shaped(4, false);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s"));
        vm.prank(lazy);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], lazy, "t"));
        vm.warp(market.getTask(taskId).challengeDeadline);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketAuditPending.selector, taskId));
        market.finalize(taskId);
        vm.warp(a.answerEnd + 1);
        uint256 before = token.balanceOf(auditor);
        uint256 poolBefore = book.pool();
        book.settleAudit(taskId);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "invalidated");
        assertEq(staking.accountOf(worker).staked, 1_000e18 - MIN_STAKE, "silent worker slashed");
        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        assertEq(book.pool(), poolBefore + share, "the challenger share funds the pool");
        assertEq(market.claimable(auditor), 0, "no sealer is paid for a seal never compared");
        vm.prank(auditor);
        book.reclaimDeposit(taskId);
        assertEq(token.balanceOf(auditor), before + DEPOSIT, "deposit back");
        vm.prank(auditor);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditNotRefundable.selector, taskId, auditor, 3));
        book.reclaimDeposit(taskId);
        assertEq(market.claimable(requester), FEE, "fee refunded");
    }

    function test_audit_selectionFromLaterBlockhash() public {
        vm.prank(address(timelock));
        book.setConfig(_config(5_000));
        _shaped(5, false);
        uint256 t1 = _postClaimCommit();
        uint256 commitBlock = block.number;
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditTooEarly.selector, t1, commitBlock + 2));
        book.drawAudit(t1); // the seed block's hash does not exist yet when the worker commits
        vm.roll(commitBlock + 1);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditTooEarly.selector, t1, commitBlock + 2));
        book.drawAudit(t1);
        vm.roll(commitBlock + 5);
        // Selection is a function of blockhash(commitBlock + 1) only: find one hash that selects and one that does not.
        bytes32 yes;
        bytes32 no;
        for (uint256 i; yes == 0 || no == 0; ++i) {
            bytes32 h = keccak256(abi.encode(i));
            bool sel = uint256(keccak256(abi.encode(h, t1))) % 10_000 < 5_000;
            if (sel && yes == 0) yes = h;
            if (!sel && no == 0) no = h;
        }
        vm.setBlockhash(commitBlock + 1, no);
        book.drawAudit(t1);
        assertEq(uint256(book.getAudit(t1).state), uint256(AuditBook.State.NotSelected), "not selected");
        assertTrue(book.cleared(t1), "cleared");

        uint256 t2 = _postClaimCommit();
        uint256 cb2 = block.number;
        vm.roll(cb2 + 3);
        bytes32 yes2;
        for (uint256 i; yes2 == 0; ++i) {
            bytes32 h = keccak256(abi.encode(i));
            if (uint256(keccak256(abi.encode(h, t2))) % 10_000 < 5_000) yes2 = h;
        }
        vm.setBlockhash(cb2 + 1, yes2);
        book.drawAudit(t2);
        assertEq(uint256(book.getAudit(t2).state), uint256(AuditBook.State.Selected), "selected");

        // Nobody drew within 256 blocks: selected, so the worker gains nothing by keeping others from drawing.
        uint256 t3 = _postClaimCommit();
        vm.roll(block.number + 300);
        book.drawAudit(t3);
        assertEq(uint256(book.getAudit(t3).state), uint256(AuditBook.State.Selected), "late draw selects");
    }

    function test_audit_finalizeWaitsForDraw_premiumToPool() public {
        vm.prank(address(timelock));
        book.setConfig(_config(0));
        _shaped(6, false);
        uint256 taskId = _postClaimCommit();
        vm.warp(market.getTask(taskId).challengeDeadline);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketAuditPending.selector, taskId));
        market.finalize(taskId);
        vm.roll(block.number + 2);
        book.drawAudit(taskId);
        uint256 poolBefore = book.pool();
        market.finalize(taskId);
        uint256 premium = FEE * market.getRules().auditFeeBps / 10_000;
        uint256 protocolFee = (FEE * FEE_BPS + 9_999) / 10_000;
        assertEq(book.pool(), poolBefore + premium, "premium");
        assertEq(market.claimable(worker), FEE - protocolFee - premium, "worker paid the rest");
    }

    function test_audit_commitRules() public {
        _shaped(7, false);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditNotAllowed.selector, taskId, worker));
        book.commitAudit(taskId, bytes32(0));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditInsufficientStake.selector, stranger, 0, 100e18));
        book.commitAudit(taskId, bytes32(0));
        vm.prank(auditor);
        book.commitAudit(taskId, bytes32(0));
        vm.prank(auditor);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditNotAllowed.selector, taskId, auditor));
        book.commitAudit(taskId, bytes32(0));
        vm.prank(lazy);
        book.commitAudit(taskId, bytes32(0));
        address third = makeAddr("third");
        _setupWorker(third, 200e18);
        _fund(third, 10e18);
        vm.prank(third);
        token.approve(address(book), type(uint256).max);
        vm.prank(third);
        book.commitAudit(taskId, bytes32(0)); // no first-come cap: any staked auditor may seal
        assertEq(book.getAudit(taskId).sealCount, 3, "three seals");
        vm.warp(a.commitEnd + 1);
        vm.prank(auditor);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditUnexpectedState.selector, taskId, AuditBook.State.Selected));
        book.revealAudit(taskId, bytes32(0), bytes32(0)); // before the answer
    }

    /// A worker whose intermediate tensor is wrong answers with its own (wrong) root: the honest auditor's reveal
    /// mismatches, it challenges and wins the real game, and gets its deposit back plus the slash share.
    function test_audit_mismatch_auditorChallengesAndWins() public {
        _shaped(8, false);
        bytes memory bad = bytes.concat(claimed[1]);
        bad[300] = bytes1(uint8(bad[300]) ^ 0x5a);
        claimed[1] = bad;
        claimRoots[1] = _tensorRoot(bad); // the worker skipped node 0: its t1 is wrong, its output copied
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s"));
        vm.warp(a.commitEnd + 1);
        _answer(taskId);
        assertTrue(book.getAudit(taskId).answer != honestRoots[1], "the worker answered its wrong root");
        uint256 before = token.balanceOf(auditor);
        vm.prank(auditor);
        book.revealAudit(taskId, honestRoots[1], "s");
        assertEq(token.balanceOf(auditor), before, "mismatch: deposit held");
        // The auditor now knows the disputed tensor and challenges.
        vm.prank(auditor);
        token.approve(address(game), type(uint256).max);
        bytes32[] memory none = new bytes32[](0);
        bytes32 inH = _inHash(honest[0]);
        bytes32 outH = _outHash(claimed[2]);
        vm.prank(auditor);
        uint256 d = market.challenge(taskId, 0, inH, none, outH, none);
        _play(market.getDispute(d).gameId);
        _invalidatedThenReclaimed(d, taskId, a);
        assertEq(token.balanceOf(auditor), before + DEPOSIT - GAME_BOND, "deposit back (its game bond is in the game)");
        assertEq(game.credit(auditor), GAME_BOND, "game bond back");
        assertEq(market.claimable(auditor), uint256(MIN_STAKE) * SLASH_BPS / 10_000, "slash share");
    }

    /// @dev Resolves dispute `d` (the task must be invalidated), settles the audit and reclaims the auditor's deposit.
    function _invalidatedThenReclaimed(uint256 d, uint256 taskId, AuditBook.Audit memory a) internal {
        market.resolve(d);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "caught");
        vm.warp(a.revealEnd + 1);
        book.settleAudit(taskId);
        vm.prank(auditor);
        book.reclaimDeposit(taskId);
    }

    function _auditorWithStake(string memory name) internal returns (address who) {
        who = makeAddr(name);
        _setupWorker(who, 200e18);
        _fund(who, 10e18);
        vm.prank(who);
        token.approve(address(book), type(uint256).max);
    }

    /// Issue 11 target: a liar's puppet auditors seal first (the worker knows the draw first and can commit in the same
    /// block). before: [FAIL: AuditFull(1, 2)] — two puppets took both first-come slots, the honest auditor could not
    /// seal, the puppets matched the liar's own tensor j and were paid, and the lie finalized. Now every staked auditor
    /// seals, the honest one mismatches and challenges, the liar is slashed; the puppets get at most their rewards.
    function test_audit_puppetAuditorsCannotShieldALiar() public {
        _shaped(9, false);
        bytes memory bad = bytes.concat(claimed[1]);
        bad[300] = bytes1(uint8(bad[300]) ^ 0x5a);
        claimed[1] = bad;
        claimRoots[1] = _tensorRoot(bad); // the liar skipped node 0
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        address[2] memory puppets = [_auditorWithStake("puppet0"), _auditorWithStake("puppet1")];
        uint256 liarBefore = staking.accountOf(worker).staked + token.balanceOf(worker);
        uint256 puppetsBefore = token.balanceOf(puppets[0]) + token.balanceOf(puppets[1]);
        for (uint256 i; i < 2; ++i) {
            vm.prank(puppets[i]);
            book.commitAudit(taskId, _seal(taskId, claimRoots[1], puppets[i], "p")); // the liar's own root
        }
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s")); // still accepted
        vm.warp(a.commitEnd + 1);
        _answer(taskId);
        for (uint256 i; i < 2; ++i) {
            vm.prank(puppets[i]);
            book.revealAudit(taskId, claimRoots[1], "p");
        }
        vm.prank(auditor);
        book.revealAudit(taskId, honestRoots[1], "s"); // mismatch: it now challenges
        vm.prank(auditor);
        token.approve(address(game), type(uint256).max);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(auditor);
        uint256 d = market.challenge(taskId, 0, _inHash(honest[0]), none, _outHash(claimed[2]), none);
        _play(market.getDispute(d).gameId);
        market.resolve(d);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "liar caught");
        uint256 liarAfter = staking.accountOf(worker).staked + token.balanceOf(worker);
        uint256 puppetsAfter = token.balanceOf(puppets[0]) + token.balanceOf(puppets[1]);
        assertLe(puppetsAfter - puppetsBefore, 2 * uint256(REWARD), "puppets: at most PAID_REVEALS rewards");
        assertTrue(liarAfter + puppetsAfter + uint256(MIN_STAKE) / 2 < liarBefore + puppetsBefore, "liar + puppets lose");
        vm.warp(a.revealEnd + 1);
        book.settleAudit(taskId);
        vm.prank(auditor);
        book.reclaimDeposit(taskId);
    }

    /// Any number of seals, at most PAID_REVEALS paid, picked by the answer block's hash (fixed after every seal).
    function test_audit_paidSealsPickedAfterTheSeals() public {
        _shaped(10, false);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        address[] memory who = new address[](5);
        for (uint256 i; i < 5; ++i) {
            who[i] = _auditorWithStake(string(abi.encodePacked("aud", bytes1(uint8(48 + i)))));
            vm.prank(who[i]);
            book.commitAudit(taskId, _seal(taskId, honestRoots[1], who[i], "s"));
        }
        vm.warp(a.commitEnd + 1);
        bytes32[] memory sib = Tree.proof(Tree.build(claimRoots), 1);
        vm.prank(worker);
        book.answerAudit(taskId, _traceRoot(claimRoots), claimRoots[1], sib);
        // in the answer's own block its hash does not exist yet: nobody can reveal (or learn who is paid)
        vm.prank(who[0]);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditTooEarly.selector, taskId, block.number + 1));
        book.revealAudit(taskId, honestRoots[1], "s");
        vm.roll(block.number + 1);
        uint256 paidCount;
        uint256 poolBefore = book.pool();
        for (uint256 i; i < 5; ++i) {
            uint256 b = token.balanceOf(who[i]);
            vm.prank(who[i]);
            book.revealAudit(taskId, honestRoots[1], "s");
            uint256 gain = token.balanceOf(who[i]) - b;
            bool paid = book.isPaidSeal(taskId, who[i]);
            assertEq(gain, paid ? DEPOSIT + REWARD : DEPOSIT, "picked: deposit + reward; else deposit");
            if (paid) ++paidCount;
        }
        assertEq(paidCount, 2, "exactly PAID_REVEALS paid");
        assertEq(book.pool(), poolBefore - 2 * REWARD, "pool pays two rewards");
        book.settleAudit(taskId); // every seal matched: settles before the reveal window ends
        assertEq(uint256(book.getAudit(taskId).state), uint256(AuditBook.State.Settled), "settled");
    }

    /// Issue 11 target: a lazy auditor (random seal) beside an honest one, the liar silent. before: [FAIL: lazy got
    /// half the challenger share, 25e18 != 0] — settleAudit paid every sealer. Now the share goes to the pool and the
    /// lazy auditor gets only its deposit back (it loses its gas).
    function test_audit_workerSilent_lazyAuditorGetsNoShare() public {
        _shaped(11, true);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        uint256 lazyBefore = token.balanceOf(lazy);
        vm.prank(lazy);
        book.commitAudit(taskId, _seal(taskId, keccak256("guess"), lazy, "s"));
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s"));
        vm.warp(a.answerEnd + 1);
        uint256 poolBefore = book.pool();
        book.settleAudit(taskId);
        vm.prank(lazy);
        book.reclaimDeposit(taskId);
        assertEq(market.claimable(lazy), 0, "lazy auditor: no share");
        assertEq(token.balanceOf(lazy), lazyBefore, "lazy auditor: deposit back, nothing more");
        assertEq(book.pool(), poolBefore + uint256(MIN_STAKE) * SLASH_BPS / 10_000, "share to the pool");
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "liar slashed");
    }

    /// The honest auditor finds the committed trace root wrong and challenges at once; the liar stays silent in the
    /// audit and in the game. The silent audit waits for the dispute, the auditor's team takes the challenger share,
    /// and the audit then settles with nothing more to slash (deposits back).
    function test_audit_workerSilent_disputeSettlesFirst_auditorPaidByTheGame() public {
        _shaped(12, true);
        uint256 taskId = _postClaimCommit();
        AuditBook.Audit memory a = _drawn(taskId);
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s"));
        vm.prank(auditor);
        token.approve(address(game), type(uint256).max);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(auditor);
        uint256 d = market.challenge(taskId, 0, _inHash(honest[0]), none, _outHash(claimed[2]), none);
        vm.warp(a.answerEnd + 1);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditDisputeOpen.selector, taskId, 1));
        book.settleAudit(taskId);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(market.getDispute(d).gameId);
        market.resolve(d);
        uint256 poolBefore = book.pool();
        book.settleAudit(taskId);
        assertEq(book.pool(), poolBefore, "already invalidated: nothing more to the pool");
        assertEq(market.claimable(auditor), uint256(MIN_STAKE) * SLASH_BPS / 10_000, "the auditor's game took the share");
        vm.prank(auditor);
        book.reclaimDeposit(taskId);
    }

    // ============================================================ the audit answer binds the worker's trace (issue 13)

    /// @dev The worker's alternative trace: t1 replaced (t0 and t2 honest), so its root differs from the honest trace's.
    function _fakeIntermediate() internal view returns (bytes32[] memory fake, bytes memory bad) {
        bad = bytes.concat(honest[1]);
        bad[77] = bytes1(uint8(bad[77]) ^ 0x33);
        fake = new bytes32[](3);
        fake[0] = honestRoots[0];
        fake[1] = _tensorRoot(bad);
        fake[2] = honestRoots[2];
    }

    /// @dev An honest worker's committed task, drawn for audit, sealed by the honest auditor.
    function _honestSealed(uint256 seed) internal returns (uint256 taskId, AuditBook.Audit memory a) {
        _shaped(seed, false);
        taskId = _postClaimCommit();
        a = _drawn(taskId);
        vm.prank(auditor);
        book.commitAudit(taskId, _seal(taskId, honestRoots[1], auditor, "s"));
    }

    function _answerWith(uint256 taskId, bytes32[] memory roots) internal {
        vm.prank(worker);
        book.answerAudit(taskId, _root(roots), roots[1], Tree.proof(Tree.build(roots), 1));
    }

    function _root(bytes32[] memory roots) internal pure returns (bytes32) {
        return ProofLib.listRoot(3, roots.length, ProofLib.rootOfWords(roots));
    }

    function _auditorChallenges(uint256 taskId) internal returns (uint256 d, uint256 gameId) {
        vm.prank(auditor);
        token.approve(address(game), type(uint256).max);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(auditor);
        d = market.challenge(taskId, 0, _inHash(honest[0]), none, _outHash(claimed[2]), none);
        gameId = market.getDispute(d).gameId;
    }

    /// Griefing with a free answer (issue 13, no trace root committed): an honest worker (true outputs) answers the
    /// audit with a made-up tensor j, so every honest auditor mismatches; the auditor challenges and the worker then
    /// defends the honest trace, wins, and the auditors' deposits are forfeited. before (the answer bound nothing,
    /// `market.pinTrace` removed): [FAIL: answer pinned: bytes32 mismatch], and the contradicting-answer test below
    /// [FAIL: next call did not revert as expected]. Now the answer pins the
    /// element's trace root: the worker can reveal only the trace it answered with, whose wrong t1 loses the bisection.
    function test_audit_answerPinsTrace_griefingWorkerLosesTheGame() public {
        (uint256 taskId, AuditBook.Audit memory a) = _honestSealed(21);
        vm.warp(a.commitEnd + 1);
        (bytes32[] memory fake, bytes memory bad) = _fakeIntermediate();
        _answerWith(taskId, fake);
        assertEq(market.tracePin(market.taskKey(taskId, 0)), _root(fake), "answer pinned");
        vm.roll(block.number + 1);
        uint256 before = token.balanceOf(auditor);
        vm.prank(auditor);
        book.revealAudit(taskId, honestRoots[1], "s");
        (uint256 d, uint256 gameId) = _auditorChallenges(taskId);
        assertEq(game.game(gameId).traceRoot, _root(fake), "the game is opened with the pin");
        // The honest trace is not the one it answered with: refused.
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 1));
        game.revealRoots(gameId, honestRoots, 1, 1);
        // Its answered trace is accepted (inputs and outputs are the task's) and loses at t1.
        claimed[1] = bad;
        claimRoots[1] = fake[1];
        assertEq(uint256(_play(gameId)), uint256(IDisputeResolver.Outcome.ChallengerWon), "bound to its answer: loses");
        _invalidatedThenReclaimed(d, taskId, a);
        assertEq(token.balanceOf(auditor), before + DEPOSIT - GAME_BOND, "the honest auditor's deposit comes back");
    }

    /// The same grief, the worker silent in the game after its answer: it loses on time.
    function test_audit_answerPinsTrace_silentAfterAnswer_losesOnTime() public {
        (uint256 taskId, AuditBook.Audit memory a) = _honestSealed(22);
        vm.warp(a.commitEnd + 1);
        (bytes32[] memory fake,) = _fakeIntermediate();
        _answerWith(taskId, fake);
        (uint256 d, uint256 gameId) = _auditorChallenges(taskId);
        vm.warp(block.timestamp + CLOCK + 1);
        game.timeout(gameId);
        market.resolve(d);
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "slashed");
    }

    /// A game opened before the answer and still awaiting the reveal is pinned by the answer.
    function test_audit_answerPinsLiveGameBeforeReveal() public {
        (uint256 taskId, AuditBook.Audit memory a) = _honestSealed(23);
        (, uint256 gameId) = _auditorChallenges(taskId);
        assertEq(game.game(gameId).traceRoot, bytes32(0), "unpinned at open");
        vm.warp(a.commitEnd + 1);
        (bytes32[] memory fake,) = _fakeIntermediate();
        vm.expectEmit(address(game));
        emit DisputeGame.TracePinned(gameId, _root(fake));
        _answerWith(taskId, fake);
        assertEq(game.game(gameId).traceRoot, _root(fake), "live game pinned");
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 1));
        game.revealRoots(gameId, honestRoots, 1, 1);
    }

    /// Dispute revealed first, then an audit answer contradicting the revealed trace: refused (the worker is then
    /// silent in the audit: the task is invalidated when the audit settles); the answer matching it is accepted.
    function test_audit_answerContradictingRevealedTrace_refused() public {
        (uint256 taskId, AuditBook.Audit memory a) = _honestSealed(24);
        (, uint256 gameId) = _auditorChallenges(taskId);
        vm.prank(worker);
        game.revealRoots(gameId, honestRoots, 1, 1);
        assertEq(game.game(gameId).traceRoot, _root(honestRoots), "the game took the revealed root");
        vm.warp(a.commitEnd + 1);
        (bytes32[] memory fake,) = _fakeIntermediate();
        bytes32[] memory sib = Tree.proof(Tree.build(fake), 1);
        bytes32 fakeRoot = _root(fake);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, 1));
        book.answerAudit(taskId, fakeRoot, fake[1], sib);
        assertFalse(book.getAudit(taskId).answered, "refused");
        _answerWith(taskId, honestRoots);
        assertTrue(book.getAudit(taskId).answered, "the revealed trace's answer is accepted");
        vm.roll(block.number + 1);
        uint256 before = token.balanceOf(auditor);
        vm.prank(auditor);
        book.revealAudit(taskId, honestRoots[1], "s");
        assertEq(token.balanceOf(auditor), before + DEPOSIT + REWARD, "honest worker, honest auditor: both fine");
    }

    /// An answer is the worker's alone: a stranger pinning a made-up trace would make an honest worker unable to
    /// defend its element.
    function test_audit_strangerCannotAnswer() public {
        (uint256 taskId, AuditBook.Audit memory a) = _honestSealed(25);
        vm.warp(a.commitEnd + 1);
        (bytes32[] memory fake,) = _fakeIntermediate();
        bytes32[] memory sib = Tree.proof(Tree.build(fake), 1);
        bytes32 fakeRoot = _root(fake);
        vm.prank(lazy);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditNotAllowed.selector, taskId, lazy));
        book.answerAudit(taskId, fakeRoot, fake[1], sib);
        // A trace of another length than the registered model's (numInputs + nodeCount = 3) does not answer.
        bytes32[] memory four = new bytes32[](4);
        for (uint256 i; i < 3; ++i) four[i] = honestRoots[i];
        four[3] = honestRoots[2];
        bytes32[] memory sib4 = Tree.proof(Tree.build(four), 1);
        bytes32 root4 = _root(four);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(AuditBook.AuditBadAnswer.selector, taskId, 2));
        book.answerAudit(taskId, root4, four[1], sib4);
    }
}
