/** Normalizations: BatchNormalization (inference), LayerNormalization, Softmax. */
import { shapeStr, sizeOf, type FTensor } from '../tensor.js';
import { broadcastOffsets } from './broadcast.js';
import type { OpImpl } from './context.js';

const f32 = Math.fround;

export const BatchNormalization: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => ctx.float32(inputs, i));
  if (ctx.int('training_mode', 0) !== 0) ctx.unsupported('training_mode=1 (batch statistics)');
  if (ctx.node.outputs.slice(1).some((o) => o !== '')) ctx.unsupported('the training outputs (running mean/var)');
  if (x.shape.length < 2) ctx.fail(`X must be N,C,…, got ${shapeStr(x.shape)}`);
  const eps = ctx.float('epsilon', 1e-5);
  const C = x.shape[1];
  for (const p of [scale, bias, mean, variance]) if (p.data.length !== C) ctx.fail(`parameters must have ${C} elements, got ${shapeStr(p.shape)}`);
  // onnxruntime's order of float32 operations: x·(γ/√(σ²+ε)) + (β − μ·γ/√(σ²+ε)).
  const k = new Float32Array(C);
  const t = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    k[c] = f32(f32(1 / f32(Math.sqrt(f32(variance.data[c] + eps)))) * scale.data[c]);
    t[c] = f32(bias.data[c] - f32(mean.data[c] * k[c]));
  }
  const inner = sizeOf(x.shape.slice(2));
  const y = ctx.alloc('float32', x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = Math.floor(i / inner) % C;
    y.data[i] = f32(x.data[i] * k[c]) + t[c];
  }
  return [y];
};

/** InstanceNormalization: per (n, c), (x − mean)/√(var + ε) over the spatial dims, then scale and bias per channel. */
export const InstanceNormalization: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const scale = ctx.float32(inputs, 1);
  const bias = ctx.float32(inputs, 2);
  if (x.shape.length < 3) ctx.fail(`input must be N,C,D1,…, got ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  if (scale.data.length !== C || bias.data.length !== C) ctx.fail(`scale and B must have ${C} elements`);
  const eps = ctx.float('epsilon', 1e-5);
  const inner = sizeOf(x.shape.slice(2));
  const y = ctx.alloc('float32', x.shape);
  for (let base = 0, k = 0; base < x.data.length; base += inner, k++) {
    const c = k % C;
    let mean = 0;
    for (let i = 0; i < inner; i++) mean += x.data[base + i];
    mean /= inner;
    let v = 0;
    for (let i = 0; i < inner; i++) v += (x.data[base + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / inner + eps);
    for (let i = 0; i < inner; i++) y.data[base + i] = (x.data[base + i] - mean) * inv * scale.data[c] + bias.data[c];
  }
  ctx.work(x.data.length * 4);
  return [y];
};

/** GroupNormalization (opset 18: scale/bias per group; 21: per channel): statistics over each group's
 *  channels and spatial positions. */
export const GroupNormalization: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const scale = ctx.float32(inputs, 1);
  const bias = ctx.float32(inputs, 2);
  if (x.shape.length < 3) ctx.fail(`input must be N,C,D1,…, got ${shapeStr(x.shape)}`);
  const G = ctx.int('num_groups');
  const [N, C] = x.shape;
  if (G < 1 || C % G !== 0) ctx.fail(`num_groups ${G} must divide C = ${C}`, 'num_groups');
  const perChannel = ctx.opset >= 21;
  if (scale.data.length !== (perChannel ? C : G) || bias.data.length !== scale.data.length) ctx.fail(`scale and bias must have ${perChannel ? C : G} elements`);
  const eps = ctx.float('epsilon', 1e-5);
  const inner = sizeOf(x.shape.slice(2));
  const K = (C / G) * inner;
  const y = ctx.alloc('float32', x.shape);
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      const base = (n * G + g) * K;
      let mean = 0;
      for (let i = 0; i < K; i++) mean += x.data[base + i];
      mean /= K;
      let v = 0;
      for (let i = 0; i < K; i++) v += (x.data[base + i] - mean) ** 2;
      const inv = 1 / Math.sqrt(v / K + eps);
      for (let i = 0; i < K; i++) {
        const c = g * (C / G) + Math.floor(i / inner);
        const j = perChannel ? c : g;
        y.data[base + i] = (x.data[base + i] - mean) * inv * scale.data[j] + bias.data[j];
      }
    }
  ctx.work(x.data.length * 4);
  return [y];
};

export const LayerNormalization: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const scale = ctx.float32(inputs, 1);
  const bias = inputs[2];
  const r = x.shape.length;
  const axis = ctx.axis(ctx.int('axis', -1), r);
  const eps = ctx.float('epsilon', 1e-5);
  const normShape = x.shape.slice(axis);
  const D = sizeOf(normShape);
  const rows = sizeOf(x.shape.slice(0, axis));
  const paramOffsets = (p: FTensor, what: string) => {
    if (p.dtype !== 'float32') ctx.fail(`${what} must be float32`);
    if (p.shape.length > normShape.length || p.shape.some((d, i) => d !== 1 && d !== normShape[normShape.length - p.shape.length + i])) {
      ctx.fail(`${what} ${shapeStr(p.shape)} does not broadcast to the normalized shape ${shapeStr(normShape)}`);
    }
    return broadcastOffsets(normShape, p.shape);
  };
  const so = paramOffsets(scale, 'Scale');
  const bo = bias ? paramOffsets(bias, 'B') : undefined;
  const y = ctx.alloc('float32', x.shape);
  const statShape = [...x.shape.slice(0, axis), ...normShape.map(() => 1)];
  const wantStats = ctx.node.outputs.slice(1).some((o) => o !== '');
  const meanT = wantStats ? ctx.alloc('float32', statShape) : undefined;
  const invT = wantStats ? ctx.alloc('float32', statShape) : undefined;
  ctx.work(3 * rows * D);
  for (let r0 = 0; r0 < rows; r0++) {
    const base = r0 * D;
    let s = 0;
    for (let i = 0; i < D; i++) s += x.data[base + i];
    const mean = s / D;
    let v = 0;
    for (let i = 0; i < D; i++) {
      const d = x.data[base + i] - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let i = 0; i < D; i++) {
      const b = bias && bo ? bias.data[bo[i]] : 0;
      y.data[base + i] = (x.data[base + i] - mean) * inv * scale.data[so[i]] + b;
    }
    if (meanT && invT) {
      meanT.data[r0] = mean;
      invT.data[r0] = inv;
    }
  }
  return [y, meanT, invT];
};

/** Softmax. Opset < 13 normalizes over the flattened dims [axis, rank) (default axis 1); opset
 *  13+ over the single axis (default -1). */
export const Softmax: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const r = x.shape.length;
  if (r === 0) ctx.fail('input must have rank >= 1');
  const legacy = ctx.opset < 13;
  const axis = ctx.axis(ctx.int('axis', legacy ? 1 : -1), r);
  const outer = sizeOf(x.shape.slice(0, axis));
  const D = legacy ? sizeOf(x.shape.slice(axis)) : x.shape[axis];
  const inner = legacy ? 1 : sizeOf(x.shape.slice(axis + 1));
  const y = ctx.alloc('float32', x.shape);
  ctx.work(3 * x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (i: number) => (o * D + i) * inner + j;
      let m = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < D; i++) m = Math.max(m, x.data[at(i)]);
      let s = 0;
      for (let i = 0; i < D; i++) {
        const e = Math.exp(x.data[at(i)] - m);
        y.data[at(i)] = e;
        s += f32(e);
      }
      for (let i = 0; i < D; i++) y.data[at(i)] = y.data[at(i)] / s;
    }
  }
  return [y];
};
