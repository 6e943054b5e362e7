/**
 * QLinearMatMul (docs/ops.md §QLinearMatMul): acc as MatMulInteger;
 * y = clamp(yZero + requant(acc, mult_j, shift_j), output dtype range), mult/shift scalar or per
 * column (N entries).
 */
import type { DType, IntArray } from '../ir.js';
import { requantH, requantTable } from '../fixedpoint.js';
import { dev, type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN } from './common.js';
import { makeMatMulCore, type MatMulPlan, planMatMul } from './matmulcore.js';
import { expand, multShiftParams } from './quant.js';

export interface OnnxMatMulPlan {
  ad: DType;
  bd: DType;
  plan: MatMulPlan;
  aZero: Float64Array;
  bZero: Float64Array;
  bConst: IntArray | null;
  core: ReturnType<typeof makeMatMulCore>;
}

/** Operands, zero points and the core for MatMulInteger / QLinearMatMul (b from input or params.b). */
export function planOnnxMatMul(ctx: NodeContext): OnnxMatMulPlan {
  const bIsParam = ctx.hasParam('b');
  ctx.arity(bIsParam ? 1 : 2);
  const ad = ctx.inDtype(0, ['i8', 'u8']);
  let bd: DType;
  let bShape: readonly number[];
  let bConst: IntArray | null = null;
  if (bIsParam) {
    const p = ctx.param('b', ['i8', 'u8']);
    bd = p.dtype;
    bShape = p.shape;
    bConst = p.data;
  } else {
    bd = ctx.inDtype(1, ['i8', 'u8']);
    bShape = ctx.inputs[1].shape;
  }
  const plan = planMatMul(ctx, ctx.inputs[0].shape, bShape, false);
  const aZeroP = ctx.hasParam('aZero') ? ctx.param('aZero', [ad], { size: [1, plan.M] }) : undefined;
  const bZeroP = ctx.hasParam('bZero') ? ctx.param('bZero', [bd], { size: [1, plan.N] }) : undefined;
  const aZero = expand(aZeroP, plan.M);
  const bZero = expand(bZeroP, plan.N);
  let aDev = 0;
  for (const z of aZero) aDev = Math.max(aDev, dev(ad, z));
  let bDev = 0;
  for (const z of bZero) bDev = Math.max(bDev, dev(bd, z));
  const core = makeMatMulCore(plan, false, aZero, bZero, aDev, bDev);
  return { ad, bd, plan, aZero, bZero, bConst, core };
}

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams(['b', 'aZero', 'bZero', 'yZero', 'mult', 'shift']);
  const p = planOnnxMatMul(ctx);
  const yd = ctx.outDtype(['i8', 'u8']);
  ctx.outShape(p.plan.outShape);
  const N = p.plan.N;
  const yZeroP = ctx.hasParam('yZero') ? ctx.param('yZero', [yd], { size: 1 }) : undefined;
  const yZero = yZeroP ? yZeroP.data[0] : 0;
  const { mult, shift } = multShiftParams(ctx, [1, N]);
  const { m, half, inv, s } = requantTable(mult.data, shift.data, N);
  const lo = DTYPE_MIN[yd];
  const hi = DTYPE_MAX[yd];
  const { batches, M } = p.plan;
  return (ins, out) => {
    const a = ins[0].data;
    const b = p.bConst ?? ins[1].data;
    const y = out.data;
    let o = 0;
    for (let t = 0; t < batches; t++) {
      const C = p.core.run(a, b, t);
      let e = 0;
      for (let r = 0; r < M; r++) {
        for (let j = 0; j < N; j++, e++, o++) {
          const v = yZero + requantH(C[e], m[j], half[j], inv[j], s[j]);
          y[o] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
  };
}
