/** Elementwise ops: arithmetic with broadcasting, activations, comparisons, Cast, Clip. */
import { castInt, dtypeFromOnnx, onnxTypeName, type DType, type FTensor } from '../tensor.js';
import { binary, mapBroadcast } from './broadcast.js';
import type { Inputs, OpCtx, OpImpl } from './context.js';
import { erf } from './erf.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/** Integer results wrap like the C++ kernels; float results round on store. */
function wrap(dtype: DType): (v: number) => number {
  return dtype === 'float32' ? (v) => v : (v) => castInt(dtype, v);
}

function sameType(ctx: OpCtx, ts: readonly FTensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts) if (t.dtype !== d) ctx.fail(`inputs must have one element type, got ${ts.map((x) => x.dtype).join(' and ')}`);
  return d;
}

function arith(f: (a: number, b: number) => number, intF?: (a: number, b: number, ctx: OpCtx) => number): OpImpl {
  return (ctx, inputs) => {
    const a = ctx.in(inputs, 0);
    const b = ctx.in(inputs, 1);
    const dt = sameType(ctx, [a, b]);
    if (dt === 'bool') ctx.fail('arithmetic on bool tensors is not defined');
    if (dt === 'float32') return [binary(ctx, a, b, dt, f)];
    const w = wrap(dt);
    const g = intF ?? f;
    return [binary(ctx, a, b, dt, (x, y) => w(g(x, y, ctx)))];
  };
}

export const Add = arith((a, b) => a + b);
export const Sub = arith((a, b) => a - b);
export const Mul = arith((a, b) => a * b);
export const Div = arith(
  (a, b) => a / b,
  (a, b, ctx) => (b === 0 ? ctx.fail('integer division by zero') : Math.trunc(a / b)),
);

export const Pow: OpImpl = (ctx, inputs) => {
  const a = ctx.in(inputs, 0);
  const b = ctx.in(inputs, 1);
  if (a.dtype === 'bool' || b.dtype === 'bool') ctx.fail('Pow of bool tensors is not defined');
  const w = wrap(a.dtype);
  // Pow's exponent may have another type than the base (opset 12+); the result has the base's.
  // x² and x^0.5 take the exact paths a float kernel takes (one rounding of x·x, √x).
  return [binary(ctx, a, b, a.dtype, (x, y) => w(y === 2 ? x * x : y === 0.5 ? Math.sqrt(x) : Math.pow(x, y)))];
};

export const Sum: OpImpl = (ctx, inputs) => {
  const ts = inputs.filter((t): t is FTensor => t !== undefined);
  if (ts.length === 0) ctx.fail('needs at least one input');
  const dt = sameType(ctx, ts);
  const w = wrap(dt);
  // Left-to-right float32 accumulation, like onnxruntime's pairwise Add.
  if (dt === 'float32') return [mapBroadcast(ctx, ts, dt, (v) => v.reduce((s, x) => Math.fround(s + x)))];
  return [mapBroadcast(ctx, ts, dt, (v) => w(v.reduce((s, x) => s + x)))];
};

export const Equal: OpImpl = (ctx, inputs) => {
  const a = ctx.in(inputs, 0);
  const b = ctx.in(inputs, 1);
  sameType(ctx, [a, b]);
  return [binary(ctx, a, b, 'bool', (x, y) => (x === y ? 1 : 0))];
};

export const Not: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  if (x.dtype !== 'bool') ctx.fail(`input must be bool, got ${x.dtype}`);
  const y = ctx.alloc('bool', x.shape);
  for (let i = 0; i < x.data.length; i++) y.data[i] = x.data[i] ? 0 : 1;
  return [y];
};

export const Where: OpImpl = (ctx, inputs) => {
  const c = ctx.in(inputs, 0);
  const x = ctx.in(inputs, 1);
  const y = ctx.in(inputs, 2);
  if (c.dtype !== 'bool') ctx.fail(`condition must be bool, got ${c.dtype}`);
  const dt = sameType(ctx, [x, y]);
  return [mapBroadcast(ctx, [c, x, y], dt, (v) => (v[0] ? v[1] : v[2]))];
};

function unary(f: (x: number) => number, opts: { floatOnly: boolean }): OpImpl {
  return (ctx, inputs) => {
    const x = ctx.in(inputs, 0);
    if (opts.floatOnly && x.dtype !== 'float32') ctx.fail(`input must be float32, got ${x.dtype}`);
    if (x.dtype === 'bool') ctx.fail('not defined on bool tensors');
    const y = ctx.alloc(x.dtype, x.shape);
    const w = wrap(x.dtype);
    for (let i = 0; i < x.data.length; i++) y.data[i] = w(f(x.data[i]));
    ctx.work(x.data.length * 4);
    return [y];
  };
}

export const Neg = unary((x) => -x, { floatOnly: false });
export const Relu = unary((x) => (x > 0 ? x : 0), { floatOnly: false });
export const Sqrt = unary(Math.sqrt, { floatOnly: true });
export const Exp = unary(Math.exp, { floatOnly: true });
export const Tanh = unary(Math.tanh, { floatOnly: true });
export const Erf = unary(erf, { floatOnly: true });
export const Sigmoid = unary((x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))), { floatOnly: true });

/** PRelu: x where x ≥ 0, slope·x elsewhere (slope broadcasts to x). */
export const PRelu = arith((x, sl) => (x >= 0 ? x : x * sl));

export const Abs = unary(Math.abs, { floatOnly: false });
export const Reciprocal = unary((x) => 1 / x, { floatOnly: true });
export const Log = unary(Math.log, { floatOnly: true });

const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));

/** A float activation with attributes (defaults as in the ONNX spec). */
function activation(f: (ctx: OpCtx) => (x: number) => number): OpImpl {
  return (ctx, inputs) => {
    const x = ctx.float32(inputs, 0);
    const g = f(ctx);
    const y = ctx.alloc('float32', x.shape);
    for (let i = 0; i < x.data.length; i++) y.data[i] = g(x.data[i]);
    ctx.work(x.data.length * 4);
    return [y];
  };
}

export const LeakyRelu = activation((ctx) => {
  const a = ctx.float('alpha', 0.01);
  return (x) => (x >= 0 ? x : a * x);
});
export const HardSigmoid = activation((ctx) => {
  const a = ctx.float('alpha', 0.2);
  const b = ctx.float('beta', 0.5);
  return (x) => Math.max(0, Math.min(1, a * x + b));
});
export const HardSwish = activation(() => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)));
export const Elu = activation((ctx) => {
  const a = ctx.float('alpha', 1);
  return (x) => (x >= 0 ? x : a * Math.expm1(x));
});
export const Selu = activation((ctx) => {
  const a = ctx.float('alpha', 1.67326319217681884765625);
  const g = ctx.float('gamma', 1.05070102214813232421875);
  return (x) => (x > 0 ? g * x : g * a * Math.expm1(x));
});
export const Celu = activation((ctx) => {
  const a = ctx.float('alpha', 1);
  return (x) => Math.max(0, x) + Math.min(0, a * Math.expm1(x / a));
});
export const Softplus = activation(() => softplus);
export const Softsign = activation(() => (x) => x / (1 + Math.abs(x)));
export const Mish = activation(() => (x) => x * Math.tanh(softplus(x)));
/** Gelu (opset 20): approximate "none" is x·Φ(x) (the Erf form), "tanh" GPT-2's gelu_new. */
export const Gelu = activation((ctx) => {
  const approx = ctx.string('approximate', 'none');
  if (approx === 'tanh') return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
  if (approx !== 'none') ctx.fail(`approximate must be "none" or "tanh", got "${approx}"`, 'approximate');
  return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
});

/** Max / Min (variadic, broadcasting; NaN propagates). */
function extremum(pick: (a: number, b: number) => number): OpImpl {
  return (ctx, inputs) => {
    const ins = inputs.map((_, k) => ctx.in(inputs, k));
    if (ins.length === 0) ctx.fail('needs at least one input');
    const dt = sameType(ctx, ins);
    if (dt === 'bool') ctx.fail('not defined on bool tensors');
    let acc = ins[0];
    for (let k = 1; k < ins.length; k++) acc = binary(ctx, acc, ins[k], dt, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : pick(x, y)));
    return [acc];
  };
}
export const Max = extremum(Math.max);
export const Min = extremum(Math.min);

/** Clip bounds: inputs 1 and 2 (opset 11+) or attributes min/max (opset < 11); absent bounds are
 *  the float32 range (so an integer tensor is effectively unbounded). Exported for fold.ts. */
export function clipBounds(ctx: OpCtx, inputs: Inputs): { min: number; max: number } {
  let min = ctx.float('min', -FLOAT32_MAX);
  let max = ctx.float('max', FLOAT32_MAX);
  if (inputs[1]) min = ctx.scalarOf(inputs, 1);
  if (inputs[2]) max = ctx.scalarOf(inputs, 2);
  return { min, max };
}

export const Clip: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const { min, max } = clipBounds(ctx, inputs);
  if (x.dtype === 'bool') ctx.fail('not defined on bool tensors');
  const y = ctx.alloc(x.dtype, x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const v = x.data[i];
    // NaN passes through, as in the C++ kernel (std::min/std::max comparisons are false).
    y.data[i] = v < min ? min : v > max ? max : v;
  }
  return [y];
};

export const Identity: OpImpl = (ctx, inputs) => [ctx.in(inputs, 0)];

/** Inference-mode Dropout: identity; the optional mask output is all true. */
export const Dropout: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const wantMask = (ctx.node.outputs[1] ?? '') !== '';
  if (!wantMask) return [x];
  const mask = ctx.alloc('bool', x.shape);
  mask.data.fill(1);
  return [x, mask];
};

export const Cast: OpImpl = (ctx, inputs) => {
  const x = ctx.in(inputs, 0);
  const code = ctx.int('to');
  const to = dtypeFromOnnx(code);
  if (!to) return ctx.unsupported(`Cast to ${onnxTypeName(code)}`);
  if (to === x.dtype) return [x];
  const y = ctx.alloc(to, x.shape);
  if (to === 'float32') y.data.set(x.data);
  else for (let i = 0; i < x.data.length; i++) y.data[i] = castInt(to, x.data[i]);
  return [y];
};
