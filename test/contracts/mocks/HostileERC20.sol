// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Receives a callback on every transfer of a {HostileERC20} (ERC-777-style hook).
interface ITransferHook {
    function onTokenTransfer(address from, address to, uint256 amount) external;
}

/// @title HostileERC20
/// @notice TEST DOUBLE. An ERC20 that calls a hook contract in the middle of every transfer, letting the hook
/// re-enter whatever contract is moving tokens.
contract HostileERC20 is ERC20 {
    ITransferHook public hook;

    constructor() ERC20("Hostile", "HOST") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setHook(ITransferHook hook_) external {
        hook = hook_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (address(hook) != address(0) && from != address(0)) hook.onTokenTransfer(from, to, value);
    }
}
