/**
 * QLinearConv (docs/ops.md §QLinearConv): ONNX QLinearConv, NCHW. acc as ConvInteger plus bias_m
 * (optional i32[M]); y = clamp(yZero + requant(acc, mult_m, shift_m), output dtype range); wZero,
 * mult and shift may be per output channel.
 */
import { requantH, requantTable } from '../fixedpoint.js';
import { type Kernel, NodeContext, DTYPE_MAX, DTYPE_MIN } from './common.js';
import { planConvNchw } from './convnchw.js';
import { expand, multShiftParams } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams(['w', 'xZero', 'wZero', 'yZero', 'bias', 'mult', 'shift']);
  const plan = planConvNchw(ctx, { x: 'xZero', w: 'wZero' });
  const yd = ctx.outDtype(['i8', 'u8']);
  ctx.outShape(plan.outShape);
  const M = plan.M;
  const yZeroP = ctx.hasParam('yZero') ? ctx.param('yZero', [yd], { size: 1 }) : undefined;
  const yZero = yZeroP ? yZeroP.data[0] : 0;
  const biasP = ctx.hasParam('bias') ? ctx.param('bias', ['i32'], { size: M }) : undefined;
  const bias = expand(biasP, M);
  const { mult, shift } = multShiftParams(ctx, [1, M]);
  const rt = requantTable(mult.data, shift.data, M);
  const lo = DTYPE_MIN[yd];
  const hi = DTYPE_MAX[yd];
  const acc = plan.acc;
  const plane = plan.outShape[2] * plan.outShape[3];
  const N = plan.outShape[0];
  return (ins, out) => {
    plan.run(ins[0].data, ins.length > 1 ? ins[1].data : ins[0].data);
    const y = out.data;
    let i = 0;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < M; c++) {
        const b = bias[c];
        const mc = rt.m[c];
        const hc = rt.half[c];
        const ic = rt.inv[c];
        const sc = rt.s[c];
        for (let p = 0; p < plane; p++, i++) {
          const v = yZero + requantH(acc[i] + b, mc, hc, ic, sc);
          y[i] = v < lo ? lo : v > hi ? hi : v;
        }
      }
    }
  };
}
