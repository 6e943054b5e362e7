/**
 * Folding: a loaded ONNX graph plus concrete input shapes becomes a canonical float graph (the
 * quantizer's input). Steps:
 *  1. run the graph once on zeros of the given shapes: every tensor's shape and dtype, and the
 *     value of every tensor that does not depend on the inputs (robust shape inference);
 *  2. constant propagation (Constant, Shape of known shapes, nodes with all-constant inputs);
 *  3. node-by-node canonical rewrites (fold/rewrite.ts);
 *  4. fusions: bias adds into Linear/Conv, BatchNormalization into Conv/Linear (fold/fuse.ts);
 *  5. cleanup: output names, dead nodes, unread constants (fold/cleanup.ts);
 *  6. the canonical check (fold/canonical.ts), then a run of the folded graph for final shapes,
 *     whose output shapes must equal the source graph's.
 * The folded graph computes the same function as the source (tests compare both runs).
 */
import { OnnxGraphError, OnnxShapeError, type OnnxUnsupportedOpError } from './errors.js';
import { describeTensor, runFloat, type ExecLimits } from './floatexec.js';
import type { FloatGraph, GraphInput } from './graph.js';
import type { OnnxModel } from './load.js';
import { checkShape, MAX_ELEMENTS, shapeStr, zeros, type DType, type FTensor } from './tensor.js';
import { CANONICAL_OPS, checkCanonical } from './fold/canonical.js';
import { floatCastInputs, pruneConsts, removeDeadNodes, restoreOutputNames } from './fold/cleanup.js';
import { propagateConstants } from './fold/constfold.js';
import { foldBatchNorms, fuseBiasAdds } from './fold/fuse.js';
import { canonicalizeNodes } from './fold/rewrite.js';
import { sinkMaskChains } from './fold/sink.js';
import { FoldState } from './fold/state.js';

export { CANONICAL_OPS } from './fold/canonical.js';

export interface FoldedGraph extends FloatGraph {
  /** Shape of every tensor: inputs, constants, node outputs. */
  shapes: Map<string, number[]>;
  dtypes: Map<string, DType>;
}

export interface FoldOptions {
  /** Resource limits for the shape-inference runs (defaults: DEFAULT_LIMITS). */
  limits?: Partial<ExecLimits>;
  /** Check mode: nodes left in a non-canonical form are reported here instead of thrown (the
   *  folded graph then still runs in float, but does not quantize as a whole). */
  collect?: (e: OnnxUnsupportedOpError) => void;
}

/** Concrete shapes for the graph inputs, checked against the declared ones. */
function resolveInputs(g: FloatGraph, given: Record<string, number[]>, maxElements: number): GraphInput[] {
  const names = new Set(g.inputs.map((i) => i.name));
  for (const k of Object.keys(given)) {
    if (!names.has(k)) {
      throw new OnnxShapeError({ input: k, expected: `one of the graph inputs (${[...names].join(', ')})`, got: 'a shape for an unknown input' });
    }
  }
  return g.inputs.map((inp) => {
    const expected = describeTensor(inp);
    let shape = given[inp.name];
    if (shape === undefined) {
      if (!inp.shape.every((d): d is number => typeof d === 'number')) {
        throw new OnnxShapeError({ input: inp.name, expected, got: 'no shape', hint: 'Pass a concrete shape (batch dim included) for every input with named dims.' });
      }
      shape = inp.shape;
    }
    const ok =
      Array.isArray(shape) &&
      shape.length === inp.shape.length &&
      shape.every((d, i) => Number.isSafeInteger(d) && d >= 1 && (typeof inp.shape[i] !== 'number' || inp.shape[i] === d));
    if (!ok) throw new OnnxShapeError({ input: inp.name, expected, got: `shape ${Array.isArray(shape) ? shapeStr(shape) : String(shape)}` });
    checkShape(shape, `input "${inp.name}"`, maxElements);
    return { name: inp.name, dtype: inp.dtype, shape: [...shape] };
  });
}

function shapesOf(values: ReadonlyMap<string, FTensor>): { shapes: Map<string, number[]>; dtypes: Map<string, DType> } {
  const shapes = new Map<string, number[]>();
  const dtypes = new Map<string, DType>();
  for (const [k, v] of values) {
    shapes.set(k, [...v.shape]);
    dtypes.set(k, v.dtype);
  }
  return { shapes, dtypes };
}

export function foldGraph(model: OnnxModel, inputShapes: Record<string, number[]>, opts: FoldOptions = {}): FoldedGraph {
  const g = model.graph;
  const inputs = resolveInputs(g, inputShapes, opts.limits?.maxElements ?? MAX_ELEMENTS);
  const src: FloatGraph = { ...g, inputs, opset: model.opset };
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, zeros(i.dtype, i.shape as number[])]));
  const values = runFloat(src, feeds, { keep: 'all', limits: opts.limits });
  const { shapes, dtypes } = shapesOf(values);

  const { consts, dynamic } = propagateConstants(src, values);
  const consumed = new Set<string>(g.outputs);
  const names = new Set<string>([...g.consts.keys(), ...inputs.map((i) => i.name), ...g.outputs]);
  for (const n of g.nodes) {
    for (const t of n.inputs) if (t) (consumed.add(t), names.add(t));
    for (const t of n.outputs) if (t) names.add(t);
  }
  const s = new FoldState(model.opset, consts, shapes, dtypes, names, consumed, CANONICAL_OPS);
  canonicalizeNodes(s, dynamic);

  const outs = new Set(g.outputs.map((o) => s.resolve(o)));
  const sourceIndex = new Map(dynamic.map(({ node, index }) => [node.name, index]));
  fuseBiasAdds(s, outs);
  foldBatchNorms(s, outs, (n) => sourceIndex.get(n.name) ?? -1);
  fuseBiasAdds(s, outs);

  restoreOutputNames(s, g.outputs);
  removeDeadNodes(s, g.outputs);
  const foldedInputs = floatCastInputs(s, inputs, g.outputs);
  sinkMaskChains(s, g.outputs);
  removeDeadNodes(s, g.outputs);
  pruneConsts(s);

  const folded: FloatGraph = { inputs: foldedInputs, outputs: [...g.outputs], nodes: s.nodes, consts: s.consts, opset: model.opset };
  checkCanonical(folded, opts.collect);
  const foldedFeeds = Object.fromEntries(foldedInputs.map((i) => [i.name, zeros(i.dtype, i.shape as number[])]));
  const after = shapesOf(runFloat(folded, foldedFeeds, { keep: 'all', limits: opts.limits }));
  for (const o of g.outputs) {
    const a = shapes.get(o);
    const b = after.shapes.get(o);
    if (!a || !b || shapeStr(a) !== shapeStr(b)) {
      throw new OnnxGraphError(`Internal: folding changed the shape of output "${o}" from ${a && shapeStr(a)} to ${b && shapeStr(b)}`);
    }
  }
  return { ...folded, shapes: after.shapes, dtypes: after.dtypes };
}

/** One line for display, e.g. "14 nodes: 5 Linear, 3 Add, … · 20 constants, 12,345 parameters". */
export function foldedOpsSummary(g: FloatGraph): string {
  const counts = new Map<string, number>();
  for (const n of g.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  const ops = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([op, c]) => `${c} ${op}`);
  let params = 0;
  for (const t of g.consts.values()) params += t.data.length;
  return `${g.nodes.length} nodes: ${ops.join(', ')} · ${g.consts.size} constants, ${params.toLocaleString('en-US')} parameters`;
}
