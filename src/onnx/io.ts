/**
 * The boundary conversions a caller needs, with no Node or ONNX dependency (the browser page uses
 * them too): a float input row to the int8 (or id) input tensor, and the int8 output back to real values.
 */
import type { QModel, TensorData } from '../engine/ir.js';
import { EngineInputError } from '../engine/errors.js';

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
