// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title DisputeCommitments
/// @notice The parts of docs/protocol.md §Commitments the dispute game checks itself: the keccak Merkle tree with
/// zero-hash padding, length-bound lists (traceRoot 0x03, modelRoot 0x05), tensorRoot (0x02), node commitments (0x04)
/// and the node header type. The one-step verifier checks the element-level proofs; this library checks only what the
/// game needs to bisect a trace. Every loop here runs over a tree depth (≤ 32) or over a list the caller pays for
/// hashing in its own transaction.
library DisputeCommitments {
    /// @notice Per-tensor metadata in a node header (dtype code, layout code, zero point, stored shape).
    struct TensorMeta {
        uint8 dtype;
        uint8 layoutCode;
        int32 zeroPoint;
        uint32[] shape;
    }

    /// @notice Per-param metadata in a node header.
    struct ParamMeta {
        bytes32 name;
        uint8 dtype;
        uint32[] shape;
    }

    /// @notice A node header: `abi.decode(header, (NodeHeader))` (docs/protocol.md "Node header").
    struct NodeHeader {
        uint8 op;
        uint32[] inputs;
        uint32 output;
        TensorMeta[] inputMeta;
        TensorMeta outputMeta;
        bytes32[] attrKeys;
        int256[] attrsFlat;
        ParamMeta[] params;
    }

    uint8 internal constant PREFIX_LEAF = 0x00;
    uint8 internal constant PREFIX_NODE = 0x01;
    uint8 internal constant PREFIX_TENSOR = 0x02;
    uint8 internal constant PREFIX_TRACE = 0x03;
    uint8 internal constant PREFIX_NODE_COMMITMENT = 0x04;
    uint8 internal constant PREFIX_MODEL = 0x05;
    uint8 internal constant PREFIX_INPUTS = 0x06;
    uint8 internal constant PREFIX_OUTPUTS = 0x07;

    /// @notice Z[0] = keccak256(0x00 ‖ 0^32): the hash of a padding leaf.
    bytes32 internal constant ZERO_LEAF = 0xf39a869f62e75cf5f0bf914688a6b289caf2049435d8e68c5c5e6d05e44913f3;

    /// @notice Largest tree depth the game accepts (2^32 leaves).
    uint256 internal constant MAX_DEPTH = 32;

    /// @notice keccak256(0x00 ‖ word).
    function leafHash(bytes32 word) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x00)
            mstore(add(p, 1), word)
            h := keccak256(p, 33)
        }
    }

    /// @notice keccak256(0x01 ‖ left ‖ right).
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            h := keccak256(p, 65)
        }
    }

    /// @notice depth = ceil(log2(leafCount)) (0 for one leaf).
    function depth(uint256 leafCount) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < leafCount) ++d;
    }

    /// @notice Merkle root of a list of 32-byte words (leaves leafHash(word); an empty list is one zero leaf, Z[0]).
    /// Hashes level by level in a memory copy, pairing an odd last node with the padding hash of its level.
    function rootOfWords(bytes32[] memory words) internal pure returns (bytes32) {
        uint256 n = words.length;
        if (n == 0) return ZERO_LEAF;
        bytes32[] memory h = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            h[i] = leafHash(words[i]);
        }
        bytes32 z = ZERO_LEAF;
        while (n > 1) {
            uint256 m = (n + 1) >> 1;
            for (uint256 i; i < m; ++i) {
                uint256 l = i << 1;
                h[i] = nodeHash(h[l], l + 1 < n ? h[l + 1] : z);
            }
            n = m;
            z = nodeHash(z, z);
        }
        return h[0];
    }

    /// @notice Merkle root from a one-leaf proof: leaf `index` of a tree of `leafCount` leaves holds `word`,
    /// `siblings` are bottom-up. Returns bytes32(0) (never a valid root here) if the proof has the wrong shape.
    function rootOfMember(uint256 leafCount, uint256 index, bytes32 word, bytes32[] calldata siblings)
        internal
        pure
        returns (bytes32)
    {
        // INVARIANT: counts are bound into list roots as uint32, so a count of 2^32 or more (which would wrap) is
        // never a member's tree.
        if (index >= leafCount || leafCount > type(uint32).max || leafCount > (uint256(1) << MAX_DEPTH)) {
            return bytes32(0);
        }
        uint256 d = depth(leafCount);
        if (siblings.length != d) return bytes32(0);
        bytes32 h = leafHash(word);
        for (uint256 k; k < d; ++k) {
            h = (index >> k) & 1 == 0 ? nodeHash(h, siblings[k]) : nodeHash(siblings[k], h);
        }
        return h;
    }

    /// @notice keccak256(prefix ‖ uint32 count ‖ merkleRoot): the length-bound list roots (traceRoot, modelRoot).
    function listRoot(uint8 prefix, uint256 count, bytes32 merkleRoot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(prefix, uint32(count), merkleRoot));
    }

    /// @notice Whether `tensorRoot_` is tensor `index` of the trace of `count` tensors committed by `traceRoot`.
    function isTraceTensor(
        bytes32 traceRoot,
        uint256 count,
        uint256 index,
        bytes32 tensorRoot_,
        bytes32[] calldata siblings
    ) internal pure returns (bool) {
        bytes32 mr = rootOfMember(count, index, tensorRoot_, siblings);
        return mr != bytes32(0) && listRoot(PREFIX_TRACE, count, mr) == traceRoot;
    }

    /// @notice 0x02 ‖ dtype ‖ uint32 numElements ‖ uint8 rank ‖ rank × uint32 dim (the tensorRoot preimage minus
    /// the data root). Reverts (checked arithmetic / explicit) if rank > 255 or the element count exceeds uint32.
    function tensorPrefix(uint8 dtype, uint32[] memory shape) internal pure returns (bytes memory pre, uint256 n) {
        uint256 rank = shape.length;
        require(rank <= 255);
        n = 1;
        for (uint256 i; i < rank; ++i) {
            n *= shape[i];
        }
        require(n <= type(uint32).max);
        pre = new bytes(7 + 4 * rank);
        assembly ("memory-safe") {
            let p := add(pre, 32)
            mstore8(p, 0x02)
            mstore8(add(p, 1), dtype)
            mstore(add(p, 2), shl(224, n)) // 4 bytes BE; the 28 trailing zero bytes are overwritten or past the end
            mstore8(add(p, 6), rank)
        }
        for (uint256 i; i < rank; ++i) {
            uint256 d = shape[i];
            assembly ("memory-safe") {
                let q := add(add(pre, 39), mul(4, i))
                // write 4 BE bytes without touching neighbours: read-modify-write the word at q
                mstore(q, or(shl(224, d), and(mload(q), 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff)))
            }
        }
    }

    /// @notice tensorRoot = keccak256(tensorPrefix(dtype, shape) ‖ dataRoot).
    function tensorRoot(uint8 dtype, uint32[] memory shape, bytes32 dataRoot) internal pure returns (bytes32) {
        (bytes memory pre,) = tensorPrefix(dtype, shape);
        return keccak256(bytes.concat(pre, dataRoot));
    }

    /// @notice Bytes per element of a dtype code (1 i8, 2 u8: 1 byte; 3 i32: 4 bytes); 0 for an unknown code.
    function elementSize(uint8 dtype) internal pure returns (uint256) {
        if (dtype == 1 || dtype == 2) return 1;
        if (dtype == 3) return 4;
        return 0;
    }

    /// @notice Number of Merkle leaves of a tensor: max(1, ceil(numElements · es / 32)).
    function leafCountOf(uint256 numElements, uint256 es) internal pure returns (uint256) {
        uint256 words = (numElements * es + 31) >> 5;
        return words == 0 ? 1 : words;
    }

    /// @notice The node commitment keccak256(0x04 ‖ keccak256(header) ‖ merkleRoot(paramRoots)).
    function nodeCommitment(bytes calldata header, bytes32[] calldata paramRoots) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(PREFIX_NODE_COMMITMENT, keccak256(header), rootOfWords(paramRoots)));
    }

    /// @notice Element `k` of a 32-byte word holding elements of `dtype`: i8 two's complement, u8, i32 big-endian.
    function decodeElement(bytes32 word, uint8 dtype, uint256 k) internal pure returns (int256) {
        if (dtype == 3) return int256(int32(uint32(uint256(word) >> (224 - 32 * k))));
        uint8 b = uint8(word[k]);
        return dtype == 1 ? int256(int8(b)) : int256(uint256(b));
    }

    /// @notice Whether the bytes of word `wordIndex` at or after byte `byteLength` of the tensor are all zero
    /// (the last data word is zero-padded on the right; leaves past the data are all-zero words).
    function paddingIsZero(bytes32 word, uint256 wordIndex, uint256 byteLength) internal pure returns (bool) {
        uint256 start = wordIndex << 5;
        if (start + 32 <= byteLength) return true;
        uint256 valid = byteLength > start ? byteLength - start : 0; // < 32 here
        return uint256(word) << (8 * valid) == 0;
    }
}
