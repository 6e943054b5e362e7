/**
 * Crash-safe transaction sending. Every transaction has an idempotency key and goes through the store's txs table:
 *
 *   intent (recorded before anything else) → simulate (a revert is decoded and recorded: failed)
 *   → nonce + sign → signed (raw bytes and hash durable BEFORE broadcast) → broadcast → sent → receipt
 *   → confirmed | failed.
 *
 * A process killed anywhere resumes with {@link TxSender.recover}: a signed/sent row is re-broadcast with the SAME
 * raw bytes (same nonce, same hash: the chain cannot include it twice), an intent row is signed afresh. A key is
 * never signed twice unless its first signature's nonce was provably taken by another transaction (then it is
 * dropped back to intent). Nonces come from max(journal's highest + 1, chain pending count), under one lock.
 *
 * Fee bumping (EIP-1559, {@link TxSenderOptions.bump}): a signed transaction not mined within `afterMs` is signed
 * again with the SAME nonce, gas, target and data, and both fees raised by at least 12.5% (to the network's
 * suggestion if higher), never above the configured `maxFeePerGas`. The replacement is journaled as a new attempt of
 * the same key before it is broadcast (the old hash becomes 'replaced'); the key settles on whichever of its hashes
 * is mined. One nonce per intent: a replacement can only ever take the slot of the transaction it replaces.
 *
 * This is the one sender of the project: the node journals in its SQLite store (src/node/store.ts implements
 * {@link TxJournal}); the CLI, the dispute client, deployments, benches and tests use a {@link MemoryJournal} (the same
 * code path, with nothing to resume after a crash). Requests are built by the typed builders in src/chain/call.ts.
 */
import {
  BaseError as ViemBaseError,
  decodeErrorResult,
  keccak256 as viemKeccak,
  parseTransaction,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { BaseError } from '../errors.js';
import { protocolErrorsAbi } from './abi.js';
import type { TxRequest } from './call.js';
import { ContractRevertError, decodeContractError } from './errors.js';

export type { TxRequest } from './call.js';

export type TxStatus = 'intent' | 'signed' | 'sent' | 'confirmed' | 'failed';

/** One journaled transaction. */
export interface TxRow {
  id: number;
  /** Idempotency key: one transaction per key, ever. */
  key: string;
  account: string;
  /** JSON of the {@link TxRequest}. */
  call: string;
  status: TxStatus;
  nonce: number | null;
  hash: string | null;
  raw: string | null;
  block: number | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One signature of a key's transaction: the first, or a fee-bumped replacement under the same nonce. */
export interface TxAttempt {
  key: string;
  /** 0 for the first signature, then 1, 2, … per replacement. */
  n: number;
  hash: string;
  raw: string;
  /** pending: the current signature; replaced: superseded by a higher-fee one (or another attempt was mined);
   * mined: the one the chain included; dropped: its nonce was taken by another transaction. */
  status: 'pending' | 'replaced' | 'mined' | 'dropped';
  /** EIP-1559 fees (decimal wei) when known. */
  maxFeePerGas: string | null;
  maxPriorityFeePerGas: string | null;
  /** Date.now() when signed. */
  createdAt: number;
}

/** EIP-1559 fees of a transaction. */
export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/** Where the sender records every step before taking the next (the node's store; a {@link MemoryJournal}). */
export interface TxJournal {
  getTx(key: string): TxRow | undefined;
  /** Records the intent to send `call` under `key`; returns the existing row if the key is known. */
  recordIntent(key: string, account: string, call: string): TxRow;
  /** intent → signed: raw bytes and hash durable before broadcast (attempt 0). */
  recordSigned(key: string, nonce: number, hash: string, raw: string, fees?: Fees): void;
  /**
   * signed/sent → signed with a fee-bumped signature of the same nonce, if the current hash is still `prevHash`: the
   * current attempt becomes 'replaced' and the new one 'pending', in one step. Returns false if the row moved on.
   */
  recordReplacement(key: string, prevHash: string, hash: string, raw: string, fees: Fees): boolean;
  /** Every signature of `key`, in order. */
  attemptsOf(key: string): TxAttempt[];
  /** signed → sent. */
  recordSent(key: string): void;
  /** → confirmed | failed; `hash`: the attempt that was mined (the row's hash becomes it). */
  recordOutcome(key: string, outcome: { status: 'confirmed' | 'failed'; block?: number; error?: string; hash?: string }): void;
  /** A signed transaction whose nonce another one took: back to intent. */
  recordDropped(key: string, error: string): void;
  /** Not yet confirmed or failed, oldest first. */
  unsettledTxs(account?: string): TxRow[];
  /** Confirmed or failed rows of `account` mined at or above `block` (what a reorg back to `block` may have undone). */
  settledSince(account: string, block: number): TxRow[];
  /**
   * After a reorg: a settled row's transaction was re-included at another block (`block`; `outcome` when it now
   * reverts or now succeeds), or is no longer on the chain (`gone`: back to sent, same nonce, hash and raw bytes, to
   * be broadcast again and settled anew).
   */
  recordReorged(key: string, change: { block: number; outcome?: { status: 'confirmed' | 'failed'; error: string | null } } | 'gone'): void;
  /** Highest nonce signed for `account` (−1 if none). */
  maxNonce(account: string): number;
}

/** A {@link TxJournal} in memory, for a process that has nothing to resume (CLI, tests, the dispute client). */
export class MemoryJournal implements TxJournal {
  private readonly rows = new Map<string, TxRow>();
  private readonly attempts = new Map<string, TxAttempt[]>();
  private id = 0;

  getTx(key: string): TxRow | undefined {
    const r = this.rows.get(key);
    return r ? { ...r } : undefined;
  }

  recordIntent(key: string, account: string, call: string): TxRow {
    if (!this.rows.has(key)) {
      const ts = Date.now();
      this.rows.set(key, { id: ++this.id, key, account: account.toLowerCase(), call, status: 'intent', nonce: null, hash: null, raw: null, block: null, error: null, createdAt: ts, updatedAt: ts });
    }
    return this.getTx(key)!;
  }

  private update(key: string, when: (r: TxRow) => boolean, patch: Partial<TxRow>): boolean {
    const r = this.rows.get(key);
    if (!r || !when(r)) return false;
    Object.assign(r, patch, { updatedAt: Date.now() });
    return true;
  }

  private addAttempt(key: string, hash: string, raw: string, fees?: Fees): void {
    const list = this.attempts.get(key) ?? [];
    list.push({ key, n: list.length, hash, raw, status: 'pending', maxFeePerGas: fees ? String(fees.maxFeePerGas) : null, maxPriorityFeePerGas: fees ? String(fees.maxPriorityFeePerGas) : null, createdAt: Date.now() });
    this.attempts.set(key, list);
  }

  private markAttempts(key: string, from: TxAttempt['status'], to: TxAttempt['status']): void {
    for (const a of this.attempts.get(key) ?? []) if (a.status === from) a.status = to;
  }

  recordSigned(key: string, nonce: number, hash: string, raw: string, fees?: Fees): void {
    if (!this.update(key, (r) => r.status === 'intent', { status: 'signed', nonce, hash, raw })) {
      throw new TxFailedError(`Transaction ${key} is not an intent.`, { details: `status ${this.rows.get(key)?.status}` });
    }
    this.addAttempt(key, hash, raw, fees);
  }

  recordReplacement(key: string, prevHash: string, hash: string, raw: string, fees: Fees): boolean {
    if (!this.update(key, (r) => (r.status === 'signed' || r.status === 'sent') && r.hash === prevHash, { status: 'signed', hash, raw })) return false;
    this.markAttempts(key, 'pending', 'replaced');
    this.addAttempt(key, hash, raw, fees);
    return true;
  }

  attemptsOf(key: string): TxAttempt[] {
    return (this.attempts.get(key) ?? []).map((a) => ({ ...a }));
  }

  recordSent(key: string): void {
    this.update(key, (r) => r.status === 'signed', { status: 'sent' });
  }

  recordOutcome(key: string, outcome: { status: 'confirmed' | 'failed'; block?: number; error?: string; hash?: string }): void {
    const ok = this.update(key, (r) => r.status !== 'confirmed' && r.status !== 'failed', {
      status: outcome.status,
      block: outcome.block ?? null,
      error: outcome.error ?? null,
      ...(outcome.hash ? { hash: outcome.hash } : {}),
    });
    if (ok && outcome.hash) {
      for (const a of this.attempts.get(key) ?? []) a.status = a.hash === outcome.hash ? 'mined' : a.status === 'pending' ? 'replaced' : a.status;
    }
  }

  recordDropped(key: string, error: string): void {
    if (this.update(key, (r) => r.status === 'signed' || r.status === 'sent', { status: 'intent', nonce: null, hash: null, raw: null, error })) {
      for (const a of this.attempts.get(key) ?? []) if (a.status === 'pending' || a.status === 'replaced') a.status = 'dropped';
    }
  }

  unsettledTxs(account?: string): TxRow[] {
    return [...this.rows.values()]
      .filter((r) => (r.status === 'intent' || r.status === 'signed' || r.status === 'sent') && (!account || r.account === account.toLowerCase()))
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ ...r }));
  }

  settledSince(account: string, block: number): TxRow[] {
    return [...this.rows.values()]
      .filter((r) => (r.status === 'confirmed' || r.status === 'failed') && r.hash !== null && r.block !== null && r.block >= block && r.account === account.toLowerCase())
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ ...r }));
  }

  recordReorged(key: string, change: { block: number; outcome?: { status: 'confirmed' | 'failed'; error: string | null } } | 'gone'): void {
    if (change === 'gone') {
      if (this.update(key, (r) => r.status === 'confirmed' || r.status === 'failed', { status: 'sent', block: null, error: null })) this.markAttempts(key, 'mined', 'pending');
    } else this.update(key, (r) => r.status === 'confirmed' || r.status === 'failed', { block: change.block, ...(change.outcome ? { status: change.outcome.status, error: change.outcome.error } : {}) });
  }

  maxNonce(account: string): number {
    let n = -1;
    for (const r of this.rows.values()) if (r.account === account.toLowerCase() && r.nonce !== null) n = Math.max(n, r.nonce);
    return n;
  }
}

export class TxFailedError extends BaseError {
  override name = 'TxFailedError';
}

/** A transaction that is durable but not yet known to be mined (the RPC kept failing); recover() finishes it. */
export class TxPendingError extends BaseError {
  override name = 'TxPendingError';
}

export interface TxReceiptInfo {
  status: 'success' | 'reverted';
  block: number;
}

/** The chain as the sender needs it (a viem implementation below; a fake one in the tests). */
export interface ChainPort {
  readonly account: Address;
  /** Throws a decoded error if the call would revert. */
  simulate(req: TxRequest): Promise<void>;
  /** Count of the account's transactions including the node's pending pool. */
  pendingNonce(): Promise<number>;
  /** Count of the account's mined transactions. */
  minedNonce(): Promise<number>;
  sign(req: TxRequest, nonce: number): Promise<{ hash: Hex; raw: Hex }>;
  /** Sends raw bytes; resolves if the node has them (including "already known"). */
  broadcast(raw: Hex): Promise<void>;
  /** Waits up to `timeoutMs` for the receipt; null if none by then. */
  waitReceipt(hash: Hex, timeoutMs: number): Promise<TxReceiptInfo | null>;
  /** Fee replacement (EIP-1559); absent: transactions are never re-signed. */
  replace?: FeeReplacer;
}

/** What fee bumping needs from the chain. */
export interface FeeReplacer {
  /** The fees a signed transaction pays (null: not an EIP-1559 transaction). */
  feesOf(raw: Hex): Fees | null;
  /** The network's current suggestion. */
  suggestedFees(): Promise<Fees>;
  /** The same transaction (nonce, gas, target, data, value, chain) signed with other fees. */
  resign(raw: Hex, fees: Fees): Promise<{ hash: Hex; raw: Hex }>;
  /** The receipt of `hash` if mined now, else null (no waiting). */
  receipt(hash: Hex): Promise<TxReceiptInfo | null>;
}

/** x raised by at least 12.5% (rounded up, at least 1 wei). */
const bumped = (x: bigint): bigint => x + (x + 7n) / 8n + (x === 0n ? 1n : 0n);

/**
 * Fees for a replacement of a transaction paying `current`: each at least 12.5% higher (the usual node rule is
 * 10%), the network's suggestion if that is higher, the fee cap at most `cap` and the tip at most the fee cap.
 * null when `cap` leaves no room for a valid replacement.
 */
export function bumpFees(current: Fees, suggested: Fees, cap: bigint): Fees | null {
  const minFee = bumped(current.maxFeePerGas);
  const minTip = bumped(current.maxPriorityFeePerGas);
  let fee = suggested.maxFeePerGas > minFee ? suggested.maxFeePerGas : minFee;
  let tip = suggested.maxPriorityFeePerGas > minTip ? suggested.maxPriorityFeePerGas : minTip;
  if (fee > cap) fee = cap;
  if (fee < minFee) return null;
  if (tip > fee) tip = fee;
  if (tip < minTip) return null;
  return { maxFeePerGas: fee, maxPriorityFeePerGas: tip };
}

export interface SentTx {
  key: string;
  hash: Hex;
  block: number;
}

export interface TxSenderOptions {
  /** Attempts at broadcasting / waiting before giving up with TxPendingError (default 8). */
  attempts?: number;
  /** Backoff base and cap, ms (default 100, 3000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Receipt wait per attempt, ms (default 15000). */
  receiptTimeoutMs?: number;
  /**
   * EIP-1559 fee bumping (needs a port with `replace`): a transaction not mined `afterMs` after its latest signature
   * is re-signed under the same nonce with both fees ≥ +12.5%, the fee cap never above `maxFeePerGas` (wei).
   * Absent: never re-signed.
   */
  bump?: { afterMs: number; maxFeePerGas: bigint };
  log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isNonceTaken(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e).toLowerCase();
  return m.includes('nonce too low') || m.includes('nonce has already been used') || m.includes('replacement transaction underpriced');
}

function isAlreadyKnown(e: unknown): boolean {
  const m = String((e as Error)?.message ?? e).toLowerCase();
  return m.includes('already known') || m.includes('already imported') || m.includes('known transaction');
}

export class TxSender {
  readonly store: TxJournal;
  readonly port: ChainPort;
  private readonly opts: Required<Omit<TxSenderOptions, 'log' | 'bump'>> & Pick<TxSenderOptions, 'log' | 'bump'>;
  private lock: Promise<unknown> = Promise.resolve();
  private counter = 0;

  constructor(store: TxJournal, port: ChainPort, opts: TxSenderOptions = {}) {
    this.store = store;
    this.port = port;
    this.opts = {
      attempts: opts.attempts ?? 8,
      backoffMs: opts.backoffMs ?? 100,
      maxBackoffMs: opts.maxBackoffMs ?? 3000,
      receiptTimeoutMs: opts.receiptTimeoutMs ?? 15_000,
      log: opts.log,
      bump: opts.bump,
    };
  }

  /** A key unique to this sender for transactions that need no idempotency across restarts (dispute moves). */
  freshKey(prefix: string): string {
    return `${prefix}:${Date.now()}:${process.pid}:${++this.counter}`;
  }

  /** The settled row of `key`, if any. */
  status(key: string): TxRow | undefined {
    return this.store.getTx(key);
  }

  /**
   * Sends `req` under `key` exactly once: a known key resumes where it stopped (or returns / throws its recorded
   * outcome). Throws the decoded revert for a call that would revert (recorded as failed, never retried).
   */
  async send(key: string, req: TxRequest): Promise<SentTx> {
    let row = this.store.getTx(key) ?? this.store.recordIntent(key, this.port.account, JSON.stringify(req));
    const stored = JSON.parse(row.call) as TxRequest;
    for (let attempt = 0; ; attempt++) {
      row = this.store.getTx(key)!;
      if (row.status === 'confirmed') return { key, hash: row.hash as Hex, block: row.block ?? 0 };
      if (row.status === 'failed') throw new TxFailedError(`${stored.label} failed.`, { details: `${row.error ?? 'unknown'} (key ${key})` });
      if (attempt >= this.opts.attempts) {
        throw new TxPendingError(`${stored.label} is not settled after ${attempt} attempts.`, { details: `key ${key}, status ${row.status}`, hint: 'It stays recorded; the node resumes it.' });
      }
      try {
        if (row.status === 'intent') await this.signIntent(key, stored);
        else await this.settle(row, stored);
      } catch (e) {
        if (e instanceof TxFailedError) throw e;
        const wait = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** attempt);
        this.opts.log?.('warn', `${stored.label}: ${(e as Error).message.split('\n')[0]}; retrying in ${wait} ms`, { key });
        await sleep(wait);
      }
    }
  }

  /** Simulates, allocates a nonce and signs under the lock; the signed row is durable before it returns. */
  private async signIntent(key: string, req: TxRequest): Promise<void> {
    const run = this.lock.then(async () => {
      const row = this.store.getTx(key)!;
      if (row.status !== 'intent') return;
      let signed: { hash: Hex; raw: Hex; nonce: number };
      try {
        await this.port.simulate(req);
        const nonce = Math.max(this.store.maxNonce(this.port.account) + 1, await this.port.pendingNonce());
        signed = { ...(await this.port.sign(req, nonce)), nonce };
      } catch (e) {
        // A revert in simulation or gas estimation is final for this key: recorded, decoded, never sent.
        const decoded = decodeContractError(e, { contract: req.label.split('.')[0] ?? req.label, method: req.label.split('.')[1] ?? 'call' });
        if (decoded.name === 'ContractRevertError') {
          this.store.recordOutcome(key, { status: 'failed', error: decoded.shortMessage });
          this.opts.log?.('error', `${req.label} would revert: ${decoded.shortMessage}`, { key });
          throw new TxFailedError(decoded.shortMessage, { details: `key ${key}`, cause: decoded });
        }
        throw decoded;
      }
      const { nonce, hash, raw } = signed;
      this.store.recordSigned(key, nonce, hash, raw, this.port.replace?.feesOf(raw) ?? undefined);
    });
    this.lock = run.catch(() => undefined);
    await run;
  }

  /** Hashes a key may settle on: its current signature and every earlier one of the same nonce. */
  private hashesOf(row: TxRow): Hex[] {
    const hs = this.store.attemptsOf(row.key).filter((a) => a.status === 'pending' || a.status === 'replaced').map((a) => a.hash as Hex);
    return [...new Set([row.hash as Hex, ...hs])];
  }

  /** The first of `hashes` with a receipt within `timeoutMs` (one hash: the port's wait; several: polled). */
  private async waitAny(hashes: Hex[], timeoutMs: number): Promise<{ hash: Hex; r: TxReceiptInfo } | null> {
    const replace = this.port.replace;
    if (hashes.length === 1 || !replace) {
      const r = await this.port.waitReceipt(hashes[0]!, timeoutMs);
      return r ? { hash: hashes[0]!, r } : null;
    }
    const end = Date.now() + timeoutMs;
    for (;;) {
      for (const h of hashes) {
        const r = await replace.receipt(h);
        if (r) return { hash: h, r };
      }
      if (Date.now() >= end) return null;
      await sleep(Math.min(200, Math.max(10, end - Date.now())));
    }
  }

  /** Broadcasts the stored raw transaction (idempotent) and waits for a receipt of any of the key's signatures. */
  private async settle(row: TxRow, req: TxRequest): Promise<void> {
    const hashes = this.hashesOf(row);
    try {
      await this.port.broadcast(row.raw as Hex);
    } catch (e) {
      if (!isAlreadyKnown(e)) {
        if (!isNonceTaken(e)) throw e;
        // Our own transaction (this signature or an earlier one) was mined, or another one took the nonce, or (an
        // earlier signature still pending) the node refused this replacement as underpriced.
        const got = await this.waitAny(hashes, 1000);
        if (got) return this.finish(row.key, req, got.r, got.hash);
        if ((await this.port.minedNonce()) > (row.nonce ?? 0)) {
          this.store.recordDropped(row.key, `nonce ${row.nonce} taken by another transaction`);
          return;
        }
        if (hashes.length < 2) throw e;
        this.opts.log?.('warn', `${req.label}: replacement refused (${(e as Error).message.split('\n')[0]}); waiting on the earlier signature`, { key: row.key });
      }
    }
    if (row.status === 'signed') this.store.recordSent(row.key);
    const got = await this.waitAny(hashes, this.opts.receiptTimeoutMs);
    if (!got) {
      if ((await this.port.minedNonce()) > (row.nonce ?? 0)) {
        // Nonce consumed but no receipt for any of our hashes yet: look once more, else another transaction took it.
        const again = await this.waitAny(hashes, 500);
        if (again) return this.finish(row.key, req, again.r, again.hash);
        this.store.recordDropped(row.key, `nonce ${row.nonce} taken by another transaction`);
        return;
      }
      if (await this.bump(row, req)) return;
      throw new TxPendingError(`${req.label}: no receipt yet`, { details: `tx ${row.hash}` });
    }
    this.finish(row.key, req, got.r, got.hash);
  }

  /**
   * Re-signs a stuck transaction under its nonce with higher fees (see {@link TxSenderOptions.bump}) once its latest
   * signature is older than the window; the replacement is journaled before the caller broadcasts it. True if one
   * was recorded.
   */
  private async bump(row: TxRow, req: TxRequest): Promise<boolean> {
    const b = this.opts.bump;
    const replace = this.port.replace;
    if (!b || !replace || !row.raw || !row.hash) return false;
    const latest = this.store.attemptsOf(row.key).filter((a) => a.status === 'pending').at(-1);
    if (latest && Date.now() - latest.createdAt < b.afterMs) return false;
    const current = replace.feesOf(row.raw as Hex);
    if (!current) return false;
    const fees = bumpFees(current, await replace.suggestedFees(), b.maxFeePerGas);
    if (!fees) {
      this.opts.log?.('warn', `${req.label}: stuck at fee cap ${b.maxFeePerGas} (pays ${current.maxFeePerGas}); not re-signed`, { key: row.key });
      return false;
    }
    const signed = await replace.resign(row.raw as Hex, fees);
    if (!this.store.recordReplacement(row.key, row.hash, signed.hash, signed.raw, fees)) return false;
    this.opts.log?.('info', `${req.label}: not mined after ${b.afterMs} ms; re-signed nonce ${row.nonce} with maxFeePerGas ${fees.maxFeePerGas}, tip ${fees.maxPriorityFeePerGas}`, { key: row.key, replaced: row.hash, hash: signed.hash });
    return true;
  }

  private finish(key: string, req: TxRequest, r: TxReceiptInfo, hash?: Hex): void {
    if (r.status === 'success') {
      this.store.recordOutcome(key, { status: 'confirmed', block: r.block, ...(hash ? { hash } : {}) });
    } else {
      const error = `${req.label} was mined but reverted (block ${r.block})`;
      this.store.recordOutcome(key, { status: 'failed', block: r.block, error, ...(hash ? { hash } : {}) });
      this.opts.log?.('error', error, { key });
      throw new TxFailedError(error, { details: `key ${key}` });
    }
  }

  /**
   * After a reorg back to `fromBlock`: re-reads the receipt of every transaction of this account settled at or above
   * it. One re-included at another block gets that block; one the chain no longer has is broadcast again with its
   * same signed bytes (same nonce, same hash: it cannot be included twice) and settled anew — never re-signed unless
   * its nonce was provably taken by another transaction. Returns how many moved and how many were resent.
   */
  async reconcile(fromBlock: number): Promise<{ moved: number; resent: number; failed: number }> {
    let moved = 0;
    let resent = 0;
    let failed = 0;
    for (const row of this.store.settledSince(this.port.account, fromBlock)) {
      const r = this.port.replace ? await this.port.replace.receipt(row.hash as Hex) : await this.port.waitReceipt(row.hash as Hex, 1);
      const now: 'confirmed' | 'failed' | undefined = r ? (r.status === 'success' ? 'confirmed' : 'failed') : undefined;
      if (r && r.block === row.block && now === row.status) continue;
      if (r) {
        // Re-included elsewhere; in the new chain's state it may now revert (or now succeed): the journal says so.
        const label = (JSON.parse(row.call) as TxRequest).label;
        const outcome = now !== row.status ? { status: now!, error: now === 'failed' ? `${label} was re-included after a reorg and reverted (block ${r.block})` : null } : undefined;
        this.store.recordReorged(row.key, { block: r.block, ...(outcome ? { outcome } : {}) });
        if (outcome?.status === 'failed') {
          failed++;
          this.opts.log?.('error', outcome.error!, { key: row.key });
        }
        moved++;
        continue;
      }
      this.store.recordReorged(row.key, 'gone');
      this.opts.log?.('warn', `${(JSON.parse(row.call) as TxRequest).label}: its block ${row.block} was reorged away; broadcasting the same transaction again`, { key: row.key, hash: row.hash });
      resent++;
      try {
        await this.send(row.key, JSON.parse(row.call) as TxRequest);
      } catch (e) {
        if (!(e instanceof TxPendingError)) failed++;
      }
    }
    return { moved, resent, failed };
  }

  /** Finishes every unsettled transaction of this account, oldest first (call at startup). */
  async recover(): Promise<{ settled: number; failed: number; pending: number }> {
    let settled = 0;
    let failed = 0;
    let pending = 0;
    for (const row of this.store.unsettledTxs(this.port.account)) {
      try {
        await this.send(row.key, JSON.parse(row.call) as TxRequest);
        settled++;
      } catch (e) {
        if (e instanceof TxPendingError) pending++;
        else failed++;
      }
    }
    return { settled, failed, pending };
  }
}


/** A {@link ChainPort} over viem clients with a local account (private key). */
export function viemPort(publicClient: PublicClient, walletClient: WalletClient<Transport, Chain, Account>): ChainPort {
  const account = walletClient.account;
  return {
    account: account.address,
    simulate: async (req) => {
      try {
        await publicClient.call({ account, to: req.to, data: req.data, value: req.value ? BigInt(req.value) : undefined, blockTag: 'pending' });
      } catch (e) {
        throw revertOf(e, req) ?? e;
      }
    },
    pendingNonce: () => publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' }),
    minedNonce: () => publicClient.getTransactionCount({ address: account.address, blockTag: 'latest' }),
    sign: async (req, nonce) => {
      if (!account.signTransaction) throw new TxFailedError('The account cannot sign locally.', { hint: 'Give the node a private key (--key).' });
      let raw: Hex;
      try {
        const value = req.value ? BigInt(req.value) : undefined;
        // Gas used can depend on state that changes before inclusion (clocks, warm slots): 30% headroom.
        const estimate = await publicClient.estimateGas({ account, to: req.to, data: req.data, value, blockTag: 'pending' });
        const prepared = await walletClient.prepareTransactionRequest({
          account,
          chain: walletClient.chain,
          to: req.to,
          data: req.data,
          value,
          nonce,
          gas: (estimate * 13n) / 10n + 20_000n,
        });
        raw = await walletClient.signTransaction(prepared);
      } catch (e) {
        throw revertOf(e, req) ?? e;
      }
      return { raw, hash: viemKeccak(raw) };
    },
    broadcast: async (raw) => {
      await publicClient.sendRawTransaction({ serializedTransaction: raw });
    },
    waitReceipt: async (hash, timeoutMs) => {
      try {
        const r = await publicClient.waitForTransactionReceipt({ hash, timeout: timeoutMs, pollingInterval: 50 });
        return { status: r.status, block: Number(r.blockNumber) };
      } catch (e) {
        const name = (e as Error).name;
        if (name === 'WaitForTransactionReceiptTimeoutError' || name === 'TransactionReceiptNotFoundError') return null;
        throw e;
      }
    },
    replace: {
      feesOf: (raw) => {
        const tx = parseTransaction(raw);
        return tx.type === 'eip1559' && tx.maxFeePerGas !== undefined && tx.maxPriorityFeePerGas !== undefined
          ? { maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas }
          : null;
      },
      suggestedFees: async () => {
        const f = await publicClient.estimateFeesPerGas();
        return { maxFeePerGas: f.maxFeePerGas, maxPriorityFeePerGas: f.maxPriorityFeePerGas };
      },
      resign: async (raw, fees) => {
        if (!account.signTransaction) throw new TxFailedError('The account cannot sign locally.', { hint: 'Give the node a private key (--key).' });
        const tx = parseTransaction(raw);
        if (tx.type !== 'eip1559' || tx.nonce === undefined || tx.gas === undefined || tx.chainId === undefined) {
          throw new TxFailedError('Only an EIP-1559 transaction can be fee-bumped.', { details: `type ${tx.type}` });
        }
        // Nonce, gas, target, data, value, chain and access list as first signed: only the fees change.
        const next = await account.signTransaction({
          type: 'eip1559',
          chainId: tx.chainId,
          nonce: tx.nonce,
          gas: tx.gas,
          ...(tx.to ? { to: tx.to } : {}),
          ...(tx.data ? { data: tx.data } : {}),
          ...(tx.value !== undefined ? { value: tx.value } : {}),
          ...(tx.accessList ? { accessList: tx.accessList } : {}),
          maxFeePerGas: fees.maxFeePerGas,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        });
        return { raw: next, hash: viemKeccak(next) };
      },
      receipt: async (hash) => {
        try {
          const r = await publicClient.getTransactionReceipt({ hash });
          return { status: r.status, block: Number(r.blockNumber) };
        } catch (e) {
          if ((e as Error).name === 'TransactionReceiptNotFoundError') return null;
          throw e;
        }
      },
    },
  };
}

/** A decoded ContractRevertError for an eth_call that reverted (raw revert data decoded with every protocol error). */
export function revertOf(e: unknown, req: TxRequest): ContractRevertError | undefined {
  if (!(e instanceof ViemBaseError)) return undefined;
  const [contract, method] = [req.label.split('.')[0] ?? req.label, req.label.split('.')[1] ?? 'call'];
  const hit = e.walk((x) => {
    const d = (x as { data?: unknown }).data;
    return typeof d === 'string' || (typeof d === 'object' && d !== null && typeof (d as { data?: unknown }).data === 'string');
  }) as { data?: Hex | { data: Hex } } | null;
  const raw = hit?.data === undefined ? undefined : typeof hit.data === 'string' ? hit.data : hit.data.data;
  if (raw && raw !== '0x') {
    try {
      const d = decodeErrorResult({ abi: protocolErrorsAbi, data: raw });
      return new ContractRevertError({ contract, method, errorName: d.errorName, args: (d.args ?? []) as readonly unknown[], data: raw, cause: e });
    } catch {
      return new ContractRevertError({ contract, method, errorName: 'unknown', args: [], data: raw, cause: e });
    }
  }
  if (/revert/i.test(e.message)) return new ContractRevertError({ contract, method, errorName: 'unknown', args: [], cause: e });
  return undefined;
}
