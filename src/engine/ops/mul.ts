/**
 * Mul (docs/ops.md §Mul): y = clamp(yZero + requant((a − aZero)·(b − bZero), mult, shift), lo, hi)
 * with numpy broadcasting; b is the second input or params.b.
 */
import { requant } from '../fixedpoint.js';
import { type Kernel, NodeContext } from './common.js';
import { identityMap, planBinary } from './binary.js';
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
  const { n, bConst } = plan;
  const direct = !plan.aMap && !plan.bMap;
  const aMap = plan.aMap ?? identityMap(n);
  const bMap = plan.bMap ?? identityMap(n);
  return (ins, out) => {
    const a = ins[0].data;
    const b = bConst ?? ins[1].data;
    const y = out.data;
    if (direct) {
      for (let i = 0; i < n; i++) {
        const v = yZero + requant((a[i] - aZero) * (b[i] - bZero), mult, shift);
        y[i] = v < lo ? lo : v > hi ? hi : v;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = yZero + requant((a[aMap[i]] - aZero) * (b[bMap[i]] - bZero), mult, shift);
        y[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  };
}
