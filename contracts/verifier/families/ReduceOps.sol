// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../../interfaces/IOneStepVerifier.sol";
import {
    NodeHeader,
    IOpFamily,
    IReductionFamily,
    VerifierSumRange,
    VerifierUnsupportedOp,
    VerifierInvalidAttr,
    VerifierSoftmaxMax,
    OP_MAX_POOL,
    OP_AVERAGE_POOL,
    OP_GLOBAL_AVERAGE_POOL,
    OP_SOFTMAX,
    OP_LAYER_NORM
} from "../VerifierTypes.sol";
import {OpLib} from "../lib/OpLib.sol";

/// @title ReduceOps
/// @notice Ops whose output element reduces a window or a row (docs/ops.md): MaxPool, AveragePool,
/// GlobalAveragePool (NHWC), Softmax and LayerNorm (last axis).
contract ReduceOps is IOpFamily, IReductionFamily {
    using OpLib for NodeHeader;

    /// @dev One pooling window: output (oh, ow, c) of x [1,H,W,C].
    struct Win {
        uint256 H;
        uint256 W;
        uint256 C;
        uint256 KH;
        uint256 KW;
        uint256 oh;
        uint256 ow;
        uint256 c;
        uint256 sh;
        uint256 sw;
        uint256 dh;
        uint256 dw;
        uint256 pt;
        uint256 pl;
        int256 xZero;
        int256 best;
        int256 sum;
        uint256 valid;
    }

    /// @inheritdoc IOpFamily
    function compute(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        external
        pure
        returns (int256)
    {
        uint8 op = h.op;
        if (op == OP_MAX_POOL || op == OP_AVERAGE_POOL) return _pool(h, ins, o, op == OP_MAX_POOL);
        if (op == OP_GLOBAL_AVERAGE_POOL) return _globalAvg(h, ins, o);
        if (op == OP_SOFTMAX) return _softmax(h, ins, ps, o);
        if (op == OP_LAYER_NORM) return _layerNorm(h, ins, ps, o);
        revert VerifierUnsupportedOp(op);
    }

    /// @dev MaxPool: max over window positions inside the input. AveragePool (no dilation):
    /// clamp(yZero + roundDiv(Σ (x − xZero), count), out dtype range), count = inside positions or KH·KW.
    function _pool(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o, bool isMax) private pure returns (int256) {
        Win memory w = _win(h, o, isMax);
        if (!isMax) w.xZero = h.attrReq("xZero");
        _scan(h.inReader(ins, 0), h.inputMeta[0].dtype, w);
        if (isMax) return w.best;
        uint256 count = h.attr("countIncludePad", 0) == 1 ? w.KH * w.KW : w.valid;
        if (count == 0) revert VerifierInvalidAttr("kernel");
        uint8 yt = h.outputMeta.dtype;
        return OpLib.clamp(h.attrReq("yZero") + OpLib.roundDiv(w.sum, int256(count)), OpLib.dmin(yt), OpLib.dmax(yt));
    }

    function _win(NodeHeader calldata h, uint256 o, bool isMax) private pure returns (Win memory w) {
        uint32[] calldata xs = h.inputMeta[0].shape;
        (w.H, w.W, w.C) = (xs[1], xs[2], xs[3]);
        uint256 OW = h.outputMeta.shape[2];
        w.c = o % w.C;
        w.ow = (o / w.C) % OW;
        w.oh = o / (w.C * OW);
        w.KH = h.uAttrAt("kernel", 2, 0, -1, 1);
        w.KW = h.uAttrAt("kernel", 2, 1, -1, 1);
        w.sh = h.uAttrAt("strides", 2, 0, 1, 1);
        w.sw = h.uAttrAt("strides", 2, 1, 1, 1);
        w.pt = h.uAttrAt("pads", 4, 0, 0, 0);
        w.pl = h.uAttrAt("pads", 4, 1, 0, 0);
        (w.dh, w.dw) = (1, 1);
        if (isMax) {
            w.dh = h.uAttrAt("dilations", 2, 0, 1, 1);
            w.dw = h.uAttrAt("dilations", 2, 1, 1, 1);
        }
    }

    /// @dev Scans the window: best = max (from the dtype minimum), sum of x − xZero, valid = count.
    function _scan(OpLib.Reader memory xp, uint8 dt, Win memory w) private pure {
        w.best = OpLib.dmin(dt);
        for (uint256 kh; kh < w.KH; ++kh) {
            uint256 ihp = w.oh * w.sh + kh * w.dh;
            if (ihp < w.pt || ihp - w.pt >= w.H) continue;
            for (uint256 kw; kw < w.KW; ++kw) {
                uint256 iwp = w.ow * w.sw + kw * w.dw;
                if (iwp < w.pl || iwp - w.pl >= w.W) continue;
                int256 x = OpLib.get(xp, ((ihp - w.pt) * w.W + iwp - w.pl) * w.C + w.c);
                if (x > w.best) w.best = x;
                w.sum += x - w.xZero;
                ++w.valid;
            }
        }
    }

    /// @inheritdoc IReductionFamily
    /// @dev docs/ops.md §Partial sums. GlobalAveragePool: T = H·W, A(0) = 0, finish = clamp(yZero + roundDiv(acc, H·W)).
    /// LayerNorm: T = N, A(0) = 0, acc = pack(Σd, Σd², d_i), finish = the element from T = Σd, floor(Σc²/N) = N·Σd² − T².
    /// Softmax: T = L, A(0) = pack(0, 0, 0, mx) with mx the row max `total` states, finish = the element from S and
    /// e_i = exp[mx − x_i] once the total's counts show mx is the max (else VerifierSoftmaxMax).
    function reductionOpen(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, int256 total)
        external
        pure
        returns (uint256 terms, int256 init, int256 value)
    {
        uint8 op = h.op;
        if (op == OP_LAYER_NORM) {
            uint256 i;
            (terms, i) = _rowLength(h, o);
            (int256 T, int256 Q, int256 d,) = _unpack(total);
            value = _lnFinish(h, ps, i, int256(terms), T, Q, d);
        } else if (op == OP_SOFTMAX) {
            (terms,) = _rowLength(h, o);
            int256 mx;
            (value, mx) = _softmaxFinish(h, ps, total);
            init = mx * F3;
        } else if (op == OP_GLOBAL_AVERAGE_POOL) {
            uint32[] calldata xs = h.inputMeta[0].shape;
            terms = uint256(xs[1]) * xs[2];
            uint8 yt = h.outputMeta.dtype;
            value = OpLib.clamp(h.attrReq("yZero") + OpLib.roundDiv(total, int256(terms)), OpLib.dmin(yt), OpLib.dmax(yt));
        } else {
            revert VerifierUnsupportedOp(op);
        }
    }

    /// @inheritdoc IReductionFamily
    /// @dev GlobalAveragePool: term t = x[0][t / W][t % W][c] − xZero (t = h·W + w). LayerNorm: term t =
    /// pack(d_t, d_t², [t = i]·d_t), d_t = x[row][t] − xZero. Softmax (mx read from `left`): term t =
    /// pack(e_t, [x_t = mx] + 2^32·[x_t > mx], [t = i]·x_t), e_t = 0 if x_t > mx or (masked, x_t = −128 ≠ mx), else
    /// exp[mx − x_t].
    function reductionPartial(
        NodeHeader calldata h,
        WordsProof[] calldata ins,
        WordsProof[] calldata ps,
        uint256 o,
        uint256 from,
        uint256 to,
        int256 left
    ) external pure returns (int256) {
        uint8 op = h.op;
        if (op == OP_LAYER_NORM) return _lnPartial(h, ins, o, from, to);
        if (op == OP_SOFTMAX) {
            (int256[] memory x, uint256 k) = _rowPart(h, ins, o, from, to);
            return _softmaxTerms(h, ps, x, k, left);
        }
        if (op != OP_GLOBAL_AVERAGE_POOL) revert VerifierUnsupportedOp(op);
        _gapRange(h, from, to);
        OpLib.Reader memory x = h.inReader(ins, 0);
        return _gapSum(h, x, o, from, to);
    }

    // ------------------------------------------------------------------ packed row accumulators

    /// @dev Field weights of a packed accumulator: acc = f0 + f1·2^64 + f2·2^128 + f3·2^192, each field a signed
    /// integer (docs/ops.md §Partial sums). Packing is linear, so a sum of packed terms is the packed sum of the
    /// fields; an honest total's fields are far inside 64 bits (LayerNorm: |Σd| < 2^21, Σd² < 2^29 for a row of
    /// 4096; Softmax: S < 2^51, counts < 2^21 each), so it unpacks to its fields exactly.
    int256 private constant F1 = 2 ** 64;
    int256 private constant F2 = 2 ** 128;
    int256 private constant F3 = 2 ** 192;

    /// @dev The four signed fields of a packed accumulator (each field the low 64 bits, sign-extended, of what is
    /// left once the fields below are removed; the top one takes the rest).
    function _unpack(int256 a) private pure returns (int256 f0, int256 f1, int256 f2, int256 f3) {
        f0 = _low(a);
        // Why unchecked: a − f0 clears the low 64 bits exactly, and for an honest total never wraps; a claimant's
        // out-of-range total only unpacks to other fields, which the checks after it compare like any other value.
        unchecked {
            a = (a - f0) >> 64;
            f1 = _low(a);
            a = (a - f1) >> 64;
            f2 = _low(a);
            f3 = (a - f2) >> 64;
        }
    }

    /// @dev The low 64 bits of `a` as a signed integer.
    function _low(int256 a) private pure returns (int256) {
        return int256(int64(uint64(uint256(a))));
    }

    /// @dev (row length, position of o in its row) over the last axis.
    function _rowLength(NodeHeader calldata h, uint256 o) private pure returns (uint256 n, uint256 i) {
        uint32[] calldata xs = h.inputMeta[0].shape;
        n = xs[xs.length - 1];
        i = o % n;
    }

    /// @dev Elements [from, to) of the row holding o, and k = the position of o among them (x.length if o's
    /// position in the row is outside [from, to)).
    function _rowPart(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o, uint256 from, uint256 to)
        private
        pure
        returns (int256[] memory x, uint256 k)
    {
        (uint256 n, uint256 i) = _rowLength(h, o);
        // INVARIANT: the terms are inside the row (from ≤ to ≤ its length).
        if (from > to || to > n) revert VerifierSumRange(from, to, n);
        x = OpLib.gather(h.inReader(ins, 0), o - i + from, 1, to - from);
        k = i >= from && i < to ? i - from : x.length;
    }

    /// @dev pack(Σ d_t, Σ d_t², [i ∈ range]·d_i) over terms [from, to) of the LayerNorm row holding o.
    function _lnPartial(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o, uint256 from, uint256 to)
        private
        pure
        returns (int256)
    {
        (int256[] memory x, uint256 k) = _rowPart(h, ins, o, from, to);
        int256 xZero = h.attrReq("xZero");
        (int256 T, int256 Q) = _moments(x, xZero);
        int256 own = k < x.length ? x[k] - xZero : int256(0);
        return T + Q * F1 + own * F2;
    }

    /// @dev Σ (x − xZero) and Σ (x − xZero)² of a run of the row.
    function _moments(int256[] memory x, int256 xZero) private pure returns (int256 T, int256 Q) {
        for (uint256 k; k < x.length; ++k) {
            int256 d = x[k] - xZero;
            T += d;
            Q += d * d;
        }
    }

    /// @dev The LayerNorm element at row position i from the row's T = Σd, Q = Σd² and d_i (docs/ops.md §LayerNorm):
    /// floor(Σ c² / N) = N·Q − T² exactly (Σ c² = N²·Q − N·T²), so V = N·Q − T² + eps, R = max(isqrt(V), 1).
    function _lnFinish(NodeHeader calldata h, WordsProof[] calldata ps, uint256 i, int256 N, int256 T, int256 Q, int256 d)
        private
        pure
        returns (int256)
    {
        int256 R = OpLib.isqrt(N * Q - T * T + h.attrReq("eps"));
        if (R < 1) R = 1;
        return _lnOut(h, ps, N * d - T, R, i);
    }

    /// @dev pack(Σ e_t, Σ [x_t = mx] + 2^32·[x_t > mx], x_k if k < x.length) over a run x of a Softmax row, mx the top
    /// field of `left` (masked −128 entries add e = 0 unless mx = −128).
    function _softmaxTerms(NodeHeader calldata h, WordsProof[] calldata ps, int256[] memory x, uint256 k, int256 left)
        private
        pure
        returns (int256)
    {
        (,,, int256 mx) = _unpack(left);
        OpLib.Reader memory ep = h.parReader(ps, h.paramReq("exp"));
        bool mask = h.attr("masked", 0) == 1 && mx != -128;
        int256 S;
        int256 counts;
        for (uint256 t; t < x.length; ++t) {
            int256 v = x[t];
            if (v > mx) {
                counts += 2 ** 32;
                continue;
            }
            if (v == mx) ++counts;
            if (!(mask && v == -128)) S += OpLib.get(ep, uint256(mx - v));
        }
        int256 own = k < x.length ? x[k] : int256(0);
        return S + counts * F1 + own * F2;
    }

    /// @dev e_i = 0 for a masked −128 entry of a row whose max is not −128, else exp[mx − x_i].
    function _expOf(NodeHeader calldata h, WordsProof[] calldata ps, int256 mx, int256 own) private pure returns (int256) {
        if (h.attr("masked", 0) == 1 && own == -128 && mx != -128) return 0;
        return h.par(ps, h.paramReq("exp"), uint256(mx - own));
    }

    /// @dev Reverts unless the counts of a Softmax total show `mx` is the row max and x_i an i8 not above it.
    function _checkMax(int256 mx, int256 counts, int256 own) private pure {
        int256 atMax = counts & (2 ** 32 - 1);
        int256 above = counts >> 32;
        // INVARIANT: the stated max is the row's: some entry equals it, none exceeds it, and x_i is an i8 below it.
        if (atMax == 0 || above != 0 || mx > 127 || own < -128 || own > mx) {
            revert VerifierSoftmaxMax(mx, atMax, above, own);
        }
    }

    /// @dev The Softmax element from a total pack(S, atMax + 2^32·above, x_i, mx): checks that mx is the row max
    /// (atMax ≥ 1, above = 0) and x_i ≤ mx, then y = clamp(−128 + roundDiv(e_i·256, S), −128, 127).
    function _softmaxFinish(NodeHeader calldata h, WordsProof[] calldata ps, int256 total)
        private
        pure
        returns (int256 value, int256 mx)
    {
        (int256 S, int256 counts, int256 own, int256 m) = _unpack(total);
        mx = m;
        _checkMax(mx, counts, own);
        int256 e = _expOf(h, ps, mx, own);
        // INVARIANT: the denominator is positive (it holds exp[0] ≥ 1 for the max).
        if (S <= 0) revert VerifierInvalidAttr("exp");
        value = OpLib.clamp(-128 + OpLib.roundDiv(e * 256, S), -128, 127);
    }

    function _gapRange(NodeHeader calldata h, uint256 from, uint256 to) private pure {
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint256 HW = uint256(xs[1]) * xs[2];
        if (from > to || to > HW) revert VerifierSumRange(from, to, HW);
    }

    function _gapSum(NodeHeader calldata h, OpLib.Reader memory x, uint256 c, uint256 from, uint256 to)
        private
        pure
        returns (int256)
    {
        uint256 C = h.inputMeta[0].shape[3];
        return OpLib.sum(x, from * C + c, C, to - from) - int256(to - from) * h.attrReq("xZero");
    }

    function _globalAvg(NodeHeader calldata h, WordsProof[] calldata ins, uint256 c) private pure returns (int256) {
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint256 HW = uint256(xs[1]) * xs[2];
        int256 sum = OpLib.sum(h.inReader(ins, 0), c, xs[3], HW) - int256(HW) * h.attrReq("xZero");
        uint8 yt = h.outputMeta.dtype;
        return OpLib.clamp(h.attrReq("yZero") + OpLib.roundDiv(sum, int256(HW)), OpLib.dmin(yt), OpLib.dmax(yt));
    }

    /// @dev Reads the whole last-axis row holding element o: (row values, position of o in the row).
    function _row(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o)
        private
        pure
        returns (int256[] memory x, uint256 i)
    {
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint256 L = xs[xs.length - 1];
        uint256 base = o - (o % L);
        i = o % L;
        x = OpLib.gather(h.inReader(ins, 0), base, 1, L);
    }

    /// @dev mx = max x; e_k = 0 if masked and x_k = −128 ≠ mx, else exp[mx − x_k]; S = Σ e;
    /// y = clamp(−128 + roundDiv(e_i·256, S), −128, 127).
    function _softmax(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        OpLib.Reader memory ep = h.parReader(ps, h.paramReq("exp"));
        bool masked = h.attr("masked", 0) == 1;
        (int256[] memory x, uint256 i) = _row(h, ins, o);
        return _softmaxOf(ep, masked, x, i);
    }

    function _softmaxOf(OpLib.Reader memory ep, bool masked, int256[] memory x, uint256 i) private pure returns (int256) {
        (int256 S, int256 ei) = _expSum(ep, x, i, masked);
        if (S <= 0) revert VerifierInvalidAttr("exp");
        return OpLib.clamp(-128 + OpLib.roundDiv(ei * 256, S), -128, 127);
    }

    /// @dev S = Σ_k e_k and e_i, with e_k = 0 for masked −128 entries, else exp[mx − x_k].
    function _expSum(
        OpLib.Reader memory ep,
        int256[] memory x,
        uint256 i,
        bool masked
    ) private pure returns (int256 S, int256 ei) {
        int256 mx = -128;
        for (uint256 k; k < x.length; ++k) if (x[k] > mx) mx = x[k];
        bool mask = masked && mx != -128;
        for (uint256 k; k < x.length; ++k) {
            int256 e = (mask && x[k] == -128) ? int256(0) : OpLib.get(ep, uint256(mx - x[k]));
            S += e;
            if (k == i) ei = e;
        }
    }

    /// @dev d = x − xZero; T = Σ d; c = N·d − T; V = floor(Σ c² / N) + eps; R = max(isqrt(V), 1);
    /// t = roundDiv(gamma_i·c_i, R); y = clamp(yZero + rshr(t + beta_i, shift), out dtype range). One pass over the
    /// row (Σ d and Σ d²), finished as the partial-sum total is (_lnFinish).
    function _layerNorm(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        (int256[] memory x, uint256 i) = _row(h, ins, o);
        int256 xZero = h.attrReq("xZero");
        (int256 T, int256 Q) = _moments(x, xZero);
        return _lnFinish(h, ps, i, int256(x.length), T, Q, x[i] - xZero);
    }

    /// @dev y = clamp(yZero + rshr(roundDiv(gamma_i·c_i, R) + beta_i, shift), out dtype range).
    function _lnOut(NodeHeader calldata h, WordsProof[] calldata ps, int256 ci, int256 R, uint256 i)
        private
        pure
        returns (int256)
    {
        int256 t = OpLib.roundDiv(h.par(ps, h.paramReq("gamma"), i) * ci, R);
        int256 y = h.attrReq("yZero") + OpLib.rshr(t + h.par(ps, h.paramReq("beta"), i), h.attrReq("shift"), "shift");
        uint8 yt = h.outputMeta.dtype;
        return OpLib.clamp(y, OpLib.dmin(yt), OpLib.dmax(yt));
    }
}
