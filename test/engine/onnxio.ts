/** Reading ONNX node-test folders (model.onnx + test_data_set_0/*.pb) with onnx-proto. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import type { OnnxAttrs, OnnxTensor } from '../../src/engine/onnxint.js';

const { onnx } = pkg;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v)));

export interface NodeTestCase {
  opType: string;
  attrs: OnnxAttrs;
  /** Graph inputs by node input position ('' = absent optional input). */
  inputs: (OnnxTensor | undefined)[];
  outputs: OnnxTensor[];
}

/** ONNX TensorProto → OnnxTensor (raw_data little-endian or the typed fields). */
export function decodeTensor(bytes: Uint8Array): OnnxTensor {
  const t = onnx.TensorProto.decode(bytes);
  const shape = (t.dims ?? []).map(num);
  const n = shape.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const dv = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  switch (t.dataType) {
    case onnx.TensorProto.DataType.FLOAT: {
      const d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = dv ? dv.getFloat32(4 * i, true) : t.floatData[i];
      return { dtype: 'f32', shape, data: d };
    }
    case onnx.TensorProto.DataType.UINT8: {
      const d = new Uint8Array(n);
      for (let i = 0; i < n; i++) d[i] = dv ? dv.getUint8(i) : t.int32Data[i];
      return { dtype: 'u8', shape, data: d };
    }
    case onnx.TensorProto.DataType.INT8: {
      const d = new Int8Array(n);
      for (let i = 0; i < n; i++) d[i] = dv ? dv.getInt8(i) : t.int32Data[i];
      return { dtype: 'i8', shape, data: d };
    }
    case onnx.TensorProto.DataType.INT32: {
      const d = new Int32Array(n);
      for (let i = 0; i < n; i++) d[i] = dv ? dv.getInt32(4 * i, true) : t.int32Data[i];
      return { dtype: 'i32', shape, data: d };
    }
    default:
      throw new Error(`unsupported TensorProto data type ${t.dataType}`);
  }
}

export function loadNodeTest(dir: string): NodeTestCase {
  const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
  const graph = model.graph!;
  const node = graph.node![0];
  const attrs: OnnxAttrs = {};
  for (const a of node.attribute ?? []) {
    const name = a.name!;
    switch (a.type) {
      case onnx.AttributeProto.AttributeType.INT:
        attrs[name] = num(a.i);
        break;
      case onnx.AttributeProto.AttributeType.INTS:
        attrs[name] = (a.ints ?? []).map(num);
        break;
      case onnx.AttributeProto.AttributeType.STRING:
        attrs[name] = new TextDecoder().decode(a.s!);
        break;
      default:
        throw new Error(`unsupported attribute type ${a.type} (${name})`);
    }
  }
  const data = join(dir, 'test_data_set_0');
  const files = readdirSync(data);
  const graphInputs = (graph.input ?? []).map((i) => i.name!);
  const byName = new Map<string, OnnxTensor>();
  graphInputs.forEach((name, i) => {
    const f = join(data, `input_${i}.pb`);
    if (existsSync(f)) byName.set(name, decodeTensor(readFileSync(f)));
  });
  const inputs = (node.input ?? []).map((name) => (name ? byName.get(name) : undefined));
  const outputs = files
    .filter((f) => /^output_\d+\.pb$/.test(f))
    .sort((a, b) => num(a.match(/\d+/)![0]) - num(b.match(/\d+/)![0]))
    .map((f) => decodeTensor(readFileSync(join(data, f))));
  return { opType: node.opType!, attrs, inputs, outputs };
}
