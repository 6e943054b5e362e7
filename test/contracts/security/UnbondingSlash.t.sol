// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @notice A worker cannot unbond its way out of a slash for a result still inside its challenge window.
contract UnbondingSlashTest is Fixture {
    bytes internal constant IN = hex"aa";
    bytes internal constant OUT = hex"bb";
    bytes32 internal constant TR = keccak256("tr");

    function setUp() public {
        _deployWithVrt();
        _setupParties();
    }

    function test_lockedStakeCannotBeUnbonded() public {
        _postClaimCommit(IN, OUT);
        uint256 free = 1_000e18 - MIN_STAKE;
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInsufficientStake.selector, worker, free, 1_000e18));
        staking.requestUnbond(1_000e18);
    }

    function test_unbondEverythingFree_thenLoseDispute_stillSlashed() public {
        uint256 taskId = _postClaimCommit(IN, OUT);
        vm.prank(worker);
        staking.requestUnbond(1_000e18 - MIN_STAKE); // everything it can
        // Challenge in the last second of the window, decide long after the unbonding delay.
        vm.warp(market.getTask(taskId).challengeDeadline - 1);
        uint256 disputeId = _challengeSingle(taskId, IN, OUT);
        vm.warp(block.timestamp + UNBOND_DELAY + 1);
        vm.prank(worker);
        staking.withdrawUnbonded();
        resolver.decide(1, IDisputeResolver.Outcome.ChallengerWon);
        market.resolve(disputeId);
        Staking.Account memory a = staking.accountOf(worker);
        assertEq(a.staked, 0, "locked stake slashed");
        assertEq(market.claimable(challenger), uint256(MIN_STAKE) * SLASH_BPS / 10_000, "challenger paid");
    }

    /// Whatever the timing of unbond requests relative to commit, challenge and resolution, the slash for a
    /// result challenged inside its window always takes the full locked amount.
    function testFuzz_unbondTimingNeverEscapesSlash(uint256 extraStake, uint256 unbondAt, uint256 challengeAt, uint256 decideAfter)
        public
    {
        extraStake = bound(extraStake, 0, 500e18);
        if (extraStake > 0) {
            _fund(worker, extraStake);
            vm.startPrank(worker);
            token.approve(address(staking), extraStake);
            staking.stake(extraStake);
            vm.stopPrank();
        }
        uint256 taskId = _postClaimCommit(IN, OUT);
        uint64 start = uint64(block.timestamp);
        unbondAt = bound(unbondAt, 0, WINDOW - 1);
        challengeAt = bound(challengeAt, 0, WINDOW - 1);
        decideAfter = bound(decideAfter, 0, 30 days);

        uint256 disputeId;
        if (unbondAt <= challengeAt) {
            vm.warp(start + unbondAt);
            _unbondMax();
            vm.warp(start + challengeAt);
            disputeId = _challengeSingle(taskId, IN, OUT);
        } else {
            vm.warp(start + challengeAt);
            disputeId = _challengeSingle(taskId, IN, OUT);
            vm.warp(start + unbondAt);
            _unbondMax();
        }
        vm.warp(block.timestamp + decideAfter);
        Staking.Account memory a = staking.accountOf(worker);
        if (a.unbonding > 0 && block.timestamp >= a.unbondingReadyAt) {
            vm.prank(worker);
            staking.withdrawUnbonded();
        }
        uint256 stakingBefore = token.balanceOf(address(staking));
        resolver.decide(1, IDisputeResolver.Outcome.ChallengerWon);
        market.resolve(disputeId);
        assertEq(stakingBefore - token.balanceOf(address(staking)), MIN_STAKE, "full locked amount slashed");
    }

    function _unbondMax() internal {
        uint256 free = staking.freeStakeOf(worker);
        if (free == 0) return;
        vm.prank(worker);
        staking.requestUnbond(free);
    }

    function test_governanceCannotShortenDelayBelowWindow() public {
        vm.prank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(Staking.StakingInvalidUnbondingDelay.selector, WINDOW - 1, WINDOW));
        staking.setUnbondingDelay(WINDOW - 1);
        TaskMarket.Params memory p = _defaultParams();
        p.challengeWindow = UNBOND_DELAY + 1;
        vm.prank(address(timelock));
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketInvalidChallengeWindow.selector, UNBOND_DELAY + 1, UNBOND_DELAY)
        );
        market.setParams(p);
    }
}
