/** Gemm → Linear (constant B) or MatMul (computed B), with α, β and C folded in. */
import { attrFloat, attrInt, type FNode } from '../graph.js';
import { tensorFrom } from '../tensor.js';
import { node } from './emit.js';
import type { FoldState } from './state.js';
import { broadcastTo, transpose2d } from './tensors.js';

const f32 = Math.fround;

/** Gemm: with constant B it becomes Linear (W = αB in [N][K] layout, bias βC when C is a vector,
 *  else an Add of βC); with dynamic B it becomes MatMul (plus Mul by α and Add of βC). transA is
 *  a Transpose of the input. */
export function rewriteGemm(s: FoldState, n: FNode, index: number): void {
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
