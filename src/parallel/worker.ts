/** A BatchPool worker (pool.ts): prepares the model once, then runs the batches it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import type { QModel, TensorData } from '../engine/ir.js';
import { ArenaCache, batchChunk, prepareModel, runBatch } from '../engine/run.js';
import { keccakReady, traceRoot } from '../commit/index.js';

const port = parentPort!;
try {
  const p = prepareModel((workerData as { model: QModel }).model);
  await keccakReady;
  // Arenas the caller released (BatchPool.release), reused by later runs.
  const cache = new ArenaCache();
  port.on('message', (m: { id: number; inputs: TensorData[]; count: number; roots: boolean } | { give: ArrayBuffer[] }) => {
    if ('give' in m) {
      for (const a of m.give) cache.give(a);
      return;
    }
    try {
      // Inputs arrive as one array per graph input (items back to back); traces leave as their
      // runBatch arenas, one per chunk of batchChunk(p) items (the caller rebuilds the views).
      const items = Array.from({ length: m.count }, (_, b) =>
        m.inputs.map((t) => {
          const n = t.data.length / m.count;
          return { dtype: t.dtype, shape: t.shape, data: t.data.subarray(b * n, (b + 1) * n) };
        }),
      );
      const traces = runBatch(p, items, { arenas: cache });
      const roots = m.roots ? traces.map((t) => traceRoot(t)) : undefined;
      const arenas: ArrayBuffer[] = [];
      for (let b = 0, c = batchChunk(p); b < traces.length; b += c) arenas.push(traces[b][0].data.buffer as ArrayBuffer);
      port.postMessage({ id: m.id, arenas, count: m.count, roots }, arenas);
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e) });
}
