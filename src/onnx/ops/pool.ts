/** MaxPool, AveragePool (1-D/2-D) and GlobalAveragePool (any rank), NCHW. */
import { sizeOf, type FTensor } from '../tensor.js';
import type { OpCtx, OpImpl } from './context.js';
import { as2d, geometry, spatialDims, type Geometry } from './spatial.js';

interface AxisWindows {
  /** For each output position, the in-range input positions its window reads. */
  taps: number[][];
  /** For each output position, how many window positions lie inside input + declared pads
   *  (onnxruntime's count_include_pad divisor: padding counts, reading past it does not). */
  padded: number[];
}

function axisWindows(inLen: number, out: number, k: number, s: number, d: number, pb: number, pe: number): AxisWindows {
  const taps: number[][] = [];
  const padded: number[] = [];
  for (let o = 0; o < out; o++) {
    const start = o * s - pb;
    const t: number[] = [];
    let p = 0;
    for (let j = 0; j < k; j++) {
      const i = start + j * d;
      if (i < inLen + pe) p++;
      if (i >= 0 && i < inLen) t.push(i);
    }
    taps.push(t);
    padded.push(p);
  }
  return { taps, padded };
}

function pool(ctx: OpCtx, x: FTensor, geo: Geometry, reduce: (vals: number[], paddedCount: number) => number): FTensor {
  const g = as2d(geo);
  const [N, C] = x.shape;
  const H = x.shape.length === 4 ? x.shape[2] : 1;
  const W = x.shape[x.shape.length - 1];
  const [OH, OW] = g.out;
  // Charged before any loop: the kernel size comes from an attribute alone, so a corrupt file
  // could otherwise ask for billions of taps on a tiny tensor.
  const y = ctx.alloc(x.dtype, [N, C, ...geo.out]);
  ctx.work(N * C * OH * OW * g.kernel[0] * g.kernel[1] + OH * g.kernel[0] + OW * g.kernel[1]);
  const ah = axisWindows(H, OH, g.kernel[0], g.strides[0], g.dilations[0], g.padsBegin[0], g.padsEnd[0]);
  const aw = axisWindows(W, OW, g.kernel[1], g.strides[1], g.dilations[1], g.padsBegin[1], g.padsEnd[1]);
  const vals: number[] = [];
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        vals.length = 0;
        for (const ih of ah.taps[oh]) for (const iw of aw.taps[ow]) vals.push(x.data[base + ih * W + iw]);
        y.data[(nc * OH + oh) * OW + ow] = reduce(vals, ah.padded[oh] * aw.padded[ow]);
      }
    }
  }
  return y;
}

function kernelOf(ctx: OpCtx, x: FTensor): { inSp: number[]; kernel: number[] } {
  const inSp = spatialDims(ctx, x.shape);
  return { inSp, kernel: ctx.ints('kernel_shape') };
}

export const MaxPool: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  if (x.dtype === 'bool' || x.dtype === 'int64' || x.dtype === 'int32') ctx.fail(`input type ${x.dtype} is not allowed`);
  if ((ctx.node.outputs[1] ?? '') !== '') ctx.unsupported('the Indices output');
  const { inSp, kernel } = kernelOf(ctx, x);
  const geo = geometry(ctx, inSp, kernel, { pool: true });
  // Padding never wins a max; a window entirely in padding cannot occur (ceil_mode rule).
  return [pool(ctx, x, geo, (v) => (v.length === 0 ? Number.NEGATIVE_INFINITY : v.reduce((m, a) => (a > m || Number.isNaN(a) ? a : m))))];
};

export const AveragePool: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const { inSp, kernel } = kernelOf(ctx, x);
  const geo = geometry(ctx, inSp, kernel, { pool: true });
  const includePad = ctx.int('count_include_pad', 0) !== 0;
  return [
    pool(ctx, x, geo, (v, padded) => {
      let s = 0;
      for (const a of v) s += a;
      return s / (includePad ? padded : v.length);
    }),
  ];
};

export const GlobalAveragePool: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  if (x.shape.length < 3) ctx.fail(`input must be N,C,spatial…, got rank ${x.shape.length}`);
  const [N, C] = x.shape;
  const S = sizeOf(x.shape.slice(2));
  const y = ctx.alloc('float32', [N, C, ...x.shape.slice(2).map(() => 1)]);
  ctx.work(N * C * S);
  for (let nc = 0; nc < N * C; nc++) {
    let s = 0;
    for (let i = 0; i < S; i++) s += x.data[nc * S + i];
    y.data[nc] = s / S;
  }
  return [y];
};
