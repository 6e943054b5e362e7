/**
 * `verity demo --network`: the protocol as a running system on the embedded chain. Starts anvil (127.0.0.1, a free
 * port), deploys, registers the shipped models, starts three workers (one dishonest: it corrupts one element of one
 * op in half of its answers), two verifiers (one checks everything, one a 50% sample) and a requester that sends a
 * stream of labeling tasks; shows live progress; ends with a summary table per agent and stops all it started.
 *
 * The requester's HTTP API listens on 127.0.0.1 (a free port, or `apiPort`) while the demo runs, and its URL is
 * printed: /dashboard is the live view of the network (agents, tasks, disputes and their moves, gas and throughput).
 * `hold` seconds (default 0) keep everything up after the summary so the dashboard can still be looked at.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, type Hex } from 'viem';
import { pino } from 'pino';
import { auditBookAbi, reputationRegistryAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import { anvilKey, startAnvil } from '../chain/anvil.js';
import { parseEventLogs } from 'viem';
import { LocalEngineProvider, loadShippedModel } from '../node/engine-provider.js';
import { shippedData } from '../onnx/shipped.js';
import { buildApi } from '../node/api.js';
import { createNode, type VerityNode } from '../node/node.js';
import type { Requester } from '../node/roles/requester.js';
import type { Worker } from '../node/roles/worker.js';
import { deploy } from './node.js';
import { winnerOf } from '../dispute/moves.js';
import { printTable } from './progress.js';
import { servePeers, startBatchStream } from './demo-batches.js';

const E18 = 10n ** 18n;
/**
 * Random audits in the demo (AuditBook): a quarter of the results is audited (the deployed default is 10%), with
 * windows of a few seconds so audits settle while the demo runs; the verifiers are the auditors.
 */
const DEMO_AUDITS = { rateBps: 2_500, commitWindow: 10n, answerWindow: 15n, revealWindow: 15n, deposit: 5n * E18, reward: E18, minAuditorStake: 100n * E18, poolSeed: 100n * E18 };
const vrt = (w: bigint) => (Number(w / 10n ** 15n) / 1000).toFixed(1);

const keyOf = anvilKey;

export interface NetworkDemoOptions {
  /** Tasks the requester sends (default 24). */
  tasks?: number;
  /** Seconds to keep the nodes and the dashboard up after the summary (default 0; Ctrl-C ends the wait). */
  hold?: number;
  /** Port of the requester's API and dashboard on 127.0.0.1 (default 0: any free port). */
  apiPort?: number;
}

/** Waits `seconds`, or until SIGINT / SIGTERM. */
async function holdFor(seconds: number, say: (s: string) => void, url: string): Promise<void> {
  if (!(seconds > 0)) return;
  say(`holding for ${seconds} s: the dashboard stays at ${url} (Ctrl-C to stop now)`);
  await new Promise<void>((done) => {
    const finish = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      done();
    };
    const timer = setTimeout(finish, seconds * 1000);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
}

export async function runNetworkDemo(opts: NetworkDemoOptions = {}): Promise<void> {
  const total = opts.tasks ?? 24;
  const work = mkdtempSync(join(tmpdir(), 'verity-demo-'));
  const anvil = await startAnvil({ args: ['--block-time', '0.25'] });
  const nodes: VerityNode[] = [];
  let stopPeers: (() => Promise<void>) | undefined; // batch stream: node APIs serving batch data
  const say = (s: string) => process.stderr.write(`${s}\n`);
  let api: Awaited<ReturnType<typeof buildApi>> | undefined;
  try {
    say(`chain: anvil at ${anvil.rpcUrl}`);
    const names = ['wine-mlp', 'digits-convnet'];
    const models = names.map((n) => loadShippedModel(n));
    const dep = await deploy(anvil.rpcUrl, anvil.accounts[0]!.privateKey, { models: names, fund: [1, 2, 3, 4, 5, 6].map((i) => keyOf(i).address), challengeWindow: 10n, clock: 60n, audits: DEMO_AUDITS });
    say(`deployed: TaskMarket ${dep.addresses.taskMarket}; models ${Object.entries(dep.models).map(([n, m]) => `${n} #${m.id}`).join(', ')}`);
    const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' }, pino.destination(2));
    const agents: { label: string; role: string; i: number; node: VerityNode }[] = [];
    const mk = async (label: string, role: 'worker' | 'verifier' | 'requester', i: number, extra: { dishonest?: number; sample?: number } = {}) => {
      const node = await createNode({ role, rpcUrl: anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: join(work, label), addresses: dep.addresses, qmodels: models, pollMs: 200, logger, ...extra });
      nodes.push(node);
      agents.push({ label, role, i, node });
      return node;
    };
    await mk('worker-1', 'worker', 1);
    await mk('worker-2', 'worker', 2);
    await mk('worker-3 (dishonest 50%)', 'worker', 3, { dishonest: 0.5 });
    await mk('verifier-1 (all)', 'verifier', 4, { sample: 1 });
    await mk('verifier-2 (50%)', 'verifier', 5, { sample: 0.5 });
    const requester = await mk('requester', 'requester', 6);
    await Promise.all(nodes.map((n) => n.start()));
    say('nodes: 3 workers, 2 verifiers, 1 requester started');
    stopPeers = (await servePeers(nodes)).stop; // batch stream: every node serves / fetches batch data
    api = await buildApi(requester);
    const apiUrl = await api.listen({ host: '127.0.0.1', port: opts.apiPort ?? 0 });
    const dashboardUrl = `${apiUrl}/dashboard`;
    say(`dashboard: ${dashboardUrl}  (the requester's API: ${apiUrl}/network, ${apiUrl}/openapi.json)`);

    const req = requester.role as Requester;
    const ref = new LocalEngineProvider(models);
    const data = names.map((n) => shippedData(n));
    const ids: string[] = [];
    const started = Date.now();
    let submitted = 0;
    const submitter = (async () => {
      for (let k = 0; k < total; k++) {
        const m = k % names.length;
        const root = ref.modelRoots()[m]!;
        const row = data[m]!.x[Math.floor(k / names.length) % data[m]!.x.length]!;
        ids.push(req.submit({ modelId: BigInt(dep.models[names[m]!]!.id), modelRoot: root, inputs: [ref.quantize(root, row)], fee: 2n * E18, ttl: 300 }));
        submitted++;
        requester.poke();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    // ---- batch stream: batch labeling jobs (many rows, one model), posted alongside the single tasks.
    const batches = startBatchStream({
      requester,
      engine: ref,
      fee: 8n * E18,
      everyMs: 4000,
      jobs: [16, 8, 16].map((n, j) => ({ modelId: BigInt(dep.models[names[j % 2]!]!.id), modelRoot: ref.modelRoots()[j % 2]!, rows: data[j % 2]!.x.slice(j * 16, j * 16 + n) })),
    });
    const market = dep.addresses.taskMarket;
    const events = async () => parseEventLogs({ abi: taskMarketAbi, logs: await requester.ctx.publicClient.getLogs({ address: market, fromBlock: 0n }) });
    const deadline = Date.now() + 240_000;
    let last = '';
    for (;;) {
      const views = ids.map((id) => req.view(id)!);
      const fin = views.filter((v) => v.status === 'finalized').length;
      const ev = await events();
      const opened = ev.filter((e) => e.eventName === 'ResultChallenged').length;
      const resolved = ev.filter((e) => e.eventName === 'DisputeResolved').length;
      const slashed = ev.filter((e) => e.eventName === 'TaskInvalidated').length;
      const line = `[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] submitted ${submitted}/${total}  finalized ${fin}/${total}  disputes ${opened} opened, ${resolved} settled  slashes ${slashed}  batches ${batches.status().finalized}/${batches.status().total}`;
      if (line !== last) say(line);
      last = line;
      if (submitted === total && fin === total && opened === resolved && batches.status().finalized === batches.status().total) break;
      if (Date.now() > deadline) {
        say('time limit reached: summarizing what finished');
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    await submitter;
    await batches.done;

    // Summary per agent.
    const ev = await events();
    const pc = requester.ctx.publicClient;
    // Audits: each auditor's matched reveals and the reward they paid (AuditBook.AuditRevealed).
    const book = await pc.readContract({ address: market, abi: taskMarketAbi, functionName: 'auditBook' });
    const audits = parseEventLogs({ abi: auditBookAbi, logs: await pc.getLogs({ address: book, fromBlock: 0n }) });
    const revealed = audits.filter((e) => e.eventName === 'AuditRevealed').map((e) => e.args as { auditor: string; matched: boolean; paid: bigint });
    const rows: string[][] = [['agent', 'address', 'committed', 'finalized', 'disputes won', 'disputes lost', 'slashed VRT', 'fees earned VRT', 'audits paid', 'audit pay VRT', 'reputation']];
    for (const a of agents) {
      const addr = keyOf(a.i).address.toLowerCase();
      const commits = ev.filter((e) => (e.eventName === 'ResultCommitted' || e.eventName === 'BatchCommitted') && (e.args as { worker: string }).worker.toLowerCase() === addr).length;
      const finals = ev.filter((e) => e.eventName === 'TaskFinalized' && (e.args as { worker: string }).worker.toLowerCase() === addr);
      const fees = finals.reduce((s, e) => s + (e.args as { workerPayout: bigint }).workerPayout, 0n);
      const ds = a.node.ctx.store.listDisputes();
      const won = ds.filter((d) => winnerOf(d.outcome) === d.side).length;
      const lost = ds.filter((d) => winnerOf(d.outcome) !== undefined && winnerOf(d.outcome) !== d.side).length;
      const workerTasks = new Set(ev.filter((e) => e.eventName === 'TaskClaimed' && (e.args as { worker: string }).worker.toLowerCase() === addr).map((e) => (e.args as { taskId: bigint }).taskId));
      const slashed = ev.filter((e) => e.eventName === 'TaskInvalidated' && workerTasks.has((e.args as { taskId: bigint }).taskId)).reduce((s, e) => s + (e.args as { slashed: bigint }).slashed, 0n);
      let reputation = '-';
      if (a.role === 'worker') {
        const agentId = (a.node.role as Worker).agentId!;
        const [count, value, decimals] = await pc.readContract({ address: dep.addresses.reputationRegistry, abi: reputationRegistryAbi, functionName: 'getSummary', args: [agentId, [dep.addresses.taskMarket], '', ''] });
        reputation = count > 0n ? `${(Number(value) / 10 ** decimals).toFixed(2)} (${count})` : '0 (0)';
      }
      const myAudits = revealed.filter((r) => r.auditor.toLowerCase() === addr && r.matched);
      const auditPay = myAudits.reduce((x, r) => x + r.paid, 0n);
      rows.push([a.label, `${addr.slice(0, 8)}…`, a.role === 'worker' ? String(commits) : '-', a.role === 'worker' ? String(finals.length) : '-', String(won), String(lost), vrt(slashed), vrt(fees), a.role === 'verifier' ? String(myAudits.length) : '-', a.role === 'verifier' ? vrt(auditPay) : '-', reputation]);
    }
    const views = ids.map((id) => req.view(id)!);
    console.log('');
    printTable(rows);
    const fin = views.filter((v) => v.status === 'finalized');
    const correct = views.filter((v, k) => {
      if (v.status !== 'finalized') return false;
      const m = k % names.length;
      const root = ref.modelRoots()[m]!;
      const row = data[m]!.x[Math.floor(k / names.length) % data[m]!.x.length]!;
      return ref.run(root, [ref.quantize(root, row)]).outputHash === v.result?.outputHash;
    }).length;
    console.log(
      `\n${fin.length}/${total} tasks finalized (${correct} equal to an honest re-run) in ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
        `${ev.filter((e) => e.eventName === 'ResultChallenged').length} disputes, ${ev.filter((e) => e.eventName === 'TaskInvalidated').length} wrong answers slashed and re-posted.`,
    );
    const drawn = audits.filter((e) => e.eventName === 'AuditDrawn').map((e) => e.args as { selected: boolean });
    console.log(
      `${drawn.length} results drawn for audit, ${drawn.filter((d) => d.selected).length} audited (rate ${DEMO_AUDITS.rateBps / 100}%); ` +
        `auditors paid ${vrt(revealed.reduce((x, r) => x + r.paid, 0n))} VRT from the audit pool for ${revealed.filter((r) => r.matched).length} matching reveals.`,
    );
    const bs = batches.status(); // batch stream summary
    console.log(`${bs.finalized}/${bs.total} batch labeling jobs finalized (${bs.verifiedItems}/${bs.items} elements, each checked against its committed root).`);
    await holdFor(opts.hold ?? 0, say, dashboardUrl);
  } finally {
    await stopPeers?.();
    await api?.close().catch(() => undefined);
    for (const n of nodes) await n.stop().catch(() => undefined);
    await anvil.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
