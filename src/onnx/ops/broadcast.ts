/** Numpy-style multidirectional broadcasting (ONNX "Broadcasting in ONNX"). */
import { sizeOf, shapeStr, type DType, type FTensor } from '../tensor.js';
import type { OpCtx } from './context.js';

export function broadcastShape(ctx: OpCtx, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    const off = rank - s.length;
    for (let i = 0; i < s.length; i++) {
      const d = s[i];
      const o = out[off + i];
      if (d === o || d === 1) continue;
      if (o === 1) out[off + i] = d;
      else ctx.fail(`shapes ${shapes.map((x) => shapeStr(x)).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** For each element of `out`, the flat offset of the element of a tensor of shape `inShape`
 *  broadcast to it. */
export function broadcastOffsets(out: readonly number[], inShape: readonly number[]): Int32Array {
  const r = out.length;
  const off = r - inShape.length;
  const strides = new Array<number>(r).fill(0);
  let s = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    if (inShape[i] !== 1) strides[i + off] = s;
    s *= inShape[i];
  }
  const n = sizeOf(out);
  const res = new Int32Array(n);
  const idx = new Array<number>(r).fill(0);
  let cur = 0;
  for (let k = 0; k < n; k++) {
    res[k] = cur;
    for (let d = r - 1; d >= 0; d--) {
      idx[d]++;
      cur += strides[d];
      if (idx[d] < out[d]) break;
      cur -= strides[d] * out[d];
      idx[d] = 0;
    }
  }
  return res;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Elementwise f over broadcast inputs. Values are computed in float64 and stored into the
 *  output array, which rounds to float32 once for float outputs (exact IEEE semantics for
 *  + − × ÷ √, since float64 has more than twice float32's precision). */
export function mapBroadcast(ctx: OpCtx, inputs: readonly FTensor[], outDtype: DType, f: (v: number[]) => number): FTensor {
  const shape = broadcastShape(ctx, inputs.map((t) => t.shape));
  const y = ctx.alloc(outDtype, shape);
  const n = y.data.length;
  ctx.work(n * inputs.length);
  const offs = inputs.map((t) => (sameShape(t.shape, shape) ? null : broadcastOffsets(shape, t.shape)));
  const vals = new Array<number>(inputs.length);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < inputs.length; j++) {
      const o = offs[j];
      vals[j] = inputs[j].data[o ? o[k] : k];
    }
    y.data[k] = f(vals);
  }
  return y;
}

/** Two-input fast path of mapBroadcast. */
export function binary(ctx: OpCtx, a: FTensor, b: FTensor, outDtype: DType, f: (x: number, y: number) => number): FTensor {
  const shape = broadcastShape(ctx, [a.shape, b.shape]);
  const y = ctx.alloc(outDtype, shape);
  const n = y.data.length;
  ctx.work(2 * n);
  const ad = a.data;
  const bd = b.data;
  const yd = y.data;
  if (sameShape(a.shape, shape) && sameShape(b.shape, shape)) {
    for (let k = 0; k < n; k++) yd[k] = f(ad[k], bd[k]);
  } else if (sameShape(a.shape, shape) && b.data.length === 1) {
    const bv = bd[0];
    for (let k = 0; k < n; k++) yd[k] = f(ad[k], bv);
  } else {
    const ao = broadcastOffsets(shape, a.shape);
    const bo = broadcastOffsets(shape, b.shape);
    for (let k = 0; k < n; k++) yd[k] = f(ad[ao[k]], bd[bo[k]]);
  }
  return y;
}
