/**
 * Verifier: watches committed results, re-executes them (all, or a sampled fraction: the draw is stored, so a
 * restart never re-rolls it), compares the trace root and the output digest with its own run, challenges every
 * mismatch before the window closes, and plays the challenger's side to the end (then settles the dispute on the
 * market and pulls its credits).
 *
 * Task row: open → committed → verified | skipped (not sampled) | challenged → invalidated | verified.
 */
import type { Hex } from 'viem';
import { taskMarketAbi } from '../../chain/artifacts/index.js';
import { outputHashOf } from '../../chain/io.js';
import { chainNow, ensureApprovals, inc, logsOf, modelRootOf, scan, sendCall, tensorFromArg, type NodeContext } from '../context.js';
import { encodeTrace, tensorFromJson, tensorToJson, type TensorJson } from '../engine-provider.js';
import { TxFailedError } from '../tx.js';
import { DisputeBook, type Role } from './common.js';

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

  constructor(ctx: NodeContext, opts: VerifierOptions = {}) {
    this.ctx = ctx;
    this.sample = opts.sample ?? 1;
    this.random = opts.random ?? Math.random;
    this.batch = opts.batch ?? 16;
    this.disputes = new DisputeBook(ctx);
  }

  async setup(): Promise<void> {
    await ensureApprovals(this.ctx);
    this.ctx.log.info({ sample: this.sample, models: this.ctx.engine.modelRoots() }, 'verifier ready');
  }

  async tick(): Promise<void> {
    await this.discover();
    await this.check();
    await this.disputes.stepAll();
  }

  private async discover(): Promise<void> {
    const { store, addresses } = this.ctx;
    const me = this.ctx.account.toLowerCase();
    await scan(this.ctx, 'verifier', addresses.taskMarket, taskMarketAbi, ['TaskPosted', 'InputPublished', 'ResultCommitted'], async (logs) => {
      const inputs = new Map<string, { inputHash: Hex; inputs: TensorJson[] }>();
      for (const l of logs) {
        if (l.eventName !== 'InputPublished') continue;
        const a = l.args as { taskId: bigint; inputHash: Hex; inputs: { dtype: number; shape: number[]; data: Hex }[] };
        inputs.set(String(a.taskId), { inputHash: a.inputHash, inputs: a.inputs.map((t) => tensorToJson(tensorFromArg(t))) });
      }
      for (const l of logs) {
        if (l.eventName === 'TaskPosted') {
          const a = l.args as { taskId: bigint; requester: Hex; modelId: bigint; itemCount: number; fee: bigint; deadline: bigint };
          const id = String(a.taskId);
          const inp = inputs.get(id);
          const modelRoot = await modelRootOf(this.ctx, a.modelId);
          const checkable = a.itemCount === 1 && !!inp && inp.inputs.length > 0 && this.ctx.engine.has(modelRoot);
          store.insertTask({
            taskId: id,
            chainTaskId: id,
            modelId: String(a.modelId),
            modelRoot,
            requester: a.requester,
            itemCount: a.itemCount,
            fee: String(a.fee),
            deadline: Number(a.deadline),
            inputHash: inp?.inputHash ?? null,
            inputs: inp ? JSON.stringify(inp.inputs) : null,
            status: checkable ? 'open' : 'skipped',
            txs: { post: l.transactionHash },
          });
        } else if (l.eventName === 'ResultCommitted') {
          const a = l.args as { taskId: bigint; worker: Hex; outputHash: Hex; traceRoot: Hex; challengeDeadline: bigint; outputs: { dtype: number; shape: number[]; data: Hex }[] };
          const t = store.getTask(String(a.taskId));
          if (!t || t.status !== 'open') continue;
          if (a.worker.toLowerCase() === me) {
            store.updateTask(t.taskId, { status: 'skipped', error: 'own result' });
            continue;
          }
          store.updateTask(t.taskId, {
            status: 'committed',
            worker: a.worker,
            outputHash: a.outputHash,
            traceRoot: a.traceRoot,
            challengeDeadline: Number(a.challengeDeadline),
            outputs: JSON.stringify(a.outputs.map((x) => tensorToJson(tensorFromArg(x)))),
          });
          store.addTaskTx(t.taskId, 'commit', l.transactionHash);
        }
      }
    });
  }

  private async check(): Promise<void> {
    const { store, engine, addresses } = this.ctx;
    const now = Number(await chainNow(this.ctx));
    for (const t of store.tasksByStatus('committed').slice(0, this.batch)) {
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
      const e = engine.execute(t.modelRoot!, inputs);
      inc(this.ctx, 'verity_node_results_checked_total');
      const outputHash = outputHashOf(e.outputs);
      if (e.traceRoot === t.traceRoot && outputHash === t.outputHash) {
        store.updateTask(t.taskId, { status: 'verified' });
        continue;
      }
      if (t.challengeDeadline !== null && t.challengeDeadline <= now) {
        store.updateTask(t.taskId, { status: 'skipped', error: 'mismatch found after the challenge window' });
        continue;
      }
      this.ctx.log.warn({ taskId: t.taskId, theirs: t.traceRoot, ours: e.traceRoot }, 'result mismatch: challenging');
      store.putTrace(e.traceRoot, t.modelRoot!, encodeTrace(e.trace));
      try {
        const r = await sendCall(this.ctx, `challenge:${t.taskId}:0`, 'TaskMarket', addresses.taskMarket, taskMarketAbi, 'challenge', [
          BigInt(t.taskId),
          0,
          t.inputHash,
          [],
          t.outputHash,
          t.traceRoot,
          [],
        ]);
        const ev = logsOf<{ disputeId: bigint; gameId: bigint }>(r, taskMarketAbi, addresses.taskMarket, 'ResultChallenged')[0]!;
        store.tx(() => {
          store.insertDispute({ disputeId: String(ev.disputeId), gameId: String(ev.gameId), taskId: t.taskId, idx: 0, side: 'challenger', traceRoot: e.traceRoot, state: 'playing' });
          store.updateTask(t.taskId, { status: 'challenged' });
        });
        store.addTaskTx(t.taskId, 'challenge', r.transactionHash);
        inc(this.ctx, 'verity_node_disputes_opened_total');
      } catch (err) {
        if (err instanceof TxFailedError) store.updateTask(t.taskId, { status: 'skipped', error: err.message.split('\n')[0]! });
        else throw err;
      }
    }
  }
}
