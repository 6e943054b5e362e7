/**
 * Traces are recomputed, not stored. A worker keeps what it needs to rerun an element — the model root and the
 * element's inputs (a single task's inputs are on chain in InputPublished and kept in its task row; a batch's were
 * fetched and checked against its input root before claiming) — and, for a dishonest test provider, the one
 * corruption it applied. When a dispute or an audit needs the trace committed under `traceRoot`, the element is run
 * again (the engine is deterministic, integer only) and the recomputed root is checked against the committed one.
 * A small bounded cache keeps the last few recomputed traces (a dispute asks for the same trace at every move).
 * Traces stored as files (a verifier's own run on a mismatch, older data dirs) are still read first.
 */
import type { Trace } from '../engine/ir.js';
import { BaseError } from '../errors.js';
import { batchInputsFromJson } from './batch.js';
import type { NodeContext } from './context.js';
import { decodeTrace, tensorFromJson, type TensorJson } from './engine-provider.js';

export class TraceUnavailableError extends BaseError {
  override name = 'TraceUnavailableError';
}

/** How many recomputed traces a node keeps in memory (per node context). */
export const TRACE_CACHE_SIZE = 4;

const caches = new WeakMap<NodeContext, Map<string, { modelRoot: string; trace: Trace }>>();

/** kv key of the corruption a dishonest provider applied to the run committed under `traceRoot`. */
export function corruptionKey(traceRoot: string): string {
  return `corrupt:${traceRoot.toLowerCase()}`;
}

/** Records the corruption of a lying run so that its trace can be recomputed (dishonest test providers only). */
export function rememberCorruption(ctx: NodeContext, traceRoot: string, corrupted: { tensorId: number; element: number } | undefined): void {
  if (corrupted) ctx.store.setKv(corruptionKey(traceRoot), JSON.stringify(corrupted));
}

/**
 * The trace committed under `traceRoot` for element `at.idx` of task `at.taskId`, with its model root: from the cache,
 * a stored trace file, or recomputed from the element's kept inputs. Throws TraceUnavailableError when the node has no run with that root, or the rerun does
 * not reproduce it.
 */
export function traceFor(ctx: NodeContext, traceRoot: string, at: { taskId: string; idx: number }): { modelRoot: string; trace: Trace } {
  const root = traceRoot.toLowerCase();
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  const hit = cache.get(root);
  if (hit) {
    cache.delete(root); // most recently used last
    cache.set(root, hit);
    return hit;
  }
  const stored = ctx.store.getTrace(root);
  const got = stored ? { modelRoot: stored.modelRoot, trace: decodeTrace(stored.bytes) } : recompute(ctx, root, at);
  cache.set(root, got);
  while (cache.size > TRACE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return got;
}

function recompute(ctx: NodeContext, root: string, at: { taskId: string; idx: number }): { modelRoot: string; trace: Trace } {
  const r = ctx.store.getResult(at.taskId, at.idx);
  const t = ctx.store.getTask(at.taskId);
  if (!r || r.traceRoot.toLowerCase() !== root || !t || !t.modelRoot || !t.inputs) {
    throw new TraceUnavailableError(`No run of task ${at.taskId} element ${at.idx} with trace root ${root} on this node.`, { hint: "Only traces of this node's own results can be recomputed." });
  }
  const inputs = t.itemCount > 1 ? batchInputsFromJson(t.inputs)[r.idx] : (JSON.parse(t.inputs) as TensorJson[]).map(tensorFromJson);
  if (!inputs) throw new TraceUnavailableError(`Task ${t.taskId} has no inputs for element ${r.idx}.`);
  const lie = ctx.store.getKv(corruptionKey(root));
  const e = ctx.engine.execute(t.modelRoot, inputs, lie ? { replay: JSON.parse(lie) as { tensorId: number; element: number } } : 'honest');
  if (e.traceRoot.toLowerCase() !== root) {
    throw new TraceUnavailableError(`Recomputing task ${t.taskId} element ${r.idx} gave trace root ${e.traceRoot}, not the committed ${root}.`, { hint: 'The engine or the model changed since the result was committed.' });
  }
  return { modelRoot: t.modelRoot, trace: e.trace };
}
