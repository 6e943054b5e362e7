/**
 * A two-input model through the whole loop on anvil: ../shared/models/text-mask.onnx (int64 `ids` [1,40] and a
 * float `mask` [1,40]) imported, registered, and tasks with BOTH inputs posted through the requester node's API
 * (by input name and as one row per input); the market hashes the two tensors into the task's inputHash, workers
 * commit, the verifier node re-executes every result.
 *  - an honest worker's result is finalized, equals the reference run on both inputs, and it is never slashed;
 *  - a worker that corrupts one element of one op is challenged, loses the bisection game and is slashed;
 *  - a worker that ran the model on a DIFFERENT MASK (the ids right, one mask element flipped) commits a trace whose
 *    second tensor is not the task's mask: its revealed roots do not hash to the inputHash over both inputs, so the
 *    game never accepts its reveal, its clock runs out and it is slashed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs, type Hex } from 'viem';
import { disputeGameAbi, stakingAbi, taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { Reason } from '../../src/chain/enums.js';
import { inputHashOf } from '../../src/chain/io.js';
import type { QModel, TensorData } from '../../src/engine/ir.js';
import { buildApi } from '../../src/node/api.js';
import { LocalEngineProvider, type RunMode } from '../../src/node/engine-provider.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import { importOnnx } from '../../src/onnx/import.js';
import { quantizeInputs } from '../../src/onnx/inputs.js';
import { E18, keyOf, testNet, until, type TestNet } from './helpers.js';

const DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'models');
const have = existsSync(join(DIR, 'text-mask.onnx'));
if (!have) console.log('[test/node/multi-input] skipped: ../shared/models/text-mask.onnx is not on this machine');

describe.skipIf(!have)('two-input model (ids + mask) through the node network on anvil', () => {
  let q: QModel;
  let rows: number[][];
  let net: TestNet;
  let api: Awaited<ReturnType<typeof buildApi>>;
  const work = mkdtempSync(join(tmpdir(), 'verity-multi-'));
  const nodes: VerityNode[] = [];

  const node = async (role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number; sample?: number } = {}) => {
    const n = await createNode({
      role,
      rpcUrl: net.anvil.rpcUrl,
      privateKey: keyOf(i).privateKey,
      dataDir: join(work, `${role}-${i}`),
      addresses: net.addresses,
      qmodels: [q],
      pollMs: 150,
      logger: pino({ level: 'silent' }),
      requester: { repost: false },
      ...extra,
    });
    nodes.push(n);
    await n.start();
    return n;
  };
  const stop = async (n: VerityNode) => {
    await n.stop();
    nodes.splice(nodes.indexOf(n), 1);
  };
  const marketLogs = async () => parseEventLogs({ abi: taskMarketAbi, logs: await net.publicClient.getLogs({ address: net.addresses.taskMarket, fromBlock: 0n }) });
  const gameLogs = async () => parseEventLogs({ abi: disputeGameAbi, logs: await net.publicClient.getLogs({ address: net.addresses.disputeGame, fromBlock: 0n }) });
  const staked = async (i: number) => (await net.publicClient.readContract({ address: net.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [keyOf(i).address] })).staked;
  const post = async (input: unknown): Promise<string> => {
    const r = await api.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ model: 'text-mask', input, fee: String(2n * E18), ttl: 300 }) });
    expect(r.statusCode, r.body).toBe(202);
    return (r.json() as { id: string }).id;
  };
  const view = async (id: string) => (await api.inject({ method: 'GET', url: `/tasks/${id}` })).json() as { status: string; taskId: string; result?: { outputHash: string } };
  /** The on-chain task id once posted. */
  const posted = (id: string) => until(async () => {
    const v = await view(id);
    return v.status !== 'posting' && /^\d+$/.test(v.taskId) ? BigInt(v.taskId) : undefined;
  }, 60_000);
  const split = (row: number[]) => ({ ids: row.slice(0, 40), mask: row.slice(40) });
  /** The inputs with one real token's mask bit cleared. */
  const otherMask = (inputs: readonly TensorData[]): TensorData[] => {
    const mask = inputs[1]!;
    const data = mask.data.slice();
    const k = Array.from(data).findIndex((v) => v !== 0);
    data[k] = 0;
    return [inputs[0]!, { dtype: mask.dtype, shape: mask.shape.slice(), data }];
  };
  let maskRow: number[];

  beforeAll(async () => {
    const d = JSON.parse(readFileSync(join(DIR, 'text-mask.data.json'), 'utf8')) as { x: number[][]; calibration: number[][]; shapes: number[][] };
    q = importOnnx(new Uint8Array(readFileSync(join(DIR, 'text-mask.onnx'))), { name: 'text-mask', calibration: d.calibration, inputShapes: d.shapes });
    // Rows with padding (some mask 0s) and at least two real tokens, so flipping a real token's mask bit matters.
    const padded = d.x.filter((r) => r.slice(40).some((m) => m === 0) && r.slice(40).filter((m) => m === 1).length >= 2);
    rows = padded.slice(0, 3);
    // The claim is the outputs (no trace root is committed): a worker that runs on another mask but gets the same output
    // integers committed a true result. The mask test needs a row where clearing the bit changes the outputs.
    const ref = new LocalEngineProvider([q]);
    maskRow = padded.slice(2).find((r) => {
      const inputs = quantizeInputs(q, split(r));
      return ref.run(ref.modelRoots()[0]!, inputs).outputHash !== ref.run(ref.modelRoots()[0]!, otherMask(inputs)).outputHash;
    })!;
    expect(maskRow).toBeDefined();
    net = await testNet([q], { challengeWindow: 12n, clock: 30n });
    const requester = await node('requester', 5);
    api = await buildApi(requester);
    await node('verifier', 4, { sample: 1 });
  }, 240_000);

  afterAll(async () => {
    for (const n of [...nodes]) await n.stop().catch(() => undefined);
    await api?.close();
    await net?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('POST /tasks takes both inputs (by name, or one row per input) and rejects a wrong mask length', async () => {
    const bad = await api.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ model: 'text-mask', input: { ids: rows[0]!.slice(0, 40), mask: [1, 0] }, fee: String(2n * E18) }) });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ error: 'InvalidInput' });
    expect((bad.json() as { message: string }).message).toMatch(/"mask" has 2 values; model text-mask expects 40/);
    const unknown = await api.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ model: 'text-mask', input: { ids: rows[0]!.slice(0, 40), attention: rows[0]!.slice(40) }, fee: String(2n * E18) }) });
    expect(unknown.statusCode).toBe(422);
    expect((unknown.json() as { details?: string; message: string }).message).toMatch(/attention/);
  });

  it('honest worker: committed, finalized, the result is the run on both inputs; the market hashed both tensors', async () => {
    const honest = await node('worker', 1);
    const id = await post(split(rows[0]!));
    const taskId = await posted(id);
    const v = await until(async () => {
      const x = await view(id);
      return x.status === 'finalized' ? x : undefined;
    }, 120_000, 500);
    const inputs = quantizeInputs(q, split(rows[0]!));
    const ref = new LocalEngineProvider([q]);
    expect(v.result!.outputHash).toBe(ref.run(ref.modelRoots()[0]!, inputs).outputHash);
    const pub = (await marketLogs()).find((l) => l.eventName === 'InputPublished' && (l.args as { taskId: bigint }).taskId === taskId)!;
    const args = pub.args as unknown as { inputHash: Hex; inputs: readonly unknown[] };
    expect(args.inputs).toHaveLength(2);
    expect(args.inputHash).toBe(inputHashOf(inputs));
    const commit = (await marketLogs()).find((l) => l.eventName === 'ResultCommitted' && (l.args as { taskId: bigint }).taskId === taskId)!;
    expect((commit.args as { worker: string }).worker.toLowerCase()).toBe(keyOf(1).address.toLowerCase());
    await stop(honest);
  }, 180_000);

  it('a worker that corrupts one element is challenged and slashed', async () => {
    const liar = await node('worker', 2, { dishonest: 1 });
    const r = rows[1]!;
    const id = await post([r.slice(0, 40), r.slice(40)]); // one row per graph input, in order
    const taskId = await posted(id);
    const inv = await until(async () => (await marketLogs()).find((l) => l.eventName === 'TaskInvalidated' && (l.args as { taskId: bigint }).taskId === taskId), 240_000, 1_000);
    expect((inv.args as { slashed: bigint }).slashed).toBeGreaterThan(0n);
    const commit = (await marketLogs()).find((l) => l.eventName === 'ResultCommitted' && (l.args as { taskId: bigint }).taskId === taskId)!;
    expect((commit.args as { worker: string }).worker.toLowerCase()).toBe(keyOf(2).address.toLowerCase());
    expect(liar.ctx.store.getResult(String(taskId))?.corrupted).toBeTruthy();
    // Its inputs are the task's, so its reveal passed the two-input binding; the game was decided on one element.
    const gameId = ((await marketLogs()).find((l) => l.eventName === 'ResultChallenged' && (l.args as { taskId: bigint }).taskId === taskId)!.args as { gameId: bigint }).gameId;
    const game = (await gameLogs()).filter((l) => (l.args as { gameId?: bigint }).gameId === gameId);
    expect(game.some((l) => l.eventName === 'RootsRevealed')).toBe(true);
    const resolved = game.find((l) => l.eventName === 'GameResolved')!.args as { winner: string; reason: number };
    expect(resolved.winner.toLowerCase()).toBe(keyOf(4).address.toLowerCase());
    expect(resolved.reason).not.toBe(Reason.Timeout);
    await stop(liar);
  }, 300_000);

  it('a worker whose trace starts with a different mask cannot reveal it against the inputHash and is slashed', async () => {
    const liar = await node('worker', 3);
    // This worker runs the model on the task's ids and a mask with one real token's bit cleared.
    // Both the committed run and the trace it recomputes for the dispute use that mask.
    const engine = liar.ctx.engine;
    const realExecute = engine.execute.bind(engine);
    const realRun = engine.run.bind(engine);
    engine.execute = (root: string, inputs: readonly TensorData[], mode?: RunMode) => realExecute(root, otherMask(inputs), mode);
    engine.run = (root: string, inputs: readonly TensorData[], mode?: RunMode) => realRun(root, otherMask(inputs), mode);
    const id = await post(split(maskRow));
    const taskId = await posted(id);
    const inv = await until(async () => (await marketLogs()).find((l) => l.eventName === 'TaskInvalidated' && (l.args as { taskId: bigint }).taskId === taskId), 240_000, 1_000);
    expect((inv.args as { slashed: bigint }).slashed).toBeGreaterThan(0n);
    const challenged = (await marketLogs()).find((l) => l.eventName === 'ResultChallenged' && (l.args as { taskId: bigint }).taskId === taskId)!;
    const gameId = (challenged.args as { gameId: bigint }).gameId;
    const game = await gameLogs();
    // The claimant's reveal never went through (its roots start with another mask); the game ended on its clock.
    expect(game.filter((l) => l.eventName === 'RootsRevealed' && (l.args as { gameId: bigint }).gameId === gameId)).toHaveLength(0);
    const resolved = game.find((l) => l.eventName === 'GameResolved' && (l.args as { gameId: bigint }).gameId === gameId)!.args as { winner: string; reason: number };
    expect(resolved.winner.toLowerCase()).toBe(keyOf(4).address.toLowerCase());
    expect(resolved.reason).toBe(Reason.Timeout);
    await stop(liar);

    // The honest worker was never slashed: its stake is whole and no invalidated task is its.
    const logs = await marketLogs();
    const committedBy = new Map(logs.filter((l) => l.eventName === 'ResultCommitted').map((l) => [(l.args as { taskId: bigint }).taskId, (l.args as { worker: string }).worker.toLowerCase()]));
    for (const l of logs.filter((x) => x.eventName === 'TaskInvalidated')) expect(committedBy.get((l.args as { taskId: bigint }).taskId)).not.toBe(keyOf(1).address.toLowerCase());
    expect(await staked(1)).toBe(1_000n * E18);
  }, 300_000);
});
