/**
 * Boundary ops: float ↔ integer conversions that run outside the integer graph (on the way in and
 * out), with exact ONNX semantics in float32 (every float32 operation is a double operation on
 * float32 values rounded with Math.fround, which equals the correctly rounded float32 result for
 * +, −, ·, /). docs/ops.md §Boundary ops.
 *
 * - quantizeLinear:  y = saturate(rint(x / scale) + zeroPoint), x / scale in float32, rint = round
 *   half to even; NaN quantizes to zeroPoint; ±∞ saturate.
 * - dequantizeLinear: y = float32(float32(x − zeroPoint) · scale).
 * - dynamicQuantizeLinear: ONNX DynamicQuantizeLinear (uint8).
 */
import type { IntArray } from './ir.js';
import { sizeOf } from './ir.js';
import { EngineInputError } from './errors.js';

export type QuantDType = 'i8' | 'u8';

const f32 = Math.fround;

/** Round half to even of a double (ONNX/numpy rint). */
export function rintHalfEven(v: number): number {
  const r = Math.round(v); // half toward +∞
  if (r - v === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

function toList(v: number | ArrayLike<number>): number[] {
  return typeof v === 'number' ? [v] : Array.from(v);
}

/**
 * The channel of each element for per-axis parameters, or null for per-tensor (one entry).
 * ONNX: a 1-D scale of length shape[axis] applies along axis (default 1).
 */
function channelPlan(
  n: number,
  count: number,
  axis: number | undefined,
  shape: readonly number[] | undefined,
  what: string,
): { inner: number; len: number } | null {
  if (count === 1 && axis === undefined) return null;
  if (!shape) {
    if (count === 1) return null;
    throw new EngineInputError({ input: `${what} shape`, expected: 'the tensor shape for per-axis parameters', got: 'none' });
  }
  if (sizeOf(shape) !== n) {
    throw new EngineInputError({ input: `${what} shape`, expected: `a shape of ${n} elements`, got: `[${shape}]` });
  }
  const r = shape.length;
  let a = axis ?? 1;
  if (a < -r || a >= r) throw new EngineInputError({ input: `${what} axis`, expected: `an axis in [${-r}, ${r - 1}]`, got: String(axis) });
  if (a < 0) a += r;
  if (count !== 1 && count !== shape[a]) {
    throw new EngineInputError({
      input: `${what} scale/zeroPoint`,
      expected: `1 or ${shape[a]} entries (axis ${a} of [${shape}])`,
      got: `${count} entries`,
    });
  }
  return { inner: sizeOf(shape.slice(a + 1)), len: shape[a] };
}

function checkScales(s: number[], what: string): void {
  for (const v of s) {
    if (!(f32(v) > 0) || !Number.isFinite(f32(v))) {
      throw new EngineInputError({ input: `${what} scale`, expected: 'finite float32 scales > 0', got: String(v) });
    }
  }
}

/**
 * ONNX QuantizeLinear. x is float32 data; scale/zeroPoint are per tensor (one value) or per axis
 * (`axis`, default 1, with `shape` required). Returns Int8Array (i8) or Uint8Array (u8).
 */
export function quantizeLinear(
  x: Float32Array,
  scale: number | ArrayLike<number>,
  zeroPoint: number | ArrayLike<number>,
  dtype: QuantDType,
  axis?: number,
  shape?: readonly number[],
): Int8Array | Uint8Array {
  const sc = toList(scale).map(f32);
  const zp = toList(zeroPoint);
  checkScales(sc, 'quantizeLinear');
  const lo = dtype === 'i8' ? -128 : 0;
  const hi = dtype === 'i8' ? 127 : 255;
  for (const z of zp) {
    if (!Number.isInteger(z) || z < lo || z > hi) {
      throw new EngineInputError({ input: 'quantizeLinear zeroPoint', expected: `integers in [${lo}, ${hi}]`, got: String(z) });
    }
  }
  const count = Math.max(sc.length, zp.length);
  if ((sc.length !== 1 && sc.length !== count) || (zp.length !== 1 && zp.length !== count)) {
    throw new EngineInputError({ input: 'quantizeLinear scale/zeroPoint', expected: 'equal lengths (or 1)', got: `${sc.length} and ${zp.length}` });
  }
  const plan = channelPlan(x.length, count, axis, shape, 'quantizeLinear');
  const y = dtype === 'i8' ? new Int8Array(x.length) : new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = plan ? Math.floor(i / plan.inner) % plan.len : 0;
    const s = sc.length === 1 ? sc[0] : sc[c];
    const z = zp.length === 1 ? zp[0] : zp[c];
    const q = f32(x[i] / s);
    let v = Number.isNaN(q) ? z : rintHalfEven(q) + z;
    if (v < lo) v = lo;
    else if (v > hi) v = hi;
    y[i] = v;
  }
  return y;
}

/** ONNX DequantizeLinear: y = float32(float32(x − zeroPoint)·scale), per tensor or per axis. */
export function dequantizeLinear(
  x: IntArray,
  scale: number | ArrayLike<number>,
  zeroPoint: number | ArrayLike<number> = 0,
  axis?: number,
  shape?: readonly number[],
): Float32Array {
  const sc = toList(scale).map(f32);
  const zp = toList(zeroPoint);
  checkScales(sc, 'dequantizeLinear');
  const count = Math.max(sc.length, zp.length);
  if ((sc.length !== 1 && sc.length !== count) || (zp.length !== 1 && zp.length !== count)) {
    throw new EngineInputError({ input: 'dequantizeLinear scale/zeroPoint', expected: 'equal lengths (or 1)', got: `${sc.length} and ${zp.length}` });
  }
  const plan = channelPlan(x.length, count, axis, shape, 'dequantizeLinear');
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = plan ? Math.floor(i / plan.inner) % plan.len : 0;
    const s = sc.length === 1 ? sc[0] : sc[c];
    const z = zp.length === 1 ? zp[0] : zp[c];
    y[i] = f32(f32(f32(x[i]) - f32(z)) * s);
  }
  return y;
}

/**
 * ONNX DynamicQuantizeLinear (uint8), in float32:
 *   min = min(0, min x), max = max(0, max x), scale = (max − min) / 255,
 *   zeroPoint = saturate(rint(0 − min / scale)), y = saturate(rint(x / scale) + zeroPoint).
 * An all-zero x gives scale 0, zeroPoint 0, y = 0.
 */
export function dynamicQuantizeLinear(x: Float32Array): { y: Uint8Array; scale: number; zeroPoint: number } {
  let mn = 0;
  let mx = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) {
      throw new EngineInputError({ input: `dynamicQuantizeLinear x[${i}]`, expected: 'a number', got: 'NaN' });
    }
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const scale = f32(f32(mx - mn) / 255);
  const y = new Uint8Array(x.length);
  if (scale === 0) return { y, scale, zeroPoint: 0 };
  const zr = rintHalfEven(f32(0 - f32(mn / scale)));
  const zeroPoint = zr < 0 ? 0 : zr > 255 ? 255 : zr;
  for (let i = 0; i < x.length; i++) {
    const v = rintHalfEven(f32(x[i] / scale)) + zeroPoint;
    y[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { y, scale, zeroPoint };
}
