/**
 * npm run bench:engine — the integer engine against onnxruntime-node (float32, CPU provider) on the
 * same models and the same held-out rows, in the same run:
 *   1-row latency (median, p95; verity: runModel incl. quantizeInput), batch throughput (inferences/s;
 *   verity: runBatch of 64 rows, a full trace per row), peak memory (max RSS of a child
 *   process that does only that runtime's work), accuracy.
 * Each (model, runtime) pair runs in its own child process so memory is attributable.
 * Writes bench/results/engine.json and prints a table.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const MODELS = ['wine-mlp', 'digits-convnet', 'tiny-gpt'] as const;
type Model = (typeof MODELS)[number];
type Runtime = 'verity' | 'onnxruntime';
const BATCH = 64;
/** Throughput: warm up this long, then run at least the planned batches and at least MIN_MS (both runtimes). */
const WARMUP_MS = 300;
const MIN_MS = 300;

interface Data {
  shape: number[];
  x: number[][];
  y: number[] | number[][];
  calibration?: number[][];
  vocab?: string;
}

interface ChildResult {
  model: Model;
  runtime: Runtime;
  latencyMedianMs: number;
  latencyP95Ms: number;
  throughputPerS: number;
  maxRssMb: number;
  metric: number;
  metricName: string;
  rows: number;
}

function loadData(model: Model): Data {
  return JSON.parse(readFileSync(join(ROOT, 'models', `${model}.data.json`), 'utf8')) as Data;
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

/** Time `fn` over `iters` calls after warm-up; returns per-call ms. */
function timeEach(iters: number, fn: (i: number) => void): number[] {
  for (let i = 0; i < Math.min(50, iters); i++) fn(i);
  const out: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t = performance.now();
    fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

async function child(model: Model, runtime: Runtime): Promise<ChildResult> {
  const data = loadData(model);
  const rows = data.x;
  const size = data.shape.reduce((a, b) => a * b, 1);
  const iters = model === 'tiny-gpt' ? 300 : 2000;
  let lat: number[];
  let throughput: number;
  let logitsOf: (r: number) => ArrayLike<number>;
  if (runtime === 'verity') {
    const { importOnnx, quantizeInput, dequantizeOutput } = await import('../src/onnx/import.js');
    const { prepareModel, runBatch, runModel } = await import('../src/engine/run.js');
    const calibration =
      data.calibration ??
      (JSON.parse(readFileSync(join(ROOT, 'models', `${model}.calibration.json`), 'utf8')) as { calibration: number[][] }).calibration;
    const q = importOnnx(readFileSync(join(ROOT, 'models', `${model}.onnx`)), { name: model, inputShape: data.shape, calibration });
    const p = prepareModel(q);
    const inputs = rows.map((r) => quantizeInput(q, r));
    // 1-row latency includes quantizing the float input, as a caller would.
    lat = timeEach(iters, (i) => runModel(p, [quantizeInput(q, rows[i % rows.length])]));
    // Throughput: runBatch over BATCH rows (dense ops run all rows in one GEMM), one trace per row.
    const batches = Math.max(3, Math.ceil((iters * 2) / BATCH));
    const feeds = Array.from({ length: batches }, (_, b) => Array.from({ length: BATCH }, (_, i) => [inputs[(b * BATCH + i) % inputs.length]]));
    // Warm-up: the JIT (JS and WebAssembly tiers) needs a few hundred ms; ort is native code.
    const w0 = performance.now();
    for (let w = 0; performance.now() - w0 < WARMUP_MS; w++) runBatch(p, feeds[w % batches]);
    let done = 0;
    const t0 = performance.now();
    while (done < batches || performance.now() - t0 < MIN_MS) runBatch(p, feeds[done++ % batches]);
    throughput = (done * BATCH) / ((performance.now() - t0) / 1000);
    const outs = inputs.map((inp) => Array.from(dequantizeOutput(q, runModel(p, [inp])[q.outputs[0]])));
    logitsOf = (r) => outs[r];
  } else {
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(join(ROOT, 'models', `${model}.onnx`));
    const feedOf = (rs: number[][]) =>
      data.vocab
        ? new ort.Tensor('int64', BigInt64Array.from(rs.flat().map((v) => BigInt(v))), [rs.length, ...data.shape])
        : new ort.Tensor('float32', Float32Array.from(rs.flat()), [rs.length, ...data.shape]);
    const singles = rows.map((r) => feedOf([r]));
    // ort's run is async; await each so the latency is the real round trip.
    for (let i = 0; i < 50; i++) await s.run({ x: singles[i % singles.length] });
    lat = [];
    for (let i = 0; i < iters; i++) {
      const t = performance.now();
      await s.run({ x: singles[i % singles.length] });
      lat.push(performance.now() - t);
    }
    const batchRows = Array.from({ length: BATCH }, (_, i) => rows[i % rows.length]);
    const feed = feedOf(batchRows);
    await s.run({ x: feed });
    const batches = Math.max(3, Math.ceil((iters * 2) / BATCH));
    const w0 = performance.now();
    while (performance.now() - w0 < WARMUP_MS) await s.run({ x: feed });
    let done = 0;
    const t0 = performance.now();
    while (done < batches || performance.now() - t0 < MIN_MS) {
      await s.run({ x: feed });
      done++;
    }
    throughput = (done * BATCH) / ((performance.now() - t0) / 1000);
    const outs: Float32Array[] = [];
    for (const f of singles) outs.push((await s.run({ x: f })).logits.data as Float32Array);
    logitsOf = (r) => outs[r];
    void size;
  }
  const m = metricOf(data, logitsOf);
  return {
    model,
    runtime,
    latencyMedianMs: quantile(lat, 0.5),
    latencyP95Ms: quantile(lat, 0.95),
    throughputPerS: throughput,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    metric: m.metric,
    metricName: m.name,
    rows: rows.length,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const r = await child(args[1] as Model, args[2] as Runtime);
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const results: ChildResult[] = [];
  for (const model of MODELS) {
    for (const runtime of ['onnxruntime', 'verity'] as const) {
      process.stderr.write(`bench:engine ${model} on ${runtime}…\n`);
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
      results.push(JSON.parse(line.slice(7)) as ChildResult);
    }
  }
  const table: string[][] = [['model', 'runtime', 'latency p50 ms', 'p95 ms', 'batch inf/s', 'max RSS MB', 'metric', 'vs ort latency', 'vs ort throughput']];
  const summary = MODELS.map((model) => {
    const o = results.find((r) => r.model === model && r.runtime === 'onnxruntime')!;
    const v = results.find((r) => r.model === model && r.runtime === 'verity')!;
    for (const r of [o, v]) {
      table.push([
        model,
        r.runtime,
        r.latencyMedianMs.toFixed(4),
        r.latencyP95Ms.toFixed(4),
        r.throughputPerS.toFixed(0),
        r.maxRssMb.toFixed(0),
        `${r.metricName === 'top-1 accuracy' ? (r.metric * 100).toFixed(2) + '%' : r.metric.toFixed(4) + ' CE'}`,
        r === v ? `${(o.latencyMedianMs / v.latencyMedianMs).toFixed(2)}× faster` : '',
        r === v ? `${(v.throughputPerS / o.throughputPerS).toFixed(2)}×` : '',
      ]);
    }
    return {
      model,
      latencyTargetMet: v.latencyMedianMs <= o.latencyMedianMs,
      throughputTargetMet: v.throughputPerS >= 0.5 * o.throughputPerS,
      latencyRatio: v.latencyMedianMs / o.latencyMedianMs,
      throughputRatio: v.throughputPerS / o.throughputPerS,
    };
  });
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  table.forEach((r, i) => {
    console.log(r.map((x, c) => x.padEnd(widths[c])).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  console.log('\nTargets: 1-row latency ≤ onnxruntime; batch throughput ≥ 0.5× onnxruntime (batch of 64; verity runBatch, one full trace per row).');
  for (const s of summary) console.log(`${s.model}: latency ${s.latencyTargetMet ? 'met' : 'NOT met'}, throughput ${s.throughputTargetMet ? 'met' : 'NOT met'}`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const out = {
    bench: 'engine',
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    batch: BATCH,
    results,
    summary,
  };
  writeFileSync(join(ROOT, 'bench', 'results', 'engine.json'), JSON.stringify(out, null, 2) + '\n');
  console.log('wrote bench/results/engine.json');
}

await main();
