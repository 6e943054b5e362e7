/**
 * Verified text generation with the shipped character-level GPT (models/tiny-gpt.onnx: context 32, vocabulary of
 * 86 characters, input int ids [1, 32], output int8 logits [1, 32, 86]).
 *
 * Generating k characters is k inferences. Step i runs the model on a 32-character window and appends the
 * greedy choice at the window's last position:
 *
 *   - Window rule: the window is the last 32 characters of (prompt ‖ generated so far). A shorter text is
 *     LEFT-PADDED with the pad character ' ' (space, id 3) up to 32 — a prompt of n < 32 characters occupies the
 *     window's last n positions. An empty prompt is a window of 32 spaces.
 *   - Decoding rule: greedy argmax over the int8 logits at position 31 (the last), compared as integers; a tie
 *     goes to the lowest character id. No temperature, no sampling: the text is a function of the prompt.
 *
 * Every step commits its output digest only (no trace root: the trace is a function of model and window, bound in a
 * dispute by the game). The k steps are committed as one batch exactly as the market's batch tasks are
 * (src/chain/positional.ts, TaskMarket.postBatchTask/commitBatch):
 *   inputsRoot = PositionalTree(inputLeaf(i, inputHashOf([window_i]))).root   — what the requester posts
 *   batchRoot  = PositionalTree(resultLeaf(i, outputHashOf(logits_i))).root  — what the worker commits
 * so one generation is verifiable on-chain as one batch task, and any single character can be challenged with the
 * element's proofs (inputTree.proof(i), resultTree.proof(i)).
 */
import type { Hex } from 'viem';
import { inputHashOf, outputHashOf } from '../chain/io.js';
import { inputLeaf, PositionalTree } from '../chain/positional.js';
import { modelRootHex } from '../commit/index.js';
import type { QModel, TensorData } from '../engine/ir.js';
import { outputsOf, prepareModel, runModel, type PreparedModel } from '../engine/run.js';
import { BaseError } from '../errors.js';
import { loadShippedModel } from '../node/engine-provider.js';
import { quantizeInput } from '../onnx/io.js';
import { MODELS_DIR, shippedData } from '../onnx/shipped.js';

export class GenerateError extends BaseError {
  override name = 'GenerateError';
}

/** The pad character of the window rule (see the module comment). */
export const PAD_CHAR = ' ';
/** Largest number of characters one generation may produce (one batch task of this many elements). */
export const MAX_GENERATED = 1024;

export interface TinyGpt {
  model: QModel;
  prepared: PreparedModel;
  modelRoot: Hex;
  /** Character of each id. */
  vocab: string;
  /** Window length (32). */
  context: number;
  padId: number;
}

let cached: TinyGpt | undefined;

/** Imports models/tiny-gpt.onnx (once per process; ~1 s) with its vocabulary. */
export function loadTinyGpt(modelsDir = MODELS_DIR): TinyGpt {
  if (cached) return cached;
  const data = shippedData('tiny-gpt', modelsDir);
  const model = loadShippedModel('tiny-gpt', modelsDir);
  const vocab = data.vocab ?? '';
  const padId = vocab.indexOf(PAD_CHAR);
  if (padId < 0) throw new GenerateError('The tiny-gpt vocabulary has no space character to pad with.');
  cached = { model, prepared: prepareModel(model), modelRoot: modelRootHex(model), vocab, context: data.shape[0]!, padId };
  return cached;
}

/** Character ids of `text`; throws on a character outside the vocabulary. */
export function encode(gpt: TinyGpt, text: string): number[] {
  return [...text].map((c, i) => {
    const id = gpt.vocab.indexOf(c);
    if (id < 0) {
      throw new GenerateError(`Character ${JSON.stringify(c)} is not in tiny-gpt's vocabulary.`, {
        details: `position ${i} of ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`,
        hint: `Use only these characters: ${JSON.stringify(gpt.vocab)} (or sanitize() the text first).`,
      });
    }
    return id;
  });
}

export function decode(gpt: TinyGpt, ids: readonly number[]): string {
  return ids.map((i) => gpt.vocab[i] ?? '').join('');
}

/** Replaces every character outside the vocabulary by the pad character. */
export function sanitize(gpt: TinyGpt, text: string): string {
  return [...text].map((c) => (gpt.vocab.includes(c) ? c : PAD_CHAR)).join('');
}

/** The window rule: the last `context` ids, left-padded with the pad id. */
export function windowOf(gpt: TinyGpt, ids: readonly number[]): number[] {
  const tail = ids.slice(Math.max(0, ids.length - gpt.context));
  return [...new Array<number>(gpt.context - tail.length).fill(gpt.padId), ...tail];
}

/** The decoding rule: argmax of the int8 logits at the last window position (ties → lowest id). */
export function nextId(gpt: TinyGpt, logits: TensorData): number {
  const V = gpt.vocab.length;
  const base = (gpt.context - 1) * V;
  let best = 0;
  for (let v = 1; v < V; v++) if (logits.data[base + v]! > logits.data[base + best]!) best = v;
  return best;
}

export interface GenerationStep {
  index: number;
  /** The 32 ids the model saw. */
  window: number[];
  /** The committed input tensor (i32 [1, 32]). */
  input: TensorData;
  /** The model's outputs (int8 logits [1, 32, 86]). */
  outputs: TensorData[];
  inputHash: Hex;
  outputHash: Hex;
  /** The chosen character id and character. */
  id: number;
  char: string;
}

export interface Generation {
  prompt: string;
  /** The k generated characters. */
  text: string;
  steps: GenerationStep[];
  modelRoot: Hex;
  /** Positional root of inputLeaf(i, inputHash_i): the batch task's input root. */
  inputsRoot: Hex;
  /** Positional root of resultLeaf(i, outputHash_i): the batch commitment. */
  batchRoot: Hex;
  inputTree: PositionalTree;
  resultTree: PositionalTree;
}

/** Generates `k` characters after `prompt` (greedy), one verified inference per character. */
export function generate(gpt: TinyGpt, prompt: string, k: number): Generation {
  if (!Number.isInteger(k) || k < 1 || k > MAX_GENERATED) {
    throw new GenerateError(`Cannot generate ${k} characters.`, { hint: `Give an integer in 1..${MAX_GENERATED}.` });
  }
  const ids = encode(gpt, prompt);
  const steps: GenerationStep[] = [];
  for (let i = 0; i < k; i++) {
    const window = windowOf(gpt, ids);
    const input = quantizeInput(gpt.model, window);
    const trace = runModel(gpt.prepared, [input]);
    const outputs = outputsOf(gpt.prepared, trace);
    const id = nextId(gpt, outputs[0]!);
    steps.push({
      index: i,
      window,
      input,
      outputs,
      inputHash: inputHashOf([input]),
      outputHash: outputHashOf(outputs),
      id,
      char: gpt.vocab[id]!,
    });
    ids.push(id);
  }
  const { inputTree, resultTree } = batchTrees(steps);
  return {
    prompt,
    text: steps.map((s) => s.char).join(''),
    steps,
    modelRoot: gpt.modelRoot,
    inputsRoot: inputTree.root,
    batchRoot: resultTree.root,
    inputTree,
    resultTree,
  };
}

/** The market's positional trees over a generation's elements (identical to postBatchTask's and commitBatch's). */
export function batchTrees(steps: readonly Pick<GenerationStep, 'inputHash' | 'outputHash'>[]): {
  inputTree: PositionalTree;
  resultTree: PositionalTree;
} {
  return {
    inputTree: new PositionalTree(steps.map((s, i) => inputLeaf(i, s.inputHash))),
    resultTree: PositionalTree.ofResults(steps.map((s) => s.outputHash)),
  };
}

/** Re-executes every step of a claimed generation; returns the indices whose commitments or character differ. */
export function verifyGeneration(gpt: TinyGpt, g: Pick<Generation, 'prompt' | 'text' | 'batchRoot' | 'inputsRoot'>): { ok: boolean; mismatches: number[] } {
  const mine = generate(gpt, g.prompt, [...g.text].length);
  const mismatches: number[] = [];
  const claimed = [...g.text];
  mine.steps.forEach((s, i) => {
    if (s.char !== claimed[i]) mismatches.push(i);
  });
  const ok = mismatches.length === 0 && mine.batchRoot === g.batchRoot && mine.inputsRoot === g.inputsRoot;
  return { ok, mismatches };
}
