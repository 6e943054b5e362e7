/**
 * Determinism: importing the same ONNX file twice gives byte-identical quantized models, and the same
 * model and input always give identical trace bytes (and so the same trace root).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { importOnnx, quantizeInput } from '../../src/onnx/import.js';
import { encodeModel } from '../../src/engine/format.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { calibrationRows, modelData, onnxBytes, quantized, MODEL_NAMES } from './models.js';
import type { Trace } from '../../src/engine/ir.js';

function traceBytes(t: Trace): Buffer {
  return Buffer.concat(t.map((x) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)));
}

describe.each(MODEL_NAMES)('%s', (name) => {
  it('imports to byte-identical quantized models twice', () => {
    const opts = { name, inputShape: modelData(name).shape, calibration: calibrationRows(name) };
    const a = encodeModel(importOnnx(onnxBytes(name), opts));
    const b = encodeModel(importOnnx(onnxBytes(name), opts));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('gives identical trace bytes for the same input, every time', () => {
    const q = quantized(name);
    const data = modelData(name);
    const size = data.shape.reduce((x, y) => x * y, 1);
    const row =
      name === 'tiny-gpt'
        ? fc.array(fc.integer({ min: 0, max: data.vocab!.length - 1 }), { minLength: size, maxLength: size })
        : fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: size, maxLength: size });
    // Two independently prepared engines, so no state is shared between the runs compared.
    const p1 = prepareModel(q);
    const p2 = prepareModel(q);
    fc.assert(
      fc.property(row, (r) => {
        const input = quantizeInput(q, r);
        const a = traceBytes(runModel(p1, [input]));
        runModel(p1, [quantizeInput(q, r.map(() => 0))]); // interleave another run: no leftover state
        const b = traceBytes(runModel(p2, [input]));
        const c = traceBytes(runModel(p1, [input]));
        return a.equals(b) && a.equals(c);
      }),
      { numRuns: name === 'tiny-gpt' ? 20 : 100 },
    );
  });
});
