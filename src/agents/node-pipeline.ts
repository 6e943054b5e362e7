/**
 * The hiring pipeline (./pipeline.ts, docs/protocol.md §Hiring) over real nodes: every stage is posted by a
 * requester node and worked by worker nodes, each its own process (`verity node run`), audited by verifier nodes;
 * the agent that runs the pipeline knows no URL. It finds every endpoint through the chain's ERC-8004 registrations
 * (agent URI → registration file → `verity-node` service with its role, src/agents/discovery.ts):
 *
 *   stage s: a worker node's quote (POST /run, unverified, k times: window_i = windowOf(prompt ‖ text[0..i)))
 *            → the windows posted as one batch task by the stage's poster — the job's requester for stage 1, the
 *            contractor for stage 2 (POST /batches at the requester node its owner registered)
 *            → claimed, run and committed by a worker node, re-executed by the verifier nodes, finalized after the
 *            challenge window (an invalidated batch is re-posted by the poster's node)
 *            → the finalized element results (GET /tasks/:id/results) checked against the chain and decoded
 *            (checkDelivery: the posted inputs are the windows of prompt ‖ text, the leaves give the committed root,
 *            the logits hash to their leaves and decode to the text).
 *   stage 2 continues prompt ‖ stage 1's finalized text; the job's answer is stage 1 text ‖ stage 2 text.
 */
import { createPublicClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { taskMarketAbi } from '../chain/artifacts/index.js';
import type { ProtocolAddresses } from '../chain/types.js';
import { quantizeInput } from '../onnx/io.js';
import { tensorFromJson, tensorToJson, type TensorJson } from '../views/tensor.js';
import { PeerDiscovery } from './discovery.js';
import { encode, nextId, windowOf, type TinyGpt } from './generate.js';
import { checkDelivery, PipelineError, stageWindows, type Delivery, type PipelineJob } from './pipeline.js';

export interface NodePipelineOptions {
  rpcUrl: string;
  addresses: ProtocolAddresses;
  gpt: TinyGpt;
  job: PipelineJob;
  /** The accounts whose requester nodes post stage 1 (the job's requester) and stage 2 (the contractor). */
  requester: Address;
  contractor: Address;
  log?: (line: string) => void;
  /** Poll interval and bound per stage (default 250 ms, 5 min). */
  pollMs?: number;
  stageTimeoutMs?: number;
}

export interface NodeStage {
  stage: 1 | 2;
  /** The poster's requester node and the worker node that quoted, as found through the registrations. */
  posterUrl: string;
  quoteUrl: string;
  /** The poster node's request id and the market's task id. */
  requestId: string;
  taskId: bigint;
  text: string;
  delivery: Delivery;
  txs: Record<string, string>;
}

export interface NodePipelineResult {
  prompt: string;
  text: string;
  stages: [NodeStage, NodeStage];
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
export async function runNodePipeline(o: NodePipelineOptions): Promise<NodePipelineResult> {
  const { gpt, job } = o;
  const log = o.log ?? (() => undefined);
  const publicClient = createPublicClient({ transport: http(o.rpcUrl) }) as PublicClient;
  const clients = { publicClient, addresses: o.addresses };
  const discovery = new PeerDiscovery({ client: publicClient, identityRegistry: o.addresses.identityRegistry });
  await discovery.refresh();

  /** The live endpoint of a node with `role`, owned by `owner` when given. */
  const find = (role: string, owner?: Address): string => {
    const url = discovery.ordered({ role, ...(owner ? { owner } : {}) }).find((u) => {
      const a = discovery.describe(u);
      return a?.role === role && (!owner || a.owner === owner.toLowerCase());
    });
    if (!url) throw new PipelineError(`No live ${role} node${owner ? ` of ${owner}` : ''} is registered on this chain.`, { hint: 'Start one with `verity node run --role …`: it announces its API in its agent’s registration file.' });
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

  const runStage = async (stage: 1 | 2, poster: Address, prompt: string, k: number, fee: bigint): Promise<NodeStage> => {
    const posterUrl = find('requester', poster);
    const quoteUrl = find('worker');
    const text = await quote(quoteUrl, prompt, k);
    const items = stageWindows(gpt, prompt, text).map((w) => [tensorToJson(quantizeInput(gpt.model, w))]);
    const { id } = await ok<{ id: string }>(`${posterUrl}/batches`, 'POST', { model: gpt.modelRoot, items, fee: String(fee) });
    log(`stage ${stage}: worker ${quoteUrl} quotes ${JSON.stringify(text)}; ${poster}'s node ${posterUrl} posts its ${k} windows (${id}, fee ${fee} wei)`);
    const end = Date.now() + (o.stageTimeoutMs ?? 300_000);
    for (let last = ''; ; ) {
      const v = await ok<{ status: string; taskId: string | null; txs: Record<string, string>; error: string | null }>(`${posterUrl}/tasks/${id}`, 'GET');
      if (v.status !== last) log(`stage ${stage}: ${id} ${(last = v.status)}${v.taskId ? ` (task ${v.taskId})` : ''}`);
      if (v.status === 'failed' || v.status === 'cancelled') throw new PipelineError(`Stage ${stage} (${id}) ended ${v.status}.`, { details: v.error ?? '' });
      if (v.status === 'finalized' && v.taskId) {
        const r = await call<{ items?: { outputHash: Hex; traceRoot: Hex; outputs: TensorJson[] }[] }>(`${posterUrl}/tasks/${id}/results`, 'GET');
        if (r.status === 200 && r.json.items) {
          const taskId = BigInt(v.taskId);
          const t = await publicClient.readContract({ address: o.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [taskId] });
          const delivery: Delivery = {
            stage,
            taskId,
            agentId: t.agentId,
            worker: t.worker,
            prompt,
            text,
            results: r.json.items.map((x) => ({ outputHash: x.outputHash, traceRoot: x.traceRoot, outputs: x.outputs.map(tensorFromJson) })),
            resultRoot: t.resultRoot,
          };
          await checkDelivery(clients, gpt, delivery, { finalized: true });
          log(`stage ${stage}: task ${taskId} finalized, worked by ${t.worker} (agent ${t.agentId}); its verified logits decode to the quote`);
          return { stage, posterUrl, quoteUrl, requestId: id, taskId, text, delivery, txs: v.txs };
        }
      }
      if (Date.now() > end) throw new PipelineError(`Stage ${stage} (${id}) was not finalized in time.`, { details: `last status ${v.status}` });
      await new Promise((res) => setTimeout(res, o.pollMs ?? 250));
    }
  };

  const s1 = await runStage(1, o.requester, job.prompt, job.k1, job.fee);
  const s2 = await runStage(2, o.contractor, job.prompt + s1.text, job.k2, job.subFee);
  log(`requester receives ${JSON.stringify(s1.text + s2.text)} (tasks ${s1.taskId} + ${s2.taskId})`);
  return { prompt: job.prompt, text: s1.text + s2.text, stages: [s1, s2] };
}
