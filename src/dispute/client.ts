/**
 * A viem client for contracts/dispute/DisputeGame.sol that plays every move of either side
 * (docs/protocol.md §Dispute game). The claimant plays from its own trace; the challenger plays from its own
 * (correct) trace and reads everything the claimant reveals from the game's events, so it works when the claimant
 * publishes nothing off-chain.
 */
import {
  bytesToHex,
  erc20Abi,
  hexToBytes,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
  zeroHash,
} from 'viem';
import {
  commitModel,
  decodeNodeHeader,
  DTYPE_CODES,
  decodeElement,
  elementSize,
  keccak256,
  MerkleTree,
  tensorBytes,
  traceRootFromTensorRoots,
  traceTensorRoots,
  type ModelCommitment,
} from '../commit/index.js';
import type { QModel, TensorData, Trace } from '../engine/ir.js';
import { BaseError } from '../errors.js';
import { contractCall, eventIn, type TxRequest, type WriteArgs, type WriteName } from '../chain/call.js';
import { MemoryJournal, TxFailedError, TxSender, viemPort } from '../chain/tx.js';
import type { OneStepArg, WordsProofArg } from '../verifier/witness.js';
import { disputeGameAbi } from './abi.js';
import { moverOf, nextMove, opensSums, Phase, type MoveName, type Side } from './moves.js';

export class DisputeClientError extends BaseError {
  override name = 'DisputeClientError';
}

/** Solidity `NodeProof`, `WordsProof`, `OneStep`: the one-step witness types (src/verifier/witness.ts). */
export type { OneStepArg, WordsProofArg };
export type NodeProofArg = OneStepArg['node'];

/** What a player knows about its own run. */
export interface StateProvider {
  /** The trace root it committed / computed. */
  traceRoot(): Hex;
  /** tensorRoot of every trace tensor, in id order. */
  tensorRoots(): Hex[];
  /** Number of model inputs (the first trace tensors) and outputs (the last ones). */
  numInputs(): number;
  numOutputs(): number;
  /** Trace tensor `id` (dtype, stored shape, data). */
  tensor(id: number): TensorData;
  /** Proof of node `nodeIndex` in the modelRoot. */
  nodeProof(nodeIndex: number): NodeProofArg;
  /** One-step proof for element `outputIndex` of node `nodeIndex` (src/verifier buildOneStep). */
  oneStep(nodeIndex: number, outputIndex: number): OneStepArg;
  /** Partial sums (docs/protocol.md §Partial sums): the term count of the element's accumulator, undefined if its op has none. */
  sumTerms(nodeIndex: number, outputIndex: number): number | undefined;
  /**
   * A(t) of the element's accumulator as this player defends it (A(terms) finishes to its trace's element); with
   * `total` (a challenger: the claimant's revealed A(T)), A(t) of its own run from the A(0) that total gives (Softmax:
   * against the row max the claimant stated).
   */
  sumAt(nodeIndex: number, outputIndex: number, t: number, total?: bigint): bigint;
  /** The revealSumTotal witness: node proof and the param proofs A(0) and finish read (finishing the total it defends). */
  sumOpen(nodeIndex: number, outputIndex: number): OneStepArg;
  /** The sumStep witness: proofs of the input and param elements terms [from, to) read, from the claimant's A(from). */
  sumStep(nodeIndex: number, outputIndex: number, from: number, to: number, left: bigint): OneStepArg;
}

/** The partial-sum witness builders of src/verifier (`buildOneStep.sums`). */
export interface SumBuilders {
  terms(model: QModel, nodeIndex: number, outputIndex: number): number | undefined;
  accumulator(model: QModel, trace: Trace, nodeIndex: number, outputIndex: number): { terms: number; prefix: bigint[] };
  against(model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, total: bigint): { terms: number; prefix: bigint[] };
  open(model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, total?: bigint): { step: OneStepArg };
  step(model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, from: number, to: number, left: bigint): { step: OneStepArg };
}

/** buildOneStep(model, trace, nodeIndex, outputIndex) from src/verifier (only `.step` is used), with its `.sums`. */
export type OneStepBuilder = ((model: QModel, trace: Trace, nodeIndex: number, outputIndex: number) => { step: OneStepArg }) & { sums: SumBuilders };

/** A StateProvider over a model and one run's trace. The game requires the model's outputs to be its last tensors. */
export function traceStateProvider(model: QModel, trace: Trace, buildOneStep: OneStepBuilder): StateProvider {
  let roots: Hex[] | undefined;
  let mc: ModelCommitment | undefined;
  const accs = new Map<string, bigint[]>();
  const prefix = (nodeIndex: number, outputIndex: number, total?: bigint): bigint[] => {
    const key = `${nodeIndex}:${outputIndex}:${total ?? ''}`;
    let p = accs.get(key);
    if (!p) {
      const s = buildOneStep.sums;
      p = (total === undefined ? s.accumulator(model, trace, nodeIndex, outputIndex) : s.against(model, trace, nodeIndex, outputIndex, total)).prefix;
      accs.set(key, p);
    }
    return p;
  };
  return {
    traceRoot: () => bytesToHex(traceRootFromTensorRoots((roots ??= traceTensorRoots(trace).map((x) => bytesToHex(x))).map((r) => hexToBytes(r)))),
    tensorRoots: () => (roots ??= traceTensorRoots(trace).map((x) => bytesToHex(x))).slice(),
    numInputs: () => model.inputs.length,
    numOutputs: () => model.outputs.length,
    tensor: (id) => {
      const t = trace[id];
      if (!t) throw new DisputeClientError(`Trace tensor ${id} does not exist.`, { details: `trace has ${trace.length} tensors` });
      return t;
    },
    nodeProof: (nodeIndex) => {
      const p = (mc ??= commitModel(model)).proveNode(nodeIndex);
      return {
        index: BigInt(p.index),
        count: BigInt(p.count),
        header: bytesToHex(p.header),
        paramRoots: p.paramRoots.map((r) => bytesToHex(r)),
        siblings: p.siblings.map((s) => bytesToHex(s)),
      };
    },
    oneStep: (nodeIndex, outputIndex) => buildOneStep(model, trace, nodeIndex, outputIndex).step,
    sumTerms: (nodeIndex, outputIndex) => buildOneStep.sums.terms(model, nodeIndex, outputIndex),
    sumAt: (nodeIndex, outputIndex, t, total) => {
      const v = prefix(nodeIndex, outputIndex, total)[t];
      if (v === undefined) throw new DisputeClientError(`Term index ${t} is past the accumulator of node ${nodeIndex}, element ${outputIndex}.`);
      return v;
    },
    sumOpen: (nodeIndex, outputIndex) => {
      const p = prefix(nodeIndex, outputIndex);
      return buildOneStep.sums.open(model, trace, nodeIndex, outputIndex, p[p.length - 1]).step;
    },
    sumStep: (nodeIndex, outputIndex, from, to, left) => buildOneStep.sums.step(model, trace, nodeIndex, outputIndex, from, to, left).step,
  };
}

export { Phase, Outcome } from './moves.js';

export interface GameState {
  claimant: Address;
  challenger: Address;
  phase: number;
  outcome: number;
  lastMoveAt: bigint;
  claimantTimeLeft: bigint;
  challengerTimeLeft: bigint;
  bond: bigint;
  count: number;
  numInputs: number;
  tensorId: number;
  nodeIndex: number;
  dtype: number;
  levelsLeft: number;
  pendingLevels: number;
  numElements: number;
  position: number;
  /** Op code of the node writing the disputed tensor. */
  op: number;
  traceRoot: Hex;
  modelRoot: Hex;
  /** Partial-sum sub-game (zero unless opened): the element, the term range [sumLo, sumHi), the claimed value. */
  sumElement: number;
  sumLo: number;
  sumHi: number;
  sumClaimed: bigint;
}

/** A move {@link DisputeClient.playMove} played. */
export type PlayedMove =
  | { move: 'revealRoots' | 'revealTensor' | 'bisect' | 'pick' }
  | { move: 'disputeTensor'; tensorId: number }
  | { move: 'oneStep' | 'openSums'; elementIndex: number }
  | { move: 'revealSumTotal' | 'revealSums' | 'pickSum' }
  | { move: 'sumStep'; from: number; to: number; left: bigint };

/** One transaction the client sent. */
export interface MoveRecord {
  gameId: bigint;
  move: string;
  hash: Hex;
  gasUsed: bigint;
  /** Block that included it (anvil mines one transaction per block: orders the two sides' moves). */
  blockNumber: bigint;
}

export interface DisputeClientOptions {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** The DisputeGame contract. */
  game: Address;
  /** Poll interval while waiting for the opponent (ms). */
  pollMs?: number;
  /**
   * How a move's transaction leaves (returns its hash). Default: the project's crash-safe {@link TxSender} over an
   * in-memory journal for `walletClient`; the node passes its own journaled sender, keyed by the game state.
   */
  send?: (request: TxRequest) => Promise<Hex>;
}

const DTYPE_OF_CODE = ['', 'i8', 'u8', 'i32'] as const;

/** Field-by-field equality of two reads of one game. */
function sameState(a: GameState, b: GameState): boolean {
  for (const k of Object.keys(a) as (keyof GameState)[]) if (a[k] !== b[k]) return false;
  return true;
}

/** The 2^levels descendants of node (height, position) of a tensor's word tree: leaf words at the last level. */
export function childrenOf(tree: MerkleTree, height: number, position: number, levels: number): Hex[] {
  const k = 1 << levels;
  const lower = height - levels;
  const out: Hex[] = [];
  for (let i = 0; i < k; i++) {
    const idx = position * k + i;
    out.push(bytesToHex(lower === 0 ? tree.word(idx) : tree.node(lower, idx)));
  }
  return out;
}

/**
 * Plays DisputeGame moves for one account. Every move waits for its receipt and is recorded in `moves`
 * (gas used per transaction). `playClaimant` / `playChallenger` loop until the game is decided, moving on their
 * turn and calling timeout when the opponent's clock has run out.
 */
export class DisputeClient {
  readonly publicClient: PublicClient;
  readonly walletClient: WalletClient<Transport, Chain, Account>;
  readonly game: Address;
  readonly account: Address;
  readonly moves: MoveRecord[] = [];
  private readonly pollMs: number;
  private readonly trees = new Map<string, MerkleTree>();
  /** The newest block this client has seen its own transaction in: no read may be older (see {@link head}). */
  private seenBlock = 0n;
  private readonly sendTx: (request: TxRequest) => Promise<Hex>;

  constructor(opts: DisputeClientOptions) {
    this.publicClient = opts.publicClient;
    this.walletClient = opts.walletClient;
    this.game = opts.game;
    this.account = opts.walletClient.account.address;
    this.pollMs = opts.pollMs ?? 50;
    if (opts.send) this.sendTx = opts.send;
    else {
      const sender = new TxSender(new MemoryJournal(), viemPort(opts.publicClient, opts.walletClient));
      this.sendTx = async (req) => (await sender.send(sender.freshKey(req.label), req)).hash;
    }
  }

  // ------------------------------------------------------------------ reads

  /**
   * A block number at or after this client's last receipt. Reads are pinned to it: an RPC's "latest" can trail a
   * receipt it has just returned (seen on a loaded anvil, common behind load balancers), and a move computed from
   * the state before our own last move is a wrong move (it reverts, or names the wrong children).
   */
  private async head(): Promise<bigint> {
    for (let attempt = 0; ; attempt++) {
      const bn = await this.publicClient.getBlockNumber({ cacheTime: 0 });
      if (bn >= this.seenBlock) return bn;
      if (attempt >= 200) throw new DisputeClientError(`The RPC's head ${bn} is behind block ${this.seenBlock}, which holds our last move.`, { hint: 'The RPC stayed behind for 10 s; check it is synced.' });
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The game's state, read so that a move computed from it is a move for the state it meets: at a block at or
   * after this client's own last receipt ({@link head}), and twice in a row, equal. Anvil answers a call at its head
   * from the state it is mining into, so a read that lands while the opponent's move executes can see part of that
   * move (seen on a loaded 2-core box: the new phase with the old position, so an honest move reverted).
   */
  async state(gameId: bigint): Promise<GameState> {
    for (let attempt = 0; ; attempt++) {
      const blockNumber = await this.head();
      const a = await this.readGame(gameId, blockNumber);
      const b = await this.readGame(gameId, blockNumber);
      if (sameState(a, b)) return a;
      if (attempt >= 20) throw new DisputeClientError(`Game ${gameId}: two reads of block ${blockNumber} keep disagreeing.`, { hint: 'The RPC serves an unsettled state; retry later.' });
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private async readGame(gameId: bigint, blockNumber: bigint): Promise<GameState> {
    const g = await this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'game', args: [gameId], blockNumber });
    const st = await this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'sumState', args: [gameId], blockNumber });
    return {
      claimant: g.claimant,
      challenger: g.challenger,
      phase: g.phase,
      outcome: g.outcome,
      lastMoveAt: g.lastMoveAt,
      claimantTimeLeft: g.claimantTimeLeft,
      challengerTimeLeft: g.challengerTimeLeft,
      bond: g.bond,
      count: g.count,
      numInputs: g.numInputs,
      tensorId: g.tensorId,
      nodeIndex: g.nodeIndex,
      dtype: g.dtype,
      levelsLeft: g.levelsLeft,
      pendingLevels: g.pendingLevels,
      numElements: g.numElements,
      position: g.position,
      op: g.op,
      traceRoot: g.traceRoot,
      modelRoot: g.modelRoot,
      sumElement: st.element,
      sumLo: st.lo,
      sumHi: st.hi,
      sumClaimed: st.claimed,
    };
  }

  async levelsPerMove(): Promise<number> {
    return this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'levelsPerMove' });
  }

  /**
   * The claimant's tensor roots, from its RootsRevealed event. Called once the game's state says the
   * roots are revealed; an RPC's log index can trail its state (seen on a loaded anvil, common on
   * public RPCs), so an empty answer is retried for a bounded while before it is an error.
   */
  async revealedRoots(gameId: bigint): Promise<Hex[]> {
    for (let attempt = 0; ; attempt++) {
      const logs = await this.publicClient.getContractEvents({ address: this.game, abi: disputeGameAbi, eventName: 'RootsRevealed', args: { gameId }, fromBlock: 0n, strict: true });
      const last = logs[logs.length - 1];
      if (last) return [...last.args.roots];
      if (attempt >= 50) throw new DisputeClientError(`Game ${gameId} has no revealed roots yet.`, { hint: 'The RPC returned no RootsRevealed log for 10 s although the game is past that move.' });
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * The children the claimant revealed for the game's current node `g` (its ChildrenRevealed event at height
   * `g.levelsLeft`, position `g.position`). A log index can trail the state (as in {@link revealedRoots}), and the
   * previous round's children are not this round's, so the event is matched to the state and retried for a
   * bounded while.
   */
  async lastChildren(gameId: bigint, g: Pick<GameState, 'levelsLeft' | 'position'>): Promise<Hex[]> {
    for (let attempt = 0; ; attempt++) {
      const logs = await this.publicClient.getContractEvents({ address: this.game, abi: disputeGameAbi, eventName: 'ChildrenRevealed', args: { gameId }, fromBlock: 0n, strict: true });
      for (let i = logs.length - 1; i >= 0; i--) {
        const a = logs[i]!.args;
        if (a.height === g.levelsLeft && a.position === g.position) return [...a.children];
      }
      if (attempt >= 50) throw new DisputeClientError(`Game ${gameId} has no revealed children at height ${g.levelsLeft}, position ${g.position}.`, { hint: 'The RPC returned no matching ChildrenRevealed log for 10 s although the game is past that move.' });
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async outcome(gameId: bigint): Promise<number> {
    return this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'outcome', args: [gameId] });
  }

  // ------------------------------------------------------------------ transactions

  /** Sends one typed request, waits for its receipt and records it as `move` of `gameId`. */
  private async send(gameId: bigint, move: string, request: TxRequest): Promise<TransactionReceipt> {
    const hash = await this.sendTx(request);
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new DisputeClientError(`${move} reverted.`, { details: `game ${gameId}, tx ${hash}` });
    if (receipt.blockNumber > this.seenBlock) this.seenBlock = receipt.blockNumber;
    this.moves.push({ gameId, move, hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber });
    return receipt;
  }

  /** A typed request to the game. */
  private call<fn extends WriteName<typeof disputeGameAbi>>(functionName: fn, args: WriteArgs<typeof disputeGameAbi, fn>): TxRequest {
    return contractCall('DisputeGame', this.game, disputeGameAbi, functionName, args);
  }

  private async approveBond(gameId: bigint, amount: bigint): Promise<void> {
    const token = await this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'bondToken' });
    const allowance = await this.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [this.account, this.game] });
    if (allowance >= amount) return;
    await this.send(gameId, 'approve', contractCall('VerityToken', token, erc20Abi, 'approve', [this.game, amount]));
  }

  /** Opens a game as the challenger (approves the bond first); `traceRoot` pins the claimant's trace (omit: bound only
   * by inputHash / outputHash). Returns the game id (from its GameOpened event). */
  async open(args: { taskKey: Hex; claimant: Address; traceRoot?: Hex; modelRoot: Hex; inputHash: Hex; outputHash: Hex }): Promise<bigint> {
    const bond = await this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'bond' });
    await this.approveBond(0n, bond);
    const request = this.call('open', [args.taskKey, args.claimant, this.account, args.traceRoot ?? zeroHash, args.modelRoot, args.inputHash, args.outputHash]);
    const hash = await this.sendTx(request);
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new DisputeClientError('open reverted.', { details: `tx ${hash}` });
    if (receipt.blockNumber > this.seenBlock) this.seenBlock = receipt.blockNumber;
    const { gameId } = eventIn(receipt, disputeGameAbi, this.game, 'GameOpened');
    this.moves.push({ gameId, move: 'open', hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber });
    return gameId;
  }

  async timeout(gameId: bigint): Promise<void> {
    await this.send(gameId, 'timeout', this.call('timeout', [gameId]));
  }

  async claimCredit(): Promise<void> {
    await this.send(0n, 'claimCredit', this.call('claimCredit', []));
  }

  // ------------------------------------------------------------------ claimant moves

  private tensorTree(key: string, t: TensorData): MerkleTree {
    let tree = this.trees.get(key);
    if (!tree) {
      tree = MerkleTree.fromBytes(tensorBytes(t));
      this.trees.set(key, tree);
    }
    return tree;
  }

  async revealRoots(gameId: bigint, me: StateProvider): Promise<void> {
    const g = await this.state(gameId);
    await this.approveBond(gameId, g.bond);
    await this.send(gameId, 'revealRoots', this.call('revealRoots', [gameId, me.tensorRoots(), me.numInputs(), me.numOutputs()]));
  }

  async revealTensor(gameId: bigint, me: StateProvider, levelsPerMove: number): Promise<void> {
    const g = await this.state(gameId);
    const t = me.tensor(g.tensorId);
    const tree = this.tensorTree(`${gameId}:${g.tensorId}`, t);
    const levels = Math.min(levelsPerMove, g.levelsLeft);
    await this.send(gameId, 'revealTensor', this.call('revealTensor', [gameId, DTYPE_CODES[t.dtype], t.shape, bytesToHex(tree.root), childrenOf(tree, g.levelsLeft, 0, levels)]));
  }

  async bisect(gameId: bigint, me: StateProvider, levelsPerMove: number): Promise<void> {
    const g = await this.state(gameId);
    const tree = this.tensorTree(`${gameId}:${g.tensorId}`, me.tensor(g.tensorId));
    const levels = Math.min(levelsPerMove, g.levelsLeft);
    await this.send(gameId, 'bisect', this.call('bisect', [gameId, childrenOf(tree, g.levelsLeft, g.position, levels)]));
  }

  // ------------------------------------------------------------------ challenger moves

  /** Names the first node output whose root differs from the challenger's own (or node 0 if the counts differ). */
  async disputeTensor(gameId: bigint, me: StateProvider): Promise<number> {
    const theirs = await this.revealedRoots(gameId);
    const mine = me.tensorRoots();
    const numInputs = me.numInputs();
    let t = -1;
    if (theirs.length !== mine.length) t = numInputs;
    else for (let id = numInputs; id < mine.length && t < 0; id++) if (theirs[id] !== mine[id]) t = id;
    if (t < 0) throw new DisputeClientError(`Game ${gameId}: the claimant's roots equal ours; nothing to dispute.`, { hint: 'Let the clock run out or concede.' });
    const tree = MerkleTree.fromWords(theirs.map((r) => hexToBytes(r)));
    const siblings = tree.prove([t]).siblings.map((s) => bytesToHex(s));
    await this.send(gameId, 'disputeTensor', this.call('disputeTensor', [gameId, BigInt(t), theirs[t], siblings, me.nodeProof(t - numInputs)]));
    return t;
  }

  /** Picks the first revealed child that differs from the challenger's own tree. */
  async pick(gameId: bigint, me: StateProvider): Promise<number> {
    const g = await this.state(gameId);
    const theirs = await this.lastChildren(gameId, g);
    const tree = this.tensorTree(`${gameId}:${g.tensorId}`, me.tensor(g.tensorId));
    const mine = childrenOf(tree, g.levelsLeft, g.position, g.pendingLevels);
    let i = theirs.findIndex((c, k) => c !== mine[k]);
    if (i < 0) i = 0; // the claimant revealed our own hashes here: any child will do, it cannot be won
    await this.send(gameId, 'pick', this.call('pick', [gameId, theirs, BigInt(i)]));
    return i;
  }

  /** Last move: the first differing element of the revealed words, re-executed by the one-step verifier. */
  async oneStep(gameId: bigint, me: StateProvider): Promise<{ elementIndex: number; sums: boolean }> {
    const g = await this.state(gameId);
    const words = await this.lastChildren(gameId, g);
    const t = me.tensor(g.tensorId);
    const tree = this.tensorTree(`${gameId}:${g.tensorId}`, t);
    const first = g.position * (1 << g.pendingLevels);
    const dtype = DTYPE_OF_CODE[g.dtype];
    if (!dtype) throw new DisputeClientError(`Unknown dtype code ${g.dtype}.`);
    const es = elementSize(dtype);
    const perWord = 32 / es;
    let pick = -1;
    let j = -1;
    for (let k = 0; k < words.length && pick < 0; k++) {
      const mineW = tree.word(first + k);
      const theirW = hexToBytes(words[k]!);
      for (let e = 0; e < perWord; e++) {
        const idx = (first + k) * perWord + e;
        if (idx >= g.numElements) break;
        if (decodeElement(mineW, dtype, e) !== decodeElement(theirW, dtype, e)) {
          pick = k;
          j = e;
          break;
        }
      }
    }
    if (pick < 0) throw new DisputeClientError(`Game ${gameId}: the revealed words match ours; the claimant is right here.`);
    const elementIndex = (first + pick) * perWord + j;
    const leaf = { words, pick: BigInt(pick), elementInWord: BigInt(j) };
    // A reduction longer than one part (T > SUM_ARITY), or a Conv element of more than one term: bisect inside its
    // accumulator instead (constant-cost last step; moves.ts opensSums).
    if (opensSums(g.op, me.sumTerms(g.nodeIndex, elementIndex), await this.sumConstants())) {
      await this.send(gameId, 'openSums', this.call('openSums', [gameId, leaf]));
      return { elementIndex, sums: true };
    }
    const step = me.oneStep(g.nodeIndex, elementIndex);
    const inputs = await this.inputRoots(gameId, step.node.header);
    await this.send(gameId, 'oneStep', this.call('oneStep', [gameId, leaf, step, inputs]));
    return { elementIndex, sums: false };
  }

  /** The claimant's roots of a node's inputs (header order) with their traceRoot proofs, from RootsRevealed. */
  private async inputRoots(gameId: bigint, header: Hex): Promise<{ roots: Hex[]; siblings: Hex[][] }> {
    const roots = await this.revealedRoots(gameId);
    const rootTree = MerkleTree.fromWords(roots.map((r) => hexToBytes(r)));
    const inputIds = decodeNodeHeader(header).inputs;
    return {
      roots: inputIds.map((id) => roots[id]!),
      siblings: inputIds.map((id) => rootTree.prove([id]).siblings.map((s) => bytesToHex(s))),
    };
  }

  // ------------------------------------------------------------------ partial-sum sub-game

  private sumConsts: { arity: number } | undefined;

  /** DisputeGame.SUM_ARITY (read once). Where the sub-game ends (SUM_CHUNK) is the contract's: the client only
   *  follows the phase it is in, so it does not read it. */
  async sumConstants(): Promise<{ arity: number }> {
    this.sumConsts ??= { arity: Number(await this.publicClient.readContract({ address: this.game, abi: disputeGameAbi, functionName: 'SUM_ARITY' })) };
    return this.sumConsts;
  }

  /** The inner points t_i = lo + (hi − lo)·i / arity, i = 1 … arity − 1 (DisputeGame._part). */
  static sumPoints(lo: number, hi: number, arity: number): number[] {
    const out: number[] = [];
    for (let i = 1; i < arity; i++) out.push(lo + Math.floor(((hi - lo) * i) / arity));
    return out;
  }

  /** Claimant: opens the chosen element's accumulator (total + first points). */
  async revealSumTotal(gameId: bigint, me: StateProvider): Promise<void> {
    const g = await this.state(gameId);
    const e = g.sumElement;
    const terms = me.sumTerms(g.nodeIndex, e);
    if (terms === undefined) throw new DisputeClientError(`Game ${gameId}: node ${g.nodeIndex} has no partial sums.`);
    const { arity } = await this.sumConstants();
    const points = DisputeClient.sumPoints(0, terms, arity).map((t) => me.sumAt(g.nodeIndex, e, t));
    const step = me.sumOpen(g.nodeIndex, e);
    await this.send(gameId, 'revealSumTotal', this.call('revealSumTotal', [gameId, step, me.sumAt(g.nodeIndex, e, terms), points]));
  }

  /** Claimant: the points of the picked range. */
  async revealSums(gameId: bigint, me: StateProvider): Promise<void> {
    const g = await this.state(gameId);
    const { arity } = await this.sumConstants();
    const at = (t: number): bigint => me.sumAt(g.nodeIndex, g.sumElement, t);
    const points = DisputeClient.sumPoints(g.sumLo, g.sumHi, arity).map(at);
    await this.send(gameId, 'revealSums', this.call('revealSums', [gameId, at(g.sumLo), at(g.sumHi), points]));
  }

  /** The claimant's last SumsRevealed for the state's range (retried like {@link lastChildren}). */
  async lastSums(gameId: bigint, g: Pick<GameState, 'sumLo' | 'sumHi'>): Promise<{ sLo: bigint; sHi: bigint; points: bigint[]; total: bigint }> {
    for (let attempt = 0; ; attempt++) {
      const logs = await this.publicClient.getContractEvents({ address: this.game, abi: disputeGameAbi, eventName: 'SumsRevealed', args: { gameId }, fromBlock: 0n, strict: true });
      for (let i = logs.length - 1; i >= 0; i--) {
        const a = logs[i]!.args;
        // the first reveal (revealSumTotal) carries the claimant's A(T)
        if (a.lo === g.sumLo && a.hi === g.sumHi) return { sLo: a.sLo, sHi: a.sHi, points: [...a.points], total: logs[0]!.args.sHi };
      }
      if (attempt >= 50) throw new DisputeClientError(`Game ${gameId} has no revealed sums for terms [${g.sumLo}, ${g.sumHi}).`, { hint: 'The RPC returned no matching SumsRevealed log for 10 s although the game is past that move.' });
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Challenger: the first part whose right end differs from ours (its left end is then ours). Ours = our run's A(t)
   * from the A(0) the claimant's total gives (Softmax: its stated row max), so a wrong max is found where its counts go
   * wrong.
   */
  private async choosePart(gameId: bigint, g: GameState, me: StateProvider): Promise<{ index: number; from: number; to: number; sLo: bigint; sHi: bigint; points: bigint[]; left: bigint }> {
    const { arity } = await this.sumConstants();
    const r = await this.lastSums(gameId, g);
    const ts = [g.sumLo, ...DisputeClient.sumPoints(g.sumLo, g.sumHi, arity), g.sumHi];
    const theirs = [r.sLo, ...r.points, r.sHi];
    let index = arity - 1;
    for (let i = 0; i < arity; i++) {
      if (theirs[i + 1] !== me.sumAt(g.nodeIndex, g.sumElement, ts[i + 1]!, r.total)) {
        index = i;
        break;
      }
    }
    return { index, from: ts[index]!, to: ts[index + 1]!, ...r, left: theirs[index]! };
  }

  async pickSum(gameId: bigint, me: StateProvider): Promise<void> {
    const g = await this.state(gameId);
    const c = await this.choosePart(gameId, g, me);
    await this.send(gameId, 'pickSum', this.call('pickSum', [gameId, c.points, BigInt(c.index), c.sLo, c.sHi]));
  }

  /** Challenger, last move of the sub-game: the verifier re-adds at most SUM_CHUNK terms. */
  async sumStep(gameId: bigint, me: StateProvider): Promise<{ from: number; to: number; left: bigint }> {
    const g = await this.state(gameId);
    const c = await this.choosePart(gameId, g, me);
    const step = me.sumStep(g.nodeIndex, g.sumElement, c.from, c.to, c.left);
    const inputs = await this.inputRoots(gameId, step.node.header);
    await this.send(gameId, 'sumStep', this.call('sumStep', [gameId, c.points, BigInt(c.index), c.sLo, c.sHi, step, inputs]));
    return { from: c.from, to: c.to, left: c.left };
  }

  // ------------------------------------------------------------------ playing

  /**
   * Plays `side`'s move for the game's phase `g.phase`, as the move table (src/dispute/moves.ts) says; returns the
   * move played (with the disputed tensor / re-executed element where the move chose one), or undefined when it is
   * not `side`'s turn. One move, one transaction (two when a bond is approved first).
   */
  async playMove(gameId: bigint, g: GameState, side: Side, me: StateProvider, levelsPerMove?: number): Promise<PlayedMove | undefined> {
    const move = nextMove(g.phase, side);
    if (!move) return undefined;
    switch (move) {
      case 'revealRoots':
        await this.revealRoots(gameId, me);
        return { move };
      case 'revealTensor':
        await this.revealTensor(gameId, me, levelsPerMove ?? (await this.levelsPerMove()));
        return { move };
      case 'bisect':
        await this.bisect(gameId, me, levelsPerMove ?? (await this.levelsPerMove()));
        return { move };
      case 'disputeTensor':
        return { move, tensorId: await this.disputeTensor(gameId, me) };
      case 'pick':
        await this.pick(gameId, me);
        return { move };
      case 'oneStep': {
        const r = await this.oneStep(gameId, me);
        return { move: r.sums ? 'openSums' : 'oneStep', elementIndex: r.elementIndex };
      }
      case 'revealSumTotal':
        await this.revealSumTotal(gameId, me);
        return { move };
      case 'revealSums':
        await this.revealSums(gameId, me);
        return { move };
      case 'pickSum':
        await this.pickSum(gameId, me);
        return { move };
      case 'sumStep':
        return { move, ...(await this.sumStep(gameId, me)) };
    }
  }

  /** Waits until it is this account's turn (calling timeout when the opponent's clock has run out) or the game is decided. */
  private async waitTurn(gameId: bigint): Promise<{ resolved: boolean; g: GameState }> {
    for (;;) {
      const g = await this.state(gameId);
      if (g.phase === Phase.Resolved) return { resolved: true, g };
      // mover and deadline from the same read as the phase (a separate turn() call could see a later state)
      const side = moverOf(g.phase);
      if (!side) throw new DisputeClientError(`Game ${gameId} is in phase ${g.phase}, which has no mover.`);
      const mover = side === 'claimant' ? g.claimant : g.challenger;
      const deadline = g.lastMoveAt + (side === 'claimant' ? g.claimantTimeLeft : g.challengerTimeLeft);
      if (mover.toLowerCase() === this.account.toLowerCase()) return { resolved: false, g };
      const block = await this.publicClient.getBlock();
      if (block.timestamp > deadline) {
        await this.timeout(gameId);
        continue;
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** Plays `side` until the game is decided (each move through {@link playMove}); returns the outcome. */
  async play(gameId: bigint, side: Side, me: StateProvider): Promise<number> {
    const s = await this.levelsPerMove();
    for (let reverts = 0; ; ) {
      const { resolved, g } = await this.waitTurn(gameId);
      if (resolved) return this.outcome(gameId);
      try {
        if (!(await this.playMove(gameId, g, side, me, s))) throw new DisputeClientError(`Unexpected phase ${g.phase} on the ${side}'s turn.`);
        reverts = 0;
      } catch (e) {
        // A move that would revert was computed from a state the chain has left (see state()); it was never sent.
        // Re-read and play again, a bounded number of times, as the node's DisputeMachine does under a new key.
        if (!(e instanceof TxFailedError) || ++reverts > 3) throw e;
        await new Promise((r) => setTimeout(r, 10 * this.pollMs));
      }
    }
  }

  /** Plays the claimant's side until the game is decided; returns the outcome. */
  async playClaimant(gameId: bigint, me: StateProvider): Promise<number> {
    return this.play(gameId, 'claimant', me);
  }

  /** Plays the challenger's side until the game is decided; returns the outcome. */
  async playChallenger(gameId: bigint, me: StateProvider): Promise<number> {
    return this.play(gameId, 'challenger', me);
  }
}

/** inputHash / outputHash as the game checks them (spelled once in src/commit/io.ts). */
export { ioDigest } from '../commit/index.js';
