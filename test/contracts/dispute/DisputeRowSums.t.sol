// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {DisputeWorld} from "./DisputeWorld.sol";
import {RowSumsVerifier} from "./mocks/RowSumsVerifier.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {OneStep, WordsProof} from "../../../contracts/interfaces/IOneStepVerifier.sol";
import {ReduceOps} from "../../../contracts/verifier/families/ReduceOps.sol";
import {NodeHeader, TensorMeta, ParamMeta, IReductionFamily, VerifierSoftmaxMax} from "../../../contracts/verifier/VerifierTypes.sol";

/// @notice The partial-sum sub-game on LayerNorm and Softmax rows (docs/protocol.md §Partial sums), the terms and the
/// finish computed by the real ReduceOps family (RowSumsVerifier relabels its i8 element to the scenario's values):
/// a claimant lying in the total or from any term on loses at the chunk holding the lie (rows up to 4096); a Softmax
/// claimant stating a wrong row max (too high or too low) loses where its counts go wrong; an honest claimant wins
/// against random picks; silence loses on time.
contract DisputeRowSumsTest is DisputeWorld {
    uint256 internal constant BAD_TENSOR = 2;
    uint256 internal constant BAD_ELEMENT = 5;
    int256 internal constant F1 = 2 ** 64;
    int256 internal constant F2 = 2 ** 128;
    int256 internal constant F3 = 2 ** 192;

    ReduceOps internal fam;
    RowSumsVerifier internal rv;
    uint256 internal arity;
    uint256 internal chunk;
    uint256 internal n; // row length

    // the sequences: the honest one (A(0) = init) and the claimant's (from its A(0), shifted after `enter` by delta)
    int256 internal init; // A(0) of the sequence the claimant plays (its stated max for Softmax)
    int256 internal delta;
    uint256 internal enter;
    bool internal randomPicks;
    uint256 internal pickSeed;

    function setUp() public override {
        super.setUp();
        fam = new ReduceOps();
        rv = new RowSumsVerifier(IReductionFamily(address(fam)));
        dg = new DisputeGame(governance, token, rv, BOND, CLOCK, 2);
        vm.prank(claimant);
        token.approve(address(dg), type(uint256).max);
        vm.prank(challenger);
        token.approve(address(dg), type(uint256).max);
        (arity, chunk) = (dg.SUM_ARITY(), dg.SUM_CHUNK());
        _scenario(3, 3, 64, 3, BAD_TENSOR, BAD_ELEMENT);
    }

    // ------------------------------------------------------------------ rows

    function _scalar(bytes32[] memory keys, int256[] memory flat, uint256 k, bytes32 key, int256 v) internal pure {
        keys[k] = key;
        flat[2 * k] = -1;
        flat[2 * k + 1] = v;
    }

    /// @dev Words proof (no siblings: the double checks none) of `count` elements of `es` bytes from `data`.
    function _proof(bytes memory data) internal pure returns (WordsProof memory p) {
        uint256 words = (data.length + 31) / 32;
        p.leafCount = words;
        p.indices = new uint256[](words);
        p.words = new bytes32[](words);
        for (uint256 w; w < words; ++w) {
            p.indices[w] = w;
            bytes32 x;
            assembly ("memory-safe") {
                x := mload(add(add(data, 32), mul(32, w)))
            }
            // zero the bytes past the data in the last word
            if (32 * (w + 1) > data.length) x &= bytes32(type(uint256).max << (8 * (32 * (w + 1) - data.length)));
            p.words[w] = x;
        }
    }

    function _i32s(int256[] memory v) internal pure returns (bytes memory b) {
        b = new bytes(4 * v.length);
        for (uint256 i; i < v.length; ++i) {
            uint32 u = uint32(int32(v[i]));
            b[4 * i] = bytes1(uint8(u >> 24));
            b[4 * i + 1] = bytes1(uint8(u >> 16));
            b[4 * i + 2] = bytes1(uint8(u >> 8));
            b[4 * i + 3] = bytes1(uint8(u));
        }
    }

    function _meta(uint256 len) internal pure returns (TensorMeta memory m) {
        uint32[] memory s = new uint32[](1);
        s[0] = uint32(len);
        m = TensorMeta(1, 0, 0, s);
    }

    /// @dev A row of `len` i8 values from `seed` (Softmax: near the top, so the max repeats; some −128 entries).
    function _rowData(uint256 len, uint256 seed, bool high) internal pure returns (bytes memory x) {
        x = new bytes(len);
        for (uint256 i; i < len; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            int256 v = high ? (r % 5 == 0 ? int256(-128) : int256(120 + int256(r % 6))) : int256(r % 256) - 128;
            x[i] = bytes1(uint8(int8(v)));
        }
    }

    function _layerNormRow(uint256 len, uint256 seed) internal {
        n = len;
        bytes32[] memory keys = new bytes32[](4);
        int256[] memory flat = new int256[](8);
        _scalar(keys, flat, 0, "eps", 1000);
        _scalar(keys, flat, 1, "shift", 12);
        _scalar(keys, flat, 2, "xZero", 3);
        _scalar(keys, flat, 3, "yZero", -2);
        ParamMeta[] memory pm = new ParamMeta[](2);
        uint32[] memory ps = new uint32[](1);
        ps[0] = uint32(len);
        pm[0] = ParamMeta("beta", 3, ps);
        pm[1] = ParamMeta("gamma", 3, ps);
        int256[] memory beta = new int256[](len);
        int256[] memory gamma = new int256[](len);
        for (uint256 i; i < len; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, "p", i)));
            beta[i] = int256(r % 20_000) - 10_000;
            gamma[i] = int256((r >> 64) % 60_000) - 30_000;
        }
        WordsProof[] memory params = new WordsProof[](2);
        params[0] = _proof(_i32s(beta));
        params[1] = _proof(_i32s(gamma));
        _register(10, keys, flat, pm, params, _rowData(len, seed, false), seed);
    }

    function _softmaxRow(uint256 len, uint256 seed) internal {
        n = len;
        bytes32[] memory keys = new bytes32[](1);
        int256[] memory flat = new int256[](2);
        _scalar(keys, flat, 0, "masked", 1);
        ParamMeta[] memory pm = new ParamMeta[](1);
        uint32[] memory ps = new uint32[](1);
        ps[0] = 256;
        pm[0] = ParamMeta("exp", 3, ps);
        int256[] memory e = new int256[](256);
        int256 v = 2 ** 20;
        for (uint256 d; d < 256; ++d) {
            e[d] = v;
            v = v * 7 / 8;
        }
        e[255] = 1;
        WordsProof[] memory params = new WordsProof[](1);
        params[0] = _proof(_i32s(e));
        _register(9, keys, flat, pm, params, _rowData(len, seed, true), seed);
    }

    function _register(
        uint8 op,
        bytes32[] memory keys,
        int256[] memory flat,
        ParamMeta[] memory pm,
        WordsProof[] memory params,
        bytes memory x,
        uint256 seed
    ) internal {
        uint32[] memory ins = new uint32[](1);
        TensorMeta[] memory im = new TensorMeta[](1);
        im[0] = _meta(n);
        NodeHeader memory h = NodeHeader({
            op: op,
            inputs: ins,
            output: 1,
            inputMeta: im,
            outputMeta: _meta(n),
            attrKeys: keys,
            attrsFlat: flat,
            params: pm
        });
        rv.setRow(abi.encode(h), _proof(x), params, seed % n);
        // the honest sequence's A(0): Softmax's true max (from the row), LayerNorm 0
        init = 0;
        if (op == 9) {
            int256 mx = -128;
            for (uint256 i; i < n; ++i) if (int8(uint8(x[i])) > mx) mx = int8(uint8(x[i]));
            init = mx * F3;
        }
    }

    // ------------------------------------------------------------------ sequences

    /// @dev The true A(t) of the sequence from A(0) = `a0` (the family's terms).
    function _seq(int256 a0, uint256 t) internal view returns (int256) {
        return a0 + rv.termSum(0, t, a0);
    }

    /// @dev The claimant's A(t): the sequence from `init`, shifted by `delta` after term `enter`.
    function _val(uint256 t) internal view returns (int256) {
        int256 a = _seq(init, t);
        return t > enter ? a + delta : a;
    }

    function _pts(uint256 lo, uint256 hi) internal view returns (int256[] memory p) {
        p = new int256[](arity - 1);
        for (uint256 i = 1; i < arity; ++i) p[i - 1] = _val(lo + (hi - lo) * i / arity);
    }

    /// @dev Makes the claimant's total `lie` (so delta = lie − true total of its sequence) and labels the values:
    /// the honest element ↦ the honest scenario value, the lie's element ↦ the claimant's.
    function _lieWith(int256 lie, uint256 enter_) internal {
        int256 truth = _seq(init, n);
        delta = lie - truth;
        enter = enter_;
        int256 yLie = rv.finish(lie);
        int256 yTrue = rv.finish(_seq(_honestInit(), n));
        assertTrue(yLie != yTrue, "the lie changes the element");
        rv.setLabels(yTrue, _i32(honest[BAD_TENSOR], BAD_ELEMENT), yLie, _i32(claimed[BAD_TENSOR], BAD_ELEMENT));
    }

    int256 internal honestInit_;

    function _honestInit() internal view returns (int256) {
        return honestInit_;
    }

    /// @dev A total near the true one (one field moved) whose element differs: LayerNorm d_i, Softmax S.
    function _nearLie(bool softmax) internal view returns (int256 lie) {
        bool found;
        (found, lie) = _tryNearLie(softmax);
        if (!found) revert("no lie");
    }

    /// @dev {_nearLie}, or found = false when no nearby total changes the element (e.g. a LayerNorm element whose
    /// gamma is so small, or whose output so saturated, that moving its own d by up to ±256 leaves it as it is: there
    /// is then no lie to catch at that element, so a fuzz case with such a row is discarded, not failed).
    function _tryNearLie(bool softmax) internal view returns (bool found, int256 lie) {
        int256 truth = _seq(init, n);
        int256 y = rv.finish(truth);
        if (softmax) {
            // S shrunk by 2^j (the element grows), with the element's own entry as is, then moved to the max;
            int256 S = truth & (2 ** 64 - 1);
            int256 own = _own(truth);
            int256 mx = truth >> 192;
            for (uint256 j = 1; j < 120; ++j) {
                int256 moved = j < 60 ? int256(0) : mx - own;
                lie = truth - S + (S >> (j % 60 + 1)) + moved * F2;
                if (_differs(lie, y)) return (true, lie);
                // or S grown (the element shrinks: a saturated 127 only moves this way)
                if (j < 24 && _differs(lie = truth + S * int256(2 ** j - 1), y)) return (true, lie);
            }
        } else {
            // LayerNorm: the element's own d moved
            for (int256 k = 1; k < 512; ++k) {
                lie = truth + (k % 2 == 0 ? k / 2 : -(k + 1) / 2) * F2;
                if (_differs(lie, y)) return (true, lie);
            }
        }
        return (false, 0);
    }

    function _differs(int256 lie, int256 y) internal view returns (bool) {
        try rv.finish(lie) returns (int256 v) {
            return v != y;
        } catch {
            return false;
        }
    }

    // ------------------------------------------------------------------ playing

    function _toSums() internal returns (uint256 gameId) {
        gameId = _open();
        _revealRoots(gameId);
        _disputeTensor(gameId, BAD_TENSOR);
        _revealTensor(gameId);
        _bisectAll(gameId, 0);
        (DisputeGame.LeafChoice memory leaf, uint256 e) = _leafChoice(gameId, 0, 0);
        assertEq(e, BAD_ELEMENT, "e");
        vm.prank(challenger);
        dg.openSums(gameId, leaf);
    }

    /// @dev The challenger's part: the first whose right end differs from its own sequence from the claimant's A(0)
    /// (`a0`), or a random one.
    function _choose(DisputeGame.SumState memory st, int256[] memory p, int256 sHi, uint256 round, int256 a0)
        internal
        view
        returns (uint256 index)
    {
        if (randomPicks) return uint256(keccak256(abi.encode(pickSeed, round))) % arity;
        index = arity - 1;
        for (uint256 i; i < arity; ++i) {
            int256 right = i == arity - 1 ? sHi : p[i];
            if (right != _seq(a0, st.lo + (st.hi - st.lo) * (i + 1) / arity)) return i;
        }
    }

    int256 internal a0_; // the A(0) the claimant's total gives (the challenger's sequence starts there)

    /// @dev Plays the sub-game from revealSumTotal to sumStep; returns the re-added range.
    function _play(uint256 gameId) internal returns (uint256 from, uint256 to) {
        (OneStep memory step,) = _step(gameId, BAD_ELEMENT);
        int256 total = _val(n);
        int256[] memory p0 = _pts(0, n);
        vm.prank(claimant);
        dg.revealSumTotal(gameId, step, total, p0);
        // the challenger bisects against its own run from the A(0) the claimant's total gives
        a0_ = rv.initOf(total);
        for (uint256 round;; ++round) {
            bool done;
            (done, from, to) = _round(gameId, round);
            if (done) return (from, to);
        }
    }

    /// @dev One challenger move (pickSum + the claimant's revealSums, or the final sumStep).
    function _round(uint256 gameId, uint256 round) internal returns (bool done, uint256 from, uint256 to) {
        DisputeGame.SumState memory st = dg.sumState(gameId);
        int256[] memory p = _pts(st.lo, st.hi);
        (int256 a, int256 b) = (_val(st.lo), _val(st.hi));
        uint256 index = _choose(st, p, b, round, a0_);
        from = st.lo + (st.hi - st.lo) * index / arity;
        to = st.lo + (st.hi - st.lo) * (index + 1) / arity;
        if (_phase(gameId) == DisputeGame.Phase.AwaitSumStep) {
            (OneStep memory step, DisputeGame.InputRoots memory ins) = _step(gameId, BAD_ELEMENT);
            vm.prank(challenger);
            dg.sumStep(gameId, p, index, a, b, step, ins);
            return (true, from, to);
        }
        vm.prank(challenger);
        dg.pickSum(gameId, p, index, a, b);
        (a, b) = (_val(from), _val(to));
        p = _pts(from, to);
        vm.prank(claimant);
        dg.revealSums(gameId, a, b, p);
    }

    function _assertCaught(uint256 gameId, uint256 from, uint256 to) internal view {
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "challenger won");
        assertLe(to - from, chunk, "chunk size");
        assertLe(from, enter, "from");
        assertGe(to, enter + 1, "to");
    }

    // ------------------------------------------------------------------ tests

    /// forge-config: default.fuzz.runs = 32
    function testFuzz_rowSums_layerNormLiarLosesAtItsChunk(uint256 len, uint256 enter_, uint256 seed) public {
        _layerNormRow(bound(len, 1, 4096), seed);
        honestInit_ = 0;
        (bool found, int256 lie) = _tryNearLie(false);
        vm.assume(found);
        _lieWith(lie, bound(enter_, 0, n - 1));
        uint256 gameId = _toSums();
        (uint256 from, uint256 to) = _play(gameId);
        _assertCaught(gameId, from, to);
    }

    /// forge-config: default.fuzz.runs = 32
    function testFuzz_rowSums_softmaxLiarLosesAtItsChunk(uint256 len, uint256 enter_, uint256 seed) public {
        _softmaxRow(bound(len, 1, 4096), seed);
        honestInit_ = init;
        (bool found, int256 lie) = _tryNearLie(true);
        vm.assume(found);
        _lieWith(lie, bound(enter_, 0, n - 1));
        uint256 gameId = _toSums();
        (uint256 from, uint256 to) = _play(gameId);
        _assertCaught(gameId, from, to);
    }

    function _liar4096(bool softmax, uint256 enter_) internal {
        if (softmax) _softmaxRow(4096, 12);
        else _layerNormRow(4096, 11);
        honestInit_ = init;
        _lieWith(_nearLie(softmax), enter_);
        uint256 gameId = _toSums();
        (uint256 from, uint256 to) = _play(gameId);
        _assertCaught(gameId, from, to);
    }

    function test_rowSums_4096_layerNormLiarInTheTotal() public {
        _liar4096(false, 4095);
    }

    function test_rowSums_4096_layerNormLiarFromTheFirstTerm() public {
        _liar4096(false, 0);
    }

    function test_rowSums_4096_softmaxLiarInTheTotal() public {
        _liar4096(true, 4095);
    }

    function test_rowSums_4096_softmaxLiarFromTheFirstTerm() public {
        _liar4096(true, 0);
    }

    /// forge-config: default.fuzz.runs = 32
    /// @dev A claimant stating a Softmax max one above the true one: its sequence has no entry equal to it, so its
    /// total must add an "at max" count at some term that has none; that term's chunk exposes it.
    function testFuzz_rowSums_softmaxMaxTooHighLoses(uint256 len, uint256 enter_, uint256 seed) public {
        _softmaxRow(bound(len, 1, 4096), seed);
        honestInit_ = init;
        int256 mx = init / F3;
        vm.assume(mx < 127);
        init = (mx + 1) * F3;
        int256 truth = _seq(init, n);
        // the unpatched total is refused outright
        vm.expectRevert();
        rv.finish(truth);
        _wrongMax(truth + F1, enter_);
    }

    /// forge-config: default.fuzz.runs = 32
    /// @dev A claimant stating a Softmax max one below the true one: entries above it add an "above" count, which
    /// its total must drop somewhere; that chunk exposes it.
    function testFuzz_rowSums_softmaxMaxTooLowLoses(uint256 len, uint256 enter_, uint256 seed) public {
        _softmaxRow(bound(len, 1, 4096), seed);
        honestInit_ = init;
        int256 mx = init / F3;
        vm.assume(mx > -128);
        init = (mx - 1) * F3;
        int256 truth = _seq(init, n);
        int256 counts = (truth >> 64) & (2 ** 64 - 1);
        int256 above = counts >> 32;
        assertTrue(above > 0, "some entry is above the stated max");
        int256 lie = truth - above * 2 ** 32 * F1;
        if (counts & (2 ** 32 - 1) == 0) lie += F1;
        int256 own = _own(truth);
        if (own > mx - 1) lie -= (own - (mx - 1)) * F2; // the element's own entry must not exceed the stated max
        _wrongMax(lie, enter_);
    }

    function _wrongMax(int256 lie, uint256 enter_) internal {
        // a denominator the finish accepts (every entry may be above a stated max that is too low)
        int256 S = lie & (2 ** 64 - 1);
        if (S == 0) lie += 1;
        // the claimed element is whatever the lie finishes to; the honest one is the true row's
        int256 yTrue = rv.finish(_seq(honestInit_, n));
        if (rv.finish(lie) == yTrue) lie += (lie & (2 ** 64 - 1)) / 2 + 1; // move S so the elements differ
        vm.assume(rv.finish(lie) != yTrue);
        _lieWith(lie, bound(enter_, 0, n - 1));
        uint256 gameId = _toSums();
        (uint256 from, uint256 to) = _play(gameId);
        _assertCaught(gameId, from, to);
    }

    /// forge-config: default.fuzz.runs = 32
    function testFuzz_rowSums_honestClaimantWinsAgainstRandomPicks(uint256 len, uint256 seed, bool softmax) public {
        if (softmax) _softmaxRow(bound(len, 1, 4096), seed);
        else _layerNormRow(bound(len, 1, 4096), seed);
        honestInit_ = init;
        (delta, enter) = (0, n);
        // the claimant's element is the true one here (the challenger's trace is the wrong one)
        int256 yTrue = rv.finish(_seq(init, n));
        rv.setLabels(yTrue, _i32(claimed[BAD_TENSOR], BAD_ELEMENT), type(int256).min, 0);
        (randomPicks, pickSeed) = (true, seed);
        uint256 gameId = _toSums();
        _play(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ClaimantWon), "claimant won");
    }

    function test_rowSums_silenceLosesOnTime() public {
        _layerNormRow(300, 5);
        uint256 gameId = _toSums();
        vm.warp(block.timestamp + CLOCK + 1);
        dg.timeout(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ChallengerWon), "silent claimant lost");

        setUp();
        _softmaxRow(300, 6);
        honestInit_ = init;
        _lieWith(_nearLie(true), 100);
        gameId = _toSums();
        (OneStep memory step,) = _step(gameId, BAD_ELEMENT);
        int256 total = _val(n);
        int256[] memory p0 = _pts(0, n);
        vm.prank(claimant);
        dg.revealSumTotal(gameId, step, total, p0);
        vm.warp(block.timestamp + CLOCK + 1);
        dg.timeout(gameId);
        assertEq(uint8(dg.outcome(gameId)), uint8(IDisputeResolver.Outcome.ClaimantWon), "silent challenger lost");
    }

    /// @dev Field 2 of a packed accumulator (the element's own entry), as ReduceOps unpacks it.
    function _own(int256 a) internal pure returns (int256) {
        a = (a - int256(int64(uint64(uint256(a))))) >> 64;
        a = (a - int256(int64(uint64(uint256(a))))) >> 64;
        return int256(int64(uint64(uint256(a))));
    }

    function test_rowSums_softmaxTotalWithAWrongMaxIsRefused() public {
        _softmaxRow(64, 7);
        honestInit_ = init;
        int256 mx = init / F3;
        int256 high = _seq((mx + 1) * F3, n);
        uint256 gameId = _toSums();
        (OneStep memory step,) = _step(gameId, BAD_ELEMENT);
        vm.expectRevert(abi.encodeWithSelector(VerifierSoftmaxMax.selector, mx + 1, int256(0), int256(0), _own(high)));
        vm.prank(claimant);
        dg.revealSumTotal(gameId, step, high, new int256[](arity - 1));
    }
}
