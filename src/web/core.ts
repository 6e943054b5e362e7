/**
 * What the browser page does, without the DOM: decode a .vqm model, run rows, commit the traces, and
 * check a claimed trace root against a re-execution. The same engine, commitment and input-quantization
 * source as the node (src/engine, src/commit, src/onnx/io.ts); nothing here touches Node APIs.
 */
import { bytesEqual, inputHashOf, keccakBackend, keccakReady, modelRootHex, outputHashOf, rootFromHex, traceRootHex } from '../commit/index.js';
import { allocate, decodeModel, prepareModel, runModel, wasmGemmAvailable, type DType, type PreparedModel, type QModel, type TensorData } from '../engine/index.js';
import { argmax, dequantizeOutput } from '../onnx/io.js';
import { quantizeInputs, type InputsSpec } from '../onnx/inputs.js';
import type { TaskClaimView } from '../views/claim.js';
import { tensorFromJson, type TensorJson } from '../views/tensor.js';

/**
 * The inputs of one run: a row (several graph inputs back to back), one row per graph input in order, or an object
 * keyed by graph-input name (src/onnx/inputs.ts).
 */
export type RunInput = InputsSpec;

export interface LoadedModel {
  name: string;
  modelRoot: string;
  model: QModel;
  prepared: PreparedModel;
  /** Values per input row (the flattened shape of input 0). */
  inputSize: number;
  inputDtype: string;
}

export interface RowResult {
  argmax: number;
  /** Output 0, dequantized (scale · (q − zeroPoint)). */
  values: number[];
  /** Output 0, the raw integers. */
  output: number[];
  traceRoot: string;
}

export interface Claim {
  /** URL of the .vqm bytes (relative to the page), when the claim names its model. */
  model?: string;
  /** The model root the claim was made against (checked when given). */
  modelRoot?: string;
  /** The inputs of one run (floats, or ids for token models): a row, one row per graph input, or an object by input name. */
  input: RunInput;
  /** The committed trace root. */
  traceRoot: string;
}

export interface CheckResult {
  match: boolean;
  modelRootMatch: boolean | null;
  claimed: string;
  computed: string;
  result: RowResult;
}

/** Decodes and prepares a .vqm model; computes its root. */
export async function loadModel(bytes: Uint8Array): Promise<LoadedModel> {
  await keccakReady;
  const model = decodeModel(bytes);
  const prepared = prepareModel(model);
  const t = model.tensors[model.inputs[0]];
  return {
    name: model.name,
    modelRoot: modelRootHex(model),
    model,
    prepared,
    inputSize: t.shape.reduce((a, b) => a * b, 1),
    inputDtype: t.dtype,
  };
}

/** Runs one row (or the inputs of one run of a several-input model): quantize, execute, commit. */
export function runRow(m: LoadedModel, row: RunInput): RowResult {
  const { outputs: _all, ...r } = runTensors(m, quantizeInputs(m.model, row));
  return r;
}

/** Runs already quantized input tensors (in model order): execute, commit. */
export function runTensors(m: LoadedModel, inputs: readonly TensorData[]): RowResult & { outputs: TensorData[] } {
  const trace = runModel(m.prepared, inputs);
  const out = trace[m.model.outputs[0]];
  return {
    argmax: argmax(out.data),
    values: Array.from(dequantizeOutput(m.model, out)),
    output: Array.from(out.data),
    traceRoot: traceRootHex(trace),
    outputs: m.model.outputs.map((id) => trace[id]),
  };
}

/** Runs one row without committing (the timed part of the benchmark). */
export function executeRow(m: LoadedModel, row: RunInput): void {
  runModel(m.prepared, quantizeInputs(m.model, row));
}

export interface TimingOptions {
  /** Timed rounds (default 15); the result is one ms-per-row figure per round. */
  rounds?: number;
  /** Each round cycles through the rows until at least this long (default 20 ms), so timer resolution does not matter. */
  minRoundMs?: number;
  /** Time runRow (with the trace commitment) instead of executeRow. */
  commit?: boolean;
}

/**
 * Milliseconds per row, one figure per round, after one warm-up pass over the rows. The same loop runs in
 * Node and in the page (bench/browser.ts), so the two differ only in the runtime.
 */
export function timeRows(m: LoadedModel, rows: readonly RunInput[], opts: TimingOptions = {}): number[] {
  const step = opts.commit ? (r: RunInput) => void runRow(m, r) : (r: RunInput) => executeRow(m, r);
  for (const r of rows) step(r);
  const minMs = opts.minRoundMs ?? 20;
  const perRow: number[] = [];
  for (let k = 0; k < (opts.rounds ?? 15); k++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      for (const r of rows) step(r);
      n += rows.length;
      t = performance.now();
    } while (t - t0 < minMs);
    perRow.push((t - t0) / n);
  }
  return perRow;
}

/** Re-executes a claim's input and compares the trace root (and the model root, when the claim has one). */
export function checkClaim(m: LoadedModel, claim: Claim): CheckResult {
  const result = runRow(m, claim.input);
  const claimed = claim.traceRoot.toLowerCase();
  let match = false;
  try {
    match = bytesEqual(rootFromHex(claimed), rootFromHex(result.traceRoot));
  } catch {
    match = false; // not a 32-byte hex root: cannot match
  }
  const modelRootMatch = claim.modelRoot === undefined ? null : claim.modelRoot.toLowerCase() === m.modelRoot.toLowerCase();
  return { match: match && modelRootMatch !== false, modelRootMatch, claimed, computed: result.traceRoot, result };
}

/** Parses an input: one row, a list of rows, or {"x": rows}. Throws Error with a readable message. */
export function parseRows(text: string): number[][] {
  const runs = parseRuns(text);
  if (!runs.every((r): r is number[] => Array.isArray(r) && r.every((n) => typeof n === 'number'))) throw new Error('Input must be a row of numbers, a list of rows, or {"x": rows}.');
  return runs;
}

/**
 * Parses the inputs of one or more runs: a row, a list of rows, or {"x": rows}; for a model with several graph inputs
 * (`m` given) also an object keyed by input name ({"ids": [..], "mask": [..]}), a list of such objects, or one row per
 * graph input ([[ids..], [mask..]], told apart from a list of back-to-back rows by the row lengths). Throws Error with
 * a readable message.
 */
export function parseRuns(text: string, m?: LoadedModel): RunInput[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`Input is not valid JSON: ${(e as Error).message}`);
  }
  const isObj = (r: unknown): r is Record<string, number[]> => r !== null && typeof r === 'object' && !Array.isArray(r);
  if (isObj(v) && 'x' in v) v = (v as { x: unknown }).x;
  const isRow = (r: unknown): r is number[] => Array.isArray(r) && r.every((n) => typeof n === 'number');
  const isNamed = (r: unknown): r is Record<string, number[]> => isObj(r) && Object.values(r).every(isRow);
  if (isRow(v) || isNamed(v)) return [v];
  if (Array.isArray(v) && v.length > 0 && v.every(isNamed)) return v;
  if (Array.isArray(v) && v.length > 0 && v.every(isRow)) {
    const model = m?.model;
    if (model && model.inputs.length > 1 && v.length === model.inputs.length) {
      const sizes = model.inputs.map((id) => model.tensors[id].shape.reduce((a, b) => a * b, 1));
      if (v.every((r, k) => r.length === sizes[k])) return [v]; // one run, one row per graph input
    }
    return v;
  }
  throw new Error('Input must be a row of numbers, a list of rows, {"x": rows}, or an object keyed by input name.');
}

/** Which backends run in this runtime. */
export function backends(): { gemm: 'wasm-simd' | 'js'; keccak: 'wasm' | 'js' } {
  return { gemm: wasmGemmAvailable() ? 'wasm-simd' : 'js', keccak: keccakBackend() };
}

// ── a committed task of the network, as the local node reads it from the chain (GET /tasks/:id/claim) ──────────

/** The node's answer to GET /tasks/:id/claim (the zod schema in src/views/claim.ts is the reference). */
export type TaskClaim = TaskClaimView;
export type { TensorJson };

export interface TaskCheck {
  /** Outputs, model root and input commitment all agree with this tab's re-execution. */
  match: boolean;
  taskId: string;
  /** The committed output digest (0x07) and this tab's (no trace root is committed: docs/protocol.md §Commitments). */
  claimed: string;
  computed: string;
  modelRoot: { claimed: string; computed: string; match: boolean };
  /** The served input tensors hash to the on-chain input commitment (0x06 digest). */
  inputHash: { claimed: string; computed: string; match: boolean };
  /** The committed outputs hash to the committed output digest (0x07). */
  outputHash: { claimed: string; computed: string; match: boolean };
  /** This tab's outputs (all of them) hash to the committed output digest. */
  outputMatch: boolean;
  /** Output 0 as committed (raw integers). */
  committedOutput: number[];
  result: RowResult;
}

function fail(what: string): never {
  throw new Error(`The node's claim is malformed: ${what}.`);
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const DTYPES: readonly string[] = ['i8', 'u8', 'i32'];

function tensorJsonOf(v: unknown, where: string): TensorJson {
  const t = v as TensorJson;
  if (!t || typeof t !== 'object') fail(`${where} is not a tensor`);
  if (!DTYPES.includes(t.dtype)) fail(`${where}.dtype is ${JSON.stringify(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d > 0)) fail(`${where}.shape`);
  if (!Array.isArray(t.data) || !t.data.every(Number.isInteger)) fail(`${where}.data`);
  if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) fail(`${where} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  return t;
}

/** Checks the shape of a node's claim (what the page relies on); throws a readable Error. */
export function parseTaskClaim(v: unknown): TaskClaim {
  const c = v as TaskClaim;
  if (!c || typeof c !== 'object') fail('not an object');
  if (typeof c.taskId !== 'string' || typeof c.status !== 'string') fail('taskId / status');
  if (!c.model || !HEX32.test(c.model.root)) fail('model.root');
  if (!c.input || !HEX32.test(c.input.hash) || !Array.isArray(c.input.tensors)) fail('input');
  c.input.tensors.forEach((t, i) => tensorJsonOf(t, `input.tensors[${i}]`));
  if (c.commit !== null) {
    if (!c.commit || !HEX32.test(c.commit.outputHash) || !Array.isArray(c.commit.outputs)) fail('commit');
    c.commit.outputs.forEach((t, i) => tensorJsonOf(t, `commit.outputs[${i}]`));
  }
  return c;
}

export { tensorFromJson };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Checks a committed task against this tab: the model bytes hash to the claimed model root, the served inputs to
 * the on-chain input digest, the committed outputs to the committed output digest; then re-executes the inputs and
 * compares its outputs' digest with the committed one (the whole claim: the trace is a function of model and inputs).
 */
export function checkTask(m: LoadedModel, claim: TaskClaim): TaskCheck {
  if (!claim.commit) throw new Error(`Task ${claim.taskId} has no committed result yet (status: ${claim.status}).`);
  if (claim.input.tensors.length === 0) throw new Error(`Task ${claim.taskId} posted only its input commitment; the inputs are not on chain, so this tab cannot re-execute it.`);
  const inputs = claim.input.tensors.map(tensorFromJson);
  const outputs = claim.commit.outputs.map(tensorFromJson);
  const result = runTensors(m, inputs);
  const claimed = claim.commit.outputHash.toLowerCase();
  const modelRoot = { claimed: claim.model.root.toLowerCase(), computed: m.modelRoot.toLowerCase(), match: same(claim.model.root, m.modelRoot) };
  const inHash = inputHashOf(inputs);
  const outHash = outputHashOf(outputs);
  const inputHash = { claimed: claim.input.hash.toLowerCase(), computed: inHash, match: same(claim.input.hash, inHash) };
  const outputHash = { claimed: claim.commit.outputHash.toLowerCase(), computed: outHash, match: same(claim.commit.outputHash, outHash) };
  const committed = outputs[0] ? Array.from(outputs[0].data) : [];
  const computed = outputHashOf(result.outputs);
  const outputMatch = same(claimed, computed);
  return {
    match: outputMatch && modelRoot.match && inputHash.match && outputHash.match,
    taskId: claim.taskId,
    claimed,
    computed,
    modelRoot,
    inputHash,
    outputHash,
    outputMatch,
    committedOutput: committed,
    result: { argmax: result.argmax, values: result.values, output: result.output, traceRoot: result.traceRoot },
  };
}
