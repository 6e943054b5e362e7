// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../../interfaces/IOneStepVerifier.sol";
import {NodeHeader, IOpFamily, VerifierUnsupportedOp, VerifierInvalidAttr} from "../VerifierTypes.sol";
import {OpLib} from "../lib/OpLib.sol";

/// @title ReduceOps
/// @notice Ops whose output element reduces a window or a row (docs/ops.md): MaxPool, AveragePool,
/// GlobalAveragePool (NHWC), Softmax and LayerNorm (last axis).
contract ReduceOps is IOpFamily {
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
    }

    /// @inheritdoc IOpFamily
    function compute(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        external
        pure
        returns (int256)
    {
        uint8 op = h.op;
        if (op == 6 || op == 7) return _pool(h, ins, o, op == 6);
        if (op == 8) return _globalAvg(h, ins, o);
        if (op == 9) return _softmax(h, ins, ps, o);
        if (op == 10) return _layerNorm(h, ins, ps, o);
        revert VerifierUnsupportedOp(op);
    }

    /// @dev MaxPool: max over window positions inside the input. AveragePool (no dilation):
    /// clamp(yZero + roundDiv(Σ (x − xZero), count), out dtype range), count = inside positions or KH·KW.
    function _pool(NodeHeader calldata h, WordsProof[] calldata ins, uint256 o, bool isMax) private pure returns (int256) {
        Win memory w;
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
        if (isMax) {
            w.dh = h.uAttrAt("dilations", 2, 0, 1, 1);
            w.dw = h.uAttrAt("dilations", 2, 1, 1, 1);
        } else {
            (w.dh, w.dw) = (1, 1);
        }
        uint8 dt = h.inputMeta[0].dtype;
        int256 xZero = isMax ? int256(0) : h.attrReq("xZero");
        int256 best = OpLib.dmin(dt);
        int256 sum;
        uint256 valid;
        for (uint256 kh; kh < w.KH; ++kh) {
            uint256 ihp = w.oh * w.sh + kh * w.dh;
            if (ihp < w.pt || ihp - w.pt >= w.H) continue;
            for (uint256 kw; kw < w.KW; ++kw) {
                uint256 iwp = w.ow * w.sw + kw * w.dw;
                if (iwp < w.pl || iwp - w.pl >= w.W) continue;
                int256 x = h.inp(ins, 0, ((ihp - w.pt) * w.W + iwp - w.pl) * w.C + w.c);
                if (x > best) best = x;
                sum += x - xZero;
                ++valid;
            }
        }
        if (isMax) return best;
        uint256 count = h.attr("countIncludePad", 0) == 1 ? w.KH * w.KW : valid;
        if (count == 0) revert VerifierInvalidAttr("kernel");
        uint8 yt = h.outputMeta.dtype;
        return OpLib.clamp(h.attrReq("yZero") + OpLib.roundDiv(sum, int256(count)), OpLib.dmin(yt), OpLib.dmax(yt));
    }

    /// @dev clamp(yZero + roundDiv(Σ_{h,w} (x − xZero), H·W), out dtype range), x [1,H,W,C].
    function _globalAvg(NodeHeader calldata h, WordsProof[] calldata ins, uint256 c) private pure returns (int256) {
        uint32[] calldata xs = h.inputMeta[0].shape;
        uint256 HW = uint256(xs[1]) * xs[2];
        uint256 C = xs[3];
        int256 xZero = h.attrReq("xZero");
        int256 sum;
        for (uint256 p; p < HW; ++p) sum += h.inp(ins, 0, p * C + c) - xZero;
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
        x = new int256[](L);
        for (uint256 k; k < L; ++k) x[k] = h.inp(ins, 0, base + k);
    }

    /// @dev mx = max x; e_k = 0 if masked and x_k = −128 ≠ mx, else exp[mx − x_k]; S = Σ e;
    /// y = clamp(−128 + roundDiv(e_i·256, S), −128, 127).
    function _softmax(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        (int256[] memory x, uint256 i) = _row(h, ins, o);
        uint256 je = h.paramReq("exp");
        int256 mx = -128;
        for (uint256 k; k < x.length; ++k) if (x[k] > mx) mx = x[k];
        bool mask = h.attr("masked", 0) == 1 && mx != -128;
        int256 S;
        int256 ei;
        for (uint256 k; k < x.length; ++k) {
            int256 e = (mask && x[k] == -128) ? int256(0) : h.par(ps, je, uint256(mx - x[k]));
            S += e;
            if (k == i) ei = e;
        }
        if (S <= 0) revert VerifierInvalidAttr("exp");
        return OpLib.clamp(-128 + OpLib.roundDiv(ei * 256, S), -128, 127);
    }

    /// @dev d = x − xZero; T = Σ d; c = N·d − T; V = floor(Σ c² / N) + eps; R = max(isqrt(V), 1);
    /// t = roundDiv(gamma_i·c_i, R); y = clamp(yZero + rshr(t + beta_i, shift), out dtype range).
    function _layerNorm(NodeHeader calldata h, WordsProof[] calldata ins, WordsProof[] calldata ps, uint256 o)
        private
        pure
        returns (int256)
    {
        (int256[] memory x, uint256 i) = _row(h, ins, o);
        int256 N = int256(x.length);
        int256 xZero = h.attrReq("xZero");
        int256 T;
        for (uint256 k; k < x.length; ++k) T += x[k] - xZero;
        int256 Q;
        for (uint256 k; k < x.length; ++k) {
            int256 c = N * (x[k] - xZero) - T;
            Q += c * c;
        }
        int256 R = OpLib.isqrt(Q / N + h.attrReq("eps")); // Q ≥ 0: / is floor
        if (R < 1) R = 1;
        int256 ci = N * (x[i] - xZero) - T;
        int256 t = OpLib.roundDiv(h.par(ps, h.paramReq("gamma"), i) * ci, R);
        int256 y = h.attrReq("yZero") + OpLib.rshr(t + h.par(ps, h.paramReq("beta"), i), h.attrReq("shift"), "shift");
        uint8 yt = h.outputMeta.dtype;
        return OpLib.clamp(y, OpLib.dmin(yt), OpLib.dmax(yt));
    }
}
