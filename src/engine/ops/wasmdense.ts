/**
 * Helpers for the WebAssembly paths of the dense ops (Linear, Conv, MatMul): resident requant
 * tables, copying 8-bit / i32 tensors in and out of the wasm heap. See src/engine/wasm.ts.
 */
import type { DType, IntArray } from '../ir.js';
import { heap, Region, resident, type WasmKernels } from '../wasm.js';

export const align16 = (n: number): number => (n + 15) & ~15;

/** Per-channel bias (default 0), mult and shift as resident i32 arrays of n entries. */
export interface RequantRegions {
  bias: Region;
  mult: Region;
  shift: Region;
}

export function requantRegions(n: number, mult: ArrayLike<number>, shift: ArrayLike<number>, bias?: ArrayLike<number>): RequantRegions {
  const b = new Int32Array(n);
  const m = new Int32Array(n);
  const s = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    if (bias) b[j] = bias[j];
    m[j] = mult.length === 1 ? mult[0] : mult[j];
    s[j] = shift.length === 1 ? shift[0] : shift[j];
  }
  return { bias: resident(b), mult: resident(m), shift: resident(s) };
}

/** Copies an 8-bit tensor's data into the heap at byte offset `off`. */
export function copyIn8(dtype: DType, data: IntArray, off: number): void {
  if (dtype === 'u8') heap.u8.set(data as Uint8Array, off);
  else heap.i8.set(data as Int8Array, off);
}

/** Bytes per element of an output dtype. */
export const bytesOf = (dtype: DType): 1 | 4 => (dtype === 'i32' ? 4 : 1);

/** The requant kernel writing the output dtype. */
export function requantKernel(w: WasmKernels, dtype: DType): WasmKernels['rq8'] {
  return dtype === 'i32' ? w.rq32 : w.rq8;
}

/** Copies n output values from the heap at byte offset `off` into y. */
export function copyOut(dtype: DType, y: IntArray, off: number, n: number): void {
  if (dtype === 'i32') (y as Int32Array).set(heap.i32.subarray(off >> 2, (off >> 2) + n));
  else if (dtype === 'u8') (y as Uint8Array).set(heap.u8.subarray(off, off + n));
  else (y as Int8Array).set(heap.i8.subarray(off, off + n));
}
