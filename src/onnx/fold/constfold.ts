/**
 * Constant propagation. A tensor is constant when it is an initializer, the output of a Constant
 * node, the output of a Shape node (every shape is known once input shapes are fixed), or the
 * output of a node whose inputs are all constant. Constant values are taken from one run of the
 * whole graph on zero inputs: a constant does not depend on the inputs, so that run computed
 * exactly its value, with no second evaluator to keep in sync.
 */
import type { FloatGraph, FNode } from '../graph.js';
import type { FTensor } from '../tensor.js';

export interface ConstFoldResult {
  consts: Map<string, FTensor>;
  /** Nodes that still compute something from the inputs, with their index in the source graph. */
  dynamic: { node: FNode; index: number }[];
}

export function propagateConstants(graph: FloatGraph, values: ReadonlyMap<string, FTensor>): ConstFoldResult {
  const consts = new Map(graph.consts);
  const dynamic: { node: FNode; index: number }[] = [];
  graph.nodes.forEach((node, index) => {
    const constant = node.op === 'Constant' || node.op === 'Shape' || node.inputs.every((i) => i === '' || consts.has(i));
    if (!constant) {
      dynamic.push({ node, index });
      return;
    }
    for (const o of node.outputs) {
      const v = o && values.get(o);
      if (v) consts.set(o, v);
    }
  });
  return { consts, dynamic };
}
