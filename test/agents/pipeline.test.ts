/**
 * Hiring (src/agents/pipeline.ts, docs/protocol.md §Hiring) on anvil with the real contracts and the real one-step
 * verifier, every party a node in its own process (`verity node run`, no --peers): the job's requester node, the
 * contractor's requester node, worker nodes (honest, and a liar: --dishonest 1) and a verifier node that re-executes
 * every committed stage. runPipeline is given only the chain and the two posters' accounts: every endpoint it uses
 * is found through the agents' ERC-8004 registrations.
 *   - all honest: both stages finalize; fees and reputation go to the worker that did each part;
 *   - a lying second-stage worker: the verifier node challenges, the nodes play the game to the one-step
 *     re-execution, the liar is slashed; the contractor's fee is refunded and stage 2 is hired again from the honest
 *     worker; the requester gets the honest text;
 *   - a lying first-stage worker with no other worker live: slashed at stage 1, the requester refunded, stage 2
 *     never posted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, loadTinyGpt, type TinyGpt } from '../../src/agents/generate.js';
import { runPipeline, standing, standingsTable, type Party, type PipelineJob, type StageAttempt, type Standing } from '../../src/agents/pipeline.js';
import { disputeGameAbi, taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { Outcome, TaskStatus } from '../../src/chain/enums.js';
import { encodeModel } from '../../src/engine/format.js';
import { E18, keyOf, testNet, warpTo, type TestNet } from '../node/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROMPT = 'This program is free software';
const JOB: PipelineJob = { prompt: PROMPT, k1: 3, k2: 3, fee: 10n * E18, subFee: 4n * E18 };
const PROTOCOL_FEE_BPS = 500n; // deployProtocol default
const NODES = {
  requester: { role: 'requester', key: 1, args: [] as string[] },
  contractor: { role: 'requester', key: 2, args: [] as string[] },
  bob: { role: 'worker', key: 3, args: [] as string[] },
  mallory: { role: 'worker', key: 4, args: ['--dishonest', '1'] },
  victor: { role: 'verifier', key: 5, args: [] as string[] },
} as const;
type Name = keyof typeof NODES;

let net: TestNet;
let gpt: TinyGpt;
let dir: string;
let deployment: string;
let modelFile: string;
let minStake: bigint;
const running = new Map<Name, { child: ChildProcess; api: string }>();
const everyone: Party[] = (Object.keys(NODES) as Name[]).map((name) => ({ name, address: keyOf(NODES[name].key).address }));
const clients = () => ({ publicClient: net.publicClient, addresses: net.addresses });
const snapshot = (): Promise<Standing[]> => Promise.all(everyone.map((p) => standing(clients(), p)));
const afterFee = (fee: bigint) => fee - (fee * PROTOCOL_FEE_BPS) / 10_000n;
const addr = (n: Name) => keyOf(NODES[n].key).address.toLowerCase();

/** Starts node `name` in its own process; resolves with the API URL it prints once it has announced it on-chain. */
function start(name: Name): Promise<string> {
  const n = NODES[name];
  const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'node', 'run', '--role', n.role, '--key', keyOf(n.key).privateKey, '--data', join(dir, name), '--deployment', deployment, '--models', modelFile, '--api-port', '0', '--poll', '200', ...n.args];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && !running.has(name)) {
        const api = (JSON.parse(line) as { api: string }).api;
        running.set(name, { child, api });
        resolve(api);
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} node exited ${code}: ${stderr}`)));
  });
}

async function stop(name: Name): Promise<void> {
  const r = running.get(name);
  if (!r) return;
  running.delete(name);
  if (r.child.exitCode !== null) return;
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  gpt = loadTinyGpt();
  // A window long enough for the verifier node to fetch, re-execute and challenge a batch under load (a checked
  // result does not wait it out: warpChecked).
  net = await testNet([gpt.model], { challengeWindow: 15n });
  dir = mkdtempSync(join(tmpdir(), 'verity-pipeline-'));
  deployment = join(dir, 'deployment.json');
  writeFileSync(deployment, JSON.stringify({ chainId: 31337, rpc: net.anvil.rpcUrl, addresses: net.addresses, models: {} }));
  // The imported model once, as a .vqm: each node process loads it instead of importing tiny-gpt.onnx again.
  modelFile = join(dir, 'tiny-gpt.vqm');
  writeFileSync(modelFile, encodeModel(gpt.model));
  minStake = (await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getParams' })).minStake;
  // Side by side: each process boots, loads the model and registers its agent while the others wait on the chain.
  await Promise.all((['requester', 'contractor', 'victor', 'bob'] as const).map(start));
  stopWarp = warpChecked();
}, 240_000);

afterAll(async () => {
  await stopWarp?.();
  for (const n of [...running.keys()]) await stop(n);
  await net?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let stopWarp: (() => Promise<void>) | undefined;

/**
 * Once the verifier node has checked a committed result (its GET /tasks says verified), the chain's clock jumps to
 * the end of that task's challenge window (warpTo): the window stays long enough for the check under load, and the
 * test does not wait it out in real time. A result the verifier challenges or skips keeps its real window.
 */
function warpChecked(): () => Promise<void> {
  let on = true;
  const warped = new Set<string>();
  const loop = (async () => {
    while (on) {
      const victor = running.get('victor');
      try {
        const tasks = victor ? ((await (await fetch(`${victor.api}/tasks`)).json()) as { id: string; status: string }[]) : [];
        for (const t of tasks) {
          if (t.status !== 'verified' || warped.has(t.id)) continue;
          const task = await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [BigInt(t.id)] });
          if (task.status === TaskStatus.Committed) await warpTo(net, task.challengeDeadline);
          warped.add(t.id);
        }
      } catch {
        // the verifier node is restarting or the chain is busy: try again next round
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

const run = (opts: { onAttempt?: (a: StageAttempt) => Promise<void>; attempts?: StageAttempt[] } = {}) =>
  runPipeline({ rpcUrl: net.anvil.rpcUrl, addresses: net.addresses, gpt, job: JOB, requester: keyOf(1).address, contractor: keyOf(2).address, log: (l) => console.log(`  ${l}`), stageTimeoutMs: 240_000, ...opts });

const who = (a: StageAttempt) => (Object.keys(NODES) as Name[]).find((n) => addr(n) === a.worker.toLowerCase());

/** The dispute of an invalidated attempt: won by the verifier node, played to the one-step re-execution on-chain. */
async function checkDispute(a: StageAttempt): Promise<void> {
  expect(a.invalidated).toMatchObject({ slashed: minStake, challengerShare: minStake / 2n, refund: a.fee });
  expect(a.invalidated!.challenger.toLowerCase()).toBe(addr('victor'));
  const task = await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [a.taskId] });
  expect(task.status).toBe(TaskStatus.Invalidated);
  const disputes = (await (await fetch(`${running.get('victor')!.api}/disputes`)).json()) as { taskId: string; gameId: string; side: string; outcome: number }[];
  const d = disputes.find((x) => x.taskId === String(a.taskId))!;
  expect(d).toMatchObject({ side: 'challenger', outcome: Outcome.ChallengerWon });
  // bisected down to the corrupted node and one element of it re-executed on-chain (not a timeout): whole, or — for a
  // reduction longer than one chunk (e.g. a tiny-gpt Linear with K = 192) — one chunk of its accumulator (SumChecked)
  const game = { address: net.addresses.disputeGame, abi: disputeGameAbi, args: { gameId: BigInt(d.gameId) }, fromBlock: 0n } as const;
  const whole = await net.publicClient.getContractEvents({ ...game, eventName: 'ElementChecked' });
  const chunk = await net.publicClient.getContractEvents({ ...game, eventName: 'SumChecked' });
  const checked = [...whole, ...chunk];
  expect(checked).toHaveLength(1);
  expect(checked[0]!.args.claimed).not.toBe(checked[0]!.args.computed);
}

describe('hiring: a two-stage tiny-gpt pipeline through the market, every party a node process', () => {
  it('all honest: both stages finalize, posted by their two posters, endpoints found through the registrations', async () => {
    const before = await snapshot();
    const r = await run();
    const after = await snapshot();
    console.log(`\nall-honest pipeline, ${JSON.stringify(PROMPT)} → ${JSON.stringify(r.text)}\n${standingsTable(everyone, before, after, r.attempts)}\n`);
    expect(r.text).toBe(generate(gpt, PROMPT, JOB.k1 + JOB.k2).text);
    expect(r.attempts.map((a) => [a.stage, who(a), a.status])).toEqual([
      [1, 'bob', 'finalized'],
      [2, 'bob', 'finalized'],
    ]);
    // The endpoints it used are the ones the processes listen on, found only through their registrations.
    expect(r.stages.map((s) => s.posterUrl)).toEqual([running.get('requester')!.api, running.get('contractor')!.api]);
    expect(r.stages.map((s) => s.quoteUrl)).toEqual([running.get('bob')!.api, running.get('bob')!.api]);
    expect(r.stages[1].delivery.prompt).toBe(PROMPT + r.stages[0].text);
    for (const s of r.stages) {
      const t = await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [s.taskId] });
      expect(t.status).toBe(TaskStatus.Finalized);
      expect(t.requester.toLowerCase()).toBe(s.poster.toLowerCase());
      expect(t.itemCount).toBe(3);
      expect(Object.keys(s.txs)).toEqual(expect.arrayContaining(['post', 'claim', 'commit', 'finalize']));
    }
    expect(r.attempts.map((a) => a.payout)).toEqual([afterFee(JOB.fee), afterFee(JOB.subFee)]);
    const d = (n: Name) => {
      const i = everyone.findIndex((p) => p.name === n);
      return { total: after[i]!.total - before[i]!.total, fin: after[i]!.finalized - before[i]!.finalized, score: after[i]!.score - before[i]!.score, staked: after[i]!.staked - before[i]!.staked };
    };
    expect(d('requester').total).toBe(-JOB.fee);
    expect(d('contractor').total).toBe(-JOB.subFee);
    expect(d('bob')).toEqual({ total: afterFee(JOB.fee) + afterFee(JOB.subFee), fin: 2, score: 2, staked: 0n });
    expect(d('mallory')).toEqual({ total: 0n, fin: 0, score: 0, staked: 0n });
    expect(d('victor').total).toBe(0n);
    // The verifier node re-executed what was committed (its metrics count the results it checked).
    const metrics = await (await fetch(`${running.get('victor')!.api}/metrics`)).text();
    expect(Number(/verity_node_results_checked_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
  }, 400_000);

  it('a lying stage-2 worker is slashed; stage 2 is hired again from the honest worker; the requester gets the honest text', async () => {
    const before = await snapshot();
    const r = await run({
      onAttempt: async (a) => {
        // Stage 1 done by bob; stage 2 is first taken by the liar (the only worker live), then by bob again.
        if (a.stage === 1) {
          await stop('bob');
          await start('mallory');
        } else if (a.status === 'invalidated') {
          await stop('mallory');
          await start('bob');
        }
      },
    });
    const after = await snapshot();
    console.log(`\npipeline with a lying stage-2 worker, ${JSON.stringify(PROMPT)} → ${JSON.stringify(r.text)}\n${standingsTable(everyone, before, after, r.attempts)}\n`);
    expect(r.text).toBe(generate(gpt, PROMPT, JOB.k1 + JOB.k2).text);
    expect(r.attempts.map((a) => [a.stage, who(a), a.status])).toEqual([
      [1, 'bob', 'finalized'],
      [2, 'mallory', 'invalidated'],
      [2, 'bob', 'finalized'],
    ]);
    await checkDispute(r.attempts[1]!);
    const d = (n: Name) => {
      const i = everyone.findIndex((p) => p.name === n);
      return { total: after[i]!.total - before[i]!.total, staked: after[i]!.staked - before[i]!.staked, fin: after[i]!.finalized - before[i]!.finalized, lost: after[i]!.lost - before[i]!.lost, score: after[i]!.score - before[i]!.score };
    };
    // the liar (started in this run, staking the worker's default 1000 VRT from its wallet): down by the slash, one
    // ("dispute","lost") −1 feedback
    expect(d('mallory')).toEqual({ total: -minStake, staked: 1_000n * E18 - minStake, fin: 0, lost: 1, score: -1 });
    // the verifier: the challenger share (its game bond came back)
    expect(d('victor').total).toBe(minStake / 2n);
    // bob did both finalized stages; the contractor paid stage 2 once (the lie's fee refunded); the requester paid stage 1
    expect(d('bob')).toEqual({ total: afterFee(JOB.fee) + afterFee(JOB.subFee), staked: 0n, fin: 2, lost: 0, score: 2 });
    expect(d('contractor').total).toBe(-JOB.subFee);
    expect(d('requester').total).toBe(-JOB.fee);
  }, 400_000);

  it('a lying stage-1 worker with no other worker live is slashed: the requester is refunded and no stage 2 is ever posted', async () => {
    await stop('bob');
    await start('mallory');
    const before = await snapshot();
    const tasksBefore = (await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'counts' }))[0];
    const attempts: StageAttempt[] = [];
    await expect(run({ attempts })).rejects.toThrow(/No worker delivered stage 1/);
    const after = await snapshot();
    console.log(`\npipeline with a lying stage-1 worker\n${standingsTable(everyone, before, after, attempts)}\n`);
    const tasksAfter = (await net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'counts' }))[0];
    expect(tasksAfter - tasksBefore).toBe(1n);
    expect(attempts.map((a) => [a.stage, who(a), a.status])).toEqual([[1, 'mallory', 'invalidated']]);
    await checkDispute(attempts[0]!);
    const d = (n: Name) => after[everyone.findIndex((p) => p.name === n)]!.total - before[everyone.findIndex((p) => p.name === n)]!.total;
    expect(d('requester')).toBe(0n); // fee refunded
    expect(d('mallory')).toBe(-minStake);
    expect(after[3]!.lost - before[3]!.lost).toBe(1);
    expect(d('victor')).toBe(minStake / 2n);
    expect(d('bob')).toBe(0n);
    expect(d('contractor')).toBe(0n);
  }, 400_000);
});
