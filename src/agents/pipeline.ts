/**
 * Hiring (docs/protocol.md §Hiring) over real nodes: an agent — the contractor, an ERC-8004 identity — takes a
 * requester's two-stage generation job and subcontracts stage 2 through the market. Both stages are tiny-gpt
 * generation (src/agents/generate.ts rules: window = last 32 characters, greedy argmax at the last position), each
 * settled as one batch task of k verified inferences:
 *
 *   stage 1: k1 characters continuing the requester's prompt            (posted by the requester)
 *   stage 2: k2 characters continuing prompt ‖ stage 1's FINALIZED text (posted by the contractor)
 *
 * so the job's answer is exactly what `generate(prompt, k1 + k2)` computes, and each half is a market task with its
 * own poster, worker, fee, stake at risk and reputation record.
 *
 * Every party is a node, each its own process (`verity node run`): the posters' requester nodes, worker nodes,
 * verifier nodes. The agent that runs the pipeline (runPipeline) knows no URL: it finds every endpoint through the
 * chain's ERC-8004 registrations (agent URI → registration file → `verity-node` service with its role,
 * src/agents/discovery.ts). A batch task commits its element inputs when it is posted, but generation is
 * autoregressive (element i's window depends on the characters before it), so each stage runs
 * quote → post → claim → commit → verify → finalize:
 *   1. a live worker node QUOTES the k characters (POST /run, unverified, k times);
 *   2. the poster's node posts the windows window_i = windowOf(prompt ‖ text[0..i)) as one batch task
 *      (POST /batches, inputHash_i = inputHashOf([window_i]): stageWindows / stageInputHashes);
 *   3. a worker node claims it, runs the model on the posted windows and commits the positional root of
 *      resultLeaf(i, outputHash_i); the poster's node fetches the element results from it;
 *   4. verifier nodes re-execute every element; one that differs is challenged and the dispute game played by the
 *      nodes' own dispute machines down to the one-step verifier: the liar's locked stake is slashed (half to the
 *      verifier), the fee refunded to the poster, the liar's reputation gets ("dispute","lost") −1, and the stage
 *      is hired again from another live worker node (never the liar);
 *   5. otherwise the window passes and the task finalizes: fee to the worker, ("task","finalized") +1; the
 *      finalized results are checked against the chain without running the model (checkDelivery: the posted
 *      inputs are the windows of prompt ‖ text, the leaves give the committed root, each logits tensor hashes to
 *      its outputHash and decodes to the quoted character).
 */
import { createPublicClient, erc20Abi, http, type Address, type Hex, type PublicClient } from 'viem';
import { disputeGameAbi, identityRegistryAbi, reputationRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import { eventsIn } from '../chain/call.js';
import { TaskStatus } from '../chain/enums.js';
import { inputHashOf, outputHashOf } from '../chain/io.js';
import type { ProtocolAddresses, ProtocolClients } from '../chain/types.js';
import { BaseError } from '../errors.js';
import { quantizeInput } from '../onnx/io.js';
import { tensorFromJson, tensorToJson, type TensorJson } from '../views/tensor.js';
import type { TensorData } from '../engine/ir.js';
import { PeerDiscovery } from './discovery.js';
import { batchTrees, encode, nextId, windowOf, type TinyGpt } from './generate.js';

export class PipelineError extends BaseError {
  override name = 'PipelineError';
}

// ------------------------------------------------------------------ stage windows (pure)

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
  results: { outputHash: Hex; outputs: TensorData[] }[];
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
  const { inputTree, resultTree } = batchTrees(d.results.map((r, i) => ({ inputHash: inputHashes[i]!, outputHash: r.outputHash })));
  if (inputTree.root !== t.inputRoot) fail('the posted inputs are not the windows of prompt ‖ text', `task inputRoot ${t.inputRoot}, derived ${inputTree.root}`);
  if (resultTree.root !== t.resultRoot || d.resultRoot !== t.resultRoot) fail('the leaves are not the committed root', `task resultRoot ${t.resultRoot}, leaves ${resultTree.root}`);
  d.results.forEach((r, i) => {
    if (outputHashOf(r.outputs) !== r.outputHash) fail('logits do not hash to the committed outputHash', `element ${i}`);
    const id = nextId(gpt, r.outputs[0]!);
    if (id !== ids[i]) fail('the committed logits do not decode to the text', `element ${i}: argmax ${JSON.stringify(gpt.vocab[id])}, text ${JSON.stringify(d.text[i])}`);
  });
  if (opts.finalized && t.status !== TaskStatus.Finalized) fail('the task is not finalized', `status ${t.status}`);
}

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
// ------------------------------------------------------------------ the pipeline over nodes

export interface PipelineOptions {
  rpcUrl: string;
  addresses: ProtocolAddresses;
  gpt: TinyGpt;
  job: PipelineJob;
  /** The accounts whose requester nodes post stage 1 (the job's requester) and stage 2 (the contractor). */
  requester: Address;
  contractor: Address;
  log?: (line: string) => void;
  /** Called (and awaited) as each stage task ends, finalized or invalidated. */
  onAttempt?: (a: StageAttempt) => Promise<void> | void;
  /** Receives every stage attempt as it ends (also when the pipeline fails). */
  attempts?: StageAttempt[];
  /** Poll interval and bound per stage task (default 250 ms, 5 min). */
  pollMs?: number;
  stageTimeoutMs?: number;
}

/** One posted stage task and what became of it. */
export interface StageAttempt {
  stage: 1 | 2;
  poster: Address;
  /** The poster's requester node and the worker node that quoted, as found through the registrations. */
  posterUrl: string;
  quoteUrl: string;
  /** The poster node's request id and the market's task id. */
  requestId: string;
  taskId: bigint;
  /** The worker that claimed and committed it, and its agent. */
  worker: Address;
  agentId: bigint;
  /** The quoted continuation the posted windows derive from. */
  text: string;
  status: 'finalized' | 'invalidated';
  fee: bigint;
  /** Finalized: what the market credited the worker and the treasury (TaskFinalized). */
  payout?: bigint;
  protocolFee?: bigint;
  /** Invalidated: the challenger that won, the liar's slashed stake, the challenger's share, the poster's refund (TaskInvalidated). */
  invalidated?: { challenger: Address; slashed: bigint; challengerShare: bigint; refund: bigint };
  txs: Record<string, string>;
}

export interface Stage extends StageAttempt {
  status: 'finalized';
  delivery: Delivery;
}

export interface PipelineResult {
  prompt: string;
  text: string;
  stages: [Stage, Stage];
  /** Every stage task posted, in order (invalidated ones included). */
  attempts: StageAttempt[];
}

async function call<T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<{ status: number; json: T }> {
  const r = await fetch(url, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return { status: r.status, json: (await r.json()) as T };
}

async function ok<T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  const r = await call<T & { message?: string }>(url, method, body);
  if (r.status >= 400) throw new PipelineError(`${method} ${url} answered ${r.status}.`, { details: r.json.message ?? '' });
  return r.json;
}

/** Runs the two-stage job over the nodes the chain lists (see the module comment). */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const { gpt, job } = o;
  const log = o.log ?? (() => undefined);
  const publicClient = createPublicClient({ transport: http(o.rpcUrl) }) as PublicClient;
  const clients = { publicClient, addresses: o.addresses };
  const discovery = new PeerDiscovery({ client: publicClient, identityRegistry: o.addresses.identityRegistry });
  await discovery.refresh();

  /** The live endpoint of the node with `role` owned by `owner`. */
  const find = (role: string, owner: Address): string => {
    const url = discovery.ordered({ role, owner }).find((u) => discovery.describe(u)?.role === role && discovery.describe(u)?.owner === owner.toLowerCase());
    if (!url) throw new PipelineError(`No live ${role} node of ${owner} is registered on this chain.`, { hint: 'Start one with `verity node run --role …`: it announces its API in its agent’s registration file.' });
    return url;
  };

  /** A worker node's quote of k characters after `prompt` (k unverified runs, generate.ts rules). */
  const quote = async (url: string, prompt: string, k: number): Promise<string> => {
    const ids = encode(gpt, prompt);
    let text = '';
    for (let i = 0; i < k; i++) {
      const r = await ok<{ outputs: TensorJson[] }>(`${url}/run`, 'POST', { model: gpt.modelRoot, inputs: [tensorToJson(quantizeInput(gpt.model, windowOf(gpt, ids)))] });
      const id = nextId(gpt, tensorFromJson(r.outputs[0]!));
      ids.push(id);
      text += gpt.vocab[id]!;
    }
    return text;
  };

  const attempts: StageAttempt[] = o.attempts ?? [];
  /** Owners of workers whose stage task a challenger invalidated: not hired again for the job. */
  const liars = new Set<string>();

  /** One stage task: quoted, posted (not re-posted by the node), followed to finalized or invalidated. */
  const attempt = async (stage: 1 | 2, poster: Address, quoteUrl: string, prompt: string, k: number, fee: bigint): Promise<Stage | StageAttempt> => {
    const posterUrl = find('requester', poster);
    const text = await quote(quoteUrl, prompt, k);
    const items = stageWindows(gpt, prompt, text).map((w) => [tensorToJson(quantizeInput(gpt.model, w))]);
    const { id } = await ok<{ id: string }>(`${posterUrl}/batches`, 'POST', { model: gpt.modelRoot, items, fee: String(fee), repost: false });
    log(`stage ${stage}: worker ${quoteUrl} quotes ${JSON.stringify(text)}; ${poster}'s node ${posterUrl} posts its ${k} windows (${id}, fee ${fee} wei)`);
    const end = Date.now() + (o.stageTimeoutMs ?? 300_000);
    for (let last = ''; ; ) {
      const v = await ok<{ status: string; taskId: string | null; txs: Record<string, string>; error: string | null }>(`${posterUrl}/tasks/${id}`, 'GET');
      if (v.status !== last) log(`stage ${stage}: ${id} ${(last = v.status)}${v.taskId ? ` (task ${v.taskId})` : ''}`);
      if (v.status === 'failed' || v.status === 'cancelled') throw new PipelineError(`Stage ${stage} (${id}) ended ${v.status}.`, { details: v.error ?? '' });
      const results = v.status === 'finalized' ? await call<{ items?: { outputHash: Hex; outputs: TensorJson[] }[] }>(`${posterUrl}/tasks/${id}/results`, 'GET') : undefined;
      if (v.taskId && (v.status === 'invalidated' || (results?.status === 200 && results.json.items))) {
        const taskId = BigInt(v.taskId);
        const t = await publicClient.readContract({ address: o.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [taskId] });
        const a: StageAttempt = { stage, poster, posterUrl, quoteUrl, requestId: id, taskId, worker: t.worker, agentId: t.agentId, text, status: 'finalized', fee, txs: v.txs };
        attempts.push(a);
        if (v.status === 'invalidated') {
          a.status = 'invalidated';
          const ev = eventsIn(await publicClient.getTransactionReceipt({ hash: v.txs.invalidate as Hex }), taskMarketAbi, o.addresses.taskMarket, 'TaskInvalidated')[0];
          if (ev) a.invalidated = { challenger: ev.challenger, slashed: ev.slashed, challengerShare: ev.challengerShare, refund: ev.refund };
          liars.add(t.worker.toLowerCase());
          log(`stage ${stage}: task ${taskId} invalidated: a verifier node proved ${t.worker}'s batch wrong; fee refunded to ${poster}`);
          return a;
        }
        const delivery: Delivery = {
          stage,
          taskId,
          agentId: t.agentId,
          worker: t.worker,
          prompt,
          text,
          results: results!.json.items!.map((x) => ({ outputHash: x.outputHash, outputs: x.outputs.map(tensorFromJson) })),
          resultRoot: t.resultRoot,
        };
        await checkDelivery(clients, gpt, delivery, { finalized: true });
        const fin = eventsIn(await publicClient.getTransactionReceipt({ hash: v.txs.finalize as Hex }), taskMarketAbi, o.addresses.taskMarket, 'TaskFinalized')[0];
        if (fin) Object.assign(a, { payout: fin.workerPayout, protocolFee: fin.protocolFee });
        log(`stage ${stage}: task ${taskId} finalized, worked by ${t.worker} (agent ${t.agentId}); its verified logits decode to the quote`);
        return { ...a, status: 'finalized', delivery };
      }
      if (Date.now() > end) throw new PipelineError(`Stage ${stage} (${id}) was not final in time.`, { details: `last status ${v.status}` });
      await new Promise((res) => setTimeout(res, o.pollMs ?? 250));
    }
  };

  /** A stage: hired from the live worker nodes (never one that lied in this job) until one finalizes. */
  const runStage = async (stage: 1 | 2, poster: Address, prompt: string, k: number, fee: bigint): Promise<Stage> => {
    for (;;) {
      await discovery.refresh();
      const quoteUrl = discovery.ordered({ role: 'worker' }).find((u) => discovery.describe(u)?.role === 'worker' && !liars.has(discovery.describe(u)?.owner ?? ''));
      if (!quoteUrl) throw new PipelineError(`No worker delivered stage ${stage}.`, { details: `invalidated: ${[...liars].join(', ') || 'none'}; no other live worker node is registered` });
      const a = await attempt(stage, poster, quoteUrl, prompt, k, fee);
      await o.onAttempt?.(a);
      if (a.status === 'finalized') return a as Stage;
    }
  };

  const s1 = await runStage(1, o.requester, job.prompt, job.k1, job.fee);
  const s2 = await runStage(2, o.contractor, job.prompt + s1.text, job.k2, job.subFee);
  log(`requester receives ${JSON.stringify(s1.text + s2.text)} (tasks ${s1.taskId} + ${s2.taskId})`);
  return { prompt: job.prompt, text: s1.text + s2.text, stages: [s1, s2], attempts };
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

/** An account in a standings table (its ERC-8004 agent, if any, is found from its Registered event). */
export interface Party {
  name: string;
  address: Address;
}

export async function standing(clients: Pick<ProtocolClients, 'publicClient' | 'addresses'>, party: Party): Promise<Standing> {
  const { publicClient, addresses: a } = clients;
  const [wallet, claimable, gameCredit, acct, registered] = await Promise.all([
    publicClient.readContract({ address: a.token, abi: erc20Abi, functionName: 'balanceOf', args: [party.address] }),
    publicClient.readContract({ address: a.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [party.address] }),
    publicClient.readContract({ address: a.disputeGame, abi: disputeGameAbi, functionName: 'credit', args: [party.address] }),
    publicClient.readContract({ address: a.staking, abi: stakingAbi, functionName: 'accountOf', args: [party.address] }),
    publicClient.getContractEvents({ address: a.identityRegistry, abi: identityRegistryAbi, eventName: 'Registered', args: { owner: party.address }, fromBlock: 0n, strict: true }),
  ]);
  const agentId = registered[0]?.args.agentId;
  let finalized = 0;
  let lost = 0;
  let score = 0;
  if (agentId !== undefined) {
    const sum = (tag1: string, tag2: string) =>
      publicClient.readContract({ address: a.reputationRegistry, abi: reputationRegistryAbi, functionName: 'getSummary', args: [agentId, [a.taskMarket], tag1, tag2] });
    const [all, fin, lst] = await Promise.all([sum('', ''), sum('task', 'finalized'), sum('dispute', 'lost')]);
    finalized = Number(fin[0]);
    lost = Number(lst[0]);
    score = Math.round((Number(all[0]) * Number(all[1])) / 10 ** Number(all[2]));
  }
  const staked = BigInt(acct.staked);
  return { name: party.name, agentId, wallet, claimable, gameCredit, staked, total: wallet + claimable + gameCredit + staked, finalized, lost, score };
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
export function standingsTable(agents: readonly Party[], before: readonly Standing[], after: readonly Standing[], attempts: readonly StageAttempt[]): string {
  const rows = agents.map((ag, i) => {
    const b = before[i]!;
    const x = after[i]!;
    const is = (x: string | undefined) => x?.toLowerCase() === ag.address.toLowerCase();
    const earned = attempts.filter((t) => is(t.worker) && t.status === 'finalized').reduce((s, t) => s + (t.payout ?? 0n), 0n);
    const paid = attempts.filter((t) => is(t.poster)).reduce((s, t) => s + t.fee - (t.invalidated?.refund ?? 0n), 0n);
    const slashed = attempts.filter((t) => is(t.worker)).reduce((s, t) => s + (t.invalidated?.slashed ?? 0n), 0n);
    const share = attempts.filter((t) => is(t.invalidated?.challenger)).reduce((s, t) => s + t.invalidated!.challengerShare, 0n);
    return [
      ag.name,
      x.agentId === undefined ? '-' : String(x.agentId),
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
