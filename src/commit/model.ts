/**
 * modelRoot: the commitment to a quantized model (docs/protocol.md §Commitments):
 *
 *   header_i         = abi.encode(NodeHeader)                         (see NODE_HEADER_ABI)
 *   paramsRoot_i     = merkleRoot(tensorRoot(param) for params sorted by name)
 *   nodeCommitment_i = keccak256(0x04 ‖ keccak256(header_i) ‖ paramsRoot_i)
 *   modelRoot        = keccak256(0x05 ‖ uint32 nodeCount ‖ merkleRoot(nodeCommitment_0 … nodeCommitment_{n-1}))
 *
 * The header is what the Solidity one-step verifier decodes to know which op to run on which
 * tensors, with which attrs and params:
 *
 *   struct TensorMeta { uint8 dtype; uint8 layout; int32 zeroPoint; uint32[] shape; }
 *   struct ParamMeta  { bytes32 name; uint8 dtype; uint32[] shape; }
 *   struct NodeHeader {
 *     uint8 op; uint32[] inputs; uint32 output;
 *     TensorMeta[] inputMeta; TensorMeta outputMeta;
 *     bytes32[] attrKeys; int256[] attrsFlat;
 *     ParamMeta[] params;
 *   }
 *   NodeHeader memory h = abi.decode(header, (NodeHeader));
 *
 * Names (attr keys, param names) are their UTF-8 bytes left-aligned in a bytes32 (1..32 bytes, no
 * NUL), sorted by those bytes (= ascending uint256 of the bytes32). attrsFlat holds, for each key in
 * order, a tag then the values: tag −1 = scalar (one value follows), tag n ≥ 0 = array of n values.
 */
import { decodeAbiParameters, encodeAbiParameters, type Hex } from 'viem';
import { OP_TYPES, type AttrValue, type DType, type OpType, type Param, type QModel, type TensorInfo } from '../engine/ir.js';
import { asRoot, bytesEqual, dtypeCode, dtypeFromCode, hexRoot, MAX_U32 } from './bytes.js';
import { EncodingError, ProofError } from './errors.js';
import { keccak256, PREFIX } from './keccak.js';
import { listRoot, proveMembership, rootFromMembership, type MembershipProof } from './list.js';
import { merkleRoot, MerkleTree } from './merkle.js';
import { TensorCommitment, tensorRoot } from './tensor.js';

const TENSOR_META_COMPONENTS = [
  { name: 'dtype', type: 'uint8' },
  { name: 'layout', type: 'uint8' },
  { name: 'zeroPoint', type: 'int32' },
  { name: 'shape', type: 'uint32[]' },
] as const;

const PARAM_META_COMPONENTS = [
  { name: 'name', type: 'bytes32' },
  { name: 'dtype', type: 'uint8' },
  { name: 'shape', type: 'uint32[]' },
] as const;

/** The ABI of a node header: one tuple (so the encoding starts with its 0x20 offset word). */
export const NODE_HEADER_ABI = [
  {
    name: 'header',
    type: 'tuple',
    components: [
      { name: 'op', type: 'uint8' },
      { name: 'inputs', type: 'uint32[]' },
      { name: 'output', type: 'uint32' },
      { name: 'inputMeta', type: 'tuple[]', components: TENSOR_META_COMPONENTS },
      { name: 'outputMeta', type: 'tuple', components: TENSOR_META_COMPONENTS },
      { name: 'attrKeys', type: 'bytes32[]' },
      { name: 'attrsFlat', type: 'int256[]' },
      { name: 'params', type: 'tuple[]', components: PARAM_META_COMPONENTS },
    ],
  },
] as const;

/** Layout codes in TensorMeta. */
export const LAYOUT_CODES = { plain: 0, nhwc: 1 } as const;

export interface TensorMeta {
  dtype: DType;
  layout: 'plain' | 'nhwc';
  zeroPoint: number;
  shape: number[];
}

export interface ParamMeta {
  name: string;
  dtype: DType;
  shape: number[];
}

/** A node header in TS form (what encodeNodeHeader encodes and decodeNodeHeader returns). */
export interface NodeHeader {
  op: OpType;
  inputs: number[];
  output: number;
  inputMeta: TensorMeta[];
  outputMeta: TensorMeta;
  /** Keys in sorted (byte) order. */
  attrs: Record<string, AttrValue>;
  /** Sorted by name (byte order): the order of the param roots. */
  params: ParamMeta[];
}

// ---------------------------------------------------------------------------------------------
// Names

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function nameBytes(name: string, what: string): Uint8Array {
  const b = utf8.encode(name);
  if (b.length < 1 || b.length > 32 || b.includes(0)) {
    throw new EncodingError(`${what} "${name}" does not fit in a bytes32.`, { details: `${b.length} UTF-8 bytes; need 1..32 bytes and no NUL` });
  }
  return b;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Names sorted by their UTF-8 bytes (the commitment order of attrs and params). */
export function sortNames(names: readonly string[], what = 'Name'): string[] {
  return names
    .map((n) => ({ n, b: nameBytes(n, what) }))
    .sort((x, y) => compareBytes(x.b, y.b))
    .map((x) => x.n);
}

function nameToBytes32(name: string, what: string): Hex {
  const b = nameBytes(name, what);
  let s = '0x';
  for (let i = 0; i < 32; i++) s += (i < b.length ? b[i] : 0).toString(16).padStart(2, '0');
  return s as Hex;
}

function bytes32ToName(h: Hex, what: string): string {
  const all = new Uint8Array(32);
  for (let i = 0; i < 32; i++) all[i] = parseInt(h.slice(2 + 2 * i, 4 + 2 * i), 16);
  let end = 32;
  while (end > 0 && all[end - 1] === 0) end--;
  const b = all.subarray(0, end);
  if (end === 0 || b.includes(0)) throw new EncodingError(`${what} ${h} is not a NUL-free left-aligned name.`);
  try {
    return utf8Strict.decode(b);
  } catch (e) {
    throw new EncodingError(`${what} ${h} is not valid UTF-8.`, { cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// Header: model → NodeHeader → bytes

function tensorMetaOf(model: QModel, id: number, nodeIndex: number, role: string): TensorMeta {
  const node = model.nodes[nodeIndex];
  if (!Number.isInteger(id) || id < 0 || id >= model.tensors.length) {
    throw new EncodingError(`Node ${nodeIndex} (${node.name}) ${role} tensor id ${id} is out of range.`, {
      details: `id ${id}, model has ${model.tensors.length} tensors`,
    });
  }
  const t: TensorInfo = model.tensors[id];
  return { dtype: t.dtype, layout: t.layout, zeroPoint: t.zeroPoint, shape: [...t.shape] };
}

/** The header of node `nodeIndex` in TS form (attrs re-keyed in sorted order, params sorted). */
export function nodeHeaderOf(model: QModel, nodeIndex: number): NodeHeader {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 0 || nodeIndex >= model.nodes.length) {
    throw new EncodingError(`Node index ${nodeIndex} is out of range.`, { details: `index ${nodeIndex}, model has ${model.nodes.length} nodes` });
  }
  const node = model.nodes[nodeIndex];
  const attrs: Record<string, AttrValue> = {};
  for (const k of sortNames(Object.keys(node.attrs), `Node ${nodeIndex} (${node.name}) attr key`)) {
    const v = node.attrs[k];
    attrs[k] = Array.isArray(v) ? [...v] : v;
  }
  const params = sortNames(Object.keys(node.params), `Node ${nodeIndex} (${node.name}) param name`).map((name) => {
    const p: Param = node.params[name];
    return { name, dtype: p.dtype, shape: [...p.shape] };
  });
  return {
    op: node.op,
    inputs: [...node.inputs],
    output: node.output,
    inputMeta: node.inputs.map((id, k) => tensorMetaOf(model, id, nodeIndex, `input ${k}`)),
    outputMeta: tensorMetaOf(model, node.output, nodeIndex, 'output'),
    attrs,
    params,
  };
}

function u32(x: number, what: string): number {
  if (!Number.isInteger(x) || x < 0 || x > MAX_U32) throw new EncodingError(`${what} is not a uint32.`, { details: `${what} = ${x}` });
  return x;
}

function i32(x: number, what: string): number {
  if (!Number.isInteger(x) || x < -(2 ** 31) || x >= 2 ** 31) throw new EncodingError(`${what} is not an int32.`, { details: `${what} = ${x}` });
  return x;
}

function shapeU32(shape: readonly number[], what: string): number[] {
  if (!Array.isArray(shape)) throw new EncodingError(`${what} is not an array.`);
  return shape.map((d, i) => u32(d, `${what}[${i}]`));
}

function encodeTensorMeta(m: TensorMeta, what: string) {
  const layout = LAYOUT_CODES[m.layout];
  if (layout === undefined) throw new EncodingError(`${what} has unknown layout "${String(m.layout)}".`, { details: "Expected 'plain' or 'nhwc'." });
  return { dtype: dtypeCode(m.dtype), layout, zeroPoint: i32(m.zeroPoint, `${what} zeroPoint`), shape: shapeU32(m.shape, `${what} shape`) };
}

/** Flatten attrs (already in sorted key order) to keys + [tag, values…]. */
function flattenAttrs(attrs: Record<string, AttrValue>, what: string): { keys: Hex[]; flat: bigint[] } {
  const names = Object.keys(attrs);
  const sorted = sortNames(names, `${what} attr key`);
  const keys: Hex[] = [];
  const flat: bigint[] = [];
  for (const k of sorted) {
    const v = attrs[k];
    keys.push(nameToBytes32(k, `${what} attr key`));
    const vals = Array.isArray(v) ? v : [v];
    flat.push(Array.isArray(v) ? BigInt(v.length) : -1n);
    vals.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isSafeInteger(x)) {
        throw new EncodingError(`${what} attr "${k}" is not an integer.`, { details: `${k}${Array.isArray(v) ? `[${i}]` : ''} = ${String(x)}; attrs must be safe integers` });
      }
      flat.push(BigInt(x));
    });
  }
  return { keys, flat };
}

/** ABI-encode a header (the canonical bytes hashed into the node commitment). */
export function encodeHeader(h: NodeHeader, what = 'node'): Uint8Array {
  const op = OP_TYPES.indexOf(h.op);
  if (op < 0) throw new EncodingError(`${what} has unknown op "${String(h.op)}".`, { details: `known ops: ${OP_TYPES.join(', ')}` });
  if (h.inputs.length !== h.inputMeta.length) {
    throw new EncodingError(`${what} has ${h.inputs.length} inputs but ${h.inputMeta.length} input metas.`);
  }
  const { keys, flat } = flattenAttrs(h.attrs, what);
  const sortedParams = sortNames(h.params.map((p) => p.name), `${what} param name`);
  const byName = new Map(h.params.map((p) => [p.name, p]));
  if (byName.size !== h.params.length) throw new EncodingError(`${what} has duplicate param names.`);
  const hex = encodeAbiParameters(NODE_HEADER_ABI, [
    {
      op,
      inputs: h.inputs.map((x, k) => u32(x, `${what} input ${k}`)),
      output: u32(h.output, `${what} output`),
      inputMeta: h.inputMeta.map((m, k) => encodeTensorMeta(m, `${what} input ${k}`)),
      outputMeta: encodeTensorMeta(h.outputMeta, `${what} output`),
      attrKeys: keys,
      attrsFlat: flat,
      params: sortedParams.map((name) => {
        const p = byName.get(name)!;
        return { name: nameToBytes32(name, `${what} param name`), dtype: dtypeCode(p.dtype), shape: shapeU32(p.shape, `${what} param ${name} shape`) };
      }),
    },
  ]);
  return hexToBytesFast(hex);
}

function hexToBytesFast(hex: Hex): Uint8Array {
  const n = (hex.length - 2) / 2;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

function bytesToHexFast(b: Uint8Array): Hex {
  let s = '0x';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s as Hex;
}

/** The canonical header bytes of node `nodeIndex` (abi.encode(NodeHeader)). */
export function encodeNodeHeader(model: QModel, nodeIndex: number): Uint8Array {
  const node = model.nodes[nodeIndex];
  return encodeHeader(nodeHeaderOf(model, nodeIndex), node ? `Node ${nodeIndex} (${node.name})` : `Node ${nodeIndex}`);
}

// ---------------------------------------------------------------------------------------------
// Header: bytes → NodeHeader (reference decoder for the Solidity side)

function num(x: bigint | number, what: string): number {
  const v = typeof x === 'bigint' ? x : BigInt(x);
  if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EncodingError(`${what} is not a safe integer.`, { details: `${what} = ${v}` });
  }
  return Number(v);
}

function decodeTensorMeta(m: { dtype: number; layout: number; zeroPoint: number; shape: readonly number[] }, what: string): TensorMeta {
  const layout = m.layout === 0 ? 'plain' : m.layout === 1 ? 'nhwc' : null;
  if (layout === null) throw new EncodingError(`${what} has unknown layout code ${m.layout}.`);
  return { dtype: dtypeFromCode(m.dtype), layout, zeroPoint: m.zeroPoint, shape: [...m.shape] };
}

/**
 * Decode header bytes (as produced by encodeNodeHeader). Strict: throws EncodingError unless the
 * bytes are exactly the canonical encoding of the decoded header (so decode ∘ encode = id and
 * every accepted header has one byte form).
 */
export function decodeNodeHeader(header: Uint8Array | Hex): NodeHeader {
  const hex = typeof header === 'string' ? header : bytesToHexFast(header);
  let raw;
  try {
    [raw] = decodeAbiParameters(NODE_HEADER_ABI, hex);
  } catch (e) {
    throw new EncodingError('Node header is not a valid abi.encode(NodeHeader).', { details: `${(hex.length - 2) / 2} bytes`, cause: e });
  }
  const op = OP_TYPES[raw.op];
  if (op === undefined) throw new EncodingError(`Node header has unknown op code ${raw.op}.`, { details: `valid: 0..${OP_TYPES.length - 1}` });
  if (raw.inputs.length !== raw.inputMeta.length) {
    throw new EncodingError('Node header has one input meta per input.', { details: `${raw.inputs.length} inputs, ${raw.inputMeta.length} input metas` });
  }
  const attrs: Record<string, AttrValue> = {};
  const flat = raw.attrsFlat;
  let p = 0;
  raw.attrKeys.forEach((kh, i) => {
    const key = bytes32ToName(kh, `Attr key ${i}`);
    if (p >= flat.length) throw new EncodingError(`attrsFlat ends before attr ${i} ("${key}").`, { details: `attrsFlat has length ${flat.length}` });
    const tag = flat[p++];
    if (tag < -1n) throw new EncodingError(`Attr "${key}" has invalid tag ${tag}.`, { details: `at attrsFlat[${p - 1}]; tag is -1 (scalar) or a length ≥ 0` });
    const n = tag === -1n ? 1 : num(tag, `attr "${key}" length`);
    if (p + n > flat.length) {
      throw new EncodingError(`Attr "${key}" runs past the end of attrsFlat.`, { details: `needs ${n} values from index ${p}, attrsFlat has length ${flat.length}` });
    }
    const vals = flat.slice(p, p + n).map((x, j) => num(x, `attr "${key}" value ${j}`));
    p += n;
    attrs[key] = tag === -1n ? vals[0] : vals;
  });
  if (p !== flat.length) throw new EncodingError('attrsFlat has trailing values.', { details: `${flat.length - p} words after the last attr (length ${flat.length})` });
  const decoded: NodeHeader = {
    op,
    inputs: [...raw.inputs],
    output: raw.output,
    inputMeta: raw.inputMeta.map((m, k) => decodeTensorMeta(m, `Input meta ${k}`)),
    outputMeta: decodeTensorMeta(raw.outputMeta, 'Output meta'),
    attrs,
    params: raw.params.map((q, k) => ({ name: bytes32ToName(q.name, `Param name ${k}`), dtype: dtypeFromCode(q.dtype), shape: [...q.shape] })),
  };
  // Canonical: re-encoding gives the same bytes (this also rejects unsorted or duplicate keys).
  let again: Uint8Array;
  try {
    again = encodeHeader(decoded, 'decoded header');
  } catch (e) {
    throw new EncodingError('Node header does not re-encode.', { cause: e });
  }
  if (bytesToHexFast(again) !== hex.toLowerCase()) {
    throw new EncodingError('Node header is not in canonical form.', { hint: 'Attr keys and param names must be strictly increasing; encode with encodeNodeHeader.' });
  }
  return decoded;
}

// ---------------------------------------------------------------------------------------------
// Commitments

/** keccak256(0x04 ‖ keccak256(header) ‖ paramsRoot). */
export function nodeCommitmentFrom(header: Uint8Array, paramsRoot: Uint8Array): Uint8Array {
  const pre = new Uint8Array(65);
  pre[0] = PREFIX.node_commitment;
  pre.set(keccak256(header), 1);
  pre.set(paramsRoot, 33);
  return keccak256(pre);
}

/** tensorRoots of node `nodeIndex`'s params, sorted by name (with the names). */
export function nodeParamRoots(model: QModel, nodeIndex: number): { names: string[]; roots: Uint8Array[] } {
  const node = model.nodes[nodeIndex];
  if (!node) throw new EncodingError(`Node index ${nodeIndex} is out of range.`, { details: `index ${nodeIndex}, model has ${model.nodes.length} nodes` });
  const names = sortNames(Object.keys(node.params), `Node ${nodeIndex} (${node.name}) param name`);
  return { names, roots: names.map((n) => paramRootOf(node.params[n], `node ${nodeIndex} (${node.name}) param ${n}`)) };
}

function paramRootOf(p: Param, what: string): Uint8Array {
  if (!p || typeof p !== 'object') throw new EncodingError(`Cannot commit ${what}: it is not a tensor.`);
  return tensorRoot(p, what);
}

export function nodeCommitment(model: QModel, nodeIndex: number): Uint8Array {
  const header = encodeNodeHeader(model, nodeIndex);
  return nodeCommitmentFrom(header, merkleRoot(nodeParamRoots(model, nodeIndex).roots));
}

export function modelRoot(model: QModel): Uint8Array {
  return new ModelCommitment(model).root;
}

export function modelRootHex(model: QModel): Hex {
  return hexRoot(modelRoot(model));
}

/** Proof that node `index` of a model of `count` nodes has this header and these param roots. */
export interface ModelNodeProof {
  count: number;
  index: number;
  /** abi.encode(NodeHeader) of the node. */
  header: Uint8Array;
  /** tensorRoots of the params in the header's params order (sorted by name). */
  paramRoots: Uint8Array[];
  /** Bottom-up siblings of the node commitment in the model tree. */
  siblings: Uint8Array[];
}

/** A committed model: headers, param roots, node commitments and their tree, to build proofs. */
export class ModelCommitment {
  readonly model: QModel;
  readonly headers: Uint8Array[];
  readonly paramNames: string[][];
  readonly paramRoots: Uint8Array[][];
  readonly nodeCommitments: Uint8Array[];
  readonly tree: MerkleTree;
  readonly root: Uint8Array;

  constructor(model: QModel) {
    if (!model || !Array.isArray(model.nodes) || !Array.isArray(model.tensors)) {
      throw new EncodingError('A model needs arrays nodes and tensors.');
    }
    this.model = model;
    this.headers = model.nodes.map((_, i) => encodeNodeHeader(model, i));
    const pr = model.nodes.map((_, i) => nodeParamRoots(model, i));
    this.paramNames = pr.map((x) => x.names);
    this.paramRoots = pr.map((x) => x.roots);
    this.nodeCommitments = this.headers.map((h, i) => nodeCommitmentFrom(h, merkleRoot(this.paramRoots[i])));
    this.tree = MerkleTree.fromWords(this.nodeCommitments);
    this.root = listRoot(PREFIX.model, this.nodeCommitments);
  }

  proveNode(nodeIndex: number): ModelNodeProof {
    const m: MembershipProof = proveMembership(this.tree, this.nodeCommitments.length, nodeIndex, 'Model node');
    return {
      count: m.count,
      index: m.index,
      header: this.headers[nodeIndex].slice(),
      paramRoots: this.paramRoots[nodeIndex].map((r) => r.slice()),
      siblings: m.siblings,
    };
  }

  /** The data tree of a param of a node, to prove its elements against paramRoots. */
  param(nodeIndex: number, name: string): TensorCommitment {
    const node = this.model.nodes[nodeIndex];
    if (!node) throw new ProofError(`Node index ${nodeIndex} is out of range.`, { details: `index ${nodeIndex}, model has ${this.model.nodes.length} nodes` });
    const p = node.params[name];
    if (!p || !Object.prototype.hasOwnProperty.call(node.params, name)) {
      throw new ProofError(`Node ${nodeIndex} (${node.name}) has no param "${name}".`, { details: `params: ${this.paramNames[nodeIndex].join(', ') || '(none)'}` });
    }
    return new TensorCommitment(p, `node ${nodeIndex} (${node.name}) param ${name}`);
  }
}

export function commitModel(model: QModel): ModelCommitment {
  return new ModelCommitment(model);
}

/** Proof of node `nodeIndex`'s header and param roots in the modelRoot. */
export function proveModelNode(model: QModel, nodeIndex: number): ModelNodeProof {
  return new ModelCommitment(model).proveNode(nodeIndex);
}

/** The modelRoot a node proof hashes to. Throws ProofError if malformed, including a header that
 *  does not decode or a paramRoots count different from the header's params count. */
export function rootFromModelNodeProof(p: ModelNodeProof): Uint8Array {
  if (p === null || typeof p !== 'object' || !(p.header instanceof Uint8Array) || !Array.isArray(p.paramRoots)) {
    throw new ProofError('A model node proof needs header bytes and a paramRoots array.');
  }
  let h: NodeHeader;
  try {
    h = decodeNodeHeader(p.header);
  } catch (e) {
    throw new ProofError('Model node proof header does not decode.', { details: `node ${p.index}`, cause: e });
  }
  if (h.params.length !== p.paramRoots.length) {
    throw new ProofError('Model node proof has the wrong number of param roots.', {
      details: `header lists ${h.params.length} params, proof has ${p.paramRoots.length} roots`,
    });
  }
  p.paramRoots.forEach((r, k) => {
    if (!(r instanceof Uint8Array) || r.length !== 32) throw new ProofError(`Param root ${k} is not 32 bytes.`, { details: `length ${r?.length}` });
  });
  const leaf = nodeCommitmentFrom(p.header, merkleRoot(p.paramRoots));
  return rootFromMembership(PREFIX.model, { count: p.count, index: p.index, leaf, siblings: p.siblings }, 'model node');
}

/** True iff the proof's header and param roots are node `p.index` of the model committed by `root`. */
export function verifyModelNode(root: Uint8Array | Hex, p: ModelNodeProof): boolean {
  return bytesEqual(rootFromModelNodeProof(p), asRoot(root));
}

/** tensorRoot of a single param (exported for symmetry with the chain code). */
export function paramRoot(p: Param): Uint8Array {
  return tensorRoot(p);
}
