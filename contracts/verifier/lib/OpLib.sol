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
    /// byte (e·es) mod 32; i8 two's complement, u8, i32 big-endian. One-off read (binary search over the
    /// indices); for many reads of one operand use a Reader.
    function elem(WordsProof calldata p, uint8 dtype, uint256 e, Operand operand, uint256 which)
        internal
        pure
        returns (int256)
    {
        return get(reader(p, dtype, operand, which), e);
    }

    /// @notice Element `e` of input `i` (one-off read).
    function inp(NodeHeader calldata h, WordsProof[] calldata ins, uint256 i, uint256 e) internal pure returns (int256) {
        return elem(ins[i], h.inputMeta[i].dtype, e, Operand.Input, i);
    }

    /// @notice Element `e` of param `j` (one-off read).
    function par(NodeHeader calldata h, WordsProof[] calldata ps, uint256 j, uint256 e) internal pure returns (int256) {
        return elem(ps[j], h.params[j].dtype, e, Operand.Param, j);
    }

    // --------------------------------------------------------------------------------------- readers

    /// @notice Reads the proven words of one operand straight from calldata, with no ABI decoding per
    /// read: `idx` / `words` are the calldata offsets of indices[0] / words[0] (both arrays were
    /// bounds-checked once when the Reader was made), `cur` the position of the last word found, so
    /// ascending reads (a dot product, a row, a window) cost a comparison instead of a search, and the
    /// last word read is cached (32 i8 / 8 i32 consecutive elements cost one fetch).
    struct Reader {
        uint256 idx;
        uint256 words;
        uint256 n;
        uint256 cur;
        uint256 dtype;
        uint256 es;
        Operand operand;
        uint256 which;
        uint256 cw; // 1 + number of the cached word (0: none)
        uint256 cv; // the cached word
    }

    /// @notice A Reader over proof `p` of an operand of dtype `dtype`.
    function reader(WordsProof calldata p, uint8 dtype, Operand operand, uint256 which)
        internal
        pure
        returns (Reader memory r)
    {
        uint256[] calldata ix = p.indices;
        bytes32[] calldata ws = p.words;
        uint256 io;
        uint256 wo;
        assembly ("memory-safe") {
            io := ix.offset
            wo := ws.offset
        }
        r.idx = io;
        r.words = wo;
        r.n = ix.length < ws.length ? ix.length : ws.length;
        r.dtype = dtype;
        r.es = dtype == I32 ? 4 : 1;
        r.operand = operand;
        r.which = which;
    }

    /// @notice A Reader over input `i`.
    function inReader(NodeHeader calldata h, WordsProof[] calldata ins, uint256 i) internal pure returns (Reader memory) {
        return reader(ins[i], h.inputMeta[i].dtype, Operand.Input, i);
    }

    /// @notice A Reader over param `j`.
    function parReader(NodeHeader calldata h, WordsProof[] calldata ps, uint256 j) internal pure returns (Reader memory) {
        return reader(ps[j], h.params[j].dtype, Operand.Param, j);
    }

    /// @notice Proven word number `w` (element `e` is only for the error): the cursor, the next
    /// position, else a binary search over the strictly increasing indices.
    function word(Reader memory r, uint256 w, uint256 e) internal pure returns (uint256 v) {
        uint256 n = r.n;
        uint256 c = r.cur;
        uint256 idx = r.idx;
        uint256 wp = r.words;
        bool found;
        assembly ("memory-safe") {
            if lt(c, n) { found := eq(calldataload(add(idx, shl(5, c))), w) }
            if iszero(found) {
                let c1 := add(c, 1)
                if lt(c1, n) {
                    if eq(calldataload(add(idx, shl(5, c1))), w) {
                        c := c1
                        found := 1
                    }
                }
            }
            if iszero(found) {
                let lo := 0
                let hi := n
                for {} lt(lo, hi) {} {
                    let mid := shr(1, add(lo, hi))
                    switch lt(calldataload(add(idx, shl(5, mid))), w)
                    case 1 { lo := add(mid, 1) }
                    default { hi := mid }
                }
                if lt(lo, n) {
                    if eq(calldataload(add(idx, shl(5, lo))), w) {
                        c := lo
                        found := 1
                    }
                }
            }
            v := calldataload(add(wp, shl(5, c)))
        }
        if (!found) revert VerifierElementNotProven(r.operand, r.which, e);
        r.cur = c;
    }

    /// @notice The element at byte offset `off` (< 32, element-aligned) of word `v`: i8 two's
    /// complement, u8, i32 big-endian two's complement.
    function decode(uint256 v, uint256 off, uint256 dtype) internal pure returns (int256 x) {
        assembly ("memory-safe") {
            switch dtype
            case 1 { x := signextend(0, byte(off, v)) }
            case 2 { x := byte(off, v) }
            default { x := signextend(3, shr(sub(224, shl(3, off)), v)) }
        }
    }

    /// @notice Element `e` of the operand.
    function get(Reader memory r, uint256 e) internal pure returns (int256) {
        uint256 b = e * r.es;
        uint256 w = b >> 5;
        uint256 v;
        if (w + 1 == r.cw) {
            v = r.cv;
        } else {
            v = word(r, w, e);
            r.cw = w + 1;
            r.cv = v;
        }
        return decode(v, b & 31, r.dtype);
    }

    /// @notice Σ_{k<len} (x[xo + k·xs] − xZero)·(y[yo + k·ys] − yZero), word by word (each Reader
    /// keeps its current word).
    function dot(
        Reader memory x,
        uint256 xo,
        uint256 xs,
        int256 xZero,
        Reader memory y,
        uint256 yo,
        uint256 ys,
        int256 yZero,
        uint256 len
    ) internal pure returns (int256 acc) {
        for (uint256 k; k < len;) {
            acc += (get(x, xo) - xZero) * (get(y, yo) - yZero);
            unchecked {
                xo += xs;
                yo += ys;
                ++k;
            }
        }
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
