// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOneStepVerifier, OneStep} from "../../../../contracts/interfaces/IOneStepVerifier.sol";
import {NodeHeader} from "../../../../contracts/verifier/VerifierTypes.sol";

/// @title MockOneStepVerifier
/// @notice TEST DOUBLE ONLY — stands in for contracts/verifier/OneStepVerifier.sol until it lands. It verifies NO
/// proof: it decodes the node header the game passes, checks only that one input root is given per header input,
/// and returns the "correct" value the test registered — either one element ({setAnswer}) or a whole reference
/// output tensor's element bytes ({setReference}, decoded with the header's output dtype). Never deploy it.
contract MockOneStepVerifier is IOneStepVerifier {
    struct Answer {
        bool set;
        int256 value;
    }

    mapping(uint256 nodeIndex => mapping(uint256 outputIndex => Answer)) private _answers;
    mapping(uint256 nodeIndex => bytes) private _reference;
    bool public revertAll;

    struct Reduction {
        bool set;
        int256 init;
        int256[] terms;
    }

    mapping(uint256 nodeIndex => mapping(uint256 outputIndex => Reduction)) private _reductions;
    /// @notice Whether {reducible} answers true (set once a reduction is registered).
    bool public reducibleOp;

    error MockNoReduction(uint256 nodeIndex, uint256 outputIndex);
    error MockSumRange(uint256 from, uint256 to, uint256 terms);

    error MockNoAnswer(uint256 nodeIndex, uint256 outputIndex);
    error MockInputCount(uint256 given, uint256 expected);
    error MockReverted();

    /// @notice Registers the correct value of element `outputIndex` of node `nodeIndex`'s output.
    function setAnswer(uint256 nodeIndex, uint256 outputIndex, int256 value) external {
        _answers[nodeIndex][outputIndex] = Answer(true, value);
    }

    /// @notice Registers the correct element bytes (docs/protocol.md "Element bytes") of node `nodeIndex`'s output.
    function setReference(uint256 nodeIndex, bytes calldata elementBytes) external {
        _reference[nodeIndex] = elementBytes;
    }

    /// @notice Registers a reduction for element `outputIndex` of node `nodeIndex`: A(0) = init, term t = terms_[t];
    /// the mock's finish is the identity (the element equals A(T)). Nodes with a registered reduction are reducible.
    function setReduction(uint256 nodeIndex, uint256 outputIndex, int256 init, int256[] calldata terms_) external {
        _reductions[nodeIndex][outputIndex] = Reduction(true, init, terms_);
        reducibleOp = true;
    }

    /// @notice Makes every call revert (to test a verifier that rejects the step).
    function setRevertAll(bool on) external {
        revertAll = on;
    }

    /// @inheritdoc IOneStepVerifier
    function computeElement(bytes32, bytes32[] calldata inputTensorRoots, OneStep calldata step)
        external
        view
        returns (uint256 outputTensorId, int256 value)
    {
        if (revertAll) revert MockReverted();
        NodeHeader memory h = abi.decode(step.node.header, (NodeHeader));
        if (inputTensorRoots.length != h.inputs.length) revert MockInputCount(inputTensorRoots.length, h.inputs.length);
        outputTensorId = h.output;
        uint256 node = step.node.index;
        uint256 e = step.outputIndex;
        Answer memory a = _answers[node][e];
        if (a.set) return (outputTensorId, a.value);
        bytes storage ref = _reference[node];
        uint8 dtype = h.outputMeta.dtype;
        uint256 es = dtype == 3 ? 4 : 1;
        if ((e + 1) * es > ref.length) revert MockNoAnswer(node, e);
        if (dtype == 3) {
            uint32 u = (uint32(uint8(ref[4 * e])) << 24) | (uint32(uint8(ref[4 * e + 1])) << 16)
                | (uint32(uint8(ref[4 * e + 2])) << 8) | uint32(uint8(ref[4 * e + 3]));
            value = int256(int32(u));
        } else {
            uint8 b = uint8(ref[e]);
            value = dtype == 1 ? int256(int8(b)) : int256(uint256(b));
        }
    }

    /// @inheritdoc IOneStepVerifier
    function reducible(uint8) external view returns (bool) {
        return reducibleOp;
    }

    /// @inheritdoc IOneStepVerifier
    function openReduction(bytes32, OneStep calldata step, int256 total)
        external
        view
        returns (uint256 outputTensorId, uint256 terms, int256 init, int256 value)
    {
        if (revertAll) revert MockReverted();
        NodeHeader memory h = abi.decode(step.node.header, (NodeHeader));
        Reduction storage r = _reductions[step.node.index][step.outputIndex];
        if (!r.set) revert MockNoReduction(step.node.index, step.outputIndex);
        return (h.output, r.terms.length, r.init, total);
    }

    /// @inheritdoc IOneStepVerifier
    function computePartial(bytes32, bytes32[] calldata inputTensorRoots, OneStep calldata step, uint256 from, uint256 to, int256)
        external
        view
        returns (uint256 outputTensorId, int256 sum)
    {
        if (revertAll) revert MockReverted();
        NodeHeader memory h = abi.decode(step.node.header, (NodeHeader));
        if (inputTensorRoots.length != h.inputs.length) revert MockInputCount(inputTensorRoots.length, h.inputs.length);
        Reduction storage r = _reductions[step.node.index][step.outputIndex];
        if (!r.set) revert MockNoReduction(step.node.index, step.outputIndex);
        if (from > to || to > r.terms.length) revert MockSumRange(from, to, r.terms.length);
        for (uint256 t = from; t < to; ++t) sum += r.terms[t];
        outputTensorId = h.output;
    }
}
