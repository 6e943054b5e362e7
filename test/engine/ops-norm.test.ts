/** Property tests: Softmax, LayerNorm against the BigInt reference (docs/ops.md). */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setWasmGemmEnabled } from '../../src/engine/wasm.js';
import { nativeAvailable, setNativeEnabled } from '../../src/engine/native.js';
import { checkCase, FC, param, qdtype, tensor, zero } from './helpers.js';

type G = fc.GeneratorValue;
const draw = <T>(g: G, a: fc.Arbitrary<T>): T => g(() => a);
const int = (g: G, min: number, max: number): number => draw(g, fc.integer({ min, max }));

function expTable(g: G): number[] {
  const kind = int(g, 0, 2);
  if (kind === 0) {
    // realistic: exp(−d·s)·2^p
    const s = draw(g, fc.double({ min: 0.01, max: 0.5, noNaN: true }));
    const p = int(g, 8, 30);
    return Array.from({ length: 256 }, (_, d) => Math.round(Math.exp(-d * s) * 2 ** p));
  }
  if (kind === 1) {
    // tiny values: many exact ties in roundDiv(e·256, S)
    return [int(g, 1, 4), ...draw(g, fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 255, maxLength: 255 }))];
  }
  return [int(g, 1, 2 ** 31 - 1), ...draw(g, fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { minLength: 255, maxLength: 255 }))];
}

// Every op runs with the native kernels (when the addon is built; src/engine/native.ts), the
// WebAssembly kernels and the JS fallbacks.
if (!nativeAvailable()) console.log('ops-norm: native addon not built (native/build.mjs); its backend block checks the WebAssembly path again');
for (const backend of ['native', 'wasm', 'js'] as const) {
  describe(`[${backend} kernels]`, () => {
    let was = true;
    let wasNative = true;
    beforeAll(() => {
      was = setWasmGemmEnabled(backend !== 'js');
      wasNative = setNativeEnabled(backend === 'native');
    });
    afterAll(() => {
      setWasmGemmEnabled(was);
      setNativeEnabled(wasNative);
    });

    describe('Softmax', () => {
      it('matches the reference (masking, all-masked rows, ties, extreme tables)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const lead = draw(g, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }));
            const L = draw(g, fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 300 })));
            const shape = [...lead, L];
            const n = shape.reduce((a, b) => a * b, 1);
            const allMasked = draw(g, fc.boolean()) && draw(g, fc.boolean());
            const x = allMasked
              ? new Array<number>(n).fill(-128)
              : draw(g, fc.array(fc.oneof(fc.integer({ min: -128, max: 127 }), fc.constant(-128), fc.integer({ min: 120, max: 127 })), { minLength: n, maxLength: n }));
            checkCase({
              op: 'Softmax',
              inputs: [{ dtype: 'i8', shape, data: Int8Array.from(x) }],
              attrs: { masked: int(g, 0, 1) },
              params: { exp: param('i32', [256], expTable(g)) },
              out: { dtype: 'i8', shape },
            });
          }),
          FC,
        );
      });
    });

    describe('LayerNorm', () => {
      it('matches the reference (N up to 1024, negative numerators, eps, saturation)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const xd = draw(g, qdtype);
            const yd = draw(g, qdtype);
            const lead = draw(g, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 1 }));
            const N = draw(g, fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.constantFrom(1023, 1024) }));
            const shape = [...lead, N];
            const gamma = draw(g, fc.array(fc.oneof(fc.integer({ min: -32767, max: 32767 }), fc.constantFrom(-32767, 32767, 0, 1)), { minLength: N, maxLength: N }));
            const beta = draw(g, fc.array(fc.oneof(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { minLength: N, maxLength: N }));
            const eps = draw(g, fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 20 }), fc.constant(2 ** 52 - 2 ** 40)));
            const shift = draw(g, fc.oneof(fc.integer({ min: 1, max: 46 }), fc.integer({ min: 6, max: 16 })));
            checkCase({
              op: 'LayerNorm',
              inputs: [draw(g, tensor(xd, shape))],
              attrs: { xZero: draw(g, zero(xd)), yZero: draw(g, zero(yd)), eps, shift },
              params: { gamma: { dtype: 'i32', shape: [N], data: Int32Array.from(gamma) }, beta: { dtype: 'i32', shape: [N], data: Int32Array.from(beta) } },
              out: { dtype: yd, shape },
            });
          }),
          FC,
        );
      });
    });

    describe('roundDiv exactness at float-reciprocal traps', () => {
      // The kernels divide by multiplying with 1/d and correct with an exact remainder test. These cases
      // have an exact quotient q where num·fl(1/d) rounds just below q (d = 196 and 50176 = 1024·49:
      // 49·fl(1/49) < 1), so they fail without the upward correction.
      // Widths 16 and 17 put the case into the vector loops of the native kernel (8 lanes a step) and its tail.
      for (const n of [2, 16, 17]) {
        it(`LayerNorm: gamma·c = 49, R = 98 gives t = 1 (N = ${n})`, () => {
          // d = [1, 0, …] → c_0 = n − 1, c_i = −1; V = floor((n − 1)²/n + (n − 1)/n) + eps = n − 1 + eps = 9604 → R = 98;
          // gamma_0 = 49 (n = 2: c_0 = 1) and gamma_i = −49 give gamma·c = 49 → t = roundDiv(49, 98) = 1
          checkCase({
            op: 'LayerNorm',
            inputs: [{ dtype: 'i8', shape: [1, n], data: Int8Array.from({ length: n }, (_, i) => (i === 0 ? 1 : 0)) }],
            attrs: { xZero: 0, yZero: 0, eps: 9604 - (n - 1), shift: 1 },
            params: { gamma: param('i32', [n], Array.from({ length: n }, (_, i) => (i === 0 ? 49 : -49))), beta: param('i32', [n], new Array<number>(n).fill(0)) },
            out: { dtype: 'i8', shape: [1, n] },
          });
        });
        it(`Softmax: e = 49, S = 25088 gives roundDiv(49·256, S) = 1 (L = ${n}, the rest masked)`, () => {
          const exp = new Array<number>(256).fill(0);
          exp[0] = 25039;
          exp[1] = 49;
          checkCase({
            op: 'Softmax',
            inputs: [{ dtype: 'i8', shape: [1, n], data: Int8Array.from({ length: n }, (_, i) => (i === 0 ? 0 : i === 1 ? -1 : -128)) }],
            attrs: { masked: 1 },
            params: { exp: param('i32', [256], exp) },
            out: { dtype: 'i8', shape: [1, n] },
          });
        });
      }
    });
  });
}
