/** Shared test helpers: model paths, data rows, tensor comparison, ModelProto building. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import type { FTensor } from '../../src/onnx/tensor.js';
import { toTensorProto } from '../../src/onnx/tensor.js';

const { onnx } = pkg;

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODELS = join(ROOT, 'models');
export const CONFORMANCE = join(ROOT, '..', 'shared', 'conformance', 'onnx-node');

export function modelBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(MODELS, `${name}.onnx`)));
}

export function dataRows(name: string): number[][] {
  return JSON.parse(readFileSync(join(MODELS, `${name}.data.json`), 'utf8')).x as number[][];
}

export function conformanceAvailable(): boolean {
  return existsSync(CONFORMANCE);
}

/** Largest |a − b| over two equal-length arrays (Infinity when lengths differ or a NaN differs). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) !== Number.isNaN(b[i])) return Infinity;
    if (Number.isNaN(a[i])) continue;
    if (a[i] === b[i]) continue; // also equal infinities
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

export function f32(shape: number[], values: ArrayLike<number>): FTensor {
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

export function i64(shape: number[], values: ArrayLike<number>): FTensor {
  return { dtype: 'int64', shape, data: Float64Array.from(values) };
}

export interface NodeSpec {
  op: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attrs?: P.IAttributeProto[];
}

/** Encodes a small ModelProto: float32 inputs/outputs with the given shapes, initializers, nodes. */
export function buildModel(p: {
  inputs: { name: string; shape: (number | string)[]; elemType?: number }[];
  outputs: { name: string; shape?: (number | string)[] }[];
  inits?: Record<string, FTensor>;
  nodes: NodeSpec[];
  opset?: number;
}): Uint8Array {
  const vi = (name: string, shape: (number | string)[] | undefined, elemType = 1) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType,
          shape: shape ? { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined,
        },
      },
    });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'verity-test',
    opsetImport: [{ domain: '', version: p.opset ?? 17 }],
    graph: {
      name: 'g',
      input: p.inputs.map((i) => vi(i.name, i.shape, i.elemType)),
      output: p.outputs.map((o) => vi(o.name, o.shape)),
      initializer: Object.entries(p.inits ?? {}).map(([k, t]) => toTensorProto(k, t)),
      node: p.nodes.map((n, i) => ({ opType: n.op, name: n.name ?? `${n.op}_${i}`, input: n.inputs, output: n.outputs, attribute: n.attrs ?? [] })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export const attrInt = (name: string, i: number): P.IAttributeProto => ({ name, type: 2, i });
export const attrInts = (name: string, ints: number[]): P.IAttributeProto => ({ name, type: 7, ints });
export const attrFloat = (name: string, f: number): P.IAttributeProto => ({ name, type: 1, f });
export const attrString = (name: string, s: string): P.IAttributeProto => ({ name, type: 3, s: new TextEncoder().encode(s) });
