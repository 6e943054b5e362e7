// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Governed} from "../common/Governed.sol";
import {TaskMarket} from "./TaskMarket.sol";
import {IoCommitments} from "../libraries/IoCommitments.sol";
import {PositionalMerkle} from "../libraries/PositionalMerkle.sol";

/// @title DataAvailability
/// @notice On-chain data-availability challenges for batch tasks (docs/protocol.md §Data availability). A batch commit
/// is one root the worker never has to open, so a withheld batch could not be challenged. Here anyone may, during
/// the challenge window, {requestElement} with a small bond: the worker must {openElement} — publish the element's
/// output tensors (hashed on-chain into the 0x07 digest) and trace root, proven against the committed root, in an
/// event — within `window`, after which anyone can challenge it; the bond then goes to the worker (covers its gas).
/// Unopened by then: anyone calls {settleUnopened}, the task is invalidated (stake slashed, fee refunded) and the
/// requester gets the challenger share plus its bond back. The market's finalize waits for every open request.
/// Symmetrically a worker facing withheld inputs calls {requestInput}; the requester must {publishInput} (checked
/// against the task's input root) within `window`, else {settleInputWithheld} cancels the task, releases the stake
/// and pays the fee to the worker.
contract DataAvailability is Governed, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice One open or closed request. kind: 1 element (output) request, 2 input request.
    struct Request {
        address requester;
        uint64 deadline;
        uint8 kind;
        bool open;
        uint128 bond;
    }

    /// @notice The market whose tasks this module guards.
    TaskMarket public immutable market;
    /// @notice VRT.
    IERC20 public immutable token;
    /// @notice Bond of an element request (governed).
    uint128 public bond;
    /// @notice Seconds the other side has to answer a request (governed).
    uint64 public window;

    mapping(bytes32 key => Request) private _requests;

    /// @notice Governance set bond and window.
    event DaConfigSet(uint128 bond, uint64 window);
    /// @notice `requester` asked for element `index` of task `taskId` (kind 1 outputs, 2 inputs) until `deadline`.
    event ElementRequested(
        uint256 indexed taskId, uint32 indexed index, address indexed requester, uint8 kind, uint64 deadline, uint256 bond
    );
    /// @notice Element `index`'s result, opened: its output tensors, 0x07 digest and trace root.
    event ElementOpened(
        uint256 indexed taskId, uint32 indexed index, bytes32 outputHash, IoCommitments.Tensor[] outputs
    );
    /// @notice Element `index`'s input tensors, published by the requester (0x06 digest checked against inputRoot).
    event InputOpened(uint256 indexed taskId, uint32 indexed index, bytes32 inputHash, IoCommitments.Tensor[] inputs);
    /// @notice A request expired unanswered: kind 1 invalidated the task, kind 2 cancelled it in the worker's favour.
    event RequestExpired(uint256 indexed taskId, uint32 indexed index, uint8 kind);

    /// @notice The task is not in the status the call needs.
    error DaUnexpectedTask(uint256 taskId, TaskMarket.TaskStatus status);
    /// @notice Index ≥ itemCount.
    error DaBadIndex(uint256 taskId, uint32 index, uint32 itemCount);
    /// @notice The challenge window of the task closed at `deadline`.
    error DaWindowClosed(uint256 taskId, uint64 deadline);
    /// @notice The element already has an open request.
    error DaAlreadyRequested(uint256 taskId, uint32 index);
    /// @notice No open request of this kind for the element.
    error DaNoRequest(uint256 taskId, uint32 index);
    /// @notice The request's answer window closed at `deadline` (answer) or is still open until it (settle).
    error DaDeadline(uint256 taskId, uint32 index, uint64 deadline);
    /// @notice The opened data does not match the task's committed root (`which`: 1 result, 2 input, 3 tensors).
    error DaBadOpening(uint256 taskId, uint32 index, uint8 which);
    /// @notice Only the task's worker may request inputs.
    error DaNotWorker(address caller);
    /// @notice A configuration value is zero.
    error DaBadConfig();

    /// @param governance_ Governance timelock.
    /// @param market_ The TaskMarket (set this module as its dataAvailability through governance).
    /// @param bond_ Element-request bond.
    /// @param window_ Answer window, seconds.
    constructor(address governance_, TaskMarket market_, uint128 bond_, uint64 window_) Governed(governance_) {
        market = market_;
        token = market_.token();
        _setConfig(bond_, window_);
    }

    /// @notice Sets the request bond and answer window (governance only). Open requests keep theirs.
    /// @param bond_ Bond, > 0.
    /// @param window_ Seconds, > 0.
    function setConfig(uint128 bond_, uint64 window_) external onlyGovernance {
        _setConfig(bond_, window_);
    }

    /// @notice Asks the worker to open element `index` of a committed task (during its challenge window), posting
    /// `bond` (approve this module). Holds the task's finalize until answered or settled.
    /// @param taskId The task.
    /// @param index The element.
    function requestElement(uint256 taskId, uint32 index) external nonReentrant {
        TaskMarket.Task memory t = market.getTask(taskId);
        if (t.status != TaskMarket.TaskStatus.Committed) revert DaUnexpectedTask(taskId, t.status);
        if (block.timestamp >= t.challengeDeadline) revert DaWindowClosed(taskId, t.challengeDeadline);
        uint128 b = bond;
        _open(taskId, index, t.itemCount, 1, b);
        token.safeTransferFrom(msg.sender, address(this), b);
    }

    /// @notice Worker (or anyone holding its data): opens a requested element — its output tensors and trace root,
    /// proven against the committed result root. The bond goes to the worker; the hold is released.
    /// @param taskId The task.
    /// @param index The element.
    /// @param outputs The element's output tensors (hashed here into its 0x07 digest).
    /// @param resultProof PositionalMerkle proof of resultLeaf(index, outputHash).
    function openElement(
        uint256 taskId,
        uint32 index,
        IoCommitments.Tensor[] calldata outputs,
        bytes32[] calldata resultProof
    ) external nonReentrant {
        Request storage r = _answerable(taskId, index, 1);
        TaskMarket.Task memory t = market.getTask(taskId);
        (bytes32 outputHash, bool ok,) = IoCommitments.digest(IoCommitments.PREFIX_OUTPUTS, outputs);
        if (!ok) revert DaBadOpening(taskId, index, 3);
        // INVARIANT: the opened element is exactly the committed leaf `index`.
        if (
            !PositionalMerkle.verify(
                resultProof, t.resultRoot, PositionalMerkle.resultLeaf(index, outputHash), index, t.itemCount
            )
        ) revert DaBadOpening(taskId, index, 1);
        r.open = false;
        emit ElementOpened(taskId, index, outputHash, outputs);
        if (t.status == TaskMarket.TaskStatus.Committed) market.setHold(taskId, false);
        token.safeTransfer(t.worker, r.bond);
    }

    /// @notice After an element request's window passed unanswered: invalidates the task (stake slashed, fee
    /// refunded), the requester gets the challenger share and its bond back. Anyone may call.
    /// @param taskId The task.
    /// @param index The element.
    function settleUnopened(uint256 taskId, uint32 index) external nonReentrant {
        Request storage r = _expired(taskId, index, 1);
        r.open = false;
        address requester = r.requester;
        emit RequestExpired(taskId, index, 1);
        address[] memory who = new address[](1);
        who[0] = requester;
        market.moduleInvalidate(taskId, who);
        token.safeTransfer(requester, r.bond);
    }

    /// @notice Worker of a claimed task: asks the requester to publish element `index`'s input tensors. Holds the
    /// task (it cannot be cancelled as expired meanwhile). No bond: the worker's stake is locked.
    /// @param taskId The task.
    /// @param index The element.
    function requestInput(uint256 taskId, uint32 index) external {
        TaskMarket.Task memory t = market.getTask(taskId);
        if (t.status != TaskMarket.TaskStatus.Claimed) revert DaUnexpectedTask(taskId, t.status);
        if (msg.sender != t.worker) revert DaNotWorker(msg.sender);
        _open(taskId, index, t.itemCount, 2, 0);
    }

    /// @notice Requester (or anyone): publishes element `index`'s input tensors, checked against the task's input root.
    /// @param taskId The task.
    /// @param index The element.
    /// @param inputs The element's input tensors (hashed here into its 0x06 digest).
    /// @param inputProof PositionalMerkle proof of inputLeaf(index, inputHash) (empty for one element).
    function publishInput(uint256 taskId, uint32 index, IoCommitments.Tensor[] calldata inputs, bytes32[] calldata inputProof)
        external
    {
        Request storage r = _answerable(taskId, index, 2);
        TaskMarket.Task memory t = market.getTask(taskId);
        (bytes32 inputHash, bool ok,) = IoCommitments.digest(IoCommitments.PREFIX_INPUTS, inputs);
        if (!ok) revert DaBadOpening(taskId, index, 3);
        // INVARIANT: the published input is exactly the committed leaf `index`.
        if (
            !PositionalMerkle.verify(
                inputProof, t.inputRoot, PositionalMerkle.inputLeaf(index, inputHash), index, t.itemCount
            )
        ) revert DaBadOpening(taskId, index, 2);
        r.open = false;
        emit InputOpened(taskId, index, inputHash, inputs);
        // The worker may have committed meanwhile: release the hold in either live status.
        if (t.status == TaskMarket.TaskStatus.Claimed || t.status == TaskMarket.TaskStatus.Committed) {
            market.setHold(taskId, false);
        }
    }

    /// @notice After an input request's window passed unanswered: cancels the task, releases the worker's stake and
    /// pays it the fee. Anyone may call.
    /// @param taskId The task.
    /// @param index The element.
    function settleInputWithheld(uint256 taskId, uint32 index) external nonReentrant {
        Request storage r = _expired(taskId, index, 2);
        r.open = false;
        emit RequestExpired(taskId, index, 2);
        TaskMarket.TaskStatus status = market.getTask(taskId).status;
        if (status == TaskMarket.TaskStatus.Claimed) market.moduleCancelWithheld(taskId);
        // The worker committed without the input: the request lapses and only the hold is released.
        else if (status == TaskMarket.TaskStatus.Committed) market.setHold(taskId, false);
    }

    /// @notice A request (kind 1 element, 2 input) of element `index` of task `taskId`.
    /// @param taskId The task.
    /// @param index The element.
    /// @param kind 1 or 2.
    /// @return The request (zero if none).
    function getRequest(uint256 taskId, uint32 index, uint8 kind) external view returns (Request memory) {
        return _requests[_key(taskId, index, kind)];
    }

    function _key(uint256 taskId, uint32 index, uint8 kind) private pure returns (bytes32) {
        return keccak256(abi.encode(taskId, index, kind));
    }

    function _open(uint256 taskId, uint32 index, uint32 itemCount, uint8 kind, uint128 b) private {
        if (index >= itemCount) revert DaBadIndex(taskId, index, itemCount);
        Request storage r = _requests[_key(taskId, index, kind)];
        // INVARIANT: one open request per element and kind (each one holds the task once); an input is requested at
        // most once, so a worker cannot hold a task's expiry by re-requesting.
        if (r.open || (kind == 2 && r.requester != address(0))) revert DaAlreadyRequested(taskId, index);
        uint64 deadline = uint64(block.timestamp) + window;
        _requests[_key(taskId, index, kind)] =
            Request({requester: msg.sender, deadline: deadline, kind: kind, open: true, bond: b});
        emit ElementRequested(taskId, index, msg.sender, kind, deadline, b);
        market.setHold(taskId, true);
    }

    function _answerable(uint256 taskId, uint32 index, uint8 kind) private view returns (Request storage r) {
        r = _requests[_key(taskId, index, kind)];
        if (!r.open) revert DaNoRequest(taskId, index);
        if (block.timestamp > r.deadline) revert DaDeadline(taskId, index, r.deadline);
    }

    function _expired(uint256 taskId, uint32 index, uint8 kind) private view returns (Request storage r) {
        r = _requests[_key(taskId, index, kind)];
        if (!r.open) revert DaNoRequest(taskId, index);
        if (block.timestamp <= r.deadline) revert DaDeadline(taskId, index, r.deadline);
    }

    function _setConfig(uint128 bond_, uint64 window_) private {
        if (bond_ == 0 || window_ == 0) revert DaBadConfig();
        bond = bond_;
        window = window_;
        emit DaConfigSet(bond_, window_);
    }
}
