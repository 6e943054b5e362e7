/**
 * The HTTP API on a requester and a worker node (anvil): bad input is a 4xx JSON error naming what was wrong and
 * stores nothing; a good task is posted, served, finalized, and its trace is fetchable from the worker only while a
 * dispute on it is open (recomputed: the worker keeps no trace file).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/node/api.js';
import { HttpError } from '../../src/node/http-error.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import { traceFor } from '../../src/node/traces.js';
import { modelData, quantized } from '../onnx/models.js';
import { keyOf, testNet, until, type TestNet } from './helpers.js';

let net: TestNet;
let requester: VerityNode;
let worker: VerityNode;
let rApi: FastifyInstance;
let wApi: FastifyInstance;
const dirs: string[] = [];

async function node(role: 'worker' | 'requester', i: number): Promise<VerityNode> {
  const dir = mkdtempSync(join(tmpdir(), `verity-api-${role}-`));
  dirs.push(dir);
  return createNode({ role, rpcUrl: net.anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net.addresses, qmodels: [quantized('wine-mlp'), quantized('digits-convnet')], pollMs: 200, logger: pino({ level: 'silent' }) });
}

beforeAll(async () => {
  net = await testNet([quantized('wine-mlp')]);
  requester = await node('requester', 1);
  worker = await node('worker', 2);
  await Promise.all([requester.start(), worker.start()]);
  rApi = await buildApi(requester);
  wApi = await buildApi(worker);
});

afterAll(async () => {
  await rApi?.close();
  await wApi?.close();
  await requester?.stop().catch(() => undefined);
  await worker?.stop().catch(() => undefined);
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const row = () => modelData('wine-mlp').x[0]!;
const post = (body: unknown, raw = false) =>
  rApi.inject({ method: 'POST', url: '/tasks', headers: { 'content-type': 'application/json' }, payload: raw ? (body as string) : JSON.stringify(body) });

describe('POST /tasks rejects bad input with a 4xx naming the problem, storing nothing', () => {
  const cases: [string, unknown, boolean, number, string, RegExp][] = [
    ['malformed JSON', '{"model": "wine-mlp",', true, 400, 'MalformedJson', /not valid JSON/],
    ['missing fee', { model: 'wine-mlp', input: [1] }, false, 400, 'InvalidBody', /"fee"/],
    ['fee not an integer', { model: 'wine-mlp', input: [1], fee: '1.5' }, false, 400, 'InvalidBody', /decimal integer/],
    ['both input and inputs', { model: 'wine-mlp', input: [1], inputs: [], fee: '1000000000000000000' }, false, 400, 'InvalidBody', /exactly one/],
    ['unknown model', { model: 'resnet-50', input: [1], fee: '1000000000000000000' }, false, 422, 'UnknownModel', /Unknown model "resnet-50"/],
    ['wrong input shape', { model: 'wine-mlp', input: [1, 2, 3], fee: '1000000000000000000' }, false, 422, 'InvalidInput', /3 values; model wine-mlp expects 13/],
    ['wrong tensor dtype', { model: 'wine-mlp', inputs: [{ dtype: 'i32', shape: [1, 13], data: Array(13).fill(0) }], fee: '1000000000000000000' }, false, 422, 'InvalidInput', /dtype i8/],
    ['fee too low', { model: 'wine-mlp', input: Array(13).fill(0.1), fee: '5' }, false, 422, 'FeeTooLow', /below this node's minimum/],
    ['model loaded but not registered', { model: 'digits-convnet', input: Array(64).fill(0), fee: '1000000000000000000' }, false, 422, 'UnregisteredModel', /not registered/],
  ];
  for (const [name, body, raw, status, code, msg] of cases) {
    it(name, async () => {
      const r = await post(body, raw);
      expect(r.statusCode).toBe(status);
      const j = r.json() as { error: string; message: string };
      expect(j.error).toBe(code);
      expect(j.message).toMatch(msg);
      expect(requester.ctx.store.listTasks()).toHaveLength(0);
      expect(requester.ctx.store.unsettledTxs()).toHaveLength(0);
    });
  }

  it('POST /tasks on a worker node is a 404 naming the role', async () => {
    const r = await wApi.inject({ method: 'POST', url: '/tasks', payload: { model: 'wine-mlp', input: row(), fee: '1000000000000000000' } });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'NotARequester' });
  });
});

describe('the API end to end', () => {
  it('submits, finalizes, returns the verified result with its proof; the worker serves the trace', async () => {
    const r = await post({ model: 'wine-mlp', input: row(), fee: '2000000000000000000', ttl: 120 });
    expect(r.statusCode).toBe(202);
    const { id } = r.json() as { id: string };
    const done = await until(async () => {
      const v = (await rApi.inject({ method: 'GET', url: `/tasks/${id}` })).json() as { status: string; result?: { outputHash: string; outputs: unknown[] }; txs: Record<string, string>; taskId: string };
      return v.status === 'finalized' ? v : undefined;
    }, 90_000, 300);
    expect(done.result?.outputs).toHaveLength(1);
    expect(Object.keys(done.txs)).toEqual(expect.arrayContaining(['post', 'commit', 'finalize']));
    // by chain task id too
    expect((await rApi.inject({ method: 'GET', url: `/tasks/${done.taskId}` })).json()).toMatchObject({ id });
    expect((await rApi.inject({ method: 'GET', url: '/tasks/q-999' })).statusCode).toBe(404);

    // No trace root was committed (the result is its output digest) and the worker stored no trace file; a trace is
    // served only while a dispute on it is open (recomputed then, under the root the dispute opened with).
    expect(done.result).not.toHaveProperty('traceRoot');
    const traceRoot = traceFor(worker.ctx, { taskId: done.taskId, idx: 0 }).traceRoot;
    const traceUrl = `/traces/${traceRoot}/tensors/0`;
    expect(readdirSync(worker.ctx.store.traceDir)).toHaveLength(0);
    expect((await wApi.inject({ method: 'GET', url: traceUrl })).json()).toMatchObject({ error: 'TraceNotDisputed' });
    // a tracked dispute row on that trace (a state the dispute machine does not step, so no chain call is made)
    worker.ctx.store.insertDispute({ disputeId: 'api-test', gameId: '0', taskId: done.taskId, idx: 0, side: 'claimant', traceRoot, state: 'opening' });
    const tr = await wApi.inject({ method: 'GET', url: traceUrl });
    expect(tr.statusCode).toBe(200);
    expect(tr.json()).toMatchObject({ index: 0, count: 4, tensor: { dtype: 'i8', shape: [1, 13] } });
    expect((await wApi.inject({ method: 'GET', url: `/traces/${traceRoot}/tensors/99` })).statusCode).toBe(404);
    worker.ctx.store.updateDispute('api-test', { state: 'done' });
    expect((await wApi.inject({ method: 'GET', url: traceUrl })).statusCode).toBe(404);
    expect((await wApi.inject({ method: 'GET', url: '/traces/0x12/tensors/0' })).json()).toMatchObject({ error: 'InvalidTraceRoot' });

    const agents = (await rApi.inject({ method: 'GET', url: '/agents' })).json() as { owner: string; staked: string }[];
    expect(agents.map((a) => a.owner.toLowerCase())).toContain(keyOf(2).address.toLowerCase());
    const metrics = (await wApi.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/verity_node_tasks\{role="worker",status="finalized"\} 1/);
    expect(metrics).toMatch(/# TYPE verity_node_transactions_total counter/);
  });

  it('serves /openapi.json, /health, and listens on 127.0.0.1', async () => {
    const doc = (await rApi.inject({ method: 'GET', url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/tasks', '/tasks/{id}', '/traces/{root}/tensors/{i}', '/agents', '/health', '/metrics']));
    const addr = await rApi.listen({ host: '127.0.0.1', port: 0 });
    const h = (await (await fetch(`${addr}/health`)).json()) as { ok: boolean; role: string };
    expect(h).toMatchObject({ ok: true, role: 'requester' });
  });
});

describe('one HttpError: every route error is answered with its own status and code', () => {
  it('a 502 thrown by a route (the claim route\'s BadChainData) is answered 502, not 500 Internal', async () => {
    const api = await buildApi(requester);
    try {
      api.get('/probe/bad-chain-data', async () => {
        throw new HttpError(502, 'BadChainData', 'The chain\'s record of task 7 does not fit the claim schema: input.tensors.0.shape.0: too small', 'from the probe');
      });
      const r = await api.inject({ method: 'GET', url: '/probe/bad-chain-data' });
      expect(r.statusCode).toBe(502);
      expect(r.json()).toEqual({ error: 'BadChainData', message: expect.stringMatching(/does not fit the claim schema/), details: 'from the probe' });
      // The claim route's own 4xx go through the same handler.
      const bad = await api.inject({ method: 'GET', url: `/tasks/${encodeURIComponent('x y')}/claim` });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'InvalidTaskId' });
      const batch = await api.inject({ method: 'GET', url: '/batches/0x12/inputs' });
      expect(batch.statusCode).toBe(400);
      expect(batch.json()).toMatchObject({ error: 'InvalidInputRoot' });
    } finally {
      await api.close();
    }
  });

  it('a page that was not built is a 503 naming `npm run build:web`, not a 500', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'verity-api-noweb-'));
    dirs.push(empty);
    const api = await buildApi(requester, { webRoot: empty });
    try {
      for (const url of ['/dashboard', '/app']) {
        const r = await api.inject({ method: 'GET', url });
        expect(r.statusCode).toBe(503);
        expect(r.json()).toMatchObject({ error: 'PageNotBuilt', message: expect.stringContaining(empty), details: expect.stringMatching(/npm run build:web/) });
      }
    } finally {
      await api.close();
    }
  });
});
