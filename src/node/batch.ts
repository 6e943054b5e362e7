/**
 * Batch tasks between nodes (docs/protocol.md §Task market): a batch posts only the PositionalMerkle root of its
 * element input digests, and commits only the root of its element results, so the element data travels off-chain,
 * over the nodes' HTTP APIs (src/node/api-batch.ts):
 *
 *   requester  GET /batches/:inputRoot/inputs   the element inputs (content-addressed by the posted root)
 *   worker     GET /tasks/:id/results           every element's outputHash and outputs
 *              GET /tasks/:id/items/:i          one element with its result proof (and input proof)
 *
 * Whoever fetches checks what it got against the on-chain roots (inputLeaf / resultLeaf trees, the same encoding
 * as postBatchTask / commitBatch / challenge), so a peer can withhold data but never feed wrong data.
 */
import type { Hex } from 'viem';
import { inputHashOf, outputHashOf } from '../chain/io.js';
import { inputLeaf, PositionalTree } from '../chain/positional.js';
import type { TensorData } from '../engine/ir.js';
import { readTask, type NodeContext } from './context.js';
import { discovers, peersFor } from './discovery.js';
import type { RoleName } from './role-name.js';
import { tensorFromJson, tensorToJson, type TensorJson } from './engine-provider.js';

/** The element inputs of a batch: one tensor list per element. */
export type BatchInputs = TensorData[][];

/** What an element commits: its output digest (no trace root: docs/protocol.md §Commitments). */
export interface BatchLeaf {
  outputHash: Hex;
}

export interface BatchItemResult extends BatchLeaf {
  index: number;
  outputs: TensorJson[];
}

export function batchInputsToJson(items: readonly (readonly TensorData[])[]): string {
  return JSON.stringify(items.map((ts) => ts.map(tensorToJson)));
}

export function batchInputsFromJson(json: string): BatchInputs {
  return (JSON.parse(json) as TensorJson[][]).map((ts) => ts.map(tensorFromJson));
}

/** inputHash of every element and the positional tree the market's inputRoot commits to. */
export function inputTreeOf(items: readonly (readonly TensorData[])[]): { inputHashes: Hex[]; tree: PositionalTree } {
  const inputHashes = items.map((ts) => inputHashOf(ts));
  return { inputHashes, tree: new PositionalTree(inputHashes.map((h, i) => inputLeaf(i, h))) };
}

/** The positional tree over the element results (commitBatch's resultsRoot). */
export function resultTreeOf(leaves: readonly BatchLeaf[]): PositionalTree {
  return PositionalTree.ofResults(leaves.map((l) => l.outputHash));
}

/** Peers' API base URLs this node asks for batch data: the `--peers` list, else those found on-chain (./discovery.ts). */
export async function peersOf(ctx: NodeContext, prefer: { owner?: string; role?: RoleName } = {}, force = false): Promise<string[]> {
  return peersFor(ctx, prefer, force);
}

/**
 * GET `path` from each peer in turn (5 s timeout each, the ones matching `prefer` first) until `accept` returns a
 * value. With discovered peers, a miss re-reads the registrations and asks the peers not asked yet.
 */
export async function fetchFromPeers<T>(ctx: NodeContext, path: string, accept: (body: unknown) => T | undefined, prefer: { owner?: string; role?: RoleName } = {}): Promise<T | undefined> {
  const asked = new Set<string>();
  for (const force of discovers(ctx) ? [false, true] : [false]) {
    for (const base of await peersOf(ctx, prefer, force)) {
      if (asked.has(base)) continue;
      asked.add(base);
      try {
        const r = await fetch(new URL(path, base), { signal: AbortSignal.timeout(5_000) });
        if (!r.ok) continue;
        const v = accept(await r.json());
        if (v !== undefined) return v;
        ctx.log.warn({ peer: base, path }, 'peer served batch data that does not match the chain; ignored');
      } catch {
        // unreachable peer: try the next
      }
    }
  }
  return undefined;
}

/** The element inputs of a posted batch, from any peer, checked against the posted root. */
export async function fetchBatchInputs(ctx: NodeContext, inputRoot: string, itemCount: number): Promise<BatchInputs | undefined> {
  return fetchFromPeers(ctx, `/batches/${inputRoot}/inputs`, (body) => {
    const b = body as { items?: TensorJson[][] };
    if (!Array.isArray(b.items) || b.items.length !== itemCount) return undefined;
    try {
      const items = b.items.map((ts) => ts.map(tensorFromJson));
      return inputTreeOf(items).tree.root.toLowerCase() === inputRoot.toLowerCase() ? items : undefined;
    } catch {
      return undefined;
    }
  }, { role: 'requester' });
}

/** Every element result of a committed batch, from any peer (its worker), checked against the committed root. */
export async function fetchBatchResults(ctx: NodeContext, chainTaskId: string, resultRoot: string, itemCount: number): Promise<BatchItemResult[] | undefined> {
  // The worker that committed the batch is asked first (its agent's endpoints).
  const worker = discovers(ctx) ? await readTask(ctx, BigInt(chainTaskId)).then((t) => t.worker, () => undefined) : undefined;
  return fetchFromPeers(ctx, `/tasks/${chainTaskId}/results`, (body) => {
    const b = body as { items?: BatchItemResult[] };
    if (!Array.isArray(b.items) || b.items.length !== itemCount) return undefined;
    try {
      if (resultTreeOf(b.items).root.toLowerCase() !== resultRoot.toLowerCase()) return undefined;
      const ok = b.items.every((it, i) => it.index === i && outputHashOf(it.outputs.map(tensorFromJson)) === it.outputHash);
      return ok ? b.items : undefined;
    } catch {
      return undefined;
    }
  }, worker ? { owner: worker } : { role: 'worker' });
}
