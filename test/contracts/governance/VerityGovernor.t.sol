// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Fixture} from "../utils/Fixture.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";

contract VerityGovernorTest is Fixture {
    function setUp() public {
        _deployWithVrt();
        vrt.delegate(address(this));
        vm.roll(block.number + 1);
    }

    function test_settings() public view {
        assertEq(governor.votingDelay(), 1, "delay");
        assertEq(governor.votingPeriod(), 50, "period");
        assertEq(governor.proposalThreshold(), 1_000e18, "threshold");
        assertEq(governor.timelock(), address(timelock), "timelock");
        assertEq(governor.quorum(block.number - 1), SUPPLY * 4 / 100, "quorum 4%");
        assertTrue(governor.proposalNeedsQueuing(0), "queued through timelock");
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)), "deployer holds no admin");
    }

    /// Full path: propose -> vote -> queue -> execute changes market and staking parameters.
    function test_proposal_changesParametersThroughTimelock() public {
        TaskMarket.Params memory p = _defaultParams();
        p.challengeWindow = 2 days;
        p.minStake = 250e18;
        address[] memory targets = new address[](2);
        uint256[] memory values = new uint256[](2);
        bytes[] memory calldatas = new bytes[](2);
        targets[0] = address(staking);
        calldatas[0] = abi.encodeCall(Staking.setUnbondingDelay, (14 days));
        targets[1] = address(market);
        calldatas[1] = abi.encodeCall(TaskMarket.setParams, (p));
        string memory description = "raise window and stake";

        uint256 pid = governor.propose(targets, values, calldatas, description);
        assertEq(uint256(governor.state(pid)), uint256(IGovernor.ProposalState.Pending), "pending");
        vm.roll(block.number + 2);
        governor.castVote(pid, 1);
        vm.roll(block.number + 51);
        assertEq(uint256(governor.state(pid)), uint256(IGovernor.ProposalState.Succeeded), "succeeded");
        bytes32 dh = keccak256(bytes(description));
        governor.queue(targets, values, calldatas, dh);
        vm.warp(block.timestamp + TIMELOCK_DELAY + 1);
        governor.execute(targets, values, calldatas, dh);
        assertEq(uint256(governor.state(pid)), uint256(IGovernor.ProposalState.Executed), "executed");
        assertEq(market.challengeWindow(), 2 days, "window");
        assertEq(market.getParams().minStake, 250e18, "min stake");
        assertEq(staking.unbondingDelay(), 14 days, "delay");
    }

    function test_propose_revertsBelowThreshold() public {
        address[] memory targets = new address[](1);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        targets[0] = address(market);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, stranger, 0, 1_000e18)
        );
        governor.propose(targets, values, calldatas, "x");
    }
}
