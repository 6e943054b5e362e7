// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A Merkle proof of one node of a model: its header and param roots, proven in the modelRoot.
struct NodeProof { uint256 index; uint256 count; bytes header; bytes32[] paramRoots; bytes32[] siblings; }
/// @notice A multiproof of some 32-byte words of a tensor's element bytes (docs/protocol.md §Proofs).
struct WordsProof { uint256 leafCount; uint256[] indices; bytes32[] words; bytes32[] siblings; }
/// @notice Everything needed to recompute output element `outputIndex` of one node.
struct OneStep { NodeProof node; WordsProof[] inputs; WordsProof[] params; uint256 outputIndex; }

/// @title IOneStepVerifier
/// @notice Re-executes one output element of one op of a committed model (docs/ops.md semantics).
interface IOneStepVerifier {
  /// @notice Recomputes output element `step.outputIndex` of node `step.node.index`.
  /// @param modelRoot The committed model.
  /// @param inputTensorRoots tensorRoot of each input the node reads, in header order.
  /// @param step Node proof, input and param multiproofs, and the output element index.
  /// @return outputTensorId The tensor id the node writes (its trace position).
  /// @return value The recomputed element.
  function computeElement(bytes32 modelRoot, bytes32[] calldata inputTensorRoots, OneStep calldata step)
      external view returns (uint256 outputTensorId, int256 value);
}
