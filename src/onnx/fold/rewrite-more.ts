/**
 * Rewrites of ops the integer engine has no op for into ops it has (fold pass 1). Each rewrite
 * computes the same float function (up to float32 rounding order), so it inherits the integer
 * semantics, the Solidity one-step verifier and the differential tests of the ops it emits:
 *
 *  ReduceSum / ReduceMean (any axes)  → [Transpose the reduced axes last] → Reshape [.., K] →
 *                                       Linear with weights 1 (1/K) and bias 0 → Reshape to the output
 *  ReduceMax (any axes)               → [Transpose] → Reshape [1, R, 1, K] → MaxPool kernel [1, K] → Reshape
 *  PRelu (constant slope)             → a scalar slope is LeakyRelu (one table); a per-channel slope is
 *                                       Relu(x) + (−slope)·Relu(−x): two tables, a Mul by the constant, an Add
 *  Div of two runtime tensors         → Mul(a, Reciprocal(b)) (Reciprocal is a table of b)
 *  Resize/Upsample nearest, integer   → Reshape [.., d, 1, ..] → Expand [.., d, k, ..] → Reshape
 *  factors (output[i] = input[floor(i/k)])   (Expand of an activation is a Gather per axis)
 *  InstanceNormalization              → Reshape [N, C, H·W] → LayerNormalization over the last axis →
 *                                       Reshape back → Mul/Add by the per-channel scale/bias
 *  Max / Min                          → with a constant of one value: a step of the activation's table
 *                                       (constant second); of two activations b + Relu(a − b) / a − Relu(a − b)
 */
import { attrFloat, attrInt, attrInts, hasAttr, type FNode } from '../graph.js';
import { sizeOf, tensorFrom, zeros } from '../tensor.js';
import { emitCommutative, emitReshape, node } from './emit.js';
import { broadcastShape } from '../ops/broadcast.js';
import { nearestIndexMap, resizeGeometry } from '../ops/resize.js';
import { convTransposeSpec } from '../ops/conv.js';
import type { FoldState } from './state.js';

const f32 = Math.fround;

function reduceAxes(s: FoldState, n: FNode, index: number, rank: number): number[] | 'noop' {
  const ctx = s.ctx(n, index);
  let axes: number[];
  if (n.inputs[1]) {
    const c = s.consts.get(n.inputs[1]) ?? ctx.unsupported('computed (non-constant) axes');
    axes = Array.from(c.data);
  } else axes = hasAttr(n, 'axes') ? attrInts(n, 'axes') : [];
  if (axes.length === 0 && attrInt(n, 'noop_with_empty_axes', 0) !== 0) return 'noop';
  if (axes.length === 0) return Array.from({ length: rank }, (_, i) => i);
  return [...new Set(axes.map((a) => ctx.axis(a, rank, 'axes')))].sort((a, b) => a - b);
}

export function rewriteReduce(s: FoldState, n: FNode, index: number): void {
  const x = n.inputs[0];
  const out = n.outputs[0];
  const shape = s.shape(x);
  const r = shape.length;
  const axes = reduceAxes(s, n, index, r);
  if (axes === 'noop') {
    s.setAlias(out, x);
    return;
  }
  const outShape = s.shape(out);
  const keep = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const perm = [...keep, ...axes];
  const lead = keep.map((i) => shape[i]);
  const K = sizeOf(axes.map((a) => shape[a]));
  let cur = x;
  if (!perm.every((p, i) => p === i)) {
    cur = s.fresh(`${out}::reduced-last`);
    s.emit(node(n, 'Transpose', [x], [cur], { perm }, '::perm'), perm.map((p) => shape[p]), 'float32');
  }
  if (n.op === 'ReduceMax') {
    const R = sizeOf(lead);
    const x4 = s.fresh(`${out}::nchw`);
    emitReshape(s, n, cur, x4, [1, R, 1, K], '::in');
    const y4 = s.fresh(`${out}::pooled`);
    s.emit(node(n, 'MaxPool', [s.resolve(x4)], [y4], { kernel_shape: [1, K], strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1] }), [1, R, 1, 1], 'float32');
    emitReshape(s, n, y4, out, outShape, '::out');
    return;
  }
  const x2 = s.fresh(`${out}::rows`);
  emitReshape(s, n, cur, x2, [...lead, K], '::in');
  const w = n.op === 'ReduceMean' ? f32(1 / K) : 1;
  const W = s.addConst(`${out}::weights`, tensorFrom('float32', [1, K], new Array<number>(K).fill(w)));
  const B = s.addConst(`${out}::bias`, zeros('float32', [1]));
  const y2 = s.fresh(`${out}::sum`);
  s.emit(node(n, 'Linear', [s.resolve(x2), W, B], [y2]), [...lead, 1], 'float32');
  emitReshape(s, n, y2, out, outShape, '::out');
}

export function rewritePRelu(s: FoldState, n: FNode, index: number): void {
  const [x, sl] = n.inputs;
  const out = n.outputs[0];
  const S = s.consts.get(sl) ?? s.ctx(n, index).unsupported('a computed (non-constant) slope');
  if (S.data.length === 1) {
    s.emit(node(n, 'LeakyRelu', [x], [out], { alpha: S.data[0] }));
    return;
  }
  const shape = s.shape(x);
  const pos = s.fresh(`${out}::pos`);
  s.emit(node(n, 'Relu', [x], [pos], {}, '::pos'), shape, 'float32');
  const nx = s.fresh(`${out}::negx`);
  s.emit(node(n, 'Neg', [x], [nx], {}, '::negx'), shape, 'float32');
  const negPart = s.fresh(`${out}::negpart`);
  s.emit(node(n, 'Relu', [nx], [negPart], {}, '::negpart'), shape, 'float32');
  const negSlope = s.addConst(`${sl}::neg`, { dtype: 'float32', shape: [...S.shape], data: Float32Array.from(S.data, (v) => -v) });
  const m = s.fresh(`${out}::scaled`);
  s.emit(node(n, 'Mul', [negPart, negSlope], [m], {}, '::slope'), shape, 'float32');
  s.emit(node(n, 'Add', [pos, m], [out]));
}

/** Div whose divisor is computed at run time (float): a · (1/b). */
export function rewriteDynamicDiv(s: FoldState, n: FNode): void {
  const [a, b] = n.inputs;
  const rb = s.fresh(`${b}::recip`);
  s.emit(node(n, 'Reciprocal', [b], [rb], {}, '::recip'), s.shape(b), 'float32');
  if (s.isConst(a) && s.consts.get(a)!.data.length === 1) {
    // c / b: one table of b (Reciprocal, then Mul by the scalar).
    s.emit(node(n, 'Mul', [rb, a], [n.outputs[0]]));
    return;
  }
  emitCommutative(s, n, 'Mul', a, rb, n.outputs[0]);
}

/** InstanceNormalization, and GroupNormalization (G groups; an instance norm is G = C). */
export function rewriteInstanceNorm(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  const [x, scale, bias] = n.inputs;
  const out = n.outputs[0];
  const shape = s.shape(x);
  if (shape.length < 3) ctx.fail(`input must be N,C,D1,…, got [${shape}]`);
  let S = s.consts.get(scale) ?? ctx.unsupported('a computed (non-constant) scale');
  let B = s.consts.get(bias) ?? ctx.unsupported('a computed (non-constant) B');
  const [N, C] = shape;
  const G = n.op === 'GroupNormalization' ? attrInt(n, 'num_groups') : C;
  if (G < 1 || C % G !== 0) ctx.fail(`num_groups ${G} must divide C = ${C}`, 'num_groups');
  if (S.data.length === G && G !== C) {
    // Opset 18's per-group scale/bias: the same value for each channel of a group.
    const per = (t: typeof S) => tensorFrom('float32', [C], Array.from({ length: C }, (_, c) => t.data[Math.floor(c / (C / G))]));
    S = per(S);
    B = per(B);
  }
  const K = (C / G) * sizeOf(shape.slice(2));
  const eps = attrFloat(n, 'epsilon', 1e-5);
  const rows = s.fresh(`${out}::rows`);
  emitReshape(s, n, x, rows, [N, G, K], '::in');
  const ones = s.addConst(`${out}::ones`, tensorFrom('float32', [K], new Array<number>(K).fill(1)));
  const zero = s.addConst(`${out}::zeros`, zeros('float32', [K]));
  const normed = s.fresh(`${out}::normed`);
  s.emit(node(n, 'LayerNormalization', [s.resolve(rows), ones, zero], [normed], { axis: -1, epsilon: eps }, '::norm'), [N, G, K], 'float32');
  const back = s.fresh(`${out}::nchw`);
  emitReshape(s, n, normed, back, shape, '::out');
  const chShape = [C, ...shape.slice(2).map(() => 1)];
  const hasScale = Array.from(S.data).some((v) => v !== 1);
  const hasBias = Array.from(B.data).some((v) => v !== 0);
  let cur = s.resolve(back);
  if (hasScale) {
    const sc = s.addConst(`${scale}::ch`, tensorFrom('float32', chShape, S.data));
    const m = hasBias ? s.fresh(`${out}::scaled`) : out;
    s.emit(node(n, 'Mul', [cur, sc], [m], {}, '::scale'), shape, 'float32');
    cur = m;
  }
  if (hasBias) {
    const bi = s.addConst(`${bias}::ch`, tensorFrom('float32', chShape, B.data));
    s.emit(node(n, 'Add', [cur, bi], [out], {}, '::bias'), shape, 'float32');
  } else if (!hasScale) s.setAlias(out, cur);
}

export function rewriteResize(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  const x = n.inputs[0];
  const out = n.outputs[0];
  if (n.inputs.slice(1).some((i) => i !== '' && !s.isConst(i))) ctx.unsupported('computed (non-constant) roi/scales/sizes');
  const mode = n.op === 'Upsample' ? (typeof n.attrs.mode === 'string' ? n.attrs.mode : 'nearest') : typeof n.attrs.mode === 'string' ? n.attrs.mode : 'nearest';
  if (mode !== 'nearest') ctx.unsupported(`mode "${mode}" (only nearest upsampling by integer factors imports)`);
  const shape = s.shape(x);
  const consts = n.inputs.map((i) => (i ? s.consts.get(i) : undefined));
  const { out: outShape, scales } = resizeGeometry(ctx, { dtype: 'float32', shape, data: new Float32Array(0) }, consts);
  const k = outShape.map((o, a) => o / shape[a]);
  k.forEach((f, a) => {
    if (!Number.isInteger(f) || f < 1) ctx.unsupported(`a non-integer or downsampling factor ${f} on axis ${a} (only nearest upsampling by integer factors)`);
    const map = nearestIndexMap(ctx, shape[a], outShape[a], scales[a]);
    if (map.some((j, i) => j !== Math.floor(i / f))) ctx.unsupported(`a coordinate mode whose nearest map is not floor(i / ${f}) on axis ${a}`);
  });
  if (k.every((f) => f === 1)) {
    s.setAlias(out, x);
    return;
  }
  const split = shape.flatMap((d, a) => (k[a] > 1 ? [d, 1] : [d]));
  const wide = shape.flatMap((d, a) => (k[a] > 1 ? [d, k[a]] : [d]));
  const x1 = s.fresh(`${out}::split`);
  emitReshape(s, n, x, x1, split, '::split');
  const x2 = s.fresh(`${out}::repeat`);
  s.emit(node(n, 'Expand', [s.resolve(x1), s.constInt64(`${out}::wide`, wide)], [x2], {}, '::repeat'), wide, s.dtype(x));
  emitReshape(s, n, x2, out, outShape, '::merge');
}

/**
 * ConvTranspose (2-D) as a Conv over the zero-interleaved input: Reshape [N, C, H, 1, W, 1] →
 * Expand by the strides → Mul by a constant 0/1 grid (zeros between the pixels) → Reshape →
 * Slice off the trailing zeros; then a stride-1 Conv with the kernel flipped and its channel axes
 * swapped, padded d·(k − 1) − pad (+ output_padding at the end). Pads larger than d·(k − 1) would
 * need a crop: unsupported.
 */
export function rewriteConvTranspose(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  const [x, wn, bn] = n.inputs;
  const out = n.outputs[0];
  const w = s.consts.get(wn) ?? ctx.unsupported('a computed (non-constant) weight');
  const B = bn ? (s.consts.get(bn) ?? ctx.unsupported('a computed bias')) : undefined;
  const g = convTransposeSpec(ctx, s.shape(x), w.shape);
  const [sh, sw] = g.strides;
  const begin = [0, 1].map((a) => g.dil[a] * ((a ? g.KW : g.KH) - 1) - g.pads[a]);
  const end = [0, 1].map((a) => g.dil[a] * ((a ? g.KW : g.KH) - 1) - g.pads[a + 2] + g.outPad[a]);
  if ([...begin, ...end].some((p) => p < 0)) ctx.unsupported('pads larger than dilation·(kernel − 1) (the equivalent Conv would need a crop)');
  let cur = x;
  const UH = sh * (g.H - 1) + 1;
  const UW = sw * (g.W - 1) + 1;
  if (sh > 1 || sw > 1) {
    const split = s.fresh(`${out}::split`);
    emitReshape(s, n, x, split, [g.N, g.C, g.H, 1, g.W, 1], '::split');
    const wide = [g.N, g.C, g.H, sh, g.W, sw];
    const rep = s.fresh(`${out}::repeat`);
    s.emit(node(n, 'Expand', [s.resolve(split), s.constInt64(`${out}::wide`, wide)], [rep], {}, '::repeat'), wide, 'float32');
    const grid = new Array<number>(sh * sw).fill(0);
    grid[0] = 1;
    const zeroed = s.fresh(`${out}::interleaved`);
    s.emit(node(n, 'Mul', [rep, s.addConst(`${out}::grid`, tensorFrom('float32', [1, 1, 1, sh, 1, sw], grid))], [zeroed], {}, '::grid'), wide, 'float32');
    const flat = s.fresh(`${out}::up`);
    emitReshape(s, n, zeroed, flat, [g.N, g.C, g.H * sh, g.W * sw], '::up');
    cur = s.resolve(flat);
    if (UH !== g.H * sh || UW !== g.W * sw) {
      const cut = s.fresh(`${out}::cut`);
      s.emit(node(n, 'Slice', [cur], [cut], { starts: [0, 0], ends: [UH, UW], axes: [2, 3], steps: [1, 1] }, '::cut'), [g.N, g.C, UH, UW], 'float32');
      cur = cut;
    }
  }
  const Cig = g.C / g.group;
  const wf = new Float32Array(g.Co * Cig * g.KH * g.KW);
  for (let ci = 0; ci < g.C; ci++) {
    const gi = Math.floor(ci / Cig);
    for (let co = 0; co < g.Cog; co++)
      for (let i = 0; i < g.KH; i++)
        for (let j = 0; j < g.KW; j++)
          wf[(((gi * g.Cog + co) * Cig + (ci % Cig)) * g.KH + (g.KH - 1 - i)) * g.KW + (g.KW - 1 - j)] = w.data[((ci * g.Cog + co) * g.KH + i) * g.KW + j];
  }
  const W2 = s.addConst(`${wn}::conv`, tensorFrom('float32', [g.Co, Cig, g.KH, g.KW], wf));
  const B2 = B ? bn : s.addConst(`${out}::bias`, zeros('float32', [g.Co]));
  s.emit(node(n, 'Conv', [cur, W2, B2], [out], { kernel_shape: [g.KH, g.KW], strides: [1, 1], dilations: [...g.dil], pads: [...begin, ...end], group: g.group }));
}

/** Max/Min, variadic (pairwise, computed operands first). */
export function rewriteExtremum(s: FoldState, n: FNode, index: number): void {
  const ins = n.inputs.filter((i) => i !== '');
  ins.sort((a, b) => Number(s.isConst(a)) - Number(s.isConst(b)));
  const out = n.outputs[0];
  if (ins.length === 1) {
    s.setAlias(out, ins[0]);
    return;
  }
  if (s.dtype(ins[0]) !== 'float32') {
    s.emit(n);
    return;
  }
  const shapeOf = (t: string) => (s.isConst(t) ? [...s.consts.get(t)!.shape] : s.shape(t));
  const ctx = s.ctx(n, index);
  let acc = ins[0];
  for (let k = 1; k < ins.length; k++) {
    const b = ins[k];
    const last = k === ins.length - 1;
    const shape = broadcastShape(ctx, [shapeOf(acc), shapeOf(b)]);
    const y = last ? out : s.fresh(`${out}::${n.op}${k}`);
    const tag = last ? '' : `::${n.op}${k}`;
    if (s.isConst(b)) {
      s.emit(node(n, n.op, [acc, b], [y], {}, tag), shape, 'float32');
    } else {
      const nb = s.fresh(`${y}::neg`);
      s.emit(node(n, 'Neg', [b], [nb], {}, `${tag}::neg`), shapeOf(b), 'float32');
      const d = s.fresh(`${y}::diff`);
      emitCommutative(s, n, 'Add', acc, nb, d, `${tag}::diff`);
      s.shapes.set(d, shape);
      s.dtypes.set(d, 'float32');
      const r = s.fresh(`${y}::relu`);
      s.emit(node(n, 'Relu', [d], [r], {}, `${tag}::relu`), shape, 'float32');
      if (n.op === 'Max') emitCommutative(s, n, 'Add', b, r, y, tag);
      else {
        const nr = s.fresh(`${y}::negrelu`);
        s.emit(node(n, 'Neg', [r], [nr], {}, `${tag}::negrelu`), shape, 'float32');
        emitCommutative(s, n, 'Add', acc, nr, y, tag);
      }
      if (!last) {
        s.shapes.set(y, shape);
        s.dtypes.set(y, 'float32');
      }
    }
    acc = y;
  }
}
