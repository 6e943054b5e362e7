// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IFlashBorrower {
    function onFlashLoan(uint256 amount) external;
}

/// @title FlashLender
/// @notice TEST DOUBLE. Lends its whole token balance for the duration of one call and requires it back.
contract FlashLender {
    IERC20 public immutable token;

    error FlashLenderNotRepaid(uint256 before, uint256 afterwards);

    constructor(IERC20 token_) {
        token = token_;
    }

    function flashLoan(IFlashBorrower borrower) external {
        uint256 amount = token.balanceOf(address(this));
        token.transfer(address(borrower), amount);
        borrower.onFlashLoan(amount);
        uint256 afterwards = token.balanceOf(address(this));
        if (afterwards < amount) revert FlashLenderNotRepaid(amount, afterwards);
    }
}
