/**
 * The hiring pipeline over real node processes on anvil, started with no --peers: the job's requester node, the
 * contractor's requester node, a worker node and a verifier node (`verity node run`, each in its own process,
 * announcing its API in its agent's ERC-8004 registration file). runNodePipeline is given only the chain and the
 * two posters' accounts: it finds every endpoint through the registrations. Both stages finalize on-chain, posted
 * by their two posters, and the job's answer is exactly the local generation of k1 + k2 characters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, loadTinyGpt, type TinyGpt } from '../../src/agents/generate.js';
import { runNodePipeline } from '../../src/agents/node-pipeline.js';
import { taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { TaskStatus } from '../../src/chain/enums.js';
import { E18, keyOf, testNet, type TestNet } from '../node/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROMPT = 'This program is free software';
const ROLES = [
  { name: 'requester', role: 'requester', key: 1 },
  { name: 'contractor', role: 'requester', key: 2 },
  { name: 'worker', role: 'worker', key: 3 },
  { name: 'verifier', role: 'verifier', key: 4 },
] as const;

let net: TestNet;
let gpt: TinyGpt;
let dir: string;
const children: ChildProcess[] = [];
const apis = new Map<string, string>();

/** `verity node run` in its own process; resolves with the API URL it prints once it has announced it on-chain. */
function startNode(r: (typeof ROLES)[number], deployment: string): Promise<string> {
  const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'node', 'run', '--role', r.role, '--key', keyOf(r.key).privateKey, '--data', join(dir, r.name), '--deployment', deployment, '--models', 'tiny-gpt', '--api-port', '0', '--poll', '200'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { api: string }).api);
    });
    child.once('exit', (code) => reject(new Error(`${r.name} node exited ${code}: ${stderr}`)));
  });
}

beforeAll(async () => {
  gpt = loadTinyGpt();
  net = await testNet([gpt.model], { challengeWindow: 5n });
  dir = mkdtempSync(join(tmpdir(), 'verity-pipeline-nodes-'));
  const deployment = join(dir, 'deployment.json');
  writeFileSync(deployment, JSON.stringify({ chainId: 31337, rpc: net.anvil.rpcUrl, addresses: net.addresses, models: {} }));
  // One at a time: each process imports the model and registers its agent (2 cores shared).
  for (const r of ROLES) apis.set(r.name, await startNode(r, deployment));
}, 240_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.pid) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
  }
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('pipeline over node processes found through the chain (no --peers)', () => {
  it('both stages finalize, posted by their two posters; the answer is the local generation', async () => {
    const job = { prompt: PROMPT, k1: 3, k2: 3, fee: 10n * E18, subFee: 4n * E18 };
    const r = await runNodePipeline({ rpcUrl: net.anvil.rpcUrl, addresses: net.addresses, gpt, job, requester: keyOf(1).address, contractor: keyOf(2).address, log: (l) => console.log(`  ${l}`) });
    expect(r.text).toBe(generate(gpt, PROMPT, job.k1 + job.k2).text);
    // The endpoints it used are the ones the processes listen on, found only through their registrations.
    expect(r.stages.map((s) => s.posterUrl)).toEqual([apis.get('requester'), apis.get('contractor')]);
    expect(r.stages.map((s) => s.quoteUrl)).toEqual([apis.get('worker'), apis.get('worker')]);
    expect(r.stages[1].delivery.prompt).toBe(PROMPT + r.stages[0].text);
    const posters = [keyOf(1).address, keyOf(2).address];
    for (const [i, s] of r.stages.entries()) {
      const t = await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [s.taskId] });
      expect(t.status).toBe(TaskStatus.Finalized);
      expect(t.requester.toLowerCase()).toBe(posters[i]!.toLowerCase());
      expect(t.worker.toLowerCase()).toBe(keyOf(3).address.toLowerCase());
      expect(t.itemCount).toBe(3);
      expect(Object.keys(s.txs)).toEqual(expect.arrayContaining(['post', 'claim', 'commit', 'finalize']));
    }
    // The verifier node re-executed what was committed (its metrics count the results it checked).
    const metrics = await (await fetch(`${apis.get('verifier')}/metrics`)).text();
    const checked = Number(/verity_node_results_checked_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(checked).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
