/**
 * Add (docs/ops.md §Add): y = clamp(yZero + rshr((a − aZero)·aMult + (b − bZero)·bMult, shift), lo, hi)
 * with numpy broadcasting; b is the second input or params.b.
 *
 * For shift ≤ 30 a run computes the formula in int32: with A[a] = (a − aZero)·aMult + 2^(shift−1) and
 * B[b] = (b − bZero)·bMult tabulated over the 256 values of each operand (|A + B| < 2^24 + 2^29),
 * rshr is an arithmetic shift: y = clamp(yZero + ((A[a] + B[b]) >> shift), lo, hi) — natively (src/engine/native.ts
 * add) or in WebAssembly
 * (src/engine/wasm.ts add8, tables indexed by the raw byte) for 8-bit outputs, else in JS. Larger
 * shifts use a table over all 8-bit pairs.
 */
import { rshr } from '../fixedpoint.js';
import { batchKernel, type Kernel, NodeContext } from './common.js';
import { identityMap, planBinary, tableKernel, tabulate } from './binary.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';
import { nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  const plan = planBinary(ctx, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  const aZero = zeroAttr(ctx, 'aZero', plan.ad);
  const bZero = zeroAttr(ctx, 'bZero', plan.bd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const aMult = multAttr(ctx, 'aMult');
  const bMult = multAttr(ctx, 'bMult');
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  if (shift <= 30) {
    const aBase = plan.ad === 'i8' ? 128 : 0;
    const bBase = plan.bd === 'i8' ? 128 : 0;
    const ta = new Int32Array(256);
    const tb = new Int32Array(256);
    const half = 2 ** (shift - 1);
    for (let q = 0; q < 256; q++) {
      ta[q] = (q - aBase - aZero) * aMult + half;
      tb[q] = (q - bBase - bZero) * bMult;
    }
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
    if (nat && yd !== 'i32' && !plan.aMap && (!plan.bMap || bConst)) {
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
    if (w && yd !== 'i32') {
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
    return batchKernel((ins, out, B) => {
      const a = ins[0].data;
      const b = bConst ?? ins[1].data;
      const y = out.data;
      for (let item = 0; item < B; item++) {
        const ao = item * aSize;
        const bo = bConst ? 0 : item * bSize;
        const yo = item * n;
        if (direct) {
          for (let i = 0; i < n; i++) {
            const v = yZero + ((ta[a[ao + i] + aBase] + tb[b[bo + i] + bBase]) >> shift);
            y[yo + i] = v < lo ? lo : v > hi ? hi : v;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const v = yZero + ((ta[a[ao + aMap[i]] + aBase] + tb[b[bo + bMap[i]] + bBase]) >> shift);
            y[yo + i] = v < lo ? lo : v > hi ? hi : v;
          }
        }
      }
    });
  }
  return tableKernel(
    plan,
    tabulate(plan, yd, (a, b) => {
      const v = yZero + rshr((a - aZero) * aMult + (b - bZero) * bMult, shift);
      return v < lo ? lo : v > hi ? hi : v;
    }),
  );
}
