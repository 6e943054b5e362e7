// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "../utils/Test.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {TestDisputeResolver} from "../mocks/TestDisputeResolver.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {IoCommitments} from "../../../contracts/libraries/IoCommitments.sol";
import {PositionalMerkle} from "../../../contracts/libraries/PositionalMerkle.sol";

/// @notice Drives random sequences of every market/staking action for the invariant suite.
contract MarketHandler is Test {
    uint32 internal constant BATCH = 4;

    IERC20 public immutable token;
    TaskMarket public immutable market;
    Staking public immutable staking;
    TestDisputeResolver public immutable resolver;
    uint256 public immutable modelId;

    address[] public actors;
    mapping(address => uint256) public agentOf;
    uint256[] public taskIds;
    mapping(uint256 => bool) public isBatch;
    mapping(uint256 => uint256) public finalizeSuccesses;
    uint256 public ghostDoublePay;
    uint256 public calls;
    /// @notice Ground truth of each commit (issue 11: "no honest party slashed"): true if the worker committed a wrong
    /// result. The test resolver is told the truth, as the real game decides it (DisputeGame's own suites).
    mapping(uint256 taskId => bool) public dishonest;
    mapping(uint256 gameId => uint256 taskId) public gameTask;
    /// @notice Stake each actor put into Staking and took out of it (ghosts for stake conservation).
    mapping(address => uint256) public ghostStaked;
    mapping(address => uint256) public ghostUnstaked;

    constructor(
        IERC20 token_,
        TaskMarket market_,
        Staking staking_,
        TestDisputeResolver resolver_,
        uint256 modelId_,
        address[] memory actors_,
        uint256[] memory agents_
    ) {
        token = token_;
        market = market_;
        staking = staking_;
        resolver = resolver_;
        modelId = modelId_;
        actors = actors_;
        for (uint256 i; i < actors_.length; ++i) agentOf[actors_[i]] = agents_[i];
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function taskCount() external view returns (uint256) {
        return taskIds.length;
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % actors.length];
    }

    function _task(uint256 seed) internal view returns (uint256) {
        if (taskIds.length == 0) return 0;
        return taskIds[seed % taskIds.length];
    }

    // ------------------------------------------------------------ staking

    function stake(uint256 actorSeed, uint256 amount) external {
        ++calls;
        address a = _actor(actorSeed);
        amount = bound(amount, 1, 300e18);
        vm.prank(a);
        try staking.stake(amount) {
            ghostStaked[a] += amount;
        } catch {}
    }

    function requestUnbond(uint256 actorSeed, uint256 amount) external {
        ++calls;
        address a = _actor(actorSeed);
        uint256 free = staking.freeStakeOf(a);
        if (free == 0) return;
        amount = bound(amount, 1, free);
        vm.prank(a);
        staking.requestUnbond(amount);
    }

    function withdrawUnbonded(uint256 actorSeed) external {
        ++calls;
        address a = _actor(actorSeed);
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        try staking.withdrawUnbonded() {
            ghostUnstaked[a] += token.balanceOf(a) - before;
        } catch {}
    }

    // ------------------------------------------------------------ market

    function post(uint256 actorSeed, uint256 fee, bool batch) external {
        ++calls;
        address a = _actor(actorSeed);
        fee = bound(fee, 1, 50e18);
        uint64 deadline = uint64(block.timestamp + 6 hours);
        vm.prank(a);
        uint256 id;
        if (batch) {
            try market.postBatchTask(modelId, MerkleBuilder.root(_inputLeaves()), BATCH, fee, deadline) returns (
                uint256 x
            ) {
                id = x;
            } catch {
                return;
            }
        } else {
            try market.postTask(modelId, _tensors(hex"c0ffee"), fee, deadline) returns (uint256 x) {
                id = x;
            } catch {
                return;
            }
        }
        taskIds.push(id);
        isBatch[id] = batch;
    }

    function claim(uint256 taskSeed, uint256 actorSeed) external {
        ++calls;
        uint256 id = _task(taskSeed);
        if (id == 0) return;
        address a = _actor(actorSeed);
        vm.prank(a);
        try market.claim(id, agentOf[a]) {} catch {}
    }

    function commit(uint256 taskSeed, bool lie) external {
        ++calls;
        uint256 id = _task(taskSeed);
        if (id == 0) return;
        address w = market.getTask(id).worker;
        if (w == address(0)) return;
        vm.prank(w);
        if (isBatch[id]) {
            try market.commitBatch(id, MerkleBuilder.root(_resultLeaves())) {
                dishonest[id] = lie;
            } catch {}
        } else {
            try market.commit(id, _tensors(hex"beef")) {
                dishonest[id] = lie;
            } catch {}
        }
    }

    function join(uint256 disputeSeed, uint256 actorSeed) external {
        ++calls;
        (, uint256 n) = market.counts();
        if (n == 0) return;
        vm.prank(_actor(actorSeed));
        try market.joinChallenge(disputeSeed % n + 1) {} catch {}
    }

    function payShare(uint256 disputeSeed) external {
        ++calls;
        (, uint256 n) = market.counts();
        if (n == 0) return;
        try market.payShare(disputeSeed % n + 1) {} catch {}
    }

    function challenge(uint256 taskSeed, uint256 actorSeed, uint256 indexSeed) external {
        ++calls;
        uint256 id = _task(taskSeed);
        if (id == 0) return;
        address c = _actor(actorSeed);
        vm.prank(c);
        if (isBatch[id]) {
            uint32 i = uint32(indexSeed % BATCH);
            try market.challenge(
                id,
                i,
                keccak256(abi.encode("in", uint256(i))),
                MerkleBuilder.proof(_inputLeaves(), i),
                keccak256(abi.encode("out", uint256(i))),
                MerkleBuilder.proof(_resultLeaves(), i)
            ) {
                gameTask[resolver.gameCount()] = id;
            } catch {}
        } else {
            bytes32[] memory none = new bytes32[](0);
            try market.challenge(id, 0, _digest(6, hex"c0ffee"), none, _digest(7, hex"beef"), none)
            {
                gameTask[resolver.gameCount()] = id;
            } catch {}
        }
    }

    /// @dev The game is sound: the challenger wins exactly when the worker lied (`honestGames` false lets a game be
    /// decided at random, for the accounting invariants only).
    bool public honestGames = true;

    function decide(uint256 gameSeed, bool challengerWins) external {
        ++calls;
        uint256 n = resolver.gameCount();
        if (n == 0) return;
        uint256 g = gameSeed % n + 1;
        if (honestGames) challengerWins = dishonest[gameTask[g]];
        if (!challengerWins && gameSeed % 3 == 0) resolver.setUncontested(g, true);
        try resolver.decide(
            g, challengerWins ? IDisputeResolver.Outcome.ChallengerWon : IDisputeResolver.Outcome.ClaimantWon
        ) {} catch {}
    }

    function resolve(uint256 disputeSeed) external {
        ++calls;
        (, uint256 n) = market.counts();
        if (n == 0) return;
        try market.resolve(disputeSeed % n + 1) {} catch {}
    }

    function finalize(uint256 taskSeed) external {
        ++calls;
        uint256 id = _task(taskSeed);
        if (id == 0) return;
        bool wasFinalized = market.getTask(id).status == TaskMarket.TaskStatus.Finalized;
        try market.finalize(id) {
            finalizeSuccesses[id] += 1;
            if (wasFinalized) ghostDoublePay += 1;
        } catch {}
    }

    function cancel(uint256 taskSeed, uint256 actorSeed) external {
        ++calls;
        uint256 id = _task(taskSeed);
        if (id == 0) return;
        vm.prank(_actor(actorSeed));
        try market.cancel(id) {} catch {}
    }

    function withdraw(uint256 actorSeed) external {
        ++calls;
        vm.prank(_actor(actorSeed));
        try market.withdraw() {} catch {}
    }

    function warp(uint256 secs) external {
        ++calls;
        vm.warp(block.timestamp + bound(secs, 0, 2 days));
        vm.roll(block.number + 1);
    }

    // ------------------------------------------------------------ leaves

    function _inputLeaves() internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](BATCH);
        for (uint256 i; i < BATCH; ++i) leaves[i] = PositionalMerkle.inputLeaf(i, keccak256(abi.encode("in", i)));
    }

    function _resultLeaves() internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](BATCH);
        for (uint256 i; i < BATCH; ++i) {
            leaves[i] = PositionalMerkle.resultLeaf(i, keccak256(abi.encode("out", i)));
        }
    }

    function _tensors(bytes memory data) internal pure returns (IoCommitments.Tensor[] memory ts) {
        uint32[] memory shape = new uint32[](1);
        shape[0] = uint32(data.length);
        ts = new IoCommitments.Tensor[](1);
        ts[0] = IoCommitments.Tensor(1, shape, data);
    }

    function _digest(uint8 prefix, bytes memory data) internal pure returns (bytes32 h) {
        (h,,) = IoCommitments.digest(prefix, _tensors(data));
    }
}
