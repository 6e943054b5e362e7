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

export function calibrate(
  graph: FloatGraph,
  feeds: Record<string, FTensor>[],
  onProgress?: CalibrationProgress,
): Map<string, Range> {
  const ranges = new Map<string, Range>();
  const softmaxInputs = new Set(graph.nodes.filter((n) => n.op === 'Softmax').map((n) => n.inputs[0]));
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
      const maskable = softmaxInputs.has(name);
      for (let k = 0; k < d.length; k++) {
        const v = d[k];
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
  return ranges;
}
