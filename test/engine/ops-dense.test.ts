/** Property tests: Linear, Conv, MatMul against the BigInt reference (docs/ops.md). */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setWasmGemmEnabled, wasmGemmAvailable } from '../../src/engine/wasm.js';
import { kernelPath, nativeAvailable, setNativeEnabled } from '../../src/engine/native.js';
import { makeGemm, I32_MAX } from '../../src/engine/ops/gemm.js';
import type { DType } from '../../src/engine/ir.js';
import { broadcastShape, type Case, checkCase, convCase, FC, loHi, multShift, perChannel, param, qdtype, RUNS, tensor, values, value, zero } from './helpers.js';
import { size } from './reference.js';

type G = fc.GeneratorValue;
const draw = <T>(g: G, a: fc.Arbitrary<T>): T => g(() => a);
const int = (g: G, min: number, max: number): number => draw(g, fc.integer({ min, max }));

const biasArb = fc.oneof(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), fc.constant(0));


// Every dense op runs on every backend: the native addon (when built; src/engine/native.ts),
// WebAssembly SIMD and the JS fallback.
if (!nativeAvailable()) console.log('ops-dense: native addon not built (native/build.mjs); its backend block checks the WebAssembly path again');
for (const backend of ['native', 'wasm', 'js'] as const) {
  describe(`[${backend} GEMM]`, () => {
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
    it('uses the intended backend', () => {
      expect(makeGemm(2, 2, 8, 1000).backend).toBe(backend !== 'js' && wasmGemmAvailable() ? 'wasm' : 'js');
      expect(kernelPath()).toBe(backend === 'native' && !nativeAvailable() ? 'wasm' : backend);
    });
    describe('Linear', () => {
      it('matches the reference', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const xd = draw(g, qdtype);
            const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
            const lead = draw(g, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }));
            const K = int(g, 1, 37);
            const N = int(g, 1, 9);
            const { mult, shift } = perChannel(g, N);
            const { lo, hi } = draw(g, loHi(yd));
            const withBias = draw(g, fc.boolean());
            const c: Case = {
              op: 'Linear',
              inputs: [draw(g, tensor(xd, [...lead, K]))],
              attrs: { xZero: draw(g, zero(xd)), yZero: draw(g, zero(yd)), lo, hi },
              params: {
                weight: param('i8', [N, K], draw(g, values('i8', N * K))),
                ...(withBias ? { bias: param('i32', [N], draw(g, fc.array(biasArb, { minLength: N, maxLength: N }))) } : {}),
                mult: param('i32', [N], mult),
                shift: param('i32', [N], shift),
              },
              out: { dtype: yd, shape: [...lead, N] },
            };
            checkCase(c);
          }),
          FC,
        );
      });
    });

    describe('Linear requant epilogue forms', () => {
      // Realistic per-channel multipliers (shifts 14..34, mults in [2^14, 2^15)) with wide channel
      // counts, so the vector epilogues (32×32→64-bit products; one shared shift) and their row tails
      // run with many channels, including i32 outputs with extreme zero points.
      it('matches the reference', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const xd = draw(g, qdtype);
            const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
            const rows = int(g, 1, 5);
            const K = int(g, 1, 40);
            const N = int(g, 1, 23);
            const lowShift = int(g, 14, 30);
            const mult = Array.from({ length: N }, () => int(g, 16384, 32767));
            const shift = Array.from({ length: N }, () => int(g, lowShift, lowShift + draw(g, fc.constantFrom(0, 4, 16, 17))));
            const { lo, hi } = draw(g, loHi(yd));
            const yZero = yd === 'i32' ? draw(g, fc.constantFrom(0, 2 ** 30 - 1, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31), 12345)) : draw(g, zero(yd));
            checkCase({
              op: 'Linear',
              inputs: [draw(g, tensor(xd, [rows, K]))],
              attrs: { xZero: draw(g, zero(xd)), yZero, lo, hi },
              params: {
                weight: param('i8', [N, K], draw(g, values('i8', N * K))),
                bias: param('i32', [N], draw(g, fc.array(biasArb, { minLength: N, maxLength: N }))),
                mult: param('i32', [N], mult),
                shift: param('i32', [N], shift.map((v) => Math.min(46, v))),
              },
              out: { dtype: yd, shape: [rows, N] },
            });
          }),
          FC,
        );
      });
    });

    describe('Conv (NHWC)', () => {
      it('matches the reference (padding, strides, dilations, groups)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const xd = draw(g, qdtype);
            const yd = draw(g, fc.constantFrom<DType>('i8', 'u8'));
            const group = int(g, 1, 3);
            const Cg = int(g, 1, 4);
            const C = group * Cg;
            const CO = group * int(g, 1, 3);
            const KH = int(g, 1, 3);
            const KW = int(g, 1, 3);
            const dh = int(g, 1, 2);
            const dw = int(g, 1, 2);
            const pads = [int(g, 0, 2), int(g, 0, 2), int(g, 0, 2), int(g, 0, 2)];
            const sh = int(g, 1, 3);
            const sw = int(g, 1, 3);
            const H = int(g, Math.max(1, dh * (KH - 1) + 1 - pads[0] - pads[2]), 7);
            const W = int(g, Math.max(1, dw * (KW - 1) + 1 - pads[1] - pads[3]), 7);
            const OH = Math.floor((H + pads[0] + pads[2] - dh * (KH - 1) - 1) / sh) + 1;
            const OW = Math.floor((W + pads[1] + pads[3] - dw * (KW - 1) - 1) / sw) + 1;
            checkCase(convCase(g, { xd, yd, C, CO, group, geo: { KH, KW, pads, sh, sw, dh, dw, H, W, OH, OW }, bias: biasArb }));
          }),
          FC,
        );
      });
    });

    describe('MatMul', () => {
      it('matches the reference (batch broadcasting, transB, rank-1 operands)', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const ad = draw(g, qdtype);
            const bd = draw(g, qdtype);
            const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
            const M = int(g, 1, 5);
            const K = int(g, 1, 17);
            const N = int(g, 1, 5);
            const transB = int(g, 0, 1);
            const batch = draw(g, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }));
            const aBatch = draw(g, fc.array(fc.boolean(), { minLength: batch.length, maxLength: batch.length })).map((one, i) => (one ? 1 : batch[i]));
            const bBatch = batch.slice(draw(g, fc.integer({ min: 0, max: batch.length })));
            const aRank1 = batch.length === 0 && draw(g, fc.boolean());
            const bRank1 = batch.length === 0 && draw(g, fc.boolean());
            const aShape = aRank1 ? [K] : [...aBatch, M, K];
            const bShape = bRank1 ? [K] : transB ? [...bBatch, N, K] : [...bBatch, K, N];
            const ob = broadcastShape(aRank1 ? [] : aBatch, bRank1 ? [] : bBatch);
            const outShape = [...ob, ...(aRank1 ? [] : [M]), ...(bRank1 ? [] : [N])];
            const ms = draw(g, multShift);
            const { lo, hi } = draw(g, loHi(yd));
            const c: Case = {
              op: 'MatMul',
              inputs: [draw(g, tensor(ad, aShape)), draw(g, tensor(bd, bShape))],
              attrs: { aZero: draw(g, zero(ad)), bZero: draw(g, zero(bd)), yZero: draw(g, zero(yd)), mult: ms.mult, shift: ms.shift, transB, lo, hi },
              params: {},
              out: { dtype: yd, shape: outShape.length ? outShape : [1] },
            };
            if (outShape.length === 0) return; // a·b of two vectors is a scalar: covered by shape [] below
            checkCase(c);
          }),
          FC,
        );
      });
      it('vector·vector gives a scalar (shape [])', () => {
        fc.assert(
          fc.property(fc.gen(), (g) => {
            const K = int(g, 1, 20);
            const ms = draw(g, multShift);
            checkCase({
              op: 'MatMul',
              inputs: [draw(g, tensor('i8', [K])), draw(g, tensor('i8', [K]))],
              attrs: { aZero: draw(g, zero('i8')), bZero: draw(g, zero('i8')), yZero: 0, mult: ms.mult, shift: ms.shift },
              params: {},
              out: { dtype: 'i8', shape: [] },
            });
          }),
          { ...FC, numRuns: 50 },
        );
      });
    });
  });
}

describe('GEMM backend bound', () => {
  it('falls back to exact JS sums when K·max|a|·max|b| could overflow i32 lanes', () => {
    expect(makeGemm(1, 1, 8, I32_MAX + 1).backend).toBe('js');
  });
  it('Linear with K = 70000 (bound above 2^31) matches the reference', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const K = 70000;
        const ms = draw(g, multShift);
        checkCase({
          op: 'Linear',
          inputs: [draw(g, tensor('u8', [1, K]))],
          attrs: { xZero: 0, yZero: 0 },
          params: { weight: param('i8', [2, K], draw(g, values('i8', 2 * K))), mult: param('i32', [2], [ms.mult, ms.mult]), shift: param('i32', [2], [ms.shift, ms.shift]) },
          out: { dtype: 'i32', shape: [1, 2] },
        });
      }),
      { ...FC, numRuns: 3 },
    );
  });
});

void size;
void value;
