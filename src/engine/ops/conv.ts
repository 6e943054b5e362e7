/**
 * Conv, NHWC (docs/ops.md §Conv): x stored [1,H,W,C], weight i8[CO][KH][KW][C/group], output
 * [1,OH,OW,CO]. acc = bias_co + Σ (x − xZero)·w over the window, padded positions contributing 0;
 * y = clamp(yZero + requant(acc, mult_co, shift_co), lo, hi).
 *
 * The run writes x − xZero into a zero-bordered scratch (the padding), gathers each output
 * position's window into a row of a GEMM operand (im2col; with dilation_w = 1 and group = 1 one
 * kernel row is one contiguous run of KW·C values), and multiplies by the filters (one GEMM per group).
 *
 * Native path (when the addon is built, src/engine/native.ts; kernels in native/conv.c): one call a
 * step on a plan made at prepare — depthwise convs directly, group-1 convs as byte im2col + one fused
 * GEMM + requant; other groupings take the WebAssembly path.
 * WebAssembly path: filters, requant tables and a per-group im2col index map (each entry the x
 * element it reads, −1 for padding and the K..K8 row tail) stay resident; a run copies x in,
 * gathers the windows as bytes (padding = xZero, so x − xZero = 0), runs one 8-bit-A GEMM per group
 * (x − xZero widened in the kernel) writing its columns of C, then the requant+clamp epilogue.
 * A batch gathers every item's windows into one GEMM over P × B rows.
 */
import { requantH, requantTable } from '../fixedpoint.js';
import { batchKernel, dev, type Kernel, NodeContext } from './common.js';
import { I32_MAX, makeGemm, padRows } from './gemm.js';
import { multShiftParams, outRange, zeroAttr } from './quant.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, bytesOf, copyIn8, copyOut, makeRequant } from './wasmdense.js';
import { int32Table, nativeKernels } from '../native.js';
import type { WindowGeo } from './pool.js';

export function convOutDim(inDim: number, padA: number, padB: number, k: number, stride: number, dil: number): number {
  return Math.floor((inDim + padA + padB - dil * (k - 1) - 1) / stride) + 1;
}

/** A convolution's pads, strides and dilations attrs and its output size OH × OW over an H × W input (not empty). */
export function convWindow(ctx: NodeContext, H: number, W: number, KH: number, KW: number): WindowGeo & { pb: number; pr: number; OH: number; OW: number } {
  const [pt, pl, pb, pr] = ctx.ints('pads', 4, 0, 1 << 16, [0, 0, 0, 0]);
  const [sh, sw] = ctx.ints('strides', 2, 1, 1 << 16, [1, 1]);
  const [dh, dw] = ctx.ints('dilations', 2, 1, 1 << 16, [1, 1]);
  const OH = convOutDim(H, pt, pb, KH, sh, dh);
  const OW = convOutDim(W, pl, pr, KW, sw, dw);
  if (OH < 1 || OW < 1) ctx.fail(`output spatial size ${OH}x${OW} is empty`);
  return { pt, pl, pb, pr, sh, sw, dh, dw, OH, OW };
}

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['weight', 'bias', 'mult', 'shift']);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length !== 4 || xs[0] !== 1) ctx.fail(`input must be stored [1,H,W,C], got [${xs}]`);
  const [, H, W, C] = xs;
  const weight = ctx.param('weight', ['i8']);
  if (weight.shape.length !== 4) ctx.fail(`param 'weight' must be [CO][KH][KW][C/group], got [${weight.shape}]`);
  const [CO, KH, KW, Cg] = weight.shape;
  const group = ctx.int('group', 1, C, 1);
  if (C % group !== 0 || CO % group !== 0) ctx.fail(`group ${group} must divide C = ${C} and CO = ${CO}`);
  if (Cg !== C / group) ctx.fail(`param 'weight' last dim is ${Cg}; expected C/group = ${C / group}`);
  const bias = ctx.hasParam('bias') ? ctx.param('bias', ['i32'], { shape: [CO] }) : undefined;
  const { mult, shift } = multShiftParams(ctx, [CO]);
  const { pt, pl, pb, pr, sh, sw, dh, dw, OH, OW } = convWindow(ctx, H, W, KH, KW);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape([1, OH, OW, CO]);
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const { lo, hi } = outRange(ctx, yd);

  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const xp = new Int16Array(Hp * Wp * C); // x − xZero with a zero border (the padding)
  const COg = CO / group;
  const P = OH * OW;
  const Kc = KH * KW * Cg;
  let wMax = 0;
  for (let i = 0; i < weight.data.length; i++) wMax = Math.max(wMax, Math.abs(weight.data[i]));
  const bound = Kc * dev(xd, xZero) * wMax;
  const K8 = Math.ceil(Kc / 8) * 8;
  // One GEMM per group: A = im2col patches [P][Kc] of the group's channels, B = its COg filters.
  const gemms = Array.from({ length: group }, (_, g) =>
    makeGemm(P, COg, Kc, bound, padRows(weight.data.subarray(g * COg * Kc, (g + 1) * COg * Kc), COg, Kc, K8)),
  );
  const nat = nativeKernels();
  if (nat?.convPlan && nat.convRun && bound <= I32_MAX && (group === 1 || (Cg === 1 && COg === 1))) {
    // Native path (src/engine/native.ts; native/conv.c), the same integers, one native call per step on a plan made
    // here: depthwise (group = C = CO) directly over NHWC; group = 1 as one GEMM + requant over the im2col rows,
    // built inside the call from x padded with xZero bytes.
    const dwise = group !== 1;
    let wts: Int16Array | Int8Array = weight.data as Int8Array;
    if (dwise) {
      wts = new Int16Array(KH * KW * C);
      for (let c = 0; c < C; c++) for (let k = 0; k < KH * KW; k++) wts[k * C + c] = weight.data[c * KH * KW + k];
    }
    const bi = bias ? int32Table(CO, bias.data) : null;
    const plan = nat.convPlan(dwise ? 1 : 0, xd === 'i8' ? 1 : 0, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, CO, wts, bi, int32Table(CO, mult.data), int32Table(CO, shift.data), yZero, lo, hi, bytesOf(yd));
    const run = nat.convRun.bind(nat);
    return batchKernel((ins, out, B) => run(plan, ins[0].data, out.data, B));
  }
  const w = wasmKernels();
  if (w && bound <= I32_MAX) {
    const HWC = H * W * C;
    const maps = Array.from({ length: group }, (_, g) => {
      const map = new Int32Array(P * K8).fill(-1);
      let p = 0;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++, p++) {
          let d = p * K8;
          for (let kh = 0; kh < KH; kh++) {
            const h = oh * sh + kh * dh - pt;
            for (let kw = 0; kw < KW; kw++) {
              const x = ow * sw + kw * dw - pl;
              const inside = h >= 0 && h < H && x >= 0 && x < W;
              for (let c = 0; c < Cg; c++, d++) if (inside) map[d] = (h * W + x) * C + g * Cg + c;
            }
          }
        }
      }
      return resident(map);
    });
    const filters = Array.from({ length: group }, (_, g) => resident(padRows(weight.data.subarray(g * COg * Kc, (g + 1) * COg * Kc), COg, Kc, K8)));
    const requant = makeRequant(w, yd, CO, mult.data, shift.data, bias?.data, bound, yZero, lo, hi);
    const gemm = xd === 'i8' ? w.gemm8s : w.gemm8u;
    const ob = bytesOf(yd);
    return batchKernel((ins, out, B) => {
      const xBytes = align16(B * HWC);
      const aBytes = align16(B * P * K8);
      const cBytes = B * P * CO * 4;
      const base = scratch(xBytes + group * aBytes + cBytes + B * P * CO * ob);
      const ao = base + xBytes;
      const co = ao + group * aBytes;
      const yo = co + cBytes;
      copyIn8(xd, ins[0].data, base);
      for (let g = 0; g < group; g++) {
        const a = ao + g * aBytes;
        for (let b = 0; b < B; b++) w.gather8(maps[g].off, base + b * HWC, a + b * P * K8, P * K8, xZero);
        gemm(a, K8, filters[g].off, K8 * 2, co + g * COg * 4, CO * 4, B * P, COg, xZero);
      }
      requant(co, yo, B * P);
      copyOut(yd, out.data, yo, B * P * CO);
    });
  }
  const acc = new Float64Array(P * CO);
  const bf = new Float64Array(CO);
  if (bias) for (let i = 0; i < CO; i++) bf[i] = bias.data[i];
  const { m, half, inv, s } = requantTable(mult.data, shift.data, CO);
  const contiguous = dw === 1 && group === 1; // one kernel row = one run of KW·C values

  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    for (let h = 0; h < H; h++) {
      const src = h * W * C;
      const dst = ((h + pt) * Wp + pl) * C;
      for (let i = 0; i < W * C; i++) xp[dst + i] = x[src + i] - xZero;
    }
    for (let g = 0; g < group; g++) {
      const gemm = gemms[g];
      const A = gemm.a();
      const c0 = g * Cg;
      let p = 0;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++, p++) {
          let d = p * K8;
          for (let kh = 0; kh < KH; kh++) {
            const row = (oh * sh + kh * dh) * Wp + ow * sw;
            if (contiguous) {
              const src = row * C;
              for (let i = 0; i < KW * C; i++) A[d++] = xp[src + i];
            } else {
              for (let kw = 0; kw < KW; kw++) {
                const src = (row + kw * dw) * C + c0;
                for (let c = 0; c < Cg; c++) A[d++] = xp[src + c];
              }
            }
          }
          const end = (p + 1) * K8;
          while (d < end) A[d++] = 0;
        }
      }
      const Cm = gemm.run();
      const base = g * COg;
      for (let q = 0; q < P; q++) {
        const o = q * CO + base;
        const io = q * COg;
        for (let j = 0; j < COg; j++) acc[o + j] = Cm[io + j];
      }
    }
    const n = P * CO;
    for (let i = 0, co = 0; i < n; i++) {
      const v = yZero + requantH(acc[i] + bf[co], m[co], half[co], inv[co], s[co]);
      y[i] = v < lo ? lo : v > hi ? hi : v;
      if (++co === CO) co = 0;
    }
  };
}
