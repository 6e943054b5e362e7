// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOneStepVerifier, OneStep, NodeProof, WordsProof} from "../interfaces/IOneStepVerifier.sol";
import {
    NodeHeader,
    Operand,
    IOpFamily,
    IReductionFamily,
    VerifierNodeIndexOutOfRange,
    VerifierInvalidNodeCount,
    VerifierNodeSiblingCount,
    VerifierNodeNotInModel,
    VerifierParamRootCount,
    VerifierInputCount,
    VerifierParamProofCount,
    VerifierTensorRootMismatch,
    VerifierOutputIndexOutOfRange,
    VerifierUnsupportedOp,
    OP_LINEAR,
    OP_CONV,
    OP_MAT_MUL,
    OP_ADD,
    OP_MUL,
    OP_LUT,
    OP_MAX_POOL,
    OP_AVERAGE_POOL,
    OP_GLOBAL_AVERAGE_POOL,
    OP_SOFTMAX,
    OP_LAYER_NORM,
    OP_GATHER,
    OP_RESHAPE,
    OP_TRANSPOSE,
    OP_CONCAT,
    OP_SLICE,
    OP_REQUANTIZE,
    OP_MAT_MUL_INTEGER,
    OP_CONV_INTEGER,
    OP_QLINEAR_MAT_MUL,
    OP_QLINEAR_CONV
} from "./VerifierTypes.sol";
import {ProofLib} from "./lib/ProofLib.sol";

/// @title OneStepVerifier
/// @notice Router of the one-step verifier: checks the node proof against the modelRoot and every
/// opened input/param multiproof against its tensorRoot, then delegates the recomputation of the
/// output element to the contract of the op's family (a plain view call: families are pure).
/// @dev An input or param proof with no indices is "not opened": it is not verified and the op
/// cannot read it (Concat reads one input only). Op codes: the OP_* constants of VerifierTypes.sol,
/// generated from OP_TYPES (src/engine/ir.ts).
contract OneStepVerifier is IOneStepVerifier {
    /// @notice Linear, Conv, MatMul, MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv.
    IOpFamily public immutable dense;
    /// @notice Add, Mul, Lut, Gather, Reshape, Transpose, Concat, Slice, Requantize.
    IOpFamily public immutable elementwise;
    /// @notice MaxPool, AveragePool, GlobalAveragePool, Softmax, LayerNorm.
    IOpFamily public immutable reduce;

    /// @param dense_ The DenseOps contract.
    /// @param elementwise_ The ElementwiseOps contract.
    /// @param reduce_ The ReduceOps contract.
    constructor(IOpFamily dense_, IOpFamily elementwise_, IOpFamily reduce_) {
        dense = dense_;
        elementwise = elementwise_;
        reduce = reduce_;
    }

    /// @inheritdoc IOneStepVerifier
    function computeElement(bytes32 modelRoot, bytes32[] calldata inputTensorRoots, OneStep calldata step)
        external
        view
        returns (uint256 outputTensorId, int256 value)
    {
        NodeHeader memory h = _verifyNode(modelRoot, step.node);
        uint256 nIn = h.inputs.length;
        if (inputTensorRoots.length != nIn || step.inputs.length != nIn) {
            revert VerifierInputCount(nIn, inputTensorRoots.length, step.inputs.length);
        }
        if (step.params.length != h.params.length) revert VerifierParamProofCount(h.params.length, step.params.length);
        for (uint256 i; i < nIn; ++i) {
            _verifyTensor(step.inputs[i], h.inputMeta[i].dtype, h.inputMeta[i].shape, inputTensorRoots[i], Operand.Input, i);
        }
        for (uint256 j; j < h.params.length; ++j) {
            _verifyTensor(step.params[j], h.params[j].dtype, h.params[j].shape, step.node.paramRoots[j], Operand.Param, j);
        }
        uint256 nOut = 1;
        for (uint256 k; k < h.outputMeta.shape.length; ++k) nOut *= h.outputMeta.shape[k];
        if (step.outputIndex >= nOut) revert VerifierOutputIndexOutOfRange(step.outputIndex, nOut);
        value = familyOf(h.op).compute(h, step.inputs, step.params, step.outputIndex);
        outputTensorId = h.output;
    }

    /// @inheritdoc IOneStepVerifier
    function reducible(uint8 op) public pure returns (bool) {
        return op == OP_LINEAR || op == OP_CONV || op == OP_MAT_MUL || op == OP_MAT_MUL_INTEGER || op == OP_CONV_INTEGER
            || op == OP_QLINEAR_MAT_MUL || op == OP_QLINEAR_CONV || op == OP_GLOBAL_AVERAGE_POOL || op == OP_SOFTMAX
            || op == OP_LAYER_NORM;
    }

    /// @inheritdoc IOneStepVerifier
    function openReduction(bytes32 modelRoot, OneStep calldata step, int256 total)
        external
        view
        returns (uint256 outputTensorId, uint256 terms, int256 init, int256 value)
    {
        NodeHeader memory h = _verifyNode(modelRoot, step.node);
        if (!reducible(h.op)) revert VerifierUnsupportedOp(h.op);
        _verifyParams(h, step);
        _checkOutputIndex(h, step.outputIndex);
        (terms, init, value) = IReductionFamily(address(familyOf(h.op))).reductionOpen(h, step.params, step.outputIndex, total);
        outputTensorId = h.output;
    }

    /// @inheritdoc IOneStepVerifier
    function computePartial(
        bytes32 modelRoot,
        bytes32[] calldata inputTensorRoots,
        OneStep calldata step,
        uint256 from,
        uint256 to,
        int256 left
    ) external view returns (uint256 outputTensorId, int256 sum) {
        NodeHeader memory h = _verifyNode(modelRoot, step.node);
        if (!reducible(h.op)) revert VerifierUnsupportedOp(h.op);
        _verifyInputs(h, inputTensorRoots, step);
        _verifyParams(h, step);
        _checkOutputIndex(h, step.outputIndex);
        sum = IReductionFamily(address(familyOf(h.op))).reductionPartial(h, step.inputs, step.params, step.outputIndex, from, to, left);
        outputTensorId = h.output;
    }

    function _verifyInputs(NodeHeader memory h, bytes32[] calldata inputTensorRoots, OneStep calldata step) private pure {
        uint256 nIn = h.inputs.length;
        if (inputTensorRoots.length != nIn || step.inputs.length != nIn) {
            revert VerifierInputCount(nIn, inputTensorRoots.length, step.inputs.length);
        }
        for (uint256 i; i < nIn; ++i) {
            _verifyTensor(step.inputs[i], h.inputMeta[i].dtype, h.inputMeta[i].shape, inputTensorRoots[i], Operand.Input, i);
        }
    }

    function _verifyParams(NodeHeader memory h, OneStep calldata step) private pure {
        if (step.params.length != h.params.length) revert VerifierParamProofCount(h.params.length, step.params.length);
        for (uint256 j; j < h.params.length; ++j) {
            _verifyTensor(step.params[j], h.params[j].dtype, h.params[j].shape, step.node.paramRoots[j], Operand.Param, j);
        }
    }

    function _checkOutputIndex(NodeHeader memory h, uint256 o) private pure {
        uint256 nOut = 1;
        for (uint256 k; k < h.outputMeta.shape.length; ++k) nOut *= h.outputMeta.shape[k];
        if (o >= nOut) revert VerifierOutputIndexOutOfRange(o, nOut);
    }

    /// @notice The family contract that computes op code `op` (reverts for an unknown op).
    /// @param op The op code (index in OP_TYPES).
    /// @return The family contract.
    function familyOf(uint8 op) public view returns (IOpFamily) {
        if (
            op == OP_LINEAR || op == OP_CONV || op == OP_MAT_MUL || op == OP_MAT_MUL_INTEGER || op == OP_CONV_INTEGER
                || op == OP_QLINEAR_MAT_MUL || op == OP_QLINEAR_CONV
        ) return dense;
        if (
            op == OP_ADD || op == OP_MUL || op == OP_LUT || op == OP_GATHER || op == OP_RESHAPE || op == OP_TRANSPOSE
                || op == OP_CONCAT || op == OP_SLICE || op == OP_REQUANTIZE
        ) return elementwise;
        if (op == OP_MAX_POOL || op == OP_AVERAGE_POOL || op == OP_GLOBAL_AVERAGE_POOL || op == OP_SOFTMAX || op == OP_LAYER_NORM) {
            return reduce;
        }
        revert VerifierUnsupportedOp(op);
    }

    /// @dev Node commitment keccak256(0x04 ‖ keccak256(header) ‖ merkleRoot(paramRoots)) proven in
    /// modelRoot = keccak256(0x05 ‖ uint32 count ‖ merkleRoot(nodes)); decodes the header only once
    /// it is known to be committed (so it is well-formed).
    function _verifyNode(bytes32 modelRoot, NodeProof calldata np) private pure returns (NodeHeader memory h) {
        if (np.count == 0 || np.count > type(uint32).max) revert VerifierInvalidNodeCount(np.count);
        if (np.index >= np.count) revert VerifierNodeIndexOutOfRange(np.index, np.count);
        uint256 d = ProofLib.depthOf(np.count);
        if (np.siblings.length != d) revert VerifierNodeSiblingCount(d, np.siblings.length);
        bytes32 leaf = ProofLib.nodeCommitment(np.header, np.paramRoots);
        bytes32 root =
            ProofLib.listRoot(ProofLib.PREFIX_MODEL, np.count, ProofLib.singleRoot(leaf, np.index, np.siblings));
        if (root != modelRoot) revert VerifierNodeNotInModel(root, modelRoot);
        h = abi.decode(np.header, (NodeHeader));
        if (np.paramRoots.length != h.params.length) revert VerifierParamRootCount(h.params.length, np.paramRoots.length);
    }

    /// @dev Checks an opened multiproof against a tensorRoot; dtype and shape come from the header.
    function _verifyTensor(
        WordsProof calldata p,
        uint8 dtype,
        uint32[] memory shape,
        bytes32 expected,
        Operand operand,
        uint256 which
    ) private pure {
        if (p.indices.length == 0 && p.words.length == 0 && p.siblings.length == 0) return; // not opened
        uint256 n = ProofLib.numElements(shape, operand, which);
        bytes32 dataRoot = ProofLib.multiRoot(p, ProofLib.leafCountOf(n, dtype == 3 ? 4 : 1), operand, which);
        bytes32 root = ProofLib.tensorRoot(dtype, shape, n, dataRoot);
        if (root != expected) revert VerifierTensorRootMismatch(operand, which, root, expected);
    }
}
