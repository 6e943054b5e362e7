/** Operand resolution, broadcasting, requantization attrs and tabulation shared by Add and Mul (b is an input or params.b). */
import type { DType, IntArray } from '../ir.js';
import { allocate } from '../ir.js';
import { batchKernel, broadcastIndexMap, broadcastShapes, fmtShape, type Kernel, NodeContext, sameShape } from './common.js';
import { multAttr, outRange, shiftAttr, zeroAttr } from './quant.js';

export interface BinaryPlan {
  ad: DType;
  bd: DType;
  /** params.b data when b is a param. */
  bConst: IntArray | null;
  n: number;
  /** Element counts of a and b (per item). */
  aSize: number;
  bSize: number;
  /** Index maps into a and b per output element; null when the operand already has the output shape. */
  aMap: Int32Array | null;
  bMap: Int32Array | null;
}

/**
 * The plan and requantization attrs of Add and Mul: 8-bit operands, an i8, u8 or i32 output, the three zero
 * points, the mult attrs named `multNames` (in that order), shift and the output clamp.
 */
export function planQuantBinary(
  ctx: NodeContext,
  multNames: readonly string[],
): { plan: BinaryPlan; yd: DType; aZero: number; bZero: number; yZero: number; mults: number[]; shift: number; lo: number; hi: number } {
  const plan = planBinary(ctx, ['i8', 'u8']);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  const aZero = zeroAttr(ctx, 'aZero', plan.ad);
  const bZero = zeroAttr(ctx, 'bZero', plan.bd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const mults = multNames.map((m) => multAttr(ctx, m));
  const shift = shiftAttr(ctx);
  const { lo, hi } = outRange(ctx, yd);
  return { plan, yd, aZero, bZero, yZero, mults, shift, lo, hi };
}

export function planBinary(ctx: NodeContext, allowed: readonly DType[]): BinaryPlan {
  const bIsParam = ctx.hasParam('b');
  ctx.arity(bIsParam ? 1 : 2);
  ctx.onlyParams(bIsParam ? ['b'] : []);
  const ad = ctx.inDtype(0, allowed);
  const aShape = ctx.inputs[0].shape;
  let bd: DType;
  let bShape: readonly number[];
  let bConst: IntArray | null = null;
  if (bIsParam) {
    const p = ctx.param('b', allowed);
    bd = p.dtype;
    bShape = p.shape;
    bConst = p.data;
  } else {
    bd = ctx.inDtype(1, allowed);
    bShape = ctx.inputs[1].shape;
  }
  const outShape = broadcastShapes(aShape, bShape);
  if (!outShape) ctx.fail(`operands do not broadcast: a ${fmtShape(aShape)}, b ${fmtShape(bShape)}`);
  ctx.outShape(outShape);
  const n = outShape.reduce((x, y) => x * y, 1);
  return {
    ad,
    bd,
    bConst,
    n,
    aSize: aShape.reduce((x, y) => x * y, 1),
    bSize: bShape.reduce((x, y) => x * y, 1),
    aMap: sameShape(aShape, outShape) ? null : broadcastIndexMap(aShape, outShape),
    bMap: sameShape(bShape, outShape) ? null : broadcastIndexMap(bShape, outShape),
  };
}

/**
 * Since a and b are 8-bit, a binary op has only 256·256 input pairs: prepare tabulates
 * y = f(a, b) (the op's exact formula, clamp included) at index (a + aBase)·256 + (b + bBase), and
 * a run is one table load per element.
 */
export function tabulate(plan: BinaryPlan, yd: DType, f: (a: number, b: number) => number): { table: IntArray; aBase: number; bBase: number } {
  const aBase = plan.ad === 'i8' ? 128 : 0;
  const bBase = plan.bd === 'i8' ? 128 : 0;
  const table = allocate(yd, 65536);
  for (let qa = 0; qa < 256; qa++) for (let qb = 0; qb < 256; qb++) table[qa * 256 + qb] = f(qa - aBase, qb - bBase);
  return { table, aBase, bBase };
}

/** Runs a tabulated binary op (see tabulate); a batch runs item by item with the same index maps. */
export function tableKernel(plan: BinaryPlan, t: { table: IntArray; aBase: number; bBase: number }): Kernel {
  const { n, bConst, aSize, bSize } = plan;
  const { table, aBase, bBase } = t;
  const direct = !plan.aMap && !plan.bMap;
  const aMap = plan.aMap ?? identityMap(n);
  const bMap = plan.bMap ?? identityMap(n);
  return batchKernel((ins, out, B) => {
    const a = ins[0].data;
    const b = bConst ?? ins[1].data;
    const y = out.data;
    for (let item = 0; item < B; item++) {
      const ao = item * aSize;
      const bo = bConst ? 0 : item * bSize;
      const yo = item * n;
      if (direct) {
        for (let i = 0; i < n; i++) y[yo + i] = table[((a[ao + i] + aBase) << 8) | (b[bo + i] + bBase)];
      } else {
        for (let i = 0; i < n; i++) y[yo + i] = table[((a[ao + aMap[i]] + aBase) << 8) | (b[bo + bMap[i]] + bBase)];
      }
    }
  });
}

/** Identity map 0..n−1 (so the general loop handles a mix of mapped and unmapped operands). */
export function identityMap(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}
