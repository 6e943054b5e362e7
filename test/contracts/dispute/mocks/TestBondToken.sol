// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestBondToken
/// @notice TEST ONLY: a plain OpenZeppelin ERC20 with open minting, used as the dispute bond token in tests.
contract TestBondToken is ERC20 {
    constructor() ERC20("Test Bond", "TBOND") {}

    /// @notice Mints `amount` to `to` (anyone; test only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
