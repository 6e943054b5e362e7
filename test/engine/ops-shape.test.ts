/** Property tests: Gather, Reshape, Transpose, Concat, Slice against the BigInt reference. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setWasmGemmEnabled } from '../../src/engine/wasm.js';
import type { DType } from '../../src/engine/ir.js';
import { type Case, checkCase, FC, param, shapeArb, tensor } from './helpers.js';
import { size } from './reference.js';

type G = fc.GeneratorValue;
const draw = <T>(g: G, a: fc.Arbitrary<T>): T => g(() => a);
const int = (g: G, min: number, max: number): number => draw(g, fc.integer({ min, max }));
const anyDtype = fc.constantFrom<DType>('i8', 'u8', 'i32');

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

    describe('Gather', () => {
      it('matches the reference (negative indices and axes, data/indices as params)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const dt = draw(g, anyDtype);
            const dShape = draw(g, shapeArb([1, 3], 4));
            const r = dShape.length;
            const axis = int(g, -r, r - 1);
            const a = axis < 0 ? axis + r : axis;
            const A = dShape[a];
            const iShape = draw(g, shapeArb([0, 2], 3));
            const idx = draw(g, fc.array(fc.integer({ min: -A, max: A - 1 }), { minLength: size(iShape), maxLength: size(iShape) }));
            const data = draw(g, tensor(dt, dShape));
            const indices = { dtype: 'i32' as const, shape: iShape, data: Int32Array.from(idx) };
            const where = int(g, 0, 2); // 0: both inputs, 1: data param, 2: indices param
            const c: Case = {
              op: 'Gather',
              inputs: where === 0 ? [data, indices] : where === 1 ? [indices] : [data],
              attrs: { axis },
              params: where === 1 ? { data: param(dt, dShape, Array.from(data.data)) } : where === 2 ? { indices: param('i32', iShape, idx) } : {},
              out: { dtype: dt, shape: [...dShape.slice(0, a), ...iShape, ...dShape.slice(a + 1)] },
            };
            checkCase(c);
          }),
          FC,
        );
      });
    });

    describe('Reshape', () => {
      it('matches the reference', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const dt = draw(g, anyDtype);
            const s = draw(g, shapeArb([0, 4], 4));
            const n = size(s);
            // a random factorization of n
            const out: number[] = [];
            let rest = n;
            while (rest > 1 && out.length < 4) {
              const divs = Array.from({ length: rest }, (_, i) => i + 1).filter((d) => rest % d === 0);
              const d = draw(g, fc.constantFrom(...divs));
              out.push(d);
              rest /= d;
            }
            if (rest > 1) out.push(rest);
            if (draw(g, fc.boolean())) out.push(1);
            checkCase({ op: 'Reshape', inputs: [draw(g, tensor(dt, s))], attrs: { shape: out }, params: {}, out: { dtype: dt, shape: out } });
          }),
          FC,
        );
      });
    });

    describe('Transpose', () => {
      it('matches the reference', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const dt = draw(g, anyDtype);
            const s = draw(g, shapeArb([0, 5], 4));
            const withPerm = draw(g, fc.boolean());
            const perm = withPerm ? draw(g, fc.shuffledSubarray(s.map((_, i) => i), { minLength: s.length, maxLength: s.length })) : s.map((_, i) => s.length - 1 - i);
            checkCase({
              op: 'Transpose',
              inputs: [draw(g, tensor(dt, s))],
              attrs: withPerm ? { perm } : {},
              params: {},
              out: { dtype: dt, shape: perm.map((p) => s[p]) },
            });
          }),
          FC,
        );
      });
    });

    describe('Concat', () => {
      it('matches the reference', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const dt = draw(g, anyDtype);
            const s = draw(g, shapeArb([1, 4], 4));
            const r = s.length;
            const axis = int(g, -r, r - 1);
            const a = axis < 0 ? axis + r : axis;
            const k = int(g, 1, 4);
            const inputs = Array.from({ length: k }, () => {
              const sh = s.slice();
              sh[a] = int(g, 1, 4);
              return draw(g, tensor(dt, sh));
            });
            const out = s.slice();
            out[a] = inputs.reduce((t, x) => t + x.shape[a], 0);
            checkCase({ op: 'Concat', inputs, attrs: { axis }, params: {}, out: { dtype: dt, shape: out } });
          }),
          FC,
        );
      });
    });

    describe('Slice', () => {
      it('matches the reference (negative steps, normalized bounds)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const dt = draw(g, anyDtype);
            const s = draw(g, shapeArb([1, 4], 6));
            const r = s.length;
            const axes = draw(g, fc.shuffledSubarray(s.map((_, i) => i), { minLength: 0, maxLength: r }));
            const starts: number[] = [];
            const ends: number[] = [];
            const steps: number[] = [];
            const out = s.slice();
            for (const a of axes) {
              const D = s[a];
              const step = draw(g, fc.constantFrom(1, 1, 2, 3, -1, -1, -2, -3));
              let st: number;
              let en: number;
              if (step > 0) {
                st = int(g, 0, D - 1);
                en = int(g, st + 1, D);
              } else {
                st = int(g, 0, D - 1);
                en = int(g, -1, st - 1);
              }
              starts.push(st);
              ends.push(en);
              steps.push(step);
              out[a] = Math.ceil((en - st) / step);
            }
            const explicitAxes = draw(g, fc.boolean()) || axes.some((a, i) => a !== i);
            checkCase({
              op: 'Slice',
              inputs: [draw(g, tensor(dt, s))],
              attrs: { starts, ends, ...(explicitAxes ? { axes } : {}), steps },
              params: {},
              out: { dtype: dt, shape: out },
            });
          }),
          FC,
        );
      });
    });
  });
}
