import fc from 'fast-check';
import type { DType, IntArray, Param, QModel, TensorData, TensorInfo } from '../../src/engine/ir.js';
import { allocate, sizeOf } from '../../src/engine/ir.js';

/** Deterministic pseudo-random filler (xorshift32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r() & 255;
  return out;
}

export function filled(dtype: DType, shape: number[], seed: number): TensorData {
  const data: IntArray = allocate(dtype, sizeOf(shape));
  const r = rng(seed);
  for (let i = 0; i < data.length; i++) data[i] = dtype === 'i32' ? r() | 0 : r() & 255;
  return { dtype, shape, data };
}

export const arbDType = fc.constantFrom<DType>('i8', 'u8', 'i32');

/** A small random tensor (0..6 dims of 1..5, sometimes a 0 dim). */
export const arbTensor: fc.Arbitrary<TensorData> = fc
  .record({ dtype: arbDType, shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }), seed: fc.integer() })
  .map(({ dtype, shape, seed }) => filled(dtype, shape, seed));

function info(id: number, dtype: DType, shape: number[], zeroPoint = 0, layout: 'plain' | 'nhwc' = 'plain'): TensorInfo {
  return { id, name: `t${id}`, dtype, shape, scale: 0.05, zeroPoint, layout };
}

function param(dtype: DType, shape: number[], seed: number): Param {
  return filled(dtype, shape, seed);
}

/** A small model exercising scalar and array attrs, 0..4 params, nhwc layout, i32 tensors. */
export function sampleModel(): QModel {
  return {
    format: 'verity-qmodel',
    version: 1,
    name: 'sample',
    inputs: [0],
    outputs: [5],
    tensors: [
      info(0, 'i8', [1, 6, 6, 2], -3, 'nhwc'),
      info(1, 'i8', [1, 6, 6, 4], 5, 'nhwc'),
      info(2, 'i8', [1, 4, 1, 1], 1, 'nhwc'),
      info(3, 'i8', [1, 4], 1),
      info(4, 'i8', [1, 3], -128),
      info(5, 'i8', [1, 3], -128),
    ],
    nodes: [
      {
        op: 'Conv',
        name: 'conv0',
        inputs: [0],
        output: 1,
        attrs: { xZero: -3, yZero: 5, lo: -128, hi: 127, pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1 },
        params: {
          weight: param('i8', [4, 3, 3, 2], 1),
          bias: param('i32', [4], 2),
          mult: param('i32', [4], 3),
          shift: param('i32', [4], 4),
        },
      },
      { op: 'GlobalAveragePool', name: 'gap', inputs: [1], output: 2, attrs: { xZero: 5, yZero: 1 }, params: {} },
      { op: 'Reshape', name: 'flat', inputs: [2], output: 3, attrs: { shape: [1, 4] }, params: {} },
      {
        op: 'Linear',
        name: 'fc',
        inputs: [3],
        output: 4,
        attrs: { xZero: 1, yZero: -128, lo: -128, hi: 127 },
        params: { weight: param('i8', [3, 4], 5), bias: param('i32', [3], 6), mult: param('i32', [3], 7), shift: param('i32', [3], 8) },
      },
      { op: 'Lut', name: 'act', inputs: [4], output: 5, attrs: {}, params: { table: param('i8', [256], 9) } },
    ],
    source: { onnxSha256: '00', opset: 13, producer: 'test' },
  };
}
