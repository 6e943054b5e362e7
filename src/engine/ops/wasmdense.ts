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

/** Runs the requant+clamp epilogue on C [rows][N] (i32, at co) into the output (at yo). */
export type Requant = (co: number, yo: number, rows: number) => void;

/**
 * The epilogue y = clamp(yZero + requant(C + bias_j, mult_j, shift_j), lo, hi) of a dense op whose
 * accumulators satisfy |C| ≤ maxAbsAcc. When |C + bias| < 2^31 and the shifts span at most 16 below
 * max(32, largest shift) it runs on 32×32→64-bit lane products (exact: see wasm.ts requantMulFn).
 * Otherwise, when every channel can share the largest shift S — with
 * MW_j = mult_j·2^(S − shift_j), floor((v·m + 2^(s−1)) / 2^s) = floor((v·MW + 2^(S−1)) / 2^S) exactly
 * (numerator and denominator scaled by 2^(S−s)) — and |(C + bias)·MW| + 2^(S−1) < 2^62 (no i64
 * overflow), the vector kernel runs four channels at a time; otherwise the scalar i64 kernel.
 */
export function makeRequant(
  w: WasmKernels,
  yd: DType,
  N: number,
  mult: ArrayLike<number>,
  shift: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  maxAbsAcc: number,
  yZero: number,
  lo: number,
  hi: number,
): Requant {
  const at = (a: ArrayLike<number>, j: number): number => (a.length === 1 ? a[0] : a[j]);
  let S = 0;
  let maxBias = 0;
  for (let j = 0; j < N; j++) {
    S = Math.max(S, at(shift, j));
    if (bias) maxBias = Math.max(maxBias, Math.abs(bias[j]));
  }
  const N4 = Math.ceil(N / 4) * 4;
  let sMin = 64;
  for (let j = 0; j < N; j++) sMin = Math.min(sMin, at(shift, j));
  const S32 = Math.max(32, S);
  // (|hi32(p) >> (S − 32)| < 2^30, so adding yZero stays in i32 when |yZero| < 2^30.)
  if (maxAbsAcc + maxBias < 2 ** 31 && S32 - sMin <= 16 && Math.abs(yZero) < 2 ** 30) {
    // 32×32→64-bit products (see wasm.ts requantMulFn): MW_j = mult_j·2^(S32 − shift_j) < 2^31.
    const b = new Int32Array(N4);
    const mw = new Int32Array(N4);
    for (let j = 0; j < N; j++) {
      if (bias) b[j] = bias[j];
      mw[j] = at(mult, j) * 2 ** (S32 - at(shift, j));
    }
    const Bi = resident(b);
    const MW = resident(mw);
    const f = yd === 'i32' ? w.rqm32 : yd === 'u8' ? w.rqm8u : w.rqm8s;
    return (co, yo, rows) => f(co, Bi.off, MW.off, yo, rows, N, S32, yZero, lo, hi);
  }
  let maxMW = 0;
  for (let j = 0; j < N; j++) maxMW = Math.max(maxMW, at(mult, j) * 2 ** (S - at(shift, j)));
  if ((maxAbsAcc + maxBias) * maxMW + 2 ** (S - 1) < 2 ** 61) {
    const b = new Int32Array(N4);
    const mw = new BigInt64Array(N4);
    for (let j = 0; j < N; j++) {
      if (bias) b[j] = bias[j];
      mw[j] = BigInt(at(mult, j)) << BigInt(S - at(shift, j));
    }
    const B = resident(b);
    const MW = resident(mw);
    const f = yd === 'i32' ? w.rqv32 : yd === 'u8' ? w.rqv8u : w.rqv8s;
    return (co, yo, rows) => f(co, B.off, MW.off, yo, rows, N, S, yZero, lo, hi);
  }
  const rq = requantRegions(N, mult, shift, bias);
  const f = requantKernel(w, yd);
  return (co, yo, rows) => f(co, rq.bias.off, rq.mult.off, rq.shift.off, yo, rows * N, N, yZero, lo, hi);
}
