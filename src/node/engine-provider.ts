/**
 * The small interface between the protocol client and the integer engine (BOLD style): the node asks for a model
 * by its modelRoot, runs it and gets what it commits (`run`: the outputs and their digest — no trace root, issue 13),
 * and what a dispute or an audit needs (`execute`: the whole trace and its traceRoot; a StateProvider over it). A
 * dishonest provider corrupts one element of one op's output in a fraction of its answers (one that changes the
 * outputs) and recomputes everything downstream honestly from the corrupted tensor, like a real liar would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, type Hex } from 'viem';
import { DTYPE_CODES, dtypeFromCode, modelRootHex, outputHashesOfFlat, outputHashOf, tensorBytes, traceRootFromTensorRoots, traceTensorRoots } from '../commit/index.js';
import { traceStateProvider, type StateProvider } from '../dispute/index.js';
import { decodeModel } from '../engine/format.js';
import { allocate, type DType, type QModel, type TensorData, type Trace } from '../engine/ir.js';
import { prepareModel, runBatchOutputs, runModel, type PreparedModel } from '../engine/run.js';
import { itemTensors } from '../parallel/flat.js';
import { BaseError } from '../errors.js';
import { quantizeInput } from '../onnx/import.js';
import { importShipped, MODELS_DIR } from '../onnx/shipped.js';
import { buildOneStep } from '../verifier/index.js';

export class EngineProviderError extends BaseError {
  override name = 'EngineProviderError';
}

export interface LoadedModel {
  root: Hex;
  name: string;
  model: QModel;
  prepared: PreparedModel;
}

export interface Execution {
  outputs: TensorData[];
  trace: Trace;
  traceRoot: Hex;
  /** tensorRoot of every trace tensor, in id order. */
  tensorRoots: Hex[];
  /** Set when a dishonest provider lied on this answer: which tensor and element it changed. */
  corrupted?: { tensorId: number; element: number };
}

/** What a worker commits for one element (LocalEngineProvider.run / runHonestBatch): the outputs and their 0x07 digest. */
export interface HonestResult {
  outputs: TensorData[];
  outputHash: Hex;
}

/** One run as committed (`run`): outputs, their digest, and the lie a dishonest provider told, if any. */
export interface RunResult extends HonestResult {
  corrupted?: { tensorId: number; element: number };
}

/** How a run is made: dishonest providers only — 'honest' never lies, 'lie' always does, a replay re-applies a lie. */
export type RunMode = 'honest' | 'lie' | { replay: { tensorId: number; element: number } };

export interface EngineProvider {
  /** Roots of every model this provider can serve. */
  modelRoots(): Hex[];
  has(root: string): boolean;
  /** The prepared model for `root`; throws EngineProviderError if unknown. */
  loadModel(root: string): LoadedModel;
  /** Runs the model on its (quantized) inputs: what a worker commits (outputs and their digest, no trace root). */
  run(modelRoot: string, inputs: readonly TensorData[], mode?: RunMode): RunResult;
  /** Runs the model and commits to its whole trace (traceRoot): for disputes and audits. */
  execute(modelRoot: string, inputs: readonly TensorData[], mode?: RunMode): Execution;
  /** The dispute game's view of one run. */
  stateProvider(modelRoot: string, trace: Trace): StateProvider;
}

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const SHIPPED_MODELS = ['wine-mlp', 'digits-convnet', 'tiny-gpt'] as const;

/** Imports a shipped model (models/<name>.onnx with its calibration rows). */
export function loadShippedModel(name: string, modelsDir = MODELS_DIR): QModel {
  if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
    throw new EngineProviderError(`Unknown model ${JSON.stringify(name)}.`, { hint: `Shipped models: ${SHIPPED_MODELS.join(', ')}; or give a .vqm file.` });
  }
  return importShipped(name, { modelsDir });
}

/** A model by shipped name or .vqm path. */
export function loadModelSpec(spec: string): QModel {
  if (spec.endsWith('.vqm')) return decodeModel(new Uint8Array(readFileSync(spec)));
  return loadShippedModel(spec);
}

export interface ProviderOptions {
  /** Fraction of answers to corrupt (0 = honest). */
  dishonest?: number;
  /** Random source in [0, 1) (default Math.random); seed it in tests. */
  random?: () => number;
}

/** Re-runs nodes from step `from` on, over `trace` (mutated in place): honest recomputation downstream. */
function runFrom(p: PreparedModel, trace: TensorData[], from: number): void {
  for (let s = from; s < p.steps.length; s++) {
    const st = p.steps[s]!;
    const ins = st.inputs.map((id) => trace[id]!);
    const out: TensorData = { dtype: st.dtype, shape: st.shape.slice(), data: allocate(st.dtype, st.size) };
    st.kernel(ins, out);
    trace[st.output] = out;
  }
}

function rootsOf(trace: Trace): { tensorRoots: Hex[]; traceRoot: Hex } {
  const raw = traceTensorRoots(trace);
  return { tensorRoots: raw.map((r) => bytesToHex(r)), traceRoot: bytesToHex(traceRootFromTensorRoots(raw)) };
}

/** An engine provider over a set of models. */
export class LocalEngineProvider implements EngineProvider {
  private readonly models = new Map<string, LoadedModel>();
  readonly dishonest: number;
  private readonly random: () => number;

  constructor(models: readonly QModel[], opts: ProviderOptions = {}) {
    for (const m of models) this.add(m);
    this.dishonest = opts.dishonest ?? 0;
    this.random = opts.random ?? Math.random;
    if (!(this.dishonest >= 0 && this.dishonest <= 1)) throw new EngineProviderError('dishonest must be a fraction in [0, 1].', { details: String(this.dishonest) });
  }

  add(model: QModel): LoadedModel {
    const prepared = prepareModel(model);
    const last = model.tensors.length - model.outputs.length;
    if (!model.outputs.every((id, i) => id === last + i)) {
      throw new EngineProviderError(`Model ${model.name} cannot be disputed: its outputs are not its last tensors.`, { details: `outputs ${model.outputs.join(', ')}` });
    }
    const root = modelRootHex(model) as Hex;
    const lm: LoadedModel = { root, name: model.name, model, prepared };
    this.models.set(root.toLowerCase(), lm);
    return lm;
  }

  modelRoots(): Hex[] {
    return [...this.models.values()].map((m) => m.root);
  }

  has(root: string): boolean {
    return this.models.has(root.toLowerCase());
  }

  loadModel(root: string): LoadedModel {
    const m = this.models.get(root.toLowerCase());
    if (!m) throw new EngineProviderError(`Model ${root} is not loaded on this node.`, { hint: `Loaded: ${this.modelRoots().join(', ') || 'none'}` });
    return m;
  }

  /** Model by name or root. */
  find(nameOrRoot: string): LoadedModel | undefined {
    const byRoot = this.models.get(nameOrRoot.toLowerCase());
    if (byRoot) return byRoot;
    return [...this.models.values()].find((m) => m.name === nameOrRoot);
  }

  /**
   * Runs the model. `mode` (dishonest providers only): 'honest' never lies, 'lie' always does (a batch worker lies in
   * at most one element); by default a fraction `dishonest` of answers lie.
   */
  execute(modelRoot: string, inputs: readonly TensorData[], mode?: RunMode): Execution {
    const { lm, trace, corrupted } = this.trace(modelRoot, inputs, mode);
    const { tensorRoots, traceRoot } = rootsOf(trace);
    const outputs = lm.model.outputs.map((id) => trace[id]!);
    return { outputs, trace, traceRoot, tensorRoots, ...(corrupted ? { corrupted } : {}) };
  }

  /**
   * The honest path (issue 13): runs the model and hashes only its outputs (their tensorRoots into the 0x07 digest) —
   * no trace root, which costs several times the inference. Same lies as `execute` for the same mode and randomness.
   */
  run(modelRoot: string, inputs: readonly TensorData[], mode?: RunMode): RunResult {
    const { lm, trace, corrupted } = this.trace(modelRoot, inputs, mode);
    const outputs = lm.model.outputs.map((id) => trace[id]!);
    return { outputs, outputHash: outputHashOf(outputs), ...(corrupted ? { corrupted } : {}) };
  }

  private trace(modelRoot: string, inputs: readonly TensorData[], mode?: RunMode): { lm: LoadedModel; trace: TensorData[]; corrupted?: Execution['corrupted'] } {
    const lm = this.loadModel(modelRoot);
    const trace = runModel(lm.prepared, inputs) as TensorData[];
    let corrupted: Execution['corrupted'];
    // A replay re-applies a lie told before (a dishonest worker recomputing the trace it committed, for a dispute).
    const replay = typeof mode === 'object' ? mode.replay : undefined;
    const lie = replay !== undefined || (this.dishonest > 0 && (mode === 'lie' || (mode === undefined && this.random() < this.dishonest)));
    if (lie) {
      const steps = lm.prepared.steps;
      const honest = trace.slice();
      const apply = (s: number, element: number): void => {
        const tensorId = steps[s]!.output;
        const t = honest[tensorId]!;
        const data = t.data.slice();
        const lo = t.dtype === 'i8' ? -128 : t.dtype === 'u8' ? 0 : -(2 ** 31);
        const hi = t.dtype === 'i8' ? 127 : t.dtype === 'u8' ? 255 : 2 ** 31 - 1;
        data[element] = data[element]! < hi ? data[element]! + 1 : lo;
        for (let k = 0; k < trace.length; k++) trace[k] = honest[k]!;
        trace[tensorId] = { dtype: t.dtype, shape: t.shape.slice(), data };
        runFrom(lm.prepared, trace, s + 1);
        corrupted = { tensorId, element };
      };
      if (replay) {
        const s = steps.findIndex((st) => st.output === replay.tensorId);
        if (s < 0) throw new EngineProviderError(`Cannot replay a corruption of tensor ${replay.tensorId}: no step of ${lm.name} outputs it.`);
        apply(s, replay.element);
      } else {
        // A liar lies about its result: the claim is the outputs (no trace root is committed), so a corruption the
        // rest of the run absorbs (a clamped or rounded-away element) is no lie. Up to 16 random sites, then an output
        // element itself.
        const changed = () => lm.model.outputs.some((id) => trace[id]!.data.some((v, i) => v !== honest[id]!.data[i]));
        let told = false;
        for (let attempt = 0; attempt < 16 && !told; attempt++) {
          const s = Math.floor(this.random() * steps.length);
          apply(s, Math.floor(this.random() * honest[steps[s]!.output]!.data.length));
          told = changed();
        }
        if (!told) {
          const s = steps.length - 1;
          apply(s, Math.floor(this.random() * honest[steps[s]!.output]!.data.length));
        }
      }
    }
    return { lm, trace, ...(corrupted ? { corrupted } : {}) };
  }

  /**
   * The honest runs of several input sets (runBatch: each trace is runModel's), with what a batch worker commits per
   * element: the outputs and their outputHash (only the output tensors are hashed). Never lies (a liar's element goes
   * through `run`).
   */
  runHonestBatch(modelRoot: string, items: readonly (readonly TensorData[])[]): HonestResult[] {
    const lm = this.loadModel(modelRoot);
    // The outputs only (no per-item trace), and every element's digest in one call (native/commit.h when the addon is
    // loaded; src/commit/io.ts).
    const flat = runBatchOutputs(lm.prepared, items);
    const hashes = outputHashesOfFlat(flat, items.length);
    return itemTensors(flat, items.length).map((o, k) => ({ outputs: o, outputHash: hashes[k]! }));
  }

  stateProvider(modelRoot: string, trace: Trace): StateProvider {
    return traceStateProvider(this.loadModel(modelRoot).model, trace, buildOneStep);
  }

  /** Quantizes a float row for input `which` of the model. */
  quantize(modelRoot: string, row: readonly number[], which = 0): TensorData {
    return quantizeInput(this.loadModel(modelRoot).model, row, which);
  }
}

// ------------------------------------------------------------------ tensor and trace codecs

/** A tensor as JSON (API bodies, the store). */
export { tensorFromJson, tensorToJson, type TensorJson } from '../views/tensor.js';

/**
 * Trace file format: "VTR1", uint32 count, then per tensor: uint8 dtype code, uint8 rank, uint32 dims…, uint32
 * byte length, element bytes (docs/protocol.md "Element bytes"). Little-endian header fields.
 */
export function encodeTrace(trace: Trace): Uint8Array {
  let total = 8;
  const bodies = trace.map((t) => tensorBytes(t));
  trace.forEach((t, i) => (total += 2 + 4 * t.shape.length + 4 + bodies[i]!.length));
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x56, 0x54, 0x52, 0x31]);
  dv.setUint32(4, trace.length, true);
  let o = 8;
  trace.forEach((t, i) => {
    out[o++] = DTYPE_CODES[t.dtype];
    out[o++] = t.shape.length;
    for (const d of t.shape) {
      dv.setUint32(o, d, true);
      o += 4;
    }
    dv.setUint32(o, bodies[i]!.length, true);
    o += 4;
    out.set(bodies[i]!, o);
    o += bodies[i]!.length;
  });
  return out;
}

export function decodeTrace(bytes: Uint8Array): Trace {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 4)) !== 'VTR1') throw new EngineProviderError('Not a trace file.');
  const n = dv.getUint32(4, true);
  const trace: TensorData[] = [];
  let o = 8;
  for (let i = 0; i < n; i++) {
    const dtype = dtypeFromCode(bytes[o++]!);
    const rank = bytes[o++]!;
    const shape: number[] = [];
    for (let r = 0; r < rank; r++) {
      shape.push(dv.getUint32(o, true));
      o += 4;
    }
    const len = dv.getUint32(o, true);
    o += 4;
    const body = bytes.slice(o, o + len);
    o += len;
    const data =
      dtype === 'i8' ? new Int8Array(body.buffer, body.byteOffset, len) : dtype === 'u8' ? new Uint8Array(body.buffer, body.byteOffset, len) : readI32(body);
    trace.push({ dtype, shape, data });
  }
  return trace;
}

function readI32(body: Uint8Array): Int32Array {
  // Element bytes of i32 are big-endian (docs/protocol.md); decode explicitly.
  const n = body.length / 4;
  const out = new Int32Array(n);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, false);
  return out;
}
