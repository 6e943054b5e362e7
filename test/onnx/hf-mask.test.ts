/**
 * Hugging Face's attention_mask pattern: a float mask input (1 = token, 0 = padding) turned into
 * `(1 − mask) · large_negative` (−1e4, or torch.finfo(float32).min) and added to the attention
 * scores. Two graph inputs; against onnxruntime the output stays within a few steps, and
 * positions the mask hides do not change a single output integer.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { importOnnx, quantizeInput, dequantizeOutput } from '../../src/onnx/import.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { buildModel, f32, i64, attrInt, attrInts } from './helpers.js';

const T = 6;
const D = 4;
let seed = 99;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;

function model(neg: number): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', shape: [1, T, D] }, { name: 'mask', shape: [1, T] }],
    outputs: [{ name: 'y' }],
    inits: { one: f32([], [1]), neg: f32([], [neg]), ax: i64([1], [1]), s0: i64([1], [0]), s1: i64([1], [1]) },
    nodes: [
      { op: 'Unsqueeze', inputs: ['mask', 'ax'], outputs: ['m3'] },
      { op: 'Sub', inputs: ['one', 'm3'], outputs: ['inv'] },
      { op: 'Mul', inputs: ['inv', 'neg'], outputs: ['bias'] },
      { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: [attrInts('perm', [0, 2, 1])] },
      { op: 'MatMul', inputs: ['x', 'xt'], outputs: ['scores'] },
      { op: 'Add', inputs: ['scores', 'bias'], outputs: ['masked'] },
      { op: 'Softmax', inputs: ['masked'], outputs: ['att'], attrs: [attrInt('axis', -1)] },
      { op: 'MatMul', inputs: ['att', 'x'], outputs: ['ctx'] },
      { op: 'Slice', inputs: ['ctx', 's0', 's1', 'ax'], outputs: ['y'] },
    ],
  });
}

function rows(n: number): number[][] {
  return Array.from({ length: n }, (_, r) => {
    const len = 2 + (r % (T - 1));
    return [...Array.from({ length: T * D }, rnd), ...Array.from({ length: T }, (_, t) => (t < len ? 1 : 0))];
  });
}

describe.each([
  ['−1e4', -1e4],
  ['finfo(float32).min', -3.4028234663852886e38],
])('Hugging Face attention_mask (1 − mask) · %s', (_label, neg) => {
  it('imports with two inputs, matches onnxruntime, and masked keys change nothing', async () => {
    const bytes = model(neg);
    const calib = rows(24);
    const q = importOnnx(bytes, { name: 'hf', calibration: calib });
    const p = prepareModel(q);
    const s = await ort.InferenceSession.create(bytes);
    const run = (row: number[]) => runModel(p, [quantizeInput(q, row.slice(0, T * D), 0), quantizeInput(q, row.slice(T * D), 1)]);
    const step = q.tensors[q.outputs[0]].scale;
    let worst = 0;
    let changed = 0;
    for (const row of calib.slice(0, 8)) {
      const ref = (await s.run({ x: new ort.Tensor('float32', Float32Array.from(row.slice(0, T * D)), [1, T, D]), mask: new ort.Tensor('float32', Float32Array.from(row.slice(T * D)), [1, T]) })).y.data as Float32Array;
      const got = dequantizeOutput(q, run(row)[q.outputs[0]]);
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      // Keys the mask hides: change their x rows (not row 0, the query read out).
      const other = [...row];
      row.slice(T * D).forEach((m, t) => {
        if (m === 0 && t > 0) for (let k = 0; k < D; k++) other[t * D + k] = rnd();
      });
      expect(Array.from(run(other)[q.outputs[0]].data)).toEqual(Array.from(run(row)[q.outputs[0]].data));
      // …while the float model without the mask would see them (the check is not vacuous).
      if (other.some((v, i) => v !== row[i])) changed++;
    }
    console.log(`HF mask ${neg}: max error ${(worst / step).toFixed(2)} output steps`);
    expect(worst).toBeLessThanOrEqual(6 * step);
    expect(changed).toBeGreaterThan(4);
  });
});
