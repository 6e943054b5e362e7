/**
 * The supported-op table (src/onnx/support.ts) is what the importer accepts: every listed op has a
 * small model here that contains it and imports (checkOnnx finds nothing, importOnnx builds a model
 * that runs), and the README's list and docs/ops.md's table are generated from the same table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_ONNX_OPS, supportedOpsList, supportedOpsTable } from '../../src/onnx/support.js';
import { checkOnnx } from '../../src/onnx/check.js';
import { importOnnx, quantizeInput } from '../../src/onnx/import.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { ROOT, attrFloat, attrInt, attrInts, attrString, buildModel, f32, i64, type NodeSpec } from './helpers.js';
import type { FTensor } from '../../src/onnx/tensor.js';

const r = (n: number, k = 1) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + k) * 0.8);
const X4 = [1, 3, 4, 4];

interface Smoke {
  shape?: number[];
  nodes: NodeSpec[];
  inits?: Record<string, FTensor>;
  opset?: number;
  positive?: boolean;
}

const unary = (op: string, opset?: number, attrs: NodeSpec['attrs'] = []): Smoke => ({ nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }], opset });
const withConst = (op: string, c: FTensor, opset?: number): Smoke => ({ nodes: [{ op, inputs: ['x', 'c'], outputs: ['y'] }], inits: { c }, opset });
const reshapeTo = (shape: number[]): FTensor => i64([shape.length], shape);

const SMOKE: Record<string, Smoke> = {
  Gemm: { shape: [1, 6], nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attrs: [attrInt('transB', 1)] }], inits: { W: f32([4, 6], r(24)), b: f32([4], r(4)) } },
  MatMul: { shape: [1, 6], nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }], inits: { W: f32([6, 4], r(24)) } },
  Conv: { nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: [attrInts('pads', [1, 1, 1, 1])] }], inits: { W: f32([2, 3, 3, 3], r(54)) } },
  ConvTranspose: { nodes: [{ op: 'ConvTranspose', inputs: ['x', 'W'], outputs: ['y'], attrs: [attrInts('strides', [2, 2])] }], inits: { W: f32([3, 2, 3, 3], r(54)) } },
  Add: withConst('Add', f32([4], r(4))),
  Sub: { nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['a'] }, { op: 'Sigmoid', inputs: ['x'], outputs: ['b'] }, { op: 'Sub', inputs: ['a', 'b'], outputs: ['y'] }] },
  Mul: withConst('Mul', f32([3, 1, 1], r(3))),
  Div: withConst('Div', f32([], [3])),
  Sum: { nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['a'] }, { op: 'Sum', inputs: ['x', 'a', 'c'], outputs: ['y'] }], inits: { c: f32([4], r(4)) } },
  MaxPool: unary('MaxPool', 17, [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2])]),
  AveragePool: unary('AveragePool', 17, [attrInts('kernel_shape', [2, 2])]),
  GlobalAveragePool: unary('GlobalAveragePool'),
  Softmax: { shape: [1, 2, 5], nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: [attrInt('axis', -1)] }] },
  LayerNormalization: { shape: [1, 2, 6], nodes: [{ op: 'LayerNormalization', inputs: ['x', 'g', 'b'], outputs: ['y'], attrs: [attrInt('axis', -1)] }], inits: { g: f32([6], r(6, 3)), b: f32([6], r(6, 4)) } },
  BatchNormalization: { nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }], inits: { s: f32([3], [1, 2, 0.5]), b: f32([3], [0, 1, -1]), m: f32([3], [0.1, 0, 0.2]), v: f32([3], [1, 2, 0.5]) } },
  InstanceNormalization: { nodes: [{ op: 'InstanceNormalization', inputs: ['x', 's', 'b'], outputs: ['y'] }], inits: { s: f32([3], [1, 2, 0.5]), b: f32([3], [0, 1, -1]) } },
  GroupNormalization: { shape: [1, 4, 3, 3], nodes: [{ op: 'GroupNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: [attrInt('num_groups', 2)] }], inits: { s: f32([4], [1, 2, 0.5, 1]), b: f32([4], [0, 1, -1, 0]) }, opset: 21 },
  Gather: { shape: [1, 5], nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: [attrInt('axis', 1)] }], inits: { i: i64([3], [4, 0, 2]) } },
  Reshape: withConst('Reshape', reshapeTo([1, 3, 16])),
  Flatten: unary('Flatten', 13, [attrInt('axis', 1)]),
  Squeeze: { shape: [1, 3, 1, 4], nodes: [{ op: 'Squeeze', inputs: ['x', 'a'], outputs: ['y'] }], inits: { a: i64([1], [2]) }, opset: 13 },
  Unsqueeze: { shape: [1, 4], nodes: [{ op: 'Unsqueeze', inputs: ['x', 'a'], outputs: ['y'] }], inits: { a: i64([1], [1]) }, opset: 13 },
  Transpose: unary('Transpose', 13, [attrInts('perm', [0, 2, 3, 1])]),
  Concat: { nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['a'] }, { op: 'Concat', inputs: ['x', 'a'], outputs: ['y'], attrs: [attrInt('axis', 1)] }] },
  Split: { shape: [1, 6], nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: [attrInt('axis', 1)] }, { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }], opset: 17 },
  Slice: { shape: [1, 8], nodes: [{ op: 'Slice', inputs: ['x', 's', 'e', 'a'], outputs: ['y'] }], inits: { s: i64([1], [1]), e: i64([1], [6]), a: i64([1], [1]) } },
  Expand: { shape: [1, 4], nodes: [{ op: 'Expand', inputs: ['x', 's'], outputs: ['y'] }], inits: { s: i64([2], [1, 4]) } },
  Identity: unary('Identity'),
  Dropout: unary('Dropout'),
  Cast: unary('Cast', 13, [attrInt('to', 1)]),
  Shape: { nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }] },
  Constant: { nodes: [{ op: 'Constant', inputs: [], outputs: ['c'], attrs: [{ name: 'value_float', type: 1, f: 2 }] }, { op: 'Mul', inputs: ['x', 'c'], outputs: ['y'] }] },
  ConstantOfShape: { shape: [1, 4], nodes: [{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['c'] }, { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }], inits: { s: i64([2], [1, 4]) } },
  Range: { shape: [1, 4], nodes: [{ op: 'Range', inputs: ['a', 'b', 'd'], outputs: ['c'] }, { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }], inits: { a: f32([], [0]), b: f32([], [4]), d: f32([], [1]) } },
  Equal: { shape: [1, 4], nodes: [{ op: 'Equal', inputs: ['p', 'q'], outputs: ['m'] }, { op: 'Where', inputs: ['m', 'p', 'q'], outputs: ['c'] }, { op: 'Add', inputs: ['x', 'c'], outputs: ['y'] }], inits: { p: f32([4], [0, 1, 0, 1]), q: f32([4], [0, 0, 0, 0]) } },
  Where: { shape: [1, 4], nodes: [{ op: 'Equal', inputs: ['p', 'q'], outputs: ['m'] }, { op: 'Where', inputs: ['m', 'p', 'q'], outputs: ['c'] }, { op: 'Mul', inputs: ['x', 'c'], outputs: ['y'] }], inits: { p: f32([4], [2, 1, 2, 1]), q: f32([4], [2, 0, 0, 0]) } },
  Not: {
    shape: [1, 4],
    inits: { z: f32([], [0]), big: f32([], [-10]), zero: f32([], [0]) },
    nodes: [
      { op: 'Equal', inputs: ['x', 'z'], outputs: ['m'] },
      { op: 'Not', inputs: ['m'], outputs: ['k'] },
      { op: 'Where', inputs: ['k', 'zero', 'big'], outputs: ['y'] },
    ],
  },
  Relu: unary('Relu'),
  Clip: { nodes: [{ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }], inits: { lo: f32([], [0]), hi: f32([], [6]) } },
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Erf: unary('Erf'),
  Exp: unary('Exp'),
  Sqrt: { ...unary('Sqrt'), positive: true },
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Pow: withConst('Pow', f32([], [2])),
  Reciprocal: { ...unary('Reciprocal'), positive: true },
  Log: { ...unary('Log'), positive: true },
  LeakyRelu: unary('LeakyRelu', 17, [attrFloat('alpha', 0.1)]),
  HardSigmoid: unary('HardSigmoid'),
  HardSwish: unary('HardSwish', 14),
  Elu: unary('Elu'),
  Selu: unary('Selu'),
  Celu: unary('Celu', 13),
  Softplus: unary('Softplus'),
  Softsign: unary('Softsign'),
  Mish: unary('Mish', 18),
  Gelu: unary('Gelu', 20, [attrString('approximate', 'tanh')]),
  Max: withConst('Max', f32([], [0.1])),
  Min: { nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['r'] }, { op: 'Min', inputs: ['x', 'r'], outputs: ['y'] }] },
  PRelu: withConst('PRelu', f32([3, 1, 1], [0.1, 0.2, 0.3])),
  Resize: { inits: { sc: f32([4], [1, 1, 2, 2]) }, nodes: [{ op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['y'], attrs: [{ name: 'mode', type: 3, s: new TextEncoder().encode('nearest') }] }], opset: 13 },
  GRU: { shape: [4, 1, 3], nodes: [{ op: 'GRU', inputs: ['x', 'W', 'R', 'B'], outputs: ['', 'y'], attrs: [attrInt('hidden_size', 2), attrInt('linear_before_reset', 1)] }], inits: { W: f32([1, 6, 3], r(18, 5)), R: f32([1, 6, 2], r(12, 6)), B: f32([1, 12], r(12, 7)) } },
  LSTM: { shape: [4, 1, 3], nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R', 'B'], outputs: ['y'], attrs: [attrInt('hidden_size', 2)] }], inits: { W: f32([1, 8, 3], r(24, 5)), R: f32([1, 8, 2], r(16, 6)), B: f32([1, 16], r(16, 7)) } },
  ReduceMean: { shape: [1, 3, 8], nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: [attrInts('axes', [1])] }], opset: 17 },
  ReduceSum: { shape: [1, 3, 8], nodes: [{ op: 'ReduceSum', inputs: ['x', 'a'], outputs: ['y'] }], inits: { a: i64([1], [-1]) }, opset: 13 },
  ReduceMax: { shape: [1, 3, 8], nodes: [{ op: 'ReduceMax', inputs: ['x', 'a'], outputs: ['y'] }], inits: { a: i64([1], [2]) }, opset: 18 },
  QuantizeLinear: {
    nodes: [
      { op: 'QuantizeLinear', inputs: ['w', 's', 'z'], outputs: ['wq'] },
      { op: 'DequantizeLinear', inputs: ['wq', 's', 'z'], outputs: ['wd'] },
      { op: 'Add', inputs: ['x', 'wd'], outputs: ['y'] },
    ],
    inits: { w: f32([4], [0.5, -1, 2, 0]), s: f32([], [0.05]), z: { dtype: 'int8', shape: [], data: Float64Array.from([0]) } },
  },
  DequantizeLinear: {
    nodes: [{ op: 'DequantizeLinear', inputs: ['wq', 's'], outputs: ['wd'] }, { op: 'Mul', inputs: ['x', 'wd'], outputs: ['y'] }],
    inits: { wq: { dtype: 'int8', shape: [4], data: Float64Array.from([10, -20, 30, 127]) }, s: f32([], [0.01]) },
  },
};

describe('supported ONNX ops', () => {
  it('every op in the table has a smoke model here, and nothing else', () => {
    expect(Object.keys(SMOKE).sort()).toEqual(SUPPORTED_ONNX_OPS.map((s) => s.op).sort());
  });

  it.each(SUPPORTED_ONNX_OPS.map((s) => [s.op, s.kind] as const))('%s (%s) imports and runs', (op) => {
    const sm = SMOKE[op];
    const shape = sm.shape ?? X4;
    const bytes = buildModel({ inputs: [{ name: 'x', shape }], outputs: [{ name: 'y' }], inits: sm.inits, nodes: sm.nodes, opset: sm.opset });
    expect(loadOnnx(bytes).graph.nodes.map((n) => n.op)).toContain(op);
    const report = checkOnnx(bytes);
    expect(report.issues).toEqual([]);
    const size = shape.reduce((a, b) => a * b, 1);
    const rows = [0, 1, 2, 3].map((k) => r(size, k).map((v) => (sm.positive ? 0.2 + Math.abs(v) : v)));
    const q = importOnnx(bytes, { name: op, calibration: rows });
    const trace = runModel(prepareModel(q), [quantizeInput(q, rows[0])]);
    expect(trace.length).toBe(q.tensors.length);
  });

  it("the README's list and docs/ops.md's table are the importer's table", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- supported-ops:start -->([\s\S]*?)<!-- supported-ops:end -->/.exec(readme);
    expect(m, 'README.md needs the <!-- supported-ops:start/end --> markers').toBeTruthy();
    const listed = m![1].replace(/\s+/g, ' ').trim().replace(/\.$/, '');
    expect(listed).toBe(supportedOpsList());
    const ops = readFileSync(join(ROOT, 'docs', 'ops.md'), 'utf8');
    expect(ops).toContain(supportedOpsTable());
  });
});
