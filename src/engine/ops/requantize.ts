/** Requantize (docs/ops.md §Requantize): y = clamp(yZero + requant(x − xZero, mult, shift), lo, hi). */
import { requant } from '../fixedpoint.js';
import { type Kernel, NodeContext } from './common.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams([]);
  const xd = ctx.inDtype(0, ['i8', 'u8', 'i32']);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape(ctx.inputs[0].shape);
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const mult = multAttr(ctx);
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const n = x.length;
    for (let i = 0; i < n; i++) {
      const v = yZero + requant(x[i] - xZero, mult, shift);
      y[i] = v < lo ? lo : v > hi ? hi : v;
    }
  };
}
