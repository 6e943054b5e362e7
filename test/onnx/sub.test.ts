/**
 * Sub reaches the quantizer as Add(a, Neg(b)) (fold/rewrite.ts): of two runtime tensors, and a
 * constant minus an activation, both import and the integer result stays within a few output
 * steps of the float graph.
 */
import { describe, expect, it } from 'vitest';
import { importOnnx, quantizeInput, dequantizeOutput } from '../../src/onnx/import.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { runFloat } from '../../src/onnx/floatexec.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { buildModel, f32 } from './helpers.js';

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 1.5);

function maxStepError(bytes: Uint8Array, rows: number[][]): { err: number; ops: string[] } {
  const q = importOnnx(bytes, { name: 'sub', calibration: rows });
  const p = prepareModel(q);
  const g = loadOnnx(bytes).graph;
  const out = q.tensors[q.outputs[0]];
  let err = 0;
  for (const row of rows) {
    const ref = runFloat(g, { x: f32([1, row.length], row) }).get('y')!.data;
    const got = dequantizeOutput(q, runModel(p, [quantizeInput(q, row)])[q.outputs[0]]);
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - ref[i]) / out.scale);
  }
  return { err, ops: q.nodes.map((n) => n.op) };
}

const rows = Array.from({ length: 16 }, (_, r) => rand(6, r + 1));

describe('Sub after the Add(Neg) rewrite', () => {
  it('of two runtime tensors', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: [{ name: 'y' }],
      inits: { A: f32([6, 5], rand(30, 7)), B: f32([6, 5], rand(30, 8)) },
      nodes: [
        { op: 'MatMul', inputs: ['x', 'A'], outputs: ['a'] },
        { op: 'MatMul', inputs: ['x', 'B'], outputs: ['b'] },
        { op: 'Sub', inputs: ['a', 'b'], outputs: ['y'] },
      ],
    });
    const { err, ops } = maxStepError(bytes, rows);
    expect(ops).toEqual(['Linear', 'Linear', 'Lut', 'Add']);
    // The same function as an Add of x·A and x·(−B): the Neg table may cost at most about a step more.
    const negB = f32([6, 5], rand(30, 8).map((v) => -v));
    const asAdd = buildModel({
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: [{ name: 'y' }],
      inits: { A: f32([6, 5], rand(30, 7)), B: negB },
      nodes: [
        { op: 'MatMul', inputs: ['x', 'A'], outputs: ['a'] },
        { op: 'MatMul', inputs: ['x', 'B'], outputs: ['b'] },
        { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
      ],
    });
    const ref = maxStepError(asAdd, rows);
    console.log(`Sub of two activations: max error ${err.toFixed(2)} output steps (as an Add of x·A and x·(−B): ${ref.err.toFixed(2)})`);
    expect(err).toBeLessThan(ref.err + 1.5);
  });

  it('a constant vector minus an activation', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: [{ name: 'y' }],
      inits: { c: f32([6], rand(6, 3)) },
      nodes: [{ op: 'Sub', inputs: ['c', 'x'], outputs: ['y'] }],
    });
    const { err, ops } = maxStepError(bytes, rows);
    expect(ops).toEqual(['Lut', 'Add']);
    expect(err).toBeLessThan(3);
  });
});
