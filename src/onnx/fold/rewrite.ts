/**
 * Node-by-node canonicalization (the first rewrite pass). Each handler replaces one source node by
 * zero or more canonical nodes, reading the shapes the zero run established. Fusions across nodes
 * (bias adds, BatchNormalization) come after, in fuse.ts.
 */
import { attrFloat, attrInt, hasAttr, type AttrValue, type FNode } from '../graph.js';
import { clipBounds } from '../ops/elementwise.js';
import { checkSliceSpec, sliceArgs } from '../ops/select.js';
import { geometry } from '../ops/spatial.js';
import { convGeometry } from '../ops/conv.js';
import { dtypeFromOnnx, sizeOf, tensorFrom, zeros, type FTensor } from '../tensor.js';
import type { FoldState } from './state.js';
import { broadcastTo, transpose2d } from './tensors.js';

type Handler = (s: FoldState, n: FNode, index: number) => void;

const f32 = Math.fround;

/** Copies `n` with new fields (keeps the name, so errors and the IR point at the source node). */
function node(n: FNode, op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, suffix = ''): FNode {
  return { op, name: suffix ? `${n.name}${suffix}` : n.name, inputs, outputs, attrs };
}

/** Add/Mul with the constant operand (if any) second, which is the canonical position. */
function emitCommutative(s: FoldState, n: FNode, op: 'Add' | 'Mul', a: string, b: string, out: string, suffix = ''): void {
  const [x, y] = s.isConst(a) && !s.isConst(b) ? [b, a] : [a, b];
  s.emit(node(n, op, [x, y], [out], {}, suffix));
}

/** Reshape to a fully resolved constant shape, or an alias when the shape does not change. */
function emitReshape(s: FoldState, n: FNode, x: string, out: string, outShape: number[], suffix = ''): void {
  const inShape = s.shape(x);
  if (sameDims(inShape, outShape)) {
    s.setAlias(out, x);
    return;
  }
  const shapeConst = s.constInt64(`${out}::shape`, outShape);
  // allowzero=1 keeps a genuine 0 dim from meaning "copy the input dim".
  const attrs: Record<string, AttrValue> = outShape.includes(0) ? { allowzero: 1 } : {};
  s.emit(node(n, 'Reshape', [x, shapeConst], [out], attrs, suffix), outShape, s.dtype(x));
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function constOrUndefined(s: FoldState, n: FNode): (FTensor | undefined)[] {
  return n.inputs.map((i) => (i ? s.consts.get(i) : undefined));
}

/** Outputs other than the first must be unused (optional statistics outputs and the like). */
function requireOnlyFirstOutput(s: FoldState, n: FNode, index: number, what: string): void {
  if (n.outputs.slice(1).some((o) => o !== '' && s.consumed.has(o))) s.ctx(n, index).unsupported(`using the ${what} output`);
}

const passThrough: Handler = (s, n) => s.emit(n);

const alias: Handler = (s, n) => s.setAlias(n.outputs[0], n.inputs[0]);

const handlers: Record<string, Handler> = {
  Identity: alias,

  Dropout: (s, n) => {
    s.setAlias(n.outputs[0], n.inputs[0]);
    // Inference-mode mask: all true, hence a constant.
    const mask = n.outputs[1];
    if (mask) {
      const t = zeros('bool', s.shape(n.inputs[0]));
      t.data.fill(1);
      s.consts.set(mask, t);
    }
  },

  Cast: (s, n, index) => {
    const to = dtypeFromOnnx(attrInt(n, 'to'));
    if (to === s.dtype(n.inputs[0])) alias(s, n, index);
    else s.emit(n);
  },

  Sum: (s, n) => {
    const ins = n.inputs.filter((i) => i !== '');
    // Dynamic operands first, so no Add of two constants is created.
    ins.sort((a, b) => Number(s.isConst(a)) - Number(s.isConst(b)));
    if (ins.length === 1) {
      s.setAlias(n.outputs[0], ins[0]);
      return;
    }
    let acc = ins[0];
    for (let k = 1; k < ins.length; k++) {
      const out = k === ins.length - 1 ? n.outputs[0] : s.fresh(`${n.outputs[0]}::sum${k}`);
      emitCommutative(s, n, 'Add', acc, ins[k], out, k === ins.length - 1 ? '' : `::sum${k}`);
      acc = out;
    }
  },

  Add: (s, n) => emitCommutative(s, n, 'Add', n.inputs[0], n.inputs[1], n.outputs[0]),
  Mul: (s, n) => emitCommutative(s, n, 'Mul', n.inputs[0], n.inputs[1], n.outputs[0]),

  // a − c → a + (−c); c − b → (−b) + c; a − b → a + (−b).
  Sub: (s, n) => {
    const [a, b] = n.inputs;
    const out = n.outputs[0];
    if (s.isConst(b)) {
      const c = s.consts.get(b)!;
      const neg: FTensor = { dtype: c.dtype, shape: [...c.shape], data: c.data.map((v) => -v) };
      s.emit(node(n, 'Add', [a, s.addConst(`${b}::neg`, neg)], [out]));
      return;
    }
    const nb = s.fresh(`${b}::neg`);
    s.emit(node(n, 'Neg', [b], [nb], {}, '::neg'), s.shape(b), s.dtype(b));
    emitCommutative(s, n, 'Add', a, nb, out);
  },

  // x / c → x · (1/c) for float constants (the reciprocal rounded to float32).
  Div: (s, n) => {
    const [a, b] = n.inputs;
    const c = s.consts.get(b);
    if (c && c.dtype === 'float32') {
      const inv: FTensor = { dtype: 'float32', shape: [...c.shape], data: c.data.map((v) => f32(1 / v)) };
      s.emit(node(n, 'Mul', [a, s.addConst(`${b}::recip`, inv)], [n.outputs[0]]));
    } else s.emit(n);
  },

  Reshape: (s, n) => emitReshape(s, n, n.inputs[0], n.outputs[0], s.shape(n.outputs[0])),
  Flatten: (s, n) => emitReshape(s, n, n.inputs[0], n.outputs[0], s.shape(n.outputs[0])),
  Squeeze: (s, n) => emitReshape(s, n, n.inputs[0], n.outputs[0], s.shape(n.outputs[0])),
  Unsqueeze: (s, n) => emitReshape(s, n, n.inputs[0], n.outputs[0], s.shape(n.outputs[0])),

  Expand: (s, n) => {
    if (sameDims(s.shape(n.inputs[0]), s.shape(n.outputs[0]))) s.setAlias(n.outputs[0], n.inputs[0]);
    else s.emit(n);
  },

  Transpose: (s, n) => {
    const r = s.shape(n.inputs[0]).length;
    const perm = hasAttr(n, 'perm') ? (n.attrs.perm as number[]) : Array.from({ length: r }, (_, i) => r - 1 - i);
    if (perm.every((p, i) => p === i)) s.setAlias(n.outputs[0], n.inputs[0]);
    else s.emit(node(n, 'Transpose', [n.inputs[0]], [n.outputs[0]], { perm: [...perm] }));
  },

  Concat: (s, n, index) => {
    const ins = n.inputs.filter((i) => i !== '');
    if (ins.length === 1) {
      s.setAlias(n.outputs[0], ins[0]);
      return;
    }
    const axis = s.ctx(n, index).axis(attrInt(n, 'axis'), s.shape(n.outputs[0]).length);
    s.emit(node(n, 'Concat', ins, [n.outputs[0]], { axis }));
  },

  Split: (s, n, index) => {
    const x = n.inputs[0];
    const inShape = s.shape(x);
    const axis = s.ctx(n, index).axis(attrInt(n, 'axis', 0), inShape.length);
    // The parts' sizes are in the output shapes the zero run found; no need to re-derive them.
    let at = 0;
    n.outputs.forEach((o, k) => {
      const len = o ? s.shape(o)[axis] : 0;
      if (o) {
        if (len === inShape[axis]) s.setAlias(o, x);
        else {
          const attrs = { starts: [at], ends: [at + len], axes: [axis], steps: [1] };
          s.emit(node(n, 'Slice', [x], [o], attrs, `::${k}`), s.shape(o), s.dtype(x));
        }
      }
      at += len;
    });
  },

  Slice: (s, n, index) => {
    const ctx = s.ctx(n, index);
    const x = n.inputs[0];
    if (n.inputs.slice(1).some((i) => i !== '' && !s.isConst(i))) ctx.unsupported('computed (non-constant) starts/ends/axes/steps');
    const { spec } = sliceArgs(ctx, constOrUndefined(s, n), s.shape(x));
    const inShape = s.shape(x);
    // Drop axes the slice leaves whole; nothing left means the slice is an identity.
    const keep = spec.axes.map((a, i) => !(spec.starts[i] === 0 && spec.ends[i] === inShape[a] && spec.steps[i] === 1));
    const pick = (v: number[]) => v.filter((_, i) => keep[i]);
    if (!keep.some(Boolean)) {
      s.setAlias(n.outputs[0], x);
      return;
    }
    const attrs = { starts: pick(spec.starts), ends: pick(spec.ends), axes: pick(spec.axes), steps: pick(spec.steps) };
    checkSliceSpec(ctx, inShape, attrs);
    s.emit(node(n, 'Slice', [x], [n.outputs[0]], attrs));
  },

  Gather: (s, n, index) => {
    const [data, idx] = n.inputs;
    const r = s.shape(data).length;
    const axis = s.ctx(n, index).axis(attrInt(n, 'axis', 0), r);
    let indices = idx;
    const c = s.consts.get(idx);
    if (c && c.data.some((v) => v < 0)) {
      const dim = s.shape(data)[axis];
      indices = s.addConst(`${idx}::wrapped`, { dtype: c.dtype, shape: [...c.shape], data: c.data.map((v) => (v < 0 ? v + dim : v)) });
    }
    s.emit(node(n, 'Gather', [data, indices], [n.outputs[0]], { axis }));
  },

  Gemm: (s, n, index) => rewriteGemm(s, n, index),

  MatMul: (s, n) => {
    const [a, b] = n.inputs;
    const w = s.consts.get(b);
    if (!s.isConst(a) && w && w.shape.length === 2 && w.dtype === 'float32' && s.dtype(a) === 'float32' && s.shape(a).length >= 1) {
      const [, N] = w.shape;
      const W = s.addConst(`${b}::T`, transpose2d(w));
      const B = s.addConst(`${n.outputs[0]}::bias`, zeros('float32', [N]));
      s.emit(node(n, 'Linear', [a, W, B], [n.outputs[0]]));
    } else s.emit(n);
  },

  Conv: (s, n, index) => {
    const [x, w, b] = n.inputs;
    const W = s.consts.get(w);
    if (!W) {
      s.emit(n);
      return;
    }
    const group = attrInt(n, 'group', 1);
    const geo = convGeometry(s.ctx(n, index), s.shape(x), W.shape, group);
    const bias = b || s.addConst(`${n.outputs[0]}::bias`, zeros('float32', [W.shape[0]]));
    s.emit(
      node(n, 'Conv', [x, w, bias], [n.outputs[0]], {
        kernel_shape: geo.kernel,
        strides: geo.strides,
        dilations: geo.dilations,
        pads: [...geo.padsBegin, ...geo.padsEnd],
        group,
      }),
    );
  },

  MaxPool: (s, n, index) => rewritePool(s, n, index),
  AveragePool: (s, n, index) => rewritePool(s, n, index),

  BatchNormalization: (s, n, index) => {
    requireOnlyFirstOutput(s, n, index, 'training statistics');
    s.emit(node(n, n.op, n.inputs, [n.outputs[0]], n.attrs));
  },

  LayerNormalization: (s, n, index) => rewriteLayerNorm(s, n, index),
  Softmax: (s, n, index) => rewriteSoftmax(s, n, index),

  Clip: (s, n, index) => {
    if (n.inputs.slice(1).some((i) => i !== '' && !s.isConst(i))) {
      s.emit(n); // dynamic bounds: left for the canonical check to report
      return;
    }
    const { min, max } = clipBounds(s.ctx(n, index), constOrUndefined(s, n));
    s.emit(node(n, 'Clip', [n.inputs[0]], [n.outputs[0]], { min, max }));
  },
};

/** Gemm: with constant B it becomes Linear (W = αB in [N][K] layout, bias βC when C is a vector,
 *  else an Add of βC); with dynamic B it becomes MatMul (plus Mul by α and Add of βC). transA is
 *  a Transpose of the input. */
function rewriteGemm(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  const [a0, b, c] = n.inputs;
  const alpha = attrFloat(n, 'alpha', 1);
  const beta = attrFloat(n, 'beta', 1);
  const transA = attrInt(n, 'transA', 0) !== 0;
  const transB = attrInt(n, 'transB', 0) !== 0;
  const out = n.outputs[0];
  const [M, N] = s.shape(out);
  if (s.isConst(a0)) ctx.unsupported('a constant A with a computed B');
  let a = a0;
  if (transA) {
    const [r, k] = s.shape(a0);
    a = s.fresh(`${a0}::T`);
    s.emit(node(n, 'Transpose', [a0], [a], { perm: [1, 0] }, '::transA'), [k, r], 'float32');
  }
  const C = c ? s.consts.get(c) : undefined;
  const cIsVector = C !== undefined && C.data.length > 0 && (C.data.length === 1 || (C.data.length === N && C.shape[C.shape.length - 1] === N));
  const needsAdd = c !== '' && c !== undefined && !cIsVector;
  const mainOut = needsAdd ? s.fresh(`${out}::ab`) : out;

  const B = s.consts.get(b);
  if (B) {
    const w = transB ? B : transpose2d(B);
    const W = s.addConst(`${b}::W`, { dtype: 'float32', shape: [...w.shape], data: w.data.map((v) => f32(alpha * v)) });
    const bias = cIsVector ? broadcastTo(C!, [N]).data.map((v) => f32(beta * v)) : new Float32Array(N);
    const bName = s.addConst(`${out}::bias`, tensorFrom('float32', [N], bias));
    s.emit(node(n, 'Linear', [a, W, bName], [mainOut]), [M, N], 'float32');
  } else {
    let bb = b;
    if (transB) {
      const [r, k] = s.shape(b);
      bb = s.fresh(`${b}::T`);
      s.emit(node(n, 'Transpose', [b], [bb], { perm: [1, 0] }, '::transB'), [k, r], 'float32');
    }
    const scaled = alpha !== 1 || cIsVector;
    const mm = scaled ? s.fresh(`${out}::mm`) : mainOut;
    s.emit(node(n, 'MatMul', [a, bb], [mm], {}, scaled ? '::mm' : ''), [M, N], 'float32');
    let cur = mm;
    if (alpha !== 1) {
      const o = cIsVector ? s.fresh(`${out}::alpha`) : mainOut;
      s.emit(node(n, 'Mul', [cur, s.addConst(`${out}::alpha`, tensorFrom('float32', [], [alpha]))], [o], {}, '::alpha'), [M, N], 'float32');
      cur = o;
    }
    if (cIsVector) {
      const bias = broadcastTo(C!, [N]).data.map((v) => f32(beta * v));
      s.emit(node(n, 'Add', [cur, s.addConst(`${out}::bias`, tensorFrom('float32', [N], bias))], [mainOut], {}, '::bias'), [M, N], 'float32');
    }
  }
  if (!needsAdd) return;
  // C that is not a vector: a separate Add of βC (constant) or of C·β (computed).
  if (C) {
    const scaledC = s.addConst(`${c}::beta`, { dtype: 'float32', shape: [...C.shape], data: C.data.map((v) => f32(beta * v)) });
    s.emit(node(n, 'Add', [mainOut, scaledC], [out], {}, '::C'), [M, N], 'float32');
    return;
  }
  let cc = c;
  if (beta !== 1) {
    cc = s.fresh(`${c}::beta`);
    s.emit(node(n, 'Mul', [c, s.addConst(`${c}::betaConst`, tensorFrom('float32', [], [beta]))], [cc], {}, '::beta'), s.shape(c), 'float32');
  }
  s.emit(node(n, 'Add', [mainOut, cc], [out], {}, '::C'), [M, N], 'float32');
}

/**
 * MaxPool/AveragePool with explicit geometry. ceil_mode becomes extra end padding (same output
 * size by construction); that is exact for MaxPool and for AveragePool without count_include_pad,
 * whose divisor ignores padding. With count_include_pad the divisor would change, so that case is
 * unsupported when ceil_mode actually adds a window.
 */
function rewritePool(s: FoldState, n: FNode, index: number): void {
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

/** LayerNormalization over the last axis only, with constant [D] scale and bias: an earlier axis
 *  is handled by reshaping the normalized dims into one. */
function rewriteLayerNorm(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  requireOnlyFirstOutput(s, n, index, 'Mean/InvStdDev');
  const [x, scale, bias] = n.inputs;
  const shape = s.shape(x);
  const r = shape.length;
  const axis = ctx.axis(attrInt(n, 'axis', -1), r);
  const epsilon = attrFloat(n, 'epsilon', 1e-5);
  const normShape = shape.slice(axis);
  const D = sizeOf(normShape);
  const B = bias ? s.consts.get(bias) : undefined;
  if (bias && !B) ctx.unsupported('a computed (non-constant) B');
  const S = s.consts.get(scale) ?? ctx.unsupported('a computed (non-constant) Scale');
  const flat = (t: FTensor | undefined, what: string) =>
    t ? s.addConst(`${what}::flat`, tensorFrom('float32', [D], broadcastTo(t, normShape).data)) : s.addConst(`${n.outputs[0]}::B`, zeros('float32', [D]));
  const sc = S.shape.length === 1 && S.shape[0] === D ? scale : flat(S, scale);
  const bi = B && B.shape.length === 1 && B.shape[0] === D ? bias : flat(B, bias || 'B');
  const attrs = { axis: -1, epsilon };
  if (axis === r - 1) {
    s.emit(node(n, 'LayerNormalization', [x, sc, bi], [n.outputs[0]], attrs));
    return;
  }
  const flatShape = [...shape.slice(0, axis), D];
  const x2 = s.fresh(`${x}::rows`);
  emitReshape(s, n, x, x2, flatShape, '::in');
  const y2 = s.fresh(`${n.outputs[0]}::rows`);
  s.emit(node(n, 'LayerNormalization', [s.resolve(x2), sc, bi], [y2], attrs), flatShape, 'float32');
  emitReshape(s, n, y2, n.outputs[0], shape, '::out');
}

/** Softmax over the last axis only. Opset < 13 semantics (normalize over the flattened dims from
 *  `axis` on) become Reshape → Softmax → Reshape; a single inner axis becomes Transpose → Softmax →
 *  Transpose (the swap of that axis with the last is its own inverse). */
function rewriteSoftmax(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  const x = n.inputs[0];
  const out = n.outputs[0];
  const shape = s.shape(x);
  const r = shape.length;
  const legacy = s.opset < 13;
  const axis = ctx.axis(attrInt(n, 'axis', legacy ? 1 : -1), r);
  if (axis === r - 1) {
    s.emit(node(n, 'Softmax', [x], [out], { axis: -1 }));
    return;
  }
  if (legacy) {
    const flatShape = [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))];
    const x2 = s.fresh(`${x}::rows`);
    emitReshape(s, n, x, x2, flatShape, '::in');
    const y2 = s.fresh(`${out}::rows`);
    s.emit(node(n, 'Softmax', [s.resolve(x2)], [y2], { axis: -1 }), flatShape, 'float32');
    emitReshape(s, n, y2, out, shape, '::out');
    return;
  }
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[axis], perm[r - 1]] = [perm[r - 1], perm[axis]];
  const tShape = perm.map((p) => shape[p]);
  const xt = s.fresh(`${x}::last`);
  s.emit(node(n, 'Transpose', [x], [xt], { perm }, '::in'), tShape, 'float32');
  const yt = s.fresh(`${out}::last`);
  s.emit(node(n, 'Softmax', [xt], [yt], { axis: -1 }), tShape, 'float32');
  s.emit(node(n, 'Transpose', [yt], [out], { perm: [...perm] }, '::out'), shape, 'float32');
}

/** Runs the first rewrite pass over the dynamic nodes (in topological order). */
export function canonicalizeNodes(s: FoldState, dynamic: readonly { node: FNode; index: number }[]): void {
  for (const { node: n0, index } of dynamic) {
    const n: FNode = { ...n0, inputs: n0.inputs.map((i) => (i ? s.resolve(i) : i)) };
    (handlers[n.op] ?? passThrough)(s, n, index);
  }
}
