// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Fixture} from "../utils/Fixture.sol";
import {HostileERC20} from "../mocks/HostileERC20.sol";
import {ReentrancyAttacker} from "../mocks/ReentrancyAttacker.sol";
import {HostileResolver} from "../mocks/HostileResolver.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @notice The market and staking are deployed over a token that calls back into the receiving/sending account
/// in the middle of every transfer; the attacker re-enters from there.
contract ReentrancyTest is Fixture {
    HostileERC20 internal hostile;
    ReentrancyAttacker internal attacker;

    function setUp() public {
        hostile = new HostileERC20();
        _deploy(IERC20(address(hostile)));
        attacker = new ReentrancyAttacker();
        hostile.setHook(attacker);
        _setupParties();
        _fund(address(attacker), 1_000e18);
        attacker.approve(token, address(market), type(uint256).max);
        attacker.approve(token, address(staking), type(uint256).max);
    }

    function _fund(address who, uint256 amount) internal override {
        hostile.mint(who, amount);
    }

    function _assertGuardTripped() internal view {
        assertTrue(attacker.attempted(), "re-entry attempted");
        assertFalse(attacker.reentrySucceeded(), "re-entry must fail");
        assertEq(
            keccak256(attacker.reentryRevertData()),
            keccak256(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector)),
            "blocked by the guard"
        );
    }

    function test_marketWithdraw_reentry_paysOnce() public {
        // attacker posts then cancels: 20 credited.
        bytes memory ret = attacker.act(
            address(market), abi.encodeCall(TaskMarket.postTask, (modelId, _tensors(hex"01"), FEE, uint64(block.timestamp + 1)))
        );
        uint256 taskId = abi.decode(ret, (uint256));
        attacker.act(address(market), abi.encodeCall(TaskMarket.cancel, (taskId)));
        uint256 before = token.balanceOf(address(attacker));
        attacker.arm(address(market), abi.encodeCall(TaskMarket.withdraw, ()));
        attacker.act(address(market), abi.encodeCall(TaskMarket.withdraw, ()));
        _assertGuardTripped();
        assertEq(token.balanceOf(address(attacker)), before + FEE, "paid exactly once");
        assertEq(market.claimable(address(attacker)), 0, "cleared");
        assertEq(token.balanceOf(address(market)), 0, "market drained only of the credit");
    }

    function test_stakingWithdrawUnbonded_reentry_paysOnce() public {
        attacker.act(address(staking), abi.encodeCall(Staking.stake, (100e18)));
        attacker.act(address(staking), abi.encodeCall(Staking.requestUnbond, (100e18)));
        vm.warp(block.timestamp + UNBOND_DELAY);
        uint256 before = token.balanceOf(address(attacker));
        attacker.arm(address(staking), abi.encodeCall(Staking.withdrawUnbonded, ()));
        attacker.act(address(staking), abi.encodeCall(Staking.withdrawUnbonded, ()));
        _assertGuardTripped();
        assertEq(token.balanceOf(address(attacker)), before + 100e18, "paid exactly once");
    }

    function test_stake_reentry_blocked() public {
        attacker.arm(address(staking), abi.encodeCall(Staking.stake, (1e18)));
        attacker.act(address(staking), abi.encodeCall(Staking.stake, (10e18)));
        _assertGuardTripped();
        assertEq(staking.accountOf(address(attacker)).staked, 10e18, "credited once");
        assertEq(token.balanceOf(address(staking)), 10e18 + 1_000e18, "held == stakes");
    }

    /// The slash transfer inside resolve() hands control to the token; re-entering resolve/withdraw fails.
    function test_resolveSlashTransfer_reentry_blocked() public {
        uint256 taskId = _postClaimCommit(hex"01", hex"02");
        uint256 disputeId = _challengeSingle(taskId, hex"01", hex"02");
        resolver.decide(1, IDisputeResolver.Outcome.ChallengerWon);
        attacker.arm(address(market), abi.encodeCall(TaskMarket.resolve, (disputeId)));
        market.resolve(disputeId);
        _assertGuardTripped();
        assertEq(uint256(market.getDispute(disputeId).outcome), uint256(IDisputeResolver.Outcome.ChallengerWon), "once");
        assertEq(market.claimable(requester), FEE, "refunded once");
    }

    /// A hostile resolver re-entering the market from open() is blocked.
    function test_hostileResolver_reentry_blocked() public {
        HostileResolver evil = new HostileResolver();
        TaskMarket.Params memory p = _defaultParams();
        p.resolver = evil;
        vm.prank(address(timelock));
        market.setParams(p);
        uint256 taskId = _postClaimCommit(hex"01", hex"02");
        evil.arm(address(market), abi.encodeCall(TaskMarket.finalize, (taskId)));
        _challengeSingle(taskId, hex"01", hex"02");
        assertFalse(evil.reentrySucceeded(), "re-entry failed");
        assertEq(
            keccak256(evil.reentryRevertData()),
            keccak256(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector)),
            "blocked by the guard"
        );
    }
}
