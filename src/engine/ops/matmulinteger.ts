/**
 * MatMulInteger (docs/ops.md §MatMulInteger): ONNX MatMulInteger, output i32 = the exact
 * accumulator Σ_k (a − aZero_i)(b − bZero_j). aZero is scalar or per row (M entries), bZero scalar
 * or per column (N entries); b is the second input or params.b. prepare rejects K whose accumulator
 * bound K·max|a − aZero|·max|b − bZero| could exceed 2^31 − 1.
 */
import { type Kernel, NodeContext } from './common.js';
import { dev } from './convnchw.js';
import { planOnnxMatMul } from './qlinearmatmul.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams(['b', 'aZero', 'bZero']);
  const p = planOnnxMatMul(ctx);
  ctx.outDtype(['i32']);
  ctx.outShape(p.plan.outShape);
  let ad = 0;
  for (const z of p.aZero) ad = Math.max(ad, dev(p.ad, z));
  let bd = 0;
  for (const z of p.bZero) bd = Math.max(bd, dev(p.bd, z));
  const bound = p.plan.K * ad * bd;
  if (bound > 2147483647) ctx.fail(`accumulator bound ${bound} exceeds 2^31 − 1 (K = ${p.plan.K})`);
  const { batches, M, N } = p.plan;
  const MN = M * N;
  return (ins, out) => {
    const a = ins[0].data;
    const b = p.bConst ?? ins[1].data;
    const y = out.data;
    for (let t = 0; t < batches; t++) {
      const C = p.core.run(a, b, t);
      const o = t * MN;
      for (let e = 0; e < MN; e++) y[o + e] = C[e];
    }
  };
}
