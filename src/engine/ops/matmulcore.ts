/**
 * The integer matrix-product core shared by MatMul, MatMulInteger and QLinearMatMul:
 *   acc[.., i, j] = Σ_k (a[.., i, k] − aZero_i)·(b[.., k, j] − bZero_j)
 * with numpy matmul shape rules (rank-1 operands promoted and the added axis dropped, batch axes
 * broadcast). aZero is per row (or scalar), bZero per column (or scalar).
 *
 * Per output matrix a run writes a − aZero and b − bZero (transposed to [N][K] unless transB) as the
 * i16 operands of a GEMM (gemm.ts) whose accumulators the op's epilogue requantizes or stores.
 */
import type { IntArray } from '../ir.js';
import { sizeOf } from '../ir.js';
import { broadcastIndexMap, broadcastShapes, fmtShape, NodeContext } from './common.js';
import { makeGemm } from './gemm.js';

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
 * The GEMM of one output matrix: run(a, b, t) fills the operands of output matrix t (a − aZero per
 * row, b − bZero per column, b transposed to [N][K] unless transB) and returns its accumulators
 * C[i·N + j] (a view valid until the next GEMM). aDev/bDev bound |a − aZero| and |b − bZero|
 * (for the choice of GEMM backend).
 */
export function makeMatMulCore(
  plan: MatMulPlan,
  transB: boolean,
  aZero: Float64Array,
  bZero: Float64Array,
  aDev = 255,
  bDev = 255,
): { run: (a: IntArray, b: IntArray, t: number) => Int32Array | Float64Array } {
  const { M, K, N, aMat, bMat } = plan;
  const gemm = makeGemm(M, N, K, K * aDev * bDev);
  const K8 = gemm.K8;
  const run = (a: IntArray, b: IntArray, t: number): Int32Array | Float64Array => {
    const A = gemm.a();
    const ab = aMat[t] * M * K;
    for (let i = 0; i < M; i++) {
      const z = aZero[i];
      const src = ab + i * K;
      const dst = i * K8;
      for (let k = 0; k < K; k++) A[dst + k] = a[src + k] - z;
      for (let k = K; k < K8; k++) A[dst + k] = 0;
    }
    const B = gemm.b();
    const bb = bMat[t] * N * K;
    if (transB) {
      for (let j = 0; j < N; j++) {
        const z = bZero[j];
        const src = bb + j * K;
        const dst = j * K8;
        for (let k = 0; k < K; k++) B[dst + k] = b[src + k] - z;
        for (let k = K; k < K8; k++) B[dst + k] = 0;
      }
    } else {
      for (let j = 0; j < N; j++) {
        const z = bZero[j];
        const dst = j * K8;
        for (let k = 0; k < K; k++) B[dst + k] = b[bb + k * N + j] - z;
        for (let k = K; k < K8; k++) B[dst + k] = 0;
      }
    }
    return gemm.run();
  };
  return { run };
}

/** Largest |q − z| for q in the dtype range [min, max] over the zero points z. */
export function maxDeviation(zeros: Float64Array, min: number, max: number): number {
  let d = 0;
  for (let i = 0; i < zeros.length; i++) d = Math.max(d, zeros[i] - min, max - zeros[i]);
  return d;
}
