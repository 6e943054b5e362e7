/**
 * Model preparation and execution.
 *
 * prepareModel validates a QModel once (structure, tensor numbering, every node's dtypes, shapes,
 * attrs and params) and precomputes each node's constants; runModel then only validates the inputs
 * and runs the kernels, returning the full trace.
 *
 * Tensor numbering (docs/ops.md §Conventions): tensor ids are canonical — the k graph inputs are
 * tensors 0..k−1 in order, node i writes tensor k + i, and there are no other tensors. So the
 * trace (trace[id] = tensor id) is the inputs followed by the node outputs in node order, and a node
 * can only read tensors defined before it.
 */
import type { DType, IntArray, OpType, QModel, QNode, TensorData, TensorInfo, Trace } from './ir.js';
import { OP_TYPES, sizeOf } from './ir.js';
import { EngineInputError, EngineModelError } from './errors.js';
import { checkParamIntegrity, fmtShape, isShape, type Kernel, NodeContext } from './ops/common.js';
import * as Linear from './ops/linear.js';
import * as Conv from './ops/conv.js';
import * as MatMul from './ops/matmul.js';
import * as Add from './ops/add.js';
import * as Mul from './ops/mul.js';
import * as Lut from './ops/lut.js';
import * as MaxPool from './ops/maxpool.js';
import * as AveragePool from './ops/averagepool.js';
import * as GlobalAveragePool from './ops/globalaveragepool.js';
import * as Softmax from './ops/softmax.js';
import * as LayerNorm from './ops/layernorm.js';
import * as Gather from './ops/gather.js';
import * as Reshape from './ops/reshape.js';
import * as Transpose from './ops/transpose.js';
import * as Concat from './ops/concat.js';
import * as Slice from './ops/slice.js';
import * as Requantize from './ops/requantize.js';
import * as MatMulInteger from './ops/matmulinteger.js';
import * as ConvInteger from './ops/convinteger.js';
import * as QLinearMatMul from './ops/qlinearmatmul.js';
import * as QLinearConv from './ops/qlinearconv.js';

const PREPARE: Record<OpType, (ctx: NodeContext) => Kernel> = {
  Linear: Linear.prepare,
  Conv: Conv.prepare,
  MatMul: MatMul.prepare,
  Add: Add.prepare,
  Mul: Mul.prepare,
  Lut: Lut.prepare,
  MaxPool: MaxPool.prepare,
  AveragePool: AveragePool.prepare,
  GlobalAveragePool: GlobalAveragePool.prepare,
  Softmax: Softmax.prepare,
  LayerNorm: LayerNorm.prepare,
  Gather: Gather.prepare,
  Reshape: Reshape.prepare,
  Transpose: Transpose.prepare,
  Concat: Concat.prepare,
  Slice: Slice.prepare,
  Requantize: Requantize.prepare,
  MatMulInteger: MatMulInteger.prepare,
  ConvInteger: ConvInteger.prepare,
  QLinearMatMul: QLinearMatMul.prepare,
  QLinearConv: QLinearConv.prepare,
};

interface Step {
  readonly index: number;
  readonly node: QNode;
  readonly inputs: readonly number[];
  readonly output: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly size: number;
  readonly kernel: Kernel;
}

/** A validated model with per-node constants precomputed; run it with runModel. */
export interface PreparedModel {
  readonly model: QModel;
  /** Internal: one step per node, in order. */
  readonly steps: readonly Step[];
  /** Internal: byte offset of each tensor in a run's arena (one ArrayBuffer holding the trace). */
  readonly offsets: readonly number[];
  /** Internal: element count of each tensor. */
  readonly sizes: readonly number[];
  /** Internal: arena bytes per item. */
  readonly arenaBytes: number;
}

const DTYPES: readonly DType[] = ['i8', 'u8', 'i32'];

function modelError(what: string, hint?: string): never {
  throw new EngineModelError({ what, hint });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkTensor(t: TensorInfo, i: number): void {
  if (!isObj(t)) modelError(`tensors[${i}] is not an object`);
  if (t.id !== i) modelError(`tensors[${i}].id is ${String(t.id)}; ids must equal positions`);
  if (typeof t.name !== 'string') modelError(`tensors[${i}].name is not a string`);
  if (!DTYPES.includes(t.dtype)) modelError(`tensors[${i}] (${t.name}) has invalid dtype ${JSON.stringify(t.dtype)}`);
  if (!isShape(t.shape)) {
    modelError(`tensors[${i}] (${t.name}) has invalid shape ${JSON.stringify(t.shape)} (dims must be integers ≥ 1)`);
  }
  if (t.layout !== 'plain' && t.layout !== 'nhwc') modelError(`tensors[${i}] (${t.name}) has invalid layout ${JSON.stringify(t.layout)}`);
  if (typeof t.scale !== 'number' || !Number.isFinite(t.scale)) modelError(`tensors[${i}] (${t.name}) has a non-finite scale`);
  if (!Number.isInteger(t.zeroPoint)) modelError(`tensors[${i}] (${t.name}) has a non-integer zeroPoint`);
}

/** Validates a QModel and precomputes every node's constants. Throws EngineModelError. */
export function prepareModel(m: QModel): PreparedModel {
  if (!isObj(m)) modelError('model is not an object');
  if (m.format !== 'verity-qmodel') modelError(`format is ${JSON.stringify(m.format)}; expected 'verity-qmodel'`);
  if (m.version !== 1) modelError(`version is ${JSON.stringify(m.version)}; expected 1`);
  if (!Array.isArray(m.tensors) || !Array.isArray(m.nodes) || !Array.isArray(m.inputs) || !Array.isArray(m.outputs)) {
    modelError('tensors, nodes, inputs and outputs must be arrays');
  }
  m.tensors.forEach(checkTensor);
  const k = m.inputs.length;
  m.inputs.forEach((id, i) => {
    if (id !== i) {
      modelError(`inputs[${i}] is tensor ${id}; graph inputs must be tensors 0..${k - 1} in order`);
    }
  });
  if (m.tensors.length !== k + m.nodes.length) {
    modelError(
      `${m.tensors.length} tensors for ${k} inputs and ${m.nodes.length} nodes; expected ${k + m.nodes.length} (inputs, then one output per node)`,
    );
  }
  m.outputs.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= m.tensors.length) modelError(`outputs[${i}] = ${id} is not a tensor id`);
  });
  const steps: Step[] = [];
  m.nodes.forEach((node, index) => {
    const fail = (what: string): never => {
      throw new EngineModelError({ nodeIndex: index, nodeName: isObj(node) ? String(node.name) : undefined, what });
    };
    if (!isObj(node)) fail('node is not an object');
    if (!OP_TYPES.includes(node.op)) fail(`unknown op ${JSON.stringify(node.op)}`);
    if (typeof node.name !== 'string') fail('name is not a string');
    const outId = k + index;
    if (node.output !== outId) fail(`writes tensor ${node.output}; node ${index} must write tensor ${outId}`);
    if (!Array.isArray(node.inputs)) fail('inputs is not an array');
    node.inputs.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= outId) {
        fail(`inputs[${j}] = ${id} is not a tensor defined before this node (ids 0..${outId - 1})`);
      }
    });
    if (!isObj(node.attrs)) fail('attrs is not an object');
    if (!isObj(node.params)) fail('params is not an object');
    const ctx = new NodeContext(
      node,
      index,
      node.inputs.map((id) => m.tensors[id]),
      m.tensors[outId],
    );
    for (const [name, p] of Object.entries(node.params)) checkParamIntegrity(ctx, name, p);
    for (const [name, v] of Object.entries(node.attrs)) {
      const ok = typeof v === 'number' ? Number.isInteger(v) : Array.isArray(v) && v.every((e) => Number.isInteger(e));
      if (!ok) ctx.fail(`attr '${name}' must be an integer or an integer array, got ${JSON.stringify(v)}`);
    }
    const kernel = PREPARE[node.op](ctx);
    const out = m.tensors[outId];
    steps.push({
      index,
      node,
      inputs: node.inputs.slice(),
      output: outId,
      dtype: out.dtype,
      shape: out.shape.slice(),
      size: sizeOf(out.shape),
      kernel,
    });
  });
  const offsets: number[] = [];
  const sizes: number[] = [];
  let arenaBytes = 0;
  for (const t of m.tensors) {
    const n = sizeOf(t.shape);
    offsets.push(arenaBytes);
    sizes.push(n);
    arenaBytes += (n * (t.dtype === 'i32' ? 4 : 1) + 7) & ~7;
  }
  return { model: m, steps, offsets, sizes, arenaBytes };
}

const CTOR = { i8: Int8Array, u8: Uint8Array, i32: Int32Array } as const;

/** Traces up to this many bytes get one array per tensor instead of one shared ArrayBuffer. */
const SMALL_ARENA = 256;

function describe(t: unknown): string {
  if (!isObj(t)) return typeof t;
  const d = t as Partial<TensorData>;
  const data = d.data as unknown;
  const kind = data && typeof data === 'object' ? (data as object).constructor?.name : typeof data;
  const len = data && typeof data === 'object' && 'length' in (data as object) ? (data as IntArray).length : '?';
  return `dtype ${String(d.dtype)}, shape ${Array.isArray(d.shape) ? fmtShape(d.shape) : String(d.shape)}, data ${kind}(${len})`;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkInputs(m: QModel, sizes: readonly number[], inputs: readonly TensorData[], what = 'inputs', prefix = ''): void {
  if (!Array.isArray(inputs) || inputs.length !== m.inputs.length) {
    throw new EngineInputError({
      input: what,
      expected: `${m.inputs.length} tensor(s) (${m.inputs.map((id) => m.tensors[id].name).join(', ')})`,
      got: Array.isArray(inputs) ? `${inputs.length}` : typeof inputs,
    });
  }
  for (let i = 0; i < inputs.length; i++) {
    const info = m.tensors[i];
    const t = inputs[i];
    const ok =
      typeof t === 'object' &&
      t !== null &&
      t.dtype === info.dtype &&
      Array.isArray(t.shape) &&
      sameDims(t.shape, info.shape) &&
      t.data instanceof CTOR[info.dtype] &&
      t.data.length === sizes[i];
    if (!ok) {
      throw new EngineInputError({
        input: `${prefix}'${info.name}' (input ${i})`,
        expected: `dtype ${info.dtype}, shape ${fmtShape(info.shape)}, data ${CTOR[info.dtype].name}(${sizes[i]})`,
        got: describe(t),
      });
    }
  }
}

/**
 * Runs one prepared model on its inputs (one TensorData per graph input, in order). Returns the
 * trace: trace[id] for every tensor id — the inputs (copied) followed by the node outputs.
 * Throws EngineInputError for a wrong input count, dtype, shape or data length, or a value out of
 * range for an op (e.g. a Gather index).
 *
 * The trace's arrays are allocated for this run (for larger models, views of one ArrayBuffer, each at
 * its own byteOffset); nothing else refers to them, so the trace stays valid after later runs — unless
 * the caller gives that ArrayBuffer (trace[0].data.buffer, p.arenaBytes long) to opts.arenas once done
 * with the trace: later runs with the same cache then reuse it, not cleared (every byte is written, as
 * in runBatch). A fresh arena costs its page faults (mobile-net's 56 KB: up to ~13 us a run here).
 */
export function runModel(p: PreparedModel, inputs: readonly TensorData[], opts: { arenas?: ArenaCache } = {}): Trace {
  const m = p.model;
  checkInputs(m, p.sizes, inputs);
  // Small traces: one array each (small typed arrays live on the JS heap, cheaper than an
  // ArrayBuffer); larger ones: views of one ArrayBuffer for the whole trace.
  const arena = p.arenaBytes > SMALL_ARENA ? (opts.arenas ? opts.arenas.take(p.arenaBytes, false) : new ArrayBuffer(p.arenaBytes)) : null;
  const { offsets, sizes } = p;
  const tensors = m.tensors;
  const trace: TensorData[] = new Array(tensors.length);
  for (let i = 0; i < inputs.length; i++) {
    const info = tensors[i];
    const data = arena ? new CTOR[info.dtype](arena, offsets[i], sizes[i]) : new CTOR[info.dtype](sizes[i]);
    (data as Int32Array).set(inputs[i].data as Int32Array);
    trace[i] = { dtype: info.dtype, shape: info.shape.slice(), data };
  }
  const steps = p.steps;
  for (let s = 0; s < steps.length; s++) {
    const st = steps[s];
    const ins = new Array<TensorData>(st.inputs.length);
    for (let j = 0; j < ins.length; j++) ins[j] = trace[st.inputs[j]];
    const id = st.output;
    const out: TensorData = { dtype: st.dtype, shape: st.shape.slice(), data: arena ? new CTOR[st.dtype](arena, offsets[id], st.size) : new CTOR[st.dtype](st.size) };
    st.kernel(ins, out);
    trace[id] = out;
  }
  return trace;
}

function stackedView(t: TensorInfo, arena: ArrayBuffer, off: number, n: number): TensorData {
  return { dtype: t.dtype, shape: t.shape, data: new CTOR[t.dtype](arena, off, n) };
}

function itemOf(t: TensorData, b: number, n: number): TensorData {
  return { dtype: t.dtype, shape: t.shape, data: t.data.subarray(b * n, (b + 1) * n) };
}

/**
 * Runs a prepared model on several input sets at once: runBatch(p, rows)[b] equals
 * runModel(p, rows[b]) element for element (same dtypes, shapes and values). Dense ops run all
 * items in one GEMM (M = rows × items) and row-wise ops in one pass; other ops run per item. Each
 * trace's arrays are views of one ArrayBuffer shared by the batch (by chunks of up to 256 items;
 * at their own byteOffsets); no later run writes to it — unless the caller hands that buffer to
 * opts.arenas (ArenaCache.give), which later runs with the same cache then reuse (not cleared: every
 * tensor byte is written again, checked by test/engine/helpers.ts on garbage-filled arenas).
 * Throws as runModel (naming the item for invalid inputs).
 */
export function runBatch(p: PreparedModel, batch: readonly (readonly TensorData[])[], opts: { arenas?: ArenaCache } = {}): Trace[] {
  const B = checkBatch(p, batch);
  if (B === 0) return [];
  const chunk = batchChunk(p);
  if (B > chunk) {
    // Bounded memory per stacked run: large batches in chunks (the traces are the same).
    const out: Trace[] = [];
    for (let b0 = 0; b0 < B; b0 += chunk) out.push(...runChunk(p, batch.slice(b0, b0 + chunk), opts.arenas));
    return out;
  }
  return runChunk(p, batch, opts.arenas);
}

/** Checks every item's inputs (naming the item) and returns the item count. */
function checkBatch(p: PreparedModel, batch: readonly (readonly TensorData[])[]): number {
  if (!Array.isArray(batch)) {
    throw new EngineInputError({ input: 'batch', expected: 'an array of input lists', got: typeof batch });
  }
  for (let b = 0; b < batch.length; b++) checkInputs(p.model, p.sizes, batch[b], `batch[${b}]`, `batch[${b}] `);
  return batch.length;
}

/**
 * Trace arenas a caller is done with, for later runBatch / runModel calls to reuse (opts.arenas): a fresh
 * ArrayBuffer costs a page fault per 4 KiB on first write (about as much as the kernels themselves
 * on a transformer's 1.3 MB trace). take(n) gives an arena of n bytes, a reused one with its old
 * contents unless clear (runBatch writes every byte of every tensor view anyway: the inputs are
 * copied and every kernel writes its whole output, the Kernel contract of ops/common.ts, which
 * test/engine/helpers.ts checkBatch checks for every op on garbage-filled arenas); give(a) must only
 * get arenas whose traces nobody reads any more (their views would see a later run's values).
 * Holds at most maxBytes.
 */
export class ArenaCache {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private held = 0;

  constructor(readonly maxBytes = 96 << 20) {}

  take(n: number, clear = true): ArrayBuffer {
    const a = this.free.get(n)?.pop();
    if (!a) return new ArrayBuffer(n);
    this.held -= n;
    if (clear) new Uint8Array(a).fill(0);
    return a;
  }

  give(a: ArrayBuffer): void {
    const n = a.byteLength; // 0 once detached (transferred away)
    if (n === 0 || this.held + n > this.maxBytes) return;
    let list = this.free.get(n);
    if (!list) this.free.set(n, (list = []));
    if (list.includes(a)) return;
    list.push(a);
    this.held += n;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.held;
  }
}

/** Bytes of trace one stacked run aims to stay within (its tensors stay in cache between ops). */
const CHUNK_BYTES = 8 << 20;

/** Items per stacked run of runBatch for this model: MAX_BATCH, fewer for large traces. */
export function batchChunk(p: PreparedModel): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(CHUNK_BYTES / Math.max(1, p.arenaBytes))));
}

/** Items per stacked run of runBatch (larger batches are split into chunks of this many). */
export const MAX_BATCH = 256;

function runChunk(p: PreparedModel, batch: readonly (readonly TensorData[])[], arenas?: ArenaCache): Trace[] {
  return arenaTraces(p, runStacked(p, batch, arenas), batch.length);
}

/**
 * runBatch's graph outputs only, without the per-item traces (the honest batch path commits and keeps only the
 * outputs, docs/protocol.md §Commitments): one array per graph output with every item's tensor back to back
 * (a copy: the arenas go back to opts.arenas at once), dtype and shape those of one item, the layout of
 * src/parallel/flat.ts. Element for element runBatch(p, batch)[b][outputs[t]] = out[t].data[b·n .. (b+1)·n).
 */
export function runBatchOutputs(p: PreparedModel, batch: readonly (readonly TensorData[])[], opts: { arenas?: ArenaCache } = {}): TensorData[] {
  const m = p.model;
  const B = checkBatch(p, batch);
  const outs = m.outputs.map((id) => {
    const t = m.tensors[id];
    return { dtype: t.dtype, shape: t.shape.slice(), data: new CTOR[t.dtype](B * p.sizes[id]) } as TensorData;
  });
  const chunk = batchChunk(p);
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const items = b0 === 0 && B <= chunk ? batch : batch.slice(b0, b0 + chunk);
    const n = items.length;
    const arena = runStacked(p, items, opts.arenas);
    m.outputs.forEach((id, t) => {
      const size = p.sizes[id];
      (outs[t].data as Int32Array).set(new CTOR[m.tensors[id].dtype](arena, n * p.offsets[id], n * size) as Int32Array, b0 * size);
    });
    opts.arenas?.give(arena);
  }
  return outs;
}

/** Runs one chunk's kernels on the stacked tensors; returns the arena (runBatch's layout, see arenaTraces). */
function runStacked(p: PreparedModel, batch: readonly (readonly TensorData[])[], arenas?: ArenaCache): ArrayBuffer {
  const m = p.model;
  const B = batch.length;
  const { offsets, sizes } = p;
  const tensors = m.tensors;
  // A reused arena is not cleared: every byte of every tensor below is written (inputs, then each output).
  const arena = arenas ? arenas.take(p.arenaBytes * B, false) : new ArrayBuffer(p.arenaBytes * B);
  // Tensor id's B items are contiguous, starting at B·offsets[id] (offsets are multiples of 8).
  const stacked: TensorData[] = new Array(tensors.length);
  for (let i = 0; i < m.inputs.length; i++) {
    const st = (stacked[i] = stackedView(tensors[i], arena, B * offsets[i], B * sizes[i]));
    const n = sizes[i];
    for (let b = 0; b < B; b++) (st.data as Int32Array).set(batch[b][i].data as Int32Array, b * n);
  }
  const steps = p.steps;
  for (let s = 0; s < steps.length; s++) {
    const st = steps[s];
    const ins = new Array<TensorData>(st.inputs.length);
    for (let j = 0; j < ins.length; j++) ins[j] = stacked[st.inputs[j]];
    const id = st.output;
    const out = (stacked[id] = stackedView(tensors[id], arena, B * offsets[id], B * sizes[id]));
    if (st.kernel.batch) st.kernel.batch(ins, out, B);
    else {
      for (let b = 0; b < B; b++) {
        const insB = new Array<TensorData>(ins.length);
        for (let j = 0; j < ins.length; j++) insB[j] = itemOf(ins[j], b, sizes[st.inputs[j]]);
        st.kernel(insB, itemOf(out, b, st.size));
      }
    }
  }
  return arena;
}

/**
 * The B traces of one runBatch chunk from its arena (the layout runBatch writes: tensor id's B items
 * contiguous from B·offsets[id]). For moving a chunk between threads as one ArrayBuffer
 * (src/parallel/pool.ts): arenaOf(traces) there, arenaTraces here.
 */
export function arenaTraces(p: PreparedModel, arena: ArrayBuffer, B: number): Trace[] {
  const tensors = p.model.tensors;
  const { offsets, sizes } = p;
  if (!(arena instanceof ArrayBuffer) || !Number.isInteger(B) || B < 1 || B > MAX_BATCH || arena.byteLength !== p.arenaBytes * B) {
    throw new EngineInputError({ input: 'arena', expected: `an ArrayBuffer of ${p.arenaBytes} bytes × B items (1 ≤ B ≤ ${MAX_BATCH})`, got: `${arena instanceof ArrayBuffer ? arena.byteLength + ' bytes' : typeof arena}, B = ${B}` });
  }
  const T = tensors.length;
  const traces: TensorData[][] = new Array(B);
  for (let b = 0; b < B; b++) traces[b] = new Array<TensorData>(T);
  // Tensor by tensor, one constructor a loop (a view per item: ~50 ns each, most of a small model's batch glue; the
  // CTOR[dtype] lookup made each construction a generic one).
  for (let id = 0; id < T; id++) {
    const { dtype, shape } = tensors[id];
    const n = sizes[id];
    const base = B * offsets[id];
    if (dtype === 'i8') for (let b = 0; b < B; b++) traces[b][id] = { dtype, shape: shape.slice(), data: new Int8Array(arena, base + b * n, n) };
    else if (dtype === 'u8') for (let b = 0; b < B; b++) traces[b][id] = { dtype, shape: shape.slice(), data: new Uint8Array(arena, base + b * n, n) };
    else for (let b = 0; b < B; b++) traces[b][id] = { dtype, shape: shape.slice(), data: new Int32Array(arena, base + b * n * 4, n) };
  }
  return traces;
}

/** The graph outputs of a trace, in QModel.outputs order. */
export function outputsOf(p: PreparedModel, trace: Trace): TensorData[] {
  return p.model.outputs.map((id) => trace[id]);
}
