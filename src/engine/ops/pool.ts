/** Window geometry shared by MaxPool and AveragePool (NHWC, output size from the output tensor). */
import { NodeContext } from './common.js';

/** A 2-D window's strides, dilations and leading pads (top, left): what maps an output position to its taps. */
export interface WindowGeo {
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pt: number;
  pl: number;
}

export interface PoolPlan extends WindowGeo {
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  /** Per output row: first and one-past-last kernel row index kh whose input row is inside. */
  kh0: Int32Array;
  kh1: Int32Array;
  kw0: Int32Array;
  kw1: Int32Array;
}

/** [k0, k1) = kernel taps k with 0 ≤ start + k·dil < inDim, for each output position. */
function taps(out: number, inDim: number, k: number, stride: number, dil: number, padA: number): [Int32Array, Int32Array] {
  const k0 = new Int32Array(out);
  const k1 = new Int32Array(out);
  for (let o = 0; o < out; o++) {
    const start = o * stride - padA;
    let a = 0;
    while (a < k && start + a * dil < 0) a++;
    let b = a;
    while (b < k && start + b * dil < inDim) b++;
    k0[o] = a;
    k1[o] = b;
  }
  return [k0, k1];
}

export function planPool(ctx: NodeContext, withDilations: boolean): PoolPlan {
  ctx.arity(1);
  const xs = ctx.inputs[0].shape;
  if (xs.length !== 4 || xs[0] !== 1) ctx.fail(`input must be stored [1,H,W,C], got [${xs}]`);
  const [, H, W, C] = xs;
  const [KH, KW] = ctx.ints('kernel', 2, 1, 1 << 16);
  const [sh, sw] = ctx.ints('strides', 2, 1, 1 << 16, [1, 1]);
  const [pt, pl, pb, pr] = ctx.ints('pads', 4, 0, 1 << 16, [0, 0, 0, 0]);
  const [dh, dw] = withDilations ? ctx.ints('dilations', 2, 1, 1 << 16, [1, 1]) : [1, 1];
  const os = ctx.output.shape;
  if (os.length !== 4 || os[0] !== 1 || os[3] !== C) {
    ctx.fail(`output must be stored [1,OH,OW,${C}], got [${os}]`);
  }
  const [, OH, OW] = os;
  const maxOH = Math.ceil((H + pt + pb - dh * (KH - 1) - 1) / sh) + 1;
  const maxOW = Math.ceil((W + pl + pr - dw * (KW - 1) - 1) / sw) + 1;
  if (OH > maxOH || OW > maxOW) {
    ctx.fail(`output spatial size ${OH}x${OW} exceeds the ceil-mode size ${maxOH}x${maxOW}`);
  }
  const [kh0, kh1] = taps(OH, H, KH, sh, dh, pt);
  const [kw0, kw1] = taps(OW, W, KW, sw, dw, pl);
  for (let o = 0; o < OH; o++) if (kh0[o] >= kh1[o]) ctx.fail(`output row ${o}: the window has no input row`);
  for (let o = 0; o < OW; o++) if (kw0[o] >= kw1[o]) ctx.fail(`output column ${o}: the window has no input column`);
  return { H, W, C, OH, OW, KH, KW, kh0, kh1, kw0, kw1, sh, sw, dh, dw, pt, pl };
}

/**
 * Visits the output positions of one item in row-major order: `at(a0, a1, b0, b1, ih0, iw0)` gets the kernel rows
 * [a0, a1) and columns [b0, b1) whose taps are inside the input and the window's origin (ih0, iw0) =
 * (oh·sh − pt, ow·sw − pl); tap (kh, kw) reads input position (ih0 + kh·dh, iw0 + kw·dw).
 */
export function eachWindow(p: PoolPlan, at: (a0: number, a1: number, b0: number, b1: number, ih0: number, iw0: number) => void): void {
  const { OH, OW, kh0, kh1, kw0, kw1, sh, sw, pt, pl } = p;
  for (let oh = 0; oh < OH; oh++) {
    const a0 = kh0[oh];
    const a1 = kh1[oh];
    const ih0 = oh * sh - pt;
    for (let ow = 0; ow < OW; ow++) at(a0, a1, kw0[ow], kw1[ow], ih0, ow * sw - pl);
  }
}
