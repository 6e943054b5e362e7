/**
 * Add (docs/ops.md §Add): y = clamp(yZero + rshr((a − aZero)·aMult + (b − bZero)·bMult, shift), lo, hi)
 * with numpy broadcasting; b is the second input or params.b.
 *
 * For shift ≤ 30 a run computes the formula in int32: with A[a] = (a − aZero)·aMult + 2^(shift−1) and
 * B[b] = (b − bZero)·bMult tabulated over the 256 values of each operand (|A + B| < 2^24 + 2^29),
 * rshr is an arithmetic shift: y = clamp(yZero + ((A[a] + B[b]) >> shift), lo, hi). Larger shifts
 * use a table over all 8-bit pairs.
 */
import { rshr } from '../fixedpoint.js';
import { batchKernel, type Kernel, NodeContext } from './common.js';
import { identityMap, planBinary, tableKernel, tabulate } from './binary.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  const plan = planBinary(ctx, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  const aZero = zeroAttr(ctx, 'aZero', plan.ad);
  const bZero = zeroAttr(ctx, 'bZero', plan.bd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const aMult = multAttr(ctx, 'aMult');
  const bMult = multAttr(ctx, 'bMult');
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  if (shift <= 30) {
    const aBase = plan.ad === 'i8' ? 128 : 0;
    const bBase = plan.bd === 'i8' ? 128 : 0;
    const ta = new Int32Array(256);
    const tb = new Int32Array(256);
    const half = 2 ** (shift - 1);
    for (let q = 0; q < 256; q++) {
      ta[q] = (q - aBase - aZero) * aMult + half;
      tb[q] = (q - bBase - bZero) * bMult;
    }
    const { n, bConst, aSize, bSize } = plan;
    const direct = !plan.aMap && !plan.bMap;
    const aMap = plan.aMap ?? identityMap(n);
    const bMap = plan.bMap ?? identityMap(n);
    return batchKernel((ins, out, B) => {
      const a = ins[0].data;
      const b = bConst ?? ins[1].data;
      const y = out.data;
      for (let item = 0; item < B; item++) {
        const ao = item * aSize;
        const bo = bConst ? 0 : item * bSize;
        const yo = item * n;
        if (direct) {
          for (let i = 0; i < n; i++) {
            const v = yZero + ((ta[a[ao + i] + aBase] + tb[b[bo + i] + bBase]) >> shift);
            y[yo + i] = v < lo ? lo : v > hi ? hi : v;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const v = yZero + ((ta[a[ao + aMap[i]] + aBase] + tb[b[bo + bMap[i]] + bBase]) >> shift);
            y[yo + i] = v < lo ? lo : v > hi ? hi : v;
          }
        }
      }
    });
  }
  return tableKernel(
    plan,
    tabulate(plan, yd, (a, b) => {
      const v = yZero + rshr((a - aZero) * aMult + (b - bZero) * bMult, shift);
      return v < lo ? lo : v > hi ? hi : v;
    }),
  );
}
