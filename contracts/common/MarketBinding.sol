// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title MarketBinding
/// @notice Staking and the reputation/validation registries trust exactly one TaskMarket. The market's
/// address is not known when they are deployed (the market needs theirs), so the deployer binds it once
/// with {bindMarket}. The binding is final: afterwards the deployer has no power left and nobody can rebind.
abstract contract MarketBinding {
    /// @notice The TaskMarket allowed to call market-only functions (zero until bound).
    address public market;
    /// @dev Deployer allowed to bind; cleared by the binding.
    address private _binder;

    /// @notice The market was bound (once, for the contract's lifetime).
    event MarketBound(address indexed market);

    /// @notice The caller may not bind (not the deployer, or already bound).
    error MarketBindingUnauthorized(address caller);
    /// @notice The caller is not the bound market.
    error MarketBindingNotMarket(address caller);
    /// @notice Binding to the zero address.
    error MarketBindingZeroAddress();

    modifier onlyMarket() {
        if (msg.sender != market || msg.sender == address(0)) revert MarketBindingNotMarket(msg.sender);
        _;
    }

    constructor() {
        _binder = msg.sender;
    }

    /// @notice Binds the TaskMarket. Callable once, by the deployer, during deployment.
    /// @param market_ The TaskMarket address.
    function bindMarket(address market_) external {
        if (msg.sender != _binder) revert MarketBindingUnauthorized(msg.sender);
        if (market_ == address(0)) revert MarketBindingZeroAddress();
        _binder = address(0);
        market = market_;
        emit MarketBound(market_);
    }
}
