// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @title HostileResolver
/// @notice TEST DOUBLE. A dispute resolver that re-enters the market from inside {open}.
contract HostileResolver is IDisputeResolver {
    address public target;
    bytes public payload;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
    }

    function open(bytes32, address, address, bytes32, bytes32, bytes32, bytes32) external returns (uint256) {
        (bool ok, bytes memory ret) = target.call(payload);
        reentrySucceeded = ok;
        reentryRevertData = ret;
        return 1;
    }

    function addChallenger(uint256, address) external {}

    function contested(uint256) external pure returns (bool) {
        return true;
    }

    function outcome(uint256) external pure returns (Outcome) {
        return Outcome.ChallengerWon;
    }
}
