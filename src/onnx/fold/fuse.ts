/**
 * Fusions across nodes, after canonicalization: constant bias adds into the preceding Linear/Conv,
 * and BatchNormalization into the preceding Conv/Linear (or into a Mul and an Add). A producer is
 * only rewritten when the fused node is its sole reader and its output is not a graph output, so
 * no other reader can observe the change.
 */
import { consumers, type FNode } from '../graph.js';
import type { FTensor } from '../tensor.js';
import type { FoldState } from './state.js';
import { axisValues, isAxisVector } from './tensors.js';

const f32 = Math.fround;

/** Sole reader of `name` (an index into s.nodes), if it has exactly one and is not a graph output. */
function soleReader(s: FoldState, outs: ReadonlySet<string>, name: string): number | undefined {
  if (outs.has(name)) return undefined;
  const users = consumers(s.nodes).get(name) ?? [];
  return users.length === 1 ? users[0] : undefined;
}

/** Output channel axis of a Linear (last) or Conv (1) output. */
function channelAxis(s: FoldState, n: FNode): number {
  return n.op === 'Linear' ? s.shape(n.outputs[0]).length - 1 : 1;
}

/** Linear/Conv followed by Add(·, constant per-channel vector) → one node with the summed bias. */
export function fuseBiasAdds(s: FoldState, outs: ReadonlySet<string>): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < s.nodes.length && !changed; i++) {
      const L = s.nodes[i];
      if ((L.op !== 'Linear' && L.op !== 'Conv') || !s.isConst(L.inputs[2])) continue;
      const o = L.outputs[0];
      const j = soleReader(s, outs, o);
      if (j === undefined) continue;
      const A = s.nodes[j];
      if (A.op !== 'Add') continue;
      const other = A.inputs[0] === o ? A.inputs[1] : A.inputs[0];
      const c = s.consts.get(other);
      const outShape = s.shape(o);
      const axis = channelAxis(s, L);
      if (!c || c.dtype !== 'float32' || other === o || !isAxisVector(c, outShape, axis)) continue;
      const b = s.consts.get(L.inputs[2])!;
      const cv = axisValues(c, outShape[axis]);
      const bias: FTensor = { dtype: 'float32', shape: [outShape[axis]], data: Float32Array.from(cv, (v, k) => f32(b.data[k] + v)) };
      const bName = s.addConst(`${A.outputs[0]}::bias`, bias);
      s.nodes[i] = { ...L, name: `${L.name}+${A.name}`, inputs: [L.inputs[0], L.inputs[1], bName], outputs: [A.outputs[0]] };
      s.nodes.splice(j, 1);
      changed = true;
    }
  }
}

/** BatchNormalization's per-channel affine map in onnxruntime's float32 order:
 *  y = x·k + t with k = γ/√(σ²+ε), t = β − μ·k. */
function bnAffine(s: FoldState, bn: FNode): { k: Float32Array; t: Float32Array } | undefined {
  const params = bn.inputs.slice(1, 5).map((p) => s.consts.get(p));
  if (params.some((p) => !p)) return undefined;
  const [scale, bias, mean, variance] = params as FTensor[];
  const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
  const C = scale.data.length;
  const k = new Float32Array(C);
  const t = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    k[c] = f32(f32(1 / f32(Math.sqrt(f32(variance.data[c] + eps)))) * scale.data[c]);
    t[c] = f32(bias.data[c] - f32(mean.data[c] * k[c]));
  }
  return { k, t };
}

/**
 * Each BatchNormalization: folded into a preceding Conv, or a Linear with a 2-D output (whose
 * channel axis 1 is its output axis), as W' = W·k per output channel and b' = b·k + t; otherwise
 * replaced by Mul(x, k[C,1,…]) then Add(·, t[C,1,…]). Computed parameters are left as they are
 * (reported by the canonical check).
 */
export function foldBatchNorms(s: FoldState, outs: ReadonlySet<string>, index: (n: FNode) => number): void {
  for (let i = 0; i < s.nodes.length; i++) {
    const bn = s.nodes[i];
    if (bn.op !== 'BatchNormalization') continue;
    const { k, t } = bnAffine(s, bn) ?? s.ctx(bn, index(bn)).unsupported('computed (non-constant) scale, bias, mean or variance');
    const x = bn.inputs[0];
    const xShape = s.shape(x);
    const j = s.nodes.findIndex((n) => n.outputs.includes(x));
    const P = j >= 0 ? s.nodes[j] : undefined;
    const foldable =
      P !== undefined &&
      (P.op === 'Conv' || (P.op === 'Linear' && xShape.length === 2)) &&
      s.isConst(P.inputs[1]) &&
      s.isConst(P.inputs[2]) &&
      soleReader(s, outs, x) === i;
    if (foldable) {
      const W = s.consts.get(P.inputs[1])!;
      const b = s.consts.get(P.inputs[2])!;
      const M = W.shape[0];
      const per = W.data.length / M;
      const w2: FTensor = { dtype: 'float32', shape: [...W.shape], data: Float32Array.from(W.data, (v, q) => f32(v * k[Math.floor(q / per)])) };
      const b2: FTensor = { dtype: 'float32', shape: [M], data: Float32Array.from(b.data, (v, m) => f32(f32(v * k[m]) + t[m])) };
      const wName = s.addConst(`${P.inputs[1]}::bn`, w2);
      const bName = s.addConst(`${bn.outputs[0]}::bias`, b2);
      s.nodes[j] = { ...P, name: `${P.name}+${bn.name}`, inputs: [P.inputs[0], wName, bName], outputs: [bn.outputs[0]] };
      s.nodes.splice(i, 1);
      i--;
      continue;
    }
    const C = k.length;
    const pshape = [C, ...xShape.slice(2).map(() => 1)];
    const kName = s.addConst(`${bn.name}::scale`, { dtype: 'float32', shape: pshape, data: k });
    const tName = s.addConst(`${bn.name}::shift`, { dtype: 'float32', shape: pshape, data: t });
    const mid = s.fresh(`${bn.outputs[0]}::scaled`);
    s.shapes.set(mid, xShape);
    s.dtypes.set(mid, 'float32');
    s.nodes.splice(
      i,
      1,
      { op: 'Mul', name: `${bn.name}::scale`, inputs: [x, kName], outputs: [mid], attrs: {} },
      { op: 'Add', name: bn.name, inputs: [mid, tName], outputs: [bn.outputs[0]], attrs: {} },
    );
    i++;
  }
}
