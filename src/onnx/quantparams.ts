/**
 * Choosing integer representations for real values: activation scales and zero points from a
 * calibrated range, symmetric int8 weights per output channel, int32 biases.
 */
import { QuantizeError } from './quantize-errors.js';

export interface QParams {
  scale: number;
  zeroPoint: number;
}

/** Asymmetric int8 parameters covering [min, max] ∪ {0}, so that real 0 (padding, Relu) is exact. */
export function activationParams(min: number, max: number): QParams {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new QuantizeError('Non-finite calibration range', { details: `range [${min}, ${max}]` });
  }
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.min(127, Math.max(-128, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/** The real interval an int8 tensor with these parameters can represent. */
export function representable(p: QParams): { min: number; max: number } {
  return { min: p.scale * (-128 - p.zeroPoint), max: p.scale * (127 - p.zeroPoint) };
}

export interface SymmetricRows {
  data: Int8Array;
  /** One scale per row (output channel). */
  scales: number[];
}

/**
 * Symmetric int8 quantization per row of a [rows][cols] float matrix: q = round(w / s) with
 * s = max|w| / 127, so q ∈ [−127, 127] (−128 unused: keeps |q| symmetric and the bound simple).
 */
export function quantizeRowsSymmetric(w: ArrayLike<number>, rows: number, cols: number): SymmetricRows {
  const data = new Int8Array(rows * cols);
  const scales: number[] = [];
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    const s = m > 0 ? m / 127 : 1;
    scales.push(s);
    for (let c = 0; c < cols; c++) data[r * cols + c] = Math.max(-127, Math.min(127, Math.round(w[r * cols + c] / s)));
  }
  return { data, scales };
}

/** Symmetric per-tensor int8 (used for constant operands of Add/Mul and embedding tables). */
export function quantizeTensorSymmetric(w: ArrayLike<number>): { data: Int8Array; scale: number } {
  const q = quantizeRowsSymmetric(w, 1, w.length);
  return { data: q.data, scale: q.scales[0] };
}

/** Asymmetric per-tensor int8 with the given parameters. */
export function quantizeWith(w: ArrayLike<number>, p: QParams): Int8Array {
  const out = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = Math.max(-128, Math.min(127, Math.round(w[i] / p.scale) + p.zeroPoint));
  return out;
}

const INT32_MAX = 2 ** 31 - 1;

export function quantizeBias(b: number, scale: number, where: string): number {
  const q = Math.round(b / scale);
  if (!Number.isFinite(q) || Math.abs(q) > INT32_MAX) {
    throw new QuantizeError('Bias does not fit in int32', {
      details: `${where}: bias ${b} at scale ${scale} → ${q}`,
      hint: 'the input or weight range is degenerate; check the calibration data covers real inputs',
    });
  }
  return q;
}
