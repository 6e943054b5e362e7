/**
 * ONNX integer ops through Verity's kernels: runOnnxIntegerNode builds a one-node QModel from
 * ONNX-style inputs and runs it with prepareModel/runModel, so conformance tests exercise exactly the
 * kernels a model uses.
 *
 * - MatMulInteger  inputs: A, B, a_zero_point?, b_zero_point?                      → i32
 * - ConvInteger    inputs: x, w, x_zero_point?, w_zero_point?                      → i32
 * - QLinearMatMul  inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
 * - QLinearConv    inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B?
 *
 * Scales are float32 tensors; the real multiplier of output channel j is
 * a_scale·b_scale_j / y_scale (computed in float64 from the float32 values), turned into
 * (mult_j, shift_j) by quantizeMultiplier. Zero points become params. Conv attrs follow ONNX
 * (pads [top,left,bottom,right], strides, dilations, group, auto_pad, kernel_shape).
 */
import type { AttrValue, DType, IntArray, Param, QModel, QNode, TensorData, TensorInfo } from './ir.js';
import { sizeOf } from './ir.js';
import { EngineInputError } from './errors.js';
import { quantizeMultiplier } from './fixedpoint.js';
import { prepareModel, runModel } from './run.js';
import { broadcastShapes } from './ops/common.js';
import { convOutDim } from './ops/conv.js';

export type OnnxIntegerOp = 'MatMulInteger' | 'ConvInteger' | 'QLinearMatMul' | 'QLinearConv';

/** An ONNX tensor value: integer dtypes as in the IR, float32 as 'f32'. */
export interface OnnxTensor {
  dtype: DType | 'f32';
  shape: number[];
  data: IntArray | Float32Array;
}

export type OnnxAttrs = Record<string, AttrValue | string>;

const INPUT_NAMES: Record<OnnxIntegerOp, string[]> = {
  MatMulInteger: ['A', 'B', 'a_zero_point', 'b_zero_point'],
  ConvInteger: ['x', 'w', 'x_zero_point', 'w_zero_point'],
  QLinearMatMul: ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'],
  QLinearConv: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'],
};

function bad(input: string, expected: string, got: string): never {
  throw new EngineInputError({ input, expected, got });
}

function intTensor(op: string, name: string, t: OnnxTensor | null | undefined, allowed: readonly DType[]): OnnxTensor {
  if (!t) bad(`${op} ${name}`, 'a tensor', 'nothing');
  if (t.dtype === 'f32' || !allowed.includes(t.dtype)) bad(`${op} ${name}`, `dtype ${allowed.join('|')}`, t.dtype);
  if (t.data.length !== sizeOf(t.shape)) bad(`${op} ${name}`, `${sizeOf(t.shape)} elements for shape [${t.shape}]`, `${t.data.length}`);
  return t;
}

function floats(op: string, name: string, t: OnnxTensor | null | undefined): number[] {
  if (!t) bad(`${op} ${name}`, 'a float32 tensor', 'nothing');
  if (t.dtype !== 'f32') bad(`${op} ${name}`, 'dtype f32', t.dtype);
  return Array.from(t.data as Float32Array);
}

function asParam(t: OnnxTensor): Param {
  return { dtype: t.dtype as DType, shape: t.shape.length ? t.shape.slice() : [1], data: t.data as IntArray };
}

function zeroParam(op: string, name: string, t: OnnxTensor | null | undefined, dtype: DType): Param | undefined {
  if (!t) return undefined;
  if (t.dtype !== dtype) bad(`${op} ${name}`, `dtype ${dtype} (the operand's)`, t.dtype);
  return { dtype, shape: [t.data.length], data: t.data as IntArray };
}

function info(id: number, name: string, dtype: DType, shape: number[]): TensorInfo {
  return { id, name, dtype, shape, scale: 1, zeroPoint: 0, layout: 'plain' };
}

function mults(op: string, a: number[], b: number[], y: number[], n: number): { mult: Param; shift: Param } {
  if (a.length !== 1) bad(`${op} a_scale/x_scale`, 'a scalar scale', `${a.length} entries`);
  if (y.length !== 1) bad(`${op} y_scale`, 'a scalar scale', `${y.length} entries`);
  if (b.length !== 1 && b.length !== n) bad(`${op} b_scale/w_scale`, `1 or ${n} entries`, `${b.length} entries`);
  const m = new Int32Array(b.length);
  const s = new Int32Array(b.length);
  for (let j = 0; j < b.length; j++) {
    const q = quantizeMultiplier((a[0] * b[j]) / y[0]);
    m[j] = q.mult;
    s[j] = q.shift;
  }
  return { mult: { dtype: 'i32', shape: [b.length], data: m }, shift: { dtype: 'i32', shape: [b.length], data: s } };
}

function matmulShape(op: string, a: number[], b: number[]): number[] {
  if (a.length < 1 || b.length < 1) bad(`${op} A/B`, 'rank ≥ 1', `[${a}] and [${b}]`);
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  if (a2[a2.length - 1] !== b2[b2.length - 2]) bad(`${op} A/B`, 'A[..,M,K] and B[..,K,N]', `[${a}] and [${b}]`);
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  if (!batch) bad(`${op} A/B`, 'broadcastable batch dims', `[${a}] and [${b}]`);
  const out = [...batch];
  if (a.length !== 1) out.push(a2[a2.length - 2]);
  if (b.length !== 1) out.push(b2[b2.length - 1]);
  return out;
}

function ints(attrs: OnnxAttrs, name: string, def: number[]): number[] {
  const v = attrs[name];
  if (v === undefined) return def;
  if (!Array.isArray(v)) bad(`attr ${name}`, 'an integer array', JSON.stringify(v));
  return v.slice();
}

/** ONNX conv attrs → QNode attrs (pads resolved from auto_pad) and the output shape. */
function convAttrs(op: string, attrs: OnnxAttrs, xs: number[], ws: number[]): { attrs: Record<string, AttrValue>; outShape: number[] } {
  if (xs.length !== 4 || ws.length !== 4) bad(`${op} x/w`, '4-D NCHW x and [M,C/group,KH,KW] w', `[${xs}] and [${ws}]`);
  const [, , H, W] = xs;
  const [M, , KH, KW] = ws;
  const ks = ints(attrs, 'kernel_shape', [KH, KW]);
  if (ks[0] !== KH || ks[1] !== KW) bad(`${op} kernel_shape`, `[${KH},${KW}] (w's)`, `[${ks}]`);
  const strides = ints(attrs, 'strides', [1, 1]);
  const dil = ints(attrs, 'dilations', [1, 1]);
  const group = attrs.group === undefined ? 1 : Number(attrs.group);
  let pads = ints(attrs, 'pads', [0, 0, 0, 0]);
  const autoPad = attrs.auto_pad === undefined ? 'NOTSET' : String(attrs.auto_pad);
  if (autoPad === 'VALID') pads = [0, 0, 0, 0];
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const p = [0, 0, 0, 0];
    [H, W].forEach((d, i) => {
      const k = i === 0 ? KH : KW;
      const total = Math.max(0, (Math.ceil(d / strides[i]) - 1) * strides[i] + dil[i] * (k - 1) + 1 - d);
      const small = Math.floor(total / 2);
      p[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      p[i + 2] = total - p[i];
    });
    pads = p;
  } else if (autoPad !== 'NOTSET') bad(`${op} auto_pad`, 'NOTSET|VALID|SAME_UPPER|SAME_LOWER', autoPad);
  const OH = convOutDim(H, pads[0], pads[2], KH, strides[0], dil[0]);
  const OW = convOutDim(W, pads[1], pads[3], KW, strides[1], dil[1]);
  return { attrs: { pads, strides, dilations: dil, group }, outShape: [xs[0], M, OH, OW] };
}

/**
 * Runs one ONNX integer node (inputs in ONNX order; optional ones may be null/undefined or left
 * off) through Verity's kernels and returns its output. outputDtype: i32 for MatMulInteger and
 * ConvInteger, the y_zero_point's dtype (u8|i8) for QLinear*.
 */
export function runOnnxIntegerNode(
  opType: OnnxIntegerOp,
  attrs: OnnxAttrs,
  inputs: readonly (OnnxTensor | null | undefined)[],
  outputDtype: DType,
): TensorData {
  const names = INPUT_NAMES[opType];
  if (!names) bad('opType', Object.keys(INPUT_NAMES).join('|'), String(opType));
  const get = (n: string): OnnxTensor | null | undefined => inputs[names.indexOf(n)];
  const q: DType[] = ['i8', 'u8'];
  let a: OnnxTensor;
  let b: OnnxTensor;
  let outShape: number[];
  let nodeAttrs: Record<string, AttrValue> = {};
  const params: Record<string, Param> = {};
  const put = (k: string, p: Param | undefined): void => {
    if (p) params[k] = p;
  };
  switch (opType) {
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const isQ = opType === 'QLinearMatMul';
      a = intTensor(opType, names[0], inputs[0], q);
      b = intTensor(opType, isQ ? 'b' : 'B', get(isQ ? 'b' : 'B'), q);
      outShape = matmulShape(opType, a.shape, b.shape);
      put('aZero', zeroParam(opType, 'a_zero_point', get('a_zero_point'), a.dtype as DType));
      put('bZero', zeroParam(opType, 'b_zero_point', get('b_zero_point'), b.dtype as DType));
      if (isQ) {
        const N = b.shape.length === 1 ? 1 : b.shape[b.shape.length - 1];
        const { mult, shift } = mults(opType, floats(opType, 'a_scale', get('a_scale')), floats(opType, 'b_scale', get('b_scale')), floats(opType, 'y_scale', get('y_scale')), N);
        put('mult', mult);
        put('shift', shift);
        put('yZero', zeroParam(opType, 'y_zero_point', get('y_zero_point'), outputDtype));
      }
      break;
    }
    case 'ConvInteger':
    case 'QLinearConv': {
      a = intTensor(opType, 'x', get('x'), q);
      b = intTensor(opType, 'w', get('w'), q);
      const c = convAttrs(opType, attrs, a.shape, b.shape);
      nodeAttrs = c.attrs;
      outShape = c.outShape;
      put('xZero', zeroParam(opType, 'x_zero_point', get('x_zero_point'), a.dtype as DType));
      put('wZero', zeroParam(opType, 'w_zero_point', get('w_zero_point'), b.dtype as DType));
      if (opType === 'QLinearConv') {
        const M = b.shape[0];
        const { mult, shift } = mults(opType, floats(opType, 'x_scale', get('x_scale')), floats(opType, 'w_scale', get('w_scale')), floats(opType, 'y_scale', get('y_scale')), M);
        put('mult', mult);
        put('shift', shift);
        put('yZero', zeroParam(opType, 'y_zero_point', get('y_zero_point'), outputDtype));
        const B = get('B');
        if (B) put('bias', asParam(intTensor(opType, 'B', B, ['i32'])));
      }
      break;
    }
  }
  const model: QModel = {
    format: 'verity-qmodel',
    version: 1,
    name: opType,
    inputs: [0, 1],
    outputs: [2],
    tensors: [info(0, names[0], a.dtype as DType, a.shape.slice()), info(1, opType.includes('Conv') ? 'w' : 'b', b.dtype as DType, b.shape.slice()), info(2, 'y', outputDtype, outShape)],
    nodes: [{ op: opType, name: opType, inputs: [0, 1], output: 2, attrs: nodeAttrs, params } satisfies QNode],
    source: { onnxSha256: '', opset: 0, producer: 'runOnnxIntegerNode' },
  };
  const p = prepareModel(model);
  const trace = runModel(p, [
    { dtype: a.dtype as DType, shape: a.shape.slice(), data: a.data as IntArray },
    { dtype: b.dtype as DType, shape: b.shape.slice(), data: b.data as IntArray },
  ]);
  return trace[2];
}
