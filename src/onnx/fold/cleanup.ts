/** Final structural passes of folding: graph outputs keep their source names, dead nodes and
 *  unread constants go. */
import { OnnxGraphError } from '../errors.js';
import type { FNode } from '../graph.js';
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
