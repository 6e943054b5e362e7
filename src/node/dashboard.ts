/**
 * The network dashboard, served by a node's API (see src/node/api.ts):
 *
 *   GET /dashboard              the page (src/web/dashboard.ts with chart.js, prebuilt by `npm run build:web`)
 *   GET /dashboard/app.js       its script, GET /dashboard/style.css its style
 *   GET /network                the whole network as the chain shows it (the page polls this): agents with stake and
 *                               reputation, tasks and their states, disputes with every move (tx and gas), and gas and
 *                               throughput per interval of chain time
 *
 * The view is built from the chain, not from this node's store, so any node (a requester, a verifier) shows every
 * agent and every dispute. {@link NetworkIndexer} scans the TaskMarket, DisputeGame and IdentityRegistry logs
 * incrementally (a block cursor), fetches each transaction's receipt once (gas is immutable) and each block's
 * timestamp once; a snapshot adds the current stakes and reputations (a few reads per agent).
 */
import type { FastifyInstance } from 'fastify';
import { parseEventLogs, type Abi, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { disputeGameAbi, identityRegistryAbi, reputationRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import { Outcome, REASONS, words } from '../chain/enums.js';
import { OUTCOME_WORDS, TASK_STATES, networkViewSchema, networkQuerySchema, type AgentView, type TaskView, type MoveView, type DisputeView, type SeriesPoint, type NetworkView, type NetworkQuery } from '../views/network.js';
import type { NodeContext } from './context.js';
import type { VerityNode } from './node.js';
import { pageAssets, type PageAssets } from './pages.js';

// ── response schemas: src/views/network.ts (shared with the page) ──────────────────────────────────────────────

// ── the indexer ─────────────────────────────────────────────────────────────────────────────────────────────────

const ABI = [...taskMarketAbi, ...disputeGameAbi, ...identityRegistryAbi] as unknown as Abi;
const OUTCOME_NAMES = OUTCOME_WORDS;
const REASON_NAMES = REASONS.map(words);

interface Ev {
  name: string;
  args: Record<string, unknown>;
  address: string;
  block: number;
  tx: string;
  logIndex: number;
}

interface TaskRec extends Omit<TaskView, 'postedAt' | 'updatedAt'> {
  postedBlock: number;
  updatedBlock: number;
}

interface DisputeRec {
  disputeId: string;
  taskId: string;
  gameId: string;
  index: number;
  challenger: string;
  openedBlock: number;
  tx: string;
  settled: boolean;
  outcome: number;
}

interface GameRec {
  claimant: string | null;
  events: Ev[];
  outcome: number;
  reason: number | null;
}

const lc = (a: unknown): string => String(a).toLowerCase();
const str = (v: unknown): string => String(v);

/** Incremental, chain-wide view of the protocol (one per API). */
export class NetworkIndexer {
  private next = 0n;
  private readonly events: Ev[] = [];
  readonly tasks = new Map<string, TaskRec>();
  private readonly disputes = new Map<string, DisputeRec>();
  private readonly games = new Map<string, GameRec>();
  private readonly registered = new Map<string, { agentId: string; uri: string }>();
  private readonly receipts = new Map<string, { gas: bigint; from: string; block: number }>();
  private readonly blockTime = new Map<number, number>();
  private head = { block: 0, time: 0 };
  private chainId = 0;
  private inflight: Promise<void> | undefined;
  private lastRefresh = 0;

  constructor(private readonly ctx: NodeContext) {}

  /** Scans new logs (at most once per `minIntervalMs`; concurrent callers share one scan). */
  refresh(minIntervalMs = 400): Promise<void> {
    if (this.inflight) return this.inflight;
    if (Date.now() - this.lastRefresh < minIntervalMs) return Promise.resolve();
    this.inflight = this.scan().finally(() => {
      this.lastRefresh = Date.now();
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async scan(): Promise<void> {
    const pc = this.ctx.publicClient;
    if (!this.chainId) this.chainId = await pc.getChainId();
    const latest = await pc.getBlock({ blockTag: 'latest' });
    const headNum = latest.number ?? 0n;
    this.head = { block: Number(headNum), time: Number(latest.timestamp) };
    this.blockTime.set(this.head.block, this.head.time);
    const a = this.ctx.addresses;
    const fresh: Ev[] = [];
    while (this.next <= headNum) {
      const to = this.next + 4_999n < headNum ? this.next + 4_999n : headNum;
      const logs = await pc.getLogs({ address: [a.taskMarket, a.disputeGame, a.identityRegistry], fromBlock: this.next, toBlock: to });
      const parsed = parseEventLogs({ abi: ABI, logs, strict: false }) as unknown as {
        eventName: string;
        args: Record<string, unknown>;
        address: Address;
        blockNumber: bigint;
        transactionHash: Hex;
        logIndex: number;
      }[];
      for (const l of parsed) {
        fresh.push({ name: l.eventName, args: l.args ?? {}, address: lc(l.address), block: Number(l.blockNumber), tx: l.transactionHash, logIndex: l.logIndex });
      }
      this.next = to + 1n;
    }
    if (fresh.length === 0) return;
    fresh.sort((x, y) => x.block - y.block || x.logIndex - y.logIndex);
    // Receipts (gas, sender) and block times, each fetched once, a few at a time.
    const hashes = [...new Set(fresh.map((e) => e.tx))].filter((h) => !this.receipts.has(h));
    const blocks = [...new Set(fresh.map((e) => e.block))].filter((b) => !this.blockTime.has(b));
    await pool(hashes, 6, async (h) => {
      const r = await pc.getTransactionReceipt({ hash: h as Hex });
      this.receipts.set(h, { gas: r.gasUsed, from: lc(r.from), block: Number(r.blockNumber) });
    });
    await pool(blocks, 6, async (b) => {
      const blk = await pc.getBlock({ blockNumber: BigInt(b) });
      this.blockTime.set(b, Number(blk.timestamp));
    });
    for (const e of fresh) this.apply(e);
  }

  private apply(e: Ev): void {
    const a = e.args;
    this.events.push(e);
    const a2 = this.ctx.addresses;
    if (e.address === lc(a2.identityRegistry)) {
      if (e.name === 'Registered') this.registered.set(lc(a.owner), { agentId: str(a.agentId), uri: str(a.agentURI) });
      return;
    }
    if (e.address === lc(a2.disputeGame)) {
      const gid = str(a.gameId);
      if (a.gameId === undefined) return;
      const g = this.games.get(gid) ?? { claimant: null, events: [], outcome: 0, reason: null };
      this.games.set(gid, g);
      if (e.name === 'GameOpened') g.claimant = lc(a.claimant);
      if (e.name === 'GameResolved') {
        g.outcome = Number(a.outcome);
        g.reason = Number(a.reason);
      }
      g.events.push(e);
      return;
    }
    if (e.address !== lc(a2.taskMarket) || a.taskId === undefined) return;
    const id = str(a.taskId);
    let t = this.tasks.get(id);
    if (e.name === 'TaskPosted') {
      t = { taskId: id, modelId: str(a.modelId), requester: lc(a.requester), worker: null, fee: str(a.fee), items: Number(a.itemCount), state: 'open', outputHash: null, postedBlock: e.block, updatedBlock: e.block, txs: { post: e.tx }, disputes: [] };
      this.tasks.set(id, t);
      return;
    }
    if (!t) return;
    t.updatedBlock = e.block;
    switch (e.name) {
      case 'TaskClaimed':
        t.worker = lc(a.worker);
        t.state = 'claimed';
        t.txs.claim = e.tx;
        break;
      case 'ResultCommitted':
      case 'BatchCommitted':
        t.state = 'committed';
        t.outputHash = e.name === 'ResultCommitted' ? str(a.outputHash) : null;
        t.txs.commit = e.tx;
        break;
      case 'ResultChallenged': {
        t.state = 'challenged';
        t.txs.challenge = e.tx;
        const did = str(a.disputeId);
        t.disputes.push(did);
        this.disputes.set(did, { disputeId: did, taskId: id, gameId: str(a.gameId), index: Number(a.index), challenger: lc(a.challenger), openedBlock: e.block, tx: e.tx, settled: false, outcome: 0 });
        break;
      }
      case 'DisputeResolved': {
        const d = this.disputes.get(str(a.disputeId));
        if (d) {
          d.settled = true;
          d.outcome = Number(a.outcome);
        }
        if (Number(a.outcome) === Outcome.ClaimantWon && t.state === 'challenged') t.state = 'committed';
        break;
      }
      case 'TaskInvalidated':
        t.state = 'invalidated';
        t.txs.invalidate = e.tx;
        break;
      case 'TaskFinalized':
        t.state = 'finalized';
        t.txs.finalize = e.tx;
        break;
      case 'TaskCancelled':
        t.state = 'cancelled';
        t.txs.cancel = e.tx;
        break;
    }
  }

  private time(block: number): number {
    return this.blockTime.get(block) ?? this.head.time;
  }

  private gasOf(tx: string): bigint {
    return this.receipts.get(tx)?.gas ?? 0n;
  }

  private disputeView(d: DisputeRec): DisputeView {
    const g = this.games.get(d.gameId);
    const claimant = g?.claimant ?? this.tasks.get(d.taskId)?.worker ?? null;
    const moves: MoveView[] = [];
    const side = (by: string): MoveView['side'] => (by === claimant ? 'claimant' : by === d.challenger ? 'challenger' : 'other');
    const push = (e: Ev, move: string, detail: string): void => {
      const by = this.receipts.get(e.tx)?.from ?? '';
      const prev = moves[moves.length - 1];
      moves.push({ move, by, side: side(by), detail, tx: e.tx, gas: prev?.tx === e.tx ? null : String(this.gasOf(e.tx)), block: e.block, at: this.time(e.block) });
    };
    const market = this.events.filter((e) => e.address === lc(this.ctx.addresses.taskMarket) && str(e.args.taskId) === d.taskId && e.block >= d.openedBlock);
    const timeline = [...market.filter((e) => e.name === 'ResultChallenged' && str(e.args.disputeId) === d.disputeId), ...(g?.events ?? [])];
    const settle = market.filter((e) => (e.name === 'DisputeResolved' && str(e.args.disputeId) === d.disputeId) || e.name === 'TaskInvalidated');
    const settleTx = settle.find((e) => e.name === 'DisputeResolved')?.tx;
    timeline.push(...settle.filter((e) => e.name === 'DisputeResolved' || e.tx === settleTx));
    timeline.sort((x, y) => x.block - y.block || x.logIndex - y.logIndex);
    for (const e of timeline) {
      const a = e.args;
      switch (e.name) {
        case 'ResultChallenged':
          push(e, 'challenge', `element ${str(a.index)} of task ${d.taskId}; game ${str(a.gameId)} opened`);
          break;
        case 'RootsRevealed':
          push(e, 'reveal roots', `${(a.roots as unknown[] | undefined)?.length ?? 0} tensor roots, bond posted`);
          break;
        case 'TensorDisputed':
          push(e, 'pick tensor', `tensor ${str(a.tensorId)} (node ${str(a.nodeIndex)}, ${str(a.numElements)} elements, depth ${str(a.depth)})`);
          break;
        case 'TensorRevealed':
          push(e, 'open tensor', `data root ${str(a.dataRoot).slice(0, 10)}…`);
          break;
        case 'ChildrenRevealed':
          push(e, 'reveal children', `${2 ** Number(a.levels)} ${a.leaves ? 'leaf words' : 'hashes'} under node ${str(a.position)} at height ${str(a.height)}`);
          break;
        case 'ChildPicked':
          push(e, 'pick child', `child ${str(a.index)} → node ${str(a.position)} at height ${str(a.height)}`);
          break;
        case 'ElementChecked':
          push(e, 'one-step check', `element ${str(a.elementIndex)} of tensor ${str(a.tensorId)}: claimed ${str(a.claimed)}, computed ${str(a.computed)}`);
          break;
        case 'SumsOpened':
          push(e, 'open partial sums', `element ${str(a.elementIndex)} (claimed ${str(a.claimed)}): bisect inside its accumulator`);
          break;
        case 'SumsRevealed':
          push(e, 'reveal partial sums', `A(t) at ${(a.points as readonly unknown[] | undefined)?.length ?? 0} points of terms [${str(a.lo)}, ${str(a.hi)})`);
          break;
        case 'SumPicked':
          push(e, 'pick terms', `part ${str(a.index)} → terms [${str(a.lo)}, ${str(a.hi)})`);
          break;
        case 'SumChecked':
          push(e, 'chunk check', `terms [${str(a.from)}, ${str(a.to)}) re-added: claimed ${str(a.claimed)}, computed ${str(a.computed)}`);
          break;
        case 'GameResolved':
          push(e, 'resolved', `${OUTCOME_NAMES[Number(a.outcome)] ?? '?'} (${REASON_NAMES[Number(a.reason)] ?? '?'}); pot ${fmtVrt(BigInt(str(a.pot)))} VRT`);
          break;
        case 'DisputeResolved':
          push(e, 'settle', `market settled: ${OUTCOME_NAMES[Number(a.outcome)] ?? '?'}`);
          break;
        case 'TaskInvalidated':
          push(e, 'slash', `${fmtVrt(BigInt(str(a.slashed)))} VRT slashed, ${fmtVrt(BigInt(str(a.challengerShare)))} VRT to the challenger`);
          break;
      }
    }
    const outcome = d.settled ? d.outcome : (g?.outcome ?? 0);
    const gas = [...new Set(moves.map((m) => m.tx))].reduce((s, h) => s + this.gasOf(h), 0n);
    return {
      disputeId: d.disputeId,
      taskId: d.taskId,
      gameId: d.gameId,
      index: d.index,
      claimant,
      challenger: d.challenger,
      state: d.settled ? 'settled' : g && g.outcome !== Outcome.Pending ? 'resolved' : 'playing',
      outcome: OUTCOME_NAMES[outcome] ?? 'pending',
      reason: g?.reason !== null && g?.reason !== undefined ? (REASON_NAMES[g.reason] ?? null) : null,
      gas: String(gas),
      openedAt: this.time(d.openedBlock),
      moves,
    };
  }

  private series(bucket: number, maxPoints: number): SeriesPoint[] {
    if (this.events.length === 0) return [];
    const first = this.time(this.events.find((e) => e.address === lc(this.ctx.addresses.taskMarket))?.block ?? this.events[0]!.block);
    const start = Math.floor(first / bucket) * bucket;
    const end = Math.floor(this.head.time / bucket) * bucket;
    const from = Math.max(start, end - (maxPoints - 1) * bucket);
    const points = new Map<number, SeriesPoint>();
    for (let t = from; t <= end; t += bucket) points.set(t, { t, gas: 0, txs: 0, posted: 0, finalized: 0, disputes: 0 });
    const at = (block: number) => points.get(Math.floor(this.time(block) / bucket) * bucket);
    for (const [, r] of this.receipts) {
      const p = at(r.block);
      if (p) {
        p.gas += Number(r.gas);
        p.txs++;
      }
    }
    for (const e of this.events) {
      if (e.address !== lc(this.ctx.addresses.taskMarket)) continue;
      const p = at(e.block);
      if (!p) continue;
      if (e.name === 'TaskPosted') p.posted++;
      else if (e.name === 'TaskFinalized') p.finalized++;
      else if (e.name === 'ResultChallenged') p.disputes++;
    }
    return [...points.values()];
  }

  /** The network now: refreshes, then reads stakes and reputations. */
  async snapshot(node: VerityNode, q: NetworkQuery): Promise<NetworkView> {
    await this.refresh();
    const pc = this.ctx.publicClient;
    const a = this.ctx.addresses;
    const tasks = [...this.tasks.values()];
    const disputes = [...this.disputes.values()].map((d) => this.disputeView(d));

    // Every account that took part: registered agents, requesters, challengers.
    const roles = new Map<string, AgentView['role']>();
    for (const [addr, r] of this.registered) roles.set(addr, /^verity:(worker|verifier|requester):/.exec(r.uri)?.[1] as AgentView['role'] | undefined ?? 'agent');
    for (const t of tasks) if (!roles.has(t.requester)) roles.set(t.requester, 'requester');
    for (const d of this.disputes.values()) if (!roles.has(d.challenger)) roles.set(d.challenger, 'verifier');
    const agents = await Promise.all(
      [...roles].map(async ([addr, role]): Promise<AgentView> => {
        const reg = this.registered.get(addr);
        const [acct, claimable, rep] = await Promise.all([
          pc.readContract({ address: a.staking, abi: stakingAbi, functionName: 'accountOf', args: [addr as Address] }),
          pc.readContract({ address: a.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [addr as Address] }),
          reg ? pc.readContract({ address: a.reputationRegistry, abi: reputationRegistryAbi, functionName: 'getSummary', args: [BigInt(reg.agentId), [a.taskMarket], '', ''] }) : Promise.resolve(undefined),
        ]);
        const mine = tasks.filter((t) => t.worker === addr);
        const finals = this.events.filter((e) => e.name === 'TaskFinalized' && lc(e.args.worker) === addr);
        const slashed = this.events
          .filter((e) => e.name === 'TaskInvalidated' && this.tasks.get(str(e.args.taskId))?.worker === addr)
          .reduce((s, e) => s + BigInt(str(e.args.slashed)), 0n);
        const asChallenger = disputes.filter((d) => d.challenger === addr);
        const asClaimant = disputes.filter((d) => d.claimant === addr);
        return {
          address: addr,
          agentId: reg?.agentId ?? null,
          uri: reg?.uri ?? null,
          role,
          staked: String(acct.staked),
          locked: String(acct.locked),
          claimable: String(claimable),
          reputation: rep ? { count: Number(rep[0]), value: Number(rep[1]) / 10 ** Number(rep[2]) } : null,
          tasksCommitted: mine.filter((t) => t.txs.commit).length,
          tasksFinalized: finals.length,
          tasksPosted: tasks.filter((t) => t.requester === addr).length,
          challenges: asChallenger.length,
          disputesWon: asChallenger.filter((d) => d.outcome === 'challenger won').length + asClaimant.filter((d) => d.outcome === 'claimant won').length,
          disputesLost: asChallenger.filter((d) => d.outcome === 'claimant won').length + asClaimant.filter((d) => d.outcome === 'challenger won').length,
          earned: String(finals.reduce((s, e) => s + BigInt(str(e.args.workerPayout)), 0n)),
          slashed: String(slashed),
        };
      }),
    );
    const order = { worker: 0, verifier: 1, requester: 2, agent: 3 };
    agents.sort((x, y) => order[x.role] - order[y.role] || Number(x.agentId ?? 1e9) - Number(y.agentId ?? 1e9) || x.address.localeCompare(y.address));

    const taskStates: Record<string, number> = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
    for (const t of tasks) taskStates[t.state]!++;
    const byIdDesc = (x: { taskId: string }, y: { taskId: string }) => Number(y.taskId) - Number(x.taskId);
    return {
      at: new Date().toISOString(),
      node: { role: node.role.name, account: lc(this.ctx.account) },
      chain: { chainId: this.chainId, block: this.head.block, time: this.head.time },
      totals: {
        agents: agents.length,
        tasks: tasks.length,
        finalized: taskStates.finalized ?? 0,
        invalidated: taskStates.invalidated ?? 0,
        disputes: disputes.length,
        disputesOpen: disputes.filter((d) => d.state !== 'settled').length,
        txs: this.receipts.size,
        gas: String([...this.receipts.values()].reduce((s, r) => s + r.gas, 0n)),
        slashed: String(this.events.filter((e) => e.name === 'TaskInvalidated').reduce((s, e) => s + BigInt(str(e.args.slashed)), 0n)),
      },
      taskStates,
      agents,
      tasks: tasks
        .sort(byIdDesc)
        .slice(0, q.tasks)
        .map(({ postedBlock, updatedBlock, ...t }) => ({ ...t, txs: { ...t.txs }, disputes: [...t.disputes], postedAt: this.time(postedBlock), updatedAt: this.time(updatedBlock) })),
      disputes: disputes.sort((x, y) => Number(y.disputeId) - Number(x.disputeId)).slice(0, q.disputes),
      series: { bucketSeconds: q.bucket, points: this.series(q.bucket, q.points) },
    };
  }
}

function fmtVrt(w: bigint): string {
  return (Number(w / 10n ** 15n) / 1000).toString();
}

async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

export interface DashboardRouteOptions {
  /** Validates a request part with a zod schema (throws the API's 400). */
  parse: <T>(schema: z.ZodType<T>, v: unknown, what: string) => T;
  json: (schema: z.ZodType) => Record<string, unknown>;
  errorSchema: z.ZodType;
  /** Where the prebuilt page is (default dist/web; the dashboard is its dashboard/ folder). */
  webRoot?: string;
}

/** Registers GET /network and the /dashboard page on the node's API. */
export async function registerDashboard(app: FastifyInstance, node: VerityNode, o: DashboardRouteOptions): Promise<void> {
  const indexer = new NetworkIndexer(node.ctx);
  await app.register(async (scope) => {
    // Plain JSON.stringify: the documented response schema must not silently reshape what the handler returns.
    scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
    scope.get(
      '/network',
      {
        schema: {
          summary: 'The network as the chain shows it: agents (stake, reputation), tasks and states, disputes with their moves (tx, gas), gas and throughput per interval',
          querystring: o.json(networkQuerySchema),
          response: { 200: o.json(networkViewSchema), 400: o.json(o.errorSchema) },
        },
      },
      async (req) => indexer.snapshot(node, o.parse(networkQuerySchema, req.query ?? {}, 'query')),
    );
    const page = (type: string, pick: (a: PageAssets) => string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
      reply.type(type).header('cache-control', 'no-cache').send(pick(await pageAssets('dashboard', o.webRoot)));
    scope.get('/dashboard', { schema: { summary: 'The live network dashboard (HTML; polls /network)', produces: ['text/html'] } }, page('text/html; charset=utf-8', (a) => a.html));
    scope.get('/dashboard/app.js', { schema: { hide: true } }, page('text/javascript; charset=utf-8', (a) => a.js));
    scope.get('/dashboard/style.css', { schema: { hide: true } }, page('text/css; charset=utf-8', (a) => a.css));
  });
}
