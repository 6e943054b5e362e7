/**
 * runBatch: every item's trace is byte-identical to runModel's on the same inputs, for the shipped
 * models (random rows, random batch sizes) on both GEMM backends. (Every op's property test also
 * checks runBatch on its cases: helpers.checkBatch.)
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArenaCache, batchChunk, prepareModel, runBatch, runModel } from '../../src/engine/run.js';
import { EngineInputError } from '../../src/engine/errors.js';
import { setWasmGemmEnabled } from '../../src/engine/wasm.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { MODEL_NAMES, modelData, quantized } from '../onnx/models.js';
import { expectSameTrace } from './helpers.js';

for (const backend of ['wasm', 'js'] as const) {
  describe(`runBatch [${backend} GEMM]`, () => {
    let was = true;
    beforeAll(() => {
      was = setWasmGemmEnabled(backend === 'wasm');
    });
    afterAll(() => {
      setWasmGemmEnabled(was);
    });

    for (const name of MODEL_NAMES) {
      it(`${name}: traces equal runModel's, item by item`, () => {
        const q = quantized(name);
        const p = prepareModel(q);
        const data = modelData(name);
        const n = data.x[0].length;
        const vocab = data.vocab?.length ?? 0;
        // A row: a data row, optionally perturbed (floats: noise, incl. out-of-range values; tokens: random ids).
        const row = fc.tuple(fc.nat(data.x.length - 1), fc.boolean(), fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: n, maxLength: n }), fc.array(fc.nat(Math.max(0, vocab - 1)), { minLength: n, maxLength: n })).map(([r, perturb, noise, tokens]) =>
          !perturb ? data.x[r] : vocab ? tokens : data.x[r].map((v, i) => v + noise[i] * 8),
        );
        fc.assert(
          fc.property(fc.array(row, { minLength: 1, maxLength: name === 'tiny-gpt' ? 4 : 9 }), (rows) => {
            const items = rows.map((r) => [quantizeInput(q, r)]);
            const traces = runBatch(p, items);
            expect(traces.length).toBe(items.length);
            items.forEach((inputs, b) => expectSameTrace(traces[b], runModel(p, inputs)));
          }),
          { numRuns: name === 'tiny-gpt' ? 15 : 40, endOnFailure: true },
        );
      });
    }

    it('splits a large batch into chunks with the same traces', () => {
      const q = quantized('wine-mlp');
      const p = prepareModel(q);
      const rows = modelData('wine-mlp').x;
      const items = Array.from({ length: 600 }, (_, i) => [quantizeInput(q, rows[i % rows.length].map((v, j) => v + ((i * 7 + j) % 5) - 2))]);
      const traces = runBatch(p, items);
      expect(traces.length).toBe(600);
      items.forEach((inputs, b) => expectSameTrace(traces[b], runModel(p, inputs)));
    });

    it('arenas given back to an ArenaCache are reused (not cleared): the same traces as fresh ones, on every model', () => {
      for (const name of MODEL_NAMES) {
        const q = quantized(name);
        const p = prepareModel(q);
        const rows = modelData(name).x;
        const cache = new ArenaCache();
        const n = Math.min(2 * batchChunk(p) + 1, 9);
        const items = (off: number) => Array.from({ length: n }, (_, i) => [quantizeInput(q, rows[(i + off) % rows.length])]);
        const first = runBatch(p, items(0), { arenas: cache });
        const bufs = [...new Set(first.map((t) => t[0].data.buffer as ArrayBuffer))];
        // Stale values in a given-back arena (another run's, or garbage) must not show through.
        for (const b of bufs) {
          new Uint8Array(b).fill(0xa5);
          cache.give(b);
        }
        expect(cache.bytes).toBe(bufs.reduce((s, b) => s + b.byteLength, 0));
        const batch = items(3);
        const second = runBatch(p, batch, { arenas: cache });
        expect(bufs).toContain(second[0][0].data.buffer);
        batch.forEach((inputs, b) => expectSameTrace(second[b], runModel(p, inputs)));
      }
    });

    it('runModel with opts.arenas reuses a given-back arena (not cleared): the same trace as a fresh run, on every model', () => {
      for (const name of MODEL_NAMES) {
        const q = quantized(name);
        const p = prepareModel(q);
        const rows = modelData(name).x;
        const cache = new ArenaCache();
        const a = runModel(p, [quantizeInput(q, rows[0])], { arenas: cache })[0].data.buffer as ArrayBuffer;
        if (a.byteLength !== p.arenaBytes) continue; // a small trace: one array per tensor, no arena
        new Uint8Array(a).fill(0xa5); // stale values must not show through
        cache.give(a);
        const inputs = [quantizeInput(q, rows[1])];
        const t = runModel(p, inputs, { arenas: cache });
        expect(t[0].data.buffer).toBe(a);
        expectSameTrace(t, runModel(p, inputs));
      }
    });

    it('traces of earlier batches stay valid after later runs', () => {
      const q = quantized('wine-mlp');
      const p = prepareModel(q);
      const rows = modelData('wine-mlp').x;
      const first = runBatch(p, rows.slice(0, 3).map((r) => [quantizeInput(q, r)]));
      const copies = first.map((t) => t.map((x) => x.data.slice()));
      runBatch(p, rows.slice(3, 9).map((r) => [quantizeInput(q, r)]));
      runModel(p, [quantizeInput(q, rows[10])]);
      first.forEach((t, b) => t.forEach((x, id) => expect(Array.from(x.data)).toEqual(Array.from(copies[b][id]))));
    });
  });
}

describe('runBatch input handling', () => {
  it('returns [] for an empty batch and rejects an invalid item naming it', () => {
    const q = quantized('wine-mlp');
    const p = prepareModel(q);
    expect(runBatch(p, [])).toEqual([]);
    const good = [quantizeInput(q, modelData('wine-mlp').x[0])];
    let err: unknown;
    try {
      runBatch(p, [good, [{ ...good[0], data: new Int8Array(2) }]]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineInputError);
    expect(String((err as Error).message)).toContain('batch[1]');
  });
});
