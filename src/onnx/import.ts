/**
 * ONNX file → quantized model: load, fold with the concrete input shape, calibrate, quantize.
 * Re-exports the boundary conversions (a float input row to the input tensor, the int8 output back to
 * real values) from ./io.ts, which has no Node or ONNX dependency and is shared with the browser page.
 */
import { sha256 } from 'viem';
import type { QModel } from '../engine/ir.js';
import { loadOnnx, type OnnxModel } from './load.js';
import { foldGraph } from './fold.js';
import { calibrate, type CalibrationProgress } from './calibrate.js';
import { quantizeGraph } from './quantize.js';
import { CalibrationError } from './quantize-errors.js';
import type { FTensor } from './tensor.js';

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

export { quantizeInput, dequantizeOutput, argmax } from './io.js';
