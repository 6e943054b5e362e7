/**
 * NodeStore and TxSender: schema, rows, atomic trace files, and the crash-safety property — random sequences of
 * intents / sends / confirms against a fake chain, with the process "killed" at random points (an exception thrown
 * before or after any chain call, the DB closed and re-opened): no intent is lost, none is sent twice.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { keccak256, toHex, type Hex } from 'viem';
import { ContractRevertError } from '../../src/chain/errors.js';
import { NodeStore, SCHEMA_VERSION } from '../../src/node/store.js';
import { TxFailedError, TxSender, type ChainPort, type TxRequest } from '../../src/chain/tx.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'verity-store-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('NodeStore', () => {
  it('migrates once, records the version, and re-opens', () => {
    const dir = tmp();
    const s = NodeStore.open({ dataDir: dir });
    expect(s.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    s.insertTask({ taskId: '7', modelId: '1', status: 'open', fee: '5' });
    s.close();
    const s2 = NodeStore.open({ dataDir: dir });
    expect(s2.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(s2.getTask('7')?.fee).toBe('5');
    s2.close();
  });

  it('tasks, results, disputes and kv round-trip; inserts are idempotent', () => {
    const s = NodeStore.open({ dataDir: tmp() });
    expect(s.insertTask({ taskId: '1', modelId: '2', status: 'open' })).toBe(true);
    expect(s.insertTask({ taskId: '1', modelId: '3', status: 'claimed' })).toBe(false);
    s.updateTask('1', { status: 'committed', outputHash: '0xab', challengeDeadline: 99 });
    s.addTaskTx('1', 'claim', '0x01');
    s.addTaskTx('1', 'commit', '0x02');
    const t = s.getTask('1')!;
    expect(t).toMatchObject({ modelId: '2', status: 'committed', outputHash: '0xab', challengeDeadline: 99, txs: { claim: '0x01', commit: '0x02' } });
    expect(s.tasksByStatus('committed').map((x) => x.taskId)).toEqual(['1']);
    s.putResult({ taskId: '1', idx: 0, outputHash: '0x1', outputs: '[]', corrupted: true });
    s.putResult({ taskId: '1', idx: 0, outputHash: '0x9', outputs: '[]', corrupted: false });
    expect(s.getResult('1')).toMatchObject({ outputHash: '0x1', corrupted: true });
    expect(s.insertDispute({ disputeId: '4', gameId: '1', taskId: '1', idx: 0, side: 'challenger', traceRoot: '0x2', state: 'opened' })).toBe(true);
    expect(s.insertDispute({ disputeId: '4', gameId: '1', taskId: '1', idx: 0, side: 'challenger', traceRoot: '0x2', state: 'opened' })).toBe(false);
    s.updateDispute('4', { state: 'done', outcome: 2, lastMoveTx: '0x77' });
    expect(s.getDispute('4')).toMatchObject({ state: 'done', outcome: 2, lastMoveTx: '0x77', side: 'challenger' });
    expect(s.listDisputes({ active: true })).toHaveLength(0);
    s.setKv('cursor', '10');
    s.setKv('cursor', '11');
    expect(s.getKv('cursor')).toBe('11');
    expect(() => s.updateTask('1', { bogus: 1 } as never)).toThrow(/Unknown task field/);
    s.close();
  });

  it('pruneSettled drops the results, inputs and per-task kv of our settled tasks only, and the file stops growing', () => {
    const s = NodeStore.open({ dataDir: tmp() });
    const me = '0x00000000000000000000000000000000000000aa';
    const other = '0x00000000000000000000000000000000000000bb';
    const big = JSON.stringify({ items: 'x'.repeat(20_000) });
    const put = (id: string, status: 'finalized' | 'invalidated' | 'committed', worker = me) => {
      s.insertTask({ taskId: id, modelId: '1', status, worker, itemCount: 3, inputs: big, outputs: '[1]' });
      s.putResults([0, 1, 2].map((idx) => ({ taskId: id, idx, outputHash: '0x01', outputs: 'y'.repeat(5_000), corrupted: false })));
      s.setKv(`lie:${id}`, '-1');
    };
    put('1', 'finalized');
    put('2', 'invalidated');
    put('3', 'committed'); // not settled: kept
    put('4', 'finalized', other); // not ours: kept
    expect(s.pruneSettled(me, 3600)).toBe(0); // settled less than an hour ago: kept
    expect(s.pruneSettled(me.toUpperCase().replace('0X', '0x'), 0)).toBe(2);
    for (const id of ['1', '2']) {
      expect(s.listResults(id)).toEqual([]);
      expect(s.getTask(id)?.inputs).toBeNull();
      expect(s.getTask(id)?.outputs).toBe('[1]');
      expect(s.getKv(`lie:${id}`)).toBeUndefined();
    }
    for (const id of ['3', '4']) {
      expect(s.listResults(id)).toHaveLength(3);
      expect(s.getTask(id)?.inputs).toBe(big);
      expect(s.getKv(`lie:${id}`)).toBe('-1');
    }
    expect(s.pruneSettled(me, 0)).toBe(0); // nothing left to prune
    // Steady state: tasks answered, settled and pruned reuse the freed pages.
    const pages = (): number => s.db.pragma('page_count', { simple: true }) as number;
    let n = 10;
    const round = () => {
      for (let k = 0; k < 5; k++) put(String(n++), 'finalized');
      s.pruneSettled(me, 0);
    };
    for (let r = 0; r < 3; r++) round();
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = pages();
    for (let r = 0; r < 20; r++) round();
    s.db.pragma('wal_checkpoint(TRUNCATE)');
    // 100 more tasks of ~40 KB each (≈ 1000 pages unpruned); what stays is each task's row of ids and hashes.
    expect(pages()).toBeLessThanOrEqual(before + 10);
    s.close();
  });

  it('stores traces content-addressed, atomically (no temp file left), idempotently', () => {
    const dir = tmp();
    const s = NodeStore.open({ dataDir: dir });
    const root = `0x${'ab'.repeat(32)}`;
    s.putTrace(root, '0xm', new Uint8Array([1, 2, 3]));
    s.putTrace(root, '0xm', new Uint8Array([1, 2, 3]));
    expect(s.hasTrace(root)).toBe(true);
    expect([...s.getTrace(root)!.bytes]).toEqual([1, 2, 3]);
    expect(readdirSync(join(dir, 'traces'))).toEqual([`${'ab'.repeat(32)}.trace`]);
    expect(() => s.tracePath('../../etc/passwd')).toThrow(/Not a trace root/);
    s.close();
  });
});

// ---------------------------------------------------------------------------------------------- crash safety

class Killed extends Error {}

/** An in-memory chain with one account: mines a transaction as soon as its nonce is next, dedups by hash. */
class FakeChain {
  mined: { nonce: number; hash: Hex; data: Hex }[] = [];
  pool = new Map<number, { hash: Hex; data: Hex }>();
  broadcasts = 0;
  reverting = new Set<Hex>();

  port(kill: () => void): ChainPort {
    const around = async <T>(fn: () => T | Promise<T>): Promise<T> => {
      kill();
      const r = await fn();
      kill();
      return r;
    };
    return {
      account: '0x00000000000000000000000000000000000000aa',
      simulate: (req) =>
        around(() => {
          if (this.reverting.has(req.data)) {
            throw new ContractRevertError({ contract: 'TaskMarket', method: 'claim', errorName: 'MarketUnexpectedStatus', args: [1n, 2] });
          }
        }),
      pendingNonce: () => around(() => this.mined.length + this.pool.size),
      minedNonce: () => around(() => this.mined.length),
      sign: (req, nonce) =>
        around(() => {
          const raw = toHex(JSON.stringify({ data: req.data, nonce }));
          return { raw, hash: keccak256(raw) };
        }),
      broadcast: (raw) =>
        around(() => {
          this.broadcasts++;
          const { data, nonce } = JSON.parse(Buffer.from(raw.slice(2), 'hex').toString()) as { data: Hex; nonce: number };
          const hash = keccak256(raw);
          if (nonce < this.mined.length) throw new Error('nonce too low');
          const queued = this.pool.get(nonce);
          if (queued && queued.hash === hash) throw new Error('already known');
          if (queued) throw new Error('replacement transaction underpriced');
          this.pool.set(nonce, { hash, data });
          while (this.pool.has(this.mined.length)) {
            const n = this.mined.length;
            this.mined.push({ nonce: n, ...this.pool.get(n)! });
            this.pool.delete(n);
          }
        }),
      waitReceipt: (hash) =>
        around(() => {
          const m = this.mined.find((x) => x.hash === hash);
          return m ? { status: 'success' as const, block: m.nonce + 1 } : null;
        }),
    };
  }
}

const reqOf = (key: string): TxRequest => ({ label: 'TaskMarket.claim', to: '0x00000000000000000000000000000000000000bb', data: toHex(key) });

describe('TxSender crash safety (fast-check)', () => {
  it('random intents, sends and kills: every intent settles, none is mined twice, reverts are recorded once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat({ max: 200 }), { maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        async (names, killPoints, reverts) => {
          const keys = names.map((n, i) => `claim:${i}:${n}`);
          const chain = new FakeChain();
          keys.forEach((k, i) => reverts[i] && i % 3 === 0 && chain.reverting.add(reqOf(k).data));
          const dir = tmp();
          const kills = [...killPoints].sort((a, b) => a - b);
          let step = 0;
          // Once killed, the "process" is gone: every later chain call of that lifetime throws too.
          let dead = false;
          const kill = () => {
            step++;
            if (dead) throw new Killed();
            if (kills.length && step >= kills[0]!) {
              kills.shift();
              dead = true;
              throw new Killed();
            }
          };
          const failed = new Set<string>();
          // "process lifetimes": each one opens the DB, recovers, then wants every key sent; a kill ends it.
          for (let life = 0; life < 20; life++) {
            const store = NodeStore.open({ dataDir: dir });
            const sender = new TxSender(store, chain.port(kill), { backoffMs: 0, maxBackoffMs: 0, attempts: 4 });
            dead = false;
            try {
              await sender.recover();
              for (const k of keys) {
                try {
                  await sender.send(k, reqOf(k));
                } catch (e) {
                  if (e instanceof TxFailedError && !dead) failed.add(k);
                  else throw e;
                }
              }
              if (dead) throw new Killed();
              // done: check the invariants on the final state
              for (const k of keys) {
                const row = store.getTx(k);
                expect(row, `intent ${k} lost`).toBeDefined();
                const minedFor = chain.mined.filter((m) => m.data === reqOf(k).data).length;
                if (chain.reverting.has(reqOf(k).data)) {
                  expect(row!.status).toBe('failed');
                  expect(row!.error).toContain('MarketUnexpectedStatus');
                  expect(minedFor).toBe(0);
                } else {
                  expect(row!.status).toBe('confirmed');
                  expect(minedFor, `key ${k} mined ${minedFor} times`).toBe(1);
                }
              }
              expect(chain.mined.length).toBe(keys.filter((k) => !chain.reverting.has(reqOf(k).data)).length);
              expect(chain.pool.size).toBe(0);
              store.close();
              return;
            } catch (e) {
              store.close();
              if (!dead) throw e;
            }
          }
          throw new Error('did not finish in 20 lifetimes');
        },
      ),
      { numRuns: 60 },
    );
  });
});
