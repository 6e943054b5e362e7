/**
 * Float reference executor: runs a FloatGraph (loaded or folded) with ONNX semantics in float32.
 * It is the oracle the quantizer calibrates against and the tests compare with onnxruntime; it is
 * written for clarity and checkability, not speed.
 */
import { OnnxMissingTensorError, OnnxShapeError, OnnxUnsupportedOpError } from './errors.js';
import type { FloatGraph, GraphInput } from './graph.js';
import { DEFAULT_LIMITS, OpCtx, type ExecLimits, type OpImpl } from './ops/context.js';
import { Conv, ConvTranspose } from './ops/conv.js';
import * as E from './ops/elementwise.js';
import { Gemm, Linear, MatMul } from './ops/linalg.js';
import { BatchNormalization, GroupNormalization, InstanceNormalization, LayerNormalization, Softmax } from './ops/norm.js';
import { AveragePool, GlobalAveragePool, MaxPool } from './ops/pool.js';
import * as Q from './ops/quant.js';
import { ReduceMax, ReduceMean, ReduceSum } from './ops/reduce.js';
import { Resize } from './ops/resize.js';
import { GRU, LSTM } from './ops/recurrent.js';
import { Concat, Gather, Slice, Split } from './ops/select.js';
import * as S from './ops/shape.js';
import { shapeStr, type FTensor } from './tensor.js';

export type { ExecLimits } from './ops/context.js';
export { DEFAULT_LIMITS } from './ops/context.js';

const OPS: Record<string, OpImpl> = {
  // arithmetic and activations
  Add: E.Add, Sub: E.Sub, Mul: E.Mul, Div: E.Div, Pow: E.Pow, Sum: E.Sum, Neg: E.Neg, Sqrt: E.Sqrt, Exp: E.Exp,
  Relu: E.Relu, Sigmoid: E.Sigmoid, Tanh: E.Tanh, Erf: E.Erf, Clip: E.Clip, Equal: E.Equal, Where: E.Where, Not: E.Not,
  Cast: E.Cast, Identity: E.Identity, Dropout: E.Dropout, Abs: E.Abs, Reciprocal: E.Reciprocal, Log: E.Log,
  LeakyRelu: E.LeakyRelu, HardSigmoid: E.HardSigmoid, HardSwish: E.HardSwish, Elu: E.Elu, Selu: E.Selu, Celu: E.Celu,
  Softplus: E.Softplus, Softsign: E.Softsign, Mish: E.Mish, PRelu: E.PRelu, Gelu: E.Gelu, Max: E.Max, Min: E.Min,
  // linear algebra, convolution, pooling, normalization
  Gemm, MatMul, Linear, Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, InstanceNormalization, GroupNormalization, LayerNormalization, Softmax,
  ReduceMean, ReduceSum, ReduceMax, Resize, Upsample: Resize, GRU, LSTM,
  // data movement and generators
  Reshape: S.Reshape, Flatten: S.Flatten, Squeeze: S.Squeeze, Unsqueeze: S.Unsqueeze, Transpose: S.Transpose,
  Expand: S.Expand, Shape: S.Shape, Constant: S.Constant, ConstantOfShape: S.ConstantOfShape, Range: S.Range,
  Concat, Slice, Gather, Split,
  // ONNX quantized ops
  QuantizeLinear: Q.QuantizeLinear, DequantizeLinear: Q.DequantizeLinear, DynamicQuantizeLinear: Q.DynamicQuantizeLinear,
  QLinearMatMul: Q.QLinearMatMul, QLinearConv: Q.QLinearConv, MatMulInteger: Q.MatMulInteger, ConvInteger: Q.ConvInteger,
};

/** Op types runFloat executes ('Linear' is the canonical op fold.ts creates, not an ONNX op). */
export const FLOAT_OPS: readonly string[] = Object.keys(OPS).sort();

export interface RunOptions {
  /** 'all': return every tensor (inputs, constants, every node output), not just graph outputs. */
  keep?: 'all';
  limits?: Partial<ExecLimits>;
}

export function describeTensor(t: { dtype: string; shape: readonly (number | string)[] }): string {
  return `${t.dtype}${shapeStr(t.shape)}`;
}

/** Checks one feed against its graph input; returns it with canonical storage. */
function checkFeed(inp: GraphInput, t: FTensor | undefined): FTensor {
  const expected = describeTensor(inp);
  if (!t) throw new OnnxShapeError({ input: inp.name, expected, got: 'no feed' });
  const shape = Array.isArray(t.shape) ? t.shape : [];
  const got = describeTensor({ dtype: t.dtype, shape });
  const rankOk = shape.length === inp.shape.length;
  const dimsOk = rankOk && inp.shape.every((d, i) => (typeof d === 'number' ? d === shape[i] : Number.isSafeInteger(shape[i]) && shape[i] >= 0));
  if (t.dtype !== inp.dtype || !dimsOk) throw new OnnxShapeError({ input: inp.name, expected, got });
  const n = shape.reduce((a, b) => a * b, 1);
  if (!t.data || t.data.length !== n) {
    throw new OnnxShapeError({ input: inp.name, expected, got: `${got} with ${t.data?.length ?? 0} values (needs ${n})` });
  }
  const wantF32 = t.dtype === 'float32';
  if (wantF32 === t.data instanceof Float32Array) return t;
  return { dtype: t.dtype, shape: [...shape], data: wantF32 ? Float32Array.from(t.data) : Float64Array.from(t.data) };
}

export function runFloat(graph: FloatGraph, feeds: Record<string, FTensor>, opts: RunOptions = {}): Map<string, FTensor> {
  const limits: ExecLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const opset = graph.opset ?? 17;
  const env = new Map<string, FTensor>(graph.consts);
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  for (const name of Object.keys(feeds)) {
    if (!inputNames.has(name)) {
      throw new OnnxShapeError({ input: name, expected: `one of the graph inputs (${[...inputNames].join(', ')})`, got: 'a feed for an unknown input' });
    }
  }
  for (const inp of graph.inputs) env.set(inp.name, checkFeed(inp, feeds[inp.name]));

  const budget = { used: 0 };
  graph.nodes.forEach((node, index) => {
    const impl = OPS[node.op];
    if (!impl) throw new OnnxUnsupportedOpError({ opType: node.op, nodeName: node.name, nodeIndex: index, supported: FLOAT_OPS });
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const t = env.get(name);
      if (!t) throw new OnnxMissingTensorError({ tensor: name, node: node.name });
      return t;
    });
    const ctx: OpCtx = new OpCtx(node, index, opset, limits, budget, FLOAT_OPS);
    const outs = impl(ctx, inputs);
    node.outputs.forEach((name, i) => {
      if (name === '') return;
      const t = outs[i];
      if (!t) ctx.unsupported(`output ${i} ("${name}")`);
      env.set(name, t);
    });
  });

  if (opts.keep === 'all') return env;
  const result = new Map<string, FTensor>();
  for (const o of graph.outputs) {
    const t = env.get(o);
    if (!t) throw new OnnxMissingTensorError({ tensor: o, node: '<graph output>' });
    result.set(o, t);
  }
  return result;
}
