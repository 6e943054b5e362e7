/**
 * Window geometry shared by Conv, ConvInteger, QLinearConv, MaxPool and AveragePool: resolves
 * auto_pad, pads, strides, dilations and ceil_mode into explicit per-axis numbers, following
 * onnxruntime's rules (which the ONNX spec leaves partly implicit for ceil_mode).
 */
import type { OpCtx } from './context.js';

export interface Geometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Padding before each spatial axis. */
  padsBegin: number[];
  /** Padding after each spatial axis, as declared (ceil_mode may read past it; see outSize). */
  padsEnd: number[];
  out: number[];
}

/** Reads the window attributes of ctx.node for spatial input dims `inSp` and kernel `kernel`.
 *  ceil_mode is read only for pools (`opts.pool`); Conv has no such attribute. */
export function geometry(ctx: OpCtx, inSp: readonly number[], kernel: readonly number[], opts: { pool: boolean }): Geometry {
  const r = inSp.length;
  const strides = ctx.ints('strides', new Array<number>(r).fill(1));
  const dilations = ctx.ints('dilations', new Array<number>(r).fill(1));
  let pads = ctx.ints('pads', new Array<number>(2 * r).fill(0));
  const autoPad = ctx.string('auto_pad', 'NOTSET');
  const ceil = opts.pool && ctx.int('ceil_mode', 0) !== 0;
  if (strides.length !== r || strides.some((s) => s < 1)) ctx.fail(`strides ${JSON.stringify(strides)} must be ${r} positive integers`, 'strides');
  if (dilations.length !== r || dilations.some((s) => s < 1)) ctx.fail(`dilations ${JSON.stringify(dilations)} must be ${r} positive integers`, 'dilations');
  if (kernel.length !== r || kernel.some((s) => s < 1)) ctx.fail(`kernel ${JSON.stringify(kernel)} must be ${r} positive integers`, 'kernel_shape');
  if (pads.length !== 2 * r || pads.some((p) => p < 0)) ctx.fail(`pads ${JSON.stringify(pads)} must be ${2 * r} non-negative integers`, 'pads');
  const dk = kernel.map((k, i) => (k - 1) * dilations[i] + 1);
  const out: number[] = [];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const o = Math.ceil(inSp[i] / strides[i]);
      const total = Math.max(0, (o - 1) * strides[i] + dk[i] - inSp[i]);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i];
      out.push(o);
    }
  } else if (autoPad === 'VALID') {
    pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) out.push(Math.floor((inSp[i] - dk[i]) / strides[i]) + 1);
  } else if (autoPad === 'NOTSET') {
    for (let i = 0; i < r; i++) {
      const span = inSp[i] + pads[i] + pads[i + r] - dk[i];
      let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
      // onnxruntime: with ceil_mode the last window must start inside the input or the leading pad.
      if (ceil && (o - 1) * strides[i] >= inSp[i] + pads[i]) o--;
      out.push(o);
    }
  } else {
    ctx.fail(`unknown auto_pad "${autoPad}"`, 'auto_pad');
  }
  if (out.some((o) => !(o >= 1))) ctx.fail(`the window (kernel ${JSON.stringify(kernel)}) does not fit the input ${JSON.stringify(inSp)}`);
  return { kernel: [...kernel], strides, dilations, padsBegin: pads.slice(0, r), padsEnd: pads.slice(r), out };
}

/** A 1-D geometry as 2-D with a leading trivial axis, so the kernels only implement 2-D. */
export function as2d(g: Geometry): Geometry {
  if (g.kernel.length === 2) return g;
  return {
    kernel: [1, ...g.kernel],
    strides: [1, ...g.strides],
    dilations: [1, ...g.dilations],
    padsBegin: [0, ...g.padsBegin],
    padsEnd: [0, ...g.padsEnd],
    out: [1, ...g.out],
  };
}

/** Spatial dims of an N,C,spatial... tensor, checked to be 1-D or 2-D. */
export function spatialDims(ctx: OpCtx, shape: readonly number[]): number[] {
  if (shape.length < 3) ctx.fail(`input must be N,C,spatial…, got rank ${shape.length}`);
  if (shape.length > 4) ctx.unsupported(`${shape.length - 2}-D spatial input (only 1-D and 2-D are implemented)`);
  return shape.slice(2);
}
