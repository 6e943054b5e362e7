/** Boundary ops (float ↔ integer, ONNX float32 semantics): ties, saturation, per-axis, properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeLinear, dynamicQuantizeLinear, quantizeLinear, rintHalfEven } from '../../src/engine/boundary.js';
import { EngineInputError } from '../../src/engine/errors.js';
import { RUNS } from './helpers.js';

const f32 = Math.fround;

describe('rintHalfEven', () => {
  it('rounds half to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6].map(rintHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3]);
  });
});

describe('quantizeLinear', () => {
  it('ties to even, saturates, NaN → zero point', () => {
    const x = Float32Array.of(1, 3, 5, -1, -3, 1000, -1000, Number.NaN, Infinity, -Infinity);
    expect(Array.from(quantizeLinear(x, 2, 0, 'i8'))).toEqual([0, 2, 2, 0, -2, 127, -128, 0, 127, -128]);
    expect(Array.from(quantizeLinear(x, 2, 128, 'u8'))).toEqual([128, 130, 130, 128, 126, 255, 0, 128, 255, 0]);
  });
  it('divides in float32 (not float64)', () => {
    // float64: 84.9328…/1.14003… = 74.500003 → 75; float32 quotient is exactly 74.5 → tie → 74 (even).
    const x = Float32Array.of(84.93280029296875);
    const s = 1.1400375366210938;
    expect(x[0] / s).toBeGreaterThan(74.5);
    expect(quantizeLinear(x, s, 0, 'i8')[0]).toBe(74);
  });
  it('per-axis scale and zero point (axis 1 default, negative axis)', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6); // shape [2, 3]
    const y = quantizeLinear(x, [1, 2, 4], [0, 1, -1], 'i8', 1, [2, 3]);
    expect(Array.from(y)).toEqual([1, 2, 0, 4, 3, 1]);
    expect(Array.from(quantizeLinear(x, [1, 2, 4], [0, 1, -1], 'i8', -1, [2, 3]))).toEqual(Array.from(y));
    expect(() => quantizeLinear(x, [1, 2], 0, 'i8', 1, [2, 3])).toThrow(EngineInputError);
    expect(() => quantizeLinear(x, [1, 2, 3], 0, 'i8')).toThrow(EngineInputError);
    expect(() => quantizeLinear(x, 0, 0, 'i8')).toThrow(EngineInputError);
    expect(() => quantizeLinear(x, 1, 300, 'u8')).toThrow(EngineInputError);
  });
  it('dequantize(quantize(x)) is within half a step of x inside the range', () => {
    fc.assert(
      fc.property(
        fc.float({ min: f32(1e-3), max: 10, noNaN: true }),
        fc.integer({ min: -128, max: 127 }),
        fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 20 }),
        (scale, zp, xs) => {
          const x = Float32Array.from(xs.map((v) => f32(v * scale * 100)));
          const q = quantizeLinear(x, scale, zp, 'i8');
          const d = dequantizeLinear(q, scale, zp);
          for (let i = 0; i < x.length; i++) {
            if (q[i] > -128 && q[i] < 127) expect(Math.abs(d[i] - x[i])).toBeLessThanOrEqual(scale * 0.5001);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('dequantizeLinear', () => {
  it('computes float32((x − zp)·scale)', () => {
    expect(Array.from(dequantizeLinear(Uint8Array.of(0, 3, 128, 255), 2, 128))).toEqual([-256, -250, 0, 254]);
    const y = dequantizeLinear(Int8Array.of(1), f32(0.1), 0);
    expect(y[0]).toBe(f32(0.1));
    expect(Array.from(dequantizeLinear(Int32Array.of(5, -5), 0.5))).toEqual([2.5, -2.5]);
  });
});

describe('dynamicQuantizeLinear', () => {
  it('all zeros → scale 0, zero point 0', () => {
    expect(dynamicQuantizeLinear(new Float32Array(3))).toEqual({ y: new Uint8Array(3), scale: 0, zeroPoint: 0 });
  });
  it('range includes 0; zp and y saturate to uint8; round trip within a step', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1000, max: 1000, noNaN: true }), { minLength: 1, maxLength: 30 }), (xs) => {
        const x = Float32Array.from(xs);
        const { y, scale, zeroPoint } = dynamicQuantizeLinear(x);
        expect(zeroPoint >= 0 && zeroPoint <= 255 && Number.isInteger(zeroPoint)).toBe(true);
        if (scale === 0) return;
        const d = dequantizeLinear(y, scale, zeroPoint);
        for (let i = 0; i < x.length; i++) expect(Math.abs(d[i] - x[i])).toBeLessThanOrEqual(scale * 1.0001);
      }),
      { numRuns: RUNS },
    );
  });
});
