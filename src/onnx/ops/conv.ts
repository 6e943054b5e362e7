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

/** ConvTranspose attributes the importer implements (2-D, explicit pads, no output_shape/auto_pad). */
export function convTransposeSpec(ctx: OpCtx, xShape: readonly number[], wShape: readonly number[]) {
  if (xShape.length !== 4 || wShape.length !== 4) ctx.unsupported(`only 2-D ConvTranspose (input [${xShape}], weight [${wShape}])`);
  if (ctx.node.attrs.output_shape !== undefined) ctx.unsupported('output_shape (give pads and output_padding)');
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== '') ctx.unsupported(`auto_pad ${autoPad}`);
  const group = ctx.int('group', 1);
  const [N, C, H, W] = xShape;
  const [Ci, Cog, KH, KW] = wShape;
  if (Ci !== C || C % group !== 0) ctx.fail(`weight [${wShape}] does not match input channels ${C} (group ${group})`);
  const strides = ctx.ints('strides', [1, 1]);
  const dil = ctx.ints('dilations', [1, 1]);
  const pads = ctx.ints('pads', [0, 0, 0, 0]);
  const outPad = ctx.ints('output_padding', [0, 0]);
  const K = [KH, KW];
  const inSp = [H, W];
  const out = [0, 1].map((a) => strides[a] * (inSp[a] - 1) + outPad[a] + dil[a] * (K[a] - 1) + 1 - pads[a] - pads[a + 2]);
  if (out.some((d) => d < 1)) ctx.fail(`output size [${out}] is empty`);
  return { N, C, H, W, Co: Cog * group, Cog, KH, KW, group, strides, dil, pads, outPad, out };
}

/** ConvTranspose: each input element scatters w · x into the output (ONNX semantics). */
export const ConvTranspose: OpImpl = (ctx, inputs) => {
  const x = ctx.float32(inputs, 0);
  const w = ctx.float32(inputs, 1);
  const b = inputs[2];
  const g = convTransposeSpec(ctx, x.shape, w.shape);
  const [OH, OW] = g.out;
  const y = ctx.alloc('float32', [g.N, g.Co, OH, OW]);
  const acc = new Float64Array(y.data.length);
  const Cig = g.C / g.group;
  for (let n = 0; n < g.N; n++)
    for (let ci = 0; ci < g.C; ci++) {
      const gi = Math.floor(ci / Cig);
      for (let h = 0; h < g.H; h++)
        for (let ww = 0; ww < g.W; ww++) {
          const v = x.data[((n * g.C + ci) * g.H + h) * g.W + ww];
          if (v === 0) continue;
          for (let co = 0; co < g.Cog; co++)
            for (let i = 0; i < g.KH; i++) {
              const oh = h * g.strides[0] + i * g.dil[0] - g.pads[0];
              if (oh < 0 || oh >= OH) continue;
              for (let j = 0; j < g.KW; j++) {
                const ow = ww * g.strides[1] + j * g.dil[1] - g.pads[1];
                if (ow < 0 || ow >= OW) continue;
                acc[((n * g.Co + gi * g.Cog + co) * OH + oh) * OW + ow] += v * w.data[((ci * g.Cog + co) * g.KH + i) * g.KW + j];
              }
            }
        }
    }
  ctx.work(x.data.length * g.Cog * g.KH * g.KW);
  for (let k = 0; k < acc.length; k++) y.data[k] = acc[k] + (b ? b.data[Math.floor(k / (OH * OW)) % g.Co] : 0);
  return [y];
};
