/**
 * End to end with real node processes (`verity node run` children) on anvil: two honest workers, one dishonest
 * worker (corrupts every answer; polls fastest, so it wins claims), a verifier checking everything, a requester with
 * its HTTP API. Three times, at random moments, the dishonest worker and the verifier are killed with SIGKILL and
 * restarted on the same data directories.
 * Every checked dishonest answer is challenged and slashed; no honest worker is slashed; every requester result is
 * finalized and equals the honest engine's; no dispute is abandoned and no task is committed twice.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs, type Hex } from 'viem';
import { stakingAbi, taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { deploy, type DeploymentFile } from '../../src/cli/node.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { tensorFromArg } from '../../src/node/context.js';
import { outputHashOf } from '../../src/commit/index.js';
import { NodeStore } from '../../src/node/store.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, until } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
let anvil: AnvilInstance;
let dep: DeploymentFile;
let depFile: string;
const work = mkdtempSync(join(tmpdir(), 'verity-e2e-'));
const children = new Set<ChildProcess>();

interface Proc {
  child: ChildProcess;
  output: string[];
  api?: string;
}

function run(role: string, i: number, extra: string[] = []): Promise<Proc> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'node', 'run', '--role', role, '--rpc', anvil.rpcUrl, '--key', keyOf(i).privateKey, '--data', join(work, `${role}-${i}`), '--deployment', depFile, '--models', 'wine-mlp', '--poll', '200', ...extra],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  const p: Proc = { child, output: [] };
  child.stderr!.on('data', (d: Buffer) => p.output.push(d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (extra.includes('--api-port') ? reject(new Error(`${role} API did not start: ${p.output.join('').slice(-2000)}`)) : resolve(p)), 60_000);
    if (!extra.includes('--api-port')) {
      clearTimeout(timer);
      resolve(p);
    }
    child.stdout!.on('data', (d: Buffer) => {
      const line = d.toString().split('\n').find((l) => l.startsWith('{"api"'));
      if (line) {
        p.api = (JSON.parse(line) as { api: string }).api;
        clearTimeout(timer);
        resolve(p);
      }
    });
    child.on('exit', (code) => {
      if (!p.api && extra.includes('--api-port')) reject(new Error(`${role} exited ${code}: ${p.output.join('').slice(-2000)}`));
    });
  });
}

function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve({ stdout, stderr }),
    );
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
  dep = await deploy(anvil.rpcUrl, anvil.accounts[0]!.privateKey, {
    out: depFile,
    models: ['wine-mlp'],
    fund: [1, 2, 3, 4, 5].map((i) => keyOf(i).address),
    challengeWindow: 25n,
    clock: 120n,
  });
  writeFileSync(depFile, JSON.stringify(dep));
});

afterAll(async () => {
  for (const c of [...children]) {
    if (c.exitCode === null && c.pid !== undefined) {
      c.kill('SIGKILL');
    }
  }
  await anvil?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('network of node processes on anvil', () => {
  it('slashes the liar, never an honest worker, finalizes every request; survives repeated kill -9 of a worker and a verifier', async () => {
    const honestA = await run('worker', 1);
    const honestB = await run('worker', 2);
    let liar = await run('worker', 3, ['--dishonest', '1', '--poll', '100']);
    let verifier = await run('verifier', 4, ['--sample', '1', '--api-port', '0']);
    const requester = await run('requester', 5, ['--api-port', '0']);

    const q = quantized('wine-mlp');
    const ref = new LocalEngineProvider([q]);
    const root = ref.modelRoots()[0]!;
    const rows = modelData('wine-mlp').x.slice(0, 12);
    const ids: string[] = [];
    const submit = async (row: number[]) => {
      if (ids.length === 0) {
        // the first one through `verity task submit`
        const out = JSON.parse((await cli(['task', 'submit', '--api', requester.api!, '--model', 'wine-mlp', '--input', JSON.stringify(row), '--fee', '3', '--json'])).stdout) as { id: string };
        ids.push(out.id);
        return;
      }
      const r = await fetch(`${requester.api}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'wine-mlp', input: row, fee: String(3n * E18), ttl: 300 }) });
      expect(r.status).toBe(202);
      ids.push(((await r.json()) as { id: string }).id);
    };
    // Three rounds: a wave of tasks, then kill -9 the liar and the verifier at a (bounded) random moment while it is
    // being worked on, and restart them on the same data directories.
    for (let round = 0; round < 3; round++) {
      for (const row of rows.slice(round * 4, round * 4 + 4)) await submit(row);
      await new Promise((r) => setTimeout(r, 500 + Math.floor(Math.random() * 4_000)));
      await kill(liar, 'SIGKILL');
      await kill(verifier, 'SIGKILL');
      // The last restart polls slower than the honest workers: the liar, which tops its stake back up on every start,
      // would otherwise win every repost's claim race and delay the jobs by one lost dispute per 100 VRT it holds.
      liar = await run('worker', 3, ['--dishonest', '1', '--poll', round < 2 ? '100' : '1500']);
      verifier = await run('verifier', 4, ['--sample', '1', '--api-port', '0']);
    }

    let lastSeen: unknown[] = [];
    const views = await until(async () => {
      const vs = await Promise.all(ids.map(async (id) => (await (await fetch(`${requester.api}/tasks/${id}`)).json()) as { status: string; taskId: string; result?: { outputHash: string; outputs: { data: number[] }[] } }));
      lastSeen = vs.map((v) => [v.taskId, v.status]);
      return vs.every((v) => v.status === 'finalized') ? vs : undefined;
    }, 300_000, 1_000).catch((e: Error) => {
      // Diagnostics: what each request and each node was doing.
      console.log(JSON.stringify(lastSeen));
      for (const [name, p] of Object.entries({ honestA, honestB, liar, verifier, requester })) console.log(name, p.output.join('').slice(-3000));
      throw e;
    });
    views.forEach((v, k) => {
      const truth = ref.execute(root, [quantizeInput(q, rows[k]!)]);
      expect(v.result!.outputHash).toBe(outputHashOf(truth.outputs));
      expect(v.result!.outputs[0]!.data).toEqual(Array.from(truth.outputs[0]!.data));
    });

    // Let the last disputes settle, then stop everything (gracefully) and read the state.
    const logs = async () => {
      const raw = await (await import('viem')).createPublicClient({ transport: (await import('viem')).http(anvil.rpcUrl) }).getLogs({ address: dep.addresses.taskMarket, fromBlock: 0n });
      return parseEventLogs({ abi: taskMarketAbi, logs: raw });
    };
    await until(async () => {
      const l = await logs();
      const challenged = l.filter((x) => x.eventName === 'ResultChallenged').length;
      const resolved = l.filter((x) => x.eventName === 'DisputeResolved').length;
      return challenged === resolved;
    }, 240_000, 1_000);
    // The CLI reads the same through the nodes' APIs.
    const shown = JSON.parse((await cli(['task', 'show', ids[0]!, '--api', requester.api!, '--json'])).stdout) as { status: string; result?: unknown };
    expect(shown.status).toBe('finalized');
    expect(shown.result).toBeDefined();
    const listed = JSON.parse((await cli(['dispute', 'list', '--api', verifier.api!, '--json'])).stdout) as { state: string }[];
    expect(listed.every((d) => d.state === 'done')).toBe(true);
    for (const p of [honestA, honestB, liar, verifier, requester]) await kill(p, 'SIGTERM');

    const l = await logs();
    const committed = l.filter((x) => x.eventName === 'ResultCommitted').map((x) => x.args as { taskId: bigint; worker: string; outputHash: string });
    // No task committed twice.
    expect(new Set(committed.map((c) => String(c.taskId))).size).toBe(committed.length);
    const invalidated = l.filter((x) => x.eventName === 'TaskInvalidated').map((x) => (x.args as { taskId: bigint }).taskId);
    const byTask = new Map(committed.map((c) => [c.taskId, c]));
    const liarAddr = keyOf(3).address.toLowerCase();
    // Every invalidated task was the liar's; every liar commit whose outputs are wrong was invalidated (the claim is the
    // outputs: a corrupted intermediate that the rest of the run absorbs leaves a correct result, which stands).
    for (const t of invalidated) expect(byTask.get(t)!.worker.toLowerCase()).toBe(liarAddr);
    const inputsOf = new Map(l.filter((x) => x.eventName === 'InputPublished').map((x) => { const a = x.args as unknown as { taskId: bigint; inputs: { dtype: number; shape: readonly number[]; data: Hex }[] }; return [a.taskId, a.inputs] as const; }));
    const truthOf = (taskId: bigint) => ref.run(root, inputsOf.get(taskId)!.map((t) => tensorFromArg({ dtype: t.dtype, shape: [...t.shape], data: t.data }))).outputHash;
    const liarStore = NodeStore.open({ dataDir: join(work, 'worker-3') });
    const corrupted = committed.filter((c) => c.worker.toLowerCase() === liarAddr && liarStore.getResult(String(c.taskId))?.corrupted);
    liarStore.close();
    const lies = corrupted.filter((c) => c.outputHash.toLowerCase() !== truthOf(c.taskId).toLowerCase());
    expect(lies.length).toBeGreaterThan(0);
    expect(invalidated.length).toBe(lies.length);
    for (const c of lies) expect(invalidated).toContain(c.taskId);
    const staked = async (i: number) => {
      const { createPublicClient, http } = await import('viem');
      return (await createPublicClient({ transport: http(anvil.rpcUrl) }).readContract({ address: dep.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [keyOf(i).address] })).staked;
    };
    expect(await staked(1)).toBe(1_000n * E18);
    expect(await staked(2)).toBe(1_000n * E18);
    // The liar lost 100 VRT of locked stake per invalidated task (it tops its free stake back up on restart, so
    // compare the slashes, not its balance).
    const slashed = l.filter((x) => x.eventName === 'TaskInvalidated').reduce((a, x) => a + (x.args as { slashed: bigint }).slashed, 0n);
    expect(slashed).toBe(BigInt(invalidated.length) * 100n * E18);
    // No dispute abandoned: every one the verifier opened is done.
    const vStore = NodeStore.open({ dataDir: join(work, 'verifier-4') });
    const vd = vStore.listDisputes();
    vStore.close();
    expect(vd.every((d) => d.state === 'done')).toBe(true);
    console.log(`e2e: ${ids.length} requests finalized; ${committed.length} commits (${committed.filter((c) => c.worker.toLowerCase() === liarAddr).length} by the liar, ${lies.length} lies), ${invalidated.length} slashed; verifier disputes ${vd.length}`);
  }, 600_000);
});
