/** A BatchPool worker (pool.ts): prepares the model once, then runs the batches it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import type { QModel, TensorData } from '../engine/ir.js';
import { ArenaCache, batchChunk, prepareModel, runBatch, runBatchOutputs } from '../engine/run.js';
import { keccakReady, outputHashesOfFlat, traceRoot } from '../commit/index.js';
import { arenasOf, itemTensors } from './flat.js';
import type { Want } from './pool.js';

const port = parentPort!;
try {
  const p = prepareModel((workerData as { model: QModel }).model);
  await keccakReady;
  // Arenas the caller released (BatchPool.release), reused by later runs.
  const cache = new ArenaCache();
  port.on('message', (m: { id: number; inputs: TensorData[]; count: number; want: Want } | { give: ArrayBuffer[] }) => {
    if ('give' in m) {
      for (const a of m.give) cache.give(a);
      return;
    }
    try {
      // Inputs arrive as one array per graph input (items back to back); traces leave as their
      // runBatch arenas, one per chunk of batchChunk(p) items (the caller rebuilds the views); outputs-only
      // replies carry a copy of the outputs, one array per graph output (items back to back), and each item's
      // outputHash, and the arenas stay here for the next run.
      const items = itemTensors(m.inputs, m.count);
      if (m.want === 'outputs' || m.want === 'plain') {
        const outputs = runBatchOutputs(p, items, { arenas: cache });
        const hashes = m.want === 'plain' ? [] : outputHashesOfFlat(outputs, m.count);
        port.postMessage({ id: m.id, count: m.count, outputs, hashes }, outputs.map((t) => t.data.buffer as ArrayBuffer));
        return;
      }
      const traces = runBatch(p, items, { arenas: cache });
      const roots = m.want === 'roots' ? traces.map((t) => traceRoot(t)) : undefined;
      const arenas = arenasOf(traces, batchChunk(p));
      port.postMessage({ id: m.id, arenas, count: m.count, roots }, arenas);
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e) });
}
