// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../../interfaces/IOneStepVerifier.sol";
import {
    Operand,
    VerifierLeafCount,
    VerifierWordCount,
    VerifierProofIndex,
    VerifierProofSiblings,
    VerifierTensorTooLarge
} from "../VerifierTypes.sol";

/// @notice rootOfHashesCalldata got `count` nodes: not a full subtree (a power of two, at least one).
error ProofLibNotFullSubtree(uint256 count);

/// @title ProofLib
/// @notice keccak256 Merkle trees, multiproofs, tensorRoots, length-bound list roots and node commitments exactly as
/// docs/protocol.md §Commitments: the one place these are written in Solidity (the dispute game, the task market's
/// io digests and the one-step verifier all call it).
library ProofLib {
    uint8 internal constant PREFIX_LEAF = 0x00;
    uint8 internal constant PREFIX_NODE = 0x01;
    uint8 internal constant PREFIX_TENSOR = 0x02;
    uint8 internal constant PREFIX_TRACE = 0x03;
    uint8 internal constant PREFIX_NODE_COMMITMENT = 0x04;
    uint8 internal constant PREFIX_MODEL = 0x05;

    /// @notice Z[0] = keccak256(0x00 ‖ 0^32): the leaf hash of an all-zero (padding) word.
    bytes32 internal constant ZERO_LEAF = 0xf39a869f62e75cf5f0bf914688a6b289caf2049435d8e68c5c5e6d05e44913f3;

    /// @notice keccak256(0x00 ‖ word).
    function leafHash(bytes32 word) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0)
            mstore(add(p, 1), word)
            r := keccak256(p, 33)
        }
    }

    /// @notice keccak256(0x01 ‖ l ‖ r).
    function nodeHash(bytes32 l, bytes32 r) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 1)
            mstore(add(p, 1), l)
            mstore(add(p, 33), r)
            h := keccak256(p, 65)
        }
    }

    /// @notice ceil(log2(leafCount)) (0 for one leaf).
    function depthOf(uint256 leafCount) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < leafCount) ++d;
    }

    /// @notice Merkle root of a list of 32-byte words (leaves leafHash(word); an empty list is one zero leaf, Z[0]).
    function rootOfWords(bytes32[] memory words) internal pure returns (bytes32 r) {
        uint256 n = words.length;
        if (n == 0) return ZERO_LEAF;
        uint256 buf = _scratch(n);
        assembly ("memory-safe") {
            // n leaf hashes at buf, the hash preimage at s (both in _scratch's allocation)
            let s := add(buf, shl(5, n))
            mstore8(s, 0)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(s, 1), mload(add(words, shl(5, add(i, 1)))))
                mstore(add(buf, shl(5, i)), keccak256(s, 33))
            }
        }
        return _fold(buf, n);
    }

    /// @notice {rootOfWords} of a list in calldata, hashing the leaves straight from calldata (no memory copy).
    function rootOfWordsCalldata(bytes32[] calldata words) internal pure returns (bytes32 r) {
        uint256 n = words.length;
        if (n == 0) return ZERO_LEAF;
        uint256 buf = _scratch(n);
        assembly ("memory-safe") {
            let s := add(buf, shl(5, n))
            mstore8(s, 0)
            let off := words.offset
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(s, 1), calldataload(add(off, shl(5, i))))
                mstore(add(buf, shl(5, i)), keccak256(s, 33))
            }
        }
        return _fold(buf, n);
    }

    /// @notice Root of the subtree whose nodes `hashes` (a power-of-two count ≥ 1, all at one height) are: the
    /// bisection's check that revealed children hash up to their parent.
    function rootOfHashesCalldata(bytes32[] calldata hashes) internal pure returns (bytes32) {
        uint256 n = hashes.length;
        // INVARIANT: a full subtree: otherwise the fold would pad with leaf-level zero hashes at the wrong height.
        if (n == 0 || n & (n - 1) != 0) revert ProofLibNotFullSubtree(n);
        uint256 buf = _scratch(n);
        assembly ("memory-safe") {
            calldatacopy(buf, hashes.offset, shl(5, n))
        }
        return _fold(buf, n);
    }

    /// @dev Allocates room for `n` hashes and a 65-byte hash preimage after them (the free pointer moves past it, so
    /// nothing Solidity allocates before {_fold} runs can overwrite the hashes).
    function _scratch(uint256 n) private pure returns (uint256 buf) {
        assembly ("memory-safe") {
            buf := mload(0x40)
            mstore(0x40, add(buf, add(shl(5, n), 96)))
        }
    }

    /// @dev Hashes the `n` ≥ 1 hashes at `buf` (a {_scratch} allocation) up to the root, level by
    /// level in place, pairing an odd last node with the zero-subtree hash of its level (Z[0] = ZERO_LEAF,
    /// Z[k+1] = nodeHash(Z[k], Z[k])). Assembly: the Solidity loop cost ~440 gas a hash (a 105-tensor trace root was
    /// 92k of revealRoots' execution); the hashes are the same.
    function _fold(uint256 buf, uint256 n) private pure returns (bytes32 r) {
        bytes32 z = ZERO_LEAF;
        assembly ("memory-safe") {
            let s := add(buf, shl(5, n))
            mstore8(s, 1)
            for {} gt(n, 1) {} {
                let m := shr(1, add(n, 1))
                let pairs := shr(1, n) // nodes with two real children
                for { let i := 0 } lt(i, pairs) { i := add(i, 1) } {
                    let a := add(buf, shl(6, i))
                    mstore(add(s, 1), mload(a))
                    mstore(add(s, 33), mload(add(a, 32)))
                    mstore(add(buf, shl(5, i)), keccak256(s, 65))
                }
                if lt(pairs, m) {
                    // odd n: the last node's right child is the zero subtree of this level
                    mstore(add(s, 1), mload(add(buf, shl(6, pairs))))
                    mstore(add(s, 33), z)
                    mstore(add(buf, shl(5, pairs)), keccak256(s, 65))
                }
                n := m
                mstore(add(s, 1), z)
                mstore(add(s, 33), z)
                z := keccak256(s, 65)
            }
            r := mload(buf)
        }
    }

    /// @notice keccak256(prefix ‖ uint32 count ‖ merkleRoot): the length-bound list roots (traceRoot, modelRoot).
    function listRoot(uint8 prefix, uint256 count, bytes32 merkleRoot) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(prefix, uint32(count), merkleRoot));
    }

    /// @notice The node commitment keccak256(0x04 ‖ keccak256(header) ‖ merkleRoot(paramRoots)).
    function nodeCommitment(bytes calldata header, bytes32[] calldata paramRoots) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(PREFIX_NODE_COMMITMENT, keccak256(header), rootOfWordsCalldata(paramRoots)));
    }

    /// @notice Merkle root of a single-word proof (the word is hashed as a leaf, keccak256(0x00 ‖ word)):
    /// exactly depth(count) siblings, bottom-up.
    function singleRoot(bytes32 word, uint256 index, bytes32[] calldata siblings) internal pure returns (bytes32 h) {
        h = leafHash(word);
        for (uint256 k; k < siblings.length; ++k) {
            h = (index >> k) & 1 == 0 ? nodeHash(h, siblings[k]) : nodeHash(siblings[k], h);
        }
    }

    /// @notice Number of leaves of a tensor's tree of `n` elements of `es` bytes each: max(1, ceil(n·es/32)).
    function leafCountOf(uint256 n, uint256 es) internal pure returns (uint256 c) {
        c = (n * es + 31) >> 5;
        if (c == 0) c = 1;
    }

    /// @notice Product of the dims (1 for a scalar); reverts if it does not fit in a uint32.
    function numElements(uint32[] memory shape, Operand operand, uint256 which) internal pure returns (uint256 n) {
        n = 1;
        for (uint256 i; i < shape.length; ++i) {
            n *= shape[i];
            if (n > type(uint32).max) revert VerifierTensorTooLarge(operand, which);
        }
    }

    /// @notice The root a multiproof hashes to (docs/protocol.md `multiRoot`), with `leafCount` taken
    /// from the tensor's header (the proof's own leafCount must equal it). Works in place in memory.
    function multiRoot(WordsProof calldata p, uint256 leafCount, Operand operand, uint256 which)
        internal
        pure
        returns (bytes32)
    {
        if (p.leafCount != leafCount) revert VerifierLeafCount(operand, which, leafCount, p.leafCount);
        uint256 n = p.indices.length;
        if (n == 0 || p.words.length != n) revert VerifierWordCount(operand, which, n, p.words.length);
        uint256[] memory idx = new uint256[](n);
        bytes32[] memory h = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            uint256 j = p.indices[i];
            if (j >= leafCount || (i > 0 && j <= idx[i - 1])) revert VerifierProofIndex(operand, which, i, j);
            idx[i] = j;
            h[i] = leafHash(p.words[i]);
        }
        uint256 depth = depthOf(leafCount);
        uint256 s;
        for (uint256 level; level < depth; ++level) {
            (n, s) = _level(idx, h, n, p.siblings, s);
            if (s == type(uint256).max) revert VerifierProofSiblings(operand, which, p.siblings.length + 1, p.siblings.length);
        }
        if (s != p.siblings.length) revert VerifierProofSiblings(operand, which, s, p.siblings.length);
        return h[0];
    }

    /// @dev One level of the multiproof traversal, in place; returns the new node count and sibling
    /// cursor (type(uint256).max when the siblings run out).
    function _level(uint256[] memory idx, bytes32[] memory h, uint256 n, bytes32[] calldata sib, uint256 s)
        private
        pure
        returns (uint256 m, uint256)
    {
        uint256 i;
        while (i < n) {
            uint256 j = idx[i];
            bytes32 q;
            if (j & 1 == 0 && i + 1 < n && idx[i + 1] == j + 1) {
                q = nodeHash(h[i], h[i + 1]);
                i += 2;
            } else {
                if (s >= sib.length) return (0, type(uint256).max);
                q = j & 1 == 0 ? nodeHash(h[i], sib[s]) : nodeHash(sib[s], h[i]);
                ++s;
                ++i;
            }
            idx[m] = j >> 1;
            h[m] = q;
            ++m;
        }
        return (m, s);
    }

    /// @notice keccak256(0x02 ‖ dtype ‖ uint32 n ‖ uint8 rank ‖ uint32 dims… ‖ dataRoot), all big-endian.
    function tensorRoot(uint8 dtype, uint32[] memory shape, uint256 n, bytes32 dataRoot) internal pure returns (bytes32 r) {
        uint256 rank = shape.length;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 2)
            mstore8(add(p, 1), dtype)
            mstore(add(p, 2), shl(224, n))
            mstore8(add(p, 6), rank)
            let src := add(shape, 32)
            for { let k := 0 } lt(k, rank) { k := add(k, 1) } {
                mstore(add(add(p, 7), mul(k, 4)), shl(224, mload(add(src, mul(k, 32)))))
            }
            let end := add(add(p, 7), mul(rank, 4))
            mstore(end, dataRoot)
            r := keccak256(p, add(39, mul(rank, 4)))
        }
    }
}
