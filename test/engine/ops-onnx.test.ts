/** Property tests: MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv against the BigInt reference. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { setWasmGemmEnabled } from '../../src/engine/wasm.js';
import type { DType, Param } from '../../src/engine/ir.js';
import { broadcastShape, type Case, checkCase, FC, multShift, param, qdtype, tensor, values } from './helpers.js';

type G = fc.GeneratorValue;
const draw = <T>(g: G, a: fc.Arbitrary<T>): T => g(() => a);
const int = (g: G, min: number, max: number): number => draw(g, fc.integer({ min, max }));

/** A zero-point param of 1 or n entries (or none). */
function zp(g: G, dt: DType, n: number): Param | undefined {
  const k = int(g, 0, 2);
  if (k === 0) return undefined;
  const len = k === 1 ? 1 : n;
  return param(dt, [len], draw(g, values(dt, len)));
}

function multShiftParams(g: G, n: number): Record<string, Param> {
  const len = draw(g, fc.boolean()) ? 1 : n;
  const ms = draw(g, fc.array(multShift, { minLength: len, maxLength: len }));
  return { mult: param('i32', [len], ms.map((m) => m.mult)), shift: param('i32', [len], ms.map((m) => m.shift)) };
}

function matmulCase(g: G, op: 'MatMulInteger' | 'QLinearMatMul'): Case {
  const ad = draw(g, qdtype);
  const bd = draw(g, qdtype);
  const M = int(g, 1, 5);
  const K = int(g, 1, 17);
  const N = int(g, 1, 5);
  const batch = draw(g, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }));
  const aBatch = batch.map((d) => (draw(g, fc.boolean()) ? 1 : d));
  const bBatch = batch.slice(int(g, 0, batch.length));
  const aShape = [...aBatch, M, K];
  const bShape = [...bBatch, K, N];
  const bParam = draw(g, fc.boolean());
  const a = draw(g, tensor(ad, aShape));
  const b = draw(g, tensor(bd, bShape));
  const params: Record<string, Param> = {};
  const put = (k: string, p: Param | undefined): void => {
    if (p) params[k] = p;
  };
  put('aZero', zp(g, ad, M));
  put('bZero', zp(g, bd, N));
  if (bParam) params.b = param(bd, bShape, Array.from(b.data));
  let yd: DType = 'i32';
  if (op === 'QLinearMatMul') {
    yd = draw(g, qdtype);
    put('yZero', draw(g, fc.boolean()) ? param(yd, [1], draw(g, values(yd, 1))) : undefined);
    Object.assign(params, multShiftParams(g, N));
  }
  return { op, inputs: bParam ? [a] : [a, b], attrs: {}, params, out: { dtype: yd, shape: [...broadcastShape(aBatch, bBatch), M, N] } };
}

function convCase(g: G, op: 'ConvInteger' | 'QLinearConv'): Case {
  const xd = draw(g, qdtype);
  const wd = draw(g, qdtype);
  const group = int(g, 1, 3);
  const Cg = int(g, 1, 3);
  const C = group * Cg;
  const M = group * int(g, 1, 3);
  const KH = int(g, 1, 3);
  const KW = int(g, 1, 3);
  const dh = int(g, 1, 2);
  const dw = int(g, 1, 2);
  const pads = [int(g, 0, 2), int(g, 0, 2), int(g, 0, 2), int(g, 0, 2)];
  const sh = int(g, 1, 3);
  const sw = int(g, 1, 3);
  const Nb = int(g, 1, 2);
  const H = int(g, Math.max(1, dh * (KH - 1) + 1 - pads[0] - pads[2]), 6);
  const W = int(g, Math.max(1, dw * (KW - 1) + 1 - pads[1] - pads[3]), 6);
  const OH = Math.floor((H + pads[0] + pads[2] - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - dw * (KW - 1) - 1) / sw) + 1;
  const x = draw(g, tensor(xd, [Nb, C, H, W]));
  const w = draw(g, tensor(wd, [M, Cg, KH, KW]));
  const wParam = draw(g, fc.boolean());
  const params: Record<string, Param> = {};
  const put = (k: string, p: Param | undefined): void => {
    if (p) params[k] = p;
  };
  put('xZero', zp(g, xd, 1));
  put('wZero', zp(g, wd, M));
  if (wParam) params.w = param(wd, [M, Cg, KH, KW], Array.from(w.data));
  let yd: DType = 'i32';
  if (op === 'QLinearConv') {
    yd = draw(g, qdtype);
    put('yZero', draw(g, fc.boolean()) ? param(yd, [1], draw(g, values(yd, 1))) : undefined);
    put('bias', draw(g, fc.boolean()) ? param('i32', [M], draw(g, fc.array(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), { minLength: M, maxLength: M }))) : undefined);
    Object.assign(params, multShiftParams(g, M));
  }
  return {
    op,
    inputs: wParam ? [x] : [x, w],
    attrs: { pads, strides: [sh, sw], dilations: [dh, dw], group },
    params,
    out: { dtype: yd, shape: [Nb, M, OH, OW] },
  };
}

for (const backend of ['wasm', 'js'] as const) {
  describe(`[${backend} GEMM]`, () => {
    let was = true;
    beforeAll(() => {
      was = setWasmGemmEnabled(backend === 'wasm');
    });
    afterAll(() => {
      setWasmGemmEnabled(was);
    });
    describe('MatMulInteger', () => {
      it('matches the reference (per-row/per-column zero points, params.b, batches)', () => {
        fc.assert(fc.property(fc.gen(), (g) => checkCase(matmulCase(g, 'MatMulInteger'))), FC);
      });
    });

    describe('QLinearMatMul', () => {
      it('matches the reference (per-column mult/shift, u8/i8 outputs)', () => {
        fc.assert(fc.property(fc.gen(), (g) => checkCase(matmulCase(g, 'QLinearMatMul'))), FC);
      });
    });

    describe('ConvInteger', () => {
      it('matches the reference (NCHW, padding, strides, dilations, groups, per-channel wZero)', () => {
        fc.assert(fc.property(fc.gen(), (g) => checkCase(convCase(g, 'ConvInteger'))), FC);
      });
    });

    describe('QLinearConv', () => {
      it('matches the reference (bias, per-channel mult/shift)', () => {
        fc.assert(fc.property(fc.gen(), (g) => checkCase(convCase(g, 'QLinearConv'))), FC);
      });
    });
  });
}
