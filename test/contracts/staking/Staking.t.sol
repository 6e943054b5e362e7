// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Fixture} from "../utils/Fixture.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {Governed} from "../../../contracts/common/Governed.sol";
import {MarketBinding} from "../../../contracts/common/MarketBinding.sol";

contract StakingTest is Fixture {
    address internal alice = makeAddr("alice");

    function setUp() public {
        _deployWithVrt();
        _fund(alice, 1_000e18);
        vm.prank(alice);
        token.approve(address(staking), type(uint256).max);
    }

    function test_stake_creditsAndEmits() public {
        vm.expectEmit(address(staking));
        emit Staking.Staked(alice, 300e18, 300e18);
        vm.prank(alice);
        staking.stake(300e18);
        assertEq(staking.accountOf(alice).staked, 300e18, "staked");
        assertEq(staking.freeStakeOf(alice), 300e18, "free");
        assertEq(token.balanceOf(address(staking)), 300e18, "held");
    }

    function test_stake_revertsZero() public {
        vm.prank(alice);
        vm.expectRevert(Staking.StakingZeroAmount.selector);
        staking.stake(0);
    }

    function test_requestUnbond_movesToUnbondingAndEmits() public {
        vm.startPrank(alice);
        staking.stake(300e18);
        uint64 readyAt = uint64(block.timestamp) + UNBOND_DELAY;
        vm.expectEmit(address(staking));
        emit Staking.UnbondRequested(alice, 100e18, 100e18, readyAt);
        staking.requestUnbond(100e18);
        vm.stopPrank();
        Staking.Account memory a = staking.accountOf(alice);
        assertEq(a.staked, 200e18, "staked");
        assertEq(a.unbonding, 100e18, "unbonding");
        assertEq(a.unbondingReadyAt, readyAt, "readyAt");
    }

    function test_requestUnbond_revertsZero() public {
        vm.prank(alice);
        vm.expectRevert(Staking.StakingZeroAmount.selector);
        staking.requestUnbond(0);
    }

    function test_requestUnbond_revertsAboveFree() public {
        vm.startPrank(alice);
        staking.stake(100e18);
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInsufficientStake.selector, alice, 100e18, 101e18));
        staking.requestUnbond(101e18);
        vm.stopPrank();
    }

    function test_withdrawUnbonded_afterDelay() public {
        vm.startPrank(alice);
        staking.stake(100e18);
        staking.requestUnbond(100e18);
        vm.warp(block.timestamp + UNBOND_DELAY);
        vm.expectEmit(address(staking));
        emit Staking.UnbondWithdrawn(alice, 100e18);
        staking.withdrawUnbonded();
        vm.stopPrank();
        assertEq(token.balanceOf(alice), 1_000e18, "back");
        assertEq(staking.accountOf(alice).unbonding, 0, "cleared");
    }

    function test_withdrawUnbonded_revertsEarly() public {
        vm.startPrank(alice);
        staking.stake(100e18);
        staking.requestUnbond(100e18);
        uint64 readyAt = uint64(block.timestamp) + UNBOND_DELAY;
        vm.warp(readyAt - 1);
        vm.expectRevert(
            abi.encodeWithSelector(Staking.StakingUnbondingNotReady.selector, alice, readyAt, uint64(readyAt - 1))
        );
        staking.withdrawUnbonded();
        vm.stopPrank();
    }

    function test_withdrawUnbonded_revertsNothing() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingNothingUnbonding.selector, alice));
        staking.withdrawUnbonded();
    }

    function test_lock_unlock_slash_marketOnly() public {
        vm.prank(alice);
        staking.stake(300e18);
        vm.startPrank(address(market));
        vm.expectEmit(address(staking));
        emit Staking.StakeLocked(alice, 200e18, 200e18);
        staking.lock(alice, 200e18);
        vm.expectEmit(address(staking));
        emit Staking.StakeUnlocked(alice, 50e18, 150e18);
        staking.unlock(alice, 50e18);
        vm.expectEmit(address(staking));
        emit Staking.StakeSlashed(alice, 150e18, address(market));
        staking.slash(alice, 150e18);
        vm.stopPrank();
        Staking.Account memory a = staking.accountOf(alice);
        assertEq(a.staked, 150e18, "staked");
        assertEq(a.locked, 0, "locked");
        assertEq(token.balanceOf(address(market)), 150e18, "slashed to market");
    }

    function test_lock_revertsAboveFree() public {
        vm.prank(alice);
        staking.stake(100e18);
        vm.prank(address(market));
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInsufficientStake.selector, alice, 100e18, 200e18));
        staking.lock(alice, 200e18);
    }

    function test_unlock_slash_revertAboveLocked() public {
        vm.prank(alice);
        staking.stake(100e18);
        vm.startPrank(address(market));
        staking.lock(alice, 10e18);
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInsufficientLocked.selector, alice, 10e18, 11e18));
        staking.unlock(alice, 11e18);
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInsufficientLocked.selector, alice, 10e18, 11e18));
        staking.slash(alice, 11e18);
        vm.stopPrank();
    }

    function test_marketHooks_revertForOthers() public {
        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(MarketBinding.MarketBindingNotMarket.selector, stranger));
        staking.lock(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(MarketBinding.MarketBindingNotMarket.selector, stranger));
        staking.unlock(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(MarketBinding.MarketBindingNotMarket.selector, stranger));
        staking.slash(alice, 1);
        vm.stopPrank();
    }

    function test_bindMarket_onlyOnceByDeployer() public {
        vm.expectRevert(abi.encodeWithSelector(MarketBinding.MarketBindingUnauthorized.selector, address(this)));
        staking.bindMarket(stranger);
        Staking fresh = new Staking(token, address(timelock), UNBOND_DELAY);
        vm.expectRevert(MarketBinding.MarketBindingZeroAddress.selector);
        fresh.bindMarket(address(0));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(MarketBinding.MarketBindingUnauthorized.selector, stranger));
        fresh.bindMarket(stranger);
        vm.expectEmit(address(fresh));
        emit MarketBinding.MarketBound(address(market));
        fresh.bindMarket(address(market));
        assertEq(fresh.market(), address(market), "bound");
    }

    function test_setUnbondingDelay_governanceKeepsAboveWindow() public {
        vm.expectEmit(address(staking));
        emit Staking.UnbondingDelayUpdated(UNBOND_DELAY, 3 days);
        vm.prank(address(timelock));
        staking.setUnbondingDelay(3 days);
        assertEq(staking.unbondingDelay(), 3 days, "delay");
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInvalidUnbondingDelay.selector, WINDOW, WINDOW));
        staking.setUnbondingDelay(WINDOW);
    }

    function test_setUnbondingDelay_revertsNonGovernance() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(Governed.GovernedUnauthorized.selector, stranger));
        staking.setUnbondingDelay(30 days);
    }

    function test_constructor_reverts() public {
        vm.expectRevert(Governed.GovernedZeroAddress.selector);
        new Staking(IERC20(address(0)), address(timelock), 1);
        vm.expectRevert(Governed.GovernedZeroAddress.selector);
        new Staking(token, address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInvalidUnbondingDelay.selector, 0, 0));
        new Staking(token, address(timelock), 0);
    }

    function testFuzz_stakeUnbondWithdraw_conserves(uint96 stakeAmt, uint96 unbondAmt) public {
        uint256 s = bound(stakeAmt, 1, 1_000e18);
        uint256 u = bound(unbondAmt, 1, s);
        vm.startPrank(alice);
        staking.stake(s);
        staking.requestUnbond(u);
        vm.warp(block.timestamp + UNBOND_DELAY);
        staking.withdrawUnbonded();
        vm.stopPrank();
        assertEq(token.balanceOf(alice), 1_000e18 - s + u, "alice");
        assertEq(token.balanceOf(address(staking)), s - u, "held");
        assertEq(staking.accountOf(alice).staked, s - u, "staked");
    }
}
