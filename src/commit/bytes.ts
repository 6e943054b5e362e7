/**
 * Element bytes of tensors (docs/protocol.md §Commitments "Element bytes"):
 * i8 and u8 are one byte per element (i8 two's complement), i32 is 4 bytes big-endian; a tensor's
 * bytes are its elements in row-major order of its stored shape. Also the dtype codes and the
 * 0x-hex helpers used by the chain code (viem `Hex`).
 */
import { bytesToHex, hexToBytes, isHex, type Hex } from 'viem';
import type { DType, IntArray } from '../engine/ir.js';
import { EncodingError } from './errors.js';

/** dtype codes used in tensorRoot and node headers. */
export const DTYPE_CODES: Readonly<Record<DType, number>> = { i8: 1, u8: 2, i32: 3 };
const CODE_TO_DTYPE: Readonly<Record<number, DType>> = { 1: 'i8', 2: 'u8', 3: 'i32' };

export function dtypeCode(dtype: DType): number {
  const c = DTYPE_CODES[dtype];
  if (c === undefined) throw new EncodingError(`Unknown dtype "${String(dtype)}".`, { details: 'Expected i8, u8 or i32.' });
  return c;
}

export function dtypeFromCode(code: number): DType {
  const d = CODE_TO_DTYPE[code];
  if (d === undefined) throw new EncodingError(`Unknown dtype code ${code}.`, { details: 'Expected 1 (i8), 2 (u8) or 3 (i32).' });
  return d;
}

/** Bytes per element: 1 for i8/u8, 4 for i32. */
export function elementSize(dtype: DType): number {
  return dtype === 'i32' ? 4 : 1;
}

/** Anything with dtype, shape and data: a trace TensorData or a model Param. */
export interface TensorLike {
  dtype: DType;
  shape: readonly number[];
  data: IntArray;
}

export const MAX_U32 = 0xffffffff;

/** Checks shape (rank ≤ 255, dims and element count uint32) and that data matches dtype and
 *  shape; returns the element count. `what` names the tensor in errors. */
export function checkTensor(t: TensorLike, what = 'tensor'): number {
  if (!Array.isArray(t.shape)) throw new EncodingError(`Shape of ${what} is not an array.`);
  if (t.shape.length > 255) {
    throw new EncodingError(`Rank of ${what} does not fit in a uint8.`, { details: `rank ${t.shape.length} > 255` });
  }
  let n = 1;
  for (let i = 0; i < t.shape.length; i++) {
    const d = t.shape[i];
    if (!Number.isInteger(d) || d < 0 || d > MAX_U32) {
      throw new EncodingError(`Dimension ${i} of ${what} is not a uint32.`, { details: `shape[${i}] = ${d}, shape [${t.shape.join(', ')}]` });
    }
    n *= d;
  }
  if (n > MAX_U32) {
    throw new EncodingError(`Element count of ${what} does not fit in a uint32.`, { details: `shape [${t.shape.join(', ')}] has ${n} elements` });
  }
  const ok =
    (t.dtype === 'i8' && t.data instanceof Int8Array) ||
    (t.dtype === 'u8' && t.data instanceof Uint8Array) ||
    (t.dtype === 'i32' && t.data instanceof Int32Array);
  if (!ok) {
    throw new EncodingError(`Data of ${what} does not match its dtype.`, {
      details: `dtype ${String(t.dtype)} but data is a ${t.data?.constructor?.name ?? typeof t.data}`,
      hint: 'i8 → Int8Array, u8 → Uint8Array, i32 → Int32Array.',
    });
  }
  if (t.data.length !== n) {
    throw new EncodingError(`Data length of ${what} does not match its shape.`, {
      details: `shape [${t.shape.join(', ')}] has ${n} elements, data has length ${t.data.length}`,
    });
  }
  return n;
}

/**
 * The tensor's element bytes (row-major; i32 big-endian). For i8/u8 this is a view of the
 * tensor's own memory (no copy): do not write to it.
 */
export function tensorBytes(t: TensorLike, what = 'tensor'): Uint8Array {
  checkTensor(t, what);
  const d = t.data;
  if (t.dtype !== 'i32') return new Uint8Array(d.buffer, d.byteOffset, d.length);
  const out = new Uint8Array(d.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.length; i++) view.setInt32(4 * i, d[i], false);
  return out;
}

/** Decode element `index` of a dtype from its bytes (the inverse of tensorBytes). */
export function decodeElement(bytes: Uint8Array, dtype: DType, index: number): number {
  if (dtype === 'i32') {
    const o = 4 * index;
    return ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) | 0;
  }
  const b = bytes[index];
  return dtype === 'i8' ? (b << 24) >> 24 : b;
}

/** Number of 32-byte words of a byte length (the last one zero-padded). */
export function wordCount(byteLength: number): number {
  return Math.ceil(byteLength / 32);
}

/** Number of Merkle leaves for a byte length: max(1, wordCount) (an empty tensor has one zero leaf). */
export function leafCountOfBytes(byteLength: number): number {
  return Math.max(1, wordCount(byteLength));
}

// ---------------------------------------------------------------------------------------------
// Hex helpers

/** A 32-byte root as 0x-prefixed lowercase hex (viem `Hex`). */
export function hexRoot(root: Uint8Array): Hex {
  if (!(root instanceof Uint8Array) || root.length !== 32) {
    throw new EncodingError('A root must be 32 bytes.', { details: `got length ${root?.length}` });
  }
  return bytesToHex(root);
}

/** Parse a 0x-prefixed 32-byte hex root. */
export function rootFromHex(hex: Hex | string): Uint8Array {
  if (typeof hex !== 'string' || !isHex(hex, { strict: true }) || hex.length !== 66) {
    throw new EncodingError('A hex root must be 0x followed by 64 hex digits.', { details: `got "${String(hex).slice(0, 80)}" (length ${String(hex).length})` });
  }
  return hexToBytes(hex as Hex);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Accept a root as bytes or hex. */
export function asRoot(root: Uint8Array | Hex): Uint8Array {
  return typeof root === 'string' ? rootFromHex(root) : root;
}

/** `count` 0x-hex 32-byte digests written back to back (66 chars each, as the native addon returns them), split. */
export function splitHexes(s: string, count: number): Hex[] {
  const out = new Array<Hex>(count);
  for (let i = 0; i < count; i++) out[i] = s.slice(66 * i, 66 * i + 66) as Hex;
  return out;
}
