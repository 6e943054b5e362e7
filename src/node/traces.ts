/**
 * Traces are recomputed, not stored, and a worker commits no trace root (issue 13: it commits only the outputs). A
 * worker keeps what it needs to rerun an element — the model root and the element's inputs (a single task's inputs
 * are on chain in InputPublished and kept in its task row; a batch's were fetched and checked against its input root
 * before claiming) — and, for a dishonest test provider, the one corruption it applied. When a dispute or an audit
 * needs the element's trace, the element is run again (the engine is deterministic, integer only), its outputs are
 * checked against the committed outputHash, and only then is its traceRoot computed. A small bounded cache keeps the
 * last few recomputed traces (a dispute asks for the same trace at every move). Traces stored as files (a verifier's
 * own run on a mismatch) are read first when their root is known.
 */
import type { Hex } from 'viem';
import { outputHashOf } from '../commit/index.js';
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

/** A trace with what it commits to. */
export interface ElementTrace {
  modelRoot: string;
  trace: Trace;
  traceRoot: Hex;
}

const caches = new WeakMap<NodeContext, Map<string, ElementTrace>>();

/** kv key of the corruption a dishonest provider applied to element `idx` of task `taskId`. */
export function corruptionKey(taskId: string, idx: number): string {
  return `corrupt:${taskId}:${idx}`;
}

/** Records the corruption of a lying run so that its trace can be recomputed (dishonest test providers only). */
export function rememberCorruption(ctx: NodeContext, at: { taskId: string; idx: number }, corrupted: { tensorId: number; element: number } | undefined): void {
  if (corrupted) ctx.store.setKv(corruptionKey(at.taskId, at.idx), JSON.stringify(corrupted));
}

/**
 * The trace of element `at.idx` of task `at.taskId` with its model root and traceRoot: a stored trace file (when
 * `traceRoot` names one), the cache, or recomputed from the element's kept inputs. A recomputed trace must reproduce
 * the node's stored result (its outputHash) and, when `traceRoot` is given, that root. Throws TraceUnavailableError
 * otherwise.
 */
export function traceFor(ctx: NodeContext, at: { taskId: string; idx: number }, traceRoot?: string): ElementTrace {
  const want = traceRoot?.toLowerCase();
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new Map()));
  const key = `${at.taskId}:${at.idx}:${want ?? ''}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // most recently used last
    cache.set(key, hit);
    return hit;
  }
  const stored = want ? ctx.store.getTrace(want) : undefined;
  const got = stored ? { modelRoot: stored.modelRoot, trace: decodeTrace(stored.bytes), traceRoot: want as Hex } : recompute(ctx, at, want);
  cache.set(key, got);
  while (cache.size > TRACE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return got;
}

function recompute(ctx: NodeContext, at: { taskId: string; idx: number }, want: string | undefined): ElementTrace {
  const r = ctx.store.getResult(at.taskId, at.idx);
  const t = ctx.store.getTask(at.taskId);
  if (!r || !t || !t.modelRoot || !t.inputs) {
    throw new TraceUnavailableError(`No run of task ${at.taskId} element ${at.idx} on this node.`, { hint: "Only traces of this node's own results can be recomputed." });
  }
  const inputs = t.itemCount > 1 ? batchInputsFromJson(t.inputs)[r.idx] : (JSON.parse(t.inputs) as TensorJson[]).map(tensorFromJson);
  if (!inputs) throw new TraceUnavailableError(`Task ${t.taskId} has no inputs for element ${r.idx}.`);
  const lie = ctx.store.getKv(corruptionKey(at.taskId, at.idx));
  const e = ctx.engine.execute(t.modelRoot, inputs, lie ? { replay: JSON.parse(lie) as { tensorId: number; element: number } } : 'honest');
  if (outputHashOf(e.outputs).toLowerCase() !== r.outputHash.toLowerCase()) {
    throw new TraceUnavailableError(`Recomputing task ${t.taskId} element ${r.idx} gave outputs ${outputHashOf(e.outputs)}, not the committed ${r.outputHash}.`, { hint: 'The engine or the model changed since the result was committed.' });
  }
  if (want && e.traceRoot.toLowerCase() !== want) {
    throw new TraceUnavailableError(`Recomputing task ${t.taskId} element ${r.idx} gave trace root ${e.traceRoot}, not ${want}.`, { hint: 'The engine or the model changed since the dispute opened.' });
  }
  return { modelRoot: t.modelRoot, trace: e.trace, traceRoot: e.traceRoot };
}
