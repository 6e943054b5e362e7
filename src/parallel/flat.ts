/** Items' tensors to and from one typed array per position (items back to back): what BatchPool (pool.ts) and its
 *  workers (worker.ts) send each other — inputs one way, outputs the other. */
import type { TensorData } from '../engine/ir.js';

/** Tensor i of every item, back to back in one typed array (a fresh copy), for each position i. */
export function flatTensors(items: readonly (readonly TensorData[])[]): TensorData[] {
  return items[0]!.map((t0, i) => {
    const n = t0.data.length;
    const data = new (t0.data.constructor as new (n: number) => TensorData['data'])(n * items.length);
    items.forEach((inp, b) => (data as Int32Array).set(inp[i]!.data as Int32Array, b * n));
    return { dtype: t0.dtype, shape: t0.shape, data };
  });
}

/** The `count` items of flatTensors' arrays, as views (no copy). */
export function itemTensors(flat: readonly TensorData[], count: number): TensorData[][] {
  return Array.from({ length: count }, (_, b) =>
    flat.map((t) => {
      const n = t.data.length / count;
      return { dtype: t.dtype, shape: t.shape, data: t.data.subarray(b * n, (b + 1) * n) };
    }),
  );
}

/** The arenas runBatch wrote `traces` into: one per chunk of `chunk` items (each chunk's first trace's buffer). */
export function arenasOf(traces: readonly (readonly TensorData[])[], chunk: number): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (let b = 0; b < traces.length; b += chunk) out.push(traces[b]![0]!.data.buffer as ArrayBuffer);
  return out;
}

/** Shares of flatTensors' layout (each `count` items), in order, as one (the only share as it is). */
export function concatFlat(shares: readonly { outputs: readonly TensorData[]; count: number }[]): TensorData[] {
  const live = shares.filter((s) => s.count > 0);
  if (live.length === 1) return [...live[0]!.outputs];
  return shares[0]!.outputs.map((t0, i) => {
    const n = live.reduce((a, s) => a + s.outputs[i]!.data.length, 0);
    const data = new (t0.data.constructor as new (n: number) => TensorData['data'])(n);
    let off = 0;
    for (const s of live) {
      (data as Int32Array).set(s.outputs[i]!.data as Int32Array, off);
      off += s.outputs[i]!.data.length;
    }
    return { dtype: t0.dtype, shape: t0.shape, data };
  });
}
