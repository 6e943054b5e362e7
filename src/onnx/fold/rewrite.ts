/**
 * Node-by-node canonicalization (the first rewrite pass). Each handler replaces one source node by
 * zero or more canonical nodes, reading the shapes the zero run established. Fusions across nodes
 * (bias adds, BatchNormalization) come after, in fuse.ts.
 */
import { attrInt, hasAttr, type FNode } from '../graph.js';
import { convGeometry } from '../ops/conv.js';
import { clipBounds } from '../ops/elementwise.js';
import { checkSliceSpec, sliceArgs } from '../ops/select.js';
import { dtypeFromOnnx, zeros, type FTensor } from '../tensor.js';
import { constOrUndefined, emitCommutative, emitReshape, node, requireOnlyFirstOutput, sameDims } from './emit.js';
import { rewriteGemm } from './rewrite-gemm.js';
import { rewriteLayerNorm, rewriteSoftmax } from './rewrite-lastaxis.js';
import { rewritePool } from './rewrite-pool.js';
import { rewriteRnn } from './rewrite-rnn.js';
import { rewriteWhere } from './rewrite-where.js';
import { rewriteConvTranspose, rewriteDynamicDiv, rewriteExtremum, rewriteInstanceNorm, rewritePRelu, rewriteReduce, rewriteResize } from './rewrite-more.js';
import type { FoldState } from './state.js';
import { transpose2d } from './tensors.js';

type Handler = (s: FoldState, n: FNode, index: number) => void;

const f32 = Math.fround;

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
  // A mask test: the constant second (Equal is symmetric).
  Equal: (s, n) => {
    const [a, b] = n.inputs;
    s.emit(s.isConst(a) && !s.isConst(b) ? node(n, 'Equal', [b, a], [n.outputs[0]]) : n);
  },
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
    } else if (!s.isConst(b) && s.dtype(b) === 'float32') rewriteDynamicDiv(s, n);
    else s.emit(n);
  },

  Where: (s, n, index) => rewriteWhere(s, n, index),
  Max: (s, n, index) => rewriteExtremum(s, n, index),
  Min: (s, n, index) => rewriteExtremum(s, n, index),
  ReduceSum: (s, n, index) => rewriteReduce(s, n, index),
  ReduceMean: (s, n, index) => rewriteReduce(s, n, index),
  ReduceMax: (s, n, index) => rewriteReduce(s, n, index),
  PRelu: (s, n, index) => rewritePRelu(s, n, index),
  InstanceNormalization: (s, n, index) => rewriteInstanceNorm(s, n, index),
  GroupNormalization: (s, n, index) => rewriteInstanceNorm(s, n, index),
  Resize: (s, n, index) => rewriteResize(s, n, index),
  GRU: (s, n, index) => rewriteRnn(s, n, index),
  ConvTranspose: (s, n, index) => rewriteConvTranspose(s, n, index),
  LSTM: (s, n, index) => rewriteRnn(s, n, index),
  Upsample: (s, n, index) => rewriteResize(s, n, index),

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

/** Runs the first rewrite pass over the dynamic nodes (in topological order). */
export function canonicalizeNodes(s: FoldState, dynamic: readonly { node: FNode; index: number }[]): void {
  for (const { node: n0, index } of dynamic) {
    const n: FNode = { ...n0, inputs: n0.inputs.map((i) => (i ? s.resolve(i) : i)) };
    (handlers[n.op] ?? passThrough)(s, n, index);
  }
}
