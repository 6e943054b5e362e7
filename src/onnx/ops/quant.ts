/**
 * ONNX's own quantized ops, so that already-quantized graphs run in the float reference too
 * (fold.ts passes them through). Integer accumulations are exact (float64 below 2^53); rounding
 * is half-to-even like std::nearbyint in onnxruntime; scales are float32.
 */
import { shapeStr, sizeOf, type DType, type FTensor } from '../tensor.js';
import type { Inputs, OpCtx, OpImpl } from './context.js';
import { conv, convGeometry } from './conv.js';
import { matmul } from './linalg.js';

const f32 = Math.fround;

export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

function saturate(dtype: DType, v: number): number {
  if (dtype === 'uint8') return Math.min(255, Math.max(0, v));
  if (dtype === 'int8') return Math.min(127, Math.max(-128, v));
  if (dtype === 'int32') return Math.min(2147483647, Math.max(-2147483648, v));
  return v;
}

function quantType(ctx: OpCtx, t: FTensor | undefined, what: string): DType {
  const d = t ? t.dtype : 'uint8';
  if (d !== 'uint8' && d !== 'int8' && d !== 'int32') ctx.fail(`${what} must be uint8, int8 or int32, got ${d}`);
  return d;
}

/** Index into a per-tensor (1 element) or per-axis (length shape[axis]) parameter for flat
 *  element i of a tensor of shape `shape`. */
function perAxis(ctx: OpCtx, p: FTensor | undefined, shape: readonly number[], axis: number, what: string): (i: number) => number {
  if (!p) return () => 0;
  if (p.data.length === 1) {
    const v = p.data[0];
    return () => v;
  }
  if (p.shape.length !== 1 || axis < 0 || axis >= shape.length || p.shape[0] !== shape[axis]) {
    ctx.fail(`${what} ${shapeStr(p.shape)} is neither a scalar nor per-axis for axis ${axis} of ${shapeStr(shape)}`);
  }
  const inner = sizeOf(shape.slice(axis + 1));
  const C = shape[axis];
  return (i) => p.data[Math.floor(i / inner) % C];
}

export const QuantizeLinear: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const scale = ctx.float32(inputs, 1);
  const zp = inputs[2];
  const out = quantType(ctx, zp, 'zero point');
  const axis = scale.data.length === 1 ? 0 : ctx.axis(ctx.int('axis', 1), x.shape.length);
  const s = perAxis(ctx, scale, x.shape, axis, 'y_scale');
  const z = perAxis(ctx, zp, x.shape, axis, 'y_zero_point');
  const y = ctx.alloc(out, x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = saturate(out, roundHalfEven(f32(x.data[i] / s(i))) + z(i));
  return [y];
};

export const DequantizeLinear: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  quantType(ctx, x, 'x');
  const scale = ctx.float32(inputs, 1);
  const zp = inputs[2];
  const axis = scale.data.length === 1 ? 0 : ctx.axis(ctx.int('axis', 1), x.shape.length);
  const s = perAxis(ctx, scale, x.shape, axis, 'x_scale');
  const z = perAxis(ctx, zp, x.shape, axis, 'x_zero_point');
  const y = ctx.alloc('float32', x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = (x.data[i] - z(i)) * s(i);
  return [y];
};

export const DynamicQuantizeLinear: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  let lo = 0;
  let hi = 0;
  for (const v of x.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = f32(f32(hi - lo) / 255);
  const zp = scale === 0 ? 0 : saturate('uint8', roundHalfEven(f32(0 - f32(lo / scale))));
  const y = ctx.alloc('uint8', x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = scale === 0 ? zp : saturate('uint8', roundHalfEven(f32(x.data[i] / scale)) + zp);
  const s = ctx.alloc('float32', []);
  s.data[0] = scale;
  const z = ctx.alloc('uint8', []);
  z.data[0] = zp;
  return [y, s, z];
};

/** x − zero point as an exact integer tensor (dtype int32 so matmul/conv accept it). The zero
 *  point is a scalar or varies along `axis` (rows of A, columns of B, output channels of W). */
function shifted(ctx: OpCtx, x: FTensor, zp: FTensor | undefined, axis: number, what: string): FTensor {
  quantType(ctx, x, what);
  const z = perAxis(ctx, zp, x.shape, axis, `${what} zero point`);
  const y = ctx.alloc('int32', x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = x.data[i] - z(i);
  return y;
}

export const MatMulInteger: OpImpl = (ctx, inputs) => {
  const a = ctx.in(inputs, 0);
  const b = ctx.in(inputs, 1);
  const a2 = shifted(ctx, a, inputs[2], a.shape.length - 2, 'A');
  const b2 = shifted(ctx, b, inputs[3], b.shape.length - 1, 'B');
  return [matmul(ctx, a2, b2)];
};

function requantize(ctx: OpCtx, acc: FTensor, mult: (i: number) => number, yzp: FTensor | undefined): FTensor {
  const out = quantType(ctx, yzp, 'y_zero_point');
  const z = yzp ? yzp.data[0] : 0;
  const y = ctx.alloc(out, acc.shape);
  for (let i = 0; i < acc.data.length; i++) y.data[i] = saturate(out, roundHalfEven(acc.data[i] * mult(i)) + z);
  return y;
}

function scalarParam(ctx: OpCtx, inputs: Inputs, i: number): number {
  return ctx.scalarOf(inputs, i);
}

export const QLinearMatMul: OpImpl = (ctx, inputs) => {
  const a = ctx.in(inputs, 0);
  const b = ctx.in(inputs, 3);
  const as = scalarParam(ctx, inputs, 1);
  const bScale = ctx.float32(inputs, 4);
  const ys = scalarParam(ctx, inputs, 6);
  const a2 = shifted(ctx, a, inputs[2], a.shape.length - 2, 'a');
  const b2 = shifted(ctx, b, inputs[5], b.shape.length - 1, 'b');
  const acc = matmul(ctx, a2, b2);
  const N = acc.shape[acc.shape.length - 1];
  const bs = perAxis(ctx, bScale, [N], 0, 'b_scale');
  return [requantize(ctx, acc, (i) => f32(f32(as * bs(i % N)) / ys), inputs[7])];
};

export const ConvInteger: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const w = ctx.in(inputs, 1);
  const group = ctx.int('group', 1);
  const geo = convGeometry(ctx, x.shape, w.shape, group);
  if (inputs[2] && inputs[2].data.length !== 1) ctx.unsupported('a per-channel x_zero_point');
  const x2 = shifted(ctx, x, inputs[2], 0, 'x');
  const w2 = shifted(ctx, w, inputs[3], 0, 'w');
  return [conv(ctx, { x: x2.data, xShape: x.shape, w: w2.data, wShape: w.shape, group, outDtype: 'int32' }, geo)];
};

export const QLinearConv: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const w = ctx.in(inputs, 3);
  const xs = scalarParam(ctx, inputs, 1);
  const wScale = ctx.float32(inputs, 4);
  const ys = scalarParam(ctx, inputs, 6);
  const bias = inputs[8];
  const group = ctx.int('group', 1);
  const geo = convGeometry(ctx, x.shape, w.shape, group);
  if (inputs[2] && inputs[2].data.length !== 1) ctx.unsupported('a per-channel x_zero_point');
  const M = w.shape[0];
  if (bias && (bias.dtype !== 'int32' || bias.data.length !== M)) ctx.fail(`B must be int32 [${M}], got ${bias.dtype}${shapeStr(bias.shape)}`);
  const x2 = shifted(ctx, x, inputs[2], 0, 'x');
  const w2 = shifted(ctx, w, inputs[5], 0, 'w');
  const acc = conv(ctx, { x: x2.data, xShape: x.shape, w: w2.data, wShape: w.shape, bias: bias?.data, group, outDtype: 'int32' }, geo);
  const ws = perAxis(ctx, wScale, [M], 0, 'w_scale');
  const inner = sizeOf(acc.shape.slice(2));
  return [requantize(ctx, acc, (i) => f32(f32(xs * ws(Math.floor(i / inner) % M)) / ys), inputs[7])];
};
