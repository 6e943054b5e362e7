/** Test models for the dispute game: a chain of Requantize nodes over [1, n] i8 tensors, and corrupted traces. */
import type { QModel, TensorData, Trace } from '../../src/engine/ir.js';
import { prepareModel, runModel } from '../../src/engine/run.js';

export function chainModel(n: number, nodes: number): QModel {
  const t = (id: number) => ({ id, name: `t${id}`, dtype: 'i8' as const, shape: [1, n], scale: 1, zeroPoint: 0, layout: 'plain' as const });
  return {
    format: 'verity-qmodel',
    version: 1,
    name: `chain-${n}x${nodes}`,
    inputs: [0],
    outputs: [nodes],
    tensors: Array.from({ length: nodes + 1 }, (_, i) => t(i)),
    nodes: Array.from({ length: nodes }, (_, i) => ({
      op: 'Requantize' as const,
      name: `rq${i}`,
      inputs: [i],
      output: i + 1,
      attrs: { xZero: 0, yZero: i % 3, mult: 23170 - 1000 * i, shift: 15, lo: -128, hi: 127 },
      params: {},
    })),
    source: { onnxSha256: '', opset: 13, producer: 'test' },
  };
}

export function runChain(model: QModel, seed: number): Trace {
  const n = model.tensors[0]!.shape[1]!;
  const data = new Int8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = (x >>> 0) % 256;
  }
  return runModel(prepareModel(model), [{ dtype: 'i8', shape: [1, n], data }]);
}

/** A copy of `trace` with element `e` of tensor `id` changed. */
export function corrupt(trace: Trace, id: number, e: number, delta = 1): Trace {
  return trace.map((t, i): TensorData => {
    if (i !== id) return t;
    const data = t.data.slice();
    data[e] = (data[e]! + delta) | 0;
    if (t.dtype === 'i8' && data[e] === t.data[e]) data[e] = (data[e]! + 1) | 0;
    return { dtype: t.dtype, shape: t.shape.slice(), data };
  });
}
