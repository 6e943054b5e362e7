/**
 * The quantization error an import introduced, measured against onnxruntime on the calibration rows
 * (what `verity model import` prints): the float model runs in onnxruntime-node, the integer model
 * in the engine, and the dequantized outputs are compared.
 *
 * - top-1 agreement: over every prediction (each row, and each position of the leading axes for
 *   sequence outputs such as [1, T, V]), the share where the argmax over the last axis agrees;
 * - max / mean absolute error of the output values (logits), in real units, over all elements.
 *
 * onnxruntime-node is loaded lazily; without it the report is unavailable (a typed error).
 */
import type { QModel } from '../engine/ir.js';
import { prepareModel, runModel } from '../engine/run.js';
import { BaseError } from '../errors.js';
import { argmax, dequantizeOutput, quantizeInput } from './io.js';
import type { ResolvedInput } from './import.js';

export class ReportUnavailableError extends BaseError {
  override name = 'ReportUnavailableError';
}

export interface QuantizationReport {
  /** Rows compared. */
  rows: number;
  /** The graph output compared (the first). */
  output: string;
  /** Argmax comparisons made (rows × positions). */
  predictions: number;
  /** Share of predictions whose argmax over the last axis agrees with onnxruntime's, in [0, 1]. */
  top1Agreement: number;
  maxAbsError: number;
  meanAbsError: number;
  /** Largest |onnxruntime output|, for scale. */
  maxAbsReference: number;
}

interface OrtLike {
  InferenceSession: { create(bytes: Uint8Array): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> }> };
  Tensor: new (type: string, data: unknown, dims: number[]) => unknown;
}

async function loadOrt(): Promise<OrtLike> {
  try {
    const m = (await import('onnxruntime-node')) as unknown as OrtLike & { default?: OrtLike };
    return m.InferenceSession ? m : m.default!;
  } catch (e) {
    throw new ReportUnavailableError('onnxruntime-node is not installed: no quantization report', {
      details: (e as Error).message,
      hint: 'npm install onnxruntime-node (a dev dependency of this project), or pass --no-report',
      cause: e,
    });
  }
}

/** Splits a flat row (inputs back to back) into the per-input parts. */
function parts(inputs: readonly ResolvedInput[], row: readonly number[]): number[][] {
  let at = 0;
  return inputs.map((i) => {
    const p = row.slice(at, at + i.size);
    at += i.size;
    return p;
  });
}

export async function quantizationReport(onnx: Uint8Array, q: QModel, inputs: readonly ResolvedInput[], rows: readonly number[][]): Promise<QuantizationReport> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(onnx);
  const p = prepareModel(q);
  const outInfo = q.tensors[q.outputs[0]];
  const outName = outInfo.name;
  const last = outInfo.shape[outInfo.shape.length - 1] ?? 1;
  let predictions = 0;
  let agree = 0;
  let maxAbs = 0;
  let sumAbs = 0;
  let count = 0;
  let maxRef = 0;
  for (const row of rows) {
    const ps = parts(inputs, row);
    const feeds: Record<string, unknown> = {};
    inputs.forEach((inp, k) => {
      feeds[inp.name] =
        inp.dtype === 'float32'
          ? new ort.Tensor('float32', Float32Array.from(ps[k]), inp.shape)
          : inp.dtype === 'int64'
            ? new ort.Tensor('int64', BigInt64Array.from(ps[k].map((v) => BigInt(Math.trunc(v)))), inp.shape)
            : new ort.Tensor('int32', Int32Array.from(ps[k]), inp.shape);
    });
    const res = await session.run(feeds);
    const ref = res[outName]?.data as Float32Array | undefined;
    if (!ref) throw new ReportUnavailableError('onnxruntime gave no such output', { details: `output "${outName}"` });
    const trace = runModel(p, ps.map((part, k) => quantizeInput(q, part, k)));
    const got = dequantizeOutput(q, trace[q.outputs[0]]);
    if (got.length !== ref.length) {
      throw new ReportUnavailableError('Output sizes differ between onnxruntime and the integer model', { details: `${ref.length} vs ${got.length} values` });
    }
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i] - ref[i]);
      if (d > maxAbs) maxAbs = d;
      sumAbs += d;
      count++;
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
    }
    for (let at = 0; at + last <= got.length; at += last) {
      predictions++;
      if (argmax(got.subarray(at, at + last)) === argmax(ref.subarray(at, at + last))) agree++;
    }
  }
  return {
    rows: rows.length,
    output: outName,
    predictions,
    top1Agreement: predictions ? agree / predictions : 0,
    maxAbsError: maxAbs,
    meanAbsError: count ? sumAbs / count : 0,
    maxAbsReference: maxRef,
  };
}

export function formatReport(r: QuantizationReport): string {
  const pct = (r.top1Agreement * 100).toFixed(2);
  return (
    `quantization error vs onnxruntime on ${r.rows} calibration rows (output "${r.output}"): ` +
    `top-1 agreement ${pct}% of ${r.predictions} predictions, max |error| ${r.maxAbsError.toPrecision(4)}, ` +
    `mean |error| ${r.meanAbsError.toPrecision(4)} (largest |output| ${r.maxAbsReference.toPrecision(4)})`
  );
}
