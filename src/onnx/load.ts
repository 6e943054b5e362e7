/**
 * ONNX bytes -> OnnxModel (a FloatGraph plus metadata). Decoding is the only place protobuf
 * objects exist; everything after works on the plain structures of graph.ts. Validation here is
 * structural (graph present, op types, opset, every read tensor defined, acyclic) so later stages
 * can assume a well-formed graph.
 */
import { readFileSync } from 'node:fs';
import pkg from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { OnnxDecodeError, OnnxFileError, OnnxGraphError, OnnxMissingInitializerError, OnnxMissingTensorError } from './errors.js';
import { topoSort, type AttrValue, type FloatGraph, type FNode, type GraphInput } from './graph.js';
import { dtypeFromOnnx, fromTensorProto, MAX_ELEMENTS, num, onnxTypeName, type FTensor } from './tensor.js';

const { onnx } = pkg;

export interface OnnxModel {
  /** Version of the default (ai.onnx) opset. */
  opset: number;
  producer: string;
  graph: FloatGraph;
}

export interface LoadOptions {
  /** Largest initializer/attribute tensor accepted, in elements (default 2^28). */
  maxElements?: number;
}

export function loadOnnxFile(path: string, opts: LoadOptions = {}): OnnxModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new OnnxFileError({ path, reason: e instanceof Error ? e.message : String(e), cause: e });
  }
  return loadOnnx(bytes, path, opts);
}

export function loadOnnx(bytes: Uint8Array, origin = '<bytes>', opts: LoadOptions = {}): OnnxModel {
  let m: P.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxDecodeError({ origin, byteLength: bytes.length, reason: e instanceof Error ? e.message : String(e), cause: e });
  }
  const maxElements = opts.maxElements ?? MAX_ELEMENTS;
  if (!m.graph) {
    throw new OnnxGraphError(`ONNX model ${origin} has no graph`, {
      details: `${bytes.length} bytes decoded to a ModelProto without a graph field`,
      hint: 'Is this really an .onnx model file?',
    });
  }
  const opset = defaultOpset(m, origin);
  const graph = convertGraph(m.graph, opset, maxElements);
  return { opset, producer: m.producerName ?? '', graph };
}

function defaultOpset(m: P.ModelProto, origin: string): number {
  const imp = (m.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!imp) {
    throw new OnnxGraphError(`ONNX model ${origin} has no opset import for the default domain`, {
      hint: 'Every model since IR version 3 declares opset_import { domain: "" version: N }.',
    });
  }
  const v = num(imp.version);
  if (!Number.isSafeInteger(v) || v < 1 || v > 1000) throw new OnnxGraphError(`ONNX model ${origin} declares invalid opset version ${v}`);
  return v;
}

function convertGraph(g: P.IGraphProto, opset: number, maxElements: number): FloatGraph {
  const consts = new Map<string, FTensor>();
  for (const init of g.initializer ?? []) {
    if (!init.name) throw new OnnxGraphError('An initializer has no name');
    if (consts.has(init.name)) throw new OnnxGraphError(`Initializer "${init.name}" is defined twice`);
    consts.set(init.name, fromTensorProto(init, maxElements));
  }
  if ((g.sparseInitializer ?? []).length > 0) {
    throw new OnnxGraphError('The graph has sparse initializers, which the importer does not support', {
      details: (g.sparseInitializer ?? []).map((s) => s.values?.name ?? '?').join(', '),
    });
  }

  const inputs: GraphInput[] = [];
  const seenInputs = new Set<string>();
  for (const vi of g.input ?? []) {
    if (!vi.name) throw new OnnxGraphError('A graph input has no name');
    if (seenInputs.has(vi.name)) throw new OnnxGraphError(`Graph input "${vi.name}" is declared twice`);
    seenInputs.add(vi.name);
    // Initializers listed as inputs (IR < 4 style) are constants, not things the caller feeds.
    if (consts.has(vi.name)) continue;
    inputs.push(convertInput(vi));
  }

  const nodes = (g.node ?? []).map((n, i) => convertNode(n, i, maxElements));

  const available = new Set<string>([...consts.keys(), ...inputs.map((i) => i.name)]);
  const produced = new Set<string>();
  for (const n of nodes) for (const o of n.outputs) if (o) produced.add(o);
  for (const n of nodes) {
    for (const t of n.inputs) {
      if (t && !available.has(t) && !produced.has(t)) throw new OnnxMissingInitializerError({ tensor: t, node: n.name });
    }
  }
  const sorted = topoSort(nodes, available);

  const outputs = (g.output ?? []).map((o) => o.name ?? '');
  if (outputs.length === 0) throw new OnnxGraphError('The graph has no outputs');
  for (const o of outputs) {
    if (!o || (!available.has(o) && !produced.has(o))) {
      throw new OnnxMissingTensorError({ tensor: o, node: '<graph output>', details: `graph output "${o}" is not produced by any node` });
    }
  }
  return { inputs, outputs, nodes: sorted, consts, opset };
}

function convertInput(vi: P.IValueInfoProto): GraphInput {
  const name = vi.name!;
  const tt = vi.type?.tensorType;
  if (!tt) throw new OnnxGraphError(`Graph input "${name}" is not a tensor`, { hint: 'Sequence, map and optional inputs are not supported.' });
  const code = tt.elemType ?? 0;
  const dtype = dtypeFromOnnx(code);
  if (!dtype) throw new OnnxGraphError(`Graph input "${name}" has element type ${onnxTypeName(code)}, which the importer does not support`);
  if (!tt.shape) throw new OnnxGraphError(`Graph input "${name}" has no shape (unknown rank)`, { hint: 'Export the model with input shapes.' });
  // dim_value and dim_param are a oneof: decoded messages own only the field that was present.
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const shape = (tt.shape.dim ?? []).map((d): number | string => {
    if (own(d, 'dimValue') && d.dimValue !== null && d.dimValue !== undefined) {
      const v = num(d.dimValue);
      if (!Number.isSafeInteger(v) || v < 0 || v > MAX_ELEMENTS) throw new OnnxGraphError(`Graph input "${name}" has invalid dim ${v}`);
      return v;
    }
    return own(d, 'dimParam') && d.dimParam ? d.dimParam : '?';
  });
  return { name, dtype, shape };
}

function convertNode(n: P.INodeProto, index: number, maxElements: number): FNode {
  const opType = n.opType ?? '';
  if (!opType) throw new OnnxGraphError(`Node #${index} has no op type`, { node: n.name || `#${index}` });
  // Ops of other domains keep their domain in the name so they can never be mistaken for ai.onnx
  // ops (and are reported as unsupported under their full name).
  const domain = n.domain ?? '';
  const op = domain === '' || domain === 'ai.onnx' ? opType : `${domain}:${opType}`;
  const name = n.name || `${opType}_${index}`;
  const attrs: Record<string, AttrValue> = {};
  for (const a of n.attribute ?? []) {
    if (!a.name) throw new OnnxGraphError('An attribute has no name', { node: name });
    const v = convertAttr(a, name, maxElements);
    if (v !== undefined) attrs[a.name] = v;
  }
  return { op, name, inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
}

const utf8 = new TextDecoder('utf-8');

/** AttributeProto -> plain value. Graph-valued attributes (If/Loop bodies) are dropped: those ops
 *  are unsupported anyway and are reported as such by op type. */
function convertAttr(a: P.IAttributeProto, node: string, maxElements: number): AttrValue | undefined {
  const type = a.type || inferAttrType(a);
  switch (type) {
    case 1: // FLOAT
      return a.f ?? 0;
    case 2: // INT
      return num(a.i ?? 0);
    case 3: // STRING
      return utf8.decode(a.s ?? new Uint8Array());
    case 4: // TENSOR
      if (!a.t) throw new OnnxGraphError('Tensor attribute without a tensor', { node, attribute: a.name ?? '' });
      return fromTensorProto(a.t, maxElements);
    case 6: // FLOATS
      return [...(a.floats ?? [])];
    case 7: // INTS
      return (a.ints ?? []).map(num);
    case 8: // STRINGS
      return (a.strings ?? []).map((s) => utf8.decode(s));
    case 5: // GRAPH
    case 10: // GRAPHS
    case 11: // SPARSE_TENSOR
    case 12: // SPARSE_TENSORS
    case 13: // TYPE_PROTO
    case 14: // TYPE_PROTOS
    case 9: // TENSORS
      return undefined;
    default:
      throw new OnnxGraphError(`Attribute has unknown type ${type}`, { node, attribute: a.name ?? '' });
  }
}

/** Very old exporters leave AttributeProto.type unset; the populated field tells the type. */
function inferAttrType(a: P.IAttributeProto): number {
  const has = (k: keyof P.IAttributeProto) => Object.prototype.hasOwnProperty.call(a, k);
  if ((a.floats?.length ?? 0) > 0) return 6;
  if ((a.ints?.length ?? 0) > 0) return 7;
  if ((a.strings?.length ?? 0) > 0) return 8;
  if (a.t || has('t')) return 4;
  if (a.g || has('g')) return 5;
  if (has('s')) return 3;
  if (has('f')) return 1;
  if (has('i')) return 2;
  return 7; // an empty list: INTS is the common case (e.g. pads=[])
}
