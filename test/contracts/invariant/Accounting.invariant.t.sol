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
        bytes4[] memory sel = new bytes4[](16);
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
        sel[14] = MarketHandler.join.selector;
        sel[15] = MarketHandler.payShare.selector;
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

    /// @dev What the market holds besides escrow and credits: the join bonds of live disputes, and the challenger share
    /// of invalidated tasks not yet credited (all of it while a dispute of the task is open; then the parts of won
    /// disputes whose members were not credited yet). Game bonds are the resolver's.
    function _bonds() internal view returns (uint256 held) {
        (, uint256 nDisputes) = market.counts();
        for (uint256 d = 1; d <= nDisputes; ++d) {
            TaskMarket.Dispute memory x = market.getDispute(d);
            if (x.outcome == IDisputeResolver.Outcome.Pending) {
                (, uint256 joinBond) = market.liveDispute(x.taskId, x.index);
                held += joinBond * market.joinersOf(d).length;
            }
            TaskMarket.Task memory t = market.getTask(x.taskId);
            if (
                t.status == TaskMarket.TaskStatus.Invalidated && t.openDisputes == 0 && !x.sharePaid
                    && x.outcome == IDisputeResolver.Outcome.ChallengerWon
            ) held += uint256(t.challengerPot) / t.winners * x.teamSize;
        }
        (uint256 nTasks,) = market.counts();
        for (uint256 id = 1; id <= nTasks; ++id) {
            TaskMarket.Task memory t = market.getTask(id);
            if (t.status == TaskMarket.TaskStatus.Invalidated && t.openDisputes != 0) held += t.challengerPot;
        }
    }

    /// Issue 11: no honest party is ever slashed. Every invalidated task was a lie, and each actor's stake changed only
    /// by what it put in, took out, and lost on its own lies or abandoned claims.
    function invariant_noHonestPartySlashed() public view {
        (uint256 nTasks,) = market.counts();
        uint256 n = handler.actorCount();
        uint256[] memory lost = new uint256[](n);
        uint16 abandonBps = market.getRules().abandonBps;
        for (uint256 id = 1; id <= nTasks; ++id) {
            TaskMarket.Task memory t = market.getTask(id);
            uint256 loss;
            if (t.status == TaskMarket.TaskStatus.Invalidated) {
                assertTrue(handler.dishonest(id), "an honest worker's task was invalidated");
                loss = t.stakeLocked;
            } else if (t.status == TaskMarket.TaskStatus.Cancelled && t.worker != address(0)) {
                loss = uint256(t.stakeLocked) * abandonBps / 10_000;
            }
            for (uint256 i; i < n; ++i) {
                if (handler.actors(i) == t.worker) lost[i] += loss;
            }
        }
        for (uint256 i; i < n; ++i) {
            address a = handler.actors(i);
            Staking.Account memory acc = staking.accountOf(a);
            assertEq(
                200e18 + handler.ghostStaked(a),
                uint256(acc.staked) + acc.unbonding + handler.ghostUnstaked(a) + lost[i],
                "stake lost only to own lies or abandoned claims"
            );
        }
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
