/**
 * Batch labeling jobs through real node processes (`verity node run` children, APIs on 127.0.0.1, each node's
 * --peers all of them): jobs submitted with POST /batches; a dishonest worker (lies in one element per batch) and the
 * verifier are killed with SIGKILL at random moments (bounded: three rounds) and restarted on the same data
 * directories and ports. Every batch finalizes with element results equal to the honest engine's; no task is
 * committed twice; every challenge names the liar's one wrong element; no dispute is abandoned; no honest slash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, http, parseEventLogs } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputHashOf } from '../../src/commit/index.js';
import { stakingAbi, taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { deploy, type DeploymentFile } from '../../src/cli/node.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { NodeStore } from '../../src/node/store.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, until } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
let anvil: AnvilInstance;
let dep: DeploymentFile;
let depFile: string;
const work = mkdtempSync(join(tmpdir(), 'verity-batch-crash-'));
const children = new Set<ChildProcess>();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Proc {
  child: ChildProcess;
  output: string[];
}

function run(role: string, i: number, port: number, peers: string[], extra: string[] = []): Promise<Proc> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'node', 'run', '--role', role, '--rpc', anvil.rpcUrl, '--key', keyOf(i).privateKey, '--data', join(work, `${role}-${i}`), '--deployment', depFile, '--models', 'wine-mlp', '--poll', '200', '--api-port', String(port), '--peers', peers.join(','), ...extra],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  const p: Proc = { child, output: [] };
  child.stderr!.on('data', (d: Buffer) => p.output.push(d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${role} API did not start: ${p.output.join('').slice(-2000)}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('{"api"')) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    child.on('exit', (code) => reject(new Error(`${role} exited ${code}: ${p.output.join('').slice(-2000)}`)));
  });
}

async function kill(p: Proc, signal: NodeJS.Signals): Promise<void> {
  if (p.child.exitCode !== null || p.child.pid === undefined) return;
  await new Promise<void>((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

beforeAll(async () => {
  anvil = await startAnvil({ args: ['--block-time', '0.25', '--mixed-mining'] });
  depFile = join(work, 'deployment.json');
  dep = await deploy(anvil.rpcUrl, anvil.accounts[0]!.privateKey, { out: depFile, models: ['wine-mlp'], fund: [1, 2, 3, 4].map((i) => keyOf(i).address), challengeWindow: 25n, clock: 120n });
  writeFileSync(depFile, JSON.stringify(dep));
});

afterAll(async () => {
  for (const c of [...children]) if (c.exitCode === null && c.pid !== undefined) c.kill('SIGKILL');
  await anvil?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('batch jobs through node processes', () => {
  it('finalizes every batch with verified elements; survives kill -9 of the liar and the verifier', async () => {
    const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const urls = ports.map((p) => `http://127.0.0.1:${p}`);
    const requester = await run('requester', 4, ports[0]!, urls);
    let liar = await run('worker', 3, ports[1]!, urls, ['--dishonest', '1', '--poll', '100']);
    let verifier = await run('verifier', 2, ports[2]!, urls, ['--sample', '1']);
    const honest = await run('worker', 1, ports[3]!, urls);

    const q = quantized('wine-mlp');
    const ref = new LocalEngineProvider([q]);
    const root = ref.modelRoots()[0]!;
    const data = modelData('wine-mlp').x;
    const jobs = [0, 1, 2].map((j) => data.slice(j * 8, j * 8 + 8));
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const r = await fetch(`${urls[0]}/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'wine-mlp', rows: jobs[round], fee: String(8n * E18), ttl: 300 }) });
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { id: string }).id);
      await new Promise((r) => setTimeout(r, 500 + Math.floor(Math.random() * 4_000)));
      await kill(liar, 'SIGKILL');
      await kill(verifier, 'SIGKILL');
      // The last restart polls slower than the honest workers: the liar, which tops its stake back up on every start,
      // would otherwise win every repost's claim race and delay the jobs by one lost dispute per 100 VRT it holds.
      liar = await run('worker', 3, ports[1]!, urls, ['--dishonest', '1', '--poll', round < 2 ? '100' : '1500']);
      verifier = await run('verifier', 2, ports[2]!, urls, ['--sample', '1']);
    }
    // Bad batch input is rejected, nothing stored.
    const bad = await fetch(`${urls[0]}/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'wine-mlp', rows: [[1, 2], [3]], fee: String(E18) }) });
    expect(bad.status).toBe(422);

    type View = { status: string; batch?: { items?: { outputHash: string; outputs: { data: number[] }[] }[] } };
    let last: unknown[] = [];
    const views = await until(async () => {
      const vs = await Promise.all(ids.map(async (id) => (await (await fetch(`${urls[0]}/tasks/${id}/results`)).json()) as View & { items?: unknown[] }));
      last = vs.map((v) => v.status);
      return vs.every((v) => v.items) ? vs : undefined;
    }, 400_000, 1_000).catch((e: Error) => {
      console.log(JSON.stringify(last));
      for (const [name, p] of Object.entries({ requester, liar, verifier, honest })) console.log(name, p.output.join('').slice(-3000));
      throw e;
    });
    views.forEach((v, j) => {
      const items = (v as unknown as { items: { outputHash: string; outputs: { data: number[] }[] }[] }).items;
      expect(items.length).toBe(8);
      items.forEach((it, k) => {
        const truth = ref.execute(root, [quantizeInput(q, jobs[j]![k]!)]);
        expect(it.outputHash).toBe(outputHashOf(truth.outputs));
        expect(it.outputs[0]!.data).toEqual(Array.from(truth.outputs[0]!.data));
      });
    });

    const pc = createPublicClient({ transport: http(anvil.rpcUrl) });
    const logs = async () => parseEventLogs({ abi: taskMarketAbi, logs: await pc.getLogs({ address: dep.addresses.taskMarket, fromBlock: 0n }) });
    await until(async () => {
      const l = await logs();
      return l.filter((x) => x.eventName === 'ResultChallenged').length === l.filter((x) => x.eventName === 'DisputeResolved').length;
    }, 240_000, 1_000);
    await until(async () => {
      const r = await fetch(`${urls[2]}/disputes`);
      return ((await r.json()) as { state: string }[]).every((d) => d.state === 'done');
    }, 120_000, 1_000);
    for (const p of [requester, liar, verifier, honest]) await kill(p, 'SIGTERM');

    const l = await logs();
    const commits = l.filter((x) => x.eventName === 'BatchCommitted').map((x) => x.args as { taskId: bigint; worker: string });
    expect(new Set(commits.map((c) => String(c.taskId))).size).toBe(commits.length); // none committed twice
    const liarAddr = keyOf(3).address.toLowerCase();
    const byTask = new Map(commits.map((c) => [c.taskId, c]));
    const invalidated = l.filter((x) => x.eventName === 'TaskInvalidated').map((x) => (x.args as { taskId: bigint }).taskId);
    for (const t of invalidated) expect(byTask.get(t)!.worker.toLowerCase()).toBe(liarAddr);
    const liarCommits = commits.filter((c) => c.worker.toLowerCase() === liarAddr);
    expect(invalidated.length).toBe(liarCommits.length);
    // Each challenge named the liar's one wrong element.
    const liarStore = NodeStore.open({ dataDir: join(work, 'worker-3') });
    for (const c of l.filter((x) => x.eventName === 'ResultChallenged').map((x) => x.args as { taskId: bigint; index: number })) {
      expect(liarStore.listResults(String(c.taskId)).filter((r) => r.corrupted).map((r) => r.idx)).toEqual([c.index]);
    }
    liarStore.close();
    const vStore = NodeStore.open({ dataDir: join(work, 'verifier-2') });
    expect(vStore.listDisputes().every((d) => d.state === 'done')).toBe(true);
    vStore.close();
    const staked = (await pc.readContract({ address: dep.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [keyOf(1).address] })).staked;
    expect(staked).toBe(1_000n * E18);
    console.log(`batch crash: ${ids.length} batches finalized; ${commits.length} batch commits (${liarCommits.length} by the liar, all challenged on their wrong element and slashed)`);
  }, 600_000);
});
