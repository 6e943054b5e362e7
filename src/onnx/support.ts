/**
 * What the importer accepts, in one place: the ONNX ops a model may contain (with the opsets the
 * importer implements and how each reaches the integer engine), and, for ops it does not accept,
 * the nearest rewrite that does import. docs/ops.md and the README print SUPPORTED_ONNX_OPS;
 * test/onnx/support.test.ts checks that the README's list equals this table and that every entry
 * really imports. Pure data: no imports.
 */

/** How an ONNX op reaches the integer graph. */
export type SupportKind =
  /** becomes one integer engine op (or a fixed group of them) */
  | 'integer'
  /** an elementwise function of one activation: part of a committed 256-entry lookup table */
  | 'table'
  /** rewritten by the importer into other supported ops */
  | 'rewrite'
  /** only where its inputs are constant after folding (shape arithmetic, masks built from constants) */
  | 'folded';

export interface OpSupport {
  op: string;
  /** ai.onnx opsets the importer implements for this op (torch.onnx.export emits 13–17). */
  opsets: string;
  kind: SupportKind;
  /** What it becomes, for the table. */
  becomes: string;
}

const T = (op: string, becomes = 'Lut', opsets = '6–21'): OpSupport => ({ op, opsets, kind: 'table', becomes });

export const SUPPORTED_ONNX_OPS: readonly OpSupport[] = [
  { op: 'Gemm', opsets: '7–21', kind: 'integer', becomes: 'Linear' },
  { op: 'MatMul', opsets: '9–21', kind: 'integer', becomes: 'Linear (constant weight) or MatMul (two activations)' },
  { op: 'Conv', opsets: '1–21', kind: 'integer', becomes: 'Conv (2-D, NHWC, groups, dilations)' },
  { op: 'ConvTranspose', opsets: '1–21', kind: 'rewrite', becomes: 'zero-interleave (Reshape, Expand, Mul by a 0/1 grid, Reshape, Slice) + Conv with the flipped kernel (2-D, pads ≤ dilation·(k − 1))' },
  { op: 'Add', opsets: '7–21', kind: 'integer', becomes: 'Add (activation + constant or + activation, broadcasting, own scales)' },
  { op: 'Sub', opsets: '7–21', kind: 'rewrite', becomes: 'Add(a, Neg(b)): Add + Lut' },
  { op: 'Mul', opsets: '7–21', kind: 'integer', becomes: 'Mul (by a constant or of two activations, broadcasting)' },
  { op: 'Div', opsets: '7–21', kind: 'rewrite', becomes: 'Mul by 1/c (constant divisor) or Mul(a, Reciprocal(b)) (two activations)' },
  { op: 'Sum', opsets: '8–21', kind: 'rewrite', becomes: 'chain of Add' },
  { op: 'MaxPool', opsets: '8–21', kind: 'integer', becomes: 'MaxPool (2-D, ceil_mode, dilations)' },
  { op: 'AveragePool', opsets: '7–21', kind: 'integer', becomes: 'AveragePool (2-D)' },
  { op: 'GlobalAveragePool', opsets: '1–21', kind: 'integer', becomes: 'GlobalAveragePool' },
  { op: 'Softmax', opsets: '1–21', kind: 'integer', becomes: 'Softmax (last axis; masked rows)' },
  { op: 'LayerNormalization', opsets: '17–21', kind: 'integer', becomes: 'LayerNorm (last axis, ≤ 1024)' },
  { op: 'BatchNormalization', opsets: '9–21', kind: 'rewrite', becomes: 'folded into the preceding Conv/Gemm, else Mul + Add per channel' },
  { op: 'InstanceNormalization', opsets: '6–21', kind: 'rewrite', becomes: 'Reshape [N, C, H·W] → LayerNorm (≤ 1024 positions) → Reshape → Mul/Add per channel' },
  { op: 'GroupNormalization', opsets: '18–21', kind: 'rewrite', becomes: 'Reshape [N, G, C/G·H·W] → LayerNorm (≤ 1024) → Reshape → Mul/Add per channel (per group at opset 18)' },
  { op: 'Gather', opsets: '1–21', kind: 'integer', becomes: 'Gather (embeddings, index selection)' },
  { op: 'Reshape', opsets: '5–21', kind: 'integer', becomes: 'Reshape' },
  { op: 'Flatten', opsets: '1–21', kind: 'rewrite', becomes: 'Reshape' },
  { op: 'Squeeze', opsets: '1–21', kind: 'rewrite', becomes: 'Reshape' },
  { op: 'Unsqueeze', opsets: '1–21', kind: 'rewrite', becomes: 'Reshape' },
  { op: 'Transpose', opsets: '1–21', kind: 'integer', becomes: 'Transpose' },
  { op: 'Concat', opsets: '4–21', kind: 'integer', becomes: 'Concat (inputs requantized to one scale)' },
  { op: 'Split', opsets: '2–21', kind: 'rewrite', becomes: 'Slice per output' },
  { op: 'Slice', opsets: '10–21', kind: 'integer', becomes: 'Slice (constant starts/ends/axes/steps)' },
  { op: 'Expand', opsets: '8–21', kind: 'integer', becomes: 'Gather (indices 0) per broadcast axis; removed when it does not change the shape' },
  { op: 'Identity', opsets: '1–21', kind: 'rewrite', becomes: 'removed' },
  { op: 'Dropout', opsets: '1–21', kind: 'rewrite', becomes: 'removed (inference)' },
  { op: 'Cast', opsets: '6–21', kind: 'table', becomes: 'removed when it does not change the type; bool → float inside a mask table; an integer graph input read only through Cast to float (an int64 attention_mask) becomes a float input' },
  { op: 'Shape', opsets: '1–21', kind: 'folded', becomes: 'constant' },
  { op: 'Constant', opsets: '1–21', kind: 'folded', becomes: 'constant' },
  { op: 'ConstantOfShape', opsets: '9–21', kind: 'folded', becomes: 'constant' },
  { op: 'Range', opsets: '11–21', kind: 'folded', becomes: 'constant' },
  { op: 'Equal', opsets: '7–21', kind: 'table', becomes: 'a computed tensor against one constant value (a mask test): part of a Lut; constant otherwise' },
  { op: 'Where', opsets: '9–21', kind: 'rewrite', becomes: 'Where(mask, c₁, c₂) with one-valued constants: part of a Lut; with a computed branch (masked_fill of scores, torch.where(causal, scores, min)): x + Where(c, 0, v) for a mask value v ≤ −1e30, else a·t + b·(1 − t), t = Where(c, 1, 0) a table (Mul/Add)' },
  { op: 'Not', opsets: '1–21', kind: 'table', becomes: 'on a mask: part of a Lut' },
  T('Relu', 'Lut, or the clamp of the preceding Linear/Conv'),
  T('Clip', 'Lut, or the clamp of the preceding Linear/Conv (ReLU6)'),
  T('Sigmoid'),
  T('Tanh'),
  T('Erf'),
  T('Exp'),
  T('Sqrt'),
  T('Neg'),
  T('Abs'),
  T('Pow', 'Lut (constant exponent)'),
  T('Reciprocal'),
  T('Log'),
  T('LeakyRelu'),
  T('HardSigmoid'),
  T('HardSwish', 'Lut', '14–21'),
  T('Elu'),
  T('Selu'),
  T('Celu', 'Lut', '12–21'),
  T('Softplus'),
  T('Softsign'),
  T('Mish', 'Lut', '18–21'),
  T('Gelu', 'Lut (approximate "none": the Erf form, "tanh": gelu_new)', '20–21'),
  T('Max', 'Lut (against a constant of one value: clamp_min), else b + Relu(a − b) (two activations)', '6–21'),
  T('Min', 'Lut (against a constant of one value: clamp_max), else a − Relu(a − b) (two activations)', '6–21'),
  { op: 'PRelu', opsets: '9–21', kind: 'rewrite', becomes: 'Relu(x) − slope·Relu(−x): two Luts, Mul by the slope, Add' },
  { op: 'Resize', opsets: '10–21', kind: 'rewrite', becomes: 'nearest upsampling by integer factors: Reshape + Expand (Gathers) + Reshape' },
  { op: 'GRU', opsets: '7–21', kind: 'rewrite', becomes: 'unrolled over the fixed sequence length: Slice, Linear per gate, Sigmoid/Tanh tables, Mul/Add (forward, zero initial state, no sequence_lens)' },
  { op: 'LSTM', opsets: '7–21', kind: 'rewrite', becomes: 'unrolled over the fixed sequence length: Slice, Linear per gate, Sigmoid/Tanh tables, Mul/Add (forward, zero initial state, no peepholes)' },
  { op: 'ReduceMean', opsets: '1–21', kind: 'rewrite', becomes: 'Linear with weights 1/N over the reduced axes (after a Transpose when they are not last)' },
  { op: 'ReduceSum', opsets: '1–21', kind: 'rewrite', becomes: 'Linear with weights 1 over the reduced axes' },
  { op: 'ReduceMax', opsets: '1–21', kind: 'rewrite', becomes: 'MaxPool over the reduced axes' },
  { op: 'QuantizeLinear', opsets: '10–21', kind: 'folded', becomes: 'constant (a pre-quantized QDQ graph does not import: export the float model)' },
  { op: 'DequantizeLinear', opsets: '10–21', kind: 'folded', becomes: 'constant (e.g. int8 weights stored with their scale)' },
];

/** For ops the importer does not accept: the nearest rewrite that imports. */
const REWRITES: Record<string, string> = {
  GRU: 'export with a fixed sequence length, forward direction, zero initial state and no sequence_lens (then the importer unrolls it)',
  LSTM: 'export with a fixed sequence length, forward direction, zero initial state, no sequence_lens and no peepholes (then the importer unrolls it)',
  RNN: 'unroll the recurrence over a fixed sequence length in the exporting code (Linear + Tanh per step), then export',
  Loop: 'export with torch.jit.trace (or the dynamo exporter) on a fixed input length so the loop is unrolled',
  If: 'export with torch.jit.trace on concrete inputs so the branch is resolved at export time',
  Scan: 'unroll the scan over a fixed length before export',
  ConvTranspose: 'use pads ≤ dilation·(kernel − 1) and no output_shape/auto_pad, or nn.Upsample(mode="nearest") + Conv',
  Resize: 'use nearest upsampling by an integer factor (nn.Upsample(scale_factor=k, mode="nearest")); linear/cubic modes and downsampling do not import',
  Upsample: 'export with opset ≥ 11 (Resize), nearest mode, integer factors',
  ArgMax: 'drop ArgMax from the exported graph: export the logits and take the argmax of the committed output off-chain',
  ArgMin: 'drop ArgMin from the exported graph: export the scores and take the argmin off-chain',
  TopK: 'drop TopK from the exported graph: export the scores and select off-chain',
  NonZero: 'express the selection as a Mul by a 0/1 mask tensor (no data-dependent shapes)',
  NonMaxSuppression: 'run NMS on the committed boxes and scores off-chain; export the graph up to them',
  ReduceMin: 'ReduceMax of Neg(x), then Neg',
  ReduceProd: 'Exp(ReduceSum(Log(x))) for positive x',
  ReduceL2: 'Sqrt(ReduceSum(Mul(x, x)))',
  ReduceLogSumExp: 'Log(ReduceSum(Exp(x)))',
  Einsum: 'rewrite the contraction as MatMul/Transpose/Reshape in the model code',
  CumSum: 'MatMul by a constant lower-triangular matrix of ones',
  Less: 'compute the comparison on constants only (it folds), or use a Relu/Clip-based soft mask',
  Greater: 'compute the comparison on constants only (it folds), or use a Relu/Clip-based soft mask',
  Mod: 'compute it on constants only (it folds)',
  Floor: 'a table of one activation: keep it in a chain of one activation (it folds into a Lut once supported); or remove it',
  Sin: 'precompute positional encodings as a constant (they fold)',
  Cos: 'precompute positional encodings as a constant (they fold)',
  Trilu: 'precompute the causal mask as a constant initializer',
  Pad: 'fold the padding into the following Conv/Pool pads attribute',
  Tile: 'Concat of copies along the axis',
  ScatterND: 'build the tensor with Concat/Slice instead of in-place writes',
  DepthToSpace: 'Reshape + Transpose + Reshape',
  SpaceToDepth: 'Reshape + Transpose + Reshape',
  QLinearMatMul: 'export the float model and let verity quantize it (pre-quantized QDQ/QOperator graphs are not imported; the engine has these ops for ONNX conformance only)',
  QLinearConv: 'export the float model and let verity quantize it (pre-quantized QDQ/QOperator graphs are not imported)',
  MatMulInteger: 'export the float model and let verity quantize it (dynamically quantized graphs are not imported)',
  ConvInteger: 'export the float model and let verity quantize it (dynamically quantized graphs are not imported)',
  DynamicQuantizeLinear: 'export the float model and let verity quantize it (dynamically quantized graphs are not imported)',
  QuantizeLinear: 'export the float model and let verity quantize it (QuantizeLinear of a run-time tensor is not imported)',
  DequantizeLinear: 'export the float model and let verity quantize it (DequantizeLinear of a run-time tensor is not imported)',
  Equal: 'compare the computed tensor with one constant value (Equal(mask, 0) imports as part of a table); comparing two computed tensors does not import',
  Where: 'keep a constant branch to one value (a −inf/finfo.min mask value, or any number), or make both branches computed tensors',
  Expand: 'give Expand a constant target shape (fold the shape computation), or rely on broadcasting in the consuming Add/Mul',
  Cast: 'keep run-time tensors float32 (a Cast of a computed tensor is not imported)',
  Attention: 'export without the fused com.microsoft Attention op (plain MatMul/Softmax)',
};

const GENERIC_REWRITE =
  'no known rewrite: express it with the supported ops (see docs/ops.md §Supported ONNX ops) or compute it outside the model';

/** The nearest supported rewrite for an op the importer does not accept. */
export function rewriteHint(op: string): string {
  const bare = op.includes(':') ? op.slice(op.lastIndexOf(':') + 1) : op;
  if (op.startsWith('pkg.onnxscript.')) {
    return "a model-local function of torch's dynamo exporter: keep its optimizer on (torch.onnx.export(..., dynamo=True, optimize=True), or onnx_program.optimize()) or run onnx.inliner.inline_local_functions, so the graph holds plain ai.onnx ops";
  }
  if (op.startsWith('com.microsoft:')) return `export without onnxruntime's fused ops (no --optimize / transformers optimizer): ${REWRITES[bare] ?? 'use the plain ai.onnx ops'}`;
  return REWRITES[bare] ?? GENERIC_REWRITE;
}

const KIND_TEXT: Record<SupportKind, string> = {
  integer: 'integer op',
  table: 'lookup table',
  rewrite: 'rewritten',
  folded: 'constant-folded',
};

/** The table docs/ops.md §Supported ONNX ops prints (test/onnx/support.test.ts keeps them equal). */
export function supportedOpsTable(): string {
  const rows = SUPPORTED_ONNX_OPS.map((s) => `| ${s.op} | ${s.opsets} | ${KIND_TEXT[s.kind]} | ${s.becomes} |`);
  return ['| ONNX op | opsets | how | becomes |', '|---|---|---|---|', ...rows].join('\n');
}

/** The one-line list the README prints. */
export function supportedOpsList(): string {
  return SUPPORTED_ONNX_OPS.map((s) => `${s.op} (${s.opsets})`).join(', ');
}
