/**
 * Hiring (docs/protocol.md §Hiring): an agent — the contractor, an ERC-8004 identity with stake — takes a
 * requester's two-stage generation job, does stage 1 itself and subcontracts stage 2 to another agent through the
 * market. Both stages are tiny-gpt generation (src/agents/generate.ts rules: window = last 32 characters, greedy
 * argmax at the last position), each settled as one batch task of k verified inferences:
 *
 *   stage 1: k1 characters continuing the requester's prompt            (the contractor's work)
 *   stage 2: k2 characters continuing prompt ‖ stage 1's FINALIZED text (the subcontractor's work)
 *
 * so the job's answer is exactly what `generate(prompt, k1 + k2)` computes, and each half is a market task with its
 * own worker, fee, stake at risk and reputation record.
 *
 * A batch task commits its element inputs when it is posted, but generation is autoregressive: element i's window
 * depends on the characters generated before it. Each stage therefore runs quote → post → claim → commit → deliver:
 *   1. the hired worker QUOTES the k characters it will generate (running the model locally);
 *   2. the poster derives window_i = windowOf(prompt ‖ text[0..i)) from the quote and posts the batch task with
 *      inputHash_i = inputHashOf([window_i]) (stageWindows / stageInputHashes);
 *   3. the worker claims it, runs the model on the posted windows, commits the positional root of
 *      resultLeaf(i, outputHash_i, traceRoot_i) (commitBatch) and DELIVERS the leaves with the logits;
 *   4. the poster checks the delivery without running the model (checkDelivery): the leaves reproduce the on-chain
 *      root, each logits tensor hashes to its outputHash, and argmax(logits_i) is the quoted text[i] — so the text
 *      is the true generation iff every element's logits are the model's output on its window, which is exactly
 *      what the market lets anyone challenge (one element, one op, one element of that op, on-chain);
 *   5. a verifier agent re-executes every element (VerifierAgent.audit), challenges the first wrong one, plays the
 *      dispute game to the end with the real OneStepVerifier and resolves it: the worker's locked stake is slashed
 *      (half to the verifier), the fee goes back to the poster, the worker's reputation gets ("dispute","lost") −1;
 *   6. otherwise the window passes and the task finalizes: fee to the worker, ("task","finalized") +1.
 *
 * Money: the requester pays the job fee through stage 1's task (poster = requester, worker = contractor); the
 * contractor pays the subcontractor's fee from its own funds through stage 2's task (poster = contractor). After a
 * lie at stage 2 the contractor re-posts stage 2 (fee refunded to it by the invalidation) to the next subcontractor;
 * the requester receives prompt-continuation = stage 1 text ‖ stage 2 text of the finalized tasks.
 *
 * Everything runs in one process against an EmbeddedChain (anvil): the agents' actions are called in protocol order
 * by runPipeline. Deliveries are handed over in memory (the data-availability channel of a real deployment).
 */
import { erc20Abi, type Address, type Hex } from 'viem';
import {
  challengeResult,
  claimTask,
  commitBatch,
  finalizeTask,
  postBatchTask,
  registerAgent,
  resolveDispute,
  stake,
} from '../chain/actions/index.js';
import { disputeGameAbi, reputationRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import { inputHashOf, outputHashOf } from '../chain/io.js';
import { sendContractTransaction } from '../chain/send.js';
import type { ProtocolClients } from '../chain/types.js';
import { traceRootHex } from '../commit/index.js';
import { DisputeClient, Outcome, traceStateProvider, type MoveRecord } from '../dispute/index.js';
import type { TensorData, Trace } from '../engine/ir.js';
import { outputsOf, runModel } from '../engine/run.js';
import { BaseError } from '../errors.js';
import { quantizeInput } from '../onnx/io.js';
import { buildOneStep } from '../verifier/index.js';
import type { EmbeddedChain } from './embedded.js';
import { buildRegistration, registrationDataUri } from './registration.js';
import { batchTrees, encode, nextId, windowOf, type TinyGpt } from './generate.js';

export class PipelineError extends BaseError {
  override name = 'PipelineError';
}

/** TaskMarket.TaskStatus (generated from the contract, src/chain/enums.ts). */
export { TaskStatus } from '../chain/enums.js';
import { TaskStatus } from '../chain/enums.js';

// ------------------------------------------------------------------ stage work (pure)

/** The windows a poster derives from a quoted continuation: window_i = windowOf(prompt ‖ text[0..i)). */
export function stageWindows(gpt: TinyGpt, prompt: string, text: string): number[][] {
  const ids = encode(gpt, prompt);
  const gen = encode(gpt, text);
  return gen.map((_, i) => windowOf(gpt, [...ids, ...gen.slice(0, i)]));
}

/** inputHash of each element of a stage's batch task (what postBatchTask commits). */
export function stageInputHashes(gpt: TinyGpt, prompt: string, text: string): Hex[] {
  return stageWindows(gpt, prompt, text).map((w) => inputHashOf([quantizeInput(gpt.model, w)]));
}

/** One element of a stage as a worker computed it (the full trace is kept to defend it in a dispute). */
export interface WorkStep {
  index: number;
  window: number[];
  trace: Trace;
  outputs: TensorData[];
  outputHash: Hex;
  traceRoot: Hex;
  /** argmax of the logits at the last window position, and its character. */
  id: number;
  char: string;
}

/**
 * A dishonest worker's change to the trace of element `index` (return the lying trace, or undefined to leave the
 * element honest). Used by tests to build liars; honest workers have none.
 */
export type Tamper = (element: { index: number; window: readonly number[]; trace: Trace }) => Trace | undefined;

function runStep(gpt: TinyGpt, index: number, window: number[], tamper?: Tamper): WorkStep {
  let trace = runModel(gpt.prepared, [quantizeInput(gpt.model, window)]);
  trace = tamper?.({ index, window, trace }) ?? trace;
  const outputs = outputsOf(gpt.prepared, trace);
  const id = nextId(gpt, outputs[0]!);
  return { index, window, trace, outputs, outputHash: outputHashOf(outputs), traceRoot: traceRootHex(trace), id, char: gpt.vocab[id]! };
}

/** Generates k characters after `prompt` (the generate.ts rules), keeping every element's trace. */
export function generateStage(gpt: TinyGpt, prompt: string, k: number, tamper?: Tamper): WorkStep[] {
  if (!Number.isInteger(k) || k < 1 || k > 1024) throw new PipelineError(`Cannot generate ${k} characters in one stage.`, { hint: 'Give an integer in 1..1024.' });
  const ids = encode(gpt, prompt);
  const steps: WorkStep[] = [];
  for (let i = 0; i < k; i++) {
    const s = runStep(gpt, i, windowOf(gpt, ids), tamper);
    steps.push(s);
    ids.push(s.id);
  }
  return steps;
}

/** Runs the model on given windows (a posted task's elements). */
export function executeWindows(gpt: TinyGpt, windows: readonly number[][], tamper?: Tamper): WorkStep[] {
  return windows.map((w, i) => runStep(gpt, i, w, tamper));
}

// ------------------------------------------------------------------ deliveries

/** What a worker hands to its poster after committing a stage (the element results behind the on-chain root). */
export interface Delivery {
  stage: 1 | 2;
  taskId: bigint;
  agentId: bigint;
  worker: Address;
  /** The text the stage continues and the quoted continuation (the posted windows derive from both). */
  prompt: string;
  text: string;
  /** Per element: the committed leaf and the logits tensor(s) behind outputHash. */
  results: { outputHash: Hex; traceRoot: Hex; outputs: TensorData[] }[];
  /** The committed positional root (TaskMarket task.resultRoot). */
  resultRoot: Hex;
}

async function readTask(clients: Pick<ProtocolClients, 'publicClient' | 'addresses'>, taskId: bigint) {
  return clients.publicClient.readContract({ address: clients.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [taskId] });
}

/**
 * Checks a delivery against the market without running the model: the task's input root is the windows of
 * prompt ‖ text, its worker/agent are the delivery's, its result root is the delivered leaves', every logits tensor
 * hashes to its leaf's outputHash, and argmax of element i's logits is text[i]. With `finalized`, the task must also
 * be Finalized (its window closed with no successful challenge). Throws PipelineError.
 */
export async function checkDelivery(
  clients: Pick<ProtocolClients, 'publicClient' | 'addresses'>,
  gpt: TinyGpt,
  d: Delivery,
  opts: { finalized?: boolean } = {},
): Promise<void> {
  const fail = (what: string, details: string): never => {
    throw new PipelineError(`Delivery of stage ${d.stage} (task ${d.taskId}) rejected: ${what}.`, { details });
  };
  const t = await readTask(clients, d.taskId);
  const ids = encode(gpt, d.text);
  if (t.itemCount !== ids.length || d.results.length !== ids.length) fail('element count', `task ${t.itemCount}, text ${ids.length}, results ${d.results.length}`);
  if (t.worker.toLowerCase() !== d.worker.toLowerCase() || t.agentId !== d.agentId) fail('worker', `task worker ${t.worker} agent ${t.agentId}`);
  const inputHashes = stageInputHashes(gpt, d.prompt, d.text);
  const { inputTree, resultTree } = batchTrees(d.results.map((r, i) => ({ inputHash: inputHashes[i]!, outputHash: r.outputHash, traceRoot: r.traceRoot })));
  if (inputTree.root !== t.inputRoot) fail('the posted inputs are not the windows of prompt ‖ text', `task inputRoot ${t.inputRoot}, derived ${inputTree.root}`);
  if (resultTree.root !== t.resultRoot || d.resultRoot !== t.resultRoot) fail('the leaves are not the committed root', `task resultRoot ${t.resultRoot}, leaves ${resultTree.root}`);
  d.results.forEach((r, i) => {
    if (outputHashOf(r.outputs) !== r.outputHash) fail('logits do not hash to the committed outputHash', `element ${i}`);
    const id = nextId(gpt, r.outputs[0]!);
    if (id !== ids[i]) fail('the committed logits do not decode to the text', `element ${i}: argmax ${JSON.stringify(gpt.vocab[id])}, text ${JSON.stringify(d.text[i])}`);
  });
  if (opts.finalized && t.status !== TaskStatus.Finalized) fail('the task is not finalized', `status ${t.status}`);
}

// ------------------------------------------------------------------ agents

/** An account on the protocol, optionally an ERC-8004 agent with stake. */
export class MarketAgent {
  readonly name: string;
  readonly clients: ProtocolClients;
  readonly address: Address;
  agentId: bigint | undefined;

  constructor(name: string, clients: ProtocolClients) {
    this.name = name;
    this.clients = clients;
    this.address = clients.walletClient.account.address;
  }

  /** Registers the ERC-8004 identity (agent card as a data: URI) and stakes `stakeAmount` if given. */
  async register(opts: { stake?: bigint; description?: string } = {}): Promise<bigint> {
    // ERC-8004 registration file in the spec's form (no services: the pipeline's stages run in-process).
    const reg = buildRegistration({ name: this.name, description: opts.description ?? '', services: [], supportedTrust: ['reputation', 'crypto-economic'] });
    const { agentId } = await registerAgent(this.clients, { agentURI: registrationDataUri(reg) });
    this.agentId = agentId;
    if (opts.stake) await stake(this.clients, { amount: opts.stake });
    return agentId;
  }

  protected requireAgent(): bigint {
    if (this.agentId === undefined) throw new PipelineError(`${this.name} has no ERC-8004 identity.`, { hint: 'Call register() first.' });
    return this.agentId;
  }

  /** Withdraws everything the market credited to this account (fee payouts, refunds, slash shares). */
  async withdraw(): Promise<bigint> {
    const { taskMarket } = this.clients.addresses;
    const amount = await this.clients.publicClient.readContract({ address: taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [this.address] });
    if (amount > 0n) await sendContractTransaction(this.clients, { contract: 'TaskMarket', address: taskMarket, abi: taskMarketAbi, functionName: 'withdraw', args: [] });
    return amount;
  }

  disputeClient(): DisputeClient {
    return new DisputeClient({ publicClient: this.clients.publicClient, walletClient: this.clients.walletClient, game: this.clients.addresses.disputeGame, pollMs: 10 });
  }
}

/** A worker that sells tiny-gpt generation stages (honest unless given a Tamper). */
export class GenerationWorker extends MarketAgent {
  readonly gpt: TinyGpt;
  private readonly tamper: Tamper | undefined;
  private readonly work = new Map<bigint, WorkStep[]>();

  constructor(name: string, clients: ProtocolClients, gpt: TinyGpt, opts: { tamper?: Tamper } = {}) {
    super(name, clients);
    this.gpt = gpt;
    this.tamper = opts.tamper;
  }

  /** The continuation this worker will deliver for (prompt, k): what the poster derives the task's windows from. */
  quote(prompt: string, k: number): string {
    return generateStage(this.gpt, prompt, k, this.tamper)
      .map((s) => s.char)
      .join('');
  }

  /** Claims a posted stage task, runs the model on its windows, commits the batch, returns the delivery. */
  async serve(stage: 1 | 2, taskId: bigint, prompt: string, text: string): Promise<Delivery> {
    const agentId = this.requireAgent();
    await claimTask(this.clients, { taskId, agentId });
    const steps = executeWindows(this.gpt, stageWindows(this.gpt, prompt, text), this.tamper);
    this.work.set(taskId, steps);
    const c = await commitBatch(this.clients, { taskId, results: steps });
    return {
      stage,
      taskId,
      agentId,
      worker: this.address,
      prompt,
      text,
      results: steps.map((s) => ({ outputHash: s.outputHash, traceRoot: s.traceRoot, outputs: s.outputs })),
      resultRoot: c.resultTree.root,
    };
  }

  /**
   * Plays the claimant's side of the game over element `index` of task `taskId`, from this worker's own trace (a
   * liar defends its lie to the end); returns the outcome and its game transactions.
   */
  async defend(gameId: bigint, taskId: bigint, index: number): Promise<{ outcome: number; moves: MoveRecord[] }> {
    const step = this.work.get(taskId)?.[index];
    if (!step) throw new PipelineError(`${this.name} has no work for element ${index} of task ${taskId}.`);
    const me = this.disputeClient();
    const outcome = await me.playClaimant(gameId, traceStateProvider(this.gpt.model, step.trace, buildOneStep));
    return { outcome, moves: me.moves };
  }
}

/** The outcome of one dispute played to the end. */
export interface DisputeRecord {
  disputeId: bigint;
  gameId: bigint;
  /** Challenged batch element. */
  index: number;
  /** The verifier (challenger). */
  challenger: string;
  outcome: number;
  /** Node whose output tensor was disputed. */
  nodeIndex: number;
  /** The element of it the one-step verifier re-executed on-chain: the liar's value and the computed one. */
  oneStep: { elementIndex: number; claimed: number; computed: number } | undefined;
  slashed: bigint;
  challengerShare: bigint;
  refund: bigint;
  /** Every transaction of the dispute in block order (challenge, both sides' game moves, resolve; no approvals). */
  moves: string[];
  gas: bigint;
}

/** Re-executes committed stages and challenges the first wrong element. Needs no stake (it posts the game bond). */
export class VerifierAgent extends MarketAgent {
  readonly gpt: TinyGpt;

  constructor(name: string, clients: ProtocolClients, gpt: TinyGpt) {
    super(name, clients);
    this.gpt = gpt;
  }

  /**
   * Re-executes every element of a delivered stage on its posted windows and returns the indices whose committed
   * (outputHash, traceRoot) differ from the honest run. Throws if the delivery does not match the chain (then its
   * elements cannot be proven in a challenge).
   */
  async audit(d: Delivery): Promise<number[]> {
    const t = await readTask(this.clients, d.taskId);
    const inputHashes = stageInputHashes(this.gpt, d.prompt, d.text);
    const { inputTree, resultTree } = batchTrees(d.results.map((r, i) => ({ inputHash: inputHashes[i]!, ...r })));
    if (inputTree.root !== t.inputRoot || resultTree.root !== t.resultRoot) {
      throw new PipelineError(`Cannot audit task ${d.taskId}: the delivery does not reproduce the task's roots.`, {
        details: `inputRoot ${t.inputRoot} vs ${inputTree.root}; resultRoot ${t.resultRoot} vs ${resultTree.root}`,
      });
    }
    const honest = executeWindows(this.gpt, stageWindows(this.gpt, d.prompt, d.text));
    return honest.flatMap((h, i) => (h.outputHash !== d.results[i]!.outputHash || h.traceRoot !== d.results[i]!.traceRoot ? [i] : []));
  }

  /**
   * Challenges element `index` of a delivered stage, plays the game to the end against `defend` (the worker's
   * claimant side, run concurrently) with the real one-step verifier, and resolves the dispute on the market.
   */
  async dispute(
    d: Delivery,
    index: number,
    defend: (gameId: bigint) => Promise<{ outcome: number; moves: MoveRecord[] }>,
    timeoutMs = 120_000,
  ): Promise<DisputeRecord> {
    const inputHashes = stageInputHashes(this.gpt, d.prompt, d.text);
    const { inputTree, resultTree } = batchTrees(d.results.map((r, i) => ({ inputHash: inputHashes[i]!, ...r })));
    const r = d.results[index]!;
    const c = await challengeResult(this.clients, {
      taskId: d.taskId,
      index,
      inputHash: inputHashes[index]!,
      inputProof: inputTree.proof(index),
      outputHash: r.outputHash,
      traceRoot: r.traceRoot,
      resultProof: resultTree.proof(index),
    });
    const window = stageWindows(this.gpt, d.prompt, d.text)[index]!;
    const honest = runModel(this.gpt.prepared, [quantizeInput(this.gpt.model, window)]);
    const me = this.disputeClient();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PipelineError(`Dispute ${c.disputeId} (game ${c.gameId}) was not decided within ${timeoutMs} ms.`)), timeoutMs);
    });
    let outcome: number;
    let theirs: MoveRecord[];
    try {
      [outcome, { moves: theirs }] = await Promise.race([
        Promise.all([me.playChallenger(c.gameId, traceStateProvider(this.gpt.model, honest, buildOneStep)), defend(c.gameId)]),
        limit,
      ]);
    } finally {
      clearTimeout(timer);
    }
    const g = await me.state(c.gameId);
    // the one-step re-execution, if the game got there: ElementChecked(gameId, tensorId, element, claimed, computed)
    const checked = (
      await this.clients.publicClient.getContractEvents({
        address: this.clients.addresses.disputeGame,
        abi: disputeGameAbi,
        eventName: 'ElementChecked',
        args: { gameId: c.gameId },
        fromBlock: c.receipt.blockNumber,
      })
    )[0]?.args;
    const res = await resolveDispute(this.clients, { disputeId: c.disputeId });
    const game = [...me.moves, ...theirs].filter((m) => m.move !== 'approve').sort((a, b) => (a.blockNumber < b.blockNumber ? -1 : a.blockNumber > b.blockNumber ? 1 : 0));
    return {
      disputeId: c.disputeId,
      gameId: c.gameId,
      index,
      challenger: this.name,
      outcome,
      nodeIndex: g.nodeIndex,
      oneStep: checked ? { elementIndex: Number(checked.elementIndex!), claimed: Number(checked.claimed!), computed: Number(checked.computed!) } : undefined,
      slashed: res.invalidated?.slashed ?? 0n,
      challengerShare: res.invalidated?.challengerShare ?? 0n,
      refund: res.invalidated?.refund ?? 0n,
      moves: ['challenge', ...game.map((m) => m.move), 'resolve'],
      gas: c.receipt.gasUsed + game.reduce((a, m) => a + m.gasUsed, 0n) + res.receipt.gasUsed,
    };
  }
}

// ------------------------------------------------------------------ the pipeline

export interface PipelineJob {
  /** Text to continue (tiny-gpt vocabulary). */
  prompt: string;
  /** Characters of stage 1 (contractor) and stage 2 (subcontractor). */
  k1: number;
  k2: number;
  /** Job fee the requester pays through stage 1's task. */
  fee: bigint;
  /** Fee the contractor pays per stage-2 task. */
  subFee: bigint;
}

/** One posted stage task and what became of it. */
export interface StageAttempt {
  stage: 1 | 2;
  taskId: bigint;
  poster: string;
  worker: string;
  agentId: bigint;
  fee: bigint;
  /** The worker's quoted continuation. */
  text: string;
  status: 'finalized' | 'invalidated' | 'rejected';
  /** Finalized: fee credited to the worker and to the treasury. */
  payout?: bigint;
  protocolFee?: bigint;
  dispute?: DisputeRecord;
  error?: string;
}

export interface PipelineResult {
  prompt: string;
  /** What the requester receives: stage 1 text ‖ stage 2 text, both from finalized tasks. */
  text: string;
  /** The accepted (finalized) delivery of each stage. */
  deliveries: [Delivery, Delivery];
  /** Every task posted, in order (including invalidated ones). */
  attempts: StageAttempt[];
}

export interface PipelineOptions {
  chain: EmbeddedChain;
  gpt: TinyGpt;
  requester: MarketAgent;
  /** Does stage 1 and hires stage 2. */
  contractor: GenerationWorker;
  /** Hired for stage 2 in this order until one delivers a stage that finalizes. */
  subcontractors: readonly GenerationWorker[];
  /** Watches every committed stage. */
  verifier: VerifierAgent;
  job: PipelineJob;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Bound on one dispute's play (ms, default 120 s). */
  disputeTimeoutMs?: number;
  /** Receives every stage attempt as it is posted (also when the pipeline fails). */
  attempts?: StageAttempt[];
}

/** Runs one hiring pipeline end to end (see the module comment); throws PipelineError if a stage finds no worker. */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const { chain, gpt, job } = o;
  const log = o.log ?? (() => undefined);
  const modelId = await chain.ensureModel(gpt.model);
  const attempts: StageAttempt[] = o.attempts ?? [];

  const runStage = async (stage: 1 | 2, poster: MarketAgent, prompt: string, k: number, fee: bigint, workers: readonly GenerationWorker[]): Promise<Delivery> => {
    for (const w of workers) {
      const text = w.quote(prompt, k); // the worker's quote
      const deadline = (await chain.publicClient.getBlock()).timestamp + 3_600n;
      const post = await postBatchTask(poster.clients, { modelId, inputHashes: stageInputHashes(gpt, prompt, text), fee, deadline });
      log(`stage ${stage}: ${poster.name} posts task ${post.taskId} (${k} elements, fee ${fmt(fee)}) for ${w.name}'s quote ${JSON.stringify(text)}`);
      const d = await w.serve(stage, post.taskId, prompt, text);
      log(`stage ${stage}: ${w.name} (agent ${d.agentId}) claims and commits root ${d.resultRoot.slice(0, 10)}…`);
      const a: StageAttempt = { stage, taskId: post.taskId, poster: poster.name, worker: w.name, agentId: d.agentId, fee, text, status: 'rejected' };
      attempts.push(a);
      try {
        await checkDelivery(poster.clients, gpt, d); // the poster: the delivery is what was committed and decodes to the quote
      } catch (e) {
        a.error = (e as Error).message;
        log(`stage ${stage}: ${poster.name} rejects the delivery: ${(e as BaseError).shortMessage ?? a.error}`);
        continue;
      }
      const bad = await o.verifier.audit(d);
      if (bad.length > 0) {
        log(`stage ${stage}: ${o.verifier.name} re-executes: element(s) ${bad.join(', ')} differ — challenges element ${bad[0]}`);
        const rec = await o.verifier.dispute(d, bad[0]!, (gameId) => w.defend(gameId, d.taskId, bad[0]!), o.disputeTimeoutMs);
        a.dispute = rec;
        if (rec.outcome !== Outcome.ChallengerWon) {
          throw new PipelineError(`The verifier lost its challenge of task ${d.taskId} element ${rec.index}.`, { details: `outcome ${rec.outcome}` });
        }
        a.status = 'invalidated';
        log(
          `stage ${stage}: game ${rec.gameId} → ChallengerWon: node ${rec.nodeIndex}, element ${rec.oneStep?.elementIndex} re-executed ` +
            `on-chain: claimed ${rec.oneStep?.claimed}, computed ${rec.oneStep?.computed} ` +
            `(${rec.moves.join(' → ')}: ${rec.moves.length} txs, ${rec.gas} gas)`,
        );
        log(
          `stage ${stage}: task ${d.taskId} invalidated: ${w.name} slashed ${fmt(rec.slashed)}, ` +
            `${o.verifier.name} credited ${fmt(rec.challengerShare)}, ${poster.name} refunded ${fmt(rec.refund)}`,
        );
        continue;
      }
      log(`stage ${stage}: ${o.verifier.name} re-executes all ${k} elements: no disagreement`);
      await chain.warp((await chain.challengeWindowSeconds()) + 1n);
      const fin = await finalizeTask(w.clients, { taskId: d.taskId });
      a.status = 'finalized';
      a.payout = fin.workerPayout;
      a.protocolFee = fin.protocolFee;
      log(`stage ${stage}: task ${d.taskId} finalized: ${w.name} credited ${fmt(fin.workerPayout)} (+1 reputation)`);
      return d;
    }
    throw new PipelineError(`No worker delivered stage ${stage}.`, { details: `tried ${workers.map((w) => w.name).join(', ')}` });
  };

  // Stage 1: the requester's task, done by the contractor.
  const d1 = await runStage(1, o.requester, job.prompt, job.k1, job.fee, [o.contractor]);
  // The contractor funds the subcontract from what it earned (withdraws its credited payout first).
  await o.contractor.withdraw();
  // Stage 2: the contractor's task; its input is stage 1's finalized text.
  const d2 = await runStage(2, o.contractor, job.prompt + d1.text, job.k2, job.subFee, o.subcontractors);
  // The requester accepts only finalized, self-consistent stages chained on each other.
  await checkDelivery(o.requester.clients, gpt, d1, { finalized: true });
  await checkDelivery(o.requester.clients, gpt, d2, { finalized: true });
  if (d2.prompt !== job.prompt + d1.text) throw new PipelineError('Stage 2 does not continue stage 1.');
  log(`requester receives ${JSON.stringify(d1.text + d2.text)} (tasks ${d1.taskId} + ${d2.taskId})`);
  return { prompt: job.prompt, text: d1.text + d2.text, deliveries: [d1, d2], attempts };
}

// ------------------------------------------------------------------ standings

/** What an account holds on the protocol and its market-written reputation. */
export interface Standing {
  name: string;
  agentId: bigint | undefined;
  /** Wallet VRT. */
  wallet: bigint;
  /** Credited by the market, not withdrawn (payouts, refunds, slash shares). */
  claimable: bigint;
  /** Credited by the dispute game (won bonds). */
  gameCredit: bigint;
  staked: bigint;
  /** wallet + claimable + gameCredit + staked. */
  total: bigint;
  /** ("task","finalized") and ("dispute","lost") feedback counts, and the sum of all feedback values. */
  finalized: number;
  lost: number;
  score: number;
}

export async function standing(agent: MarketAgent): Promise<Standing> {
  const { publicClient, addresses: a } = agent.clients;
  const [wallet, claimable, gameCredit, acct] = await Promise.all([
    publicClient.readContract({ address: a.token, abi: erc20Abi, functionName: 'balanceOf', args: [agent.address] }),
    publicClient.readContract({ address: a.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [agent.address] }),
    publicClient.readContract({ address: a.disputeGame, abi: disputeGameAbi, functionName: 'credit', args: [agent.address] }),
    publicClient.readContract({ address: a.staking, abi: stakingAbi, functionName: 'accountOf', args: [agent.address] }),
  ]);
  let finalized = 0;
  let lost = 0;
  let score = 0;
  if (agent.agentId !== undefined) {
    const sum = (tag1: string, tag2: string) =>
      publicClient.readContract({ address: a.reputationRegistry, abi: reputationRegistryAbi, functionName: 'getSummary', args: [agent.agentId!, [a.taskMarket], tag1, tag2] });
    const [all, fin, lst] = await Promise.all([sum('', ''), sum('task', 'finalized'), sum('dispute', 'lost')]);
    finalized = Number(fin[0]);
    lost = Number(lst[0]);
    score = Math.round((Number(all[0]) * Number(all[1])) / 10 ** Number(all[2]));
  }
  const staked = BigInt(acct.staked);
  return { name: agent.name, agentId: agent.agentId, wallet, claimable, gameCredit, staked, total: wallet + claimable + gameCredit + staked, finalized, lost, score };
}

/** VRT with up to 2 decimals. */
export function fmt(wei: bigint): string {
  const neg = wei < 0n;
  const v = neg ? -wei : wei;
  const whole = v / 10n ** 18n;
  const cents = (v % 10n ** 18n) / 10n ** 16n;
  return `${neg ? '-' : ''}${whole}${cents ? `.${String(cents).padStart(2, '0').replace(/0$/, '')}` : ''} VRT`;
}

/**
 * A plain-text table of per-agent changes between two standings snapshots: fees earned (finalize payouts) and paid
 * (fees of the tasks it posted, net of refunds), stake before → after, slashed, challenger share of slashes,
 * reputation (finalized / disputes lost / score delta), and the net change of everything it holds (wallet + market credit + game credit + stake: slashes, slash
 * shares and bonds included).
 */
export function standingsTable(agents: readonly MarketAgent[], before: readonly Standing[], after: readonly Standing[], attempts: readonly StageAttempt[]): string {
  const rows = agents.map((ag, i) => {
    const b = before[i]!;
    const x = after[i]!;
    const earned = attempts.filter((t) => t.worker === ag.name && t.status === 'finalized').reduce((s, t) => s + t.payout!, 0n);
    const paid = attempts.filter((t) => t.poster === ag.name).reduce((s, t) => s + t.fee - (t.dispute?.refund ?? 0n), 0n);
    const slashed = attempts.filter((t) => t.worker === ag.name).reduce((s, t) => s + (t.dispute?.slashed ?? 0n), 0n);
    const share = attempts.filter((t) => t.dispute?.challenger === ag.name).reduce((s, t) => s + t.dispute!.challengerShare, 0n);
    return [
      ag.name,
      ag.agentId === undefined ? '-' : String(ag.agentId),
      fmt(earned),
      fmt(paid),
      `${fmt(b.staked)} → ${fmt(x.staked)}`,
      slashed ? `-${fmt(slashed)}` : '',
      share ? `+${fmt(share)}` : '',
      `+${x.finalized - b.finalized} / ${x.lost - b.lost} / ${x.score - b.score >= 0 ? '+' : ''}${x.score - b.score}`,
      `${x.total - b.total >= 0n ? '+' : ''}${fmt(x.total - b.total)}`,
    ];
  });
  const head = ['agent', 'id', 'fees earned', 'fees paid', 'stake before → after', 'slashed', 'slash share', 'rep fin/lost/score', 'net VRT'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
