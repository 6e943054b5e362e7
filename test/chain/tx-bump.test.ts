/**
 * EIP-1559 fee bumping under one idempotency key, on a real anvil with automine off: a transaction priced under a
 * base fee that then rises stays out of the blocks; the sender re-signs the SAME nonce with higher fees (≥ +12.5%,
 * never above the cap), journals each signature as an attempt of the key, and settles on whichever hash is mined —
 * across a crash (a new TxSender over the re-opened SQLite store). Exactly one transaction is mined for the intent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http, parseTransaction, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anvilKey, startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { bumpFees, TxPendingError, TxSender, viemPort, type ChainPort, type TxRequest } from '../../src/chain/tx.js';
import { NodeStore } from '../../src/node/store.js';

const GWEI = 10n ** 9n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let anvil: AnvilInstance;
let pc: PublicClient;
const dirs: string[] = [];

beforeAll(async () => {
  anvil = await startAnvil({ args: ['--no-mining'] });
  pc = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), pollingInterval: 20 }) as PublicClient;
}, 60_000);

afterAll(async () => {
  await anvil?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const rpc = (method: string, params: unknown[] = []) => pc.request({ method: method as 'eth_chainId', params: params as never });
const mine = () => rpc('evm_mine');

/** A port over anvil account `i` whose every call throws once `dead()` says so (the process is gone). */
function portOf(i: number, dead: () => boolean = () => false, onBroadcast?: (raw: Hex) => void): ChainPort {
  const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: privateKeyToAccount(anvilKey(i).privateKey) });
  const p = viemPort(pc, wallet);
  const guard = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    if (dead()) throw new Error('killed');
    return f(...a);
  };
  return {
    account: p.account,
    simulate: guard(p.simulate),
    pendingNonce: guard(p.pendingNonce),
    minedNonce: guard(p.minedNonce),
    sign: guard(p.sign),
    broadcast: guard(async (raw: Hex) => {
      onBroadcast?.(raw);
      if (dead()) throw new Error('killed');
      return p.broadcast(raw);
    }),
    waitReceipt: guard(p.waitReceipt),
    replace: { feesOf: p.replace!.feesOf, suggestedFees: guard(p.replace!.suggestedFees), resign: guard(p.replace!.resign), receipt: guard(p.replace!.receipt) },
  };
}

const payTo = (n: number): TxRequest => ({ label: 'eth.transfer', to: `0x${(0xbee0 + n).toString(16).padStart(40, '0')}` as Address, data: '0x', value: '1000' });

function storeIn(): { dir: string; open: () => NodeStore } {
  const dir = mkdtempSync(join(tmpdir(), 'verity-bump-'));
  dirs.push(dir);
  return { dir, open: () => NodeStore.open({ dataDir: dir }) };
}

/** Mines a block every `ms` until `p` settles (`before` runs ahead of each block). */
async function mineWhile<T>(p: Promise<T>, before: () => Promise<unknown> = async () => undefined, ms = 150): Promise<T> {
  let done = false;
  const settled = p.finally(() => (done = true));
  while (!done) {
    await Promise.race([settled.catch(() => undefined), sleep(ms)]);
    if (!done) {
      await before();
      await mine();
    }
  }
  return settled;
}

describe('bumpFees', () => {
  it('raises both fees by at least 12.5%, follows a higher suggestion, and respects the cap', () => {
    const cur = { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    const low = { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n };
    expect(bumpFees(cur, low, 1000n * GWEI)).toEqual({ maxFeePerGas: 112_500_000_000n, maxPriorityFeePerGas: 2_250_000_000n });
    expect(bumpFees(cur, { maxFeePerGas: 300n * GWEI, maxPriorityFeePerGas: 5n * GWEI }, 1000n * GWEI)).toEqual({ maxFeePerGas: 300n * GWEI, maxPriorityFeePerGas: 5n * GWEI });
    // The suggestion above the cap: the cap.
    expect(bumpFees(cur, { maxFeePerGas: 300n * GWEI, maxPriorityFeePerGas: 5n * GWEI }, 150n * GWEI)!.maxFeePerGas).toBe(150n * GWEI);
    // A cap under +12.5%: no valid replacement.
    expect(bumpFees(cur, low, 110n * GWEI)).toBeNull();
    // Rounded up, never equal: 1 wei → 2 wei; 0 → 1.
    expect(bumpFees({ maxFeePerGas: 1n, maxPriorityFeePerGas: 0n }, low, 10n)).toEqual({ maxFeePerGas: 2n, maxPriorityFeePerGas: 1n });
  });
});

describe('TxSender fee bumping on anvil (no automine)', () => {
  it('a transaction priced out by a base-fee rise is re-signed under its nonce, survives a crash, and is mined once', async () => {
    const i = 1;
    const s = storeIn();
    const cap = 400n * GWEI;
    const opts = { bump: { afterMs: 250, maxFeePerGas: cap }, receiptTimeoutMs: 250, backoffMs: 10, maxBackoffMs: 50 };
    const key = 'pay:stuck';
    const account = anvilKey(i).address;
    const before = await pc.getBalance({ address: payTo(1).to! });

    // Life 1: signs and broadcasts at today's fee; then the base fee jumps over it (the block comes out empty of
    // our transaction) and the sender re-signs; then the process dies.
    let dead = false;
    const store1 = s.open();
    const a = new TxSender(store1, portOf(i, () => dead), { ...opts, attempts: 40 });
    const first = a.send(key, payTo(1));
    first.catch(() => undefined);
    const sent = await waitFor(() => store1.getTx(key)?.status === 'sent');
    expect(sent).toBe(true);
    const firstFee = store1.attemptsOf(key)[0]!;
    // Every block from now on has a base fee three times what the first signature pays at most.
    const high = BigInt(firstFee.maxFeePerGas!) * 3n;
    const spike = () => rpc('anvil_setNextBlockBaseFeePerGas', [`0x${high.toString(16)}`]);
    await spike();
    await mine();
    const block = await pc.getBlock({ includeTransactions: true });
    expect(block.transactions.filter((t) => t.from.toLowerCase() === account.toLowerCase())).toEqual([]);
    await waitFor(() => store1.attemptsOf(key).length >= 2);
    dead = true;
    await expect(first).rejects.toBeInstanceOf(TxPendingError);
    const mid = store1.attemptsOf(key);
    store1.close();
    expect(mid.at(-1)!.status).toBe('pending');
    for (const x of mid.slice(0, -1)) expect(x.status).toBe('replaced');
    // Each replacement pays at least 12.5% more on both fees than the one it replaces, never above the cap.
    for (let k = 1; k < mid.length; k++) {
      expect(BigInt(mid[k]!.maxFeePerGas!) * 8n).toBeGreaterThanOrEqual(BigInt(mid[k - 1]!.maxFeePerGas!) * 9n);
      expect(BigInt(mid[k]!.maxPriorityFeePerGas!) * 8n).toBeGreaterThanOrEqual(BigInt(mid[k - 1]!.maxPriorityFeePerGas!) * 9n);
      expect(BigInt(mid[k]!.maxFeePerGas!)).toBeLessThanOrEqual(cap);
    }

    // Life 2: a new sender over the re-opened store resumes the key (no second intent, no new nonce) while blocks
    // are mined.
    const store2 = s.open();
    const b = new TxSender(store2, portOf(i), { ...opts, attempts: 40 });
    const rec = await mineWhile(b.recover(), spike);
    expect(rec).toEqual({ settled: 1, failed: 0, pending: 0 });
    const row = store2.getTx(key)!;
    const attempts = store2.attemptsOf(key);
    expect(row.status).toBe('confirmed');
    expect(attempts.length).toBeGreaterThanOrEqual(mid.length);
    // One nonce for every signature of the intent.
    expect(new Set(attempts.map((x) => parseTransaction(x.raw as Hex).nonce))).toEqual(new Set([row.nonce]));
    expect(attempts.filter((x) => x.status === 'mined').map((x) => x.hash)).toEqual([row.hash]);
    expect(attempts.filter((x) => x.status !== 'mined').every((x) => x.status === 'replaced')).toBe(true);
    // The chain: exactly one transaction from the account, the journal's mined hash, paid once.
    expect(await pc.getTransactionCount({ address: account })).toBe(1);
    const receipt = await pc.getTransactionReceipt({ hash: row.hash as Hex });
    expect(receipt.status).toBe('success');
    expect(receipt.effectiveGasPrice).toBeLessThanOrEqual(cap);
    expect(await pc.getBalance({ address: payTo(1).to! })).toBe(before + 1000n);
    // The mined signature pays enough for the raised base fee (which none of the first ones did).
    expect(BigInt(attempts.find((x) => x.status === 'mined')!.maxFeePerGas!)).toBeGreaterThanOrEqual(high);
    expect(receipt.effectiveGasPrice).toBeGreaterThanOrEqual(high);
    store2.close();
  }, 60_000);

  it('a crash after journaling a replacement but before broadcasting it settles on the earlier hash that was mined', async () => {
    const i = 2;
    const s = storeIn();
    const opts = { bump: { afterMs: 200, maxFeePerGas: 1000n * GWEI }, receiptTimeoutMs: 200, backoffMs: 10, maxBackoffMs: 50 };
    const key = 'pay:old-mined';
    const account = anvilKey(i).address;
    const before = await pc.getBalance({ address: payTo(2).to! });
    let broadcasts = 0;
    let dead = false;
    const store1 = s.open();
    // The second broadcast (the replacement's) never reaches the node: the process dies right there.
    const a = new TxSender(store1, portOf(i, () => dead, () => {
      if (++broadcasts === 2) dead = true;
    }), { ...opts, attempts: 20 });
    await expect(a.send(key, payTo(2))).rejects.toBeInstanceOf(TxPendingError);
    const mid = store1.attemptsOf(key);
    expect(mid.map((x) => x.status)).toEqual(['replaced', 'pending']);
    store1.close();
    // Only the first signature is in the pool: a block mines it.
    await mine();
    const mined = await pc.getTransactionReceipt({ hash: mid[0]!.hash as Hex });
    expect(mined.status).toBe('success');

    const store2 = s.open();
    const b = new TxSender(store2, portOf(i), { ...opts, attempts: 20 });
    expect(await b.recover()).toEqual({ settled: 1, failed: 0, pending: 0 });
    const row = store2.getTx(key)!;
    expect([row.status, row.hash]).toEqual(['confirmed', mid[0]!.hash]);
    expect(store2.attemptsOf(key).map((x) => x.status)).toEqual(['mined', 'replaced']);
    expect(await pc.getTransactionCount({ address: account })).toBe(1);
    expect(await pc.getBalance({ address: payTo(2).to! })).toBe(before + 1000n);
    // The replacement never exists on chain.
    await expect(pc.getTransaction({ hash: mid[1]!.hash as Hex })).rejects.toThrow();
    store2.close();
  }, 60_000);
});

async function waitFor(f: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(20);
  }
  return true;
}
