/** Transpose (docs/ops.md §Transpose): y[i_0..i_{r−1}] = x[j] with j_{perm[a]} = i_a; out shape[a] = in shape[perm[a]]. */
import { sizeOf } from '../ir.js';
import { type Kernel, NodeContext, stridesOf } from './common.js';
import { gatherKernel, stridedIndexMap } from './indexmap.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams([]);
  const xs = ctx.inputs[0].shape;
  const r = xs.length;
  const def = Array.from({ length: r }, (_, i) => r - 1 - i);
  const perm = ctx.ints('perm', r, 0, Math.max(0, r - 1), def);
  if (new Set(perm).size !== r) ctx.fail(`attr 'perm' [${perm}] is not a permutation of 0..${r - 1}`);
  const os = perm.map((p) => xs[p]);
  ctx.outDtype([ctx.inputs[0].dtype]);
  ctx.outShape(os);
  const inStr = stridesOf(xs);
  const st = perm.map((p) => inStr[p]); // input stride of each output axis
  return gatherKernel(ctx.inputs[0].dtype, stridedIndexMap(0, st, os), sizeOf(xs));
}
