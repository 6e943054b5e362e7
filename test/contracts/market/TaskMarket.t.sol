// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Fixture} from "../utils/Fixture.sol";
import {MerkleBuilder} from "../utils/MerkleBuilder.sol";
import {TaskMarket} from "../../../contracts/market/TaskMarket.sol";
import {Staking} from "../../../contracts/staking/Staking.sol";
import {Governed} from "../../../contracts/common/Governed.sol";
import {ModelRegistry} from "../../../contracts/registry/ModelRegistry.sol";
import {IDisputeResolver} from "../../../contracts/interfaces/IDisputeResolver.sol";
import {PositionalMerkle} from "../../../contracts/libraries/PositionalMerkle.sol";
import {IdentityRegistry} from "../../../contracts/registry/IdentityRegistry.sol";
import {ReputationRegistry} from "../../../contracts/registry/ReputationRegistry.sol";
import {ValidationRegistry} from "../../../contracts/registry/ValidationRegistry.sol";
import {TestDisputeResolver} from "../mocks/TestDisputeResolver.sol";

/// @dev Trivial state-changing call used to detect whether measured call gas includes the intrinsic cost.
contract GasProbe {
    event Pinged();

    function ping() external {
        emit Pinged();
    }
}

contract TaskMarketTest is Fixture {
    bytes internal constant INPUT = hex"0102030405";
    bytes internal constant OUTPUT = hex"0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223242526272829";

    function setUp() public {
        _deployWithVrt();
        _setupParties();
    }

    // ============================================================ post

    function test_postTask_escrowsFeeAndEmits() public {
        uint64 deadline = uint64(block.timestamp + 1 hours);
        bytes32 inputRoot = PositionalMerkle.inputLeaf(0, _inHash(INPUT));
        vm.expectEmit(address(market));
        emit TaskMarket.TaskPosted(1, requester, modelId, inputRoot, 1, FEE, deadline);
        vm.expectEmit(address(market));
        emit TaskMarket.InputPublished(1, _inHash(INPUT), _tensors(INPUT));
        vm.prank(requester);
        uint256 taskId = market.postTask(modelId, _tensors(INPUT), FEE, deadline);
        assertEq(taskId, 1, "id");
        TaskMarket.Task memory t = market.getTask(taskId);
        assertEq(uint256(t.status), uint256(TaskMarket.TaskStatus.Open), "status");
        assertEq(t.requester, requester, "requester");
        assertEq(t.fee, FEE, "fee");
        assertEq(t.inputRoot, inputRoot, "inputRoot");
        assertEq(t.protocolFeeBps, FEE_BPS, "fee bps snapshot");
        assertEq(token.balanceOf(address(market)), FEE, "escrow");
        (uint256 tasks,) = market.counts();
        assertEq(tasks, 1, "count");
    }

    function test_postTaskCommitment_storesCommitment() public {
        bytes32 inputHash = keccak256("off-chain input");
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.expectEmit(address(market));
        emit TaskMarket.TaskPosted(1, requester, modelId, PositionalMerkle.inputLeaf(0, inputHash), 1, FEE, deadline);
        vm.prank(requester);
        uint256 taskId = market.postTaskCommitment(modelId, inputHash, FEE, deadline);
        assertEq(market.getTask(taskId).inputRoot, PositionalMerkle.inputLeaf(0, inputHash), "root");
    }

    function test_postBatchTask_storesRootAndCount() public {
        bytes32 root = MerkleBuilder.root(_inputLeaves(100));
        uint64 deadline = uint64(block.timestamp + 1 hours);
        vm.expectEmit(address(market));
        emit TaskMarket.TaskPosted(1, requester, modelId, root, 100, FEE, deadline);
        vm.prank(requester);
        uint256 taskId = market.postBatchTask(modelId, root, 100, FEE, deadline);
        assertEq(market.getTask(taskId).itemCount, 100, "count");
    }

    function test_post_revertsZeroFee() public {
        vm.prank(requester);
        vm.expectRevert(TaskMarket.MarketZeroFee.selector);
        market.postTask(modelId, _tensors(INPUT), 0, uint64(block.timestamp + 1));
    }

    function test_post_revertsPastDeadline() public {
        vm.prank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(
                TaskMarket.MarketInvalidDeadline.selector, uint64(block.timestamp), uint64(block.timestamp)
            )
        );
        market.postTask(modelId, _tensors(INPUT), FEE, uint64(block.timestamp));
    }

    function test_post_revertsUnknownModel() public {
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.ModelRegistryUnknownModel.selector, 99));
        market.postTask(99, _tensors(INPUT), FEE, uint64(block.timestamp + 1));
    }

    function test_postBatch_revertsBadItemCount() public {
        vm.startPrank(requester);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidItemCount.selector, 0, 1 << 16));
        market.postBatchTask(modelId, bytes32(uint256(1)), 0, FEE, uint64(block.timestamp + 1));
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidItemCount.selector, (1 << 16) + 1, 1 << 16));
        market.postBatchTask(modelId, bytes32(uint256(1)), (1 << 16) + 1, FEE, uint64(block.timestamp + 1));
        vm.stopPrank();
    }

    function test_post_revertsWithoutAllowance() public {
        vm.prank(stranger);
        vm.expectRevert();
        market.postTask(modelId, _tensors(INPUT), FEE, uint64(block.timestamp + 1));
    }

    // ============================================================ claim

    function test_claim_locksStakeAndEmits() public {
        uint256 taskId = _post(INPUT);
        vm.expectEmit(address(market));
        emit TaskMarket.TaskClaimed(taskId, worker, agentId, MIN_STAKE);
        vm.prank(worker);
        market.claim(taskId, agentId);
        TaskMarket.Task memory t = market.getTask(taskId);
        assertEq(t.worker, worker, "worker");
        assertEq(t.agentId, agentId, "agent");
        assertEq(uint256(t.status), uint256(TaskMarket.TaskStatus.Claimed), "status");
        assertEq(staking.accountOf(worker).locked, MIN_STAKE, "locked");
    }

    function test_claim_revertsWrongStatus() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Claimed)
        );
        market.claim(taskId, agentId);
    }

    function test_claim_revertsAfterDeadline() public {
        uint256 taskId = _post(INPUT);
        uint64 deadline = market.getTask(taskId).deadline;
        vm.warp(deadline + 1);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketDeadlinePassed.selector, taskId, deadline));
        market.claim(taskId, agentId);
    }

    function test_claim_revertsNotAgentOperator() public {
        uint256 taskId = _post(INPUT);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketNotAgentOperator.selector, stranger, agentId));
        market.claim(taskId, agentId);
    }

    function test_claim_revertsInsufficientStake() public {
        uint256 taskId = _post(INPUT);
        vm.prank(stranger);
        uint256 strangerAgent = identity.register("ipfs://s");
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(Staking.StakingInsufficientStake.selector, stranger, 0, uint256(MIN_STAKE))
        );
        market.claim(taskId, strangerAgent);
    }

    // ============================================================ commit

    function test_commit_storesRootStartsWindowAndEmits() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        bytes32 root = PositionalMerkle.resultLeaf(0, _outHash(OUTPUT));
        uint64 cd = uint64(block.timestamp) + WINDOW;
        vm.expectEmit(address(market));
        emit TaskMarket.ResultCommitted(taskId, worker, root, _outHash(OUTPUT), cd, _tensors(OUTPUT));
        vm.prank(worker);
        market.commit(taskId, _tensors(OUTPUT));
        TaskMarket.Task memory t = market.getTask(taskId);
        assertEq(t.resultRoot, root, "root");
        assertEq(t.challengeDeadline, cd, "window");
        assertEq(uint256(t.status), uint256(TaskMarket.TaskStatus.Committed), "status");
    }

    function test_commit_revertsNotWorker() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketNotWorker.selector, stranger, worker));
        market.commit(taskId, _tensors(OUTPUT));
    }

    function test_commit_revertsWrongStatus() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Open)
        );
        market.commit(taskId, _tensors(OUTPUT));
    }

    function test_commit_revertsAfterDeadline() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        uint64 deadline = market.getTask(taskId).deadline;
        vm.warp(deadline + 1);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketDeadlinePassed.selector, taskId, deadline));
        market.commit(taskId, _tensors(OUTPUT));
    }

    function test_commit_revertsOnBatchTask() public {
        uint256 taskId = _postBatch(4);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketNotSingleItem.selector, taskId, 4));
        market.commit(taskId, _tensors(OUTPUT));
    }

    function test_commitBatch_storesRootAndEmits() public {
        uint256 taskId = _postBatch(100);
        vm.prank(worker);
        market.claim(taskId, agentId);
        bytes32 root = MerkleBuilder.root(_resultLeaves(100));
        vm.expectEmit(address(market));
        emit TaskMarket.BatchCommitted(taskId, worker, root, 100, uint64(block.timestamp) + WINDOW);
        vm.prank(worker);
        market.commitBatch(taskId, root);
        assertEq(market.getTask(taskId).resultRoot, root, "root");
    }

    function test_commitBatch_revertsWrongStatus() public {
        uint256 taskId = _postBatch(4);
        vm.prank(worker);
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Open)
        );
        market.commitBatch(taskId, bytes32(uint256(1)));
    }

    // ============================================================ gas budgets

    /// Single commit must fit 80k gas for the whole transaction: measured call + 21k intrinsic + calldata.
    function test_gas_commitSingle_under80k() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        bytes memory data = abi.encodeCall(TaskMarket.commit, (taskId, _tensors(OUTPUT)));
        vm.prank(worker);
        uint256 g = gasleft();
        market.commit(taskId, _tensors(OUTPUT));
        g -= gasleft();
        uint256 txGas = g + _intrinsic(data);
        assertLe(txGas, 80_000, "single commit tx gas");
    }

    /// Batch of 100 results in one tx must cost <= 2k gas per result, whole transaction included.
    function test_gas_commitBatch100_under2kPerResult() public {
        uint256 taskId = _postBatch(100);
        vm.prank(worker);
        market.claim(taskId, agentId);
        bytes32 root = MerkleBuilder.root(_resultLeaves(100));
        bytes memory data = abi.encodeCall(TaskMarket.commitBatch, (taskId, root));
        vm.prank(worker);
        uint256 g = gasleft();
        market.commitBatch(taskId, root);
        g -= gasleft();
        uint256 txGas = g + _intrinsic(data);
        assertLe(txGas / 100, 2_000, "batch commit tx gas per result");
    }

    /// @dev Intrinsic cost to add to a measured call: 21k base + calldata (16/byte, upper bound). Under
    /// `forge test --gas-report` (isolation mode) each call already runs as its own transaction and the measured
    /// gas includes it; detected by probing a trivial call.
    function _intrinsic(bytes memory data) internal returns (uint256) {
        GasProbe probe = new GasProbe();
        uint256 g = gasleft();
        probe.ping();
        g -= gasleft();
        return g > 21_000 ? 0 : 21_000 + 16 * data.length;
    }

    // ============================================================ challenge

    function test_challenge_opensGameWithClaimAndEmits() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        bytes32[] memory none = new bytes32[](0);
        vm.expectEmit(address(market));
        emit TaskMarket.ResultChallenged(1, taskId, challenger, 0, address(resolver), 1);
        vm.prank(challenger);
        uint256 disputeId = market.challenge(taskId, 0, _inHash(INPUT), none, _outHash(OUTPUT), none);
        assertEq(disputeId, 1, "dispute id");
        assertEq(market.getTask(taskId).openDisputes, 1, "open");
        assertEq(token.balanceOf(address(market)), FEE, "no bond: the resolver takes it");
        TestDisputeResolver.Game memory g = resolver.game(1);
        assertEq(g.taskKey, market.taskKey(taskId, 0), "taskKey");
        assertEq(g.claimant, worker, "claimant");
        assertEq(g.challenger, challenger, "challenger");
        assertEq(g.claimedRoot, bytes32(0), "no audit pin: the claimed root is unbound");
        assertEq(g.modelRoot, MODEL_ROOT, "model root");
        assertEq(g.inputHash, _inHash(INPUT), "input hash");
        assertEq(g.outputHash, _outHash(OUTPUT), "output hash");
        assertEq(g.opener, address(market), "opener");
        TaskMarket.Dispute memory d = market.getDispute(disputeId);
        assertEq(d.challenger, challenger, "d.challenger");
        assertEq(address(d.resolver), address(resolver), "d.resolver");
    }

    function test_challenge_batchElementAloneWithProofs() public {
        uint256 taskId = _postBatch(100);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        market.commitBatch(taskId, MerkleBuilder.root(_resultLeaves(100)));
        uint256 disputeId = _challengeBatch(taskId, 100, 57);
        TaskMarket.Dispute memory d = market.getDispute(disputeId);
        assertEq(d.index, 57, "index");
        TestDisputeResolver.Game memory g = resolver.game(1);
        assertEq(g.taskKey, market.taskKey(taskId, 57), "key");
        assertEq(g.outputHash, keccak256(abi.encode("out", uint256(57))), "output of element 57");
        assertEq(g.claimedRoot, bytes32(0), "no trace root committed: unpinned");
        assertEq(g.inputHash, keccak256(abi.encode("in", uint256(57))), "input of element 57");
    }

    function testFuzz_challenge_anyBatchElement(uint32 n, uint32 index) public {
        n = uint32(bound(n, 1, 300));
        index = uint32(bound(index, 0, n - 1));
        uint256 taskId = _postBatch(n);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        market.commitBatch(taskId, MerkleBuilder.root(_resultLeaves(n)));
        uint256 disputeId = _challengeBatch(taskId, n, index);
        assertEq(market.getDispute(disputeId).index, index, "index");
    }

    function test_challenge_revertsWrongIndexProof() public {
        uint256 taskId = _postBatch(8);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        market.commitBatch(taskId, MerkleBuilder.root(_resultLeaves(8)));
        // Valid proofs for element 3 presented as element 5: the positional tree rejects them.
        bytes32[] memory inProof = MerkleBuilder.proof(_inputLeaves(8), 3);
        bytes32[] memory outProof = MerkleBuilder.proof(_resultLeaves(8), 3);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidInputProof.selector, taskId, 5));
        market.challenge(
            taskId,
            5,
            keccak256(abi.encode("in", uint256(3))),
            inProof,
            keccak256(abi.encode("out", uint256(3))),
            outProof
        );
    }

    function test_challenge_revertsBadResultProof() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidResultProof.selector, taskId, 0));
        market.challenge(taskId, 0, _inHash(INPUT), none, _outHash(hex"99"), none);
    }

    function test_challenge_revertsBadInputProof() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidInputProof.selector, taskId, 0));
        market.challenge(taskId, 0, keccak256("other input"), none, _outHash(OUTPUT), none);
    }

    function test_challenge_revertsIndexOutOfRange() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidInputProof.selector, taskId, 1));
        market.challenge(taskId, 1, _inHash(INPUT), none, _outHash(OUTPUT), none);
    }

    function test_challenge_revertsAfterWindow() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        uint64 cd = market.getTask(taskId).challengeDeadline;
        vm.warp(cd);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketChallengeWindowClosed.selector, taskId, cd));
        market.challenge(taskId, 0, _inHash(INPUT), none, _outHash(OUTPUT), none);
    }

    function test_challenge_revertsWrongStatus() public {
        uint256 taskId = _post(INPUT);
        bytes32[] memory none = new bytes32[](0);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Open)
        );
        market.challenge(taskId, 0, _inHash(INPUT), none, _outHash(OUTPUT), none);
    }

    // ============================================================ resolve

    function test_resolve_claimantWon_keepsTaskAndRecords() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        uint256 disputeId = _challengeSingle(taskId, INPUT, OUTPUT);
        resolver.decide(1, IDisputeResolver.Outcome.ClaimantWon);
        vm.expectEmit(address(market));
        emit TaskMarket.DisputeResolved(disputeId, taskId, IDisputeResolver.Outcome.ClaimantWon);
        market.resolve(disputeId);
        assertEq(market.claimable(worker), 0, "no bond in the market");
        assertEq(market.getTask(taskId).openDisputes, 0, "open");
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Committed), "still committed");
        address[] memory none = new address[](0);
        address[] memory mk = new address[](1); // ERC-8004 getSummary: a non-empty client list (the market)
        mk[0] = address(market);
        (uint64 count, int128 avg,) = reputation.getSummary(agentId, mk, "dispute", "won");
        assertEq(count, 1, "rep count");
        assertEq(int256(avg), 1e18, "rep avg");
        (uint64 vc, uint8 vr) = validation.getSummary(agentId, none, "dispute");
        assertEq(vc, 1, "validation count");
        assertEq(vr, 100, "validation upheld");
        // ERC-8004 lists: the record is the agent's and the market's (as validator), with a non-empty request URI.
        bytes32 key = market.validationKey(disputeId);
        assertEq(validation.getAgentValidations(agentId)[0], key, "agent's validations");
        assertEq(validation.getValidatorRequests(address(market))[0], key, "market's requests");
        assertTrue(bytes(validation.marketRequestURI(taskId, disputeId)).length > 29, "request URI");
        // Finalizable after the window.
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
    }

    function test_resolve_challengerWon_slashesSplitsRefunds() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        uint256 disputeId = _challengeSingle(taskId, INPUT, OUTPUT);
        resolver.decide(1, IDisputeResolver.Outcome.ChallengerWon);
        uint256 share = uint256(MIN_STAKE) * SLASH_BPS / 10_000;
        vm.expectEmit(address(market));
        emit TaskMarket.TaskInvalidated(taskId, challenger, MIN_STAKE, share, FEE);
        market.resolve(disputeId);
        assertEq(market.claimable(challenger), share, "challenger: slash share");
        assertEq(market.claimable(treasury), MIN_STAKE - share, "treasury share");
        assertEq(market.claimable(requester), FEE, "refund");
        Staking.Account memory a = staking.accountOf(worker);
        assertEq(a.staked, 1_000e18 - MIN_STAKE, "stake slashed");
        assertEq(a.locked, 0, "lock consumed");
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Invalidated), "status");
        address[] memory none = new address[](0);
        address[] memory mk = new address[](1); // ERC-8004 getSummary: a non-empty client list (the market)
        mk[0] = address(market);
        (uint64 count, int128 avg,) = reputation.getSummary(agentId, mk, "dispute", "lost");
        assertEq(count, 1, "rep count");
        assertEq(int256(avg), -1e18, "rep avg");
        (uint64 vc, uint8 vr) = validation.getSummary(agentId, none, "");
        assertEq(vc, 1, "validation count");
        assertEq(vr, 0, "validation rejected");
        vm.expectRevert(
            abi.encodeWithSelector(
                TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Invalidated
            )
        );
        market.finalize(taskId);
    }

    function test_resolve_secondChallengerWin_paysNothingMore() public {
        uint256 taskId = _postBatch(4);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(worker);
        market.commitBatch(taskId, MerkleBuilder.root(_resultLeaves(4)));
        uint256 d1 = _challengeBatch(taskId, 4, 1);
        uint256 d2 = _challengeBatch(taskId, 4, 2);
        resolver.decide(1, IDisputeResolver.Outcome.ChallengerWon);
        resolver.decide(2, IDisputeResolver.Outcome.ChallengerWon);
        market.resolve(d1);
        assertEq(market.claimable(challenger), 0, "share waits until no dispute is open");
        market.resolve(d2);
        market.payShare(d1);
        assertEq(market.claimable(challenger), uint256(MIN_STAKE) * SLASH_BPS / 10_000, "slashed once, share split");
        assertEq(market.claimable(requester), FEE, "refunded once");
    }

    function test_resolve_revertsUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketUnknownDispute.selector, 7));
        market.resolve(7);
    }

    function test_resolve_revertsPending() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        uint256 disputeId = _challengeSingle(taskId, INPUT, OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketDisputePending.selector, disputeId));
        market.resolve(disputeId);
    }

    function test_resolve_revertsTwice() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        uint256 disputeId = _challengeSingle(taskId, INPUT, OUTPUT);
        resolver.decide(1, IDisputeResolver.Outcome.ClaimantWon);
        market.resolve(disputeId);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketDisputeAlreadyResolved.selector, disputeId));
        market.resolve(disputeId);
    }

    // ============================================================ finalize

    function test_finalize_paysOnceReleasesStakeAndEmits() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        vm.warp(market.getTask(taskId).challengeDeadline);
        uint256 protocolFee = FEE * FEE_BPS / 10_000;
        vm.expectEmit(address(market));
        emit TaskMarket.TaskFinalized(taskId, worker, FEE - protocolFee, protocolFee);
        market.finalize(taskId);
        assertEq(market.claimable(worker), FEE - protocolFee, "worker");
        assertEq(market.claimable(treasury), protocolFee, "treasury");
        assertEq(staking.accountOf(worker).locked, 0, "unlocked");
        address[] memory none = new address[](0);
        address[] memory mk = new address[](1); // ERC-8004 getSummary: a non-empty client list (the market)
        mk[0] = address(market);
        (uint64 count,,) = reputation.getSummary(agentId, mk, "task", "finalized");
        assertEq(count, 1, "reputation");
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Finalized)
        );
        market.finalize(taskId);
    }

    function test_finalize_revertsInsideWindow() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        uint64 cd = market.getTask(taskId).challengeDeadline;
        vm.warp(cd - 1);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketChallengeWindowOpen.selector, taskId, cd));
        market.finalize(taskId);
    }

    function test_finalize_revertsWithOpenDispute() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        _challengeSingle(taskId, INPUT, OUTPUT);
        vm.warp(market.getTask(taskId).challengeDeadline);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketOpenDisputes.selector, taskId, 1));
        market.finalize(taskId);
    }

    function test_finalize_revertsUncommitted() public {
        uint256 taskId = _post(INPUT);
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Open)
        );
        market.finalize(taskId);
    }

    // ============================================================ cancel

    function test_cancel_byRequesterWhileOpen() public {
        uint256 taskId = _post(INPUT);
        vm.expectEmit(address(market));
        emit TaskMarket.TaskCancelled(taskId, requester, FEE);
        vm.prank(requester);
        market.cancel(taskId);
        assertEq(market.claimable(requester), FEE, "refund");
        assertEq(uint256(market.getTask(taskId).status), uint256(TaskMarket.TaskStatus.Cancelled), "status");
    }

    function test_cancel_revertsStrangerBeforeDeadline() public {
        uint256 taskId = _post(INPUT);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketCannotCancel.selector, taskId, stranger));
        market.cancel(taskId);
    }

    function test_cancel_revertsClaimedBeforeDeadline() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.prank(requester);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketCannotCancel.selector, taskId, requester));
        market.cancel(taskId);
    }

    function test_cancel_expiredClaim_unlocksAndMarksAgent() public {
        uint256 taskId = _post(INPUT);
        vm.prank(worker);
        market.claim(taskId, agentId);
        vm.warp(market.getTask(taskId).deadline + 1);
        vm.prank(stranger);
        market.cancel(taskId);
        uint256 penalty = uint256(MIN_STAKE) * market.getRules().abandonBps / 10_000;
        assertEq(market.claimable(requester), FEE + penalty, "refund plus abandon penalty");
        assertEq(staking.accountOf(worker).locked, 0, "unlocked");
        assertEq(staking.accountOf(worker).staked, 1_000e18 - penalty, "abandon penalty slashed");
        address[] memory none = new address[](0);
        address[] memory mk = new address[](1); // ERC-8004 getSummary: a non-empty client list (the market)
        mk[0] = address(market);
        (uint64 count, int128 avg,) = reputation.getSummary(agentId, mk, "task", "expired");
        assertEq(count, 1, "expired count");
        assertEq(int256(avg), -1e18, "negative");
    }

    function test_cancel_revertsCommitted() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketUnexpectedStatus.selector, taskId, TaskMarket.TaskStatus.Committed)
        );
        market.cancel(taskId);
    }

    // ============================================================ withdraw

    function test_withdraw_paysCreditedAndEmits() public {
        uint256 taskId = _post(INPUT);
        vm.prank(requester);
        market.cancel(taskId);
        uint256 before = token.balanceOf(requester);
        vm.expectEmit(address(market));
        emit TaskMarket.Withdrawn(requester, FEE);
        vm.prank(requester);
        market.withdraw();
        assertEq(token.balanceOf(requester), before + FEE, "paid");
        assertEq(market.claimable(requester), 0, "cleared");
    }

    function test_withdraw_revertsNothing() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketNothingToWithdraw.selector, stranger));
        market.withdraw();
    }

    // ============================================================ governance parameters

    function test_setParams_byTimelock() public {
        TaskMarket.Params memory p = _defaultParams();
        p.challengeWindow = 2 days;
        p.protocolFeeBps = 100;
        vm.expectEmit(address(market));
        emit TaskMarket.ParamsUpdated(p);
        vm.prank(address(timelock));
        market.setParams(p);
        assertEq(market.challengeWindow(), 2 days, "window");
        assertEq(market.getParams().protocolFeeBps, 100, "fee bps");
    }

    function test_setParams_revertsNonGovernance() public {
        TaskMarket.Params memory p = _defaultParams();
        vm.prank(address(this));
        vm.expectRevert(abi.encodeWithSelector(Governed.GovernedUnauthorized.selector, address(this)));
        market.setParams(p);
    }

    function test_setParams_revertsInvalid() public {
        TaskMarket.Params memory p = _defaultParams();
        vm.startPrank(address(timelock));
        p.slashChallengerBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidBps.selector, 10_001));
        market.setParams(p);
        p = _defaultParams();
        p.protocolFeeBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidBps.selector, 10_001));
        market.setParams(p);
        p = _defaultParams();
        p.challengeWindow = UNBOND_DELAY;
        vm.expectRevert(
            abi.encodeWithSelector(TaskMarket.MarketInvalidChallengeWindow.selector, UNBOND_DELAY, UNBOND_DELAY)
        );
        market.setParams(p);
        p = _defaultParams();
        p.challengeWindow = 0;
        vm.expectRevert(abi.encodeWithSelector(TaskMarket.MarketInvalidChallengeWindow.selector, 0, UNBOND_DELAY));
        market.setParams(p);
        p = _defaultParams();
        p.minStake = 0;
        vm.expectRevert(TaskMarket.MarketZeroAmount.selector);
        market.setParams(p);
        p = _defaultParams();
        p.treasury = address(0);
        vm.expectRevert(TaskMarket.MarketZeroAddress.selector);
        market.setParams(p);
        p = _defaultParams();
        p.resolver = IDisputeResolver(address(0));
        vm.expectRevert(TaskMarket.MarketZeroAddress.selector);
        market.setParams(p);
        vm.stopPrank();
    }

    function test_constructor_revertsZeroAddress() public {
        vm.expectRevert(TaskMarket.MarketZeroAddress.selector);
        new TaskMarket(
            IERC20(address(0)),
            identity,
            models,
            staking,
            reputation,
            validation,
            address(timelock),
            _defaultParams()
        );
    }

    function test_taskKey_isChainAndMarketBound() public view {
        assertEq(
            market.taskKey(3, 4), keccak256(abi.encode(block.chainid, address(market), uint256(3), uint256(4))), "key"
        );
    }

    /// Fee split snapshot: a governance change after posting does not alter an open task's split.
    function test_feeSplit_snapshotAtPost() public {
        uint256 taskId = _postClaimCommit(INPUT, OUTPUT);
        TaskMarket.Params memory p = _defaultParams();
        p.protocolFeeBps = 10_000;
        vm.prank(address(timelock));
        market.setParams(p);
        vm.warp(market.getTask(taskId).challengeDeadline);
        market.finalize(taskId);
        assertEq(market.claimable(worker), FEE - FEE * FEE_BPS / 10_000, "old split");
    }
}
