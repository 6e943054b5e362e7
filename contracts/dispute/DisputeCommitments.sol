// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProofLib} from "../verifier/lib/ProofLib.sol";

/// @title DisputeCommitments
/// @notice What the dispute game checks of docs/protocol.md §Commitments on top of {ProofLib} (which owns the Merkle
/// tree, tensorRoot, list roots and node commitments; the node header type is `NodeHeader` in VerifierTypes.sol):
/// one-leaf proofs with their shape checked, trace membership, element counts, element decoding and padding. The
/// one-step verifier checks the element-level proofs; this library checks only what the game needs to bisect a
/// trace. Every loop here runs over a tree depth (≤ 32) or over a list the caller pays for hashing in its own
/// transaction.
library DisputeCommitments {
    /// @notice Largest tree depth the game accepts (2^32 leaves).
    uint256 internal constant MAX_DEPTH = 32;

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
        if (siblings.length != ProofLib.depthOf(leafCount)) return bytes32(0);
        return ProofLib.singleRoot(word, index, siblings);
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
        return mr != bytes32(0) && ProofLib.listRoot(ProofLib.PREFIX_TRACE, count, mr) == traceRoot;
    }

    /// @notice Number of elements of a tensor of stored shape `shape`. Reverts (checked arithmetic / explicit) if the
    /// rank exceeds 255 or the element count exceeds uint32.
    function elementCount(uint32[] memory shape) internal pure returns (uint256 n) {
        uint256 rank = shape.length;
        require(rank <= 255);
        n = 1;
        for (uint256 i; i < rank; ++i) {
            n *= shape[i];
        }
        require(n <= type(uint32).max);
    }

    /// @notice tensorRoot (ProofLib.tensorRoot) of a tensor of `dtype` and `shape` whose words have Merkle root
    /// `dataRoot`, with the shape checked as in {elementCount}.
    function tensorRoot(uint8 dtype, uint32[] memory shape, bytes32 dataRoot) internal pure returns (bytes32) {
        return ProofLib.tensorRoot(dtype, shape, elementCount(shape), dataRoot);
    }

    /// @notice Bytes per element of a dtype code (1 i8, 2 u8: 1 byte; 3 i32: 4 bytes); 0 for an unknown code.
    function elementSize(uint8 dtype) internal pure returns (uint256) {
        if (dtype == 1 || dtype == 2) return 1;
        if (dtype == 3) return 4;
        return 0;
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
