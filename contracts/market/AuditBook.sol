// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Governed} from "../common/Governed.sol";
import {TaskMarket, IAuditPool} from "./TaskMarket.sol";
import {DisputeCommitments as C} from "../dispute/DisputeCommitments.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {Staking} from "../staking/Staking.sol";

/// @title AuditBook
/// @notice Random audits with commit-reveal, paid from the audit premium of every task fee (docs/protocol.md §Audits):
/// the answer to the verifier's dilemma. After a commit, {drawAudit} selects the task with probability `rateBps` from
/// blockhash(commitBlock + 1), unknown to the worker when it committed (no draw within 256 blocks = selected), and picks
/// one element and one intermediate trace tensor j. Every staked auditor may commit, during the commit window,
/// seal = keccak256(abi.encode(taskId, tensorRoot_j, auditor, salt)) with a deposit (no first-come slots: a worker's
/// puppets cannot keep an honest auditor out); only re-execution yields tensorRoot_j (the worker publishes only the
/// outputs). After the commit window the worker answers with the element's trace root and proves tensor j in it
/// ({answerAudit}); the market pins that root for the element, so any game on it binds the worker to the same trace
/// (an answer contradicting a trace already revealed in a game is refused). The hash
/// of the answer's block (unknown to anyone when the seals were fixed, and to the worker when it answers) picks which
/// PAID_REVEALS seals are paid. Auditors then reveal: a match returns the deposit, plus `reward` (capped by the pool)
/// if the seal was picked; a mismatch holds the deposit until settlement (back if the task was invalidated — the
/// auditor challenges — else forfeited to the pool); no reveal forfeits it. No answer = the task is invalidated, the
/// challenger share goes to the pool (an auditor that never re-executed gets nothing but its deposit back). Deposits to
/// return after settlement are pulled with {reclaimDeposit} (no loop over the seals). The market's finalize waits
/// until the task's audit is {cleared}.
contract AuditBook is Governed, ReentrancyGuard, IAuditPool {
    using SafeERC20 for IERC20;

    /// @notice Where a task's audit stands.
    enum State {
        None, // not drawn yet (finalize waits for a draw)
        NotSelected, // drawn, not audited
        Selected, // audit open: commit → answer → reveal
        Settled // audit closed
    }

    /// @notice Governed audit parameters (snapshotted into each audit at its draw).
    /// @param rateBps Probability a task is audited, in bps.
    /// @param commitWindow Seconds after the draw in which auditors commit seals.
    /// @param answerWindow Seconds after the commit window in which the worker answers.
    /// @param revealWindow Seconds after the answer window in which auditors reveal.
    /// @param deposit Each auditor's deposit.
    /// @param reward Paid to each auditor whose reveal matches the worker's answer (capped by the pool).
    /// @param minAuditorStake Free stake (Staking) an auditor must hold to commit.
    struct Config {
        uint16 rateBps;
        uint64 commitWindow;
        uint64 answerWindow;
        uint64 revealWindow;
        uint128 deposit;
        uint128 reward;
        uint128 minAuditorStake;
    }

    /// @notice One task's audit.
    struct Audit {
        State state;
        bool answered;
        bool workerFailed; // settled unanswered: every sealed deposit is reclaimable
        bool refundMismatch; // settled with mismatched deposits reclaimable (the task was invalidated, or too late)
        uint32 sealCount; // seals committed (any number)
        uint32 matched; // reveals that matched the answer
        uint32 mismatched; // reveals that did not
        uint64 answerBlock; // block of the answer: its hash picks the paid seals
        uint32 index; // audited element
        uint32 numInputs; // declared model shape, at the draw
        uint32 numOutputs;
        address worker;
        uint64 commitEnd;
        uint64 answerEnd;
        uint64 revealEnd;
        uint128 deposit;
        uint128 reward;
        uint256 seed; // picks element and tensor
        bytes32 answer; // the worker's tensorRoot of tensor `tensorId`
        uint32 tensorId;
        uint256 paySeed; // picks the paid seals (0 until the first reveal fixes it)
    }

    /// @notice An auditor's seal. status: 0 committed, 1 matched (deposit back, reward if picked), 2 mismatch (deposit
    /// held), 3 closed.
    struct Seal {
        address auditor;
        uint8 status;
        bytes32 seal;
    }

    uint256 private constant BPS = 10_000;
    /// @notice Seals paid the reward per audit, picked after the commit window by the answer block's hash among all
    /// seals (a matching seal not picked gets its deposit back only).
    uint8 public constant PAID_REVEALS = 2;

    /// @notice The market whose tasks are audited (its finalize asks {cleared}).
    TaskMarket public immutable market;
    /// @notice VRT (premiums, deposits, rewards).
    IERC20 public immutable token;
    /// @notice Stake registry (auditors must hold free stake).
    Staking public immutable staking;
    /// @notice Model registry (declared trace shapes).
    ModelRegistry public immutable models;

    Config private _config;
    /// @notice Tokens available for rewards: premiums plus forfeited deposits, minus rewards paid.
    uint256 public pool;
    mapping(uint256 taskId => Audit) private _audits;
    mapping(uint256 taskId => Seal[]) private _seals;
    /// @dev Position + 1 of each auditor's seal in `_seals[taskId]` (0 = none).
    mapping(uint256 taskId => mapping(address auditor => uint256)) private _sealPos;

    /// @notice Governance replaced the configuration.
    event ConfigSet(Config config);
    /// @notice The market paid `amount` of task `taskId`'s fee into the pool (taskId 0: a {fundPool} donation).
    event PremiumAdded(uint256 indexed taskId, uint256 amount);
    /// @notice Task `taskId`'s audit was drawn. When selected: element `index`, tensor-selection `seed`, and the
    /// ends of the commit / answer / reveal windows.
    event AuditDrawn(
        uint256 indexed taskId,
        bool selected,
        uint32 index,
        uint256 seed,
        uint64 commitEnd,
        uint64 answerEnd,
        uint64 revealEnd
    );
    /// @notice `auditor` committed `seal` and deposited `deposit`.
    event AuditCommitted(uint256 indexed taskId, address indexed auditor, bytes32 seal, uint256 deposit);
    /// @notice The worker's answer: tensorRoot of tensor `tensorId` of element `index`'s trace, proven in `traceRoot`
    /// (pinned for the element's games).
    event AuditAnswered(uint256 indexed taskId, uint32 index, uint32 tensorId, bytes32 tensorRoot, bytes32 traceRoot);
    /// @notice `auditor` revealed `tensorRoot`; `matched` with the answer; `paid` = reward paid (deposit returned
    /// separately when matched).
    event AuditRevealed(uint256 indexed taskId, address indexed auditor, bytes32 tensorRoot, bool matched, uint256 paid);
    /// @notice The audit closed: `workerFailed` = the worker did not answer (task invalidated, `toPool` = its challenger
    /// share plus forfeited deposits went to the pool); `refundable` deposits can be reclaimed ({reclaimDeposit}).
    event AuditSettled(uint256 indexed taskId, bool workerFailed, uint256 toPool, uint256 refundable);
    /// @notice The paid seals of the audit were fixed by `paySeed` (from the answer block's hash).
    event AuditPaySeedFixed(uint256 indexed taskId, uint256 paySeed);
    /// @notice `auditor` reclaimed its `deposit` after settlement.
    event AuditDepositReclaimed(uint256 indexed taskId, address indexed auditor, uint256 deposit);

    /// @notice Caller is not the market.
    error AuditNotMarket(address caller);
    /// @notice The task is not in a status that allows the call.
    error AuditUnexpectedTask(uint256 taskId, TaskMarket.TaskStatus status);
    /// @notice The audit is not in the state the call needs.
    error AuditUnexpectedState(uint256 taskId, State state);
    /// @notice Too early: the call is allowed from `notBefore` (block number for draws, timestamp otherwise).
    error AuditTooEarly(uint256 taskId, uint256 notBefore);
    /// @notice The window for this call closed at `deadline`.
    error AuditWindowClosed(uint256 taskId, uint256 deadline);
    /// @notice A silent worker's audit waits for the task's open disputes (their challenger team takes the share).
    error AuditDisputeOpen(uint256 taskId, uint32 openDisputes);
    /// @notice Nothing to reclaim: the caller's seal is not refundable (`status`).
    error AuditNotRefundable(uint256 taskId, address auditor, uint8 status);
    /// @notice The caller may not audit this task (it is the worker, or it already committed).
    error AuditNotAllowed(uint256 taskId, address caller);
    /// @notice The auditor's free stake is below the minimum.
    error AuditInsufficientStake(address auditor, uint256 freeStake, uint256 minStake);
    /// @notice The answer's proof does not check (`which`: 2 tensor j not in the answered trace root).
    error AuditBadAnswer(uint256 taskId, uint8 which);
    /// @notice The caller has no open seal in this audit.
    error AuditNotAuditor(uint256 taskId, address caller);
    /// @notice The revealed value and salt do not open the caller's seal.
    error AuditBadReveal(uint256 taskId, address auditor);
    /// @notice A configuration value is out of range.
    error AuditBadConfig();

    /// @param governance_ Governance timelock (owns the configuration).
    /// @param market_ The TaskMarket (set this book as its audit module through governance).
    /// @param config_ Initial configuration.
    constructor(address governance_, TaskMarket market_, Config memory config_) Governed(governance_) {
        market = market_;
        token = market_.token();
        staking = market_.staking();
        models = market_.modelRegistry();
        _setConfig(config_);
    }

    // ================================================================== market

    /// @inheritdoc IAuditPool
    function addPremium(uint256 taskId, uint256 amount) external {
        if (msg.sender != address(market)) revert AuditNotMarket(msg.sender);
        pool += amount;
        emit PremiumAdded(taskId, amount);
    }

    /// @inheritdoc IAuditPool
    function cleared(uint256 taskId) external view returns (bool) {
        State s = _audits[taskId].state;
        return s == State.NotSelected || s == State.Settled;
    }

    /// @notice Adds `amount` to the reward pool from the caller (approve this book): the deployment's audit-pool seed
    /// or any donor.
    /// @param amount Tokens to add.
    function fundPool(uint256 amount) external nonReentrant {
        pool += amount;
        emit PremiumAdded(0, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    // ================================================================== moves

    /// @notice Draws a committed task's audit (anyone; from the block after the commit's next block). Uses
    /// blockhash(commitBlock + 1); if that hash is no longer available (more than 256 blocks), the task is selected.
    /// Models registered without a shape are never selected (nothing to pick j from).
    /// @param taskId The task.
    function drawAudit(uint256 taskId) external {
        Audit storage a = _audits[taskId];
        if (a.state != State.None) revert AuditUnexpectedState(taskId, a.state);
        TaskMarket.Task memory t = market.getTask(taskId);
        if (t.status != TaskMarket.TaskStatus.Committed) revert AuditUnexpectedTask(taskId, t.status);
        uint256 b = uint256(t.commitBlock) + 1;
        // INVARIANT: the seed block is after the commit, so the worker could not know it when committing.
        if (block.number <= b) revert AuditTooEarly(taskId, b + 1);
        Config memory c = _config;
        bytes32 h = blockhash(b);
        uint256 seed;
        bool selected;
        if (h == bytes32(0)) {
            // Nobody drew in time: selected, so a worker gains nothing from keeping others from drawing.
            seed = uint256(keccak256(abi.encode(taskId, t.resultRoot, b)));
            selected = true;
        } else {
            seed = uint256(keccak256(abi.encode(h, taskId)));
            selected = seed % BPS < c.rateBps;
        }
        ModelRegistry.Shape memory sh = models.shapeOf(t.modelId);
        if (sh.nodeCount == 0) selected = false;
        if (!selected) {
            a.state = State.NotSelected;
            emit AuditDrawn(taskId, false, 0, seed, 0, 0, 0);
            return;
        }
        a.state = State.Selected;
        a.index = uint32((seed >> 128) % t.itemCount);
        a.numInputs = sh.numInputs;
        a.numOutputs = sh.numOutputs;
        a.worker = t.worker;
        uint64 commitEnd = uint64(block.timestamp) + c.commitWindow;
        uint64 answerEnd = commitEnd + c.answerWindow;
        uint64 revealEnd = answerEnd + c.revealWindow;
        a.commitEnd = commitEnd;
        a.answerEnd = answerEnd;
        a.revealEnd = revealEnd;
        a.deposit = c.deposit;
        a.reward = c.reward;
        a.seed = seed;
        emit AuditDrawn(taskId, true, a.index, seed, commitEnd, answerEnd, revealEnd);
    }

    /// @notice Auditor: commits a seal during the commit window, with the audit's deposit (approve this book).
    /// @param taskId The task.
    /// @param seal keccak256(abi.encode(taskId, tensorRoot_j, auditor, salt)), j = {targetTensor}.
    function commitAudit(uint256 taskId, bytes32 seal) external nonReentrant {
        Audit storage a = _audits[taskId];
        if (a.state != State.Selected) revert AuditUnexpectedState(taskId, a.state);
        if (block.timestamp > a.commitEnd) revert AuditWindowClosed(taskId, a.commitEnd);
        // INVARIANT: any number of auditors (nobody can fill the audit), never the worker, each once.
        if (msg.sender == a.worker || _sealPos[taskId][msg.sender] != 0) revert AuditNotAllowed(taskId, msg.sender);
        uint256 free = staking.freeStakeOf(msg.sender);
        uint256 minStake = _config.minAuditorStake;
        if (free < minStake) revert AuditInsufficientStake(msg.sender, free, minStake);
        a.sealCount += 1;
        _seals[taskId].push(Seal({auditor: msg.sender, status: 0, seal: seal}));
        _sealPos[taskId][msg.sender] = _seals[taskId].length;
        uint256 deposit = a.deposit;
        emit AuditCommitted(taskId, msg.sender, seal, deposit);
        token.safeTransferFrom(msg.sender, address(this), deposit);
    }

    /// @notice Worker, after the commit window: answers with the audited element's trace root (over the registered
    /// model's numInputs + nodeCount tensors) and proves tensor j in it, j = {targetTensor}. The market pins the root for
    /// the element ({TaskMarket.pinTrace}): every game on the element then binds the worker to that trace, and an answer
    /// contradicting a trace the worker already revealed in a game on the element is refused (the worker is then
    /// silent). Only the worker answers: the pin binds its defence.
    /// @param taskId The task.
    /// @param traceRoot The element's trace root.
    /// @param tensorRoot_ tensorRoot of trace tensor j.
    /// @param siblings Bottom-up proof of tensorRoot_ at j in the trace tree.
    function answerAudit(uint256 taskId, bytes32 traceRoot, bytes32 tensorRoot_, bytes32[] calldata siblings)
        external
    {
        Audit storage a = _audits[taskId];
        if (a.state != State.Selected || a.answered) revert AuditUnexpectedState(taskId, a.state);
        // INVARIANT: only the worker answers (the pinned root binds the worker's side of every later game).
        if (msg.sender != a.worker) revert AuditNotAllowed(taskId, msg.sender);
        // INVARIANT: the answer is published only after every seal is fixed.
        if (block.timestamp <= a.commitEnd) revert AuditTooEarly(taskId, uint256(a.commitEnd) + 1);
        if (block.timestamp > a.answerEnd) revert AuditWindowClosed(taskId, a.answerEnd);
        uint32 index = a.index;
        ModelRegistry.Shape memory sh = models.shapeOf(market.getTask(taskId).modelId);
        uint256 count = uint256(sh.numInputs) + sh.nodeCount;
        uint256 j = tensorIndex(a.seed, count, a.numInputs, a.numOutputs);
        // INVARIANT: the answered root is tensor j of a trace of exactly the registered model's length.
        if (j == type(uint256).max || !C.isTraceTensor(traceRoot, count, j, tensorRoot_, siblings)) {
            revert AuditBadAnswer(taskId, 2);
        }
        a.answered = true;
        a.answerBlock = uint64(block.number);
        a.answer = tensorRoot_;
        a.tensorId = uint32(j);
        emit AuditAnswered(taskId, index, uint32(j), tensorRoot_, traceRoot);
        // INVARIANT: the answer binds the worker's trace for the element in every game (reverts on a contradiction).
        market.pinTrace(taskId, index, traceRoot);
    }

    /// @notice Auditor, after the answer's block and before the reveal window ends: opens its seal. Match: deposit
    /// back, plus min(pool, reward) if the seal is one of the PAID_REVEALS picked ({isPaidSeal}). Mismatch: deposit
    /// held until {settleAudit} (challenge the task meanwhile).
    /// @param taskId The task.
    /// @param tensorRoot_ The tensorRoot of tensor j the auditor computed.
    /// @param salt The seal's salt.
    function revealAudit(uint256 taskId, bytes32 tensorRoot_, bytes32 salt) external nonReentrant {
        Audit storage a = _audits[taskId];
        if (a.state != State.Selected || !a.answered) revert AuditUnexpectedState(taskId, a.state);
        if (block.timestamp > a.revealEnd) revert AuditWindowClosed(taskId, a.revealEnd);
        uint256 pos = _sealPos[taskId][msg.sender];
        if (pos == 0 || _seals[taskId][pos - 1].status != 0) revert AuditNotAuditor(taskId, msg.sender);
        Seal storage s = _seals[taskId][pos - 1];
        // INVARIANT: only the value sealed before the answer was public counts.
        if (keccak256(abi.encode(taskId, tensorRoot_, msg.sender, salt)) != s.seal) {
            revert AuditBadReveal(taskId, msg.sender);
        }
        uint256 seed = _fixPaySeed(taskId, a);
        bool matched = tensorRoot_ == a.answer;
        uint256 paid;
        if (matched) {
            s.status = 1;
            a.matched += 1;
            // INVARIANT: at most PAID_REVEALS seals per audit are paid, picked by a hash unknown when they were sealed.
            if (_picked(seed, a.sealCount, pos - 1)) {
                paid = a.reward;
                if (paid > pool) paid = pool;
                pool -= paid;
            }
        } else {
            s.status = 2;
            a.mismatched += 1;
        }
        emit AuditRevealed(taskId, msg.sender, tensorRoot_, matched, paid);
        if (matched) token.safeTransfer(msg.sender, uint256(a.deposit) + paid);
    }

    /// @notice Closes an audit (anyone): no seal after the commit window → cleared; no answer after the answer window
    /// and no dispute open on the task → the task is invalidated (stake slashed, fee refunded; if a dispute already
    /// invalidated it, nothing more), the challenger share goes to the pool and every deposit is reclaimable; after the reveal window (or once every seal matched) → unrevealed deposits, and mismatched ones
    /// of a task that was not invalidated, go to the pool; the rest are reclaimable ({reclaimDeposit}).
    /// @param taskId The task.
    function settleAudit(uint256 taskId) external nonReentrant {
        Audit storage a = _audits[taskId];
        if (a.state != State.Selected) revert AuditUnexpectedState(taskId, a.state);
        uint256 n = a.sealCount;
        uint256 deposit = a.deposit;
        if (n == 0) {
            if (block.timestamp <= a.commitEnd) revert AuditTooEarly(taskId, uint256(a.commitEnd) + 1);
            a.state = State.Settled;
            emit AuditSettled(taskId, false, 0, 0);
            return;
        }
        if (!a.answered) {
            if (block.timestamp <= a.answerEnd) revert AuditTooEarly(taskId, uint256(a.answerEnd) + 1);
            uint32 open = market.getTask(taskId).openDisputes;
            // INVARIANT: a dispute on the task settles first, so an auditor that proved the lie in the game (its team)
            // takes the challenger share; only a lie nobody disputed sends it to the pool.
            if (open != 0) revert AuditDisputeOpen(taskId, open);
            a.state = State.Settled;
            a.workerFailed = true;
            // The share is not paid to the sealers: a seal proves nothing until it is compared with an answer, and an
            // auditor that never re-executed must not profit from a silent worker (it gets its deposit back only).
            address[] memory who = new address[](1);
            who[0] = address(this);
            uint256 share = market.moduleInvalidate(taskId, who);
            uint256 got;
            if (market.claimable(address(this)) != 0) {
                uint256 before = token.balanceOf(address(this));
                market.withdraw();
                got = token.balanceOf(address(this)) - before;
            }
            pool += got;
            emit AuditSettled(taskId, true, share, deposit * n);
            return;
        }
        if (a.matched != n && block.timestamp <= a.revealEnd) {
            revert AuditTooEarly(taskId, uint256(a.revealEnd) + 1);
        }
        a.state = State.Settled;
        TaskMarket.Task memory t = market.getTask(taskId);
        // A mismatching auditor is refunded if the task was invalidated (it was right), or if the challenge window had
        // closed before it could challenge (a late draw must not punish an honest auditor).
        bool refundMismatch = t.status == TaskMarket.TaskStatus.Invalidated || t.challengeDeadline <= a.answerEnd;
        a.refundMismatch = refundMismatch;
        uint256 refundable = refundMismatch ? a.mismatched : 0;
        uint256 forfeited = deposit * (n - a.matched - refundable);
        pool += forfeited;
        emit AuditSettled(taskId, false, forfeited, deposit * refundable);
    }

    /// @notice Auditor, after settlement: takes back its deposit when it is refundable — any seal of an audit the
    /// worker did not answer, or a mismatched seal of an audit settled with mismatches refunded.
    /// @param taskId The task.
    function reclaimDeposit(uint256 taskId) external nonReentrant {
        Audit storage a = _audits[taskId];
        if (a.state != State.Settled) revert AuditUnexpectedState(taskId, a.state);
        uint256 pos = _sealPos[taskId][msg.sender];
        if (pos == 0) revert AuditNotAuditor(taskId, msg.sender);
        Seal storage s = _seals[taskId][pos - 1];
        uint8 st = s.status;
        // INVARIANT: a deposit comes back once, and only when the settlement made it refundable.
        if (!((st == 0 && a.workerFailed) || (st == 2 && a.refundMismatch))) {
            revert AuditNotRefundable(taskId, msg.sender, st);
        }
        s.status = 3;
        uint256 deposit = a.deposit;
        emit AuditDepositReclaimed(taskId, msg.sender, deposit);
        token.safeTransfer(msg.sender, deposit);
    }

    // ================================================================== governance

    /// @notice Replaces the configuration (governance only). Drawn audits keep their snapshot.
    /// @param config_ The new configuration.
    function setConfig(Config calldata config_) external onlyGovernance {
        _setConfig(config_);
    }

    // ================================================================== views

    /// @notice Current configuration.
    /// @return The configuration.
    function getConfig() external view returns (Config memory) {
        return _config;
    }

    /// @notice A task's audit.
    /// @param taskId The task.
    /// @return The audit (state None if not drawn).
    function getAudit(uint256 taskId) external view returns (Audit memory) {
        return _audits[taskId];
    }

    /// @notice A task's seals, in commit order.
    /// @param taskId The task.
    /// @return The seals.
    function sealsOf(uint256 taskId) external view returns (Seal[] memory) {
        return _seals[taskId];
    }

    /// @notice Whether `auditor`'s seal is one of the audit's paid seals (false until the pay seed is fixed by the
    /// first reveal, or when the auditor did not seal).
    /// @param taskId The task.
    /// @param auditor The auditor.
    /// @return Picked for the reward (if its reveal matches).
    function isPaidSeal(uint256 taskId, address auditor) external view returns (bool) {
        Audit storage a = _audits[taskId];
        uint256 pos = _sealPos[taskId][auditor];
        if (pos == 0 || a.paySeed == 0) return false;
        return _picked(a.paySeed, a.sealCount, pos - 1);
    }

    /// @notice The tensor an auditor must recompute: element `index` and trace tensor `tensorId` for the model's
    /// declared trace length (numInputs + nodeCount tensors).
    /// @param taskId A selected task.
    /// @return index The audited element.
    /// @return tensorId Trace tensor j.
    function targetTensor(uint256 taskId) external view returns (uint32 index, uint256 tensorId) {
        Audit storage a = _audits[taskId];
        if (a.state == State.None || a.state == State.NotSelected) revert AuditUnexpectedState(taskId, a.state);
        ModelRegistry.Shape memory sh = models.shapeOf(market.getTask(taskId).modelId);
        return (a.index, tensorIndex(a.seed, uint256(sh.numInputs) + sh.nodeCount, a.numInputs, a.numOutputs));
    }

    /// @notice Trace tensor picked by `seed` in a trace of `count` tensors: uniform over the intermediate tensors
    /// (neither model input nor model output, both public), or over all node outputs if there are none.
    /// @return j The tensor id, or type(uint256).max if the trace has no node output.
    function tensorIndex(uint256 seed, uint256 count, uint256 numInputs, uint256 numOutputs)
        public
        pure
        returns (uint256 j)
    {
        if (count <= numInputs) return type(uint256).max;
        uint256 span = count - numInputs;
        if (span > numOutputs) span -= numOutputs;
        return numInputs + seed % span;
    }

    // ================================================================== internals

    /// @dev The pay seed, fixed once from the hash of the answer's block (unknown to the worker when it answered and
    /// to every auditor when it sealed). Reverts in the answer's own block; if that hash is gone (> 256 blocks),
    /// falls back to the audit seed and the block number (the seals were fixed long before either was chosen).
    function _fixPaySeed(uint256 taskId, Audit storage a) private returns (uint256 seed) {
        seed = a.paySeed;
        if (seed != 0) return seed;
        uint256 b = a.answerBlock;
        if (block.number <= b) revert AuditTooEarly(taskId, b + 1);
        bytes32 h = blockhash(b);
        if (h == bytes32(0)) h = keccak256(abi.encode(a.seed, b));
        seed = uint256(keccak256(abi.encode(h, taskId, "pay"))) | 1; // never 0 (0 = not fixed)
        a.paySeed = seed;
        emit AuditPaySeedFixed(taskId, seed);
    }

    /// @dev Whether seal position `i` of `n` is one of the PAID_REVEALS picked by `seed` (all of them when n ≤ 2;
    /// otherwise two distinct positions).
    function _picked(uint256 seed, uint256 n, uint256 i) private pure returns (bool) {
        if (n <= PAID_REVEALS) return true;
        uint256 w1 = (seed >> 8) % n;
        uint256 w2 = (w1 + 1 + (seed >> 136) % (n - 1)) % n;
        return i == w1 || i == w2;
    }

    function _setConfig(Config memory c) private {
        if (
            c.rateBps > BPS || c.commitWindow == 0 || c.answerWindow == 0 || c.revealWindow == 0 || c.deposit == 0
        ) revert AuditBadConfig();
        _config = c;
        emit ConfigSet(c);
    }
}
