/**
 * A browser tab checks committed results of the network by reading the chain through the local node: an in-process
 * network on anvil (an honest worker, a dishonest worker that corrupts every answer, a verifier, a requester whose
 * API serves /app, /tasks/:id/claim and /models/:root on 127.0.0.1), bounded waits until each worker has committed
 * a task, then in Chromium the page at the node's /app re-executes both tasks: the honest worker's → "match" with
 * the trace root a Node re-run computes, the dishonest worker's → "mismatch" (this tab computes the Node root, not
 * the committed one).
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH). Outside CI a missing browser skips with a
 * printed reason; in CI it fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelRootHex } from '../../src/commit/index.js';
import { decodeModel } from '../../src/engine/format.js';
import { buildWeb } from '../../scripts/build-web.js';
import { buildApi } from '../../src/node/api.js';
import { taskClaimSchema, type TaskClaimView } from '../../src/views/claim.js';
import { LocalEngineProvider, tensorFromJson } from '../../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import type { Requester } from '../../src/node/roles/requester.js';
import type { TaskRow } from '../../src/node/store.js';
import { quantizeInput } from '../../src/onnx/import.js';
import type {} from '../../src/web/app.js'; // window.verity's type
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from '../node/helpers.js';
import { browserSkipReason, launchChromium, type Chromium } from './chromium.js';

const skip = browserSkipReason();
if (skip) console.log(`[test/web/claims] skipped: ${skip}`);

describe.skipIf(skip !== null)('a tab checks committed results through the local node', () => {
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
  let requester: VerityNode;
  let modelRoot: `0x${string}` = '0x';
  let submitted = 0;
  const q = quantized('wine-mlp');
  const rows = modelData('wine-mlp').x;
  const HONEST = keyOf(1).address.toLowerCase();
  const LIAR = keyOf(2).address.toLowerCase();

  async function node(role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number } = {}): Promise<VerityNode> {
    const dir = mkdtempSync(join(tmpdir(), `verity-claims-${role}-`));
    dirs.push(dir);
    const n = await createNode({ role, rpcUrl: net!.anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net!.addresses, qmodels: [q], pollMs: 200, logger: pino({ level: process.env.NODE_TEST_LOG ?? 'silent' }), ...extra });
    nodes.push(n);
    return n;
  }

  function submit(): void {
    const row = rows[submitted++ % rows.length]!;
    (requester.role as Requester).submit({ modelId: net!.modelIds.get('wine-mlp')!, modelRoot, inputs: [quantizeInput(q, row)], fee: 5n * E18, ttl: 300 });
    requester.poke();
  }

  /** A task the requester saw committed by `worker` (its ResultCommitted event). */
  function committedBy(worker: string): TaskRow | undefined {
    return requester.ctx.store.listTasks(100).find((t) => t.worker?.toLowerCase() === worker && t.outputHash && t.chainTaskId);
  }

  /** The output digest Node computes for the claim's inputs (an honest engine): what the committed one must be. */
  function nodeRoot(claim: TaskClaimView): string {
    return new LocalEngineProvider([q]).run(modelRoot, claim.input.tensors.map(tensorFromJson)).outputHash.toLowerCase();
  }

  async function claimOf(id: string): Promise<TaskClaimView> {
    const r = await fetch(`${base}/tasks/${id}/claim`);
    expect(r.status).toBe(200);
    return taskClaimSchema.parse(await r.json());
  }

  /** Opens the node's /app on `task` (via the query string) and returns the verdict the page shows. */
  async function pageVerdict(query: string): Promise<{ verdict: string | undefined; claimed: string | undefined; computed: string | undefined; text: string }> {
    await page.goto(`${base}/app?${query}`, { timeout: 30_000 });
    await page.evaluate(() => window.verity.ready);
    await page.waitForSelector('#task-verdict[data-verdict]', { timeout: 30_000 });
    return page.$eval('#task-verdict', (v) => ({ verdict: (v as HTMLElement).dataset.verdict, claimed: (v as HTMLElement).dataset.claimed, computed: (v as HTMLElement).dataset.computed, text: v.textContent ?? '' }));
  }

  beforeAll(async () => {
    net = await testNet([q]);
    modelRoot = new LocalEngineProvider([q]).modelRoots()[0]!.toLowerCase() as `0x${string}`;
    honest = await node('worker', 1);
    liar = await node('worker', 2, { dishonest: 1 });
    const verifier = await node('verifier', 3);
    requester = await node('requester', 4);
    // The liar first (alone), so it claims the first task; the honest worker joins once it has committed.
    await Promise.all([liar.start(), verifier.start(), requester.start()]);
    // The node serves the prebuilt page (it never bundles at run time): build it from this tree first.
    const webRoot = mkdtempSync(join(tmpdir(), 'verity-claims-web-'));
    dirs.push(webRoot);
    await buildWeb({ outdir: webRoot, models: false });
    api = await buildApi(requester, { webRoot });
    base = await api.listen({ host: '127.0.0.1', port: 0 });
    expect(new URL(base).hostname).toBe('127.0.0.1');
    submit();

    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
  }, 180_000);

  afterAll(async () => {
    await chromium?.close();
    await api?.close();
    for (const n of nodes) await n.stop().catch(() => undefined);
    await net?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('serves the model bytes, the claim routes and the page (zod-valid, in the OpenAPI document, readable errors)', async () => {
    const vqm = await fetch(`${base}/models/${modelRoot}`);
    expect(vqm.status).toBe(200);
    expect(vqm.headers.get('content-type')).toMatch(/application\/octet-stream/);
    expect(modelRootHex(decodeModel(new Uint8Array(await vqm.arrayBuffer())))).toBe(modelRoot);
    expect((await fetch(`${base}/models/0x1234`)).status).toBe(400);
    const unknown = await fetch(`${base}/models/0x${'ab'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'UnknownModel' });
    const noTask = await fetch(`${base}/tasks/999999/claim`);
    expect(noTask.status).toBe(404);
    expect(await noTask.json()).toMatchObject({ error: 'UnknownTask', message: expect.stringMatching(/999999/) });
    expect((await fetch(`${base}/tasks/${encodeURIComponent('x y')}/claim`)).status).toBe(400);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tasks/{id}/claim', '/models/{root}', '/app', '/tasks/{id}']));
    const html = await fetch(`${base}/app`);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const text = await html.text();
    expect(text).toContain('<base href="/app/">');
    expect(text).not.toMatch(/https?:\/\//);
    expect((await fetch(`${base}/app/app.js`)).headers.get('content-type')).toMatch(/javascript/);
  });

  it('checks the honest worker’s committed task → match, and the dishonest worker’s → mismatch', async () => {
    // Bounded: the liar commits the first task; then the honest worker joins and tasks are posted (at most 10, one
    // every 3 s) until it has won one.
    const lie = await until(() => committedBy(LIAR), 90_000, 250);
    await honest.start();
    let last = Date.now();
    submit();
    const good = await until(() => {
      const t = committedBy(HONEST);
      if (!t && submitted < 10 && Date.now() - last > 3_000) {
        submit();
        last = Date.now();
      }
      return t;
    }, 120_000, 250);

    // What the chain holds, as the node serves it; Node re-runs the same inputs honestly.
    const goodClaim = await claimOf(good.chainTaskId!);
    const lieClaim = await claimOf(lie.chainTaskId!);
    for (const c of [goodClaim, lieClaim]) {
      expect(c.model).toMatchObject({ root: modelRoot, name: 'wine-mlp', available: true, url: `/models/${modelRoot}` });
      expect(c.input.tensors).toHaveLength(1);
      expect(c.commit?.outputs).toHaveLength(1);
      expect(c.commit?.tx).toMatch(/^0x[0-9a-f]{64}$/);
    }
    expect(goodClaim.commit!.worker).toBe(HONEST);
    expect(lieClaim.commit!.worker).toBe(LIAR);
    const goodRoot = nodeRoot(goodClaim);
    const lieRoot = nodeRoot(lieClaim);
    expect(goodClaim.commit!.outputHash).toBe(goodRoot);
    expect(lieClaim.commit!.outputHash).not.toBe(lieRoot);
    // The requester's own id (q-N) names the same task.
    expect((await claimOf(good.taskId)).taskId).toBe(goodClaim.taskId);

    // In the tab: ?node=&task= for the honest task.
    const g = await pageVerdict(`node=${encodeURIComponent(base)}&task=${goodClaim.taskId}`);
    expect(g.verdict).toBe('match');
    expect(g.claimed).toBe(goodRoot);
    expect(g.computed).toBe(goodRoot);
    expect(g.text).toMatch(/✓ match/);
    console.log(`[test/web/claims] task ${goodClaim.taskId} (honest ${HONEST.slice(0, 10)}…): match, output digest ${goodRoot}`);

    // The form, for the liar's task (node defaults to the page's origin).
    await page.goto(`${base}/app`, { timeout: 30_000 });
    await page.evaluate(() => window.verity.ready);
    await page.fill('#task-id', lieClaim.taskId);
    await page.click('#check-task');
    await page.waitForSelector('#task-verdict[data-verdict]', { timeout: 30_000 });
    const l = await page.$eval('#task-verdict', (v) => ({ verdict: (v as HTMLElement).dataset.verdict, claimed: (v as HTMLElement).dataset.claimed, computed: (v as HTMLElement).dataset.computed, text: v.textContent ?? '' }));
    expect(l.verdict).toBe('mismatch');
    expect(l.claimed).toBe(lieClaim.commit!.outputHash);
    expect(l.computed).toBe(lieRoot);
    expect(l.text).toMatch(/✗ mismatch/);
    // The model bytes and inputs check out; only the committed result is wrong.
    expect(l.text).toMatch(/the model bytes hash to it/);
    expect(l.text).toMatch(/hash to the posted input digest/);
    console.log(`[test/web/claims] task ${lieClaim.taskId} (dishonest ${LIAR.slice(0, 10)}…): mismatch, committed ${lieClaim.commit!.outputHash} ≠ re-executed ${lieRoot}`);

    // The window.verity API agrees with the page.
    const api2 = await page.evaluate(async (id) => {
      const r = await window.verity.checkTask(id);
      return { match: r.check.match, computed: r.check.computed, model: r.check.modelRoot.match, input: r.check.inputHash.match };
    }, goodClaim.taskId);
    expect(api2).toEqual({ match: true, computed: goodRoot, model: true, input: true });
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
