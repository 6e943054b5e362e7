/**
 * Mul (docs/ops.md §Mul): y = clamp(yZero + requant((a − aZero)·(b − bZero), mult, shift), lo, hi)
 * with numpy broadcasting; b is the second input or params.b. Tabulated over all 8-bit pairs.
 */
import { requant } from '../fixedpoint.js';
import { type Kernel, NodeContext } from './common.js';
import { planQuantBinary, tableKernel, tabulate } from './binary.js';

export function prepare(ctx: NodeContext): Kernel {
  const { plan, yd, aZero, bZero, yZero, mults, shift, lo, hi } = planQuantBinary(ctx, ['mult']);
  const mult = mults[0]!;
  return tableKernel(
    plan,
    tabulate(plan, yd, (a, b) => {
      const v = yZero + requant((a - aZero) * (b - bZero), mult, shift);
      return v < lo ? lo : v > hi ? hi : v;
    }),
  );
}
