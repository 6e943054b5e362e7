/**
 * The quantized model: an integer-only graph. This file is the contract between the importer
 * (src/onnx/quantize.ts, which produces it), the engine (src/engine/run.ts, which executes it),
 * the commitments (src/commit/, which hash it) and the Solidity one-step verifier. The exact integer
 * semantics of each op are in docs/ops.md; the comments here only say what each field holds.
 *
 * Conventions (docs/ops.md §Conventions):
 * - Tensors are row-major ("C order") over their logical shape. Activations that feed
 *   Conv/MaxPool/AveragePool/GlobalAveragePool are stored channels-last (NHWC), so one output
 *   element of a Conv reads KH runs of KW·C contiguous input bytes and KH·KW·C contiguous weights.
 * - Linear weights are stored [out][in]: the K weights of one output are contiguous, as is the
 *   K-long input row.
 * - Every model has a batch dimension of 1 baked into its shapes; a batch of rows is a loop of
 *   single-row runs (one trace per row, which is what a task commits to).
 * - Integers are exact. Where a value can exceed 32 bits (LayerNorm's variance, requantization's
 *   product) the engine uses float64 arithmetic only on integers below 2^53, where it is exact;
 *   docs/ops.md states each bound and the importer checks it.
 */

/** Element types of tensors. i8 is the activation type; i32 holds token ids and accumulators of
 *  the ONNX integer ops (MatMulInteger, ConvInteger); u8 exists for ONNX's uint8 integer ops. */
export type DType = 'i8' | 'u8' | 'i32';

export type IntArray = Int8Array | Uint8Array | Int32Array;

/** A parameter (weights, bias, multipliers, tables) stored in the model. */
export interface Param {
  dtype: DType;
  shape: number[];
  data: IntArray;
}

/** An activation tensor of the graph (inputs and every node output). */
export interface TensorInfo {
  /** Index in QModel.tensors; also the tensor's position in the trace. */
  id: number;
  /** Name from the source ONNX graph (for errors and display). */
  name: string;
  dtype: DType;
  shape: number[];
  /** Real value = scale · (q − zeroPoint). Metadata for dequantizing outputs and for display; the
   *  integer run never reads it. 1 and 0 for i32 tensors. */
  scale: number;
  zeroPoint: number;
  /** 'nhwc' when a logical NCHW tensor is stored channels-last; then `shape` is the stored
   *  (NHWC) shape. 'plain' otherwise. */
  layout: 'plain' | 'nhwc';
}

/**
 * Integer ops. Attributes are integers (or integer arrays); parameters are in `params`.
 * The list of op names and their attrs/params, one line each (details in docs/ops.md):
 *
 *  Linear      in: x[..,K]          params: weight i8[N][K], bias i32[N], mult i32[N], shift i32[N]
 *              attrs: xZero, yZero, lo, hi
 *  Conv        in: x[1,H,W,C] nhwc  params: weight i8[CO][KH][KW][C/group], bias i32[CO], mult, shift i32[CO]
 *              attrs: xZero, yZero, lo, hi, pads[4] (top,left,bottom,right), strides[2], dilations[2], group
 *  MatMul      in: a[..,M,K], b[..,K,N] (or b[..,N,K] when transB=1), batch dims broadcast
 *              attrs: aZero, bZero, yZero, mult, shift, transB, lo, hi
 *  Add         in: a, b (broadcast; b may instead be params.b)   attrs: aZero, bZero, yZero, aMult, bMult, shift, lo, hi
 *  Mul         in: a, b (broadcast; b may instead be params.b)   attrs: aZero, bZero, yZero, mult, shift, lo, hi
 *  Lut         in: x (i8)           params: table i8[256] (y = table[x + 128])
 *  MaxPool     in: x nhwc           attrs: kernel[2], strides[2], pads[4], dilations[2]
 *  AveragePool in: x nhwc           attrs: kernel[2], strides[2], pads[4], countIncludePad, xZero, yZero
 *  GlobalAveragePool in: x nhwc     attrs: xZero, yZero
 *  Softmax     in: x (last axis)    params: exp i32[256]      attrs: masked (0|1)
 *  LayerNorm   in: x (last axis)    params: gamma i32[D], beta i32[D]   attrs: xZero, yZero, eps, shift
 *  Gather      in: data, indices (either may be a param: params.data / params.indices)  attrs: axis
 *  Reshape     in: x                attrs: shape (the full output shape)
 *  Transpose   in: x                attrs: perm
 *  Concat      in: x0..xn (same zero point)  attrs: axis
 *  Slice       in: x                attrs: starts, ends, axes, steps (normalized and clamped as ONNX does;
 *              with a negative step end may be −1 = "through index 0", see docs/ops.md §Slice)
 *  Requantize  in: x (any dtype)    attrs: xZero, yZero, mult, shift, lo, hi  (y = yZero + rq(x − xZero))
 *  MatMulInteger in: a, b (u8|i8)   params: aZero (scalar or per-row), bZero (scalar or per-column)  out: i32
 *  ConvInteger   in: x, w (NCHW, ONNX layout)  params: xZero, wZero  attrs: pads, strides, dilations, group  out: i32
 *  QLinearMatMul in: a, b           params: aZero, bZero, yZero, mult, shift   (out u8|i8)
 *  QLinearConv   in: x, w (NCHW)    params: xZero, wZero, yZero, bias, mult, shift  attrs: pads, strides, dilations, group
 *  (For the four ONNX integer ops the constant operand may instead be a param: params.b for
 *  MatMulInteger/QLinearMatMul, params.w for ConvInteger/QLinearConv; the node then has one tensor
 *  input. Linear/Conv bias is optional (0). lo/hi default to the output dtype's range.)
 */
export type OpType =
  | 'Linear'
  | 'Conv'
  | 'MatMul'
  | 'Add'
  | 'Mul'
  | 'Lut'
  | 'MaxPool'
  | 'AveragePool'
  | 'GlobalAveragePool'
  | 'Softmax'
  | 'LayerNorm'
  | 'Gather'
  | 'Reshape'
  | 'Transpose'
  | 'Concat'
  | 'Slice'
  | 'Requantize'
  | 'MatMulInteger'
  | 'ConvInteger'
  | 'QLinearMatMul'
  | 'QLinearConv';

export const OP_TYPES: readonly OpType[] = [
  'Linear', 'Conv', 'MatMul', 'Add', 'Mul', 'Lut', 'MaxPool', 'AveragePool', 'GlobalAveragePool',
  'Softmax', 'LayerNorm', 'Gather', 'Reshape', 'Transpose', 'Concat', 'Slice', 'Requantize',
  'MatMulInteger', 'ConvInteger', 'QLinearMatMul', 'QLinearConv',
];

export type AttrValue = number | number[];

export interface QNode {
  op: OpType;
  /** Name of the ONNX node(s) this came from, for errors and display. */
  name: string;
  /** Tensor ids read, in the order the op defines. */
  inputs: number[];
  /** Tensor id written (every op has exactly one output; ONNX multi-output ops are split). */
  output: number;
  attrs: Record<string, AttrValue>;
  params: Record<string, Param>;
}

export interface QModel {
  format: 'verity-qmodel';
  version: 1;
  name: string;
  /** Ids of graph inputs (the first trace tensors) and outputs. */
  inputs: number[];
  outputs: number[];
  tensors: TensorInfo[];
  /** Topologically ordered. Node i writes tensor `nodes[i].output`. */
  nodes: QNode[];
  /** Where it came from: sha256 of the ONNX bytes, and import options. Not executed. */
  source: { onnxSha256: string; opset: number; producer: string };
}

/** One run's full trace: trace[id] is tensor `id`'s data (inputs first, then node outputs). */
export interface TensorData {
  dtype: DType;
  shape: number[];
  data: IntArray;
}

export type Trace = TensorData[];

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, n: number): IntArray {
  switch (dtype) {
    case 'i8':
      return new Int8Array(n);
    case 'u8':
      return new Uint8Array(n);
    case 'i32':
      return new Int32Array(n);
  }
}
