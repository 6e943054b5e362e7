/**
 * Add (docs/ops.md §Add): y = clamp(yZero + rshr((a − aZero)·aMult + (b − bZero)·bMult, shift), lo, hi)
 * with numpy broadcasting; b is the second input or params.b.
 *
 * For shift ≤ 30 a run computes the formula in int32: with A[a] = (a − aZero)·aMult + 2^(shift−1) and
 * B[b] = (b − bZero)·bMult tabulated over the 256 values of each operand (|A + B| < 2^24 + 2^29),
 * rshr is an arithmetic shift: y = clamp(yZero + ((A[a] + B[b]) >> shift), lo, hi) — natively (src/engine/native.ts
 * add) or in WebAssembly
 * (src/engine/wasm.ts add8, tables indexed by the raw byte) for 8-bit outputs. Otherwise (larger shifts, an i32
 * output, or neither kernel set present) a run reads a table of the formula over all 8-bit pairs (binary.ts tableKernel).
 */
import { rshr } from '../fixedpoint.js';
import { batchKernel, type Kernel, NodeContext } from './common.js';
import { identityMap, planQuantBinary, tableKernel, tabulate } from './binary.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';
import { nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  const { plan, yd, aZero, bZero, yZero, mults, shift, lo, hi } = planQuantBinary(ctx, ['aMult', 'bMult']);
  const [aMult, bMult] = mults as [number, number];
  if (shift <= 30 && yd !== 'i32') {
    const half = 2 ** (shift - 1);
    const { n, bConst, aSize, bSize } = plan;
    const direct = !plan.aMap && !plan.bMap;
    const aMap = plan.aMap ?? identityMap(n);
    const bMap = plan.bMap ?? identityMap(n);
    // The tables indexed by the operands' raw bytes (what the native and WebAssembly kernels read).
    const byte = (dt: string, u: number): number => (dt === 'i8' ? (u << 24) >> 24 : u);
    const ra = new Int32Array(256);
    const rb = new Int32Array(256);
    for (let u = 0; u < 256; u++) {
      ra[u] = (byte(plan.ad, u) - aZero) * aMult + half;
      rb[u] = (byte(plan.bd, u) - bZero) * bMult;
    }
    const nk = nativeKernels();
    const nat = nk && nk.add ? nk.add.bind(nk) : null; // (an addon built from older sources lacks add)
    if (nat && !plan.aMap && (!plan.bMap || bConst)) {
      // Native (src/engine/native.ts): the same table sum and shift between the trace arrays; a broadcast
      // constant b is expanded once here and read again for every item (stride 0).
      let bx: Int8Array | Uint8Array | null = bConst ? (bConst as Int8Array | Uint8Array) : null;
      if (bConst && plan.bMap) {
        bx = plan.bd === 'i8' ? new Int8Array(n) : new Uint8Array(n);
        for (let i = 0; i < n; i++) bx[i] = bConst[plan.bMap[i]];
      }
      return batchKernel((ins, out, B) => {
        nat(ins[0].data as Uint8Array, bx ?? (ins[1].data as Uint8Array), n, B, bx ? 0 : n, ra, rb, shift, yZero, lo, hi, out.data as Uint8Array);
      });
    }
    const w = wasmKernels();
    if (w) {
      const TA = resident(ra);
      const TB = resident(rb);
      const BC = bConst ? resident(bConst as Int8Array | Uint8Array) : null;
      const AM = direct ? TA : resident(aMap);
      const BM = direct ? TB : resident(bMap);
      const f = direct ? w.add8 : w.add8m;
      const { ad, bd } = plan;
      if (!plan.aMap && (!plan.bMap || BC)) {
        // Eight lanes at a time (wasm.ts addVecFn); a broadcast constant b is expanded once here.
        const sgn = (dt: string): string => (dt === 'i8' ? 's' : 'u');
        const v = w[`addv${sgn(ad)}${sgn(bd)}${sgn(yd)}`];
        let BX = BC;
        if (BC && plan.bMap) {
          const full = bd === 'i8' ? new Int8Array(n) : new Uint8Array(n);
          for (let i = 0; i < n; i++) full[i] = bConst![plan.bMap[i]];
          BX = resident(full);
        }
        return batchKernel((ins, out, B) => {
          const aBytes = align16(B * aSize);
          const bBytes = BX ? 0 : align16(B * n);
          const base = scratch(aBytes + bBytes + B * n + 16);
          const bo = base + aBytes;
          const yo = bo + bBytes;
          copyIn8(ad, ins[0].data, base);
          if (!BX) {
            copyIn8(bd, ins[1].data, bo);
            v(base, bo, yo, B * n, aZero, bZero, aMult, bMult, shift, yZero, lo, hi);
          } else {
            for (let item = 0; item < B; item++) v(base + item * n, BX.off, yo + item * n, n, aZero, bZero, aMult, bMult, shift, yZero, lo, hi);
          }
          copyOut(yd, out.data, yo, B * n);
        });
      }
      return batchKernel((ins, out, B) => {
        const aBytes = align16(B * aSize);
        const bBytes = BC ? 0 : align16(B * bSize);
        const base = scratch(aBytes + bBytes + B * n);
        const bo = base + aBytes;
        const yo = bo + bBytes;
        copyIn8(ad, ins[0].data, base);
        if (!BC) copyIn8(bd, ins[1].data, bo);
        if (direct && !BC) f(base, 0, bo, 0, TA.off, TB.off, yo, B * n, shift, yZero, lo, hi);
        else {
          for (let item = 0; item < B; item++) {
            f(base + item * aSize, AM.off, BC ? BC.off : bo + item * bSize, BM.off, TA.off, TB.off, yo + item * n, n, shift, yZero, lo, hi);
          }
        }
        copyOut(yd, out.data, yo, B * n);
      });
    }
  }
  return tableKernel(
    plan,
    tabulate(plan, yd, (a, b) => {
      const v = yZero + rshr((a - aZero) * aMult + (b - bZero) * bMult, shift);
      return v < lo ? lo : v > hi ? hi : v;
    }),
  );
}
