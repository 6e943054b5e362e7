/**
 * A deliberately naive, spec-literal implementation of docs/protocol.md §Commitments, using
 * viem's keccak256 and plain concatenation: the tree is padded to a power of two with
 * leafHash(0^32) leaves and hashed recursively. The fast implementation in src/commit must agree.
 */
import { keccak256, encodeAbiParameters, type Hex, hexToBytes } from 'viem';
import { OP_TYPES, sizeOf, type QModel, type TensorData } from '../../src/engine/ir.js';

export function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrs = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrs.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrs) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

export const k = (b: Uint8Array): Uint8Array => keccak256(b, 'bytes');
export const u32be = (x: number): number[] => [(x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255];

export function refElementBytes(t: TensorData): Uint8Array {
  const out: number[] = [];
  for (const v of t.data) {
    if (t.dtype === 'i32') out.push(...u32be(v >>> 0));
    else out.push(v & 255);
  }
  return Uint8Array.from(out);
}

export function refWords(bytes: Uint8Array): Uint8Array[] {
  const n = Math.max(1, Math.ceil(bytes.length / 32));
  const words: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Uint8Array(32);
    w.set(bytes.subarray(32 * i, Math.min(bytes.length, 32 * i + 32)));
    words.push(w);
  }
  return words;
}

export function refMerkleRoot(words: Uint8Array[]): Uint8Array {
  let size = 1;
  while (size < words.length) size *= 2;
  let level: Uint8Array[] = [];
  for (let i = 0; i < size; i++) level.push(k(cat([0], i < words.length ? words[i] : new Uint8Array(32))));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(k(cat([1], level[i], level[i + 1])));
    level = next;
  }
  return level[0];
}

const DT = { i8: 1, u8: 2, i32: 3 } as const;

export function refTensorRoot(t: TensorData): Uint8Array {
  const n = sizeOf(t.shape);
  return k(cat([2, DT[t.dtype]], u32be(n), [t.shape.length], ...t.shape.map(u32be), refMerkleRoot(refWords(refElementBytes(t)))));
}

export function refTraceRoot(trace: TensorData[]): Uint8Array {
  const roots = trace.map(refTensorRoot);
  return k(cat([3], u32be(roots.length), refMerkleRoot(roots.length ? roots : [new Uint8Array(32)])));
}

function nameB32(s: string): Hex {
  const b = new TextEncoder().encode(s);
  const w = new Uint8Array(32);
  w.set(b);
  return ('0x' + Buffer.from(w).toString('hex')) as Hex;
}

/** Header encoded independently (same ABI, hand-built values, JS default sort = byte sort for ASCII). */
export function refHeader(model: QModel, i: number): Uint8Array {
  const node = model.nodes[i];
  const meta = (id: number) => {
    const t = model.tensors[id];
    return { dtype: DT[t.dtype], layout: t.layout === 'nhwc' ? 1 : 0, zeroPoint: t.zeroPoint, shape: t.shape };
  };
  const keys = Object.keys(node.attrs).sort();
  const flat: bigint[] = [];
  for (const key of keys) {
    const v = node.attrs[key];
    if (Array.isArray(v)) flat.push(BigInt(v.length), ...v.map(BigInt));
    else flat.push(-1n, BigInt(v));
  }
  const tm = [
    { name: 'dtype', type: 'uint8' },
    { name: 'layout', type: 'uint8' },
    { name: 'zeroPoint', type: 'int32' },
    { name: 'shape', type: 'uint32[]' },
  ] as const;
  const hex = encodeAbiParameters(
    [
      {
        type: 'tuple',
        components: [
          { name: 'op', type: 'uint8' },
          { name: 'inputs', type: 'uint32[]' },
          { name: 'output', type: 'uint32' },
          { name: 'inputMeta', type: 'tuple[]', components: tm },
          { name: 'outputMeta', type: 'tuple', components: tm },
          { name: 'attrKeys', type: 'bytes32[]' },
          { name: 'attrsFlat', type: 'int256[]' },
          { name: 'params', type: 'tuple[]', components: [{ name: 'name', type: 'bytes32' }, { name: 'dtype', type: 'uint8' }, { name: 'shape', type: 'uint32[]' }] },
        ],
      },
    ],
    [
      {
        op: OP_TYPES.indexOf(node.op),
        inputs: node.inputs,
        output: node.output,
        inputMeta: node.inputs.map(meta),
        outputMeta: meta(node.output),
        attrKeys: keys.map(nameB32),
        attrsFlat: flat,
        params: Object.keys(node.params).sort().map((n) => ({ name: nameB32(n), dtype: DT[node.params[n].dtype], shape: node.params[n].shape })),
      },
    ],
  );
  return hexToBytes(hex);
}

export function refModelRoot(model: QModel): Uint8Array {
  const commits = model.nodes.map((node, i) => {
    const roots = Object.keys(node.params).sort().map((n) => refTensorRoot(node.params[n]));
    return k(cat([4], k(refHeader(model, i)), refMerkleRoot(roots.length ? roots : [new Uint8Array(32)])));
  });
  return k(cat([5], u32be(commits.length), refMerkleRoot(commits.length ? commits : [new Uint8Array(32)])));
}
