/**
 * GRU and LSTM (ONNX semantics, forward direction, default activations, no peepholes, no
 * sequence_lens, layout 0 or 1): the float reference the fold's unrolling (fold/rewrite-rnn.ts) is
 * checked against. Outputs Y [T, 1, B, H] (layout 1: [B, T, 1, H]), Y_h [1, B, H], LSTM's Y_c.
 */
import type { FTensor } from '../tensor.js';
import type { OpCtx, OpImpl } from './context.js';

const sig = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** The attributes and shapes both ops share; fails on what the importer does not implement. */
export function rnnSpec(ctx: OpCtx, xShape: readonly number[], gates: number) {
  const dir = ctx.string('direction', 'forward');
  if (dir !== 'forward') ctx.unsupported(`direction "${dir}" (only forward)`);
  if (ctx.node.attrs.activations !== undefined) ctx.unsupported('custom activations');
  if (ctx.node.attrs.clip !== undefined) ctx.unsupported('clip');
  const layout = ctx.int('layout', 0);
  const H = ctx.int('hidden_size');
  const [T, B, I] = layout === 0 ? xShape : [xShape[1], xShape[0], xShape[2]];
  if (xShape.length !== 3) ctx.fail(`X must be 3-D, got [${xShape}]`);
  return { layout, H, T, B, I, gates, linearBeforeReset: ctx.int('linear_before_reset', 0) };
}

function matvec(W: FTensor, row0: number, rows: number, v: Float64Array, cols: number, out: Float64Array, off = 0): void {
  for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let k = 0; k < cols; k++) s += W.data[(row0 + j) * cols + k] * v[k];
    out[off + j] = s;
  }
}

function run(ctx: OpCtx, inputs: readonly (FTensor | undefined)[], kind: 'GRU' | 'LSTM'): (FTensor | undefined)[] {
  const x = ctx.float32(inputs, 0);
  const W = ctx.float32(inputs, 1);
  const R = ctx.float32(inputs, 2);
  const Bias = inputs[3];
  if (inputs[4]) ctx.unsupported('sequence_lens (every sequence has the full length)');
  if (kind === 'LSTM' && inputs[7]) ctx.unsupported('peepholes (P)');
  const g = kind === 'GRU' ? 3 : 4;
  const { layout, H, T, B, I, linearBeforeReset } = rnnSpec(ctx, x.shape, g);
  const h0 = inputs[5];
  const c0 = kind === 'LSTM' ? inputs[6] : undefined;
  const Y = ctx.alloc('float32', layout === 0 ? [T, 1, B, H] : [B, T, 1, H]);
  const Yh = ctx.alloc('float32', layout === 0 ? [1, B, H] : [B, 1, H]);
  const Yc = ctx.alloc('float32', layout === 0 ? [1, B, H] : [B, 1, H]);
  const wb = (k: number) => (Bias ? Bias.data[k] : 0);
  for (let b = 0; b < B; b++) {
    const h = new Float64Array(H);
    const c = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      h[j] = h0 ? h0.data[b * H + j] : 0;
      c[j] = c0 ? c0.data[b * H + j] : 0;
    }
    const xt = new Float64Array(I);
    const xw = new Float64Array(g * H);
    const hr = new Float64Array(g * H);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < I; k++) xt[k] = x.data[layout === 0 ? (t * B + b) * I + k : (b * T + t) * I + k];
      matvec(W, 0, g * H, xt, I, xw);
      matvec(R, 0, g * H, h, H, hr);
      for (let j = 0; j < g * H; j++) {
        xw[j] += wb(j);
        hr[j] += wb(g * H + j);
      }
      if (kind === 'GRU') {
        // gates z, r, h
        for (let j = 0; j < H; j++) {
          const z = sig(xw[j] + hr[j]);
          const r = sig(xw[H + j] + hr[H + j]);
          let hh: number;
          if (linearBeforeReset) hh = Math.tanh(xw[2 * H + j] + r * hr[2 * H + j]);
          else {
            // r ⊙ h first, then its own product with R_h (recomputed for this j)
            let s = 0;
            for (let k = 0; k < H; k++) s += R.data[(2 * H + j) * H + k] * (sig(xw[H + k] + hr[H + k]) * h[k]);
            hh = Math.tanh(xw[2 * H + j] + s + wb(g * H + 2 * H + j));
          }
          c[j] = (1 - z) * hh + z * h[j]; // c as scratch for the new h
        }
        h.set(c);
      } else {
        // gates i, o, f, c
        const hn = new Float64Array(H);
        for (let j = 0; j < H; j++) {
          const i = sig(xw[j] + hr[j]);
          const o = sig(xw[H + j] + hr[H + j]);
          const f = sig(xw[2 * H + j] + hr[2 * H + j]);
          const cc = Math.tanh(xw[3 * H + j] + hr[3 * H + j]);
          c[j] = f * c[j] + i * cc;
          hn[j] = o * Math.tanh(c[j]);
        }
        h.set(hn);
      }
      for (let j = 0; j < H; j++) Y.data[layout === 0 ? (t * B + b) * H + j : (b * T + t) * H + j] = h[j];
      ctx.work(g * H * (I + H));
    }
    for (let j = 0; j < H; j++) {
      Yh.data[b * H + j] = h[j];
      Yc.data[b * H + j] = c[j];
    }
  }
  return kind === 'GRU' ? [Y, Yh] : [Y, Yh, Yc];
}

export const GRU: OpImpl = (ctx, inputs) => run(ctx, inputs, 'GRU');
export const LSTM: OpImpl = (ctx, inputs) => run(ctx, inputs, 'LSTM');
