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

    /// @dev clamp(yZero + roundDiv(Σ_{h,w} (x − xZero), H·W), out dtype range), x [1,H,W,C].
    /// @inheritdoc IReductionFamily
    /// @dev GlobalAveragePool only (docs/ops.md §Partial sums): T = H·W, A(0) = 0, finish = clamp(yZero + roundDiv(acc, H·W)).
    function reductionOpen(NodeHeader calldata h, WordsProof[] calldata, uint256, int256 total)
        external
        pure
        returns (uint256 terms, int256 init, int256 value)
    {
        if (h.op != OP_GLOBAL_AVERAGE_POOL) revert VerifierUnsupportedOp(h.op);
        uint32[] calldata xs = h.inputMeta[0].shape;
        terms = uint256(xs[1]) * xs[2];
        uint8 yt = h.outputMeta.dtype;
        value = OpLib.clamp(h.attrReq("yZero") + OpLib.roundDiv(total, int256(terms)), OpLib.dmin(yt), OpLib.dmax(yt));
        init = 0;
    }

    /// @inheritdoc IReductionFamily
    /// @dev GlobalAveragePool: term t = x[0][t / W][t % W][c] − xZero (t = h·W + w).
    function reductionPartial(
        NodeHeader calldata h,
        WordsProof[] calldata ins,
        WordsProof[] calldata,
        uint256 c,
        uint256 from,
        uint256 to
    ) external pure returns (int256) {
        if (h.op != OP_GLOBAL_AVERAGE_POOL) revert VerifierUnsupportedOp(h.op);
        _gapRange(h, from, to);
        OpLib.Reader memory x = h.inReader(ins, 0);
        return _gapSum(h, x, c, from, to);
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
    /// t = roundDiv(gamma_i·c_i, R); y = clamp(yZero + rshr(t + beta_i, shift), out dtype range).
    function _layerNorm(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        (int256 ci, int256 R, uint256 i) = _lnStats(h, ins, o);
        return _lnOut(h, ps, ci, R, i);
    }

    /// @dev (c_i, R, i) of the row holding o, the row read once.
    function _lnStats(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o)
        private
        pure
        returns (int256 ci, int256 R, uint256 i)
    {
        int256[] memory x;
        (x, i) = _row(h, ins, o);
        (ci, R) = _normStats(x, i, h.attrReq("xZero"), h.attrReq("eps"));
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

    /// @dev c_i = N·d_i − T and R = max(isqrt(floor(Σ c² / N) + eps), 1) for the row x.
    function _normStats(int256[] memory x, uint256 i, int256 xZero, int256 eps) private pure returns (int256 ci, int256 R) {
        int256 N = int256(x.length);
        int256 T;
        for (uint256 k; k < x.length; ++k) T += x[k] - xZero;
        int256 Q;
        for (uint256 k; k < x.length; ++k) {
            int256 c = N * (x[k] - xZero) - T;
            Q += c * c;
        }
        R = OpLib.isqrt(Q / N + eps); // Q ≥ 0, N > 0: / is the floor
        if (R < 1) R = 1;
        ci = N * (x[i] - xZero) - T;
    }
}
