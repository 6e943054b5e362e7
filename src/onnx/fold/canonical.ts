/**
 * The canonical op set a folded graph may contain, and the check that it does. This is the
 * contract with the quantizer: whatever passes here has one of these forms ("const" = a tensor
 * in graph.consts, "dyn" = computed at run time; attribute names are ONNX's):
 *
 *  Linear      [x dyn [..., K], W const f32 [N][K], b const f32 [N]] -> [..., N]; attrs {}.
 *              y = x·Wᵀ + b over the last axis, any rank. Always has b (zeros if the source had none).
 *  Conv        [x dyn NCHW (or NCW), W const [M][C/group][kH][kW], B const [M]]; attrs kernel_shape,
 *              strides, dilations, pads (begin..., end...; auto_pad resolved), group. Always has B.
 *  MatMul      [a dyn, b dyn] numpy matmul (batched, broadcast); attrs {}.
 *  Add, Mul    [a dyn, b dyn|const] (a constant operand is always second), numpy broadcasting.
 *  Div         [a dyn|const, b dyn] (a constant float divisor became Mul by its reciprocal).
 *  Pow         [x dyn, exponent const].
 *  Relu, Sigmoid, Tanh, Erf, Exp, Sqrt, Neg, Abs, Reciprocal, Log, LeakyRelu, HardSigmoid, HardSwish,
 *  Elu, Selu, Celu, Softplus, Softsign, Mish, Gelu   [x dyn] (float activations with their ONNX attrs).
 *  Max, Min    [a dyn, b a constant of one value]: a step of the activation's table.
 *  Clip        [x dyn]; attrs min, max (numbers; an absent bound is ±3.4028234663852886e38).
 *  MaxPool     [x dyn]; attrs kernel_shape, strides, pads, dilations. ceil_mode/auto_pad resolved
 *              into pads (extra end padding, which never wins a max).
 *  AveragePool [x dyn]; attrs kernel_shape, strides, pads, dilations, count_include_pad (0|1).
 *  GlobalAveragePool [x dyn].
 *  Softmax     [x dyn]; attrs { axis: -1 } — always the last axis.
 *  LayerNormalization [x dyn, scale const f32 [D], bias const f32 [D]]; attrs { axis: -1, epsilon }
 *              — always the last axis (D = last dim); bias always present.
 *  Reshape     [x dyn, shape const int64] — the full output shape, no 0/-1 (attr allowzero=1 only
 *              when a dim is genuinely 0).
 *  Transpose   [x dyn]; attrs perm (explicit, never identity).
 *  Concat      inputs dyn or const; attrs axis (non-negative).
 *  Slice       [x dyn]; attrs starts, ends, axes, steps: axes ascending and distinct, only axes
 *              actually sliced, starts in [0, dim) (or dim), ends clamped to [0, dim] for
 *              positive steps and [-1, dim-1] for negative ones (-1 = through index 0).
 *  Gather      [data, indices] each dyn or const; attrs axis (non-negative); constant indices
 *              are non-negative.
 *  Equal       [x dyn, c const of one value]: a mask test (bool); Not, Cast [x dyn]: on masks.
 *  Where       [cond dyn, a const of one value, b const of one value]: mask → two values.
 *  Expand      [x dyn, shape const]: a broadcast copy (masks expanded over heads).
 *              These become lookup tables (Equal/Not/Cast/Where, through fold/sink.ts, which moves
 *              them ahead of the Reshape/Expand/Transpose between them) and Gathers (Expand).
 *  QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, QLinearMatMul, QLinearConv,
 *  MatMulInteger, ConvInteger: as in ONNX, passed through (when fed by constants only, they were
 *  constant-folded like any other op).
 */
import { OnnxGraphError, OnnxMissingTensorError, OnnxUnsupportedOpError } from '../errors.js';
import type { FloatGraph, FNode } from '../graph.js';

/** Canonical float ops plus ONNX's quantized ops (passed through unchanged). */
export const CANONICAL_OPS: readonly string[] = [
  'Linear', 'MatMul', 'Conv', 'Add', 'Mul', 'Relu', 'Clip', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'Sqrt', 'Neg', 'Pow',
  'Abs', 'Reciprocal', 'Log', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish', 'Gelu', 'Max', 'Min',
  'Div', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Softmax', 'LayerNormalization', 'Reshape', 'Transpose',
  'Concat', 'Slice', 'Gather', 'Equal', 'Where', 'Cast', 'Expand', 'Not',
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearMatMul', 'QLinearConv', 'MatMulInteger', 'ConvInteger',
];

const CANON = new Set(CANONICAL_OPS);

/** Why a node of a canonical op type is not in canonical form, or undefined when it is. */
function formProblem(n: FNode, isConst: (t: string) => boolean, consts: FloatGraph['consts']): string | undefined {
  const [a, b, c] = n.inputs;
  // A constant holding one value (a scalar, or a tensor of one repeated value such as ConstantOfShape's).
  const isUniform = (t: string | undefined) => {
    const v = t ? consts.get(t) : undefined;
    return v !== undefined && v.data.length > 0 && v.data.every((x) => Object.is(x, v.data[0]) || x === v.data[0]);
  };
  const dyn = (t: string | undefined) => t !== undefined && t !== '' && !isConst(t);
  switch (n.op) {
    case 'Linear':
      return isConst(b) && isConst(c) ? undefined : 'Linear needs constant W and b';
    case 'Conv':
      return isConst(b) && (!c || isConst(c)) ? undefined : 'a computed (non-constant) weight or bias';
    case 'MatMul':
      return dyn(a) && dyn(b) ? undefined : 'a constant operand that is not a 2-D right-hand weight';
    case 'Add':
    case 'Mul':
      return dyn(a) ? undefined : 'two constant operands';
    case 'Div':
      return dyn(b) ? undefined : 'a constant divisor of a non-float type';
    case 'Pow':
      return isConst(b) ? undefined : 'a computed (non-constant) exponent';
    case 'Reshape':
      return isConst(b) ? undefined : 'a computed shape';
    case 'Slice':
      return n.inputs.length === 1 ? undefined : 'computed starts/ends';
    case 'Clip':
      return n.inputs.length === 1 ? undefined : 'computed min/max';
    case 'LayerNormalization':
      return isConst(b) && isConst(c) ? undefined : 'a computed Scale or B';
    case 'Equal':
      return dyn(a) && isUniform(b) ? undefined : 'a comparison of two computed tensors (only a computed tensor against one constant value imports)';
    case 'Max':
    case 'Min':
      return n.inputs.length === 2 && dyn(a) && isUniform(b) ? undefined : 'a computed tensor against more than a constant of one value';
    case 'Where':
      return dyn(a) && isUniform(b) && isUniform(c) ? undefined : 'a selection between computed tensors (only Where(mask, constant, constant) imports)';
    case 'Expand':
      return dyn(a) && isConst(b) ? undefined : 'a computed target shape';
    default:
      return undefined;
  }
}

/**
 * Throws OnnxUnsupportedOpError for a node outside the canonical set or form (naming op, node and
 * its index in the folded graph), OnnxMissingTensorError for a read of an undefined tensor, and
 * OnnxGraphError for a graph input no output depends on.
 */
export function checkCanonical(g: FloatGraph, collect?: (e: OnnxUnsupportedOpError) => void): void {
  const defined = new Set<string>([...g.consts.keys(), ...g.inputs.map((i) => i.name)]);
  const isConst = (t: string) => t !== '' && g.consts.has(t);
  g.nodes.forEach((n, index) => {
    for (const t of n.inputs) if (t && !defined.has(t)) throw new OnnxMissingTensorError({ tensor: t, node: n.name });
    const reason = CANON.has(n.op) ? formProblem(n, isConst, g.consts) : undefined;
    if (!CANON.has(n.op) || reason) {
      const e = new OnnxUnsupportedOpError({
        opType: n.op,
        nodeName: n.name,
        nodeIndex: index,
        supported: CANONICAL_OPS,
        reason: reason ?? 'it remains after constant folding (its inputs are computed at run time), and the integer engine has no such op',
      });
      if (!collect) throw e;
      collect(e);
    }
    for (const o of n.outputs) if (o) defined.add(o);
  });
  for (const o of g.outputs) if (!defined.has(o)) throw new OnnxMissingTensorError({ tensor: o, node: '<graph output>' });
  const read = new Set<string>();
  for (const n of g.nodes) for (const t of n.inputs) read.add(t);
  for (const inp of g.inputs) {
    if (!read.has(inp.name) && !g.outputs.includes(inp.name)) {
      throw new OnnxGraphError(`Graph input "${inp.name}" does not reach any output`, {
        details: 'after constant folding no node reads it (for example, only its shape was used)',
        hint: 'Remove the input from the model, or check that the right outputs were exported.',
      });
    }
  }
}
