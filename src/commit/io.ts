/**
 * Task input / output commitments (docs/protocol.md §Task market): inputHash = keccak256(0x06 ‖ uint32 n ‖ roots),
 * outputHash = keccak256(0x07 ‖ uint32 n ‖ roots), over the tensor roots of the inputs or the outputs. The market
 * stores them, the dispute game checks them, the page recomputes them: this is the one spelling.
 */
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { checkTensor, DTYPE_CODES, splitHexes, type TensorLike } from './bytes.js';
import { EncodingError } from './errors.js';
import { keccak256, nativeHashing, PREFIX, ZERO_HASHES } from './keccak.js';

type NativeHashing = NonNullable<ReturnType<typeof nativeHashing>>;
import { tensorRoot } from './tensor.js';

export type IoPrefix = typeof PREFIX.inputs | typeof PREFIX.outputs;

/** keccak256(prefix ‖ uint32 n ‖ roots), the digest the game checks; `roots` are 32-byte tensor roots. */
export function ioDigest(prefix: IoPrefix, roots: readonly (Hex | Uint8Array)[]): Hex {
  const out = new Uint8Array(5 + 32 * roots.length);
  out[0] = prefix;
  new DataView(out.buffer).setUint32(1, roots.length, false);
  roots.forEach((r, i) => out.set(typeof r === 'string' ? hexToBytes(r) : r, 5 + 32 * i));
  return bytesToHex(keccak256(out));
}

/** The task's input commitment over the tensor root of each input. */
export function inputHashOf(inputs: readonly TensorLike[]): Hex {
  return ioDigest(PREFIX.inputs, inputs.map((t, i) => tensorRoot(t, `input ${i}`)));
}

/** The result's output commitment over the tensor root of each output. */
export function outputHashOf(outputs: readonly TensorLike[]): Hex {
  const nat = nativeHashing();
  if (nat?.outputHashes) {
    const h = outputs.length === 1 ? nativeOutputHash(nat.outputHashes, outputs[0]!) : nativeOutputHashes([outputs])?.[0];
    if (h) return h;
  }
  return ioDigest(PREFIX.outputs, outputs.map((t, i) => tensorRoot(t, `output ${i}`)));
}

/** A reused spec for nativeOutputHash (the addon reads only the entries spec[0] = 1 says it has). */
let spec1 = new Int32Array(16);

/**
 * Where nativeOutputHash copies an output of up to SMALL bytes, viewed as each dtype: the addon then always gets this
 * one typed array. A model's output is often a fresh small typed array, held in the JS heap, and handing a fresh one
 * to N-API first moves its bytes out of the heap (~1.5 µs on wine-mlp's 3 bytes, as much as the three hashes).
 */
const SMALL = 4096;
const small = new ArrayBuffer(SMALL);
const smallU8 = new Uint8Array(small);
const smallI8 = new Int8Array(small);
const smallI32 = new Int32Array(small);

/** outputHashOf of one output, natively (the single-inference honest path). */
function nativeOutputHash(outputHashes: NonNullable<NativeHashing['outputHashes']>, o: TensorLike): Hex {
  checkTensor(o, 'output 0');
  const rank = o.shape.length;
  if (spec1.length < 3 + rank) spec1 = new Int32Array(3 + rank);
  spec1[0] = 1;
  spec1[1] = DTYPE_CODES[o.dtype];
  spec1[2] = rank;
  for (let k = 0; k < rank; k++) spec1[3 + k] = o.shape[k]!;
  const d = o.data;
  let raw: Uint8Array | Int8Array | Int32Array = d;
  if (d.byteLength <= SMALL) {
    // checkTensor matched the array's type to the dtype.
    if (d instanceof Int8Array) smallI8.set(d);
    else if (d instanceof Uint8Array) smallU8.set(d);
    else smallI32.set(d as Int32Array);
    raw = smallU8;
  }
  return outputHashes(raw, 1, spec1, zeroHashes()) as Hex;
}

/**
 * outputHashOf of each item's outputs (a batch's elements). With the native addon, one call hashes every item whose
 * outputs have the first item's dtypes and shapes (what one model gives), stage by stage over the items (native/commit.h);
 * otherwise, and for items of other shapes, outputHashOf each. The same digests either way (test/commit/io-native.test.ts).
 */
export function outputHashesOf(items: readonly (readonly TensorLike[])[]): Hex[] {
  return (nativeHashing()?.outputHashes && nativeOutputHashes(items)) || items.map(outputHashOf);
}

/**
 * outputHashesOf of `count` items given as one array per output with every item's tensor back to back (dtype and
 * shape those of one item: runBatchOutputs' layout, src/parallel/flat.ts). With the native addon and one output,
 * the array is hashed where it is (no copy, no per-item views); the same digests as outputHashesOf either way.
 */
export function outputHashesOfFlat(outputs: readonly TensorLike[], count: number): Hex[] {
  if (!Number.isInteger(count) || count < 0) throw new EncodingError(`Item count ${count} is not a non-negative integer.`);
  const sizes = outputs.map((o, t) => {
    const n = Array.isArray(o.shape) ? o.shape.reduce((a, d) => a * d, 1) : NaN;
    // One item's view through checkTensor: the shape's dims, the element count, and the array type against the dtype.
    if (o.data.length === n * count && count > 0) checkTensor({ dtype: o.dtype, shape: o.shape, data: o.data.subarray(0, n) }, `output ${t}`);
    else if (o.data.length !== n * count || !Number.isInteger(n)) {
      throw new EncodingError(`Data length of output ${t} is not ${count} items of its shape.`, {
        details: `shape ${JSON.stringify(o.shape)} has ${n} elements, data has length ${o.data?.length}, count ${count}`,
      });
    }
    return n;
  });
  if (count === 0) return [];
  const nat = nativeHashing();
  if (!nat?.outputHashes || outputs.length === 0) {
    return Array.from({ length: count }, (_, b) =>
      outputHashOf(outputs.map((o, t) => ({ dtype: o.dtype, shape: o.shape, data: o.data.subarray(b * sizes[t]!, (b + 1) * sizes[t]!) }))),
    );
  }
  const T = outputs.length;
  const spec = specOf(outputs);
  let raw: Uint8Array;
  if (T === 1) raw = new Uint8Array(outputs[0]!.data.buffer, outputs[0]!.data.byteOffset, outputs[0]!.data.byteLength);
  else {
    // Item-major for the addon: item b's outputs back to back.
    const bytes = outputs.map((o) => new Uint8Array(o.data.buffer, o.data.byteOffset, o.data.byteLength));
    const per = bytes.map((u) => u.length / count);
    const stride = per.reduce((a, n) => a + n, 0);
    raw = new Uint8Array(stride * count);
    for (let b = 0, off = 0; b < count; b++) {
      for (let t = 0; t < T; t++) {
        raw.set(bytes[t]!.subarray(b * per[t]!, (b + 1) * per[t]!), off);
        off += per[t]!;
      }
    }
  }
  const s = nat.outputHashes(raw, count, spec, zeroHashes());
  return count === 1 ? [s as Hex] : splitHexes(s, count);
}

/** ZERO_HASHES back to back: the padding hash of every Merkle level, for native/commit.h. */
let zeros: Uint8Array | undefined;

/** The native digests of `items`, or null when some item's outputs are not laid out as the first item's. */
function nativeOutputHashes(items: readonly (readonly TensorLike[])[]): Hex[] | null {
  const nat = nativeHashing()!;
  const count = items.length;
  if (count === 0) return [];
  const first = items[0]!;
  const T = first.length;
  let stride = 0;
  first.forEach((o, t) => {
    checkTensor(o, `output ${t}`);
    stride += o.data.byteLength;
  });
  const spec = specOf(first);
  let raw: Uint8Array;
  const d0 = first[0]?.data;
  if (count === 1 && T === 1) raw = new Uint8Array(d0!.buffer, d0!.byteOffset, d0!.byteLength);
  else {
    // Each item's outputs copied in as they are in memory; a same-typed view of `raw` where the offsets allow it
    // (a plain memmove), else a byte view of the tensor.
    raw = new Uint8Array(stride * count);
    const i8 = new Int8Array(raw.buffer);
    const i32 = stride % 4 === 0 ? new Int32Array(raw.buffer) : null;
    let off = 0;
    for (let b = 0; b < count; b++) {
      const it = items[b]!;
      if (it.length !== T) return null;
      for (let t = 0; t < T; t++) {
        const o = it[t]!;
        if (o !== first[t] && !sameLayout(o, first[t]!)) return null;
        const d = o.data;
        if (d instanceof Int8Array) i8.set(d, off);
        else if (d instanceof Uint8Array) raw.set(d, off);
        else if (i32 && off % 4 === 0) i32.set(d as Int32Array, off >> 2);
        else raw.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), off);
        off += d.byteLength;
      }
    }
  }
  const s = nat.outputHashes!(raw, count, spec, zeroHashes());
  return count === 1 ? [s as Hex] : splitHexes(s, count);
}

/** The addon's layout spec of one item's outputs: T, then per output its dtype code, rank and dims. */
function specOf(outputs: readonly TensorLike[]): Int32Array {
  const spec = new Int32Array(1 + outputs.reduce((a, o) => a + 2 + o.shape.length, 0));
  spec[0] = outputs.length;
  let k = 1;
  for (const o of outputs) {
    spec[k++] = DTYPE_CODES[o.dtype];
    spec[k++] = o.shape.length;
    for (const d of o.shape) spec[k++] = d;
  }
  return spec;
}

function zeroHashes(): Uint8Array {
  if (!zeros) {
    zeros = new Uint8Array(32 * ZERO_HASHES.length);
    ZERO_HASHES.forEach((z, i) => zeros!.set(z, 32 * i));
  }
  return zeros;
}

function sameLayout(o: TensorLike, f: TensorLike): boolean {
  if (o.dtype !== f.dtype || o.data.constructor !== f.data.constructor || o.data.length !== f.data.length || o.shape.length !== f.shape.length) return false;
  for (let k = 0; k < o.shape.length; k++) if (o.shape[k] !== f.shape[k]) return false;
  return true;
}
