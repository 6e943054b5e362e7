// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ITransferHook} from "./HostileERC20.sol";

/// @title ReentrancyAttacker
/// @notice TEST DOUBLE. An account that, once armed, re-enters `target` with `payload` from inside a token
/// transfer hook, and records how the re-entrant call ended.
contract ReentrancyAttacker is ITransferHook {
    address public target;
    bytes public payload;
    bool public armed;
    bool public attempted;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    function arm(address target_, bytes calldata payload_) external {
        target = target_;
        payload = payload_;
        armed = true;
    }

    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        attempted = true;
        (bool ok, bytes memory ret) = target.call(payload);
        reentrySucceeded = ok;
        reentryRevertData = ret;
    }

    /// @notice Acts as this account: arbitrary call (used to post, stake, withdraw...).
    function act(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function approve(IERC20 token, address spender, uint256 amount) external {
        token.approve(spender, amount);
    }
}
