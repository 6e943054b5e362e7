// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../../interfaces/IOneStepVerifier.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {
    NodeHeader,
    Operand,
    VerifierElementNotProven,
    VerifierMissingParam,
    VerifierMissingAttr,
    VerifierInvalidAttr
} from "../VerifierTypes.sol";

/// @title OpLib
/// @notice Shared helpers of the op families: header attrs and params, reading proven elements, and
/// the rounding primitives of docs/ops.md §Conventions on int256 (exact: every bound is ≪ 2^255).
library OpLib {
    uint8 internal constant I8 = 1;
    uint8 internal constant U8 = 2;
    uint8 internal constant I32 = 3;

    // ----------------------------------------------------------------------------------------- attrs

    /// @notice Position in attrsFlat of `key`'s tag word, if present.
    function findAttr(NodeHeader calldata h, bytes32 key) internal pure returns (bool, uint256) {
        uint256 p;
        uint256 nk = h.attrKeys.length;
        for (uint256 i; i < nk; ++i) {
            if (h.attrKeys[i] == key) return (true, p);
            int256 tag = h.attrsFlat[p];
            p += tag < 0 ? 2 : 1 + uint256(tag);
        }
        return (false, 0);
    }

    /// @notice Scalar attr `key`, or `def` when absent.
    function attr(NodeHeader calldata h, bytes32 key, int256 def) internal pure returns (int256) {
        (bool ok, uint256 p) = findAttr(h, key);
        if (!ok) return def;
        if (h.attrsFlat[p] != -1) revert VerifierInvalidAttr(key);
        return h.attrsFlat[p + 1];
    }

    /// @notice Required scalar attr `key`.
    function attrReq(NodeHeader calldata h, bytes32 key) internal pure returns (int256) {
        (bool ok, uint256 p) = findAttr(h, key);
        if (!ok) revert VerifierMissingAttr(key);
        if (h.attrsFlat[p] != -1) revert VerifierInvalidAttr(key);
        return h.attrsFlat[p + 1];
    }

    /// @notice Array attr `key`: (present, its length, position of its first value).
    function attrArr(NodeHeader calldata h, bytes32 key) internal pure returns (bool, uint256, uint256) {
        (bool ok, uint256 p) = findAttr(h, key);
        if (!ok) return (false, 0, 0);
        int256 tag = h.attrsFlat[p];
        if (tag < 0) revert VerifierInvalidAttr(key);
        return (true, uint256(tag), p + 1);
    }

    /// @notice Entry `i` of array attr `key` (which must have exactly `len` entries), or `def` when absent.
    function attrAt(NodeHeader calldata h, bytes32 key, uint256 len, uint256 i, int256 def) internal pure returns (int256) {
        (bool ok, uint256 n, uint256 p) = attrArr(h, key);
        if (!ok) return def;
        if (n != len) revert VerifierInvalidAttr(key);
        return h.attrsFlat[p + i];
    }

    /// @notice Like attrAt, as a uint256 that must be ≥ `min`.
    function uAttrAt(NodeHeader calldata h, bytes32 key, uint256 len, uint256 i, int256 def, int256 min)
        internal
        pure
        returns (uint256)
    {
        int256 v = attrAt(h, key, len, i, def);
        if (v < min) revert VerifierInvalidAttr(key);
        return uint256(v);
    }

    /// @notice Scalar attr `key` as a uint256 that must be ≥ `min`; `def` when absent.
    function uAttr(NodeHeader calldata h, bytes32 key, int256 def, int256 min) internal pure returns (uint256) {
        int256 v = attr(h, key, def);
        if (v < min) revert VerifierInvalidAttr(key);
        return uint256(v);
    }

    /// @notice Output clamp bounds: attrs lo/hi, defaulting to the output dtype's range.
    function outRange(NodeHeader calldata h) internal pure returns (int256 lo, int256 hi) {
        uint8 dt = h.outputMeta.dtype;
        lo = attr(h, "lo", dmin(dt));
        hi = attr(h, "hi", dmax(dt));
    }

    /// @notice clamp(yZero + v, lo, hi) with yZero, lo, hi from the attrs.
    function outAttrs(NodeHeader calldata h, int256 v) internal pure returns (int256) {
        (int256 lo, int256 hi) = outRange(h);
        return clamp(attrReq(h, "yZero") + v, lo, hi);
    }

    /// @notice clamp(yZero + requant(acc, mult, shift), lo, hi) with all four from the attrs.
    function requantAttrs(NodeHeader calldata h, int256 acc) internal pure returns (int256) {
        int256 v = attrReq(h, "yZero") + requant(acc, attrReq(h, "mult"), attrReq(h, "shift"));
        (int256 lo, int256 hi) = outRange(h);
        return clamp(v, lo, hi);
    }

    // ---------------------------------------------------------------------------------------- params

    /// @notice Index of param `name` (params are sorted by name), if present.
    function findParam(NodeHeader calldata h, bytes32 name) internal pure returns (bool, uint256) {
        uint256 n = h.params.length;
        for (uint256 j; j < n; ++j) if (h.params[j].name == name) return (true, j);
        return (false, 0);
    }

    /// @notice Index of required param `name`.
    function paramReq(NodeHeader calldata h, bytes32 name) internal pure returns (uint256) {
        (bool ok, uint256 j) = findParam(h, name);
        if (!ok) revert VerifierMissingParam(name);
        return j;
    }

    /// @notice Element count of a param.
    function paramSize(NodeHeader calldata h, uint256 j) internal pure returns (uint256) {
        return numel(h.params[j].shape);
    }

    /// @notice Element `e` of param `j`.
    function par(NodeHeader calldata h, WordsProof[] calldata ps, uint256 j, uint256 e) internal pure returns (int256) {
        return elem(ps[j], h.params[j].dtype, e, Operand.Param, j);
    }

    /// @notice Element `e` of input `i`.
    function inp(NodeHeader calldata h, WordsProof[] calldata ins, uint256 i, uint256 e) internal pure returns (int256) {
        return elem(ins[i], h.inputMeta[i].dtype, e, Operand.Input, i);
    }

    /// @notice Entry of an optional scalar-or-per-channel param: absent → def; 1 entry → it; else entry `ch`.
    function perChannel(NodeHeader calldata h, WordsProof[] calldata ps, bytes32 name, uint256 ch, int256 def)
        internal
        pure
        returns (int256)
    {
        (bool ok, uint256 j) = findParam(h, name);
        if (!ok) return def;
        return par(h, ps, j, paramSize(h, j) == 1 ? 0 : ch);
    }

    // -------------------------------------------------------------------------------------- elements

    /// @notice Element `e` of a tensor of dtype `dtype` read from the proven words: word ⌊e·es/32⌋,
    /// byte (e·es) mod 32; i8 two's complement, u8, i32 big-endian. Binary search over the indices.
    function elem(WordsProof calldata p, uint8 dtype, uint256 e, Operand operand, uint256 which)
        internal
        pure
        returns (int256)
    {
        uint256 b = dtype == I32 ? e * 4 : e;
        uint256 w = b >> 5;
        uint256 lo;
        uint256 hi = p.indices.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            if (p.indices[mid] < w) lo = mid + 1;
            else hi = mid;
        }
        if (lo == p.indices.length || p.indices[lo] != w || lo >= p.words.length) {
            revert VerifierElementNotProven(operand, which, e);
        }
        uint256 word = uint256(p.words[lo]);
        uint256 off = (b & 31) * 8;
        if (dtype == I32) return int256(int32(uint32(word >> (224 - off))));
        uint256 byt = (word >> (248 - off)) & 0xff;
        if (dtype == I8) return int256(int8(uint8(byt)));
        return int256(byt);
    }

    // ---------------------------------------------------------------------------------------- shapes

    /// @notice Product of the dims (1 for a scalar).
    function numel(uint32[] calldata s) internal pure returns (uint256 n) {
        n = 1;
        for (uint256 i; i < s.length; ++i) n *= s[i];
    }

    /// @notice Flat index into `inShape` read by flat output index `o` of `outShape` under numpy
    /// broadcasting (inShape right-aligned; its size-1 axes read index 0).
    function bcastIndex(uint32[] calldata outShape, uint32[] calldata inShape, uint256 o) internal pure returns (uint256 r) {
        uint256 ro = outShape.length;
        uint256 ri = inShape.length;
        uint256 stride = 1;
        for (uint256 a = ro; a > 0; --a) {
            uint256 d = outShape[a - 1];
            uint256 idx = o % d;
            o /= d;
            if (a + ri > ro) {
                uint256 di = inShape[a - 1 + ri - ro];
                if (di != 1) r += idx * stride;
                stride *= di;
            }
        }
    }

    // ------------------------------------------------------------------------------------ arithmetic

    /// @notice Smallest value of a dtype.
    function dmin(uint8 dt) internal pure returns (int256) {
        return dt == I8 ? int256(-128) : dt == U8 ? int256(0) : int256(type(int32).min);
    }

    /// @notice Largest value of a dtype.
    function dmax(uint8 dt) internal pure returns (int256) {
        return dt == I8 ? int256(127) : dt == U8 ? int256(255) : int256(type(int32).max);
    }

    /// @notice min(max(v, lo), hi).
    function clamp(int256 v, int256 lo, int256 hi) internal pure returns (int256) {
        return v < lo ? lo : v > hi ? hi : v;
    }

    /// @notice rshr(v, s) = floor((v + 2^(s−1)) / 2^s), s ≥ 1 (>> on int256 is arithmetic = floor).
    function rshr(int256 v, int256 s, bytes32 key) internal pure returns (int256) {
        if (s < 1 || s > 128) revert VerifierInvalidAttr(key);
        return (v + (int256(1) << uint256(s - 1))) >> uint256(s);
    }

    /// @notice requant(acc, m, s) = rshr(acc·m, s).
    function requant(int256 acc, int256 m, int256 s) internal pure returns (int256) {
        return rshr(acc * m, s, "shift");
    }

    /// @notice floor(a / b) for b > 0 (Solidity's / truncates toward zero).
    function floorDiv(int256 a, int256 b) internal pure returns (int256 q) {
        q = a / b;
        if (a % b != 0 && a < 0) q -= 1;
    }

    /// @notice roundDiv(a, b) = floor((2a + b) / (2b)) for b > 0.
    function roundDiv(int256 a, int256 b) internal pure returns (int256) {
        return floorDiv(2 * a + b, 2 * b);
    }

    /// @notice floor(√v) for v ≥ 0.
    function isqrt(int256 v) internal pure returns (int256) {
        return v <= 0 ? int256(0) : int256(Math.sqrt(uint256(v)));
    }
}
