/**
 * Post-training static quantization: a folded float graph plus calibrated ranges becomes the
 * integer graph of src/engine/ir.ts. The scheme (docs/ops.md has the integer semantics):
 * - activations: asymmetric int8 per tensor, from the calibrated min/max (0 always representable);
 * - weights: symmetric int8 per output channel; biases int32 at scale s_x·s_w;
 * - requantization: a 15-bit fixed-point multiplier and a right shift per output channel;
 * - a Relu/Clip that is the only consumer of a Linear/Conv is fused into its output clamp;
 * - every chain of elementwise ops that depends on a single int8 tensor (GELU's Div/Erf/Add/Mul/Mul,
 *   Sigmoid, Tanh, a lone Relu, Mul by a scalar…) becomes one committed 256-entry lookup table;
 * - Conv and pooling run channels-last (NHWC); transposes are inserted at the layout boundary;
 * - a MatMul whose right operand is a transposed activation reads it untransposed (transB), so a
 *   row of each operand is contiguous in the trace.
 */
import type { AttrValue, OpType, Param, QModel, QNode, TensorInfo } from '../engine/ir.js';
import { quantizeMultiplier, quantizeMultipliers } from '../engine/fixedpoint.js';
import type { FNode, FloatGraph } from './graph.js';
import type { FTensor } from './tensor.js';
import { runFloat } from './floatexec.js';
import type { Range } from './calibrate.js';
import { QuantizeError } from './quantize-errors.js';
import {
  activationParams,
  quantizeBias,
  quantizeRowsSymmetric,
  quantizeTensorSymmetric,
  quantizeWith,
  representable,
  type QParams,
} from './quantparams.js';

export interface FoldedLike extends FloatGraph {
  shapes: Map<string, number[]>;
}

export interface QuantizeMeta {
  name: string;
  onnxSha256: string;
  opset: number;
  producer: string;
}

/** Accumulators must stay below 2^31 (docs/ops.md: requantization exactness). */
const ACC_LIMIT = 2 ** 31 - 1;
const SOFTMAX_OUT: QParams = { scale: 1 / 256, zeroPoint: -128 };
/** Q16 exp table for Softmax. */
const EXP_ONE = 65536;

const UNARY_OPS = new Set([
  'Relu', 'Clip', 'Sigmoid', 'Tanh', 'Erf', 'Exp', 'Sqrt', 'Neg', 'Abs', 'Pow', 'Reciprocal', 'Log',
  'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish', 'Gelu',
  // mask steps (fold/sink.ts puts them in one chain): Where(cond, a, b) with constant a, b; Cast; Not
  'Where', 'Cast', 'Not',
]);
const BINARY_ELEMENTWISE = new Set(['Add', 'Mul', 'Sub', 'Div', 'Equal', 'Max', 'Min']);
const POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool']);

interface QT {
  id: number;
  layout: 'plain' | 'nhwc';
  /** The float graph's (NCHW) shape. */
  logical: number[];
  q: QParams;
}

export interface QuantizeOptions {
  /**
   * Check mode (`verity model check`): a node that cannot be quantized is reported here instead of
   * thrown, its outputs get placeholder tensors, and quantization goes on, so every failing node is
   * found in one pass. The returned model is then not meant to be run.
   */
  collect?: (node: FNode, error: QuantizeError) => void;
  /** Nodes (by name) already known not to import: treated as failing without trying them. */
  known?: ReadonlySet<string>;
}

export function quantizeGraph(g: FoldedLike, ranges: Map<string, Range>, meta: QuantizeMeta, opts: QuantizeOptions = {}): QModel {
  return new Quantizer(g, ranges, meta, opts).run();
}

/** The nearest supported form for a float-graph node the quantizer rejects. */
function quantizeRewrite(op: string): string {
  if (BINARY_ELEMENTWISE.has(op)) return 'an elementwise chain of one activation (a table), or Add/Mul/Div of two activations of the same shape or broadcasting';
  if (UNARY_OPS.has(op)) return 'keep the function inside a chain of one activation (it becomes one table)';
  return 'see docs/ops.md §Supported ONNX ops for the ops the integer engine implements';
}

class Quantizer {
  private readonly tensors: TensorInfo[] = [];
  private readonly nodes: QNode[] = [];
  private readonly q = new Map<string, QT>();
  private readonly converted = new Map<string, QT>();
  private nodesList: FNode[];
  private readonly producer = new Map<string, FNode>();
  private readonly consumers = new Map<string, FNode[]>();
  private readonly fused = new Map<FNode, { lo?: number; hi?: number; kind: 'Relu' | 'Clip'; node: FNode }>();
  private readonly skip = new Set<FNode>();
  private readonly srcMemo = new Map<string, string>();

  constructor(
    private readonly g: FoldedLike,
    private readonly ranges: Map<string, Range>,
    private readonly meta: QuantizeMeta,
    private readonly opts: QuantizeOptions = {},
  ) {
    this.nodesList = [...g.nodes];
  }

  /** One node, with its errors located (op, node, a rewrite hint); in check mode, collected. */
  private emitChecked(node: FNode): void {
    try {
      if (this.opts.known?.has(node.name)) throw new QuantizeError('Not importable (reported earlier)', { op: node.op, node: node.name });
      this.emit(node);
    } catch (e) {
      if (!(e instanceof QuantizeError)) throw e;
      const err =
        e.node !== undefined
          ? e
          : new QuantizeError(e.shortMessage, {
              op: node.op,
              node: node.name,
              details: e.details ?? `node "${node.name}" (${node.op})`,
              hint: e.hint ?? `nearest supported rewrite: ${quantizeRewrite(node.op)}`,
              cause: e,
            });
      if (!this.opts.collect) throw err;
      this.opts.collect(node, err);
      this.placeholders(node);
    }
  }

  /** Check mode: stand-in tensors for a failed node's outputs, so its readers can still be tried. */
  private placeholders(node: FNode): void {
    const outs = [...node.outputs, this.fused.get(node)?.node.outputs[0] ?? ''];
    for (const o of outs) {
      if (!o || this.q.has(o)) continue;
      const shape = this.g.shapes.get(o) ?? [1];
      const r = this.ranges.get(o);
      const ok = r && Number.isFinite(r.min) && Number.isFinite(r.max);
      this.define(o, 'i8', shape, 'plain', ok ? activationParams(r.min, r.max) : { scale: 1, zeroPoint: 0 });
    }
  }

  run(): QModel {
    this.rewriteTransposedMatMulOperands();
    this.index();
    this.findFusions();
    const inputs: number[] = [];
    for (const inp of this.g.inputs) {
      const shape = this.shape(inp.name);
      if (inp.dtype === 'float32') {
        const q = this.paramsOf(inp.name);
        inputs.push(this.define(inp.name, 'i8', shape, 'plain', q).id);
      } else if (inp.dtype === 'int64' || inp.dtype === 'int32') {
        inputs.push(this.define(inp.name, 'i32', shape, 'plain', { scale: 1, zeroPoint: 0 }).id);
      } else {
        throw new QuantizeError(`Unsupported input dtype ${inp.dtype}`, {
          details: `graph input "${inp.name}"`,
          hint: 'inputs must be float32 (quantized at the boundary) or integer ids (int64/int32)',
        });
      }
    }
    for (const node of this.nodesList) {
      if (this.skip.has(node)) continue;
      this.emitChecked(node);
    }
    const outputs = this.g.outputs.map((name) => this.plain(this.get(name, 'graph output')).id);
    return {
      format: 'verity-qmodel',
      version: 1,
      name: this.meta.name,
      inputs,
      outputs,
      tensors: this.tensors,
      nodes: this.nodes,
      source: { onnxSha256: this.meta.onnxSha256, opset: this.meta.opset, producer: this.meta.producer },
    };
  }

  // ---------- graph analysis ----------

  private index(): void {
    this.producer.clear();
    this.consumers.clear();
    for (const n of this.nodesList) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const i of n.inputs) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
    }
  }

  private isConst(name: string): boolean {
    return this.g.consts.has(name);
  }

  private constOf(name: string, node: FNode): FTensor {
    const c = this.g.consts.get(name);
    if (!c) {
      throw new QuantizeError(`${node.op} needs a constant here`, {
        details: `node "${node.name}" (${node.op}) input "${name}" is computed at run time`,
        hint: 'only constant weights are supported in this position',
      });
    }
    return c;
  }

  private shape(name: string): number[] {
    const s = this.g.shapes.get(name) ?? this.g.consts.get(name)?.shape;
    if (!s) throw new QuantizeError('Tensor without a known shape', { details: `tensor "${name}"` });
    return s;
  }

  private isGraphOutput(name: string): boolean {
    return this.g.outputs.includes(name);
  }

  /** MatMul(A, Transpose(Z, P)) → MatMul(A, Transpose(Z, P∘swap), transB=1), or (A, Z) when P∘swap is identity. */
  private rewriteTransposedMatMulOperands(): void {
    this.index();
    const out: FNode[] = [];
    for (const n of this.nodesList) {
      if (n.op === 'MatMul' && !this.isConst(n.inputs[1]) && !this.isConst(n.inputs[0])) {
        const t = this.producer.get(n.inputs[1]);
        const rank = this.shape(n.inputs[1]).length;
        if (t && t.op === 'Transpose' && rank >= 2) {
          const perm = (t.attrs.perm as number[] | undefined) ?? [...Array(rank).keys()].reverse();
          const p2 = [...perm];
          [p2[rank - 2], p2[rank - 1]] = [p2[rank - 1], p2[rank - 2]];
          const identity = p2.every((v, i) => v === i);
          let bName = t.inputs[0];
          if (!identity) {
            bName = `${n.inputs[1]}::rows`;
            const s = this.shape(t.inputs[0]);
            this.g.shapes.set(bName, p2.map((a) => s[a]));
            out.push({ op: 'Transpose', name: `${t.name}::rows`, inputs: [t.inputs[0]], outputs: [bName], attrs: { perm: p2 } });
          }
          out.push({ ...n, inputs: [n.inputs[0], bName], attrs: { ...n.attrs, transB: 1 } });
          continue;
        }
      }
      out.push(n);
    }
    // Drop nodes whose outputs nobody reads any more (the original transposes).
    let nodes = out;
    for (;;) {
      const used = new Set<string>(this.g.outputs);
      for (const n of nodes) for (const i of n.inputs) if (i) used.add(i);
      const kept = nodes.filter((n) => n.outputs.some((o) => o && used.has(o)));
      if (kept.length === nodes.length) break;
      nodes = kept;
    }
    this.nodesList = nodes;
  }

  /** Relu/Clip as the sole consumer of a Linear/Conv output becomes that op's output clamp. */
  private findFusions(): void {
    for (const n of this.nodesList) {
      if (n.op !== 'Linear' && n.op !== 'Conv') continue;
      const out = n.outputs[0];
      const cons = this.consumers.get(out) ?? [];
      if (cons.length !== 1 || this.isGraphOutput(out)) continue;
      const a = cons[0];
      if (a.op === 'Relu') {
        this.fused.set(n, { kind: 'Relu', node: a });
        this.skip.add(a);
      } else if (a.op === 'Clip' && this.clipBounds(a)) {
        const b = this.clipBounds(a)!;
        this.fused.set(n, { kind: 'Clip', lo: b.min, hi: b.max, node: a });
        this.skip.add(a);
      }
    }
  }

  private clipBounds(n: FNode): { min: number; max: number } | undefined {
    let min = typeof n.attrs.min === 'number' ? n.attrs.min : -Infinity;
    let max = typeof n.attrs.max === 'number' ? n.attrs.max : Infinity;
    for (const [k, i] of [[1, 'min'], [2, 'max']] as const) {
      const name = n.inputs[k];
      if (!name) continue;
      const c = this.g.consts.get(name);
      if (!c) return undefined;
      if (i === 'min') min = c.data[0];
      else max = c.data[0];
    }
    return { min, max };
  }

  /** Is this node an elementwise function of a single activation (possibly through scalars)? */
  private unaryCandidate(n: FNode): boolean {
    if (n.outputs.length !== 1) return false;
    if (UNARY_OPS.has(n.op)) {
      return n.inputs.slice(1).every((i) => !i || (this.isConst(i) && this.g.consts.get(i)!.data.length === 1));
    }
    if (BINARY_ELEMENTWISE.has(n.op)) {
      const [a, b] = n.inputs;
      const ca = this.isConst(a);
      const cb = this.isConst(b);
      if (ca && cb) return false;
      if (ca) return this.g.consts.get(a)!.data.length === 1;
      if (cb) return this.g.consts.get(b)!.data.length === 1;
      return true; // both dynamic: unary only when both derive from one source (checked in sourceOf)
    }
    return false;
  }

  /** The single int8 tensor this float tensor is an elementwise function of (itself when none). */
  private sourceOf(name: string): string {
    const memo = this.srcMemo.get(name);
    if (memo !== undefined) return memo;
    let src = name;
    const n = this.producer.get(name);
    if (n && !this.skip.has(n) && this.unaryCandidate(n) && this.g.shapes.get(name)) {
      const dyn = n.inputs.filter((i, k) => i && !this.isConst(i) && (n.op === 'Clip' || UNARY_OPS.has(n.op) ? k === 0 : true));
      const sources = new Set(dyn.map((i) => this.sourceOf(i)));
      const sameShape = dyn.every((i) => sameDims(this.shape(i), this.shape(name)));
      // Bool steps (a mask's Equal → Where) may sit inside a chain; its source is a float tensor.
      const floatIn = dyn.every((i) => (this.g.shapes.has(i) || this.q.has(i)) && (this.dtypeOf(i) === 'float32' || this.dtypeOf(i) === 'bool'));
      const only = [...sources][0];
      if (sources.size === 1 && sameShape && floatIn && this.dtypeOf(only) === 'float32') src = only;
    }
    this.srcMemo.set(name, src);
    return src;
  }

  private dtypeOf(name: string): string {
    const inp = this.g.inputs.find((i) => i.name === name);
    if (inp) return inp.dtype;
    const c = this.g.consts.get(name);
    if (c) return c.dtype;
    const dt = (this.g as unknown as { dtypes?: Map<string, string> }).dtypes?.get(name);
    return dt ?? 'float32';
  }

  /** A derived tensor needs its own table when something other than its own chain reads it. */
  private needsMaterializing(name: string, src: string): boolean {
    if (this.isGraphOutput(name)) return true;
    for (const c of this.consumers.get(name) ?? []) {
      if (this.skip.has(c)) continue;
      if (!this.unaryCandidate(c)) return true;
      if (this.sourceOf(c.outputs[0]) !== src) return true;
    }
    return false;
  }

  // ---------- tensors ----------

  private paramsOf(name: string): QParams {
    const r = this.ranges.get(name);
    if (!r) {
      throw new QuantizeError('No calibration range for a tensor', {
        details: `tensor "${name}"`,
        hint: 'calibration rows must run through the whole graph',
      });
    }
    return activationParams(r.min, r.max);
  }

  private define(name: string, dtype: TensorInfo['dtype'], logical: number[], layout: QT['layout'], q: QParams, key = name): QT {
    const id = this.tensors.length;
    const shape = layout === 'nhwc' ? [logical[0], logical[2], logical[3], logical[1]] : [...logical];
    this.tensors.push({ id, name, dtype, shape, scale: q.scale, zeroPoint: q.zeroPoint, layout });
    const t: QT = { id, layout, logical: [...logical], q };
    if (key) this.q.set(key, t);
    return t;
  }

  private get(name: string, reader: string): QT {
    const t = this.q.get(name);
    if (!t) {
      throw new QuantizeError('Tensor read before it was produced', {
        details: `"${name}" read by ${reader}`,
        hint: 'the float graph is not topologically sorted or an op was skipped',
      });
    }
    return t;
  }

  private add(op: OpType, name: string, inputs: number[], output: number, attrs: Record<string, AttrValue> = {}, params: Record<string, Param> = {}): void {
    this.nodes.push({ op, name, inputs, output, attrs, params });
  }

  private dtypeOfQ(t: QT): TensorInfo['dtype'] {
    return this.tensors[t.id].dtype;
  }

  /** The same values laid out plain (NCHW) — a copy when the layout differs. */
  private plain(t: QT): QT {
    if (t.layout === 'plain') return t;
    const key = `${t.id}:plain`;
    const have = this.converted.get(key);
    if (have) return have;
    const [n, c, h, w] = t.logical;
    const name = `${this.tensors[t.id].name}::nchw`;
    const out = this.define(name, this.dtypeOfQ(t), t.logical, 'plain', t.q, '');
    if (h * w === 1 || c === 1) this.add('Reshape', name, [t.id], out.id, { shape: [n, c, h, w] });
    else this.add('Transpose', name, [t.id], out.id, { perm: [0, 3, 1, 2] });
    this.converted.set(key, out);
    return out;
  }

  private nhwc(t: QT, reader: FNode): QT {
    if (t.layout === 'nhwc') return t;
    if (t.logical.length !== 4) {
      throw new QuantizeError(`${reader.op} needs a 4-D input`, { details: `node "${reader.name}" reads shape [${t.logical}]` });
    }
    const key = `${t.id}:nhwc`;
    const have = this.converted.get(key);
    if (have) return have;
    const [n, c, h, w] = t.logical;
    const name = `${this.tensors[t.id].name}::nhwc`;
    const out = this.define(name, this.dtypeOfQ(t), t.logical, 'nhwc', t.q, '');
    if (h * w === 1 || c === 1) this.add('Reshape', name, [t.id], out.id, { shape: [n, h, w, c] });
    else this.add('Transpose', name, [t.id], out.id, { perm: [0, 2, 3, 1] });
    this.converted.set(key, out);
    return out;
  }

  // ---------- ops ----------

  private emit(n: FNode): void {
    if (this.unaryCandidate(n)) {
      const out = n.outputs[0];
      const src = this.sourceOf(out);
      if (src !== out) {
        if (this.needsMaterializing(out, src)) this.emitLut(n, out, src);
        return;
      }
    }
    switch (n.op) {
      case 'Linear':
        return this.emitLinear(n);
      case 'Conv':
        return this.emitConv(n);
      case 'MatMul':
        return this.emitMatMul(n);
      case 'Add':
      case 'Mul':
        return this.emitBinary(n);
      case 'MaxPool':
      case 'AveragePool':
      case 'GlobalAveragePool':
        return this.emitPool(n);
      case 'Softmax':
        return this.emitSoftmax(n);
      case 'LayerNormalization':
        return this.emitLayerNorm(n);
      case 'Gather':
        return this.emitGather(n);
      case 'Reshape':
      case 'Transpose':
      case 'Slice':
        return this.emitMove(n);
      case 'Concat':
        return this.emitConcat(n);
      case 'Expand':
        return this.emitExpand(n);
      default:
        if (UNARY_OPS.has(n.op) || BINARY_ELEMENTWISE.has(n.op)) {
          throw new QuantizeError(`Cannot quantize ${n.op} here`, {
            details: `node "${n.name}": ${n.op} of two different activations (or of a non-scalar constant) has no integer form`,
            hint: 'supported: elementwise chains of one activation (become lookup tables), Add/Sub/Mul of two activations',
          });
        }
        throw new QuantizeError(`Unsupported op for quantization: ${n.op}`, {
          details: `node "${n.name}" (${n.op})`,
          hint: 'see docs/ops.md for the ops the integer engine implements',
        });
    }
  }

  private outputClamp(n: FNode, yq: QParams): { lo: number; hi: number; outName: string } {
    const f = this.fused.get(n);
    if (!f) return { lo: -128, hi: 127, outName: n.outputs[0] };
    const qOf = (v: number) => Math.max(-128, Math.min(127, Math.round(v / yq.scale) + yq.zeroPoint));
    if (f.kind === 'Relu') return { lo: qOf(0), hi: 127, outName: f.node.outputs[0] };
    return {
      lo: f.lo === undefined || f.lo === -Infinity ? -128 : qOf(f.lo),
      hi: f.hi === undefined || f.hi === Infinity ? 127 : qOf(f.hi),
      outName: f.node.outputs[0],
    };
  }

  private emitLinear(n: FNode): void {
    const x = this.plain(this.get(n.inputs[0], n.name));
    const w = this.constOf(n.inputs[1], n);
    const [N, K] = w.shape;
    if (w.shape.length !== 2 || x.logical[x.logical.length - 1] !== K) {
      throw new QuantizeError('Linear weight does not match its input', {
        details: `node "${n.name}": weight [${w.shape}] vs input [${x.logical}]`,
      });
    }
    const bias = n.inputs[2] ? this.constOf(n.inputs[2], n) : undefined;
    const outName = this.fused.get(n)?.node.outputs[0] ?? n.outputs[0];
    const yq = this.paramsOf(outName);
    const { lo, hi } = this.outputClamp(n, yq);
    const qw = quantizeRowsSymmetric(w.data, N, K);
    const biasQ = new Int32Array(N);
    const mult = new Int32Array(N);
    const shift = new Int32Array(N);
    for (let j = 0; j < N; j++) {
      const s = x.q.scale * qw.scales[j];
      biasQ[j] = bias ? quantizeBias(bias.data[bias.data.length === 1 ? 0 : j], s, `node "${n.name}" output ${j}`) : 0;
      const m = quantizeMultiplier(s / yq.scale);
      mult[j] = m.mult;
      shift[j] = m.shift;
      this.checkAcc(n, K, 255 * 127, Math.abs(biasQ[j]));
    }
    const y = this.define(outName, 'i8', this.shape(outName), 'plain', yq);
    this.add('Linear', n.name, [x.id], y.id, { xZero: x.q.zeroPoint, yZero: yq.zeroPoint, lo, hi }, {
      weight: { dtype: 'i8', shape: [N, K], data: qw.data },
      bias: { dtype: 'i32', shape: [N], data: biasQ },
      mult: { dtype: 'i32', shape: [N], data: mult },
      shift: { dtype: 'i32', shape: [N], data: shift },
    });
  }

  private checkAcc(n: FNode, terms: number, perTerm: number, bias: number): void {
    if (terms * perTerm + bias > ACC_LIMIT) {
      throw new QuantizeError('Accumulator could exceed int32', {
        details: `node "${n.name}": ${terms} products of up to ${perTerm} plus bias ${bias}`,
        hint: 'the reduction is too long for int32 accumulation; split the layer',
      });
    }
  }

  private emitConv(n: FNode): void {
    const xin = this.get(n.inputs[0], n.name);
    if (xin.logical.length !== 4) {
      throw new QuantizeError('Only 2-D convolutions are supported', { details: `node "${n.name}" input [${xin.logical}]` });
    }
    const x = this.nhwc(xin, n);
    const w = this.constOf(n.inputs[1], n);
    const [CO, CG, KH, KW] = w.shape;
    const group = num(n.attrs.group, 1);
    const strides = ints(n.attrs.strides, [1, 1]);
    const dil = ints(n.attrs.dilations, [1, 1]);
    const outName = this.fused.get(n)?.node.outputs[0] ?? n.outputs[0];
    const outShape = this.shape(n.outputs[0]);
    const pads = resolvePads(n, [xin.logical[2], xin.logical[3]], [outShape[2], outShape[3]], [KH, KW], strides, dil);
    // Reorder [CO][CG][KH][KW] → [CO][KH][KW][CG]: one output's weights contiguous, in input order.
    const K = CG * KH * KW;
    const reordered = new Float64Array(CO * K);
    for (let o = 0; o < CO; o++)
      for (let c = 0; c < CG; c++)
        for (let i = 0; i < KH; i++)
          for (let j = 0; j < KW; j++) reordered[o * K + (i * KW + j) * CG + c] = w.data[((o * CG + c) * KH + i) * KW + j];
    const qw = quantizeRowsSymmetric(reordered, CO, K);
    const bias = n.inputs[2] ? this.constOf(n.inputs[2], n) : undefined;
    const yq = this.paramsOf(outName);
    const { lo, hi } = this.outputClamp(n, yq);
    const biasQ = new Int32Array(CO);
    const mult = new Int32Array(CO);
    const shift = new Int32Array(CO);
    for (let o = 0; o < CO; o++) {
      const s = x.q.scale * qw.scales[o];
      biasQ[o] = bias ? quantizeBias(bias.data[o], s, `node "${n.name}" channel ${o}`) : 0;
      const m = quantizeMultiplier(s / yq.scale);
      mult[o] = m.mult;
      shift[o] = m.shift;
      this.checkAcc(n, K, 255 * 127, Math.abs(biasQ[o]));
    }
    const y = this.define(outName, 'i8', outShape, 'nhwc', yq);
    this.add('Conv', n.name, [x.id], y.id, {
      xZero: x.q.zeroPoint, yZero: yq.zeroPoint, lo, hi, pads, strides, dilations: dil, group,
    }, {
      weight: { dtype: 'i8', shape: [CO, KH, KW, CG], data: qw.data },
      bias: { dtype: 'i32', shape: [CO], data: biasQ },
      mult: { dtype: 'i32', shape: [CO], data: mult },
      shift: { dtype: 'i32', shape: [CO], data: shift },
    });
  }

  private emitMatMul(n: FNode): void {
    const a = this.plain(this.get(n.inputs[0], n.name));
    const b = this.plain(this.get(n.inputs[1], n.name));
    const transB = num(n.attrs.transB, 0);
    const K = a.logical[a.logical.length - 1];
    const yq = this.paramsOf(n.outputs[0]);
    const m = quantizeMultiplier((a.q.scale * b.q.scale) / yq.scale);
    this.checkAcc(n, K, 255 * 255, 0);
    const y = this.define(n.outputs[0], 'i8', this.shape(n.outputs[0]), 'plain', yq);
    this.add('MatMul', n.name, [a.id, b.id], y.id, {
      aZero: a.q.zeroPoint, bZero: b.q.zeroPoint, yZero: yq.zeroPoint, mult: m.mult, shift: m.shift, transB, lo: -128, hi: 127,
    });
  }

  private emitBinary(n: FNode): void {
    // Folding leaves no Sub (x − y is Add(x, Neg(y))), and a constant operand second.
    let [an, bn] = n.inputs;
    if (this.isConst(an)) [an, bn] = [bn, an];
    const yName = n.outputs[0];
    const yShape = this.shape(yName);
    const yq = this.paramsOf(yName);
    let a = this.get(an, n.name);
    const constB = this.isConst(bn) ? this.constOf(bn, n) : undefined;
    let b: QT | undefined;
    let layout: QT['layout'] = 'plain';
    if (!constB) {
      b = this.get(bn, n.name);
      if (a.layout === 'nhwc' && b.layout === 'nhwc') layout = 'nhwc';
      else if ((a.layout === 'nhwc' || b.layout === 'nhwc') && a.logical.length === 4 && b.logical.length === 4 && yShape.length === 4) {
        // One operand already channels-last (a Conv output, a residual): bring the other there too
        // (free for [N, C, 1, 1] and reused when it already exists), so the sum stays NHWC.
        a = this.nhwc(a, n);
        b = this.nhwc(b, n);
        layout = 'nhwc';
      } else {
        a = this.plain(a);
        b = this.plain(b);
      }
    } else if (a.layout === 'nhwc' && yShape.length === 4) layout = 'nhwc';
    else a = this.plain(a);

    const attrs: Record<string, AttrValue> = { aZero: a.q.zeroPoint, yZero: yq.zeroPoint, lo: -128, hi: 127 };
    const params: Record<string, Param> = {};
    let bq: QParams;
    if (constB) {
      let values = Array.from(constB.data);
      if (n.op !== 'Mul') {
        // Constant addends beyond what can move the saturated output are clamped first, so a
        // −1e4 mask entry does not blow the scale of the real ones (the output saturates either way).
        const ar = representable(a.q);
        const yr = representable(yq);
        const width = yr.max - yr.min;
        const lo = yr.min - ar.max - width;
        const hi = yr.max - ar.min + width;
        values = values.map((v) => Math.max(lo, Math.min(hi, v)));
      }
      const qc = quantizeTensorSymmetric(values);
      bq = { scale: qc.scale, zeroPoint: 0 };
      let shape = [...constB.shape];
      let data: Int8Array = qc.data;
      if (layout === 'nhwc') ({ shape, data } = toNhwcConst(shape, data));
      params.b = { dtype: 'i8', shape, data };
      attrs.bZero = 0;
    } else {
      bq = b!.q;
      attrs.bZero = bq.zeroPoint;
    }
    if (n.op === 'Mul') {
      const m = quantizeMultiplier((a.q.scale * bq.scale) / yq.scale);
      attrs.mult = m.mult;
      attrs.shift = m.shift;
    } else {
      const m = quantizeMultipliers([a.q.scale / yq.scale, bq.scale / yq.scale]);
      attrs.aMult = m.mults[0];
      attrs.bMult = m.mults[1];
      attrs.shift = m.shift;
    }
    const y = this.define(yName, 'i8', yShape, layout, yq);
    this.add(n.op === 'Mul' ? 'Mul' : 'Add', n.name, constB ? [a.id] : [a.id, b!.id], y.id, attrs, params);
  }

  private emitLut(n: FNode, out: string, src: string): void {
    const x = this.get(src, n.name);
    const yq = this.paramsOf(out);
    // The chain from src to out, in graph order.
    const chain: FNode[] = [];
    const need = new Set<string>([out]);
    for (let i = this.nodesList.indexOf(n); i >= 0; i--) {
      const m = this.nodesList[i];
      if (!m.outputs.some((o) => need.has(o))) continue;
      chain.unshift(m);
      for (const inp of m.inputs) if (inp && inp !== src && !this.isConst(inp)) need.add(inp);
    }
    const consts = new Map<string, FTensor>();
    for (const m of chain) for (const inp of m.inputs) if (inp && this.isConst(inp)) consts.set(inp, this.g.consts.get(inp)!);
    const xs = new Float32Array(256);
    for (let k = 0; k < 256; k++) xs[k] = x.q.scale * (k - 128 - x.q.zeroPoint);
    const mini: FloatGraph = {
      inputs: [{ name: src, dtype: 'float32', shape: [256] }],
      outputs: [out],
      nodes: chain,
      consts,
      opset: this.g.opset,
    };
    const ys = runFloat(mini, { [src]: { dtype: 'float32', shape: [256], data: xs } }).get(out)!;
    const table = new Int8Array(256);
    for (let k = 0; k < 256; k++) {
      const v = ys.data[k];
      const q = Number.isNaN(v) ? yq.zeroPoint : Math.round(v / yq.scale) + yq.zeroPoint;
      table[k] = Math.max(-128, Math.min(127, q));
    }
    const y = this.define(out, 'i8', this.shape(out), x.layout, yq);
    this.add('Lut', chain.map((c) => c.name).join('+'), [x.id], y.id, {}, { table: { dtype: 'i8', shape: [256], data: table } });
  }

  private emitPool(n: FNode): void {
    const xin = this.get(n.inputs[0], n.name);
    const x = this.nhwc(xin, n);
    const outShape = this.shape(n.outputs[0]);
    if (n.op === 'GlobalAveragePool') {
      const y = this.define(n.outputs[0], 'i8', outShape, 'nhwc', x.q);
      this.add('GlobalAveragePool', n.name, [x.id], y.id, { xZero: x.q.zeroPoint, yZero: x.q.zeroPoint });
      return;
    }
    const kernel = ints(n.attrs.kernel_shape, undefined, n);
    if (kernel.length !== 2) throw new QuantizeError('Only 2-D pooling is supported', { details: `node "${n.name}" kernel [${kernel}]` });
    const strides = ints(n.attrs.strides, [1, 1]);
    const dil = ints(n.attrs.dilations, [1, 1]);
    const pads = resolvePads(n, [xin.logical[2], xin.logical[3]], [outShape[2], outShape[3]], kernel, strides, dil);
    const y = this.define(n.outputs[0], 'i8', outShape, 'nhwc', x.q);
    if (n.op === 'MaxPool') {
      this.add('MaxPool', n.name, [x.id], y.id, { kernel, strides, pads, dilations: dil });
    } else {
      this.add('AveragePool', n.name, [x.id], y.id, {
        kernel, strides, pads, countIncludePad: num(n.attrs.count_include_pad, 0), xZero: x.q.zeroPoint, yZero: x.q.zeroPoint,
      });
    }
  }

  private emitSoftmax(n: FNode): void {
    const x = this.plain(this.get(n.inputs[0], n.name));
    const rank = x.logical.length;
    const opset = this.g.opset ?? 13;
    let axis = num(n.attrs.axis, opset < 13 ? 1 : -1);
    if (axis < 0) axis += rank;
    if (axis !== rank - 1) {
      throw new QuantizeError('Softmax is supported over the last axis only', {
        details: `node "${n.name}": axis ${axis} of a rank-${rank} tensor`,
        hint: 'transpose the axis last before the Softmax in the model',
      });
    }
    const exp = new Int32Array(256);
    for (let d = 0; d < 256; d++) exp[d] = Math.round(EXP_ONE * Math.exp(-d * x.q.scale));
    const masked = this.ranges.get(n.inputs[0])?.masked ? 1 : 0;
    const y = this.define(n.outputs[0], 'i8', this.shape(n.outputs[0]), 'plain', SOFTMAX_OUT);
    this.add('Softmax', n.name, [x.id], y.id, { masked }, { exp: { dtype: 'i32', shape: [256], data: exp } });
  }

  private emitLayerNorm(n: FNode): void {
    const x = this.plain(this.get(n.inputs[0], n.name));
    const rank = x.logical.length;
    let axis = num(n.attrs.axis, -1);
    if (axis < 0) axis += rank;
    if (axis !== rank - 1) {
      throw new QuantizeError('LayerNormalization is supported over the last axis only', { details: `node "${n.name}": axis ${axis}` });
    }
    const N = x.logical[rank - 1];
    if (N > 1024) throw new QuantizeError('LayerNormalization over more than 1024 elements', { details: `node "${n.name}": ${N}` });
    const eps = typeof n.attrs.epsilon === 'number' ? n.attrs.epsilon : 1e-5;
    const gamma = this.constOf(n.inputs[1], n);
    const beta = n.inputs[2] ? this.constOf(n.inputs[2], n) : undefined;
    const yq = this.paramsOf(n.outputs[0]);
    const gReal = Array.from({ length: N }, (_, i) => gamma.data[gamma.data.length === 1 ? 0 : i] / yq.scale);
    const maxG = Math.max(...gReal.map(Math.abs), 1e-30);
    // Choose the shift so the largest |gamma| uses 15 bits.
    let shift = 1;
    while (shift < 46 && maxG * 2 ** (shift + 1) < 32768) shift++;
    const g = new Int32Array(N);
    const b = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      g[i] = Math.round(gReal[i] * 2 ** shift);
      b[i] = beta ? Math.round((beta.data[beta.data.length === 1 ? 0 : i] / yq.scale) * 2 ** shift) : 0;
      if (Math.abs(b[i]) > ACC_LIMIT) throw new QuantizeError('LayerNormalization beta out of range', { details: `node "${n.name}" element ${i}` });
    }
    const epsInt = Math.max(1, Math.round((N * N * eps) / (x.q.scale * x.q.scale)));
    if (epsInt > 2 ** 40) throw new QuantizeError('LayerNormalization epsilon too large for the input scale', { details: `node "${n.name}"` });
    const y = this.define(n.outputs[0], 'i8', this.shape(n.outputs[0]), 'plain', yq);
    this.add('LayerNorm', n.name, [x.id], y.id, { xZero: x.q.zeroPoint, yZero: yq.zeroPoint, eps: epsInt, shift }, {
      gamma: { dtype: 'i32', shape: [N], data: g },
      beta: { dtype: 'i32', shape: [N], data: b },
    });
  }

  private emitGather(n: FNode): void {
    const [dn, in_] = n.inputs;
    const axis = num(n.attrs.axis, 0);
    const outShape = this.shape(n.outputs[0]);
    const params: Record<string, Param> = {};
    const inputs: number[] = [];
    let q: QParams;
    if (this.isConst(dn)) {
      const d = this.constOf(dn, n);
      let min = Infinity;
      let max = -Infinity;
      for (const v of d.data) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      q = activationParams(min, max);
      params.data = { dtype: 'i8', shape: [...d.shape], data: quantizeWith(d.data, q) };
    } else {
      const x = this.plain(this.get(dn, n.name));
      q = x.q;
      inputs.push(x.id);
    }
    if (this.isConst(in_)) {
      const c = this.constOf(in_, n);
      params.indices = { dtype: 'i32', shape: [...c.shape], data: Int32Array.from(c.data) };
    } else {
      const idx = this.get(in_, n.name);
      if (this.dtypeOfQ(idx) !== 'i32') {
        throw new QuantizeError('Gather indices must be integer ids', { details: `node "${n.name}" indices "${in_}"` });
      }
      inputs.push(idx.id);
    }
    if (params.data && params.indices) throw new QuantizeError('Gather of constants should have been folded', { details: `node "${n.name}"` });
    const y = this.define(n.outputs[0], 'i8', outShape, 'plain', q);
    this.add('Gather', n.name, inputs, y.id, { axis }, params);
  }

  private emitMove(n: FNode): void {
    const x = this.plain(this.get(n.inputs[0], n.name));
    const outShape = this.shape(n.outputs[0]);
    const y = this.define(n.outputs[0], this.dtypeOfQ(x), outShape, 'plain', x.q);
    if (n.op === 'Reshape') this.add('Reshape', n.name, [x.id], y.id, { shape: outShape });
    else if (n.op === 'Transpose') {
      const perm = ints(n.attrs.perm, [...Array(x.logical.length).keys()].reverse());
      this.add('Transpose', n.name, [x.id], y.id, { perm });
    } else {
      this.add('Slice', n.name, [x.id], y.id, {
        starts: ints(n.attrs.starts, undefined, n),
        ends: ints(n.attrs.ends, undefined, n),
        axes: ints(n.attrs.axes, undefined, n),
        steps: ints(n.attrs.steps, undefined, n),
      });
    }
  }

  /** Expand of an activation: a Reshape adding leading 1s, then one Gather (indices all 0) per
   *  broadcast axis. */
  private emitExpand(n: FNode): void {
    const x = this.plain(this.get(n.inputs[0], n.name));
    const target = this.shape(n.outputs[0]);
    let cur = x;
    let dims = [...x.logical];
    const steps: { axis: number; len: number }[] = [];
    const full = [...Array(Math.max(0, target.length - dims.length)).fill(1), ...dims];
    full.forEach((d, a) => {
      if (d === target[a]) return;
      if (d !== 1) throw new QuantizeError('Expand to an incompatible shape', { details: `node "${n.name}": [${x.logical}] to [${target}]` });
      steps.push({ axis: a, len: target[a] });
    });
    const last = (k: number) => k === steps.length - 1;
    if (full.length !== dims.length) {
      const name = steps.length === 0 ? n.outputs[0] : `${n.outputs[0]}::rank`;
      const y = this.define(name, this.dtypeOfQ(cur), full, 'plain', cur.q, steps.length === 0 ? name : '');
      this.add('Reshape', n.name, [cur.id], y.id, { shape: full });
      cur = y;
      dims = full;
    } else if (steps.length === 0) {
      const y = this.define(n.outputs[0], this.dtypeOfQ(cur), full, 'plain', cur.q);
      this.add('Reshape', n.name, [cur.id], y.id, { shape: full });
      return;
    }
    steps.forEach((st, k) => {
      dims = dims.map((d, a) => (a === st.axis ? st.len : d));
      const name = last(k) ? n.outputs[0] : `${n.outputs[0]}::axis${st.axis}`;
      const y = this.define(name, this.dtypeOfQ(cur), dims, 'plain', cur.q, last(k) ? name : '');
      this.add('Gather', n.name, [cur.id], y.id, { axis: st.axis }, { indices: { dtype: 'i32', shape: [st.len], data: new Int32Array(st.len) } });
      cur = y;
    });
  }

  private emitConcat(n: FNode): void {
    const parts = n.inputs.filter(Boolean).map((i) => {
      if (this.isConst(i)) {
        throw new QuantizeError('Concat with a constant operand is not supported', { details: `node "${n.name}" input "${i}"` });
      }
      return this.plain(this.get(i, n.name));
    });
    const same = parts.every((p) => p.q.scale === parts[0].q.scale && p.q.zeroPoint === parts[0].q.zeroPoint);
    const yq = same ? parts[0].q : this.paramsOf(n.outputs[0]);
    const ids = parts.map((p, k) => {
      if (same) return p.id;
      const name = `${n.outputs[0]}::part${k}`;
      const r = this.define(name, 'i8', p.logical, 'plain', yq, '');
      const m = quantizeMultiplier(p.q.scale / yq.scale);
      this.add('Requantize', name, [p.id], r.id, { xZero: p.q.zeroPoint, yZero: yq.zeroPoint, mult: m.mult, shift: m.shift, lo: -128, hi: 127 });
      return r.id;
    });
    const rank = parts[0].logical.length;
    let axis = num(n.attrs.axis, 0);
    if (axis < 0) axis += rank;
    const y = this.define(n.outputs[0], 'i8', this.shape(n.outputs[0]), 'plain', yq);
    this.add('Concat', n.name, ids, y.id, { axis });
  }
}

// ---------- helpers ----------

function num(v: unknown, def: number): number {
  return typeof v === 'number' ? v : def;
}

function ints(v: unknown, def: number[] | undefined, n?: FNode): number[] {
  if (Array.isArray(v)) return v as number[];
  if (typeof v === 'number') return [v];
  if (def === undefined) {
    throw new QuantizeError('Missing attribute', { details: `node "${n?.name}" (${n?.op})` });
  }
  return def;
}

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Explicit [top, left, bottom, right] pads, resolving auto_pad from the known output size. */
function resolvePads(n: FNode, inHW: number[], outHW: number[], kernel: number[], strides: number[], dil: number[]): number[] {
  const auto = typeof n.attrs.auto_pad === 'string' ? n.attrs.auto_pad : 'NOTSET';
  if (auto === 'NOTSET' || auto === '') {
    const p = ints(n.attrs.pads, [0, 0, 0, 0]);
    return [p[0], p[1], p[2], p[3]];
  }
  if (auto === 'VALID') return [0, 0, 0, 0];
  const begin: number[] = [];
  const end: number[] = [];
  for (let a = 0; a < 2; a++) {
    const total = Math.max(0, (outHW[a] - 1) * strides[a] + dil[a] * (kernel[a] - 1) + 1 - inHW[a]);
    const small = Math.floor(total / 2);
    if (auto === 'SAME_LOWER') {
      begin.push(total - small);
      end.push(small);
    } else {
      begin.push(small);
      end.push(total - small);
    }
  }
  return [begin[0], begin[1], end[0], end[1]];
}

/** A constant that broadcasts against an NCHW tensor, re-laid for the NHWC one. */
function toNhwcConst(shape: number[], data: Int8Array): { shape: number[]; data: Int8Array } {
  const s4 = [...Array(Math.max(0, 4 - shape.length)).fill(1), ...shape];
  if (s4.length !== 4) throw new QuantizeError('Constant of rank > 4 against a 4-D activation', { details: `[${shape}]` });
  const [n, c, h, w] = s4;
  const out = new Int8Array(data.length);
  for (let i0 = 0; i0 < n; i0++)
    for (let i1 = 0; i1 < c; i1++)
      for (let i2 = 0; i2 < h; i2++)
        for (let i3 = 0; i3 < w; i3++) out[((i0 * h + i2) * w + i3) * c + i1] = data[((i0 * c + i1) * h + i2) * w + i3];
  return { shape: [n, h, w, c], data: out };
}
