/** MaxPool, NHWC (docs/ops.md §MaxPool): max over the window's positions inside the input. */
import { type Kernel, NodeContext, DTYPE_MIN } from './common.js';
import { planPool } from './pool.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams([]);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  ctx.outDtype([xd]);
  const { W, C, OH, OW, kh0, kh1, kw0, kw1, sh, sw, dh, dw, pt, pl } = planPool(ctx, true);
  const init = DTYPE_MIN[xd];
  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    let yo = 0;
    for (let oh = 0; oh < OH; oh++) {
      const a0 = kh0[oh];
      const a1 = kh1[oh];
      const ih0 = oh * sh - pt;
      for (let ow = 0; ow < OW; ow++) {
        const b0 = kw0[ow];
        const b1 = kw1[ow];
        const iw0 = ow * sw - pl;
        for (let c = 0; c < C; c++) {
          let m = init;
          for (let kh = a0; kh < a1; kh++) {
            const row = (ih0 + kh * dh) * W;
            for (let kw = b0; kw < b1; kw++) {
              const v = x[(row + iw0 + kw * dw) * C + c];
              if (v > m) m = v;
            }
          }
          y[yo++] = m;
        }
      }
    }
  };
}
