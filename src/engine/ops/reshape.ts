/** Reshape (docs/ops.md §Reshape): same elements in the same order; attr shape is the full output shape. */
import { sizeOf } from '../ir.js';
import { type Kernel, NodeContext, fmtShape, rowwise } from './common.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams([]);
  const shape = ctx.ints('shape', -1, 1, 2 ** 31);
  const xs = ctx.inputs[0].shape;
  if (sizeOf(shape) !== sizeOf(xs)) ctx.fail(`cannot reshape ${fmtShape(xs)} to ${fmtShape(shape)}`);
  ctx.outDtype([ctx.inputs[0].dtype]);
  ctx.outShape(shape);
  return rowwise((ins, out) => {
    (out.data as Int32Array).set(ins[0].data as Int32Array);
  });
}
