/** Property tests: Add, Mul, Lut, Requantize against the BigInt reference (docs/ops.md). */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setWasmGemmEnabled } from '../../src/engine/wasm.js';
import type { DType } from '../../src/engine/ir.js';
import { broadcastable, broadcastShape, type Case, checkCase, FC, loHi, multShift, param, qdtype, shapeArb, tensor, values, zero } from './helpers.js';
import { RANGE } from './reference.js';

type G = fc.GeneratorValue;
const draw = <T>(g: G, a: fc.Arbitrary<T>): T => g(() => a);

function binaryCase(g: G, op: 'Add' | 'Mul'): Case {
  const ad = draw(g, qdtype);
  const bd = draw(g, qdtype);
  const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
  const s = draw(g, shapeArb([0, 4], 4));
  const bShape = draw(g, broadcastable(s));
  // Sometimes a is the broadcast operand instead.
  const swap = draw(g, fc.boolean());
  const aShape = swap ? bShape : s;
  const bS = swap ? s : bShape;
  const bParam = draw(g, fc.boolean());
  const { lo, hi } = draw(g, loHi(yd));
  const attrs: Case['attrs'] = { aZero: draw(g, zero(ad)), bZero: draw(g, zero(bd)), yZero: draw(g, zero(yd)), lo, hi };
  if (op === 'Add') {
    const m = draw(g, fc.oneof(fc.integer({ min: 0, max: 32767 }), fc.constantFrom(0, 1, 16384, 32767)));
    const n = draw(g, fc.oneof(fc.integer({ min: 0, max: 32767 }), fc.constantFrom(0, 1, 16384, 32767)));
    Object.assign(attrs, { aMult: m, bMult: n, shift: draw(g, fc.oneof(fc.integer({ min: 1, max: 46 }), fc.integer({ min: 1, max: 16 }))) });
  } else {
    const ms = draw(g, multShift);
    Object.assign(attrs, { mult: ms.mult, shift: ms.shift });
  }
  const a = draw(g, tensor(ad, aShape));
  const b = draw(g, tensor(bd, bS));
  return {
    op,
    inputs: bParam ? [a] : [a, b],
    attrs,
    params: bParam ? { b: param(bd, bS, Array.from(b.data)) } : {},
    out: { dtype: yd, shape: broadcastShape(aShape, bS) },
  };
}

// Every op runs with the WebAssembly kernels (default) and with the JS fallbacks.
for (const backend of ['wasm', 'js'] as const) {
  describe(`[${backend} kernels]`, () => {
    let was = true;
    beforeAll(() => {
      was = setWasmGemmEnabled(backend === 'wasm');
    });
    afterAll(() => {
      setWasmGemmEnabled(was);
    });

    describe('Add', () => {
      it('matches the reference (broadcasting, params.b, saturation, ties)', () => {
        fc.assert(fc.property(fc.gen(), (g) => checkCase(binaryCase(g, 'Add'))), FC);
      });
    });

    describe('Mul', () => {
      it('matches the reference (broadcasting, params.b, saturation, ties)', () => {
        fc.assert(fc.property(fc.gen(), (g) => checkCase(binaryCase(g, 'Mul'))), FC);
      });
    });

    describe('Lut', () => {
      it('matches the reference', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const yd = draw(g, qdtype);
            const shape = draw(g, shapeArb([0, 3], 5));
            checkCase({
              op: 'Lut',
              inputs: [draw(g, tensor('i8', shape))],
              attrs: {},
              params: { table: param(yd, [256], draw(g, values(yd, 256))) },
              out: { dtype: yd, shape },
            });
          }),
          FC,
        );
      });
    });

    describe('Requantize', () => {
      it('matches the reference (i8/u8/i32 in and out)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const xd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
            const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
            const shape = draw(g, shapeArb([0, 3], 5));
            const ms = draw(g, multShift);
            const { lo, hi } = draw(g, loHi(yd));
            const xZero = xd === 'i32' ? draw(g, fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom(RANGE.i32[0], RANGE.i32[1]))) : draw(g, zero(xd));
            checkCase({
              op: 'Requantize',
              inputs: [draw(g, tensor(xd, shape))],
              attrs: { xZero, yZero: draw(g, zero(yd)), mult: ms.mult, shift: ms.shift, lo, hi },
              params: {},
              out: { dtype: yd, shape },
            });
          }),
          FC,
        );
      });
    });
  });
}
