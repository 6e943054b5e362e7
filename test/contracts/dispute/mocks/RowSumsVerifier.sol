// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOneStepVerifier, OneStep, WordsProof} from "../../../../contracts/interfaces/IOneStepVerifier.sol";
import {NodeHeader, IReductionFamily} from "../../../../contracts/verifier/VerifierTypes.sol";

/// @title RowSumsVerifier
/// @notice TEST DOUBLE ONLY — a one-step verifier whose partial sums are those of the REAL ReduceOps family on one
/// registered LayerNorm / Softmax row (header, input row words, params), so the dispute game plays the packed row
/// accumulators of docs/ops.md §Partial sums. It verifies no Merkle proof (the game's scenario tensors are synthetic
/// i32 words): the game's element `element` of its disputed node stands for row position `pos`, and the family's i8
/// element is relabelled to the scenario's values (`yA` ↦ `valueA`, `yB` ↦ `valueB`, anything else ↦ itself + 2^40,
/// which no scenario value equals). Never deploy it.
contract RowSumsVerifier is IOneStepVerifier {
    IReductionFamily public immutable family;
    bytes internal _header;
    WordsProof internal _row;
    WordsProof[] internal _params;
    uint256 public pos;
    int256 public yA;
    int256 public valueA;
    int256 public yB;
    int256 public valueB;

    error RowSumsNoElement();

    constructor(IReductionFamily family_) {
        family = family_;
    }

    /// @notice Registers the row: its header (abi.encode(NodeHeader)), its input words, its params, the position.
    function setRow(bytes calldata header, WordsProof calldata row, WordsProof[] calldata params, uint256 pos_) external {
        _header = header;
        _row = row;
        delete _params;
        for (uint256 j; j < params.length; ++j) _params.push(params[j]);
        pos = pos_;
    }

    /// @notice Relabels the family's element values to the scenario's.
    function setLabels(int256 yA_, int256 valueA_, int256 yB_, int256 valueB_) external {
        (yA, valueA, yB, valueB) = (yA_, valueA_, yB_, valueB_);
    }

    /// @notice The family's element for a total (no relabelling).
    function finish(int256 total) external view returns (int256 value) {
        (,, value) = family.reductionOpen(abi.decode(_header, (NodeHeader)), _params, pos, total);
    }

    /// @notice The family's A(0) for a claimed total and its Σ of terms [from, to) from `left`.
    function initOf(int256 total) external view returns (int256 init) {
        (, init,) = family.reductionOpen(abi.decode(_header, (NodeHeader)), _params, pos, total);
    }

    /// @notice Σ of terms [from, to) of the row's accumulator from the claimant's A(from) = `left`.
    function termSum(uint256 from, uint256 to, int256 left) public view returns (int256) {
        WordsProof[] memory ins = new WordsProof[](1);
        ins[0] = _row;
        return family.reductionPartial(abi.decode(_header, (NodeHeader)), ins, _params, pos, from, to, left);
    }

    /// @inheritdoc IOneStepVerifier
    function computeElement(bytes32, bytes32[] calldata, OneStep calldata) external pure returns (uint256, int256) {
        revert RowSumsNoElement();
    }

    /// @inheritdoc IOneStepVerifier
    function reducible(uint8) external pure returns (bool) {
        return true;
    }

    /// @inheritdoc IOneStepVerifier
    function openReduction(bytes32, OneStep calldata step, int256 total)
        external
        view
        returns (uint256 outputTensorId, uint256 terms, int256 init, int256 value)
    {
        (terms, init, value) = family.reductionOpen(abi.decode(_header, (NodeHeader)), _params, pos, total);
        value = value == yA ? valueA : value == yB ? valueB : value + 2 ** 40;
        outputTensorId = abi.decode(step.node.header, (NodeHeader)).output;
    }

    /// @inheritdoc IOneStepVerifier
    function computePartial(bytes32, bytes32[] calldata, OneStep calldata step, uint256 from, uint256 to, int256 left)
        external
        view
        returns (uint256 outputTensorId, int256 sum)
    {
        sum = termSum(from, to, left);
        outputTensorId = abi.decode(step.node.header, (NodeHeader)).output;
    }
}
