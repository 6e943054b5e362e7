/** Operand resolution and broadcasting shared by Add and Mul (b is an input or params.b). */
import type { DType, IntArray } from '../ir.js';
import { broadcastIndexMap, broadcastShapes, fmtShape, NodeContext, sameShape } from './common.js';

export interface BinaryPlan {
  ad: DType;
  bd: DType;
  /** params.b data when b is a param. */
  bConst: IntArray | null;
  n: number;
  /** Index maps into a and b per output element; null when the operand already has the output shape. */
  aMap: Int32Array | null;
  bMap: Int32Array | null;
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
    aMap: sameShape(aShape, outShape) ? null : broadcastIndexMap(aShape, outShape),
    bMap: sameShape(bShape, outShape) ? null : broadcastIndexMap(bShape, outShape),
  };
}

/** Identity map 0..n−1 (so the general loop handles a mix of mapped and unmapped operands). */
export function identityMap(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}
