/**
 * npm run bench:engine — the integer engine against onnxruntime-node (float32, CPU provider) on the
 * same models and the same held-out rows, in the same run, with the same thread counts:
 *   - 1-row latency (median, p95), one thread each (ort: intraOpNumThreads = interOpNumThreads = 1;
 *     verity: runModel incl. quantizeInput, on the main thread, each trace's arena released once read: opts.arenas);
 *   - batch throughput (inferences/s on batches of 64 rows), both runtimes allowed THREADS threads
 *     (ort: intraOpNumThreads = THREADS; verity: BatchPool — runBatch split over THREADS threads,
 *     src/parallel/pool.ts), one full trace per row, each batch's traces released once read (BatchPool.release:
 *     the next batches reuse their arenas, as ort reuses its buffers; a fresh 1.3 MB trace costs a page fault per
 *     4 KiB, about as much as the kernels on gpt-mid); and "outputs only", what ort gives (BatchPool.infer: runBatchOutputs
 *     split the same way, no trace kept), the like-for-like throughput figure;
 *   - "verifiable" inference: the plain engine plus exactly what the honest path adds per inference
 *     (docs/protocol.md §Commitments, issue 13): the output digest (tensorRoots of the outputs only, 0x07)
 *     and the result leaf resultLeaf(i, outputHash). 1-row latency: run + digest + leaf. Batch
 *     throughput: what a batch worker commits — each element's outputs and digest (BatchPool.runOutputs:
 *     runBatchOutputs, no per-item traces, hashed on the thread that ran the element, only the outputs come back;
 *     one thread: runBatchOutputs + outputHashesOfFlat, as LocalEngineProvider.runHonestBatch), every result leaf and the batch's result
 *     root (PositionalTree.ofResults, as resultTreeOf: the value commitBatch commits), plus the audit answer
 *     amortized at the deployed audit rate (AUDIT_RATE_BPS = deployProtocol's default 10%, one audited element per batch task: one
 *     rerun + traceRoot every 10th batch). No trace root is built otherwise;
 *   - peak memory (max RSS of a child process that does only that runtime's work), accuracy.
 * Models: every shipped model in models/ plus gpt-mid and mobile-net from ../shared/models when that
 * directory is present (skipped with a printed reason otherwise).
 * Each (model, runtime) pair runs in its own child process so memory is attributable.
 * Every (model, runtime) child runs `--repeat N` times (default 2; the machine is shared, so single
 * runs vary 1.5–2×); the table and `results` give the median over the repeats, `runs` every run.
 * Writes bench/results/engine.json and prints a table. `--models a,b` limits the models.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Trace } from '../src/engine/ir.js';

const ROOT = join(import.meta.dirname, '..');
const SHARED = join(ROOT, '..', 'shared', 'models');
const SHIPPED = ['wine-mlp', 'digits-convnet', 'tiny-gpt'];
const EXTRA = ['gpt-mid', 'mobile-net'];
type Runtime = 'verity' | 'onnxruntime';
const BATCH = 64;
/** deployProtocol's default audit rate (src/chain/deploy.ts): the share of tasks whose worker computes one trace root. */
const AUDIT_RATE_BPS = 1_000;
const THREADS = Math.min(2, cpus().length);
/** Warm up this long, then measure for at least MIN_MS (and at least MIN_ITERS calls). */
const WARMUP_MS = 400;
const MIN_MS = 1200;
const MIN_ITERS = 20;

interface Data {
  shape: number[];
  x: number[][];
  y: number[] | number[][];
  calibration?: number[][];
  vocab?: string;
}

interface Timing {
  latencyMedianMs: number;
  latencyP95Ms: number;
  throughputPerS: number;
}

interface ChildResult extends Timing {
  model: string;
  runtime: Runtime;
  /** verity only: runModel + output digest + result leaf (1 row); runBatch + the same per trace + the amortized audit root. */
  verifiable?: Timing;
  /** verity only: batch inferences/s giving the outputs only, as onnxruntime does (BatchPool.infer: no trace kept). */
  plainThroughputPerS?: number;
  /** verity only: which integer kernel path ran ('native' | 'wasm' | 'js') and the batch threads. */
  path?: string;
  batchThreads: number;
  maxRssMb: number;
  metric: number;
  metricName: string;
  rows: number;
}

function dirOf(model: string): string {
  return SHIPPED.includes(model) ? join(ROOT, 'models') : SHARED;
}

function loadData(model: string): Data {
  return JSON.parse(readFileSync(join(dirOf(model), `${model}.data.json`), 'utf8')) as Data;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function metricOf(data: Data, logits: (r: number) => ArrayLike<number>): { metric: number; name: string } {
  if (data.vocab) {
    const V = data.vocab.length;
    let loss = 0;
    let n = 0;
    data.x.forEach((_, r) => {
      const l = logits(r);
      (data.y as number[][])[r].forEach((target, t) => {
        let mx = -Infinity;
        for (let i = 0; i < V; i++) mx = Math.max(mx, l[t * V + i]);
        let s = 0;
        for (let i = 0; i < V; i++) s += Math.exp(l[t * V + i] - mx);
        loss += Math.log(s) + mx - l[t * V + target];
        n++;
      });
    });
    return { metric: loss / n, name: 'cross-entropy (nats)' };
  }
  let correct = 0;
  data.x.forEach((_, r) => {
    const l = logits(r);
    let best = 0;
    for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
    if (best === (data.y as number[])[r]) correct++;
  });
  return { metric: correct / data.x.length, name: 'top-1 accuracy' };
}

/** Per-call ms of `fn` after WARMUP_MS of warm-up, over at least MIN_MS and MIN_ITERS calls. */
async function timeEach(fn: (i: number) => unknown, minIters = MIN_ITERS): Promise<number[]> {
  const w0 = performance.now();
  for (let i = 0; performance.now() - w0 < WARMUP_MS; i++) await fn(i);
  const out: number[] = [];
  const t0 = performance.now();
  for (let i = 0; out.length < minIters || performance.now() - t0 < MIN_MS; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** Inferences/s of `fn` (one call = `per` inferences). */
async function rate(per: number, fn: (i: number) => unknown): Promise<number> {
  const lat = await timeEach(fn, 3);
  return (lat.length * per) / (lat.reduce((a, b) => a + b, 0) / 1000);
}

async function child(model: string, runtime: Runtime): Promise<ChildResult> {
  const data = loadData(model);
  const rows = data.x;
  const file = join(dirOf(model), `${model}.onnx`);
  const batchRows = Array.from({ length: BATCH }, (_, i) => rows[i % rows.length]);
  let lat: number[];
  let throughput: number;
  let verifiable: Timing | undefined;
  let plainThroughput: number | undefined;
  let path: string | undefined;
  let batchThreads = THREADS;
  let logitsOf: (r: number) => ArrayLike<number>;
  if (runtime === 'verity') {
    const { importOnnx, quantizeInput, dequantizeOutput } = await import('../src/onnx/import.js');
    const { ArenaCache, prepareModel, runBatch, runBatchOutputs, runModel } = await import('../src/engine/run.js');
    const { traceRoot, keccakReady, outputHashOf, outputHashesOfFlat } = await import('../src/commit/index.js');
    const { PositionalTree, resultLeaf } = await import('../src/chain/positional.js');
    const engine = await import('../src/engine/index.js');
    const { BatchPool } = await import('../src/parallel/pool.js');
    await keccakReady;
    const calibration =
      data.calibration ??
      (JSON.parse(readFileSync(join(dirOf(model), `${model}.calibration.json`), 'utf8')) as { calibration: number[][] }).calibration;
    const q = importOnnx(readFileSync(file), { name: model, inputShape: data.shape, calibration });
    const p = prepareModel(q);
    path = engine.kernelPath() === 'native' ? `native/${engine.nativeCpu()}` : engine.kernelPath();
    const inputs = rows.map((r) => quantizeInput(q, r));
    const feed = batchRows.map((r) => [quantizeInput(q, r)]);
    // 1-row latency includes quantizing the float input, as a caller would; each trace's arena is released once
    // read (runModel's opts.arenas), as for the batches below.
    const arenas1 = new ArenaCache();
    const release1 = (trace: Trace) => {
      const a = trace[0].data.buffer as ArrayBuffer;
      if (a.byteLength === p.arenaBytes) arenas1.give(a);
    };
    const run1 = (i: number) => runModel(p, [quantizeInput(q, rows[i % rows.length])], { arenas: arenas1 });
    lat = await timeEach((i) => release1(run1(i)));
    // What the honest path adds per inference: the output digest and the result leaf (no trace root).
    const committed = (trace: Trace, i: number) => resultLeaf(i, outputHashOf(q.outputs.map((id) => trace[id]!)));
    const vlat = await timeEach((i) => {
      const t = run1(i);
      committed(t, 0);
      release1(t);
    });
    // A batch worker's commitment: every element's result leaf under one positional root (src/node/batch.ts resultTreeOf).
    const resultRoot = (outputHashes: `0x${string}`[]) => PositionalTree.ofResults(outputHashes).root;
    // A batch task is audited with probability AUDIT_RATE_BPS: its worker then reruns one element and builds its traceRoot.
    const audit = (i: number) => {
      if ((i * AUDIT_RATE_BPS) % 10_000 < AUDIT_RATE_BPS) traceRoot(runModel(p, feed[i % feed.length]!));
    };
    // Batch: runBatch over BATCH rows, split over THREADS threads (src/parallel/pool.ts).
    if (THREADS > 1) {
      const pool = await BatchPool.create(p, THREADS);
      throughput = await rate(BATCH, async () => pool.release(await pool.run(feed)));
      plainThroughput = await rate(BATCH, async () => void (await pool.infer(feed)));
      const vtp = await rate(BATCH, async (i) => {
        resultRoot((await pool.runOutputs(feed)).outputHashes);
        audit(i);
      });
      verifiable = { latencyMedianMs: quantile(vlat, 0.5), latencyP95Ms: quantile(vlat, 0.95), throughputPerS: vtp };
      await pool.close();
    } else {
      batchThreads = 1;
      const arenas = new ArenaCache();
      const release = (traces: Trace[]) => new Set(traces.map((t) => t[0].data.buffer as ArrayBuffer)).forEach((a) => arenas.give(a));
      throughput = await rate(BATCH, () => release(runBatch(p, feed, { arenas })));
      plainThroughput = await rate(BATCH, () => void runBatchOutputs(p, feed, { arenas }));
      const vtp = await rate(BATCH, (i) => {
        resultRoot(outputHashesOfFlat(runBatchOutputs(p, feed, { arenas }), feed.length));
        audit(i);
      });
      verifiable = { latencyMedianMs: quantile(vlat, 0.5), latencyP95Ms: quantile(vlat, 0.95), throughputPerS: vtp };
    }
    const outs = inputs.map((inp) => Array.from(dequantizeOutput(q, runModel(p, [inp])[q.outputs[0]])));
    logitsOf = (r) => outs[r];
  } else {
    const ort = await import('onnxruntime-node');
    const one = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const many = await ort.InferenceSession.create(file, { intraOpNumThreads: THREADS, interOpNumThreads: 1, executionMode: 'sequential' });
    const feedOf = (rs: number[][]) =>
      data.vocab
        ? new ort.Tensor('int64', BigInt64Array.from(rs.flat().map((v) => BigInt(v))), [rs.length, ...data.shape])
        : new ort.Tensor('float32', Float32Array.from(rs.flat()), [rs.length, ...data.shape]);
    const singles = rows.map((r) => feedOf([r]));
    // ort's run is async; await each so the latency is the real round trip.
    lat = await timeEach((i) => one.run({ x: singles[i % singles.length] }));
    const feed = feedOf(batchRows);
    throughput = await rate(BATCH, () => many.run({ x: feed }));
    const outs: Float32Array[] = [];
    for (const f of singles) outs.push((await one.run({ x: f })).logits.data as Float32Array);
    logitsOf = (r) => outs[r];
  }
  const m = metricOf(data, logitsOf);
  return {
    model,
    runtime,
    latencyMedianMs: quantile(lat, 0.5),
    latencyP95Ms: quantile(lat, 0.95),
    throughputPerS: throughput,
    verifiable,
    plainThroughputPerS: plainThroughput,
    path,
    batchThreads,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    metric: m.metric,
    metricName: m.name,
    rows: rows.length,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const r = await child(args[1], args[2] as Runtime);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = flag('--models')?.split(',') ?? null;
  const repeat = Math.max(1, Number(flag('--repeat') ?? 2));
  let models = [...SHIPPED];
  if (existsSync(SHARED)) models.push(...EXTRA.filter((m) => existsSync(join(SHARED, `${m}.onnx`))));
  else console.log(`bench:engine: ${SHARED} is absent; skipping ${EXTRA.join(', ')}`);
  if (only) models = models.filter((m) => only.includes(m));
  const self = fileURLToPath(import.meta.url);
  const load0 = loadavg();
  const runs: ChildResult[] = [];
  for (let rep = 0; rep < repeat; rep++) for (const model of models) {
    for (const runtime of ['onnxruntime', 'verity'] as const) {
      process.stderr.write(`bench:engine ${model} on ${runtime} (run ${rep + 1}/${repeat})…\n`);
      const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', model, runtime], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
        maxBuffer: 64 * 1024 * 1024,
      });
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) {
        process.stderr.write(r.stderr);
        throw new Error(`bench child ${model}/${runtime} failed (exit ${r.status})`);
      }
      runs.push(JSON.parse(line.slice(7)) as ChildResult);
    }
  }
  // Per (model, runtime): the median over the repeats of every timing (each run is its own process).
  const med = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const results: ChildResult[] = [];
  for (const model of models) {
    for (const runtime of ['onnxruntime', 'verity'] as const) {
      const rs = runs.filter((r) => r.model === model && r.runtime === runtime);
      const timing = (get: (r: ChildResult) => Timing): Timing => ({
        latencyMedianMs: med(rs.map((r) => get(r).latencyMedianMs)),
        latencyP95Ms: med(rs.map((r) => get(r).latencyP95Ms)),
        throughputPerS: med(rs.map((r) => get(r).throughputPerS)),
      });
      results.push({
        ...rs[0],
        ...timing((r) => r),
        verifiable: rs[0].verifiable ? timing((r) => r.verifiable!) : undefined,
        plainThroughputPerS: rs[0].plainThroughputPerS !== undefined ? med(rs.map((r) => r.plainThroughputPerS!)) : undefined,
        maxRssMb: Math.max(...rs.map((r) => r.maxRssMb)),
      });
    }
  }
  const x = (v: number): string => `${v.toFixed(2)}×`;
  const table: string[][] = [
    ['model', 'runtime', 'path', 'lat p50 ms', 'p95 ms', `batch inf/s (${THREADS} thr)`, 'outputs only', 'verif. lat ms', 'verif. inf/s', 'RSS MB', 'metric', 'lat vs ort', 'tput vs ort', 'verif/engine', 'verif vs ort'],
  ];
  const summary = models.map((model) => {
    const o = results.find((r) => r.model === model && r.runtime === 'onnxruntime')!;
    const v = results.find((r) => r.model === model && r.runtime === 'verity')!;
    const vf = v.verifiable!;
    const s = {
      model,
      /** > 1 means verity is faster (ort latency / verity latency). */
      latencyRatio: o.latencyMedianMs / v.latencyMedianMs,
      throughputRatio: v.throughputPerS / o.throughputPerS,
      /** Outputs only on both sides (what onnxruntime returns; no trace kept): the like-for-like batch figure. */
      plainThroughputRatio: v.plainThroughputPerS! / o.throughputPerS,
      verifiableLatencyVsEngine: v.latencyMedianMs / vf.latencyMedianMs,
      verifiableThroughputVsEngine: vf.throughputPerS / v.throughputPerS,
      verifiableLatencyVsOrt: o.latencyMedianMs / vf.latencyMedianMs,
      verifiableThroughputVsOrt: vf.throughputPerS / o.throughputPerS,
      verityBatchThreads: v.batchThreads,
    };
    for (const r of [o, v]) {
      const isV = r === v;
      table.push([
        model,
        r.runtime,
        r.path ?? '',
        r.latencyMedianMs.toFixed(4),
        r.latencyP95Ms.toFixed(4),
        r.throughputPerS.toFixed(0),
        isV ? v.plainThroughputPerS!.toFixed(0) : '',
        isV ? vf.latencyMedianMs.toFixed(4) : '',
        isV ? vf.throughputPerS.toFixed(0) : '',
        r.maxRssMb.toFixed(0),
        `${r.metricName === 'top-1 accuracy' ? (r.metric * 100).toFixed(2) + '%' : r.metric.toFixed(4) + ' CE'}`,
        isV ? x(s.latencyRatio) : '',
        isV ? `${x(s.throughputRatio)} / ${x(s.plainThroughputRatio)}` : '',
        isV ? `${x(s.verifiableLatencyVsEngine)} / ${x(s.verifiableThroughputVsEngine)}` : '',
        isV ? `${x(s.verifiableLatencyVsOrt)} / ${x(s.verifiableThroughputVsOrt)}` : '',
      ]);
    }
    return s;
  });
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  table.forEach((r, i) => {
    console.log(r.map((c, j) => c.padEnd(widths[j])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  const load1 = loadavg();
  console.log(`\nMedians over ${repeat} run(s) per (model, runtime). Ratios > 1 favour verity. batch inf/s keeps one full trace per row; "outputs only" keeps the outputs, as ort (tput vs ort: traces / outputs only). verif = verifiable (engine + output digest + result leaf per inference; batch: + the batch's result root and one audit traceRoot per batch at ${AUDIT_RATE_BPS / 100}%); "a / b" = 1-row latency / batch throughput.`);
  console.log(`Targets: latency ≥ 1.0× ort; throughput ≥ 1.0× ort; verifiable ≥ 0.8× engine and ≥ 0.5× ort. Load average before ${load0[0].toFixed(2)}, after ${load1[0].toFixed(2)}.`);
  for (const s of summary) {
    const met = (b: boolean): string => (b ? 'met' : 'NOT met');
    console.log(
      `${s.model}: latency ${met(s.latencyRatio >= 1)}, throughput ${met(s.plainThroughputRatio >= 1)} (outputs only; with full traces ${met(s.throughputRatio >= 1)}), verifiable vs engine ${met(Math.min(s.verifiableLatencyVsEngine, s.verifiableThroughputVsEngine) >= 0.8)}, verifiable vs ort ${met(Math.min(s.verifiableLatencyVsOrt, s.verifiableThroughputVsOrt) >= 0.5)}`,
    );
  }
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = {
    bench: 'engine',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    threads: { latency: 1, batch: THREADS },
    batch: BATCH,
    loadAverage: { before: load0, after: load1 },
    repeat,
    /** Medians over the repeats (each figure of each run is itself a median / rate over ≥ 1.2 s). */
    results,
    runs,
    summary,
  };
  const outFile = only ? join(ROOT, 'bench', 'results', `engine-${only.join('_')}.json`) : join(ROOT, 'bench', 'results', 'engine.json');
  writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  console.log(`wrote ${outFile.slice(ROOT.length + 1)}`);
}

await main();
