/**
 * The integer matrix-product core shared by MatMul, MatMulInteger and QLinearMatMul:
 *   acc[.., i, j] = Σ_k (a[.., i, k] − aZero_i)·(b[.., k, j] − bZero_j)
 * with numpy matmul shape rules (rank-1 operands promoted and the added axis dropped, batch axes
 * broadcast). aZero is per row (or scalar), bZero per column (or scalar).
 *
 * A run converts a − aZero to an Int32 scratch and b − bZero to an Int32 scratch laid out [.., N, K]
 * (transposed unless transB), so every dot product reads two contiguous K-runs; accumulators land
 * in a Float64Array (exact: integers below 2^53) that the op's epilogue requantizes or stores.
 */
import type { IntArray } from '../ir.js';
import { sizeOf } from '../ir.js';
import { broadcastIndexMap, broadcastShapes, fmtShape, NodeContext } from './common.js';

export interface MatMulPlan {
  outShape: number[];
  M: number;
  K: number;
  N: number;
  /** Number of output matrices. */
  batches: number;
  /** Per output matrix: index of the a matrix and of the b matrix it reads. */
  aMat: Int32Array;
  bMat: Int32Array;
  aMats: number;
  bMats: number;
}

export function planMatMul(ctx: NodeContext, aShape: readonly number[], bShape: readonly number[], transB: boolean): MatMulPlan {
  if (aShape.length < 1 || bShape.length < 1) ctx.fail('MatMul operands must have rank ≥ 1');
  const a = aShape.length === 1 ? [1, aShape[0]] : aShape.slice();
  const b = bShape.length === 1 ? (transB ? [1, bShape[0]] : [bShape[0], 1]) : bShape.slice();
  const M = a[a.length - 2];
  const K = a[a.length - 1];
  const Kb = transB ? b[b.length - 1] : b[b.length - 2];
  const N = transB ? b[b.length - 2] : b[b.length - 1];
  if (K !== Kb) {
    ctx.fail(`inner dimensions differ: a ${fmtShape(aShape)}, b ${fmtShape(bShape)}${transB ? ' (transB)' : ''}`);
  }
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const outBatch = broadcastShapes(aBatch, bBatch);
  if (!outBatch) ctx.fail(`batch dimensions do not broadcast: a ${fmtShape(aShape)}, b ${fmtShape(bShape)}`);
  const outShape = [...outBatch];
  if (aShape.length !== 1) outShape.push(M);
  if (bShape.length !== 1) outShape.push(N);
  return {
    outShape,
    M,
    K,
    N,
    batches: sizeOf(outBatch),
    aMat: broadcastIndexMap(aBatch, outBatch),
    bMat: broadcastIndexMap(bBatch, outBatch),
    aMats: sizeOf(aBatch),
    bMats: sizeOf(bBatch),
  };
}

/**
 * Returns a function computing all accumulators of a run into `acc` (length batches·M·N, row-major
 * over the output). aZero has M entries (per row), bZero N entries (per column).
 */
export function makeMatMulCore(
  plan: MatMulPlan,
  transB: boolean,
  aZero: Float64Array,
  bZero: Float64Array,
): { acc: Float64Array; run: (a: IntArray, b: IntArray) => void } {
  const { M, K, N, batches, aMat, bMat, aMats, bMats } = plan;
  const as = new Int32Array(aMats * M * K);
  const bt = new Int32Array(bMats * N * K);
  const acc = new Float64Array(batches * M * N);
  const K4 = K - (K % 4);
  const run = (a: IntArray, b: IntArray): void => {
    for (let t = 0; t < aMats; t++) {
      for (let i = 0; i < M; i++) {
        const o = (t * M + i) * K;
        const z = aZero[i];
        for (let k = 0; k < K; k++) as[o + k] = a[o + k] - z;
      }
    }
    if (transB) {
      for (let t = 0; t < bMats; t++) {
        for (let j = 0; j < N; j++) {
          const o = (t * N + j) * K;
          const z = bZero[j];
          for (let k = 0; k < K; k++) bt[o + k] = b[o + k] - z;
        }
      }
    } else {
      for (let t = 0; t < bMats; t++) {
        const src = t * K * N;
        const dst = t * N * K;
        for (let k = 0; k < K; k++) {
          for (let j = 0; j < N; j++) bt[dst + j * K + k] = b[src + k * N + j] - bZero[j];
        }
      }
    }
    let o = 0;
    for (let t = 0; t < batches; t++) {
      const ab = aMat[t] * M * K;
      const bb = bMat[t] * N * K;
      for (let i = 0; i < M; i++) {
        const ao = ab + i * K;
        for (let j = 0; j < N; j++) {
          const bo = bb + j * K;
          let a0 = 0;
          let a1 = 0;
          let a2 = 0;
          let a3 = 0;
          let k = 0;
          for (; k < K4; k += 4) {
            a0 += as[ao + k] * bt[bo + k];
            a1 += as[ao + k + 1] * bt[bo + k + 1];
            a2 += as[ao + k + 2] * bt[bo + k + 2];
            a3 += as[ao + k + 3] * bt[bo + k + 3];
          }
          for (; k < K; k++) a0 += as[ao + k] * bt[bo + k];
          acc[o++] = a0 + a1 + a2 + a3;
        }
      }
    }
  };
  return { acc, run };
}

/** Largest |q − z| for q in the dtype range [min, max] over the zero points z. */
export function maxDeviation(zeros: Float64Array, min: number, max: number): number {
  let d = 0;
  for (let i = 0; i < zeros.length; i++) d = Math.max(d, zeros[i] - min, max - zeros[i]);
  return d;
}
