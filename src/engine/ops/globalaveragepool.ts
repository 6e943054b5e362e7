/**
 * GlobalAveragePool, NHWC (docs/ops.md §GlobalAveragePool): x [1,H,W,C] → [1,1,1,C],
 * y_c = clamp(yZero + roundDiv(Σ_{h,w} (x − xZero), H·W), output dtype range).
 * A batch runs the same loop item after item (no per-item views); natively (native/conv.c gap) the
 * whole batch in one call, int32 channel sums.
 */
import { roundDiv } from '../fixedpoint.js';
import { batchKernel, type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN } from './common.js';
import { zeroAttr } from './quant.js';
import { nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams([]);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length !== 4 || xs[0] !== 1) ctx.fail(`input must be stored [1,H,W,C], got [${xs}]`);
  const [, H, W, C] = xs;
  ctx.outShape([1, 1, 1, C]);
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const lo = DTYPE_MIN[yd];
  const hi = DTYPE_MAX[yd];
  const HW = H * W;
  const gap = nativeKernels()?.gap;
  if (gap && HW < 1 << 22) {
    const sgn = xd === 'i8' ? 1 : 0;
    return batchKernel((ins, out, B) => gap(ins[0].data as Uint8Array, sgn, B, HW, C, xZero, yZero, lo, hi, out.data as Uint8Array));
  }
  const sums = new Float64Array(C);
  return batchKernel((ins, out, B) => {
    const x = ins[0].data;
    const y = out.data;
    for (let b = 0; b < B; b++) {
      const xb = b * HW * C;
      sums.fill(0);
      for (let p = 0; p < HW; p++) {
        const o = xb + p * C;
        for (let c = 0; c < C; c++) sums[c] += x[o + c];
      }
      const yb = b * C;
      for (let c = 0; c < C; c++) {
        const v = yZero + roundDiv(sums[c] - HW * xZero, HW);
        y[yb + c] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  });
}
