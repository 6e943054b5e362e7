/**
 * ONNX node conformance for the integer ops and the boundary ops: each folder's model.onnx gives the
 * op and attrs, test_data_set_0 the inputs and the exact expected outputs, compared bit for bit.
 * Skips (with a printed reason) where ../shared/conformance/onnx-node is absent.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DType, IntArray } from '../../src/engine/ir.js';
import { dequantizeLinear, dynamicQuantizeLinear, quantizeLinear } from '../../src/engine/boundary.js';
import { type OnnxIntegerOp, type OnnxTensor, runOnnxIntegerNode } from '../../src/engine/onnxint.js';
import { loadNodeTest } from './onnxio.js';

const ROOT = resolve(import.meta.dirname, '../../../shared/conformance/onnx-node');
const present = existsSync(ROOT);
if (!present) console.log(`conformance: skipped, ${ROOT} is absent (the shared conformance vectors are only on CI)`);

const FOLDERS = [
  'test_matmulinteger',
  'test_qlinearmatmul_2D',
  'test_qlinearmatmul_3D',
  'test_qlinearconv',
  'test_convinteger_with_padding',
  'test_convinteger_without_padding',
  'test_quantizelinear',
  'test_quantizelinear_axis',
  'test_dequantizelinear',
  'test_dequantizelinear_axis',
  'test_dynamicquantizelinear',
  'test_dynamicquantizelinear_max_adjusted',
  'test_dynamicquantizelinear_min_adjusted',
];

/** Bit-level view: integers as numbers, floats as their IEEE bit patterns. */
function bits(t: { data: IntArray | Float32Array }): number[] {
  if (t.data instanceof Float32Array) return Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
  return Array.from(t.data);
}

function scalar(t: OnnxTensor | undefined): number | number[] | undefined {
  if (!t) return undefined;
  return t.data.length === 1 && t.shape.length <= 1 ? t.data[0] : Array.from(t.data);
}

function run(dir: string): { got: { dtype: string; shape: number[]; data: IntArray | Float32Array }[]; want: OnnxTensor[] } {
  const c = loadNodeTest(dir);
  const want = c.outputs;
  const axis = typeof c.attrs.axis === 'number' ? c.attrs.axis : undefined;
  switch (c.opType) {
    case 'MatMulInteger':
    case 'ConvInteger':
    case 'QLinearMatMul':
    case 'QLinearConv': {
      const y = runOnnxIntegerNode(c.opType as OnnxIntegerOp, c.attrs, c.inputs, want[0].dtype as DType);
      return { got: [y], want };
    }
    case 'QuantizeLinear': {
      const [x, s, z] = c.inputs;
      const dtype = (z?.dtype ?? 'u8') as 'i8' | 'u8';
      const perAxis = s!.data.length > 1;
      const y = quantizeLinear(x!.data as Float32Array, scalar(s)!, scalar(z) ?? 0, dtype, perAxis ? (axis ?? 1) : undefined, perAxis ? x!.shape : undefined);
      return { got: [{ dtype, shape: x!.shape, data: y }], want };
    }
    case 'DequantizeLinear': {
      const [x, s, z] = c.inputs;
      const perAxis = s!.data.length > 1;
      const y = dequantizeLinear(x!.data as IntArray, scalar(s)!, scalar(z) ?? 0, perAxis ? (axis ?? 1) : undefined, perAxis ? x!.shape : undefined);
      return { got: [{ dtype: 'f32', shape: x!.shape, data: y }], want };
    }
    case 'DynamicQuantizeLinear': {
      const [x] = c.inputs;
      const r = dynamicQuantizeLinear(x!.data as Float32Array);
      return {
        got: [
          { dtype: 'u8', shape: x!.shape, data: r.y },
          { dtype: 'f32', shape: [], data: Float32Array.of(r.scale) },
          { dtype: 'u8', shape: [], data: Uint8Array.of(r.zeroPoint) },
        ],
        want,
      };
    }
    default:
      throw new Error(`no runner for ${c.opType}`);
  }
}

describe.skipIf(!present)('ONNX conformance (integer and boundary ops, bit-exact)', () => {
  for (const f of FOLDERS) {
    const dir = join(ROOT, f);
    it.skipIf(!existsSync(dir))(f, () => {
      const { got, want } = run(dir);
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        expect(g.dtype, `output ${i} dtype`).toBe(want[i].dtype);
        expect(g.shape, `output ${i} shape`).toEqual(want[i].shape);
        expect(bits(g), `output ${i} values`).toEqual(bits(want[i]));
      });
    });
  }
});
