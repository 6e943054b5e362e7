/**
 * The NCHW integer convolution core shared by ConvInteger and QLinearConv (ONNX layout):
 * x [N,C,H,W], w [M, C/group, KH, KW], output [N, M, OH, OW];
 *   acc[n,m,oh,ow] = Σ_{c,kh,kw} (x[n, g·C/group + c, oh·sh + kh·dh − pt, ow·sw + kw·dw − pl] − xZero)
 *                                ·(w[m,c,kh,kw] − wZero_m),   g = floor(m / (M/group)),
 * padded positions contributing 0. w is the second input or params.w.
 */
import type { DType, IntArray } from '../ir.js';
import { fmtShape, NodeContext } from './common.js';
import { convWindow } from './conv.js';
import { expand } from './quant.js';

export interface ConvNchwPlan {
  xd: DType;
  wd: DType;
  outShape: number[];
  M: number;
  /** Kernel taps per output (C/group·KH·KW): the accumulator bound is taps·maxDev(x)·maxDev(w). */
  taps: number;
  wZero: Float64Array;
  xZero: number;
  /** Fills acc (N·M·OH·OW, row-major) from x and w. */
  run: (x: IntArray, w: IntArray) => void;
  acc: Float64Array;
}

export function planConvNchw(ctx: NodeContext, zeroNames: { x: string; w: string }): ConvNchwPlan {
  const wIsParam = ctx.hasParam('w');
  ctx.arity(wIsParam ? 1 : 2);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  let wd: DType;
  let ws: readonly number[];
  let wConst: IntArray | null = null;
  if (wIsParam) {
    const p = ctx.param('w', ['i8', 'u8']);
    wd = p.dtype;
    ws = p.shape;
    wConst = p.data;
  } else {
    wd = ctx.inDtype(1, ['i8', 'u8']);
    ws = ctx.inputs[1].shape;
  }
  if (xs.length !== 4) ctx.fail(`x must be [N,C,H,W] (2-D convolution), got ${fmtShape(xs)}`);
  if (ws.length !== 4) ctx.fail(`w must be [M,C/group,KH,KW], got ${fmtShape(ws)}`);
  const [N, C, H, W] = xs;
  const [M, Cg, KH, KW] = ws;
  const group = ctx.int('group', 1, C, 1);
  if (C % group !== 0 || M % group !== 0) ctx.fail(`group ${group} must divide C = ${C} and M = ${M}`);
  if (Cg !== C / group) ctx.fail(`w has ${Cg} input channels; expected C/group = ${C / group}`);
  const { pt, pl, pb, pr, sh, sw, dh, dw, OH, OW } = convWindow(ctx, H, W, KH, KW);

  const xZeroP = ctx.hasParam(zeroNames.x) ? ctx.param(zeroNames.x, [xd], { size: 1 }) : undefined;
  const wZeroP = ctx.hasParam(zeroNames.w) ? ctx.param(zeroNames.w, [wd], { size: [1, M] }) : undefined;
  const xZero = xZeroP ? xZeroP.data[0] : 0;
  const wZero = expand(wZeroP, M);

  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const xp = new Int32Array(N * C * Hp * Wp); // x − xZero with a zero border
  const wsub = new Int32Array(M * Cg * KH * KW);
  const acc = new Float64Array(N * M * OH * OW);
  const Mg = M / group;
  const wPer = Cg * KH * KW;
  const run = (x: IntArray, w: IntArray): void => {
    const wv = wConst ?? w;
    for (let m = 0; m < M; m++) {
      const z = wZero[m];
      const o = m * wPer;
      for (let i = 0; i < wPer; i++) wsub[o + i] = wv[o + i] - z;
    }
    for (let nc = 0; nc < N * C; nc++) {
      for (let h = 0; h < H; h++) {
        const src = (nc * H + h) * W;
        const dst = (nc * Hp + h + pt) * Wp + pl;
        for (let i = 0; i < W; i++) xp[dst + i] = x[src + i] - xZero;
      }
    }
    let o = 0;
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) {
        const c0 = ((m / Mg) | 0) * Cg;
        const wm = m * wPer;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let s = 0;
            for (let c = 0; c < Cg; c++) {
              const plane = (n * C + c0 + c) * Hp;
              const wc = wm + c * KH * KW;
              for (let kh = 0; kh < KH; kh++) {
                const row = (plane + oh * sh + kh * dh) * Wp + ow * sw;
                const wr = wc + kh * KW;
                for (let kw = 0; kw < KW; kw++) s += xp[row + kw * dw] * wsub[wr + kw];
              }
            }
            acc[o++] = s;
          }
        }
      }
    }
  };
  return { xd, wd, outShape: [N, M, OH, OW], M, taps: Cg * KH * KW, wZero, xZero, run, acc };
}

export { dev } from './common.js';
