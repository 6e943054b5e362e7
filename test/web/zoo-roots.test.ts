/**
 * The browser build computes Node's bytes for the imported zoo too: every model of test/fixtures/zoo (one real
 * torch.onnx.export per family: ResNet, MobileNetV3, EfficientNet-lite, CNN layers, encoder-decoder with Resize, GRU,
 * LSTM, encoder with mean pooling, GPT with gelu_new, ConvTranspose/GroupNorm decoder, two-input BERT with Hugging
 * Face's masks, GPT-2 with torch.where) and the two-input ../shared/models/text-mask.onnx, three held-out
 * rows each: the trace roots and outputs computed in a Chromium tab equal Node's. text-mask's inputs go to the page
 * by input name, as one row per input, and typed into the page's input box as a JSON object.
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); a missing browser skips with a printed reason.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccakReady, modelRootHex, traceRootHex } from '../../src/commit/index.js';
import { encodeModel, prepareModel, runModel, type QModel } from '../../src/engine/index.js';
import { importOnnx } from '../../src/onnx/import.js';
import { quantizeInputs } from '../../src/onnx/inputs.js';
import { serveStatic, type StaticServer } from '../../src/web/serve.js';
import type {} from '../../src/web/app.js'; // window.verity's type
import { buildWeb } from '../../scripts/build-web.js';
import { browserSkipReason, launchChromium, type Chromium } from './chromium.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ZOO = join(ROOT, 'test', 'fixtures', 'zoo');
const SHARED = join(ROOT, '..', 'shared', 'models');
const ZOO_MODELS = ['resnet', 'mobilenet-v3', 'efficientnet-lite', 'cnn-layers', 'unet-upsample', 'gru', 'lstm', 'encoder-meanpool', 'gpt-gelu-new', 'deconv-groupnorm', 'bert-mask', 'gpt2-where'];
const ROWS = 3;

const skip = browserSkipReason();
if (skip) console.log(`[test/web/zoo-roots] skipped: ${skip}`);
const haveTextMask = existsSync(join(SHARED, 'text-mask.onnx'));

function zooModel(name: string): { q: QModel; rows: number[][] } {
  const d = JSON.parse(readFileSync(join(ZOO, `${name}.data.json`), 'utf8')) as { shape?: number[]; shapes?: number[][]; calibration: number[][]; x: number[][] };
  const shapes = d.shapes ? { inputShapes: d.shapes } : { inputShape: d.shape };
  const q = importOnnx(new Uint8Array(readFileSync(join(ZOO, `${name}.onnx`))), { name, ...shapes, calibration: d.calibration });
  return { q, rows: d.x.slice(0, ROWS) };
}

function nodeRun(q: QModel, run: unknown): { traceRoot: string; output: number[] } {
  const trace = runModel(prepareModel(q), quantizeInputs(q, run));
  return { traceRoot: traceRootHex(trace), output: Array.from(trace[q.outputs[0]].data) };
}

describe.skipIf(skip !== null)('browser build: zoo trace roots equal Node’s', () => {
  let outdir = '';
  let server: StaticServer | undefined;
  let chromium: Chromium | undefined;
  let page: Page;
  const models = new Map<string, { q: QModel; rows: number[][] }>();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await keccakReady;
    for (const name of ZOO_MODELS) models.set(name, zooModel(name));
    if (haveTextMask) {
      const d = JSON.parse(readFileSync(join(SHARED, 'text-mask.data.json'), 'utf8')) as { x: number[][]; calibration: number[][]; shapes: number[][] };
      const q = importOnnx(new Uint8Array(readFileSync(join(SHARED, 'text-mask.onnx'))), { name: 'text-mask', calibration: d.calibration, inputShapes: d.shapes });
      models.set('text-mask', { q, rows: d.x.filter((r) => r.slice(40).includes(0)).slice(0, ROWS) });
    }
    outdir = mkdtempSync(join(tmpdir(), 'verity-web-zoo-'));
    await buildWeb({ outdir, models: false });
    const files: Record<string, Uint8Array> = {};
    for (const [name, m] of models) files[`/models/${name}.vqm`] = encodeModel(m.q);
    files['/models/index.json'] = new TextEncoder().encode(JSON.stringify([...models].map(([name, m]) => ({ name, file: `models/${name}.vqm`, modelRoot: modelRootHex(m.q), example: m.rows[0] }))));
    server = await serveStatic({ root: outdir, files });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${server.url}index.html`, { timeout: 30_000 });
    await page.evaluate(() => window.verity.ready);
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it.each(ZOO_MODELS)('%s: page roots == Node roots', async (name) => {
    const { q, rows } = models.get(name)!;
    const node = rows.map((r) => nodeRun(q, r));
    const inPage = await page.evaluate(([url, rs]) => window.verity.run(url, rs), [`models/${name}.vqm`, rows] as const);
    expect(inPage.modelRoot).toBe(modelRootHex(q));
    expect(inPage.results.map((r) => r.traceRoot)).toEqual(node.map((r) => r.traceRoot));
    expect(inPage.results.map((r) => r.output)).toEqual(node.map((r) => r.output));
    expect(new Set(node.map((r) => r.traceRoot)).size).toBe(ROWS); // the rows really differ
  });

  it.skipIf(!haveTextMask)('text-mask (ids + mask): by input name, one row per input, back to back, and typed into the page', async () => {
    const { q, rows } = models.get('text-mask')!;
    const named = rows.map((r) => ({ ids: r.slice(0, 40), mask: r.slice(40) }));
    const perInput = rows.map((r) => [r.slice(0, 40), r.slice(40)]);
    const node = rows.map((r) => nodeRun(q, r));
    // Node: the three forms give the same tensors.
    for (const [k, r] of rows.entries()) {
      expect(nodeRun(q, named[k]).traceRoot).toBe(node[k]!.traceRoot);
      expect(nodeRun(q, perInput[k]).traceRoot).toBe(node[k]!.traceRoot);
    }
    for (const runs of [named, perInput, rows] as unknown[][]) {
      const inPage = await page.evaluate(([url, rs]) => window.verity.run(url, rs as never), ['models/text-mask.vqm', runs] as const);
      expect(inPage.results.map((r) => r.traceRoot)).toEqual(node.map((r) => r.traceRoot));
    }
    // A mask that differs in one real token gives another root, in the page as in Node.
    const flipped = { ids: named[0]!.ids, mask: named[0]!.mask.map((m, i) => (i === named[0]!.mask.indexOf(1) ? 0 : m)) };
    const other = await page.evaluate(([url, r]) => window.verity.run(url, [r]), ['models/text-mask.vqm', flipped] as const);
    expect(other.results[0]!.traceRoot).toBe(nodeRun(q, flipped).traceRoot);
    expect(other.results[0]!.traceRoot).not.toBe(node[0]!.traceRoot);

    // The page UI: pick text-mask, type the two inputs as one JSON object (and as one row per input), run.
    await page.fill('#model-url', 'models/text-mask.vqm');
    await page.setInputFiles('#model-file', { name: 'text-mask.vqm', mimeType: 'application/octet-stream', buffer: Buffer.from(encodeModel(q)) });
    await expect.poll(() => page.textContent('#model-info')).toContain(modelRootHex(q));
    for (const [typed, k] of [[named[1], 1], [perInput[2], 2]] as const) {
      await page.fill('#input', JSON.stringify(typed));
      await page.click('#run');
      await expect.poll(() => page.textContent('#output')).toContain(node[k]!.traceRoot);
    }
    expect(pageErrors).toEqual([]);
  });
});
