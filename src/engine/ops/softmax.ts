/**
 * Softmax over the last axis (docs/ops.md §Softmax), x i8, output i8 with scale 1/256, zero −128:
 *   mx = max_i x_i;  e_i = 0 if masked = 1 and x_i = −128 and mx ≠ −128, else exp[mx − x_i];
 *   S = Σ e_i;  y_i = clamp(−128 + roundDiv(e_i·256, S), −128, 127).
 */
import { type Kernel, NodeContext, rowwise } from './common.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';
import { nativeKernels } from '../native.js';

export const SOFTMAX_MAX_AXIS = 1 << 20;

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['exp']);
  ctx.inDtype(0, ['i8']);
  ctx.outDtype(['i8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length < 1) ctx.fail('input must have rank ≥ 1');
  ctx.outShape(xs);
  const L = xs[xs.length - 1];
  if (L > SOFTMAX_MAX_AXIS) ctx.fail(`softmax axis length ${L} exceeds ${SOFTMAX_MAX_AXIS}`);
  const expP = ctx.param('exp', ['i32'], { size: 256 });
  ctx.paramRange('exp', expP, 0, 2147483647);
  if (expP.data[0] < 1) ctx.fail(`param 'exp'[0] must be ≥ 1 (the maximum's weight), got ${expP.data[0]}`);
  const masked = ctx.int('masked', 0, 1, 0) === 1;
  const nat = nativeKernels();
  if (nat) {
    // Native (src/engine/native.ts): the JS kernel's formula below, in C, exact.
    const E = Int32Array.from(expP.data);
    return rowwise((ins, out) => {
      const n = ins[0].data.length;
      nat.softmax(ins[0].data as Int8Array, n / L, L, E, masked ? 1 : 0, out.data as Int8Array);
    });
  }
  const w = wasmKernels();
  if (w) {
    // WebAssembly (src/engine/wasm.ts softmax8): the same integer formula, exact.
    const E = resident(expP.data as Int32Array);
    return rowwise((ins, out) => {
      const n = ins[0].data.length;
      const eb = align16(n) * 2;
      const base = scratch(eb + L * 4);
      copyIn8('i8', ins[0].data, base);
      w.softmax8(base, E.off, base + align16(n), n / L, L, masked ? 1 : 0, base + eb);
      copyOut('i8', out.data, base + align16(n), n);
    });
  }
  const table = Float64Array.from(expP.data);
  const e = new Float64Array(L);
  return rowwise((ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const rows = x.length / L;
    for (let r = 0; r < rows; r++) {
      const o = r * L;
      let mx = -128;
      for (let i = 0; i < L; i++) if (x[o + i] > mx) mx = x[o + i];
      const mask = masked && mx !== -128;
      let S = 0;
      for (let i = 0; i < L; i++) {
        const xi = x[o + i];
        const v = mask && xi === -128 ? 0 : table[mx - xi];
        e[i] = v;
        S += v;
      }
      const d = 2 * S;
      const rd = 1 / d;
      for (let i = 0; i < L; i++) {
        // roundDiv(e·256, S) = floor((512·e + S) / 2S): the quotient (≤ 257) via the reciprocal is
        // within 2^−40 of the true one, so one remainder test makes it exact (numerator < 2^52).
        const num = 512 * e[i] + S;
        let q = Math.floor(num * rd);
        const rem = num - q * d;
        if (rem < 0) q -= 1;
        else if (rem >= d) q += 1;
        const v = q - 128;
        y[o + i] = v > 127 ? 127 : v;
      }
    }
  });
}
