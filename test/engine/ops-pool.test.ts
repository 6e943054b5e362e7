/** Property tests: MaxPool, AveragePool, GlobalAveragePool against the BigInt reference. */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { checkCase, FC, qdtype, tensor, zero } from './helpers.js';

type G = fc.GeneratorValue;
const draw = <T>(g: G, a: fc.Arbitrary<T>): T => g(() => a);
const int = (g: G, min: number, max: number): number => draw(g, fc.integer({ min, max }));

/** Window geometry with floor- or ceil-mode output size, every window containing an input position. */
function geometry(g: G, dilations: boolean) {
  const KH = int(g, 1, 3);
  const KW = int(g, 1, 3);
  const dh = dilations ? int(g, 1, 2) : 1;
  const dw = dilations ? int(g, 1, 2) : 1;
  // pads smaller than the (dilated) kernel extent so that windows keep an input position
  const pads = [int(g, 0, KH - 1), int(g, 0, KW - 1), int(g, 0, KH - 1), int(g, 0, KW - 1)];
  const sh = int(g, 1, 3);
  const sw = int(g, 1, 3);
  const H = int(g, Math.max(1, dh * (KH - 1) + 1 - pads[0] - pads[2]), 7);
  const W = int(g, Math.max(1, dw * (KW - 1) + 1 - pads[1] - pads[3]), 7);
  const ceil = draw(g, fc.boolean());
  const size = (D: number, a: number, b: number, k: number, s: number, d: number): number => {
    const span = D + a + b - d * (k - 1) - 1;
    let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // ONNX ceil mode: the last window must start inside the input or the leading padding
    while (o > 1 && (o - 1) * s - a >= D) o--;
    // each window must contain an input position
    const ok = (oo: number): boolean => {
      for (let i = 0; i < oo; i++) {
        let any = false;
        for (let t = 0; t < k; t++) {
          const p = i * s + t * d - a;
          if (p >= 0 && p < D) any = true;
        }
        if (!any) return false;
      }
      return true;
    };
    while (o > 1 && !ok(o)) o--;
    fc.pre(ok(o)); // e.g. a dilated window straddling a 1-wide input: no valid geometry
    return o;
  };
  const OH = size(H, pads[0], pads[2], KH, sh, dh);
  const OW = size(W, pads[1], pads[3], KW, sw, dw);
  return { KH, KW, dh, dw, pads, sh, sw, H, W, OH, OW };
}

describe('MaxPool', () => {
  it('matches the reference (padding ignored, ceil-mode sizes, dilations)', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const xd = draw(g, qdtype);
        const C = int(g, 1, 4);
        const s = geometry(g, true);
        checkCase({
          op: 'MaxPool',
          inputs: [draw(g, tensor(xd, [1, s.H, s.W, C]))],
          attrs: { kernel: [s.KH, s.KW], strides: [s.sh, s.sw], pads: s.pads, dilations: [s.dh, s.dw] },
          params: {},
          out: { dtype: xd, shape: [1, s.OH, s.OW, C] },
        });
      }),
      FC,
    );
  });
});

describe('AveragePool', () => {
  it('matches the reference (countIncludePad, ceil-mode sizes, rounding)', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const xd = draw(g, qdtype);
        const yd = draw(g, qdtype);
        const C = int(g, 1, 4);
        const s = geometry(g, false);
        checkCase({
          op: 'AveragePool',
          inputs: [draw(g, tensor(xd, [1, s.H, s.W, C]))],
          attrs: { kernel: [s.KH, s.KW], strides: [s.sh, s.sw], pads: s.pads, countIncludePad: int(g, 0, 1), xZero: draw(g, zero(xd)), yZero: draw(g, zero(yd)) },
          params: {},
          out: { dtype: yd, shape: [1, s.OH, s.OW, C] },
        });
      }),
      FC,
    );
  });
});

describe('GlobalAveragePool', () => {
  it('matches the reference', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const xd = draw(g, qdtype);
        const yd = draw(g, qdtype);
        const H = int(g, 1, 6);
        const W = int(g, 1, 6);
        const C = int(g, 1, 5);
        checkCase({
          op: 'GlobalAveragePool',
          inputs: [draw(g, tensor(xd, [1, H, W, C]))],
          attrs: { xZero: draw(g, zero(xd)), yZero: draw(g, zero(yd)) },
          params: {},
          out: { dtype: yd, shape: [1, 1, 1, C] },
        });
      }),
      FC,
    );
  });
});
