/** Ops that move or describe data without arithmetic: Reshape and its relatives, Transpose,
 *  Expand, Shape, and the generators Constant, ConstantOfShape, Range. */
import { attrTensor, hasAttr } from '../graph.js';
import { shapeStr, sizeOf, tensorFrom, type FTensor } from '../tensor.js';
import { broadcastOffsets, broadcastShape } from './broadcast.js';
import type { Inputs, OpCtx, OpImpl } from './context.js';

/** Same data, new shape (ops never mutate their inputs, so sharing the buffer is safe). */
function view(x: FTensor, shape: number[]): FTensor {
  return { dtype: x.dtype, shape, data: x.data };
}

/** Resolves a Reshape shape spec (0 = copy the input dim unless allowzero, -1 = infer). */
export function reshapeTarget(ctx: OpCtx, inShape: readonly number[], spec: readonly number[], allowzero: boolean): number[] {
  const total = sizeOf(inShape);
  let infer = -1;
  const out = spec.map((d, i) => {
    if (d === -1) {
      if (infer >= 0) ctx.fail(`shape ${JSON.stringify(spec)} has more than one -1`);
      infer = i;
      return 1;
    }
    if (d === 0 && !allowzero) {
      if (i >= inShape.length) ctx.fail(`shape ${JSON.stringify(spec)} copies dim ${i} of a rank-${inShape.length} input`);
      return inShape[i];
    }
    if (!Number.isSafeInteger(d) || d < 0) ctx.fail(`invalid dim ${d} in shape ${JSON.stringify(spec)}`);
    return d;
  });
  if (infer >= 0) {
    const known = sizeOf(out);
    if (known === 0 || total % known !== 0) ctx.fail(`cannot reshape ${shapeStr(inShape)} to ${JSON.stringify(spec)}`);
    out[infer] = total / known;
  }
  if (sizeOf(out) !== total) ctx.fail(`cannot reshape ${shapeStr(inShape)} (${total} elements) to ${shapeStr(out)}`);
  return out;
}

export const Reshape: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  // Opset < 5 carried the shape as an attribute.
  const spec = inputs[1] ? ctx.intList(inputs, 1) : ctx.ints('shape');
  return [view(x, reshapeTarget(ctx, x.shape, spec, ctx.int('allowzero', 0) !== 0))];
};

export const Flatten: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const r = x.shape.length;
  let a = ctx.int('axis', 1);
  if (a < -r || a > r) ctx.fail(`axis ${a} out of range for rank ${r}`, 'axis');
  if (a < 0) a += r;
  return [view(x, [sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
};

/** Axes from input 1 (opset 13+) or the `axes` attribute (before). */
function axesArg(ctx: OpCtx, inputs: Inputs): number[] | undefined {
  if (inputs[1]) return ctx.intList(inputs, 1);
  return hasAttr(ctx.node, 'axes') ? ctx.ints('axes') : undefined;
}

function uniqueAxes(ctx: OpCtx, axes: number[], rank: number): number[] {
  const norm = axes.map((a) => ctx.axis(a, rank, 'axes'));
  if (new Set(norm).size !== norm.length) ctx.fail(`repeated axis in ${JSON.stringify(axes)}`, 'axes');
  return norm;
}

export const Squeeze: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const axes = axesArg(ctx, inputs);
  const r = x.shape.length;
  const drop = axes ? uniqueAxes(ctx, axes, r) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  for (const a of drop) if (x.shape[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${x.shape[a]}`);
  return [view(x, x.shape.filter((_, i) => !drop.includes(i)))];
};

export const Unsqueeze: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const axes = axesArg(ctx, inputs);
  if (!axes) return ctx.fail('needs axes');
  const outRank = x.shape.length + axes.length;
  const add = uniqueAxes(ctx, axes, outRank);
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < outRank; i++) shape.push(add.includes(i) ? 1 : x.shape[j++]);
  return [view(x, shape)];
};

export function transpose(ctx: OpCtx, x: FTensor, perm: readonly number[]): FTensor {
  const r = x.shape.length;
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) ctx.fail(`perm ${JSON.stringify(perm)} is not a permutation of rank ${r}`, 'perm');
  const outShape = perm.map((p) => x.shape[p]);
  const y = ctx.alloc(x.dtype, outShape);
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= x.shape[i];
  }
  const st = perm.map((p) => inStrides[p]);
  const idx = new Array<number>(r).fill(0);
  let cur = 0;
  for (let k = 0; k < y.data.length; k++) {
    y.data[k] = x.data[cur];
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      cur += st[d];
      if (idx[d] < outShape[d]) break;
      cur -= st[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return y;
}

export const Transpose: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const perm = ctx.ints('perm', x.shape.map((_, i) => x.shape.length - 1 - i));
  return [transpose(ctx, x, perm)];
};

export const Expand: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const spec = ctx.intList(inputs, 1);
  const shape = broadcastShape(ctx, [x.shape, spec]);
  const y = ctx.alloc(x.dtype, shape);
  const off = broadcastOffsets(shape, x.shape);
  for (let k = 0; k < y.data.length; k++) y.data[k] = x.data[off[k]];
  return [y];
};

export const Shape: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const r = x.shape.length;
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const start = clamp(ctx.int('start', 0));
  const end = clamp(ctx.int('end', r));
  const dims = x.shape.slice(start, Math.max(start, end));
  return [tensorFrom('int64', [dims.length], dims)];
};

export const Constant: OpImpl = (ctx) => {
  const n = ctx.node;
  if (hasAttr(n, 'value')) {
    const v = attrTensor(n, 'value');
    return [v];
  }
  if (hasAttr(n, 'value_float')) return [tensorFrom('float32', [], [ctx.float('value_float')])];
  if (hasAttr(n, 'value_floats')) {
    const v = ctx.node.attrs.value_floats;
    const arr = Array.isArray(v) ? (v as number[]) : [ctx.float('value_floats')];
    return [tensorFrom('float32', [arr.length], arr)];
  }
  if (hasAttr(n, 'value_int')) return [tensorFrom('int64', [], [ctx.int('value_int')])];
  if (hasAttr(n, 'value_ints')) {
    const v = ctx.ints('value_ints');
    return [tensorFrom('int64', [v.length], v)];
  }
  return ctx.unsupported(`a Constant without value/value_float(s)/value_int(s) (attributes: ${Object.keys(n.attrs).join(', ') || 'none'})`);
};

export const ConstantOfShape: OpImpl = (ctx, inputs) => {
  const shape = ctx.intList(inputs, 0);
  const value = attrTensor(ctx.node, 'value');
  let dtype: FTensor['dtype'] = 'float32';
  let v = 0;
  if (value !== undefined) {
    if (value.data.length !== 1) ctx.fail('value must be a one-element tensor', 'value');
    dtype = value.dtype;
    v = value.data[0];
  }
  const y = ctx.alloc(dtype, shape);
  y.data.fill(v);
  return [y];
};

export const Range: OpImpl = (ctx, inputs) => {
  const t = ctx.in(inputs, 0);
  const [start, limit, delta] = [0, 1, 2].map((i) => ctx.scalarOf(inputs, i));
  if (t.dtype === 'bool') ctx.fail('bool is not a range type');
  if (delta === 0 || !Number.isFinite(delta) || !Number.isFinite(start) || !Number.isFinite(limit)) ctx.fail(`invalid range ${start}:${limit}:${delta}`);
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const y = ctx.alloc(t.dtype, [n]);
  // Accumulating (not start + i·delta) is what the C++ kernel does; it matters for float steps.
  let v = start;
  for (let i = 0; i < n; i++) {
    y.data[i] = v;
    v = t.dtype === 'float32' ? Math.fround(v + delta) : v + delta;
  }
  return [y];
};
