/** Validation helpers for the requantization attrs/params shared by several ops. */
import type { DType, Param } from '../ir.js';
import { DTYPE_MAX, DTYPE_MIN, NodeContext } from './common.js';
import { MULT_LIMIT, SHIFT_MAX, SHIFT_MIN } from '../fixedpoint.js';

/** Output clamp bounds lo..hi (attrs, defaulting to the output dtype range) inside that range. */
export function outRange(ctx: NodeContext, dtype: DType, withAttrs = true): { lo: number; hi: number } {
  const min = DTYPE_MIN[dtype];
  const max = DTYPE_MAX[dtype];
  if (!withAttrs) return { lo: min, hi: max };
  const lo = ctx.int('lo', min, max, min);
  const hi = ctx.int('hi', min, max, max);
  if (lo > hi) ctx.fail(`attr lo = ${lo} > hi = ${hi}`);
  return { lo, hi };
}

/** A zero-point attr that must lie in the dtype's range. */
export function zeroAttr(ctx: NodeContext, name: string, dtype: DType, def?: number): number {
  return ctx.int(name, DTYPE_MIN[dtype], DTYPE_MAX[dtype], def);
}

export function multAttr(ctx: NodeContext, name = 'mult'): number {
  return ctx.int(name, 0, MULT_LIMIT - 1);
}

export function shiftAttr(ctx: NodeContext, name = 'shift'): number {
  return ctx.int(name, SHIFT_MIN, SHIFT_MAX);
}

/** Per-channel (or scalar) mult/shift params of the given allowed sizes, range-checked. */
export function multShiftParams(
  ctx: NodeContext,
  sizes: readonly number[],
): { mult: Param; shift: Param } {
  const mult = ctx.param('mult', ['i32'], { size: sizes });
  const shift = ctx.param('shift', ['i32'], { size: sizes });
  ctx.paramRange('mult', mult, 0, MULT_LIMIT - 1);
  ctx.paramRange('shift', shift, SHIFT_MIN, SHIFT_MAX);
  return { mult, shift };
}

/** Expands a scalar-or-vector param to a Float64Array of n entries. */
export function expand(p: Param | undefined, n: number, def = 0): Float64Array {
  const out = new Float64Array(n);
  if (!p) {
    out.fill(def);
    return out;
  }
  if (p.data.length === 1) out.fill(p.data[0]);
  else for (let i = 0; i < n; i++) out[i] = p.data[i];
  return out;
}
