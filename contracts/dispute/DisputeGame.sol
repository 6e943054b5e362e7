// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Governed} from "../common/Governed.sol";
import {IDisputeResolver} from "../interfaces/IDisputeResolver.sol";
import {IOneStepVerifier, OneStep, NodeProof} from "../interfaces/IOneStepVerifier.sol";
import {NodeHeader} from "../verifier/VerifierTypes.sol";
import {ProofLib} from "../verifier/lib/ProofLib.sol";
import {IoCommitments} from "../libraries/IoCommitments.sol";
import {DisputeCommitments as C} from "./DisputeCommitments.sol";

/// @title DisputeGame
/// @notice Verity's dispute game (docs/protocol.md §Dispute game). A claimant committed the outputs (`outputHash`) of
/// one run of the model `modelRoot` on the inputs `inputHash`; a challenger says they are wrong. The claimant's first
/// move reveals a trace whose first tensors hash to inputHash and last tensors to outputHash; its root `traceRoot` (the
/// Merkle root of every tensor root) is computed here, or must equal the root the game was opened / pinned with (an
/// audit answer, {pinTrace}). The trace is a function of (model, inputs), so a wrong output forces a first wrong
/// tensor whose inputs are all right: the step the bisection finds. The game works when the claimant
/// withholds all off-chain data: the claimant reveals its tensor roots, the challenger names the first tensor it
/// disagrees with, the claimant opens that tensor and the two bisect its word tree (the claimant reveals 2^s children
/// per move, the challenger picks one) down to one word; the challenger then has the one-step verifier recompute one
/// element of the node that wrote the tensor from the claimant's own inputs. Different value: challenger wins; equal:
/// claimant wins. Each side plays on its own chess clock; whoever lets its clock run out loses.
/// Both sides post `bond` in the bond token; the winner is credited both bonds (pull payment, {claimCredit}).
/// @dev Move order (phase → mover → move): AwaitRoots → claimant → {revealRoots}; AwaitTensor → challenger →
/// {disputeTensor}; AwaitTensorData → claimant → {revealTensor}; AwaitPick → challenger → {pick};
/// AwaitChildren → claimant → {bisect}; AwaitOneStep → challenger → {oneStep}; any unresolved phase → anyone →
/// {timeout} once the mover's clock has run out.
contract DisputeGame is IDisputeResolver, Governed, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Where a game stands; the phase says whose move it is.
    enum Phase {
        None, // no such game
        AwaitRoots, // claimant: reveal all tensor roots (and post its bond)
        AwaitTensor, // challenger: name the disputed tensor
        AwaitTensorData, // claimant: open the tensor (meta, data root, first children)
        AwaitPick, // challenger: pick one revealed child
        AwaitChildren, // claimant: reveal the picked node's children
        AwaitOneStep, // challenger: re-execute one element of the revealed leaf words, or open its partial sums
        Resolved,
        // Partial-sum sub-game (a reduction's element, docs/protocol.md §Partial sums); appended after Resolved so the
        // earlier codes never change.
        AwaitSumTotal, // claimant: open the element's accumulator (its total, checked against the element) + points
        AwaitSums, // claimant: reveal the accumulator at the points of the current term range
        AwaitSumPick, // challenger: pick the range between two revealed points it disputes
        AwaitSumStep // challenger: pick a range of ≤ SUM_CHUNK terms and have the verifier re-add it
    }

    /// @notice Why a game was decided.
    enum Reason {
        Timeout, // the mover's clock ran out
        TraceLength, // the claimant's trace count is not numInputs + nodeCount of the model
        Padding, // a word the claimant revealed has non-zero bytes past the tensor's data
        OneStep, // the one-step re-execution decided
        SumStep // the re-execution of one chunk of a reduction's terms decided
    }

    /// @notice One game. Solidity packs the fields into slots as drawn (bit 0 = least significant):
    /// ```
    /// slot 0  | claimant address (0..159) | lastMoveAt uint64 (160..223) | phase (224..231) | outcome (232..239) | claimantBonded (240..247) | stakeBacked (248..255) |
    /// slot 1  | challenger address (0..159) | claimantTimeLeft uint64 (160..223) | count uint32 (224..255) |
    /// slot 2  | bond uint96 (0..95) | challengerTimeLeft uint64 (96..159) | numInputs uint32 (160..191) | tensorId uint32 (192..223) | nodeIndex uint32 (224..255) |
    /// slot 3  | dtype (0..7) | levelsLeft (8..15) | pendingLevels (16..23) | numElements uint32 (24..55) | position uint32 (56..87) | op (88..95) | sumElement uint32 (96..127) | sumLo uint32 (128..159) | sumHi uint32 (160..191) | sumClaimed int64 (192..255) |
    /// slot 4  traceRoot   slot 5  modelRoot   slot 6  check   slot 7  node
    /// ```
    struct Game {
        address claimant;
        uint64 lastMoveAt; // timestamp of the last move (or of open): the mover's clock runs from here
        Phase phase;
        Outcome outcome;
        bool claimantBonded; // the claimant posted its bond (with revealRoots)
        bool stakeBacked; // opened by a market: the claimant's bond is its locked task stake (no liquid bond posted)
        address challenger;
        uint64 claimantTimeLeft; // seconds left on the claimant's clock at lastMoveAt
        uint32 count; // number of trace tensors (from revealRoots)
        uint96 bond; // each side's bond, fixed at open
        uint64 challengerTimeLeft;
        uint32 numInputs; // from revealRoots (bound by inputHash)
        uint32 tensorId; // the disputed tensor (from disputeTensor)
        uint32 nodeIndex; // the node writing it
        uint8 dtype; // dtype code of the disputed tensor (from the model's node header)
        uint8 levelsLeft; // height of the current bisection node above the leaves
        uint8 pendingLevels; // levels spanned by the children revealed last (children are 2^pendingLevels)
        uint32 numElements; // element count of the disputed tensor
        uint32 position; // index of the current bisection node within its level
        uint8 op; // op code of the node writing the disputed tensor
        // The partial-sum sub-game's {SumState} (from openSums), in slot 3 with the bisection state: openSums then
        // rewrites a slot disputeTensor created instead of creating one (20k gas).
        uint32 sumElement;
        uint32 sumLo;
        uint32 sumHi;
        int64 sumClaimed;
        bytes32 traceRoot; // pinned root (0 = none) until revealRoots, then the revealed trace's root
        bytes32 modelRoot;
        // AwaitRoots: keccak256(abi.encode(inputHash, outputHash)); from AwaitTensorData on:
        // keccak256(abi.encode(dtype, shape)) of the disputed tensor's meta in the model.
        bytes32 check;
        // AwaitTensorData: the claimant's tensorRoot of the disputed tensor; AwaitChildren: the current node's hash;
        // AwaitPick / AwaitOneStep: keccak256(abi.encodePacked(revealed children)).
        bytes32 node;
    }

    /// @notice The leaf words the claimant revealed last, re-supplied by the challenger, with its choice.
    struct LeafChoice {
        bytes32[] words; // exactly the words of the last ChildrenRevealed event
        uint256 pick; // which of them
        uint256 elementInWord; // which element of that word (< 32 / elementSize)
    }

    /// @notice The claimant's roots of the node's input tensors, in header order, each with its traceRoot proof.
    struct InputRoots {
        bytes32[] roots;
        bytes32[][] siblings; // siblings[k]: bottom-up proof of roots[k] at id header.inputs[k] in the trace tree
    }

    /// @notice A partial-sum sub-game: the disputed element and the claimant's term range [lo, hi) (A(lo) agreed or
    /// fixed by the model, A(hi) disputed). The claimant's A(lo), A(hi) and points are in `Game.node` as
    /// keccak256(abi.encode(sLo, sHi, points)).
    struct SumState {
        uint32 element; // the disputed element's index in the disputed tensor
        uint32 lo; // first term of the current range
        uint32 hi; // one past its last term (0 until the claimant opened the total)
        int64 claimed; // the claimant's value of the element (an i8 / u8 / i32)
    }

    // Codes of DisputeBadProof.which:
    /// @notice revealRoots / pinTrace: the roots do not hash to the pinned traceRoot (or a pin contradicts the trace).
    uint8 public constant PROOF_TRACE_ROOTS = 1;
    /// @notice revealRoots: the input / output roots do not hash to the committed inputHash / outputHash.
    uint8 public constant PROOF_IO = 2;
    /// @notice disputeTensor: the node proof does not hash to modelRoot.
    uint8 public constant PROOF_NODE = 3;
    /// @notice disputeTensor: the tensor root is not at that id in traceRoot.
    uint8 public constant PROOF_TENSOR_IN_TRACE = 4;
    /// @notice revealTensor: the meta is not the model's or the tensorRoot does not match.
    uint8 public constant PROOF_TENSOR_ROOT = 5;
    /// @notice revealTensor / bisect: the children do not hash to the current node.
    uint8 public constant PROOF_CHILDREN = 6;
    /// @notice pick / oneStep: the re-supplied children are not the revealed ones.
    uint8 public constant PROOF_REVEALED = 7;
    /// @notice oneStep: an input root is not at its id in traceRoot.
    uint8 public constant PROOF_INPUT_ROOT = 8;
    /// @notice oneStep: the node proof is for another node, or the verifier's output id is not the disputed tensor.
    uint8 public constant PROOF_ONE_STEP_NODE = 9;
    /// @notice openSums: the node's op is not a reduction.
    uint8 public constant PROOF_NOT_REDUCIBLE = 10;
    /// @notice revealSumTotal: the total does not finish to the claimed element.
    uint8 public constant PROOF_SUM_TOTAL = 11;
    /// @notice pickSum / sumStep: the re-supplied points are not the revealed ones.
    uint8 public constant PROOF_SUM_POINTS = 12;

    /// @notice Token both sides post their bonds in.
    IERC20 public immutable bondToken;
    /// @notice The one-step verifier (fixed: a new verifier means a new game contract).
    IOneStepVerifier public immutable verifier;
    /// @notice Tree levels the claimant opens per bisection move (the claimant reveals 2^levelsPerMove children).
    uint8 public immutable levelsPerMove;
    /// @notice Most tensor roots a trace may have (one revealRoots transaction must fit in a block).
    uint256 public constant MAX_TRACE_TENSORS = 4096;
    /// @notice The claimant splits a term range into SUM_ARITY parts per reveal (SUM_ARITY − 1 points). 20 (not 16):
    /// K = 768 ends in one round on parts of ≤ 39 terms, whose step stays under 200k gas (48 terms: 203k).
    uint256 public constant SUM_ARITY = 20;
    /// @notice The last re-execution adds at most SUM_CHUNK terms, whatever the reduction's length. 39, not 48: a
    /// 48-term chunk of a dot product costs up to 203k gas at its worst alignment, 39 terms ≤ 197,486 (bench:gas), so
    /// the contract itself keeps every sum step under 200k for any K (781–960 terms now bisect once more).
    uint256 public constant SUM_CHUNK = 39;
    uint256 private constant BPS = 10_000;

    /// @notice Bond each side posts (governed; fixed per game at open). Should cover the other side's move costs.
    uint96 public bond;
    /// @notice Total time budget of each side's chess clock, in seconds (governed; fixed per game at open).
    uint64 public clock;
    /// @notice Markets allowed to open games on behalf of a challenger.
    mapping(address market => bool) public isMarket;
    /// @notice Tokens credited to an account (won bonds), withdrawn with {claimCredit}.
    mapping(address account => uint256) public credit;
    /// @notice Share of the losing side's posted bond credited to {treasury} instead of the winner, in bps
    /// (governed; 0 until set). Makes a self-challenge (a puppet losing to its own worker) cost real money.
    uint16 public loserCutBps;
    /// @notice Receives the loser's cut.
    address public treasury;
    /// @notice Extra members of a market-opened game's challenger side (added by the market): any of them may make
    /// the challenger's moves, so a first challenger that goes silent cannot lose the game for the others.
    mapping(uint256 gameId => mapping(address member => bool)) public onChallengerSide;

    /// @dev Last game id + 1: starts at 1 (set at deployment) so the first game pays no zero-to-non-zero write.
    uint256 private _nextGameId = 1;
    mapping(uint256 gameId => Game) private _games;
    /// @notice Most trace tensors a game's claimant may reveal: numInputs + nodeCount of the task's registered model,
    /// set by the opening market ({boundTrace}); 0 = only MAX_TRACE_TENSORS.
    mapping(uint256 gameId => uint32) public traceBound;

    // ------------------------------------------------------------------ events

    /// @notice A market was allowed or disallowed to open games.
    event MarketSet(address indexed market, bool allowed);
    /// @notice The bond for new games changed.
    event BondSet(uint96 bond);
    /// @notice The clock budget for new games changed.
    event ClockSet(uint64 clock);
    /// @notice Game `gameId` was opened and the challenger's bond taken.
    event GameOpened(
        uint256 indexed gameId,
        bytes32 indexed taskKey,
        address indexed claimant,
        address challenger,
        address opener,
        bytes32 traceRoot,
        bytes32 modelRoot,
        bytes32 inputHash,
        bytes32 outputHash,
        uint96 bond,
        uint64 clock
    );
    /// @notice The claimant revealed all its tensor roots (checked against inputHash, outputHash and the pinned root,
    /// if any) and posted its bond.
    event RootsRevealed(uint256 indexed gameId, bytes32[] roots, uint32 numInputs, uint32 numOutputs);
    /// @notice The market pinned game `gameId`'s trace root (an audit answer on the element) before the reveal.
    event TracePinned(uint256 indexed gameId, bytes32 traceRoot);
    /// @notice The challenger disputed tensor `tensorId`, written by node `nodeIndex`; its word tree has `depth` levels.
    event TensorDisputed(
        uint256 indexed gameId, uint32 tensorId, uint32 nodeIndex, uint8 dtype, uint32 numElements, uint8 depth
    );
    /// @notice The claimant opened the disputed tensor: its data root (checked against the tensor's root).
    event TensorRevealed(uint256 indexed gameId, bytes32 dataRoot);
    /// @notice The claimant revealed the 2^levels descendants of node `position` at height `height`; `leaves` says
    /// they are leaf words (not hashes).
    event ChildrenRevealed(
        uint256 indexed gameId, uint8 height, uint32 position, uint8 levels, bool leaves, bytes32[] children
    );
    /// @notice The challenger picked child `index`; the bisection is now at node `position` of height `height`.
    event ChildPicked(uint256 indexed gameId, uint256 index, uint8 height, uint32 position);
    /// @notice The one-step verifier recomputed element `elementIndex` of the disputed tensor.
    event ElementChecked(uint256 indexed gameId, uint32 tensorId, uint256 elementIndex, int256 claimed, int256 computed);
    /// @notice The challenger opened the accumulator of element `elementIndex` (claimed `claimed`) of the disputed
    /// tensor instead of re-executing it whole.
    event SumsOpened(uint256 indexed gameId, uint256 elementIndex, int256 claimed);
    /// @notice The claimant revealed A(t) at the SUM_ARITY − 1 inner points t_i = lo + (hi − lo)·i / SUM_ARITY of
    /// the range [lo, hi) whose ends it claims are A(lo) = sLo, A(hi) = sHi.
    event SumsRevealed(uint256 indexed gameId, uint32 lo, uint32 hi, int256 sLo, int256 sHi, int256[] points);
    /// @notice The challenger picked part `index`: the range is now [lo, hi).
    event SumPicked(uint256 indexed gameId, uint256 index, uint32 lo, uint32 hi);
    /// @notice The verifier re-added terms [from, to) to the claimant's A(from): `computed`, against its A(to) `claimed`.
    event SumChecked(uint256 indexed gameId, uint256 from, uint256 to, int256 claimed, int256 computed);
    /// @notice The game was decided; `pot` (both bonds, or the challenger's alone if the claimant never posted) was
    /// credited to `winner`.
    event GameResolved(uint256 indexed gameId, Outcome outcome, Reason reason, address winner, uint256 pot);
    /// @notice `account` withdrew its credit.
    event CreditClaimed(address indexed account, uint256 amount);
    /// @notice The loser's cut changed.
    event LoserCutSet(uint16 bps, address treasury);
    /// @notice `member` joined the challenger side of game `gameId` (it may make the challenger's moves).
    event ChallengerAdded(uint256 indexed gameId, address indexed member);
    /// @notice The opening market bounded game `gameId`'s trace to `maxCount` tensors (the registered model's).
    event TraceBounded(uint256 indexed gameId, uint32 maxCount);
    /// @notice `cut` of the loser's bond in game `gameId` was credited to the treasury.
    event LoserCutTaken(uint256 indexed gameId, address treasury, uint256 cut);

    // ------------------------------------------------------------------ errors

    /// @notice The game does not exist.
    error DisputeUnknownGame(uint256 gameId);
    /// @notice The game is already decided.
    error DisputeAlreadyResolved(uint256 gameId);
    /// @notice `mover` may not make this move now (not its side, or the other side's turn).
    error DisputeNotYourTurn(uint256 gameId, address mover);
    /// @notice It is the caller's turn, but the game expects another move (`phase`).
    error DisputeWrongMove(uint256 gameId, Phase phase);
    /// @notice The mover's clock ran out at `deadline`; the opponent may call {timeout}.
    error DisputeClockExpired(uint256 gameId, address mover, uint256 deadline);
    /// @notice {timeout} before the mover's clock ran out (it runs out after `deadline`).
    error DisputeClockNotExpired(uint256 gameId, uint256 deadline);
    /// @notice A proof or revealed value did not check (`which`: one of the PROOF_* codes).
    error DisputeBadProof(uint256 gameId, uint8 which);
    /// @notice An index or count argument is out of range: `index` must be < `limit` (or ≤ for counts).
    error DisputeBadIndex(uint256 gameId, uint256 index, uint256 limit);
    /// @notice The caller may not open games (not a market, not the challenger itself).
    error DisputeUnauthorizedOpener(address caller);
    /// @notice Claimant or challenger is zero, or they are the same account.
    error DisputeBadParties(address claimant, address challenger);
    /// @notice The account has no credit.
    error DisputeNothingToClaim(address account);
    /// @notice A governed parameter or constructor argument is out of range.
    error DisputeBadParameter();

    /// @param governance_ The governance timelock (owns bond, clock and the market list).
    /// @param bondToken_ Token the bonds are posted in.
    /// @param verifier_ The one-step verifier.
    /// @param bond_ Initial bond per side.
    /// @param clock_ Initial per-side clock budget (seconds).
    /// @param levelsPerMove_ Tree levels opened per bisection move, 1..4 (2^levelsPerMove children per move).
    constructor(
        address governance_,
        IERC20 bondToken_,
        IOneStepVerifier verifier_,
        uint96 bond_,
        uint64 clock_,
        uint8 levelsPerMove_
    ) Governed(governance_) {
        if (
            address(bondToken_) == address(0) || address(verifier_) == address(0) || bond_ == 0 || clock_ == 0
                || levelsPerMove_ == 0 || levelsPerMove_ > 4
        ) revert DisputeBadParameter();
        bondToken = bondToken_;
        verifier = verifier_;
        levelsPerMove = levelsPerMove_;
        bond = bond_;
        clock = clock_;
    }

    // ------------------------------------------------------------------ governance

    /// @notice Allows or disallows a market to open games (governance only).
    /// @param market The TaskMarket.
    /// @param allowed Whether it may open games.
    function setMarket(address market, bool allowed) external onlyGovernance {
        if (market == address(0)) revert DisputeBadParameter();
        isMarket[market] = allowed;
        emit MarketSet(market, allowed);
    }

    /// @notice Sets the bond of new games (governance only). Open games keep theirs.
    /// @param bond_ Bond per side, > 0.
    function setBond(uint96 bond_) external onlyGovernance {
        if (bond_ == 0) revert DisputeBadParameter();
        bond = bond_;
        emit BondSet(bond_);
    }

    /// @notice Sets the per-side clock budget of new games (governance only). Open games keep theirs.
    /// @param clock_ Seconds, > 0.
    function setClock(uint64 clock_) external onlyGovernance {
        if (clock_ == 0) revert DisputeBadParameter();
        clock = clock_;
        emit ClockSet(clock_);
    }

    /// @notice Sets the share of the losing side's bond that goes to `treasury_` (governance only). Open games are
    /// settled with the values at their resolution (the cut only moves bond money, never stake or fees).
    /// @param bps Share in bps, ≤ 5000 (the winner always gets most of the loser's bond).
    /// @param treasury_ Receiver (non-zero when bps > 0).
    function setLoserCut(uint16 bps, address treasury_) external onlyGovernance {
        if (bps > 5_000 || (bps != 0 && treasury_ == address(0))) revert DisputeBadParameter();
        loserCutBps = bps;
        treasury = treasury_;
        emit LoserCutSet(bps, treasury_);
    }

    // ------------------------------------------------------------------ open

    /// @inheritdoc IDisputeResolver
    /// @dev Callable by an allowed market or by the challenger itself. Takes the challenger's bond with
    /// transferFrom (the challenger approves this contract). For the game, `inputHash` must be
    /// keccak256(0x06 ‖ uint32 numInputs ‖ tensorRoot of each input) and `outputHash`
    /// keccak256(0x07 ‖ uint32 numOutputs ‖ tensorRoot of each output, the last numOutputs trace tensors).
    /// `claimedRoot` is an optional pin: 0 = the game takes the root of the trace the claimant reveals; non-zero = the
    /// revealed trace must hash to it (the market passes an element's audit-answer pin).
    function open(
        bytes32 taskKey,
        address claimant,
        address challenger,
        bytes32 claimedRoot,
        bytes32 modelRoot,
        bytes32 inputHash,
        bytes32 outputHash
    ) external nonReentrant returns (uint256 gameId) {
        // INVARIANT: only a governance-allowed market, or the challenger for itself, can make a challenger pay.
        if (!isMarket[msg.sender] && msg.sender != challenger) revert DisputeUnauthorizedOpener(msg.sender);
        // INVARIANT: the two sides are distinct real accounts (a game always has exactly one winner to pay).
        if (claimant == address(0) || challenger == address(0) || claimant == challenger) {
            revert DisputeBadParties(claimant, challenger);
        }
        gameId = _nextGameId++;
        Game storage g = _games[gameId];
        uint96 b = bond;
        uint64 c = clock;
        g.claimant = claimant;
        g.lastMoveAt = uint64(block.timestamp);
        g.phase = Phase.AwaitRoots;
        g.challenger = challenger;
        g.claimantTimeLeft = c;
        g.bond = b;
        g.challengerTimeLeft = c;
        if (claimedRoot != bytes32(0)) g.traceRoot = claimedRoot; // a fresh slot is already 0
        g.modelRoot = modelRoot;
        g.check = keccak256(abi.encode(inputHash, outputHash));
        // A market backs the claimant's side with the worker's locked task stake: the claimant posts no liquid bond,
        // so any number of games cannot run an honest worker out of bonds (docs/protocol.md §Adversary, attack 2).
        g.stakeBacked = isMarket[msg.sender];
        emit GameOpened(
            gameId, taskKey, claimant, challenger, msg.sender, claimedRoot, modelRoot, inputHash, outputHash, b, c
        );
        bondToken.safeTransferFrom(challenger, address(this), b);
    }

    /// @inheritdoc IDisputeResolver
    /// @dev Only a market, only for a game it opened (stake-backed), only while the game is undecided.
    function addChallenger(uint256 gameId, address member) external {
        Game storage g = _games[gameId];
        // INVARIANT: only a governance-allowed market adds members, and only to market-opened games.
        if (!isMarket[msg.sender] || !g.stakeBacked) revert DisputeUnauthorizedOpener(msg.sender);
        // INVARIANT: members join undecided games only.
        if (g.phase == Phase.Resolved) revert DisputeAlreadyResolved(gameId);
        // INVARIANT: the claimant can never play for the challenger side.
        if (member == address(0) || member == g.claimant) revert DisputeBadParties(g.claimant, member);
        onChallengerSide[gameId][member] = true;
        emit ChallengerAdded(gameId, member);
    }

    /// @notice Market, right after {open}: bounds the game's trace to the registered model's numInputs + nodeCount
    /// tensors, so a claimant cannot reveal a longer trace (docs/protocol.md §Adversary rule 7).
    /// @param gameId A market-opened game still awaiting the claimant's roots.
    /// @param maxCount Most trace tensors (> 0).
    function boundTrace(uint256 gameId, uint32 maxCount) external {
        Game storage g = _games[gameId];
        // INVARIANT: only a governance-allowed market bounds, only games it opened (stake-backed), before the reveal.
        if (!isMarket[msg.sender] || !g.stakeBacked) revert DisputeUnauthorizedOpener(msg.sender);
        if (g.phase != Phase.AwaitRoots || maxCount == 0) revert DisputeBadParameter();
        traceBound[gameId] = maxCount;
        emit TraceBounded(gameId, maxCount);
    }

    /// @notice Market: binds a game it opened to the trace root the claimant answered an audit with. Before the
    /// reveal the pin is stored and the reveal must hash to it; after the reveal it must equal the revealed root; a
    /// game decided before any reveal ignores it.
    /// @param gameId A market-opened game.
    /// @param traceRoot The pinned root (non-zero).
    function pinTrace(uint256 gameId, bytes32 traceRoot) external {
        Game storage g = _games[gameId];
        // INVARIANT: only a governance-allowed market pins, only games it opened (stake-backed).
        if (!isMarket[msg.sender] || !g.stakeBacked) revert DisputeUnauthorizedOpener(msg.sender);
        if (traceRoot == bytes32(0)) revert DisputeBadParameter();
        bytes32 current = g.traceRoot;
        if (g.phase == Phase.AwaitRoots) {
            // INVARIANT: a pin never replaces a different pin.
            if (current != bytes32(0) && current != traceRoot) revert DisputeBadProof(gameId, PROOF_TRACE_ROOTS);
            g.traceRoot = traceRoot;
            emit TracePinned(gameId, traceRoot);
        } else if (g.count != 0) {
            // INVARIANT: once the claimant revealed a trace, it may not answer an audit with another one.
            if (current != traceRoot) revert DisputeBadProof(gameId, PROOF_TRACE_ROOTS);
        }
    }

    // ------------------------------------------------------------------ moves

    /// @notice Claimant, first move: reveals the tensorRoot of every trace tensor and posts the claimant's bond
    /// (transferFrom: approve this contract first). The roots are emitted, not stored.
    /// @param gameId The game.
    /// @param roots tensorRoot(trace[id]) for every id, in id order (inputs first).
    /// @param numInputs How many leading tensors are the model inputs (hashed into inputHash).
    /// @param numOutputs How many trailing tensors are the model outputs (hashed into outputHash).
    function revealRoots(uint256 gameId, bytes32[] calldata roots, uint32 numInputs, uint32 numOutputs)
        external
        nonReentrant
    {
        Game storage g = _startMove(gameId, Phase.AwaitRoots);
        uint256 count = roots.length;
        // INVARIANT: the trace is non-empty and small enough to reveal in one transaction.
        if (count == 0 || count > MAX_TRACE_TENSORS) revert DisputeBadIndex(gameId, count, MAX_TRACE_TENSORS);
        uint256 cap = traceBound[gameId];
        // INVARIANT: the trace is no longer than the registered model's (numInputs + nodeCount, when the market set it).
        if (cap != 0 && count > cap) revert DisputeBadIndex(gameId, count, cap);
        // INVARIANT: inputs and outputs are disjoint runs of the trace, at least one node output in between or at
        // the end (a trace with no node output has nothing to dispute).
        if (numInputs == 0 || numOutputs == 0 || uint256(numInputs) + numOutputs > count) {
            revert DisputeBadIndex(gameId, uint256(numInputs) + numOutputs, count);
        }
        bytes32 traceRoot = ProofLib.listRoot(ProofLib.PREFIX_TRACE, count, ProofLib.rootOfWordsCalldata(roots));
        bytes32 pinned = g.traceRoot;
        // INVARIANT: a pinned game (opened with a root, or pinned by an audit answer) accepts exactly that trace
        // (count bound in the root); an unpinned one takes the revealed trace's root for every later proof.
        if (pinned != bytes32(0) && traceRoot != pinned) revert DisputeBadProof(gameId, PROOF_TRACE_ROOTS);
        // INVARIANT: the trace's inputs are the task's committed inputs and its outputs the claimed outputs, so
        // no input tensor is ever disputed and a correct trace with a wrong claimed output cannot be defended.
        bytes32 inDigest = keccak256(abi.encodePacked(IoCommitments.PREFIX_INPUTS, numInputs, roots[:numInputs]));
        bytes32 outDigest =
            keccak256(abi.encodePacked(IoCommitments.PREFIX_OUTPUTS, numOutputs, roots[count - numOutputs:]));
        if (keccak256(abi.encode(inDigest, outDigest)) != g.check) revert DisputeBadProof(gameId, PROOF_IO);

        g.count = uint32(count);
        g.numInputs = numInputs;
        if (pinned == bytes32(0)) g.traceRoot = traceRoot;
        g.phase = Phase.AwaitTensor;
        bool backed = g.stakeBacked;
        if (!backed) g.claimantBonded = true;
        emit RootsRevealed(gameId, roots, numInputs, numOutputs);
        if (!backed) bondToken.safeTransferFrom(msg.sender, address(this), g.bond);
    }

    /// @notice Challenger: names the disputed tensor (the first node output it disagrees with), proves the
    /// claimant's root of it in traceRoot, and proves the node that writes it in modelRoot. If the node proof shows
    /// the claimant's trace does not have numInputs + nodeCount tensors, the challenger wins at once.
    /// @param gameId The game.
    /// @param tensorId The disputed tensor id (numInputs ≤ tensorId < count).
    /// @param tensorRoot_ The claimant's tensorRoot of it (from RootsRevealed).
    /// @param siblings Bottom-up proof of tensorRoot_ at tensorId in the trace tree.
    /// @param node Proof of node tensorId − numInputs in modelRoot (header, param roots, siblings).
    function disputeTensor(
        uint256 gameId,
        uint256 tensorId,
        bytes32 tensorRoot_,
        bytes32[] calldata siblings,
        NodeProof calldata node
    ) external {
        Game storage g = _startMove(gameId, Phase.AwaitTensor);
        NodeHeader memory h = _checkNode(gameId, g.modelRoot, node);
        uint256 count = g.count;
        uint256 numInputs = g.numInputs;
        // INVARIANT: a trace holds exactly one tensor per model input and per node; the claimant committed to
        // numInputs, and a proven node proof fixes nodeCount, so any other count is the claimant's fault.
        if (numInputs + node.count != count) {
            _resolve(gameId, g, Outcome.ChallengerWon, Reason.TraceLength);
            return;
        }
        // INVARIANT: only node outputs are disputed (inputs were checked against inputHash in revealRoots).
        if (tensorId < numInputs || tensorId >= count) revert DisputeBadIndex(gameId, tensorId, count);
        // INVARIANT: the node is the one writing the disputed tensor (trace id = numInputs + node index).
        if (h.output != tensorId || node.index + numInputs != tensorId) {
            revert DisputeBadProof(gameId, PROOF_NODE);
        }
        // INVARIANT: the disputed root is the claimant's committed root of that tensor.
        if (!C.isTraceTensor(g.traceRoot, count, tensorId, tensorRoot_, siblings)) {
            revert DisputeBadProof(gameId, PROOF_TENSOR_IN_TRACE);
        }
        uint8 dtype = h.outputMeta.dtype;
        uint256 es = C.elementSize(dtype);
        // INVARIANT: the model's output meta is well formed (a committed header of a registered model).
        if (es == 0) revert DisputeBadProof(gameId, PROOF_NODE);
        uint256 n = C.elementCount(h.outputMeta.shape);
        uint256 d = ProofLib.depthOf(ProofLib.leafCountOf(n, es));

        g.tensorId = uint32(tensorId);
        g.nodeIndex = uint32(node.index);
        g.dtype = dtype;
        g.numElements = uint32(n);
        g.levelsLeft = uint8(d);
        g.position = 0;
        g.op = h.op;
        g.check = keccak256(abi.encode(dtype, h.outputMeta.shape));
        g.node = tensorRoot_;
        g.phase = Phase.AwaitTensorData;
        emit TensorDisputed(gameId, uint32(tensorId), uint32(node.index), dtype, uint32(n), uint8(d));
    }

    /// @notice Claimant: opens the disputed tensor — its meta (must be the model's), its data root (must give the
    /// committed tensorRoot) — and reveals the first 2^s descendants of the data root (s = min(levelsPerMove,
    /// depth)); at the last level they are the leaf words themselves.
    /// @param gameId The game.
    /// @param dtype Dtype code of the tensor.
    /// @param shape Stored shape of the tensor.
    /// @param dataRoot Merkle root of the tensor's element words.
    /// @param children The 2^s descendants of dataRoot, left to right (words if they are leaves).
    function revealTensor(
        uint256 gameId,
        uint8 dtype,
        uint32[] calldata shape,
        bytes32 dataRoot,
        bytes32[] calldata children
    ) external {
        Game storage g = _startMove(gameId, Phase.AwaitTensorData);
        // INVARIANT: the opened meta is the model's meta for the tensor and, with dataRoot, hashes to the
        // claimant's committed tensorRoot (a root with any other meta can never be opened).
        if (keccak256(abi.encode(dtype, shape)) != g.check || C.tensorRoot(dtype, shape, dataRoot) != g.node) {
            revert DisputeBadProof(gameId, PROOF_TENSOR_ROOT);
        }
        emit TensorRevealed(gameId, dataRoot);
        _acceptChildren(gameId, g, dataRoot, children);
    }

    /// @notice Challenger: picks one of the children the claimant revealed last (not leaf words: use {oneStep}).
    /// @param gameId The game.
    /// @param children Exactly the children of the last ChildrenRevealed event.
    /// @param index Which child to descend into.
    function pick(uint256 gameId, bytes32[] calldata children, uint256 index) external {
        Game storage g = _startMove(gameId, Phase.AwaitPick);
        // INVARIANT: the challenger picks among the hashes the claimant committed to.
        if (keccak256(abi.encodePacked(children)) != g.node) revert DisputeBadProof(gameId, PROOF_REVEALED);
        // INVARIANT: the pick is one of the revealed children.
        if (index >= children.length) revert DisputeBadIndex(gameId, index, children.length);
        uint8 levels = g.pendingLevels;
        uint8 height = g.levelsLeft - levels;
        uint32 position = uint32((uint256(g.position) << levels) | index);
        g.node = children[index];
        g.levelsLeft = height;
        g.position = position;
        g.phase = Phase.AwaitChildren;
        emit ChildPicked(gameId, index, height, position);
    }

    /// @notice Claimant: reveals the next 2^s descendants of the picked node (words at the last level).
    /// @param gameId The game.
    /// @param children The descendants, left to right.
    function bisect(uint256 gameId, bytes32[] calldata children) external {
        Game storage g = _startMove(gameId, Phase.AwaitChildren);
        _acceptChildren(gameId, g, g.node, children);
    }

    /// @notice Challenger, last move: picks one revealed leaf word and one element in it, and has the one-step
    /// verifier recompute that element of the disputed tensor from the node's committed header and params and the
    /// claimant's own input tensors. Different from the claimant's element: challenger wins; equal: claimant wins.
    /// @param gameId The game.
    /// @param leaf The revealed words, the chosen word and the element in it.
    /// @param step The one-step proof (node proof, input and param multiproofs, outputIndex = the element index).
    /// @param inputs The claimant's roots of the node's input tensors with their traceRoot proofs.
    function oneStep(uint256 gameId, LeafChoice calldata leaf, OneStep calldata step, InputRoots calldata inputs)
        external
    {
        Game storage g = _startMove(gameId, Phase.AwaitOneStep);
        (uint256 e, int256 claimed) = _chosenElement(gameId, g, leaf);
        // INVARIANT: the step is about the disputed element of the node that writes the disputed tensor.
        if (step.outputIndex != e) revert DisputeBadIndex(gameId, step.outputIndex, e + 1);
        if (step.node.index != g.nodeIndex) revert DisputeBadProof(gameId, PROOF_ONE_STEP_NODE);
        // Static call: the verifier checks the node header and params in modelRoot and the input elements against
        // inputs.roots; it cannot change state. Its result is used only after the checks below.
        (uint256 outputTensorId, int256 computed) = verifier.computeElement(g.modelRoot, inputs.roots, step);
        // INVARIANT: the verifier recomputed the disputed tensor.
        if (outputTensorId != g.tensorId) revert DisputeBadProof(gameId, PROOF_ONE_STEP_NODE);
        _checkInputRoots(gameId, g, step.node.header, inputs);

        emit ElementChecked(gameId, g.tensorId, e, claimed, computed);
        _resolve(gameId, g, computed == claimed ? Outcome.ClaimantWon : Outcome.ChallengerWon, Reason.OneStep);
    }

    /// @notice Challenger, instead of {oneStep} on an element of a reduction (Linear, Conv, MatMul, …): picks one
    /// revealed element and opens the partial-sum sub-game on its accumulator (docs/protocol.md §Partial sums), so the
    /// last re-execution adds at most SUM_CHUNK terms however long the reduction is.
    /// @param gameId The game.
    /// @param leaf The revealed words, the chosen word and the element in it.
    function openSums(uint256 gameId, LeafChoice calldata leaf) external {
        Game storage g = _startMove(gameId, Phase.AwaitOneStep);
        (uint256 e, int256 claimed) = _chosenElement(gameId, g, leaf);
        // INVARIANT: only a reduction has partial sums; the claimant of any other op could not answer.
        if (!verifier.reducible(g.op)) revert DisputeBadProof(gameId, PROOF_NOT_REDUCIBLE);
        g.sumElement = uint32(e); // sumLo, sumHi are still 0: the sub-game opens once per game
        g.sumClaimed = int64(claimed);
        g.phase = Phase.AwaitSumTotal;
        emit SumsOpened(gameId, e, claimed);
    }

    /// @notice Claimant: opens the chosen element's accumulator. The verifier gives its term count T and A(0) from
    /// the node's committed params and checks that finishing from `total` = A(T) gives the claimed element; the
    /// claimant also reveals the first points over [0, T).
    /// @param gameId The game.
    /// @param step Node proof and the param proofs the element's init and finish read (outputIndex = the element).
    /// @param total The claimant's A(T).
    /// @param points A(t_i) at t_i = T·i / SUM_ARITY, i = 1 … SUM_ARITY − 1.
    function revealSumTotal(uint256 gameId, OneStep calldata step, int256 total, int256[] calldata points) external {
        Game storage g = _startMove(gameId, Phase.AwaitSumTotal);
        uint256 element = g.sumElement;
        // INVARIANT: the accumulator opened is the chosen element's, of the node writing the disputed tensor.
        if (step.outputIndex != element) revert DisputeBadIndex(gameId, step.outputIndex, element + 1);
        if (step.node.index != g.nodeIndex) revert DisputeBadProof(gameId, PROOF_ONE_STEP_NODE);
        (uint256 outId, uint256 terms, int256 init, int256 value) = verifier.openReduction(g.modelRoot, step, total);
        if (outId != g.tensorId) revert DisputeBadProof(gameId, PROOF_ONE_STEP_NODE);
        // INVARIANT: the claimed total finishes to the claimed element, so a wrong element has a wrong total.
        if (value != g.sumClaimed) revert DisputeBadProof(gameId, PROOF_SUM_TOTAL);
        // INVARIANT: term indices fit the state (a committed header's reduction length is < 2^32).
        if (terms == 0 || terms > type(uint32).max) revert DisputeBadIndex(gameId, terms, type(uint32).max);
        g.sumHi = uint32(terms);
        _acceptPoints(gameId, g, 0, terms, init, total, points);
    }

    /// @notice Claimant: reveals A(t_i) at t_i = lo + (hi − lo)·i / SUM_ARITY, i = 1 … SUM_ARITY − 1, of the current
    /// range [lo, hi).
    /// @param gameId The game.
    /// @param sLo The claimant's A(lo) (the value it revealed there before).
    /// @param sHi The claimant's A(hi).
    /// @param points The SUM_ARITY − 1 values.
    function revealSums(uint256 gameId, int256 sLo, int256 sHi, int256[] calldata points) external {
        Game storage g = _startMove(gameId, Phase.AwaitSums);
        // INVARIANT: the range's ends are the values the claimant revealed for them before.
        if (_pair(sLo, sHi) != g.check) revert DisputeBadProof(gameId, PROOF_SUM_POINTS);
        _acceptPoints(gameId, g, g.sumLo, g.sumHi, sLo, sHi, points);
    }

    /// @notice Challenger: picks part `index` of the revealed range (the first whose right end it disputes).
    /// @param gameId The game.
    /// @param points The points of the last SumsRevealed event.
    /// @param index Which part, < SUM_ARITY.
    /// @param sLo The claimant's A(lo) of the range (from the same event).
    /// @param sHi The claimant's A(hi).
    function pickSum(uint256 gameId, int256[] calldata points, uint256 index, int256 sLo, int256 sHi) external {
        Game storage g = _startMove(gameId, Phase.AwaitSumPick);
        (uint256 from, uint256 to, int256 a, int256 b) = _part(gameId, g, points, index, sLo, sHi);
        g.sumLo = uint32(from);
        g.sumHi = uint32(to);
        g.check = _pair(a, b);
        g.phase = Phase.AwaitSums;
        emit SumPicked(gameId, index, uint32(from), uint32(to));
    }

    /// @notice Challenger, last move of the sub-game: picks part `index` (at most SUM_CHUNK terms) and has the verifier
    /// add its terms to the claimant's A(from). Different from the claimant's A(to): challenger wins; equal: claimant.
    /// @param gameId The game.
    /// @param points The points of the last SumsRevealed event.
    /// @param index Which part, < SUM_ARITY.
    /// @param sLo The claimant's A(lo) of the range (from the same event).
    /// @param sHi The claimant's A(hi).
    /// @param step The proofs of the input and param elements terms [from, to) read (outputIndex = the element).
    /// @param inputs The claimant's roots of the node's input tensors with their traceRoot proofs.
    function sumStep(
        uint256 gameId,
        int256[] calldata points,
        uint256 index,
        int256 sLo,
        int256 sHi,
        OneStep calldata step,
        InputRoots calldata inputs
    ) external {
        Game storage g = _startMove(gameId, Phase.AwaitSumStep);
        (uint256 from, uint256 to, int256 a, int256 b) = _part(gameId, g, points, index, sLo, sHi);
        int256 computed = a + _partialSum(gameId, g, step, inputs, from, to, a);
        emit SumChecked(gameId, from, to, b, computed);
        _resolve(gameId, g, computed == b ? Outcome.ClaimantWon : Outcome.ChallengerWon, Reason.SumStep);
    }

    /// @dev The verifier's Σ of terms [from, to) of the disputed element, from the claimant's proven input roots; `left`
    /// is the claimant's A(from), whose fixed fields (Softmax's stated row max) the terms read.
    function _partialSum(
        uint256 gameId,
        Game storage g,
        OneStep calldata step,
        InputRoots calldata inputs,
        uint256 from,
        uint256 to,
        int256 left
    ) private view returns (int256 sum) {
        uint256 e = g.sumElement;
        // INVARIANT: the step re-adds terms of the disputed element of the node that writes the disputed tensor.
        if (step.outputIndex != e) revert DisputeBadIndex(gameId, step.outputIndex, e + 1);
        if (step.node.index != g.nodeIndex) revert DisputeBadProof(gameId, PROOF_ONE_STEP_NODE);
        uint256 outId;
        (outId, sum) = verifier.computePartial(g.modelRoot, inputs.roots, step, from, to, left);
        if (outId != g.tensorId) revert DisputeBadProof(gameId, PROOF_ONE_STEP_NODE);
        _checkInputRoots(gameId, g, step.node.header, inputs);
    }

    /// @notice Decides a game whose mover let its clock run out: the other side wins. Callable by anyone.
    /// @param gameId The game.
    function timeout(uint256 gameId) external {
        Game storage g = _games[gameId];
        Phase phase = g.phase;
        // INVARIANT: only existing, undecided games time out.
        if (phase == Phase.None) revert DisputeUnknownGame(gameId);
        if (phase == Phase.Resolved) revert DisputeAlreadyResolved(gameId);
        bool claimantToMove = _claimantMoves(phase);
        uint256 deadline = uint256(g.lastMoveAt) + (claimantToMove ? g.claimantTimeLeft : g.challengerTimeLeft);
        // INVARIANT: a side loses on time only strictly after its deadline (a move at the deadline is allowed).
        if (block.timestamp <= deadline) revert DisputeClockNotExpired(gameId, deadline);
        _resolve(gameId, g, claimantToMove ? Outcome.ChallengerWon : Outcome.ClaimantWon, Reason.Timeout);
    }

    /// @notice Withdraws the caller's credit (bonds won).
    function claimCredit() external nonReentrant {
        uint256 amount = credit[msg.sender];
        // INVARIANT: nothing to pay out means no transfer.
        if (amount == 0) revert DisputeNothingToClaim(msg.sender);
        credit[msg.sender] = 0;
        emit CreditClaimed(msg.sender, amount);
        bondToken.safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IDisputeResolver
    /// @dev The challenger side's first move is {disputeTensor} (it sets tensorId ≥ numInputs ≥ 1, or decides the
    /// game for the challenger on a wrong trace length).
    function contested(uint256 gameId) external view returns (bool) {
        Game storage g = _games[gameId];
        if (g.phase == Phase.None) revert DisputeUnknownGame(gameId);
        return g.tensorId != 0 || g.outcome == Outcome.ChallengerWon;
    }

    /// @inheritdoc IDisputeResolver
    function outcome(uint256 gameId) external view returns (Outcome) {
        Game storage g = _games[gameId];
        if (g.phase == Phase.None) revert DisputeUnknownGame(gameId);
        return g.outcome;
    }

    /// @notice The full state of a game.
    /// @param gameId The game.
    /// @return The game (phase None if it does not exist).
    function game(uint256 gameId) external view returns (Game memory) {
        return _games[gameId];
    }

    /// @notice The partial-sum sub-game of a game (all zero unless the challenger opened one).
    /// @param gameId The game.
    /// @return The disputed element, the current term range [lo, hi) and the claimed element value.
    function sumState(uint256 gameId) external view returns (SumState memory) {
        Game storage g = _games[gameId];
        return SumState({element: g.sumElement, lo: g.sumLo, hi: g.sumHi, claimed: g.sumClaimed});
    }

    /// @notice Number of games opened so far (ids are 1..gameCount).
    /// @return The count.
    function gameCount() external view returns (uint256) {
        return _nextGameId - 1;
    }

    /// @notice Who must move next and until when (inclusive) its clock allows it.
    /// @param gameId The game.
    /// @return mover The side to move (zero if the game is decided or unknown).
    /// @return deadline Last timestamp at which the mover may still move.
    function turn(uint256 gameId) external view returns (address mover, uint256 deadline) {
        Game storage g = _games[gameId];
        Phase phase = g.phase;
        if (phase == Phase.None || phase == Phase.Resolved) return (address(0), 0);
        bool c = _claimantMoves(phase);
        mover = c ? g.claimant : g.challenger;
        deadline = uint256(g.lastMoveAt) + (c ? g.claimantTimeLeft : g.challengerTimeLeft);
    }

    /// @notice Bonds the game currently holds (0 once decided: they were credited to the winner).
    /// @param gameId The game.
    /// @return The amount.
    function bondsHeld(uint256 gameId) external view returns (uint256) {
        Game storage g = _games[gameId];
        if (g.phase == Phase.None || g.phase == Phase.Resolved) return 0;
        return g.claimantBonded ? 2 * uint256(g.bond) : g.bond;
    }

    // ------------------------------------------------------------------ internals

    function _claimantMoves(Phase phase) private pure returns (bool) {
        return phase == Phase.AwaitRoots || phase == Phase.AwaitTensorData || phase == Phase.AwaitChildren
            || phase == Phase.AwaitSumTotal || phase == Phase.AwaitSums;
    }

    function _pair(int256 a, int256 b) private pure returns (bytes32 w) {
        // Binds A(lo), A(hi) of the picked range; the claimant re-supplies them with its next reveal.
        w = keccak256(abi.encode(a, b));
    }

    /// @dev Records the claimant's points over [lo, hi) with its ends sLo, sHi and moves to the challenger's pick (or
    /// its last step once every part has at most SUM_CHUNK terms).
    function _acceptPoints(
        uint256 gameId,
        Game storage g,
        uint256 lo,
        uint256 hi,
        int256 sLo,
        int256 sHi,
        int256[] calldata points
    ) private {
        // INVARIANT: the claimant reveals exactly one value per inner point.
        if (points.length != SUM_ARITY - 1) revert DisputeBadIndex(gameId, points.length, SUM_ARITY - 1);
        g.node = keccak256(abi.encode(sLo, sHi, points));
        g.phase = (hi - lo + SUM_ARITY - 1) / SUM_ARITY <= SUM_CHUNK ? Phase.AwaitSumStep : Phase.AwaitSumPick;
        emit SumsRevealed(gameId, uint32(lo), uint32(hi), sLo, sHi, points);
    }

    /// @dev Part `index` of the revealed range: its terms [from, to) and the claimant's A(from), A(to).
    function _part(uint256 gameId, Game storage g, int256[] calldata points, uint256 index, int256 sLo, int256 sHi)
        private
        view
        returns (uint256 from, uint256 to, int256 a, int256 b)
    {
        // INVARIANT: the challenger picks among the values the claimant committed to.
        if (keccak256(abi.encode(sLo, sHi, points)) != g.node) revert DisputeBadProof(gameId, PROOF_SUM_POINTS);
        // INVARIANT: the part is one of the SUM_ARITY parts of the range.
        if (index >= SUM_ARITY) revert DisputeBadIndex(gameId, index, SUM_ARITY);
        uint256 lo = g.sumLo;
        uint256 len = uint256(g.sumHi) - lo;
        from = lo + len * index / SUM_ARITY;
        to = lo + len * (index + 1) / SUM_ARITY;
        a = index == 0 ? sLo : points[index - 1];
        b = index == SUM_ARITY - 1 ? sHi : points[index];
    }

    /// @dev Checks that `msg.sender` may make the move of phase `expected` now, and charges the mover's clock.
    function _startMove(uint256 gameId, Phase expected) private returns (Game storage g) {
        g = _games[gameId];
        Phase phase = g.phase;
        // INVARIANT: moves are made only in existing, undecided games.
        if (phase == Phase.None) revert DisputeUnknownGame(gameId);
        if (phase == Phase.Resolved) revert DisputeAlreadyResolved(gameId);
        bool claimantMove = _claimantMoves(expected);
        // INVARIANT: each move belongs to one side, and only that side makes it, only on its turn.
        bool isSide = claimantMove
            ? msg.sender == g.claimant
            : (msg.sender == g.challenger || onChallengerSide[gameId][msg.sender]);
        if (!isSide || _claimantMoves(phase) != claimantMove) revert DisputeNotYourTurn(gameId, msg.sender);
        // INVARIANT: the mover makes the move the phase expects.
        if (phase != expected) revert DisputeWrongMove(gameId, phase);
        uint256 last = g.lastMoveAt;
        uint256 left = claimantMove ? g.claimantTimeLeft : g.challengerTimeLeft;
        // INVARIANT: a side may move only while its clock has not run out (at the deadline itself is still in time).
        if (block.timestamp > last + left) revert DisputeClockExpired(gameId, msg.sender, last + left);
        uint64 remaining = uint64(left - (block.timestamp - last));
        if (claimantMove) g.claimantTimeLeft = remaining;
        else g.challengerTimeLeft = remaining;
        g.lastMoveAt = uint64(block.timestamp);
    }

    /// @dev Verifies a node proof against modelRoot and returns the decoded header.
    function _checkNode(uint256 gameId, bytes32 modelRoot, NodeProof calldata node)
        private
        pure
        returns (NodeHeader memory h)
    {
        h = abi.decode(node.header, (NodeHeader));
        // INVARIANT: a node proof carries exactly one param root per param the header lists.
        if (node.paramRoots.length != h.params.length) revert DisputeBadProof(gameId, PROOF_NODE);
        bytes32 leaf = ProofLib.nodeCommitment(node.header, node.paramRoots);
        bytes32 mr = C.rootOfMember(node.count, node.index, leaf, node.siblings);
        // INVARIANT: the header and params are node `index` of the `count` nodes committed by modelRoot.
        if (mr == bytes32(0) || ProofLib.listRoot(ProofLib.PREFIX_MODEL, node.count, mr) != modelRoot) {
            revert DisputeBadProof(gameId, PROOF_NODE);
        }
    }

    /// @dev Checks that `children` are the 2^s descendants of `parent` (s = min(levelsPerMove, levelsLeft); leaf
    /// words at the last level) and moves the game to the challenger's pick, to its one-step, or — if a revealed
    /// word has non-zero padding — decides it for the challenger.
    function _acceptChildren(uint256 gameId, Game storage g, bytes32 parent, bytes32[] calldata children) private {
        uint8 height = g.levelsLeft;
        uint8 levels = height < levelsPerMove ? height : levelsPerMove;
        uint256 k = uint256(1) << levels;
        // INVARIANT: the claimant reveals exactly the 2^s descendants s levels down.
        if (children.length != k) revert DisputeBadIndex(gameId, children.length, k);
        bool leaves = levels == height;
        // k is a power of two: the subtree is full (no zero padding), leaf words hashed as leaves
        bytes32 root = leaves ? ProofLib.rootOfWordsCalldata(children) : ProofLib.rootOfHashesCalldata(children);
        // INVARIANT: the revealed descendants hash up to the node the claimant is committed to.
        if (root != parent) revert DisputeBadProof(gameId, PROOF_CHILDREN);

        g.pendingLevels = levels;
        g.node = keccak256(abi.encodePacked(children));
        uint32 position = g.position;
        emit ChildrenRevealed(gameId, height, position, levels, leaves, children);
        if (!leaves) {
            g.phase = Phase.AwaitPick;
            return;
        }
        uint256 byteLength = uint256(g.numElements) * C.elementSize(g.dtype);
        uint256 first = uint256(position) << levels;
        for (uint256 i; i < k; ++i) {
            // INVARIANT: bytes past the tensor's data are zero; the claimant's own words prove otherwise.
            if (!C.paddingIsZero(children[i], first + i, byteLength)) {
                _resolve(gameId, g, Outcome.ChallengerWon, Reason.Padding);
                return;
            }
        }
        g.phase = Phase.AwaitOneStep;
    }

    /// @dev The element index the challenger chose and the claimant's value of it.
    function _chosenElement(uint256 gameId, Game storage g, LeafChoice calldata leaf)
        private
        view
        returns (uint256 e, int256 claimed)
    {
        // INVARIANT: the word comes from the leaf words the claimant revealed.
        if (keccak256(abi.encodePacked(leaf.words)) != g.node) revert DisputeBadProof(gameId, PROOF_REVEALED);
        if (leaf.pick >= leaf.words.length) revert DisputeBadIndex(gameId, leaf.pick, leaf.words.length);
        uint8 dtype = g.dtype;
        uint256 perWord = 32 / C.elementSize(dtype);
        // INVARIANT: the element lies in the word.
        if (leaf.elementInWord >= perWord) revert DisputeBadIndex(gameId, leaf.elementInWord, perWord);
        uint256 w = (uint256(g.position) << g.pendingLevels) | leaf.pick;
        e = w * perWord + leaf.elementInWord;
        // INVARIANT: the element exists (padding words were already checked to be zero).
        if (e >= g.numElements) revert DisputeBadIndex(gameId, e, g.numElements);
        claimed = C.decodeElement(leaf.words[leaf.pick], dtype, leaf.elementInWord);
    }

    /// @dev Checks that inputs.roots are the claimant's roots of the node's input tensors. Runs after the verifier
    /// proved the header in modelRoot, so the loop is bounded by a verified count.
    function _checkInputRoots(uint256 gameId, Game storage g, bytes calldata header, InputRoots calldata inputs)
        private
        view
    {
        NodeHeader memory h = abi.decode(header, (NodeHeader));
        uint256 n = h.inputs.length;
        // INVARIANT: one proven root per input the node reads, in header order.
        if (inputs.roots.length != n || inputs.siblings.length != n) {
            revert DisputeBadIndex(gameId, inputs.roots.length, n);
        }
        bytes32 traceRoot = g.traceRoot;
        uint256 count = g.count;
        for (uint256 k; k < n; ++k) {
            // INVARIANT: every input root the verifier used is the claimant's committed root of that input id.
            if (!C.isTraceTensor(traceRoot, count, h.inputs[k], inputs.roots[k], inputs.siblings[k])) {
                revert DisputeBadProof(gameId, PROOF_INPUT_ROOT);
            }
        }
    }

    /// @dev Decides the game and credits the whole pot to the winner (effects only; no transfer).
    function _resolve(uint256 gameId, Game storage g, Outcome o, Reason reason) private {
        uint256 b = g.bond;
        uint256 pot = g.claimantBonded ? 2 * b : b;
        bool claimantWon = o == Outcome.ClaimantWon;
        address winner = claimantWon ? g.claimant : g.challenger;
        g.phase = Phase.Resolved;
        g.outcome = o;
        // The loser's posted bond (the challenger's always; the claimant's only if it posted one) pays the cut.
        uint256 cut = (claimantWon || g.claimantBonded) ? b * loserCutBps / BPS : 0;
        if (cut != 0) {
            credit[treasury] += cut;
            emit LoserCutTaken(gameId, treasury, cut);
        }
        credit[winner] += pot - cut;
        emit GameResolved(gameId, o, reason, winner, pot - cut);
    }
}
