/**
 * BatchPool: runBatch split across threads — the calling thread runs one share while worker threads
 * (worker.ts) run the others on their own prepared copy of the model. Every item's trace is what
 * runBatch / runModel give it (same engine code, same integers; the test in
 * test/engine/pool.test.ts checks bytes), returned in input order. Traces come back as views of
 * transferred ArrayBuffers (no copy). runCommitted also returns each trace's traceRoot, computed on
 * the thread that ran it; runOutputs returns only each item's outputs and their outputHash (what the honest
 * path commits, issue 13), hashed on the thread that ran the item — a worker sends back the output
 * tensors, not whole traces. release(traces) hands a run's arenas back (each to the thread that wrote
 * it) for later runs to reuse instead of faulting in fresh pages (runOutputs reuses them by itself).
 *
 * Node only (worker_threads), so it lives outside src/engine, which stays pure.
 */
import { Worker } from 'node:worker_threads';
import type { Hex } from 'viem';
import type { QModel, TensorData, Trace } from '../engine/ir.js';
import { ArenaCache, arenaTraces, batchChunk, prepareModel, runBatch, runBatchOutputs, type PreparedModel } from '../engine/run.js';
import { keccakReady, outputHashesOfFlat, traceRoot } from '../commit/index.js';
import { BaseError } from '../errors.js';
import { arenasOf, concatFlat, flatTensors, itemTensors } from './flat.js';

export class BatchPoolError extends BaseError {
  override name = 'BatchPoolError';
}

type Reply = { id: number; arenas?: ArrayBuffer[]; count?: number; roots?: Uint8Array[]; outputs?: TensorData[]; hashes?: Hex[]; error?: string };

/** What a worker sends back for a share: its traces' arenas, those plus each trace's root, the outputs and each
 *  item's outputHash, or the outputs only. */
export type Want = 'traces' | 'roots' | 'outputs' | 'plain';

/** Below this estimated time for a worker's share, the caller runs the whole batch itself (a message
 *  round trip and the arena transfer cost more than they save). */
const MIN_SHARE_MS = 1;

const WORKER = new URL('./worker-boot.mjs', import.meta.url);

/** An arena out with the caller: its item count, the thread that wrote it (−1: the caller) and its `items` traces. */
interface Owner {
  readonly items: number;
  readonly thread: number;
  readonly traces: readonly Trace[];
}

export class BatchPool {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private closed = false;
  private msPerItem = Infinity;
  /** The caller thread's released arenas. */
  private readonly arenas = new ArenaCache();
  /** Every arena of a run not yet released: its item count and the thread that wrote it (−1: the caller). */
  private readonly owners = new WeakMap<ArrayBuffer, Owner>();

  private constructor(
    private readonly p: PreparedModel,
    private readonly workers: Worker[],
    private readonly minShareMs: number,
  ) {
    for (const w of workers) {
      w.on('message', (r: Reply) => {
        const h = this.pending.get(r.id);
        if (!h) return;
        this.pending.delete(r.id);
        if (r.error) h.reject(new BatchPoolError(`batch worker failed: ${r.error}`));
        else h.resolve(r);
      });
      w.on('error', (e) => {
        for (const h of this.pending.values()) h.reject(new BatchPoolError(`batch worker crashed: ${e.message}`));
        this.pending.clear();
      });
    }
  }

  /**
   * A pool of `threads` threads in all (the caller's plus threads − 1 workers) for one model (a
   * QModel, or a PreparedModel the calling thread already uses, which the pool then shares).
   * opts.minShareMs: below this estimated time for a worker's share the caller runs the whole batch
   * (default 1 ms; 0 always splits).
   */
  static async create(model: QModel | PreparedModel, threads = 2, opts: { minShareMs?: number } = {}): Promise<BatchPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
      throw new BatchPoolError(`threads must be an integer in 1..64, got ${threads}`);
    }
    // A PreparedModel the caller already runs is reused: V8 specializes a kernel closure best while
    // it is its site's only one, so a second preparation in the same thread runs measurably slower.
    const p = 'steps' in model ? model : prepareModel(model);
    model = p.model;
    await keccakReady;
    const workers = await Promise.all(
      Array.from(
        { length: threads - 1 },
        () =>
          new Promise<Worker>((resolve, reject) => {
            const w = new Worker(WORKER, { workerData: { model } });
            w.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve(w) : reject(new BatchPoolError(`batch worker failed to start: ${m.error}`))));
            w.once('error', reject);
          }),
      ),
    );
    return new BatchPool(p, workers, opts.minShareMs ?? MIN_SHARE_MS);
  }

  /** The per-item cost estimate falls at once and rises slowly, so a run slowed by a busy machine
   *  (descheduled mid-batch) does not flip the split decision. */
  private observe(ms: number): void {
    this.msPerItem = Math.min(this.msPerItem === Infinity ? ms : this.msPerItem * 1.05, ms);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Hands the arenas of traces this pool returned back for reuse by later runs: the caller promises
   * not to read these traces (nor keep their buffers) afterwards. An arena is reused only when every
   * trace in it is passed (a run's whole result always is); a worker's arena goes back to that worker
   * (transferred, so stale views of it read as empty). Traces not from this pool are ignored.
   */
  release(traces: readonly Trace[]): void {
    const back: ArrayBuffer[][] = this.workers.map(() => []);
    const free = (buf: ArrayBuffer, o: Owner): void => {
      this.owners.delete(buf);
      if (o.thread < 0) this.arenas.give(buf);
      else back[o.thread].push(buf);
    };
    // The usual call hands back whole runs: an arena's traces, in the order they came, are a run of `traces` (checked
    // by identity, no hashing: a Map and a Set entry per trace were ~0.1 us a row, a fifth of wine-mlp's batch).
    const rest: Trace[] = [];
    for (let i = 0; i < traces.length; ) {
      const buf = traces[i][0]?.data.buffer as ArrayBuffer | undefined;
      const o = buf && this.owners.get(buf);
      let k = 0;
      if (o && i + o.items <= traces.length) while (k < o.items && traces[i + k] === o.traces[k]) k++;
      if (o && k === o.items) {
        free(buf, o);
        i += k;
      } else rest.push(traces[i++]);
    }
    // Any other list: distinct traces per arena (release([t0, t0]) must not free an arena whose t1 is still in use).
    const seen = new Map<ArrayBuffer, Set<Trace>>();
    for (const t of rest) {
      const buf = t[0]?.data.buffer as ArrayBuffer | undefined;
      if (!buf || !this.owners.has(buf)) continue;
      const s = seen.get(buf) ?? new Set<Trace>();
      s.add(t);
      seen.set(buf, s);
    }
    for (const [buf, ts] of seen) {
      const o = this.owners.get(buf)!;
      if (ts.size === o.items) free(buf, o);
    }
    back.forEach((bufs, w) => {
      if (bufs.length > 0 && !this.closed) this.workers[w].postMessage({ give: bufs }, bufs);
    });
  }

  /** Records the arenas of traces (runBatch's layout: chunks of batchChunk items) as written by thread. */
  private own(traces: readonly Trace[], thread: number): void {
    const chunk = batchChunk(this.p);
    for (let b = 0; b < traces.length; b += chunk) {
      // Only this arena's traces (not the run's whole list: a trace kept alive would keep every arena of the run).
      const items = Math.min(chunk, traces.length - b);
      this.owners.set(traces[b][0].data.buffer as ArrayBuffer, { items, thread, traces: b === 0 && items === traces.length ? traces : traces.slice(b, b + items) });
    }
  }

  /** runBatch(model, batch), split across the threads; traces in input order. */
  async run(batch: readonly (readonly TensorData[])[]): Promise<Trace[]> {
    return (await this.split(batch, 'traces')).traces!;
  }

  /** As run, plus each trace's traceRoot (src/commit/trace.ts). */
  async runCommitted(batch: readonly (readonly TensorData[])[]): Promise<{ traces: Trace[]; roots: Uint8Array[] }> {
    const r = await this.split(batch, 'roots');
    return { traces: r.traces!, roots: r.roots! };
  }

  /**
   * What the honest path commits and keeps per item, in input order: the outputs, one array per graph output with
   * every item's tensor back to back (runBatchOutputs' layout; itemTensors(outputs, batch.length) gives per-item
   * views), and each item's outputHash (src/commit/io.ts). No per-item trace is built.
   */
  async runOutputs(batch: readonly (readonly TensorData[])[]): Promise<{ outputs: TensorData[]; outputHashes: Hex[] }> {
    const r = await this.split(batch, 'outputs');
    return { outputs: r.outputs!, outputHashes: r.hashes! };
  }

  /** Plain inference, as onnxruntime gives it: runOutputs' outputs only, nothing hashed, no trace kept. */
  async infer(batch: readonly (readonly TensorData[])[]): Promise<TensorData[]> {
    return (await this.split(batch, 'plain')).outputs!;
  }

  /** runBatchOutputs of items on this thread, and their outputHashes unless plain. */
  private outputsOf(items: readonly (readonly TensorData[])[], plain: boolean): { outputs: TensorData[]; hashes: Hex[] } {
    const outputs = runBatchOutputs(this.p, items, { arenas: this.arenas });
    return { outputs, hashes: plain ? [] : outputHashesOfFlat(outputs, items.length) };
  }

  private async split(
    batch: readonly (readonly TensorData[])[],
    want: Want,
  ): Promise<{ traces?: Trace[]; roots?: Uint8Array[]; outputs?: TensorData[]; hashes?: Hex[] }> {
    if (this.closed) throw new BatchPoolError('the pool is closed');
    // Per-item cost, measured on the caller's shares: too little work per worker share runs here.
    if (this.workers.length === 0 || batch.length < 2 || this.msPerItem * (batch.length / this.threads) < this.minShareMs) {
      const t0 = performance.now();
      if (want === 'outputs' || want === 'plain') {
        const r = this.outputsOf(batch, want === 'plain');
        if (batch.length > 0) this.observe((performance.now() - t0) / batch.length);
        return r;
      }
      const traces = runBatch(this.p, batch, { arenas: this.arenas });
      if (batch.length > 0) this.observe((performance.now() - t0) / batch.length);
      this.own(traces, -1);
      return want === 'roots' ? { traces, roots: traces.map((t) => traceRoot(t)) } : { traces };
    }
    const n = this.threads;
    // Shares as equal as possible; the caller runs the first (no message round trip).
    const bounds = Array.from({ length: n + 1 }, (_, i) => Math.round((i * batch.length) / n));
    const asks = this.workers.map((w, i) => {
      const items = batch.slice(bounds[i + 1], bounds[i + 2]);
      if (items.length === 0) return Promise.resolve<Reply>({ id: 0, arenas: [], count: 0, roots: [], hashes: [] });
      const id = this.nextId++;
      return new Promise<Reply>((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        const inputs = flatTensors(items);
        w.postMessage({ id, inputs, count: items.length, want }, inputs.map((t) => t.data.buffer as ArrayBuffer));
      });
    });
    const t0 = performance.now();
    if (want === 'outputs' || want === 'plain') {
      const own = this.outputsOf(batch.slice(0, bounds[1]), want === 'plain');
      if (bounds[1] > 0) this.observe((performance.now() - t0) / bounds[1]);
      const shares = [{ outputs: own.outputs, count: bounds[1]! }];
      const hashes = own.hashes;
      for (const r of await Promise.all(asks)) {
        if (r.count) shares.push({ outputs: r.outputs!, count: r.count });
        hashes.push(...r.hashes!);
      }
      return { outputs: concatFlat(shares), hashes };
    }
    const mine = runBatch(this.p, batch.slice(0, bounds[1]), { arenas: this.arenas });
    if (bounds[1] > 0) this.observe((performance.now() - t0) / bounds[1]);
    this.own(mine, -1);
    const myRoots = want === 'roots' ? mine.map((t) => traceRoot(t)) : undefined;
    const replies = await Promise.all(asks);
    const traces = [...mine];
    const chunk = batchChunk(this.p);
    replies.forEach((r, w) => {
      r.arenas!.forEach((a, c) => {
        const items = Math.min(chunk, r.count! - c * chunk);
        const ts = arenaTraces(this.p, a, items);
        this.owners.set(a, { items, thread: w, traces: ts });
        traces.push(...ts);
      });
    });
    return myRoots ? { traces, roots: [...myRoots, ...replies.flatMap((r) => r.roots!)] } : { traces };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
