// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ProofLib} from "../verifier/lib/ProofLib.sol";
import {DisputeCommitments as C} from "../dispute/DisputeCommitments.sol";

/// @title IoCommitments
/// @notice The task market's commitments to a run's inputs and outputs, in the dispute game's format
/// (docs/protocol.md §Task market): a tensor published in calldata is hashed to its tensorRoot
/// (docs/protocol.md §tensorRoot) and a list of tensors to
/// `keccak256(prefix ‖ uint32 n ‖ tensorRoot_0 ‖ … ‖ tensorRoot_{n−1})` with prefix 0x06 (inputs) or 0x07 (outputs),
/// exactly the `inputHash` / `outputHash` DisputeGame.open expects and revealRoots checks.
library IoCommitments {
    /// @notice A tensor in calldata: dtype code (1 i8, 2 u8, 3 i32), stored shape, element bytes (docs/protocol.md
    /// "Element bytes": row-major, i8/u8 one byte, i32 four bytes big-endian).
    struct Tensor {
        uint8 dtype;
        uint32[] shape;
        bytes data;
    }

    /// @notice Domain prefix of the inputs digest.
    uint8 internal constant PREFIX_INPUTS = 0x06;
    /// @notice Domain prefix of the outputs digest.
    uint8 internal constant PREFIX_OUTPUTS = 0x07;
    /// @notice Most tensors in one digest (the game reveals at most 4096 trace tensors).
    uint256 internal constant MAX_TENSORS = 4096;

    /// @notice tensorRoot of `t`; `ok` is false (and `root` zero) if the dtype is unknown, the rank exceeds 255, the
    /// element count exceeds uint32 or the data length is not numElements · elementSize.
    /// @dev Loops over the caller's own calldata (dims, words) in its own transaction.
    function tensorRoot(Tensor memory t) internal pure returns (bytes32 root, bool ok) {
        uint256 es = C.elementSize(t.dtype);
        uint256 rank = t.shape.length;
        if (es == 0 || rank > 255) return (bytes32(0), false);
        uint256 n = 1;
        for (uint256 i; i < rank; ++i) {
            n *= t.shape[i]; // each factor < 2^32 and n ≤ 2^32 before it: no overflow
            if (n > type(uint32).max) return (bytes32(0), false);
        }
        if (t.data.length != n * es) return (bytes32(0), false);
        return (C.tensorRoot(t.dtype, t.shape, dataRoot(t.data)), true);
    }

    /// @notice Merkle root of the 32-byte words of `data` (last word zero-padded on the right; empty data is one
    /// all-zero leaf), as in docs/protocol.md §Merkle tree.
    function dataRoot(bytes memory data) internal pure returns (bytes32) {
        uint256 len = data.length;
        uint256 n = (len + 31) >> 5;
        bytes32[] memory words = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            bytes32 w;
            assembly ("memory-safe") {
                w := mload(add(add(data, 32), shl(5, i)))
            }
            uint256 rest = len - (i << 5);
            // Bytes past the end of `data` are whatever memory follows: zero them.
            if (rest < 32) w &= bytes32(~(type(uint256).max >> (8 * rest)));
            words[i] = w;
        }
        return ProofLib.rootOfWords(words);
    }

    /// @notice keccak256(prefix ‖ uint32 ts.length ‖ tensorRoot(ts[0]) ‖ …). `ok` is false (digest zero) if the list
    /// is empty or longer than MAX_TENSORS, or a tensor is malformed (`bad` is then its index).
    function digest(uint8 prefix, Tensor[] memory ts) internal pure returns (bytes32 d, bool ok, uint256 bad) {
        uint256 n = ts.length;
        if (n == 0 || n > MAX_TENSORS) return (bytes32(0), false, n);
        bytes memory pre = new bytes(5 + 32 * n);
        assembly ("memory-safe") {
            let p := add(pre, 32)
            mstore8(p, prefix)
            mstore(add(p, 1), shl(224, n)) // 4 bytes BE; the zeros after it are overwritten by the roots
        }
        for (uint256 i; i < n; ++i) {
            (bytes32 r, bool good) = tensorRoot(ts[i]);
            if (!good) return (bytes32(0), false, i);
            assembly ("memory-safe") {
                mstore(add(add(pre, 37), shl(5, i)), r)
            }
        }
        return (keccak256(pre), true, 0);
    }
}
