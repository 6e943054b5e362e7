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
    /// ascending reads (a dot product, a row, a window) cost a comparison instead of a search.
    /// The field order is relied on by the assembly below (one word each: idx 0x00, words 0x20, n 0x40,
    /// cur 0x60, dtype 0x80, es 0xa0).
    struct Reader {
        uint256 idx;
        uint256 words;
        uint256 n;
        uint256 cur;
        uint256 dtype;
        uint256 es;
        Operand operand;
        uint256 which;
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

    /// @notice Elements start, start + stride, … (n of them) of the operand, in order. One assembly
    /// loop: the current word is kept while the elements stay in it, and a new word is located from the
    /// cursor (the same or next proven position) or else by binary search over the indices. Reverts
    /// VerifierElementNotProven for the first element whose word is not in the proof.
    function gather(Reader memory r, uint256 start, uint256 stride, uint256 n) internal pure returns (int256[] memory out) {
        out = new int256[](n);
        uint256 missing = type(uint256).max;
        assembly ("memory-safe") {
            // position of proven word w: the cursor c, c + 1, else binary search; cnt if absent
            function find(idx, cnt, c, w) -> pos {
                pos := cnt
                if lt(c, cnt) { if eq(calldataload(add(idx, shl(5, c))), w) { pos := c } }
                if eq(pos, cnt) {
                    let c1 := add(c, 1)
                    if lt(c1, cnt) { if eq(calldataload(add(idx, shl(5, c1))), w) { pos := c1 } }
                }
                if eq(pos, cnt) {
                    let lo := 0
                    let hi := cnt
                    for {} lt(lo, hi) {} {
                        let mid := shr(1, add(lo, hi))
                        switch lt(calldataload(add(idx, shl(5, mid))), w)
                        case 1 { lo := add(mid, 1) }
                        default { hi := mid }
                    }
                    if lt(lo, cnt) { if eq(calldataload(add(idx, shl(5, lo))), w) { pos := lo } }
                }
            }
            function decodeAt(v, off, dt) -> x {
                switch dt
                case 1 { x := signextend(0, byte(off, v)) }
                case 2 { x := byte(off, v) }
                default { x := signextend(3, shr(sub(224, shl(3, off)), v)) }
            }
            let c := mload(add(r, 0x60))
            let cw := not(0)
            let v := 0
            // start: the next element; n: elements left
            for { let dst := add(out, 0x20) } n { dst := add(dst, 0x20) } {
                let b := mul(start, mload(add(r, 0xa0)))
                if iszero(eq(shr(5, b), cw)) {
                    cw := shr(5, b)
                    let pos := find(mload(r), mload(add(r, 0x40)), c, cw)
                    if eq(pos, mload(add(r, 0x40))) {
                        missing := start
                        break
                    }
                    c := pos
                    v := calldataload(add(mload(add(r, 0x20)), shl(5, pos)))
                }
                mstore(dst, decodeAt(v, and(b, 31), mload(add(r, 0x80))))
                start := add(start, stride)
                n := sub(n, 1)
            }
            mstore(add(r, 0x60), c)
        }
        if (missing != type(uint256).max) revert VerifierElementNotProven(r.operand, r.which, missing);
    }

    /// @notice Element `e` of the operand.
    function get(Reader memory r, uint256 e) internal pure returns (int256 x) {
        uint256 missing;
        bool bad;
        assembly ("memory-safe") {
            let idx := mload(r)
            let cnt := mload(add(r, 0x40))
            let c := mload(add(r, 0x60))
            let b := mul(e, mload(add(r, 0xa0)))
            let w := shr(5, b)
            let pos := cnt
            if lt(c, cnt) { if eq(calldataload(add(idx, shl(5, c))), w) { pos := c } }
            if eq(pos, cnt) {
                let lo := 0
                let hi := cnt
                for {} lt(lo, hi) {} {
                    let mid := shr(1, add(lo, hi))
                    switch lt(calldataload(add(idx, shl(5, mid))), w)
                    case 1 { lo := add(mid, 1) }
                    default { hi := mid }
                }
                if lt(lo, cnt) { if eq(calldataload(add(idx, shl(5, lo))), w) { pos := lo } }
            }
            switch eq(pos, cnt)
            case 1 {
                bad := 1
                missing := e
            }
            default {
                mstore(add(r, 0x60), pos)
                let v := calldataload(add(mload(add(r, 0x20)), shl(5, pos)))
                let off := and(b, 31)
                switch mload(add(r, 0x80))
                case 1 { x := signextend(0, byte(off, v)) }
                case 2 { x := byte(off, v) }
                default { x := signextend(3, shr(sub(224, shl(3, off)), v)) }
            }
        }
        if (bad) revert VerifierElementNotProven(r.operand, r.which, missing);
    }

    /// @notice Σ_{k<len} (x[xo + k·xs] − xZero)·(y[yo + k·ys] − yZero). Both runs are gathered word by
    /// word; with |xZero|, |yZero| < 2^64 every term is < 2^97 and the sum < 2^130 (len < 2^32), so
    /// the accumulation is exact without overflow checks; otherwise it runs checked.
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
        int256[] memory a = gather(x, xo, xs, len);
        int256[] memory b = gather(y, yo, ys, len);
        if (_small(xZero) && _small(yZero) && len < 2 ** 32) {
            assembly ("memory-safe") {
                let pa := add(a, 0x20)
                let pb := add(b, 0x20)
                let end := add(pa, shl(5, len))
                for {} lt(pa, end) {} {
                    acc := add(acc, mul(sub(mload(pa), xZero), sub(mload(pb), yZero)))
                    pa := add(pa, 0x20)
                    pb := add(pb, 0x20)
                }
            }
        } else {
            for (uint256 k; k < len; ++k) acc += (a[k] - xZero) * (b[k] - yZero);
        }
    }

    /// @notice Σ of the elements start, start + stride, … (n of them); exact unchecked (each < 2^32).
    function sum(Reader memory r, uint256 start, uint256 stride, uint256 n) internal pure returns (int256 s) {
        int256[] memory a = gather(r, start, stride, n);
        for (uint256 k; k < n;) {
            unchecked {
                s += a[k];
                ++k;
            }
        }
    }

    function _small(int256 v) private pure returns (bool) {
        return v > -(2 ** 64) && v < 2 ** 64;
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
