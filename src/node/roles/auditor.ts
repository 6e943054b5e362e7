/**
 * Random audits (AuditBook, docs/protocol.md §Audits), both sides of them:
 *
 * - {@link AuditorDuty} (run by the verifier role): follows the book's AuditDrawn events; for a selected task it
 *   re-executes the audited element, takes the root of trace tensor j (AuditBook.targetTensor: an intermediate tensor
 *   the worker never published), seals keccak256(abi.encode(taskId, root, auditor, salt)) with commitAudit (the salt is
 *   stored before the seal is sent), reveals once the worker has answered, settles the audit when the worker did
 *   not answer or its own reveal did not match, and then reclaims its refundable deposit (AuditBook.reclaimDeposit).
 *   An audited task is always checked in full by the verifier (its outputs compared, challenged on a mismatch),
 *   whatever the verifier's sampling rate. Windows (docs/protocol.md §Audits, "Windows and liveness"): every selected
 *   audit is tracked from its AuditDrawn event even when the task is not in the local store yet (it is sealed as soon
 *   as the inputs arrive), audits are worked soonest-deadline first, and a failed commit or reveal is retried on the
 *   next tick while its window is open — only a closed window drops it.
 * - {@link AuditAnswerer} (run by the worker role): draws the audit of each of its committed tasks (finalize waits for
 *   it), answers a selected one after the commit window with the element's trace root (the only time the honest path
 *   computes one: the trace is recomputed from the kept inputs), tensor j and its Merkle proof (answerAudit; the market
 *   pins that root for every game on the element) — answers first, soonest window first — and settles the audit so the
 *   task can be finalized.
 *
 * Both are off when the market has no audit book. Every step re-reads the book, so a restart resumes where the chain is.
 */
import { encodeAbiParameters, keccak256, maxUint256, toHex, zeroAddress, type Address, type Hex } from 'viem';
import { randomBytes } from 'node:crypto';
import { auditBookAbi, taskMarketAbi } from '../../chain/artifacts/index.js';
import { callsOf } from '../../chain/call.js';
import { TxFailedError } from '../../chain/tx.js';
import { TraceCommitment } from '../../commit/index.js';
import { batchInputsFromJson } from '../batch.js';
import { chainNow, ensureStake, inc, scan, sendCall, type NodeContext } from '../context.js';
import { tensorFromJson, type TensorJson } from '../engine-provider.js';
import { traceFor } from '../traces.js';
import type { Trace } from '../../engine/ir.js';

/** AuditBook.State. */
export const AuditState = { None: 0, NotSelected: 1, Selected: 2, Settled: 3 } as const;

/** The market's audit book (zero when audits are off), read once per context. */
const books = new WeakMap<NodeContext, Address>();
export async function auditBookOf(ctx: NodeContext): Promise<Address | undefined> {
  let b = books.get(ctx);
  if (!b) {
    b = await ctx.publicClient.readContract({ address: ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'auditBook' });
    books.set(ctx, b);
  }
  return b === zeroAddress ? undefined : b;
}

/** keccak256(abi.encode(uint256 taskId, bytes32 tensorRoot, address auditor, bytes32 salt)): the AuditBook seal. */
export function auditSeal(taskId: bigint, tensorRoot: Hex, auditor: Address, salt: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'bytes32' }, { type: 'address' }, { type: 'bytes32' }], [taskId, tensorRoot, auditor, salt]));
}

function readAudit(ctx: NodeContext, book: Address, taskId: bigint) {
  return ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'getAudit', args: [taskId] });
}

/**
 * Sends a book call under `key`; a revert is logged and returned as its decoded message (the next tick re-reads the
 * book and retries under a new key: a revert in simulation is final for its key, so retried moves carry the chain time).
 */
async function tryBook(ctx: NodeContext, key: string, what: string, send: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await send();
    return undefined;
  } catch (e) {
    if (!(e instanceof TxFailedError)) throw e;
    const msg = e.message.split('\n')[0]!;
    ctx.log.debug({ key, err: msg }, `${what} not sent`);
    return msg;
  }
}

interface AuditorEntry {
  taskId: string;
  phase: 'drawn' | 'committed' | 'revealed';
  commitEnd: number;
  answerEnd: number;
  revealEnd: number;
  root?: Hex;
  salt?: Hex;
  matched?: boolean;
}

export interface AuditorDutyOptions {
  /** Called for every task selected for audit, so the verifier checks it in full (and challenges a mismatch). */
  onSelected?: (taskId: string) => void;
}

/** The verifier's side of audits (see the module comment). */
export class AuditorDuty {
  private book: Address | undefined;
  constructor(
    private readonly ctx: NodeContext,
    private readonly opts: AuditorDutyOptions = {},
  ) {}

  async setup(): Promise<void> {
    this.book = await auditBookOf(this.ctx);
    if (!this.book) return;
    const cfg = await this.ctx.publicClient.readContract({ address: this.book, abi: auditBookAbi, functionName: 'getConfig' });
    await ensureStake(this.ctx, cfg.minAuditorStake);
    const allowance = await this.ctx.publicClient.readContract({ address: this.ctx.addresses.token, abi: [{ type: 'function', name: 'allowance', stateMutability: 'view', inputs: [{ type: 'address' }, { type: 'address' }], outputs: [{ type: 'uint256' }] }] as const, functionName: 'allowance', args: [this.ctx.account, this.book] });
    if (allowance < maxUint256 / 2n) await sendCall(this.ctx, `approve:audit:${this.book}`, this.ctx.calls.token.approve([this.book, maxUint256]));
    this.ctx.log.info({ book: this.book, deposit: String(cfg.deposit), reward: String(cfg.reward), rateBps: cfg.rateBps }, 'auditing');
  }

  private open(): AuditorEntry[] {
    return JSON.parse(this.ctx.store.getKv('audits:open') ?? '[]') as AuditorEntry[];
  }
  private save(entries: AuditorEntry[]): void {
    this.ctx.store.setKv('audits:open', JSON.stringify(entries));
  }

  async tick(): Promise<void> {
    const book = this.book;
    if (!book) return;
    const { store } = this.ctx;
    const me = this.ctx.account.toLowerCase();
    await scan(this.ctx, 'auditor', book, auditBookAbi, ['AuditDrawn'], (logs) => {
      const entries = this.open();
      for (const l of logs) {
        const a = l.args as { taskId: bigint; selected: boolean; commitEnd: bigint; answerEnd: bigint; revealEnd: bigint };
        if (!a.selected) continue;
        const id = String(a.taskId);
        const t = store.getTask(id);
        // A task not in the store yet is tracked too (its inputs may arrive within the commit window); our own
        // tasks are never audited by us (the book refuses the worker).
        if ((t?.worker && t.worker.toLowerCase() === me) || entries.some((e) => e.taskId === id)) continue;
        entries.push({ taskId: id, phase: 'drawn', commitEnd: Number(a.commitEnd), answerEnd: Number(a.answerEnd), revealEnd: Number(a.revealEnd) });
        this.opts.onSelected?.(id);
      }
      this.save(entries);
    });
    const now = Number(await chainNow(this.ctx));
    // soonest deadline first: under load a late commit window is the one that must not be missed
    const deadline = (e: AuditorEntry) => (e.phase === 'drawn' ? e.commitEnd : e.phase === 'committed' ? e.answerEnd : e.revealEnd);
    const entries = this.open().sort((x, y) => deadline(x) - deadline(y));
    const keep: AuditorEntry[] = [];
    for (const e of entries) {
      let more = true;
      try {
        more = await this.step(book, e, now);
      } catch (err) {
        // one audit's failure (an RPC error, a model not loaded) must not starve the others: retried next tick
        this.ctx.log.warn({ taskId: e.taskId, err: (err as Error).message.split('\n')[0] }, 'audit step failed; retrying');
      }
      if (more) keep.push(e);
    }
    this.save(keep);
  }

  /** One step of one audit; false once the audit needs nothing more from this node. */
  private async step(book: Address, e: AuditorEntry, now: number): Promise<boolean> {
    const ctx = this.ctx;
    const id = BigInt(e.taskId);
    const calls = callsOf('AuditBook', book, auditBookAbi);
    if (e.phase === 'drawn') {
      if (now > e.commitEnd) {
        ctx.log.warn({ taskId: e.taskId, commitEnd: e.commitEnd }, 'audit commit window closed before we could seal');
        inc(ctx, 'verity_node_audits_missed_total');
        return false;
      }
      const t = ctx.store.getTask(e.taskId);
      if (t?.worker && t.worker.toLowerCase() === ctx.account.toLowerCase()) return false;
      if (!e.root) {
        const root = await this.tensorRoot(book, e.taskId);
        if (!root) return true; // inputs not here yet (a batch): next tick
        e.root = root;
        e.salt = toHex(randomBytes(32));
        this.saveEntry(e); // the salt is stored before the seal goes out
      }
      const seals = await ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'sealsOf', args: [id] });
      if (!seals.some((x) => x.auditor.toLowerCase() === ctx.account.toLowerCase())) {
        const key = `audit:commit:${e.taskId}:${now}`;
        const err = await tryBook(ctx, key, 'commitAudit', () => sendCall(ctx, key, calls.commitAudit([id, auditSeal(id, e.root!, ctx.account, e.salt!)])));
        if (err) return !/AuditNotAllowed|AuditWindowClosed|AuditInsufficientStake/.test(err); // else retry next tick
        inc(ctx, 'verity_node_audits_committed_total');
      }
      e.phase = 'committed';
      return true;
    }
    const a = await readAudit(ctx, book, id);
    if (a.state === AuditState.Settled) return this.reclaim(book, e, a); // settled by someone: our deposit may be due
    if (a.state !== AuditState.Selected) return false;
    if (e.phase === 'committed') {
      if (a.answered && now <= e.revealEnd) {
        const seals = await ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'sealsOf', args: [id] });
        const mine = seals.find((x) => x.auditor.toLowerCase() === ctx.account.toLowerCase());
        if (!mine) return false;
        if (mine.status === 0) {
          const key = `audit:reveal:${e.taskId}:${now}`;
          const err = await tryBook(ctx, key, 'revealAudit', () => sendCall(ctx, key, calls.revealAudit([id, e.root!, e.salt!])));
          if (err) return now <= e.revealEnd;
        }
        e.matched = a.answer.toLowerCase() === e.root!.toLowerCase();
        e.phase = 'revealed';
        const paid = e.matched && (await ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'isPaidSeal', args: [id, ctx.account] }));
        inc(ctx, paid ? 'verity_node_audits_paid_total' : e.matched ? 'verity_node_audits_matched_total' : 'verity_node_audits_mismatched_total');
        if (!e.matched) ctx.log.warn({ taskId: e.taskId, ours: e.root, theirs: a.answer }, 'audit answer does not match our re-execution');
        return !e.matched;
      }
      if (!a.answered && now > e.answerEnd) {
        // the worker did not answer: settling invalidates the task (its challenger share funds the pool); then our
        // deposit is reclaimed on the next tick
        await tryBook(ctx, `audit:settle:${e.taskId}:${now}`, 'settleAudit', () => sendCall(ctx, `audit:settle:${e.taskId}:${now}`, calls.settleAudit([id])));
        return true;
      }
      return true;
    }
    // revealed, mismatched: the deposit comes back (reclaimDeposit) if the task was invalidated by settlement
    if (now > e.revealEnd) {
      await tryBook(ctx, `audit:settle:${e.taskId}:${now}`, 'settleAudit', () => sendCall(ctx, `audit:settle:${e.taskId}:${now}`, calls.settleAudit([id])));
      return true;
    }
    return true;
  }

  /** After settlement: reclaims our deposit when the book made it refundable; false once nothing is left to do. */
  private async reclaim(book: Address, e: AuditorEntry, a: { workerFailed: boolean; refundMismatch: boolean }): Promise<boolean> {
    const ctx = this.ctx;
    const id = BigInt(e.taskId);
    const seals = await ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'sealsOf', args: [id] });
    const mine = seals.find((x) => x.auditor.toLowerCase() === ctx.account.toLowerCase());
    if (!mine || !((mine.status === 0 && a.workerFailed) || (mine.status === 2 && a.refundMismatch))) return false;
    const key = `audit:reclaim:${e.taskId}`;
    const err = await tryBook(ctx, key, 'reclaimDeposit', () => sendCall(ctx, key, callsOf('AuditBook', book, auditBookAbi).reclaimDeposit([id])));
    if (!err) inc(ctx, 'verity_node_audits_reclaimed_total');
    return false;
  }

  private saveEntry(e: AuditorEntry): void {
    const all = this.open().map((x) => (x.taskId === e.taskId ? e : x));
    this.save(all);
  }

  /** Root of trace tensor j of the audited element, from our own run (undefined while the inputs are unknown). */
  private async tensorRoot(book: Address, taskId: string): Promise<Hex | undefined> {
    const { store, engine } = this.ctx;
    const t = store.getTask(taskId);
    if (!t || !t.modelRoot || !t.inputs || !engine.has(t.modelRoot)) return undefined;
    const [index, j] = await this.ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'targetTensor', args: [BigInt(taskId)] });
    const inputs = t.itemCount > 1 ? batchInputsFromJson(t.inputs)[index] : (JSON.parse(t.inputs) as TensorJson[]).map(tensorFromJson);
    if (!inputs) return undefined;
    const run = engine.execute(t.modelRoot, inputs);
    inc(this.ctx, 'verity_node_audits_executed_total');
    return run.tensorRoots[Number(j)];
  }
}

/** The worker's side of audits (see the module comment). */
export class AuditAnswerer {
  private book: Address | undefined;
  constructor(private readonly ctx: NodeContext) {}

  async setup(): Promise<void> {
    this.book = await auditBookOf(this.ctx);
  }

  /**
   * Draws, answers and settles the audits of this worker's committed tasks. Answers go first, soonest answer window
   * first (a missed answer window slashes the task), then draws and settlements; one task's failure does not stop the
   * others (retried next tick).
   */
  async tick(): Promise<void> {
    const book = this.book;
    if (!book) return;
    const ctx = this.ctx;
    const calls = callsOf('AuditBook', book, auditBookAbi);
    const now = Number(await chainNow(ctx));
    const answers: { taskId: string; index: number; answerEnd: number }[] = [];
    const later: (() => Promise<unknown>)[] = [];
    for (const t of ctx.store.tasksByStatus('committed')) {
      const id = BigInt(t.taskId);
      const a = await readAudit(ctx, book, id);
      if (a.state === AuditState.None) {
        // drawable from commitBlock + 2; too early reverts and is retried next tick
        later.push(() => tryBook(ctx, `audit:draw:${t.taskId}:${now}`, 'drawAudit', () => sendCall(ctx, `audit:draw:${t.taskId}:${now}`, calls.drawAudit([id]))));
        continue;
      }
      if (a.state !== AuditState.Selected) continue;
      const settle = () => tryBook(ctx, `audit:settle:${t.taskId}:${now}`, 'settleAudit', () => sendCall(ctx, `audit:settle:${t.taskId}:${now}`, calls.settleAudit([id])));
      if (a.sealCount === 0) {
        if (now > Number(a.commitEnd)) later.push(settle);
        continue;
      }
      if (!a.answered) {
        if (now > Number(a.commitEnd) && now <= Number(a.answerEnd)) answers.push({ taskId: t.taskId, index: a.index, answerEnd: Number(a.answerEnd) });
        continue;
      }
      if (a.matched === a.sealCount || now > Number(a.revealEnd)) later.push(settle);
    }
    answers.sort((x, y) => x.answerEnd - y.answerEnd);
    for (const x of answers) {
      try {
        await this.answer(book, x.taskId, x.index);
      } catch (e) {
        ctx.log.warn({ taskId: x.taskId, err: (e as Error).message.split('\n')[0] }, 'audit answer failed; retrying');
      }
    }
    for (const f of later) {
      try {
        await f();
      } catch (e) {
        ctx.log.warn({ err: (e as Error).message.split('\n')[0] }, 'audit draw/settle failed; retrying');
      }
    }
  }

  /** answerAudit: element `index`'s (recomputed) trace root and tensor j proven in it (the market pins the root). */
  private async answer(book: Address, taskId: string, index: number): Promise<void> {
    const { store } = this.ctx;
    const t = store.getTask(taskId)!;
    const results = store.listResults(taskId);
    const r = t.itemCount > 1 ? results.find((x) => x.idx === index) : (store.getResult(taskId) ?? results[0]);
    let trace: Trace;
    let traceRoot: Hex;
    try {
      if (!r) throw new Error(`no result of element ${index}`);
      ({ trace, traceRoot } = traceFor(this.ctx, { taskId, idx: r.idx })); // recomputed from the kept inputs
    } catch (e) {
      this.ctx.log.error({ taskId, index, err: (e as Error).message.split('\n')[0] }, 'audit: the trace of the audited element cannot be recomputed; cannot answer');
      return;
    }
    const [, j] = await this.ctx.publicClient.readContract({ address: book, abi: auditBookAbi, functionName: 'targetTensor', args: [BigInt(taskId)] });
    const proof = new TraceCommitment(trace).proveTensor(Number(j));
    const calls = callsOf('AuditBook', book, auditBookAbi);
    const key = `audit:answer:${taskId}:${Number(await chainNow(this.ctx))}`;
    const err = await tryBook(this.ctx, key, 'answerAudit', () =>
      sendCall(
        this.ctx,
        key,
        calls.answerAudit([BigInt(taskId), traceRoot, toHex(proof.leaf), proof.siblings.map((s) => toHex(s))]),
      ),
    );
    if (!err) inc(this.ctx, 'verity_node_audits_answered_total');
    else this.ctx.log.warn({ taskId, err }, 'audit answer not accepted yet; retrying');
  }
}
