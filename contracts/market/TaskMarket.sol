// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
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

/// @notice What the market calls on its audit module when a task pays its audit premium.
interface IAuditPool {
    /// @notice `amount` of task `taskId`'s fee was transferred to the pool.
    function addPremium(uint256 taskId, uint256 amount) external;

    /// @notice Whether the task's audit is drawn and closed (not selected, or settled): finalize waits for it.
    function cleared(uint256 taskId) external view returns (bool);
}

/// @notice Optional resolver extension (DisputeGame): bounds a game's trace to the registered model's length, and pins
/// the trace root a worker answered an audit with (docs/protocol.md §Audits).
interface ITraceBounded {
    /// @notice Bounds game `gameId`'s revealed trace to `maxCount` tensors.
    function boundTrace(uint256 gameId, uint32 maxCount) external;

    /// @notice Binds game `gameId`'s claimant to `traceRoot`: before its reveal, the roots it reveals must hash to it;
    /// after, it must be the revealed one (else reverts).
    function pinTrace(uint256 gameId, bytes32 traceRoot) external;
}

/// @title TaskMarket
/// @notice Inference tasks with optimistic settlement (docs/protocol.md §Task market).
/// Lifecycle: a requester posts a task (model id, input tensors in calldata or their commitment, one or many
/// elements, fee escrowed, deadline) -> a staked worker claims it for one of its ERC-8004 agents (part of its stake
/// gets locked) -> the worker commits the result before the deadline (single element: its output tensors; batch: one
/// Merkle root over all element output digests; no trace root: the game binds the trace in a dispute) -> during the challenge window anyone may challenge any single
/// element with Merkle proofs; the market opens a game on the {IDisputeResolver} on the challenger's behalf (the
/// game takes the challenger's bond directly) -> after the window, with no dispute open and none lost, {finalize}
/// credits the fee. A challenger win invalidates the task: the worker's locked stake is slashed (split challenger /
/// treasury), the fee goes back to the requester.
/// Element commitments are the dispute game's: inputHash = keccak256(0x06 ‖ uint32 n ‖ input tensorRoots),
/// outputHash = keccak256(0x07 ‖ uint32 n ‖ output tensorRoots) ({IoCommitments}); tensors published in calldata are
/// hashed on-chain, so the published bytes are exactly what the game checks.
/// All payouts are credited and pulled with {withdraw}. Every parameter is owned by governance.
contract TaskMarket is Governed, ReentrancyGuardTransient {
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
        // slot 6: rules snapshotted when the task is claimed (treasury, slash split, abandon penalty) or posted
        // (audit premium), so governance cannot change them under a live task or dispute
        address treasury;
        uint16 slashBps;
        uint16 abandonBps;
        uint16 auditFeeBps;
        uint48 commitBlock; // block of the commit (audit selection uses a later block's hash); in the claim's slot
        // slot 7
        uint128 challengerPot; // challenger share of the slash, split among `winners` once no dispute is open
        uint32 winners; // challenger-side members of this task's won disputes (they split challengerPot)
        uint16 holds; // open checks of the audit / data-availability modules; finalize waits for 0
    }

    /// @notice Two slots, both written once by challenge (the join bond, needed only while the dispute is live,
    /// is kept in its element's {Live} slot).
    struct Dispute {
        // slot 0
        address challenger;
        uint64 taskId;
        uint32 index;
        // slot 1
        IDisputeResolver.Outcome outcome;
        IDisputeResolver resolver;
        uint8 teamSize; // challenger + joiners (≤ MAX_TEAM)
        bool sharePaid; // the members' slash shares were credited
        uint64 gameId; // the resolver's game ids are sequential from 1: 2^64 games is unreachable
    }

    /// @notice An element's live dispute, one slot: its id and the bond each joiner posts (rules at open).
    struct Live {
        uint128 disputeId; // 0 = none
        uint128 joinBond;
    }

    /// @notice Governed rules added by issue 11 (docs/protocol.md §Adversary); separate from {Params} so existing
    /// callers of getParams/setParams keep their ABI.
    /// @param minFee Smallest task fee (post reverts below it): reputation cannot be farmed with dust tasks.
    /// @param joinBond Bond a second challenger posts to join the challenger side of a live game (to the worker if
    /// the side loses, back if it wins).
    /// @param regrace After a claimant win, the task stays challengeable until at least now + regrace, so a griefer
    /// holding the element's single game slot cannot run out the window.
    /// @param abandonBps Share of the locked stake slashed (to the requester) when a claimed task expires uncommitted.
    /// @param auditFeeBps Share of each task fee paid to the audit pool at finalize (when an audit book is set).
    struct Rules {
        uint128 minFee;
        uint128 joinBond;
        uint64 regrace;
        uint16 abandonBps;
        uint16 auditFeeBps;
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
    /// @notice Gas each bookkeeping call (reputation, validation) may use; settlement never depends on it succeeding.
    uint256 public constant BOOKKEEPING_GAS = 300_000;
    /// @notice Most members of one game's challenger side (the opener included).
    uint8 public constant MAX_TEAM = 4;
    /// @notice Codes of {BookkeepingFailed}.which.
    uint8 public constant BOOK_REPUTATION = 1;
    uint8 public constant BOOK_VALIDATION_REQUEST = 2;
    uint8 public constant BOOK_VALIDATION_RESPONSE = 3;

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
    Rules private _rules;
    /// @notice The audit module (random audits, docs/protocol.md §Audits); zero = audits off.
    address public auditBook;
    /// @notice The data-availability module (docs/protocol.md §Data availability); zero = off.
    address public dataAvailability;
    /// @dev Live (market-unresolved) dispute of each element key and its join bond; disputeId 0 = none.
    mapping(bytes32 key => Live) private _live;
    /// @notice Trace root the worker answered the element's audit with ({pinTrace}); every later game on the element
    /// is opened with it, so the worker must defend exactly that trace. 0 = not audited / not answered.
    mapping(bytes32 key => bytes32 traceRoot) public tracePin;
    /// @dev Joiners of each dispute's challenger side (≤ MAX_TEAM − 1).
    mapping(uint256 disputeId => address[]) private _joiners;
    uint256 private _lastTaskId;
    /// @dev Last dispute id + 1: starts at 1 (set at deployment) so the first dispute pays no zero-to-non-zero write.
    uint256 private _nextDisputeId = 1;
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
    /// @notice A single-element result was committed: its output tensors and their 0x07 digest.
    event ResultCommitted(
        uint256 indexed taskId,
        address indexed worker,
        bytes32 resultRoot,
        bytes32 outputHash,
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
    /// @notice Governance replaced the issue-11 rules.
    event RulesUpdated(Rules rules);
    /// @notice Governance set the audit and data-availability modules.
    event ModulesSet(address auditBook, address dataAvailability);
    /// @notice A reputation or validation write failed (out of its gas budget or reverted); settlement went on.
    event BookkeepingFailed(uint256 indexed taskId, uint256 indexed disputeId, uint8 which);
    /// @notice `member` joined the challenger side of dispute `disputeId`, posting `bond`.
    event ChallengeJoined(uint256 indexed disputeId, address indexed member, uint256 bond);
    /// @notice `member` was credited `amount`, its part of the task's challenger share.
    event ShareCredited(uint256 indexed disputeId, address indexed member, uint256 amount);
    /// @notice A claimant win extended the task's challenge window to `challengeDeadline`.
    event ChallengeWindowExtended(uint256 indexed taskId, uint64 challengeDeadline);
    /// @notice A claimed task expired uncommitted: `slashed` of the worker's stake went to the requester.
    event TaskAbandoned(uint256 indexed taskId, address indexed worker, uint256 slashed);
    /// @notice `premium` of the task fee went to the audit pool.
    event AuditPremiumPaid(uint256 indexed taskId, uint256 premium);
    /// @notice A module placed (`held` true) or released a hold on the task's settlement.
    event TaskHold(uint256 indexed taskId, address indexed module, bool held, uint16 holds);
    /// @notice Element `index`'s trace was pinned to `traceRoot` by its audit answer.
    event TracePinned(uint256 indexed taskId, uint32 indexed index, bytes32 traceRoot);

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
    /// @notice Fee below the governed minimum.
    error MarketFeeBelowMinimum(uint256 fee, uint256 minFee);
    /// @notice The element already has a live dispute: join it ({joinChallenge}) instead.
    error MarketElementInDispute(uint256 taskId, uint32 index, uint256 disputeId);
    /// @notice The caller is already on a side of the dispute (or is the worker).
    error MarketAlreadyOnSide(uint256 disputeId, address caller);
    /// @notice The dispute's challenger side has MAX_TEAM members.
    error MarketTeamFull(uint256 disputeId, uint8 max);
    /// @notice The task's shares cannot be credited yet (not invalidated, disputes open, or already credited).
    error MarketSharesNotReady(uint256 disputeId);
    /// @notice Finalize while audit / data-availability checks are open.
    error MarketOpenChecks(uint256 taskId, uint16 holds);
    /// @notice Finalize before the task's audit was drawn and closed (AuditBook.drawAudit / settleAudit).
    error MarketAuditPending(uint256 taskId);
    /// @notice Caller is not a bound module.
    error MarketNotModule(address caller);
    /// @notice Settlement called with too little gas for its bookkeeping budget (a caller could otherwise make the
    /// bookkeeping fail on purpose).
    error MarketInsufficientGas(uint256 gasLeft, uint256 needed);
    /// @notice Too many recipients for a module invalidation.
    error MarketTooManyRecipients(uint256 count, uint256 max);
    /// @notice The element's trace is already pinned to `pinned` (an audit answer pins it once).
    error MarketTracePinned(uint256 taskId, uint32 index, bytes32 pinned);

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
        _setRules(Rules({minFee: 1e15, joinBond: 1e18, regrace: 1 hours, abandonBps: 1_000, auditFeeBps: 1_000}));
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
        emit InputPublished(taskId, inputHash, _noTensors());
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
            // INVARIANT: a task whose worker is waiting for a withheld input (a module hold) does not expire on it.
            if (!expired || t.holds != 0) revert MarketCannotCancel(taskId, msg.sender);
        } else {
            revert MarketUnexpectedStatus(taskId, status);
        }
        t.status = TaskStatus.Cancelled;
        uint256 refund = t.fee;
        claimable[t.requester] += refund;
        emit TaskCancelled(taskId, msg.sender, refund);
        if (status == TaskStatus.Claimed) {
            address w = t.worker;
            uint256 locked = t.stakeLocked;
            uint256 penalty = locked * t.abandonBps / BPS;
            claimable[t.requester] += penalty;
            emit TaskAbandoned(taskId, w, penalty);
            if (penalty != 0) staking.slash(w, penalty);
            staking.unlock(w, locked - penalty);
            _reputation(taskId, 0, t.agentId, -1, "task", "expired", taskKey(taskId, 0));
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
        t.treasury = _params.treasury;
        t.slashBps = _params.slashChallengerBps;
        t.abandonBps = _rules.abandonBps;
        emit TaskClaimed(taskId, msg.sender, agentId, stakeLocked);
        staking.lock(msg.sender, stakeLocked);
    }

    /// @notice Commits the result of a single-element task: the output tensors (published in the event and hashed
    /// on-chain to outputHash = keccak256(0x07 ‖ uint32 n ‖ tensorRoots)). No trace root: the trace is a function of
    /// model and inputs, and in a dispute the claimant must reveal one whose first tensors hash to the inputHash and
    /// last tensors to this outputHash (docs/protocol.md §Commitments). Starts the challenge window.
    /// @param taskId The task.
    /// @param outputs The model's output tensors, in model order.
    function commit(uint256 taskId, IoCommitments.Tensor[] calldata outputs) external {
        Task storage t = _tasks[taskId];
        _checkCommit(t, taskId);
        if (t.itemCount != 1) revert MarketNotSingleItem(taskId, t.itemCount);
        bytes32 outputHash = _digest(IoCommitments.PREFIX_OUTPUTS, outputs);
        bytes32 root = PositionalMerkle.resultLeaf(0, outputHash);
        uint64 challengeDeadline = _startWindow(t, root);
        emit ResultCommitted(taskId, msg.sender, root, outputHash, challengeDeadline, outputs);
    }

    /// @notice Commits all results of a task under one PositionalMerkle root of
    /// `resultLeaf(i, outputHash_i)` over `itemCount` elements (outputHash_i: the 0x07 digest of
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
    /// @param resultProof PositionalMerkle proof of `resultLeaf(index, outputHash)`.
    /// @return disputeId The new dispute id.
    function challenge(
        uint256 taskId,
        uint32 index,
        bytes32 inputHash,
        bytes32[] calldata inputProof,
        bytes32 outputHash,
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
                resultProof, t.resultRoot, PositionalMerkle.resultLeaf(index, outputHash), index, count
            )
        ) revert MarketInvalidResultProof(taskId, index);
        bytes32 key = taskKey(taskId, index);
        uint256 live = _live[key].disputeId;
        // INVARIANT: one live game per element, so a worker never defends more games than it has elements
        // (attack 2); a later challenger joins the live game's challenger side instead.
        if (live != 0) revert MarketElementInDispute(taskId, index, live);
        disputeId = _openDispute(t, taskId, index, key, inputHash, outputHash);
    }

    /// @notice Joins the challenger side of a live dispute (the element's single game): posts the dispute's join
    /// bond (approve the market), may then make the challenger's moves in the game, and shares the task's challenger
    /// share if the side wins (bond back); if the side loses, the bond goes to the worker.
    /// @param disputeId The live dispute.
    function joinChallenge(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        if (d.challenger == address(0)) revert MarketUnknownDispute(disputeId);
        if (d.outcome != IDisputeResolver.Outcome.Pending) revert MarketDisputeAlreadyResolved(disputeId);
        // INVARIANT: a member joins once, never the worker, never the opener again.
        if (msg.sender == d.challenger || msg.sender == _tasks[d.taskId].worker || _isJoiner(disputeId, msg.sender)) {
            revert MarketAlreadyOnSide(disputeId, msg.sender);
        }
        // INVARIANT: the team is bounded (every settlement loop over it is ≤ MAX_TEAM).
        if (d.teamSize >= MAX_TEAM) revert MarketTeamFull(disputeId, MAX_TEAM);
        d.teamSize += 1;
        _joiners[disputeId].push(msg.sender);
        uint256 bond = _live[taskKey(d.taskId, d.index)].joinBond;
        emit ChallengeJoined(disputeId, msg.sender, bond);
        d.resolver.addChallenger(d.gameId, msg.sender);
        token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /// @notice Credits the members of a won dispute their equal part of the task's challenger share, once the task
    /// is invalidated and none of its disputes is open (anyone may call; {resolve} does it for the last dispute).
    /// @param disputeId A dispute its challenger side won.
    function payShare(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        Task storage t = _tasks[d.taskId];
        if (
            d.outcome != IDisputeResolver.Outcome.ChallengerWon || d.sharePaid || t.status != TaskStatus.Invalidated
                || t.openDisputes != 0
        ) revert MarketSharesNotReady(disputeId);
        _payShare(t, disputeId, d);
    }

    // ================================================================== settlement (anyone)

    /// @notice Settles a dispute once its game is decided (game bonds are settled by the resolver). Challenger won:
    /// joiners' bonds back; if the task is not already invalidated, it is invalidated (locked stake slashed: treasury
    /// part credited, challenger share kept for the winners; fee refunded). Claimant won: joiners' bonds to the
    /// worker, the window extended to at least now + regrace. Once no dispute of an invalidated task is open, this
    /// dispute's members are credited their part of the share ({payShare} for the others). Then, in gas-budgeted
    /// try/catch, records the outcome in reputation and validation (none for an uncontested claimant win).
    /// @param disputeId The dispute.
    function resolve(uint256 disputeId) external nonReentrant {
        Dispute storage d = _disputes[disputeId];
        if (d.challenger == address(0)) revert MarketUnknownDispute(disputeId);
        if (d.outcome != IDisputeResolver.Outcome.Pending) revert MarketDisputeAlreadyResolved(disputeId);
        IDisputeResolver.Outcome o = d.resolver.outcome(d.gameId);
        if (o == IDisputeResolver.Outcome.Pending) revert MarketDisputePending(disputeId);
        _checkBookkeepingGas(3);

        uint256 taskId = d.taskId;
        Task storage t = _tasks[taskId];
        d.outcome = o;
        bytes32 key = taskKey(taskId, d.index);
        uint256 jb = _live[key].joinBond;
        delete _live[key];
        // Cannot underflow: every dispute counted here was added by challenge() and is resolved only once.
        unchecked {
            t.openDisputes -= 1;
        }
        emit DisputeResolved(disputeId, taskId, o);

        bool claimantWon = o == IDisputeResolver.Outcome.ClaimantWon;
        bool invalidates = !claimantWon && t.status == TaskStatus.Committed;
        address[] storage joiners = _joiners[disputeId];
        uint256 nj = joiners.length;
        if (claimantWon) {
            claimable[t.worker] += jb * nj;
            uint64 until = uint64(block.timestamp) + _rules.regrace;
            if (t.status == TaskStatus.Committed && until > t.challengeDeadline) {
                t.challengeDeadline = until;
                emit ChallengeWindowExtended(taskId, until);
            }
        } else {
            t.winners += d.teamSize;
            for (uint256 i; i < nj; ++i) {
                claimable[joiners[i]] += jb;
            }
            if (invalidates) _invalidate(t, taskId, d.challenger, true);
        }
        if (t.status == TaskStatus.Invalidated && t.openDisputes == 0) {
            // Once: after invalidation no dispute opens, so the count reaches 0 here exactly once.
            uint256 w = t.winners;
            if (w != 0) claimable[t.treasury] += t.challengerPot % w;
            if (!claimantWon) _payShare(t, disputeId, d);
        }

        // Bookkeeping last, each write in its own gas budget: it can fail, settlement above cannot.
        bool contested = claimantWon ? _contested(d) : true;
        if (contested) _validation(t.agentId, taskId, disputeId, key, claimantWon);
        if (claimantWon && contested) _reputation(taskId, disputeId, t.agentId, 1, "dispute", "won", key);
        else if (invalidates) _reputation(taskId, disputeId, t.agentId, -1, "dispute", "lost", key);
    }

    /// @notice Finalizes a committed task after its challenge window when no dispute, no module hold is open and its
    /// audit (if an audit book is set) is cleared: credits the fee minus the protocol fee (rounded up) and the audit
    /// premium to the worker, the premium to the audit pool, releases its stake, records a "task/finalized" outcome.
    /// @param taskId The task.
    function finalize(uint256 taskId) external nonReentrant {
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Committed) revert MarketUnexpectedStatus(taskId, t.status);
        if (block.timestamp < t.challengeDeadline) revert MarketChallengeWindowOpen(taskId, t.challengeDeadline);
        if (t.openDisputes != 0) revert MarketOpenDisputes(taskId, t.openDisputes);
        if (t.holds != 0) revert MarketOpenChecks(taskId, t.holds);
        address book = auditBook;
        // INVARIANT: an audited task is paid only once its audit is drawn and closed.
        if (book != address(0) && !IAuditPool(book).cleared(taskId)) revert MarketAuditPending(taskId);
        _checkBookkeepingGas(1);
        t.status = TaskStatus.Finalized;
        uint256 fee = t.fee;
        // Rounded up: every finalized task pays the treasury at least 1 wei per bps point of fee (attack 4).
        uint256 protocolFee = (fee * t.protocolFeeBps + BPS - 1) / BPS;
        uint256 premium = book == address(0) ? 0 : fee * t.auditFeeBps / BPS;
        if (premium > fee - protocolFee) premium = fee - protocolFee;
        uint256 payout = fee - protocolFee - premium;
        address worker = t.worker;
        claimable[worker] += payout;
        claimable[t.treasury] += protocolFee;
        emit TaskFinalized(taskId, worker, payout, protocolFee);
        staking.unlock(worker, t.stakeLocked);
        if (premium != 0) {
            emit AuditPremiumPaid(taskId, premium);
            token.safeTransfer(book, premium);
            IAuditPool(book).addPremium(taskId, premium);
        }
        _reputation(taskId, 0, t.agentId, 1, "task", "finalized", t.resultRoot);
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

    /// @notice Replaces the issue-11 rules. Governance only. Claimed tasks keep the abandon penalty, slash split and
    /// treasury of their claim; posted tasks their audit premium; open disputes their join bond.
    /// @param newRules The new rules.
    function setRules(Rules calldata newRules) external onlyGovernance {
        _setRules(newRules);
    }

    /// @notice Sets the audit and data-availability modules (zero = off). Governance only.
    /// @param auditBook_ The AuditBook.
    /// @param dataAvailability_ The data-availability module.
    function setModules(address auditBook_, address dataAvailability_) external onlyGovernance {
        auditBook = auditBook_;
        dataAvailability = dataAvailability_;
        emit ModulesSet(auditBook_, dataAvailability_);
    }

    // ================================================================== modules

    /// @notice A module holds (or releases) the task's settlement while its check is open (finalize waits).
    /// @param taskId The task (committed, or claimed for input requests).
    /// @param held True to add a hold, false to release one.
    function setHold(uint256 taskId, bool held) external {
        _onlyModule();
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Committed && t.status != TaskStatus.Claimed) {
            revert MarketUnexpectedStatus(taskId, t.status);
        }
        // Holds are added and released in pairs by the modules (each check holds once).
        if (held) t.holds += 1;
        else t.holds -= 1;
        emit TaskHold(taskId, msg.sender, held, t.holds);
    }

    /// @notice A module invalidates a committed task whose worker failed its check (audit unanswered, element not
    /// opened): stake slashed, fee refunded, the challenger share split equally among `recipients` (≤ MAX_TEAM).
    /// No-op (returns 0) if the task is no longer committed.
    /// @param taskId The task.
    /// @param recipients Who caught it (auditors, the data-availability requester).
    /// @return share The challenger share paid out.
    function moduleInvalidate(uint256 taskId, address[] calldata recipients) external nonReentrant returns (uint256 share) {
        _onlyModule();
        uint256 n = recipients.length;
        if (n == 0 || n > MAX_TEAM) revert MarketTooManyRecipients(n, MAX_TEAM);
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Committed) return 0;
        _checkBookkeepingGas(1);
        share = _invalidate(t, taskId, recipients[0], false);
        uint256 per = share / n;
        for (uint256 i; i < n; ++i) {
            claimable[recipients[i]] += per;
        }
        claimable[t.treasury] += share - per * n;
        _reputation(taskId, 0, t.agentId, -1, "check", "failed", t.resultRoot);
    }

    /// @notice The audit module pins element `index`'s trace root to the one its worker answered the audit with
    /// (docs/protocol.md §Audits): later games on the element are opened with it, and the element's live game (if
    /// any) is bound to it — before its reveal the claimant must reveal exactly that trace, after its reveal the pin
    /// must be the revealed root (else the game reverts and so does the answer).
    /// @param taskId The task (no-op unless committed).
    /// @param index The audited element.
    /// @param traceRoot The answered trace root (non-zero).
    function pinTrace(uint256 taskId, uint32 index, bytes32 traceRoot) external {
        // INVARIANT: only the audit book pins (its answer is the worker's own, after every seal is fixed).
        if (msg.sender != auditBook) revert MarketNotModule(msg.sender);
        // A task no longer committed (invalidated by a game) has nothing left to bind.
        if (_tasks[taskId].status != TaskStatus.Committed) return;
        bytes32 key = taskKey(taskId, index);
        bytes32 pinned = tracePin[key];
        // INVARIANT: an element's pin is set once and never changes (a worker cannot re-answer a different trace).
        if (traceRoot == bytes32(0) || (pinned != bytes32(0) && pinned != traceRoot)) {
            revert MarketTracePinned(taskId, index, pinned);
        }
        tracePin[key] = traceRoot;
        emit TracePinned(taskId, index, traceRoot);
        uint256 live = _live[key].disputeId;
        // INVARIANT: a game already open on the element is bound to the same trace (it reverts on a contradiction,
        // so the answer is refused and the worker counts as silent).
        if (live != 0) {
            Dispute storage d = _disputes[live];
            ITraceBounded(address(d.resolver)).pinTrace(d.gameId, traceRoot);
        }
    }

    /// @notice A module cancels a claimed task whose requester withheld an input element: the worker's stake is
    /// released and the fee is paid to the worker.
    /// @param taskId The task.
    function moduleCancelWithheld(uint256 taskId) external nonReentrant {
        _onlyModule();
        Task storage t = _tasks[taskId];
        if (t.status != TaskStatus.Claimed) revert MarketUnexpectedStatus(taskId, t.status);
        t.status = TaskStatus.Cancelled;
        t.holds = 0;
        address w = t.worker;
        claimable[w] += t.fee;
        emit TaskCancelled(taskId, msg.sender, 0);
        staking.unlock(w, t.stakeLocked);
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

    /// @notice Current issue-11 rules.
    /// @return The rules.
    function getRules() external view returns (Rules memory) {
        return _rules;
    }

    /// @notice The live dispute of an element (0 = none): a second challenger joins it with {joinChallenge}.
    /// @param taskId The task.
    /// @param index The element.
    /// @return disputeId The dispute id.
    /// @return joinBond The bond a joiner posts (the rule when the dispute was opened).
    function liveDispute(uint256 taskId, uint256 index) external view returns (uint256 disputeId, uint256 joinBond) {
        Live memory l = _live[taskKey(taskId, index)];
        return (l.disputeId, l.joinBond);
    }

    /// @notice Joiners of a dispute's challenger side (the opener is `getDispute(id).challenger`).
    /// @param disputeId The dispute.
    /// @return The joiners.
    function joinersOf(uint256 disputeId) external view returns (address[] memory) {
        return _joiners[disputeId];
    }

    /// @notice The ValidationRegistry request hash of a dispute's record: MARKET_TAG ‖ 28 bytes of
    /// keccak256(market, disputeId), a key space only the market may write.
    /// @param disputeId The dispute.
    /// @return The request hash.
    function validationKey(uint256 disputeId) public view returns (bytes32) {
        // MARKET_TAG = ValidationRegistry.MARKET_TAG (the registry reserves it for its bound market).
        return bytes32(bytes4(keccak256("verity.market.v1"))) | (keccak256(abi.encode(address(this), disputeId)) >> 32);
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
        return (_lastTaskId, _nextDisputeId - 1);
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
        if (fee < _rules.minFee) revert MarketFeeBelowMinimum(fee, _rules.minFee);
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
        t.auditFeeBps = _rules.auditFeeBps;
        emit TaskPosted(taskId, msg.sender, modelId, inputRoot, itemCount, fee, deadline);
    }

    /// @dev The 0x06 / 0x07 digest of tensors posted in calldata; reverts MarketInvalidTensors on a malformed list.
    function _digest(uint8 prefix, IoCommitments.Tensor[] calldata ts) private pure returns (bytes32 d) {
        (bytes32 h, bool ok, uint256 bad) = IoCommitments.digest(prefix, ts);
        if (!ok) revert MarketInvalidTensors(bad);
        return h;
    }

    /// @dev An empty calldata tensor list: the event then shares postTask's calldata encoder (a memory
    /// `new Tensor[](0)` pulled in a second, memory ABI encoder: ~300 bytes of an EIP-170-bound contract).
    function _noTensors() private pure returns (IoCommitments.Tensor[] calldata none) {
        assembly ("memory-safe") {
            none.offset := 0
            none.length := 0
        }
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
        t.commitBlock = uint48(block.number);
    }

    function _openDispute(
        Task storage t,
        uint256 taskId,
        uint32 index,
        bytes32 key,
        bytes32 inputHash,
        bytes32 outputHash
    ) private returns (uint256 disputeId) {
        IDisputeResolver resolver = _params.resolver;
        disputeId = _nextDisputeId++;
        t.openDisputes += 1;
        Dispute storage d = _disputes[disputeId];
        d.challenger = msg.sender;
        d.taskId = uint64(taskId); // task ids are sequential from 1; 2^64 tasks is unreachable
        d.index = index;
        d.resolver = resolver;
        d.teamSize = 1;
        _live[key] = Live({disputeId: uint128(disputeId), joinBond: _rules.joinBond});
        bytes32 modelRoot = modelRegistry.modelRoot(t.modelId);
        // The resolver is governance-set and trusted; it pulls the challenger's bond (msg.sender) itself. The claimed
        // root is the element's audit pin (0 = none: the game takes the root of whatever trace the claimant reveals,
        // bound to inputHash / outputHash).
        uint256 gameId =
            resolver.open(key, t.worker, msg.sender, tracePin[key], modelRoot, inputHash, outputHash);
        d.gameId = gameId.toUint64(); // a resolver numbering its games past 2^64 reverts here rather than aliasing another game
        emit ResultChallenged(disputeId, taskId, msg.sender, index, address(resolver), gameId);
        ModelRegistry.Shape memory sh = modelRegistry.shapeOf(t.modelId);
        // A model registered with its shape: the claimant may not reveal a trace longer than numInputs + nodeCount.
        // A resolver without the extension is left unbounded (MAX_TRACE_TENSORS still holds in the game).
        if (sh.nodeCount != 0) {
            try ITraceBounded(address(resolver)).boundTrace(gameId, sh.numInputs + sh.nodeCount) {} catch {}
        }
    }

    /// @dev Invalidates: slashes the locked stake (treasury part credited now), refunds the fee. The challenger share
    /// is kept in challengerPot for the winners (`pooled`) or returned for the caller to pay out.
    function _invalidate(Task storage t, uint256 taskId, address challenger, bool pooled)
        private
        returns (uint256 challengerShare)
    {
        t.status = TaskStatus.Invalidated;
        uint256 slashed = t.stakeLocked;
        challengerShare = slashed * t.slashBps / BPS;
        if (pooled) t.challengerPot = uint128(challengerShare);
        uint256 refund = t.fee;
        claimable[t.treasury] += slashed - challengerShare;
        claimable[t.requester] += refund;
        emit TaskInvalidated(taskId, challenger, slashed, challengerShare, refund);
        staking.slash(t.worker, slashed);
    }

    /// @dev Credits each member of won dispute `d` its part challengerPot / winners (≤ MAX_TEAM members).
    function _payShare(Task storage t, uint256 disputeId, Dispute storage d) private {
        d.sharePaid = true;
        uint256 per = uint256(t.challengerPot) / t.winners;
        claimable[d.challenger] += per;
        emit ShareCredited(disputeId, d.challenger, per);
        address[] storage joiners = _joiners[disputeId];
        for (uint256 i; i < joiners.length; ++i) {
            claimable[joiners[i]] += per;
            emit ShareCredited(disputeId, joiners[i], per);
        }
    }

    function _isJoiner(uint256 disputeId, address who) private view returns (bool) {
        address[] storage joiners = _joiners[disputeId];
        for (uint256 i; i < joiners.length; ++i) {
            if (joiners[i] == who) return true;
        }
        return false;
    }

    function _contested(Dispute storage d) private view returns (bool) {
        try d.resolver.contested{gas: BOOKKEEPING_GAS}(d.gameId) returns (bool c) {
            return c;
        } catch {
            return true;
        }
    }

    function _onlyModule() private view {
        if (msg.sender == address(0) || (msg.sender != auditBook && msg.sender != dataAvailability)) {
            revert MarketNotModule(msg.sender);
        }
    }

    /// @dev Reverts unless `calls` bookkeeping calls can each get their full budget (63/64 rule plus a margin).
    function _checkBookkeepingGas(uint256 calls) private view {
        uint256 needed = calls * (BOOKKEEPING_GAS + BOOKKEEPING_GAS / 63) + 100_000;
        // INVARIANT: nobody can make bookkeeping fail on purpose by sending too little gas.
        if (gasleft() < needed) revert MarketInsufficientGas(gasleft(), needed);
    }

    /// @dev Outcome feedback: ("task","finalized") +1, ("task","expired") -1, ("dispute","won") +1,
    /// ("dispute","lost") -1, ("check","failed") -1. `key` (task key or result root) goes in feedbackHash. Runs in
    /// its own gas budget; a failure emits BookkeepingFailed and never reverts settlement.
    function _reputation(
        uint256 taskId,
        uint256 disputeId,
        uint64 agentId,
        int128 value,
        string memory tag1,
        string memory tag2,
        bytes32 key
    ) private {
        try reputationRegistry.giveFeedback{gas: BOOKKEEPING_GAS}(agentId, value, 0, tag1, tag2, "", "", key) {}
        catch {
            emit BookkeepingFailed(taskId, disputeId, BOOK_REPUTATION);
        }
    }

    function _validation(uint64 agentId, uint256 taskId, uint256 disputeId, bytes32 key, bool upheld) private {
        bytes32 requestHash = validationKey(disputeId);
        // The registry builds the request URI (a data: URI naming this market, the task and the dispute).
        try validationRegistry.marketValidationRequest{gas: BOOKKEEPING_GAS}(agentId, taskId, disputeId, requestHash) {}
        catch {
            emit BookkeepingFailed(taskId, disputeId, BOOK_VALIDATION_REQUEST);
            return;
        }
        try validationRegistry.validationResponse{gas: BOOKKEEPING_GAS}(
            requestHash, upheld ? 100 : 0, "", key, "dispute"
        ) {} catch {
            emit BookkeepingFailed(taskId, disputeId, BOOK_VALIDATION_RESPONSE);
        }
    }

    function _setRules(Rules memory r) private {
        if (r.abandonBps > BPS) revert MarketInvalidBps(r.abandonBps);
        // INVARIANT: protocol fee + audit premium never exceed the fee (finalize also caps the premium).
        if (r.auditFeeBps > BPS / 2) revert MarketInvalidBps(r.auditFeeBps);
        _rules = r;
        emit RulesUpdated(r);
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
