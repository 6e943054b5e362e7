// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title VerityTimelock
/// @notice The TimelockController that owns every Verity parameter (it is `governance` everywhere).
/// @dev Deployment: proposer + canceller = VerityGovernor, executor = anyone (address(0)); the deployer
/// passes `admin = address(0)` (or renounces DEFAULT_ADMIN_ROLE right after wiring), leaving no admin key.
contract VerityTimelock is TimelockController {
    /// @param minDelay Seconds between queue and execution.
    /// @param proposers Accounts granted PROPOSER_ROLE and CANCELLER_ROLE.
    /// @param executors Accounts granted EXECUTOR_ROLE (address(0) = open execution).
    /// @param admin Optional temporary admin (address(0) for none).
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
