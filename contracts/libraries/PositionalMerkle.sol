// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @title PositionalMerkle
/// @notice Fixed-shape Merkle tree over `count` leaves used for task inputs and results.
/// Shape: depth d = ceil(log2(count)) (0 for a single leaf); leaves beyond `count` are bytes32(0);
/// node = keccak256(left || right). The proof for leaf i has exactly d siblings, bottom-up, and bit k of i
/// says whether the node at level k is a right child. Because the path is fixed by the index, every index
/// has exactly one leaf: a committed root cannot hold two answers for one element.
/// Leaves are double-hashed (keccak256(keccak256(abi.encode(...)))) so they can never equal an inner node.
library PositionalMerkle {
    /// @notice Largest supported number of leaves (depth 16).
    uint256 internal constant MAX_LEAVES = 1 << 16;

    /// @notice Leaf for element `index` of a result: its 0x07 output digest only (no trace root: the trace is a
    /// function of model and inputs, bound in a dispute by the game itself, docs/protocol.md §Commitments). Same
    /// encoding as {inputLeaf}; the digests differ by their 0x06 / 0x07 domain prefix.
    function resultLeaf(uint256 index, bytes32 outputHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, outputHash))));
    }

    /// @notice Leaf for element `index` of a task's input: the hash of its input bytes.
    function inputLeaf(uint256 index, bytes32 inputHash) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, inputHash))));
    }

    /// @notice Tree depth for `count` leaves (count must be in 1..MAX_LEAVES).
    function depth(uint256 count) internal pure returns (uint256 d) {
        while ((uint256(1) << d) < count) ++d;
    }

    /// @notice Whether `leaf` sits at position `index` of the tree of `count` leaves with root `root`.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf, uint256 index, uint256 count)
        internal
        pure
        returns (bool)
    {
        if (index >= count) return false;
        uint256 d = depth(count);
        if (proof.length != d) return false;
        bytes32 node = leaf;
        for (uint256 k; k < d; ++k) {
            node = (index >> k) & 1 == 0
                ? Hashes.efficientKeccak256(node, proof[k])
                : Hashes.efficientKeccak256(proof[k], node);
        }
        return node == root;
    }
}
