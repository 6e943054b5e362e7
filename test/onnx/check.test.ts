/**
 * `verity model check`: every node that will not import is listed at once (op, node, stage, reason,
 * nearest rewrite), across the three stages that can reject a node (unknown op, non-canonical form
 * after folding, no integer form in the quantizer); a clean model lists none.
 */
import { describe, expect, it } from 'vitest';
import { checkOnnx } from '../../src/onnx/check.js';
import { importOnnx } from '../../src/onnx/import.js';
import { QuantizeError } from '../../src/onnx/quantize-errors.js';
import { OnnxUnsupportedOpError } from '../../src/onnx/errors.js';
import { buildModel, f32, modelBytes } from './helpers.js';
import { formatCheck } from '../../src/cli/model.js';

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));

/** x[1,4] → Hardmax "hm" (unknown op) → Concat with a constant "cat" (no integer form) → MatMul by a rank-3 constant "mm" (not canonical). */
function threeBad(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', shape: [1, 4] }],
    outputs: [{ name: 'y' }],
    inits: { c: f32([1, 4], rand(4, 1)), W: f32([2, 8, 3], rand(48, 2)), W2: f32([3, 2], rand(6, 3)) },
    nodes: [
      { op: 'Relu', name: 'ok_relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Hardmax', name: 'hm', inputs: ['r'], outputs: ['h'] },
      { op: 'Concat', name: 'cat', inputs: ['h', 'c'], outputs: ['k'], attrs: [{ name: 'axis', type: 2, i: 1 }] },
      { op: 'MatMul', name: 'mm', inputs: ['k', 'W'], outputs: ['m'] },
      { op: 'MatMul', name: 'ok_fc', inputs: ['m', 'W2'], outputs: ['y'] },
    ],
  });
}

describe('verity model check', () => {
  it('names all three unsupported nodes of a model, each with op, stage and a rewrite', () => {
    const r = checkOnnx(threeBad());
    expect(r.issues.map((i) => [i.op, i.node, i.stage])).toEqual([
      ['Hardmax', 'hm', 'load'],
      ['MatMul', 'mm', 'fold'],
      ['Concat', 'cat', 'quantize'],
    ]);
    for (const i of r.issues) {
      expect(i.reason.length).toBeGreaterThan(5);
      expect(i.rewrite.length).toBeGreaterThan(5);
    }
    expect(r.complete).toBe(true);
    const text = formatCheck('three.onnx', r);
    for (const n of ['"hm"', '"mm"', '"cat"']) expect(text).toContain(n);
    expect(text).toContain('3 nodes will not import');
  });

  it('import stops at the first of them with a typed error naming op, node and a rewrite', () => {
    let e: unknown;
    try {
      importOnnx(threeBad(), { name: 't', calibration: [rand(4, 9)] });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(OnnxUnsupportedOpError);
    const u = e as OnnxUnsupportedOpError;
    expect([u.opType, u.nodeName]).toEqual(['Hardmax', 'hm']);
    expect(u.hint).toContain('Nearest supported rewrite');
    // A quantizer error names op and node too.
    const only = buildModel({
      inputs: [{ name: 'x', shape: [1, 4] }],
      outputs: [{ name: 'y' }],
      inits: { c: f32([1, 4], rand(4, 1)) },
      nodes: [{ op: 'Concat', name: 'cat', inputs: ['x', 'c'], outputs: ['y'], attrs: [{ name: 'axis', type: 2, i: 1 }] }],
    });
    try {
      importOnnx(only, { name: 't', calibration: [rand(4, 9)] });
      e = undefined;
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(QuantizeError);
    expect([(e as QuantizeError).op, (e as QuantizeError).node]).toEqual(['Concat', 'cat']);
    expect((e as QuantizeError).hint).toBeTruthy();
  });

  it('a shipped model that imports has no issues', () => {
    const r = checkOnnx(modelBytes('digits-convnet'));
    expect(r.issues).toEqual([]);
    expect(r.complete).toBe(true);
  });
});
