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

  /// Whether op code `op` is a reduction with partial sums (docs/ops.md §Partial sums): the dispute game may then bisect
  /// inside the accumulator of one of its output elements.
  function reducible(uint8 op) external view returns (bool);

  /// Opens the accumulator of element `step.outputIndex` (a reducible op): the number of terms T, the initial value A(0)
  /// (the bias, from the proven params; Softmax: the row max stated in `total`) and the element that finishing from
  /// `total` = A(T) gives (requantize and clamp, from the proven params). Inputs are not read. Reverts on any bad proof or a non-reducible op.
  function openReduction(bytes32 modelRoot, OneStep calldata step, int256 total)
      external view returns (uint256 outputTensorId, uint256 terms, int256 init, int256 value);

  /// Σ of terms [from, to) of the accumulator of element `step.outputIndex` (A(to) − A(from)), from the proven input and
  /// param elements those terms read (inputTensorRoots as for computeElement). Requires from ≤ to ≤ T. `left` is the
  /// claimant's A(from): a term may read the accumulator's fixed fields from it (Softmax: the row max the claimant
  /// stated in its total, docs/ops.md §Partial sums); the dense ops ignore it.
  function computePartial(
      bytes32 modelRoot,
      bytes32[] calldata inputTensorRoots,
      OneStep calldata step,
      uint256 from,
      uint256 to,
      int256 left
  ) external view returns (uint256 outputTensorId, int256 sum);
}
