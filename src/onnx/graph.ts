/**
 * The float graph: a plain, protobuf-free picture of an ONNX graph that the executor, the folder
 * and the quantizer all read. Nodes are topologically ordered (load.ts sorts them).
 */
import { OnnxGraphError } from './errors.js';
import type { DType, FTensor } from './tensor.js';

export type { DType, FTensor } from './tensor.js';

export type AttrValue = number | number[] | string | FTensor | string[];

export interface FNode {
  op: string;
  name: string;
  /** Tensor names read; '' marks an absent optional input. */
  inputs: string[];
  /** Tensor names written; '' marks an unused optional output. */
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

export interface GraphInput {
  name: string;
  dtype: DType;
  /** Numbers are fixed dims; strings are named (dynamic) dims ('?' when unnamed). */
  shape: (number | string)[];
}

export interface FloatGraph {
  inputs: GraphInput[];
  outputs: string[];
  nodes: FNode[];
  /** Initializers and folded constants, by tensor name. */
  consts: Map<string, FTensor>;
  /** The ai.onnx opset the nodes follow. Only a few ops read it (Softmax < 13 flattens); absent
   *  means "current" (>= 13). Canonical (folded) graphs do not depend on it. */
  opset?: number;
}

// ---- attribute access: every getter validates, so a corrupt attribute is a typed error ----

function bad(node: FNode, attr: string, what: string): never {
  throw new OnnxGraphError(`Bad attribute: ${what}`, { node: node.name, attribute: attr });
}

export function hasAttr(node: FNode, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(node.attrs, name);
}

export function attrInt(node: FNode, name: string, def?: number): number {
  if (!hasAttr(node, name)) {
    if (def === undefined) bad(node, name, `${node.op} needs attribute "${name}"`);
    return def;
  }
  const v = node.attrs[name];
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(node, name, `"${name}" must be an integer, got ${describe(v)}`);
  return v;
}

export function attrFloat(node: FNode, name: string, def?: number): number {
  if (!hasAttr(node, name)) {
    if (def === undefined) bad(node, name, `${node.op} needs attribute "${name}"`);
    return def;
  }
  const v = node.attrs[name];
  if (typeof v !== 'number') bad(node, name, `"${name}" must be a number, got ${describe(v)}`);
  return v;
}

export function attrInts(node: FNode, name: string, def?: number[]): number[] {
  if (!hasAttr(node, name)) {
    if (def === undefined) bad(node, name, `${node.op} needs attribute "${name}"`);
    return def;
  }
  const v = node.attrs[name];
  // A single INT where INTS is expected is tolerated (some exporters do that for 1-element lists).
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    bad(node, name, `"${name}" must be a list of integers, got ${describe(v)}`);
  }
  return v as number[];
}

export function attrFloats(node: FNode, name: string, def?: number[]): number[] {
  if (!hasAttr(node, name)) {
    if (def === undefined) bad(node, name, `${node.op} needs attribute "${name}"`);
    return def;
  }
  const v = node.attrs[name];
  if (typeof v === 'number') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) bad(node, name, `"${name}" must be a list of numbers, got ${describe(v)}`);
  return v as number[];
}

export function attrString(node: FNode, name: string, def?: string): string {
  if (!hasAttr(node, name)) {
    if (def === undefined) bad(node, name, `${node.op} needs attribute "${name}"`);
    return def;
  }
  const v = node.attrs[name];
  if (typeof v !== 'string') bad(node, name, `"${name}" must be a string, got ${describe(v)}`);
  return v;
}

export function attrTensor(node: FNode, name: string): FTensor | undefined {
  if (!hasAttr(node, name)) return undefined;
  const v = node.attrs[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(node, name, `"${name}" must be a tensor, got ${describe(v)}`);
  return v;
}

function describe(v: AttrValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'object' && !Array.isArray(v)) return `a ${v.dtype} tensor`;
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

// ---- graph utilities ----

/** For each tensor name, the indices of the nodes that read it. */
export function consumers(nodes: readonly FNode[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    for (const t of n.inputs) {
      if (!t) continue;
      const l = m.get(t);
      if (l) {
        if (l[l.length - 1] !== i) l.push(i);
      } else m.set(t, [i]);
    }
  });
  return m;
}

/** Names of all tensors a node really writes (skipping '' placeholders). */
export function realOutputs(n: FNode): string[] {
  return n.outputs.filter((o) => o !== '');
}

/**
 * Stable topological order (Kahn's algorithm, ties broken by original position, so an already
 * sorted graph is unchanged). `available` are tensors defined outside the nodes (inputs, consts).
 * Throws OnnxGraphError on a cycle or on a tensor written twice.
 */
export function topoSort(nodes: readonly FNode[], available: ReadonlySet<string>): FNode[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => {
    for (const o of realOutputs(n)) {
      if (producer.has(o) || available.has(o)) {
        throw new OnnxGraphError(`Tensor "${o}" is written twice`, { node: n.name, details: 'every tensor of an ONNX graph must have exactly one producer' });
      }
      producer.set(o, i);
    }
  });
  const indeg = new Array<number>(nodes.length).fill(0);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const deps = new Set<number>();
    for (const t of n.inputs) {
      const p = t ? producer.get(t) : undefined;
      if (p !== undefined) deps.add(p);
    }
    for (const p of deps) {
      if (p === i) throw new OnnxGraphError('Node reads its own output (a cycle)', { node: n.name });
      users[p].push(i);
      indeg[i]++;
    }
  });
  // A binary heap would be asymptotically better; the ready list is tiny in practice, and sorting
  // it keeps the order stable.
  const ready: number[] = [];
  indeg.forEach((d, i) => d === 0 && ready.push(i));
  const order: FNode[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => b - a);
    const i = ready.pop()!;
    order.push(nodes[i]);
    for (const u of users[i]) if (--indeg[u] === 0) ready.push(u);
  }
  if (order.length !== nodes.length) {
    const stuck = nodes.find((_, i) => indeg[i] > 0)!;
    throw new OnnxGraphError('The graph has a cycle', { node: stuck.name, details: `${nodes.length - order.length} nodes are on or behind a cycle` });
  }
  return order;
}
