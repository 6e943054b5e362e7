/**
 * A batch labeling job through the nodes on anvil (in-process nodes, each serving its HTTP API on 127.0.0.1): the
 * requester posts 8 inputs under one root and serves them; a dishonest worker (lies in exactly one element of each
 * batch) claims first and commits all results under one root; the verifier re-executes, challenges that element
 * alone (Merkle proofs checked by the market) and wins; the liar is slashed; the requester re-posts and returns
 * only element results of a finalized batch, equal to the honest engine's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputHashOf } from '../../src/commit/index.js';
import { stakingAbi } from '../../src/chain/artifacts/index.js';
import { buildApi } from '../../src/node/api.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import type { Requester } from '../../src/node/roles/requester.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from './helpers.js';

let net: TestNet;
const nodes: VerityNode[] = [];
const apps: FastifyInstance[] = [];
const dirs: string[] = [];
const peers: string[] = [];

beforeAll(async () => {
  net = await testNet([quantized('wine-mlp')]);
});

afterAll(async () => {
  for (const a of apps) await a.close().catch(() => undefined);
  for (const n of nodes) await n.stop().catch(() => undefined);
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function node(role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number } = {}): Promise<VerityNode> {
  const dir = mkdtempSync(join(tmpdir(), `verity-batch-${role}-`));
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
  n.ctx.peers = peers; // shared: every node asks every API
  const app = await buildApi(n);
  peers.push(await app.listen({ host: '127.0.0.1', port: 0 }));
  apps.push(app);
  nodes.push(n);
  return n;
}

describe('batch labeling job through the nodes', () => {
  it('challenges the one wrong element alone, slashes the liar, returns only verified element results', async () => {
    const liar = await node('worker', 2, { dishonest: 1 });
    const verifier = await node('verifier', 3);
    const requester = await node('requester', 4);
    const honest = await node('worker', 1);
    await Promise.all([liar.start(), verifier.start(), requester.start()]);

    const q = quantized('wine-mlp');
    const ref = new LocalEngineProvider([q]);
    const root = ref.modelRoots()[0]!;
    const rows = modelData('wine-mlp').x.slice(0, 8);
    const items = rows.map((row) => [quantizeInput(q, row)]);
    const req = requester.role as Requester;
    const id = req.submitBatch({ modelId: net.modelIds.get('wine-mlp')!, modelRoot: root, items, fee: 8n * E18, ttl: 300 });
    requester.poke();

    // The inputs are served content-addressed by the posted root.
    const posted = await until(() => (req.view(id)?.taskId ? req.view(id) : undefined), 60_000);
    const served = (await (await fetch(`${peers[2]}/batches/${posted.batch!.inputRoot}/inputs`)).json()) as { items: unknown[][] };
    expect(served.items.length).toBe(8);

    // The liar claims and commits the first batch; then the honest worker joins.
    await until(() => liar.ctx.store.listTasks(100).some((t) => t.itemCount === 8 && t.txs.commit), 120_000, 250);
    await honest.start();

    const view = await until(() => {
      const v = req.view(id)!;
      return v.status === 'finalized' && v.batch?.items ? v : undefined;
    }, 300_000, 500);
    expect(view.batch!.items!.length).toBe(8);
    view.batch!.items!.forEach((it, k) => {
      const truth = ref.execute(root, items[k]!);
      expect(it.outputHash).toBe(outputHashOf(truth.outputs));
      expect(it.outputs[0]!.data).toEqual(Array.from(truth.outputs[0]!.data));
    });
    expect(view.batch!.worker?.toLowerCase()).toBe(keyOf(1).address.toLowerCase());

    // Every liar batch was challenged on exactly its corrupted element, and invalidated.
    await until(() => liar.ctx.store.listTasks(100).filter((t) => t.txs.commit).every((t) => t.status === 'invalidated'), 120_000, 500);
    const liarTasks = liar.ctx.store.listTasks(100).filter((t) => t.txs.commit);
    expect(liarTasks.length).toBeGreaterThan(0);
    const vd = verifier.ctx.store.listDisputes();
    expect(vd.length).toBe(liarTasks.length);
    for (const d of vd) {
      expect(d.state).toBe('done');
      expect(d.outcome).toBe(2);
      const lied = liar.ctx.store.listResults(d.taskId).filter((r) => r.corrupted).map((r) => r.idx);
      expect(lied).toEqual([d.idx]);
    }
    const staked = async (i: number) =>
      (await net.publicClient.readContract({ address: net.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [keyOf(i).address] })).staked;
    expect(await staked(2)).toBe(1_000n * E18 - BigInt(liarTasks.length) * 100n * E18);
    expect(await staked(1)).toBe(1_000n * E18);
    expect(honest.ctx.store.listTasks(100).every((t) => t.status !== 'invalidated')).toBe(true);
    // The honest worker serves any single element with its proof.
    const fin = honest.ctx.store.listTasks(100).find((t) => t.itemCount === 8 && t.status === 'finalized')!;
    const item = (await (await fetch(`${peers[3]}/tasks/${fin.taskId}/items/5`)).json()) as { index: number; resultProof: string[]; inputProof: string[] };
    expect(item.index).toBe(5);
    expect(item.resultProof.length).toBe(3);
    expect(item.inputProof.length).toBe(3);
    console.log(`batch of 8: liar committed ${liarTasks.length} batch(es), each challenged on its one wrong element and slashed; finalized by the honest worker`);
  }, 500_000);
});
