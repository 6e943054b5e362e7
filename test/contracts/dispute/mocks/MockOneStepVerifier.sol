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
}
