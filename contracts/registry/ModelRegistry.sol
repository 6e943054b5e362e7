// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ModelRegistry
/// @notice Permissionless registry of quantized models: a model is its Merkle root (commitment to weights and
/// graph), a metadata URI, and the bitmap of ops it uses (bit i = op i of the Verity engine IR). Ids start at 1.
/// The root and ops are immutable; only the registrant may move the metadata URI.
contract ModelRegistry {
    struct Model {
        bytes32 modelRoot;
        uint256 opsBitmap;
        address registrant;
        string metadataURI;
    }

    /// @notice The trace shape a registrant declares (docs/protocol.md §Adversary, item 6): the audit draw uses
    /// numInputs / numOutputs to pick an intermediate tensor; the bounds refuse models whose dispute cannot fit a block.
    /// @param numInputs Model inputs (leading trace tensors).
    /// @param nodeCount Nodes (one trace tensor each); numInputs + nodeCount ≤ MAX_TRACE_TENSORS.
    /// @param numOutputs Model outputs (trailing trace tensors), ≤ nodeCount.
    /// @param maxStepGas Gas of the costliest one-step proof of any node (≤ MAX_STEP_GAS).
    struct Shape {
        uint32 numInputs;
        uint32 nodeCount;
        uint32 numOutputs;
        uint64 maxStepGas;
    }

    /// @notice Most trace tensors (= DisputeGame.MAX_TRACE_TENSORS: one revealRoots must fit a block).
    uint256 public constant MAX_TRACE_TENSORS = 4096;
    /// @notice Most one-step gas a declared model may need (half a 30M block, room for the game's own checks).
    uint64 public constant MAX_STEP_GAS = 15_000_000;

    uint256 private _nextModelId = 1;
    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => Shape) private _shapes;

    /// @notice A model was registered.
    event ModelRegistered(
        uint256 indexed modelId, bytes32 indexed modelRoot, address indexed registrant, uint256 opsBitmap, string metadataURI
    );
    /// @notice A model's trace shape was declared at registration.
    event ModelShapeDeclared(
        uint256 indexed modelId, uint32 numInputs, uint32 nodeCount, uint32 numOutputs, uint64 maxStepGas
    );
    /// @notice A model's metadata URI was changed.
    event ModelMetadataUpdated(uint256 indexed modelId, string metadataURI);

    /// @notice Model root is zero.
    error ModelRegistryZeroRoot();
    /// @notice Ops bitmap is empty.
    error ModelRegistryNoOps();
    /// @notice No model with this id.
    error ModelRegistryUnknownModel(uint256 modelId);
    /// @notice A declared shape is out of bounds (a dispute on it could not fit a block, or it is malformed).
    error ModelRegistryShapeOutOfBounds(uint256 numInputs, uint256 nodeCount, uint256 numOutputs, uint256 maxStepGas);
    /// @notice Caller is not the registrant.
    error ModelRegistryUnauthorized(address caller, uint256 modelId);

    /// @notice Registers a model; the caller becomes its registrant.
    /// @param root Merkle root committing to the model.
    /// @param metadataURI Where the model card / weights live.
    /// @param opsBitmap Ops used by the model (non-zero).
    /// @return modelId The new id.
    function registerModel(bytes32 root, string calldata metadataURI, uint256 opsBitmap)
        external
        returns (uint256 modelId)
    {
        return _register(root, metadataURI, opsBitmap);
    }

    function _register(bytes32 root, string calldata metadataURI, uint256 opsBitmap) private returns (uint256 modelId) {
        if (root == bytes32(0)) revert ModelRegistryZeroRoot();
        if (opsBitmap == 0) revert ModelRegistryNoOps();
        modelId = _nextModelId++;
        _models[modelId] =
            Model({modelRoot: root, opsBitmap: opsBitmap, registrant: msg.sender, metadataURI: metadataURI});
        emit ModelRegistered(modelId, root, msg.sender, opsBitmap, metadataURI);
    }

    /// @notice Changes the metadata URI. Registrant only.
    /// @param modelId The model.
    /// @param metadataURI New URI.
    function setMetadataURI(uint256 modelId, string calldata metadataURI) external {
        Model storage m = _models[modelId];
        if (m.registrant == address(0)) revert ModelRegistryUnknownModel(modelId);
        if (m.registrant != msg.sender) revert ModelRegistryUnauthorized(msg.sender, modelId);
        m.metadataURI = metadataURI;
        emit ModelMetadataUpdated(modelId, metadataURI);
    }

    /// @notice Registers a model with its declared trace shape, refused if a dispute on it could not fit a block.
    /// @param root Merkle root committing to the model.
    /// @param metadataURI Where the model card / weights live.
    /// @param opsBitmap Ops used by the model (non-zero).
    /// @param shape numInputs ≥ 1, 1 ≤ nodeCount, numInputs + nodeCount ≤ MAX_TRACE_TENSORS, 1 ≤ numOutputs ≤
    /// nodeCount, 0 < maxStepGas ≤ MAX_STEP_GAS.
    /// @return modelId The new id.
    function registerModelWithShape(bytes32 root, string calldata metadataURI, uint256 opsBitmap, Shape calldata shape)
        external
        returns (uint256 modelId)
    {
        uint256 ni = shape.numInputs;
        uint256 nc = shape.nodeCount;
        uint256 no = shape.numOutputs;
        // INVARIANT: a registered shape's trace fits one revealRoots and its one-step fits a block.
        if (
            ni == 0 || nc == 0 || ni + nc > MAX_TRACE_TENSORS || no == 0 || no > nc || shape.maxStepGas == 0
                || shape.maxStepGas > MAX_STEP_GAS
        ) revert ModelRegistryShapeOutOfBounds(ni, nc, no, shape.maxStepGas);
        modelId = _register(root, metadataURI, opsBitmap);
        _shapes[modelId] = shape;
        emit ModelShapeDeclared(modelId, shape.numInputs, shape.nodeCount, shape.numOutputs, shape.maxStepGas);
    }

    /// @notice Declared trace shape (all zero if the model was registered without one).
    /// @param modelId The model.
    /// @return The shape.
    function shapeOf(uint256 modelId) external view returns (Shape memory) {
        return _shapes[modelId];
    }

    /// @notice Full model record. Reverts for unknown ids.
    /// @param modelId The model.
    /// @return The record.
    function getModel(uint256 modelId) external view returns (Model memory) {
        Model storage m = _models[modelId];
        if (m.registrant == address(0)) revert ModelRegistryUnknownModel(modelId);
        return m;
    }

    /// @notice Model root. Reverts for unknown ids.
    /// @param modelId The model.
    /// @return The root.
    function modelRoot(uint256 modelId) external view returns (bytes32) {
        bytes32 root = _models[modelId].modelRoot;
        if (root == bytes32(0)) revert ModelRegistryUnknownModel(modelId);
        return root;
    }

    /// @notice Number of models registered.
    /// @return The count.
    function totalModels() external view returns (uint256) {
        return _nextModelId - 1;
    }
}
