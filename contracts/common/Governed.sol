// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Governed
/// @notice Parameters of Verity contracts are owned by one address, the governance TimelockController.
/// @dev The address is immutable: there is no transfer and no other admin key.
abstract contract Governed {
    /// @notice The TimelockController that owns every parameter of this contract.
    address public immutable governance;

    /// @notice The caller is not the governance timelock.
    error GovernedUnauthorized(address caller);
    /// @notice A required address argument was zero.
    error GovernedZeroAddress();

    modifier onlyGovernance() {
        if (msg.sender != governance) revert GovernedUnauthorized(msg.sender);
        _;
    }

    constructor(address governance_) {
        if (governance_ == address(0)) revert GovernedZeroAddress();
        governance = governance_;
    }
}
