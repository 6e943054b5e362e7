/** VQM1 serialization: round trip, determinism, canonical-only decoding, corrupt files. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType, OpType, Param, QModel } from '../../src/engine/ir.js';
import { OP_TYPES } from '../../src/engine/ir.js';
import { decodeModel, encodeModel } from '../../src/engine/format.js';
import { EngineModelError, FormatError } from '../../src/engine/errors.js';
import { fromArray, RUNS } from './helpers.js';
import { RANGE } from './reference.js';

const dtypeArb = fc.constantFrom<DType>('i8', 'u8', 'i32');
const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 });
const nameArb = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }));
const keyArb = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__');
const paramArb: fc.Arbitrary<Param> = fc.tuple(dtypeArb, shapeArb).chain(([dt, shape]) =>
  fc
    .array(fc.integer({ min: RANGE[dt][0], max: RANGE[dt][1] }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
    .map((v) => fromArray(dt, shape, v) as Param),
);
const attrArb = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 5 }));

const modelArb: fc.Arbitrary<QModel> = fc.record({
  format: fc.constant('verity-qmodel' as const),
  version: fc.constant(1 as const),
  name: nameArb,
  inputs: fc.array(fc.nat(20), { maxLength: 3 }),
  outputs: fc.array(fc.nat(20), { maxLength: 3 }),
  tensors: fc.array(
    fc.record({
      name: nameArb,
      dtype: dtypeArb,
      shape: shapeArb,
      scale: fc.double({ noNaN: true, noDefaultInfinity: true }).map((s) => (Object.is(s, -0) ? 0 : s)),
      zeroPoint: fc.integer({ min: -128, max: 255 }),
      layout: fc.constantFrom('plain' as const, 'nhwc' as const),
    }),
    { maxLength: 4 },
  ).map((ts) => ts.map((t, id) => ({ id, ...t }))),
  nodes: fc.array(
    fc.record({
      op: fc.constantFrom<OpType>(...OP_TYPES),
      name: nameArb,
      inputs: fc.array(fc.nat(20), { maxLength: 3 }),
      output: fc.nat(20),
      attrs: fc.dictionary(keyArb, attrArb, { maxKeys: 4 }),
      params: fc.dictionary(keyArb, paramArb, { maxKeys: 3 }),
    }),
    { maxLength: 4 },
  ),
  source: fc.record({ onnxSha256: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 64 }), opset: fc.nat(30), producer: nameArb }),
});

function sample(): QModel {
  const w = fromArray('i8', [2, 3], [1, -2, 3, -4, 5, -128]) as Param;
  const b = fromArray('i32', [2], [-7, 2147483647]) as Param;
  return {
    format: 'verity-qmodel',
    version: 1,
    name: 'sample',
    inputs: [0],
    outputs: [1],
    tensors: [
      { id: 0, name: 'x', dtype: 'i8', shape: [1, 3], scale: 0.05, zeroPoint: -3, layout: 'plain' },
      { id: 1, name: 'y', dtype: 'i8', shape: [1, 2], scale: 0.1, zeroPoint: 0, layout: 'plain' },
    ],
    nodes: [
      {
        op: 'Linear',
        name: 'fc',
        inputs: [0],
        output: 1,
        attrs: { xZero: -3, yZero: 0, lo: -128, hi: 127 },
        params: { weight: w, bias: b, mult: fromArray('i32', [2], [16384, 20000]) as Param, shift: fromArray('i32', [2], [20, 21]) as Param },
      },
    ],
    source: { onnxSha256: 'ab'.repeat(32), opset: 13, producer: 'test' },
  };
}

function expectFormatError(bytes: Uint8Array, offset?: number): FormatError {
  let err: unknown;
  try {
    decodeModel(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, 'decode should throw').toBeInstanceOf(FormatError);
  const fe = err as FormatError;
  if (offset !== undefined) expect(fe.offset).toBe(offset);
  expect(fe.offset).toBeGreaterThanOrEqual(0);
  return fe;
}

/** Rewrites the header JSON (and its length), keeping the rest of the file. */
function withHeader(bytes: Uint8Array, edit: (h: string) => string): Uint8Array {
  const H = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  const json = edit(new TextDecoder().decode(bytes.subarray(8, 8 + H)));
  const hb = new TextEncoder().encode(json);
  const P = Math.ceil((8 + H) / 32) * 32;
  const P2 = Math.ceil((8 + hb.length) / 32) * 32;
  const out = new Uint8Array(P2 + bytes.length - P);
  out.set(bytes.subarray(0, 4));
  new DataView(out.buffer).setUint32(4, hb.length, true);
  out.set(hb, 8);
  out.set(bytes.subarray(P), P2);
  return out;
}

describe('VQM1 round trip', () => {
  it('decode(encode(m)) equals m and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(modelArb, (m) => {
        const bytes = encodeModel(m);
        const d = decodeModel(bytes);
        expect(d).toEqual(m);
        expect(encodeModel(d)).toEqual(bytes);
      }),
      { numRuns: RUNS },
    );
  });
  it('layout: magic, LE header length, 32-aligned blob and params, i32 little-endian', () => {
    const bytes = encodeModel(sample());
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('VQM1');
    const H = new DataView(bytes.buffer).getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + H)));
    expect(Object.keys(header)).toEqual(['blobLength', 'format', 'inputs', 'name', 'nodes', 'outputs', 'source', 'tensors', 'version']);
    const P = Math.ceil((8 + H) / 32) * 32;
    expect(bytes.length).toBe(P + header.blobLength);
    const params = header.nodes[0].params;
    expect(Object.keys(params)).toEqual(['bias', 'mult', 'shift', 'weight']);
    for (const p of Object.values(params) as { offset: number }[]) expect(p.offset % 32).toBe(0);
    const bias = params.bias;
    expect(bias).toEqual({ dtype: 'i32', length: 8, offset: 0, shape: [2] });
    expect(Array.from(bytes.subarray(P, P + 8))).toEqual([0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + H))).not.toMatch(/\s/);
  });
});

describe('VQM1 determinism', () => {
  it('same model → identical bytes, whatever the key insertion order', () => {
    const a = sample();
    const b = sample();
    const n = b.nodes[0];
    n.attrs = { hi: 127, lo: -128, yZero: 0, xZero: -3 };
    n.params = { shift: n.params.shift, weight: n.params.weight, mult: n.params.mult, bias: n.params.bias };
    b.tensors = b.tensors.map((t) => ({ layout: t.layout, zeroPoint: t.zeroPoint, scale: t.scale, shape: t.shape, dtype: t.dtype, name: t.name, id: t.id }));
    expect(encodeModel(a)).toEqual(encodeModel(b));
    expect(encodeModel(a)).toEqual(encodeModel(a));
  });
  it('rejects models it cannot encode (EngineModelError)', () => {
    const m = sample();
    m.tensors[0].scale = Number.NaN;
    expect(() => encodeModel(m)).toThrow(EngineModelError);
    const m2 = sample();
    m2.nodes[0].params.weight = { dtype: 'i8', shape: [2, 3], data: new Int32Array(6) };
    expect(() => encodeModel(m2)).toThrow(EngineModelError);
    const m3 = sample();
    (m3.nodes[0].attrs as Record<string, unknown>).xZero = 0.5;
    expect(() => encodeModel(m3)).toThrow(EngineModelError);
  });
});

describe('VQM1 corrupt files → FormatError with offset', () => {
  const good = encodeModel(sample());
  it('bad magic', () => {
    const b = good.slice();
    b[0] = 0x58;
    expect(expectFormatError(b, 0).reason).toMatch(/magic/);
  });
  it('other version', () => {
    const b = good.slice();
    b[3] = '2'.charCodeAt(0);
    expect(expectFormatError(b, 3).reason).toMatch(/version/);
  });
  it('every truncation', () => {
    for (let n = 0; n < good.length; n++) expectFormatError(good.subarray(0, n));
  });
  it('trailing bytes', () => {
    const b = new Uint8Array(good.length + 1);
    b.set(good);
    expectFormatError(b, good.length);
  });
  it('header length past the end', () => {
    const b = good.slice();
    new DataView(b.buffer).setUint32(4, 0xffffff00, true);
    expectFormatError(b, 4);
  });
  it('non-zero padding after the header', () => {
    const H = new DataView(good.buffer).getUint32(4, true);
    const P = Math.ceil((8 + H) / 32) * 32;
    if (P > 8 + H) {
      const b = good.slice();
      b[P - 1] = 1;
      expectFormatError(b, P - 1);
    }
  });
  it('non-zero bytes between params', () => {
    const b = good.slice();
    const H = new DataView(b.buffer).getUint32(4, true);
    const P = Math.ceil((8 + H) / 32) * 32;
    b[P + 8] = 1; // after bias (8 bytes), before mult at 32
    expectFormatError(b, P + 8);
  });
  it('header not UTF-8 / not JSON / wrong field types / unknown fields', () => {
    const b = good.slice();
    b[8] = 0xff;
    expectFormatError(b, 8);
    expectFormatError(withHeader(good, (h) => h.slice(0, -1)), 8);
    expect(expectFormatError(withHeader(good, (h) => h.replace('"dtype":"i8"', '"dtype":"f32"')), 8).reason).toMatch(/dtype/);
    expect(expectFormatError(withHeader(good, (h) => h.replace('"version":1', '"version":2')), 8).reason).toMatch(/version/);
    expect(expectFormatError(withHeader(good, (h) => h.replace('"op":"Linear"', '"op":"Gemm"')), 8).reason).toMatch(/op/);
    expectFormatError(withHeader(good, (h) => h.replace('"name":"fc"', '"name":"fc","extra":1')), 8);
    expectFormatError(withHeader(good, (h) => h.replace('"xZero":-3', '"xZero":-3.5')), 8);
  });
  it('non-canonical headers (whitespace, key order) and misplaced params', () => {
    expectFormatError(withHeader(good, (h) => h.replace('"name":"sample"', '"name": "sample"')));
    expectFormatError(withHeader(good, (h) => h.replace('{"blobLength"', '{"version":1,"blobLength"').replace(',"version":1}', '}')));
    expect(expectFormatError(withHeader(good, (h) => h.replace('"offset":32', '"offset":33'))).reason).toMatch(/multiple of 32|canonical/);
    expectFormatError(withHeader(good, (h) => h.replace('"length":8', '"length":4')));
  });
  it('random byte corruption never escapes as anything but FormatError', () => {
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = good.slice();
        b[i] ^= x;
        try {
          decodeModel(b);
        } catch (e) {
          expect(e).toBeInstanceOf(FormatError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
