/** ReduceMean, ReduceSum, ReduceMax (axes as attribute before opset 18 — ReduceSum: 13 — as input 1 after). */
import { hasAttr } from '../graph.js';
import { sizeOf } from '../tensor.js';
import type { OpImpl } from './context.js';

function reduce(kind: 'mean' | 'sum' | 'max'): OpImpl {
  return (ctx, inputs) => {
    const x = ctx.float32(inputs, 0);
    const r = x.shape.length;
    const given = inputs[1] ? ctx.intList(inputs, 1) : hasAttr(ctx.node, 'axes') ? ctx.ints('axes') : [];
    const keep = ctx.int('keepdims', 1) !== 0;
    if (given.length === 0 && ctx.int('noop_with_empty_axes', 0) !== 0) return [x];
    const axes = given.length === 0 ? x.shape.map((_, i) => i) : given.map((a) => ctx.axis(a, r, 'axes'));
    const reduced = x.shape.map((_, i) => axes.includes(i));
    const keptShape = x.shape.map((d, i) => (reduced[i] ? 1 : d));
    const y = ctx.alloc('float32', keep ? keptShape : x.shape.filter((_, i) => !reduced[i]));
    const count = sizeOf(x.shape.filter((_, i) => reduced[i]));
    const acc = new Float64Array(y.data.length);
    if (kind === 'max') acc.fill(-Infinity);
    // Map each input element to its output slot by zeroing the reduced coordinates.
    const outStrides = new Array<number>(r);
    let s = 1;
    for (let i = r - 1; i >= 0; i--) {
      outStrides[i] = reduced[i] ? 0 : s;
      s *= keptShape[i];
    }
    const idx = new Array<number>(r).fill(0);
    let cur = 0;
    for (let k = 0; k < x.data.length; k++) {
      if (kind === 'max') {
        const v = x.data[k];
        if (v > acc[cur] || Number.isNaN(v)) acc[cur] = v;
      } else acc[cur] += x.data[k];
      for (let d = r - 1; d >= 0; d--) {
        idx[d]++;
        cur += outStrides[d];
        if (idx[d] < x.shape[d]) break;
        cur -= outStrides[d] * x.shape[d];
        idx[d] = 0;
      }
    }
    for (let i = 0; i < acc.length; i++) y.data[i] = kind === 'mean' ? acc[i] / count : acc[i];
    return [y];
  };
}

export const ReduceMean = reduce('mean');
export const ReduceSum = reduce('sum');
export const ReduceMax = reduce('max');
