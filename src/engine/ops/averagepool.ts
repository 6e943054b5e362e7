/**
 * AveragePool, NHWC (docs/ops.md §AveragePool): sum of (x − xZero) over the window's positions inside
 * the input; count = those positions (or KH·KW when countIncludePad = 1);
 * y = clamp(yZero + roundDiv(sum, count), output dtype range).
 */
import { roundDiv } from '../fixedpoint.js';
import { type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN } from './common.js';
import { planPool } from './pool.js';
import { zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams([]);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8']);
  const { W, C, OH, OW, KH, KW, kh0, kh1, kw0, kw1, sh, sw, pt, pl } = planPool(ctx, false);
  const includePad = ctx.int('countIncludePad', 0, 1, 0) === 1;
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const lo = DTYPE_MIN[yd];
  const hi = DTYPE_MAX[yd];
  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    let yo = 0;
    for (let oh = 0; oh < OH; oh++) {
      const a0 = kh0[oh];
      const a1 = kh1[oh];
      const ih0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++) {
        const b0 = kw0[ow];
        const b1 = kw1[ow];
        const iw0 = ow * sw - pl;
        const valid = (a1 - a0) * (b1 - b0);
        const count = includePad ? KH * KW : valid;
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let kh = a0; kh < a1; kh++) {
            const row = (ih0 + kh) * W;
            for (let kw = b0; kw < b1; kw++) s += x[(row + iw0 + kw) * C + c];
          }
          const v = yZero + roundDiv(s - valid * xZero, count);
          y[yo++] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
  };
}
