/**
 * The dot-product core of Linear, Conv (im2col) and MatMul: C = A·Bᵀ on i16 operands.
 *
 * makeGemm(M, N, K, bound, constB?) returns a runner: the caller fills A [M][K8] and (unless
 * constant) B [N][K8] — K8 = K rounded up to 8, row tails zero — and run() returns
 *   C[i·N + j] = Σ_{k<K} A[i·K8 + k] · B[j·K8 + k].
 * Two interchangeable backends, giving identical integers:
 * - WebAssembly SIMD (src/engine/wasm.ts), used when available and bound = K·max|a|·max|b|
 *   ≤ 2^31 − 1 (its i32 lanes wrap; under the bound the wrapped sum is the exact sum);
 * - JS (gemmNT below): register-blocked loops with exact Number sums, used otherwise.
 */
import { WasmGemm, wasmGemmAvailable } from '../wasm.js';

export interface Gemm {
  readonly M: number;
  readonly N: number;
  readonly K8: number;
  /** A [M][K8], to fill before run() (also the K..K8 tail of each row, with zeros). */
  a(): Int16Array;
  /** B [N][K8], to fill before run() unless the runner was made with a constant B. */
  b(): Int16Array;
  /** C [M][N] (a view valid until the next gemm runs). */
  run(): Int32Array | Float64Array;
  readonly backend: 'wasm' | 'js';
}

export const I32_MAX = 2147483647;

/** Pads rows of K values to K8 (zeros), as an Int16Array [rows][K8]. */
export function padRows(src: ArrayLike<number>, rows: number, K: number, K8: number): Int16Array {
  const out = new Int16Array(rows * K8);
  for (let r = 0; r < rows; r++) for (let k = 0; k < K; k++) out[r * K8 + k] = src[r * K + k];
  return out;
}

export function makeGemm(M: number, N: number, K: number, bound: number, constB?: Int16Array): Gemm {
  const K8 = Math.ceil(K / 8) * 8;
  if (bound <= I32_MAX && wasmGemmAvailable()) {
    const w = new WasmGemm(M, N, K, constB);
    return {
      M,
      N,
      K8,
      backend: 'wasm',
      a: () => w.a(),
      b: () => w.b(),
      run: () => w.run(),
    };
  }
  const A = new Int16Array(M * K8);
  const B = constB ?? new Int16Array(N * K8);
  const C = new Float64Array(M * N);
  return {
    M,
    N,
    K8,
    backend: 'js',
    a: () => A,
    b: () => B,
    run: () => {
      gemmNT(A, B, M, N, K8, C);
      return C;
    },
  };
}

/**
 * JS backend: C[i·N + j] = Σ_{k<K8} A[i·K8 + k]·B[j·K8 + k], register-blocked 4 rows × 4 columns
 * (each loaded value used 4 times; 16 independent accumulators) with tails. Sums are exact JS
 * integers (< 2^53); V8 keeps them in int32 registers while they fit.
 */
export function gemmNT(A: Int16Array, B: Int16Array, M: number, N: number, K: number, C: Float64Array): void {
  const aOff = 0;
  const bOff = 0;
  const cOff = 0;
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  let i = 0;
  for (; i < M4; i += 4) {
    const x0 = aOff + i * K;
    const x1 = x0 + K;
    const x2 = x1 + K;
    const x3 = x2 + K;
    const c0 = cOff + i * N;
    let j = 0;
    for (; j < N4; j += 4) {
      const w0 = bOff + j * K;
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      let c0_ = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let k = 0; k < K; k++) {
        const p = A[x0 + k];
        const q = A[x1 + k];
        const r = A[x2 + k];
        const s = A[x3 + k];
        const u0 = B[w0 + k];
        const u1 = B[w1 + k];
        const u2 = B[w2 + k];
        const u3 = B[w3 + k];
        a0 += p * u0; a1 += p * u1; a2 += p * u2; a3 += p * u3;
        b0 += q * u0; b1 += q * u1; b2 += q * u2; b3 += q * u3;
        c0_ += r * u0; c1 += r * u1; c2 += r * u2; c3 += r * u3;
        d0 += s * u0; d1 += s * u1; d2 += s * u2; d3 += s * u3;
      }
      const o = c0 + j;
      C[o] = a0; C[o + 1] = a1; C[o + 2] = a2; C[o + 3] = a3;
      const o1 = o + N;
      C[o1] = b0; C[o1 + 1] = b1; C[o1 + 2] = b2; C[o1 + 3] = b3;
      const o2 = o1 + N;
      C[o2] = c0_; C[o2 + 1] = c1; C[o2 + 2] = c2; C[o2 + 3] = c3;
      const o3 = o2 + N;
      C[o3] = d0; C[o3 + 1] = d1; C[o3 + 2] = d2; C[o3 + 3] = d3;
    }
    for (; j < N; j++) {
      const w0 = bOff + j * K;
      let a0 = 0, b0 = 0, c0_ = 0, d0 = 0;
      for (let k = 0; k < K; k++) {
        const u = B[w0 + k];
        a0 += A[x0 + k] * u;
        b0 += A[x1 + k] * u;
        c0_ += A[x2 + k] * u;
        d0 += A[x3 + k] * u;
      }
      const o = c0 + j;
      C[o] = a0;
      C[o + N] = b0;
      C[o + 2 * N] = c0_;
      C[o + 3 * N] = d0;
    }
  }
  for (; i < M; i++) {
    const x0 = aOff + i * K;
    const c0 = cOff + i * N;
    let j = 0;
    for (; j < N4; j += 4) {
      const w0 = bOff + j * K;
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let k = 0; k < K; k++) {
        const p = A[x0 + k];
        a0 += p * B[w0 + k];
        a1 += p * B[w1 + k];
        a2 += p * B[w2 + k];
        a3 += p * B[w3 + k];
      }
      const o = c0 + j;
      C[o] = a0; C[o + 1] = a1; C[o + 2] = a2; C[o + 3] = a3;
    }
    for (; j < N; j++) {
      const w0 = bOff + j * K;
      let a0 = 0;
      for (let k = 0; k < K; k++) a0 += A[x0 + k] * B[w0 + k];
      C[c0 + j] = a0;
    }
  }
}
