/**
 * AveragePool, NHWC (docs/ops.md §AveragePool): sum of (x − xZero) over the window's positions inside
 * the input; count = those positions (or KH·KW when countIncludePad = 1);
 * y = clamp(yZero + roundDiv(sum, count), output dtype range).
 */
import { roundDiv } from '../fixedpoint.js';
import { type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN } from './common.js';
import { eachWindow, planPool } from './pool.js';
import { zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams([]);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8']);
  const plan = planPool(ctx, false);
  const { W, C, KH, KW } = plan;
  const includePad = ctx.int('countIncludePad', 0, 1, 0) === 1;
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const lo = DTYPE_MIN[yd];
  const hi = DTYPE_MAX[yd];
  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    let yo = 0;
    eachWindow(plan, (a0, a1, b0, b1, ih0, iw0) => {
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
    });
  };
}
