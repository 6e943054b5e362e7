/**
 * The economic model behind `npm run sim:economy`: the token flows of the TaskMarket / DisputeGame rules as pure
 * functions of the governed parameters, exact to the wei (bigint, the contracts' rounding), so that
 * bench/economy-check.ts can assert them against the real contracts on anvil, and bench/sim-economy.ts can run them
 * over many rounds of rational strategies.
 *
 * Parameters come from one place: the deployed contracts themselves (`readEconParams` reads TaskMarket.getParams()
 * and the game's bond/clock on a protocol deployed with deployProtocol's defaults). A parameter the deployed
 * contracts do not have yet (an issue-11 rule not landed) falls back to the design's value (.coord/ISSUE11-DESIGN.md)
 * and is marked `source: 'design'` in the output, with the rule flagged as not deployed.
 *
 * Everything not on-chain (gas price, VRT per ETH, compute cost of one inference, the fee a requester pays, what a
 * lie is worth to a liar) is an environment assumption, stated in `ENV_DEFAULTS` and printed with the results.
 */

export const BPS = 10_000n;
export const E18 = 10n ** 18n;

/** Which issue-11 rules the deployed contracts implement (detected from their ABI). */
export interface Rules {
  /** Random audits (drawAudit / commitAudit / answerAudit / revealAudit) and the audit premium. */
  audit: boolean;
  /** Data-availability challenge on batch elements (requestElement / openElement / settleUnopened). */
  da: boolean;
  /** Protocol fee rounds up and a governed minFee exists (TaskMarket.getRules). */
  minFee: boolean;
  /** The losing challenger's bond: part to the treasury, rest to the winner. */
  bondSplit: boolean;
  /** The claimant's bond in market games is backed by its locked stake (no liquid bond needed). */
  stakeBackedBond: boolean;
  /** The challenger share of a slash is split among all challenger-side winners. */
  teamSplit: boolean;
}

export type Source = 'deployed' | 'design';

export interface EconParams {
  // ---- TaskMarket
  minStake: bigint;
  slashChallengerBps: bigint;
  protocolFeeBps: bigint;
  minFee: bigint;
  auditFeeBps: bigint;
  auditRateBps: bigint;
  auditReward: bigint;
  auditDeposit: bigint;
  /** AuditBook.PAID_REVEALS: seals paid per audit (any number may seal). */
  maxAuditors: number;
  /** Audit pool at deployment (AuditBook.fundPool seed). */
  auditPoolSeed: bigint;
  /** Losing challenger's bond share to the treasury, bps. */
  bondTreasuryBps: bigint;
  daBond: bigint;
  /** Share of the slash paid to the DA requester when the element is never opened, bps. */
  daShareBps: bigint;
  /** Bond a second challenger posts to join the challenger side of a live game. */
  joinBond: bigint;
  /** Share of a claimed-and-abandoned task's locked stake slashed to the requester, bps. */
  abandonBps: bigint;
  // ---- DisputeGame
  bond: bigint;
  clock: bigint;
  challengeWindow: bigint;
  rules: Rules;
  /** Where each value came from. */
  sources: Record<string, Source>;
}

/** The design's values for parameters the deployed contracts may not have yet. */
export const DESIGN_DEFAULTS = {
  minFee: 10n ** 16n, // 0.01 VRT
  auditFeeBps: 1_000n,
  auditRateBps: 1_000n,
  auditReward: 2n * E18, // ≈ premium / rate at the demo fee of 2 VRT
  auditDeposit: 5n * E18,
  maxAuditors: 2,
  auditPoolSeed: 0n,
  bondTreasuryBps: 2_000n,
  daBond: 1n * E18,
  daShareBps: 5_000n,
  joinBond: 1n * E18,
  abandonBps: 1_000n,
};

/** Environment assumptions (not on-chain), stated with every result. */
export const ENV_DEFAULTS = {
  /** Fee a requester pays per single-element task (the network demo's fee). */
  feeVrt: 2,
  /** Elements per batch task. */
  batchSize: 100,
  /** Fee per batch task of batchSize elements. */
  batchFeeVrt: 20,
  /** Gas price, gwei (an L2 such as Base/Arbitrum; L1 is ~10-30). */
  gasPriceGwei: 0.05,
  /** VRT per ETH (1 VRT = 1 USD, 1 ETH = 3000 USD). */
  vrtPerEth: 3_000,
  /**
   * Compute cost of one inference (run or re-execution), VRT. The shipped models cost ~1e-8 VRT (bench:engine: ≤ 0.2
   * ms on one core at ~$0.05/core-hour); 0.05 VRT is a deliberately heavy stand-in (a model costing 2.5% of the fee).
   */
  computeVrt: 0.05,
  /** Value to the liar of one wrong result beyond the compute it saves (a bribe); 0 = a lazy liar. */
  liarExternalGainVrt: 0,
  /** Probability a non-auditing watcher challenges an unaudited task (0: only audits catch anything). */
  watchProb: 0,
  /** The honest worker's liquid (unstaked) VRT balance, for the pre-fix bond-exhaustion attack. */
  workerLiquidVrt: 25,
  /** Games a griefer opens on one element of an honest task. */
  griefGames: 3,
  /** Rounds (tasks) per strategy in the Monte Carlo. */
  rounds: 2_000,
  seed: 11,
};
export type Env = typeof ENV_DEFAULTS;

export const vrt = (x: bigint): number => Number(x) / 1e18;
export const wei = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

// ---------------------------------------------------------------------------------------------- token flows
/** Per-party token deltas of one event, wei. Parties: requester, worker, treasury, pool, and named others. */
export type Deltas = Record<string, bigint>;

export function add(into: Deltas, from: Deltas): Deltas {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0n) + v;
  return into;
}

export function protocolFee(p: EconParams, fee: bigint): bigint {
  const x = fee * p.protocolFeeBps;
  return p.rules.minFee ? (x + BPS - 1n) / BPS : x / BPS;
}

export function auditPremium(p: EconParams, fee: bigint): bigint {
  return p.rules.audit ? (fee * p.auditFeeBps) / BPS : 0n;
}

/** Posting a task escrows the fee. */
export function post(fee: bigint, requester = 'requester'): Deltas {
  return { [requester]: -fee };
}

/** finalize: worker gets fee − protocol fee − audit premium; treasury the protocol fee; the audit pool the premium. */
export function finalize(p: EconParams, fee: bigint, worker = 'worker'): Deltas {
  const pf = protocolFee(p, fee);
  const af = auditPremium(p, fee);
  return { [worker]: fee - pf - af, treasury: pf, pool: af };
}

/**
 * A lost dispute invalidates the task: the locked stake is slashed, the challenger share (slashChallengerBps) goes to
 * the challenger-side winners (split evenly, remainder to the treasury, when the team split is deployed; all of it
 * to the first resolver otherwise), the rest to the treasury, the fee back to the requester.
 */
export function invalidate(p: EconParams, fee: bigint, winners: string[], worker = 'worker', requester = 'requester'): Deltas {
  const s = p.minStake;
  const share = (s * p.slashChallengerBps) / BPS;
  const d: Deltas = { [worker]: -s, [requester]: fee, treasury: s - share };
  if (p.rules.teamSplit) {
    const each = share / BigInt(winners.length);
    for (const w of winners) d[w] = (d[w] ?? 0n) + each;
    d.treasury! += share - each * BigInt(winners.length);
  } else {
    d[winners[0]!] = (d[winners[0]!] ?? 0n) + share;
  }
  return d;
}

/**
 * Bonds of one game. Pre-fix the claimant posts a liquid bond with revealRoots and the winner takes both bonds.
 * With the stake-backed bond (issue 11, market-opened games) the claimant posts nothing: a challenger win returns the
 * challenger its own bond (the slash pays it); a claimant win takes the challenger's bond, the loser's cut
 * (DisputeGame.loserCutBps) to the treasury and the rest to the claimant. `claimantBonded`: the claimant revealed its
 * roots (pre-fix: posted its liquid bond).
 */
export function gameBonds(p: EconParams, winner: 'claimant' | 'challenger', challenger: string, claimant = 'worker', claimantBonded = true): Deltas {
  const b = p.bond;
  const bonded = !p.rules.stakeBackedBond && claimantBonded;
  const cut = p.rules.bondSplit && (winner === 'claimant' || bonded) ? (b * p.bondTreasuryBps) / BPS : 0n;
  const d: Deltas = cut > 0n ? { treasury: cut } : {};
  if (winner === 'challenger') return add(d, bonded ? { [challenger]: b - cut, [claimant]: -b } : {});
  return add(d, { [challenger]: -b, [claimant]: b - cut });
}

/** Joiners of a challenger side: each posts joinBond; back if the side wins, to the worker if it loses. */
export function joinBonds(p: EconParams, sideWon: boolean, joiners: string[], worker = 'worker'): Deltas {
  const d: Deltas = {};
  if (sideWon) return d;
  for (const j of joiners) d[j] = (d[j] ?? 0n) - p.joinBond;
  d[worker] = p.joinBond * BigInt(joiners.length);
  return d;
}

// ---------------------------------------------------------------------------------------------- gas
/** Gas units of one call (measured on anvil by the check, else bench/results/gas.json, else an estimate). */
export interface GasTable {
  [action: string]: { gas: number; source: 'measured' | 'gas.json' | 'estimate' };
}

export const GAS_ESTIMATES: Record<string, number> = {
  postTask: 222_000,
  postBatchTask: 174_000,
  claim: 63_000,
  commit: 70_000,
  commitBatch: 57_000,
  finalize: 281_000,
  challenge: 330_000,
  joinChallenge: 120_000,
  /** The whole game minus open, both sides (bench:gas: wine-mlp ~840k incl. open). */
  gameClaimantMoves: 250_000,
  gameChallengerMoves: 300_000,
  timeout: 60_000,
  resolveSlash: 495_000,
  resolveWon: 300_000,
  withdraw: 40_000,
  drawAudit: 80_000,
  commitAudit: 110_000,
  answerAudit: 90_000,
  revealAudit: 70_000,
  settleAudit: 50_000,
  settleAuditInvalidate: 450_000,
  reclaimDeposit: 45_000,
  requestElement: 90_000,
  openElement: 90_000,
  settleUnopened: 300_000,
};

export function gasVrt(env: Env, gas: number): number {
  return (gas * env.gasPriceGwei * 1e-9) * env.vrtPerEth;
}

// ---------------------------------------------------------------------------------------------- rng
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
