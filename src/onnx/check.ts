/**
 * `verity model check`: every node of an ONNX model that will not import, all at once (not only
 * the first), each with its op, its node name, why, and the nearest supported rewrite.
 *
 * The stages of an import each stop at their first error, so the check runs them in a collecting
 * mode: (1) ops the importer does not know at all are listed from the loaded graph, and stood in for
 * by a shape-preserving Identity so the rest of the graph can still be looked at; (2) folding
 * reports every node left in a non-canonical form (fold's collect option); (3) calibration runs on
 * the given rows (or on synthetic ones), and the quantizer reports every node it cannot quantize
 * (quantize's collect option), giving failed nodes placeholder outputs so their readers are tried too.
 */
import type { FNode, FloatGraph } from './graph.js';
import { loadOnnx, type OnnxModel } from './load.js';
import { FLOAT_OPS } from './floatexec.js';
import { foldGraph } from './fold.js';
import { calibrate } from './calibrate.js';
import { quantizeGraph } from './quantize.js';
import { asFolded, feedsOfRow, resolveInputs, type ResolvedInput } from './import.js';
import { OnnxUnsupportedOpError } from './errors.js';
import { rewriteHint } from './support.js';
import { BaseError } from '../errors.js';
import type { FTensor } from './tensor.js';

export interface CheckIssue {
  /** ONNX op type ("<graph>" for a problem of the whole graph). */
  op: string;
  /** Node name in the source model (folded nodes keep their source node's name). */
  node: string;
  /** load: unknown op · fold: a form the importer cannot rewrite · quantize: no integer form · graph. */
  stage: 'load' | 'fold' | 'quantize' | 'graph';
  reason: string;
  /** The nearest rewrite that imports. */
  rewrite: string;
}

export interface CheckReport {
  /** Nodes in the source graph. */
  nodes: number;
  opset: number;
  inputs: { name: string; dtype: string; shape: number[] }[];
  issues: CheckIssue[];
  /** False when a later stage could not run (the list may then be incomplete). */
  complete: boolean;
  notes: string[];
}

export interface CheckOptions {
  /** Non-batch dims per input, in graph-input order (needed for dynamic dims). */
  inputShapes?: number[][];
  /** Calibration rows (flat, inputs back to back); synthetic rows are used when absent. */
  calibration?: number[][];
}

const SYNTHETIC_ROWS = 4;

/** Deterministic pseudo-random values in [−1, 1) for float inputs, 0 for id inputs. */
function syntheticFeeds(inputs: readonly ResolvedInput[]): Record<string, FTensor>[] {
  let seed = 0x9e3779b9;
  const next = () => {
    seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return seed / 2 ** 31 - 1;
  };
  return Array.from({ length: SYNTHETIC_ROWS }, () =>
    Object.fromEntries(
      inputs.map((i) => [
        i.name,
        i.dtype === 'float32'
          ? { dtype: 'float32' as const, shape: i.shape, data: Float32Array.from({ length: i.size }, next) }
          : { dtype: i.dtype, shape: i.shape, data: new Float64Array(i.size) },
      ]),
    ),
  );
}

function reasonOf(e: BaseError): string {
  return e.details ? `${e.shortMessage} (${e.details})` : e.shortMessage;
}

export function checkOnnx(bytes: Uint8Array, opts: CheckOptions = {}, origin = '<bytes>'): CheckReport {
  return checkLoaded(loadOnnx(bytes, origin), opts);
}

export function checkLoaded(model: OnnxModel, opts: CheckOptions = {}): CheckReport {
  const g = model.graph;
  const issues: CheckIssue[] = [];
  const notes: string[] = [];
  const flagged = new Set<string>();
  const report = (complete: boolean, inputs: ResolvedInput[] = []): CheckReport => ({
    nodes: g.nodes.length,
    opset: model.opset,
    inputs: inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape })),
    issues,
    complete,
    notes,
  });
  const known = new Set(FLOAT_OPS.filter((o) => o !== 'Linear'));

  // 1. Ops the importer does not know: listed, then stood in for by an Identity of their first input.
  const nodes: FNode[] = g.nodes.map((n) => {
    if (known.has(n.op)) return n;
    issues.push({ op: n.op, node: n.name, stage: 'load', reason: 'the importer has no such op', rewrite: rewriteHint(n.op) });
    flagged.add(n.name);
    const src = n.inputs.find((i) => i !== '');
    return src === undefined ? n : { op: 'Identity', name: n.name, inputs: [src], outputs: [n.outputs[0]], attrs: {} };
  });
  const standIns = g.nodes.some((n, i) => nodes[i] !== n);
  if (standIns) notes.push('unknown ops were assumed shape-preserving (Identity) to check the rest of the graph; fix them and check again');
  const graph: FloatGraph = { ...g, nodes };
  const stood: OnnxModel = { ...model, graph };

  let inputs: ResolvedInput[];
  try {
    inputs = resolveInputs(stood, opts.inputShapes);
  } catch (e) {
    if (!(e instanceof BaseError)) throw e;
    issues.push({ op: '<graph>', node: '<inputs>', stage: 'graph', reason: reasonOf(e), rewrite: e.hint ?? 'give the input shapes (--shape)' });
    return report(false);
  }

  // 2. Fold, collecting non-canonical nodes.
  let folded;
  try {
    folded = foldGraph(stood, Object.fromEntries(inputs.map((i) => [i.name, i.shape])), {
      collect: (e) => {
        if (flagged.has(e.nodeName)) return;
        flagged.add(e.nodeName);
        issues.push({ op: e.opType, node: e.nodeName, stage: 'fold', reason: e.reason ?? 'not supported', rewrite: e.rewrite });
      },
    });
  } catch (e) {
    if (!(e instanceof BaseError)) throw e;
    if (e instanceof OnnxUnsupportedOpError) {
      issues.push({ op: e.opType, node: e.nodeName, stage: 'fold', reason: e.reason ?? e.shortMessage, rewrite: e.rewrite });
    } else {
      issues.push({ op: '<graph>', node: '<fold>', stage: 'graph', reason: reasonOf(e), rewrite: e.hint ?? 'see docs/quantization.md' });
    }
    notes.push(standIns ? 'folding failed with the stand-ins in place; the remaining nodes were not checked' : 'folding failed; the remaining nodes were not checked');
    return report(false, inputs);
  }

  // 3. Calibrate and quantize, collecting every node without an integer form.
  try {
    const fin = asFolded(inputs, folded);
    const feeds = opts.calibration ? opts.calibration.map((row, r) => feedsOfRow(fin, row, r)) : syntheticFeeds(fin);
    if (!opts.calibration) notes.push(`no calibration rows given: ${SYNTHETIC_ROWS} synthetic rows were used (scale-dependent limits may differ on real data)`);
    const ranges = calibrate(folded, feeds);
    quantizeGraph(
      folded,
      ranges,
      { name: 'check', onnxSha256: '', opset: model.opset, producer: model.producer },
      {
        known: flagged,
        collect: (n, e) => {
          if (flagged.has(n.name)) return;
          flagged.add(n.name);
          issues.push({ op: e.op ?? n.op, node: e.node ?? n.name, stage: 'quantize', reason: reasonOf(e), rewrite: (e.hint ?? '').replace(/^nearest supported rewrite: /, '') });
        },
      },
    );
  } catch (e) {
    if (!(e instanceof BaseError)) throw e;
    issues.push({ op: '<graph>', node: '<quantize>', stage: 'graph', reason: reasonOf(e), rewrite: e.hint ?? 'see docs/quantization.md' });
    return report(false, inputs);
  }
  return report(true, inputs);
}
