/**
 * Batch labeling jobs for in-process networks (`demo --network`, bench/network.ts): every node serves its HTTP API
 * on 127.0.0.1 (a free port) and asks all the others for batch data; a requester stream posts batch jobs (many
 * rows, one model) next to the single tasks, and reports how many finalized with every element verified.
 */
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../node/api.js';
import type { LocalEngineProvider } from '../node/engine-provider.js';
import type { VerityNode } from '../node/node.js';
import type { Requester } from '../node/roles/requester.js';

/** Serves every node's API on 127.0.0.1 and makes each node's peers all of them. Returns a stop function. */
export async function servePeers(nodes: readonly VerityNode[]): Promise<{ urls: string[]; stop: () => Promise<void> }> {
  const urls: string[] = [];
  const apps: FastifyInstance[] = [];
  for (const n of nodes) {
    const app = await buildApi(n);
    urls.push(await app.listen({ host: '127.0.0.1', port: 0 }));
    apps.push(app);
    n.ctx.peers = urls;
  }
  return { urls, stop: async () => void (await Promise.all(apps.map((a) => a.close().catch(() => undefined)))) };
}

export interface BatchStreamOptions {
  requester: VerityNode;
  engine: LocalEngineProvider;
  /** Per job: model id and root, and the float rows to label. */
  jobs: { modelId: bigint; modelRoot: string; rows: number[][] }[];
  fee: bigint;
  /** Pause between jobs, ms. */
  everyMs?: number;
}

/** Posts batch labeling jobs one after another; `status()` counts them. */
export function startBatchStream(o: BatchStreamOptions): { ids: string[]; submitted: () => number; done: Promise<void>; status: () => { total: number; finalized: number; items: number; verifiedItems: number } } {
  const req = o.requester.role as Requester;
  const ids: string[] = [];
  const done = (async () => {
    for (const job of o.jobs) {
      const items = job.rows.map((r) => [o.engine.quantize(job.modelRoot, r)]);
      ids.push(req.submitBatch({ modelId: job.modelId, modelRoot: job.modelRoot as `0x${string}`, items, fee: o.fee, ttl: 300 }));
      o.requester.poke();
      await new Promise((r) => setTimeout(r, o.everyMs ?? 1500));
    }
  })();
  return {
    ids,
    submitted: () => ids.length,
    done,
    status: () => {
      const views = ids.map((id) => req.view(id)!);
      const fin = views.filter((v) => v.status === 'finalized' && v.batch?.items);
      return {
        total: o.jobs.length,
        finalized: fin.length,
        items: o.jobs.reduce((s, j) => s + j.rows.length, 0),
        verifiedItems: fin.reduce((s, v) => s + v.batch!.items!.length, 0),
      };
    },
  };
}
