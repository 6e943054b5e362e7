/**
 * Requantize (docs/ops.md §Requantize): y = clamp(yZero + requant(x − xZero, mult, shift), lo, hi).
 * For i8/u8 inputs prepare tabulates the op over all 256 input values, so a run is one table load
 * per element; i32 inputs are computed directly.
 */
import { requantH } from '../fixedpoint.js';
import { type Kernel, NodeContext, rowwise } from './common.js';
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
  const half = 2 ** (shift - 1);
  const inv = 2 ** -shift;
  const f = (x: number): number => {
    const v = yZero + requantH(x - xZero, mult, half, inv, shift);
    return v < lo ? lo : v > hi ? hi : v;
  };
  if (xd !== 'i32') {
    const base = xd === 'i8' ? 128 : 0;
    const table = new Float64Array(256);
    for (let q = 0; q < 256; q++) table[q] = f(q - base);
    return rowwise((ins, out) => {
      const x = ins[0].data;
      const y = out.data;
      const n = x.length;
      for (let i = 0; i < n; i++) y[i] = table[x[i] + base];
    });
  }
  return rowwise((ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const n = x.length;
    for (let i = 0; i < n; i++) {
      const v = yZero + requantH(x[i] - xZero, mult, half, inv, shift);
      y[i] = v < lo ? lo : v > hi ? hi : v;
    }
  });
}
