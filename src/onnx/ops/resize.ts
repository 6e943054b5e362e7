/**
 * Resize (opset 10+: X, scales; 11+: X, roi, scales, sizes) and Upsample (opset 7–9) in mode
 * "nearest", every coordinate_transformation_mode but tf_crop_and_resize, every nearest_mode.
 * Other modes (linear, cubic) are unsupported. `nearestIndexMap` is shared with the fold rewrite,
 * which turns an integer-factor upsampling whose map is floor(i / k) into Reshape + Expand + Reshape.
 */
import { shapeStr, type FTensor } from '../tensor.js';
import type { OpCtx, OpImpl } from './context.js';

/** Per axis: the source index of every output index. */
export function nearestIndexMap(ctx: OpCtx, inDim: number, outDim: number, scale: number): number[] {
  // Upsample (opset 7–9) has no such attributes: out[i] = in[floor(i / scale)].
  const up = ctx.node.op === 'Upsample';
  const mode = up ? 'asymmetric' : ctx.string('coordinate_transformation_mode', 'half_pixel');
  const nearest = up ? 'floor' : ctx.string('nearest_mode', 'round_prefer_floor');
  const map: number[] = [];
  for (let i = 0; i < outDim; i++) {
    let x: number;
    switch (mode) {
      case 'half_pixel':
        x = (i + 0.5) / scale - 0.5;
        break;
      case 'pytorch_half_pixel':
        x = outDim > 1 ? (i + 0.5) / scale - 0.5 : 0;
        break;
      case 'align_corners':
        x = outDim === 1 ? 0 : (i * (inDim - 1)) / (outDim - 1);
        break;
      case 'asymmetric':
        x = i / scale;
        break;
      case 'half_pixel_symmetric': {
        const adj = outDim / (scale * inDim);
        const center = inDim / 2;
        x = center * (1 - adj) + (i + 0.5) / scale - 0.5;
        break;
      }
      default:
        return ctx.unsupported(`coordinate_transformation_mode "${mode}"`);
    }
    let j: number;
    switch (nearest) {
      case 'round_prefer_floor':
        j = x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x);
        break;
      case 'round_prefer_ceil':
        j = Math.round(x);
        break;
      case 'floor':
        j = Math.floor(x);
        break;
      case 'ceil':
        j = Math.ceil(x);
        break;
      default:
        return ctx.unsupported(`nearest_mode "${nearest}"`);
    }
    map.push(Math.min(inDim - 1, Math.max(0, j)));
  }
  return map;
}

/** Output dims and scales from the scales or sizes input (or Upsample's scales). */
export function resizeGeometry(ctx: OpCtx, x: FTensor, inputs: readonly (FTensor | undefined)[]): { out: number[]; scales: number[] } {
  const r = x.shape.length;
  const upsample = ctx.node.op === 'Upsample';
  const scalesT = upsample ? inputs[1] : ctx.opset < 11 ? inputs[1] : inputs[2];
  const sizesT = upsample || ctx.opset < 11 ? undefined : inputs[3];
  if (sizesT && sizesT.data.length > 0) {
    const out = Array.from(sizesT.data);
    if (out.length !== r) ctx.fail(`sizes must have ${r} entries, got ${out.length}`);
    return { out, scales: out.map((o, a) => o / x.shape[a]) };
  }
  const attr = upsample && !scalesT ? ctx.node.attrs.scales : undefined;
  const scales = scalesT ? Array.from(scalesT.data) : Array.isArray(attr) ? (attr as number[]) : [];
  if (scales.length !== r) ctx.fail(`scales must have ${r} entries, got ${scales.length}`);
  if (scales.some((s) => !(s > 0))) ctx.fail(`scales must be positive, got ${JSON.stringify(scales)}`);
  return { out: x.shape.map((d, a) => Math.floor(d * scales[a])), scales };
}

export const Resize: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const mode = ctx.string('mode', 'nearest');
  if (mode !== 'nearest') ctx.unsupported(`mode "${mode}" (only nearest)`);
  const { out, scales } = resizeGeometry(ctx, x, inputs);
  if (out.some((d) => d < 1)) ctx.fail(`output shape ${shapeStr(out)} is empty`);
  const maps = out.map((o, a) => nearestIndexMap(ctx, x.shape[a], o, scales[a]));
  const y = ctx.alloc(x.dtype, out);
  const r = out.length;
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let a = r - 1; a >= 0; a--) {
    inStrides[a] = s;
    s *= x.shape[a];
  }
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < y.data.length; k++) {
    let src = 0;
    for (let a = 0; a < r; a++) src += maps[a][idx[a]] * inStrides[a];
    y.data[k] = x.data[src];
    for (let a = r - 1; a >= 0; a--) {
      if (++idx[a] < out[a]) break;
      idx[a] = 0;
    }
  }
  return [y];
};
