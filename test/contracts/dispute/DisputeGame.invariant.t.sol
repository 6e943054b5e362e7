// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../utils/Test.sol";
import {DisputeWorld} from "./DisputeWorld.sol";
import {DisputeGame} from "../../../contracts/dispute/DisputeGame.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";

/// @notice Drives many games at once with random moves, delays, timeouts, out-of-turn attempts and withdrawals,
/// and records, per game, what each side was credited when it resolved.
contract DisputeHandler is DisputeWorld {
    uint256[] public ids;
    mapping(uint256 gameId => uint256) public paidClaimant;
    mapping(uint256 gameId => uint256) public paidChallenger;
    uint256 public withdrawn; // withdrawn by either side
    uint256 public resolvedCount;

    constructor() {
        setUp();
        _scenario(11, 1, 200, 3, 2, 50); // the claimant's trace is wrong at tensor 2
    }

    function idsLength() external view returns (uint256) {
        return ids.length;
    }

    function gameAddr() external view returns (address) {
        return address(dg);
    }

    function claimantAddr() external view returns (address) {
        return claimant;
    }

    function challengerAddr() external view returns (address) {
        return challenger;
    }

    function tokenAddr() external view returns (address) {
        return address(token);
    }

    function openGame() external {
        if (ids.length >= 12) return;
        ids.push(_open());
    }

    function act(uint256 which, uint256 r) external {
        if (ids.length == 0) return;
        uint256 gameId = ids[which % ids.length];
        DisputeGame.Phase phase = _phase(gameId);
        if (phase == DisputeGame.Phase.Resolved) return;
        vm.warp(block.timestamp + (r >> 128) % (CLOCK / 3));
        (uint256 c0, uint256 h0) = (dg.credit(claimant), dg.credit(challenger));
        (, uint256 deadline) = dg.turn(gameId);
        uint256 mode = r % 8;
        if (block.timestamp > deadline || mode == 0) {
            try dg.timeout(gameId) {} catch {}
        } else if (mode == 1) {
            // out of turn: the other side tries the move of this phase
            bool claimantTurn = phase == DisputeGame.Phase.AwaitRoots || phase == DisputeGame.Phase.AwaitTensorData
                || phase == DisputeGame.Phase.AwaitChildren;
            vm.prank(claimantTurn ? challenger : claimant);
            try dg.bisect(gameId, new bytes32[](0)) {
                revert("out-of-turn move succeeded");
            } catch {}
        } else {
            _legal(gameId, phase, r);
        }
        uint256 dc = dg.credit(claimant) - c0;
        uint256 dh = dg.credit(challenger) - h0;
        if (dc + dh > 0) {
            paidClaimant[gameId] += dc;
            paidChallenger[gameId] += dh;
            resolvedCount += 1;
        }
    }

    function _legal(uint256 gameId, DisputeGame.Phase phase, uint256 r) internal {
        if (phase == DisputeGame.Phase.AwaitRoots) _revealRoots(gameId);
        else if (phase == DisputeGame.Phase.AwaitTensor) _disputeTensor(gameId, 1 + (r >> 8) % 3);
        else if (phase == DisputeGame.Phase.AwaitTensorData) _revealTensor(gameId);
        else if (phase == DisputeGame.Phase.AwaitPick) _pick(gameId, r >> 16);
        else if (phase == DisputeGame.Phase.AwaitChildren) _bisect(gameId);
        else {
            // the challenger may have walked into padding or disputed a correct tensor: oneStep can then revert
            (, uint256 e) = _leafChoice(gameId, r >> 24, r >> 32);
            if (e >= size) return;
            _oneStep(gameId, r >> 24, r >> 32);
        }
    }

    function claim(bool claimantSide) external {
        address who = claimantSide ? claimant : challenger;
        uint256 amount = dg.credit(who);
        if (amount == 0) return;
        vm.prank(who);
        dg.claimCredit();
        withdrawn += amount;
    }
}

contract DisputeGameInvariantTest is Test {
    DisputeHandler internal handler;

    function setUp() public {
        handler = new DisputeHandler();
        targetContract(address(handler));
        bytes4[] memory sel = new bytes4[](3);
        sel[0] = DisputeHandler.openGame.selector;
        sel[1] = DisputeHandler.act.selector;
        sel[2] = DisputeHandler.claim.selector;
        targetSelector(FuzzSelector(address(handler), sel));
    }

    /// @notice Sanity check of the handler: a short deterministic run resolves games both ways.
    function test_handlerResolvesGames() public {
        handler.openGame();
        handler.openGame();
        for (uint256 i; i < 40; ++i) {
            handler.act(i, uint256(keccak256(abi.encode(i))) | 2); // mode ≥ 2 or timeout after expiry
        }
        assertGe(handler.resolvedCount(), 1, "some game resolved");
        invariant_resolvedGamesHoldNoBondsAndPayOneSide();
        invariant_balanceIsLiveBondsPlusCredit();
    }

    /// @notice After every game resolves it holds no bonds and exactly one side was paid (the whole pot).
    function invariant_resolvedGamesHoldNoBondsAndPayOneSide() public view {
        DisputeGame dg = _dg();
        uint256 n = handler.idsLength();
        for (uint256 i; i < n; ++i) {
            uint256 gameId = handler.ids(i);
            DisputeGame.Game memory g = dg.game(gameId);
            uint256 a = handler.paidClaimant(gameId);
            uint256 b = handler.paidChallenger(gameId);
            if (g.phase != DisputeGame.Phase.Resolved) {
                assertEq(a + b, 0, "nobody paid before resolution");
                assertEq(uint256(dg.outcome(gameId)), uint256(IDisputeResolver.Outcome.Pending), "pending");
                continue;
            }
            assertEq(dg.bondsHeld(gameId), 0, "resolved game holds no bonds");
            assertTrue((a == 0) != (b == 0), "exactly one side paid");
            uint256 pot = g.claimantBonded ? 2 * uint256(g.bond) : g.bond;
            assertEq(a + b, pot, "the winner got the whole pot");
            bool claimantWon = g.outcome == IDisputeResolver.Outcome.ClaimantWon;
            assertEq(claimantWon ? a : b, pot, "paid side is the winner");
        }
    }

    /// @notice The contract's balance is exactly the bonds of live games plus unclaimed credit.
    function invariant_balanceIsLiveBondsPlusCredit() public view {
        DisputeGame dg = _dg();
        uint256 n = handler.idsLength();
        uint256 live;
        for (uint256 i; i < n; ++i) {
            live += dg.bondsHeld(handler.ids(i));
        }
        uint256 credits = dg.credit(_claimant()) + dg.credit(_challenger());
        assertEq(_token().balanceOf(address(dg)), live + credits, "balance = live bonds + credit");
    }

    function _dg() internal view returns (DisputeGame) {
        return DisputeGame(HandlerView(address(handler)).gameAddr());
    }

    function _claimant() internal view returns (address) {
        return HandlerView(address(handler)).claimantAddr();
    }

    function _challenger() internal view returns (address) {
        return HandlerView(address(handler)).challengerAddr();
    }

    function _token() internal view returns (TokenView) {
        return TokenView(HandlerView(address(handler)).tokenAddr());
    }
}

interface HandlerView {
    function gameAddr() external view returns (address);
    function claimantAddr() external view returns (address);
    function challengerAddr() external view returns (address);
    function tokenAddr() external view returns (address);
}

interface TokenView {
    function balanceOf(address) external view returns (uint256);
}
