/**
 * npm run bench:browser — inference time in a Chromium tab vs in Node, same model bytes, same inputs,
 * same timing loop (src/web/core.ts timeRows; the page runs the esbuild bundle of the same source).
 *
 * Per model: 32 seeded random rows; 15 rounds per runtime, each a warm-up pass then the rows cycled for
 * ≥ 20 ms; the figure is the median round's ms per row. Node and page rounds alternate, so load from other
 * processes falls on both alike. "run" = quantize the row + runModel (the full trace); "+commit" adds
 * traceRoot. Target: page ≤ 2× Node on "run".
 * Writes bench/results/browser.json and prints a table.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccakReady } from '../src/commit/index.js';
import { encodeModel } from '../src/engine/index.js';
import { backends, loadModel, timeRows, type LoadedModel, type TimingOptions } from '../src/web/core.js';
import { serveStatic } from '../src/web/serve.js';
import type {} from '../src/web/app.js';
import { buildWeb } from '../scripts/build-web.js';
import { MODEL_NAMES, quantized, type ModelName } from '../test/onnx/models.js';
import { CHROMIUM_PATH, launchChromium } from '../test/web/chromium.js';
import { randomRows } from '../test/web/inputs.js';

const ROWS = 32;
const TIMING: TimingOptions = { rounds: 15, minRoundMs: 20 };
const TARGET = 2;
const OUT = join(import.meta.dirname, 'results', 'browser.json');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Row {
  model: ModelName;
  nodeRunMs: number;
  pageRunMs: number;
  ratioRun: number;
  nodeCommitMs: number;
  pageCommitMs: number;
  ratioCommit: number;
}

async function main(): Promise<void> {
  await keccakReady;
  const bytes = new Map(MODEL_NAMES.map((n) => [n, encodeModel(quantized(n))]));
  const rows = new Map(MODEL_NAMES.map((n, i) => [n, randomRows(n, ROWS, 0xbe7c + i)]));

  const nodeModels = new Map<ModelName, LoadedModel>();
  for (const name of MODEL_NAMES) nodeModels.set(name, await loadModel(bytes.get(name)!));
  const nodeBackends = backends();

  const outdir = mkdtempSync(join(tmpdir(), 'verity-bench-web-'));
  const server = await serveStatic({ root: outdir, files: Object.fromEntries(MODEL_NAMES.map((n) => [`/models/${n}.vqm`, bytes.get(n)!])) });
  const chromium = await launchChromium().catch(async (e: Error) => {
    await server.close();
    throw e;
  });
  const node = new Map<ModelName, { run: number; commit: number }>();
  const page = new Map<ModelName, { run: number; commit: number }>();
  let env: { userAgent: string; crossOriginIsolated: boolean; backends: ReturnType<typeof backends> };
  try {
    await buildWeb({ outdir, models: false });
    const tab = await chromium.context.newPage();
    await tab.goto(`${server.url}index.html`, { timeout: 30_000 });
    await tab.evaluate(() => window.verity.ready);
    env = await tab.evaluate(() => ({ userAgent: navigator.userAgent, crossOriginIsolated, backends: window.verity.backends() }));
    // Rounds alternate between Node and the page (one runs while the other waits), so load from other
    // processes on a shared machine falls on both alike.
    for (const name of MODEL_NAMES) {
      const m = nodeModels.get(name)!;
      const rs = rows.get(name)!;
      const result = { node: { run: 0, commit: 0 }, page: { run: 0, commit: 0 } };
      for (const commit of [false, true]) {
        const one: TimingOptions = { ...TIMING, rounds: 1, commit };
        const inNode: number[] = [];
        const inPage: number[] = [];
        for (let k = 0; k < TIMING.rounds!; k++) {
          inNode.push(...timeRows(m, rs, one));
          inPage.push(...(await tab.evaluate(([u, r, t]) => window.verity.time(u, r, t), [`models/${name}.vqm`, rs, one] as const)));
        }
        result.node[commit ? 'commit' : 'run'] = median(inNode);
        result.page[commit ? 'commit' : 'run'] = median(inPage);
      }
      node.set(name, result.node);
      page.set(name, result.page);
    }
  } finally {
    await chromium.close();
    await server.close();
    rmSync(outdir, { recursive: true, force: true });
  }

  const table: Row[] = MODEL_NAMES.map((model) => {
    const n = node.get(model)!;
    const p = page.get(model)!;
    return { model, nodeRunMs: n.run, pageRunMs: p.run, ratioRun: p.run / n.run, nodeCommitMs: n.commit, pageCommitMs: p.commit, ratioCommit: p.commit / n.commit };
  });

  const f = (ms: number): string => (ms < 0.1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(3)} ms`).padStart(10);
  console.log(`\nInference per row, median of ${TIMING.rounds} rounds (${ROWS} seeded random rows per model)`);
  console.log(`node ${process.version} (kernels ${nodeBackends.gemm}, keccak ${nodeBackends.keccak}) vs ${env.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'chromium'} (kernels ${env.backends.gemm}, keccak ${env.backends.keccak}, crossOriginIsolated ${env.crossOriginIsolated})\n`);
  console.log(`${'model'.padEnd(16)}${'node run'.padStart(10)}${'page run'.padStart(12)}${'page/node'.padStart(11)}   ${'node +commit'.padStart(12)}${'page +commit'.padStart(13)}${'page/node'.padStart(11)}`);
  for (const r of table) {
    console.log(`${r.model.padEnd(16)}${f(r.nodeRunMs)}${f(r.pageRunMs).padStart(12)}${(r.ratioRun.toFixed(2) + '×').padStart(11)}   ${f(r.nodeCommitMs).padStart(12)}${f(r.pageCommitMs).padStart(13)}${(r.ratioCommit.toFixed(2) + '×').padStart(11)}`);
  }
  const worst = Math.max(...table.map((r) => r.ratioRun));
  console.log(`\ntarget page ≤ ${TARGET}× node (run): ${worst <= TARGET ? 'met' : 'MISSED'} (worst ${worst.toFixed(2)}×)`);

  mkdirSync(join(OUT, '..'), { recursive: true });
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        rows: ROWS,
        timing: TIMING,
        node: { version: process.version, backends: nodeBackends },
        browser: { executable: CHROMIUM_PATH, ...env },
        target: { maxRatio: TARGET, worstRatioRun: worst, met: worst <= TARGET },
        models: table,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${OUT}`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
