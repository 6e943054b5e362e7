/**
 * The mutable working state of one foldGraph call: the node list being built, the constant table,
 * known shapes/dtypes, tensor aliases (a removed Identity maps its output to its input) and a name
 * generator that never collides with a name of the source graph.
 */
import { OnnxGraphError } from '../errors.js';
import type { FNode } from '../graph.js';
import { DEFAULT_LIMITS, OpCtx } from '../ops/context.js';
import { tensorFrom, type DType, type FTensor } from '../tensor.js';

export class FoldState {
  nodes: FNode[] = [];
  private readonly alias = new Map<string, string>();
  private readonly names: Set<string>;

  constructor(
    readonly opset: number,
    readonly consts: Map<string, FTensor>,
    readonly shapes: Map<string, number[]>,
    readonly dtypes: Map<string, DType>,
    names: Iterable<string>,
    /** Tensors something reads (node inputs and graph outputs) in the source graph. */
    readonly consumed: ReadonlySet<string>,
    readonly supported: readonly string[],
  ) {
    this.names = new Set(names);
  }

  resolve(name: string): string {
    let n = name;
    for (let guard = 0; guard < 1_000_000 && this.alias.has(n); guard++) n = this.alias.get(n)!;
    return n;
  }

  /** Every later read of `from` reads `to` instead. */
  setAlias(from: string, to: string): void {
    if (from === '') return;
    this.alias.set(from, this.resolve(to));
  }

  /** A name not used anywhere yet, derived from `base`. */
  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  isConst(name: string): boolean {
    return name !== '' && this.consts.has(name);
  }

  addConst(base: string, t: FTensor): string {
    const name = this.fresh(base);
    this.consts.set(name, t);
    this.shapes.set(name, t.shape);
    this.dtypes.set(name, t.dtype);
    return name;
  }

  constInt64(base: string, values: readonly number[]): string {
    return this.addConst(base, tensorFrom('int64', [values.length], values));
  }

  shape(name: string): number[] {
    const s = this.shapes.get(name) ?? this.consts.get(name)?.shape;
    if (!s) throw new OnnxGraphError(`Internal: no known shape for tensor "${name}"`);
    return s;
  }

  dtype(name: string): DType {
    const d = this.dtypes.get(name) ?? this.consts.get(name)?.dtype;
    if (!d) throw new OnnxGraphError(`Internal: no known dtype for tensor "${name}"`);
    return d;
  }

  /** Appends a node; `shape`/`dtype` describe its (first) output when it is a new tensor. */
  emit(node: FNode, shape?: number[], dtype?: DType): void {
    this.nodes.push(node);
    const out = node.outputs[0];
    if (out && shape) this.shapes.set(out, shape);
    if (out && dtype) this.dtypes.set(out, dtype);
  }

  /** An OpCtx for reusing the executor's attribute parsing and validation on `node`. */
  ctx(node: FNode, index: number): OpCtx {
    return new OpCtx(node, index, this.opset, DEFAULT_LIMITS, { used: 0 }, this.supported);
  }
}
