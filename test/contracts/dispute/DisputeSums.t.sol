// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DisputeWorld} from "./DisputeWorld.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {OneStep} from "../../../contracts/interfaces/IOneStepVerifier.sol";

/// @notice The partial-sum sub-game (docs/protocol.md §Partial sums) against the mock verifier's registered
/// accumulator (A(0) = init, term t = terms[t], element = A(T)): a claimant whose element is wrong enters its lie at
/// some term and loses at the chunk holding it, whatever it reveals; an honest claimant wins against a challenger that
/// picks anything; silence loses on time; a non-reduction cannot be opened; a total that does not finish to the claimed
/// element is refused.
contract DisputeSumsTest is DisputeWorld {
    uint256 internal constant BAD_TENSOR = 2;
    uint256 internal constant BAD_ELEMENT = 5;
    int256[] internal terms;
    int256 internal init;
    int256 internal claimedValue;
    int256 internal honestValue;

    uint256 internal arity;
    uint256 internal chunk;

    function setUp() public override {
        super.setUp();
        (arity, chunk) = (dg.SUM_ARITY(), dg.SUM_CHUNK());
        // i32 [64]: 8 words; tensor 2 (node 1) element 5 wrong in the claimant's trace
        _scenario(3, 3, 64, 3, BAD_TENSOR, BAD_ELEMENT);
    }

    /// @dev Registers an accumulator of `n` terms for the disputed element that adds up to its honest value.
    function _reduction(uint256 n, uint256 seed) internal {
        delete terms;
        honestValue = _i32(honest[BAD_TENSOR], BAD_ELEMENT);
        claimedValue = _i32(claimed[BAD_TENSOR], BAD_ELEMENT);
        int256 s;
        for (uint256 t; t < n; ++t) {
            int256 v = int256(uint256(keccak256(abi.encode(seed, t))) % 65_025) - 32_512;
            terms.push(v);
            s += v;
        }
        init = honestValue - s;
        verifier.setReduction(BAD_TENSOR - 1, BAD_ELEMENT, init, terms);
    }

    /// @dev True A(t).
    function _true(uint256 t) internal view returns (int256 a) {
        a = init;
        for (uint256 k; k < t; ++k) a += terms[k];
    }

    /// @dev The liar's A(t): true up to and including term `enter`, shifted by (claimed − honest) after it.
    function _lie(uint256 t, uint256 enter) internal view returns (int256) {
        return t > enter ? _true(t) + (claimedValue - honestValue) : _true(t);
    }

    function _toOneStep() internal returns (uint256 gameId) {
        gameId = _open();
        _revealRoots(gameId);
        _disputeTensor(gameId, BAD_TENSOR);
        _revealTensor(gameId);
        _bisectAll(gameId, 0);
        assertEq(uint8(_phase(gameId)), uint8(DisputeGame.Phase.AwaitOneStep), "uint8(_phase(gameId))");
    }

    function _openSums(uint256 gameId) internal {
        (DisputeGame.LeafChoice memory leaf, uint256 e) = _leafChoice(gameId, 0, 0);
        assertEq(e, BAD_ELEMENT, "e");
        vm.prank(challenger);
        dg.openSums(gameId, leaf);
    }

    function _points(uint256 lo, uint256 hi, uint256 enter, bool liar) internal view returns (int256[] memory p) {
        uint256 k = arity;
        p = new int256[](k - 1);
        for (uint256 i = 1; i < k; ++i) {
            uint256 t = lo + (hi - lo) * i / k;
            p[i - 1] = liar ? _lie(t, enter) : _true(t);
        }
    }

    bool internal claimantLies;
    uint256 internal enterAt;
    bool internal challengerLies;
    uint256 internal pickSeed;

    /// @dev The claimant's A(t): the liar's or the true one.
    function _val(uint256 t) internal view returns (int256) {
        return claimantLies ? _lie(t, enterAt) : _true(t);
    }

    function _pts(uint256 lo, uint256 hi) internal view returns (int256[] memory) {
        return _points(lo, hi, enterAt, claimantLies);
    }

    /// @dev The challenger's part: the first whose right end differs from the truth (honest) or a random one (liar).
    function _choose(DisputeGame.SumState memory st, int256[] memory p, int256 sHi, uint256 round)
        internal
        view
        returns (uint256 index)
    {
        uint256 k = arity;
        if (challengerLies) return uint256(keccak256(abi.encode(pickSeed, round))) % k;
        index = k - 1;
        for (uint256 i; i < k; ++i) {
            int256 right = i == k - 1 ? sHi : p[i];
            if (right != _true(st.lo + (st.hi - st.lo) * (i + 1) / k)) return i;
        }
    }

    function _doPick(uint256 gameId, int256[] memory p, uint256 index, DisputeGame.SumState memory st, uint256 from, uint256 to)
        internal
    {
        (int256 a, int256 b) = (_val(st.lo), _val(st.hi));
        vm.prank(challenger);
        dg.pickSum(gameId, p, index, a, b);
        (a, b) = (_val(from), _val(to));
        int256[] memory q = _pts(from, to);
        vm.prank(claimant);
        dg.revealSums(gameId, a, b, q);
    }

    function _doSumStep(uint256 gameId, int256[] memory p, uint256 index, DisputeGame.SumState memory st) internal {
        (OneStep memory step, DisputeGame.InputRoots memory ins) = _step(gameId, BAD_ELEMENT);
        (int256 a, int256 b) = (_val(st.lo), _val(st.hi));
        vm.prank(challenger);
        dg.sumStep(gameId, p, index, a, b, step, ins);
    }

    /// @dev Plays the sub-game to the end (claimant per `claimantLies` / `enterAt`, challenger per `challengerLies`);
    /// returns the range the verifier re-added and the sub-game's transactions after openSums.
    function _playSums(uint256 gameId) internal returns (uint256 from, uint256 to, uint256 txs) {
        _revealTotal(gameId);
        txs = 1;
        for (uint256 round;; ++round) {
            DisputeGame.SumState memory st = dg.sumState(gameId);
            int256[] memory p = _pts(st.lo, st.hi);
            uint256 index = _choose(st, p, _val(st.hi), round);
            from = st.lo + (st.hi - st.lo) * index / arity;
            to = st.lo + (st.hi - st.lo) * (index + 1) / arity;
            txs += 1;
            if (_phase(gameId) == DisputeGame.Phase.AwaitSumStep) {
                _doSumStep(gameId, p, index, st);
                return (from, to, txs);
            }
            assertEq(uint8(_phase(gameId)), uint8(DisputeGame.Phase.AwaitSumPick), "pick phase");
            _doPick(gameId, p, index, st, from, to);
            txs += 1;
        }
    }

    function _revealTotal(uint256 gameId) internal {
        uint256 n = terms.length;
        (OneStep memory open,) = _step(gameId, BAD_ELEMENT);
        int256 total = _val(n);
        int256[] memory p0 = _pts(0, n);
        vm.prank(claimant);
        dg.revealSumTotal(gameId, open, total, p0);
    }

    function testFuzz_sums_liarLosesAtTheChunkHoldingItsLie(uint256 n, uint256 enter, uint256 seed) public {
        n = bound(n, 1, 2_000);
        enter = bound(enter, 0, n - 1);
        _reduction(n, seed);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (claimantLies, enterAt) = (true, enter);
        (uint256 from, uint256 to,) = _playSums(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "uint8(dg.outcome(gameId))");
        // the re-added chunk is constant-size and holds the term where the lie entered
        assertLe(to - from, chunk, "to - from");
        assertLe(from, enter, "from");
        assertGe(to, enter + 1, "to");
    }

    function testFuzz_sums_honestClaimantAlwaysWins(uint256 n, uint256 seed) public {
        n = bound(n, 1, 2_000);
        _reduction(n, seed);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        // make the claimant's element the true one: A(T) = its claimed value (the challenger's trace is the wrong one
        // here); it reveals the true accumulator, the challenger picks parts at random
        init += claimedValue - honestValue;
        verifier.setReduction(BAD_TENSOR - 1, BAD_ELEMENT, init, terms);
        (challengerLies, pickSeed) = (true, seed);
        _playSums(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ClaimantWon), "uint8(dg.outcome(gameId))");
    }

    function test_sums_txCount_K4096() public {
        _reduction(4096, 1);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (claimantLies, enterAt) = (true, 2_000);
        (,, uint256 txs) = _playSums(gameId);
        // revealSumTotal, then (pickSum, revealSums) per extra round, then sumStep: 4096 → parts of 205 → of ≤ 11 ≤ 39
        assertEq(txs, 1 + 2 * 1 + 1, "txs");
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "uint8(dg.outcome(gameId))");
    }

    function test_sums_totalMustFinishToTheClaimedElement() public {
        _reduction(100, 2);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (OneStep memory open,) = _step(gameId, BAD_ELEMENT);
        int256[] memory p = _points(0, 100, 0, false);
        // the true total finishes (mock: identity) to the honest value, not the claimed one
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, dg.PROOF_SUM_TOTAL()));
        int256 t100 = _true(100);
        vm.prank(claimant);
        dg.revealSumTotal(gameId, open, t100, p);
        // wrong number of points
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadIndex.selector, gameId, 3, arity - 1));
        vm.prank(claimant);
        dg.revealSumTotal(gameId, open, claimedValue, new int256[](3));
        // another element's accumulator
        open.outputIndex = BAD_ELEMENT + 1;
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadIndex.selector, gameId, BAD_ELEMENT + 1, BAD_ELEMENT + 1));
        vm.prank(claimant);
        dg.revealSumTotal(gameId, open, claimedValue, p);
    }

    function test_sums_silentClaimantLosesOnTime() public {
        _reduction(100, 3);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (address mover,) = dg.turn(gameId);
        assertEq(mover, claimant, "mover");
        vm.warp(block.timestamp + CLOCK + 1);
        dg.timeout(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "uint8(dg.outcome(gameId))");
    }

    function test_sums_silentChallengerLosesOnTime() public {
        _reduction(1000, 4);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (OneStep memory open,) = _step(gameId, BAD_ELEMENT);
        int256 total = _lie(1000, 10);
        int256[] memory p = _points(0, 1000, 10, true);
        vm.prank(claimant);
        dg.revealSumTotal(gameId, open, total, p);
        (address mover,) = dg.turn(gameId);
        assertEq(mover, challenger, "mover");
        vm.warp(block.timestamp + CLOCK + 1);
        dg.timeout(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ClaimantWon), "uint8(dg.outcome(gameId))");
    }

    function test_sums_picksOnlyRevealedPoints() public {
        _reduction(1000, 5);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (OneStep memory open,) = _step(gameId, BAD_ELEMENT);
        int256[] memory p = _points(0, 1000, 10, true);
        int256 total = _lie(1000, 10);
        vm.prank(claimant);
        dg.revealSumTotal(gameId, open, total, p);
        p[2] += 1;
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, dg.PROOF_SUM_POINTS()));
        vm.prank(challenger);
        dg.pickSum(gameId, p, 0, init, total);
        p[2] -= 1;
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadIndex.selector, gameId, arity, arity));
        vm.prank(challenger);
        dg.pickSum(gameId, p, arity, init, total);
        // the claimant may not move in the challenger's phase
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeNotYourTurn.selector, gameId, claimant));
        vm.prank(claimant);
        dg.revealSums(gameId, 0, 0, p);
    }

    function test_sums_nonReductionCannotBeOpened() public {
        // no reduction registered: the mock's reducible() answers false
        uint256 gameId = _toOneStep();
        (DisputeGame.LeafChoice memory leaf,) = _leafChoice(gameId, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeBadProof.selector, gameId, dg.PROOF_NOT_REDUCIBLE()));
        vm.prank(challenger);
        dg.openSums(gameId, leaf);
    }

    /// @dev Where the sub-game ends is fixed by the contract (parts of ≤ SUM_CHUNK terms), not by a party: while the
    /// parts are longer the challenger cannot re-add one (sumStep refused), once they are short enough it cannot bisect
    /// further (pickSum refused); a short reduction (a 3×3 window, T = 9) ends at once on parts of ≤ 1 term.
    function test_sums_theContractFixesWhereTheSubGameEnds() public {
        // K = 768 at SUM_ARITY 20: parts of ≤ 39 terms, one round straight to the step
        _reduction(768, 9);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (claimantLies, enterAt) = (true, 700);
        _revealTotal(gameId);
        assertEq(uint8(_phase(gameId)), uint8(DisputeGame.Phase.AwaitSumStep), "768: one round");
        int256[] memory p = _pts(0, 768);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeWrongMove.selector, gameId, DisputeGame.Phase.AwaitSumStep));
        vm.prank(challenger);
        dg.pickSum(gameId, p, 0, init, _val(768));
        // K = 4096: parts of 205 > SUM_CHUNK, so the challenger must bisect again before any step
        _reduction(4096, 3);
        gameId = _toOneStep();
        _openSums(gameId);
        _revealTotal(gameId);
        assertEq(uint8(_phase(gameId)), uint8(DisputeGame.Phase.AwaitSumPick), "4096: pick first");
        p = _pts(0, 4096);
        (OneStep memory step, DisputeGame.InputRoots memory ins) = _step(gameId, BAD_ELEMENT);
        int256 total = _val(4096);
        vm.expectRevert(abi.encodeWithSelector(DisputeGame.DisputeWrongMove.selector, gameId, DisputeGame.Phase.AwaitSumPick));
        vm.prank(challenger);
        dg.sumStep(gameId, p, 0, init, total, step, ins);
    }

    /// @dev The 200k bound on the last step is the contract's, for any K: a reduction of 960 terms would end one round
    /// on parts of 48 terms (a 48-term dot-product chunk costs up to 203k), so it bisects once more and the step
    /// re-adds ≤ 3 terms; 780 terms (parts of 39) still end in one round.
    function test_sums_chunkBoundIsTheContracts() public {
        assertEq(chunk, 39, "SUM_CHUNK");
        _reduction(960, 5);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (claimantLies, enterAt) = (true, 917);
        _revealTotal(gameId);
        assertEq(uint8(_phase(gameId)), uint8(DisputeGame.Phase.AwaitSumPick), "960: parts of 48 > 39, pick first");
        _reduction(960, 5);
        gameId = _toOneStep();
        _openSums(gameId);
        (uint256 from, uint256 to, uint256 txs) = _playSums(gameId);
        assertEq(txs, 1 + 2 + 1, "txs: total, pick + reveal, step");
        assertLe(to - from, 3, "to - from");
        assertLe(from, 917, "from");
        assertGe(to, 918, "to");
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "outcome");
        _reduction(780, 6);
        gameId = _toOneStep();
        _openSums(gameId);
        enterAt = 500;
        _revealTotal(gameId);
        assertEq(uint8(_phase(gameId)), uint8(DisputeGame.Phase.AwaitSumStep), "780: parts of 39, one round");
    }

    function test_sums_shortWindowEndsOnOneTerm() public {
        // T = 9 (a 3×3 window on one channel): one reveal, the liar loses at the single term holding its lie
        _reduction(9, 4);
        uint256 gameId = _toOneStep();
        _openSums(gameId);
        (claimantLies, enterAt) = (true, 6);
        (uint256 from, uint256 to, uint256 txs) = _playSums(gameId);
        assertEq(txs, 2, "txs");
        assertEq(to - from, 1, "one term");
        assertEq(from, 6, "the term holding the lie");
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "outcome");
    }
}
