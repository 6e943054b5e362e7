/**
 * Random audits through the nodes, on anvil with the real AuditBook (every task selected: rateBps 10000, short
 * windows). A verifier node that samples NOTHING on its own (sample 0) still audits: it re-executes the audited task,
 * seals tensor j, reveals after the worker's answer. Honest worker: the worker node draws and answers the audit, the
 * auditor is paid its reward (deposit back) and the task is finalized. Dishonest worker: the audit makes the verifier
 * check the task in full, it challenges, the game is played and the liar is slashed; the honest worker never is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs, type Address, type Hex, type PublicClient } from 'viem';
import { modelShape, postTask, registerModel, transferToken } from '../../src/chain/actions/index.js';
import { auditBookAbi, taskMarketAbi } from '../../src/chain/artifacts/index.js';
import type { AnvilInstance } from '../../src/chain/anvil.js';
import { startDevnet } from '../../src/chain/devnet.js';
import type { ProtocolAddresses, ProtocolClients } from '../../src/chain/types.js';
import { modelRootHex } from '../../src/commit/index.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, opsBitmap, until, warpTo } from './helpers.js';

const model = quantized('wine-mlp');
const REWARD = 1n * E18;
let anvil: AnvilInstance;
let pc: PublicClient;
let addresses: ProtocolAddresses;
let book: Address;
let modelId: bigint;
let requester: ProtocolClients;
const work = mkdtempSync(join(tmpdir(), 'verity-audit-'));
const nodes: VerityNode[] = [];

async function node(role: 'worker' | 'verifier', i: number, extra: { dishonest?: number; sample?: number } = {}): Promise<VerityNode> {
  const n = await createNode({ role, rpcUrl: anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: join(work, `${role}-${i}`), addresses, qmodels: [model], pollMs: 150, logger: pino({ level: 'silent' }), ...extra });
  nodes.push(n);
  await n.start();
  return n;
}

async function post(row: number): Promise<bigint> {
  const input = quantizeInput(model, modelData('wine-mlp').x[row]!);
  const { taskId } = await postTask(requester, { modelId, inputs: [input], fee: 2n * E18, deadline: (await pc.getBlock()).timestamp + 600n });
  return taskId;
}

async function bookEvents<const N extends 'AuditRevealed' | 'AuditAnswered' | 'AuditCommitted'>(eventName: N) {
  return parseEventLogs({ abi: auditBookAbi, logs: await pc.getLogs({ address: book, fromBlock: 0n }), eventName });
}

beforeAll(async () => {
  const net = await startDevnet({
    anvilArgs: ['--block-time', '0.25', '--mixed-mining'],
    pollingInterval: 50,
    deploy: {
      market: { challengeWindow: 30n },
      game: { clock: 120n },
      unbondingDelay: 3_600n,
      timelockDelay: 60n,
      audits: { rateBps: 10_000, commitWindow: 4n, answerWindow: 4n, revealWindow: 4n, deposit: 5n * E18, reward: REWARD, minAuditorStake: 100n * E18, poolSeed: 100n * E18 },
    },
  });
  anvil = net.anvil;
  pc = net.publicClient;
  addresses = net.addresses;
  book = net.deployment.auditBook!;
  const client = net.clients(0);
  ({ modelId } = await registerModel(client, { modelRoot: modelRootHex(model) as Hex, metadataURI: 'verity:model:wine-mlp', opsBitmap: opsBitmap(model), shape: modelShape(model, 5_000_000n) }));
  for (let i = 1; i <= 4; i++) {
    await transferToken(client, { to: keyOf(i).address, amount: 100_000n * E18 });
  }
  requester = net.clients(4);
}, 180_000);

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  await anvil?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('audits through the nodes', () => {
  it('an honest task is audited, the auditor paid, the task finalized; a liar is caught through its audit', async () => {
    const verifier = await node('verifier', 3, { sample: 0 });
    const honest = await node('worker', 1);
    const auditor = keyOf(3).address.toLowerCase();

    // ---- honest worker
    const t1 = await post(0);
    const paid = await until(async () => (await bookEvents('AuditRevealed')).find((e) => e.args.taskId === t1 && e.args.auditor.toLowerCase() === auditor), 90_000);
    expect(paid.args.matched).toBe(true);
    expect(paid.args.paid).toBe(REWARD);
    const answered = (await bookEvents('AuditAnswered')).find((e) => e.args.taskId === t1)!;
    expect(answered.args.tensorId).toBeGreaterThanOrEqual(model.inputs.length); // an intermediate tensor, never an input
    // The honest path committed no trace root: the answer is the first (and only) trace root computed for the element,
    // the honest run's, and the market pinned it for any game on the element.
    const honestRun = new LocalEngineProvider([model]).execute(modelRootHex(model), [quantizeInput(model, modelData('wine-mlp').x[0]!)]);
    expect(answered.args.traceRoot).toBe(honestRun.traceRoot);
    const key = await pc.readContract({ address: addresses.taskMarket, abi: taskMarketAbi, functionName: 'taskKey', args: [t1, 0n] });
    expect(await pc.readContract({ address: addresses.taskMarket, abi: taskMarketAbi, functionName: 'tracePin', args: [key] })).toBe(honestRun.traceRoot);
    // The audit is settled: the rest of the 30 s window ends by a time warp, not in real time.
    await warpTo({ anvil, publicClient: pc }, (await pc.readContract({ address: addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [t1] })).challengeDeadline);
    await until(async () => (await pc.readContract({ address: addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [t1] })).status === 4, 90_000); // Finalized
    await honest.stop();

    // ---- dishonest worker (every answer corrupted); the verifier samples nothing, the audit makes it check
    await node('worker', 2, { dishonest: 1 });
    const t2 = await post(1);
    await until(async () => (await bookEvents('AuditCommitted')).some((e) => e.args.taskId === t2 && e.args.auditor.toLowerCase() === auditor), 90_000);
    const status = await until(async () => {
      const s = (await pc.readContract({ address: addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [t2] })).status;
      return s === 5 || s === 4 ? s : undefined; // Invalidated | Finalized
    }, 150_000);
    expect(status).toBe(5);
    const logs = parseEventLogs({ abi: taskMarketAbi, logs: await pc.getLogs({ address: addresses.taskMarket, fromBlock: 0n }) });
    const challenged = logs.filter((l) => l.eventName === 'ResultChallenged' && l.args.taskId === t2);
    expect(challenged.map((l) => (l.args as { challenger: string }).challenger.toLowerCase())).toEqual([auditor]);
    const invalidated = logs.filter((l) => l.eventName === 'TaskInvalidated');
    expect(invalidated.map((l) => (l.args as { taskId: bigint }).taskId)).toEqual([t2]); // the honest worker's task never
    expect(verifier.ctx.store.getTask(String(t2))?.status).toBeDefined();
  }, 400_000);
});
