/**
 * MatMul (docs/ops.md §MatMul): acc = Σ_k (a − aZero)(b − bZero) with numpy batch broadcasting
 * (b's last two axes are [N,K] when transB = 1); y = clamp(yZero + requant(acc, mult, shift), lo, hi).
 *
 * Native path (when the addon is built, src/engine/native.ts): b packed per run, one fused native
 * GEMM + requant per output matrix — all items and matrices of a run in one native call (matmul).
 * WebAssembly path: a run copies a and b in, widens each b matrix once to i16 [N][K8] minus bZero
 * (a resident index map does the transposition and zero tail), runs one 8-bit-A GEMM per output
 * matrix (a − aZero widened in the kernel), then one requant+clamp epilogue over all of them.
 */
import { requantAlwaysFast, requantH } from '../fixedpoint.js';
import { batchKernel, dev, type Kernel, NodeContext } from './common.js';
import { makeMatMulCore, planMatMul } from './matmulcore.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';
import { I32_MAX } from './gemm.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, bytesOf, copyIn8, copyOut, makeRequant } from './wasmdense.js';
import { int32Table, nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(2);
  ctx.onlyParams([]);
  const ad = ctx.inDtype(0, ['i8', 'u8']);
  const bd = ctx.inDtype(1, ['i8', 'u8']);
  const transB = ctx.int('transB', 0, 1, 0) === 1;
  const plan = planMatMul(ctx, ctx.inputs[0].shape, ctx.inputs[1].shape, transB);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape(plan.outShape);
  const aZero = zeroAttr(ctx, 'aZero', ad);
  const bZero = zeroAttr(ctx, 'bZero', bd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const mult = multAttr(ctx);
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  const nat = nativeKernels();
  if (nat && plan.K * dev(ad, aZero) * dev(bd, bZero) <= I32_MAX) {
    // Native path (src/engine/native.ts), the same integers: each b matrix packed once per run as
    // b' = b (i8) or b − 128 (u8), so b − bZero = b' − wZero; one fused GEMM + requant per output matrix.
    const { batches, M, N, K, aMat, bMat, aMats, bMats } = plan;
    const mu = int32Table(N, mult);
    const shv = int32Table(N, shift);
    const sa = ad === 'i8' ? 1 : 0;
    const sb = bd === 'i8' ? 1 : 0;
    const wZero = bd === 'i8' ? bZero : bZero - 128;
    const ob = bytesOf(yd);
    const aSize = aMats * M * K;
    const bSize = bMats * N * K;
    const MN = M * N;
    if (nat.matmul) {
      const mm = nat.matmul.bind(nat);
      // One call for every item and output matrix (the loop below, in C).
      return batchKernel((ins, out, B) => {
        mm(ins[0].data as Uint8Array, sa, ins[1].data as Uint8Array, sb, transB ? 1 : 0, B, batches, M, K, N, aMat, bMat, aMats, bMats, aZero, wZero, mu, shv, yZero, lo, hi, out.data as Uint8Array, ob);
      });
    }
    const packs = Array.from({ length: bMats }, () => new ArrayBuffer(nat.packedBytes(N, K)));
    return batchKernel((ins, out, B) => {
      const a = ins[0].data as Uint8Array;
      const b = ins[1].data as Uint8Array;
      const y = out.data as Uint8Array;
      for (let item = 0; item < B; item++) {
        for (let q = 0; q < bMats; q++) nat.packAct(b.subarray(item * bSize + q * N * K, item * bSize + (q + 1) * N * K), sb, N, K, transB ? 1 : 0, packs[q]);
        for (let t = 0; t < batches; t++) {
          const ao = item * aSize + aMat[t] * M * K;
          const yo = (item * batches + t) * MN;
          nat.dense(a.subarray(ao, ao + M * K), sa, M, K, aZero, packs[bMat[t]], N, null, mu, shv, yZero, lo, hi, y.subarray(yo, yo + MN), ob, wZero);
        }
      }
    });
  }
  const w = wasmKernels();
  if (w && plan.K * dev(ad, aZero) * dev(bd, bZero) <= I32_MAX) {
    const { batches, M, N, K, aMat, bMat, aMats, bMats } = plan;
    const K8 = Math.ceil(K / 8) * 8;
    const bmap = new Int32Array(N * K8).fill(-1);
    for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) bmap[j * K8 + k] = transB ? j * K + k : k * N + j;
    const BMAP = resident(bmap);
    const requant = makeRequant(w, yd, N, [mult], [shift], undefined, plan.K * dev(ad, aZero) * dev(bd, bZero), yZero, lo, hi);
    const gemm = ad === 'i8' ? w.gemm8s : w.gemm8u;
    const widen = bd === 'i8' ? w.gather16s : w.gather16u;
    const ob = bytesOf(yd);
    const aSize = aMats * M * K;
    const bSize = bMats * N * K;
    const MN = M * N;
    return batchKernel((ins, out, B) => {
      const aBytes = align16(B * aSize);
      const bBytes = align16(B * bSize);
      const wBytes = bMats * N * K8 * 2;
      const cBytes = B * batches * MN * 4;
      const base = scratch(aBytes + bBytes + wBytes + cBytes + B * batches * MN * ob);
      const bo = base + aBytes;
      const wo = bo + bBytes;
      const co = wo + wBytes;
      const yo = co + cBytes;
      copyIn8(ad, ins[0].data, base);
      copyIn8(bd, ins[1].data, bo);
      for (let item = 0; item < B; item++) {
        for (let q = 0; q < bMats; q++) widen(BMAP.off, bo + item * bSize + q * N * K, wo + q * N * K8 * 2, N * K8, bZero);
        for (let t = 0; t < batches; t++) {
          gemm(base + item * aSize + aMat[t] * M * K, K, wo + bMat[t] * N * K8 * 2, K8 * 2, co + (item * batches + t) * MN * 4, N * 4, M, N, aZero);
        }
      }
      requant(co, yo, B * batches * M);
      copyOut(yd, out.data, yo, B * batches * MN);
    });
  }
  const core = makeMatMulCore(plan, transB, new Float64Array(plan.M).fill(aZero), new Float64Array(plan.N).fill(bZero), dev(ad, aZero), dev(bd, bZero));
  const half = 2 ** (shift - 1);
  const inv = 2 ** -shift;
  const { batches, M, N } = plan;
  const MN = M * N;
  const unchecked = requantAlwaysFast(plan.K * dev(ad, aZero) * dev(bd, bZero), mult);
  return (ins, out) => {
    const a = ins[0].data;
    const b = ins[1].data;
    const y = out.data;
    for (let t = 0; t < batches; t++) {
      const C = core.run(a, b, t);
      const o = t * MN;
      if (unchecked) {
        for (let e = 0; e < MN; e++) {
          const v = yZero + Math.floor((C[e] * mult + half) * inv);
          y[o + e] = v < lo ? lo : v > hi ? hi : v;
        }
      } else {
        for (let e = 0; e < MN; e++) {
          const v = yZero + requantH(C[e], mult, half, inv, shift);
          y[o + e] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
  };
}
