/** Convolution (NCHW, weights [M][C/group][kH][kW]); 1-D convolutions run as 2-D with H = 1. */
import { shapeStr, type DType, type FTensor } from '../tensor.js';
import type { OpCtx, OpImpl } from './context.js';
import { as2d, geometry, spatialDims, type Geometry } from './spatial.js';

export interface ConvArgs {
  x: ArrayLike<number>;
  xShape: readonly number[];
  w: ArrayLike<number>;
  wShape: readonly number[];
  bias?: ArrayLike<number>;
  group: number;
  outDtype: DType;
}

/** Checks the Conv operand shapes and resolves the window geometry (shared with the integer
 *  convolutions, which differ only in what they do with the accumulator). */
export function convGeometry(ctx: OpCtx, xShape: readonly number[], wShape: readonly number[], group: number): Geometry {
  const inSp = spatialDims(ctx, xShape);
  if (wShape.length !== xShape.length) ctx.fail(`W ${shapeStr(wShape)} must have the rank of X ${shapeStr(xShape)}`);
  const C = xShape[1];
  const M = wShape[0];
  if (group < 1 || C % group !== 0 || M % group !== 0 || wShape[1] * group !== C) {
    ctx.fail(`X has ${C} channels, W ${shapeStr(wShape)}, group ${group}: inconsistent`, 'group');
  }
  const kernel = wShape.slice(2);
  const ks = ctx.ints('kernel_shape', kernel);
  if (ks.length !== kernel.length || ks.some((k, i) => k !== kernel[i])) ctx.fail(`kernel_shape ${JSON.stringify(ks)} differs from W ${shapeStr(wShape)}`, 'kernel_shape');
  return geometry(ctx, inSp, kernel, { pool: false });
}

/** Direct convolution with zero padding, accumulating in float64 (exact for integer operands). */
export function conv(ctx: OpCtx, a: ConvArgs, geo: Geometry): FTensor {
  const g = as2d(geo);
  const [N, C] = a.xShape;
  const H = a.xShape.length === 4 ? a.xShape[2] : 1;
  const W = a.xShape[a.xShape.length - 1];
  const M = a.wShape[0];
  const Cg = C / a.group;
  const Mg = M / a.group;
  const [KH, KW] = g.kernel;
  const [OH, OW] = g.out;
  const [SH, SW] = g.strides;
  const [DH, DW] = g.dilations;
  const [PT, PL] = g.padsBegin;
  const y = ctx.alloc(a.outDtype, [N, M, ...geo.out]);
  ctx.work(N * M * OH * OW * Cg * KH * KW);
  const { x, w, bias } = a;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / Mg) * Cg;
      const b = bias ? bias[m] : 0;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          for (let c = 0; c < Cg; c++) {
            const xc = ((n * C + c0 + c) * H) * W;
            const wc = ((m * Cg + c) * KH) * KW;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - PT + kh * DH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - PL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                s += x[xc + ih * W + iw] * w[wc + kh * KW + kw];
              }
            }
          }
          y.data[((n * M + m) * OH + oh) * OW + ow] = s + b;
        }
      }
    }
  }
  return y;
}

export const Conv: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const w = ctx.float32(inputs, 1);
  const b = inputs[2];
  const group = ctx.int('group', 1);
  const geo = convGeometry(ctx, x.shape, w.shape, group);
  if (b && (b.dtype !== 'float32' || b.data.length !== w.shape[0])) ctx.fail(`B must be float32 [${w.shape[0]}], got ${b.dtype}${shapeStr(b.shape)}`);
  return [conv(ctx, { x: x.data, xShape: x.shape, w: w.data, wShape: w.shape, bias: b?.data, group, outDtype: 'float32' }, geo)];
};
