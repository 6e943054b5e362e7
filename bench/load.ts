/**
 * npm run bench:load [-- --duration 120 --models wine-mlp,digits-convnet,tiny-gpt,gpt-mid --items N --inflight K]
 * Sustained load on the whole network, one scenario per model on a fresh anvil (0.25 s blocks, 4 s challenge
 * window, AuditBook at the deployment default rate 10%): a worker, an auditing verifier (sample 0: it checks exactly
 * what the audit rule requires — every audited task, in full) and a requester, each in its own process
 * (bench/load-node.ts). The requester keeps `inflight` batch tasks of `items` elements open (pipelined) for
 * `duration` seconds, then drains. Reported per scenario: verified inferences/s at steady state (elements of tasks
 * finalized with every result checked against the committed root, over the last 70% of the run), p50/p95 post→
 * committed and post→verified, CPU (% of one core) and peak RSS per node from process.cpuUsage / RSS samples, gas per
 * verified inference (every receipt of the scenario's blocks), the share the verifier checked, and the worker's
 * disk use over time (trace directory and database). Prints a table, writes bench/results/load.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, http, toHex, type Hex } from 'viem';
import { anvilKey, startAnvil } from '../src/chain/anvil.js';
import { printTable } from '../src/cli/progress.js';
import { deploy } from '../src/cli/node.js';
import { encodeModel } from '../src/engine/format.js';
import type { QModel } from '../src/engine/ir.js';
import { loadShippedModel, REPO_ROOT, SHIPPED_MODELS } from '../src/node/engine-provider.js';
import { importOnnx } from '../src/onnx/import.js';
import { shippedData } from '../src/onnx/shipped.js';
import type { LoadJob, LoadNodeConfig, TaskTimes } from './load-node.js';

const E18 = 10n ** 18n;
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const DURATION_S = Number(arg('duration', '120'));
const SHARED = join(REPO_ROOT, '..', 'shared', 'models');
const MODELS = arg('models', 'wine-mlp,digits-convnet,tiny-gpt,gpt-mid').split(',').filter((m) => (SHIPPED_MODELS as readonly string[]).includes(m) || existsSync(join(SHARED, `${m}.onnx`)));
const SHAPES: Record<string, { items: number; inflight: number }> = { 'wine-mlp': { items: 1024, inflight: 16 }, 'digits-convnet': { items: 512, inflight: 12 }, 'tiny-gpt': { items: 32, inflight: 8 }, 'gpt-mid': { items: 16, inflight: 6 } };
/** Per model: elements per task and tasks in flight (--items / --inflight override every model's). */
const SHAPE: Record<string, { items: number; inflight: number }> = Object.fromEntries(
  Object.entries(SHAPES).map(([m, s]) => [m, { items: Number(arg('items', String(s.items))), inflight: Number(arg('inflight', String(s.inflight))) }]),
);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function loadModel(name: string): { model: QModel; rows: number[][] } {
  if ((SHIPPED_MODELS as readonly string[]).includes(name)) {
    return { model: loadShippedModel(name), rows: shippedData(name).x };
  }
  const d = JSON.parse(readFileSync(join(SHARED, `${name}.data.json`), 'utf8')) as { x: number[][]; shape: number[]; calibration?: number[][] };
  return { model: importOnnx(readFileSync(join(SHARED, `${name}.onnx`)), { name, inputShape: d.shape, calibration: d.calibration ?? d.x }), rows: d.x };
}

function dirBytes(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  if (!existsSync(dir)) return { files, bytes };
  for (const f of readdirSync(dir)) {
    files++;
    bytes += statSync(join(dir, f)).size;
  }
  return { files, bytes };
}

interface Sample { t: number; cpu: { user: number; system: number }; rss: number }

async function scenario(name: string, work: string): Promise<Record<string, unknown>> {
  const say = (s: string) => process.stderr.write(`[${name}] ${s}\n`);
  const { model, rows } = loadModel(name);
  const vqm = join(work, `${name}.vqm`);
  writeFileSync(vqm, encodeModel(model));
  const anvil = await startAnvil({ args: ['--block-time', '0.25'] });
  const children: ChildProcess[] = [];
  try {
    const dep = await deploy(anvil.rpcUrl, anvil.accounts[0]!.privateKey, {
      models: [vqm],
      fund: [1, 2, 3].map((i) => anvilKey(i).address),
      challengeWindow: 4n,
      clock: 60n,
      audits: { rateBps: 1_000, commitWindow: 4n, answerWindow: 4n, revealWindow: 4n, deposit: 5n * E18, reward: 1n * E18, minAuditorStake: 100n * E18, poolSeed: 1_000n * E18 },
    });
    const m = Object.values(dep.models)[0]!;
    const pc = createPublicClient({ transport: http(anvil.rpcUrl) });
    const samples: Record<string, Sample[]> = { worker: [], verifier: [], requester: [] };
    const tasks: TaskTimes[] = [];
    const urls: string[] = [];
    let loadDone!: () => void;
    const finished = new Promise<void>((r) => (loadDone = r));
    const roles = ['worker', 'verifier', 'requester'] as const;
    const dirs = Object.fromEntries(roles.map((r) => [r, join(work, `${name}-${r}`)])) as Record<(typeof roles)[number], string>;
    await Promise.all(
      roles.map(
        (role, i) =>
          new Promise<void>((resolve, reject) => {
            const cfg: LoadNodeConfig = { role, rpcUrl: anvil.rpcUrl, privateKey: anvilKey(i + 1).privateKey, dataDir: dirs[role], addresses: dep.addresses, model: vqm, pollMs: 100, maxItems: 4096, stake: String(5_000n * E18) };
            const c = fork(join(import.meta.dirname, 'load-node.ts'), [], { env: { ...process.env, LOAD_NODE: JSON.stringify(cfg) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
            children.push(c);
            c.on('message', (msg: { type: string; url?: string; tasks?: TaskTimes[]; message?: string } & Sample) => {
              if (msg.type === 'ready') {
                urls.push(msg.url!);
                resolve();
              } else if (msg.type === 'sample') samples[role]!.push({ t: msg.t, cpu: msg.cpu, rss: msg.rss });
              else if (msg.type === 'tasks') tasks.push(...msg.tasks!);
              else if (msg.type === 'load-done') loadDone();
              else if (msg.type === 'error') reject(new Error(`${role}: ${msg.message}`));
            });
            c.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
          }),
      ),
    );
    for (const c of children) c.send({ type: 'peers', urls });
    say(`network up: worker, verifier (audits, rate 10%), requester; ${SHAPE[name]!.inflight} batches of ${SHAPE[name]!.items} in flight; ${DURATION_S} s`);
    const b0 = await pc.getBlockNumber();
    const t0 = Date.now();
    const disk: { t: number; traceFiles: number; traceBytes: number; dbBytes: number }[] = [];
    const diskTimer = setInterval(() => {
      const tr = dirBytes(join(dirs.worker, 'traces'));
      const db = readdirSync(dirs.worker).filter((f) => f.startsWith('node.db')).reduce((a, f) => a + statSync(join(dirs.worker, f)).size, 0);
      disk.push({ t: (Date.now() - t0) / 1000, traceFiles: tr.files, traceBytes: tr.bytes, dbBytes: db });
    }, 5_000);
    const job: LoadJob = { type: 'load', modelId: m.id, modelRoot: m.root as Hex, rows, items: SHAPE[name]!.items, inflight: SHAPE[name]!.inflight, durationMs: DURATION_S * 1000, drainMs: 60_000, fee: String(1n * E18) };
    children[2]!.send(job);
    const progress = setInterval(() => say(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${tasks.filter((t) => t.verified).reduce((a, t) => a + t.items, 0)} inferences verified`), 10_000);
    await finished;
    clearInterval(progress);
    clearInterval(diskTimer);
    const b1 = await pc.getBlockNumber();
    // gas: every receipt of the scenario's blocks (all parties' transactions)
    let gas = 0n;
    let txs = 0;
    for (let b = b0 + 1n; b <= b1; b++) {
      const rs = (await pc.request({ method: 'eth_getBlockReceipts' as never, params: [toHex(b)] as never })) as { gasUsed: Hex }[] | null;
      for (const r of rs ?? []) {
        gas += BigInt(r.gasUsed);
        txs++;
      }
    }
    const tEnd = t0 + DURATION_S * 1000;
    const warm = t0 + 0.3 * DURATION_S * 1000;
    const verified = tasks.filter((t) => t.verified !== undefined);
    const inWindow = verified.filter((t) => t.verified! >= warm && t.verified! <= tEnd).reduce((a, t) => a + t.items, 0);
    const allVerified = verified.reduce((a, t) => a + t.items, 0);
    const perNode = Object.fromEntries(
      roles.map((r) => {
        const s = samples[r]!.filter((x) => x.t >= warm && x.t <= tEnd);
        const cpu = s.length >= 2 ? (s[s.length - 1]!.cpu.user + s[s.length - 1]!.cpu.system - s[0]!.cpu.user - s[0]!.cpu.system) / 1000 / (s[s.length - 1]!.t - s[0]!.t) : NaN;
        return [r, { cpuPercentOfCore: 100 * cpu, rssPeakMiB: Math.max(...samples[r]!.map((x) => x.rss)) / 2 ** 20, rssMeanMiB: s.reduce((a, x) => a + x.rss, 0) / Math.max(1, s.length) / 2 ** 20 }];
      }),
    );
    const lat = (a: 'committed' | 'verified') => verified.filter((t) => t.posted !== undefined && t[a] !== undefined).map((t) => (t[a]! - t.posted!) / 1000);
    return {
      model: name,
      itemsPerTask: SHAPE[name]!.items,
      inflight: SHAPE[name]!.inflight,
      durationSeconds: DURATION_S,
      tasksVerified: verified.length,
      tasksNotVerified: tasks.length - verified.length,
      inferencesVerified: allVerified,
      verifiedPerSecondSteady: inWindow / ((tEnd - warm) / 1000),
      postToCommittedP50: pct(lat('committed'), 50),
      postToCommittedP95: pct(lat('committed'), 95),
      postToVerifiedP50: pct(lat('verified'), 50),
      postToVerifiedP95: pct(lat('verified'), 95),
      gasTotal: Number(gas),
      transactions: txs,
      gasPerVerifiedInference: allVerified > 0 ? Number(gas) / allVerified : NaN,
      nodes: perNode,
      // Worker database (with its WAL) growth between the first sample at steady state and the last one: with settled
      // tasks pruned (src/node/store.ts pruneSettled) it stays flat while inferences keep being answered.
      workerDbGrowthSteadyMiB: (() => {
        const s = disk.filter((d) => d.t >= 0.3 * DURATION_S);
        return s.length >= 2 ? (s[s.length - 1]!.dbBytes - s[0]!.dbBytes) / 2 ** 20 : NaN;
      })(),
      workerDisk: disk,
    };
  } finally {
    for (const c of children) {
      c.removeAllListeners('exit');
      if (c.connected) c.send({ type: 'stop' });
    }
    await Promise.all(children.map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : (c.once('exit', () => r()), setTimeout(() => (c.kill('SIGKILL'), r()), 15_000))))));
    await anvil.stop();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'verity-bench-load-'));
  const uptimeBefore = loadavg();
  const results: Record<string, unknown>[] = [];
  try {
    for (const name of MODELS) results.push(await scenario(name, work));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const f = (x: unknown, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
  const target: Record<string, number> = { 'wine-mlp': 1000, 'digits-convnet': 200 };
  console.log('');
  printTable([
    ['model', 'items×inflight', 'verified/s', 'target', 'post→commit p50/p95 s', 'post→final p50/p95 s', 'gas/inference', 'CPU% w/v/r', 'RSS MiB w/v/r', 'worker traces (files, bytes) first→last', 'worker db MiB first→last', 'db growth steady MiB'],
    ...results.map((r) => {
      const n = r.nodes as Record<string, { cpuPercentOfCore: number; rssPeakMiB: number }>;
      const d = r.workerDisk as { traceFiles: number; traceBytes: number; dbBytes: number }[];
      const t = target[r.model as string];
      const met = t === undefined ? 'measured' : (r.verifiedPerSecondSteady as number) >= t ? `≥${t} met` : `≥${t} NOT met`;
      return [
        String(r.model), `${r.itemsPerTask}×${r.inflight}`, f(r.verifiedPerSecondSteady), met,
        `${f(r.postToCommittedP50)}/${f(r.postToCommittedP95)}`, `${f(r.postToVerifiedP50)}/${f(r.postToVerifiedP95)}`, f(r.gasPerVerifiedInference, 0),
        ['worker', 'verifier', 'requester'].map((k) => f(n[k]!.cpuPercentOfCore, 0)).join('/'), ['worker', 'verifier', 'requester'].map((k) => f(n[k]!.rssPeakMiB, 0)).join('/'),
        d.length ? `(${d[0]!.traceFiles}, ${d[0]!.traceBytes}) → (${d[d.length - 1]!.traceFiles}, ${d[d.length - 1]!.traceBytes})` : '-',
        d.length ? `${f(d[0]!.dbBytes / 2 ** 20)} → ${f(d[d.length - 1]!.dbBytes / 2 ** 20)}` : '-',
        f(r.workerDbGrowthSteadyMiB),
      ];
    }),
  ]);
  // A run limited with --models writes load-<models>.json (as bench:engine does), leaving the full run's load.json.
  const only = process.argv.includes('--models');
  const out = join(import.meta.dirname, 'results', only ? `load-${MODELS.join('_')}.json` : 'load.json');
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ bench: 'load', date: new Date().toISOString(), node: process.version, loadAverageAtStart: uptimeBefore, loadAverageAtEnd: loadavg(), chain: 'anvil, 0.25 s blocks, challenge window 4 s, AuditBook rate 10% (windows 4 s)', nodes: 'worker, verifier (sample 0: audited tasks in full), requester; one process each, APIs on 127.0.0.1', targets: target, results }, null, 2)}\n`,
  );
  console.log(`\nwrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
