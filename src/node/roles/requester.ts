/**
 * Requester: posts tasks (inputs in calldata, so every worker and verifier can read them), follows each to
 * finality, and hands back only verified results: a task is `finalized` (the challenge window closed with no
 * successful challenge) with its proof — outputs, output digest, trace root, result root, and the post / commit /
 * finalize transactions. An invalidated task (a challenger won) is refunded and, if `repost` is set, posted again.
 *
 * Row (local id `q-<n>`): posting → posted → committed → finalized | invalidated; failed (post reverted).
 *
 * Batch labeling jobs (submitBatch): one model, many element inputs, posted as the root of their digests
 * (postBatchTask); the inputs are served at GET /batches/:inputRoot/inputs; after the commit the element results are
 * fetched from the worker's API and checked against the committed root; the view returns them only once finalized.
 */
import type { Hex } from 'viem';
import { taskMarketAbi } from '../../chain/artifacts/index.js';
import { inputHashOf, tensorArg } from '../../chain/io.js';
import type { TensorData } from '../../engine/ir.js';
import { BaseError } from '../../errors.js';
import { eventsIn } from '../../chain/call.js';
import { chainNow, ensureApprovals, hexField, inc, readTask, scan, sendCall, withdrawAll, taskStep, type NodeContext } from '../context.js';
import { tensorFromJson, tensorToJson, type TensorJson } from '../engine-provider.js';
import type { ResultRow, TaskRow } from '../store.js';
import { TxFailedError } from '../../chain/tx.js';
import { recordCommittedResult, type ResultCommittedArgs, type Role } from './common.js';
import { batchInputsFromJson, batchInputsToJson, fetchBatchResults, inputTreeOf, type BatchItemResult } from '../batch.js';

export class RequestError extends BaseError {
  override name = 'RequestError';
}

export interface SubmitParameters {
  /** Registered model id. */
  modelId: bigint;
  modelRoot: Hex;
  inputs: readonly TensorData[];
  fee: bigint;
  /** Seconds from now by which a worker must commit (default 600). */
  ttl?: number;
}

export interface SubmitBatchParameters {
  modelId: bigint;
  modelRoot: Hex;
  /** One input tensor list per element (2..65536 elements); posted as the root of their digests. */
  items: readonly (readonly TensorData[])[];
  /** Fee for the whole batch. */
  fee: bigint;
  ttl?: number;
  /** Post it again after an invalidation (default: the node's `repost`). */
  repost?: boolean;
}

export interface VerifiedResult {
  id: string;
  taskId: string | null;
  status: TaskRow['status'];
  modelRoot: string | null;
  /** Only when finalized. */
  result?: {
    outputs: TensorJson[];
    outputHash: string;
    worker: string;
  };
  /** Batch jobs: element count, roots and — only once finalized and every element checked against the root — results. */
  batch?: {
    itemCount: number;
    worker: string | null;
    inputRoot: string | null;
    resultRoot: string | null;
    items?: BatchItemResult[];
  };
  txs: Record<string, string>;
  error: string | null;
}

export interface RequesterOptions {
  /** Post an invalidated task again (default true). */
  repost?: boolean;
  /** Most times one request is posted again after invalidations (default 10). */
  maxReposts?: number;
}

export class Requester implements Role {
  readonly name = 'requester' as const;
  private readonly ctx: NodeContext;
  private readonly repost: boolean;
  private readonly maxReposts: number;

  constructor(ctx: NodeContext, opts: RequesterOptions = {}) {
    this.ctx = ctx;
    this.repost = opts.repost ?? true;
    this.maxReposts = opts.maxReposts ?? 10;
  }

  async setup(): Promise<void> {
    await ensureApprovals(this.ctx);
    this.ctx.log.info('requester ready');
  }

  /**
   * Records a request (durably, before any transaction) and returns its local id; the loop posts it. Validation of
   * model and inputs is the caller's (the API's) job; nothing is stored if this throws.
   */
  submit(p: SubmitParameters): string {
    return this.record(p, { inputHash: inputHashOf(p.inputs), inputs: JSON.stringify(p.inputs.map(tensorToJson)) });
  }

  /**
   * Records a batch labeling job (one model, many element inputs) durably, before any transaction; the loop posts
   * its input root (postBatchTask) and serves the element inputs at GET /batches/:inputRoot/inputs.
   */
  submitBatch(p: SubmitBatchParameters): string {
    if (p.items.length < 2 || p.items.length > 65_536) throw new RequestError('A batch has 2..65536 elements.', { details: `got ${p.items.length}`, hint: 'Submit a single element as a task.' });
    const { tree } = inputTreeOf(p.items);
    const id = this.record(p, { itemCount: p.items.length, inputRoot: tree.root.toLowerCase(), inputs: batchInputsToJson(p.items) }, (id) => {
      if (p.repost !== undefined) this.ctx.store.setKv(`repost:${id}`, p.repost ? '1' : '0');
    });
    return id;
  }

  /** One request row under the next local id q-N, in one store transaction (`also` adds to it); returns the id. */
  private record(
    p: { modelId: bigint; modelRoot: string; fee: bigint; ttl?: number },
    fields: Pick<Partial<TaskRow>, 'inputHash' | 'inputs' | 'itemCount' | 'inputRoot'>,
    also?: (id: string) => void,
  ): string {
    const { store } = this.ctx;
    if (p.fee <= 0n) throw new RequestError('Fee must be positive.', { details: `fee ${p.fee}` });
    return store.tx(() => {
      const n = Number(store.getKv('requests') ?? '0') + 1;
      store.setKv('requests', String(n));
      const id = `q-${n}`;
      store.insertTask({
        taskId: id,
        modelId: String(p.modelId),
        modelRoot: p.modelRoot,
        fee: String(p.fee),
        // For a request not yet posted, `deadline` holds the TTL; the absolute deadline is fixed (kv) when posting.
        deadline: p.ttl ?? 600,
        ...fields,
        status: 'posting',
      });
      also?.(id);
      inc(this.ctx, 'verity_node_tasks_submitted_total');
      return id;
    });
  }

  /**
   * Records that the client wants task `id` cancelled (kv `cancel:<id>`, before any transaction); the loop does it:
   * a request not yet posted is never posted, a posted task still Open is cancelled on-chain (fee refunded), a
   * claimed one runs to finality and the cancel is `refused`. Returns the cancel's state.
   */
  requestCancel(id: string): 'requested' | 'refused' | 'done' {
    const { store } = this.ctx;
    const known = store.getKv(`cancel:${id}`);
    if (known === 'refused' || known === 'done') return known;
    const t = store.getTask(id);
    if (!t || !['posting', 'posted'].includes(t.status)) {
      store.setKv(`cancel:${id}`, 'refused');
      return 'refused';
    }
    store.setKv(`cancel:${id}`, 'requested');
    return 'requested';
  }

  async tick(): Promise<void> {
    await this.postPending();
    await this.follow();
    await this.fetchBatchResults();
  }

  /** Element results of committed batches, from their worker's API, checked against the committed root (bounded). */
  private async fetchBatchResults(): Promise<void> {
    const { store } = this.ctx;
    const due = store.tasksByStatus('committed', 'finalized').filter((t) => t.itemCount > 1 && t.resultRoot && t.chainTaskId && store.listResults(t.taskId).length < t.itemCount);
    for (const t of due.slice(0, 8)) {
      const items = await fetchBatchResults(this.ctx, t.chainTaskId!, t.resultRoot!, t.itemCount);
      if (!items) continue;
      store.tx(() => {
        for (const it of items) store.putResult({ taskId: t.taskId, idx: it.index, outputHash: it.outputHash, outputs: JSON.stringify(it.outputs), corrupted: false });
      });
    }
  }

  private async postPending(): Promise<void> {
    const { store, addresses } = this.ctx;
    for (const t of store.tasksByStatus('posting').slice(0, 16)) {
      if (store.getKv(`cancel:${t.taskId}`) === 'requested') {
        store.tx(() => {
          store.updateTask(t.taskId, { status: 'cancelled', error: 'cancelled by the requester before it was posted' });
          store.setKv(`cancel:${t.taskId}`, 'done');
        });
        continue;
      }
      const inputs = () => (JSON.parse(t.inputs!) as TensorJson[]).map(tensorFromJson);
      // The deadline is fixed when the post is first keyed: the same key always sends the same transaction.
      let deadline = store.getKv(`deadline:${t.taskId}`);
      if (!deadline) {
        deadline = String(Number(await chainNow(this.ctx)) + t.deadline);
        store.setKv(`deadline:${t.taskId}`, deadline);
      }
      const attempt = store.getKv(`attempt:${t.taskId}`) ?? '0';
      const request =
        t.itemCount > 1
          ? this.ctx.calls.market.postBatchTask([BigInt(t.modelId), hexField(t.inputRoot, `task ${t.taskId} inputRoot`), t.itemCount, BigInt(t.fee), BigInt(deadline)])
          : this.ctx.calls.market.postTask([BigInt(t.modelId), inputs().map(tensorArg), BigInt(t.fee), BigInt(deadline)]);
      await taskStep(this.ctx, t.taskId, `post:${t.taskId}:${attempt}`, request, {
        step: 'post',
        metric: 'verity_node_tasks_posted_total',
        onRevert: 'failed',
        done: (r) => {
          const ev = eventsIn(r, taskMarketAbi, addresses.taskMarket, 'TaskPosted')[0]!;
          store.updateTask(t.taskId, { status: 'posted', chainTaskId: String(ev.taskId), error: null });
        },
      });
    }
  }

  /** Follows posted tasks through the market's events and state. */
  private async follow(): Promise<void> {
    const { store, addresses } = this.ctx;
    await scan(this.ctx, 'requester', addresses.taskMarket, taskMarketAbi, ['TaskClaimed', 'ResultCommitted', 'BatchCommitted', 'TaskFinalized', 'TaskInvalidated'], (logs) => {
      for (const l of logs) {
        const a = l.args as { taskId: bigint };
        const t = store.findTask(String(a.taskId));
        if (!t || t.chainTaskId !== String(a.taskId)) continue;
        if (l.eventName === 'TaskClaimed') {
          store.addTaskTx(t.taskId, 'claim', l.transactionHash);
        } else if (l.eventName === 'ResultCommitted') {
          recordCommittedResult(store, t.taskId, t.status === 'posted' ? 'committed' : t.status, l.args as ResultCommittedArgs, l.transactionHash);
        } else if (l.eventName === 'BatchCommitted') {
          const c = l.args as { worker: Hex; resultsRoot: Hex; challengeDeadline: bigint };
          store.updateTask(t.taskId, { status: t.status === 'posted' ? 'committed' : t.status, worker: c.worker, resultRoot: c.resultsRoot.toLowerCase(), challengeDeadline: Number(c.challengeDeadline) });
          store.addTaskTx(t.taskId, 'commit', l.transactionHash);
        } else if (l.eventName === 'TaskFinalized') {
          store.updateTask(t.taskId, { status: 'finalized' });
          store.addTaskTx(t.taskId, 'finalize', l.transactionHash);
          inc(this.ctx, 'verity_node_tasks_finalized_total');
        } else {
          store.updateTask(t.taskId, { status: 'invalidated', error: 'a challenger proved the result wrong; fee refunded' });
          store.addTaskTx(t.taskId, 'invalidate', l.transactionHash);
          inc(this.ctx, 'verity_node_tasks_invalidated_total');
          if ((store.getKv(`repost:${t.taskId}`) ?? (this.repost ? '1' : '0')) === '1') this.requeue(t.taskId);
        }
      }
    });
    // Deadline passed with nobody committing, or the client asked: cancel an Open task to get the fee back.
    const now = Number(await chainNow(this.ctx));
    for (const t of store.tasksByStatus('posted')) {
      const chain = await readTask(this.ctx, BigInt(t.chainTaskId!));
      const asked = store.getKv(`cancel:${t.taskId}`) === 'requested';
      if (asked && chain.status !== 'Open') store.setKv(`cancel:${t.taskId}`, 'refused'); // claimed: runs to finality
      if (chain.status === 'Open' && (asked || Number(chain.deadline) < now)) {
        try {
          const r = await sendCall(this.ctx, `cancel:${t.chainTaskId}`, this.ctx.calls.market.cancel([BigInt(t.chainTaskId!)]));
          store.updateTask(t.taskId, { status: 'cancelled', error: asked ? 'cancelled by the requester before a worker claimed it' : 'no worker before the deadline' });
          store.addTaskTx(t.taskId, 'cancel', r.transactionHash);
          if (asked) store.setKv(`cancel:${t.taskId}`, 'done');
        } catch (e) {
          if (!(e instanceof TxFailedError)) throw e;
          if (asked) store.setKv(`cancel:${t.taskId}`, 'refused'); // a worker claimed it first
        }
      }
    }
    if (store.tasksByStatus('invalidated', 'cancelled').length > 0) await withdrawAll(this.ctx);
  }

  /** An invalidated request goes back to `posting` under a new attempt key, with a new deadline. */
  private requeue(id: string): void {
    const { store } = this.ctx;
    const t = store.getTask(id)!;
    const attempt = Number(store.getKv(`attempt:${id}`) ?? '0') + 1;
    if (attempt > this.maxReposts) return;
    store.tx(() => {
      store.setKv(`attempt:${id}`, String(attempt));
      store.db.prepare('DELETE FROM kv WHERE key = ?').run(`deadline:${id}`);
      store.addTaskTx(id, `invalidated:${attempt - 1}`, t.txs.invalidate ?? '');
      store.updateTask(id, { status: 'posting', chainTaskId: null, worker: null, outputHash: null, outputs: null, resultRoot: null, challengeDeadline: null });
      store.deleteResults(id);
    });
  }

  /** The request as a client sees it: the result only once finalized. */
  view(id: string): VerifiedResult | undefined {
    const t = this.ctx.store.findTask(id);
    if (!t) return undefined;
    return resultViewOf(t, t.itemCount > 1 ? this.ctx.store.listResults(t.taskId) : undefined);
  }

  /** The element inputs of a batch this node posted, by its input root (served to workers and verifiers). */
  batchInputs(inputRoot: string): { taskId: string; inputRoot: string; itemCount: number; items: TensorJson[][] } | undefined {
    const t = this.ctx.store.findTaskByInputRoot(inputRoot);
    if (!t || !t.inputs || t.itemCount < 2) return undefined;
    return { taskId: t.chainTaskId ?? t.taskId, inputRoot: t.inputRoot!, itemCount: t.itemCount, items: batchInputsFromJson(t.inputs).map((ts) => ts.map(tensorToJson)) };
  }
}

export function viewOf(t: TaskRow): VerifiedResult {
  return resultViewOf(t);
}

/** The request as a client sees it; a batch's element results (`results`) only once finalized and all present. */
export function resultViewOf(t: TaskRow, results?: readonly ResultRow[]): VerifiedResult {
  const finalized = t.itemCount === 1 && t.status === 'finalized' && t.outputs && t.outputHash;
  const complete = t.itemCount > 1 && t.status === 'finalized' && !!results && results.length === t.itemCount;
  return {
    id: t.taskId,
    taskId: t.chainTaskId,
    status: t.status,
    modelRoot: t.modelRoot,
    ...(finalized ? { result: { outputs: JSON.parse(t.outputs!) as TensorJson[], outputHash: t.outputHash!, worker: t.worker ?? '' } } : {}),
    ...(t.itemCount > 1
      ? {
          batch: {
            itemCount: t.itemCount,
            worker: t.worker,
            inputRoot: t.inputRoot,
            resultRoot: t.resultRoot,
            ...(complete ? { items: results!.map((r) => ({ index: r.idx, outputHash: r.outputHash as Hex, outputs: JSON.parse(r.outputs) as TensorJson[] })) } : {}),
          },
        }
      : {}),
    txs: t.txs,
    error: t.error,
  };
}
