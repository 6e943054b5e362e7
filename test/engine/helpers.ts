/** Test helpers: one-node models, random tensors, and the engine-vs-reference check. */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { AttrValue, DType, IntArray, OpType, Param, QModel, TensorData } from '../../src/engine/ir.js';
import { allocate } from '../../src/engine/ir.js';
import { ArenaCache, prepareModel, runBatch, runBatchOutputs, runModel } from '../../src/engine/run.js';
import { RANGE, reference, size } from './reference.js';

export const RUNS = 200;

export interface Case {
  op: OpType;
  inputs: TensorData[];
  attrs: Record<string, AttrValue>;
  params: Record<string, Param>;
  out: { dtype: DType; shape: number[] };
}

export function fromArray(dtype: DType, shape: number[], values: readonly number[]): TensorData {
  const data = allocate(dtype, values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i];
  return { dtype, shape, data };
}

export function param(dtype: DType, shape: number[], values: readonly number[]): Param {
  return fromArray(dtype, shape, values) as Param;
}

export function modelOf(c: Case): QModel {
  const k = c.inputs.length;
  return {
    format: 'verity-qmodel',
    version: 1,
    name: `test-${c.op}`,
    inputs: c.inputs.map((_, i) => i),
    outputs: [k],
    tensors: [
      ...c.inputs.map((t, i) => ({ id: i, name: `in${i}`, dtype: t.dtype, shape: t.shape, scale: 1, zeroPoint: 0, layout: 'plain' as const })),
      { id: k, name: 'out', dtype: c.out.dtype, shape: c.out.shape, scale: 1, zeroPoint: 0, layout: 'plain' as const },
    ],
    nodes: [{ op: c.op, name: `${c.op}_0`, inputs: c.inputs.map((_, i) => i), output: k, attrs: c.attrs, params: c.params }],
    source: { onnxSha256: '', opset: 0, producer: 'test' },
  };
}

export function runCase(c: Case): IntArray {
  const m = modelOf(c);
  const p = prepareModel(m);
  return runModel(p, c.inputs)[c.inputs.length].data;
}

/** The bytes of a tensor's data (its own view, not the whole buffer). */
export function bytesOf(t: TensorData): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Expects two traces to be identical: same length, dtypes, shapes and bytes. */
export function expectSameTrace(got: readonly TensorData[], want: readonly TensorData[]): void {
  expect(got.length).toBe(want.length);
  for (let id = 0; id < want.length; id++) {
    expect(got[id].dtype).toBe(want[id].dtype);
    expect(got[id].shape).toEqual(want[id].shape);
    expect(got[id].data.constructor).toBe(want[id].data.constructor);
    if (!bytesOf(got[id]).equals(bytesOf(want[id]))) throw new Error(`tensor ${id} differs between runBatch and runModel`);
  }
}

/**
 * runBatch on the case's inputs, their reversed copies (values stay valid) and the inputs again must
 * give, item by item, the traces runModel gives — also in reused arenas full of garbage (ArenaCache
 * does not clear them: every kernel must write its whole output).
 */
export function checkBatch(c: Case): void {
  const p = prepareModel(modelOf(c));
  const reversed = c.inputs.map((t) => ({ ...t, data: t.data.slice().reverse() }));
  const items = [c.inputs, reversed, c.inputs];
  const arenas = new ArenaCache();
  const traces = runBatch(p, items, { arenas });
  expect(traces.length).toBe(items.length);
  items.forEach((inputs, b) => expectSameTrace(traces[b], runModel(p, inputs)));
  for (const a of new Set(traces.map((t) => t[0].data.buffer as ArrayBuffer))) {
    new Uint8Array(a).fill(0xa5);
    arenas.give(a);
  }
  const again = runBatch(p, items, { arenas });
  expect(arenas.bytes).toBe(0);
  items.forEach((inputs, b) => expectSameTrace(again[b], runModel(p, inputs)));
  // The outputs-only path (no per-item traces) on garbage-filled arenas: each item's outputs back to back.
  for (const a of new Set(again.map((t) => t[0].data.buffer as ArrayBuffer))) {
    new Uint8Array(a).fill(0x5a);
    arenas.give(a);
  }
  const outs = runBatchOutputs(p, items, { arenas });
  expect(outs.length).toBe(p.model.outputs.length);
  p.model.outputs.forEach((id, t) => {
    const n = p.sizes[id];
    expect(outs[t].dtype).toBe(p.model.tensors[id].dtype);
    expect(outs[t].data.length).toBe(n * items.length);
    items.forEach((inputs, b) => expect(Array.from(outs[t].data.subarray(b * n, (b + 1) * n))).toEqual(Array.from(runModel(p, inputs)[id].data)));
  });
}

/** Runs the engine and the BigInt reference on a case and expects identical outputs. */
export function checkCase(c: Case): void {
  checkBatch(c);
  const got = Array.from(runCase(c), (v) => BigInt(v));
  const want = reference(modelOf(c).nodes[0], c.inputs, c.out);
  expect(got.length).toBe(size(c.out.shape));
  if (got.some((v, i) => v !== want[i])) {
    const i = got.findIndex((v, j) => v !== want[j]);
    throw new Error(`mismatch at ${i}: engine ${got[i]}, reference ${want[i]}\ncase: ${JSON.stringify(c, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v))}`);
  }
}

export const value = (dt: DType): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: RANGE[dt][0], max: RANGE[dt][1] }) },
    { weight: 1, arbitrary: fc.constantFrom(RANGE[dt][0], RANGE[dt][1]) },
  );

export const values = (dt: DType, n: number): fc.Arbitrary<number[]> => fc.array(value(dt), { minLength: n, maxLength: n });

export const tensor = (dt: DType, shape: number[]): fc.Arbitrary<TensorData> => values(dt, size(shape)).map((v) => fromArray(dt, shape, v));

export const qdtype = fc.constantFrom<DType>('i8', 'u8');

/** A zero point of a dtype (biased to the extremes and to 0). */
export const zero = (dt: DType): fc.Arbitrary<number> => value(dt);

/** A multiplier/shift pair: small shifts (saturation, ties) and realistic ones. */
export const multShift = fc.oneof(
  fc.record({ mult: fc.integer({ min: 0, max: 32767 }), shift: fc.integer({ min: 1, max: 46 }) }),
  fc.record({ mult: fc.integer({ min: 16384, max: 32767 }), shift: fc.integer({ min: 14, max: 24 }) }),
  fc.record({ mult: fc.constantFrom(1, 2, 3, 16384, 32767), shift: fc.integer({ min: 1, max: 4 }) }),
);

/** Per-channel requant multipliers and shifts for n channels. */
export function perChannel(g: fc.GeneratorValue, n: number): { mult: number[]; shift: number[] } {
  const ms = g(() => fc.array(multShift, { minLength: n, maxLength: n }));
  return { mult: ms.map((m) => m.mult), shift: ms.map((m) => m.shift) };
}

/** A conv window and its output size (what a Conv case is built over). */
export interface ConvGeo {
  KH: number;
  KW: number;
  pads: number[];
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

/**
 * A Conv case over `geo`: a random [1, H, W, C] input of xd, i8 weights [CO, KH, KW, C / group], random bias from
 * `bias` and per-channel requant to yd (yZero 0 for an i32 output); `group` is set as an attribute only when given.
 */
export function convCase(g: fc.GeneratorValue, o: { xd: DType; yd: DType; C: number; CO: number; group?: number; geo: ConvGeo; bias: fc.Arbitrary<number> }): Case {
  const { xd, yd, C, CO, geo } = o;
  const Cg = C / (o.group ?? 1);
  const { mult, shift } = perChannel(g, CO);
  const { lo, hi } = g(() => loHi(yd));
  return {
    op: 'Conv',
    inputs: [g(() => tensor(xd, [1, geo.H, geo.W, C]))],
    attrs: { xZero: g(() => zero(xd)), yZero: yd === 'i32' ? 0 : g(() => zero(yd)), lo, hi, pads: geo.pads, strides: [geo.sh, geo.sw], dilations: [geo.dh, geo.dw], ...(o.group === undefined ? {} : { group: o.group }) },
    params: {
      weight: param('i8', [CO, geo.KH, geo.KW, Cg], g(() => values('i8', CO * geo.KH * geo.KW * Cg))),
      bias: param('i32', [CO], g(() => fc.array(o.bias, { minLength: CO, maxLength: CO }))),
      mult: param('i32', [CO], mult),
      shift: param('i32', [CO], shift),
    },
    out: { dtype: yd, shape: [1, geo.OH, geo.OW, CO] },
  };
}

/** lo..hi within a dtype (often the full range). */
export const loHi = (dt: DType): fc.Arbitrary<{ lo: number; hi: number }> =>
  fc.oneof(
    fc.constant({ lo: RANGE[dt][0], hi: RANGE[dt][1] }),
    fc.tuple(value(dt), value(dt)).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b) })),
  );

export const dim = (max: number): fc.Arbitrary<number> => fc.integer({ min: 1, max });
export const shapeArb = (rank: [number, number], maxDim: number): fc.Arbitrary<number[]> =>
  fc.integer({ min: rank[0], max: rank[1] }).chain((r) => fc.array(dim(maxDim), { minLength: r, maxLength: r }));

/** A shape that broadcasts against `s`: a suffix of s with some dims replaced by 1. */
export const broadcastable = (s: number[]): fc.Arbitrary<number[]> =>
  fc.integer({ min: 0, max: s.length }).chain((drop) =>
    fc.array(fc.boolean(), { minLength: s.length - drop, maxLength: s.length - drop }).map((ones) => s.slice(drop).map((d, i) => (ones[i] ? 1 : d))),
  );

export function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[i - (n - a.length)] ?? 1;
    const db = b[i - (n - b.length)] ?? 1;
    out.push(Math.max(da, db));
  }
  return out;
}

/**
 * fast-check options for every property: RUNS cases; no shrinking (fc.gen shrinking of these
 * multi-draw cases can exhaust memory) — a failure prints the full case and the seed instead.
 */
export const FC = { numRuns: RUNS, endOnFailure: true } as const;
