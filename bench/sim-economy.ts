/**
 * Adversarial economic simulation of the protocol (issue 11): rational strategies over many rounds, each strategy's
 * expected profit per task, with the token flows of bench/economy-model.ts — a model of the contracts checked first
 * against the real contracts on anvil (bench/economy-check.ts: per-party token deltas to the wei, and the gas of
 * every call, which the simulation then prices at ENV_DEFAULTS.gasPriceGwei).
 *
 *   npm run sim:economy        → prints the check and the strategy table, writes bench/results/sim-economy.json
 *   SIM_SKIP_CHAIN=1 …         → model only (no anvil; gas from bench/results/gas.json or estimates)
 *
 * Profit = tokens received − tokens paid − gas (VRT) − compute (VRT). A strategy "loses money" when its profit per
 * task is below the honest alternative's (for a liar at rate q: the honest worker's), i.e. the deviation does not pay.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAgainstContracts, deployedRules, type ScenarioCheck } from './economy-check.js';
import {
  BPS,
  DESIGN_DEFAULTS,
  E18,
  ENV_DEFAULTS,
  GAS_ESTIMATES,
  finalize,
  gameBonds,
  gasVrt,
  invalidate,
  post,
  rng,
  vrt,
  wei,
  type Deltas,
  type EconParams,
  type Env,
  type GasTable,
} from './economy-model.js';

// ---------------------------------------------------------------------------------------------- one task
/** TaskMarket.MAX_TEAM: most members of one game's challenger side. */
const MAX_TEAM = 4;
type AuditorKind = 'honest' | 'lazy';

interface TaskSpec {
  /** This task's result is wrong (the worker skipped the computation). */
  lies: boolean;
  batch: boolean;
  /** Withheld batch: the worker never computed nor can open any element. */
  withholds?: boolean;
  /** Auditors competing for the audit slots, in arrival order. */
  auditors: AuditorKind[];
  /** A griefer challenges this (honest) task and goes silent. */
  griefer?: boolean;
  /** The liar's sock puppet joins / front-runs every challenge against it. */
  puppet?: boolean;
  /** Who posts the task ('worker' for a self-dealing farmer). */
  requester?: string;
  /** The liar's own staked puppet auditors, committing first (the worker can draw and commit in one block). */
  puppetAuditors?: number;
  /** Games the griefer opens (default env.griefGames). */
  griefGames?: number;
}

interface Ctx {
  p: EconParams;
  env: Env;
  gas: GasTable;
  rand: () => number;
  pool: bigint;
  /** VRT profit per party. */
  ledger: Record<string, number>;
  honestSlashed: number;
  honestTasks: number;
  lies: number;
  liesCaught: number;
  audits: number;
  reputation: Record<string, number>;
}

function newCtx(p: EconParams, env: Env, gas: GasTable, seed: number, poolSeed = p.auditPoolSeed): Ctx {
  return { p, env, gas, rand: rng(seed), pool: poolSeed, ledger: {}, honestSlashed: 0, honestTasks: 0, lies: 0, liesCaught: 0, audits: 0, reputation: {} };
}

function cost(c: Ctx, who: string, ...actions: string[]): void {
  for (const a of actions) {
    const g = c.gas[a]?.gas ?? GAS_ESTIMATES[a];
    if (g === undefined) throw new Error(`sim-economy: no gas figure for ${a}`);
    c.ledger[who] = (c.ledger[who] ?? 0) - gasVrt(c.env, g);
  }
}
function compute(c: Ctx, who: string, inferences: number): void {
  c.ledger[who] = (c.ledger[who] ?? 0) - inferences * c.env.computeVrt;
}
function tokens(c: Ctx, d: Deltas): void {
  for (const [k, v] of Object.entries(d)) {
    if (k === 'pool') c.pool += v;
    c.ledger[k] = (c.ledger[k] ?? 0) + vrt(v);
  }
}
function rep(c: Ctx, who: string, n: number): void {
  c.reputation[who] = (c.reputation[who] ?? 0) + n;
}

function runTask(c: Ctx, s: TaskSpec): void {
  const { p, env } = c;
  const fee = wei(s.batch ? env.batchFeeVrt : env.feeVrt);
  const req = s.requester ?? 'requester';
  const elements = s.batch ? env.batchSize : 1;
  tokens(c, post(fee, req));
  cost(c, req, s.batch ? 'postBatchTask' : 'postTask');
  cost(c, 'worker', 'claim', s.batch ? 'commitBatch' : 'commit');
  if (s.lies) {
    c.lies++;
    c.ledger.worker = (c.ledger.worker ?? 0) + env.liarExternalGainVrt;
  } else {
    c.honestTasks++;
    compute(c, 'worker', elements);
  }

  // ---- audit (AuditBook): every committed task is drawn (finalize waits for it; the worker draws to get paid)
  let caught: string[] = [];
  if (p.rules.audit) {
    cost(c, 'worker', 'drawAudit');
    const selected = c.rand() < Number(p.auditRateBps) / Number(BPS);
    if (selected) {
      c.audits++;
      // Every staked auditor seals (AuditBook has no first-come slots): the liar's puppets cannot keep anyone out.
      type Seal = { k: AuditorKind | 'puppet'; name: string };
      const puppets: Seal[] = Array.from({ length: s.puppetAuditors ?? 0 }, (_, i) => ({ k: 'puppet' as const, name: `puppetAuditor${i}` }));
      const seals: Seal[] = [...puppets, ...s.auditors.map((k, i) => ({ k, name: `auditor${i}:${k}` }))];
      const honestSeals = seals.filter((a) => a.k === 'honest');
      for (const a of seals) {
        cost(c, a.name, 'commitAudit');
        tokens(c, { [a.name]: -p.auditDeposit }); // held by the book
        if (a.k === 'honest') compute(c, a.name, 1);
      }
      // PAID_REVEALS seals picked by the answer block's hash, uniformly among all seals (distinct positions)
      const picked = new Set<number>();
      if (seals.length <= p.maxAuditors) seals.forEach((_, i) => picked.add(i));
      else while (picked.size < p.maxAuditors) picked.add(Math.floor(c.rand() * seals.length));
      const reward = (name: string) => {
        const r = c.pool < p.auditReward ? c.pool : p.auditReward;
        tokens(c, { [name]: r, pool: -r });
      };
      const reclaim = (a: Seal) => {
        cost(c, a.name, 'reclaimDeposit');
        tokens(c, { [a.name]: p.auditDeposit });
      };
      const teamRules = { ...p, rules: { ...p.rules, teamSplit: true } };
      if (s.lies && honestSeals.length > 0) {
        c.liesCaught++;
        const first = honestSeals[0]!;
        if (!s.batch) {
          // A single task: the honest auditors re-executed the whole element, see the committed outputs are wrong
          // and challenge at once (the node's verifier does); the liar's sock puppet and its puppet auditors fill
          // the challenger team (≤ MAX_TEAM) and take part of the share. A silent liar's audit waits for the dispute
          // (AuditDisputeOpen) and then settles with nothing more to slash; with puppet auditors the liar answers
          // its own root instead, so its puppets match and may be picked for a reward. Every non-puppet deposit is
          // refunded (the task is invalidated).
          const joiners = [...honestSeals.slice(1).map((a) => a.name), ...(s.puppet ? ['puppet'] : []), ...puppets.map((a) => a.name)].slice(0, MAX_TEAM - 1);
          const team = [first.name, ...joiners];
          cost(c, first.name, 'challenge', 'timeout', 'resolveSlash');
          for (const j of joiners) cost(c, j, 'joinChallenge');
          tokens(c, invalidate(teamRules, fee, team, 'worker', req));
          tokens(c, gameBonds(p, 'challenger', first.name, 'worker', false));
          if (puppets.length > 0) {
            cost(c, 'worker', 'answerAudit');
            seals.forEach((a, i) => {
              cost(c, a.name, 'revealAudit');
              if (a.k === 'puppet') {
                tokens(c, { [a.name]: p.auditDeposit });
                if (picked.has(i)) reward(a.name);
              }
            });
          }
          cost(c, first.name, 'settleAudit');
          for (const a of seals) if (a.k !== 'puppet') reclaim(a);
          return;
        }
        // A batch: the element is not public (no outputs to compare), the withholder cannot answer; settleAudit
        // invalidates the batch and the challenger share goes to the pool (no sealer is paid for a seal never
        // compared); every deposit is reclaimed.
        cost(c, first.name, 'settleAuditInvalidate');
        tokens(c, invalidate(teamRules, fee, ['pool'], 'worker', req));
        for (const a of seals) reclaim(a);
        return;
      }
      if (seals.length > 0) {
        cost(c, 'worker', 'answerAudit');
        seals.forEach((a, i) => {
          cost(c, a.name, 'revealAudit');
          if (a.k === 'honest' || a.k === 'puppet') {
            // (a puppet seals the liar's own tensor j) re-execution gives the worker's tensor j: match -> deposit back, + min(pool, reward) if picked
            tokens(c, { [a.name]: p.auditDeposit });
            if (picked.has(i)) reward(a.name);
          } else {
            // a random seal never opens to the worker's tensor root: deposit held, forfeited to the pool at settlement
            tokens(c, { pool: p.auditDeposit });
          }
        });
      }
      cost(c, 'worker', 'settleAudit');
    }
  }
  // ---- data availability: the requester of a withheld batch never received its results and asks for one element
  // on-chain (DataAvailability.requestElement); the withholder cannot open it, settleUnopened invalidates the batch
  // (stake slashed, fee refunded, the requester takes the challenger share and its bond back)
  if (s.withholds && p.rules.da) {
    c.liesCaught++;
    cost(c, req, 'requestElement', 'settleUnopened');
    tokens(c, invalidate({ ...p, rules: { ...p.rules, teamSplit: true } }, fee, [req], 'worker', req));
    return;
  }
  if (s.lies && c.rand() < env.watchProb) caught = ['watcher'];

  // ---- challenge of a lie: the rational liar concedes (never reveals), the challenger wins on time
  if (caught.length > 0) {
    c.liesCaught++;
    const first = caught[0]!;
    let winners = [...caught];
    if (s.puppet) {
      if (p.rules.teamSplit) {
        winners.push('puppet');
        cost(c, 'puppet', 'joinChallenge'); // joinBond back: the side wins
      } else {
        // pre-fix: the puppet's own game on the same element is conceded first and takes the whole share
        winners = ['puppet'];
        cost(c, 'puppet', 'challenge', 'timeout', 'resolveSlash');
      }
    }
    cost(c, first, 'challenge', 'timeout');
    if (!s.puppet || p.rules.teamSplit) cost(c, first, 'resolveSlash');
    for (const other of caught.slice(1)) if (p.rules.teamSplit) cost(c, other, 'joinChallenge');
    if (!p.rules.teamSplit) winners = winners.slice(0, 1);
    tokens(c, invalidate(p, fee, winners, 'worker', req));
    tokens(c, gameBonds(p, 'challenger', first, 'worker', false));
    return;
  }

  // ---- griefing of an honest task
  if (s.griefer && !s.lies) {
    const games = p.rules.stakeBackedBond ? 1 : (s.griefGames ?? env.griefGames); // post-fix: one live game per element
    const bondable = p.rules.stakeBackedBond ? games : Math.floor(env.workerLiquidVrt / vrt(p.bond));
    for (let k = 0; k < games; k++) {
      cost(c, 'griefer', 'challenge');
      if (k < bondable) {
        cost(c, 'worker', 'gameClaimantMoves', 'timeout', 'resolveWon');
        tokens(c, gameBonds(p, 'claimant', 'griefer'));
        if (!s.requester) rep(c, 'worker', 0);
      } else {
        // the worker cannot post the bond: it loses this game on time, and the task is invalidated
        cost(c, 'griefer', 'timeout', 'resolveSlash');
        tokens(c, invalidate(p, fee, ['griefer'], 'worker', req));
        tokens(c, gameBonds(p, 'challenger', 'griefer', 'worker', false));
        c.honestSlashed++;
        return;
      }
    }
    if (s.requester === 'worker') rep(c, 'worker', p.rules.bondSplit ? 0 : games); // idle-puppet "dispute won"
  }

  cost(c, 'worker', 'finalize', 'withdraw');
  tokens(c, finalize(p, fee));
  rep(c, 'worker', 1);
}

// ---------------------------------------------------------------------------------------------- strategies
interface StrategyRow {
  strategy: string;
  party: string;
  /** Mean profit per task (VRT) of that party in this strategy's run. */
  profitPerTask: number;
  /** The same, per unit named in `unit` (per audit, per lie, per challenge, per reputation point). */
  profitPerUnit?: number;
  unit?: string;
  /** Profit per task relative to the honest alternative (negative: the deviation loses money). */
  vsHonest?: number;
  analytic?: number;
  tasks: number;
  target: string;
  met: boolean;
  fix?: string;
}

function per(c: Ctx, party: string, n: number): number {
  return (c.ledger[party] ?? 0) / n;
}

export function simulate(p: EconParams, env: Env, gas: GasTable) {
  const rows: StrategyRow[] = [];
  const R = env.rounds;
  let honestSlashed = 0;
  let honestTasks = 0;
  const tally = (c: Ctx) => {
    honestSlashed += c.honestSlashed;
    honestTasks += c.honestTasks;
  };
  const rate = Number(p.auditRateBps) / Number(BPS);
  const gv = (a: string) => gasVrt(env, gas[a]?.gas ?? GAS_ESTIMATES[a]!);
  const fee = env.feeVrt;
  const net = vrt(finalize(p, wei(fee)).worker!);
  const S = vrt(p.minStake);

  // baseline: 0% cheaters, honest worker, two honest auditors
  const base = newCtx(p, env, gas, env.seed);
  for (let i = 0; i < R; i++) runTask(base, { lies: false, batch: false, auditors: ['honest', 'honest'] });
  tally(base);
  const honestWorker = per(base, 'worker', R);
  rows.push({
    strategy: 'honest worker (0% cheaters)',
    party: 'worker',
    profitPerTask: honestWorker,
    analytic: net - gv('claim') - gv('commit') - gv('finalize') - gv('withdraw') - env.computeVrt - (p.rules.audit ? rate * gv('answerAudit') : 0),
    tasks: R,
    target: '> 0',
    met: honestWorker > 0,
  });
  const a0 = 'auditor0:honest';
  const auditorPerTask = per(base, a0, R);
  const auditorPerAudit = base.audits > 0 ? (base.ledger[a0] ?? 0) / base.audits : 0;
  rows.push({
    strategy: 'honest auditor (0% cheaters)',
    party: a0,
    profitPerTask: auditorPerTask,
    profitPerUnit: auditorPerAudit,
    unit: 'audit',
    tasks: R,
    target: 'profit per task > 0',
    met: p.rules.audit && auditorPerTask > 0,
    ...(!p.rules.audit
      ? { fix: 'audits not deployed: an honest verifier earns nothing at 0% cheaters (needs drawAudit/commitAudit/revealAudit + auditFeeBps)' }
      : auditorPerTask <= 0
        ? { fix: `raise auditFeeBps (pool inflow ${(vrt(wei(fee)) * Number(p.auditFeeBps)) / 1e4} VRT/task) or auditReward above re-execution + gas ≈ ${(env.computeVrt + gv('commitAudit') + gv('revealAudit') + gv('drawAudit')).toFixed(4)} VRT` }
        : {}),
  });
  const poolEnd = vrt(base.pool);

  // lazy auditor competing with one honest auditor
  const lazy = newCtx(p, env, gas, env.seed + 1);
  for (let i = 0; i < R; i++) runTask(lazy, { lies: false, batch: false, auditors: ['lazy', 'honest'] });
  tally(lazy);
  const lz = 'auditor0:lazy';
  rows.push({
    strategy: 'lazy auditor (random seal)',
    party: lz,
    profitPerTask: per(lazy, lz, R),
    profitPerUnit: lazy.audits > 0 ? (lazy.ledger[lz] ?? 0) / lazy.audits : 0,
    unit: 'audit',
    analytic: p.rules.audit ? rate * (-vrt(p.auditDeposit) - gv('drawAudit') - gv('commitAudit') - gv('revealAudit')) : 0,
    tasks: R,
    target: '< 0',
    met: p.rules.audit ? per(lazy, lz, R) < 0 : false,
    ...(!p.rules.audit ? { fix: 'audits not deployed: there is no lazy auditor to punish (and no pay to be lazy about)' } : {}),
  });

  // lazy auditor sealing beside an honest one on a liar's tasks (the liar stays silent): the lazy seal is never
  // compared, so it must not share the slash (AuditBook: the challenger share of a silent worker goes to the pool)
  const lzl = newCtx(p, env, gas, env.seed + 9);
  for (let i = 0; i < R; i++) runTask(lzl, { lies: true, batch: false, auditors: ['lazy', 'honest'] });
  rows.push({
    strategy: 'lazy auditor beside a silent liar',
    party: lz,
    profitPerTask: per(lzl, lz, R),
    profitPerUnit: lzl.audits > 0 ? (lzl.ledger[lz] ?? 0) / lzl.audits : 0,
    unit: 'audit',
    tasks: R,
    target: '< 0 (never re-executed: no share)',
    met: p.rules.audit ? per(lzl, lz, R) < 0 : false,
    ...(p.rules.audit && per(lzl, lz, R) >= 0 ? { fix: 'the sealers of a silent worker share the challenger share: a lazy seal is paid without re-executing' } : {}),
  });

  // liars at rate q (enough rounds for ≥ 2000 lies)
  for (const q of [0.01, 0.05, 0.2, 1]) {
    const n = Math.max(R, Math.ceil(2_000 / q));
    const c = newCtx(p, env, gas, env.seed * 1_000 + 7_919 * Math.round(q * 100));
    for (let i = 0; i < n; i++) runTask(c, { lies: c.rand() < q, batch: false, auditors: ['honest', 'honest'] });
    tally(c);
    const prof = per(c, 'worker', n);
    const catchP = p.rules.audit ? rate : 0;
    const watch = env.watchProb * (1 - catchP);
    const pc = catchP + watch;
    const perLie = pc * -S + (1 - pc) * net + env.liarExternalGainVrt - (gv('claim') + gv('commit')) - (1 - pc) * (gv('finalize') + gv('withdraw'));
    const perHonest = honestWorker;
    const breakEvenRate = (env.computeVrt + env.liarExternalGainVrt) / (S + net);
    rows.push({
      strategy: `liar at q = ${q * 100}%`,
      party: 'worker',
      profitPerTask: prof,
      profitPerUnit: c.lies > 0 ? (prof * n - (n - c.lies) * perHonest) / c.lies : 0,
      unit: `lie (${c.liesCaught}/${c.lies} caught)`,
      vsHonest: prof - perHonest,
      analytic: q * perLie + (1 - q) * perHonest - perHonest,
      tasks: n,
      target: 'profit below the honest worker’s',
      met: prof < perHonest,
      ...(prof >= perHonest
        ? { fix: `catch probability ${pc} per lie; need auditRateBps ≥ ${Math.ceil(breakEvenRate * 1e4 * 1.5)} (1.5 × break-even ${(breakEvenRate * 100).toFixed(3)}% = (compute ${env.computeVrt} + gain ${env.liarExternalGainVrt}) / (minStake + net fee))` }
        : {}),
    });
  }

  // griefer challenging every honest task
  const gr = newCtx(p, env, gas, env.seed + 2);
  for (let i = 0; i < R; i++) runTask(gr, { lies: false, batch: false, auditors: ['honest', 'honest'], griefer: true });
  tally(gr);
  rows.push({
    strategy: `griefer (${p.rules.stakeBackedBond ? 1 : env.griefGames} game(s) per honest task, silent)`,
    party: 'griefer',
    profitPerTask: per(gr, 'griefer', R),
    tasks: R,
    target: '< 0, honest worker never slashed',
    met: per(gr, 'griefer', R) < 0 && gr.honestSlashed === 0,
    ...(gr.honestSlashed > 0
      ? { fix: `bond exhaustion: ${gr.honestSlashed} honest slashes — the claimant must post a liquid bond per game (worker liquid ${env.workerLiquidVrt} VRT < ${env.griefGames} × bond); fix: stake-backed claimant bond + one live game per element` }
      : {}),
  });
  rows.push({ strategy: 'honest worker under griefing', party: 'worker', profitPerTask: per(gr, 'worker', R), vsHonest: per(gr, 'worker', R) - honestWorker, tasks: R, target: '(info)', met: true });

  // liar with a sock-puppet challenger (lies every task)
  const pu = newCtx(p, env, gas, env.seed + 3);
  for (let i = 0; i < R; i++) runTask(pu, { lies: true, batch: false, auditors: ['honest', 'honest'], puppet: true });
  tally(pu);
  const puppetCombined = per(pu, 'worker', R) + per(pu, 'puppet', R);
  rows.push({
    strategy: 'liar + sock-puppet challenger',
    party: 'worker+puppet',
    profitPerTask: puppetCombined,
    vsHonest: puppetCombined - honestWorker,
    tasks: R,
    target: 'profit below the honest worker’s',
    met: puppetCombined < honestWorker,
  });
  const honestCh = Object.keys(pu.ledger).filter((k) => k.startsWith('auditor'));
  const hcProfit = honestCh.reduce((s, k) => s + (pu.ledger[k] ?? 0), 0) / Math.max(1, pu.liesCaught);
  rows.push({
    strategy: 'honest challenger vs a liar with a puppet',
    party: 'auditors',
    profitPerTask: honestCh.reduce((s, k) => s + (pu.ledger[k] ?? 0), 0) / R,
    profitPerUnit: hcProfit,
    unit: 'catch',
    tasks: R,
    target: '> 0 per catch',
    met: hcProfit > 0,
    ...(hcProfit <= 0 ? { fix: 'the puppet takes the challenger share: split the share among all challenger-side winners (team)' } : {}),
  });

  // liar whose own staked puppets take every audit slot (first come: the worker knows the draw first, it can draw
  // and commit in one block), on every task
  if (p.rules.audit) {
    const pa = newCtx(p, env, gas, env.seed + 8);
    for (let i = 0; i < R; i++) runTask(pa, { lies: true, batch: false, auditors: ['honest', 'honest'], puppetAuditors: p.maxAuditors });
    const combined = Object.entries(pa.ledger).filter(([k]) => k === 'worker' || k.startsWith('puppetAuditor')).reduce((x, [, v]) => x + v, 0) / R;
    rows.push({
      strategy: `liar + ${p.maxAuditors} puppet auditors sealing first`,
      party: 'worker+puppets',
      profitPerTask: combined,
      vsHonest: combined - honestWorker,
      unit: `lie (${pa.liesCaught}/${pa.lies} caught)`,
      tasks: R,
      target: 'profit below the honest worker’s',
      met: combined < honestWorker && combined < 0,
      ...(combined >= honestWorker || combined >= 0
        ? { fix: 'puppet-held audit slots still shield the liar: every staked auditor must be able to seal, and the paid seals must be picked after the seals are fixed' }
        : {}),
    });
  }

  // reputation farmer: self-tasks at the smallest accepted fee; and the idle-puppet self-challenge
  const farmEnv: Env = { ...env, feeVrt: vrt(p.rules.minFee ? p.minFee : 1n) };
  const fa = newCtx(p, farmEnv, gas, env.seed + 4);
  for (let i = 0; i < R; i++) runTask(fa, { lies: false, batch: false, auditors: ['honest', 'honest'], requester: 'worker' });
  const points = fa.reputation.worker ?? 0;
  const farmCost = (fa.ledger.worker ?? 0) / Math.max(1, points);
  rows.push({
    strategy: `reputation farmer (self-tasks at ${farmEnv.feeVrt} VRT)`,
    party: 'worker',
    profitPerTask: per(fa, 'worker', R),
    profitPerUnit: farmCost,
    unit: 'reputation point',
    tasks: R,
    target: '< 0 beyond gas (costs ≥ protocol fee per point)',
    met: p.rules.minFee && per(fa, 'worker', R) < 0,
    ...(!p.rules.minFee ? { fix: 'pre-fix: the protocol fee of a 1-wei task rounds to 0, a point costs only gas — governed minFee and round the protocol fee up' } : {}),
  });
  const fp = newCtx(p, farmEnv, gas, env.seed + 5);
  for (let i = 0; i < R; i++) runTask(fp, { lies: false, batch: false, auditors: ['honest', 'honest'], requester: 'worker', griefer: true, griefGames: 1 });
  const fpCombined = (fp.ledger.worker ?? 0) + (fp.ledger.griefer ?? 0);
  const fpPoints = fp.reputation.worker ?? 0;
  rows.push({
    strategy: 'reputation farmer + idle puppet self-challenge',
    party: 'worker+puppet',
    profitPerTask: fpCombined / R,
    profitPerUnit: fpCombined / Math.max(1, fpPoints),
    unit: 'reputation point',
    tasks: R,
    target: '< 0 beyond gas',
    met: p.rules.bondSplit && fpCombined < 0,
    ...(!p.rules.bondSplit ? { fix: 'pre-fix: the idle puppet returns its bond to the farmer and gives "dispute won"; split the losing bond to the treasury and give no "won" for idle games' } : {}),
  });

  // batch withholder vs honest batch worker
  const hb = newCtx(p, env, gas, env.seed + 6);
  for (let i = 0; i < R; i++) runTask(hb, { lies: false, batch: true, auditors: ['honest', 'honest'] });
  tally(hb);
  const wb = newCtx(p, env, gas, env.seed + 7);
  for (let i = 0; i < R; i++) runTask(wb, { lies: true, withholds: true, batch: true, auditors: ['honest', 'honest'] });
  const hbW = per(hb, 'worker', R);
  const wbW = per(wb, 'worker', R);
  rows.push({ strategy: `honest batch worker (batch ${env.batchSize}, fee ${env.batchFeeVrt} VRT)`, party: 'worker', profitPerTask: hbW, tasks: R, target: '> 0', met: hbW > 0 });
  rows.push({
    strategy: 'batch withholder',
    party: 'worker',
    profitPerTask: wbW,
    vsHonest: wbW - hbW,
    unit: `batch (${wb.liesCaught}/${wb.lies} caught)`,
    tasks: R,
    target: '< 0 (and below the honest batch worker’s)',
    met: wbW < 0 && wbW < hbW,
    ...(wbW >= 0 || wbW >= hbW ? { fix: p.rules.da ? 'the withholder still profits' : 'no data-availability module deployed: a withheld batch is caught only by the audits (requestElement/openElement/settleUnopened)' } : {}),
  });

  return { rows, honestSlashed, honestTasks, poolEndVrt: poolEnd, baselineAudits: base.audits };
}

// ---------------------------------------------------------------------------------------------- main
function gasFromJson(): GasTable {
  const path = join(import.meta.dirname, 'results', 'gas.json');
  if (!existsSync(path)) return {};
  const j = JSON.parse(readFileSync(path, 'utf8')) as { rows: { action: string; gas: number }[] };
  const find = (prefix: string) => j.rows.find((r) => r.action.startsWith(prefix))?.gas;
  const out: GasTable = {};
  const map: Record<string, string> = { postTask: 'postTask (', postBatchTask: 'postBatchTask', claim: 'claim', commit: 'commit one', commitBatch: 'commitBatch of 100 (whole', finalize: 'finalize', resolveSlash: 'slash' };
  for (const [k, pre] of Object.entries(map)) {
    const g = find(pre);
    if (g !== undefined) out[k] = { gas: g, source: 'gas.json' };
  }
  return out;
}

async function main(): Promise<void> {
  const env: Env = { ...ENV_DEFAULTS };
  let checks: ScenarioCheck[] = [];
  let params: EconParams;
  let gas: GasTable;
  if (process.env.SIM_SKIP_CHAIN) {
    const rules = deployedRules();
    params = {
      minStake: 100n * E18, slashChallengerBps: 5_000n, protocolFeeBps: 500n, ...DESIGN_DEFAULTS,
      bond: 10n * E18, clock: 86_400n, challengeWindow: 86_400n, rules, sources: { all: 'design' },
    };
    gas = gasFromJson();
  } else {
    const r = await checkAgainstContracts();
    params = r.params;
    checks = r.checks;
    gas = { ...gasFromJson(), ...r.gas };
  }
  for (const [k, g] of Object.entries(GAS_ESTIMATES)) if (!gas[k]) gas[k] = { gas: g, source: 'estimate' };

  const sim = simulate(params, env, gas);
  // The same strategies under every issue-11 rule (design values for parameters not deployed yet): what the
  // contracts give once all of it lands. Equal to the deployed table when everything is deployed.
  const allRules = { audit: true, da: true, minFee: true, bondSplit: true, stakeBackedBond: true, teamSplit: true };
  const designParams: EconParams = { ...params, rules: allRules };
  const design = simulate(designParams, env, gas);

  // ---- print
  const pad = (s: string | number, w: number) => String(s).padEnd(w);
  const f = (x: number | undefined) => (x === undefined ? '' : x.toFixed(4));
  console.log('\nParameters (deployed = read from the contracts deployProtocol deploys; design = rule not deployed yet)');
  const show: Record<string, string> = {};
  for (const k of Object.keys(params.sources)) show[k] = `${String((params as unknown as Record<string, unknown>)[k])} (${params.sources[k]})`;
  console.log(show);
  console.log('rules deployed:', params.rules);
  console.log('environment:', env);
  if (checks.length > 0) {
    console.log('\nModel vs contracts on anvil (per-party token deltas, VRT)\n');
    for (const c of checks) {
      console.log(`${c.ok ? 'OK  ' : 'FAIL'} ${c.scenario}${c.note ? ` — ${c.note}` : ''}`);
      for (const k of Object.keys(c.expected)) if (c.expected[k] !== '0' || c.actual[k] !== '0') console.log(`       ${pad(k, 11)} model ${pad(vrt(BigInt(c.expected[k]!)), 24)} chain ${vrt(BigInt(c.actual[k]!))}`);
    }
  }
  const table = (title: string, t: ReturnType<typeof simulate>) => {
    console.log(`\n${title} (${env.rounds} rounds each, more for rare liars; profit in VRT, gas at ${env.gasPriceGwei} gwei, ${env.vrtPerEth} VRT/ETH)\n`);
    console.log(`${pad('strategy', 50)}${pad('party', 16)}${pad('profit/task', 13)}${pad('vs honest', 12)}${pad('per unit', 36)}target`);
    for (const r of t.rows) {
      console.log(`${pad(r.strategy, 50)}${pad(r.party, 16)}${pad(f(r.profitPerTask), 13)}${pad(f(r.vsHonest), 12)}${pad(r.profitPerUnit === undefined ? '' : `${f(r.profitPerUnit)}/${r.unit}`, 36)}${r.met ? 'met' : 'NOT MET'}`);
    }
    console.log(`honest parties slashed: ${t.honestSlashed} over ${t.honestTasks} honest tasks (target 0 over ≥ 1000)`);
    for (const r of t.rows.filter((x) => !x.met)) console.log(`NOT MET: ${r.strategy}: ${r.fix ?? r.target}`);
  };
  table('Strategies under the DEPLOYED rules', sim);
  table('Strategies under ALL issue-11 rules (design values where not deployed)', design);
  const unmet = sim.rows.filter((r) => !r.met);

  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const ser = (x: unknown) => JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  writeFileSync(
    join(dir, 'sim-economy.json'),
    JSON.stringify(
      {
        generatedBy: 'bench/sim-economy.ts',
        date: new Date().toISOString(),
        params: ser(params),
        env,
        gas,
        modelVsContracts: checks,
        strategies: sim.rows,
        honestSlashed: sim.honestSlashed,
        honestTasks: sim.honestTasks,
        auditPoolEndVrt: sim.poolEndVrt,
        allIssue11Rules: { rules: allRules, strategies: design.rows, honestSlashed: design.honestSlashed, honestTasks: design.honestTasks, auditPoolEndVrt: design.poolEndVrt },
        targetsMet: unmet.length === 0 && sim.honestSlashed === 0 && checks.every((c) => c.ok),
        unmet: unmet.map((r) => ({ strategy: r.strategy, fix: r.fix })),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${join('bench', 'results', 'sim-economy.json')}`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
