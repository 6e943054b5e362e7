// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title VerityToken
/// @notice Protocol token (VRT): worker stake, challenge bonds, task fees and governance votes.
/// @dev Fixed supply minted once at deployment; no mint/burn/pause role exists, so the token has no admin.
/// Votes use the default block-number clock and require delegation (self-delegation included).
contract VerityToken is ERC20, ERC20Permit, ERC20Votes {
    /// @param initialHolder Receives the whole fixed supply (typically a treasury or distributor).
    /// @param initialSupply Total supply in wei-units (18 decimals).
    constructor(address initialHolder, uint256 initialSupply) ERC20("Verity", "VRT") ERC20Permit("Verity") {
        _mint(initialHolder, initialSupply);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @notice Current EIP-2612 permit nonce of `owner`.
    /// @param owner Account whose nonce is read.
    /// @return The next nonce to sign.
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
