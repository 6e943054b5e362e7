// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title IdentityRegistry
/// @notice ERC-8004 "Trustless Agents" Identity Registry: every agent is an ERC-721 token whose token URI
/// (the agent URI) points at the agent's registration file ("agent card"). Agent ids start at 1 so 0 can mean
/// "no agent" elsewhere in Verity. No admin: registration is permissionless.
/// @dev The reserved metadata key `agentWallet` (where the agent is paid) starts as the owner, changes only with
/// {setAgentWallet} (the new wallet's EIP-712 signature, or ERC-1271 for a contract wallet), is cleared by
/// {unsetAgentWallet} and on transfer, and is refused by {setMetadata} and {register}'s metadata entries.
contract IdentityRegistry is ERC721URIStorage, EIP712 {
    /// @notice One on-chain metadata entry (ERC-8004 `MetadataEntry`).
    struct MetadataEntry {
        string metadataKey;
        bytes metadataValue;
    }

    /// @notice Upper bound on entries passed to {register} (bounds the loop over caller-supplied data).
    uint256 public constant MAX_METADATA_ENTRIES = 16;

    /// @notice The reserved metadata key of the agent's payment wallet (ERC-8004).
    string public constant AGENT_WALLET_KEY = "agentWallet";
    /// @notice EIP-712 type the new wallet signs in {setAgentWallet} (as in the ERC-8004 reference contracts).
    bytes32 public constant AGENT_WALLET_SET_TYPEHASH =
        keccak256("AgentWalletSet(uint256 agentId,address newWallet,address owner,uint256 deadline)");
    /// @notice Longest a wallet signature may stay valid ahead of time.
    uint256 public constant MAX_DEADLINE_DELAY = 5 minutes;

    uint256 private _nextAgentId = 1;
    mapping(uint256 agentId => mapping(string key => bytes value)) private _metadata;
    mapping(uint256 agentId => address wallet) private _agentWallet;

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
    /// @notice `agentWallet` may only be set through {setAgentWallet}.
    error IdentityReservedKey(string metadataKey);
    /// @notice The zero address as a wallet.
    error IdentityInvalidWallet(address wallet);
    /// @notice The wallet signature's deadline has passed.
    error IdentityExpiredSignature(uint256 deadline, uint256 nowTimestamp);
    /// @notice The deadline is more than {MAX_DEADLINE_DELAY} ahead.
    error IdentityDeadlineTooFar(uint256 deadline, uint256 maxDeadline);
    /// @notice The signature is not the new wallet's (ECDSA for an EOA, ERC-1271 for a contract).
    error IdentityInvalidWalletSignature(address wallet);

    constructor() ERC721("Verity Agent", "AGENT") EIP712("ERC8004IdentityRegistry", "1") {}

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
            _requireNotReserved(metadata[i].metadataKey);
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
        _requireNotReserved(metadataKey);
        _setMetadata(agentId, metadataKey, metadataValue);
    }

    /// @notice Sets the agent's payment wallet, proven by the wallet's signature over the EIP-712 struct
    /// AgentWalletSet(agentId, newWallet, owner, deadline): ECDSA for an EOA, ERC-1271 for a contract wallet.
    /// Owner or approved operator only.
    /// @param agentId The agent.
    /// @param newWallet The wallet (non-zero).
    /// @param deadline Last timestamp the signature is valid (at most {MAX_DEADLINE_DELAY} ahead).
    /// @param signature The wallet's signature.
    function setAgentWallet(uint256 agentId, address newWallet, uint256 deadline, bytes calldata signature) external {
        // INVARIANT: only the agent's owner or operator picks its wallet.
        address owner = _checkAuthorized(agentId);
        if (newWallet == address(0)) revert IdentityInvalidWallet(newWallet);
        // INVARIANT: a signature is accepted only inside its short validity window.
        if (block.timestamp > deadline) revert IdentityExpiredSignature(deadline, block.timestamp);
        if (deadline > block.timestamp + MAX_DEADLINE_DELAY) {
            revert IdentityDeadlineTooFar(deadline, block.timestamp + MAX_DEADLINE_DELAY);
        }
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(AGENT_WALLET_SET_TYPEHASH, agentId, newWallet, owner, deadline)));
        // INVARIANT: the wallet consents (its key or its ERC-1271 logic signed this agent, owner and deadline).
        if (!SignatureChecker.isValidSignatureNow(newWallet, digest, signature)) {
            revert IdentityInvalidWalletSignature(newWallet);
        }
        _setWallet(agentId, newWallet);
    }

    /// @notice Clears the agent's payment wallet (to the zero address). Owner or approved operator only.
    /// @param agentId The agent.
    function unsetAgentWallet(uint256 agentId) external {
        _checkAuthorized(agentId);
        _setWallet(agentId, address(0));
    }

    /// @notice The agent's payment wallet (the owner at registration; zero after a transfer or an unset).
    /// @param agentId The agent (reverts with ERC721NonexistentToken if unknown).
    /// @return The wallet.
    function getAgentWallet(uint256 agentId) external view returns (address) {
        _requireOwned(agentId);
        return _agentWallet[agentId];
    }

    /// @notice The EIP-712 domain separator {setAgentWallet} signatures are made under.
    /// @return The separator.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
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
        _setWallet(agentId, msg.sender);
        emit Registered(agentId, agentURI, msg.sender);
    }

    function _setWallet(uint256 agentId, address wallet) private {
        _agentWallet[agentId] = wallet;
        bytes memory value = wallet == address(0) ? bytes("") : abi.encodePacked(wallet);
        _metadata[agentId][AGENT_WALLET_KEY] = value;
        emit MetadataSet(agentId, AGENT_WALLET_KEY, AGENT_WALLET_KEY, value);
    }

    /// @dev Clears the wallet on a transfer (not on mint): the new owner must prove a wallet again.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0) && _agentWallet[tokenId] != address(0)) _setWallet(tokenId, address(0));
    }

    function _requireNotReserved(string calldata key) private pure {
        // INVARIANT: the wallet key is written only by _setWallet (signature-checked or owner at mint).
        if (keccak256(bytes(key)) == keccak256(bytes(AGENT_WALLET_KEY))) revert IdentityReservedKey(key);
    }

    function _setMetadata(uint256 agentId, string calldata key, bytes calldata value) private {
        _metadata[agentId][key] = value;
        emit MetadataSet(agentId, key, key, value);
    }

    function _checkAuthorized(uint256 agentId) private view returns (address owner) {
        owner = _requireOwned(agentId);
        if (!_isAuthorized(owner, msg.sender, agentId)) revert IdentityUnauthorized(msg.sender, agentId);
    }
}
