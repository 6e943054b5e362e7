// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../utils/Fixture.sol";
import {MarketHandler} from "./MarketHandler.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @notice Invariants over random sequences of stake / unbond / post / claim / commit / challenge / decide /
/// resolve / finalize / cancel / withdraw / time travel (runs and depth from foundry.toml: 256 x 32).
contract AccountingInvariantTest is Fixture {
    MarketHandler internal handler;

    function setUp() public {
        _deployWithVrt();
        address[] memory actors = new address[](4);
        uint256[] memory agents = new uint256[](4);
        for (uint256 i; i < actors.length; ++i) {
            actors[i] = makeAddr(string.concat("actor", string(abi.encodePacked(bytes1(uint8(48 + i))))));
            agents[i] = _setupWorker(actors[i], 200e18);
            _fund(actors[i], 10_000e18);
            vm.startPrank(actors[i]);
            token.approve(address(market), type(uint256).max);
            token.approve(address(staking), type(uint256).max);
            vm.stopPrank();
        }
        handler = new MarketHandler(token, market, staking, resolver, modelId, actors, agents);
        targetContract(address(handler));
        bytes4[] memory sel = new bytes4[](14);
        sel[0] = MarketHandler.stake.selector;
        sel[1] = MarketHandler.requestUnbond.selector;
        sel[2] = MarketHandler.withdrawUnbonded.selector;
        sel[3] = MarketHandler.post.selector;
        sel[4] = MarketHandler.claim.selector;
        sel[5] = MarketHandler.commit.selector;
        sel[6] = MarketHandler.challenge.selector;
        sel[7] = MarketHandler.decide.selector;
        sel[8] = MarketHandler.resolve.selector;
        sel[9] = MarketHandler.finalize.selector;
        sel[10] = MarketHandler.cancel.selector;
        sel[11] = MarketHandler.withdraw.selector;
        sel[12] = MarketHandler.warp.selector;
        sel[13] = MarketHandler.post.selector; // posting twice as likely keeps the pipeline full
        targetSelector(FuzzSelector(address(handler), sel));
    }

    function _escrowAndLocks() internal view returns (uint256 escrow, uint256 locks) {
        (uint256 nTasks,) = market.counts();
        for (uint256 id = 1; id <= nTasks; ++id) {
            TaskMarket.Task memory t = market.getTask(id);
            bool live = t.status == TaskMarket.TaskStatus.Open || t.status == TaskMarket.TaskStatus.Claimed
                || t.status == TaskMarket.TaskStatus.Committed;
            if (live) escrow += t.fee;
            if (t.status == TaskMarket.TaskStatus.Claimed || t.status == TaskMarket.TaskStatus.Committed) {
                locks += t.stakeLocked;
            }
        }
    }

    /// @dev The market holds no bonds (the resolver takes them).
    function _bonds() internal pure returns (uint256) {
        return 0;
    }

    /// Tokens held by Staking + TaskMarket == stakes (incl. unbonding) + bonds + escrowed fees + credited payouts.
    function invariant_tokensHeldEqualLiabilities() public view {
        uint256 stakes;
        uint256 credited = market.claimable(treasury);
        uint256 n = handler.actorCount();
        for (uint256 i; i < n; ++i) {
            address a = handler.actors(i);
            Staking.Account memory acc = staking.accountOf(a);
            stakes += uint256(acc.staked) + acc.unbonding;
            credited += market.claimable(a);
        }
        (uint256 escrow,) = _escrowAndLocks();
        uint256 bonds = _bonds();
        assertEq(token.balanceOf(address(staking)), stakes, "staking holds exactly the stakes");
        assertEq(token.balanceOf(address(market)), escrow + bonds + credited, "market holds escrow + bonds + credits");
        assertEq(
            token.balanceOf(address(staking)) + token.balanceOf(address(market)),
            stakes + bonds + escrow + credited,
            "total"
        );
    }

    /// No stake goes negative: locked never exceeds staked, and locks equal the stake backing live tasks.
    function invariant_noNegativeStake() public view {
        uint256 n = handler.actorCount();
        uint256 totalLocked;
        for (uint256 i; i < n; ++i) {
            Staking.Account memory acc = staking.accountOf(handler.actors(i));
            assertLe(acc.locked, acc.staked, "locked <= staked");
            totalLocked += acc.locked;
        }
        (, uint256 locks) = _escrowAndLocks();
        assertEq(totalLocked, locks, "locks match live tasks");
    }

    /// A finalized task is never paid twice.
    function invariant_finalizedPaidOnce() public view {
        assertEq(handler.ghostDoublePay(), 0, "double finalize succeeded");
        uint256 n = handler.taskCount();
        for (uint256 i; i < n; ++i) {
            uint256 id = handler.taskIds(i);
            uint256 s = handler.finalizeSuccesses(id);
            assertLe(s, 1, "finalized at most once");
            if (s == 1) {
                assertEq(uint256(market.getTask(id).status), uint256(TaskMarket.TaskStatus.Finalized), "status");
            }
        }
    }
}
