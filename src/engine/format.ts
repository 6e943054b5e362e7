/**
 * VQM1: the serialized QModel (docs/ops.md §Serialized format).
 *
 *   offset 0        'VQM1'                       magic; the 4th byte is the format version
 *   offset 4        u32 LE  H                    header length in bytes
 *   offset 8        H bytes                      canonical JSON header (UTF-8)
 *   8 + H .. P      zero bytes                   P = 8 + H rounded up to a multiple of 32
 *   offset P        blobLength bytes             every param's data, each at a 32-aligned offset
 *                                                (relative to P), zero bytes between; i32 little-endian
 *
 * Canonical JSON: object keys sorted (UTF-16 code unit order), no whitespace, numbers as
 * JSON.stringify prints them. Header: { blobLength, format, inputs, name, nodes, outputs, source,
 * tensors, version }, each node { attrs, inputs, name, op, output, params }, each param
 * { dtype, length, offset, shape } (length in bytes). Params are laid out in node order, then by
 * param name in sorted order, each at the next 32-aligned offset; blobLength is the end of the last.
 *
 * encodeModel is deterministic (a function of the model's content). decodeModel accepts exactly
 * the canonical encodings: anything else is a FormatError with the byte offset.
 */
import { z } from 'zod';
import type { DType, IntArray, Param, QModel } from './ir.js';
import { OP_TYPES, sizeOf } from './ir.js';
import { EngineModelError, FormatError } from './errors.js';

export const MAGIC = 'VQM1';
export const FORMAT_VERSION = 1;
const ALIGN = 32;

const BYTES: Record<DType, number> = { i8: 1, u8: 1, i32: 4 };

const int = z.number().int();
const dim = int.min(0).max(2 ** 31);
const dtypeS = z.enum(['i8', 'u8', 'i32']);
const attrS = z.union([int, z.array(int)]);
const paramRefS = z.strictObject({
  dtype: dtypeS,
  length: int.min(0),
  offset: int.min(0),
  shape: z.array(dim),
});
const tensorS = z.strictObject({
  dtype: dtypeS,
  id: int.min(0),
  layout: z.enum(['plain', 'nhwc']),
  name: z.string(),
  scale: z.number().refine(Number.isFinite, 'must be finite'),
  shape: z.array(dim),
  zeroPoint: int,
});
const nodeS = z.strictObject({
  attrs: z.record(z.string(), attrS),
  inputs: z.array(int.min(0)),
  name: z.string(),
  op: z.enum(OP_TYPES as [string, ...string[]]),
  output: int.min(0),
  params: z.record(z.string(), paramRefS),
});
const headerS = z.strictObject({
  blobLength: int.min(0),
  format: z.literal('verity-qmodel'),
  inputs: z.array(int.min(0)),
  name: z.string(),
  nodes: z.array(nodeS),
  outputs: z.array(int.min(0)),
  source: z.strictObject({ onnxSha256: z.string(), opset: int, producer: z.string() }),
  tensors: z.array(tensorS),
  version: z.literal(1),
});
type Header = z.infer<typeof headerS>;

/** Canonical JSON: sorted keys, no whitespace. Throws on non-finite numbers and non-JSON values. */
export function canonicalJson(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`non-finite number ${v}`);
      return JSON.stringify(v);
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`cannot serialize a ${typeof v}`);
  }
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

const CTOR = { i8: Int8Array, u8: Uint8Array, i32: Int32Array } as const;

function zodReason(e: z.ZodError): string {
  const i = e.issues[0];
  return `header field ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`;
}

/** Serializes a QModel to VQM1 bytes (deterministic). Throws EngineModelError if it cannot be encoded. */
export function encodeModel(m: QModel): Uint8Array {
  const fail = (what: string, nodeIndex?: number): never => {
    throw new EngineModelError({ nodeIndex, nodeName: nodeIndex === undefined ? undefined : m.nodes[nodeIndex]?.name, what: `cannot encode: ${what}` });
  };
  const blobs: { offset: number; p: Param }[] = [];
  let end = 0;
  if (!m || !Array.isArray(m.nodes)) fail('nodes is not an array');
  const nodes = m.nodes.map((n, i) => {
    if (!n || typeof n.params !== 'object' || n.params === null) fail('params is not an object', i);
    const params: Record<string, z.infer<typeof paramRefS>> = {};
    for (const name of Object.keys(n.params).sort()) {
      const p = n.params[name];
      if (!p || !(p.dtype in CTOR) || !(p.data instanceof CTOR[p.dtype])) fail(`param '${name}' data does not match its dtype`, i);
      if (!Array.isArray(p.shape) || p.data.length !== sizeOf(p.shape)) fail(`param '${name}' has ${p.data.length} elements for shape [${p.shape}]`, i);
      const offset = align(end);
      const length = p.data.length * BYTES[p.dtype];
      blobs.push({ offset, p });
      end = offset + length;
      params[name] = { dtype: p.dtype, length, offset, shape: p.shape.slice() };
    }
    return { attrs: n.attrs, inputs: n.inputs, name: n.name, op: n.op, output: n.output, params };
  });
  const header = {
    blobLength: end,
    format: m.format,
    inputs: m.inputs,
    name: m.name,
    nodes,
    outputs: m.outputs,
    source: m.source,
    tensors: m.tensors?.map((t) => ({ dtype: t.dtype, id: t.id, layout: t.layout, name: t.name, scale: t.scale, shape: t.shape, zeroPoint: t.zeroPoint })),
    version: m.version,
  };
  const parsed = headerS.safeParse(header);
  if (!parsed.success) fail(zodReason(parsed.error));
  const json = new TextEncoder().encode(canonicalJson(header));
  const P = align(8 + json.length);
  const out = new Uint8Array(P + end);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, json.length, true);
  out.set(json, 8);
  for (const { offset, p } of blobs) {
    const at = P + offset;
    if (p.dtype === 'i32') {
      const d = p.data as Int32Array;
      for (let i = 0; i < d.length; i++) dv.setInt32(at + 4 * i, d[i], true);
    } else {
      out.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.length), at);
    }
  }
  return out;
}

/** Parses and validates VQM1 bytes into a QModel. Throws FormatError (with the byte offset). */
export function decodeModel(bytes: Uint8Array): QModel {
  if (!(bytes instanceof Uint8Array)) throw new FormatError({ offset: 0, reason: 'input is not a Uint8Array' });
  const n = bytes.length;
  if (n < 8) throw new FormatError({ offset: n, reason: `truncated: ${n} bytes, a file has at least 8 (magic and header length)` });
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic.slice(0, 3) !== 'VQM') throw new FormatError({ offset: 0, reason: `bad magic ${JSON.stringify(magic)}; expected "VQM1"` });
  if (magic !== MAGIC) throw new FormatError({ offset: 3, reason: `unsupported format version byte ${JSON.stringify(magic[3])}; this engine reads "VQM1"` });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const H = dv.getUint32(4, true);
  if (8 + H > n) throw new FormatError({ offset: 4, reason: `header length ${H} runs past the end of the file (${n} bytes): truncated` });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + H));
  } catch (cause) {
    throw new FormatError({ offset: 8, reason: 'header is not valid UTF-8', cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new FormatError({ offset: 8, reason: `header is not JSON: ${(cause as Error).message}`, cause });
  }
  const parsed = headerS.safeParse(raw);
  if (!parsed.success) throw new FormatError({ offset: 8, reason: zodReason(parsed.error) });
  const h: Header = parsed.data;
  const P = align(8 + H);
  for (let i = 8 + H; i < Math.min(P, n); i++) {
    if (bytes[i] !== 0) throw new FormatError({ offset: i, reason: 'non-zero padding after the header' });
  }
  if (n < P + h.blobLength) throw new FormatError({ offset: n, reason: `truncated: the header promises ${P + h.blobLength} bytes, the file has ${n}` });
  if (n > P + h.blobLength) throw new FormatError({ offset: P + h.blobLength, reason: `${n - P - h.blobLength} trailing bytes after the blob` });

  const nodes = h.nodes.map((node, ni) => {
    const params: Record<string, Param> = {};
    for (const [name, ref] of Object.entries(node.params)) {
      const at = P + ref.offset;
      const where = `node ${ni} param '${name}'`;
      if (ref.offset % ALIGN !== 0) throw new FormatError({ offset: at, reason: `${where}: offset ${ref.offset} is not a multiple of ${ALIGN}` });
      const count = sizeOf(ref.shape);
      if (ref.length !== count * BYTES[ref.dtype]) {
        throw new FormatError({ offset: 8, reason: `${where}: length ${ref.length} ≠ ${count} elements × ${BYTES[ref.dtype]} bytes` });
      }
      if (ref.offset + ref.length > h.blobLength) {
        throw new FormatError({ offset: at, reason: `${where}: bytes ${ref.offset}..${ref.offset + ref.length} run past the blob (${h.blobLength} bytes)` });
      }
      const data: IntArray = new CTOR[ref.dtype](count);
      if (ref.dtype === 'i32') for (let i = 0; i < count; i++) data[i] = dv.getInt32(at + 4 * i, true);
      else new Uint8Array(data.buffer).set(bytes.subarray(at, at + count));
      params[name] = { dtype: ref.dtype, shape: ref.shape, data };
    }
    return { op: node.op as QModel['nodes'][number]['op'], name: node.name, inputs: node.inputs, output: node.output, attrs: node.attrs, params };
  });
  const model: QModel = {
    format: 'verity-qmodel',
    version: 1,
    name: h.name,
    inputs: h.inputs,
    outputs: h.outputs,
    tensors: h.tensors.map((t) => ({ id: t.id, name: t.name, dtype: t.dtype, shape: t.shape, scale: t.scale, zeroPoint: t.zeroPoint, layout: t.layout })),
    nodes,
    source: h.source,
  };
  // Only canonical encodings are accepted, so a file's bytes identify its model.
  let again: Uint8Array;
  try {
    again = encodeModel(model);
  } catch (cause) {
    throw new FormatError({ offset: 8, reason: `header does not describe an encodable model: ${(cause as Error).message}`, cause });
  }
  const len = Math.min(again.length, n);
  for (let i = 0; i < len; i++) {
    if (again[i] !== bytes[i]) throw new FormatError({ offset: i, reason: 'non-canonical encoding (key order, whitespace, number format, param layout or padding differ from encodeModel)' });
  }
  if (again.length !== n) throw new FormatError({ offset: len, reason: 'non-canonical encoding (length differs from encodeModel)' });
  return model;
}
