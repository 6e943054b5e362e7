/**
 * The log follower on a real anvil: a live reorg (anvil_reorg) while it runs — no event lost or delivered twice,
 * its view equals the chain's logs afterwards; and behind an RPC proxy that answers HTTP 429 / -32005 now and then
 * and refuses eth_getLogs ranges over 10 blocks — every event still delivered once.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, ANVIL_ACCOUNTS, type AnvilInstance } from '../../src/chain/anvil.js';
import { verityTokenAbi, verityTokenBytecode } from '../../src/chain/artifacts/index.js';
import { classifyRpcError, LogFollower, type FollowedLog, type FollowerState } from '../../src/chain/follower.js';

const E18 = 10n ** 18n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A cursor store that round-trips through JSON (as the node's SQLite kv does). */
function jsonCursor() {
  let saved: string | undefined;
  return {
    load: () => (saved ? (JSON.parse(saved) as FollowerState) : undefined),
    save: (s: FollowerState) => {
      saved = JSON.stringify(s);
    },
  };
}

/** The follower's view: live logs by id, and how many times each id was delivered. */
function view() {
  const live = new Map<string, FollowedLog>();
  const deliveries = new Map<string, number>();
  let removed = 0;
  return {
    live,
    deliveries,
    get removed() {
      return removed;
    },
    handlers: {
      onLogs: (logs: FollowedLog[]) => {
        for (const l of logs) {
          if (live.has(l.id)) throw new Error(`delivered twice while live: ${l.id}`);
          live.set(l.id, l);
          deliveries.set(l.id, (deliveries.get(l.id) ?? 0) + 1);
        }
      },
      onRemoved: (gone: { id: string }[]) => {
        for (const g of gone) {
          if (!live.delete(g.id)) throw new Error(`removed a log not in the view: ${g.id}`);
          removed++;
        }
      },
    },
  };
}

/** Transfer logs on chain now, keyed like the follower's ids (tx hash : rank in tx). */
async function chainTransfers(pc: PublicClient, token: Address): Promise<Map<string, { to: Address; value: bigint; blockHash: Hex }>> {
  const logs = await pc.getContractEvents({ address: token, abi: verityTokenAbi, eventName: 'Transfer', fromBlock: 0n, strict: true });
  const out = new Map<string, { to: Address; value: bigint; blockHash: Hex }>();
  const rank = new Map<string, number>();
  for (const l of logs) {
    const r = rank.get(l.transactionHash) ?? 0;
    rank.set(l.transactionHash, r + 1);
    out.set(`${l.transactionHash}:${r}`, { to: l.args.to, value: l.args.value, blockHash: l.blockHash });
  }
  return out;
}

function expectViewMatches(v: ReturnType<typeof view>, onChain: Map<string, { to: Address; value: bigint; blockHash: Hex }>) {
  expect([...v.live.keys()].sort()).toEqual([...onChain.keys()].sort());
  for (const [id, c] of onChain) {
    const l = v.live.get(id)!;
    expect(l.args.to).toBe(c.to);
    expect(l.args.value).toBe(c.value);
  }
}

let anvil: AnvilInstance;
let pc: PublicClient;
let token: Address;
const account = privateKeyToAccount(ANVIL_ACCOUNTS[0]!.privateKey);
let wallet: ReturnType<typeof createWalletClient>;
let nTransfers = 0;

async function transfer(): Promise<Hex> {
  nTransfers++;
  const to = `0x${(0x1000 + nTransfers).toString(16).padStart(40, '0')}` as Address;
  const hash = await wallet.writeContract({ address: token, abi: verityTokenAbi, functionName: 'transfer', args: [to, BigInt(nTransfers)], account, chain: foundry });
  await pc.waitForTransactionReceipt({ hash, pollingInterval: 10 });
  return hash;
}

beforeAll(async () => {
  anvil = await startAnvil();
  pc = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 10 }) as PublicClient;
  wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account });
  const hash = await wallet.deployContract({ abi: verityTokenAbi, bytecode: verityTokenBytecode, args: [account.address, 1_000_000n * E18], account, chain: foundry });
  token = (await pc.waitForTransactionReceipt({ hash })).contractAddress!;
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
});

describe('LogFollower', () => {
  it('follows through a live anvil_reorg: nothing lost, nothing twice, view = chain', async () => {
    const v = view();
    const reorgs: bigint[] = [];
    const f = new LogFollower({ client: pc, address: token, abi: verityTokenAbi, eventNames: ['Transfer'], cursor: jsonCursor(), maxRange: 5n, onReorg: (r) => reorgs.push(r.ancestor) });
    let running = true;
    let loopError: unknown;
    const loop = (async () => {
      while (running) {
        try {
          await f.poll(v.handlers);
        } catch (e) {
          loopError = e;
          return;
        }
        await sleep(5);
      }
    })();
    try {
      const before: Hex[] = [];
      for (let i = 0; i < 4; i++) before.push(await transfer());
      // Let the follower see the blocks that are about to be replaced.
      const want = (await chainTransfers(pc, token)).size;
      for (let i = 0; i < 400 && v.live.size < want; i++) await sleep(10);
      expect(v.live.size).toBe(want);
      // Replace the last 3 blocks: the transfers in them vanish, except the last one, re-included (same signed
      // transaction, so same hash) one block lower, plus a new transfer.
      const last = await pc.getTransaction({ hash: before[3]! });
      nTransfers++;
      const fresh = `0x${(0x1000 + nTransfers).toString(16).padStart(40, '0')}` as Address;
      const { encodeFunctionData } = await import('viem');
      await pc.request({
        method: 'anvil_reorg' as never,
        params: [
          3,
          [
            [{ from: account.address, to: token, data: encodeFunctionData({ abi: verityTokenAbi, functionName: 'transfer', args: [fresh, 999n] }), nonce: `0x${(last.nonce - 2).toString(16)}`, gas: '0x30000' }, 0],
            [{ from: account.address, to: token, data: last.input, nonce: `0x${(last.nonce - 1).toString(16)}`, gas: `0x${last.gas.toString(16)}` }, 1],
          ],
        ] as never,
      });
      for (let i = 0; i < 3; i++) await transfer();
      running = false;
      await loop;
      expect(loopError).toBeUndefined();
      await f.catchUp(v.handlers);
      expect(reorgs.length).toBeGreaterThan(0);
      const onChain = await chainTransfers(pc, token);
      expectViewMatches(v, onChain);
      // Removed logs were the ones the reorg dropped; nothing live was ever delivered twice.
      expect(v.removed).toBeGreaterThanOrEqual(1);
      for (const [id, n] of v.deliveries) expect(n, id).toBe(1);
    } finally {
      running = false;
      await loop;
    }
  }, 120_000);

  it('a cursor reloaded after a restart resumes without redelivery, and a reorg between runs is reconciled', async () => {
    const cursor = jsonCursor();
    const v = view();
    await new LogFollower({ client: pc, address: token, abi: verityTokenAbi, cursor }).catchUp(v.handlers);
    const snap = (await pc.request({ method: 'evm_snapshot' as never })) as Hex;
    await transfer();
    await transfer();
    await new LogFollower({ client: pc, address: token, abi: verityTokenAbi, cursor }).catchUp(v.handlers);
    await pc.request({ method: 'evm_revert' as never, params: [snap] as never });
    await transfer();
    await new LogFollower({ client: pc, address: token, abi: verityTokenAbi, cursor }).catchUp(v.handlers);
    expectViewMatches(v, await chainTransfers(pc, token));
    expect(v.removed).toBe(2);
    for (const [id, n] of v.deliveries) expect(n, id).toBe(1);
  }, 60_000);

  it('holds back logs until they have the confirmation depth', async () => {
    const v = view();
    const f = new LogFollower({ client: pc, address: token, abi: verityTokenAbi, cursor: jsonCursor(), confirmations: 3 });
    await f.catchUp(v.handlers);
    const hash = await transfer();
    await f.catchUp(v.handlers);
    const has = () => [...v.live.values()].some((l) => l.transactionHash === hash);
    expect(has()).toBe(false);
    await pc.request({ method: 'anvil_mine' as never, params: ['0x2'] as never });
    await f.catchUp(v.handlers);
    expect(has()).toBe(false);
    await pc.request({ method: 'anvil_mine' as never, params: ['0x1'] as never });
    await f.catchUp(v.handlers);
    expect(has()).toBe(true);
  }, 60_000);

  it('behind a proxy that answers 429 / -32005 and caps getLogs at 10 blocks, delivers every event once', async () => {
    // Spread some transfers over empty blocks.
    for (let i = 0; i < 12; i++) {
      await transfer();
      await pc.request({ method: 'anvil_mine' as never, params: ['0x3'] as never });
    }
    let n = 0;
    let rateLimited = 0;
    let refusedRanges = 0;
    let largest = 0n;
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', async () => {
        n++;
        const msg = JSON.parse(body) as { id: number; method: string; params: { fromBlock: Hex; toBlock: Hex }[] };
        const reply = (status: number, obj: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        if (n % 5 === 0) {
          rateLimited++;
          return reply(429, { jsonrpc: '2.0', id: msg.id, error: { code: -32005, message: 'Too Many Requests' } });
        }
        if (n % 7 === 0) {
          rateLimited++;
          return reply(200, { jsonrpc: '2.0', id: msg.id, error: { code: -32005, message: 'rate limit exceeded, retry later' } });
        }
        if (msg.method === 'eth_getLogs') {
          const span = BigInt(msg.params[0]!.toBlock) - BigInt(msg.params[0]!.fromBlock) + 1n;
          if (span > 10n) {
            refusedRanges++;
            return reply(200, { jsonrpc: '2.0', id: msg.id, error: { code: -32005, message: 'query exceeds max block range 10' } });
          }
          if (span > largest) largest = span;
        }
        const up = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        reply(up.status, await up.json());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      // No retries in the transport: the follower's own backoff has to carry it.
      const client = createPublicClient({ chain: foundry, transport: http(`http://127.0.0.1:${port}`, { retryCount: 0 }) }) as PublicClient;
      const v = view();
      const backoffs: number[] = [];
      const f = new LogFollower({ client, address: token, abi: verityTokenAbi, cursor: jsonCursor(), maxRange: 1000n, retry: { baseMs: 2, maxMs: 20 }, onBackoff: (b) => backoffs.push(b.delayMs) });
      await f.catchUp(v.handlers);
      expectViewMatches(v, await chainTransfers(pc, token));
      for (const [id, c] of v.deliveries) expect(c, id).toBe(1);
      expect(rateLimited).toBeGreaterThan(0);
      expect(backoffs.length).toBe(rateLimited);
      expect(refusedRanges).toBeGreaterThan(0);
      expect(largest).toBeLessThanOrEqual(10n);
      expect(f.currentRange).toBeLessThanOrEqual(10n);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);

  it('classifies provider errors', () => {
    expect(classifyRpcError({ code: -32005, message: 'query returned more than 10000 results' })).toBe('range');
    expect(classifyRpcError({ code: -32602, message: 'eth_getLogs block range too large' })).toBe('range');
    expect(classifyRpcError({ code: -32005, message: 'limit exceeded' })).toBe('rate');
    expect(classifyRpcError({ status: 429, message: 'HTTP request failed.' })).toBe('rate');
    expect(classifyRpcError({ code: -32000, message: 'execution reverted' })).toBe('other');
  });
});
