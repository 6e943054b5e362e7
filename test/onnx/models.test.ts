/**
 * The three project models: loaded, folded with their real input shapes, and run by runFloat on
 * held-out rows, must match onnxruntime (the oracle) within 1e-4 absolute, and the folded graph
 * must match the unfolded one. tiny-gpt must fold to canonical ops only.
 */
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { runFloat } from '../../src/onnx/floatexec.js';
import { CANONICAL_OPS, foldGraph, foldedOpsSummary, type FoldedGraph } from '../../src/onnx/fold.js';
import { loadOnnx, type OnnxModel } from '../../src/onnx/load.js';
import type { FTensor } from '../../src/onnx/tensor.js';
import { dataRows, maxAbsDiff, modelBytes } from './helpers.js';

interface Spec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int64';
}

const SPECS: Spec[] = [
  { name: 'wine-mlp', shape: [1, 13], dtype: 'float32' },
  { name: 'digits-convnet', shape: [1, 1, 8, 8], dtype: 'float32' },
  { name: 'tiny-gpt', shape: [1, 32], dtype: 'int64' },
];

const ROWS = 5;

function feed(spec: Spec, row: number[]): FTensor {
  return spec.dtype === 'float32'
    ? { dtype: 'float32', shape: spec.shape, data: Float32Array.from(row) }
    : { dtype: 'int64', shape: spec.shape, data: Float64Array.from(row) };
}

function ortFeed(spec: Spec, row: number[]): ort.Tensor {
  return spec.dtype === 'float32'
    ? new ort.Tensor('float32', Float32Array.from(row), spec.shape)
    : new ort.Tensor('int64', BigInt64Array.from(row.map((v) => BigInt(v))), spec.shape);
}

describe.each(SPECS)('$name', (spec) => {
  let model: OnnxModel;
  let folded: FoldedGraph;
  let session: ort.InferenceSession;
  const rows = dataRows(spec.name).slice(-ROWS); // the last held-out rows

  beforeAll(async () => {
    const bytes = modelBytes(spec.name);
    model = loadOnnx(bytes, `${spec.name}.onnx`);
    folded = foldGraph(model, { x: spec.shape });
    session = await ort.InferenceSession.create(bytes);
  });

  it('folds to canonical ops only, with every tensor shaped', () => {
    console.log(`${spec.name}: ${foldedOpsSummary(model.graph)}\n  folded: ${foldedOpsSummary(folded)}`);
    for (const n of folded.nodes) {
      expect(CANONICAL_OPS).toContain(n.op);
      for (const t of [...n.inputs, ...n.outputs]) if (t) expect(folded.shapes.has(t), t).toBe(true);
    }
    expect(folded.inputs).toEqual([{ name: 'x', dtype: spec.dtype, shape: spec.shape }]);
    expect(folded.outputs).toEqual(['logits']);
  });

  it(`matches onnxruntime on ${ROWS} held-out rows (folded and unfolded)`, async () => {
    expect(rows.length).toBe(ROWS);
    for (const row of rows) {
      const x = feed(spec, row.flat());
      const want = (await session.run({ x: ortFeed(spec, row.flat()) })).logits;
      const got = runFloat(folded, { x }).get('logits')!;
      const unfolded = runFloat(model.graph, { x }).get('logits')!;
      expect(got.shape).toEqual([...want.dims]);
      expect(maxAbsDiff(got.data, want.data as Float32Array)).toBeLessThan(1e-4);
      expect(maxAbsDiff(unfolded.data, want.data as Float32Array)).toBeLessThan(1e-4);
      expect(maxAbsDiff(got.data, unfolded.data)).toBeLessThan(1e-4);
    }
  });
});

describe('folded forms', () => {
  it('wine-mlp: Gemm+BatchNormalization fold into Linear, weights [N][K]', () => {
    const f = foldGraph(loadOnnx(modelBytes('wine-mlp')), { x: [1, 13] });
    expect(f.nodes.map((n) => n.op)).toEqual(['Linear', 'Relu', 'Linear', 'Relu', 'Linear']);
    const [x, w, b] = f.nodes[0].inputs;
    expect(x).toBe('x');
    expect(f.consts.get(w)!.shape).toEqual([32, 13]);
    expect(f.consts.get(b)!.shape).toEqual([32]);
    expect(f.shapes.get('logits')).toEqual([1, 3]);
  });

  it('digits-convnet: explicit Conv/pool geometry, Flatten as Reshape, Gemm as Linear', () => {
    const f = foldGraph(loadOnnx(modelBytes('digits-convnet')), { x: [1, 1, 8, 8] });
    expect(f.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'GlobalAveragePool', 'Reshape', 'Linear']);
    expect(f.nodes[0].attrs).toEqual({ kernel_shape: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1 });
    expect(f.nodes[2].attrs).toEqual({ kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] });
    expect(Array.from(f.consts.get(f.nodes[6].inputs[1])!.data)).toEqual([1, 16]);
  });

  it('tiny-gpt: no shape arithmetic left', () => {
    const f = foldGraph(loadOnnx(modelBytes('tiny-gpt')), { x: [1, 32] });
    const ops = new Set(f.nodes.map((n) => n.op));
    for (const op of ['Shape', 'Constant', 'Unsqueeze', 'Concat', 'Range', 'Cast', 'Split', 'Div', 'Identity', 'MatMul+Add']) expect(ops.has(op), op).toBe(false);
    // Every Reshape has a constant, fully resolved shape; every Slice has normalized attributes.
    for (const n of f.nodes) {
      if (n.op === 'Reshape') expect(Array.from(f.consts.get(n.inputs[1])!.data).every((d) => d > 0)).toBe(true);
      if (n.op === 'Slice') expect(n.inputs).toHaveLength(1);
      if (n.op === 'Add' || n.op === 'Mul') expect(f.consts.has(n.inputs[0])).toBe(false);
    }
    expect(f.nodes.filter((n) => n.op === 'Linear')).toHaveLength(9);
    expect(f.nodes.filter((n) => n.op === 'MatMul')).toHaveLength(4);
  });
});
