/**
 * BatchPool (src/parallel/pool.ts): runBatch split across threads gives, item by item and in order,
 * the bytes runModel gives on the calling thread, with the same traceRoots (and, outputs only, the same outputs and
 * outputHashes), on every shipped model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { batchChunk, prepareModel, runModel } from '../../src/engine/run.js';
import { keccakReady, outputHashOf, traceRoot } from '../../src/commit/index.js';
import { BatchPool, BatchPoolError } from '../../src/parallel/pool.js';
import { itemTensors } from '../../src/parallel/flat.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { MODEL_NAMES, modelData, quantized } from '../onnx/models.js';
import { expectSameTrace } from './helpers.js';

const pools: BatchPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('BatchPool', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: 2 threads give runModel's traces and roots, in order`, async () => {
      await keccakReady;
      const q = quantized(name);
      const p = prepareModel(q);
      const rows = modelData(name).x;
      // (wine-mlp: the pool shares the caller's PreparedModel; the others: it prepares its own)
      const pool = await BatchPool.create(name === 'wine-mlp' ? p : q, 2, { minShareMs: 0 });
      pools.push(pool);
      expect(pool.threads).toBe(2);
      for (const n of [1, 2, 7]) {
        const items = Array.from({ length: n }, (_, i) => [quantizeInput(q, rows[(i * 5 + n) % rows.length])]);
        const { traces, roots } = await pool.runCommitted(items);
        expect(traces.length).toBe(n);
        items.forEach((inputs, b) => {
          const want = runModel(p, inputs);
          expectSameTrace(traces[b], want);
          expect(Buffer.from(roots[b]).equals(Buffer.from(traceRoot(want)))).toBe(true);
        });
        const plain = await pool.run(items);
        plain.forEach((t, b) => expectSameTrace(t, traces[b]));
        // Outputs only, hashed on the thread that ran each item: runModel's outputs and their outputHash.
        const { outputs: flat, outputHashes } = await pool.runOutputs(items);
        expect(flat.length).toBe(q.outputs.length);
        const outputs = itemTensors(flat, n);
        expect(outputs.length).toBe(n);
        // Plain inference: the same outputs, nothing hashed.
        const plainOut = await pool.infer(items);
        expect(plainOut.map((t) => Array.from(t.data))).toEqual(flat.map((t) => Array.from(t.data)));
        items.forEach((_, b) => {
          const want = q.outputs.map((id) => traces[b][id]!);
          expect(outputs[b].length).toBe(want.length);
          outputs[b].forEach((o, t) => expect(Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength).equals(Buffer.from(want[t].data.buffer, want[t].data.byteOffset, want[t].data.byteLength))).toBe(true));
          expect(outputHashes[b]).toBe(outputHashOf(want));
        });
        // The same through the small-batch shortcut (the caller runs everything).
        const small = await (await BatchPool.create(q, 1)).run(items);
        small.forEach((t, b) => expectSameTrace(t, traces[b]));
      }
    });
  }

  it('a worker share larger than one runBatch chunk comes back as several arenas, in order', async () => {
    const q = quantized('wine-mlp');
    const p = prepareModel(q);
    const rows = modelData('wine-mlp').x;
    const pool = await BatchPool.create(p, 2, { minShareMs: 0 });
    pools.push(pool);
    const items = Array.from({ length: 600 }, (_, i) => [quantizeInput(q, rows[i % rows.length].map((v, j) => v + ((i * 3 + j) % 7) - 3))]);
    expect(Math.ceil(300 / batchChunk(p))).toBeGreaterThan(1);
    const traces = await pool.run(items);
    items.forEach((inputs, b) => expectSameTrace(traces[b], runModel(p, inputs)));
    // Outputs only (runBatchOutputs over several chunks on each thread): runModel's outputs and digests, in order.
    const { outputs, outputHashes } = await pool.runOutputs(items);
    const per = itemTensors(outputs, items.length);
    items.forEach((inputs, b) => {
      const want = q.outputs.map((id) => runModel(p, inputs)[id]!);
      expect(Array.from(per[b][0].data)).toEqual(Array.from(want[0].data));
      expect(outputHashes[b]).toBe(outputHashOf(want));
    });
  });

  it('release hands the arenas back: later runs reuse them and still give runModel\'s traces', async () => {
    const name = 'tiny-gpt';
    const q = quantized(name);
    const p = prepareModel(q);
    const rows = modelData(name).x;
    const pool = await BatchPool.create(p, 2, { minShareMs: 0 });
    pools.push(pool);
    const items = (off: number) => Array.from({ length: 5 }, (_, i) => [quantizeInput(q, rows[(i * 3 + off) % rows.length])]);
    const first = await pool.run(items(0));
    const mine = first[0][0].data.buffer;
    // Releasing part of an arena's traces releases nothing.
    pool.release(first.slice(0, 1));
    expect(first[4][1].data.length).toBeGreaterThan(0);
    // Nor does naming one trace as many times as its arena holds traces.
    for (let n = 1; n <= 5; n++) pool.release(Array.from({ length: n }, () => first[4]));
    expect(first[4][1].data.length).toBeGreaterThan(0);
    pool.release(first);
    // The worker's arena went back to it (transferred: stale views are empty).
    expect(first[4][1].data.length).toBe(0);
    for (let round = 1; round <= 3; round++) {
      const batch = items(round);
      const traces = await pool.run(batch);
      if (round === 1) expect(traces[0][0].data.buffer).toBe(mine);
      batch.forEach((inputs, b) => expectSameTrace(traces[b], runModel(p, inputs)));
      pool.release(traces);
      pool.release(traces); // twice: ignored
    }
    pool.release([runModel(p, items(0)[0])]); // not the pool's: ignored
  });

  it('rejects a bad thread count and use after close', async () => {
    await expect(BatchPool.create(quantized('wine-mlp'), 0)).rejects.toBeInstanceOf(BatchPoolError);
    const pool = await BatchPool.create(quantized('wine-mlp'), 1);
    await pool.close();
    await expect(pool.run([])).rejects.toBeInstanceOf(BatchPoolError);
  });
});
