/**
 * Log following fit for a public RPC: a persisted block cursor, `eth_getLogs` in bounded ranges (halved when the
 * provider says a range is too large), a confirmation depth before events are emitted, reorg detection against the
 * stored hashes of recently processed blocks (roll back, replay, deliver each event once and report the ones a reorg
 * removed), and backoff with jitter under rate limits (HTTP 429, JSON-RPC -32005).
 *
 * Pure of node code: the caller gives the cursor's load/save (the node keeps it in its SQLite store) and handles the
 * events. Handlers must be idempotent over a crash between handling and saving (the node's intent journal guards its
 * sends); the follower itself never delivers one event twice while its cursor state survives.
 */
import { HttpRequestError, type Abi, type AbiEvent, type Address, type Hex, type PublicClient } from 'viem';
import { BaseError } from '../errors.js';

export class FollowerError extends BaseError {
  override name = 'FollowerError';
}

/** A decoded log as the follower delivers it. `id` is stable across a reorg that re-includes the transaction. */
export interface FollowedLog {
  id: string;
  eventName: string;
  args: Record<string, unknown>;
  address: Address;
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
}

/** What the follower persists (JSON-safe: numbers as decimal strings). */
export interface FollowerState {
  /** Next block to scan. */
  next: string;
  /** Hashes of processed blocks within the reorg window, ascending by number. */
  checkpoints: { n: string; h: Hex }[];
  /** Ids of delivered logs within the reorg window, with their block (so a replay does not deliver them again). */
  delivered: { n: string; id: string }[];
}

export interface FollowerCursorStore {
  load(): FollowerState | undefined | Promise<FollowerState | undefined>;
  save(state: FollowerState): void | Promise<void>;
}

export interface FollowerOptions {
  client: Pick<PublicClient, 'getBlockNumber' | 'getBlock' | 'getLogs'>;
  address: Address | Address[];
  /** ABI holding the events; `eventNames` picks some (default: every event of the ABI). */
  abi: Abi | readonly unknown[];
  eventNames?: readonly string[];
  cursor: FollowerCursorStore;
  /** First block when no cursor is stored (default 0). */
  fromBlock?: bigint;
  /** Blocks a log must be buried under before it is emitted (default 0). */
  confirmations?: number;
  /** Largest `eth_getLogs` range in blocks (default 2000); halved on "range too large" down to 1. */
  maxRange?: bigint;
  /** How many recent blocks' hashes are kept to detect a reorg (default 64). A deeper reorg is not detected. */
  reorgWindow?: number;
  /** Backoff on 429 / -32005: attempts before giving up (default 8), first and largest delay (ms). */
  retry?: { attempts?: number; baseMs?: number; maxMs?: number };
  /** Test seams. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called on a detected reorg (for logs/metrics). */
  onReorg?: (info: { from: bigint; to: bigint; ancestor: bigint }) => void;
  /** Called before each backoff sleep. */
  onBackoff?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

export interface PollHandlers {
  /** New logs of one range, in chain order. Throwing leaves the cursor where it was (the range is retried). */
  onLogs: (logs: FollowedLog[]) => void | Promise<void>;
  /** Logs delivered earlier that a reorg removed from the chain. */
  onRemoved?: (logs: { id: string; blockNumber: bigint }[]) => void | Promise<void>;
}

export interface PollResult {
  from: bigint;
  to: bigint;
  delivered: number;
  removed: number;
  reorged: boolean;
  /** True when the range reached the confirmed head (nothing more to do until new blocks). */
  caughtUp: boolean;
}

type RpcErrorKind = 'range' | 'rate' | 'other';

const RANGE_RE =
  /block range|range (is )?too (large|big|wide)|exceed(s|ed)? (the )?(max(imum)?|limit)|more than \d+ (results|blocks|logs)|response size|too many (results|logs|blocks)|limited to (a )?\d+|max(imum)? (block )?range/i;
const RATE_RE = /rate limit|too many requests|request limit|capacity|throttl/i;

function walk(e: unknown): unknown[] {
  const out: unknown[] = [];
  let c: unknown = e;
  for (let i = 0; c && i < 8; i++) {
    out.push(c);
    c = (c as { cause?: unknown }).cause;
  }
  return out;
}

/** Sorts an RPC error: a range the provider refuses, a rate limit, or anything else. */
export function classifyRpcError(e: unknown): RpcErrorKind {
  const chain = walk(e);
  const text = chain.map((c) => `${(c as { message?: string }).message ?? ''} ${(c as { details?: string }).details ?? ''}`).join(' ');
  if (RANGE_RE.test(text)) return 'range';
  for (const c of chain) {
    if (c instanceof HttpRequestError && c.status === 429) return 'rate';
    if ((c as { status?: number }).status === 429) return 'rate';
    if ((c as { code?: number }).code === -32005) return 'rate';
  }
  if (RATE_RE.test(text)) return 'rate';
  return 'other';
}

function retryAfterMs(e: unknown): number | undefined {
  for (const c of walk(e)) {
    const h = (c as { headers?: Headers }).headers;
    const v = h && typeof h.get === 'function' ? h.get('retry-after') : null;
    if (v && /^\d+$/.test(v)) return Number(v) * 1000;
  }
  return undefined;
}

const sleepReal = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LogFollower {
  private readonly o: FollowerOptions;
  private readonly events: AbiEvent[];
  private range: bigint;
  private readonly confirmations: bigint;
  private readonly window: bigint;

  constructor(o: FollowerOptions) {
    this.o = o;
    const all = (o.abi as Abi).filter((x): x is AbiEvent => x.type === 'event');
    this.events = o.eventNames ? all.filter((e) => o.eventNames!.includes(e.name)) : all;
    if (o.eventNames) {
      const missing = o.eventNames.filter((n) => !all.some((e) => e.name === n));
      if (missing.length) throw new FollowerError('Unknown event names.', { details: `${missing.join(', ')} not in the ABI` });
    }
    if (this.events.length === 0) throw new FollowerError('No events to follow.', { details: 'the ABI holds no (selected) event' });
    this.range = o.maxRange ?? 2000n;
    if (this.range < 1n) throw new FollowerError('maxRange must be at least 1.', { details: `maxRange ${this.range}` });
    this.confirmations = BigInt(o.confirmations ?? 0);
    this.window = BigInt(o.reorgWindow ?? 64);
  }

  /** Current `eth_getLogs` range (after halvings). */
  get currentRange(): bigint {
    return this.range;
  }

  /** Runs an RPC call, backing off with jitter on rate limits. */
  private async rpc<T>(what: string, f: () => Promise<T>): Promise<T> {
    const attempts = this.o.retry?.attempts ?? 8;
    const base = this.o.retry?.baseMs ?? 250;
    const max = this.o.retry?.maxMs ?? 10_000;
    const sleep = this.o.sleep ?? sleepReal;
    const random = this.o.random ?? Math.random;
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        if (classifyRpcError(e) !== 'rate' || attempt >= attempts) throw e;
        const cap = Math.min(max, base * 2 ** (attempt - 1));
        // Equal jitter: half the capped exponential delay, plus a random share of the other half.
        const delayMs = Math.max(retryAfterMs(e) ?? 0, Math.round(cap / 2 + random() * (cap / 2)));
        this.o.onBackoff?.({ attempt, delayMs, reason: `${what}: ${(e as Error).message.split('\n')[0]}` });
        await sleep(delayMs);
      }
    }
  }

  private async hashOf(n: bigint): Promise<Hex | undefined> {
    const b = await this.rpc('eth_getBlockByNumber', () => this.o.client.getBlock({ blockNumber: n }).catch((e: unknown) => {
      // A block above the (new, shorter) head does not exist: no hash.
      if (/not found|could not be found/i.test(String((e as Error).message))) return undefined;
      throw e;
    }));
    return b?.hash ?? undefined;
  }

  /** getLogs over [from, to], split by the current range, halving on "range too large". */
  private async logs(from: bigint, to: bigint): Promise<FollowedLog[]> {
    const out: FollowedLog[] = [];
    let a = from;
    while (a <= to) {
      const b = a + this.range - 1n < to ? a + this.range - 1n : to;
      let got;
      try {
        got = await this.rpc('eth_getLogs', () =>
          this.o.client.getLogs({ address: this.o.address, events: this.events, fromBlock: a, toBlock: b, strict: true }),
        );
      } catch (e) {
        if (classifyRpcError(e) === 'range' && this.range > 1n) {
          this.range = this.range / 2n;
          continue;
        }
        throw new FollowerError('eth_getLogs failed.', { details: `blocks ${a}..${b}: ${(e as Error).message.split('\n')[0]}`, cause: e });
      }
      const logs = got as unknown as { eventName: string; args: Record<string, unknown>; address: Address; blockNumber: bigint; blockHash: Hex; transactionHash: Hex; logIndex: number }[];
      logs.sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1));
      // The log's id: its transaction and its rank among this filter's logs of that transaction (stable when a
      // reorg re-includes the transaction in another block at another log index).
      const rank = new Map<string, number>();
      for (const l of logs) {
        const r = rank.get(l.transactionHash) ?? 0;
        rank.set(l.transactionHash, r + 1);
        out.push({ id: `${l.transactionHash}:${r}`, eventName: l.eventName, args: l.args, address: l.address, blockNumber: l.blockNumber, blockHash: l.blockHash, transactionHash: l.transactionHash, logIndex: l.logIndex });
      }
      a = b + 1n;
    }
    return out;
  }

  private async load(): Promise<FollowerState> {
    return (await this.o.cursor.load()) ?? { next: String(this.o.fromBlock ?? 0n), checkpoints: [], delivered: [] };
  }

  /**
   * Checks the stored checkpoints against the chain, newest first. Returns the block to resume from (the one after
   * the newest matching checkpoint) when a reorg happened, else undefined.
   */
  private async findReorg(st: FollowerState): Promise<bigint | undefined> {
    const cps = st.checkpoints;
    if (cps.length === 0) return undefined;
    const newest = cps[cps.length - 1]!;
    if ((await this.hashOf(BigInt(newest.n))) === newest.h) return undefined;
    for (let i = cps.length - 2; i >= 0; i--) {
      const cp = cps[i]!;
      if ((await this.hashOf(BigInt(cp.n))) === cp.h) return BigInt(cp.n) + 1n;
    }
    // Deeper than every checkpoint: replay the whole window.
    const start = this.o.fromBlock ?? 0n;
    const back = BigInt(cps[0]!.n);
    return back > start ? back : start;
  }

  /**
   * One step: detects a reorg (rolls back and reconciles), then scans at most one bounded range of confirmed blocks
   * and hands its new logs to `onLogs`; saves the cursor after the handler returns.
   */
  async poll(h: PollHandlers): Promise<PollResult> {
    const st = await this.load();
    let next = BigInt(st.next);
    let removedCount = 0;
    let reorged = false;
    const resume = await this.findReorg(st);
    if (resume !== undefined && resume < next) {
      reorged = true;
      const oldTo = next - 1n;
      this.o.onReorg?.({ from: resume, to: oldTo, ancestor: resume - 1n });
      // Reconcile: which delivered logs past the ancestor are still on the (new) chain?
      const head = await this.rpc('eth_blockNumber', () => this.o.client.getBlockNumber({ cacheTime: 0 }));
      const safe = head - this.confirmations;
      const until = oldTo < safe ? oldTo : safe;
      const still = new Set(until >= resume ? (await this.logs(resume, until)).map((l) => l.id) : []);
      const gone = st.delivered.filter((d) => BigInt(d.n) >= resume && !still.has(d.id));
      if (gone.length) {
        await h.onRemoved?.(gone.map((d) => ({ id: d.id, blockNumber: BigInt(d.n) })));
        removedCount = gone.length;
      }
      const goneIds = new Set(gone.map((d) => d.id));
      st.delivered = st.delivered.filter((d) => !goneIds.has(d.id));
      st.checkpoints = st.checkpoints.filter((c) => BigInt(c.n) < resume);
      st.next = String(resume);
      next = resume;
      await this.o.cursor.save(st);
    }
    const head = await this.rpc('eth_blockNumber', () => this.o.client.getBlockNumber({ cacheTime: 0 }));
    const safe = head - this.confirmations;
    if (safe < next) return { from: next, to: next - 1n, delivered: 0, removed: removedCount, reorged, caughtUp: true };
    const to = safe - next + 1n > this.range ? next + this.range - 1n : safe;
    // The tip's hash before and after the query: equal means every log came from one chain (ancestors are fixed by
    // the tip's hash); a reorg in between leaves the cursor untouched for the next poll.
    const before = await this.hashOf(to);
    const logs = await this.logs(next, to);
    const after = await this.hashOf(to);
    if (!before || before !== after) return { from: next, to: next - 1n, delivered: 0, removed: removedCount, reorged: true, caughtUp: false };
    const seen = new Set(st.delivered.map((d) => d.id));
    const fresh = logs.filter((l) => !seen.has(l.id));
    if (fresh.length) await h.onLogs(fresh);
    const cps = new Map(st.checkpoints.map((c) => [c.n, c.h] as const));
    for (const l of logs) cps.set(String(l.blockNumber), l.blockHash);
    cps.set(String(to), before);
    const floor = to - this.window;
    st.checkpoints = [...cps.entries()]
      .map(([n, hh]) => ({ n, h: hh }))
      .filter((c) => BigInt(c.n) > floor)
      .sort((x, y) => (BigInt(x.n) < BigInt(y.n) ? -1 : 1));
    st.delivered = [...st.delivered, ...fresh.map((l) => ({ n: String(l.blockNumber), id: l.id }))].filter((d) => BigInt(d.n) > floor);
    st.next = String(to + 1n);
    await this.o.cursor.save(st);
    return { from: next, to, delivered: fresh.length, removed: removedCount, reorged, caughtUp: to === safe };
  }

  /** Polls until caught up with the confirmed head (bounded by `maxPolls`). */
  async catchUp(h: PollHandlers, maxPolls = 1000): Promise<PollResult[]> {
    const out: PollResult[] = [];
    for (let i = 0; i < maxPolls; i++) {
      const r = await this.poll(h);
      out.push(r);
      if (r.caughtUp) break;
    }
    return out;
  }
}
