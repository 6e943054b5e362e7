/** Helpers the rewrite handlers share for emitting canonical nodes. */
import type { AttrValue, FNode } from '../graph.js';
import type { FTensor } from '../tensor.js';
import type { FoldState } from './state.js';

/** Copies `n` with new fields (keeps the name, so errors and the IR point at the source node). */
export function node(n: FNode, op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, suffix = ''): FNode {
  return { op, name: suffix ? `${n.name}${suffix}` : n.name, inputs, outputs, attrs };
}

/** Add/Mul with the constant operand (if any) second, which is the canonical position. */
export function emitCommutative(s: FoldState, n: FNode, op: 'Add' | 'Mul', a: string, b: string, out: string, suffix = ''): void {
  const [x, y] = s.isConst(a) && !s.isConst(b) ? [b, a] : [a, b];
  s.emit(node(n, op, [x, y], [out], {}, suffix));
}

/** Reshape to a fully resolved constant shape, or an alias when the shape does not change. */
export function emitReshape(s: FoldState, n: FNode, x: string, out: string, outShape: number[], suffix = ''): void {
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

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function constOrUndefined(s: FoldState, n: FNode): (FTensor | undefined)[] {
  return n.inputs.map((i) => (i ? s.consts.get(i) : undefined));
}

/** Outputs other than the first must be unused (optional statistics outputs and the like). */
export function requireOnlyFirstOutput(s: FoldState, n: FNode, index: number, what: string): void {
  if (n.outputs.slice(1).some((o) => o !== '' && s.consumed.has(o))) s.ctx(n, index).unsupported(`using the ${what} output`);
}
