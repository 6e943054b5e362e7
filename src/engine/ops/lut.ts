/** Lut (docs/ops.md §Lut): y = table[x + 128] for x i8; table has 256 entries of the output dtype. */
import { type Kernel, NodeContext, rowwise } from './common.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['table']);
  ctx.inDtype(0, ['i8']);
  const yd = ctx.outDtype(['i8', 'u8']);
  const table = ctx.param('table', [yd], { size: 256 });
  ctx.outShape(ctx.inputs[0].shape);
  const t = table.data;
  return rowwise((ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const n = x.length;
    for (let i = 0; i < n; i++) y[i] = t[x[i] + 128];
  });
}
