/** LayerNormalization and Softmax moved onto the last axis, the only one the integer ops take. */
import { attrFloat, attrInt, type FNode } from '../graph.js';
import { sizeOf, tensorFrom, zeros, type FTensor } from '../tensor.js';
import { emitReshape, node, requireOnlyFirstOutput } from './emit.js';
import type { FoldState } from './state.js';
import { broadcastTo } from './tensors.js';

/** LayerNormalization over the last axis only, with constant [D] scale and bias: an earlier axis
 *  is handled by reshaping the normalized dims into one. */
export function rewriteLayerNorm(s: FoldState, n: FNode, index: number): void {
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
export function rewriteSoftmax(s: FoldState, n: FNode, index: number): void {
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
