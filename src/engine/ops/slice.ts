/**
 * Slice (docs/ops.md §Slice) with normalized attrs: for each listed axis a with step > 0,
 * 0 ≤ start ≤ dim, 0 ≤ end ≤ dim; with step < 0, 0 ≤ start ≤ dim−1, −1 ≤ end ≤ dim−1 (−1 = before
 * index 0). Output length on the axis: max(0, ceil((end − start)/step)); element i reads
 * start + i·step. Unlisted axes are taken whole.
 */
import { sizeOf } from '../ir.js';
import { type Kernel, NodeContext, stridesOf } from './common.js';
import { gatherKernel, stridedIndexMap } from './indexmap.js';

export function sliceLength(start: number, end: number, step: number): number {
  return Math.max(0, Math.ceil((end - start) / step));
}

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams([]);
  const xs = ctx.inputs[0].shape;
  const r = xs.length;
  const starts = ctx.ints('starts', -1, -1, 2 ** 31);
  const n = starts.length;
  const ends = ctx.ints('ends', n, -1, 2 ** 31);
  const axes = ctx.ints('axes', n, 0, Math.max(0, r - 1), Array.from({ length: n }, (_, i) => i));
  const steps = ctx.ints('steps', n, -(2 ** 31), 2 ** 31, new Array<number>(n).fill(1));
  if (n > r) ctx.fail(`${n} sliced axes for a rank-${r} input`);
  if (new Set(axes).size !== n) ctx.fail(`attr 'axes' [${axes}] repeats an axis`);
  const st = new Array<number>(r).fill(0);
  const sp = new Array<number>(r).fill(1);
  const os = xs.slice();
  for (let i = 0; i < n; i++) {
    const a = axes[i];
    const dim = xs[a];
    const [s, e, p] = [starts[i], ends[i], steps[i]];
    if (p === 0) ctx.fail(`step on axis ${a} is 0`);
    const ok = p > 0 ? s >= 0 && s <= dim && e >= 0 && e <= dim : s >= 0 && s <= dim - 1 && e >= -1 && e <= dim - 1;
    if (!ok) {
      ctx.fail(
        `axis ${a} (dim ${dim}): start ${s}, end ${e}, step ${p} are not normalized ` +
          (p > 0 ? '(need 0 ≤ start, end ≤ dim)' : '(need 0 ≤ start ≤ dim−1, −1 ≤ end ≤ dim−1)'),
      );
    }
    st[a] = s;
    sp[a] = p;
    os[a] = sliceLength(s, e, p);
  }
  ctx.outDtype([ctx.inputs[0].dtype]);
  ctx.outShape(os);
  const inStr = stridesOf(xs);
  let base = 0;
  for (let a = 0; a < r; a++) base += st[a] * inStr[a];
  const map = stridedIndexMap(base, inStr.map((s, a) => sp[a] * s), os);
  return gatherKernel(ctx.inputs[0].dtype, map, sizeOf(xs));
}
