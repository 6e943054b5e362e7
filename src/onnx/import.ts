/**
 * ONNX file → quantized model: load, fold with the concrete input shape, calibrate, quantize.
 * Also the boundary conversions a caller needs: a float input row to the int8 (or id) input tensor,
 * and the int8 output back to real values.
 */
import { sha256 } from 'viem';
import type { QModel, TensorData } from '../engine/ir.js';
import { loadOnnx, type OnnxModel } from './load.js';
import { foldGraph } from './fold.js';
import { calibrate, type CalibrationProgress } from './calibrate.js';
import { quantizeGraph } from './quantize.js';
import { CalibrationError } from './quantize-errors.js';
import type { FTensor } from './tensor.js';
import { EngineInputError } from '../engine/errors.js';

export interface ImportOptions {
  /** Model name stored in the quantized file. */
  name: string;
  /** Non-batch dims of the single input (e.g. [13], [1, 8, 8], [32]). Needed when the ONNX input has dynamic dims. */
  inputShape?: number[];
  /** Representative input rows, each flat (row-major over inputShape). */
  calibration: number[][];
  onProgress?: CalibrationProgress;
}

export function importOnnx(bytes: Uint8Array, opts: ImportOptions): QModel {
  return importLoaded(loadOnnx(bytes, opts.name), opts, sha256(bytes));
}

/** The same from an already loaded model (tests use it to turn extra inputs into constants first). */
export function importLoaded(model: OnnxModel, opts: ImportOptions, onnxSha256: string): QModel {
  const inputs = model.graph.inputs;
  if (inputs.length !== 1) {
    throw new CalibrationError('Only single-input models can be imported', {
      details: `the graph has ${inputs.length} inputs: ${inputs.map((i) => i.name).join(', ')}`,
      hint: 'make the other inputs initializers (constants) in the ONNX file',
    });
  }
  const input = inputs[0];
  // The batch dimension: the model's own when it is fixed, else 1 (a batch is a loop of rows).
  const batch = typeof input.shape[0] === 'number' ? input.shape[0] : 1;
  const staticDims = input.shape.slice(1);
  const dims = opts.inputShape ?? staticDims.map((d) => {
    if (typeof d !== 'number') {
      throw new CalibrationError('The input has dynamic dimensions', {
        details: `input "${input.name}" has shape [${input.shape.join(', ')}]`,
        hint: 'give the non-batch dimensions (the calibration file\'s "shape" field, or --shape)',
      });
    }
    return d;
  });
  if (dims.length !== staticDims.length) {
    throw new CalibrationError('Input rank does not match the model', {
      details: `input "${input.name}" has shape [${input.shape.join(', ')}]; ${dims.length} non-batch dims given ([${dims.join(', ')}])`,
    });
  }
  staticDims.forEach((d, i) => {
    if (typeof d === 'number' && d !== dims[i]) {
      throw new CalibrationError('Input shape does not match the model', {
        details: `input "${input.name}" dimension ${i + 1} is ${d} in the model, ${dims[i]} given`,
      });
    }
  });
  const shape = [batch, ...dims];
  if (opts.calibration.length === 0) {
    throw new CalibrationError('No calibration rows', { hint: 'give at least one representative input row (a few dozen is better)' });
  }
  const folded = foldGraph(model, { [input.name]: shape });
  const size = shape.reduce((a, b) => a * b, 1);
  const feeds = opts.calibration.map((row, r) => {
    if (!Array.isArray(row) || row.length !== size) {
      throw new CalibrationError('Calibration row has the wrong length', {
        details: `row ${r} has ${Array.isArray(row) ? row.length : typeof row} values, the input [${shape.join(', ')}] needs ${size}`,
      });
    }
    const bad = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
    if (bad >= 0) throw new CalibrationError('Calibration value is not a finite number', { details: `row ${r}, value ${bad}: ${row[bad]}` });
    const t: FTensor =
      input.dtype === 'float32'
        ? { dtype: 'float32', shape, data: Float32Array.from(row) }
        : { dtype: input.dtype, shape, data: Float64Array.from(row) };
    return { [input.name]: t };
  });
  const ranges = calibrate(folded, feeds, opts.onProgress);
  return quantizeGraph(folded, ranges, {
    name: opts.name,
    onnxSha256,
    opset: model.opset,
    producer: model.producer,
  });
}

/** A flat float row (or id row) → the model's input tensor, as the requester must commit it. */
export function quantizeInput(model: QModel, row: readonly number[], which = 0): TensorData {
  const t = model.tensors[model.inputs[which]];
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (!Array.isArray(row) || row.length !== n) {
    throw new EngineInputError({
      input: `"${t.name}"`,
      expected: `${n} values (shape [${t.shape.join(', ')}])`,
      got: Array.isArray(row) ? `${row.length} values` : typeof row,
    });
  }
  if (t.dtype === 'i32') {
    const data = new Int32Array(n);
    row.forEach((v, i) => {
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw new EngineInputError({ input: `"${t.name}" value ${i}`, expected: 'an integer id', got: String(v) });
      }
      data[i] = v;
    });
    return { dtype: 'i32', shape: [...t.shape], data };
  }
  const data = new Int8Array(n);
  row.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new EngineInputError({ input: `"${t.name}" value ${i}`, expected: 'a finite number', got: String(v) });
    }
    // Round half away from zero, then saturate: the requester's rule, fixed so inputs commit identically.
    const q = Math.sign(v / t.scale) * Math.round(Math.abs(v / t.scale)) + t.zeroPoint;
    data[i] = Math.max(-128, Math.min(127, q));
  });
  return { dtype: 'i8', shape: [...t.shape], data };
}

/** An int8 output tensor → real values (scale · (q − zeroPoint)). */
export function dequantizeOutput(model: QModel, out: TensorData, which = 0): Float64Array {
  const t = model.tensors[model.outputs[which]];
  const r = new Float64Array(out.data.length);
  for (let i = 0; i < r.length; i++) r[i] = t.scale * (out.data[i] - t.zeroPoint);
  return r;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
