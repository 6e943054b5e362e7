/**
 * The browser build computes exactly the bytes Node computes: for each shipped model and 24 seeded random
 * inputs, the trace root (and the output) computed in a Chromium tab equals Node's. Also the page's
 * claim check (match and mismatch) and its UI, with a screenshot at bench/results/web-page.png.
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH). Outside CI a missing browser skips
 * with a printed reason; in CI it fails.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccakReady, modelRootHex, traceRootHex } from '../../src/commit/index.js';
import { encodeModel, prepareModel, runModel } from '../../src/engine/index.js';
import { quantizeInput } from '../../src/onnx/io.js';
import { serveStatic, type StaticServer } from '../../src/web/serve.js';
import type {} from '../../src/web/app.js'; // window.verity's type
import { buildWeb } from '../../scripts/build-web.js';
import { MODEL_NAMES, modelData, quantized, type ModelName } from '../onnx/models.js';
import { browserSkipReason, launchChromium, type Chromium } from './chromium.js';
import { randomRows } from './inputs.js';

const ROWS = 24;
const SCREENSHOT = join(import.meta.dirname, '..', '..', 'bench', 'results', 'web-page.png');

const skip = browserSkipReason();
if (skip) console.log(`[test/web/trace-roots] skipped: ${skip}`);

describe.skipIf(skip !== null)('browser build: trace roots equal Node’s', () => {
  let outdir = '';
  let server: StaticServer | undefined;
  let chromium: Chromium | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await keccakReady;
    outdir = mkdtempSync(join(tmpdir(), 'verity-web-'));
    await buildWeb({ outdir, models: false });
    const files: Record<string, Uint8Array> = {};
    for (const name of MODEL_NAMES) files[`/models/${name}.vqm`] = encodeModel(quantized(name));
    const index = MODEL_NAMES.map((name) => ({ name, file: `models/${name}.vqm`, modelRoot: modelRootHex(quantized(name)), example: modelData(name).x[0] }));
    files['/models/index.json'] = new TextEncoder().encode(JSON.stringify(index));
    server = await serveStatic({ root: outdir, files });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${server.url}index.html`, { timeout: 30_000 });
    await page.evaluate(() => window.verity.ready);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('runs the WebAssembly SIMD kernels and wasm keccak in the page', async () => {
    const b = await page.evaluate(() => window.verity.backends());
    expect(b).toEqual({ gemm: 'wasm-simd', keccak: 'wasm' });
  });

  it.each(MODEL_NAMES)('%s: 24 random inputs, page roots == Node roots', async (name: ModelName) => {
    const q = quantized(name);
    const p = prepareModel(q);
    const rows = randomRows(name, ROWS, 0x7e5 + MODEL_NAMES.indexOf(name));
    const node = rows.map((r) => {
      const trace = runModel(p, [quantizeInput(q, r)]);
      return { traceRoot: traceRootHex(trace), output: Array.from(trace[q.outputs[0]].data) };
    });
    const inPage = await page.evaluate(([url, rs]) => window.verity.run(url, rs), [`models/${name}.vqm`, rows] as const);
    expect(inPage.modelRoot).toBe(modelRootHex(q));
    expect(inPage.results.map((r) => r.traceRoot)).toEqual(node.map((r) => r.traceRoot));
    expect(inPage.results.map((r) => r.output)).toEqual(node.map((r) => r.output));
    expect(new Set(node.map((r) => r.traceRoot)).size).toBe(ROWS); // the inputs really differ
    console.log(`[test/web] ${name}: ${ROWS}/${ROWS} trace roots equal (model root ${inPage.modelRoot.slice(0, 18)}…)`);
  });

  it('checks a claimed trace root: match, wrong root, wrong model root', async () => {
    const q = quantized('digits-convnet');
    const input = modelData('digits-convnet').x[7];
    const traceRoot = traceRootHex(runModel(prepareModel(q), [quantizeInput(q, input)]));
    const modelRoot = modelRootHex(q);
    const model = 'models/digits-convnet.vqm';
    const flipped = traceRoot.slice(0, -1) + (traceRoot.endsWith('0') ? '1' : '0');
    const [ok, bad, otherModel, garbage] = await page.evaluate(
      (claims) => Promise.all(claims.map((c) => window.verity.check(c))),
      [
        { model, modelRoot, input, traceRoot },
        { model, modelRoot, input, traceRoot: flipped },
        { model, modelRoot: modelRootHex(quantized('wine-mlp')), input, traceRoot },
        { model, input, traceRoot: 'not a root' },
      ],
    );
    expect(ok).toMatchObject({ match: true, modelRootMatch: true, computed: traceRoot });
    expect(bad).toMatchObject({ match: false, modelRootMatch: true, computed: traceRoot });
    expect(otherModel).toMatchObject({ match: false, modelRootMatch: false });
    expect(garbage).toMatchObject({ match: false, modelRootMatch: null });
  });

  it('the page UI: a claim from the query string, a run, a model from a file; screenshot', async () => {
    const q = quantized('wine-mlp');
    const input = modelData('wine-mlp').x[5];
    const traceRoot = traceRootHex(runModel(prepareModel(q), [quantizeInput(q, input)]));
    server!.put('/claims/wine.json', JSON.stringify({ model: 'models/wine-mlp.vqm', modelRoot: modelRootHex(q), input, traceRoot }));

    await page.goto(`${server!.url}index.html?claim=claims/wine.json`, { timeout: 30_000 });
    await page.evaluate(() => window.verity.ready);
    await expect.poll(() => page.getAttribute('#verdict', 'class')).toBe('match');
    expect(await page.textContent('#model-info')).toContain(modelRootHex(q));

    // A mismatching claim typed by hand.
    await page.fill('#claim-root', '0x' + 'ab'.repeat(32));
    await page.click('#check');
    expect(await page.getAttribute('#verdict', 'class')).toBe('mismatch');

    // A model from the file picker, then a run.
    const digits = quantized('digits-convnet');
    await page.setInputFiles('#model-file', { name: 'digits.vqm', mimeType: 'application/octet-stream', buffer: Buffer.from(encodeModel(digits)) });
    await expect.poll(() => page.textContent('#model-info')).toContain(modelRootHex(digits));
    const row = modelData('digits-convnet').x[3];
    await page.fill('#input', JSON.stringify(row));
    await page.click('#run');
    const expected = traceRootHex(runModel(prepareModel(digits), [quantizeInput(digits, row)]));
    expect(await page.textContent('#output')).toContain(expected);

    // The screenshot: the wine claim, verified.
    await page.goto(`${server!.url}index.html?claim=claims/wine.json`, { timeout: 30_000 });
    await page.evaluate(() => window.verity.ready);
    await expect.poll(() => page.getAttribute('#verdict', 'class')).toBe('match');
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
