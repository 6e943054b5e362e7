/**
 * Fixed-point primitives shared by every kernel (docs/ops.md §Conventions).
 *
 * All values are integers held in JS Numbers. A Number holds every integer of magnitude ≤ 2^53
 * exactly, and +, −, · of such integers are exact while the exact result stays ≤ 2^53 in magnitude;
 * division by a power of two is exact. The functions below take a fast Number path when the
 * operands are inside those bounds (always the case for models that meet the bounds in
 * docs/ops.md: |acc| < 2^31, mult < 2^15, so |acc·mult| < 2^46) and fall back to BigInt otherwise,
 * so the result is the exact integer of the spec for any safe-integer operands.
 */
import { EngineInputError } from './errors.js';

/** 2^52: below this magnitude v + 2^(s−1) (s ≤ 46) and v·m stay exact in float64. */
const FAST = 4503599627370496;

/** Powers of two 2^0..2^62 and their inverses 2^−0..2^−62 (all exact in float64). */
export const POW2: Float64Array = Float64Array.from({ length: 63 }, (_, i) => 2 ** i);
export const INV2: Float64Array = Float64Array.from({ length: 63 }, (_, i) => 2 ** -i);

/**
 * Rounding right shift: floor((v + 2^(s−1)) / 2^s) for s ≥ 1 — round half toward +∞.
 * Equals Solidity `(v + (1 << (s-1))) >> s` on int256. v must be a safe integer; s an integer ≥ 1.
 */
export function rshr(v: number, s: number): number {
  if (v < FAST && v > -FAST && s <= 52) {
    return Math.floor((v + POW2[s - 1]) * INV2[s]);
  }
  return Number((BigInt(v) + (1n << BigInt(s - 1))) >> BigInt(s));
}

/** requant(acc, m, s) = rshr(acc·m, s), computed exactly (BigInt fallback if |acc·m| ≥ 2^52). */
export function requant(acc: number, m: number, s: number): number {
  const p = acc * m;
  if (p < FAST && p > -FAST) {
    return Math.floor((p + POW2[s - 1]) * INV2[s]);
  }
  return requantSlow(acc, m, s);
}

/**
 * requant for hot loops, with half = 2^(s−1) and inv = 2^−s precomputed per channel
 * (multiplying by an exact power of two instead of dividing).
 */
export function requantH(acc: number, m: number, half: number, inv: number, s: number): number {
  const p = acc * m;
  if (p < FAST && p > -FAST) return Math.floor((p + half) * inv);
  return requantSlow(acc, m, s);
}

/** The exact BigInt path of requant (|acc·m| ≥ 2^52; never taken within the documented bounds). */
export function requantSlow(acc: number, m: number, s: number): number {
  return Number((BigInt(acc) * BigInt(m) + (1n << BigInt(s - 1))) >> BigInt(s));
}

/**
 * Whether requant's fast path is always taken for |acc| ≤ maxAbsAcc and every mult ≤ maxMult, so a
 * kernel may use floor((acc·m + half)·inv) without the range check.
 */
export function requantAlwaysFast(maxAbsAcc: number, maxMult: number): boolean {
  return maxAbsAcc * maxMult < FAST;
}

/** Per-channel requantization constants for requantH. */
export interface RequantTable {
  m: Float64Array;
  half: Float64Array;
  inv: Float64Array;
  s: Float64Array;
}

/** Expands scalar-or-per-channel mult/shift values to n channels of requantH constants. */
export function requantTable(mult: ArrayLike<number>, shift: ArrayLike<number>, n: number): RequantTable {
  const t = { m: new Float64Array(n), half: new Float64Array(n), inv: new Float64Array(n), s: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const mi = mult.length === 1 ? mult[0] : mult[i];
    const si = shift.length === 1 ? shift[0] : shift[i];
    t.m[i] = mi;
    t.s[i] = si;
    t.half[i] = POW2[si - 1];
    t.inv[i] = INV2[si];
  }
  return t;
}

/**
 * roundDiv(a, b) = floor((2a + b) / (2b)) for b > 0: a/b rounded half toward +∞ (for negative a
 * the floor is still a floor, not a truncation). Exact for |a| < 2^50, 0 < b < 2^50.
 */
export function roundDiv(a: number, b: number): number {
  const n = 2 * a + b;
  const d = 2 * b;
  let q = Math.floor(n / d);
  const r = n - q * d;
  if (r < 0) q -= 1;
  else if (r >= d) q += 1;
  return q;
}

/** Floor square root of an integer 0 ≤ v < 2^53 (exact: Math.sqrt then integer correction). */
export function isqrt(v: number): number {
  if (v <= 0) return 0;
  let r = Math.floor(Math.sqrt(v));
  while (r * r > v) r -= 1;
  while ((r + 1) * (r + 1) <= v) r += 1;
  return r;
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export const MULT_BITS = 15;
export const MULT_LIMIT = 32768; // 2^15: multipliers are in [0, 2^15)
export const MULT_MIN_NORMAL = 16384; // 2^14
export const SHIFT_MIN = 1;
export const SHIFT_MAX = 46;

export interface QuantizedMultiplier {
  mult: number;
  shift: number;
}

function checkReal(real: number, what: string): void {
  if (!Number.isFinite(real) || real < 0) {
    throw new EngineInputError({
      input: what,
      expected: 'a finite real multiplier ≥ 0',
      got: String(real),
    });
  }
}

/** The shift that puts `real` (> 0) into [2^14, 2^15) before clamping to [1, 46]. */
function naturalShift(real: number): number {
  let e = Math.floor(Math.log2(real));
  while (2 ** e > real) e -= 1;
  while (2 ** (e + 1) <= real) e += 1;
  return MULT_BITS - 1 - e;
}

function tooLarge(real: number, what: string): never {
  throw new EngineInputError({
    input: what,
    expected: `a real multiplier < ${(MULT_LIMIT - 0.5) / 2} (mult < 2^15 with shift ≥ 1)`,
    got: String(real),
    hint: 'rescale the output (a larger output scale) so that in_scale·w_scale/out_scale is smaller',
  });
}

/**
 * Approximates real ≥ 0 by mult / 2^shift with mult ∈ [0, 2^15) and shift ∈ [1, 46]:
 * shift is chosen so that mult = round(real·2^shift) (round half up) ∈ [2^14, 2^15) when possible;
 * for tiny reals shift is clamped to 46 (mult < 2^14, possibly 0); real = 0 → { mult: 0, shift: 1 };
 * real too large for shift 1 (real·2 rounds to ≥ 2^15) → EngineInputError.
 */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  checkReal(real, 'real multiplier');
  if (real === 0) return { mult: 0, shift: SHIFT_MIN };
  const { mults, shift } = quantizeMultipliers([real]);
  return { mult: mults[0], shift };
}

/**
 * Several reals sharing one shift (Add's aMult/bMult): the shift is the one quantizeMultiplier
 * would give the largest real (so the largest gets mult ∈ [2^14, 2^15) when possible); each
 * mult_i = round(real_i·2^shift). All zero → mults 0, shift 1.
 */
export function quantizeMultipliers(reals: readonly number[]): { mults: number[]; shift: number } {
  let max = 0;
  for (let i = 0; i < reals.length; i++) {
    checkReal(reals[i], `real multiplier [${i}]`);
    if (reals[i] > max) max = reals[i];
  }
  if (max === 0) return { mults: reals.map(() => 0), shift: SHIFT_MIN };
  let shift = naturalShift(max);
  if (shift > SHIFT_MAX) shift = SHIFT_MAX;
  if (shift < SHIFT_MIN) shift = SHIFT_MIN;
  let top = Math.round(max * 2 ** shift);
  if (top >= MULT_LIMIT) {
    // real·2^shift rounded up to 2^15: use one bit less.
    if (shift > SHIFT_MIN && top === MULT_LIMIT) {
      shift -= 1;
      top = Math.round(max * 2 ** shift);
    }
    if (top >= MULT_LIMIT) tooLarge(max, 'real multiplier');
  }
  return { mults: reals.map((r) => Math.round(r * 2 ** shift)), shift };
}

/** floor(a / b) for integers |a| < 2^52, 0 < b < 2^52 (exact: float division then correction). */
export function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  const r = a - q * b;
  if (r < 0) q -= 1;
  else if (r >= b) q += 1;
  return q;
}
