/**
 * Witness builder for the on-chain one-step verifier (contracts/verifier/OneStepVerifier.sol):
 *  - `dependencies`: which elements of each input and param one output element reads;
 *  - `buildOneStep`: the `OneStep` struct (viem-encodable: bigint / Hex) with the multiproofs;
 *  - `computeElementTs`: the contract's whole path (proof checks + recomputation) in TypeScript,
 *    from the witness only, for debugging and as a cross-check.
 * Formats: docs/protocol.md §Commitments; semantics: docs/ops.md.
 */
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import type { QModel, Trace } from '../engine/ir.js';
import {
  bytesEqual,
  commitModel,
  decodeElement,
  decodeNodeHeader,
  elementSize,
  leafCountOfBytes,
  ModelCommitment,
  nodeHeaderOf,
  rootFromModelNodeProof,
  rootFromWordsProof,
  TensorCommitment,
  tensorRootFromDataRoot,
  type ElementRange,
  type NodeHeader,
  type WordsProof,
} from '../commit/index.js';
import { computeOp, numel, reductionOf, searchUp, VerifierOpError, type OperandKind, type Reduction } from './ops.js';

/** Element ranges [start, count) each input and param of a node reads (an empty list = not read). */
export interface Dependencies {
  inputs: ElementRange[][];
  params: ElementRange[][];
}

/** Solidity `WordsProof`. */
export interface WordsProofArg {
  leafCount: bigint;
  indices: bigint[];
  words: Hex[];
  siblings: Hex[];
}

/** Solidity `OneStep`. */
export interface OneStepArg {
  node: { index: bigint; count: bigint; header: Hex; paramRoots: Hex[]; siblings: Hex[] };
  inputs: WordsProofArg[];
  params: WordsProofArg[];
  outputIndex: bigint;
}

export interface OneStepWitness {
  modelRoot: Hex;
  /** tensorRoot of each input of the node (header order): the `inputTensorRoots` argument. */
  inputTensorRoots: Hex[];
  step: OneStepArg;
  /** The tensor id the node writes. */
  outputTensorId: number;
  /** The element's value in the trace (what the contract must return for an honest trace). */
  expected: bigint;
  deps: Dependencies;
}

/** An input or param proof that is not opened (no indices): the verifier skips it. */
export const EMPTY_PROOF: WordsProofArg = { leafCount: 0n, indices: [], words: [], siblings: [] };

function toRanges(set: Set<number>): ElementRange[] {
  const s = [...set].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const e of s) {
    const last = out[out.length - 1];
    if (last && last[0] + last[1] === e) last[1] += 1;
    else out.push([e, 1]);
  }
  return out;
}

/** (op, operand) pairs whose read indices depend on trace values: without a trace the whole tensor. */
function valueDependent(h: NodeHeader, kind: OperandKind, which: number): boolean {
  if (kind === 'param') {
    const name = h.params[which].name;
    if (h.op === 'Lut' && name === 'table') return true;
    if (h.op === 'Softmax' && name === 'exp') return true;
    if (h.op === 'Gather' && name === 'data') return true;
    return false;
  }
  // Gather's data input read through a param indices tensor is known from the model alone.
  return false;
}

function checkNode(model: QModel, nodeIndex: number, outputIndex: number): void {
  const node = model.nodes[nodeIndex];
  if (!node) throw new VerifierOpError(`Node index ${nodeIndex} is out of range.`, { details: `model has ${model.nodes.length} nodes` });
  const n = numel(model.tensors[node.output].shape);
  if (!Number.isInteger(outputIndex) || outputIndex < 0 || outputIndex >= n) {
    throw new VerifierOpError(`Output index ${outputIndex} is out of range.`, { details: `node ${nodeIndex} (${node.name}) output has ${n} elements` });
  }
}

/**
 * The elements output element `outputIndex` of node `nodeIndex` reads, per input and param (header
 * order, params sorted by name), as merged contiguous ranges: for Linear the K-long input row and
 * weight row; for an NHWC Conv KH runs of KW·C (group 1, dilation 1). With `trace`, exact (also for
 * value-dependent reads: Lut table entry, Softmax exp entries, Gather data row); without it, the whole
 * tensor for those value-dependent operands.
 */
export function dependencies(model: QModel, nodeIndex: number, outputIndex: number, trace?: Trace): Dependencies {
  checkNode(model, nodeIndex, outputIndex);
  const node = model.nodes[nodeIndex];
  const h = nodeHeaderOf(model, nodeIndex);
  const ins = h.inputs.map(() => new Set<number>());
  const ps = h.params.map(() => new Set<number>());
  computeOp(
    h,
    (kind, which, e) => {
      if (kind === 'input') {
        ins[which].add(e);
        return trace ? BigInt(trace[node.inputs[which]].data[e]) : 0n;
      }
      ps[which].add(e);
      return BigInt(node.params[h.params[which].name].data[e]);
    },
    outputIndex,
  );
  const whole = (n: number): ElementRange[] => [[0, n]];
  return {
    inputs: ins.map((s, i) => (!trace && s.size > 0 && valueDependent(h, 'input', i) ? whole(numel(h.inputMeta[i].shape)) : toRanges(s))),
    params: ps.map((s, j) => (!trace && s.size > 0 && valueDependent(h, 'param', j) ? whole(numel(h.params[j].shape)) : toRanges(s))),
  };
}

function proofArg(p: WordsProof): WordsProofArg {
  return {
    leafCount: BigInt(p.leafCount),
    indices: p.indices.map(BigInt),
    words: p.words.map((w) => bytesToHex(w)),
    siblings: p.siblings.map((s) => bytesToHex(s)),
  };
}

const modelCache = new WeakMap<QModel, ModelCommitment>();

/** The model's commitment, built once per model object. */
export function modelCommitmentOf(model: QModel): ModelCommitment {
  let mc = modelCache.get(model);
  if (!mc) {
    mc = commitModel(model);
    modelCache.set(model, mc);
  }
  return mc;
}

/**
 * The one-step witness for output element `outputIndex` of node `nodeIndex` of a run: node proof
 * (commitModel().proveNode), one multiproof per input and param over exactly the words holding
 * `dependencies(model, nodeIndex, outputIndex, trace)` (an unread operand gets EMPTY_PROOF).
 */
export function buildOneStep(
  model: QModel,
  trace: Trace,
  nodeIndex: number,
  outputIndex: number,
  opts: { commitment?: ModelCommitment; tensors?: Map<number, TensorCommitment> } = {},
): OneStepWitness {
  const deps = dependencies(model, nodeIndex, outputIndex, trace);
  const mc = opts.commitment ?? modelCommitmentOf(model);
  const node = model.nodes[nodeIndex];
  const { step, inputTensorRoots } = stepOf(model, trace, nodeIndex, outputIndex, mc, opts.tensors, deps);
  return {
    modelRoot: bytesToHex(mc.root),
    inputTensorRoots,
    step,
    outputTensorId: node.output,
    expected: BigInt(trace[node.output].data[outputIndex]),
    deps,
  };
}

function wordsProofFromArg(p: WordsProofArg): WordsProof {
  return {
    leafCount: Number(p.leafCount),
    indices: p.indices.map(Number),
    words: p.words.map((w) => hexToBytes(w)),
    siblings: p.siblings.map((s) => hexToBytes(s)),
  };
}

const isEmpty = (p: WordsProofArg): boolean => p.indices.length === 0 && p.words.length === 0 && p.siblings.length === 0;

/**
 * The contract's computeElement in TypeScript, from the witness only: checks the node proof against
 * `modelRoot`, every opened proof against its tensorRoot (dtype/shape from the header, leafCount from
 * the element count), then recomputes the element from the proven words. Throws VerifierOpError (or
 * the commit layer's ProofError) where the contract reverts.
 */
export function computeElementTs(modelRoot: Hex, inputTensorRoots: readonly Hex[], step: OneStepArg): { outputTensorId: number; value: bigint } {
  const header = hexToBytes(step.node.header);
  const paramRoots = step.node.paramRoots.map((r) => hexToBytes(r));
  const root = rootFromModelNodeProof({
    count: Number(step.node.count),
    index: Number(step.node.index),
    header,
    paramRoots,
    siblings: step.node.siblings.map((s) => hexToBytes(s)),
  });
  if (!bytesEqual(root, hexToBytes(modelRoot))) throw new VerifierOpError('VerifierNodeNotInModel', { details: `computed ${bytesToHex(root)}, modelRoot ${modelRoot}` });
  const h = decodeNodeHeader(header);
  if (inputTensorRoots.length !== h.inputs.length || step.inputs.length !== h.inputs.length) throw new VerifierOpError('VerifierInputCount');
  if (step.params.length !== h.params.length) throw new VerifierOpError('VerifierParamProofCount');
  const check = (p: WordsProofArg, dtype: NodeHeader['outputMeta']['dtype'], shape: number[], expected: Uint8Array, what: string): void => {
    if (isEmpty(p)) return;
    const lc = leafCountOfBytes(numel(shape) * elementSize(dtype));
    if (Number(p.leafCount) !== lc) throw new VerifierOpError('VerifierLeafCount', { details: `${what}: expected ${lc}, got ${p.leafCount}` });
    const r = tensorRootFromDataRoot(dtype, shape, rootFromWordsProof(wordsProofFromArg(p)));
    if (!bytesEqual(r, expected)) throw new VerifierOpError('VerifierTensorRootMismatch', { details: what });
  };
  h.inputMeta.forEach((m, i) => check(step.inputs[i], m.dtype, m.shape, hexToBytes(inputTensorRoots[i]), `input ${i}`));
  h.params.forEach((m, j) => check(step.params[j], m.dtype, m.shape, paramRoots[j], `param ${j} (${m.name})`));
  const o = Number(step.outputIndex);
  const nOut = numel(h.outputMeta.shape);
  if (o >= nOut) throw new VerifierOpError('VerifierOutputIndexOutOfRange', { details: `${o} ≥ ${nOut}` });
  const value = computeOp(
    h,
    (kind, which, e) => {
      const p = kind === 'input' ? step.inputs[which] : step.params[which];
      const dtype = kind === 'input' ? h.inputMeta[which].dtype : h.params[which].dtype;
      const es = elementSize(dtype);
      const w = Math.floor((e * es) / 32);
      const k = p.indices.findIndex((x) => x === BigInt(w));
      if (k < 0) throw new VerifierOpError('VerifierElementNotProven', { details: `${kind} ${which} element ${e} (word ${w})` });
      return BigInt(decodeElement(hexToBytes(p.words[k]), dtype, ((e * es) % 32) / es));
    },
    o,
  );
  return { outputTensorId: h.output, value };
}

// ------------------------------------------------------------------------------------ partial sums

/** The accumulator of one element of a run (docs/ops.md §Partial sums): A(0..terms). */
export interface Accumulator {
  terms: number;
  /** prefix[t] = A(t), t = 0 … terms; prefix[terms] finishes to the element. */
  prefix: bigint[];
}

function traceReduction(
  model: QModel,
  trace: Trace,
  nodeIndex: number,
  outputIndex: number,
  record?: { ins: Set<number>[]; ps: Set<number>[] },
): Reduction | undefined {
  checkNode(model, nodeIndex, outputIndex);
  const node = model.nodes[nodeIndex];
  const h = nodeHeaderOf(model, nodeIndex);
  return reductionOf(
    h,
    (kind, which, e) => {
      if (kind === 'input') {
        record?.ins[which].add(e);
        return BigInt(trace[node.inputs[which]].data[e]);
      }
      record?.ps[which].add(e);
      return BigInt(node.params[h.params[which].name].data[e]);
    },
    outputIndex,
  );
}

/** Whether output elements of node `nodeIndex` have partial sums, and how many terms element `outputIndex` adds. */
export function reductionTerms(model: QModel, nodeIndex: number, outputIndex: number): number | undefined {
  const node = model.nodes[nodeIndex];
  if (!node) return undefined;
  const h = nodeHeaderOf(model, nodeIndex);
  return reductionOf(h, () => 0n, outputIndex)?.terms;
}

/**
 * A(0) … A(T) of element `outputIndex` of node `nodeIndex` over the run's own tensors. `total`: the claimant's A(T),
 * whose fixed fields A(0) takes (Softmax: the row max it stated; a challenger bisects against that sequence), by
 * default the true ones.
 */
export function accumulatorOf(model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, total?: bigint): Accumulator {
  const r = traceReduction(model, trace, nodeIndex, outputIndex);
  if (!r) throw new VerifierOpError(`Node ${nodeIndex} (${model.nodes[nodeIndex]?.op}) has no partial sums.`);
  const prefix = [r.init(total ?? r.anchor?.() ?? 0n)];
  for (let t = 0; t < r.terms; t++) prefix.push(prefix[t] + r.partial(t, t + 1, prefix[t]));
  return { terms: r.terms, prefix };
}

function sumProofs(
  model: QModel,
  trace: Trace,
  nodeIndex: number,
  outputIndex: number,
  run: (r: Reduction) => void,
  opts: { commitment?: ModelCommitment; tensors?: Map<number, TensorCommitment> },
): { step: OneStepArg; inputTensorRoots: Hex[] } {
  const node = model.nodes[nodeIndex];
  const h = nodeHeaderOf(model, nodeIndex);
  const rec = { ins: h.inputs.map(() => new Set<number>()), ps: h.params.map(() => new Set<number>()) };
  const r = traceReduction(model, trace, nodeIndex, outputIndex, rec);
  if (!r) throw new VerifierOpError(`Node ${nodeIndex} (${node.op}) has no partial sums.`);
  run(r);
  const mc = opts.commitment ?? modelCommitmentOf(model);
  return stepOf(model, trace, nodeIndex, outputIndex, mc, opts.tensors, { inputs: rec.ins.map(toRanges), params: rec.ps.map(toRanges) });
}

/**
 * The one-step argument of element `outputIndex` of node `nodeIndex` — its node proof and one multiproof per input
 * and param over `ranges` (an operand with none gets EMPTY_PROOF) — and the roots of its input tensors (trace
 * tensor commitments taken from and added to `tensors` when given).
 */
function stepOf(
  model: QModel,
  trace: Trace,
  nodeIndex: number,
  outputIndex: number,
  mc: ModelCommitment,
  tensors: Map<number, TensorCommitment> | undefined,
  ranges: Dependencies,
): { step: OneStepArg; inputTensorRoots: Hex[] } {
  const node = model.nodes[nodeIndex];
  const np = mc.proveNode(nodeIndex);
  const tensor = (id: number): TensorCommitment => {
    let t = tensors?.get(id);
    if (!t) {
      t = new TensorCommitment(trace[id], `trace tensor ${id}`);
      tensors?.set(id, t);
    }
    return t;
  };
  const inputs = node.inputs.map((id, i) => (ranges.inputs[i].length ? proofArg(tensor(id).proveRanges(ranges.inputs[i]).proof) : EMPTY_PROOF));
  const params = mc.paramNames[nodeIndex].map((name, j) =>
    ranges.params[j].length ? proofArg(mc.param(nodeIndex, name).proveRanges(ranges.params[j]).proof) : EMPTY_PROOF,
  );
  return {
    step: { node: nodeArg(np), inputs, params, outputIndex: BigInt(outputIndex) },
    inputTensorRoots: node.inputs.map((id) => bytesToHex(tensor(id).root)),
  };
}

/**
 * The witness of DisputeGame.revealSumTotal / OneStepVerifier.openReduction for element `outputIndex`: the node
 * proof and the params A(0) and finish read (bias, mult, shift …; inputs not opened), with the run's A(T).
 */
export function buildSumOpen(
  model: QModel,
  trace: Trace,
  nodeIndex: number,
  outputIndex: number,
  opts: { commitment?: ModelCommitment; tensors?: Map<number, TensorCommitment>; total?: bigint } = {},
): { step: OneStepArg; total: bigint; terms: number; init: bigint } {
  const acc = accumulatorOf(model, trace, nodeIndex, outputIndex);
  // the total revealed (default the run's own): Softmax's finish reads the exp entry its fields point at
  const total = opts.total ?? acc.prefix[acc.terms];
  let init = 0n;
  const { step } = sumProofs(model, trace, nodeIndex, outputIndex, (r) => {
    init = r.init(total);
    r.finish(total);
  }, opts);
  return { step: { ...step, inputs: step.inputs.map(() => EMPTY_PROOF) }, total, terms: acc.terms, init };
}

/**
 * The witness of DisputeGame.sumStep / OneStepVerifier.computePartial: proofs of what terms [from, to) read, given
 * the claimant's A(from) `left` (Softmax's terms read the exp entries at its stated max; default: the true A(from)).
 */
export function buildSumStep(
  model: QModel,
  trace: Trace,
  nodeIndex: number,
  outputIndex: number,
  from: number,
  to: number,
  opts: { commitment?: ModelCommitment; tensors?: Map<number, TensorCommitment>; left?: bigint } = {},
): { step: OneStepArg; inputTensorRoots: Hex[]; sum: bigint; left: bigint } {
  let sum = 0n;
  const left = opts.left ?? accumulatorOf(model, trace, nodeIndex, outputIndex).prefix[from];
  const w = sumProofs(model, trace, nodeIndex, outputIndex, (r) => {
    sum = r.partial(from, to, left);
  }, opts);
  return { ...w, sum, left };
}

/**
 * The accumulator a claimant defends for element `outputIndex`: A(0 … T−1) of its own run and, as A(T), a total
 * that finishes to the element its trace holds — the true A(T) when the trace is right there; when it is not (a
 * corrupted output element), the least total finishing to that value (finish is non-decreasing: mult ≥ 0), or for a
 * packed row accumulator (LayerNorm, Softmax) the reduction's `defend` (one field moved), so the game goes on to the
 * last chunk, where the re-addition exposes it. No such total: the true one (the reveal then reverts and the claimant
 * can only lose on time).
 */
export function defendedAccumulator(model: QModel, trace: Trace, nodeIndex: number, outputIndex: number): Accumulator {
  const acc = accumulatorOf(model, trace, nodeIndex, outputIndex);
  const r = traceReduction(model, trace, nodeIndex, outputIndex)!;
  const y = BigInt(trace[model.nodes[nodeIndex].output].data[outputIndex]);
  const T = acc.terms;
  if (r.finish(acc.prefix[T]) === y) return acc;
  let lie: bigint | undefined;
  if (r.defend) lie = r.defend(y, acc.prefix[T]);
  else lie = searchUp((v) => r.finish(v), y, -(1n << 62n), 1n << 62n);
  if (lie === undefined) return acc;
  const prefix = acc.prefix.slice();
  prefix[T] = lie;
  return { terms: T, prefix };
}

/** The partial-sum witness builders the dispute client's StateProvider uses (attached to buildOneStep as `.sums`). */
export const sumWitnesses = {
  terms: reductionTerms,
  accumulator: defendedAccumulator,
  /** A challenger's A(0 … T) against the claimant's revealed total (its fixed fields: Softmax's stated row max). */
  against: (model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, total: bigint) =>
    accumulatorOf(model, trace, nodeIndex, outputIndex, total),
  open: (model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, total?: bigint) => buildSumOpen(model, trace, nodeIndex, outputIndex, { total }),
  step: (model: QModel, trace: Trace, nodeIndex: number, outputIndex: number, from: number, to: number, left?: bigint) =>
    buildSumStep(model, trace, nodeIndex, outputIndex, from, to, { left }),
};
buildOneStep.sums = sumWitnesses;

/** The one-step's node argument (the contract's OneStepNode) from a node proof. */
function nodeArg(np: { index: number; count: number; header: Uint8Array; paramRoots: readonly Uint8Array[]; siblings: readonly Uint8Array[] }) {
  return {
    index: BigInt(np.index),
    count: BigInt(np.count),
    header: bytesToHex(np.header),
    paramRoots: np.paramRoots.map((x) => bytesToHex(x)),
    siblings: np.siblings.map((x) => bytesToHex(x)),
  };
}
