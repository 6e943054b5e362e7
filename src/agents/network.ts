/**
 * VerityNetwork: the small interface agent front-ends (MCP, A2A, dialogue) use to get verified answers. Two
 * implementations:
 *   - NodeHttpNetwork: a requester node's HTTP API (src/node/api.ts: POST /tasks, GET /tasks/:id, GET /agents),
 *     polled until the task is final; agent reputation read from the chain when an RPC URL and addresses are given.
 *   - EmbeddedNetwork: drives an embedded anvil directly with src/chain/actions and an honest in-process worker
 *     (src/agents/embedded.ts) — what the tests use until node processes are wired in.
 */
import { createPublicClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { identityRegistryAbi, reputationRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import type { ProtocolAddresses } from '../chain/types.js';
import { modelRootHex, traceRootHex } from '../commit/index.js';
import type { QModel, TensorData } from '../engine/ir.js';
import { outputsOf, runModel } from '../engine/run.js';
import { BaseError } from '../errors.js';
import { LocalEngineProvider, loadShippedModel, tensorFromJson, tensorToJson, type TensorJson } from '../node/engine-provider.js';
import { argmax, dequantizeOutput, quantizeInput } from '../onnx/io.js';
import { EmbeddedChain, type EmbeddedChainOptions } from './embedded.js';

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
  traceRoot?: Hex;
  worker?: string;
  /** Transaction hashes by step (post, claim, commit, finalize…). */
  txs: Record<string, string>;
  error?: string | null;
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
  /** Aborting stops waiting; a task not yet claimed is cancelled on-chain where the network can (embedded). */
  signal?: AbortSignal;
}

export interface VerityNetwork {
  readonly kind: 'embedded' | 'node-http';
  listModels(): Promise<ModelInfo[]>;
  /** Submits a task and resolves once it is final (finalized, invalidated or failed). */
  verifiedInfer(req: InferRequest, opts?: InferOptions): Promise<VerifiedResult>;
  taskStatus(id: string): Promise<VerifiedResult>;
  agentReputation(agentId: string): Promise<AgentReputation>;
  close(): Promise<void>;
}

function shapeOf(m: QModel, id: number): { shape: number[]; dtype: string } {
  const t = m.tensors[id]!;
  return { shape: [...t.shape], dtype: t.dtype };
}

function infoOf(m: QModel, modelId: bigint | undefined): ModelInfo {
  const i = shapeOf(m, m.inputs[0]!);
  return {
    name: m.name,
    modelRoot: modelRootHex(m),
    modelId: modelId === undefined ? null : String(modelId),
    inputShape: i.shape,
    inputDtype: i.dtype,
    outputShape: shapeOf(m, m.outputs[0]!).shape,
  };
}

function findModel(models: readonly QModel[], spec: string): QModel {
  const m = models.find((x) => x.name === spec || modelRootHex(x).toLowerCase() === spec.toLowerCase());
  if (!m) throw new NetworkError(`Unknown model ${JSON.stringify(spec)}.`, { hint: `Known: ${models.map((x) => x.name).join(', ')}.` });
  return m;
}

/** The request's input tensors for `model` (a float/id row, or tensors). */
export function inputsOf(model: QModel, req: InferRequest): TensorData[] {
  if ((req.input === undefined) === (req.inputs === undefined)) throw new NetworkError('Give exactly one of "input" (a row) or "inputs" (tensors).');
  return req.input ? [quantizeInput(model, req.input)] : req.inputs!.map(tensorFromJson);
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

// ------------------------------------------------------------------ embedded

export interface EmbeddedNetworkOptions extends EmbeddedChainOptions {
  /** Shipped model names (default wine-mlp), or already imported models. */
  models?: readonly (string | QModel)[];
  /** Use this chain instead of starting one (not stopped by close()). */
  chain?: EmbeddedChain;
}

/** Embedded chain + honest in-process worker. */
export class EmbeddedNetwork implements VerityNetwork {
  readonly kind = 'embedded' as const;
  readonly chain: EmbeddedChain;
  readonly models: QModel[];
  private readonly engine: LocalEngineProvider;
  private readonly ownsChain: boolean;
  private readonly results = new Map<string, VerifiedResult>();

  private constructor(chain: EmbeddedChain, models: QModel[], ownsChain: boolean) {
    this.chain = chain;
    this.models = models;
    this.engine = new LocalEngineProvider(models);
    this.ownsChain = ownsChain;
  }

  static async start(opts: EmbeddedNetworkOptions = {}): Promise<EmbeddedNetwork> {
    const models = (opts.models ?? ['wine-mlp']).map((m) => (typeof m === 'string' ? loadShippedModel(m) : m));
    const chain = opts.chain ?? (await EmbeddedChain.start(opts));
    try {
      const net = new EmbeddedNetwork(chain, models, !opts.chain);
      for (const m of models) await chain.ensureModel(m);
      await chain.workerAgent();
      return net;
    } catch (e) {
      if (!opts.chain) await chain.stop();
      throw e;
    }
  }

  async listModels(): Promise<ModelInfo[]> {
    return this.models.map((m) => infoOf(m, this.chain.modelIdOf(modelRootHex(m))));
  }

  async verifiedInfer(req: InferRequest, opts: InferOptions = {}): Promise<VerifiedResult> {
    const model = findModel(this.models, req.model);
    const inputs = inputsOf(model, req);
    const root = modelRootHex(model);
    const fee = req.fee === undefined ? undefined : BigInt(req.fee);
    let pending: VerifiedResult | undefined;
    let ex: { outputs: TensorData[]; traceRoot: Hex } | undefined;
    const s = await this.chain.settleTask(
      model,
      inputs,
      (ins) => (ex = this.engine.execute(root, ins)),
      {
        ...(fee === undefined ? {} : { fee }),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onStatus: (status, taskId) => {
          const id = String(taskId);
          pending ??= { id, taskId: id, status: 'pending', finalized: false, model: model.name, modelRoot: root, txs: {} };
          if (status === 'committed') pending.status = 'committed';
          if (status === 'cancelled') pending.status = 'failed';
          this.results.set(id, pending);
          const messages: Record<string, string> = { posted: `task ${id} posted`, claimed: `task ${id} claimed by a staked worker`, committed: `task ${id}: result and trace root committed on-chain`, finalized: `task ${id} finalized`, cancelled: `task ${id} cancelled on-chain` };
          opts.onProgress?.({ stage: status as InferProgress['stage'], taskId: id, message: messages[status] ?? status });
        },
        onWindow: (left, taskId) => opts.onProgress?.({ stage: 'window', taskId: String(taskId), secondsLeft: Number(left), message: `challenge window: ${left} s left` }),
      },
    );
    // What the worker committed (and the window let stand) is what the requester receives.
    const outputs = ex!.outputs;
    const id = String(s.taskId);
    const result: VerifiedResult = {
      id,
      taskId: id,
      status: 'finalized',
      finalized: true,
      model: model.name,
      modelRoot: root,
      outputs: outputs.map(tensorToJson),
      ...summarize(model, outputs),
      outputHash: s.outputHash,
      traceRoot: ex!.traceRoot,
      worker: s.worker,
      txs: Object.fromEntries(s.txs.map((t) => [t.step, t.hash])),
    };
    this.results.set(id, result);
    return result;
  }

  async taskStatus(id: string): Promise<VerifiedResult> {
    const known = this.results.get(id);
    if (known) return known;
    let t;
    try {
      t = await this.chain.publicClient.readContract({ address: this.chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [BigInt(id)] });
    } catch {
      throw new NetworkError(`No task ${JSON.stringify(id)}.`);
    }
    if (t.status === 0) throw new NetworkError(`No task ${JSON.stringify(id)} on this chain.`);
    const statuses: Finality[] = ['pending', 'pending', 'pending', 'committed', 'finalized', 'invalidated', 'failed'];
    const model = this.models.find((m) => this.chain.modelIdOf(modelRootHex(m)) === BigInt(t.modelId));
    return {
      id,
      taskId: id,
      status: statuses[t.status] ?? 'pending',
      finalized: t.status === 4,
      model: model?.name ?? String(t.modelId),
      modelRoot: model ? modelRootHex(model) : ('0x' as Hex),
      worker: t.worker,
      txs: {},
    };
  }

  agentReputation(agentId: string): Promise<AgentReputation> {
    return readReputation(this.chain.publicClient, this.chain.addresses, agentId);
  }

  async close(): Promise<void> {
    if (this.ownsChain) await this.chain.stop();
  }
}

/** A local honest run (what every verified result must match). */
export function localRun(model: QModel, inputs: readonly TensorData[]): { outputs: TensorData[]; traceRoot: Hex } {
  const engine = new LocalEngineProvider([model]);
  const trace = runModel(engine.loadModel(modelRootHex(model)).prepared, inputs);
  return { outputs: outputsOf(engine.loadModel(modelRootHex(model)).prepared, trace), traceRoot: traceRootHex(trace) };
}

// ------------------------------------------------------------------ node HTTP API

export interface NodeHttpNetworkOptions {
  /** Models the node serves, for list_models (names; default wine-mlp, digits-convnet). */
  models?: readonly string[];
  /** For agent_reputation and model ids: the chain the node runs on. */
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
  result?: { outputs: TensorJson[]; outputHash: string; traceRoot: string; worker: string };
  txs: Record<string, string>;
  error: string | null;
  traceRoot?: string | null;
}

/** A requester node's HTTP API (src/node/api.ts). */
export class NodeHttpNetwork implements VerityNetwork {
  readonly kind = 'node-http' as const;
  readonly baseUrl: string;
  private readonly opts: NodeHttpNetworkOptions;
  private models: QModel[] | undefined;
  private readonly publicClient: PublicClient | undefined;

  constructor(baseUrl: string, opts: NodeHttpNetworkOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.opts = opts;
    this.publicClient = opts.rpcUrl ? (createPublicClient({ transport: http(opts.rpcUrl) }) as PublicClient) : undefined;
  }

  private known(): QModel[] {
    this.models ??= (this.opts.models ?? ['wine-mlp', 'digits-convnet']).map((n) => loadShippedModel(n));
    return this.models;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
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
    return this.known().map((m) => infoOf(m, undefined));
  }

  private view(v: NodeTaskView, model?: QModel): VerifiedResult {
    const m = model ?? this.known().find((x) => modelRootHex(x).toLowerCase() === (v.modelRoot ?? '').toLowerCase());
    const status: Finality =
      v.status === 'finalized' ? 'finalized' : v.status === 'invalidated' ? 'invalidated' : v.status === 'failed' ? 'failed' : v.status === 'committed' ? 'committed' : 'pending';
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
      res.traceRoot = v.result.traceRoot as Hex;
      res.worker = v.result.worker;
      if (m) Object.assign(res, summarize(m, v.result.outputs.map(tensorFromJson)));
    }
    return res;
  }

  async verifiedInfer(req: InferRequest, opts: InferOptions = {}): Promise<VerifiedResult> {
    const model = this.known().find((x) => x.name === req.model || modelRootHex(x).toLowerCase() === req.model.toLowerCase());
    const body = {
      model: req.model,
      ...(req.input ? { input: req.input } : {}),
      ...(req.inputs ? { inputs: req.inputs } : {}),
      fee: req.fee ?? String(this.opts.fee ?? 10n ** 18n),
    };
    const { id } = await this.call<{ id: string; status: string }>('POST', '/tasks', body);
    const deadline = Date.now() + (this.opts.timeoutMs ?? 600_000);
    let last = '';
    for (;;) {
      if (opts.signal?.aborted) throw new NetworkError(`Stopped waiting for task ${id}: cancelled.`, { details: 'the task goes on at the node' });
      const v = this.view(await this.call<NodeTaskView>('GET', `/tasks/${encodeURIComponent(id)}`), model);
      if (v.status !== last) {
        last = v.status;
        const stage = v.status === 'pending' ? 'posted' : v.status;
        opts.onProgress?.({ stage: stage as InferProgress['stage'], taskId: v.taskId, message: `task ${v.taskId ?? id}: ${v.status}` });
      }
      if (v.status === 'finalized' || v.status === 'invalidated' || v.status === 'failed') return v;
      if (Date.now() > deadline) throw new NetworkError(`Task ${id} was not final in time.`, { details: `last status ${v.status}` });
      await new Promise((r) => setTimeout(r, this.opts.pollMs ?? 500));
    }
  }

  async taskStatus(id: string): Promise<VerifiedResult> {
    return this.view(await this.call<NodeTaskView>('GET', `/tasks/${encodeURIComponent(id)}`));
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
