/** Small constant-tensor transforms used by the rewrites (weights are constants, so these run
 *  once at import time, never at inference). */
import { OnnxGraphError } from '../errors.js';
import { broadcastOffsets } from '../ops/broadcast.js';
import { shapeStr, sizeOf, type FTensor } from '../tensor.js';

/** [R][C] -> [C][R]. */
export function transpose2d(t: FTensor): FTensor {
  const [R, C] = t.shape;
  const data = t.dtype === 'float32' ? new Float32Array(R * C) : new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) data[c * R + r] = t.data[r * C + c];
  return { dtype: t.dtype, shape: [C, R], data };
}

/** Numpy broadcast of `t` to exactly `shape`; leading dims of `t` beyond shape's rank must be 1. */
export function broadcastTo(t: FTensor, shape: readonly number[]): FTensor {
  let src = t.shape;
  while (src.length > shape.length && src[0] === 1) src = src.slice(1);
  const ok = src.length <= shape.length && src.every((d, i) => d === 1 || d === shape[shape.length - src.length + i]);
  if (!ok) throw new OnnxGraphError(`Internal: cannot broadcast constant ${shapeStr(t.shape)} to ${shapeStr(shape)}`);
  const off = broadcastOffsets(shape, src);
  const n = sizeOf(shape);
  const data = t.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = t.data[off[i]];
  return { dtype: t.dtype, shape: [...shape], data };
}

/** Is `c` (as the second operand of a broadcast op on a tensor of shape `out`) a vector along
 *  axis `axis` of `out`: every dim 1 except possibly that one, and no rank growth? */
export function isAxisVector(c: FTensor, out: readonly number[], axis: number): boolean {
  if (c.shape.length > out.length) return false;
  const off = out.length - c.shape.length;
  return c.shape.every((d, i) => d === 1 || (i + off === axis && d === out[axis]));
}

/** Values of a per-axis vector constant (see isAxisVector) as a flat array of length n. */
export function axisValues(c: FTensor, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = c.data.length === 1 ? c.data[0] : c.data[i];
  return v;
}
