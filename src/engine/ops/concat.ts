/** Concat (docs/ops.md §Concat): inputs of one dtype, equal shapes except on `axis`, joined along it. */
import { sizeOf } from '../ir.js';
import { type Kernel, NodeContext } from './common.js';

export function prepare(ctx: NodeContext): Kernel {
  const k = ctx.node.inputs.length;
  if (k < 1) ctx.fail('needs at least one input');
  ctx.onlyParams([]);
  const dt = ctx.inputs[0].dtype;
  const s0 = ctx.inputs[0].shape;
  const r = s0.length;
  if (r < 1) ctx.fail('inputs must have rank ≥ 1');
  let axis = ctx.int('axis', -r, r - 1);
  if (axis < 0) axis += r;
  let total = 0;
  for (let j = 0; j < k; j++) {
    ctx.inDtype(j, [dt]);
    const s = ctx.inputs[j].shape;
    if (s.length !== r || s.some((d, a) => a !== axis && d !== s0[a])) {
      ctx.fail(`input ${j} shape [${s}] does not match input 0 shape [${s0}] off axis ${axis}`);
    }
    total += s[axis];
  }
  ctx.outDtype([dt]);
  const os = s0.slice();
  os[axis] = total;
  ctx.outShape(os);
  const outer = sizeOf(s0.slice(0, axis));
  const inner = sizeOf(s0.slice(axis + 1));
  const chunk = Int32Array.from(ctx.inputs.map((t) => t.shape[axis] * inner));
  return (ins, out) => {
    const y = out.data;
    let yo = 0;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const x = ins[j].data;
        const c = chunk[j];
        const src = o * c;
        for (let e = 0; e < c; e++) y[yo++] = x[src + e];
      }
    }
  };
}
