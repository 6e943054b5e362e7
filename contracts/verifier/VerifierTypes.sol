// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {WordsProof} from "../interfaces/IOneStepVerifier.sol";

// Op codes: a node header's `op` is the op's index in OP_TYPES (src/engine/ir.ts).
// <generated:op-codes> from OP_TYPES in src/engine/ir.ts by scripts/gen-opcodes.ts; do not edit
uint8 constant OP_LINEAR = 0;
uint8 constant OP_CONV = 1;
uint8 constant OP_MAT_MUL = 2;
uint8 constant OP_ADD = 3;
uint8 constant OP_MUL = 4;
uint8 constant OP_LUT = 5;
uint8 constant OP_MAX_POOL = 6;
uint8 constant OP_AVERAGE_POOL = 7;
uint8 constant OP_GLOBAL_AVERAGE_POOL = 8;
uint8 constant OP_SOFTMAX = 9;
uint8 constant OP_LAYER_NORM = 10;
uint8 constant OP_GATHER = 11;
uint8 constant OP_RESHAPE = 12;
uint8 constant OP_TRANSPOSE = 13;
uint8 constant OP_CONCAT = 14;
uint8 constant OP_SLICE = 15;
uint8 constant OP_REQUANTIZE = 16;
uint8 constant OP_MAT_MUL_INTEGER = 17;
uint8 constant OP_CONV_INTEGER = 18;
uint8 constant OP_QLINEAR_MAT_MUL = 19;
uint8 constant OP_QLINEAR_CONV = 20;
// Number of op codes; a code >= OP_COUNT is unknown.
uint8 constant OP_COUNT = 21;
// </generated:op-codes>

/// @notice Tensor metadata in a node header (docs/protocol.md §Node header).
struct TensorMeta { uint8 dtype; uint8 layout; int32 zeroPoint; uint32[] shape; }
/// @notice Param metadata in a node header; params are sorted by name.
struct ParamMeta { bytes32 name; uint8 dtype; uint32[] shape; }
/// @notice The committed node header: `header = abi.encode(NodeHeader)`.
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

/// @notice Which kind of operand an error is about: a tensor input of the node or one of its params.
enum Operand { Input, Param }

/// @notice The node's index is not below the model's node count.
error VerifierNodeIndexOutOfRange(uint256 index, uint256 count);
/// @notice The node count is 0 or does not fit in a uint32.
error VerifierInvalidNodeCount(uint256 count);
/// @notice The node proof does not have exactly `expected` (= tree depth) siblings.
error VerifierNodeSiblingCount(uint256 expected, uint256 got);
/// @notice The node proof (header, param roots, siblings) does not hash to the modelRoot.
error VerifierNodeNotInModel(bytes32 computed, bytes32 modelRoot);
/// @notice The node proof carries a different number of param roots than the header lists params.
error VerifierParamRootCount(uint256 expected, uint256 got);
/// @notice The number of input tensorRoots or input proofs differs from the header's inputs.
error VerifierInputCount(uint256 expected, uint256 roots, uint256 proofs);
/// @notice The number of param proofs differs from the header's params.
error VerifierParamProofCount(uint256 expected, uint256 got);
/// @notice A multiproof's leafCount differs from the one its tensor's dtype and shape give.
error VerifierLeafCount(Operand operand, uint256 which, uint256 expected, uint256 got);
/// @notice A multiproof has a different number of words than indices.
error VerifierWordCount(Operand operand, uint256 which, uint256 indices, uint256 words);
/// @notice A multiproof index is out of range or not strictly increasing (at `position`).
error VerifierProofIndex(Operand operand, uint256 which, uint256 position, uint256 index);
/// @notice A multiproof has too few or too many siblings (`used` is how many the algorithm consumed).
error VerifierProofSiblings(Operand operand, uint256 which, uint256 used, uint256 given);
/// @notice A multiproof does not hash to the expected tensorRoot (input root or param root).
error VerifierTensorRootMismatch(Operand operand, uint256 which, bytes32 computed, bytes32 expected);
/// @notice A tensor has more elements than a uint32 holds.
error VerifierTensorTooLarge(Operand operand, uint256 which);
/// @notice The op needs element `element` of an operand, but its word is not in the (verified) proof.
error VerifierElementNotProven(Operand operand, uint256 which, uint256 element);
/// @notice The output index is not below the output's element count.
error VerifierOutputIndexOutOfRange(uint256 outputIndex, uint256 numElements);
/// @notice The op code has no verifier.
error VerifierUnsupportedOp(uint8 op);
/// @notice The header lacks a param the op requires.
error VerifierMissingParam(bytes32 name);
/// @notice The header lacks an attr the op requires.
error VerifierMissingAttr(bytes32 key);
/// @notice An attr, param value or tensor shape is outside what the op accepts (docs/ops.md).
error VerifierInvalidAttr(bytes32 key);
/// @notice A Gather index (from the proven indices tensor) is outside [-dim, dim).
error VerifierGatherIndexOutOfRange(int256 index, uint256 dim);

/// @title IOpFamily
/// @notice A contract computing one output element for a family of ops, from a header and proofs the
/// router has already verified. Pure computation: it trusts nothing but its arguments.
interface IOpFamily {
    /// @notice Output element `outputIndex` of the node described by `h`.
    /// @param h The decoded node header.
    /// @param inputs The (verified) multiproofs of the input tensors' words, one per header input.
    /// @param params The (verified) multiproofs of the params' words, one per header param.
    /// @param outputIndex Row-major index of the element in the output's stored shape.
    /// @return value The element's integer value.
    function compute(NodeHeader calldata h, WordsProof[] calldata inputs, WordsProof[] calldata params, uint256 outputIndex)
        external
        view
        returns (int256 value);
}

/// @notice A partial-sum range is not inside the element's accumulator: from ≤ to ≤ terms must hold.
error VerifierSumRange(uint256 from, uint256 to, uint256 terms);
/// @notice A Softmax total states a row max `max` that its own counts refute: `atMax` entries equal it (must be ≥ 1)
/// and `above` exceed it (must be 0), or the element's entry `own` is not in [−128, max].
error VerifierSoftmaxMax(int256 max, int256 atMax, int256 above, int256 own);

/// @title IReductionFamily
/// @notice A family whose ops accumulate a sum of terms per output element (docs/ops.md §Partial sums):
/// A(0) = init, A(t + 1) = A(t) + term_t, y = finish(A(T)). Pure computation over verified proofs.
interface IReductionFamily {
    /// @notice The term count T, A(0), and the element finish(total) gives (params only; inputs not read).
    /// @param h The decoded node header.
    /// @param params The (verified) multiproofs of the params' words.
    /// @param outputIndex Row-major index of the element in the output's stored shape.
    /// @param total The claimed A(T).
    /// @return terms T.
    /// @return init A(0).
    /// @return value finish(total).
    function reductionOpen(NodeHeader calldata h, WordsProof[] calldata params, uint256 outputIndex, int256 total)
        external
        view
        returns (uint256 terms, int256 init, int256 value);

    /// @notice Σ_{from ≤ t < to} term_t of element `outputIndex`'s accumulator.
    /// @param h The decoded node header.
    /// @param inputs The (verified) multiproofs of the input tensors' words.
    /// @param params The (verified) multiproofs of the params' words.
    /// @param outputIndex Row-major index of the element in the output's stored shape.
    /// @param from First term.
    /// @param to One past the last term (≤ T).
    /// @param left The claimant's A(from) (Softmax reads the stated row max from it; other ops ignore it).
    /// @return sum The partial sum.
    function reductionPartial(
        NodeHeader calldata h,
        WordsProof[] calldata inputs,
        WordsProof[] calldata params,
        uint256 outputIndex,
        uint256 from,
        uint256 to,
        int256 left
    ) external view returns (int256 sum);
}
