/**
 * MatMul (docs/ops.md §MatMul): acc = Σ_k (a − aZero)(b − bZero) with numpy batch broadcasting
 * (b's last two axes are [N,K] when transB = 1); y = clamp(yZero + requant(acc, mult, shift), lo, hi).
 */
import { requantAlwaysFast, requantH } from '../fixedpoint.js';
import { dev, type Kernel, NodeContext } from './common.js';
import { makeMatMulCore, planMatMul } from './matmulcore.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(2);
  ctx.onlyParams([]);
  const ad = ctx.inDtype(0, ['i8', 'u8']);
  const bd = ctx.inDtype(1, ['i8', 'u8']);
  const transB = ctx.int('transB', 0, 1, 0) === 1;
  const plan = planMatMul(ctx, ctx.inputs[0].shape, ctx.inputs[1].shape, transB);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape(plan.outShape);
  const aZero = zeroAttr(ctx, 'aZero', ad);
  const bZero = zeroAttr(ctx, 'bZero', bd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const mult = multAttr(ctx);
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  const core = makeMatMulCore(plan, transB, new Float64Array(plan.M).fill(aZero), new Float64Array(plan.N).fill(bZero), dev(ad, aZero), dev(bd, bZero));
  const half = 2 ** (shift - 1);
  const inv = 2 ** -shift;
  const { batches, M, N } = plan;
  const MN = M * N;
  const unchecked = requantAlwaysFast(plan.K * dev(ad, aZero) * dev(bd, bZero), mult);
  return (ins, out) => {
    const a = ins[0].data;
    const b = ins[1].data;
    const y = out.data;
    for (let t = 0; t < batches; t++) {
      const C = core.run(a, b, t);
      const o = t * MN;
      if (unchecked) {
        for (let e = 0; e < MN; e++) {
          const v = yZero + Math.floor((C[e] * mult + half) * inv);
          y[o + e] = v < lo ? lo : v > hi ? hi : v;
        }
      } else {
        for (let e = 0; e < MN; e++) {
          const v = yZero + requantH(C[e], mult, half, inv, shift);
          y[o + e] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
  };
}
