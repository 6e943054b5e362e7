/**
 * Mul (docs/ops.md §Mul): y = clamp(yZero + requant((a − aZero)·(b − bZero), mult, shift), lo, hi)
 * with numpy broadcasting; b is the second input or params.b. Tabulated over all 8-bit pairs.
 */
import { requant } from '../fixedpoint.js';
import { type Kernel, NodeContext } from './common.js';
import { planBinary, tableKernel, tabulate } from './binary.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  const plan = planBinary(ctx, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  const aZero = zeroAttr(ctx, 'aZero', plan.ad);
  const bZero = zeroAttr(ctx, 'bZero', plan.bd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const mult = multAttr(ctx);
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  return tableKernel(
    plan,
    tabulate(plan, yd, (a, b) => {
      const v = yZero + requant((a - aZero) * (b - bZero), mult, shift);
      return v < lo ? lo : v > hi ? hi : v;
    }),
  );
}
