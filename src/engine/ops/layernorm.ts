/**
 * LayerNorm over the last axis of length N ≤ 1024 (docs/ops.md §LayerNorm):
 *   d_i = x_i − xZero;  T = Σ d_i;  c_i = N·d_i − T;  V = floor(Σ c_i² / N) + eps;  R = max(isqrt(V), 1)
 *   t_i = roundDiv(gamma_i·c_i, R);  y_i = clamp(yZero + rshr(t_i + beta_i, shift), output dtype range)
 */
import { floorDiv, isqrt } from '../fixedpoint.js';
import { type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN, rowwise } from './common.js';
import { shiftAttr, zeroAttr } from './quant.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';
import { nativeKernels } from '../native.js';

export const LAYERNORM_MAX_AXIS = 1024;
export const LAYERNORM_MAX_EPS = 2 ** 52 - 2 ** 40;
export const LAYERNORM_GAMMA_LIMIT = 32768; // |gamma| < 2^15

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['gamma', 'beta']);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length < 1) ctx.fail('input must have rank ≥ 1');
  ctx.outShape(xs);
  const N = xs[xs.length - 1];
  if (N > LAYERNORM_MAX_AXIS) ctx.fail(`normalized axis length ${N} exceeds ${LAYERNORM_MAX_AXIS}`);
  const gammaP = ctx.param('gamma', ['i32'], { shape: [N] });
  ctx.paramRange('gamma', gammaP, -(LAYERNORM_GAMMA_LIMIT - 1), LAYERNORM_GAMMA_LIMIT - 1);
  const betaP = ctx.param('beta', ['i32'], { shape: [N] });
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const eps = ctx.int('eps', 0, LAYERNORM_MAX_EPS);
  const shift = shiftAttr(ctx);
  const lo = DTYPE_MIN[yd];
  const hi = DTYPE_MAX[yd];
  const nat = nativeKernels();
  if (nat) {
    // Native (src/engine/native.ts): the JS kernel's formula below, in C, exact.
    const G = Int32Array.from(gammaP.data);
    const Bt = Int32Array.from(betaP.data);
    const sgn = xd === 'i8' ? 1 : 0;
    return rowwise((ins, out) => {
      const n = ins[0].data.length;
      nat.layerNorm(ins[0].data as Uint8Array, sgn, n / N, N, xZero, G, Bt, eps, shift, yZero, lo, hi, out.data as Uint8Array);
    });
  }
  const w = wasmKernels();
  if (w) {
    // WebAssembly (src/engine/wasm.ts layernorm8..): the same integer formula, exact.
    const G = resident(gammaP.data as Int32Array);
    const Bt = resident(betaP.data as Int32Array);
    const K = resident(new Float64Array([eps, 2 ** (shift - 1), 2 ** -shift]));
    const f = xd === 'i8' ? (yd === 'i8' ? w.layernorm8ss : w.layernorm8su) : yd === 'i8' ? w.layernorm8us : w.layernorm8uu;
    return rowwise((ins, out) => {
      const n = ins[0].data.length;
      const cb = align16(n);
      const yo = cb + N * 4;
      const base = scratch(yo + n);
      copyIn8(xd, ins[0].data, base);
      f(base, G.off, Bt.off, base + yo, n / N, N, xZero, yZero, K.off, lo, hi, base + cb);
      copyOut(yd, out.data, base + yo, n);
    });
  }
  const gamma = Float64Array.from(gammaP.data);
  const beta = Float64Array.from(betaP.data);
  const c = new Float64Array(N);
  const half = 2 ** (shift - 1);
  const inv = 2 ** -shift;
  return rowwise((ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const rows = x.length / N;
    for (let r = 0; r < rows; r++) {
      const o = r * N;
      let T = 0;
      for (let i = 0; i < N; i++) T += x[o + i];
      T -= N * xZero;
      let Q = 0;
      for (let i = 0; i < N; i++) {
        const ci = N * (x[o + i] - xZero) - T;
        c[i] = ci;
        Q += ci * ci;
      }
      const V = floorDiv(Q, N) + eps;
      let R = isqrt(V);
      if (R < 1) R = 1;
      const d = 2 * R;
      const rd = 1 / d;
      for (let i = 0; i < N; i++) {
        // t = roundDiv(gamma·c, R) = floor((2·gamma·c + R) / 2R): the quotient via the reciprocal is
        // within 2^−16 of the true one (|numerator| < 2^36), so one remainder test makes it exact.
        const num = 2 * gamma[i] * c[i] + R;
        let t = Math.floor(num * rd);
        const rem = num - t * d;
        if (rem < 0) t -= 1;
        else if (rem >= d) t += 1;
        // rshr(t + beta, shift), |t + beta| < 2^36
        const v = yZero + Math.floor((t + beta[i] + half) * inv);
        y[o + i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  });
}
