/**
 * Linear (docs/ops.md §Linear): over the last axis of x[.., K] with weight i8[N][K]:
 *   acc_j = bias_j + Σ_k (x_k − xZero)·W[j][k];  y_j = clamp(yZero + requant(acc_j, mult_j, shift_j), lo, hi)
 * Native path (when the addon is built, src/engine/native.ts): the same integers from packed
 * weights in one fused GEMM + requant call over all rows (and all items of a batch).
 * WebAssembly path: the weights (i16, rows padded to K8) and the bias/mult/shift tables stay resident
 * in wasm memory; a run copies x in, runs one 8-bit-A GEMM over all rows (x − xZero widened in the
 * kernel) and the requant+clamp epilogue there, and copies y out. A batch is one GEMM over
 * rows × B. JS path: writes x − xZero (i16) as the A operand of one GEMM over all rows against the
 * prepared i16 weights, then adds the bias and requantizes.
 */
import { sizeOf } from '../ir.js';
import { requantAlwaysFast, requantH, requantTable } from '../fixedpoint.js';
import { batchKernel, type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN } from './common.js';
import { I32_MAX, makeGemm, padRows } from './gemm.js';
import { multShiftParams, outRange, zeroAttr } from './quant.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, bytesOf, copyIn8, copyOut, makeRequant } from './wasmdense.js';
import { int32Table, nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['weight', 'bias', 'mult', 'shift']);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length < 1) ctx.fail('input must have rank ≥ 1');
  const K = xs[xs.length - 1];
  const weight = ctx.param('weight', ['i8']);
  if (weight.shape.length !== 2 || weight.shape[1] !== K) {
    ctx.fail(`param 'weight' has shape [${weight.shape}]; expected [N, ${K}]`);
  }
  const N = weight.shape[0];
  const bias = ctx.hasParam('bias') ? ctx.param('bias', ['i32'], { shape: [N] }) : undefined;
  const { mult, shift } = multShiftParams(ctx, [N]);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape([...xs.slice(0, -1), N]);
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const { lo, hi } = outRange(ctx, yd);

  const rows = sizeOf(xs) / K;
  let wMax = 0;
  for (let i = 0; i < weight.data.length; i++) wMax = Math.max(wMax, Math.abs(weight.data[i]));
  const xDev = Math.max(xZero - DTYPE_MIN[xd], DTYPE_MAX[xd] - xZero);
  const K8 = Math.ceil(K / 8) * 8;
  const nat = nativeKernels();
  if (nat && K * xDev * wMax <= I32_MAX) {
    // Native path (src/engine/native.ts): packed weights, one fused GEMM + requant over all rows.
    const packed = nat.pack(weight.data as Int8Array, N, K);
    const bi = bias ? int32Table(N, bias.data) : null;
    const mu = int32Table(N, mult.data);
    const sh = int32Table(N, shift.data);
    const sgn = xd === 'i8' ? 1 : 0;
    const ob = bytesOf(yd);
    return batchKernel((ins, out, B) => {
      nat.dense(ins[0].data as Uint8Array, sgn, rows * B, K, xZero, packed, N, bi, mu, sh, yZero, lo, hi, out.data as Uint8Array, ob);
    });
  }
  const w = wasmKernels();
  if (w && K * xDev * wMax <= I32_MAX) {
    const W = resident(padRows(weight.data, N, K, K8));
    const requant = makeRequant(w, yd, N, mult.data, shift.data, bias?.data, K * xDev * wMax, yZero, lo, hi);
    const gemm = xd === 'i8' ? w.gemm8s : w.gemm8u;
    const ob = bytesOf(yd);
    const chunk = Math.max(2, Math.floor(16384 / N) & ~1);
    return batchKernel((ins, out, B) => {
      const R = rows * B;
      const xBytes = align16(R * K);
      const cBytes = R * N * 4;
      const base = scratch(xBytes + cBytes + R * N * ob);
      const co = base + xBytes;
      const yo = co + cBytes;
      copyIn8(xd, ins[0].data, base);
      // In chunks of rows whose accumulators fit in cache (the epilogue reads them right after).
      for (let r0 = 0; r0 < R; r0 += chunk) {
        const m = Math.min(chunk, R - r0);
        gemm(base + r0 * K, K, W.off, K8 * 2, co + r0 * N * 4, N * 4, m, N, xZero);
        requant(co + r0 * N * 4, yo + r0 * N * ob, m);
      }
      copyOut(yd, out.data, yo, R * N);
    });
  }
  const gemm = makeGemm(rows, N, K, K * xDev * wMax, padRows(weight.data, N, K, K8));
  const b = new Float64Array(N);
  if (bias) for (let j = 0; j < N; j++) b[j] = bias.data[j];
  const { m, half, inv, s } = requantTable(mult.data, shift.data, N);
  let maxBias = 0;
  for (let j = 0; j < N; j++) maxBias = Math.max(maxBias, Math.abs(b[j]));
  // Within the documented bounds the range check of requant is statically unnecessary.
  let maxMult = 0;
  for (let j = 0; j < N; j++) maxMult = Math.max(maxMult, m[j]);
  const unchecked = requantAlwaysFast(maxBias + K * xDev * wMax, maxMult);

  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const A = gemm.a();
    for (let r = 0; r < rows; r++) {
      const xo = r * K;
      const ao = r * K8;
      for (let k = 0; k < K; k++) A[ao + k] = x[xo + k] - xZero;
      for (let k = K; k < K8; k++) A[ao + k] = 0;
    }
    const C = gemm.run();
    let o = 0;
    if (unchecked) {
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < N; j++, o++) {
          const v = yZero + Math.floor(((C[o] + b[j]) * m[j] + half[j]) * inv[j]);
          y[o] = v < lo ? lo : v > hi ? hi : v;
        }
      }
      return;
    }
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < N; j++, o++) {
        const v = yZero + requantH(C[o] + b[j], m[j], half[j], inv[j], s[j]);
        y[o] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  };
}
