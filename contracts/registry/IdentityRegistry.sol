// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";

/// @title IdentityRegistry
/// @notice ERC-8004 "Trustless Agents" Identity Registry: every agent is an ERC-721 token whose token URI
/// (the agent URI) points at the agent's registration file ("agent card"). Agent ids start at 1 so 0 can mean
/// "no agent" elsewhere in Verity. No admin: registration is permissionless.
contract IdentityRegistry is ERC721URIStorage {
    /// @notice One on-chain metadata entry (ERC-8004 `MetadataEntry`).
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    /// @notice Upper bound on entries passed to {register} (bounds the loop over caller-supplied data).
    uint256 public constant MAX_METADATA_ENTRIES = 16;

    uint256 private _nextAgentId = 1;
    mapping(uint256 agentId => mapping(string key => bytes value)) private _metadata;

    /// @notice An agent was registered (ERC-8004).
    event Registered(uint256 indexed agentId, string agentURI, address indexed owner);
    /// @notice An agent's URI was changed (ERC-8004).
    event URIUpdated(uint256 indexed agentId, string newURI, address indexed updatedBy);
    /// @notice A metadata entry was set (ERC-8004).
    event MetadataSet(
        uint256 indexed agentId, string indexed indexedMetadataKey, string metadataKey, bytes metadataValue
    );

    /// @notice The caller is neither owner nor approved operator of the agent.
    error IdentityUnauthorized(address caller, uint256 agentId);
    /// @notice Too many metadata entries in one call.
    error IdentityTooManyMetadataEntries(uint256 count, uint256 max);

    constructor() ERC721("Verity Agent", "AGENT") {}

    /// @notice Registers a new agent owned by the caller, without URI or metadata.
    /// @return agentId The new agent id.
    function register() external returns (uint256 agentId) {
        agentId = _register("");
    }

    /// @notice Registers a new agent owned by the caller.
    /// @param agentURI URI of the agent's registration file (agent card).
    /// @return agentId The new agent id.
    function register(string calldata agentURI) external returns (uint256 agentId) {
        agentId = _register(agentURI);
    }

    /// @notice Registers a new agent owned by the caller and sets metadata entries.
    /// @param agentURI URI of the agent's registration file (agent card).
    /// @param metadata At most {MAX_METADATA_ENTRIES} key/value entries.
    /// @return agentId The new agent id.
    function register(string calldata agentURI, MetadataEntry[] calldata metadata) external returns (uint256 agentId) {
        if (metadata.length > MAX_METADATA_ENTRIES) {
            revert IdentityTooManyMetadataEntries(metadata.length, MAX_METADATA_ENTRIES);
        }
        agentId = _register(agentURI);
        for (uint256 i; i < metadata.length; ++i) {
            _setMetadata(agentId, metadata[i].metadataKey, metadata[i].metadataValue);
        }
    }

    /// @notice Changes the agent URI. Owner or approved operator only.
    /// @param agentId The agent.
    /// @param newURI New registration-file URI.
    function setAgentURI(uint256 agentId, string calldata newURI) external {
        _checkAuthorized(agentId);
        _setTokenURI(agentId, newURI);
        emit URIUpdated(agentId, newURI, msg.sender);
    }

    /// @notice Sets one metadata entry. Owner or approved operator only.
    /// @param agentId The agent.
    /// @param metadataKey Entry key.
    /// @param metadataValue Entry value (raw bytes).
    function setMetadata(uint256 agentId, string calldata metadataKey, bytes calldata metadataValue) external {
        _checkAuthorized(agentId);
        _setMetadata(agentId, metadataKey, metadataValue);
    }

    /// @notice Reads one metadata entry (empty if unset).
    /// @param agentId The agent.
    /// @param metadataKey Entry key.
    /// @return The stored value.
    function getMetadata(uint256 agentId, string calldata metadataKey) external view returns (bytes memory) {
        return _metadata[agentId][metadataKey];
    }

    /// @notice Whether `operator` may act for `agentId` (owner, approved, or operator for all).
    /// @param operator Account to check.
    /// @param agentId The agent (reverts with ERC721NonexistentToken if unknown).
    /// @return True if authorized.
    function isAuthorized(address operator, uint256 agentId) external view returns (bool) {
        address owner = _requireOwned(agentId);
        return _isAuthorized(owner, operator, agentId);
    }

    /// @notice Number of agents registered so far.
    /// @return The count.
    function totalAgents() external view returns (uint256) {
        return _nextAgentId - 1;
    }

    function _register(string memory agentURI) private returns (uint256 agentId) {
        agentId = _nextAgentId++;
        // _mint (not _safeMint): the caller registers itself, so the receiver hook adds nothing but a
        // re-entrancy surface.
        _mint(msg.sender, agentId);
        if (bytes(agentURI).length != 0) _setTokenURI(agentId, agentURI);
        emit Registered(agentId, agentURI, msg.sender);
    }

    function _setMetadata(uint256 agentId, string calldata key, bytes calldata value) private {
        _metadata[agentId][key] = value;
        emit MetadataSet(agentId, key, key, value);
    }

    function _checkAuthorized(uint256 agentId) private view {
        address owner = _requireOwned(agentId);
        if (!_isAuthorized(owner, msg.sender, agentId)) revert IdentityUnauthorized(msg.sender, agentId);
    }
}
