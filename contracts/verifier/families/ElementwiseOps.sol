// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../../interfaces/IOneStepVerifier.sol";
import {
    NodeHeader,
    IOpFamily,
    VerifierUnsupportedOp,
    VerifierInvalidAttr,
    VerifierGatherIndexOutOfRange,
    OP_ADD,
    OP_MUL,
    OP_LUT,
    OP_GATHER,
    OP_RESHAPE,
    OP_TRANSPOSE,
    OP_CONCAT,
    OP_SLICE,
    OP_REQUANTIZE
} from "../VerifierTypes.sol";
import {OpLib} from "../lib/OpLib.sol";

/// @title ElementwiseOps
/// @notice Ops whose output element reads O(1) elements (docs/ops.md): Add, Mul, Lut, Gather, Reshape,
/// Transpose, Concat, Slice, Requantize.
contract ElementwiseOps is IOpFamily {
    using OpLib for NodeHeader;

    /// @inheritdoc IOpFamily
    function compute(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        external
        pure
        returns (int256)
    {
        uint8 op = h.op;
        if (op == OP_ADD || op == OP_MUL) return _binary(h, ins, ps, o, op == OP_ADD);
        if (op == OP_LUT) return _lut(h, ins, ps, o);
        if (op == OP_GATHER) return _gather(h, ins, ps, o);
        if (op == OP_RESHAPE) return h.inp(ins, 0, o);
        if (op == OP_TRANSPOSE) return h.inp(ins, 0, _transposeIndex(h, o));
        if (op == OP_CONCAT) return _concat(h, ins, o);
        if (op == OP_SLICE) return h.inp(ins, 0, _sliceIndex(h, o));
        if (op == OP_REQUANTIZE) return _requantize(h, ins, o);
        revert VerifierUnsupportedOp(op);
    }

    /// @dev Add: clamp(yZero + rshr((a − aZero)·aMult + (b − bZero)·bMult, shift), lo, hi);
    /// Mul: clamp(yZero + requant((a − aZero)(b − bZero), mult, shift), lo, hi). b = input 1 or params.b.
    function _binary(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o, bool add)
        private
        pure
        returns (int256)
    {
        int256 a = _aVal(h, ins, o);
        int256 b = _bVal(h, ins, ps, o);
        if (!add) return h.requantAttrs(a * b);
        return h.outAttrs(OpLib.rshr(a * h.attrReq("aMult") + b * h.attrReq("bMult"), h.attrReq("shift"), "shift"));
    }

    /// @dev a − aZero for output element o (broadcast).
    function _aVal(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o) private pure returns (int256) {
        uint256 ia = OpLib.bcastIndex(h.outputMeta.shape, h.inputMeta[0].shape, o);
        return h.inp(ins, 0, ia) - h.attrReq("aZero");
    }

    /// @dev b − bZero for output element o (broadcast); b is input 1 or params.b.
    function _bVal(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        (bool bParam, uint256 jb) = h.findParam("b");
        int256 b;
        if (bParam) {
            uint256 ib = OpLib.bcastIndex(h.outputMeta.shape, h.params[jb].shape, o);
            b = h.par(ps, jb, ib);
        } else {
            uint256 ib = OpLib.bcastIndex(h.outputMeta.shape, h.inputMeta[1].shape, o);
            b = h.inp(ins, 1, ib);
        }
        return b - h.attrReq("bZero");
    }

    /// @dev y = table[x + 128].
    function _lut(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        int256 x = h.inp(ins, 0, o);
        if (x < -128 || x > 127) revert VerifierInvalidAttr("table");
        return h.par(ps, h.paramReq("table"), uint256(x + 128));
    }

    /// @dev clamp(yZero + requant(x − xZero, mult, shift), lo, hi).
    function _requantize(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o) private pure returns (int256) {
        return h.requantAttrs(h.inp(ins, 0, o) - h.attrReq("xZero"));
    }

    /// @dev Gather operands: data/indices each an input or a param; A = data.shape[axis].
    struct GatherPlan {
        bool dParam;
        uint256 jd;
        bool iParam;
        uint256 ji;
        uint256 A;
        uint256 inner;
        uint256 nI;
    }

    /// @dev out[o.., t.., e..] = data[o.., norm(indices[t..]), e..]; data or indices may be a param.
    function _gather(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        GatherPlan memory g = _gatherPlan(h);
        uint256 t = (o / g.inner) % g.nI;
        int256 v = g.iParam ? h.par(ps, g.ji, t) : h.inp(ins, g.dParam ? 0 : 1, t);
        if (v < -int256(g.A) || v >= int256(g.A)) revert VerifierGatherIndexOutOfRange(v, g.A);
        uint256 src = ((o / (g.inner * g.nI)) * g.A + uint256(v < 0 ? v + int256(g.A) : v)) * g.inner + o % g.inner;
        return g.dParam ? h.par(ps, g.jd, src) : h.inp(ins, 0, src);
    }

    function _gatherPlan(NodeHeader calldata h) private pure returns (GatherPlan memory g) {
        (g.dParam, g.jd) = h.findParam("data");
        (g.iParam, g.ji) = h.findParam("indices");
        uint32[] calldata ds = g.dParam ? h.params[g.jd].shape : h.inputMeta[0].shape;
        g.nI = g.iParam ? h.paramSize(g.ji) : OpLib.numel(h.inputMeta[g.dParam ? 0 : 1].shape);
        int256 r = int256(ds.length);
        int256 ax = h.attr("axis", 0);
        if (ax < -r || ax >= r) revert VerifierInvalidAttr("axis");
        uint256 axis = uint256(ax < 0 ? ax + r : ax);
        g.inner = 1;
        for (uint256 a = axis + 1; a < ds.length; ++a) g.inner *= ds[a];
        g.A = ds[axis];
    }

    /// @dev out[i₀…] = x[j] with j_{perm[a]} = i_a (perm defaults to reversed axes).
    function _transposeIndex(NodeHeader calldata h, uint256 o) private pure returns (uint256 src) {
        uint256[] memory st = _permStrides(h);
        uint32[] calldata os = h.outputMeta.shape;
        for (uint256 a = os.length; a > 0; --a) {
            src += (o % os[a - 1]) * st[a - 1];
            o /= os[a - 1];
        }
    }

    /// @dev st[a] = the input stride of output axis a = strides(x)[perm[a]].
    function _permStrides(NodeHeader calldata h) private pure returns (uint256[] memory st) {
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint256 r = xs.length;
        uint256[] memory ist = new uint256[](r);
        uint256 acc = 1;
        for (uint256 a = r; a > 0; --a) {
            ist[a - 1] = acc;
            acc *= xs[a - 1];
        }
        st = new uint256[](r);
        for (uint256 a; a < r; ++a) {
            uint256 p = h.uAttrAt("perm", r, a, int256(r - 1 - a), 0);
            if (p >= r) revert VerifierInvalidAttr("perm");
            st[a] = ist[p];
        }
    }

    /// @dev Along `axis`, x₀'s entries first, then x₁'s, …; reads the one input holding element o.
    function _concat(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o) private pure returns (int256) {
        uint256[4] memory c = _concatPos(h, o); // axis, inner, outer, pos
        for (uint256 j; j < h.inputMeta.length; ++j) {
            uint256 dj = h.inputMeta[j].shape[c[0]];
            if (c[3] < dj) return h.inp(ins, j, (c[2] * dj + c[3]) * c[1] + o % c[1]);
            c[3] -= dj;
        }
        revert VerifierInvalidAttr("axis");
    }

    /// @dev [axis, inner (product of dims after axis), outer index, position along the output axis].
    function _concatPos(NodeHeader calldata h, uint256 o) private pure returns (uint256[4] memory c) {
        uint32[] calldata os = h.outputMeta.shape;
        int256 r = int256(os.length);
        int256 ax = h.attrReq("axis");
        if (ax < -r || ax >= r) revert VerifierInvalidAttr("axis");
        c[0] = uint256(ax < 0 ? ax + r : ax);
        c[1] = 1;
        for (uint256 a = c[0] + 1; a < os.length; ++a) c[1] *= os[a];
        c[2] = o / (c[1] * os[c[0]]);
        c[3] = (o / c[1]) % os[c[0]];
    }

    /// @dev Output index i on a listed axis reads start + i·step; unlisted axes are whole.
    function _sliceIndex(NodeHeader calldata h, uint256 o) private pure returns (uint256) {
        (int256[] memory st, int256[] memory sp) = _sliceAxes(h);
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint32[] calldata os = h.outputMeta.shape;
        int256 src;
        int256 stride = 1;
        for (uint256 a = xs.length; a > 0; --a) {
            int256 ia = st[a - 1] + int256(o % os[a - 1]) * sp[a - 1];
            o /= os[a - 1];
            if (ia < 0 || ia >= int256(uint256(xs[a - 1]))) revert VerifierInvalidAttr("starts");
            src += ia * stride;
            stride *= int256(uint256(xs[a - 1]));
        }
        return uint256(src);
    }

    /// @dev Per input axis: start (0 when unlisted) and step (1 when unlisted).
    function _sliceAxes(NodeHeader calldata h) private pure returns (int256[] memory st, int256[] memory sp) {
        uint256 r = h.inputMeta[0].shape.length;
        st = new int256[](r);
        sp = new int256[](r);
        for (uint256 a; a < r; ++a) sp[a] = 1;
        (, uint256 n,) = h.attrArr("starts");
        for (uint256 i; i < n; ++i) {
            uint256 a = h.uAttrAt("axes", n, i, int256(i), 0);
            if (a >= r) revert VerifierInvalidAttr("axes");
            st[a] = h.attrAt("starts", n, i, 0);
            sp[a] = h.attrAt("steps", n, i, 1);
        }
    }
}
