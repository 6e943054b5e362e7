/**
 * Ops imported through the lookup-table path or through rewrites into existing integer ops
 * (src/onnx/fold/rewrite-more.ts), each as a one-node ONNX model against onnxruntime-node:
 * calibrated on 32 rows, checked on 8 of them, |error| ≤ k·s_out + L·s_in/2 (as in
 * quantized-conformance.test.ts: k output steps of rounding and requantization, L the op's
 * Lipschitz constant applied to the input's rounding; for sums L is the number of terms).
 * The integer ops they become (Lut, Linear, MaxPool, Mul, Add, LayerNorm) are the ones the
 * differential engine-vs-Solidity test covers.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { importOnnx, quantizeInput, dequantizeOutput } from '../../src/onnx/import.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { buildModel, f32, attrFloat, attrInt, attrInts, attrString, type NodeSpec } from './helpers.js';
import type { FTensor } from '../../src/onnx/tensor.js';

let seed = 12345;
const rnd = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const normal = (n: number, sd = 1.5) => Array.from({ length: n }, () => (rnd() + rnd() + rnd() - 1.5) * 2 * sd);

interface OpCase {
  name: string;
  shape: number[];
  nodes: NodeSpec[];
  inits?: Record<string, FTensor>;
  k: number;
  L: number;
  /** integer ops expected in the imported model */
  ops: string[];
  opset?: number;
  /** input values: positive (for Log/Reciprocal) */
  positive?: boolean;
}

const X4 = [1, 3, 4, 4];
const un = (op: string, attrs: NodeSpec['attrs'] = [], k = 0.5, L = 1, opset?: number): OpCase => ({
  name: op + (attrs.length ? ` ${attrs.map((a) => a.name).join(',')}` : ''),
  shape: X4,
  nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }],
  k,
  L,
  ops: ['Lut'],
  opset,
});

const CASES: OpCase[] = [
  un('LeakyRelu', [attrFloat('alpha', 0.1)]),
  un('HardSigmoid', [], 0.5, 0.2),
  un('HardSwish', [], 0.5, 1.5),
  un('Elu', [attrFloat('alpha', 0.7)]),
  un('Selu', [], 0.5, 1.76),
  un('Celu', [attrFloat('alpha', 1.5)], 0.5, 1, 17),
  un('Softplus'),
  un('Softsign'),
  // opset 20's Gelu op (the dynamo exporter at opset ≥ 20), both approximations
  { ...un('Gelu', [], 0.5, 1.13, 20), name: 'Gelu (opset 20, approximate none)' },
  { ...un('Gelu', [attrString('approximate', 'tanh')], 0.5, 1.13, 20), name: 'Gelu (opset 20, approximate tanh)' },
  // clamp_min / clamp_max as the dynamo exporter writes them (Max/Min against a scalar), and of two activations
  { name: 'Max(x, 0.25) (clamp_min)', shape: X4, inits: { c: f32([], [0.25]) }, nodes: [{ op: 'Max', inputs: ['x', 'c'], outputs: ['y'] }], k: 0.5, L: 1, ops: ['Lut'] },
  { name: 'Min(1, x) (clamp_max, constant first)', shape: X4, inits: { c: f32([], [1]) }, nodes: [{ op: 'Min', inputs: ['c', 'x'], outputs: ['y'] }], k: 0.5, L: 1, ops: ['Lut'] },
  {
    name: 'Max(x·A, x·B) + Min(x·A, x·B) of two activations',
    shape: [1, 16],
    inits: { A: f32([16, 8], normal(128, 0.3)), B: f32([16, 8], normal(128, 0.3)) },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'A'], outputs: ['a'] },
      { op: 'MatMul', inputs: ['x', 'B'], outputs: ['b'] },
      { op: 'Max', inputs: ['a', 'b'], outputs: ['hi'] },
      { op: 'Min', inputs: ['a', 'b'], outputs: ['lo'] },
      { op: 'Add', inputs: ['hi', 'lo'], outputs: ['y'] },
    ],
    k: 3, L: 0, ops: ['Linear', 'Linear', 'Lut', 'Add', 'Lut', 'Add', 'Lut', 'Add', 'Lut', 'Add', 'Add'],
  },

  un('Abs'),
  un('Clip', [], 0.5, 1),
  { name: 'Log', shape: X4, nodes: [{ op: 'Log', inputs: ['x'], outputs: ['y'] }], k: 0.5, L: 1 / 0.3, ops: ['Lut'], positive: true },
  { name: 'Reciprocal', shape: X4, nodes: [{ op: 'Reciprocal', inputs: ['x'], outputs: ['y'] }], k: 0.5, L: 1 / 0.09, ops: ['Lut'], positive: true },
  {
    name: 'SiLU (x·Sigmoid(x))',
    shape: X4,
    nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] }],
    k: 0.5, L: 1.1, ops: ['Lut'],
  },
  {
    name: 'ReLU6 (Clip 0..6)',
    shape: X4,
    inits: { lo: f32([], [0]), hi: f32([], [6]) },
    nodes: [{ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }],
    k: 0.5, L: 1, ops: ['Lut'],
  },
  {
    name: 'GELU tanh form (gelu_new)',
    shape: [1, 8, 6],
    inits: { three: f32([], [3]), c: f32([], [0.044715]), k: f32([], [Math.sqrt(2 / Math.PI)]), one: f32([], [1]), half: f32([], [0.5]) },
    nodes: [
      { op: 'Pow', inputs: ['x', 'three'], outputs: ['p'] },
      { op: 'Mul', inputs: ['p', 'c'], outputs: ['pc'] },
      { op: 'Add', inputs: ['x', 'pc'], outputs: ['s'] },
      { op: 'Mul', inputs: ['s', 'k'], outputs: ['sk'] },
      { op: 'Tanh', inputs: ['sk'], outputs: ['t'] },
      { op: 'Add', inputs: ['t', 'one'], outputs: ['t1'] },
      { op: 'Mul', inputs: ['x', 'half'], outputs: ['xh'] },
      { op: 'Mul', inputs: ['xh', 't1'], outputs: ['y'] },
    ],
    k: 0.5, L: 1.13, ops: ['Lut'],
  },
  {
    name: 'PRelu per channel',
    shape: X4,
    inits: { slope: f32([3, 1, 1], [0.1, 0.25, -0.2]) },
    nodes: [{ op: 'PRelu', inputs: ['x', 'slope'], outputs: ['y'] }],
    k: 3, L: 1, ops: ['Lut', 'Lut', 'Mul', 'Add'],
  },
  {
    name: 'PRelu scalar',
    shape: X4,
    inits: { slope: f32([1], [0.2]) },
    nodes: [{ op: 'PRelu', inputs: ['x', 'slope'], outputs: ['y'] }],
    k: 0.5, L: 1, ops: ['Lut'],
  },
  {
    name: 'ReduceMean last axis (keepdims)',
    shape: [1, 5, 12],
    nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: [attrInts('axes', [-1])] }],
    k: 2, L: 1, ops: ['Linear'], opset: 17,
  },
  {
    name: 'ReduceMean axis 1 (no keepdims)',
    shape: [1, 5, 12],
    nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: [attrInts('axes', [1]), attrInt('keepdims', 0)] }],
    k: 2, L: 1, ops: ['Transpose', 'Linear', 'Reshape'], opset: 17,
  },
  {
    name: 'ReduceSum axes from input (opset 13)',
    shape: [1, 4, 6],
    inits: { axes: { dtype: 'int64', shape: [1], data: Float64Array.from([1]) } },
    nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'] }],
    k: 2, L: 4, ops: ['Transpose', 'Linear', 'Reshape'], opset: 13,
  },
  {
    name: 'ReduceMax spatial axes',
    shape: X4,
    nodes: [{ op: 'ReduceMax', inputs: ['x'], outputs: ['y'], attrs: [attrInts('axes', [2, 3])] }],
    k: 0.5, L: 1, ops: ['Reshape', 'Transpose', 'MaxPool', 'Reshape'], opset: 17,
  },
  {
    name: 'squeeze-excite: GlobalAveragePool → broadcast Mul of two activations',
    shape: X4,
    nodes: [
      { op: 'GlobalAveragePool', inputs: ['x'], outputs: ['g'] },
      { op: 'Sigmoid', inputs: ['g'], outputs: ['s'] },
      { op: 'Mul', inputs: ['x', 's'], outputs: ['y'] },
    ],
    k: 2, L: 1, ops: ['Transpose', 'GlobalAveragePool', 'Lut', 'Mul', 'Transpose'],
  },
  {
    name: 'residual Add of two differently scaled tensors',
    shape: X4,
    inits: { w: f32([3, 3, 1, 1], [2, 0, 0, 0, 3, 0, 0, 0, 0.5]), b: f32([3], [0, 1, 0]) },
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
      { op: 'Add', inputs: ['c', 'x'], outputs: ['y'] },
    ],
    k: 3, L: 4, ops: ['Transpose', 'Conv', 'Add', 'Transpose'],
  },
  {
    name: 'Resize nearest ×2 (scales, asymmetric/floor: nn.Upsample)',
    shape: X4,
    inits: { sc: f32([4], [1, 1, 2, 2]) },
    nodes: [{ op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['y'], attrs: [{ name: 'mode', type: 3, s: new TextEncoder().encode('nearest') }, { name: 'coordinate_transformation_mode', type: 3, s: new TextEncoder().encode('asymmetric') }, { name: 'nearest_mode', type: 3, s: new TextEncoder().encode('floor') }] }],
    k: 0.5, L: 0, ops: ['Reshape', 'Gather', 'Gather', 'Reshape'], opset: 13,
  },
  {
    name: 'Resize nearest to sizes ×3 on W (half_pixel default)',
    shape: X4,
    inits: { sz: { dtype: 'int64', shape: [4], data: Float64Array.from([1, 3, 4, 12]) } },
    nodes: [{ op: 'Resize', inputs: ['x', '', '', 'sz'], outputs: ['y'], attrs: [{ name: 'mode', type: 3, s: new TextEncoder().encode('nearest') }] }],
    k: 0.5, L: 0, ops: ['Reshape', 'Gather', 'Reshape'], opset: 13,
  },
  {
    name: 'GroupNormalization opset 18 (scale/bias per group)',
    shape: [1, 4, 3, 3],
    inits: { sc: f32([2], [1.5, -0.5]), bi: f32([2], [0.1, 0.3]) },
    nodes: [{ op: 'GroupNormalization', inputs: ['x', 'sc', 'bi'], outputs: ['y'], attrs: [attrInt('num_groups', 2)] }],
    k: 6, L: 0, ops: ['Reshape', 'LayerNorm', 'Reshape', 'Mul', 'Add'], opset: 18,
  },
  {
    name: 'GroupNormalization opset 21 (scale/bias per channel)',
    shape: [1, 4, 3, 3],
    inits: { sc: f32([4], [1.5, -0.5, 1, 2]), bi: f32([4], [0.1, 0.3, 0, -0.2]) },
    nodes: [{ op: 'GroupNormalization', inputs: ['x', 'sc', 'bi'], outputs: ['y'], attrs: [attrInt('num_groups', 2)] }],
    k: 6, L: 0, ops: ['Reshape', 'LayerNorm', 'Reshape', 'Mul', 'Add'], opset: 21,
  },
  {
    name: 'ConvTranspose stride 2, k 3, pads 1, output_padding 1',
    shape: X4,
    inits: { w: f32([3, 2, 3, 3], normal(54, 0.4)), b: f32([2], [0.1, -0.2]) },
    nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: [attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1]), attrInts('output_padding', [1, 1])] }],
    k: 3, L: 3, ops: ['Reshape', 'Gather', 'Gather', 'Mul', 'Reshape', 'Slice', 'Transpose', 'Conv', 'Transpose'],
  },
  {
    name: 'ConvTranspose stride 1, groups 3, k 2',
    shape: X4,
    inits: { w: f32([3, 1, 2, 2], normal(12, 0.5)) },
    nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: [attrInt('group', 3)] }],
    k: 3, L: 2, ops: ['Transpose', 'Conv', 'Transpose'],
  },
  {
    name: 'InstanceNormalization',
    shape: X4,
    inits: { sc: f32([3], [1.5, 0.5, -1]), bi: f32([3], [0.1, 0, -0.3]) },
    nodes: [{ op: 'InstanceNormalization', inputs: ['x', 'sc', 'bi'], outputs: ['y'], attrs: [attrFloat('epsilon', 1e-5)] }],
    k: 6, L: 0, ops: ['Reshape', 'LayerNorm', 'Reshape', 'Mul', 'Add'],
  },
  {
    name: 'Div of two runtime tensors (x·A) / (Relu(x·B) + 1)',
    shape: [1, 16],
    inits: { one: f32([], [1]), A: f32([16, 8], normal(128, 0.3)), B: f32([16, 8], normal(128, 0.3)) },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'A'], outputs: ['a'] },
      { op: 'MatMul', inputs: ['x', 'B'], outputs: ['b'] },
      { op: 'Relu', inputs: ['b'], outputs: ['r'] },
      { op: 'Add', inputs: ['r', 'one'], outputs: ['d'] },
      { op: 'Div', inputs: ['a', 'd'], outputs: ['y'] },
    ],
    k: 0, L: 0, ops: [],
  },
];

async function runCase(c: OpCase) {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const gen = () => (c.positive ? normal(size, 1).map((v) => 0.3 + Math.abs(v)) : normal(size));
  const calib = Array.from({ length: 24 }, gen);
  const held = Array.from({ length: 8 }, gen);
  const bytes = buildModel({ inputs: [{ name: 'x', shape: c.shape }], outputs: [{ name: 'y' }], inits: c.inits, nodes: c.nodes, opset: c.opset });
  // Held-out rows are inside the calibrated range (the test is of the arithmetic, not of range coverage).
  const q = importOnnx(bytes, { name: c.name, calibration: [...calib, ...held] });
  const p = prepareModel(q);
  const s = await ort.InferenceSession.create(bytes);
  const sOut = q.tensors[q.outputs[0]].scale;
  const sIn = q.tensors[q.inputs[0]].scale;
  let worst = 0;
  for (const row of held) {
    const ref = (await s.run({ x: new ort.Tensor('float32', Float32Array.from(row), c.shape) })).y.data as Float32Array;
    const got = dequantizeOutput(q, runModel(p, [quantizeInput(q, row)])[q.outputs[0]]);
    expect(got.length).toBe(ref.length);
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
  }
  return { q, worst, sOut, sIn };
}

describe('activations, reductions, PRelu, norms, runtime Div: import → integer engine vs onnxruntime', () => {
  for (const c of CASES.filter((x) => x.ops.length > 0)) {
    it(c.name, async () => {
      const { q, worst, sOut, sIn } = await runCase(c);
      expect(q.nodes.map((n) => n.op)).toEqual(c.ops);
      const tol = c.k * sOut + (c.L * sIn) / 2 + 1e-6;
      console.log(`${c.name}: max error ${(worst / sOut).toFixed(3)} output steps (tolerance ${(tol / sOut).toFixed(3)})`);
      expect(worst).toBeLessThanOrEqual(tol);
    });
  }

  it('Div of two runtime tensors becomes Mul(a, Reciprocal(b)) and stays within 4% of the output range', async () => {
    const c = CASES.find((x) => x.name.startsWith('Div'))!;
    const { q, worst, sOut } = await runCase(c);
    expect(q.nodes.map((n) => n.op)).toEqual(['Linear', 'Linear', 'Lut', 'Mul']);
    console.log(`runtime Div: max error ${(worst / sOut).toFixed(2)} output steps`);
    expect(worst).toBeLessThanOrEqual(0.04 * 255 * sOut);
  });
});
