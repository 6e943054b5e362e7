/**
 * End-to-end dispute harness on anvil with the REAL one-step verifier (contracts/verifier): deploys the three
 * op-family contracts + router (src/chain/verifier.ts), a test bond token and DisputeGame, and plays whole disputes
 * move by move with DisputeClient (no polling: one driver alternates the sides by the game's phase), recording every
 * transaction's gas. Shared by test/dispute/e2e.test.ts and bench/gas-dispute.ts.
 */
import { bytesToHex, createPublicClient, createTestClient, createWalletClient, http, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { foundry } from 'viem/chains';
import { anvilAccount, startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { compileContracts } from '../../src/chain/compile.js';
import { keccakReady, leafCountOfBytes, elementSize, modelRootHex, treeDepth } from '../../src/commit/index.js';
import { DisputeClient, ioDigest, moverOf, Outcome, Phase, traceStateProvider, type MoveRecord, type StateProvider } from '../../src/dispute/index.js';
import { allocate, sizeOf, type QModel, type TensorData, type Trace } from '../../src/engine/ir.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { deployOneStepVerifier, oneStepVerifierFullAbi } from '../../src/chain/verifier.js';
import { buildOneStep, dependencies } from '../../src/verifier/index.js';
import { modelData, quantized, type ModelData, type ModelName } from '../onnx/models.js';

export const BOND = 10n ** 19n;
export const CLOCK = 3n * 86400n;
const deployer = anvilAccount(0);
const claimantAcct = anvilAccount(1);
const challengerAcct = anvilAccount(2);

/** mulberry32: a small seeded PRNG, [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The honest trace of a model on the first row of its data file (a models/ model's by name, or the file itself). */
export function honestTrace(model: QModel, data: ModelName | ModelData): Trace {
  const rows = typeof data === 'string' ? modelData(data).x : data.x;
  return runModel(prepareModel(model), [quantizeInput(model, rows[0]!)]);
}

/**
 * A lying worker's trace: element `element` of node `nodeIndex`'s output changed (by +delta, wrapped into the dtype,
 * never equal to the honest value), then every later node recomputed honestly from the corrupted tensor.
 */
export function lyingTrace(model: QModel, honest: Trace, nodeIndex: number, element: number, delta = 1): Trace {
  const p = prepareModel(model);
  const trace: TensorData[] = honest.map((t) => ({ dtype: t.dtype, shape: t.shape.slice(), data: t.data.slice() }));
  const st = p.steps[nodeIndex]!;
  const t = trace[st.output]!;
  const before = t.data[element]!;
  t.data[element] = before + delta;
  if (t.data[element] === before) t.data[element] = before - delta; // wrapped onto itself (e.g. u8 255 + 256)
  if (t.data[element] === before) throw new Error('could not corrupt the element');
  for (let s = nodeIndex + 1; s < p.steps.length; s++) {
    const step = p.steps[s]!;
    const ins = step.inputs.map((id) => trace[id]!);
    const out: TensorData = { dtype: step.dtype, shape: step.shape.slice(), data: allocate(step.dtype, step.size) };
    step.kernel(ins, out);
    trace[step.output] = out;
  }
  return trace;
}

/** A (node, element) drawn with the PRNG: node uniform over the model's nodes, element uniform over its output. */
export function randomSite(model: QModel, rnd: () => number): { nodeIndex: number; element: number } {
  const nodeIndex = Math.floor(rnd() * model.nodes.length);
  const n = sizeOf(model.tensors[model.nodes[nodeIndex]!.output]!.shape);
  return { nodeIndex, element: Math.floor(rnd() * n) };
}

/**
 * The (node, element) whose one step reads the most proven elements (edges + up to 24 sampled elements per node),
 * among the nodes of op `op` if given.
 */
export function heaviestSite(model: QModel, trace: Trace, op?: string): { nodeIndex: number; element: number } {
  let best = { nodeIndex: 0, element: 0, reads: -1 };
  model.nodes.forEach((node, ni) => {
    if (op !== undefined && node.op !== op) return;
    const n = sizeOf(model.tensors[node.output]!.shape);
    const sample = new Set([0, n - 1, ...Array.from({ length: Math.min(n, 24) }, (_, i) => Math.floor((i * n) / Math.min(n, 24)))]);
    for (const o of sample) {
      const d = dependencies(model, ni, o, trace);
      const reads = [...d.inputs, ...d.params].flat().reduce((s, [, c]) => s + c, 0);
      if (reads > best.reads) best = { nodeIndex: ni, element: o, reads };
    }
  });
  return best;
}

export interface Env {
  anvil: AnvilInstance;
  publicClient: PublicClient;
  verifier: Address;
  stop(): Promise<void>;
}

let art: Record<string, { abi: Abi; bytecode: Hex }> | undefined;

/** Starts anvil and deploys the real one-step verifier (once per Env; each game gets its own DisputeGame). */
export async function startEnv(): Promise<Env> {
  await keccakReady;
  art ??= compileContracts(['contracts/dispute/DisputeGame.sol', 'test/contracts/dispute/mocks/TestBondToken.sol']);
  const anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport, pollingInterval: 20 }) as PublicClient;
  const w = createWalletClient({ chain: foundry, transport, account: deployer, pollingInterval: 20 });
  const { verifier } = await deployOneStepVerifier({ walletClient: w, publicClient });
  return { anvil, publicClient, verifier, stop: () => anvil.stop() };
}

async function deployGame(env: Env, levelsPerMove: number): Promise<Address> {
  const transport = http(env.anvil.rpcUrl);
  const w = createWalletClient({ chain: foundry, transport, account: deployer, pollingInterval: 20 });
  const dep = async (name: string, args: unknown[] = []): Promise<Address> => {
    const hash = await w.deployContract({ abi: art![name]!.abi, bytecode: art![name]!.bytecode, args: args as never });
    const r = await env.publicClient.waitForTransactionReceipt({ hash });
    return r.contractAddress!;
  };
  const token = await dep('TestBondToken');
  const game = await dep('DisputeGame', [deployer.address, token, env.verifier, BOND, CLOCK, levelsPerMove]);
  for (const a of [claimantAcct, challengerAcct]) {
    const hash = await w.writeContract({ address: token, abi: art!['TestBondToken']!.abi, functionName: 'mint', args: [a.address, 100n * BOND] } as never);
    await env.publicClient.waitForTransactionReceipt({ hash });
  }
  return game;
}

export interface DisputeResult {
  gameId: bigint;
  outcome: number;
  /** Every game transaction in order (bond approvals excluded), with the side that sent it. */
  moves: (MoveRecord & { side: 'claimant' | 'challenger' })[];
  gas: bigint;
  /** Disputed tensor (from TensorDisputed), if the game got that far. */
  tensorId?: number;
  nodeIndex?: number;
  numElements?: number;
  /** Element re-executed by oneStep, if it was played. */
  elementIndex?: number;
  /** Gas of verifier.computeElement for that step alone (eth_estimateGas of a direct call, incl. 21k + calldata). */
  computeElementGas?: bigint;
  /** The partial-sum sub-game, if the challenger opened one: the element, its term count, the chunk re-added. */
  sums?: { elementIndex: number; terms: number; from?: number; to?: number; computePartialGas?: bigint };
}

export interface PlayOptions {
  levelsPerMove?: number;
  /** The claimant stops answering after this many of its own moves (its clock then runs out). */
  claimantStopsAfter?: number;
  /** The challenger stops answering after this many of its own moves (`open` counts as one). */
  challengerStopsAfter?: number;
}

/** Where a game is played and by whom: the game contract, the verifier behind it, and the two sides' wallets. */
export interface GameTable {
  publicClient: PublicClient;
  rpcUrl: string;
  game: Address;
  /** The game's one-step verifier (the direct computeElement / computePartial calls are estimated against it). */
  verifier: Address;
  claimant: WalletClient<Transport, Chain, Account>;
  challenger: WalletClient<Transport, Chain, Account>;
  /** The game's levelsPerMove. */
  levelsPerMove: number;
  /** The game's per-side clock (a silent side's clock is run out past it). */
  clock: bigint;
}

/**
 * Plays one dispute: the challenger opens a game against the claimant's trace, then each side moves from its own
 * trace when the game's phase says it is its turn. A side that has stopped lets its clock run out (evm_increaseTime)
 * and the other side calls timeout.
 */
export async function playDispute(env: Env, model: QModel, claimantTrace: Trace, challengerTrace: Trace, opts: PlayOptions = {}): Promise<DisputeResult> {
  const s = opts.levelsPerMove ?? 2;
  const game = await deployGame(env, s);
  const transport = http(env.anvil.rpcUrl);
  const wallet = (account: typeof deployer) => createWalletClient({ chain: foundry, transport, account, pollingInterval: 20 });
  const table: GameTable = { publicClient: env.publicClient, rpcUrl: env.anvil.rpcUrl, game, verifier: env.verifier, claimant: wallet(claimantAcct), challenger: wallet(challengerAcct), levelsPerMove: s, clock: CLOCK };
  return playGame(table, model, claimantTrace, challengerTrace, opts, (challenger, cp) => {
    const roots = cp.tensorRoots();
    return challenger.open({
      taskKey: bytesToHex(new Uint8Array(32).fill(7)),
      claimant: table.claimant.account.address,
      traceRoot: cp.traceRoot(),
      modelRoot: modelRootHex(model),
      inputHash: ioDigest(0x06, roots.slice(0, model.inputs.length)),
      outputHash: ioDigest(0x07, roots.slice(-model.outputs.length)),
    });
  });
}

/**
 * Plays a game on `table` to its end: `open` opens it (the challenger's DisputeClient, or a market's challenge on
 * the challenger's behalf; either counts as the challenger's first move) and returns its id, then each side moves
 * from its own trace when the game's phase says it is its turn, through DisputeClient.playMove. Records every game
 * transaction's gas (`open` through the client included, bond approvals excluded).
 */
export async function playGame(
  table: GameTable,
  model: QModel,
  claimantTrace: Trace,
  challengerTrace: Trace,
  opts: PlayOptions,
  open: (challenger: DisputeClient, claimantProvider: StateProvider) => Promise<bigint>,
): Promise<DisputeResult> {
  const s = table.levelsPerMove;
  const { publicClient, game } = table;
  const claimant = new DisputeClient({ publicClient, walletClient: table.claimant, game, pollMs: 10 });
  const challenger = new DisputeClient({ publicClient, walletClient: table.challenger, game, pollMs: 10 });
  const testClient = createTestClient({ chain: foundry, transport: http(table.rpcUrl), mode: 'anvil' });
  const cp: StateProvider = traceStateProvider(model, claimantTrace, buildOneStep);
  const hp: StateProvider = traceStateProvider(model, challengerTrace, buildOneStep);
  const roots = cp.tensorRoots();
  const numIn = model.inputs.length;
  const gameId = await open(challenger, cp);
  let nClaimant = 0;
  let nChallenger = 1; // open
  const result: Partial<DisputeResult> = {};
  const runOut = async (winner: DisputeClient): Promise<void> => {
    await testClient.increaseTime({ seconds: Number(table.clock) + 1 });
    await testClient.mine({ blocks: 1 });
    await winner.timeout(gameId);
  };
  for (;;) {
    const g = await claimant.state(gameId);
    if (g.phase === Phase.Resolved) break;
    // Each side moves through DisputeClient.playMove: the move table the nodes' DisputeMachine plays by too.
    const side = moverOf(g.phase);
    if (side === 'claimant') {
      if (opts.claimantStopsAfter !== undefined && nClaimant >= opts.claimantStopsAfter) {
        await runOut(challenger);
        continue;
      }
      await claimant.playMove(gameId, g, 'claimant', cp, s);
      nClaimant++;
    } else {
      if (opts.challengerStopsAfter !== undefined && nChallenger >= opts.challengerStopsAfter) {
        await runOut(claimant);
        continue;
      }
      const played = await challenger.playMove(gameId, g, 'challenger', hp, s);
      if (!played) throw new Error(`no challenger move in phase ${g.phase}`);
      if (played.move === 'disputeTensor') {
        const t = played.tensorId;
        result.tensorId = t;
        result.nodeIndex = t - numIn;
        result.numElements = sizeOf(model.tensors[t]!.shape);
      } else if (played.move === 'openSums') {
        result.elementIndex = played.elementIndex;
        result.sums = { elementIndex: played.elementIndex, terms: hp.sumTerms(g.nodeIndex, played.elementIndex)! };
      } else if (played.move === 'sumStep') {
        const { from, to, left } = played;
        const e = result.sums!.elementIndex;
        const step = hp.sumStep(g.nodeIndex, e, from, to, left);
        const ordered = model.nodes[g.nodeIndex]!.inputs.map((id) => roots[id]!);
        const computePartialGas = await publicClient.estimateContractGas({
          address: table.verifier,
          abi: oneStepVerifierFullAbi,
          functionName: 'computePartial',
          args: [modelRootHex(model), ordered, step, BigInt(from), BigInt(to), left],
          account: table.challenger.account.address,
        });
        result.sums = { ...result.sums!, from, to, computePartialGas };
      } else if (played.move === 'oneStep') {
        const { elementIndex } = played;
        result.elementIndex = elementIndex;
        // the verification alone, as a direct call with the same arguments the game passed
        const step = hp.oneStep(g.nodeIndex, elementIndex);
        const ordered = model.nodes[g.nodeIndex]!.inputs.map((id) => roots[id]!); // the claimant's input roots
        result.computeElementGas = await publicClient.estimateContractGas({
          address: table.verifier,
          abi: oneStepVerifierFullAbi,
          functionName: 'computeElement',
          args: [modelRootHex(model), ordered, step],
          account: table.challenger.account.address,
        });
      }
      nChallenger++;
    }
  }
  const outcome = await claimant.outcome(gameId);
  const tag = (side: 'claimant' | 'challenger') => (m: MoveRecord) => ({ ...m, side });
  const moves = [...claimant.moves.map(tag('claimant')), ...challenger.moves.map(tag('challenger'))]
    .filter((m) => m.move !== 'approve')
    .sort((a, b) => (a.blockNumber < b.blockNumber ? -1 : a.blockNumber > b.blockNumber ? 1 : 0));
  return { ...result, gameId, outcome, moves, gas: moves.reduce((a, m) => a + m.gasUsed, 0n) };
}

/**
 * 2·log2(elements) + 3: the protocol's bound on a dispute's transactions (docs/protocol.md §Moves), plus, when the
 * challenger opened the partial-sum sub-game on an accumulator of `terms` terms, 2·(reveals − 1) + 2 (sumRounds)
 * (openSums + the claimant's reveals + the picks, the last pick being the sumStep; docs/protocol.md §Partial sums).
 */
export function txBound(elements: number, terms?: number): number {
  const base = 2 * Math.log2(elements) + 3;
  if (terms === undefined) return base;
  return base + 2 * sumRounds(terms);
}

/** Reveals of the partial-sum sub-game over `terms` terms (SUM_ARITY 20, SUM_CHUNK 39). */
export function sumRounds(terms: number, arity = 20, chunk = 39): number {
  let r = 1;
  for (let len = terms; Math.ceil(len / arity) > chunk; len = Math.ceil(len / arity)) r++;
  return r;
}

/** Bisection rounds R = max(1, ceil(D / s)) of a tensor of `elements` elements of `dtype`. */
export function rounds(elements: number, dtype: TensorData['dtype'], s: number): number {
  return Math.max(1, Math.ceil(treeDepth(leafCountOfBytes(elements * elementSize(dtype))) / s));
}

export { Outcome, quantized, type ModelName };
