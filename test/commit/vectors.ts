/** Fixed inputs of the golden vectors in docs/protocol.md §Commitments "Test vectors". */
import type { QModel, TensorData } from '../../src/engine/ir.js';

/** 320 bytes: byte i = i mod 256 (10 words). */
export const vecBytes = Uint8Array.from({ length: 320 }, (_, i) => i & 255);
export const vecProofIndices = [1, 2, 7];

export const vecI8: TensorData = { dtype: 'i8', shape: [2, 3], data: Int8Array.from([-1, 0, 1, 2, -128, 127]) };
export const vecI32: TensorData = { dtype: 'i32', shape: [2], data: Int32Array.from([1, -2]) };

export function vecModel(): QModel {
  const t = (id: number, shape: number[], zeroPoint: number) => ({ id, name: `t${id}`, dtype: 'i8' as const, shape, scale: 1, zeroPoint, layout: 'plain' as const });
  return {
    format: 'verity-qmodel',
    version: 1,
    name: 'vectors',
    inputs: [0],
    outputs: [3],
    tensors: [t(0, [1, 4], -1), t(1, [1, 4], 3), t(2, [1, 4], 3), t(3, [4], 3)],
    nodes: [
      { op: 'Requantize', name: 'rq', inputs: [0], output: 1, attrs: { xZero: -1, yZero: 3, mult: 1073741824, shift: 31, lo: -128, hi: 127 }, params: {} },
      { op: 'Lut', name: 'lut', inputs: [1], output: 2, attrs: {}, params: { table: { dtype: 'i8', shape: [256], data: Int8Array.from({ length: 256 }, (_, i) => i - 128) } } },
      { op: 'Reshape', name: 'reshape', inputs: [2], output: 3, attrs: { shape: [4] }, params: {} },
    ],
    source: { onnxSha256: '', opset: 13, producer: 'vectors' },
  };
}
