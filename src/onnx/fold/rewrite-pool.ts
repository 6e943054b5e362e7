/** Pool canonicalization (fold pass 1). */
import { attrInt, type AttrValue, type FNode } from '../graph.js';
import { geometry } from '../ops/spatial.js';
import { node, requireOnlyFirstOutput } from './emit.js';
import type { FoldState } from './state.js';

/**
 * MaxPool/AveragePool with explicit geometry. ceil_mode becomes extra end padding (same output
 * size by construction); that is exact for MaxPool and for AveragePool without count_include_pad,
 * whose divisor ignores padding. With count_include_pad the divisor would change, so that case is
 * unsupported when ceil_mode actually adds a window.
 */
export function rewritePool(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  requireOnlyFirstOutput(s, n, index, 'Indices');
  const x = n.inputs[0];
  const inShape = s.shape(x);
  const inSp = inShape.slice(2);
  const geo = geometry(ctx, inSp, ctx.ints('kernel_shape'), { pool: true });
  const includePad = n.op === 'AveragePool' && attrInt(n, 'count_include_pad', 0) !== 0;
  const padsEnd = geo.padsEnd.map((pe, i) => {
    const dk = (geo.kernel[i] - 1) * geo.dilations[i] + 1;
    const covered = inSp[i] + geo.padsBegin[i] + pe;
    const extra = Math.max(0, (geo.out[i] - 1) * geo.strides[i] + dk - covered);
    if (extra > 0 && includePad) ctx.unsupported('ceil_mode=1 with count_include_pad=1 where the last window overhangs the padding');
    return pe + extra;
  });
  const attrs: Record<string, AttrValue> = {
    kernel_shape: geo.kernel,
    strides: geo.strides,
    pads: [...geo.padsBegin, ...padsEnd],
    dilations: geo.dilations,
  };
  if (n.op === 'AveragePool') attrs.count_include_pad = includePad ? 1 : 0;
  s.emit(node(n, n.op, [x], [n.outputs[0]], attrs));
}
