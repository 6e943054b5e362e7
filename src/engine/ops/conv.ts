/**
 * Conv, NHWC (docs/ops.md §Conv): x stored [1,H,W,C], weight i8[CO][KH][KW][C/group], output
 * [1,OH,OW,CO]. acc = bias_co + Σ (x − xZero)·w over the window, padded positions contributing 0;
 * y = clamp(yZero + requant(acc, mult_co, shift_co), lo, hi).
 *
 * The run first writes x − xZero into a zero-bordered scratch buffer (the padding), so the window
 * loops need no bounds checks; with dilation_w = 1 and group = 1 one kernel row is a single
 * contiguous run of KW·C values in both the scratch and the weights.
 */
import { requant } from '../fixedpoint.js';
import { type Kernel, NodeContext } from './common.js';
import { multShiftParams, outRange, zeroAttr } from './quant.js';

export function convOutDim(inDim: number, padA: number, padB: number, k: number, stride: number, dil: number): number {
  return Math.floor((inDim + padA + padB - dil * (k - 1) - 1) / stride) + 1;
}

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['weight', 'bias', 'mult', 'shift']);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length !== 4 || xs[0] !== 1) ctx.fail(`input must be stored [1,H,W,C], got [${xs}]`);
  const [, H, W, C] = xs;
  const weight = ctx.param('weight', ['i8']);
  if (weight.shape.length !== 4) ctx.fail(`param 'weight' must be [CO][KH][KW][C/group], got [${weight.shape}]`);
  const [CO, KH, KW, Cg] = weight.shape;
  const group = ctx.int('group', 1, C, 1);
  if (C % group !== 0 || CO % group !== 0) ctx.fail(`group ${group} must divide C = ${C} and CO = ${CO}`);
  if (Cg !== C / group) ctx.fail(`param 'weight' last dim is ${Cg}; expected C/group = ${C / group}`);
  const bias = ctx.hasParam('bias') ? ctx.param('bias', ['i32'], { shape: [CO] }) : undefined;
  const { mult, shift } = multShiftParams(ctx, [CO]);
  const [pt, pl, pb, pr] = ctx.ints('pads', 4, 0, 1 << 16, [0, 0, 0, 0]);
  const [sh, sw] = ctx.ints('strides', 2, 1, 1 << 16, [1, 1]);
  const [dh, dw] = ctx.ints('dilations', 2, 1, 1 << 16, [1, 1]);
  const OH = convOutDim(H, pt, pb, KH, sh, dh);
  const OW = convOutDim(W, pl, pr, KW, sw, dw);
  if (OH < 1 || OW < 1) ctx.fail(`output spatial size ${OH}x${OW} is empty`);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape([1, OH, OW, CO]);
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const { lo, hi } = outRange(ctx, yd);

  const w = weight.data as Int8Array;
  const bf = new Float64Array(CO);
  if (bias) for (let i = 0; i < CO; i++) bf[i] = bias.data[i];
  const m = Float64Array.from(mult.data);
  const s = Float64Array.from(shift.data);
  const Hp = H + pt + pb;
  const Wp = W + pl + pr;
  const xp = new Int32Array(Hp * Wp * C); // x − xZero with a zero border
  const COg = CO / group;
  const rowLen = KW * C; // contiguous run per kernel row (fast path)
  const fast = dw === 1 && group === 1;
  const wRow = KW * Cg;
  const wCo = KH * wRow;

  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    for (let h = 0; h < H; h++) {
      const src = h * W * C;
      const dst = ((h + pt) * Wp + pl) * C;
      for (let i = 0; i < W * C; i++) xp[dst + i] = x[src + i] - xZero;
    }
    let yo = 0;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * sh;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * sw;
        for (let co = 0; co < CO; co++) {
          let acc = bf[co];
          const wbase = co * wCo;
          if (fast) {
            for (let kh = 0; kh < KH; kh++) {
              const xo = ((ih0 + kh * dh) * Wp + iw0) * C;
              const wo = wbase + kh * rowLen;
              let a1 = 0;
              let i = 0;
              for (; i + 1 < rowLen; i += 2) {
                acc += xp[xo + i] * w[wo + i];
                a1 += xp[xo + i + 1] * w[wo + i + 1];
              }
              if (i < rowLen) acc += xp[xo + i] * w[wo + i];
              acc += a1;
            }
          } else {
            const c0 = ((co / COg) | 0) * Cg;
            for (let kh = 0; kh < KH; kh++) {
              const rowBase = (ih0 + kh * dh) * Wp;
              for (let kw = 0; kw < KW; kw++) {
                const xo = (rowBase + iw0 + kw * dw) * C + c0;
                const wo = wbase + kh * wRow + kw * Cg;
                for (let c = 0; c < Cg; c++) acc += xp[xo + c] * w[wo + c];
              }
            }
          }
          const v = yZero + requant(acc, m[co], s[co]);
          y[yo++] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
  };
}
