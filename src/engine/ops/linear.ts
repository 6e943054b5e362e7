/**
 * Linear (docs/ops.md §Linear): over the last axis of x[.., K] with weight i8[N][K]:
 *   acc_j = bias_j + Σ_k (x_k − xZero)·W[j][k];  y_j = clamp(yZero + requant(acc_j, mult_j, shift_j), lo, hi)
 * prepare folds −xZero·Σ_k W[j][k] into the bias, so the run is Σ_k x_k·W[j][k] (exact: integers).
 */
import { sizeOf } from '../ir.js';
import { requant } from '../fixedpoint.js';
import { type Kernel, NodeContext } from './common.js';
import { multShiftParams, outRange, zeroAttr } from './quant.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['weight', 'bias', 'mult', 'shift']);
  const xd = ctx.inDtype(0, ['i8', 'u8']);
  const xs = ctx.inputs[0].shape;
  if (xs.length < 1) ctx.fail('input must have rank ≥ 1');
  const K = xs[xs.length - 1];
  const weight = ctx.param('weight', ['i8']);
  if (weight.shape.length !== 2 || weight.shape[1] !== K) {
    ctx.fail(`param 'weight' has shape [${weight.shape}]; expected [N, ${K}]`);
  }
  const N = weight.shape[0];
  const bias = ctx.hasParam('bias') ? ctx.param('bias', ['i32'], { shape: [N] }) : undefined;
  const { mult, shift } = multShiftParams(ctx, [N]);
  const yd = ctx.outDtype(['i8', 'u8', 'i32']);
  ctx.outShape([...xs.slice(0, -1), N]);
  const xZero = zeroAttr(ctx, 'xZero', xd);
  const yZero = zeroAttr(ctx, 'yZero', yd);
  const { lo, hi } = outRange(ctx, yd);

  const w = weight.data as Int8Array;
  const bf = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += w[j * K + k];
    bf[j] = (bias ? bias.data[j] : 0) - xZero * s;
  }
  const m = Float64Array.from(mult.data);
  const sh = Float64Array.from(shift.data);
  const rows = sizeOf(xs) / K;
  const K4 = K - (K % 4);

  return (ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    for (let r = 0; r < rows; r++) {
      const xo = r * K;
      const yo = r * N;
      for (let j = 0; j < N; j++) {
        const wo = j * K;
        let a0 = bf[j];
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let k = 0;
        for (; k < K4; k += 4) {
          a0 += x[xo + k] * w[wo + k];
          a1 += x[xo + k + 1] * w[wo + k + 1];
          a2 += x[xo + k + 2] * w[wo + k + 2];
          a3 += x[xo + k + 3] * w[wo + k + 3];
        }
        for (; k < K; k++) a0 += x[xo + k] * w[wo + k];
        const v = yZero + requant(a0 + a1 + a2 + a3, m[j], sh[j]);
        y[yo + j] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  };
}
