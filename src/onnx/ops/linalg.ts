/**
 * Matrix products: MatMul (numpy matmul semantics), Gemm, and the canonical Linear that fold.ts
 * produces. Dot products accumulate in float64 and round once on store, which is within an ulp
 * or two of onnxruntime's float32 SIMD accumulation for the sizes we meet.
 */
import { shapeStr, sizeOf, type FTensor } from '../tensor.js';
import { broadcastOffsets, broadcastShape } from './broadcast.js';
import type { OpCtx, OpImpl } from './context.js';

/** Batched a·b with broadcasting of the leading dims; 1-D operands are promoted and the added
 *  dim removed from the result, as numpy.matmul does. Works on any numeric dtype (integer results
 *  are exact below 2^53). */
export function matmul(ctx: OpCtx, a: FTensor, b: FTensor): FTensor {
  if (a.dtype !== b.dtype) ctx.fail(`inputs must have one element type, got ${a.dtype} and ${b.dtype}`);
  if (a.shape.length === 0 || b.shape.length === 0) ctx.fail('inputs must have rank >= 1');
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
  const M = as[as.length - 2];
  const K = as[as.length - 1];
  const N = bs[bs.length - 1];
  if (bs[bs.length - 2] !== K) ctx.fail(`inner dimensions differ: ${shapeStr(a.shape)} · ${shapeStr(b.shape)}`);
  const batchA = as.slice(0, -2);
  const batchB = bs.slice(0, -2);
  const batch = broadcastShape(ctx, [batchA, batchB]);
  const finalShape = [...batch];
  if (a.shape.length > 1) finalShape.push(M);
  if (b.shape.length > 1) finalShape.push(N);
  const y = ctx.alloc(a.dtype, finalShape);
  const nb = sizeOf(batch);
  ctx.work(nb * M * N * K);
  const ao = broadcastOffsets(batch, batchA);
  const bo = broadcastOffsets(batch, batchB);
  const acc = new Float64Array(N);
  const ad = a.data;
  const bd = b.data;
  for (let p = 0; p < nb; p++) {
    const abase = ao[p] * M * K;
    const bbase = bo[p] * K * N;
    const ybase = p * M * N;
    for (let i = 0; i < M; i++) {
      acc.fill(0);
      for (let k = 0; k < K; k++) {
        const av = ad[abase + i * K + k];
        if (av === 0) continue;
        const brow = bbase + k * N;
        for (let j = 0; j < N; j++) acc[j] += av * bd[brow + j];
      }
      for (let j = 0; j < N; j++) y.data[ybase + i * N + j] = acc[j];
    }
  }
  return y;
}

export const MatMul: OpImpl = (ctx, inputs) => [matmul(ctx, ctx.in(inputs, 0), ctx.in(inputs, 1))];

export const Gemm: OpImpl = (ctx, inputs) => {
  const a = ctx.float32(inputs, 0);
  const b = ctx.float32(inputs, 1);
  const c = inputs[2];
  const alpha = ctx.float('alpha', 1);
  const beta = ctx.float('beta', 1);
  const transA = ctx.int('transA', 0) !== 0;
  const transB = ctx.int('transB', 0) !== 0;
  if (a.shape.length !== 2 || b.shape.length !== 2) ctx.fail(`A and B must be 2-D, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : a.shape;
  const [K2, N] = transB ? [b.shape[1], b.shape[0]] : b.shape;
  if (K !== K2) ctx.fail(`inner dimensions differ: A${transA ? 'ᵀ' : ''}${shapeStr(a.shape)} · B${transB ? 'ᵀ' : ''}${shapeStr(b.shape)}`);
  const y = ctx.alloc('float32', [M, N]);
  ctx.work(M * N * K);
  let co: Int32Array | undefined;
  if (c) {
    if (c.dtype !== 'float32') ctx.fail(`C must be float32, got ${c.dtype}`);
    // C broadcasts unidirectionally to [M, N].
    const bshape = broadcastShape(ctx, [[M, N], c.shape]);
    if (bshape.length !== 2 || bshape[0] !== M || bshape[1] !== N) ctx.fail(`C of shape ${shapeStr(c.shape)} does not broadcast to [${M},${N}]`);
    co = broadcastOffsets([M, N], c.shape);
  }
  const A = (i: number, k: number) => (transA ? a.data[k * M + i] : a.data[i * K + k]);
  const B = (k: number, j: number) => (transB ? b.data[j * K + k] : b.data[k * N + j]);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A(i, k) * B(k, j);
      let v = alpha * s;
      if (c && co) v += beta * c.data[co[i * N + j]];
      y.data[i * N + j] = v;
    }
  }
  return [y];
};

/** Canonical Linear (fold.ts): y[..., n] = Σ_k x[..., k]·W[n][k] + b[n] with W [N][K] and b [N]. */
export const Linear: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const w = ctx.float32(inputs, 1);
  const b = inputs[2];
  if (w.shape.length !== 2) ctx.fail(`W must be [N][K], got ${shapeStr(w.shape)}`);
  const [N, K] = w.shape;
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== K) ctx.fail(`x ${shapeStr(x.shape)} does not end in K=${K}`);
  if (b && (b.dtype !== 'float32' || b.data.length !== N)) ctx.fail(`bias must be float32 [${N}], got ${b.dtype}${shapeStr(b.shape)}`);
  const rows = sizeOf(x.shape.slice(0, -1));
  const y = ctx.alloc('float32', [...x.shape.slice(0, -1), N]);
  ctx.work(rows * N * K);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let s = b ? b.data[n] : 0;
      for (let k = 0; k < K; k++) s += x.data[r * K + k] * w.data[n * K + k];
      y.data[r * N + n] = s;
    }
  }
  return [y];
};
