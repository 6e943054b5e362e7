// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

struct NodeProof { uint256 index; uint256 count; bytes header; bytes32[] paramRoots; bytes32[] siblings; } // node `index` of `count` in modelRoot (docs/protocol.md)
struct WordsProof { uint256 leafCount; uint256[] indices; bytes32[] words; bytes32[] siblings; } // multiproof (docs/protocol.md algorithm)
struct OneStep { NodeProof node; WordsProof[] inputs; WordsProof[] params; uint256 outputIndex; }
interface IOneStepVerifier {
  /// Recomputes element `step.outputIndex` of node `step.node.index`'s output from the node's committed header and params
  /// (proven in modelRoot) and the input elements (step.inputs[i] proven against inputTensorRoots[i], which the caller has
  /// already proven to be the claimant's roots of the node's input tensors). Reverts with a custom error on any bad proof.
  function computeElement(bytes32 modelRoot, bytes32[] calldata inputTensorRoots, OneStep calldata step)
      external view returns (uint256 outputTensorId, int256 value);
}
