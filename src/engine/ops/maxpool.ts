/**
 * MaxPool, NHWC (docs/ops.md §MaxPool): max over the window's positions inside the input.
 *
 * The JS loop below is the reference. Native path (when the addon is built, src/engine/native.ts): the same loop in
 * C over all B items of a batch in one call, C channels at a time (a max is a max: the same integers).
 */
import { batchKernel, type Kernel, NodeContext, DTYPE_MIN } from './common.js';
import { eachWindow, planPool } from './pool.js';
import { nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams([]);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  ctx.outDtype([xd]);
  const plan = planPool(ctx, true);
  const { H, W, C, OH, OW, kh0, kh1, kw0, kw1, sh, sw, dh, dw, pt, pl } = plan;
  const init = DTYPE_MIN[xd];
  const nat = nativeKernels();
  if (nat?.maxpool) {
    const sgn = xd === 'i8' ? 1 : 0;
    const win = new Int32Array([...kh0, ...kh1, ...kw0, ...kw1]);
    return batchKernel((ins, out, B) => nat.maxpool(ins[0].data, sgn, B, H, W, C, OH, OW, win, sh, sw, dh, dw, pt, pl, out.data));
  }
  const HWC = H * W * C;
  const OHWC = OH * OW * C;
  return batchKernel((ins, out, B) => {
    const x = ins[0].data;
    const y = out.data;
    for (let b = 0; b < B; b++) {
      const xb = b * HWC;
      let yo = b * OHWC;
      eachWindow(plan, (a0, a1, b0, b1, ih0, iw0) => {
        for (let c = 0; c < C; c++) {
          let m = init;
          for (let kh = a0; kh < a1; kh++) {
            const row = (ih0 + kh * dh) * W;
            for (let kw = b0; kw < b1; kw++) {
              const v = x[xb + (row + iw0 + kw * dw) * C + c];
              if (v > m) m = v;
            }
          }
          y[yo++] = m;
        }
      });
    }
  });
}
