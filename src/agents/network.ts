/**
 * VerityNetwork: the small interface agent front-ends (MCP, A2A) use to get verified answers, implemented by
 * NodeHttpNetwork over a requester node's HTTP API (src/node/api.ts: POST /tasks, GET /tasks/:id, POST
 * /tasks/:id/cancel, GET /models), polled until the task is final; the node is given by URL or found through the
 * chain's ERC-8004 registrations; agent reputation is read from the chain when an RPC URL and addresses are given.
 * LocalNetwork (./local-network.ts) is the same class over real nodes it starts on a local anvil.
 */
import { createPublicClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { identityRegistryAbi, reputationRegistryAbi, stakingAbi } from '../chain/artifacts/index.js';
import type { ProtocolAddresses } from '../chain/types.js';
import { modelRootHex } from '../commit/index.js';
import type { QModel, TensorData } from '../engine/ir.js';
import { BaseError } from '../errors.js';
import { tensorFromJson, type TensorJson } from '../node/engine-provider.js';
import { decodeModel } from '../engine/format.js';
import { PeerDiscovery } from './discovery.js';
import { argmax, dequantizeOutput } from '../onnx/io.js';

export class NetworkError extends BaseError {
  override name = 'NetworkError';
}

export type { TensorJson };

export interface ModelInfo {
  name: string;
  modelRoot: Hex;
  /** ModelRegistry id when known on this network's chain. */
  modelId: string | null;
  inputShape: number[];
  inputDtype: string;
  outputShape: number[];
}

export interface InferRequest {
  /** Model name or modelRoot. */
  model: string;
  /** One float row (quantized with the model's input scale), or integer ids for id-input models. */
  input?: number[];
  /** Already quantized input tensors. */
  inputs?: TensorJson[];
  /** Fee in VRT wei (decimal string). */
  fee?: string;
}

/** Finality of a task as the requester sees it. */
export type Finality = 'pending' | 'committed' | 'finalized' | 'invalidated' | 'failed';

export interface VerifiedResult {
  /** The network's handle for the request (node: local request id; embedded: the chain task id). */
  id: string;
  /** The market's task id. */
  taskId: string | null;
  status: Finality;
  /** True once the challenge window closed without a successful challenge. */
  finalized: boolean;
  model: string;
  modelRoot: Hex;
  /** The committed output tensors (only when finalized). */
  outputs?: TensorJson[];
  /** Dequantized first output and its argmax (only when finalized). */
  output?: number[];
  argmax?: number;
  outputHash?: Hex;
  worker?: string;
  /** Transaction hashes by step (post, claim, commit, finalize…). */
  txs: Record<string, string>;
  error?: string | null;
}

/** A finalized batch task and its verified element results. */
export interface VerifiedBatch {
  id: string;
  taskId: string;
  status: 'finalized';
  worker: string;
  inputRoot: Hex;
  resultRoot: Hex;
  items: { index: number; outputHash: Hex; outputs: TensorJson[] }[];
  /** Transaction hashes by step (post, claim, commit, finalize). */
  txs: Record<string, string>;
}

export interface AgentReputation {
  agentId: string;
  owner: string | null;
  uri: string | null;
  /** Market-written feedback (ReputationRegistry.getSummary over the market, all tags); null without chain access. */
  feedbackCount: number | null;
  /** Average feedback value (+1 finalized / dispute won, −1 expired / dispute lost). */
  averageScore: number | null;
  /** ("task", "finalized") feedback count. */
  finalized: number | null;
  staked: string | null;
}

/** One step of a verified task as it runs (posted → claimed → committed → window … → finalized). */
export interface InferProgress {
  stage: 'posted' | 'claimed' | 'committed' | 'window' | 'finalized' | 'cancelled' | 'invalidated' | 'failed';
  taskId: string | null;
  /** During `window`: seconds of the challenge window left (chain time). */
  secondsLeft?: number;
  message: string;
}

export interface InferOptions {
  onProgress?: (p: InferProgress) => void;
  /** Aborting stops waiting: the node is asked to cancel; a task no worker claimed yet is cancelled on-chain. */
  signal?: AbortSignal;
}

export interface VerityNetwork {
  readonly kind: 'local' | 'node-http';
  listModels(): Promise<ModelInfo[]>;
  /** Submits a task and resolves once it is final (finalized, invalidated or failed). */
  verifiedInfer(req: InferRequest, opts?: InferOptions): Promise<VerifiedResult>;
  taskStatus(id: string): Promise<VerifiedResult>;
  agentReputation(agentId: string): Promise<AgentReputation>;
  close(): Promise<void>;
}

function summarize(model: QModel, outputs: readonly TensorData[]): { output: number[]; argmax: number } {
  const output = Array.from(dequantizeOutput(model, outputs[0]!));
  return { output, argmax: argmax(outputs[0]!.data) };
}

async function readReputation(publicClient: PublicClient, addresses: ProtocolAddresses, agentId: string): Promise<AgentReputation> {
  const id = BigInt(agentId);
  const [summary, finalized] = await Promise.all([
    publicClient.readContract({ address: addresses.reputationRegistry, abi: reputationRegistryAbi, functionName: 'getSummary', args: [id, [addresses.taskMarket], '', ''] }),
    publicClient.readContract({ address: addresses.reputationRegistry, abi: reputationRegistryAbi, functionName: 'getSummary', args: [id, [addresses.taskMarket], 'task', 'finalized'] }),
  ]);
  let owner: Address | null = null;
  let uri: string | null = null;
  let staked: string | null = null;
  try {
    owner = await publicClient.readContract({ address: addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'ownerOf', args: [id] });
    uri = await publicClient.readContract({ address: addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'tokenURI', args: [id] });
    const acct = await publicClient.readContract({ address: addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [owner] });
    staked = String(acct.staked);
  } catch {
    throw new NetworkError(`No agent ${agentId} in the identity registry.`);
  }
  const [count, value, decimals] = summary;
  return {
    agentId,
    owner,
    uri,
    feedbackCount: Number(count),
    averageScore: Number(value) / 10 ** Number(decimals),
    finalized: Number(finalized[0]),
    staked,
  };
}

// ------------------------------------------------------------------ a requester node's HTTP API

export interface NodeHttpNetworkOptions {
  /** For agent_reputation: the chain the node runs on (else the node's GET /agents, without feedback). */
  rpcUrl?: string;
  addresses?: ProtocolAddresses;
  /** Default fee, wei (default 1 VRT). */
  fee?: bigint;
  /** Poll interval and overall bound while waiting for finality (default 500 ms, 10 min). */
  pollMs?: number;
  timeoutMs?: number;
}

interface NodeTaskView {
  id: string;
  taskId: string | null;
  status: string;
  modelRoot: string | null;
  result?: { outputs: TensorJson[]; outputHash: string; worker: string };
  txs: Record<string, string>;
  error: string | null;
  challengeDeadline?: number | null;
  chainTime?: number;
  cancel?: 'requested' | 'refused' | 'done' | null;
}

const FINALITY: Record<string, Finality> = { finalized: 'finalized', invalidated: 'invalidated', failed: 'failed', cancelled: 'failed', committed: 'committed' };

/**
 * A requester node's HTTP API (src/node/api.ts): POST /tasks, GET /tasks/:id polled to finality, POST
 * /tasks/:id/cancel, GET /models (+ the .vqm bytes at /models/:root, checked against their root). The node posts,
 * follows and hands back only verified results; this class only speaks HTTP (and reads reputation from the chain).
 */
export class NodeHttpNetwork implements VerityNetwork {
  readonly kind: 'node-http' | 'local' = 'node-http';
  readonly baseUrl: string;
  private readonly opts: NodeHttpNetworkOptions;
  private readonly models = new Map<string, Promise<QModel>>();
  private readonly publicClient: PublicClient | undefined;

  constructor(baseUrl: string, opts: NodeHttpNetworkOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.opts = opts;
    this.publicClient = opts.rpcUrl ? (createPublicClient({ transport: http(opts.rpcUrl) }) as PublicClient) : undefined;
  }

  /**
   * The network behind the first live requester node found through the chain's ERC-8004 registrations (a
   * `verity-node` service whose role is `requester`, src/agents/discovery.ts): no URL given, none configured.
   */
  static async discover(opts: NodeHttpNetworkOptions & { rpcUrl: string; addresses: ProtocolAddresses }): Promise<NodeHttpNetwork> {
    return new NodeHttpNetwork(await discoverRequester(opts.rpcUrl, opts.addresses), opts);
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await this.request(method, path, body);
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NetworkError(`The node answered ${r.status} with a non-JSON body.`, { details: `${method} ${path}: ${text.slice(0, 200)}` });
    }
    if (!r.ok) {
      const e = json as { error?: string; message?: string; details?: string };
      throw new NetworkError(`The node rejected ${method} ${path}: ${e.message ?? r.status}`, { details: [e.error, e.details].filter(Boolean).join(': ') });
    }
    return json as T;
  }

  async listModels(): Promise<ModelInfo[]> {
    return this.call<ModelInfo[]>('GET', '/models');
  }

  /** The node's model for `root` (its .vqm bytes, whose modelRoot must be `root`): to dequantize outputs. */
  private model(root: string): Promise<QModel> {
    const key = root.toLowerCase();
    let m = this.models.get(key);
    if (!m) {
      m = (async () => {
        const r = await this.request('GET', `/models/${key}`);
        if (!r.ok) throw new NetworkError(`The node does not serve model ${key}.`, { details: `HTTP ${r.status}` });
        const model = decodeModel(new Uint8Array(await r.arrayBuffer()));
        if (modelRootHex(model).toLowerCase() !== key) throw new NetworkError(`The node served another model for ${key}.`, { details: `its root is ${modelRootHex(model)}` });
        return model;
      })();
      m.catch(() => this.models.delete(key));
      this.models.set(key, m);
    }
    return m;
  }

  private async view(v: NodeTaskView): Promise<VerifiedResult> {
    const m = v.modelRoot ? await this.model(v.modelRoot).catch(() => undefined) : undefined;
    const status = FINALITY[v.status] ?? 'pending';
    const res: VerifiedResult = {
      id: v.id,
      taskId: v.taskId,
      status,
      finalized: status === 'finalized' && !!v.result,
      model: m?.name ?? v.modelRoot ?? '',
      modelRoot: (v.modelRoot ?? '0x') as Hex,
      txs: v.txs,
      error: v.error,
    };
    if (v.result) {
      res.outputs = v.result.outputs;
      res.outputHash = v.result.outputHash as Hex;
      res.worker = v.result.worker;
      if (m) Object.assign(res, summarize(m, v.result.outputs.map(tensorFromJson)));
    }
    return res;
  }

  private task(id: string): Promise<NodeTaskView> {
    return this.call<NodeTaskView>('GET', `/tasks/${encodeURIComponent(id)}`);
  }

  /**
   * Submits to the node and polls it to finality, reporting each step once, in order (posted, claimed, committed,
   * the challenge window's seconds left by chain time while they fall, then the end). Aborted: the node is asked to
   * cancel; a task no worker claimed is cancelled on-chain, a claimed one runs to finality.
   */
  async verifiedInfer(req: InferRequest, opts: InferOptions = {}): Promise<VerifiedResult> {
    const body = {
      model: req.model,
      ...(req.input ? { input: req.input } : {}),
      ...(req.inputs ? { inputs: req.inputs } : {}),
      fee: req.fee ?? String(this.opts.fee ?? 10n ** 18n),
    };
    const { id } = await this.call<{ id: string; status: string }>('POST', '/tasks', body);
    const deadline = Date.now() + (this.opts.timeoutMs ?? 600_000);
    const said = new Set<string>();
    let left = Infinity;
    const say = (stage: InferProgress['stage'], taskId: string | null, message: string, secondsLeft?: number) => {
      if (stage !== 'window' && said.has(stage)) return;
      said.add(stage);
      opts.onProgress?.({ stage, taskId, message, ...(secondsLeft === undefined ? {} : { secondsLeft }) });
    };
    for (;;) {
      if (opts.signal?.aborted) return this.cancel(id, opts.signal, deadline);
      const v = await this.task(id);
      const t = v.taskId;
      if (t !== null) say('posted', t, `task ${t} posted`);
      if (t !== null && (v.txs.claim || v.status !== 'posted')) say('claimed', t, `task ${t} claimed by a staked worker`);
      if (v.txs.commit) say('committed', t, `task ${t}: result and trace root committed on-chain`);
      if (v.status === 'committed' && v.challengeDeadline && v.chainTime !== undefined) {
        const s = Math.max(0, v.challengeDeadline - v.chainTime);
        if (s < left) say('window', t, `challenge window: ${(left = s)} s left`, s);
      }
      if (v.status === 'finalized') say('finalized', t, `task ${t} finalized`);
      else if (v.status === 'invalidated' || v.status === 'failed' || v.status === 'cancelled') say(v.status, t, `task ${t ?? id}: ${v.status}${v.error ? `: ${v.error}` : ''}`);
      if (['finalized', 'invalidated', 'failed', 'cancelled'].includes(v.status)) return this.view(v);
      if (Date.now() > deadline) throw new NetworkError(`Task ${id} was not final in time.`, { details: `last status ${v.status}` });
      await this.pause(opts.signal);
    }
  }

  private pause(signal?: AbortSignal): Promise<void> {
    return new Promise((r) => {
      const wake = () => {
        clearTimeout(timer);
        r();
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', wake);
        r();
      }, this.opts.pollMs ?? 500);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Asks the node to cancel request `id` and waits for its answer; always throws (the request ends without a result). */
  private async cancel(id: string, signal: AbortSignal, deadline: number): Promise<never> {
    await this.call('POST', `/tasks/${encodeURIComponent(id)}/cancel`);
    for (;;) {
      const v = await this.task(id);
      const t = v.taskId ?? id;
      if (v.cancel === 'done') throw new NetworkError(`Cancelled: task ${t} was cancelled${v.taskId ? ' on-chain' : ''} before a worker claimed it.`, { details: `reason: ${String(signal.reason ?? 'aborted')}` });
      if (v.cancel === 'refused') throw new NetworkError(`Stopped waiting for task ${t}: a worker claimed it, it runs to finality on-chain.`, { details: `status ${v.status}` });
      if (Date.now() > deadline) throw new NetworkError(`Task ${t}: the node did not answer the cancel in time.`);
      await this.pause();
    }
  }

  async taskStatus(id: string): Promise<VerifiedResult> {
    return this.view(await this.task(id));
  }

  /**
   * A batch of verified inferences (POST /batches: one model, one input tensor list per element, one fee), polled
   * until the node holds its finalized element results (checked by the node against the committed root).
   */
  async verifiedBatch(req: { model: string; items: TensorJson[][]; fee?: string }): Promise<VerifiedBatch> {
    const { id } = await this.call<{ id: string }>('POST', '/batches', { model: req.model, items: req.items, fee: req.fee ?? String(this.opts.fee ?? 10n ** 18n) });
    const deadline = Date.now() + (this.opts.timeoutMs ?? 600_000);
    for (;;) {
      const v = await this.call<NodeTaskView & { batch?: { worker: string | null; inputRoot: string | null; resultRoot: string | null } }>('GET', `/tasks/${encodeURIComponent(id)}`);
      if (v.status === 'failed' || v.status === 'cancelled') throw new NetworkError(`Batch ${id} ended ${v.status}.`, { details: v.error ?? '' });
      if (v.status === 'finalized' && v.taskId && v.batch) {
        const r = await this.request('GET', `/tasks/${encodeURIComponent(id)}/results`);
        if (r.ok) {
          const { items } = (await r.json()) as { items: VerifiedBatch['items'] };
          return { id, taskId: v.taskId, status: 'finalized', worker: v.batch.worker ?? '', inputRoot: v.batch.inputRoot as Hex, resultRoot: v.batch.resultRoot as Hex, items, txs: v.txs };
        }
      }
      if (Date.now() > deadline) throw new NetworkError(`Batch ${id} was not final in time.`, { details: `last status ${v.status}` });
      await this.pause();
    }
  }

  async agentReputation(agentId: string): Promise<AgentReputation> {
    if (this.publicClient && this.opts.addresses) return readReputation(this.publicClient, this.opts.addresses, agentId);
    const agents = await this.call<{ agentId: string; owner: string; uri: string; staked: string }[]>('GET', '/agents');
    const a = agents.find((x) => x.agentId === agentId);
    if (!a) throw new NetworkError(`No agent ${agentId} known to the node.`);
    return { agentId, owner: a.owner, uri: a.uri, feedbackCount: null, averageScore: null, finalized: null, staked: a.staked };
  }

  async close(): Promise<void> {}
}

/** The API URL of a live requester node, from the chain's ERC-8004 registrations (`verity-node`, role requester). */
export async function discoverRequester(rpcUrl: string, addresses: ProtocolAddresses): Promise<string> {
  const d = new PeerDiscovery({ client: createPublicClient({ transport: http(rpcUrl) }) as PublicClient, identityRegistry: addresses.identityRegistry });
  await d.refresh();
  const url = d.ordered({ role: 'requester' }).find((u) => d.describe(u)?.role === 'requester');
  if (!url) throw new NetworkError('No live requester node is registered on this chain.', { hint: 'Start one with `verity node run --role requester` (it announces its API), or pass --node URL.' });
  return url;
}
