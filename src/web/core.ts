/**
 * What the browser page does, without the DOM: decode a .vqm model, run rows, commit the traces, and
 * check a claimed trace root against a re-execution. The same engine, commitment and input-quantization
 * source as the node (src/engine, src/commit, src/onnx/io.ts); nothing here touches Node APIs.
 */
import { bytesEqual, keccakBackend, keccakReady, modelRootHex, rootFromHex, traceRootHex } from '../commit/index.js';
import { decodeModel, prepareModel, runModel, wasmGemmAvailable, type PreparedModel, type QModel } from '../engine/index.js';
import { argmax, dequantizeOutput, quantizeInput } from '../onnx/io.js';

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
  /** One input row (floats, or ids for token models). */
  input: number[];
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

/** Runs one row: quantize, execute, commit. */
export function runRow(m: LoadedModel, row: readonly number[]): RowResult {
  const trace = runModel(m.prepared, [quantizeInput(m.model, row)]);
  const out = trace[m.model.outputs[0]];
  return {
    argmax: argmax(out.data),
    values: Array.from(dequantizeOutput(m.model, out)),
    output: Array.from(out.data),
    traceRoot: traceRootHex(trace),
  };
}

/** Runs one row without committing (the timed part of the benchmark). */
export function executeRow(m: LoadedModel, row: readonly number[]): void {
  runModel(m.prepared, [quantizeInput(m.model, row)]);
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
export function timeRows(m: LoadedModel, rows: readonly (readonly number[])[], opts: TimingOptions = {}): number[] {
  const step = opts.commit ? (r: readonly number[]) => void runRow(m, r) : (r: readonly number[]) => executeRow(m, r);
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
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`Input is not valid JSON: ${(e as Error).message}`);
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && 'x' in v) v = (v as { x: unknown }).x;
  const isRow = (r: unknown): r is number[] => Array.isArray(r) && r.every((n) => typeof n === 'number');
  if (isRow(v)) return [v];
  if (Array.isArray(v) && v.length > 0 && v.every(isRow)) return v;
  throw new Error('Input must be a row of numbers, a list of rows, or {"x": rows}.');
}

/** Which backends run in this runtime. */
export function backends(): { gemm: 'wasm-simd' | 'js'; keccak: 'wasm' | 'js' } {
  return { gemm: wasmGemmAvailable() ? 'wasm-simd' : 'js', keccak: keccakBackend() };
}
