/** Ops that select or assemble parts of tensors: Slice, Gather, Split, Concat. */
import { hasAttr } from '../graph.js';
import { shapeStr, sizeOf, type FTensor } from '../tensor.js';
import type { Inputs, OpCtx, OpImpl } from './context.js';

/** A slice with every number resolved against a known input shape: axes non-negative, distinct
 *  and ascending; starts clamped into the axis; ends clamped to [0, dim] for positive steps and to
 *  [-1, dim-1] for negative steps (-1 = "down to and including index 0"). */
export interface SliceSpec {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

export function normalizeSlice(
  ctx: OpCtx,
  shape: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[] | undefined,
  steps: readonly number[] | undefined,
): { spec: SliceSpec; outShape: number[] } {
  const r = shape.length;
  const n = starts.length;
  if (ends.length !== n || (axes && axes.length !== n) || (steps && steps.length !== n)) {
    ctx.fail(`starts/ends/axes/steps lengths differ (${n}, ${ends.length}, ${axes?.length ?? '-'}, ${steps?.length ?? '-'})`);
  }
  const items: { axis: number; start: number; end: number; step: number }[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    const axis = ctx.axis(axes ? axes[i] : i, r, 'axes');
    if (seen.has(axis)) ctx.fail(`axis ${axis} sliced twice`);
    seen.add(axis);
    const step = steps ? steps[i] : 1;
    if (step === 0 || !Number.isFinite(step)) ctx.fail('steps must be non-zero');
    const dim = shape[axis];
    let start = starts[i] < 0 ? starts[i] + dim : starts[i];
    let end = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      start = Math.min(Math.max(start, 0), dim);
      end = Math.min(Math.max(end, 0), dim);
    } else {
      start = Math.min(Math.max(start, 0), dim - 1);
      end = Math.min(Math.max(end, -1), dim - 1);
    }
    items.push({ axis, start, end, step });
  }
  items.sort((a, b) => a.axis - b.axis);
  const outShape = [...shape];
  for (const it of items) outShape[it.axis] = Math.max(0, Math.ceil((it.end - it.start) / it.step));
  return {
    spec: { starts: items.map((i) => i.start), ends: items.map((i) => i.end), axes: items.map((i) => i.axis), steps: items.map((i) => i.step) },
    outShape,
  };
}

/**
 * Checks a slice that is already in SliceSpec form (the canonical Slice fold.ts writes) and
 * returns its output shape. Its numbers are used as they are: an end of -1 with a negative step
 * means "through index 0", not "the last index" as ONNX's wrap-around rule would read it.
 */
export function checkSliceSpec(ctx: OpCtx, shape: readonly number[], spec: SliceSpec): number[] {
  const { starts, ends, axes, steps } = spec;
  const n = axes.length;
  if (starts.length !== n || ends.length !== n || steps.length !== n) ctx.fail('starts/ends/axes/steps lengths differ');
  const outShape = [...shape];
  axes.forEach((a, i) => {
    if (!Number.isInteger(a) || a < 0 || a >= shape.length || (i > 0 && a <= axes[i - 1])) ctx.fail(`axes ${JSON.stringify(axes)} must be ascending, in [0, ${shape.length})`, 'axes');
    const dim = shape[a];
    const [st, en, sp] = [starts[i], ends[i], steps[i]];
    const ok = sp > 0 ? st >= 0 && st <= dim && en >= 0 && en <= dim : sp < 0 && st >= 0 && st <= dim - 1 && en >= -1 && en <= dim - 1;
    if (!ok) ctx.fail(`normalized slice ${st}:${en}:${sp} is out of range for axis ${a} of size ${dim}`);
    outShape[a] = Math.max(0, Math.ceil((en - st) / sp));
  });
  return outShape;
}

/** Slice arguments: inputs 1-4 (opset 10+); else attributes starts/ends/axes (opset < 10, ONNX
 *  wrap-around rules); else, when a `steps` attribute is present (never in ONNX), the canonical
 *  already-normalized form. */
export function sliceArgs(ctx: OpCtx, inputs: Inputs, shape: readonly number[]): { spec: SliceSpec; outShape: number[] } {
  if (inputs[1] || inputs[2]) {
    return normalizeSlice(ctx, shape, ctx.intList(inputs, 1), ctx.intList(inputs, 2), inputs[3] ? ctx.intList(inputs, 3) : undefined, inputs[4] ? ctx.intList(inputs, 4) : undefined);
  }
  const axes = hasAttr(ctx.node, 'axes') ? ctx.ints('axes') : undefined;
  if (hasAttr(ctx.node, 'steps')) {
    const spec = { starts: ctx.ints('starts'), ends: ctx.ints('ends'), axes: axes ?? ctx.ints('axes'), steps: ctx.ints('steps') };
    return { spec, outShape: checkSliceSpec(ctx, shape, spec) };
  }
  return normalizeSlice(ctx, shape, ctx.ints('starts'), ctx.ints('ends'), axes, undefined);
}

export function applySlice(ctx: OpCtx, x: FTensor, spec: SliceSpec, outShape: readonly number[]): FTensor {
  const r = x.shape.length;
  const start = new Array<number>(r).fill(0);
  const step = new Array<number>(r).fill(1);
  spec.axes.forEach((a, i) => {
    start[a] = spec.starts[i];
    step[a] = spec.steps[i];
  });
  const y = ctx.alloc(x.dtype, outShape);
  const strides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    strides[i] = s;
    s *= x.shape[i];
  }
  const idx = new Array<number>(r).fill(0);
  let cur = start.reduce((acc, st, i) => acc + st * strides[i], 0);
  for (let k = 0; k < y.data.length; k++) {
    y.data[k] = x.data[cur];
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      cur += step[d] * strides[d];
      if (idx[d] < outShape[d]) break;
      cur -= step[d] * strides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return y;
}

export const Slice: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const { spec, outShape } = sliceArgs(ctx, inputs, x.shape);
  return [applySlice(ctx, x, spec, outShape)];
};

export const Gather: OpImpl = (ctx, inputs) => {
  const data = ctx.in(inputs, 0);
  const ind = ctx.in(inputs, 1);
  if (ind.dtype !== 'int64' && ind.dtype !== 'int32') ctx.fail(`indices must be int32 or int64, got ${ind.dtype}`);
  const r = data.shape.length;
  if (r === 0) ctx.fail('data must have rank >= 1');
  const axis = ctx.axis(ctx.int('axis', 0), r);
  const dim = data.shape[axis];
  const outer = sizeOf(data.shape.slice(0, axis));
  const inner = sizeOf(data.shape.slice(axis + 1));
  const y = ctx.alloc(data.dtype, [...data.shape.slice(0, axis), ...ind.shape, ...data.shape.slice(axis + 1)]);
  const ni = ind.data.length;
  for (let j = 0; j < ni; j++) {
    const v = ind.data[j];
    if (!(v >= -dim && v < dim)) ctx.fail(`index ${v} out of range for axis ${axis} of size ${dim}`);
  }
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < ni; j++) {
      const v = ind.data[j];
      const src = (o * dim + (v < 0 ? v + dim : v)) * inner;
      const dst = (o * ni + j) * inner;
      for (let i = 0; i < inner; i++) y.data[dst + i] = data.data[src + i];
    }
  }
  return [y];
};

/** Sizes of the parts of a Split along an axis of size `dim`: input 1 or attribute `split`;
 *  else `num_outputs` (opset 18) or the number of outputs, in ceil(dim/n) chunks. */
export function splitSizes(ctx: OpCtx, inputs: Inputs, dim: number): number[] {
  const n = ctx.node.outputs.length;
  let sizes: number[];
  if (inputs[1]) sizes = ctx.intList(inputs, 1);
  else if (hasAttr(ctx.node, 'split')) sizes = ctx.ints('split');
  else {
    const parts = ctx.int('num_outputs', n);
    if (parts !== n || n < 1) ctx.fail(`num_outputs ${parts} differs from the ${n} outputs`, 'num_outputs');
    const chunk = Math.ceil(dim / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  if (sizes.length !== n) ctx.fail(`${sizes.length} split sizes for ${n} outputs`);
  if (sizes.some((s) => !(s >= 0)) || sizes.reduce((a, b) => a + b, 0) !== dim) ctx.fail(`split sizes ${JSON.stringify(sizes)} do not add up to ${dim}`);
  return sizes;
}

export const Split: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const axis = ctx.axis(ctx.int('axis', 0), x.shape.length);
  const sizes = splitSizes(ctx, inputs, x.shape[axis]);
  let at = 0;
  return sizes.map((len) => {
    const outShape = [...x.shape];
    outShape[axis] = len;
    const y = applySlice(ctx, x, { starts: [at], ends: [at + len], axes: [axis], steps: [1] }, outShape);
    at += len;
    return y;
  });
};

export const Concat: OpImpl = (ctx, inputs) => {
  const xs = inputs.filter((t): t is FTensor => t !== undefined);
  if (xs.length === 0) ctx.fail('needs at least one input');
  const r = xs[0].shape.length;
  if (r === 0) ctx.fail('inputs must have rank >= 1');
  const axis = ctx.axis(ctx.int('axis'), r);
  for (const t of xs) {
    if (t.dtype !== xs[0].dtype) ctx.fail(`inputs must have one element type, got ${t.dtype} and ${xs[0].dtype}`);
    if (t.shape.length !== r || t.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
      ctx.fail(`shapes ${xs.map((x) => shapeStr(x.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  const outShape = [...xs[0].shape];
  outShape[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
  const y = ctx.alloc(xs[0].dtype, outShape);
  const outer = sizeOf(outShape.slice(0, axis));
  const inner = sizeOf(outShape.slice(axis + 1));
  const rowOut = outShape[axis] * inner;
  let off = 0;
  for (const t of xs) {
    const row = t.shape[axis] * inner;
    for (let o = 0; o < outer; o++) y.data.set(t.data.subarray(o * row, (o + 1) * row), o * rowOut + off);
    off += row;
  }
  return [y];
};
