/**
 * Calibration: run the folded float graph on representative rows and record each tensor's range.
 * Ranges are plain min/max. In a Softmax input, values at or below MASK_FLOOR are left out:
 * exporters write attention masks as large negative constants (−1e4, −1e9, −inf) that stand for
 * "−∞", and letting them set the scale would spend the whole int8 range on the mask. Elsewhere a
 * large negative value is a real value and counts.
 */
import type { FloatGraph } from './graph.js';
import type { FTensor } from './tensor.js';
import { runFloat } from './floatexec.js';

export const MASK_FLOOR = -1000;

export interface Range {
  min: number;
  max: number;
  /** Some value was at or below MASK_FLOOR (a masked position). */
  masked: boolean;
}

export interface CalibrationProgress {
  (done: number, total: number): void;
}

/**
 * Tensors that reach a Softmax input only through additive masking and data movement (Add,
 * Reshape, Transpose, Expand, Slice, Concat, Mul by a constant): an attention mask on its way to the
 * scores, such as Hugging Face's `(1 − mask) · finfo.min` or `· −1e4`. In those, values at or
 * below MASK_FLOOR mean "masked" too (see maskRanges); anywhere else they are real values.
 */
function maskFeeders(graph: FloatGraph, softmaxInputs: ReadonlySet<string>): Set<string> {
  const PASS = new Set(['Add', 'Reshape', 'Transpose', 'Expand', 'Slice', 'Concat', 'Mul', 'Unsqueeze', 'Squeeze']);
  const out = new Set<string>();
  let frontier = [...softmaxInputs];
  const producer = new Map<string, (typeof graph.nodes)[number]>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const t of frontier) {
      const p = producer.get(t);
      if (!p || !PASS.has(p.op)) continue;
      const dyn = p.inputs.filter((i) => i && !graph.consts.has(i));
      if (p.op === 'Mul' && dyn.length !== 1) continue;
      for (const i of dyn) {
        if (!out.has(i) && !softmaxInputs.has(i)) {
          out.add(i);
          next.push(i);
        }
      }
    }
    frontier = next;
  }
  return out;
}

export function calibrate(
  graph: FloatGraph,
  feeds: Record<string, FTensor>[],
  onProgress?: CalibrationProgress,
): Map<string, Range> {
  const ranges = new Map<string, Range>();
  const softmaxInputs = new Set(graph.nodes.filter((n) => n.op === 'Softmax').map((n) => n.inputs[0]));
  const maskPaths = maskFeeders(graph, softmaxInputs);
  feeds.forEach((feed, i) => {
    const values = runFloat(graph, feed, { keep: 'all' });
    for (const [name, t] of values) {
      if (t.dtype !== 'float32' || graph.consts.has(name)) continue;
      let r = ranges.get(name);
      if (!r) {
        r = { min: Infinity, max: -Infinity, masked: false };
        ranges.set(name, r);
      }
      const d = t.data;
      const maskable = softmaxInputs.has(name) || maskPaths.has(name);
      for (let k = 0; k < d.length; k++) {
        const v = d[k];
        if (v === -Infinity || v === Infinity) {
          // ±∞ (a run-time mask's −inf) has no int8 value of its own: see maskRanges below.
          r.masked = true;
          continue;
        }
        if (maskable && v <= MASK_FLOOR) {
          r.masked = true;
          continue;
        }
        if (v < r.min) r.min = v;
        if (v > r.max) r.max = v;
      }
    }
    onProgress?.(i + 1, feeds.length);
  });
  for (const r of ranges.values()) {
    if (r.min === Infinity) {
      r.min = 0;
      r.max = 0;
    }
  }
  // A tensor that held ±∞ outside a Softmax input (a mask built at run time, Where(mask, −inf, 0))
  // gets its range extended to −3G, G the largest finite |value| of the graph: its −128 then stands
  // for "−∞" — added to any tensor it takes the sum below that tensor's range (the sum saturates,
  // and a Softmax reading it sees −128 = masked), while its finite values (0) stay exact.
  let G = 0;
  for (const r of ranges.values()) G = Math.max(G, Math.abs(r.min), Math.abs(r.max));
  for (const [name, r] of ranges) {
    if (r.masked && !softmaxInputs.has(name)) r.min = Math.min(r.min, -3 * Math.max(G, 1));
  }
  return ranges;
}
