/** Final structural passes of folding: graph outputs keep their source names, dead nodes and
 *  unread constants go. */
import { OnnxGraphError } from '../errors.js';
import { attrInt, type FNode, type GraphInput } from '../graph.js';
import type { FoldState } from './state.js';

/**
 * A removed Identity (or no-op Reshape…) can leave a graph output aliased to another tensor.
 * Callers look outputs up by their ONNX names, so the producer's output is renamed back; when the
 * aliased tensor cannot be renamed (it is a graph input or another output) a no-op Reshape writes
 * the output name.
 */
export function restoreOutputNames(s: FoldState, outputs: readonly string[]): void {
  const original = new Set(outputs);
  const renamed = new Map<string, string>();
  for (const o of outputs) {
    const r0 = s.resolve(o);
    if (s.isConst(r0)) {
      throw new OnnxGraphError(`Graph output "${o}" is a constant: it does not depend on any input`, {
        hint: 'Such a model has nothing to compute; check that the right output was exported.',
      });
    }
    if (r0 === o) continue;
    // Two outputs aliasing one tensor: the second copies the first, which now has the name.
    const r = renamed.get(r0) ?? r0;
    const producer = s.nodes.find((n) => n.outputs.includes(r));
    if (producer && !original.has(r)) {
      renameTensor(s.nodes, r, o);
      renamed.set(r, o);
      s.shapes.set(o, s.shape(r));
      s.dtypes.set(o, s.dtype(r));
    } else {
      const shape = s.shape(r);
      const sc = s.constInt64(`${o}::shape`, shape);
      s.nodes.push({ op: 'Reshape', name: `${o}::copy`, inputs: [r, sc], outputs: [o], attrs: shape.includes(0) ? { allowzero: 1 } : {} });
      s.shapes.set(o, shape);
      s.dtypes.set(o, s.dtype(r));
    }
  }
}

function renameTensor(nodes: FNode[], from: string, to: string): void {
  for (const n of nodes) {
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    n.outputs = n.outputs.map((o) => (o === from ? to : o));
  }
}

/** Keeps only nodes some graph output depends on; returns the set of live tensor names. */
export function removeDeadNodes(s: FoldState, outputs: readonly string[]): Set<string> {
  const live = new Set(outputs);
  const kept: FNode[] = [];
  for (let i = s.nodes.length - 1; i >= 0; i--) {
    const n = s.nodes[i];
    if (!n.outputs.some((o) => o && live.has(o))) continue;
    kept.push(n);
    for (const t of n.inputs) if (t) live.add(t);
  }
  s.nodes = kept.reverse();
  return live;
}

/** Drops constants no node reads. */
export function pruneConsts(s: FoldState): void {
  const read = new Set<string>();
  for (const n of s.nodes) for (const t of n.inputs) if (t) read.add(t);
  for (const name of [...s.consts.keys()]) if (!read.has(name)) s.consts.delete(name);
}

/**
 * A graph input of an integer type that is read only by Casts to float32 — Hugging Face's int64
 * attention_mask, which the model turns into `mask.to(float)` first — becomes a float32 input and
 * the Casts go: the run quantizes it like any float input (a 0/1 mask is exact in int8). Integer
 * values up to 2^24 are exact in float32, so the function is unchanged. Returns the inputs, retyped.
 */
export function floatCastInputs(s: FoldState, inputs: readonly GraphInput[], outputs: readonly string[]): GraphInput[] {
  return inputs.map((inp) => {
    if (inp.dtype === 'float32' || inp.dtype === 'bool' || outputs.includes(inp.name)) return inp;
    const readers = s.nodes.filter((n) => n.inputs.includes(inp.name));
    const castOnly = readers.every((n) => n.op === 'Cast' && attrInt(n, 'to') === 1 && !outputs.includes(n.outputs[0]));
    if (readers.length === 0 || !castOnly) return inp;
    const casts = new Set(readers);
    const castOut = new Set(readers.map((n) => n.outputs[0]));
    s.nodes = s.nodes.filter((n) => !casts.has(n)).map((n) => ({ ...n, inputs: n.inputs.map((i) => (castOut.has(i) ? inp.name : i)) }));
    s.dtypes.set(inp.name, 'float32');
    return { ...inp, dtype: 'float32' };
  });
}
