/**
 * Peers found through the chain: four nodes on anvil started with no peers list at all. Each announces its API URL
 * in its agent's ERC-8004 registration file (a `verity-node` service with its role); every batch input, element
 * result and proof the nodes exchange is fetched from an endpoint read from those registrations. A batch job
 * finalizes (by the honest worker), the lying worker's batch element is challenged and the dispute is won by the
 * verifier; a node whose API is gone drops out of the discovered list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityRegistryAbi } from '../../src/chain/artifacts/index.js';
import { readRegistrationUri, serviceOf } from '../../src/agents/registration.js';
import { buildApi } from '../../src/node/api.js';
import { discoveryOf } from '../../src/node/discovery.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import type { Requester } from '../../src/node/roles/requester.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from './helpers.js';

let net: TestNet;
const nodes: VerityNode[] = [];
const apps = new Map<VerityNode, FastifyInstance>();
const dirs: string[] = [];

beforeAll(async () => {
  net = await testNet([quantized('wine-mlp')]);
});

afterAll(async () => {
  for (const a of apps.values()) await a.close().catch(() => undefined);
  for (const n of nodes) await n.stop().catch(() => undefined);
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A node with no peers list; its API listens first and its URL is what it registers. */
async function node(role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number } = {}): Promise<{ n: VerityNode; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), `verity-disc-${role}-`));
  dirs.push(dir);
  const n = await createNode({ role, rpcUrl: net.anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net.addresses, qmodels: [quantized('wine-mlp')], pollMs: 200, logger: pino({ level: process.env.NODE_TEST_LOG ?? 'silent' }), ...extra });
  const app = await buildApi(n);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  n.ctx.publicUrl = url;
  n.ctx.discoveryRefreshMs = 1_000;
  apps.set(n, app);
  nodes.push(n);
  return { n, url };
}

describe('nodes find their peers through the ERC-8004 registrations', () => {
  it('a batch finalizes and the liar loses its dispute with no peers list', async () => {
    const liar = await node('worker', 2, { dishonest: 1 });
    const verifier = await node('verifier', 3);
    const requester = await node('requester', 4);
    const honest = await node('worker', 1);
    await Promise.all([liar.n.start(), verifier.n.start(), requester.n.start()]);
    for (const x of [liar, verifier, requester]) expect(x.n.ctx.peers).toEqual([]);

    // Each agent's on-chain URI is a registration file whose verity-node service is the node's API.
    for (const [x, role] of [[liar, 'worker'], [verifier, 'verifier'], [requester, 'requester']] as const) {
      const id = BigInt(x.n.ctx.store.getKv('agentId')!);
      const uri = await net.publicClient.readContract({ address: net.addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'tokenURI', args: [id] });
      const svc = serviceOf(await readRegistrationUri(uri), 'verity-node')!;
      expect([svc.endpoint, svc.role]).toEqual([x.url, role]);
    }

    const q = quantized('wine-mlp');
    const ref = new LocalEngineProvider([q]);
    const root = ref.modelRoots()[0]!;
    const items = modelData('wine-mlp').x.slice(0, 8).map((row) => [quantizeInput(q, row)]);
    const req = requester.n.role as Requester;
    const id = req.submitBatch({ modelId: net.modelIds.get('wine-mlp')!, modelRoot: root, items, fee: 8n * E18, ttl: 300 });
    requester.n.poke();

    // The liar fetched the inputs from the requester it discovered, claimed and committed; then the honest worker joins.
    await until(() => liar.n.ctx.store.listTasks(100).some((t) => t.itemCount === 8 && t.txs.commit), 120_000, 250);
    const seen = discoveryOf(liar.n.ctx);
    expect(seen.peers()).toContain(requester.url);
    expect(seen.peers()).not.toContain(liar.url);
    expect(seen.describe(requester.url)).toEqual({ owner: keyOf(4).address.toLowerCase(), role: 'requester' });
    await honest.n.start();

    const view = await until(() => {
      const v = req.view(id)!;
      return v.status === 'finalized' && v.batch?.items ? v : undefined;
    }, 300_000, 500);
    expect(view.batch!.worker?.toLowerCase()).toBe(keyOf(1).address.toLowerCase());
    view.batch!.items!.forEach((it, k) => expect(it.outputHash).toBe(ref.run(root, items[k]!).outputHash));

    await until(() => liar.n.ctx.store.listTasks(100).filter((t) => t.txs.commit).every((t) => t.status === 'invalidated'), 120_000, 500);
    const vd = verifier.n.ctx.store.listDisputes();
    expect(vd.length).toBeGreaterThan(0);
    for (const d of vd) expect([d.state, d.outcome]).toEqual(['done', 2]);

    // A peer that is gone drops out of the list; the others stay.
    await apps.get(liar.n)!.close();
    apps.delete(liar.n);
    const after = await until(async () => {
      const p = await discoveryOf(requester.n.ctx).refresh();
      return p.includes(liar.url) ? undefined : p;
    }, 30_000, 500);
    expect(after).toEqual(expect.arrayContaining([verifier.url, honest.url]));
    console.log(`discovery: ${vd.length} dispute(s) won by the verifier, batch finalized by the honest worker; peers after the liar left: ${after.length}`);
  }, 500_000);
});
