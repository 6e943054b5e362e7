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

    uint256 private _nextModelId = 1;
    mapping(uint256 modelId => Model) private _models;

    /// @notice A model was registered.
    event ModelRegistered(
        uint256 indexed modelId, bytes32 indexed modelRoot, address indexed registrant, uint256 opsBitmap, string metadataURI
    );
    /// @notice A model's metadata URI was changed.
    event ModelMetadataUpdated(uint256 indexed modelId, string metadataURI);

    /// @notice Model root is zero.
    error ModelRegistryZeroRoot();
    /// @notice Ops bitmap is empty.
    error ModelRegistryNoOps();
    /// @notice No model with this id.
    error ModelRegistryUnknownModel(uint256 modelId);
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
