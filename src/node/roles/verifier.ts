/**
 * Verifier: watches committed results, re-executes them (all, or a sampled fraction: the draw is stored, so a
 * restart never re-rolls it), compares the output digest with its own run (no trace root is committed; it computes its
 * own trace root only on a mismatch, to play the dispute), challenges every mismatch before the window closes, and
 * plays the challenger's side to the end (then settles the dispute on the market and pulls its credits).
 *
 * Task row: open → committed → verified | skipped (not sampled) | challenged → invalidated | verified.
 *
 * Batch tasks: the sampled elements (each with probability `sample`) are re-executed from inputs fetched off-chain
 * (checked against the posted root); if its results do not reproduce the committed root, the worker's element
 * results are fetched (checked against it) and the first wrong element is challenged alone with its input and
 * result Merkle proofs (see checkBatch).
 */
import type { Hex } from 'viem';
import { taskMarketAbi } from '../../chain/artifacts/index.js';
import { outputHashOf } from '../../chain/io.js';
import { eventsIn } from '../../chain/call.js';
import { chainNow, ensureApprovals, hexField, inc, scan, taskStep, type NodeContext } from '../context.js';
import type { WriteArgs } from '../../chain/call.js';
import { encodeTrace, tensorFromJson, tensorToJson, type TensorJson } from '../engine-provider.js';
import { DisputeBook, insertPostedTask, publishedInputs, recordCommittedResult, type ResultCommittedArgs, type Role } from './common.js';
import { AuditorDuty } from './auditor.js';
import { batchInputsFromJson, batchInputsToJson, fetchBatchInputs, fetchBatchResults, inputTreeOf, resultTreeOf } from '../batch.js';
import type { TaskRow } from '../store.js';

export interface VerifierOptions {
  /** Fraction of results re-executed (default 1). */
  sample?: number;
  /** Random source for sampling (default Math.random). */
  random?: () => number;
  /** Results handled per tick (default 16). */
  batch?: number;
}

export class Verifier implements Role {
  readonly name = 'verifier' as const;
  private readonly ctx: NodeContext;
  private readonly sample: number;
  private readonly random: () => number;
  private readonly batch: number;
  private readonly disputes: DisputeBook;
  /** Random audits (AuditBook): sealed re-execution of selected tasks, paid from the audit premium. */
  private readonly audits: AuditorDuty;

  constructor(ctx: NodeContext, opts: VerifierOptions = {}) {
    this.ctx = ctx;
    this.sample = opts.sample ?? 1;
    this.random = opts.random ?? Math.random;
    this.batch = opts.batch ?? 16;
    this.disputes = new DisputeBook(ctx);
    // An audited single-element task is always checked in full (whatever the sampling rate): a mismatch is challenged.
    this.audits = new AuditorDuty(ctx, {
      onSelected: (id) => {
        const t = ctx.store.getTask(id);
        if (!t || t.itemCount > 1 || !t.inputs || (t.status !== 'skipped' && t.status !== 'committed')) return;
        ctx.store.setKv(`sample:${id}`, 'check');
        if (t.status === 'skipped' && t.error === 'not sampled') ctx.store.updateTask(id, { status: 'committed', error: null });
      },
    });
  }

  async setup(): Promise<void> {
    await ensureApprovals(this.ctx);
    await this.audits.setup();
    this.ctx.log.info({ sample: this.sample, models: this.ctx.engine.modelRoots() }, 'verifier ready');
  }

  async tick(): Promise<void> {
    await this.discover();
    await this.audits.tick();
    await this.check();
    await this.disputes.stepAll();
  }

  private async discover(): Promise<void> {
    const { store, addresses } = this.ctx;
    const me = this.ctx.account.toLowerCase();
    await scan(this.ctx, 'verifier', addresses.taskMarket, taskMarketAbi, ['TaskPosted', 'InputPublished', 'ResultCommitted', 'BatchCommitted'], async (logs) => {
      const inputs = publishedInputs(logs);
      for (const l of logs) {
        if (l.eventName === 'TaskPosted') {
          // A batch's element inputs are fetched from the requester's API when its result is checked.
          await insertPostedTask(this.ctx, l, inputs, (a, inp) => a.itemCount > 1 || (!!inp && inp.inputs.length > 0));
        } else if (l.eventName === 'ResultCommitted') {
          const a = l.args as ResultCommittedArgs;
          const t = store.getTask(String(a.taskId));
          if (!t || t.status !== 'open') continue;
          if (a.worker.toLowerCase() === me) {
            store.updateTask(t.taskId, { status: 'skipped', error: 'own result' });
            continue;
          }
          recordCommittedResult(store, t.taskId, 'committed', a, l.transactionHash);
        } else if (l.eventName === 'BatchCommitted') {
          const a = l.args as { taskId: bigint; worker: Hex; resultsRoot: Hex; challengeDeadline: bigint };
          const t = store.getTask(String(a.taskId));
          if (!t || t.status !== 'open') continue;
          if (a.worker.toLowerCase() === me) {
            store.updateTask(t.taskId, { status: 'skipped', error: 'own result' });
            continue;
          }
          store.updateTask(t.taskId, { status: 'committed', worker: a.worker, resultRoot: a.resultsRoot.toLowerCase(), challengeDeadline: Number(a.challengeDeadline) });
          store.addTaskTx(t.taskId, 'commit', l.transactionHash);
        }
      }
    });
  }

  /**
   * A committed batch: re-executes the sampled elements (each with probability `sample`; the draw is stored), and
   * when its own results do not reproduce the committed root, fetches the worker's element results (checked against
   * the root), challenges the first wrong element alone with the Merkle proofs the market checks, and plays it out.
   * Data not yet available (requester's inputs, worker's results) is asked for again next tick, until the window closes.
   */
  private async checkBatch(t: TaskRow, now: number): Promise<void> {
    const { store, engine, addresses } = this.ctx;
    const windowOpen = t.challengeDeadline === null || t.challengeDeadline > now;
    let draw = store.getKv(`sample:${t.taskId}`);
    if (draw === undefined) {
      const picked = Array.from({ length: t.itemCount }, (_, i) => i).filter(() => this.sample >= 1 || this.random() < this.sample);
      draw = picked.length === 0 ? 'skip' : JSON.stringify(picked);
      store.setKv(`sample:${t.taskId}`, draw);
    }
    if (draw === 'skip') return store.updateTask(t.taskId, { status: 'skipped', error: 'not sampled' });
    const picked = JSON.parse(draw) as number[];
    if (!t.inputs) {
      const items = await fetchBatchInputs(this.ctx, t.inputRoot!, t.itemCount);
      if (!items) {
        if (!windowOpen) store.updateTask(t.taskId, { status: 'skipped', error: 'batch inputs unavailable' });
        return;
      }
      store.updateTask(t.taskId, { inputs: batchInputsToJson(items) });
      t = store.getTask(t.taskId)!;
    }
    const items = batchInputsFromJson(t.inputs!);
    // Own results of the sampled elements, kept across ticks (a restart does not re-run them).
    for (const i of picked) {
      if (store.getResult(t.taskId, i)) continue;
      const e = engine.run(t.modelRoot!, items[i]!);
      inc(this.ctx, 'verity_node_results_checked_total');
      store.putResult({ taskId: t.taskId, idx: i, outputHash: e.outputHash, outputs: JSON.stringify(e.outputs.map(tensorToJson)), corrupted: false });
    }
    const mine = new Map(store.listResults(t.taskId).map((r) => [r.idx, r]));
    if (picked.length === t.itemCount) {
      const root = resultTreeOf(picked.map((i) => ({ outputHash: mine.get(i)!.outputHash as Hex }))).root;
      if (root.toLowerCase() === t.resultRoot) return store.updateTask(t.taskId, { status: 'verified' });
    }
    if (!windowOpen) return store.updateTask(t.taskId, { status: 'skipped', error: 'challenge window closed before the batch could be checked' });
    const theirs = await fetchBatchResults(this.ctx, t.taskId, t.resultRoot!, t.itemCount);
    if (!theirs) {
      this.ctx.log.warn({ taskId: t.taskId }, 'batch results not (yet) served by its worker; asking again');
      return;
    }
    // The outputs are the whole claim: the trace is a function of (model, inputs), bound in the game.
    const wrong = picked.find((i) => theirs[i]!.outputHash !== mine.get(i)!.outputHash);
    if (wrong === undefined) return store.updateTask(t.taskId, { status: 'verified' });
    // Re-run the wrong element to keep its trace and root (the dispute is played from it).
    const e = engine.execute(t.modelRoot!, items[wrong]!);
    store.putTrace(e.traceRoot, t.modelRoot!, encodeTrace(e.trace));
    const { inputHashes, tree: inputTree } = inputTreeOf(items);
    const resultTree = resultTreeOf(theirs);
    this.ctx.log.warn({ taskId: t.taskId, index: wrong, theirs: theirs[wrong]!.outputHash, ours: outputHashOf(e.outputs) }, 'batch element mismatch: challenging that element');
    await this.challenge(t, wrong, e.traceRoot, [
      BigInt(t.taskId),
      wrong,
      inputHashes[wrong],
      inputTree.proof(wrong),
      theirs[wrong]!.outputHash,
      resultTree.proof(wrong),
    ]);
  }

  /** Sends a challenge (keyed by task and element) and starts tracking its dispute. */
  private async challenge(t: TaskRow, index: number, ownTraceRoot: string, args: WriteArgs<typeof taskMarketAbi, 'challenge'>): Promise<void> {
    const { store, addresses } = this.ctx;
    await taskStep(this.ctx, t.taskId, `challenge:${t.taskId}:${index}`, this.ctx.calls.market.challenge(args), {
      step: 'challenge',
      metric: 'verity_node_disputes_opened_total',
      onRevert: 'skipped',
      done: (r) => {
        const ev = eventsIn(r, taskMarketAbi, addresses.taskMarket, 'ResultChallenged')[0]!;
        store.tx(() => {
          store.insertDispute({ disputeId: String(ev.disputeId), gameId: String(ev.gameId), taskId: t.taskId, idx: index, side: 'challenger', traceRoot: ownTraceRoot, state: 'playing' });
          store.updateTask(t.taskId, { status: 'challenged' });
        });
      },
    });
  }

  private async check(): Promise<void> {
    const { store, engine } = this.ctx;
    const now = Number(await chainNow(this.ctx));
    for (const t of store.tasksByStatus('committed').slice(0, this.batch)) {
      if (t.itemCount > 1) {
        await this.checkBatch(t, now);
        continue;
      }
      // The sampling draw is stored before acting on it.
      let draw = store.getKv(`sample:${t.taskId}`);
      if (draw === undefined) {
        draw = this.random() < this.sample ? 'check' : 'skip';
        store.setKv(`sample:${t.taskId}`, draw);
      }
      if (draw === 'skip') {
        store.updateTask(t.taskId, { status: 'skipped', error: 'not sampled' });
        continue;
      }
      const inputs = (JSON.parse(t.inputs!) as TensorJson[]).map(tensorFromJson);
      // The honest path compares the committed outputs only (no trace root is committed).
      const run = engine.run(t.modelRoot!, inputs);
      inc(this.ctx, 'verity_node_results_checked_total');
      if (run.outputHash === t.outputHash) {
        store.updateTask(t.taskId, { status: 'verified' });
        continue;
      }
      if (t.challengeDeadline !== null && t.challengeDeadline <= now) {
        store.updateTask(t.taskId, { status: 'skipped', error: 'mismatch found after the challenge window' });
        continue;
      }
      const e = engine.execute(t.modelRoot!, inputs, run.corrupted ? { replay: run.corrupted } : 'honest'); // our trace, played from in the dispute
      this.ctx.log.warn({ taskId: t.taskId, theirs: t.outputHash, ours: run.outputHash }, 'result mismatch: challenging');
      store.putTrace(e.traceRoot, t.modelRoot!, encodeTrace(e.trace));
      await this.challenge(t, 0, e.traceRoot, [
        BigInt(t.taskId),
        0,
        hexField(t.inputHash, `task ${t.taskId} inputHash`),
        [],
        hexField(t.outputHash, `task ${t.taskId} outputHash`),
        [],
      ]);
    }
  }
}
