// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {Fixture} from "../utils/Fixture.sol";
import {FlashLender, IFlashBorrower} from "../mocks/FlashLender.sol";
import {VerityGovernor} from "../../../contracts/governance/VerityGovernor.sol";
import {VerityToken} from "../../../contracts/token/VerityToken.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";

/// @notice Borrows, delegates to itself and votes (or proposes) inside one transaction.
contract FlashVoter is IFlashBorrower {
    VerityToken internal immutable vrt;
    VerityGovernor internal immutable governor;
    address internal immutable lender;
    uint256 public proposalId;
    bool public tryPropose;
    uint256 public weight = type(uint256).max;
    bool public proposeSucceeded;

    constructor(VerityToken vrt_, VerityGovernor governor_, address lender_) {
        vrt = vrt_;
        governor = governor_;
        lender = lender_;
    }

    function attackVote(uint256 pid) external {
        proposalId = pid;
        tryPropose = false;
        FlashLender(lender).flashLoan(this);
    }

    function attackPropose() external {
        tryPropose = true;
        FlashLender(lender).flashLoan(this);
    }

    function onFlashLoan(uint256 amount) external {
        vrt.delegate(address(this));
        if (tryPropose) {
            address[] memory t = new address[](1);
            uint256[] memory v = new uint256[](1);
            bytes[] memory c = new bytes[](1);
            t[0] = address(this);
            try governor.propose(t, v, c, "flash") {
                proposeSucceeded = true;
            } catch {}
        } else {
            weight = governor.castVote(proposalId, 0);
        }
        vrt.transfer(lender, amount);
    }
}

contract FlashLoanVoteTest is Fixture {
    FlashLender internal lender;
    FlashVoter internal attacker;

    function setUp() public {
        _deployWithVrt();
        lender = new FlashLender(IERC20(address(vrt)));
        // The lender holds 60% of supply: far above quorum (4%) and the "for" side below.
        vrt.transfer(address(lender), SUPPLY * 60 / 100);
        vrt.delegate(address(this)); // 40% voting honestly
        attacker = new FlashVoter(vrt, governor, address(lender));
        vm.roll(block.number + 1);
    }

    function test_flashBorrowDelegateVote_inOneBlock_hasZeroWeight() public {
        address[] memory targets = new address[](1);
        uint256[] memory values = new uint256[](1);
        bytes[] memory calldatas = new bytes[](1);
        targets[0] = address(market);
        calldatas[0] = abi.encodeCall(TaskMarket.setParams, (_defaultParams()));
        uint256 pid = governor.propose(targets, values, calldatas, "benign");
        vm.roll(block.number + 2); // voting is active
        governor.castVote(pid, 1);

        attacker.attackVote(pid); // borrow 60% of supply, delegate, vote Against, repay: one tx, one block

        assertEq(attacker.weight(), 0, "flash-borrowed votes carry zero weight");
        assertTrue(governor.hasVoted(pid, address(attacker)), "vote was cast");
        (uint256 against, uint256 forVotes,) = governor.proposalVotes(pid);
        assertEq(against, 0, "no against weight");
        assertEq(forVotes, SUPPLY * 40 / 100, "honest weight intact");
        assertEq(vrt.balanceOf(address(lender)), SUPPLY * 60 / 100, "loan repaid");
        vm.roll(block.number + 51);
        assertEq(uint256(governor.state(pid)), uint256(IGovernor.ProposalState.Succeeded), "outcome unaffected");
    }

    function test_flashBorrowDelegatePropose_inOneBlock_isRejected() public {
        attacker.attackPropose();
        assertFalse(attacker.proposeSucceeded(), "threshold is read at the previous block");
    }
}
