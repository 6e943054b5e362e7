// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {VestingWallet} from "@openzeppelin/contracts/finance/VestingWallet.sol";

/// @title VerityVesting
/// @notice The contributors' share of the VRT supply (docs/protocol.md §Governance on day one): OpenZeppelin's linear
/// VestingWallet, releasing to `beneficiary` from `startTimestamp` over `durationSeconds`. Vesting tokens cannot vote
/// (the wallet never delegates), so the contributors' share carries no governance weight until released.
contract VerityVesting is VestingWallet {
    /// @param beneficiary Receives the released tokens (and owns the wallet).
    /// @param startTimestamp Vesting start.
    /// @param durationSeconds Vesting duration.
    constructor(address beneficiary, uint64 startTimestamp, uint64 durationSeconds)
        VestingWallet(beneficiary, startTimestamp, durationSeconds)
    {}
}
