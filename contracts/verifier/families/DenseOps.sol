// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../../interfaces/IOneStepVerifier.sol";
import {
    NodeHeader,
    Operand,
    IOpFamily,
    IReductionFamily,
    VerifierSumRange,
    VerifierUnsupportedOp,
    VerifierInvalidAttr,
    OP_LINEAR,
    OP_CONV,
    OP_MAT_MUL,
    OP_MAT_MUL_INTEGER,
    OP_CONV_INTEGER,
    OP_QLINEAR_MAT_MUL,
    OP_QLINEAR_CONV
} from "../VerifierTypes.sol";
import {OpLib} from "../lib/OpLib.sol";

/// @title DenseOps
/// @notice Accumulating ops (docs/ops.md): Linear, Conv (NHWC), MatMul, MatMulInteger, ConvInteger (NCHW),
/// QLinearMatMul, QLinearConv (NCHW). One output element = one dot product over proven elements; its accumulator is
/// also exposed term by term (IReductionFamily, docs/ops.md §Partial sums) for the dispute game's partial-sum bisection.
contract DenseOps is IOpFamily, IReductionFamily {
    using OpLib for NodeHeader;

    /// @dev Geometry of one 2-D convolution output element (NHWC or NCHW).
    struct ConvGeo {
        uint256 C;
        uint256 H;
        uint256 W;
        uint256 KH;
        uint256 KW;
        uint256 Cg;
        uint256 oh;
        uint256 ow;
        uint256 co;
        uint256 n;
        uint256 c0;
        uint256 sh;
        uint256 sw;
        uint256 dh;
        uint256 dw;
        uint256 pt;
        uint256 pl;
        bool wParam;
        uint256 jw;
        int256 xZero;
        int256 wZero;
        uint8 xdt;
        uint8 wdt;
    }

    /// @dev One matrix-product dot: a[aOff + k] and b[bOff + k·bStep] for k < K; row i, column j.
    struct Dot {
        uint256 M;
        uint256 K;
        uint256 N;
        uint256 i;
        uint256 j;
        uint256 aOff;
        uint256 bOff;
        uint256 bStep;
        bool bParam;
        uint256 bIdx;
        int256 aZero;
        int256 bZero;
    }

    /// @inheritdoc IOpFamily
    function compute(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        external
        pure
        returns (int256)
    {
        uint8 op = h.op;
        if (op == OP_LINEAR) return _linear(h, ins, ps, o);
        if (op == OP_CONV) return _conv(h, ins, ps, o);
        if (op == OP_MAT_MUL) return _matmul(h, ins, ps, o);
        if (op == OP_MAT_MUL_INTEGER || op == OP_QLINEAR_MAT_MUL) return _onnxMatMul(h, ins, ps, o, op == OP_QLINEAR_MAT_MUL);
        if (op == OP_CONV_INTEGER || op == OP_QLINEAR_CONV) return _convNchw(h, ins, ps, o, op == OP_QLINEAR_CONV);
        revert VerifierUnsupportedOp(op);
    }

    /// @inheritdoc IReductionFamily
    function reductionOpen(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, int256 total)
        external
        pure
        returns (uint256, int256, int256)
    {
        uint8 op = h.op;
        if (op == OP_LINEAR) return _openLinear(h, ps, o, total);
        if (op == OP_CONV) return _openConv(h, ps, o, total);
        if (op == OP_MAT_MUL) return _openMatMul(h, o, total);
        if (op == OP_MAT_MUL_INTEGER || op == OP_QLINEAR_MAT_MUL) return _openOnnxMatMul(h, ps, o, total, op == OP_QLINEAR_MAT_MUL);
        if (op == OP_CONV_INTEGER || op == OP_QLINEAR_CONV) return _openConvNchw(h, ps, o, total, op == OP_QLINEAR_CONV);
        revert VerifierUnsupportedOp(op);
    }

    function _openLinear(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, int256 total)
        private
        pure
        returns (uint256, int256, int256)
    {
        uint256 jw = h.paramReq("weight");
        uint256 j = o % h.params[jw].shape[0];
        return (h.params[jw].shape[1], _biasOf(h, ps, j), _requantOut(h, ps, total, j));
    }

    function _openConv(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, int256 total)
        private
        pure
        returns (uint256, int256, int256)
    {
        ConvGeo memory g = _nhwcGeo(h, h.paramReq("weight"), o);
        return (g.KH * g.KW * g.Cg, _biasOf(h, ps, g.co), _requantOut(h, ps, total, g.co));
    }

    function _openMatMul(NodeHeader calldata h, uint256 o, int256 total) private pure returns (uint256, int256, int256) {
        Dot memory d = _plan(h, h.inputMeta[1].shape, h.attr("transB", 0) == 1, o);
        return (d.K, 0, h.requantAttrs(total));
    }

    function _openOnnxMatMul(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, int256 total, bool q)
        private
        pure
        returns (uint256, int256, int256)
    {
        (bool bParam, uint256 jb) = h.findParam("b"); // no zero points: A(0) and finish do not read them
        Dot memory d = _plan(h, bParam ? h.params[jb].shape : h.inputMeta[1].shape, false, o);
        return (d.K, 0, q ? _qOut(h, ps, total, d.j) : total);
    }

    function _openConvNchw(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, int256 total, bool q)
        private
        pure
        returns (uint256 terms, int256 init, int256 value)
    {
        ConvGeo memory g = _nchwGeo(h, o);
        terms = g.Cg * g.KH * g.KW;
        if (!q) return (terms, 0, total);
        init = h.perChannel(ps, "bias", g.co, 0);
        value = _qOut(h, ps, total, g.co);
    }

    /// @inheritdoc IReductionFamily
    function reductionPartial(
        NodeHeader calldata h,
        WordsProof[] calldata ins,
        WordsProof[] calldata ps,
        uint256 o,
        uint256 from,
        uint256 to,
        int256
    ) external pure returns (int256) {
        uint8 op = h.op;
        Run memory r;
        (r.from, r.to) = (from, to);
        if (op == OP_LINEAR) return _partialLinear(h, ins, ps, o, r);
        if (op == OP_CONV) return _partialConv(h, ins, ps, o, r);
        if (op == OP_MAT_MUL || op == OP_MAT_MUL_INTEGER || op == OP_QLINEAR_MAT_MUL) {
            Dot memory d = _mmRange(h, ps, o, from, to);
            return _mmAcc(h, ins, ps, d);
        }
        if (op == OP_CONV_INTEGER || op == OP_QLINEAR_CONV) return _partialConvNchw(h, ins, ps, o, r);
        revert VerifierUnsupportedOp(op);
    }

    function _matmulPlan(NodeHeader calldata h, uint256 o) private pure returns (Dot memory d) {
        d = _plan(h, h.inputMeta[1].shape, h.attr("transB", 0) == 1, o);
        (d.aZero, d.bZero) = (h.attrReq("aZero"), h.attrReq("bZero"));
    }

    function _partialLinear(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o, Run memory r)
        private
        pure
        returns (int256)
    {
        r.jw = h.paramReq("weight");
        uint256 K = h.params[r.jw].shape[1];
        _range(r.from, r.to, K);
        uint256 N = h.params[r.jw].shape[0];
        r.xo = (o / N) * K + r.from;
        r.wo = (o % N) * K + r.from;
        r.len = r.to - r.from;
        r.xZero = h.attrReq("xZero");
        return _linearAcc(h, ins, ps, r);
    }

    function _partialConv(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o, Run memory r)
        private
        pure
        returns (int256)
    {
        r.jw = h.paramReq("weight");
        r.xZero = h.attrReq("xZero");
        ConvGeo memory g = _nhwcGeo(h, r.jw, o);
        _range(r.from, r.to, g.KH * g.KW * g.Cg);
        return _convRange(h.inReader(ins, 0), h.parReader(ps, r.jw), g, r);
    }

    function _partialConvNchw(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o, Run memory r)
        private
        pure
        returns (int256)
    {
        ConvGeo memory g = _nchwGeo(h, o);
        _range(r.from, r.to, g.Cg * g.KH * g.KW);
        g.xZero = h.perChannel(ps, "xZero", 0, 0);
        g.wZero = h.perChannel(ps, "wZero", g.co, 0);
        OpLib.Reader memory wp = g.wParam ? h.parReader(ps, g.jw) : h.inReader(ins, 1);
        return _convNchwLoop(h.inReader(ins, 0), wp, g, r.from, r.to);
    }

    function _range(uint256 from, uint256 to, uint256 terms) private pure {
        if (from > to || to > terms) revert VerifierSumRange(from, to, terms);
    }

    /// @dev The dot of terms [from, to) of a matrix product: k in [from, to).
    function _mmRange(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o, uint256 from, uint256 to)
        private
        pure
        returns (Dot memory d)
    {
        d = h.op == OP_MAT_MUL ? _matmulPlan(h, o) : _onnxPlan(h, ps, o);
        _range(from, to, d.K);
        d.aOff += from;
        d.bOff += from * d.bStep;
        d.K = to - from;
    }

    /// @dev NHWC Conv terms [from, to) in tap order t = (kh·KW + kw)·Cg + c; a padding tap's terms are 0.
    function _convRange(OpLib.Reader memory x, OpLib.Reader memory w, ConvGeo memory g, Run memory r)
        private
        pure
        returns (int256 acc)
    {
        uint256 wBase = g.co * g.KH * g.KW * g.Cg;
        for (uint256 tap = r.from / g.Cg; tap * g.Cg < r.to; ++tap) {
            uint256 base = tap * g.Cg;
            uint256 c0 = r.from > base ? r.from - base : 0;
            uint256 c1 = r.to < base + g.Cg ? r.to - base : g.Cg;
            uint256 ihp = g.oh * g.sh + (tap / g.KW) * g.dh;
            if (ihp < g.pt || ihp - g.pt >= g.H) continue;
            uint256 iwp = g.ow * g.sw + (tap % g.KW) * g.dw;
            if (iwp < g.pl || iwp - g.pl >= g.W) continue;
            r.xo = ((ihp - g.pt) * g.W + (iwp - g.pl)) * g.C + g.c0 + c0;
            r.wo = wBase + base + c0;
            r.len = c1 - c0;
            acc += _dot(x, w, r);
        }
    }

    /// @dev One contiguous dot product: Σ_k (x[xo + k] − xZero)·W[wo + k], k < len, x = input 0, W = param jw.
    struct Run {
        uint256 xo;
        uint256 wo;
        uint256 len;
        uint256 jw;
        int256 xZero;
        uint256 from; // partial sums: first term
        uint256 to; // partial sums: one past the last term
    }

    /// @dev acc = bias_j + Σ_k (x_k − xZero)·W[j][k]; y = clamp(yZero + requant(acc, mult_j, shift_j), lo, hi).
    function _linear(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        Run memory r;
        r.jw = h.paramReq("weight");
        r.len = h.params[r.jw].shape[1];
        uint256 N = h.params[r.jw].shape[0];
        uint256 j = o % N;
        r.xo = (o / N) * r.len;
        r.wo = j * r.len;
        r.xZero = h.attrReq("xZero");
        return _requantOut(h, ps, _biasOf(h, ps, j) + _linearAcc(h, ins, ps, r), j);
    }

    function _linearAcc(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, Run memory r)
        private
        pure
        returns (int256)
    {
        return _dot(h.inReader(ins, 0), h.parReader(ps, r.jw), r);
    }

    /// @dev Σ_k (x[xo + k] − xZero)·W[wo + k], k < len, streamed word by word from the proofs.
    function _dot(OpLib.Reader memory x, OpLib.Reader memory w, Run memory r) private pure returns (int256) {
        return OpLib.dot(x, r.xo, 1, r.xZero, w, r.wo, 1, 0, r.len);
    }

    function _biasOf(NodeHeader calldata h, WordsProof[] calldata ps, uint256 ch) private pure returns (int256) {
        (bool hasBias, uint256 jb) = h.findParam("bias");
        return hasBias ? h.par(ps, jb, ch) : int256(0);
    }

    /// @dev clamp(yZero + requant(acc, mult[ch], shift[ch]), lo, hi) with per-channel mult/shift params.
    function _requantOut(NodeHeader calldata h, WordsProof[] calldata ps, int256 acc, uint256 ch)
        private
        pure
        returns (int256)
    {
        int256 m = h.par(ps, h.paramReq("mult"), ch);
        int256 s = h.par(ps, h.paramReq("shift"), ch);
        (int256 lo, int256 hi) = h.outRange();
        return OpLib.clamp(h.attrReq("yZero") + OpLib.requant(acc, m, s), lo, hi);
    }

    /// @dev NHWC Conv: x [1,H,W,C], weight [CO][KH][KW][C/group], out [1,OH,OW,CO]; padding reads 0.
    function _conv(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        Run memory r;
        r.jw = h.paramReq("weight");
        r.xZero = h.attrReq("xZero");
        ConvGeo memory g = _nhwcGeo(h, r.jw, o);
        r.len = g.Cg;
        int256 acc = _biasOf(h, ps, g.co) + _convAcc(h.inReader(ins, 0), h.parReader(ps, r.jw), g, r);
        return _requantOut(h, ps, acc, g.co);
    }

    /// @dev Σ over the window's (kh, kw) inside the input of the Cg-long contiguous dot of that tap.
    function _convAcc(OpLib.Reader memory x, OpLib.Reader memory w, ConvGeo memory g, Run memory r)
        private
        pure
        returns (int256 acc)
    {
        uint256 wBase = g.co * g.KH * g.KW * g.Cg;
        for (uint256 kh; kh < g.KH; ++kh) {
            uint256 ihp = g.oh * g.sh + kh * g.dh; // ih + top (unsigned)
            if (ihp < g.pt || ihp - g.pt >= g.H) continue;
            for (uint256 kw; kw < g.KW; ++kw) {
                uint256 iwp = g.ow * g.sw + kw * g.dw;
                if (iwp < g.pl || iwp - g.pl >= g.W) continue;
                r.xo = ((ihp - g.pt) * g.W + (iwp - g.pl)) * g.C + g.c0;
                r.wo = wBase + (kh * g.KW + kw) * g.Cg;
                acc += _dot(x, w, r);
            }
        }
    }

    function _nhwcGeo(NodeHeader calldata h, uint256 jw, uint256 o) private pure returns (ConvGeo memory g) {
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint32[] calldata ws = h.params[jw].shape;
        (g.H, g.W, g.C) = (xs[1], xs[2], xs[3]);
        (g.KH, g.KW, g.Cg) = (ws[1], ws[2], ws[3]);
        uint256 CO = ws[0];
        g.co = o % CO;
        uint256 OW = h.outputMeta.shape[2];
        g.ow = (o / CO) % OW;
        g.oh = o / (CO * OW);
        g.c0 = (g.co / (CO / h.uAttr("group", 1, 1))) * g.Cg;
        _geo(h, g);
    }

    /// @dev pads [top, left, bottom, right], strides, dilations (defaults 0, 1, 1).
    function _geo(NodeHeader calldata h, ConvGeo memory g) private pure {
        g.pt = h.uAttrAt("pads", 4, 0, 0, 0);
        g.pl = h.uAttrAt("pads", 4, 1, 0, 0);
        g.sh = h.uAttrAt("strides", 2, 0, 1, 1);
        g.sw = h.uAttrAt("strides", 2, 1, 1, 1);
        g.dh = h.uAttrAt("dilations", 2, 0, 1, 1);
        g.dw = h.uAttrAt("dilations", 2, 1, 1, 1);
    }

    /// @dev MatMul: acc = Σ_k (a − aZero)(b − bZero); y = clamp(yZero + requant(acc, mult, shift), lo, hi).
    function _matmul(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        bool transB = h.attr("transB", 0) == 1;
        Dot memory d = _plan(h, h.inputMeta[1].shape, transB, o);
        (d.aZero, d.bZero) = (h.attrReq("aZero"), h.attrReq("bZero"));
        return h.requantAttrs(_mmAcc(h, ins, ps, d));
    }

    /// @dev MatMulInteger (exact i32 accumulator) and QLinearMatMul (requantized, per-column mult/shift).
    function _onnxMatMul(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o, bool q)
        private
        pure
        returns (int256)
    {
        Dot memory d = _onnxPlan(h, ps, o);
        int256 acc = _mmAcc(h, ins, ps, d);
        return q ? _qOut(h, ps, acc, d.j) : acc;
    }

    /// @dev b from input 1 or params.b; zero points aZero (per row) and bZero (per column) params.
    function _onnxPlan(NodeHeader calldata h, WordsProof[] calldata ps, uint256 o) private pure returns (Dot memory d) {
        (bool bParam, uint256 jb) = h.findParam("b");
        d = _plan(h, bParam ? h.params[jb].shape : h.inputMeta[1].shape, false, o);
        if (bParam) (d.bParam, d.bIdx) = (true, jb);
        d.aZero = h.perChannel(ps, "aZero", d.i, 0);
        d.bZero = h.perChannel(ps, "bZero", d.j, 0);
    }

    /// @dev QLinear* epilogue: clamp(yZero + requant(acc, mult_ch, shift_ch), out dtype range).
    function _qOut(NodeHeader calldata h, WordsProof[] calldata ps, int256 acc, uint256 ch) private pure returns (int256) {
        int256 v = OpLib.requant(acc, h.perChannel(ps, "mult", ch, 0), h.perChannel(ps, "shift", ch, 0));
        uint8 dt = h.outputMeta.dtype;
        return OpLib.clamp(h.perChannel(ps, "yZero", 0, 0) + v, OpLib.dmin(dt), OpLib.dmax(dt));
    }

    /// @dev numpy matmul indexing of output element o: rank-1 operands promoted, batch dims broadcast.
    function _plan(NodeHeader calldata h, uint32[] calldata bs, bool transB, uint256 o) private pure returns (Dot memory d) {
        uint32[] calldata as_ = h.inputMeta[0].shape;
        uint256 ra = as_.length;
        uint256 rb = bs.length;
        d.M = ra == 1 ? 1 : as_[ra - 2];
        d.K = as_[ra - 1];
        d.N = rb == 1 ? 1 : (transB ? bs[rb - 2] : bs[rb - 1]);
        uint256 rest = o;
        if (rb != 1) (d.j, rest) = (rest % d.N, rest / d.N);
        if (ra != 1) (d.i, rest) = (rest % d.M, rest / d.M);
        (uint256 ta, uint256 tb) = _batches(h, bs, rest);
        d.aOff = (ta * d.M + d.i) * d.K;
        if (transB) (d.bOff, d.bStep) = ((tb * d.N + d.j) * d.K, 1);
        else (d.bOff, d.bStep) = (tb * d.K * d.N + d.j, d.N);
        d.bIdx = 1;
    }

    /// @dev Matrix indices of a and b read by output batch index `bi` (numpy broadcasting).
    function _batches(NodeHeader calldata h, uint32[] calldata bs, uint256 bi) private pure returns (uint256 ta, uint256 tb) {
        uint256 ro = h.outputMeta.shape.length - (h.inputMeta[0].shape.length == 1 ? 0 : 1) - (bs.length == 1 ? 0 : 1);
        ta = _batchOf(h.outputMeta.shape[0:ro], h.inputMeta[0].shape, bi);
        tb = _batchOf(h.outputMeta.shape[0:ro], bs, bi);
    }

    /// @dev Matrix index in an operand of shape `full` (batch dims = all but the last two) read by `bi`.
    function _batchOf(uint32[] calldata outBatch, uint32[] calldata full, uint256 bi) private pure returns (uint256) {
        if (full.length < 2) return 0;
        return OpLib.bcastIndex(outBatch, full[0:full.length - 2], bi);
    }

    function _mmAcc(
        NodeHeader calldata h,
        WordsProof[] calldata ins,
        WordsProof[] calldata ps,
        Dot memory d
    ) private pure returns (int256 acc) {
        OpLib.Reader memory b = d.bParam ? h.parReader(ps, d.bIdx) : h.inReader(ins, 1);
        acc = OpLib.dot(h.inReader(ins, 0), d.aOff, 1, d.aZero, b, d.bOff, d.bStep, d.bZero, d.K);
    }

    /// @dev ConvInteger / QLinearConv, NCHW: x [N,C,H,W], w [M,C/group,KH,KW] (input 1 or params.w).
    function _convNchw(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o, bool q)
        private
        pure
        returns (int256)
    {
        ConvGeo memory g = _nchwGeo(h, o);
        int256 acc = _convNchwAcc(h, ins, ps, g);
        if (!q) return acc;
        acc += h.perChannel(ps, "bias", g.co, 0);
        return _qOut(h, ps, acc, g.co);
    }

    function _nchwGeo(NodeHeader calldata h, uint256 o) private pure returns (ConvGeo memory g) {
        (g.wParam, g.jw) = h.findParam("w");
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint32[] calldata ws = g.wParam ? h.params[g.jw].shape : h.inputMeta[1].shape;
        (g.C, g.H, g.W) = (xs[1], xs[2], xs[3]);
        (g.Cg, g.KH, g.KW) = (ws[1], ws[2], ws[3]);
        uint32[] calldata os = h.outputMeta.shape;
        g.ow = o % os[3];
        o /= os[3];
        g.oh = o % os[2];
        o /= os[2];
        g.co = o % ws[0];
        g.n = o / ws[0];
        g.c0 = (g.co / (ws[0] / h.uAttr("group", 1, 1))) * g.Cg;
        _geo(h, g);
    }

    function _convNchwAcc(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, ConvGeo memory g)
        private
        pure
        returns (int256)
    {
        g.xZero = h.perChannel(ps, "xZero", 0, 0);
        g.wZero = h.perChannel(ps, "wZero", g.co, 0);
        g.xdt = h.inputMeta[0].dtype;
        g.wdt = g.wParam ? h.params[g.jw].dtype : h.inputMeta[1].dtype;
        return _convNchwLoop(h.inReader(ins, 0), g.wParam ? h.parReader(ps, g.jw) : h.inReader(ins, 1), g, 0, g.Cg * g.KH * g.KW);
    }

    /// @dev Σ over taps t in [from, to), t = (c·KH + kh)·KW + kw, inside the input of (x − xZero)·(w[co·taps + t] − wZero).
    function _convNchwLoop(OpLib.Reader memory xp, OpLib.Reader memory wp, ConvGeo memory g, uint256 from, uint256 to)
        private
        pure
        returns (int256 acc)
    {
        uint256 taps = g.Cg * g.KH * g.KW;
        for (uint256 t = from; t < to; ++t) {
            (bool inside, uint256 xi) = _nchwX(g, t);
            if (!inside) continue;
            int256 w = OpLib.get(wp, g.co * taps + t) - g.wZero;
            acc += (OpLib.get(xp, xi) - g.xZero) * w;
        }
    }

    /// @dev Input index of tap t = (c·KH + kh)·KW + kw, or inside = false for a padding position.
    function _nchwX(ConvGeo memory g, uint256 t) private pure returns (bool inside, uint256 xi) {
        uint256 iwp = g.ow * g.sw + (t % g.KW) * g.dw;
        if (iwp < g.pl || iwp - g.pl >= g.W) return (false, 0);
        t /= g.KW;
        uint256 ihp = g.oh * g.sh + (t % g.KH) * g.dh;
        if (ihp < g.pt || ihp - g.pt >= g.H) return (false, 0);
        t /= g.KH; // the channel c within the group
        xi = (g.n * g.C + g.c0 + t) * g.H + ihp - g.pt;
        return (true, xi * g.W + iwp - g.pl);
    }
}
