// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Governed} from "../common/Governed.sol";
import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IoCommitments} from "../libraries/IoCommitments.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";
import {IdentityRegistry} from "../registry/IdentityRegistry.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {ReputationRegistry} from "../registry/ReputationRegistry.sol";
import {ValidationRegistry} from "../registry/ValidationRegistry.sol";
import {Staking} from "../staking/Staking.sol";

/// @title TaskMarket
/// @notice Inference tasks with optimistic settlement (docs/protocol.md §Task market).
/// Lifecycle: a requester posts a task (model id, input tensors in calldata or their commitment, one or many
/// elements, fee escrowed, deadline) -> a staked worker claims it for one of its ERC-8004 agents (part of its stake
/// gets locked) -> the worker commits the result before the deadline (single element: output tensors + trace root;
/// batch: one Merkle root over all element results) -> during the challenge window anyone may challenge any single
/// element with Merkle proofs; the market opens a game on the {IDisputeResolver} on the challenger's behalf (the
/// game takes the challenger's bond directly) -> after the window, with no dispute open and none lost, {finalize}
/// credits the fee. A challenger win invalidates the task: the worker's locked stake is slashed (split challenger /
/// treasury), the fee goes back to the requester.
/// Element commitments are the dispute game's: inputHash = keccak256(0x06 ‖ uint32 n ‖ input tensorRoots),
/// outputHash = keccak256(0x07 ‖ uint32 n ‖ output tensorRoots) ({IoCommitments}); tensors published in calldata are
/// hashed on-chain, so the published bytes are exactly what the game checks.
/// All payouts are credited and pulled with {withdraw}. Every parameter is owned by governance.
contract TaskMarket is Governed, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    enum TaskStatus {
        None,
        Open,
        Claimed,
        Committed,
        Finalized,
        Invalidated,
        Cancelled
    }

    struct Task {
        // slot 0 (read by claim and commit)
        address worker;
        uint64 deadline;
        uint32 itemCount;
        // slot 1
        uint64 challengeDeadline;
        TaskStatus status;
        uint32 openDisputes;
        uint16 protocolFeeBps;
        uint64 modelId;
        uint64 agentId;
        // slot 2
        address requester;
        // slot 3
        uint128 fee;
        uint128 stakeLocked;
        // slot 4, 5
        bytes32 inputRoot;
        bytes32 resultRoot;
    }

    struct Dispute {
        address challenger;
        uint64 taskId;
        uint32 index;
        IDisputeResolver.Outcome outcome;
        IDisputeResolver resolver;
        uint256 gameId;
    }

    /// @notice Governed parameters.
    /// @param challengeWindow Seconds a committed result stays challengeable (< Staking.unbondingDelay).
    /// @param minStake Stake locked per claimed task; slashed in full if the task is invalidated.
    /// @param slashChallengerBps Share of a slash paid to the winning challenger (rest to treasury), in bps.
    /// @param protocolFeeBps Share of a task fee paid to the treasury (rest to the worker), in bps.
    /// @param treasury Receives protocol fees and the treasury share of slashes.
    /// @param resolver Dispute game used for new challenges.
    struct Params {
        uint64 challengeWindow;
        uint128 minStake;
        uint16 slashChallengerBps;
        uint16 protocolFeeBps;
        address treasury;
        IDisputeResolver resolver;
    }

    uint256 private constant BPS = 10_000;

    /// @notice Fee, stake and bond token (VRT).
    IERC20 public immutable token;
    /// @notice ERC-8004 identity registry (agents).
    IdentityRegistry public immutable identityRegistry;
    /// @notice Model registry.
    ModelRegistry public immutable modelRegistry;
    /// @notice Worker stake.
    Staking public immutable staking;
    /// @notice Outcome-based reputation.
    ReputationRegistry public immutable reputationRegistry;
    /// @notice Validation records for results settled by a dispute game.
    ValidationRegistry public immutable validationRegistry;

    Params private _params;
    uint256 private _lastTaskId;
    uint256 private _lastDisputeId;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 disputeId => Dispute) private _disputes;

    /// @notice Tokens credited to each account and not yet withdrawn (pull payments).
    mapping(address account => uint256 amount) public claimable;

    /// @notice A task was posted. `inputRoot` is the PositionalMerkle root of `inputLeaf(i, inputHash_i)`.
    event TaskPosted(
        uint256 indexed taskId,
        address indexed requester,
        uint256 indexed modelId,
        bytes32 inputRoot,
        uint32 itemCount,
        uint256 fee,
        uint64 deadline
    );
    /// @notice The input commitment of a single-element task: `inputHash` (0x06 digest of the input tensorRoots) and
    /// the input tensors themselves when they were posted in calldata (empty when only the commitment was posted).
    event InputPublished(uint256 indexed taskId, bytes32 inputHash, IoCommitments.Tensor[] inputs);
    /// @notice `worker` claimed the task for agent `agentId`, locking `stakeLocked`.
    event TaskClaimed(uint256 indexed taskId, address indexed worker, uint256 indexed agentId, uint256 stakeLocked);
    /// @notice A single-element result was committed: its output tensors, their 0x07 digest and the trace root.
    event ResultCommitted(
        uint256 indexed taskId,
        address indexed worker,
        bytes32 resultRoot,
        bytes32 outputHash,
        bytes32 traceRoot,
        uint64 challengeDeadline,
        IoCommitments.Tensor[] outputs
    );
    /// @notice A batch result root was committed.
    event BatchCommitted(
        uint256 indexed taskId, address indexed worker, bytes32 resultsRoot, uint32 itemCount, uint64 challengeDeadline
    );
    /// @notice Element `index` of the task was challenged; game `gameId` was opened on `resolver`.
    event ResultChallenged(
        uint256 indexed disputeId,
        uint256 indexed taskId,
        address indexed challenger,
        uint32 index,
        address resolver,
        uint256 gameId
    );
    /// @notice A dispute was settled with `outcome`.
    event DisputeResolved(uint256 indexed disputeId, uint256 indexed taskId, IDisputeResolver.Outcome outcome);
    /// @notice The task was invalidated by a lost dispute: stake slashed and split, fee refunded.
    event TaskInvalidated(
        uint256 indexed taskId, address indexed challenger, uint256 slashed, uint256 challengerShare, uint256 refund
    );
    /// @notice The task was finalized: fee credited to worker and treasury.
    event TaskFinalized(uint256 indexed taskId, address indexed worker, uint256 workerPayout, uint256 protocolFee);
    /// @notice The task was cancelled (by its requester while open, or by anyone after an unmet deadline).
    event TaskCancelled(uint256 indexed taskId, address indexed by, uint256 refund);
    /// @notice `account` withdrew `amount` of its credited tokens.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Governance replaced the parameters.
    event ParamsUpdated(Params params);

    /// @notice Task fee is zero.
    error MarketZeroFee();
    /// @notice Deadline not in the future.
    error MarketInvalidDeadline(uint64 deadline, uint64 nowTimestamp);
    /// @notice Element count outside 1..MAX_LEAVES.
    error MarketInvalidItemCount(uint256 itemCount, uint256 max);
    /// @notice Task in a status that does not allow the call.
    error MarketUnexpectedStatus(uint256 taskId, TaskStatus status);
    /// @notice Task deadline passed.
    error MarketDeadlinePassed(uint256 taskId, uint64 deadline);
    /// @notice Caller may not act for the agent.
    error MarketNotAgentOperator(address caller, uint256 agentId);
    /// @notice Caller is not the task's worker.
    error MarketNotWorker(address caller, address worker);
    /// @notice Single-element commit on a batch task.
    error MarketNotSingleItem(uint256 taskId, uint32 itemCount);
    /// @notice Challenge after the window closed.
    error MarketChallengeWindowClosed(uint256 taskId, uint64 challengeDeadline);
    /// @notice Finalize before the window closed.
    error MarketChallengeWindowOpen(uint256 taskId, uint64 challengeDeadline);
    /// @notice Input element not proven against the task's input root.
    error MarketInvalidInputProof(uint256 taskId, uint32 index);
    /// @notice Result element not proven against the committed result root.
    error MarketInvalidResultProof(uint256 taskId, uint32 index);
    /// @notice Finalize while disputes are open.
    error MarketOpenDisputes(uint256 taskId, uint32 openDisputes);
    /// @notice Unknown dispute id.
    error MarketUnknownDispute(uint256 disputeId);
    /// @notice Dispute already settled.
    error MarketDisputeAlreadyResolved(uint256 disputeId);
    /// @notice The game is still pending.
    error MarketDisputePending(uint256 disputeId);
    /// @notice Caller may not cancel the task now.
    error MarketCannotCancel(uint256 taskId, address caller);
    /// @notice Nothing credited.
    error MarketNothingToWithdraw(address account);
    /// @notice A bps value above 10000.
    error MarketInvalidBps(uint16 bps);
    /// @notice Challenge window zero or not strictly below the unbonding delay.
    error MarketInvalidChallengeWindow(uint64 window, uint64 unbondingDelay);
    /// @notice Zero stake amount.
    error MarketZeroAmount();
    /// @notice A tensor list posted in calldata is empty or too long (`index` = its length), or tensor `index` is
    /// malformed (unknown dtype, rank > 255, more than 2^32 − 1 elements, data length ≠ elements · element size).
    error MarketInvalidTensors(uint256 index);
    /// @notice Zero address parameter.
    error MarketZeroAddress();

    /// @param token_ VRT.
    /// @param identityRegistry_ ERC-8004 identity registry.
    /// @param modelRegistry_ Model registry.
    /// @param staking_ Staking (bind this market into it after deployment).
    /// @param reputationRegistry_ Reputation registry (bind this market into it).
    /// @param validationRegistry_ Validation registry (bind this market into it).
    /// @param governance_ Governance timelock.
    /// @param params_ Initial parameters.
    constructor(
        IERC20 token_,
        IdentityRegistry identityRegistry_,
        ModelRegistry modelRegistry_,
        Staking staking_,
        ReputationRegistry reputationRegistry_,
        ValidationRegistry validationRegistry_,
        address governance_,
        Params memory params_
    ) Governed(governance_) {
        if (
            address(token_) == address(0) || address(identityRegistry_) == address(0)
                || address(modelRegistry_) == address(0) || address(staking_) == address(0)
                || address(reputationRegistry_) == address(0) || address(validationRegistry_) == address(0)
        ) revert MarketZeroAddress();
        token = token_;
        identityRegistry = identityRegistry_;
        modelRegistry = modelRegistry_;
        staking = staking_;
        reputationRegistry = reputationRegistry_;
        validationRegistry = validationRegistry_;
        _setParams(params_);
    }

    // ================================================================== requester

    /// @notice Posts a single-element task whose input tensors travel in calldata (and in the InputPublished event).
    /// The market hashes them to inputHash = keccak256(0x06 ‖ uint32 n ‖ tensorRoots), the commitment the dispute
    /// game checks. Workers must check the tensors' dtype and shape against the model's inputs before claiming.
    /// @param modelId Registered model to run.
    /// @param inputs The model's input tensors, in model order (dtype, stored shape, element bytes).
    /// @param fee Fee escrowed from the caller (needs allowance).
    /// @param deadline Timestamp by which the result must be committed.
    /// @return taskId The new task id.
    function postTask(uint256 modelId, IoCommitments.Tensor[] calldata inputs, uint256 fee, uint64 deadline)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        bytes32 inputHash = _digest(IoCommitments.PREFIX_INPUTS, inputs);
        taskId = _post(modelId, PositionalMerkle.inputLeaf(0, inputHash), 1, fee, deadline);
        emit InputPublished(taskId, inputHash, inputs);
        token.safeTransferFrom(msg.sender, address(this), fee);
    }

    /// @notice Posts a single-element task committing to its input (tensors delivered off-chain).
    /// @param modelId Registered model to run.
    /// @param inputHash keccak256(0x06 ‖ uint32 numInputs ‖ tensorRoot of each input tensor).
    /// @param fee Fee escrowed from the caller.
    /// @param deadline Commit deadline.
    /// @return taskId The new task id.
    function postTaskCommitment(uint256 modelId, bytes32 inputHash, uint256 fee, uint64 deadline)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        taskId = _post(modelId, PositionalMerkle.inputLeaf(0, inputHash), 1, fee, deadline);
        emit InputPublished(taskId, inputHash, new IoCommitments.Tensor[](0));
        token.safeTransferFrom(msg.sender, address(this), fee);
    }

    /// @notice Posts a batch task: `itemCount` elements whose inputs are committed by a PositionalMerkle root of
    /// `inputLeaf(i, inputHash_i)`, inputHash_i = keccak256(0x06 ‖ uint32 n ‖ input tensorRoots of element i).
    /// @param modelId Registered model to run.
    /// @param inputsRoot Root over the input leaves.
    /// @param itemCount Number of elements (1..65536).
    /// @param fee Fee for the whole batch, escrowed from the caller.
    /// @param deadline Commit deadline.
    /// @return taskId The new task id.
    function postBatchTask(uint256 modelId, bytes32 inputsRoot, uint32 itemCount, uint256 fee, uint64 deadline)
        external
        nonReentrant
        returns (uint256 taskId)
    {
        taskId = _post(modelId, inputsRoot, itemCount, fee, deadline);
        token.safeTransferFrom(msg.sender, address(this), fee);
    }

    /// @notice Cancels a task and refunds its fee: the requester may cancel while it is unclaimed; anyone may
    /// cancel an unclaimed or claimed-but-uncommitted task after its deadline (the worker's stake is released
    /// and its agent gets a "task/expired" outcome).
    /// @param taskId The task.
    function cancel(uint256 taskId) external nonReentrant {
        Task storage t = _tasks[taskId];
        TaskStatus status = t.status;
        bool expired = block.timestamp > t.deadline;
        if (status == TaskStatus.Open) {
            if (!expired && msg.sender != t.requester) revert MarketCannotCancel(taskId, msg.sender);
        } else if (status == TaskStatus.Claimed) {
            if (!expired) revert MarketCannotCancel(taskId, msg.sender);
        } else {
            revert MarketUnexpectedStatus(taskId, status);
        }
        t.status = TaskStatus.Cancelled;
        uint256 refund = t.fee;
        claimable[t.requester] += refund;
        emit TaskCancelled(taskId, msg.sender, refund);
        if (status == TaskStatus.Claimed) {
            staking.unlock(t.worker, t.stakeLocked);
            _reputation(t.agentId, -1, "task", "expired", taskKey(taskId, 0));
        }
    }

    // ================================================================== worker

    /// @notice Claims an open task for agent `agentId` (caller must be its owner or operator). Locks
    /// `minStake` of the caller's free stake until the task is finalized, cancelled or invalidated.
    /// @param taskId The task.
    /// @param agentId The caller's ERC-8004 agent.
    function claim(uint256 taskId, uint256 agentId) external nonReentrant {
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Open) revert MarketUnexpectedStatus(taskId, t.status);
        if (block.timestamp > t.deadline) revert MarketDeadlinePassed(taskId, t.deadline);
        if (!identityRegistry.isAuthorized(msg.sender, agentId)) revert MarketNotAgentOperator(msg.sender, agentId);
        uint128 stakeLocked = _params.minStake;
        t.worker = msg.sender;
        t.status = TaskStatus.Claimed;
        t.agentId = agentId.toUint64();
        t.stakeLocked = stakeLocked;
        emit TaskClaimed(taskId, msg.sender, agentId, stakeLocked);
        staking.lock(msg.sender, stakeLocked);
    }

    /// @notice Commits the result of a single-element task: the output tensors (published in the event and hashed
    /// on-chain to outputHash = keccak256(0x07 ‖ uint32 n ‖ tensorRoots)) and the Merkle root of the execution trace
    /// (docs/protocol.md §traceRoot; its last n tensors must be these outputs). Starts the challenge window.
    /// @param taskId The task.
    /// @param outputs The model's output tensors, in model order.
    /// @param traceRoot Root of the execution trace.
    function commit(uint256 taskId, IoCommitments.Tensor[] calldata outputs, bytes32 traceRoot) external {
        Task storage t = _tasks[taskId];
        _checkCommit(t, taskId);
        if (t.itemCount != 1) revert MarketNotSingleItem(taskId, t.itemCount);
        bytes32 outputHash = _digest(IoCommitments.PREFIX_OUTPUTS, outputs);
        bytes32 root = PositionalMerkle.resultLeaf(0, outputHash, traceRoot);
        uint64 challengeDeadline = _startWindow(t, root);
        emit ResultCommitted(taskId, msg.sender, root, outputHash, traceRoot, challengeDeadline, outputs);
    }

    /// @notice Commits all results of a task under one PositionalMerkle root of
    /// `resultLeaf(i, outputHash_i, traceRoot_i)` over `itemCount` elements (outputHash_i: the 0x07 digest of
    /// element i's output tensorRoots; the output tensors are delivered off-chain). Starts the challenge window.
    /// @param taskId The task.
    /// @param resultsRoot Root over the result leaves.
    function commitBatch(uint256 taskId, bytes32 resultsRoot) external {
        Task storage t = _tasks[taskId];
        _checkCommit(t, taskId);
        uint64 challengeDeadline = _startWindow(t, resultsRoot);
        emit BatchCommitted(taskId, msg.sender, resultsRoot, t.itemCount, challengeDeadline);
    }

    // ================================================================== challenger

    /// @notice Challenges one element of a committed result: checks the element's commitments against the task and
    /// opens a game on the current resolver on the caller's behalf. The resolver takes the challenger's bond itself
    /// (DisputeGame: `transferFrom(challenger)`; approve the resolver, not the market, for `bond()`).
    /// @param taskId The task.
    /// @param index Element index (< itemCount).
    /// @param inputHash The element's 0x06 input digest.
    /// @param inputProof PositionalMerkle proof of `inputLeaf(index, inputHash)` (empty for single-element tasks).
    /// @param outputHash The element's claimed 0x07 output digest.
    /// @param traceRoot The element's claimed trace root.
    /// @param resultProof PositionalMerkle proof of `resultLeaf(index, outputHash, traceRoot)`.
    /// @return disputeId The new dispute id.
    function challenge(
        uint256 taskId,
        uint32 index,
        bytes32 inputHash,
        bytes32[] calldata inputProof,
        bytes32 outputHash,
        bytes32 traceRoot,
        bytes32[] calldata resultProof
    ) external nonReentrant returns (uint256 disputeId) {
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Committed) revert MarketUnexpectedStatus(taskId, t.status);
        if (block.timestamp >= t.challengeDeadline) revert MarketChallengeWindowClosed(taskId, t.challengeDeadline);
        uint32 count = t.itemCount;
        if (!PositionalMerkle.verify(inputProof, t.inputRoot, PositionalMerkle.inputLeaf(index, inputHash), index, count))
        {
            revert MarketInvalidInputProof(taskId, index);
        }
        if (
            !PositionalMerkle.verify(
                resultProof, t.resultRoot, PositionalMerkle.resultLeaf(index, outputHash, traceRoot), index, count
            )
        ) revert MarketInvalidResultProof(taskId, index);
        disputeId = _openDispute(t, taskId, index, inputHash, outputHash, traceRoot);
    }

    // ================================================================== settlement (anyone)

    /// @notice Settles a dispute once its game is decided (bonds are settled by the resolver). Challenger won: if
    /// the task is not already invalidated, it is invalidated (locked stake slashed and split, fee refunded).
    /// Records the outcome in reputation and validation.
    /// @param disputeId The dispute.
    function resolve(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        if (d.challenger == address(0)) revert MarketUnknownDispute(disputeId);
        if (d.outcome != IDisputeResolver.Outcome.Pending) revert MarketDisputeAlreadyResolved(disputeId);
        IDisputeResolver.Outcome o = d.resolver.outcome(d.gameId);
        if (o == IDisputeResolver.Outcome.Pending) revert MarketDisputePending(disputeId);

        uint256 taskId = d.taskId;
        Task storage t = _tasks[taskId];
        d.outcome = o;
        // Cannot underflow: every dispute counted here was added by challenge() and is resolved only once.
        unchecked {
            t.openDisputes -= 1;
        }
        emit DisputeResolved(disputeId, taskId, o);

        bool claimantWon = o == IDisputeResolver.Outcome.ClaimantWon;
        bool invalidates = !claimantWon && t.status == TaskStatus.Committed;
        if (invalidates) _invalidate(t, taskId, d.challenger);

        bytes32 key = taskKey(taskId, d.index);
        _validation(t.agentId, disputeId, key, claimantWon);
        if (claimantWon) _reputation(t.agentId, 1, "dispute", "won", key);
        else if (invalidates) _reputation(t.agentId, -1, "dispute", "lost", key);
    }

    /// @notice Finalizes a committed task after its challenge window when no dispute is open: credits the fee
    /// (minus the protocol fee) to the worker, releases its stake, records a "task/finalized" outcome.
    /// @param taskId The task.
    function finalize(uint256 taskId) external nonReentrant {
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Committed) revert MarketUnexpectedStatus(taskId, t.status);
        if (block.timestamp < t.challengeDeadline) revert MarketChallengeWindowOpen(taskId, t.challengeDeadline);
        if (t.openDisputes != 0) revert MarketOpenDisputes(taskId, t.openDisputes);
        t.status = TaskStatus.Finalized;
        uint256 fee = t.fee;
        uint256 protocolFee = fee * t.protocolFeeBps / BPS;
        uint256 payout = fee - protocolFee;
        address worker = t.worker;
        claimable[worker] += payout;
        claimable[_params.treasury] += protocolFee;
        emit TaskFinalized(taskId, worker, payout, protocolFee);
        staking.unlock(worker, t.stakeLocked);
        _reputation(t.agentId, 1, "task", "finalized", t.resultRoot);
    }

    /// @notice Withdraws everything credited to the caller.
    function withdraw() external nonReentrant {
        uint256 amount = claimable[msg.sender];
        if (amount == 0) revert MarketNothingToWithdraw(msg.sender);
        claimable[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ================================================================== governance

    /// @notice Replaces all parameters. Governance only. Open tasks keep their locked stake and fee split;
    /// open disputes keep their resolver.
    /// @param newParams The new parameters.
    function setParams(Params calldata newParams) external onlyGovernance {
        _setParams(newParams);
    }

    // ================================================================== views

    /// @notice Current parameters.
    /// @return The parameters.
    function getParams() external view returns (Params memory) {
        return _params;
    }

    /// @notice Current challenge window (read by Staking to keep its unbonding delay longer).
    /// @return Seconds.
    function challengeWindow() external view returns (uint64) {
        return _params.challengeWindow;
    }

    /// @notice A task. Status None for unknown ids.
    /// @param taskId The task.
    /// @return The task record.
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _tasks[taskId];
    }

    /// @notice A dispute. Zero challenger for unknown ids.
    /// @param disputeId The dispute.
    /// @return The dispute record.
    function getDispute(uint256 disputeId) external view returns (Dispute memory) {
        return _disputes[disputeId];
    }

    /// @notice Number of tasks and disputes created so far (ids are 1..n).
    /// @return tasks Task count.
    /// @return disputes Dispute count.
    function counts() external view returns (uint256 tasks, uint256 disputes) {
        return (_lastTaskId, _lastDisputeId);
    }

    /// @notice Key of element `index` of task `taskId`, as passed to the resolver.
    /// @param taskId The task.
    /// @param index The element.
    /// @return keccak256(abi.encode(chainid, market, taskId, index)).
    function taskKey(uint256 taskId, uint256 index) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), taskId, index));
    }

    // ================================================================== internals

    function _post(
        uint256 modelId,
        bytes32 inputRoot,
        uint32 itemCount,
        uint256 fee,
        uint64 deadline
    ) private returns (uint256 taskId) {
        if (fee == 0) revert MarketZeroFee();
        if (deadline <= block.timestamp) revert MarketInvalidDeadline(deadline, uint64(block.timestamp));
        if (itemCount == 0 || itemCount > PositionalMerkle.MAX_LEAVES) {
            revert MarketInvalidItemCount(itemCount, PositionalMerkle.MAX_LEAVES);
        }
        modelRegistry.modelRoot(modelId); // reverts ModelRegistryUnknownModel for unknown models
        taskId = ++_lastTaskId;
        Task storage t = _tasks[taskId];
        t.deadline = deadline;
        t.itemCount = itemCount;
        t.status = TaskStatus.Open;
        t.protocolFeeBps = _params.protocolFeeBps;
        t.modelId = modelId.toUint64();
        t.requester = msg.sender;
        t.fee = fee.toUint128();
        t.inputRoot = inputRoot;
        emit TaskPosted(taskId, msg.sender, modelId, inputRoot, itemCount, fee, deadline);
    }

    /// @dev The 0x06 / 0x07 digest of tensors posted in calldata; reverts MarketInvalidTensors on a malformed list.
    function _digest(uint8 prefix, IoCommitments.Tensor[] calldata ts) private pure returns (bytes32 d) {
        (bytes32 h, bool ok, uint256 bad) = IoCommitments.digest(prefix, ts);
        if (!ok) revert MarketInvalidTensors(bad);
        return h;
    }

    function _checkCommit(Task storage t, uint256 taskId) private view {
        if (t.status != TaskStatus.Claimed) revert MarketUnexpectedStatus(taskId, t.status);
        address worker = t.worker;
        if (msg.sender != worker) revert MarketNotWorker(msg.sender, worker);
        uint64 deadline = t.deadline;
        if (block.timestamp > deadline) revert MarketDeadlinePassed(taskId, deadline);
    }

    function _startWindow(Task storage t, bytes32 root) private returns (uint64 challengeDeadline) {
        challengeDeadline = uint64(block.timestamp) + _params.challengeWindow;
        t.resultRoot = root;
        t.challengeDeadline = challengeDeadline;
        t.status = TaskStatus.Committed;
    }

    function _openDispute(
        Task storage t,
        uint256 taskId,
        uint32 index,
        bytes32 inputHash,
        bytes32 outputHash,
        bytes32 traceRoot
    ) private returns (uint256 disputeId) {
        IDisputeResolver resolver = _params.resolver;
        disputeId = ++_lastDisputeId;
        t.openDisputes += 1;
        Dispute storage d = _disputes[disputeId];
        d.challenger = msg.sender;
        d.taskId = uint64(taskId); // task ids are sequential from 1; 2^64 tasks is unreachable
        d.index = index;
        d.resolver = resolver;
        bytes32 modelRoot = modelRegistry.modelRoot(t.modelId);
        // The resolver is governance-set and trusted; it pulls the challenger's bond (msg.sender) itself.
        uint256 gameId =
            resolver.open(taskKey(taskId, index), t.worker, msg.sender, traceRoot, modelRoot, inputHash, outputHash);
        d.gameId = gameId;
        emit ResultChallenged(disputeId, taskId, msg.sender, index, address(resolver), gameId);
    }

    function _invalidate(Task storage t, uint256 taskId, address challenger) private {
        t.status = TaskStatus.Invalidated;
        uint256 slashed = t.stakeLocked;
        uint256 challengerShare = slashed * _params.slashChallengerBps / BPS;
        uint256 refund = t.fee;
        claimable[challenger] += challengerShare;
        claimable[_params.treasury] += slashed - challengerShare;
        claimable[t.requester] += refund;
        emit TaskInvalidated(taskId, challenger, slashed, challengerShare, refund);
        staking.slash(t.worker, slashed);
    }

    /// @dev Outcome feedback: ("task","finalized") +1, ("task","expired") -1, ("dispute","won") +1,
    /// ("dispute","lost") -1. `key` (task key or result root) goes in feedbackHash.
    function _reputation(uint64 agentId, int128 value, string memory tag1, string memory tag2, bytes32 key) private {
        reputationRegistry.giveFeedback(agentId, value, 0, tag1, tag2, "", "", key);
    }

    function _validation(uint64 agentId, uint256 disputeId, bytes32 key, bool upheld) private {
        bytes32 requestHash = keccak256(abi.encode(address(this), disputeId));
        validationRegistry.validationRequest(address(this), agentId, "", requestHash);
        validationRegistry.validationResponse(requestHash, upheld ? 100 : 0, "", key, "dispute");
    }

    function _setParams(Params memory p) private {
        if (p.slashChallengerBps > BPS) revert MarketInvalidBps(p.slashChallengerBps);
        if (p.protocolFeeBps > BPS) revert MarketInvalidBps(p.protocolFeeBps);
        if (p.minStake == 0) revert MarketZeroAmount();
        if (p.treasury == address(0) || address(p.resolver) == address(0)) revert MarketZeroAddress();
        uint64 delay = staking.unbondingDelay();
        if (p.challengeWindow == 0 || p.challengeWindow >= delay) {
            revert MarketInvalidChallengeWindow(p.challengeWindow, delay);
        }
        _params = p;
        emit ParamsUpdated(p);
    }
}
