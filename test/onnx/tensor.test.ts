/** TensorProto decoding (raw and typed fields), loader details, and the precise erf. */
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { OnnxGraphError } from '../../src/onnx/errors.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { erf } from '../../src/onnx/ops/erf.js';
import { fromTensorProto, toTensorProto, type FTensor } from '../../src/onnx/tensor.js';
import { buildModel, f32 } from './helpers.js';

const { onnx } = pkg;
/** Round trip through the wire format, as a real file would give it. */
const wire = (p: Parameters<typeof onnx.TensorProto.create>[0]) => onnx.TensorProto.decode(onnx.TensorProto.encode(onnx.TensorProto.create(p)).finish());

describe('fromTensorProto', () => {
  it('reads raw_data little-endian for every dtype (round trip through toTensorProto)', () => {
    const cases: FTensor[] = [
      { dtype: 'float32', shape: [2, 2], data: Float32Array.from([1.5, -2.25, 3e-8, -0]) },
      { dtype: 'int64', shape: [3], data: Float64Array.from([-(2 ** 40), 7, 2 ** 53]) },
      { dtype: 'int32', shape: [2], data: Float64Array.from([-(2 ** 31), 2 ** 31 - 1]) },
      { dtype: 'int8', shape: [3], data: Float64Array.from([-128, 0, 127]) },
      { dtype: 'uint8', shape: [3], data: Float64Array.from([0, 128, 255]) },
      { dtype: 'bool', shape: [2], data: Float64Array.from([1, 0]) },
      { dtype: 'float32', shape: [], data: Float32Array.from([42]) },
      { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
    ];
    for (const t of cases) {
      const back = fromTensorProto(onnx.TensorProto.decode(onnx.TensorProto.encode(toTensorProto('t', t)).finish()));
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data)).toEqual(Array.from(t.data));
      expect(back.data).toBeInstanceOf(t.dtype === 'float32' ? Float32Array : Float64Array);
    }
  });

  it('reads the typed fields: float_data, int64_data (Long, extremes), int32_data for small types', () => {
    expect(Array.from(fromTensorProto(wire({ dims: [3], dataType: 1, floatData: [0.5, -1, 3.25] })).data)).toEqual([0.5, -1, 3.25]);
    const big = fromTensorProto(wire({ dims: [3], dataType: 7, int64Data: ['9223372036854775807', '-9223372036854775808', 5] as unknown as number[] }));
    expect(big.data[0]).toBeCloseTo(9.223372036854776e18, -4);
    expect(big.data[1]).toBeCloseTo(-9.223372036854776e18, -4);
    expect(big.data[2]).toBe(5);
    expect(Array.from(fromTensorProto(wire({ dims: [2], dataType: 3, int32Data: [-5, 100] })).data)).toEqual([-5, 100]);
    expect(Array.from(fromTensorProto(wire({ dims: [2], dataType: 2, int32Data: [0, 255] })).data)).toEqual([0, 255]);
    expect(Array.from(fromTensorProto(wire({ dims: [2], dataType: 9, int32Data: [1, 0] })).data)).toEqual([1, 0]);
    expect(Array.from(fromTensorProto(wire({ dims: [2], dataType: 6, int32Data: [-7, 9] })).data)).toEqual([-7, 9]);
  });

  it('rejects external data, unsupported types, wrong lengths and huge shapes with OnnxGraphError', () => {
    expect(() => fromTensorProto(wire({ name: 'w', dims: [2], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }))).toThrow(/external data/);
    expect(() => fromTensorProto(wire({ name: 'd', dims: [1], dataType: 11, doubleData: [1] }))).toThrow(/DOUBLE/);
    expect(() => fromTensorProto(wire({ name: 'r', dims: [3], dataType: 1, rawData: new Uint8Array(8) }))).toThrow(/needs 12 bytes/);
    expect(() => fromTensorProto(wire({ name: 'f', dims: [3], dataType: 1, floatData: [1, 2] }))).toThrow(/needs 3 values/);
    expect(() => fromTensorProto(wire({ name: 'h', dims: [1e7, 1e7], dataType: 1 }))).toThrow(/over the limit/);
    expect(() => fromTensorProto(wire({ name: 'n', dims: [-1], dataType: 1 }))).toThrow(OnnxGraphError);
  });
});

describe('loadOnnx', () => {
  it('initializers that are also graph inputs are constants; names, dims and opset carried over', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: ['batch', 3] }, { name: 'W', shape: [3, 2] }],
      outputs: [{ name: 'y' }],
      inits: { W: f32([3, 2], [1, 2, 3, 4, 5, 6]) },
      nodes: [{ op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['y'] }],
      opset: 13,
    });
    const m = loadOnnx(bytes);
    expect(m.opset).toBe(13);
    expect(m.producer).toBe('verity-test');
    expect(m.graph.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 3] }]);
    expect([...m.graph.consts.keys()]).toEqual(['W']);
    expect(m.graph.nodes).toEqual([{ op: 'MatMul', name: 'mm', inputs: ['x', 'W'], outputs: ['y'], attrs: {} }]);
  });

  it('sorts nodes topologically and names unnamed nodes', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [2] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Relu', name: '', inputs: ['a'], outputs: ['y'] },
        { op: 'Neg', name: '', inputs: ['x'], outputs: ['a'] },
      ],
    });
    const m = loadOnnx(bytes);
    expect(m.graph.nodes.map((n) => [n.op, n.name])).toEqual([['Neg', 'Neg_1'], ['Relu', 'Relu_0']]);
  });
});

describe('erf', () => {
  it('is accurate to 1e-15 on reference values (error bound 1e-7 required)', () => {
    const ref: [number, number][] = [
      [0, 0], [1e-8, 1.1283791670955126e-8], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [1.5, 0.9661051464753108], [2, 0.9953222650189527], [3, 0.9999779095030014], [4, 0.9999999845827421], [5, 0.9999999999984626], [7, 1],
    ];
    for (const [x, y] of ref) {
      expect(Math.abs(erf(x) - y)).toBeLessThan(1e-15);
      expect(Math.abs(erf(-x) + y)).toBeLessThan(1e-15);
    }
    expect(Number.isNaN(erf(Number.NaN))).toBe(true);
    expect(erf(Infinity)).toBe(1);
  });
});
