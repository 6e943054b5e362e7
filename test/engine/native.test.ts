/**
 * Every kernel path gives byte-identical traces: the native addon (each of its CPU paths: AVX-512
 * VNNI, AVX2, plain C — as far as this CPU allows), WebAssembly SIMD and the JS fallback, through
 * runModel and runBatch, on every shipped model (and mobile-net from ../shared/models, which has
 * depthwise convs, when that directory exists), and on random dense-op cases (fast-check) against
 * the BigInt reference. Skips the native side, with a printed reason, when the addon is not built.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { DType, QModel, TensorData } from '../../src/engine/ir.js';
import { prepareModel, runBatch, runModel } from '../../src/engine/run.js';
import { type ConvPlan, kernelPath, nativeAvailable, nativeCpu, nativeKernels, setNativeCpuPath, setNativeEnabled } from '../../src/engine/native.js';
import { setWasmGemmEnabled } from '../../src/engine/wasm.js';
import { importOnnx, quantizeInput } from '../../src/onnx/import.js';
import { MODEL_NAMES, modelData, quantized } from '../onnx/models.js';
import { keccakReady, merkleRoot, traceRoot } from '../../src/commit/index.js';
import { bytesOf, type Case, checkCase, convCase, type ConvGeo, modelOf, multShift, param, perChannel, qdtype, tensor, values, zero, loHi } from './helpers.js';

type Path = { name: string; native: boolean; wasm: boolean; cpu?: number };
const HAVE = nativeAvailable();
const CPU_MAX = HAVE ? setNativeCpuPath(2) : -1;
const PATHS: Path[] = [
  ...(HAVE ? [2, 1, 0].filter((p) => p <= CPU_MAX).map((p) => ({ name: `native/${['scalar', 'avx2', 'avx512vnni'][p]}`, native: true, wasm: true, cpu: p })) : []),
  { name: 'wasm', native: false, wasm: true },
  { name: 'js', native: false, wasm: false },
];
if (!HAVE) console.log('native.test: the native addon is not built (run `node native/build.mjs`); comparing the WebAssembly and JS paths only');
else console.log(`native.test: native addon loaded (CPU path ${nativeCpu()}); paths ${PATHS.map((p) => p.name).join(', ')}`);

function use(p: Path): void {
  setWasmGemmEnabled(p.wasm);
  setNativeEnabled(p.native);
  if (p.cpu !== undefined) setNativeCpuPath(p.cpu);
}
afterAll(() => {
  setWasmGemmEnabled(true);
  setNativeEnabled(true);
  if (HAVE) setNativeCpuPath(CPU_MAX);
});

/** One Buffer per trace (all tensors' bytes back to back). */
function traceBytes(trace: readonly TensorData[]): Buffer {
  return Buffer.concat(trace.map(bytesOf));
}

/** Runs every path on the same items (runModel for each, runBatch over all) and expects equal bytes. */
function expectAllPathsEqual(q: QModel, items: TensorData[][]): void {
  let want: Buffer[] | null = null;
  for (const p of PATHS) {
    use(p);
    const pm = prepareModel(q);
    const single = items.map((inp) => traceBytes(runModel(pm, inp)));
    const batch = runBatch(pm, items).map(traceBytes);
    for (let b = 0; b < items.length; b++) {
      if (!single[b].equals(batch[b])) throw new Error(`${p.name}: runBatch item ${b} differs from runModel`);
    }
    if (!want) want = single;
    else for (let b = 0; b < items.length; b++) if (!single[b].equals(want[b])) throw new Error(`${p.name}: item ${b} differs from ${PATHS[0].name}`);
  }
}

describe('every kernel path, shipped models', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: byte-identical traces on every path`, () => {
      const q = quantized(name);
      const data = modelData(name);
      fc.assert(
        fc.property(fc.array(fc.nat(data.x.length - 1), { minLength: 1, maxLength: 5 }), (rows) => {
          expectAllPathsEqual(q, rows.map((r) => [quantizeInput(q, data.x[r])]));
        }),
        { numRuns: name === 'tiny-gpt' ? 3 : 8 },
      );
    });
  }
  const SHARED = join(import.meta.dirname, '..', '..', '..', 'shared', 'models');
  const mobile = join(SHARED, 'mobile-net.onnx');
  it.skipIf(!existsSync(mobile))('mobile-net (depthwise convs, ../shared/models): byte-identical traces on every path', () => {
    const data = JSON.parse(readFileSync(join(SHARED, 'mobile-net.data.json'), 'utf8')) as { shape: number[]; x: number[][]; calibration: number[][] };
    const q = importOnnx(readFileSync(mobile), { name: 'mobile-net', inputShape: data.shape, calibration: data.calibration.slice(0, 16) });
    expect(q.nodes.some((n) => n.op === 'Conv' && n.attrs.group !== undefined && n.attrs.group !== 1)).toBe(true);
    expectAllPathsEqual(q, [0, 7, 42].map((r) => [quantizeInput(q, data.x[r])]));
  });
  if (!existsSync(mobile)) console.log(`native.test: ${SHARED} is absent; skipping the mobile-net case`);
});

const int = (g: fc.GeneratorValue, min: number, max: number): number => g(fc.integer, { min, max });
const draw = <T>(g: fc.GeneratorValue, a: fc.Arbitrary<T>): T => g(() => a);

/** Random cases of the ops with native kernels, each checked against the reference on every path. */
function casesOnEveryPath(make: (g: fc.GeneratorValue) => Case, runs: number): void {
  fc.assert(
    fc.property(fc.gen(), (g) => {
      const c = make(g);
      const outs: Buffer[] = [];
      for (const p of PATHS) {
        use(p);
        checkCase(c);
        outs.push(bytesOf(runModel(prepareModel(modelOf(c)), c.inputs)[c.inputs.length]));
      }
      for (let i = 1; i < outs.length; i++) if (!outs[i].equals(outs[0])) throw new Error(`${PATHS[i].name} differs from ${PATHS[0].name}`);
    }),
    // No shrinking: each shrink step reruns every path and the reference (minutes on larger cases); the
    // failure still reports the seed and the case.
    { numRuns: runs, endOnFailure: true },
  );
}

/** A random conv window (kernel ≤ 3, or 1 × 1 with kMax 1; dilation and stride ≤ 2, pads ≤ 2, half the time none) over an input of up to maxHW rows and columns, and its output size. */
function convGeometry(g: fc.GeneratorValue, maxHW: number, kMax = 3): ConvGeo {
  const three = kMax === 3 && draw(g, fc.boolean()); // half the 3 × 3 windows (the native depthwise's sliding form at stride 1)
  const KH = three ? 3 : int(g, 1, kMax);
  const KW = three ? 3 : int(g, 1, kMax);
  const dh = int(g, 1, 2);
  const dw = int(g, 1, 2);
  const pads = draw(g, fc.boolean()) ? [0, 0, 0, 0] : [int(g, 0, 2), int(g, 0, 2), int(g, 0, 2), int(g, 0, 2)];
  const sh = int(g, 1, 2);
  const sw = int(g, 1, 2);
  const H = int(g, Math.max(1, dh * (KH - 1) + 1 - pads[0] - pads[2]), maxHW);
  const W = int(g, Math.max(1, dw * (KW - 1) + 1 - pads[1] - pads[3]), maxHW);
  const OH = Math.floor((H + pads[0] + pads[2] - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + pads[1] + pads[3] - dw * (KW - 1) - 1) / sw) + 1;
  return { KH, KW, pads, sh, sw, dh, dw, H, W, OH, OW };
}
const biasArb = fc.integer({ min: -(2 ** 20), max: 2 ** 20 });

/** A random Linear case of R rows, K inputs and N outputs. */
function linearCase(g: fc.GeneratorValue, R: number, K: number, N: number, bias: fc.Arbitrary<number>): Case {
  const xd = draw(g, qdtype);
  const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
  const { mult, shift } = perChannel(g, N);
  const { lo, hi } = draw(g, loHi(yd));
  return {
    op: 'Linear',
    inputs: [draw(g, tensor(xd, [R, K]))],
    attrs: { xZero: draw(g, zero(xd)), yZero: yd === 'i32' ? 0 : draw(g, zero(yd)), lo, hi },
    params: {
      weight: param('i8', [N, K], draw(g, values('i8', N * K))),
      bias: param('i32', [N], draw(g, fc.array(bias, { minLength: N, maxLength: N }))),
      mult: param('i32', [N], mult),
      shift: param('i32', [N], shift),
    },
    out: { dtype: yd, shape: [R, N] },
  };
}

/** A random MatMul case: a [...lead, H, M, K] by b [...lead, 1 or H, N, K] (transB) or [.., K, N]. */
function matmulCase(g: fc.GeneratorValue, M: number, K: number, N: number, H: number, lead: number[]): Case {
  const ad = draw(g, qdtype);
  const bd = draw(g, qdtype);
  const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
  const transB = int(g, 0, 1);
  const bH = draw(g, fc.constantFrom(1, H));
  const { lo, hi } = draw(g, loHi(yd));
  const ms = draw(g, multShift);
  return {
    op: 'MatMul',
    inputs: [draw(g, tensor(ad, [...lead, H, M, K])), draw(g, tensor(bd, transB ? [...lead, bH, N, K] : [...lead, bH, K, N]))],
    attrs: { aZero: draw(g, zero(ad)), bZero: draw(g, zero(bd)), yZero: yd === 'i32' ? 0 : draw(g, zero(yd)), mult: ms.mult, shift: ms.shift, transB, lo, hi },
    params: {},
    out: { dtype: yd, shape: [...lead, H, M, N] },
  };
}

describe('every kernel path, random cases', () => {
  it('Linear (K, N across the 4-wide, 16-column and 8-row tiles; i8/u8 in; i8/u8/i32 out)', () => {
    casesOnEveryPath((g) => linearCase(g, int(g, 1, 9), int(g, 1, 70), int(g, 1, 40), biasArb), 60);
  });

  it('depthwise Conv (group = C = CO: padding, strides, dilations; C across the 16-channel blocks and their tails)', () => {
    casesOnEveryPath((g) => {
      const xd = draw(g, qdtype);
      const yd = draw(g, qdtype);
      const C = int(g, 1, 40);
      const { KH, KW, pads, sh, sw, dh, dw, H, W, OH, OW } = convGeometry(g, 7);
      const { mult, shift } = perChannel(g, C);
      const { lo, hi } = draw(g, loHi(yd));
      return {
        op: 'Conv',
        inputs: [draw(g, tensor(xd, [1, H, W, C]))],
        attrs: { xZero: draw(g, zero(xd)), yZero: draw(g, zero(yd)), lo, hi, pads, strides: [sh, sw], dilations: [dh, dw], group: C },
        params: {
          weight: param('i8', [C, KH, KW, 1], draw(g, values('i8', C * KH * KW))),
          bias: param('i32', [C], draw(g, fc.array(biasArb, { minLength: C, maxLength: C }))),
          mult: param('i32', [C], mult),
          shift: param('i32', [C], shift),
        },
        out: { dtype: yd, shape: [1, OH, OW, C] },
      };
    }, 120);
  });

  it('group-1 Conv (native im2col inside one call: padding, strides, dilations, odd sizes; i8/u8 in, i8/u8/i32 out)', () => {
    casesOnEveryPath((g) => {
      const xd = draw(g, qdtype);
      const yd = draw(g, fc.constantFrom<DType>('i8', 'u8', 'i32'));
      // (3 × 3 kernel rows of KW·C bytes: the native im2col moves each by a 16-, 32- or 64-byte masked move)
      const C = draw(g, fc.constantFrom(1, 3, 4, 8, 9, 12, 16, 20));
      const CO = int(g, 1, 40);
      // half the cases 1 × 1 (pixels read in place natively when stride 1, whole quads of channels and no padding)
      return convCase(g, { xd, yd, C, CO, geo: convGeometry(g, 9, draw(g, fc.constantFrom(1, 3))), bias: biasArb });
    }, 150);
  });

  it.skipIf(!HAVE)('convRun takes only a plan convPlan made (type-tagged): another external value or an object throws', () => {
    use(PATHS[0]);
    const nat = nativeKernels()!;
    // a 1 × 1 conv, 2 × 2 pixels of 4 channels, 4 outputs
    const plan = nat.convPlan!(0, 1, 2, 2, 4, 1, 1, 1, 1, 1, 1, 0, 0, 2, 2, 0, 4, new Int8Array(16).fill(1), null, new Int32Array(4).fill(1 << 30), new Int32Array(4).fill(31), 0, -128, 127, 1);
    const x = new Int8Array(16).fill(3);
    const y = new Int8Array(16);
    nat.convRun!(plan, x, y, 1);
    expect(Array.from(y)).toEqual(new Array(16).fill(6)); // (4 · 3 · 1) · 2^30 / 2^31
    for (const wrong of [nat.testExternal!(), {}, null, 7]) {
      expect(() => nat.convRun!(wrong as ConvPlan, x, y, 1)).toThrow('convRun: the plan argument is not a value made by convPlan');
    }
  });

  it('MaxPool (native over a batch in one call: padding, strides, dilations, ceil-mode sizes) and GlobalAveragePool', () => {
    casesOnEveryPath((g): Case => {
      const xd = draw(g, qdtype);
      // C across the AVX-512 MaxPool's 64-channel steps and their tails
      const C = int(g, 1, 140);
      const KH = int(g, 1, 3);
      const KW = int(g, 1, 3);
      const dh = int(g, 1, 2);
      const dw = int(g, 1, 2);
      // pads smaller than the dilated kernel, so every window (ceil mode too) has a tap inside
      const pads = [int(g, 0, KH - 1), int(g, 0, KW - 1), int(g, 0, KH - 1), int(g, 0, KW - 1)];
      const sh = int(g, 1, 2);
      const sw = int(g, 1, 2);
      const H = int(g, dh * (KH - 1) + 1, 8);
      const W = int(g, dw * (KW - 1) + 1, 8);
      const floorH = Math.floor((H + pads[0] + pads[2] - dh * (KH - 1) - 1) / sh) + 1;
      const floorW = Math.floor((W + pads[1] + pads[3] - dw * (KW - 1) - 1) / sw) + 1;
      const ceil = draw(g, fc.boolean());
      const ceilH = Math.ceil((H + pads[0] + pads[2] - dh * (KH - 1) - 1) / sh) + 1;
      const ceilW = Math.ceil((W + pads[1] + pads[3] - dw * (KW - 1) - 1) / sw) + 1;
      // a ceil-mode window must still start inside the input (+ left pad)
      const OH = ceil && (ceilH - 1) * sh < H + pads[0] ? ceilH : floorH;
      const OW = ceil && (ceilW - 1) * sw < W + pads[1] ? ceilW : floorW;
      if (draw(g, fc.boolean())) {
        const yd = draw(g, qdtype);
        return { op: 'GlobalAveragePool', inputs: [draw(g, tensor(xd, [1, H, W, C]))], attrs: { xZero: draw(g, zero(xd)), yZero: draw(g, zero(yd)) }, params: {}, out: { dtype: yd, shape: [1, 1, 1, C] } };
      }
      return {
        op: 'MaxPool',
        inputs: [draw(g, tensor(xd, [1, H, W, C]))],
        attrs: { kernel: [KH, KW], pads, strides: [sh, sw], dilations: [dh, dw] },
        params: {},
        out: { dtype: xd, shape: [1, OH, OW, C] },
      };
    }, 80);
  });

  it('MatMul of two activations (i8/u8 operands, transB, broadcast batch axes)', () => {
    casesOnEveryPath((g) => matmulCase(g, int(g, 1, 7), int(g, 1, 40), int(g, 1, 20), int(g, 1, 3), []), 60);
  });

  it('Linear, large R·K (32-row blocks, 8-row tiles, the heap row buffer; int32-range bias, extreme requant)', () => {
    const bigBias = fc.oneof(biasArb, fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, -(2 ** 30), 2 ** 30));
    casesOnEveryPath((g) => linearCase(g, int(g, 30, 41), int(g, 800, 1100), int(g, 1, 36), bigBias), 5);
  });

  it('MatMul and Linear with N a multiple of 16 and K of 4 (the vector pack of the VNNI path: transposed and not)', () => {
    casesOnEveryPath((g) => matmulCase(g, int(g, 1, 20), 4 * int(g, 1, 16), 16 * int(g, 1, 4), int(g, 1, 3), [1]), 30);
    casesOnEveryPath((g) => linearCase(g, int(g, 1, 20), 4 * int(g, 1, 40), 16 * int(g, 1, 4), biasArb), 20);
  });

  it('MatMul of two activations, attention shapes (M over the 8-row tiles; one native call per batch)', () => {
    casesOnEveryPath((g) => matmulCase(g, int(g, 7, 26), int(g, 1, 48), int(g, 1, 50), int(g, 1, 4), [1]), 30);
  });

  it('Slice and Transpose whose index maps are runs of consecutive bytes (native gatherRuns)', () => {
    casesOnEveryPath((g): Case => {
      const dt = draw(g, qdtype);
      const s = [int(g, 1, 3), int(g, 1, 5), int(g, 1, 4), int(g, 8, 40)];
      if (draw(g, fc.boolean())) {
        // keep the last axis in place (runs of s[3]) or move it (runs of 1: the byte gather)
        const perm: number[] = draw(g, fc.constantFrom([0, 2, 1, 3], [1, 0, 2, 3], [2, 1, 0, 3], [0, 1, 2, 3], [0, 2, 3, 1], [1, 2, 0, 3])).slice();
        return { op: 'Transpose', inputs: [draw(g, tensor(dt, s))], attrs: { perm }, params: {}, out: { dtype: dt, shape: perm.map((p) => s[p]) } };
      }
      const D = s[3];
      const st = int(g, 0, D - 8);
      const en = int(g, st + 8, D);
      const a1 = int(g, 0, s[1] - 1);
      return {
        op: 'Slice',
        inputs: [draw(g, tensor(dt, s))],
        attrs: { starts: [a1, st], ends: [s[1], en], axes: [1, 3], steps: [1, 1] },
        params: {},
        out: { dtype: dt, shape: [s[0], s[1] - a1, s[2], en - st] },
      };
    }, 40);
  });

  it('Lut (64 bytes a step natively, and the tail)', () => {
    casesOnEveryPath((g): Case => {
      const yd = draw(g, qdtype);
      const n = int(g, 1, 300);
      return { op: 'Lut', inputs: [draw(g, tensor('i8', [n]))], attrs: {}, params: { table: param(yd, [256], draw(g, values(yd, 256))) }, out: { dtype: yd, shape: [n] } };
    }, 40);
  });

  it('Add of 8-bit outputs (16 lanes a step natively: runtime b, a constant b, a broadcast constant b)', () => {
    casesOnEveryPath((g): Case => {
      const [ad, bd, yd] = [draw(g, qdtype), draw(g, qdtype), draw(g, qdtype)];
      const s = [int(g, 1, 4), int(g, 1, 40)];
      const kind = int(g, 0, 2);
      const bs = kind === 2 ? [s[1]] : s;
      const b = draw(g, tensor(bd, bs));
      const { lo, hi } = draw(g, loHi(yd));
      const mult = fc.oneof(fc.integer({ min: 0, max: 32767 }), fc.constantFrom(0, 1, 32767));
      return {
        op: 'Add',
        inputs: kind === 0 ? [draw(g, tensor(ad, s)), b] : [draw(g, tensor(ad, s))],
        attrs: { aZero: draw(g, zero(ad)), bZero: draw(g, zero(bd)), yZero: draw(g, zero(yd)), lo, hi, aMult: draw(g, mult), bMult: draw(g, mult), shift: int(g, 1, 30) },
        params: kind === 0 ? {} : { b: param(bd, bs, Array.from(b.data)) },
        out: { dtype: yd, shape: s },
      };
    }, 60);
  });

  it('reports the path models prepared now take', () => {
    use(PATHS[0]);
    expect(kernelPath()).toBe(HAVE ? 'native' : 'wasm');
    use({ name: 'js', native: false, wasm: false });
    expect(kernelPath()).toBe('js');
  });
});

describe('Merkle hashing on every path (the native Keccak levels of src/commit/keccak.ts)', () => {
  it('merkleRoot and traceRoot are the same bytes natively (8-way and 1-way) and on hash-wasm', async () => {
    await keccakReady;
    const q = quantized('digits-convnet');
    const trace = runModel(prepareModel(q), [quantizeInput(q, modelData('digits-convnet').x[3])]);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), (data) => {
        const roots: Buffer[] = [];
        for (const p of PATHS) {
          use(p);
          roots.push(Buffer.from(merkleRoot(data)), Buffer.from(traceRoot(trace)));
        }
        for (let i = 2; i < roots.length; i++) expect(roots[i].equals(roots[i % 2])).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
