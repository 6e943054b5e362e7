/**
 * Gather (docs/ops.md §Gather), ONNX semantics on `axis`: out[o, t, e] = data[o, idx(t), e] with
 * idx(t) = indices[t] (+ data.shape[axis] when negative). Indices are i32; an index outside
 * [−dim, dim−1] is an EngineInputError naming the node and the index. data or indices may be a param
 * (params.data / params.indices), in which case the tensor inputs are just the other operand.
 */
import type { DType, IntArray } from '../ir.js';
import { sizeOf } from '../ir.js';
import { EngineInputError } from '../errors.js';
import { type Kernel, NodeContext } from './common.js';

export function prepare(ctx: NodeContext): Kernel {
  const dataIsParam = ctx.hasParam('data');
  const indIsParam = ctx.hasParam('indices');
  if (dataIsParam && indIsParam) ctx.fail("params 'data' and 'indices' cannot both be params");
  ctx.arity(dataIsParam || indIsParam ? 1 : 2);
  ctx.onlyParams(dataIsParam ? ['data'] : indIsParam ? ['indices'] : []);
  let dataShape: readonly number[];
  let dataDtype: DType;
  let dataConst: IntArray | null = null;
  let indShape: readonly number[];
  let indConst: IntArray | null = null;
  let indInput = 1;
  if (dataIsParam) {
    const p = ctx.param('data', ['i8', 'u8', 'i32']);
    dataShape = p.shape;
    dataDtype = p.dtype;
    dataConst = p.data;
    indInput = 0;
  } else {
    dataDtype = ctx.inDtype(0, ['i8', 'u8', 'i32']);
    dataShape = ctx.inputs[0].shape;
  }
  if (indIsParam) {
    const p = ctx.param('indices', ['i32']);
    indShape = p.shape;
    indConst = p.data;
  } else {
    ctx.inDtype(indInput, ['i32']);
    indShape = ctx.inputs[indInput].shape;
  }
  const r = dataShape.length;
  if (r < 1) ctx.fail('data must have rank ≥ 1');
  let axis = ctx.int('axis', -r, r - 1, 0);
  if (axis < 0) axis += r;
  ctx.outDtype([dataDtype]);
  ctx.outShape([...dataShape.slice(0, axis), ...indShape, ...dataShape.slice(axis + 1)]);
  const A = dataShape[axis];
  const outer = sizeOf(dataShape.slice(0, axis));
  const inner = sizeOf(dataShape.slice(axis + 1));
  const nI = sizeOf(indShape);
  if (indConst) {
    for (let t = 0; t < nI; t++) {
      const v = indConst[t];
      if (v < -A || v >= A) ctx.fail(`param 'indices'[${t}] = ${v} is outside [${-A}, ${A - 1}]`);
    }
  }
  const where = ctx.where;
  return (ins, out) => {
    const d = dataConst ?? ins[0].data;
    const ind = indConst ?? ins[indInput].data;
    const y = out.data;
    for (let t = 0; t < nI; t++) {
      const v = ind[t];
      if (v < -A || v >= A) {
        throw new EngineInputError({
          input: `${where} indices[${t}]`,
          expected: `an index in [${-A}, ${A - 1}] (axis ${axis} has ${A} entries)`,
          got: String(v),
        });
      }
    }
    let yo = 0;
    for (let o = 0; o < outer; o++) {
      const base = o * A;
      for (let t = 0; t < nI; t++) {
        let v = ind[t];
        if (v < 0) v += A;
        const src = (base + v) * inner;
        for (let e = 0; e < inner; e++) y[yo++] = d[src + e];
      }
    }
  };
}
