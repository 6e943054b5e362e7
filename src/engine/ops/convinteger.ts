/**
 * ConvInteger (docs/ops.md §ConvInteger): ONNX ConvInteger, NCHW, output i32 = the exact accumulator
 * Σ (x − xZero)·(w − wZero_m) (padded positions contribute 0). prepare rejects shapes whose
 * accumulator bound taps·max|x − xZero|·max|w − wZero| could exceed 2^31 − 1.
 */
import { type Kernel, NodeContext } from './common.js';
import { dev, planConvNchw } from './convnchw.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.onlyParams(['w', 'xZero', 'wZero']);
  const plan = planConvNchw(ctx, { x: 'xZero', w: 'wZero' });
  ctx.outDtype(['i32']);
  ctx.outShape(plan.outShape);
  let wDev = 0;
  for (let m = 0; m < plan.M; m++) wDev = Math.max(wDev, dev(plan.wd, plan.wZero[m]));
  const bound = plan.taps * dev(plan.xd, plan.xZero) * wDev;
  if (bound > 2147483647) ctx.fail(`accumulator bound ${bound} exceeds 2^31 − 1 (${plan.taps} taps)`);
  const acc = plan.acc;
  const n = acc.length;
  return (ins, out) => {
    plan.run(ins[0].data, ins.length > 1 ? ins[1].data : ins[0].data);
    const y = out.data;
    for (let i = 0; i < n; i++) y[i] = acc[i];
  };
}
