/** fixedpoint.ts against BigInt definitions (docs/ops.md §Conventions), including the BigInt fallbacks. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clamp, floorDiv, isqrt, quantizeMultiplier, quantizeMultipliers, requant, roundDiv, rshr } from '../../src/engine/fixedpoint.js';
import { EngineInputError } from '../../src/engine/errors.js';
import * as R from './reference.js';
import { RUNS } from './helpers.js';

const OPTS = { numRuns: 1000 };
const SAFE = Number.MAX_SAFE_INTEGER;
const bigish = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.integer({ min: -(2 ** 46), max: 2 ** 46 }),
  fc.integer({ min: -SAFE, max: SAFE }),
  fc.constantFrom(0, 1, -1, 2 ** 52, -(2 ** 52), 2 ** 52 - 1, -(2 ** 52) + 1, SAFE, -SAFE),
);
const B = BigInt;

describe('rshr / requant', () => {
  it('rshr examples: ties go toward +∞', () => {
    expect(rshr(5, 1)).toBe(3);
    expect(rshr(-5, 1)).toBe(-2);
    expect(rshr(-6, 2)).toBe(-1);
    expect(rshr(-7, 2)).toBe(-2);
    expect(rshr(6, 2)).toBe(2);
    expect(rshr(1, 1)).toBe(1);
    expect(rshr(-1, 1)).toBe(0);
  });
  it('rshr equals floor((v + 2^(s−1)) / 2^s) for all safe v, s ∈ [1, 46]', () => {
    fc.assert(
      fc.property(bigish, fc.integer({ min: 1, max: 46 }), (v, s) => {
        expect(B(rshr(v, s))).toBe(R.rshr(B(v), B(s)));
      }),
      OPTS,
    );
  });
  it('requant equals rshr(acc·m, s) exactly, also when |acc·m| ≥ 2^52 (BigInt path)', () => {
    // The result is a Number: exact whenever it is a safe integer; beyond ±2^53 it is only used
    // through a clamp to a dtype range, which the rounded value still gets right.
    const lim = 2n ** 53n;
    fc.assert(
      fc.property(bigish, fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 1, max: 46 }), (acc, m, s) => {
        expect(R.clamp(B(requant(acc, m, s)), -lim, lim)).toBe(R.clamp(R.requant(B(acc), B(m), B(s)), -lim, lim));
      }),
      OPTS,
    );
  });
});

describe('roundDiv / floorDiv', () => {
  const num = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -(2 ** 49), max: 2 ** 49 }));
  const den = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 2 ** 49 }));
  it('roundDiv examples: half up, floor for negatives', () => {
    expect(roundDiv(3, 2)).toBe(2);
    expect(roundDiv(-3, 2)).toBe(-1);
    expect(roundDiv(-5, 2)).toBe(-2);
    expect(roundDiv(5, 2)).toBe(3);
    expect(roundDiv(7, 3)).toBe(2);
    expect(roundDiv(-7, 3)).toBe(-2);
  });
  it('roundDiv = floor((2a + b) / (2b)) for |a| < 2^50, 0 < b < 2^50', () => {
    fc.assert(
      fc.property(num, den, (a, b) => {
        expect(B(roundDiv(a, b))).toBe(R.roundDiv(B(a), B(b)));
      }),
      OPTS,
    );
  });
  it('roundDiv near float-division rounding traps (a = q·b ± 1, large)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2 ** 20, max: 2 ** 24 }), fc.integer({ min: 2 ** 20, max: 2 ** 24 }), fc.integer({ min: -2, max: 2 }), (q, b, d) => {
        const a = q * b + d;
        expect(B(roundDiv(a, b))).toBe(R.roundDiv(B(a), B(b)));
        expect(B(floorDiv(a, b))).toBe(R.floorDiv(B(a), B(b)));
        expect(B(floorDiv(-a, b))).toBe(R.floorDiv(B(-a), B(b)));
      }),
      OPTS,
    );
  });
  it('floorDiv = mathematical floor', () => {
    fc.assert(
      fc.property(num, den, (a, b) => {
        expect(B(floorDiv(a, b))).toBe(R.floorDiv(B(a), B(b)));
      }),
      OPTS,
    );
  });
});

describe('isqrt', () => {
  it('is the exact floor square root below 2^53, including around perfect squares', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: SAFE }), fc.integer({ min: 0, max: 94906265 }).chain((r) => fc.integer({ min: -1, max: 1 }).map((d) => Math.max(0, Math.min(SAFE, r * r + d))))), (v) => {
        expect(B(isqrt(v))).toBe(R.isqrt(B(v)));
      }),
      OPTS,
    );
    expect(isqrt(0)).toBe(0);
    expect(isqrt(SAFE)).toBe(94906265);
    expect(isqrt(94906265 * 94906265 - 1)).toBe(94906264);
  });
});

describe('clamp', () => {
  it('clamps', () => {
    expect(clamp(-200, -128, 127)).toBe(-128);
    expect(clamp(200, -128, 127)).toBe(127);
    expect(clamp(5, -128, 127)).toBe(5);
  });
});

describe('quantizeMultiplier', () => {
  it('edge cases', () => {
    expect(quantizeMultiplier(0)).toEqual({ mult: 0, shift: 1 });
    expect(quantizeMultiplier(1)).toEqual({ mult: 16384, shift: 14 });
    expect(quantizeMultiplier(0.5)).toEqual({ mult: 16384, shift: 15 });
    // rounds up to 2^15 → one bit less
    expect(quantizeMultiplier((32768 - 0.25) / 32768)).toEqual({ mult: 16384, shift: 14 });
    // largest representable: round(real·2) < 2^15
    expect(quantizeMultiplier(16383.7)).toEqual({ mult: 32767, shift: 1 });
    expect(() => quantizeMultiplier(16383.75)).toThrow(EngineInputError);
    expect(() => quantizeMultiplier(1e6)).toThrow(EngineInputError);
    expect(() => quantizeMultiplier(-1)).toThrow(EngineInputError);
    expect(() => quantizeMultiplier(Number.NaN)).toThrow(EngineInputError);
    // tiny: shift clamped to 46
    expect(quantizeMultiplier(2 ** -40)).toEqual({ mult: 64, shift: 46 });
    expect(quantizeMultiplier(2 ** -60)).toEqual({ mult: 0, shift: 46 });
  });
  it('mult ∈ [2^14, 2^15) when the shift is not clamped, error ≤ half a unit', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -31, max: 16383, noNaN: true }), (real) => {
        const { mult, shift } = quantizeMultiplier(real);
        expect(Number.isInteger(mult) && mult >= 0 && mult < 32768).toBe(true);
        expect(Number.isInteger(shift) && shift >= 1 && shift <= 46).toBe(true);
        if (shift > 1 && shift < 46) expect(mult).toBeGreaterThanOrEqual(16384);
        expect(Math.abs(mult - real * 2 ** shift)).toBeLessThanOrEqual(0.5);
      }),
      { numRuns: RUNS * 5 },
    );
  });
  it('quantizeMultipliers: one shift, the largest gets [2^14, 2^15)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1, maxLength: 4 }), (reals) => {
        const { mults, shift } = quantizeMultipliers(reals);
        const max = Math.max(...reals);
        if (max === 0) {
          expect(mults.every((m) => m === 0)).toBe(true);
          return;
        }
        expect(shift).toBe(quantizeMultiplier(max).shift);
        reals.forEach((r, i) => {
          expect(mults[i]).toBe(Math.round(r * 2 ** shift));
          expect(mults[i]).toBeLessThan(32768);
        });
        if (shift > 1 && shift < 46) expect(mults[reals.indexOf(max)]).toBeGreaterThanOrEqual(16384);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
