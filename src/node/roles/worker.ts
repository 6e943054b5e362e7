/**
 * Worker: claims open tasks it can serve (a loaded model, one element, inputs in calldata, fee ≥ its minimum,
 * deadline ahead), runs the engine, keeps the inputs and results (not the trace: it is recomputed from them when a
 * dispute or an audit needs it, src/node/traces.ts), commits, finalizes after the challenge window, and plays the claimant's side of every dispute on its results. When many tasks are queued it
 * works in batches: up to `batch` claims, executions and commits in flight together (one block on a busy chain).
 *
 * Task row: open → claimed → computed → committed (→ challenged → committed | invalidated) → finalized; lost when
 * another worker claimed first; skipped when not served.
 *
 * Batch tasks (itemCount > 1): the element inputs are fetched from the requester's API (src/node/batch.ts, checked
 * against the posted input root) before claiming; every element is run and its result stored one by one
 * (a restart runs only the missing ones); all results are committed under one root in one transaction
 * (commitBatch); the element results and proofs are served by the API (src/node/api-batch.ts); a challenge of one
 * element is defended from that element's recomputed trace.
 */
import type { Hex } from 'viem';
import { stakingAbi, taskMarketAbi } from '../../chain/artifacts/index.js';
import { tensorArg } from '../../chain/io.js';
import { eventsIn } from '../../chain/call.js';
import { chainNow, ensureAgent, ensureApprovals, ensureStake, failedWith, hexField, inc, readTask, scan, sendCall, withdrawAll, taskStep, type NodeContext } from '../context.js';
import { tensorFromJson, tensorToJson, type TensorJson } from '../engine-provider.js';
import { rememberCorruption, traceFor } from '../traces.js';
import { TxFailedError } from '../../chain/tx.js';
import { batchInputsFromJson, batchInputsToJson, fetchBatchInputs, resultTreeOf } from '../batch.js';
import { DisputeBook, insertPostedTask, publishedInputs, type Role } from './common.js';
import { AuditAnswerer } from './auditor.js';
import type { TaskRow } from '../store.js';

export interface WorkerOptions {
  /** ERC-8004 agent card URI (registered once). */
  agentURI?: string;
  /** Free stake to keep (default 1000 VRT). */
  stake?: bigint;
  /** Tasks handled together per tick (default 8). */
  batch?: number;
  /** Lowest fee served (default 0). */
  minFee?: bigint;
  /** Largest batch task served, in elements (default 256). */
  maxItems?: number;
  /**
   * Seconds a settled (finalized / invalidated) task's element results and inputs are kept — served to the requester
   * by GET /tasks/:id/results — before they are pruned (default 600). The database then stops growing with the
   * number of inferences answered.
   */
  keepSettledS?: number;
}

/** Element results stored per SQLite transaction while a batch runs. */
const RESULT_CHUNK = 256;

export class Worker implements Role {
  readonly name = 'worker' as const;
  private readonly ctx: NodeContext;
  private readonly opts: Required<WorkerOptions>;
  private readonly disputes: DisputeBook;
  /** Draws, answers and settles the random audits of our results (finalize waits for them). */
  private readonly audits: AuditAnswerer;
  agentId: bigint | undefined;
  private lastPrune = 0;

  constructor(ctx: NodeContext, opts: WorkerOptions = {}) {
    this.ctx = ctx;
    this.opts = { agentURI: opts.agentURI ?? `verity:worker:${ctx.account}`, stake: opts.stake ?? 1_000n * 10n ** 18n, batch: opts.batch ?? 8, minFee: opts.minFee ?? 0n, maxItems: opts.maxItems ?? 256, keepSettledS: opts.keepSettledS ?? 600 };
    this.disputes = new DisputeBook(ctx);
    this.audits = new AuditAnswerer(ctx);
  }

  async setup(): Promise<void> {
    await ensureApprovals(this.ctx);
    await this.audits.setup();
    this.agentId = await ensureAgent(this.ctx, this.opts.agentURI);
    await ensureStake(this.ctx, this.opts.stake);
    this.ctx.log.info({ agentId: String(this.agentId), models: this.ctx.engine.modelRoots() }, 'worker ready');
  }

  async tick(): Promise<void> {
    await this.discover();
    await this.audits.tick(); // first: its answer window is the tightest deadline a worker has
    await this.claimOpen();
    await this.executeClaimed();
    await this.commitComputed();
    await this.disputes.stepAll();
    await this.finalizeDue();
    this.prune();
  }

  /** New tasks and challenges against our results, from the market's events. */
  private async discover(): Promise<void> {
    const { store, addresses } = this.ctx;
    const me = this.ctx.account.toLowerCase();
    await scan(this.ctx, 'worker', addresses.taskMarket, taskMarketAbi, ['TaskPosted', 'InputPublished', 'ResultChallenged'], async (logs) => {
      const inputs = publishedInputs(logs);
      for (const l of logs) {
        if (l.eventName === 'TaskPosted') {
          // A batch's element inputs are fetched from the requester's API (checked against inputRoot) before claiming.
          await insertPostedTask(this.ctx, l, inputs, (a, inp) => (a.itemCount > 1 ? a.itemCount <= this.opts.maxItems : !!inp && inp.inputs.length > 0) && a.fee >= this.opts.minFee);
          inc(this.ctx, 'verity_node_tasks_seen_total');
        } else if (l.eventName === 'ResultChallenged') {
          const a = l.args as { disputeId: bigint; taskId: bigint; index: number; gameId: bigint };
          const t = store.getTask(String(a.taskId));
          if (!t || t.worker?.toLowerCase() !== me) continue;
          // The element is defended from its own trace, recomputed now (no trace root was committed): its root is the
          // one this node reveals in the game.
          let traceRoot: string;
          try {
            traceRoot = traceFor(this.ctx, { taskId: t.taskId, idx: a.index }).traceRoot;
          } catch (e) {
            this.ctx.log.error({ taskId: t.taskId, index: a.index, err: (e as Error).message.split('\n')[0] }, 'challenged, but the trace cannot be recomputed');
            continue;
          }
          if (store.insertDispute({ disputeId: String(a.disputeId), gameId: String(a.gameId), taskId: t.taskId, idx: a.index, side: 'claimant', traceRoot, state: 'playing' })) {
            store.updateTask(t.taskId, { status: 'challenged' });
            store.addTaskTx(t.taskId, `challenge:${a.disputeId}`, l.transactionHash);
            inc(this.ctx, 'verity_node_disputes_opened_total');
            this.ctx.log.warn({ taskId: t.taskId, disputeId: String(a.disputeId) }, 'our result is challenged: defending');
          }
        }
      }
    });
  }

  private async claimOpen(): Promise<void> {
    const { store } = this.ctx;
    const now = Number(await chainNow(this.ctx));
    // Each claim locks minStake: claim no more than the free stake covers (the rest wait for stake to unlock).
    const [free, params] = await Promise.all([
      this.ctx.publicClient.readContract({ address: this.ctx.addresses.staking, abi: stakingAbi, functionName: 'freeStakeOf', args: [this.ctx.account] }),
      this.ctx.publicClient.readContract({ address: this.ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getParams' }),
    ]);
    const affordable = params.minStake > 0n ? Number(free / params.minStake) : this.opts.batch;
    const open = store.tasksByStatus('open').slice(0, Math.min(this.opts.batch, affordable));
    await Promise.all(
      open.map(async (t) => {
        if (t.deadline <= now + 2) return store.updateTask(t.taskId, { status: 'skipped', error: 'deadline too close' });
        if (t.itemCount > 1 && !t.inputs) {
          // Batch: no claim (no stake locked) before the element inputs are in hand and runnable.
          const items = await fetchBatchInputs(this.ctx, t.inputRoot!, t.itemCount);
          if (!items) return;
          const bad = this.badInputs(t.modelRoot!, items);
          if (bad) return store.updateTask(t.taskId, { status: 'skipped', error: bad });
          store.updateTask(t.taskId, { inputs: batchInputsToJson(items) });
        }
        // A claim that reverted for lack of free stake is retried later under the next attempt key.
        const attempt = Number(store.getKv(`claim-attempt:${t.taskId}`) ?? '0');
        const key = attempt === 0 ? `claim:${t.taskId}` : `claim:${t.taskId}:a${attempt}`;
        try {
          const r = await sendCall(this.ctx, key, this.ctx.calls.market.claim([BigInt(t.taskId), this.agentId!]));
          store.updateTask(t.taskId, { status: 'claimed', worker: this.ctx.account });
          store.addTaskTx(t.taskId, 'claim', r.transactionHash);
          inc(this.ctx, 'verity_node_tasks_claimed_total');
          // Straight on to execution and commit, in this task's own chain: a task claimed here is committed in the same
          // block as the others' claims land, not after every claim of the tick (executeClaimed / commitComputed take
          // whatever is left, e.g. after a restart).
          this.executeOne(store.getTask(t.taskId)!);
          const done = store.getTask(t.taskId)!;
          if (done.status === 'computed') await this.commitOne(done);
        } catch (e) {
          if (failedWith(e, 'StakingInsufficientStake') && attempt < 20) {
            store.setKv(`claim-attempt:${t.taskId}`, String(attempt + 1));
          } else if (e instanceof TxFailedError) {
            store.updateTask(t.taskId, { status: 'lost', error: e.message.split('\n')[0]! });
          } else throw e;
        }
      }),
    );
  }

  /** Why a batch's element inputs cannot be run by the model (dtype / shape / count), or undefined. */
  private badInputs(modelRoot: string, items: readonly (readonly { dtype: string; shape: readonly number[] }[])[]): string | undefined {
    const m = this.ctx.engine.loadModel(modelRoot).model;
    for (const [i, ts] of items.entries()) {
      if (ts.length !== m.inputs.length) return `element ${i}: ${ts.length} input tensors, model takes ${m.inputs.length}`;
      for (const [j, t] of ts.entries()) {
        const info = m.tensors[m.inputs[j]!]!;
        if (t.dtype !== info.dtype || t.shape.join(',') !== info.shape.join(',')) return `element ${i} input ${j}: ${t.dtype}[${t.shape.join(',')}], model takes ${info.dtype}[${info.shape.join(',')}]`;
      }
    }
    return undefined;
  }

  /**
   * Runs every element of a claimed batch, storing each element's result as it goes (a restart runs only
   * the missing ones), then the result root. A dishonest provider lies in at most one element (chosen once, stored).
   */
  private executeBatch(t: TaskRow): void {
    const { store, engine } = this.ctx;
    const items = batchInputsFromJson(t.inputs!);
    let liar = store.getKv(`lie:${t.taskId}`);
    if (liar === undefined) {
      liar = engine.dishonest > 0 && Math.random() < engine.dishonest ? String(Math.floor(Math.random() * items.length)) : '-1';
      store.setKv(`lie:${t.taskId}`, liar);
    }
    const started = performance.now();
    const done = new Set(store.listResults(t.taskId).map((r) => r.idx));
    // RESULT_CHUNK elements per runBatch and per SQLite transaction: one journal sync per chunk, not per element (a
    // restart reruns at most one chunk).
    const todo = [...items.keys()].filter((i) => !done.has(i));
    for (let c = 0; c < todo.length; c += RESULT_CHUNK) {
      const idx = todo.slice(c, c + RESULT_CHUNK);
      // Honest elements in one runBatch (the same traces as one runModel each); the liar's one through execute.
      const honest = idx.filter((i) => String(i) !== liar);
      const runs = new Map(engine.runHonestBatch(t.modelRoot!, honest.map((i) => items[i]!)).map((r, k) => [honest[k]!, r]));
      const rows = idx.map((i) => {
        const h = runs.get(i);
        if (h) return { taskId: t.taskId, idx: i, outputHash: h.outputHash, outputs: JSON.stringify(h.outputs.map(tensorToJson)), corrupted: false };
        const e = engine.run(t.modelRoot!, items[i]!, 'lie');
        rememberCorruption(this.ctx, { taskId: t.taskId, idx: i }, e.corrupted); // the trace itself is recomputed when needed (src/node/traces.ts)
        if (e.corrupted) this.ctx.log.info({ taskId: t.taskId, index: i, corrupted: e.corrupted }, 'executed (lying in this element)');
        return { taskId: t.taskId, idx: i, outputHash: e.outputHash, outputs: JSON.stringify(e.outputs.map(tensorToJson)), corrupted: !!e.corrupted };
      });
      store.putResults(rows);
    }
    inc(this.ctx, 'verity_node_engine_ms_total', performance.now() - started);
    const results = store.listResults(t.taskId);
    const resultRoot = resultTreeOf(results.map((r) => ({ outputHash: r.outputHash as Hex }))).root;
    store.updateTask(t.taskId, { status: 'computed', resultRoot });
    this.ctx.log.info({ taskId: t.taskId, items: results.length, resultRoot }, 'batch executed');
  }

  private async executeClaimed(): Promise<void> {
    for (const t of this.ctx.store.tasksByStatus('claimed').slice(0, this.opts.batch)) this.executeOne(t);
  }

  /** Runs one claimed task (claimed → computed, or failed for a batch that cannot run). */
  private executeOne(t: TaskRow): void {
    const { store, engine } = this.ctx;
    if (t.itemCount > 1) {
      try {
        this.executeBatch(t);
      } catch (e) {
        store.updateTask(t.taskId, { status: 'failed', error: `batch execution: ${(e as Error).message.split('\n')[0]}` });
      }
      return;
    }
    const existing = store.getResult(t.taskId);
    if (!existing) {
      const inputs = (JSON.parse(t.inputs!) as TensorJson[]).map(tensorFromJson);
      const started = performance.now();
      // The honest path commits the outputs only: no trace root (issue 13; src/node/traces.ts recomputes the trace for
      // a dispute or an audit).
      const e = engine.run(t.modelRoot!, inputs);
      inc(this.ctx, 'verity_node_engine_ms_total', performance.now() - started);
      rememberCorruption(this.ctx, { taskId: t.taskId, idx: 0 }, e.corrupted);
      store.putResult({ taskId: t.taskId, idx: 0, outputHash: e.outputHash, outputs: JSON.stringify(e.outputs.map(tensorToJson)), corrupted: !!e.corrupted });
      this.ctx.log.info({ taskId: t.taskId, outputHash: e.outputHash, ...(e.corrupted ? { corrupted: e.corrupted } : {}) }, 'executed');
    }
    const r = store.getResult(t.taskId)!;
    store.updateTask(t.taskId, { status: 'computed', outputHash: r.outputHash, outputs: r.outputs });
  }

  private async commitComputed(): Promise<void> {
    await Promise.all(this.ctx.store.tasksByStatus('computed').slice(0, this.opts.batch).map((t) => this.commitOne(t)));
  }

  /** Commits one computed task (computed → committed, or failed when the commit reverts). */
  private async commitOne(t: TaskRow): Promise<void> {
    const { store, addresses } = this.ctx;
    // A batch: every element result under one root, in one transaction (element data served by the API).
    const request =
      t.itemCount > 1
        ? this.ctx.calls.market.commitBatch([BigInt(t.taskId), hexField(t.resultRoot, `task ${t.taskId} resultRoot`)])
        : this.ctx.calls.market.commit([BigInt(t.taskId), (JSON.parse(t.outputs!) as TensorJson[]).map(tensorFromJson).map(tensorArg)]);
    await taskStep(this.ctx, t.taskId, `commit:${t.taskId}`, request, {
      step: 'commit',
      metric: 'verity_node_results_committed_total',
      onRevert: 'failed',
      done: (r) => {
        const ev = eventsIn(r, taskMarketAbi, addresses.taskMarket, t.itemCount > 1 ? 'BatchCommitted' : 'ResultCommitted')[0];
        store.updateTask(t.taskId, { status: 'committed', challengeDeadline: Number(ev?.challengeDeadline ?? 0n) });
      },
    });
  }

  private async finalizeDue(): Promise<void> {
    const { store, addresses } = this.ctx;
    const now = Number(await chainNow(this.ctx));
    let finalized = 0;
    const due = store.tasksByStatus('committed').filter((t) => t.challengeDeadline !== null && t.challengeDeadline <= now);
    // Every due task at once (each its own key): one block for all of them, not one block each.
    await Promise.all(
      due.map(async (t) => {
        const chain = await readTask(this.ctx, BigInt(t.taskId));
        if (chain.status === 'Finalized') return store.updateTask(t.taskId, { status: 'finalized' });
        if (chain.status === 'Invalidated') return store.updateTask(t.taskId, { status: 'invalidated' });
        if (chain.status !== 'Committed' || chain.openDisputes > 0) return;
        // Keyed by the chain time: a finalize that lost a race is not retried under a burnt key (the chain status
        // read above makes a second one unnecessary once the first landed).
        try {
          const r = await sendCall(this.ctx, `finalize:${t.taskId}:${now}`, this.ctx.calls.market.finalize([BigInt(t.taskId)]));
          store.updateTask(t.taskId, { status: 'finalized' });
          store.addTaskTx(t.taskId, 'finalize', r.transactionHash);
          inc(this.ctx, 'verity_node_tasks_finalized_total');
          finalized++;
        } catch (e) {
          if (failedWith(e, 'MarketUnexpectedStatus')) store.updateTask(t.taskId, { status: 'finalized' });
          else if (!failedWith(e, 'MarketChallengeWindowOpen') && !failedWith(e, 'MarketOpenDisputes') && !failedWith(e, 'MarketAuditPending')) throw e;
        }
      }),
    );
    if (finalized > 0) await withdrawAll(this.ctx);
  }

  /** Settled tasks' element results and inputs, once `keepSettledS` has passed (store.pruneSettled). */
  private prune(): void {
    const t = Date.now();
    if (t - this.lastPrune < 5_000) return;
    this.lastPrune = t;
    const n = this.ctx.store.pruneSettled(this.ctx.account, this.opts.keepSettledS);
    if (n > 0) this.ctx.log.debug({ tasks: n }, 'pruned settled tasks');
  }
}
