/**
 * One small model per rewrite and per version-dependent op form. Each is run three ways, which
 * must agree within 1e-4: onnxruntime on the original model (oracle), runFloat on the loaded graph,
 * runFloat on the folded graph. The folded graph's ops are checked against the expected canonical
 * form.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxUnsupportedOpError } from '../../src/onnx/errors.js';
import { runFloat } from '../../src/onnx/floatexec.js';
import { CANONICAL_OPS, foldGraph, type FoldedGraph } from '../../src/onnx/fold.js';
import { loadOnnx } from '../../src/onnx/load.js';
import type { FTensor } from '../../src/onnx/tensor.js';
import { prng } from './fuzz.js';
import { attrFloat, attrInt, attrInts, attrString, buildModel, f32, i64, maxAbsDiff, type NodeSpec } from './helpers.js';

const rand = prng(7);
const randn = (shape: number[]) => f32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 4 - 2));
const positive = (shape: number[]) => f32(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.5 + rand()));

interface Case {
  name: string;
  opset?: number;
  inputs: Record<string, number[]>;
  inits?: Record<string, FTensor>;
  nodes: NodeSpec[];
  outputs?: string[];
  /** Expected op list of the folded graph (in order). */
  folded?: string[];
}

function toOrt(t: FTensor): ort.Tensor {
  return t.dtype === 'float32' ? new ort.Tensor('float32', t.data as Float32Array, t.shape) : new ort.Tensor('int64', BigInt64Array.from(Array.from(t.data, (v) => BigInt(v))), t.shape);
}

async function check(c: Case): Promise<FoldedGraph> {
  const outputs = c.outputs ?? ['y'];
  const bytes = buildModel({
    inputs: Object.entries(c.inputs).map(([name, shape]) => ({ name, shape })),
    outputs: outputs.map((name) => ({ name })),
    inits: c.inits,
    nodes: c.nodes,
    opset: c.opset,
  });
  const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, s]) => [k, randn(s)]));
  const session = await ort.InferenceSession.create(bytes);
  const want = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
  const model = loadOnnx(bytes, c.name);
  const folded = foldGraph(model, c.inputs);
  const plain = runFloat(model.graph, feeds);
  const fold = runFloat(folded, feeds);
  for (const o of outputs) {
    const w = want[o];
    expect(w.data.length, `${c.name}: ${o} must not be empty (the comparison would be vacuous)`).toBeGreaterThan(0);
    const ref = Array.from(w.data as Float32Array, Number);
    const tol = 1e-4 * Math.max(1, ...ref.map(Math.abs));
    expect(plain.get(o)!.shape, `${c.name} ${o} shape`).toEqual([...w.dims]);
    expect(fold.get(o)!.shape).toEqual([...w.dims]);
    expect(maxAbsDiff(plain.get(o)!.data, ref), `${c.name}: runFloat vs onnxruntime`).toBeLessThanOrEqual(tol);
    expect(maxAbsDiff(fold.get(o)!.data, ref), `${c.name}: folded vs onnxruntime`).toBeLessThanOrEqual(tol);
  }
  for (const n of folded.nodes) expect(CANONICAL_OPS).toContain(n.op);
  if (c.folded) expect(folded.nodes.map((n) => n.op), c.name).toEqual(c.folded);
  return folded;
}

const I64_MAX = 9223372036854775807;

const CASES: Case[] = [
  // ---- arithmetic canonicalization
  { name: 'Sub x−c', inputs: { x: [2, 3] }, inits: { c: randn([3]) }, nodes: [{ op: 'Sub', inputs: ['x', 'c'], outputs: ['y'] }], folded: ['Add'] },
  { name: 'Sub c−x', inputs: { x: [2, 3] }, inits: { c: randn([3]) }, nodes: [{ op: 'Sub', inputs: ['c', 'x'], outputs: ['y'] }], folded: ['Neg', 'Add'] },
  { name: 'Sub x−z', inputs: { x: [2, 3], z: [3] }, nodes: [{ op: 'Sub', inputs: ['x', 'z'], outputs: ['y'] }], folded: ['Neg', 'Add'] },
  { name: 'Div x/c', inputs: { x: [2, 3] }, inits: { c: positive([1]) }, nodes: [{ op: 'Div', inputs: ['x', 'c'], outputs: ['y'] }], folded: ['Mul'] },
  { name: 'Div c/x', inputs: { x: [2, 3] }, inits: { c: randn([3]) }, nodes: [{ op: 'Div', inputs: ['c', 'x'], outputs: ['y'] }], folded: ['Reciprocal', 'Mul'] },
  { name: 'Add c+x (const moves second)', inputs: { x: [2, 3] }, inits: { c: randn([2, 3]) }, nodes: [{ op: 'Add', inputs: ['c', 'x'], outputs: ['y'] }], folded: ['Add'] },
  { name: 'Sum x+c+z', inputs: { x: [2, 3], z: [2, 3] }, inits: { c: randn([3]) }, nodes: [{ op: 'Sum', inputs: ['c', 'x', 'z'], outputs: ['y'] }], folded: ['Add', 'Add'] },
  {
    name: 'unary chain',
    inputs: { x: [2, 5] },
    inits: { e: f32([], [3]) },
    nodes: [
      { op: 'Sigmoid', inputs: ['x'], outputs: ['a'] },
      { op: 'Tanh', inputs: ['a'], outputs: ['b'] },
      { op: 'Exp', inputs: ['b'], outputs: ['c'] },
      { op: 'Sqrt', inputs: ['c'], outputs: ['d'] },
      { op: 'Pow', inputs: ['d', 'e'], outputs: ['f'] },
      { op: 'Neg', inputs: ['f'], outputs: ['g'] },
      { op: 'Erf', inputs: ['g'], outputs: ['y'] },
    ],
    folded: ['Sigmoid', 'Tanh', 'Exp', 'Sqrt', 'Pow', 'Neg', 'Erf'],
  },
  // ---- no-ops disappear
  {
    name: 'Identity/Dropout/Cast/Expand no-ops',
    inputs: { x: [2, 3] },
    inits: { s: i64([2], [2, 3]) },
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['a'] },
      { op: 'Identity', inputs: ['a'], outputs: ['b'] },
      { op: 'Dropout', inputs: ['b'], outputs: ['c'] },
      { op: 'Cast', inputs: ['c'], outputs: ['d'], attrs: [attrInt('to', 1)] },
      { op: 'Expand', inputs: ['d', 's'], outputs: ['y'] },
    ],
    folded: ['Relu'],
  },
  { name: 'Identity of an input as output', inputs: { x: [2, 3] }, nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }], folded: ['Reshape'] },
  {
    name: 'two outputs aliasing one tensor',
    inputs: { x: [2, 3] },
    outputs: ['y', 'y2'],
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['a'] },
      { op: 'Identity', inputs: ['a'], outputs: ['y'] },
      { op: 'Identity', inputs: ['a'], outputs: ['y2'] },
    ],
    folded: ['Relu', 'Reshape'],
  },
  // ---- Gemm / MatMul → Linear
  { name: 'Gemm transB const', inputs: { x: [2, 4] }, inits: { W: randn([3, 4]), b: randn([3]) }, nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['y'], attrs: [attrInt('transB', 1)] }], folded: ['Linear'] },
  {
    name: 'Gemm transA alpha beta scalar C',
    inputs: { x: [4, 2] },
    inits: { W: randn([4, 3]), c: randn([]) },
    nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'c'], outputs: ['y'], attrs: [attrInt('transA', 1), attrFloat('alpha', 0.5), attrFloat('beta', 2)] }],
    folded: ['Transpose', 'Linear'],
  },
  { name: 'Gemm matrix C', inputs: { x: [2, 4] }, inits: { W: randn([4, 3]), c: randn([2, 3]) }, nodes: [{ op: 'Gemm', inputs: ['x', 'W', 'c'], outputs: ['y'], attrs: [attrFloat('beta', 0.5)] }], folded: ['Linear', 'Add'] },
  {
    name: 'Gemm dynamic B',
    inputs: { x: [2, 4], w: [3, 4] },
    inits: { c: randn([3]) },
    nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'c'], outputs: ['y'], attrs: [attrInt('transB', 1), attrFloat('alpha', 0.25)] }],
    folded: ['Transpose', 'MatMul', 'Mul', 'Add'],
  },
  { name: 'MatMul rank-3 x const W + bias first', inputs: { x: [2, 5, 4] }, inits: { W: randn([4, 3]), b: randn([3]) }, nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] }, { op: 'Add', inputs: ['b', 'm'], outputs: ['y'] }], folded: ['Linear'] },
  { name: 'MatMul 1-D x', inputs: { x: [4] }, inits: { W: randn([4, 3]) }, nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }], folded: ['Linear'] },
  {
    name: 'MatMul whose output has two readers keeps the Add',
    inputs: { x: [2, 4] },
    inits: { W: randn([4, 3]), b: randn([3]) },
    outputs: ['y', 'm'],
    nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] }, { op: 'Add', inputs: ['m', 'b'], outputs: ['y'] }],
    folded: ['Linear', 'Add'],
  },
  { name: 'MatMul batched broadcast dynamic', inputs: { a: [2, 1, 3, 4], b: [3, 4, 5] }, nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], folded: ['MatMul'] },
  // ---- BatchNormalization
  {
    name: 'BN folds into Conv',
    inputs: { x: [1, 2, 5, 5] },
    inits: { W: randn([3, 2, 3, 3]), g: positive([3]), be: randn([3]), mu: randn([3]), v: positive([3]) },
    nodes: [
      { op: 'Conv', inputs: ['x', 'W'], outputs: ['c'], attrs: [attrInts('pads', [1, 1, 1, 1])] },
      { op: 'BatchNormalization', inputs: ['c', 'g', 'be', 'mu', 'v'], outputs: ['y'], attrs: [attrFloat('epsilon', 1e-3)] },
    ],
    folded: ['Conv'],
  },
  {
    name: 'BN folds into MatMul+Add',
    inputs: { x: [3, 4] },
    inits: { W: randn([4, 5]), b: randn([5]), g: positive([5]), be: randn([5]), mu: randn([5]), v: positive([5]) },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['m'] },
      { op: 'Add', inputs: ['m', 'b'], outputs: ['a'] },
      { op: 'BatchNormalization', inputs: ['a', 'g', 'be', 'mu', 'v'], outputs: ['y'] },
    ],
    folded: ['Linear'],
  },
  {
    name: 'BN that cannot fold becomes Mul+Add',
    inputs: { x: [1, 3, 4, 4] },
    inits: { g: positive([3]), be: randn([3]), mu: randn([3]), v: positive([3]) },
    nodes: [
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'BatchNormalization', inputs: ['r', 'g', 'be', 'mu', 'v'], outputs: ['y'] },
    ],
    folded: ['Relu', 'Mul', 'Add'],
  },
  { name: 'Conv + per-channel Add', inputs: { x: [1, 2, 4, 4] }, inits: { W: randn([3, 2, 1, 1]), c: randn([3, 1, 1]) }, nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['a'] }, { op: 'Add', inputs: ['a', 'c'], outputs: ['y'] }], folded: ['Conv'] },
  // ---- Conv and pools geometry
  {
    name: 'Conv SAME_UPPER stride 2 group 2',
    inputs: { x: [1, 4, 9, 8] },
    inits: { W: randn([6, 2, 3, 3]), B: randn([6]) },
    nodes: [{ op: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'], attrs: [attrString('auto_pad', 'SAME_UPPER'), attrInts('strides', [2, 2]), attrInt('group', 2)] }],
    folded: ['Conv'],
  },
  {
    name: 'Conv dilated asymmetric pads',
    inputs: { x: [1, 2, 9, 8] },
    inits: { W: randn([3, 2, 3, 2]) },
    nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: [attrInts('pads', [2, 0, 1, 1]), attrInts('strides', [1, 2]), attrInts('dilations', [2, 3])] }],
    folded: ['Conv'],
  },
  { name: 'Conv 1-D', inputs: { x: [1, 2, 10] }, inits: { W: randn([3, 2, 3]) }, nodes: [{ op: 'Conv', inputs: ['x', 'W'], outputs: ['y'], attrs: [attrInts('pads', [1, 2]), attrInts('strides', [2])] }], folded: ['Conv'] },
  { name: 'MaxPool ceil_mode', inputs: { x: [1, 2, 8, 8] }, nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInt('ceil_mode', 1)] }], folded: ['MaxPool'] },
  { name: 'MaxPool dilated padded', inputs: { x: [1, 2, 8, 8] }, nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: [attrInts('kernel_shape', [2, 2]), attrInts('dilations', [2, 2]), attrInts('pads', [1, 0, 1, 1])] }], folded: ['MaxPool'] },
  { name: 'AveragePool ceil_mode exclude pad', inputs: { x: [1, 2, 6, 6] }, nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInt('ceil_mode', 1)] }], folded: ['AveragePool'] },
  { name: 'AveragePool SAME_LOWER include pad', inputs: { x: [1, 2, 5, 5] }, nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: [attrInts('kernel_shape', [2, 2]), attrString('auto_pad', 'SAME_LOWER'), attrInt('count_include_pad', 1)] }], folded: ['AveragePool'] },
  { name: 'AveragePool pads ceil_mode include pad (window inside pads)', inputs: { x: [1, 1, 5, 5] }, nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1]), attrInt('ceil_mode', 1), attrInt('count_include_pad', 1)] }] },
  { name: 'GlobalAveragePool + Flatten', inputs: { x: [1, 3, 4, 5] }, nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['g'] }, { op: 'Flatten', inputs: ['g'], outputs: ['y'] }], folded: ['GlobalAveragePool', 'Reshape'] },
  // ---- Softmax / LayerNormalization to the last axis
  { name: 'Softmax opset 11 axis 1 (flattening)', opset: 11, inputs: { x: [2, 3, 4] }, nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: [attrInt('axis', 1)] }], folded: ['Reshape', 'Softmax', 'Reshape'] },
  { name: 'Softmax opset 11 default axis, rank 2', opset: 11, inputs: { x: [2, 5] }, nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'] }], folded: ['Softmax'] },
  { name: 'Softmax opset 13 axis 1', inputs: { x: [2, 3, 4] }, nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: [attrInt('axis', 1)] }], folded: ['Transpose', 'Softmax', 'Transpose'] },
  { name: 'LayerNormalization axis 1', inputs: { x: [2, 3, 4] }, inits: { s: randn([3, 4]), b: randn([4]) }, nodes: [{ op: 'LayerNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: [attrInt('axis', 1)] }], folded: ['Reshape', 'LayerNormalization', 'Reshape'] },
  { name: 'LayerNormalization no bias', inputs: { x: [2, 6] }, inits: { s: randn([6]) }, nodes: [{ op: 'LayerNormalization', inputs: ['x', 's'], outputs: ['y'], attrs: [attrFloat('epsilon', 1e-3)] }], folded: ['LayerNormalization'] },
  // ---- shape ops
  { name: 'Reshape 0 and -1', inputs: { x: [2, 3, 4] }, inits: { s: i64([3], [0, -1, 2]) }, nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }], folded: ['Reshape'] },
  { name: 'Flatten axis 2', inputs: { x: [2, 3, 4, 5] }, nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'], attrs: [attrInt('axis', 2)] }], folded: ['Reshape'] },
  { name: 'Squeeze/Unsqueeze opset 11 attrs', opset: 11, inputs: { x: [2, 1, 3] }, nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['s'], attrs: [attrInts('axes', [1])] }, { op: 'Unsqueeze', inputs: ['s'], outputs: ['y'], attrs: [attrInts('axes', [0, -1])] }], folded: ['Reshape', 'Reshape'] },
  { name: 'Squeeze/Unsqueeze opset 13 inputs', inputs: { x: [2, 1, 3] }, inits: { a: i64([1], [-2]), b: i64([2], [0, 3]) }, nodes: [{ op: 'Squeeze', inputs: ['x', 'a'], outputs: ['s'] }, { op: 'Unsqueeze', inputs: ['s', 'b'], outputs: ['y'] }], folded: ['Reshape', 'Reshape'] },
  { name: 'Squeeze all ones', inputs: { x: [1, 3, 1] }, nodes: [{ op: 'Squeeze', inputs: ['x'], outputs: ['y'] }], folded: ['Reshape'] },
  { name: 'Transpose default perm', inputs: { x: [2, 3, 4] }, nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'] }], folded: ['Transpose'] },
  { name: 'Concat dynamic and const, negative axis', inputs: { x: [2, 3] }, inits: { c: randn([2, 2]) }, nodes: [{ op: 'Concat', inputs: ['x', 'c', 'x'], outputs: ['y'], attrs: [attrInt('axis', -1)] }], folded: ['Concat'] },
  // ---- Slice / Split / Gather
  {
    name: 'Slice opset 9 attrs, negative and huge ends',
    opset: 9,
    inputs: { x: [4, 6] },
    // INT64_MAX as a decimal string: a JS number would round to 2^63 and wrap to INT64_MIN on the wire.
    nodes: [{ op: 'Slice', inputs: ['x'], outputs: ['y'], attrs: [attrInts('starts', [1, -4]), attrInts('ends', ['9223372036854775807' as unknown as number, -1]), attrInts('axes', [0, 1])] }],
    folded: ['Slice'],
  },
  {
    name: 'Slice opset 13 negative steps',
    inputs: { x: [5, 6, 2] },
    inits: { st: i64([2], [-1, 4]), en: i64([2], [-I64_MAX, 0]), ax: i64([2], [1, -3]), sp: i64([2], [-2, -1]) },
    nodes: [{ op: 'Slice', inputs: ['x', 'st', 'en', 'ax', 'sp'], outputs: ['y'] }],
    folded: ['Slice'],
  },
  { name: 'Slice identity disappears', inputs: { x: [3, 4] }, inits: { st: i64([1], [0]), en: i64([1], [I64_MAX]) }, nodes: [{ op: 'Slice', inputs: ['x', 'st', 'en'], outputs: ['s'] }, { op: 'Relu', inputs: ['s'], outputs: ['y'] }], folded: ['Relu'] },
  {
    name: 'Split opset 11 attr',
    opset: 11,
    inputs: { x: [2, 7] },
    outputs: ['y', 'z'],
    nodes: [{ op: 'Split', inputs: ['x'], outputs: ['y', 'z'], attrs: [attrInt('axis', 1), attrInts('split', [3, 4])] }],
    folded: ['Slice', 'Slice'],
  },
  { name: 'Split opset 13 input', inputs: { x: [6, 2] }, inits: { sp: i64([3], [1, 2, 3]) }, outputs: ['y', 'z', 'w'], nodes: [{ op: 'Split', inputs: ['x', 'sp'], outputs: ['y', 'z', 'w'] }], folded: ['Slice', 'Slice', 'Slice'] },
  { name: 'Split opset 13 equal', inputs: { x: [2, 6] }, outputs: ['y', 'z'], nodes: [{ op: 'Split', inputs: ['x'], outputs: ['y', 'z'], attrs: [attrInt('axis', -1)] }], folded: ['Slice', 'Slice'] },
  { name: 'Split opset 18 num_outputs uneven', opset: 18, inputs: { x: [7, 2] }, outputs: ['y', 'z', 'w'], nodes: [{ op: 'Split', inputs: ['x'], outputs: ['y', 'z', 'w'], attrs: [attrInt('num_outputs', 3)] }], folded: ['Slice', 'Slice', 'Slice'] },
  { name: 'Gather negative const indices, axis 1', inputs: { x: [3, 5, 2] }, inits: { i: i64([2, 2], [-1, 0, 2, -5]) }, nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: [attrInt('axis', 1)] }], folded: ['Gather'] },
  // ---- Clip forms
  { name: 'Clip opset 6 attrs', opset: 6, inputs: { x: [3, 4] }, nodes: [{ op: 'Clip', inputs: ['x'], outputs: ['y'], attrs: [attrFloat('min', -0.5), attrFloat('max', 0.75)] }], folded: ['Clip'] },
  { name: 'Clip opset 13 min only', inputs: { x: [3, 4] }, inits: { lo: f32([], [-0.25]) }, nodes: [{ op: 'Clip', inputs: ['x', 'lo'], outputs: ['y'] }], folded: ['Clip'] },
  // ---- shape arithmetic folds away (Shape, Gather, Cast, Range, ConstantOfShape, Equal, Where, Expand, Concat, ReduceMean on constants)
  {
    name: 'shape arithmetic folds',
    inputs: { x: [2, 3] },
    inits: { one: i64([1], [1]), idx: i64([], [1]), z0: i64([], [0]), m: randn([3]) },
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'idx'], outputs: ['n'], attrs: [attrInt('axis', 0)] },
      { op: 'Cast', inputs: ['n'], outputs: ['nf'], attrs: [attrInt('to', 1)] },
      { op: 'ConstantOfShape', inputs: ['s'], outputs: ['z'], attrs: [{ name: 'value', type: 4, t: { dims: [1], dataType: 1, floatData: [0.5] } }] },
      { op: 'Range', inputs: ['z0', 'n', 'idx'], outputs: ['r'] },
      { op: 'Equal', inputs: ['r', 'one'], outputs: ['eq'] },
      { op: 'Cast', inputs: ['eq'], outputs: ['eqf'], attrs: [attrInt('to', 1)] },
      { op: 'Where', inputs: ['eq', 'z', 'z'], outputs: ['w'] },
      { op: 'ReduceMean', inputs: ['m'], outputs: ['mm'], attrs: [attrInts('axes', [0]), attrInt('keepdims', 0)] },
      { op: 'Expand', inputs: ['mm', 's'], outputs: ['e'] },
      { op: 'Mul', inputs: ['x', 'nf'], outputs: ['a'] },
      { op: 'Add', inputs: ['a', 'w'], outputs: ['b'] },
      { op: 'Add', inputs: ['b', 'e'], outputs: ['c'] },
      { op: 'Mul', inputs: ['c', 'eqf'], outputs: ['y'] },
    ],
    folded: ['Mul', 'Add', 'Add', 'Mul'],
  },
];

describe('rewrites and op forms agree with onnxruntime', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    await check(c);
  });

  it('canonical attributes: explicit pads, ceil_mode folded into end padding, Clip bounds, Slice normalized', async () => {
    const pool = await check(CASES.find((c) => c.name === 'MaxPool ceil_mode')!);
    expect(pool.nodes[0].attrs).toEqual({ kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], dilations: [1, 1] });
    const conv = await check(CASES.find((c) => c.name.startsWith('Conv SAME_UPPER'))!);
    // out = ceil(9/2)=5, ceil(8/2)=4; total pad = (5-1)·2+3−9 = 2 and (4-1)·2+3−8 = 1, extra at the end.
    expect(conv.nodes[0].attrs.pads).toEqual([1, 0, 1, 1]);
    expect(conv.nodes[0].attrs.auto_pad).toBeUndefined();
    const clip = await check(CASES.find((c) => c.name === 'Clip opset 13 min only')!);
    expect(clip.nodes[0].attrs.min).toBeCloseTo(-0.25);
    expect(clip.nodes[0].attrs.max).toBe(3.4028234663852886e38);
    const sl = await check(CASES.find((c) => c.name === 'Slice opset 13 negative steps')!);
    expect(sl.nodes[0].attrs).toEqual({ starts: [4, 5], ends: [0, -1], axes: [0, 1], steps: [-1, -2] });
    const sl9 = await check(CASES.find((c) => c.name.startsWith('Slice opset 9'))!);
    expect(sl9.nodes[0].attrs).toEqual({ starts: [1, 2], ends: [4, 5], axes: [0, 1], steps: [1, 1] });
  });

  it('AveragePool ceil_mode with count_include_pad past the padding is reported, not mis-folded', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 1, 6, 6] }],
      outputs: [{ name: 'y' }],
      nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInt('ceil_mode', 1), attrInt('count_include_pad', 1)] }],
    });
    const e = (() => {
      try {
        foldGraph(loadOnnx(bytes), {});
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(OnnxUnsupportedOpError);
    expect((e as OnnxUnsupportedOpError).reason).toContain('ceil_mode');
  });

  it('ReduceMean of a computed tensor runs in runFloat and folds into Transpose/Reshape/Linear', async () => {
    const bytes = buildModel({ inputs: [{ name: 'x', shape: [2, 3, 4] }], outputs: [{ name: 'y' }], nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: [attrInts('axes', [1, -1])] }], opset: 13 });
    const x = randn([2, 3, 4]);
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: toOrt(x) })).y;
    const got = runFloat(loadOnnx(bytes).graph, { x }).get('y')!;
    expect(got.shape).toEqual([...want.dims]);
    expect(maxAbsDiff(got.data, want.data as Float32Array)).toBeLessThan(1e-6);
    const folded = foldGraph(loadOnnx(bytes), {});
    expect(folded.nodes.map((n) => n.op)).not.toContain('ReduceMean');
    expect(folded.nodes.map((n) => n.op)).toContain('Linear');
    expect(maxAbsDiff(runFloat(folded, { x }).get('y')!.data, want.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('ReduceMean opset 18 axes input, Expand and Where on computed tensors in runFloat', async () => {
    const bytes = buildModel({
      opset: 18,
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y' }],
      inits: { ax: i64([1], [0]), shp: i64([3], [2, 2, 3]), zero: f32([], [0]) },
      nodes: [
        { op: 'ReduceMean', inputs: ['x', 'ax'], outputs: ['m'] },
        { op: 'Expand', inputs: ['m', 'shp'], outputs: ['e'] },
        { op: 'Equal', inputs: ['e', 'zero'], outputs: ['q'] },
        { op: 'Where', inputs: ['q', 'zero', 'e'], outputs: ['y'] },
      ],
    });
    const x = randn([2, 3]);
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: toOrt(x) })).y;
    const got = runFloat(loadOnnx(bytes).graph, { x }).get('y')!;
    expect(got.shape).toEqual([...want.dims]);
    expect(maxAbsDiff(got.data, want.data as Float32Array)).toBeLessThan(1e-6);
  });
});
