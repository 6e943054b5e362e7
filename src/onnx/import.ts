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
  /** Non-batch dims of every input, in graph-input order (several inputs; overrides inputShape). */
  inputShapes?: number[][];
  /**
   * Representative input rows, each flat: row-major over the input's shape; with several inputs,
   * the inputs' values one after the other in graph-input order (e.g. text-mask: 40 ids then 40
   * mask values).
   */
  calibration: number[][];
  onProgress?: CalibrationProgress;
}

export function importOnnx(bytes: Uint8Array, opts: ImportOptions): QModel {
  return importLoaded(loadOnnx(bytes, opts.name), opts, sha256(bytes));
}

export interface ResolvedInput {
  name: string;
  dtype: FTensor['dtype'];
  /** Full shape, batch dim included. */
  shape: number[];
  size: number;
}

/** Concrete shapes of the graph inputs: the batch dim the model's own when fixed, else 1 (a batch
 *  is a loop of rows); other dims from `shapes` (non-batch dims per input) or the model. */
export function resolveInputs(model: OnnxModel, shapes?: number[][]): ResolvedInput[] {
  const inputs = model.graph.inputs;
  if (inputs.length === 0) throw new CalibrationError('The graph has no inputs', { hint: 'export the model with its input tensors' });
  if (shapes && shapes.length !== inputs.length) {
    throw new CalibrationError('Wrong number of input shapes', {
      details: `${shapes.length} shapes given for ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')})`,
    });
  }
  return inputs.map((input, k) => {
    const batch = typeof input.shape[0] === 'number' ? input.shape[0] : 1;
    const staticDims = input.shape.slice(1);
    const dims = shapes?.[k] ?? staticDims.map((d) => {
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
    return { name: input.name, dtype: input.dtype, shape, size: shape.reduce((a, b) => a * b, 1) };
  });
}

/** One flat row (all inputs' values back to back) → a feed per input. */
export function feedsOfRow(inputs: readonly ResolvedInput[], row: readonly number[], r: number): Record<string, FTensor> {
  const total = inputs.reduce((a, i) => a + i.size, 0);
  if (!Array.isArray(row) || row.length !== total) {
    const what = inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(' + ');
    throw new CalibrationError('Calibration row has the wrong length', {
      details: `row ${r} has ${Array.isArray(row) ? row.length : typeof row} values, the input${inputs.length > 1 ? 's' : ''} ${what} need${inputs.length > 1 ? '' : 's'} ${total}`,
    });
  }
  const bad = row.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new CalibrationError('Calibration value is not a finite number', { details: `row ${r}, value ${bad}: ${row[bad]}` });
  const feeds: Record<string, FTensor> = {};
  let at = 0;
  for (const input of inputs) {
    const part = row.slice(at, at + input.size);
    at += input.size;
    feeds[input.name] =
      input.dtype === 'float32'
        ? { dtype: 'float32', shape: input.shape, data: Float32Array.from(part) }
        : { dtype: input.dtype, shape: input.shape, data: Float64Array.from(part) };
  }
  return feeds;
}

/** The inputs as the folded graph reads them (an integer input read only by Casts to float is float32 there). */
export function asFolded(inputs: readonly ResolvedInput[], folded: { inputs: readonly { name: string; dtype: FTensor['dtype'] }[] }): ResolvedInput[] {
  return inputs.map((i) => ({ ...i, dtype: folded.inputs.find((f) => f.name === i.name)?.dtype ?? i.dtype }));
}

/** The same from an already loaded model (tests use it to turn extra inputs into constants first). */
export function importLoaded(model: OnnxModel, opts: ImportOptions, onnxSha256: string): QModel {
  const inputs = resolveInputs(model, opts.inputShapes ?? (opts.inputShape && model.graph.inputs.length === 1 ? [opts.inputShape] : undefined));
  if (opts.calibration.length === 0) {
    throw new CalibrationError('No calibration rows', { hint: 'give at least one representative input row (a few dozen is better)' });
  }
  const folded = foldGraph(model, Object.fromEntries(inputs.map((i) => [i.name, i.shape])));
  const feeds = opts.calibration.map((row, r) => feedsOfRow(asFolded(inputs, folded), row, r));
  const ranges = calibrate(folded, feeds, opts.onProgress);
  return quantizeGraph(folded, ranges, {
    name: opts.name,
    onnxSha256,
    opset: model.opset,
    producer: model.producer,
  });
}

export { quantizeInput, dequantizeOutput, argmax } from './io.js';
