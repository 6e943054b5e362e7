/**
 * The float side's tensor type and its conversion from/to ONNX TensorProto.
 *
 * Storage is deliberately simple: float32 tensors in a Float32Array (so every store rounds to
 * float32 exactly like onnxruntime), every integer/bool type as exact integers in a Float64Array
 * (int64 values beyond 2^53 lose precision, which only matters for sentinel values like INT64_MAX
 * in Slice ends, where ±9.22e18 clamps the same way).
 */
import pkg from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { OnnxGraphError } from './errors.js';

const { onnx } = pkg;
type ITensorProto = P.ITensorProto;

export type DType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export interface FTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Largest tensor the importer will allocate (2^28 elements = 1 GiB of float32). A mutated or
 *  hostile file can claim any shape; checking before allocating turns that into a typed error. */
export const MAX_ELEMENTS = 2 ** 28;

/** ONNX TensorProto.DataType codes of the dtypes we hold. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 };

const DTYPE_OF_CODE: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool' };

const ONNX_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

/** Maps an ONNX element type code to our dtype, or undefined when we do not hold that type. */
export function dtypeFromOnnx(code: number): DType | undefined {
  return DTYPE_OF_CODE[code];
}

export function onnxTypeName(code: number): string {
  return ONNX_TYPE_NAMES[code] ?? `type ${code}`;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly (number | string)[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws OnnxGraphError unless every dim is a non-negative safe integer and the element count is
 *  at most `maxElements`. Called before every allocation. */
export function checkShape(shape: readonly number[], what: string, maxElements = MAX_ELEMENTS, node?: string): void {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new OnnxGraphError(`Invalid dimension ${d} in shape ${shapeStr(shape)} of ${what}`, { node });
    }
    n *= d;
  }
  if (n > maxElements) {
    throw new OnnxGraphError(`Tensor ${what} of shape ${shapeStr(shape)} has ${n} elements, over the limit of ${maxElements}`, {
      node,
      hint: 'The file claims an unreasonably large tensor: it is corrupt, or the model is too big for this importer.',
    });
  }
}

/** A zero-filled tensor. The caller has checked the shape (or passes a trusted one). */
export function zeros(dtype: DType, shape: readonly number[]): FTensor {
  const n = sizeOf(shape);
  return { dtype, shape: [...shape], data: dtype === 'float32' ? new Float32Array(n) : new Float64Array(n) };
}

/** A tensor from plain numbers (rounded to float32 for float32, truncated for integer types). */
export function tensorFrom(dtype: DType, shape: readonly number[], values: ArrayLike<number>): FTensor {
  const t = zeros(dtype, shape);
  if (values.length !== t.data.length) {
    throw new OnnxGraphError(`Tensor of shape ${shapeStr(shape)} needs ${t.data.length} values, got ${values.length}`);
  }
  if (dtype === 'float32') t.data.set(values);
  else for (let i = 0; i < values.length; i++) t.data[i] = castInt(dtype, values[i]);
  return t;
}

export function scalar(dtype: DType, v: number): FTensor {
  return tensorFrom(dtype, [], [v]);
}

/** Converts a number to the integer dtype the way a C cast does (truncate, then wrap). NaN → 0. */
export function castInt(dtype: Exclude<DType, 'float32'>, v: number): number {
  if (dtype === 'bool') return v !== 0 && !Number.isNaN(v) ? 1 : 0;
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 0 : dtype === 'int64' ? Math.sign(v) * 2 ** 63 : 0;
  const t = Math.trunc(v);
  switch (dtype) {
    case 'int64':
      return t;
    case 'int32':
      return t | 0;
    case 'int8':
      return ((t % 256) + 256 + 128) % 256 - 128;
    case 'uint8':
      return ((t % 256) + 256) % 256;
  }
}

export function toNumbers(t: FTensor): number[] {
  return Array.from(t.data);
}

/** Protobuf int64 fields arrive as Long objects (or numbers); Long.toNumber is lossy above 2^53,
 *  which is fine for our uses (dims are checked, INT64_MAX only clamps). */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number.NaN;
}

const BYTES: Record<DType, number> = { float32: 4, int64: 8, int32: 4, int8: 1, uint8: 1, bool: 1 };

/** Decodes an ONNX TensorProto (raw_data little-endian, or the typed repeated fields). */
export function fromTensorProto(p: ITensorProto, maxElements = MAX_ELEMENTS): FTensor {
  const name = p.name || '<unnamed tensor>';
  const code = p.dataType ?? 0;
  const dtype = dtypeFromOnnx(code);
  if (!dtype) {
    throw new OnnxGraphError(`Tensor "${name}" has element type ${onnxTypeName(code)}, which the importer does not support`, {
      hint: 'Supported element types: FLOAT, INT64, INT32, INT8, UINT8, BOOL.',
    });
  }
  if (p.dataLocation === 1 /* EXTERNAL */ || (p.externalData?.length ?? 0) > 0) {
    throw new OnnxGraphError(`Tensor "${name}" is stored as external data, which the importer does not read`, {
      hint: 'Re-save the model with all tensors embedded (onnx.save(model, path, save_as_external_data=False)).',
    });
  }
  if (p.segment) throw new OnnxGraphError(`Tensor "${name}" is segmented, which the importer does not support`);
  const shape = (p.dims ?? []).map(num);
  checkShape(shape, `"${name}"`, maxElements);
  const t = zeros(dtype, shape);
  const n = t.data.length;
  const raw = p.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== n * BYTES[dtype]) {
      throw new OnnxGraphError(`Tensor "${name}" of shape ${shapeStr(shape)} and type ${dtype} needs ${n * BYTES[dtype]} bytes of raw_data, has ${raw.length}`);
    }
    readRaw(dtype, raw, t.data);
    return t;
  }
  const field = typedField(p, dtype);
  if (field.length !== n) {
    throw new OnnxGraphError(`Tensor "${name}" of shape ${shapeStr(shape)} needs ${n} values, has ${field.length}`);
  }
  for (let i = 0; i < n; i++) {
    const v = num(field[i]);
    t.data[i] = dtype === 'float32' ? v : castInt(dtype, v);
  }
  return t;
}

/** Which repeated field holds the values of a dtype (onnx.proto: small ints live in int32_data). */
function typedField(p: ITensorProto, dtype: DType): ArrayLike<unknown> {
  switch (dtype) {
    case 'float32':
      return p.floatData ?? [];
    case 'int64':
      return p.int64Data ?? [];
    default:
      return p.int32Data ?? [];
  }
}

function readRaw(dtype: DType, raw: Uint8Array, out: Float32Array | Float64Array): void {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = out.length;
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return;
    case 'int64':
      for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      return;
    case 'int32':
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      return;
    case 'int8':
      for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      return;
    case 'uint8':
      for (let i = 0; i < n; i++) out[i] = raw[i];
      return;
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = raw[i] ? 1 : 0;
      return;
  }
}

/** Encodes a tensor as a TensorProto with little-endian raw_data (for tests and for writing
 *  folded graphs back out). */
export function toTensorProto(name: string, t: FTensor): P.TensorProto {
  const n = t.data.length;
  const raw = new Uint8Array(n * BYTES[t.dtype]);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    const v = t.data[i];
    switch (t.dtype) {
      case 'float32':
        dv.setFloat32(4 * i, v, true);
        break;
      case 'int64':
        // Clamped into int64 (2^63 − 1024 is the largest double below 2^63); NaN cannot occur in
        // integer tensors but must not throw in BigInt().
        dv.setBigInt64(8 * i, Number.isNaN(v) ? 0n : BigInt(Math.max(-(2 ** 63), Math.min(2 ** 63 - 1024, Math.trunc(v)))), true);
        break;
      case 'int32':
        dv.setInt32(4 * i, v, true);
        break;
      case 'int8':
        dv.setInt8(i, v);
        break;
      case 'uint8':
      case 'bool':
        dv.setUint8(i, v);
        break;
    }
  }
  return onnx.TensorProto.create({ name, dims: [...t.shape], dataType: ONNX_DTYPE[t.dtype], rawData: raw });
}
