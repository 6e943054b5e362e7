/**
 * The three roles in one process on anvil (real DisputeGame, real one-step verifier): an honest worker, a dishonest
 * worker (corrupts every answer), a verifier checking everything, and a requester. Every dishonest answer is
 * challenged and the liar slashed; the honest worker never is; the requester only ever reports finalized results,
 * and they equal the honest engine's outputs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputHashOf } from '../../src/commit/index.js';
import { stakingAbi } from '../../src/chain/artifacts/index.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import type { Requester } from '../../src/node/roles/requester.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from './helpers.js';

let net: TestNet;
const nodes: VerityNode[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  net = await testNet([quantized('wine-mlp')]);
});

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function node(role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number } = {}): Promise<VerityNode> {
  const dir = mkdtempSync(join(tmpdir(), `verity-${role}-`));
  dirs.push(dir);
  const n = await createNode({
    role,
    rpcUrl: net.anvil.rpcUrl,
    privateKey: keyOf(i).privateKey,
    dataDir: dir,
    addresses: net.addresses,
    qmodels: [quantized('wine-mlp')],
    pollMs: 200,
    logger: pino({ level: process.env.NODE_TEST_LOG ?? 'silent' }),
    ...extra,
  });
  nodes.push(n);
  return n;
}

describe('worker, verifier and requester on anvil', () => {
  it('challenges and slashes every dishonest answer; requesters get only finalized, correct results', async () => {
    const honest = await node('worker', 1);
    const liar = await node('worker', 2, { dishonest: 1 });
    const verifier = await node('verifier', 3);
    const requester = await node('requester', 4);
    await Promise.all([honest.start(), liar.start(), verifier.start(), requester.start()]);

    const q = quantized('wine-mlp');
    const ref = new LocalEngineProvider([q]);
    const root = ref.modelRoots()[0]!;
    const rows = modelData("wine-mlp").x.slice(0, 4);
    const req = requester.role as Requester;
    const ids = rows.map((row) => req.submit({ modelId: net.modelIds.get('wine-mlp')!, modelRoot: root, inputs: [quantizeInput(q, row)], fee: 5n * E18, ttl: 300 }));
    requester.poke();

    const views = await until(() => {
      const v = ids.map((id) => req.view(id)!);
      return v.every((x) => x.status === 'finalized') ? v : undefined;
    }, 240_000, 500);

    // Only finalized results, equal to the honest run.
    views.forEach((v, k) => {
      const truth = ref.execute(root, [quantizeInput(q, rows[k]!)]);
      expect(v.result?.outputHash).toBe(outputHashOf(truth.outputs));
      expect(v.result?.outputs[0]?.data).toEqual(Array.from(truth.outputs[0]!.data));
      expect(v.txs.post && v.txs.commit && v.txs.finalize).toBeTruthy();
    });

    const staked = async (i: number) =>
      (await net.publicClient.readContract({ address: net.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [keyOf(i).address] })).staked;
    const liarTasks = liar.ctx.store.listTasks(1000).filter((t) => t.txs.commit);
    const honestTasks = honest.ctx.store.listTasks(1000).filter((t) => t.txs.commit);
    // Every committed dishonest answer was challenged and invalidated (after its disputes settle).
    await until(() => liar.ctx.store.listTasks(1000).filter((t) => t.txs.commit).every((t) => t.status === 'invalidated'), 120_000, 500);
    const invalidated = liar.ctx.store.listTasks(1000).filter((t) => t.status === 'invalidated').length;
    expect(invalidated).toBe(liarTasks.length);
    if (liarTasks.length > 0) expect(await staked(2)).toBe(1_000n * E18 - BigInt(invalidated) * 100n * E18);
    expect(await staked(1)).toBe(1_000n * E18);
    expect(honestTasks.every((t) => t.status !== 'invalidated')).toBe(true);
    const vd = verifier.ctx.store.listDisputes();
    expect(vd.length).toBe(liarTasks.length);
    expect(vd.every((d) => d.state === 'done' && d.outcome === 2)).toBe(true);
    // Every challenge targeted the liar.
    for (const d of vd) expect(verifier.ctx.store.getTask(d.taskId)?.worker?.toLowerCase()).toBe(keyOf(2).address.toLowerCase());
    console.log(`tasks ${ids.length}: liar committed ${liarTasks.length} (all slashed), honest committed ${honestTasks.length}; verifier disputes ${vd.length}`);
  }, 400_000);
});
