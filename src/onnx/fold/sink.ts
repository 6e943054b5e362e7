/**
 * Masks built at run time (fold pass after cleanup). Exporters build attention masks from an input
 * with elementwise ops separated by data movement, e.g. torch's key padding mask:
 *
 *   mask → Equal(·, 0) → Reshape → Expand (over heads) → Reshape → Where(·, −inf, 0) → Mul(·, c) → Add to the scores
 *
 * The elementwise steps are functions of one value, so they commute with the data movement. This
 * pass moves each such step ahead of the Reshape/Expand/Transpose feeding it (repeatedly), so the
 * whole function of `mask` ends up in one chain the quantizer turns into one lookup table, followed
 * by the data movement:
 *
 *   mask → [Equal → Where → Mul] (one table) → Reshape → Expand → Reshape → Add
 *
 * Only mask chains move (the step's input is bool, or derives from a bool through Where / scalar
 * Mul/Add / moves): other graphs are left exactly as they were. A constant of one repeated value
 * (ConstantOfShape's zeros) is replaced by a scalar so the moved step keeps its input's shape.
 */
import type { FNode } from '../graph.js';
import type { FoldState } from './state.js';

const MOVES = new Set(['Reshape', 'Expand', 'Transpose']);
const STEPS = new Set(['Equal', 'Where', 'Cast', 'Not', 'Mul', 'Add', 'Neg']);

export function sinkMaskChains(s: FoldState, outputs: readonly string[]): void {
  const outs = new Set(outputs);
  const uniform = (t: string | undefined) => {
    const v = t ? s.consts.get(t) : undefined;
    return v !== undefined && v.data.length > 0 && v.data.every((x) => x === v.data[0] || (Number.isNaN(x) && Number.isNaN(v.data[0])));
  };
  /** A step of one dynamic operand (input 0) with only one-valued constants otherwise. */
  const isStep = (n: FNode) =>
    STEPS.has(n.op) && n.outputs.length === 1 && !s.isConst(n.inputs[0]) && n.inputs.slice(1).every((i) => i === '' || uniform(i));
  for (let guard = 0; guard < 10_000; guard++) {
    const producer = new Map<string, FNode>();
    const readers = new Map<string, number>();
    for (const n of s.nodes) {
      for (const o of n.outputs) if (o) producer.set(o, n);
      for (const i of n.inputs) if (i) readers.set(i, (readers.get(i) ?? 0) + 1);
    }
    const memo = new Map<string, boolean>();
    const maskish = (t: string): boolean => {
      if (memo.has(t)) return memo.get(t)!;
      memo.set(t, false);
      let r = s.dtypes.get(t) === 'bool';
      const p = producer.get(t);
      if (!r && p && (p.op === 'Where' || MOVES.has(p.op) || ((p.op === 'Mul' || p.op === 'Add' || p.op === 'Neg') && isStep(p)))) r = maskish(p.inputs[0]);
      memo.set(t, r);
      return r;
    };
    let moved = false;
    for (let iu = 0; iu < s.nodes.length && !moved; iu++) {
      const u = s.nodes[iu];
      if (!isStep(u)) continue;
      const x = u.inputs[0];
      const m = producer.get(x);
      if (!m || !MOVES.has(m.op) || s.isConst(m.inputs[0]) || readers.get(x) !== 1 || outs.has(x) || !maskish(x)) continue;
      const src = m.inputs[0];
      const early = s.fresh(`${u.outputs[0]}::early`);
      const scalars = u.inputs.slice(1).map((i) => {
        if (i === '') return i;
        const c = s.consts.get(i)!;
        return c.data.length === 1 && c.shape.length === 0 ? i : s.addConst(`${i}::scalar`, { dtype: c.dtype, shape: [], data: c.data.slice(0, 1) });
      });
      const u2: FNode = { ...u, inputs: [src, ...scalars], outputs: [early] };
      const m2: FNode = { ...m, inputs: [early, ...m.inputs.slice(1)], outputs: [u.outputs[0]] };
      s.shapes.set(early, s.shape(src));
      s.dtypes.set(early, s.dtype(u.outputs[0]));
      const im = s.nodes.indexOf(m);
      s.nodes[im] = u2;
      s.nodes[iu] = m2;
      moved = true;
    }
    if (!moved) return;
  }
}
