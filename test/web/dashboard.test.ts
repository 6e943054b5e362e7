/**
 * The network dashboard in Chromium during a short run on anvil: an honest worker, a dishonest worker (corrupts
 * every answer), a verifier checking everything and a requester whose API serves /dashboard. The page lists the
 * agents with their stake, shows the dispute once the liar is caught (every move with its tx and gas), draws the
 * charts, and a screenshot is written to bench/results/dashboard.png. /network answers match its zod schema and are
 * in the OpenAPI document.
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH). Outside CI a missing browser skips with a
 * printed reason; in CI it fails.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../scripts/build-web.js';
import { buildApi } from '../../src/node/api.js';
import { networkViewSchema, type NetworkView } from '../../src/views/network.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import type { Requester } from '../../src/node/roles/requester.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { quantizeInput } from '../../src/onnx/import.js';
import type {} from '../../src/web/dashboard.js'; // window.verityDashboard's type
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from '../node/helpers.js';
import { browserSkipReason, launchChromium, type Chromium } from './chromium.js';

const SCREENSHOT = join(import.meta.dirname, '..', '..', 'bench', 'results', 'dashboard.png');

const skip = browserSkipReason();
if (skip) console.log(`[test/web/dashboard] skipped: ${skip}`);

describe.skipIf(skip !== null)('the network dashboard in Chromium', () => {
  let net: TestNet | undefined;
  const nodes: VerityNode[] = [];
  const dirs: string[] = [];
  let api: FastifyInstance | undefined;
  let base = '';
  let chromium: Chromium | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  let honest: VerityNode;
  let liar: VerityNode;

  async function node(role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number } = {}): Promise<VerityNode> {
    const dir = mkdtempSync(join(tmpdir(), `verity-dash-${role}-`));
    dirs.push(dir);
    const n = await createNode({ role, rpcUrl: net!.anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net!.addresses, qmodels: [quantized('wine-mlp')], pollMs: 200, logger: pino({ level: process.env.NODE_TEST_LOG ?? 'silent' }), ...extra });
    nodes.push(n);
    return n;
  }

  beforeAll(async () => {
    net = await testNet([quantized('wine-mlp')]);
    honest = await node('worker', 1);
    liar = await node('worker', 2, { dishonest: 1 });
    const verifier = await node('verifier', 3);
    const requester = await node('requester', 4);
    // The liar and the verifier first, so the liar claims the first task; the honest worker joins once it has.
    await Promise.all([liar.start(), verifier.start(), requester.start()]);
    // The node serves the prebuilt page (it never bundles at run time): build it from this tree first.
    const webRoot = mkdtempSync(join(tmpdir(), 'verity-dash-web-'));
    dirs.push(webRoot);
    await buildWeb({ outdir: webRoot, models: false });
    api = await buildApi(requester, { webRoot });
    base = await api.listen({ host: '127.0.0.1', port: 0 });

    const q = quantized('wine-mlp');
    const root = new LocalEngineProvider([q]).modelRoots()[0]!;
    const req = requester.role as Requester;
    for (const row of modelData('wine-mlp').x.slice(0, 3)) req.submit({ modelId: net.modelIds.get('wine-mlp')!, modelRoot: root, inputs: [quantizeInput(q, row)], fee: 5n * E18, ttl: 300 });
    requester.poke();

    chromium = await launchChromium();
    page = await chromium.context.newPage();
    await page.setViewportSize({ width: 1360, height: 900 });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${base}/dashboard`, { timeout: 30_000 });
  });

  afterAll(async () => {
    await chromium?.close();
    await api?.close();
    for (const n of nodes) await n.stop().catch(() => undefined);
    await net?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('serves /network (zod-valid, in the OpenAPI document) and rejects a bad query', async () => {
    const r = await fetch(`${base}/network?bucket=2`);
    expect(r.status).toBe(200);
    const v = networkViewSchema.parse(await r.json());
    expect(v.node.role).toBe('requester');
    expect(v.series.bucketSeconds).toBe(2);
    const bad = await fetch(`${base}/network?bucket=0`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'InvalidQuery', message: expect.stringMatching(/"bucket"/) });
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/network', '/dashboard']));
    const html = await fetch(`${base}/dashboard`);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const js = await (await fetch(`${base}/dashboard/app.js`)).text();
    expect(js.length).toBeGreaterThan(50_000); // chart.js is bundled, not fetched from a CDN
    expect(await html.text()).not.toMatch(/https?:\/\//);
  });

  it('lists the agents with their stake', async () => {
    await until(() => liar.ctx.store.listTasks(10).some((t) => t.status !== 'open' && t.status !== 'lost' && t.status !== 'skipped'), 90_000, 250);
    await honest.start();
    // The two workers (registered, staked) and the requester (it has posted) appear as soon as the page polls.
    const want = [1, 2, 4].map((i) => keyOf(i).address.toLowerCase());
    await page.waitForFunction((as) => as.every((a) => document.querySelector(`#agents tr[data-address="${a}"]`) !== null), want, { timeout: 60_000, polling: 500 });
    const rows = await page.$$eval('#agents tbody tr', (trs) => trs.map((tr) => ({ address: tr.getAttribute('data-address'), text: tr.textContent ?? '', cells: [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '') })));
    const addresses = rows.map((r) => r.address);
    for (const a of want) expect(addresses).toContain(a);
    const liarRow = rows.find((r) => r.address === keyOf(2).address.toLowerCase())!;
    expect(liarRow.text).toMatch(/worker #\d/);
    // Staked and slashed VRT come from one view: whatever the liar has lost by the time the page polls (one dispute on a
    // fast machine, several on a slow one), the two add up to the 1,000 it staked.
    const vrtOf = (cell: string) => (cell.trim() === '—' ? 0 : Number(cell.replace(/[^0-9.]/g, '')));
    expect(liarRow.cells[2]).toMatch(/^\d[\d,]*(\.\d+)?$/);
    expect(vrtOf(liarRow.cells[2]!) + vrtOf(liarRow.cells[10]!)).toBe(1_000);
    expect(await page.locator('#live').getAttribute('data-state')).toBe('live');
  }, 150_000);

  it('shows the dispute after the dishonest worker is caught, with its moves, txs and gas', async () => {
    // Bounded: the verifier challenges the liar's commit, the bisection runs to the one-step check, the market settles.
    await page.waitForSelector('details.dispute[data-state="settled"][data-outcome="challenger won"]', { timeout: 240_000 });
    const view = (await page.evaluate(() => window.verityDashboard.view)) as NetworkView;
    const d = view.disputes.find((x) => x.state === 'settled' && x.outcome === 'challenger won')!;
    expect(d.claimant).toBe(keyOf(2).address.toLowerCase());
    expect(d.challenger).toBe(keyOf(3).address.toLowerCase());
    const moves = d.moves.map((m) => m.move);
    expect(moves[0]).toBe('challenge');
    expect(moves).toEqual(expect.arrayContaining(['reveal roots', 'pick tensor', 'resolved', 'settle', 'slash']));
    expect(d.moves.every((m) => /^0x[0-9a-f]{64}$/.test(m.tx))).toBe(true);
    expect(d.moves.filter((m) => m.gas !== null).every((m) => Number(m.gas) > 21_000)).toBe(true);
    // In the page: one row per move with its tx; the verifier now appears among the agents; the liar is flagged.
    const card = page.locator(`details.dispute[data-dispute="${d.disputeId}"]`);
    expect(await card.locator('tbody tr').count()).toBe(d.moves.length);
    expect(await card.locator(`code[title="${d.moves[0]!.tx}"]`).count()).toBeGreaterThan(0);
    await page.waitForFunction((a) => document.querySelector(`#agents tr[data-address="${a}"]`) !== null, keyOf(3).address.toLowerCase(), { timeout: 10_000 });
    expect(await page.locator(`#agents tr.flagged[data-address="${keyOf(2).address.toLowerCase()}"]`).count()).toBe(1);
    expect(await page.locator('#task-states .chip.invalidated').count()).toBe(1);
    console.log(`[test/web/dashboard] dispute #${d.disputeId}: ${d.moves.length} moves (${moves.join(' → ')}), ${d.gas} gas`);
  }, 300_000);

  it('draws gas and throughput charts and writes a screenshot', async () => {
    // Let a task finalize so the throughput chart has something on it (bounded), then take the picture.
    await page.waitForFunction(() => (window.verityDashboard.view?.totals.finalized ?? 0) >= 1, undefined, { timeout: 120_000, polling: 500 });
    await page.waitForTimeout(2_000); // one more poll, so the charts show the finalization
    const charts = await page.evaluate(() => [...document.querySelectorAll('canvas')].map((c) => ({ w: c.width, h: c.height })));
    expect(charts).toHaveLength(2);
    for (const c of charts) expect(c.w * c.h).toBeGreaterThan(10_000);
    const gas = await page.evaluate(() => window.verityDashboard.view!.series.points.reduce((s, p) => s + p.gas, 0));
    expect(gas).toBeGreaterThan(0);
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`[test/web/dashboard] screenshot: ${SCREENSHOT}`);
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
