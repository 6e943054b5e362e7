/**
 * An RPC that drops connections mid-run: a small proxy in front of anvil destroys 15% of connections without an
 * answer (some after forwarding the request, so the chain saw it). The nodes retry with backoff and finish: every
 * task finalized, every lie slashed. A reverted transaction is logged with its decoded custom error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { sendCall } from '../../src/node/context.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import type { Requester } from '../../src/node/roles/requester.js';
import { TxFailedError } from '../../src/chain/tx.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from './helpers.js';

let net: TestNet;
let proxy: Server;
let proxyUrl: string;
let dropped = 0;
let forwarded = 0;
const nodes: VerityNode[] = [];
const dirs: string[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  net = await testNet([quantized('wine-mlp')]);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const roll = Math.random();
      if (roll < 0.075) {
        dropped++;
        req.socket.destroy(); // dropped before forwarding
        return;
      }
      try {
        const r = await fetch(net.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
        const body = await r.text();
        forwarded++;
        if (roll < 0.15) {
          dropped++;
          req.socket.destroy(); // dropped after the chain saw the request
          return;
        }
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(body);
      } catch {
        req.socket.destroy();
      }
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const a = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  await new Promise<void>((r) => proxy?.close(() => r()));
  proxy?.closeAllConnections();
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function node(role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number } = {}): Promise<VerityNode> {
  const dir = mkdtempSync(join(tmpdir(), `verity-drop-${role}-`));
  dirs.push(dir);
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString());
      cb();
    },
  });
  const n = await createNode({ role, rpcUrl: proxyUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net.addresses, qmodels: [quantized('wine-mlp')], pollMs: 200, maxBackoffMs: 2_000, logger: pino({ level: 'info' }, stream), ...extra });
  nodes.push(n);
  return n;
}

describe('nodes behind an RPC that drops connections', () => {
  it('retry with backoff and finish: all tasks finalized, lies slashed', async () => {
    const honest = await node('worker', 1);
    const liar = await node('worker', 2, { dishonest: 1 });
    const verifier = await node('verifier', 3);
    const requester = await node('requester', 4);
    await Promise.all([honest.start(), liar.start(), verifier.start(), requester.start()]);
    const q = quantized('wine-mlp');
    const ref = new LocalEngineProvider([q]);
    const root = ref.modelRoots()[0]!;
    const req = requester.role as Requester;
    const rows = modelData('wine-mlp').x.slice(0, 4);
    const ids = rows.map((row) => req.submit({ modelId: net.modelIds.get('wine-mlp')!, modelRoot: root, inputs: [quantizeInput(q, row)], fee: 2n * E18, ttl: 300 }));
    const views = await until(() => {
      const v = ids.map((id) => req.view(id)!);
      return v.every((x) => x.status === 'finalized') ? v : undefined;
    }, 240_000, 500);
    views.forEach((v, k) => expect(v.result?.outputHash).toBe(ref.run(root, [quantizeInput(q, rows[k]!)]).outputHash));
    await until(() => verifier.ctx.store.listDisputes().every((d) => d.state === 'done'), 120_000, 500);
    expect(verifier.ctx.store.listDisputes().every((d) => d.outcome === 2)).toBe(true);
    // Nothing sent twice: every confirmed transaction of every node has a distinct nonce and key.
    for (const n of nodes) {
      const txs = n.ctx.store.listTxs(10_000).filter((t) => t.status === 'confirmed');
      expect(new Set(txs.map((t) => t.nonce)).size).toBe(txs.length);
    }
    expect(dropped).toBeGreaterThan(10);
    console.log(`rpc proxy: ${forwarded} forwarded, ${dropped} dropped; ${verifier.ctx.store.listDisputes().length} disputes won by the verifier`);
  }, 400_000);

  it('a reverted transaction is logged with its decoded custom error', async () => {
    const w = nodes[0]!;
    await expect(sendCall(w.ctx, 'test:claim-missing', w.ctx.calls.market.claim([999n, 1n]))).rejects.toBeInstanceOf(TxFailedError);
    expect(w.ctx.store.getTx('test:claim-missing')).toMatchObject({ status: 'failed' });
    expect(w.ctx.store.getTx('test:claim-missing')!.error).toMatch(/MarketUnexpectedStatus\(999, 0\)/);
    expect(logLines.some((l) => l.includes('"level":50') && l.includes('TaskMarket.claim would revert') && l.includes('MarketUnexpectedStatus(999, 0)'))).toBe(true);
  });
});
