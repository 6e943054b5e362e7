/**
 * Checks bench/economy-model.ts against the real contracts on anvil: plays each scenario with real transactions
 * (deployProtocol's defaults, the real DisputeGame and one-step verifier, src/chain/actions and src/dispute's
 * DisputeClient) and asserts that every party's token delta (wallet + market credit + game credit + stake) equals the
 * model's, to the wei. Also measures the gas of every call, which the simulation then uses.
 */
import { bytesToHex, encodeAbiParameters, erc20Abi, keccak256, parseEventLogs, toHex, zeroAddress, type Address, type Hex } from 'viem';
import {
  challengeResult,
  claimTask,
  commitBatch,
  commitResult,
  finalizeTask,
  modelShape,
  postBatchTask,
  postTask,
  registerAgent,
  registerModel,
  resolveDispute,
  ensureAllowance,
  stake,
} from '../src/chain/actions/index.js';
import { sendContractTransaction } from '../src/chain/send.js';
import { auditBookAbi, dataAvailabilityAbi, disputeGameAbi, stakingAbi, taskMarketAbi } from '../src/chain/artifacts/index.js';
import { inputHashOf, outputHashOf, tensorArg } from '../src/chain/io.js';
import { PositionalTree, resultLeaf } from '../src/chain/positional.js';
import { TraceCommitment, tensorRoot, traceRootHex } from '../src/commit/index.js';
import { DisputeClient, Phase, traceStateProvider } from '../src/dispute/index.js';
import { buildOneStep } from '../src/verifier/index.js';
import { localProtocol, opsBitmap, realRun, type LocalProtocol, type RealRun, type Role } from '../test/chain/helpers.js';
import {
  DESIGN_DEFAULTS,
  E18,
  add,
  finalize,
  gameBonds,
  invalidate,
  joinBonds,
  post,
  type Deltas,
  type EconParams,
  type GasTable,
  type Rules,
  type Source,
} from './economy-model.js';

const PARTIES = ['requester', 'worker', 'challenger', 'stranger'] as const satisfies readonly Role[];
type Party = (typeof PARTIES)[number] | 'treasury' | 'pool';

export interface ScenarioCheck {
  scenario: string;
  expected: Record<string, string>;
  actual: Record<string, string>;
  ok: boolean;
  note?: string;
}

const fnNames = (abi: readonly unknown[]) => new Set((abi as { type: string; name?: string }[]).filter((x) => x.type === 'function').map((x) => x.name!));

/** Detects the deployed rules from the market's and game's ABI (the generated artifacts). */
export function deployedRules(): Rules {
  const m = fnNames(taskMarketAbi);
  const g = fnNames(disputeGameAbi);
  return {
    audit: m.has('auditBook'),
    da: m.has('dataAvailability'),
    minFee: m.has('getRules'),
    bondSplit: g.has('loserCutBps'),
    stakeBackedBond: g.has('addChallenger'),
    teamSplit: m.has('joinChallenge'),
  };
}

/** Reads every economic parameter from the deployed contracts; missing ones fall back to the design (marked). */
export async function readEconParams(p: LocalProtocol): Promise<EconParams> {
  const pc = p.publicClient;
  const read = (address: Address, abi: readonly unknown[], functionName: string): Promise<unknown> =>
    pc.readContract({ address, abi: abi as never, functionName } as never) as Promise<unknown>;
  const rules = deployedRules();
  const market = p.addresses.taskMarket;
  const game = p.addresses.disputeGame;
  // the modules exist in the ABI before they are switched on: a zero module address means the rule is off
  if (rules.audit) rules.audit = ((await read(market, taskMarketAbi, 'auditBook')) as Address) !== zeroAddress;
  if (rules.da) rules.da = ((await read(market, taskMarketAbi, 'dataAvailability')) as Address) !== zeroAddress;
  const values: Record<string, unknown> = { ...((await read(market, taskMarketAbi, 'getParams')) as Record<string, unknown>) };
  if (rules.minFee) Object.assign(values, (await read(market, taskMarketAbi, 'getRules')) as Record<string, unknown>);
  values.bond = await read(game, disputeGameAbi, 'bond');
  values.clock = await read(game, disputeGameAbi, 'clock');
  if (rules.bondSplit) values.loserCutBps = await read(game, disputeGameAbi, 'loserCutBps');
  if (rules.audit) {
    const book = (await read(market, taskMarketAbi, 'auditBook')) as Address;
    const c = (await read(book, auditBookAbi, 'getConfig')) as Record<string, unknown>;
    values.auditRateBps = c.rateBps;
    values.auditDeposit = c.deposit;
    values.auditReward = c.reward;
    values.maxAuditors = await read(book, auditBookAbi, 'PAID_REVEALS');
    values.auditPoolSeed = await read(book, auditBookAbi, 'pool');
  }
  if (rules.da) {
    const da = (await read(market, taskMarketAbi, 'dataAvailability')) as Address;
    values.daBond = await read(da, dataAvailabilityAbi, 'bond');
  }
  const sources: Record<string, Source> = {};
  const big = (k: string, names: string[], fallback: bigint): bigint => {
    for (const n of names) {
      if (values[n] !== undefined) {
        sources[k] = 'deployed';
        return BigInt(values[n] as bigint | number);
      }
    }
    sources[k] = 'design';
    return fallback;
  };
  return {
    minStake: big('minStake', ['minStake'], 100n * E18),
    slashChallengerBps: big('slashChallengerBps', ['slashChallengerBps'], 5_000n),
    protocolFeeBps: big('protocolFeeBps', ['protocolFeeBps'], 500n),
    minFee: big('minFee', ['minFee'], DESIGN_DEFAULTS.minFee),
    auditFeeBps: big('auditFeeBps', ['auditFeeBps'], DESIGN_DEFAULTS.auditFeeBps),
    auditRateBps: big('auditRateBps', ['auditRateBps'], DESIGN_DEFAULTS.auditRateBps),
    auditReward: big('auditReward', ['auditReward'], DESIGN_DEFAULTS.auditReward),
    auditDeposit: big('auditDeposit', ['auditDeposit'], DESIGN_DEFAULTS.auditDeposit),
    maxAuditors: Number(big('maxAuditors', ['maxAuditors'], BigInt(DESIGN_DEFAULTS.maxAuditors))),
    bondTreasuryBps: big('bondTreasuryBps', ['loserCutBps'], DESIGN_DEFAULTS.bondTreasuryBps),
    auditPoolSeed: big('auditPoolSeed', ['auditPoolSeed'], 0n),
    daBond: big('daBond', ['daBond'], DESIGN_DEFAULTS.daBond),
    daShareBps: big('daShareBps', ['daShareBps'], DESIGN_DEFAULTS.daShareBps),
    joinBond: big('joinBond', ['joinBond'], DESIGN_DEFAULTS.joinBond),
    abandonBps: big('abandonBps', ['abandonBps'], DESIGN_DEFAULTS.abandonBps),
    bond: big('bond', ['bond'], 10n * E18),
    clock: big('clock', ['clock'], 86_400n),
    challengeWindow: big('challengeWindow', ['challengeWindow'], 86_400n),
    rules,
    sources,
  };
}

// ---------------------------------------------------------------------------------------------- harness
interface World {
  p: LocalProtocol;
  params: EconParams;
  agentId: bigint;
  modelId: bigint;
  honest: RealRun;
  gas: GasTable;
  /** The AuditBook, when audits are on. */
  book?: Address;
}

function measure(w: World, action: string, gasUsed: bigint): void {
  // keep the first measurement of each action (scenarios repeat them; values differ by a few hundred gas at most)
  if (!w.gas[action]) w.gas[action] = { gas: Number(gasUsed), source: 'measured' };
}

async function holdings(w: World): Promise<Record<Party, bigint>> {
  const { p } = w;
  const pc = p.publicClient;
  const a = p.addresses;
  const of = async (who: Address, staked: boolean): Promise<bigint> => {
    const [bal, cl, cr, acct] = await Promise.all([
      pc.readContract({ address: a.token, abi: erc20Abi, functionName: 'balanceOf', args: [who] }),
      pc.readContract({ address: a.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [who] }),
      pc.readContract({ address: a.disputeGame, abi: disputeGameAbi, functionName: 'credit', args: [who] }),
      staked ? pc.readContract({ address: a.staking, abi: stakingAbi, functionName: 'accountOf', args: [who] }) : undefined,
    ]);
    return bal + cl + cr + (acct ? acct.staked + acct.unbonding : 0n);
  };
  const out = {} as Record<Party, bigint>;
  for (const r of PARTIES) out[r] = await of(p.as(r).walletClient.account.address, true);
  out.treasury = await of(a.timelock, false);
  out.pool = w.book ? await pc.readContract({ address: w.book, abi: auditBookAbi, functionName: 'pool' }) : 0n;
  return out;
}

async function scenario(w: World, name: string, run: () => Promise<Deltas>, note?: string): Promise<ScenarioCheck> {
  const before = await holdings(w);
  const expectedRaw = await run();
  const after = await holdings(w);
  const expected: Record<string, string> = {};
  const actual: Record<string, string> = {};
  let ok = true;
  for (const k of Object.keys(before) as Party[]) {
    const e = expectedRaw[k] ?? 0n;
    const d = after[k] - before[k];
    expected[k] = e.toString();
    actual[k] = d.toString();
    if (e !== d) ok = false;
  }
  for (const k of Object.keys(expectedRaw)) if (!(k in before)) ok = false; // the model names a party we did not track
  return { scenario: name, expected, actual, ok, ...(note ? { note } : {}) };
}

const FEE = 2n * E18;
/** Audit-pool seed of the checked deployment (deployProtocol audits.poolSeed). */
export const AUDIT_POOL_SEED = 100n * E18;

async function bookTx(w: World, role: Role, functionName: string, args: readonly unknown[]) {
  const r = await sendContractTransaction(w.p.as(role), { contract: 'AuditBook', address: w.book!, abi: auditBookAbi, functionName: functionName as never, args: args as never });
  measure(w, functionName, r.receipt.gasUsed);
  return r;
}

/** Draws the task's audit (the worker does: finalize waits for it); forces selection by drawing > 256 blocks late. */
async function draw(w: World, taskId: bigint, force: boolean): Promise<boolean> {
  await w.p.testClient.mine({ blocks: force ? 260 : 2 });
  const r = await bookTx(w, 'worker', 'drawAudit', [taskId]);
  return parseEventLogs({ abi: auditBookAbi, logs: r.receipt.logs, eventName: 'AuditDrawn' })[0]!.args.selected;
}

/** Draws and, if selected with nobody auditing, settles the audit so the task can finalize. */
async function clearAudit(w: World, taskId: bigint): Promise<void> {
  if (!w.book) return;
  if (!(await draw(w, taskId, false))) return;
  const a = await w.p.publicClient.readContract({ address: w.book, abi: auditBookAbi, functionName: 'getAudit', args: [taskId] });
  await w.p.warp(a.commitEnd - (await w.p.now()) + 1n);
  await bookTx(w, 'worker', 'settleAudit', [taskId]);
}

const salt = (who: string) => keccak256(toHex(`salt:${who}`));
function sealOf(taskId: bigint, root: Hex, auditor: Address, s: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: 'uint256' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }].map((x, i) => (i === 2 ? { type: 'address' } : x)) as never, [taskId, root, auditor, s] as never));
}

/** The auditor's tensor j of the task, by re-executing (here: the honest trace) and reading targetTensor. */
async function tensorJ(w: World, taskId: bigint, trace: RealRun['honest']): Promise<{ j: number; root: Hex }> {
  const [, j] = await w.p.publicClient.readContract({ address: w.book!, abi: auditBookAbi, functionName: 'targetTensor', args: [taskId] });
  return { j: Number(j), root: bytesToHex(tensorRoot(trace[Number(j)]!)) as Hex };
}

/** The worker's answer: its trace root (pinned for the element) and tensor j with its proof. */
async function answer(w: World, taskId: bigint, trace: RealRun['honest']): Promise<void> {
  const { j } = await tensorJ(w, taskId, trace);
  const tc = new TraceCommitment(trace);
  const pr = tc.proveTensor(j);
  await bookTx(w, 'worker', 'answerAudit', [taskId, traceRootHex(trace), bytesToHex(pr.leaf), pr.siblings.map((x) => bytesToHex(x))]);
}

async function postAndCommit(w: World, trace: RealRun['honest'], requester: Role = 'requester', fee = FEE) {
  const { p, honest } = w;
  const inputs = honest.honest.slice(0, honest.model.inputs.length);
  const pt = await postTask(p.as(requester), { modelId: w.modelId, inputs, fee, deadline: (await p.now()) + 3_600n });
  measure(w, 'postTask', pt.receipt.gasUsed);
  const cl = await claimTask(p.as('worker'), { taskId: pt.taskId, agentId: w.agentId });
  measure(w, 'claim', cl.receipt.gasUsed);
  const cm = await commitResult(p.as('worker'), { taskId: pt.taskId, outputs: trace.slice(-honest.model.outputs.length) });
  measure(w, 'commit', cm.receipt.gasUsed);
  return { taskId: pt.taskId, inputHash: inputHashOf(inputs) as Hex, outputHash: cm.outputHash as Hex };
}

function client(w: World, role: Role): DisputeClient {
  return new DisputeClient({ publicClient: w.p.publicClient, walletClient: w.p.as(role).walletClient, game: w.p.addresses.disputeGame, pollMs: 5 });
}

function sumMoves(c: DisputeClient): bigint {
  return c.moves.filter((m) => m.move !== 'approve' && m.move !== 'timeout').reduce((s, m) => s + m.gasUsed, 0n);
}

/** Plays the sample scenarios on a fresh anvil; returns the checks, the deployed parameters and the measured gas. */
export async function checkAgainstContracts(withAudits = true): Promise<{ params: EconParams; checks: ScenarioCheck[]; gas: GasTable }> {
  // deployProtocol's defaults, with audits switched on (AuditBook defaults) and the pool seeded
  const p = await localProtocol(withAudits ? { audits: { poolSeed: AUDIT_POOL_SEED } } : {});
  try {
    const params = await readEconParams(p);
    const honest = realRun('wine-mlp');
    const m = honest.model;
    const { modelId } = await registerModel(p.as('requester'), { modelRoot: honest.modelRoot, metadataURI: 'ipfs://wine-mlp', opsBitmap: opsBitmap(m), shape: modelShape(m, 5_000_000n) });
    const { agentId } = await registerAgent(p.as('worker'), { agentURI: 'ipfs://worker' });
    await stake(p.as('worker'), { amount: 1_000n * E18 });
    const book = params.rules.audit ? ((await p.publicClient.readContract({ address: p.addresses.taskMarket, abi: taskMarketAbi, functionName: 'auditBook' })) as Address) : undefined;
    const w: World = { p, params, agentId, modelId, honest, gas: {}, ...(book ? { book } : {}) };
    if (book) {
      // auditors: staked, book approved for deposits
      for (const r of ['challenger', 'stranger'] as const) {
        await stake(p.as(r), { amount: 100n * E18 });
        await ensureAllowance(p.as(r), { spender: book, amount: 1_000n * E18 });
      }
    }
    const checks: ScenarioCheck[] = [];

    // 1. honest task finalized
    checks.push(
      await scenario(w, 'honest task finalized', async () => {
        const t = await postAndCommit(w, honest.honest);
        await clearAudit(w, t.taskId);
        await p.warp(params.challengeWindow);
        const fz = await finalizeTask(p.as('stranger'), { taskId: t.taskId });
        measure(w, 'finalize', fz.receipt.gasUsed);
        return add(post(FEE), finalize(params, FEE));
      }),
    );

    // 2. liar caught by a (non-audit) challenge: the game is played to the one-step proof
    checks.push(
      await scenario(w, 'liar caught by a challenge', async () => {
        const t = await postAndCommit(w, honest.corrupted);
        const ch = await challengeResult(p.as('challenger'), { taskId: t.taskId, inputHash: t.inputHash, outputHash: t.outputHash });
        measure(w, 'challenge', ch.receipt.gasUsed);
        const claimant = client(w, 'worker');
        const challenger = client(w, 'challenger');
        await Promise.all([
          claimant.playClaimant(ch.gameId, traceStateProvider(honest.model, honest.corrupted, buildOneStep)),
          challenger.playChallenger(ch.gameId, traceStateProvider(honest.model, honest.honest, buildOneStep)),
        ]);
        measure(w, 'gameClaimantMoves', sumMoves(claimant));
        measure(w, 'gameChallengerMoves', sumMoves(challenger));
        const rs = await resolveDispute(p.as('stranger'), { disputeId: ch.disputeId });
        measure(w, 'resolveSlash', rs.receipt.gasUsed);
        return add(add(post(FEE), invalidate(params, FEE, ['challenger'])), gameBonds(params, 'challenger', 'challenger'));
      }),
    );

    // 3. griefer: challenges an honest result and goes silent; the worker defends, wins on time, and is paid
    checks.push(
      await scenario(w, 'griefer challenges an honest task', async () => {
        const t = await postAndCommit(w, honest.honest);
        const ch = await challengeResult(p.as('stranger'), { taskId: t.taskId, inputHash: t.inputHash, outputHash: t.outputHash });
        const claimant = client(w, 'worker');
        const playing = claimant.playClaimant(ch.gameId, traceStateProvider(honest.model, honest.honest, buildOneStep));
        // wait for the claimant's first move, then let the griefer's clock run out
        for (;;) {
          const g = await claimant.state(ch.gameId);
          if (g.phase !== Phase.AwaitRoots) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await p.warp(params.clock + 1n);
        await playing;
        const to = claimant.moves.find((m) => m.move === 'timeout');
        if (to) measure(w, 'timeout', to.gasUsed);
        const rs = await resolveDispute(p.as('stranger'), { disputeId: ch.disputeId });
        measure(w, 'resolveWon', rs.receipt.gasUsed);
        await clearAudit(w, t.taskId);
        await p.warp(params.challengeWindow);
        await finalizeTask(p.as('stranger'), { taskId: t.taskId });
        return add(add(post(FEE), finalize(params, FEE)), gameBonds(params, 'claimant', 'stranger'));
      }),
    );

    // 3b. puppet challenger: a liar's sock puppet joins the honest challenger's side (one live game per element) and
    // takes an equal part of the challenger share; the honest challenger keeps the rest
    if (params.rules.teamSplit) {
      checks.push(
        await scenario(w, 'puppet joins the challenge of a liar', async () => {
          const t = await postAndCommit(w, honest.corrupted);
          const ch = await challengeResult(p.as('challenger'), { taskId: t.taskId, inputHash: t.inputHash, outputHash: t.outputHash });
          await ensureAllowance(p.as('stranger'), { spender: p.addresses.taskMarket, amount: params.joinBond });
          const jn = await sendContractTransaction(p.as('stranger'), { contract: 'TaskMarket', address: p.addresses.taskMarket, abi: taskMarketAbi, functionName: 'joinChallenge', args: [ch.disputeId] });
          measure(w, 'joinChallenge', jn.receipt.gasUsed);
          const claimant = client(w, 'worker');
          const challenger = client(w, 'challenger');
          await Promise.all([
            claimant.playClaimant(ch.gameId, traceStateProvider(honest.model, honest.corrupted, buildOneStep)),
            challenger.playChallenger(ch.gameId, traceStateProvider(honest.model, honest.honest, buildOneStep)),
          ]);
          await resolveDispute(p.as('stranger'), { disputeId: ch.disputeId });
          return add(add(add(post(FEE), invalidate(params, FEE, ['challenger', 'stranger'])), gameBonds(params, 'challenger', 'challenger')), joinBonds(params, true, ['stranger']));
        }),
      );
    }

    if (w.book) {
      const pool = () => p.publicClient.readContract({ address: w.book!, abi: auditBookAbi, functionName: 'pool' });
      const cfg = await p.publicClient.readContract({ address: w.book, abi: auditBookAbi, functionName: 'getConfig' });
      const addr = (r: Role) => p.as(r).walletClient.account.address;
      // 5. audited honest task, honest auditor (challenger) re-executes, seals tensor j, reveals after the answer: paid
      // 6. the same with a lazy auditor (stranger) beside it: a random seal, forfeited to the pool
      for (const lazy of [false, true]) {
        checks.push(
          await scenario(w, lazy ? 'lazy auditor beside an honest one (audited honest task)' : 'audited honest task, honest auditor paid', async () => {
            const t = await postAndCommit(w, honest.honest);
            if (!(await draw(w, t.taskId, true))) throw new Error('a draw more than 256 blocks late must select the task');
            const { root } = await tensorJ(w, t.taskId, honest.honest);
            await bookTx(w, 'challenger', 'commitAudit', [t.taskId, sealOf(t.taskId, root, addr('challenger'), salt('challenger'))]);
            const junk = keccak256(toHex('a guess'));
            if (lazy) await bookTx(w, 'stranger', 'commitAudit', [t.taskId, sealOf(t.taskId, junk, addr('stranger'), salt('stranger'))]);
            await p.warp(cfg.commitWindow + 1n);
            await answer(w, t.taskId, honest.honest);
            const before = await pool();
            await bookTx(w, 'challenger', 'revealAudit', [t.taskId, root, salt('challenger')]);
            if (lazy) {
              await bookTx(w, 'stranger', 'revealAudit', [t.taskId, junk, salt('stranger')]);
              await p.warp(cfg.answerWindow + cfg.revealWindow + 1n);
            }
            await bookTx(w, 'worker', 'settleAudit', [t.taskId]);
            await p.warp(params.challengeWindow);
            await finalizeTask(p.as('stranger'), { taskId: t.taskId });
            const reward = before < params.auditReward ? before : params.auditReward;
            const d = add(add(post(FEE), finalize(params, FEE)), { challenger: reward, pool: -reward });
            return lazy ? add(d, { stranger: -params.auditDeposit, pool: params.auditDeposit }) : d;
          }),
        );
      }
      // 7. liar caught by the audit: it cannot answer tensor j of a trace it did not compute honestly (here: it stays
      // silent); settleAudit invalidates the task, the challenger share goes to the pool (a seal never compared earns
      // nothing), the auditor reclaims its deposit
      checks.push(
        await scenario(w, 'liar caught by the audit (no answer)', async () => {
          const t = await postAndCommit(w, honest.corrupted);
          if (!(await draw(w, t.taskId, true))) throw new Error('a draw more than 256 blocks late must select the task');
          const { root } = await tensorJ(w, t.taskId, honest.honest);
          await bookTx(w, 'challenger', 'commitAudit', [t.taskId, sealOf(t.taskId, root, addr('challenger'), salt('challenger'))]);
          await p.warp(cfg.commitWindow + cfg.answerWindow + 1n);
          const r = await bookTx(w, 'challenger', 'settleAudit', [t.taskId]);
          measure(w, 'settleAuditInvalidate', r.receipt.gasUsed);
          await bookTx(w, 'challenger', 'reclaimDeposit', [t.taskId]);
          return add(post(FEE), invalidate({ ...params, rules: { ...params.rules, teamSplit: true } }, FEE, ['pool']));
        }),
      );

      // 8. batch withholder: commits a root over results it never computed (nothing to open, nothing to prove); its
      // audited element cannot be answered, settleAudit invalidates the batch
      checks.push(
        await scenario(w, 'batch withholder caught by the audit (100 elements, no answer)', async () => {
          const fee = 20n * E18;
          const bt = await postBatchTask(p.as('requester'), { modelId: w.modelId, inputHashes: Array.from({ length: 100 }, (_, i) => keccak256(toHex(`in${i}`))), fee, deadline: (await p.now()) + 3_600n });
          await claimTask(p.as('worker'), { taskId: bt.taskId, agentId: w.agentId });
          await commitBatch(p.as('worker'), { taskId: bt.taskId, results: Array.from({ length: 100 }, (_, i) => ({ outputHash: keccak256(toHex(`out${i}`)) })) });
          if (!(await draw(w, bt.taskId, true))) throw new Error('a draw more than 256 blocks late must select the task');
          await bookTx(w, 'challenger', 'commitAudit', [bt.taskId, sealOf(bt.taskId, keccak256(toHex('re-executed root')), addr('challenger'), salt('challenger'))]);
          await p.warp(cfg.commitWindow + cfg.answerWindow + 1n);
          await bookTx(w, 'challenger', 'settleAudit', [bt.taskId]);
          await bookTx(w, 'challenger', 'reclaimDeposit', [bt.taskId]);
          return add(post(fee), invalidate({ ...params, rules: { ...params.rules, teamSplit: true } }, fee, ['pool']));
        }),
      );
    }

    // 9./10. data availability (DataAvailability, deployed by default): the batch's requester, who did not get its
    // results, asks for one element on-chain. An honest worker opens it (the bond pays its gas); a withholder cannot,
    // and settleUnopened invalidates the batch (the requester takes the challenger share and its bond back).
    if (params.rules.da) {
      const da = (await p.publicClient.readContract({ address: p.addresses.taskMarket, abi: taskMarketAbi, functionName: 'dataAvailability' })) as Address;
      const daTx = async (role: Role, functionName: string, args: readonly unknown[]) => {
        const r = await sendContractTransaction(p.as(role), { contract: 'DataAvailability', address: da, abi: dataAvailabilityAbi, functionName: functionName as never, args: args as never });
        measure(w, functionName, r.receipt.gasUsed);
        return r;
      };
      await ensureAllowance(p.as('requester'), { spender: da, amount: 1_000n * E18 });
      const daWindow = await p.publicClient.readContract({ address: da, abi: dataAvailabilityAbi, functionName: 'window' });
      const outputs = honest.honest.slice(-m.outputs.length);
      const oh = outputHashOf(outputs) as Hex;
      const batch = async () => {
        const fee = 20n * E18;
        const results = Array.from({ length: 100 }, (_, i) => ({ outputHash: i === 3 ? oh : keccak256(toHex(`out${i}`)) }));
        const bt = await postBatchTask(p.as('requester'), { modelId: w.modelId, inputHashes: Array.from({ length: 100 }, (_, i) => keccak256(toHex(`in${i}`))), fee, deadline: (await p.now()) + 3_600n });
        await claimTask(p.as('worker'), { taskId: bt.taskId, agentId: w.agentId });
        await commitBatch(p.as('worker'), { taskId: bt.taskId, results });
        return { taskId: bt.taskId, fee, results };
      };
      checks.push(
        await scenario(w, 'data-availability request answered (batch of 100, element opened)', async () => {
          const b = await batch();
          await daTx('requester', 'requestElement', [b.taskId, 3]);
          const tree = new PositionalTree(b.results.map((r, i) => resultLeaf(i, r.outputHash)));
          await daTx('worker', 'openElement', [b.taskId, 3, outputs.map(tensorArg), tree.proof(3)]);
          await clearAudit(w, b.taskId);
          await p.warp(params.challengeWindow);
          await finalizeTask(p.as('stranger'), { taskId: b.taskId });
          return add(add(post(b.fee), finalize(params, b.fee)), { requester: -params.daBond, worker: params.daBond });
        }),
      );
      checks.push(
        await scenario(w, 'batch withholder caught by a data-availability request (element never opened)', async () => {
          const b = await batch();
          await daTx('requester', 'requestElement', [b.taskId, 7]);
          await p.warp(daWindow + 1n);
          await daTx('stranger', 'settleUnopened', [b.taskId, 7]);
          return add(post(b.fee), invalidate({ ...params, rules: { ...params.rules, teamSplit: true } }, b.fee, ['requester']));
        }),
      );
    }

    // 4. reputation farmer: the worker posts a task to itself at the smallest fee the market accepts
    const farmFee = params.rules.minFee ? params.minFee : 1n;
    checks.push(
      await scenario(
        w,
        `reputation farmer (self-task, fee ${farmFee} wei)`,
        async () => {
          const t = await postAndCommit(w, honest.honest, 'worker', farmFee);
          await clearAudit(w, t.taskId);
          await p.warp(params.challengeWindow);
          await finalizeTask(p.as('worker'), { taskId: t.taskId });
          return add(post(farmFee, 'worker'), finalize(params, farmFee));
        },
        params.rules.minFee ? undefined : 'pre-fix rules: a 1-wei self-task costs nothing but gas (the protocol fee rounds to 0)',
      ),
    );
    return { params, checks, gas: w.gas };
  } finally {
    await p.stop();
  }
}
