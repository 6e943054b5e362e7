/**
 * A live reorg under running nodes, behind an RPC that answers HTTP 429 / -32005 now and then and refuses eth_getLogs
 * ranges over 10 blocks. A worker and a verifier node run; three tasks are posted, claimed, committed and checked;
 * then the chain is reverted (evm_revert) to before the posts and rebuilt with other blocks: the same signed
 * transactions re-included at other heights — except the worker's last commit, which only the worker can bring back
 * (its TxSender.reconcile re-broadcasts the same bytes). Afterwards: every task finalized once, nothing answered twice,
 * no intent sent under two transactions, and the nodes' SQLite view (journal blocks, task rows, follower checkpoints)
 * matches the chain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWalletClient, http, maxUint256, erc20Abi, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postTask } from '../../src/chain/actions/index.js';
import { anvilAccount } from '../../src/chain/anvil.js';
import { taskMarketAbi } from '../../src/chain/artifacts/index.js';
import type { FollowerState } from '../../src/chain/follower.js';
import { sendContractTransaction } from '../../src/chain/send.js';
import { readTask } from '../../src/node/context.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';
import { E18, keyOf, testNet, until, type TestNet } from './helpers.js';

let net: TestNet;
let proxy: Server;
let proxyUrl: string;
const stats = { requests: 0, rateLimited: 0, refusedRanges: 0, largestRange: 0n };
const nodes: VerityNode[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  // fifo: a block takes transactions in the order they arrived (the rebuilt chain keeps each post before its claim).
  // Interval mining only: the reorg rebuilds the chain from one batch of raw transactions into blocks of its own.
  net = await testNet([quantized('wine-mlp')], { challengeWindow: 8n, mixedMining: false, anvilArgs: ['--order', 'fifo'] });
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      const msg = JSON.parse(body) as { id: number; method: string; params: { fromBlock?: Hex; toBlock?: Hex }[] };
      const reply = (status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      stats.requests++;
      if (stats.requests % 12 === 0) {
        stats.rateLimited++;
        return reply(429, { jsonrpc: '2.0', id: msg.id, error: { code: -32005, message: 'Too Many Requests' } });
      }
      if (msg.method === 'eth_getLogs') {
        const p = msg.params[0]!;
        const head = BigInt((await (await fetch(net.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) })).json() as { result: Hex }).result);
        const from = p.fromBlock && /^0x/.test(p.fromBlock) ? BigInt(p.fromBlock) : 0n;
        const to = p.toBlock && /^0x/.test(p.toBlock) ? BigInt(p.toBlock) : head;
        const span = to - from + 1n;
        if (span > 10n) {
          stats.refusedRanges++;
          return reply(200, { jsonrpc: '2.0', id: msg.id, error: { code: -32005, message: 'query exceeds max block range 10' } });
        }
        if (span > stats.largestRange) stats.largestRange = span;
      }
      try {
        const up = await fetch(net.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        res.writeHead(up.status, { 'content-type': 'application/json' }).end(await up.text());
      } catch {
        req.socket.destroy();
      }
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const a = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}, 120_000);

afterAll(async () => {
  for (const n of nodes) await n.stop().catch(() => undefined);
  proxy?.closeAllConnections();
  await new Promise<void>((r) => proxy?.close(() => r()));
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function node(role: 'worker' | 'verifier', i: number): Promise<VerityNode> {
  const dir = mkdtempSync(join(tmpdir(), `verity-reorg-${role}-`));
  dirs.push(dir);
  const n = await createNode({ role, rpcUrl: proxyUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net.addresses, qmodels: [quantized('wine-mlp')], pollMs: 150, maxBackoffMs: 1_000, follow: { maxRange: 1_000n }, logger: pino({ level: process.env.NODE_TEST_LOG ?? 'silent' }) });
  nodes.push(n);
  return n;
}

const rpc = <T>(method: string, params: unknown[] = []) => net.publicClient.request({ method: method as 'eth_chainId', params: params as never }) as Promise<T>;

describe('a live reorg under a worker and a verifier, behind a 429 / range-capped RPC', () => {
  it('no task lost or answered twice, no intent sent twice, the nodes\u2019 view matches the chain', async () => {
    const worker = await node('worker', 1);
    const verifier = await node('verifier', 3);
    await Promise.all([worker.start(), verifier.start()]);

    const requester = { publicClient: net.publicClient, walletClient: createWalletClient({ chain: foundry, transport: http(net.anvil.rpcUrl), account: anvilAccount(4), pollingInterval: 50 }), addresses: net.addresses };
    await sendContractTransaction(requester, { contract: 'VerityToken', address: net.addresses.token, abi: erc20Abi, functionName: 'approve', args: [net.addresses.taskMarket, maxUint256] });
    const q = quantized('wine-mlp');
    const modelId = net.modelIds.get('wine-mlp')!;

    const t: Record<string, number> = { start: Date.now() };
    const snap = await rpc<Hex>('evm_snapshot');
    const forkBlock = await net.publicClient.getBlockNumber();
    const taskIds: bigint[] = [];
    for (const row of modelData('wine-mlp').x.slice(0, 3)) {
      const deadline = (await net.publicClient.getBlock()).timestamp + 600n;
      taskIds.push((await postTask(requester, { modelId, inputs: [quantizeInput(q, row)], fee: 2n * E18, deadline })).taskId);
    }
    const ids = taskIds.map(String);
    // Claimed, committed (worker) and checked (verifier), all in blocks after the fork point.
    await until(() => ids.every((id) => worker.ctx.store.getTask(id)?.txs.commit) && ids.every((id) => verifier.ctx.store.getTask(id)?.status === 'verified'), 150_000, 100);
    t.checked = Date.now();
    const before = new Map(worker.ctx.store.listTxs(1000).filter((t) => t.status === 'confirmed').map((t) => [t.key, t]));
    const lastCommit = worker.ctx.store.getTask(ids[2]!)!.txs.commit as Hex;

    // Every transaction after the fork point, in chain order, as signed bytes.
    const head = await net.publicClient.getBlockNumber();
    const raws: { hash: Hex; raw: Hex }[] = [];
    for (let b = forkBlock + 1n; b <= head; b++) {
      for (const hash of (await net.publicClient.getBlock({ blockNumber: b })).transactions) raws.push({ hash, raw: await rpc<Hex>('eth_getRawTransactionByHash', [hash]) });
    }
    expect(raws.some((r) => r.hash === lastCommit)).toBe(true);
    const oldBlockOf = new Map<Hex, Hex>();
    for (const r of raws) oldBlockOf.set(r.hash, (await net.publicClient.getTransactionReceipt({ hash: r.hash })).blockHash);

    // The reorg: back to the fork point, then the same transactions again in new blocks — all but the worker's last
    // commit.
    expect(await rpc<boolean>('evm_revert', [snap])).toBe(true);
    // In one JSON-RPC batch, in chain order: the nodes cannot interleave a transaction of their own.
    const batch = raws.filter((r) => r.hash !== lastCommit).map((r, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_sendRawTransaction', params: [r.raw] }));
    const sent = (await (await fetch(net.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) })).json()) as { result?: Hex; error?: unknown }[];
    expect(sent.map((x) => x.result)).toEqual(raws.filter((r) => r.hash !== lastCommit).map((r) => r.hash));
    t.reorged = Date.now();

    // The run goes on: every task finalized on chain.
    await until(async () => (await Promise.all(taskIds.map((id) => readTask(worker.ctx, id)))).every((t) => t.status === 'Finalized'), 90_000, 250);
    await until(() => ids.every((id) => worker.ctx.store.getTask(id)?.status === 'finalized'), 30_000, 100);
    t.finalized = Date.now();
    // What the finalizations set off (the worker's withdrawal) settles too: nothing left to withdraw (a withdrawal
    // intent journaled after an idle moment would otherwise still be in flight) and every journal row settled.
    const claimable = () => net.publicClient.readContract({ address: net.addresses.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [worker.ctx.account] });
    await until(async () => (await claimable()) === 0n && [worker, verifier].every((n) => n.ctx.store.unsettledTxs().length === 0), 30_000, 100);
    console.log(`reorg: phases (s) post→checked ${((t.checked! - t.start!) / 1000).toFixed(1)}, reorg ${((t.reorged! - t.checked!) / 1000).toFixed(1)}, →finalized ${((t.finalized! - t.reorged!) / 1000).toFixed(1)}; ${raws.length} transactions re-included (${raws.length - 1} by the test, the last commit by the worker); rpc ${stats.requests} requests, ${stats.rateLimited} answered 429, ${stats.refusedRanges} log ranges refused`);

    // The reorg was seen by both nodes, and the worker brought its dropped commit back itself, same bytes.
    expect(worker.ctx.metrics.get('verity_node_reorgs_total') ?? 0).toBeGreaterThan(0);
    expect(verifier.ctx.metrics.get('verity_node_reorgs_total') ?? 0).toBeGreaterThan(0);
    const commitReceipt = await net.publicClient.getTransactionReceipt({ hash: lastCommit });
    expect(commitReceipt.status).toBe('success');
    // Every re-included transaction sits in another block than before.
    for (const r of raws) expect((await net.publicClient.getTransactionReceipt({ hash: r.hash })).blockHash, r.hash).not.toBe(oldBlockOf.get(r.hash));

    // No task answered twice: one claim, one commit, one finalize per task on the chain.
    const events = async (eventName: 'TaskClaimed' | 'ResultCommitted' | 'TaskFinalized') =>
      (await net.publicClient.getContractEvents({ address: net.addresses.taskMarket, abi: taskMarketAbi, eventName, fromBlock: 0n, strict: true })).map((l) => String((l.args as { taskId: bigint }).taskId));
    for (const name of ['TaskClaimed', 'ResultCommitted', 'TaskFinalized'] as const) expect((await events(name)).sort(), name).toEqual([...ids].sort());

    // No intent sent twice: each node's mined transactions are exactly its journal's settled rows (one per key,
    // one per nonce), and every journaled hash is on the chain at the block the journal says.
    for (const n of [worker, verifier]) {
      const rows = n.ctx.store.listTxs(10_000);
      expect(rows.filter((x) => x.status !== 'confirmed'), 'all settled').toEqual([]);
      expect(await net.publicClient.getTransactionCount({ address: n.ctx.account })).toBe(rows.length);
      expect(new Set(rows.map((t) => t.nonce)).size).toBe(rows.length);
      for (const x of rows) {
        const r = await net.publicClient.getTransactionReceipt({ hash: x.hash as Hex });
        expect([r.status, Number(r.blockNumber)], x.key).toEqual(['success', x.block]);
      }
    }
    // Keys that were confirmed before the reorg kept their hash (the same transaction, not a second one).
    for (const [key, x] of before) expect(worker.ctx.store.getTx(key)!.hash, key).toBe(x.hash);

    // The task rows match the chain, and the step hashes they record are the mined ones.
    for (const id of ids) {
      const w = worker.ctx.store.getTask(id)!;
      expect(w.status).toBe('finalized');
      for (const step of ['claim', 'commit', 'finalize']) expect((await net.publicClient.getTransactionReceipt({ hash: w.txs[step] as Hex })).status, `${id} ${step}`).toBe('success');
      expect(verifier.ctx.store.getTask(id)!.status).toBe('verified');
    }
    // Each follower's checkpoints are blocks of the current chain.
    for (const n of [worker, verifier]) {
      const kv = n.ctx.store.db.prepare("SELECT key, value FROM kv WHERE key LIKE 'follow:%'").all() as { key: string; value: string }[];
      expect(kv.length).toBeGreaterThan(0);
      for (const { key, value } of kv) {
        for (const cp of (JSON.parse(value) as FollowerState).checkpoints) expect((await net.publicClient.getBlock({ blockNumber: BigInt(cp.n) })).hash, `${key} @${cp.n}`).toBe(cp.h);
      }
    }

    // The RPC limits were in play.
    expect(stats.rateLimited).toBeGreaterThan(0);
    expect(stats.refusedRanges).toBeGreaterThan(0);
    expect(stats.largestRange).toBeLessThanOrEqual(10n);
  }, 300_000);
});
