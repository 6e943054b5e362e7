/**
 * Checks bench/economy-model.ts against the real contracts on anvil: plays each scenario with real transactions
 * (deployProtocol's defaults, the real DisputeGame and one-step verifier, src/chain/actions and src/dispute's
 * DisputeClient) and asserts that every party's token delta (wallet + market credit + game credit + stake) equals the
 * model's, to the wei. Also measures the gas of every call, which the simulation then uses.
 */
import { erc20Abi, zeroAddress, type Address, type Hex } from 'viem';
import {
  challengeResult,
  claimTask,
  commitResult,
  finalizeTask,
  postTask,
  registerAgent,
  registerModel,
  resolveDispute,
  ensureAllowance,
  stake,
} from '../src/chain/actions/index.js';
import { sendContractTransaction } from '../src/chain/send.js';
import { disputeGameAbi, stakingAbi, taskMarketAbi } from '../src/chain/artifacts/index.js';
import { inputHashOf } from '../src/chain/io.js';
import { traceRootHex } from '../src/commit/index.js';
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
  out.pool = 0n; // the audit pool: read once the audit ABI exists
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

async function postAndCommit(w: World, trace: RealRun['honest'], requester: Role = 'requester', fee = FEE) {
  const { p, honest } = w;
  const inputs = honest.honest.slice(0, honest.model.inputs.length);
  const pt = await postTask(p.as(requester), { modelId: w.modelId, inputs, fee, deadline: (await p.now()) + 3_600n });
  measure(w, 'postTask', pt.receipt.gasUsed);
  const cl = await claimTask(p.as('worker'), { taskId: pt.taskId, agentId: w.agentId });
  measure(w, 'claim', cl.receipt.gasUsed);
  const traceRoot = traceRootHex(trace);
  const cm = await commitResult(p.as('worker'), { taskId: pt.taskId, outputs: trace.slice(-honest.model.outputs.length), traceRoot });
  measure(w, 'commit', cm.receipt.gasUsed);
  return { taskId: pt.taskId, inputHash: inputHashOf(inputs) as Hex, outputHash: cm.outputHash as Hex, traceRoot };
}

function client(w: World, role: Role): DisputeClient {
  return new DisputeClient({ publicClient: w.p.publicClient, walletClient: w.p.as(role).walletClient, game: w.p.addresses.disputeGame, pollMs: 5 });
}

function sumMoves(c: DisputeClient): bigint {
  return c.moves.filter((m) => m.move !== 'approve' && m.move !== 'timeout').reduce((s, m) => s + m.gasUsed, 0n);
}

/** Plays the sample scenarios on a fresh anvil; returns the checks, the deployed parameters and the measured gas. */
export async function checkAgainstContracts(): Promise<{ params: EconParams; checks: ScenarioCheck[]; gas: GasTable }> {
  const p = await localProtocol();
  try {
    const params = await readEconParams(p);
    const honest = realRun('wine-mlp');
    const { modelId } = await registerModel(p.as('requester'), { modelRoot: honest.modelRoot, metadataURI: 'ipfs://wine-mlp', opsBitmap: opsBitmap(honest.model) });
    const { agentId } = await registerAgent(p.as('worker'), { agentURI: 'ipfs://worker' });
    await stake(p.as('worker'), { amount: 1_000n * E18 });
    const w: World = { p, params, agentId, modelId, honest, gas: {} };
    const checks: ScenarioCheck[] = [];

    // 1. honest task finalized
    checks.push(
      await scenario(w, 'honest task finalized', async () => {
        const t = await postAndCommit(w, honest.honest);
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
        const ch = await challengeResult(p.as('challenger'), { taskId: t.taskId, inputHash: t.inputHash, outputHash: t.outputHash, traceRoot: t.traceRoot });
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
        const ch = await challengeResult(p.as('stranger'), { taskId: t.taskId, inputHash: t.inputHash, outputHash: t.outputHash, traceRoot: t.traceRoot });
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
          const ch = await challengeResult(p.as('challenger'), { taskId: t.taskId, inputHash: t.inputHash, outputHash: t.outputHash, traceRoot: t.traceRoot });
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

    // 4. reputation farmer: the worker posts a task to itself at the smallest fee the market accepts
    const farmFee = params.rules.minFee ? params.minFee : 1n;
    checks.push(
      await scenario(
        w,
        `reputation farmer (self-task, fee ${farmFee} wei)`,
        async () => {
          const t = await postAndCommit(w, honest.honest, 'worker', farmFee);
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
