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
 * This is the one sender of the project: the node journals in its SQLite store (src/node/store.ts implements
 * {@link TxJournal}); the CLI, the dispute client, deployments, benches and tests use a {@link MemoryJournal} (the same
 * code path, with nothing to resume after a crash). Requests are built by the typed builders in src/chain/call.ts.
 */
import {
  BaseError as ViemBaseError,
  decodeErrorResult,
  keccak256 as viemKeccak,
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

/** Where the sender records every step before taking the next (the node's store; a {@link MemoryJournal}). */
export interface TxJournal {
  getTx(key: string): TxRow | undefined;
  /** Records the intent to send `call` under `key`; returns the existing row if the key is known. */
  recordIntent(key: string, account: string, call: string): TxRow;
  /** intent → signed: raw bytes and hash durable before broadcast. */
  recordSigned(key: string, nonce: number, hash: string, raw: string): void;
  /** signed → sent. */
  recordSent(key: string): void;
  recordOutcome(key: string, outcome: { status: 'confirmed' | 'failed'; block?: number; error?: string }): void;
  /** A signed transaction whose nonce another one took: back to intent. */
  recordDropped(key: string, error: string): void;
  /** Not yet confirmed or failed, oldest first. */
  unsettledTxs(account?: string): TxRow[];
  /** Highest nonce signed for `account` (−1 if none). */
  maxNonce(account: string): number;
}

/** A {@link TxJournal} in memory, for a process that has nothing to resume (CLI, tests, the dispute client). */
export class MemoryJournal implements TxJournal {
  private readonly rows = new Map<string, TxRow>();
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

  recordSigned(key: string, nonce: number, hash: string, raw: string): void {
    if (!this.update(key, (r) => r.status === 'intent', { status: 'signed', nonce, hash, raw })) {
      throw new TxFailedError(`Transaction ${key} is not an intent.`, { details: `status ${this.rows.get(key)?.status}` });
    }
  }

  recordSent(key: string): void {
    this.update(key, (r) => r.status === 'signed', { status: 'sent' });
  }

  recordOutcome(key: string, outcome: { status: 'confirmed' | 'failed'; block?: number; error?: string }): void {
    this.update(key, (r) => r.status !== 'confirmed' && r.status !== 'failed', { status: outcome.status, block: outcome.block ?? null, error: outcome.error ?? null });
  }

  recordDropped(key: string, error: string): void {
    this.update(key, (r) => r.status === 'signed' || r.status === 'sent', { status: 'intent', nonce: null, hash: null, raw: null, error });
  }

  unsettledTxs(account?: string): TxRow[] {
    return [...this.rows.values()]
      .filter((r) => (r.status === 'intent' || r.status === 'signed' || r.status === 'sent') && (!account || r.account === account.toLowerCase()))
      .sort((a, b) => a.id - b.id)
      .map((r) => ({ ...r }));
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
  private readonly opts: Required<Omit<TxSenderOptions, 'log'>> & Pick<TxSenderOptions, 'log'>;
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
      this.store.recordSigned(key, nonce, hash, raw);
    });
    this.lock = run.catch(() => undefined);
    await run;
  }

  /** Broadcasts the stored raw transaction (idempotent) and waits for its receipt. */
  private async settle(row: TxRow, req: TxRequest): Promise<void> {
    const hash = row.hash as Hex;
    try {
      await this.port.broadcast(row.raw as Hex);
    } catch (e) {
      if (!isAlreadyKnown(e)) {
        if (isNonceTaken(e)) {
          // Either our own transaction was already mined (receipt below) or another one took the nonce.
          const r = await this.port.waitReceipt(hash, 1000);
          if (r) return this.finish(row.key, req, r);
          if ((await this.port.minedNonce()) > (row.nonce ?? 0)) {
            this.store.recordDropped(row.key, `nonce ${row.nonce} taken by another transaction`);
            return;
          }
        }
        throw e;
      }
    }
    if (row.status === 'signed') this.store.recordSent(row.key);
    const r = await this.port.waitReceipt(hash, this.opts.receiptTimeoutMs);
    if (!r) {
      if ((await this.port.minedNonce()) > (row.nonce ?? 0)) {
        // Nonce consumed but no receipt for our hash: another transaction took it.
        const again = await this.port.waitReceipt(hash, 500);
        if (again) return this.finish(row.key, req, again);
        this.store.recordDropped(row.key, `nonce ${row.nonce} taken by another transaction`);
        return;
      }
      throw new TxPendingError(`${req.label}: no receipt yet`, { details: `tx ${hash}` });
    }
    this.finish(row.key, req, r);
  }

  private finish(key: string, req: TxRequest, r: TxReceiptInfo): void {
    if (r.status === 'success') {
      this.store.recordOutcome(key, { status: 'confirmed', block: r.block });
    } else {
      const error = `${req.label} was mined but reverted (block ${r.block})`;
      this.store.recordOutcome(key, { status: 'failed', block: r.block, error });
      this.opts.log?.('error', error, { key });
      throw new TxFailedError(error, { details: `key ${key}` });
    }
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
