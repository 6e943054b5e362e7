/**
 * One node of `npm run bench:load` in its own process (so CPU and memory are per node): started by bench/load.ts
 * with its configuration in $LOAD_NODE (JSON), it runs the node, serves its API on 127.0.0.1, reports its URL, takes
 * the peers' URLs, and sends a sample of its own process.cpuUsage() and RSS every second. The requester also runs the
 * load: it keeps `inflight` batch tasks of `items` elements open (a new one is submitted as soon as one is verified:
 * pipelined), and reports each task's submit / posted / committed / verified times (verified = finalized with every
 * element result fetched from the worker and checked against the committed root).
 */
import { pino } from 'pino';
import type { Hex } from 'viem';
import { buildApi } from '../src/node/api.js';
import { createNode } from '../src/node/node.js';
import type { Requester } from '../src/node/roles/requester.js';
import type { ProtocolAddresses } from '../src/chain/types.js';

export interface LoadNodeConfig {
  role: 'worker' | 'verifier' | 'requester';
  rpcUrl: string;
  privateKey: Hex;
  dataDir: string;
  addresses: ProtocolAddresses;
  model: string; // .vqm path
  pollMs: number;
  maxItems: number;
  stake: string;
}

export interface LoadJob {
  type: 'load';
  modelId: string;
  modelRoot: Hex;
  rows: number[][];
  items: number;
  inflight: number;
  durationMs: number;
  drainMs: number;
  fee: string;
}

export interface TaskTimes {
  id: string;
  items: number;
  submit: number;
  posted?: number;
  committed?: number;
  verified?: number;
  status: string;
}

const send = (m: unknown) => process.send!(m);

async function main(): Promise<void> {
  const c = JSON.parse(process.env.LOAD_NODE!) as LoadNodeConfig;
  const node = await createNode({
    role: c.role,
    rpcUrl: c.rpcUrl,
    privateKey: c.privateKey,
    dataDir: c.dataDir,
    addresses: c.addresses,
    models: [c.model],
    pollMs: c.pollMs,
    sample: 0, // the verifier checks what its audit rule requires (the audited tasks, in full), nothing more
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2)),
    // Settled tasks are pruned 10 s after settling (the requester has fetched their results by then): the worker's
    // database stays flat (bench/load.ts samples its size).
    worker: { maxItems: c.maxItems, stake: BigInt(c.stake), batch: 16, keepSettledS: 10 },
  });
  await node.start();
  const app = await buildApi(node);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const timer = setInterval(() => send({ type: 'sample', t: Date.now(), cpu: process.cpuUsage(), rss: process.memoryUsage().rss }), 1000);
  let stopping = false;
  process.on('message', (m: { type: string; urls?: string[] } | LoadJob) => {
    if (m.type === 'peers') node.ctx.peers = (m as { urls: string[] }).urls;
    else if (m.type === 'load') void runLoad(m as LoadJob).catch((e) => send({ type: 'error', message: String((e as Error).stack ?? e) }));
    else if (m.type === 'stop' && !stopping) {
      stopping = true;
      clearInterval(timer);
      void (async () => {
        await app.close().catch(() => undefined);
        await node.stop().catch(() => undefined);
        send({ type: 'stopped' });
        process.exit(0);
      })();
    }
  });
  send({ type: 'ready', url });

  async function runLoad(job: LoadJob): Promise<void> {
    const req = node.role as Requester;
    const store = node.ctx.store;
    const open = new Map<string, TaskTimes>();
    const done: TaskTimes[] = [];
    const t0 = Date.now();
    let k = 0;
    const submit = () => {
      const items = Array.from({ length: job.items }, () => [node.ctx.engine.quantize(job.modelRoot, job.rows[k++ % job.rows.length]!)]);
      const id = req.submitBatch({ modelId: BigInt(job.modelId), modelRoot: job.modelRoot, items, fee: BigInt(job.fee), ttl: 600 });
      open.set(id, { id, items: job.items, submit: Date.now(), status: 'posting' });
      node.poke();
    };
    let lastReport = Date.now();
    while (Date.now() - t0 < job.durationMs + job.drainMs) {
      const now = Date.now();
      if (now - t0 < job.durationMs) while (open.size < job.inflight) submit();
      else if (open.size === 0) break;
      for (const tt of open.values()) {
        const t = store.findTask(tt.id);
        if (!t) continue;
        tt.status = t.status;
        if (t.status !== 'posting' && tt.posted === undefined) tt.posted = now;
        if ((t.status === 'committed' || t.status === 'finalized') && tt.committed === undefined) tt.committed = now;
        if (t.status === 'finalized' && store.listResults(t.taskId).length === t.itemCount) tt.verified = now;
        if (tt.verified !== undefined || t.status === 'failed' || t.status === 'invalidated' || t.status === 'cancelled') {
          open.delete(tt.id);
          done.push(tt);
        }
      }
      if (now - lastReport > 1000 && done.length) {
        send({ type: 'tasks', tasks: done.splice(0) });
        lastReport = now;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    send({ type: 'tasks', tasks: [...done, ...open.values()] });
    send({ type: 'load-done' });
  }
}

main().catch((e) => {
  send({ type: 'error', message: String((e as Error).stack ?? e) });
  process.exit(1);
});
