/**
 * npm run bench:network — the nodes end to end on the local chain (anvil, 127.0.0.1, 0.25 s blocks, 6 s challenge
 * window): two honest workers, one verifier checking everything and a requester, in-process, each serving its HTTP
 * API (batch data travels over it). Scenarios, one after another on the same network:
 *   single   — 24 single-element tasks (postTask / commit)
 *   batch-16 — 4 batch labeling jobs of 16 elements (postBatchTask / commitBatch, inputs and results over HTTP)
 *   batch-64 — 2 batch labeling jobs of 64 elements
 * Measured per scenario (wall clock, polled every 100 ms): tasks and elements finalized per second end to end (first
 * submission → last finalized, every batch element checked against its root by the requester), and latency from post
 * (the post transaction confirmed) to committed result, p50 / p95. Prints a table, writes bench/results/network.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, type Hex } from 'viem';
import { pino } from 'pino';
import { anvilKey, startAnvil } from '../src/chain/anvil.js';
import { servePeers } from '../src/cli/demo-batches.js';
import { printTable } from '../src/cli/progress.js';
import { deploy } from '../src/cli/node.js';
import { LocalEngineProvider, loadShippedModel } from '../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../src/node/node.js';
import type { Requester } from '../src/node/roles/requester.js';
import { shippedData } from '../src/onnx/shipped.js';

const E18 = 10n ** 18n;
const SCENARIOS = [
  { name: 'single', tasks: 24, items: 1 },
  { name: 'batch-16', tasks: 4, items: 16 },
  { name: 'batch-64', tasks: 2, items: 64 },
] as const;
const LIMIT_MS = 180_000; // per scenario

const keyOf = anvilKey;

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

let aborted = false; // Ctrl-C: stop measuring, then stop everything started
process.once('SIGINT', () => (aborted = true));
process.once('SIGTERM', () => (aborted = true));

async function main(): Promise<void> {
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const work = mkdtempSync(join(tmpdir(), 'verity-bench-network-'));
  const anvil = await startAnvil({ args: ['--block-time', '0.25'] });
  const nodes: VerityNode[] = [];
  let stopPeers: (() => Promise<void>) | undefined;
  const results: Record<string, unknown>[] = [];
  try {
    const model = loadShippedModel('wine-mlp');
    const dep = await deploy(anvil.rpcUrl, anvil.accounts[0]!.privateKey, { models: ['wine-mlp'], fund: [1, 2, 3, 4].map((i) => keyOf(i).address), challengeWindow: 6n, clock: 60n });
    const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2));
    const mk = async (role: 'worker' | 'verifier' | 'requester', i: number) => {
      const n = await createNode({ role, rpcUrl: anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: join(work, `${role}-${i}`), addresses: dep.addresses, qmodels: [model], pollMs: 200, logger });
      nodes.push(n);
      return n;
    };
    await mk('worker', 1);
    await mk('worker', 2);
    await mk('verifier', 3);
    const requester = await mk('requester', 4);
    await Promise.all(nodes.map((n) => n.start()));
    stopPeers = (await servePeers(nodes)).stop;
    say(`network: anvil ${anvil.rpcUrl}, 2 workers, 1 verifier (all), 1 requester; challenge window 6 s`);

    const req = requester.role as Requester;
    const ref = new LocalEngineProvider([model]);
    const root = ref.modelRoots()[0]!;
    const modelId = BigInt(dep.models['wine-mlp']!.id);
    const rows = shippedData('wine-mlp').x;
    let k = 0;
    const nextRow = () => rows[k++ % rows.length]!;

    for (const sc of SCENARIOS) {
      const t0 = performance.now();
      const ids: string[] = [];
      for (let j = 0; j < sc.tasks; j++) {
        const fee = BigInt(sc.items) * E18;
        if (sc.items === 1) ids.push(req.submit({ modelId, modelRoot: root, inputs: [ref.quantize(root, nextRow())], fee, ttl: 300 }));
        else ids.push(req.submitBatch({ modelId, modelRoot: root, items: Array.from({ length: sc.items }, () => [ref.quantize(root, nextRow())]), fee, ttl: 300 }));
      }
      requester.poke();
      const posted = new Map<string, number>();
      const committed = new Map<string, number>();
      const finalized = new Map<string, number>();
      let lastLine = '';
      while (!aborted && finalized.size < ids.length && performance.now() - t0 < LIMIT_MS) {
        const now = performance.now();
        for (const id of ids) {
          const v = req.view(id)!;
          if (v.status !== 'posting' && !posted.has(id)) posted.set(id, now);
          if ((v.status === 'committed' || v.status === 'finalized') && !committed.has(id)) committed.set(id, now);
          const done = v.status === 'finalized' && (sc.items === 1 ? !!v.result : !!v.batch?.items);
          if (done && !finalized.has(id)) finalized.set(id, now);
        }
        const line = `[${sc.name}] ${((now - t0) / 1000).toFixed(0).padStart(3)}s  posted ${posted.size}/${ids.length}  committed ${committed.size}/${ids.length}  finalized ${finalized.size}/${ids.length}`;
        if (line !== lastLine) say(line);
        lastLine = line;
        await new Promise((r) => setTimeout(r, 100));
      }
      const wall = (Math.max(...finalized.values(), performance.now()) - t0) / 1000;
      const end = finalized.size === ids.length ? (Math.max(...finalized.values()) - t0) / 1000 : wall;
      const lat = ids.filter((id) => posted.has(id) && committed.has(id)).map((id) => (committed.get(id)! - posted.get(id)!) / 1000);
      const e2e = ids.filter((id) => finalized.has(id)).map((id) => (finalized.get(id)! - t0) / 1000);
      results.push({
        scenario: sc.name,
        tasks: ids.length,
        itemsPerTask: sc.items,
        finalized: finalized.size,
        seconds: end,
        tasksPerSecond: finalized.size / end,
        itemsPerSecond: (finalized.size * sc.items) / end,
        postToCommitP50: pct(lat, 50),
        postToCommitP95: pct(lat, 95),
        submitToFinalizedP50: pct(e2e, 50),
        submitToFinalizedP95: pct(e2e, 95),
      });
    }
  } finally {
    await stopPeers?.();
    for (const n of nodes) await n.stop().catch(() => undefined);
    await anvil.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const f = (x: unknown, d = 2) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
  console.log('');
  printTable([
    ['scenario', 'tasks', 'items/task', 'finalized', 'tasks/s', 'items/s', 'post→commit p50 s', 'p95 s', 'submit→final p50 s', 'p95 s'],
    ...results.map((r) => [String(r.scenario), String(r.tasks), String(r.itemsPerTask), String(r.finalized), f(r.tasksPerSecond), f(r.itemsPerSecond), f(r.postToCommitP50), f(r.postToCommitP95), f(r.submitToFinalizedP50), f(r.submitToFinalizedP95)]),
  ]);
  const out = join(import.meta.dirname, 'results', 'network.json');
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ bench: 'network', date: new Date().toISOString(), node: process.version, chain: 'anvil, 0.25 s blocks, challenge window 6 s', nodes: '2 workers, 1 verifier (sample 1), 1 requester, in-process, APIs on 127.0.0.1', results }, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
