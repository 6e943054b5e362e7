/**
 * deployProtocol: deploys and binds the whole Verity protocol, then hands every parameter to the governance
 * timelock. Shared by tests, benchmarks and (later) the node.
 *
 * Order: VRT → timelock (bootstrap: delay 0, the deployer its only proposer and admin) → governor → identity,
 * model, reputation, validation registries → staking → one-step verifier (families + router) → DisputeGame →
 * TaskMarket (resolver = the game) → staking/reputation/validation bindMarket(market) (one-shot, clears the
 * binder) → AuditBook (if `audits`) and DataAvailability (by default) → through the timelock, in one batch:
 * game.setMarket(market, true), game.setLoserCut, market.setModules(book, da) and timelock.updateDelay(delay) →
 * the governor gets PROPOSER and CANCELLER, the deployer gives up PROPOSER, CANCELLER and DEFAULT_ADMIN.
 * Afterwards no externally owned account holds any power: only governor proposals executed by the timelock.
 */
import { encodeFunctionData, getAddress, zeroAddress, zeroHash, type Abi, type Address, type ContractConstructorArgs, type Hex } from 'viem';
import {
  auditBookAbi,
  auditBookBytecode,
  dataAvailabilityAbi,
  dataAvailabilityBytecode,
  disputeGameAbi,
  disputeGameBytecode,
  identityRegistryAbi,
  identityRegistryBytecode,
  modelRegistryAbi,
  modelRegistryBytecode,
  reputationRegistryAbi,
  reputationRegistryBytecode,
  stakingAbi,
  stakingBytecode,
  taskMarketAbi,
  taskMarketBytecode,
  validationRegistryAbi,
  validationRegistryBytecode,
  verityGovernorAbi,
  verityGovernorBytecode,
  verityTimelockAbi,
  verityTimelockBytecode,
  verityTokenAbi,
  verityTokenBytecode,
  verityVestingAbi,
  verityVestingBytecode,
} from './artifacts/index.js';
import { TransactionError, type ChainActionErrorType } from './errors.js';
import type { WriteArgs, WriteName } from './call.js';
import { deployContract, sendContractTransaction, type ChainClients } from './send.js';
import type { ProtocolAddresses } from './types.js';
import { deployOneStepVerifier } from './verifier.js';

const DAY = 86_400n;
const E18 = 10n ** 18n;

export interface DeployProtocolOptions {
  /** VRT minted at deployment (default 1e9 VRT). */
  tokenSupply?: bigint;
  /** Receives the supply (default the deployer). */
  tokenHolder?: Address;
  /** Timelock delay after deployment, seconds (default 2 days). */
  timelockDelay?: bigint;
  governor?: { votingDelay?: number; votingPeriod?: number; proposalThreshold?: bigint; quorumPercent?: bigint };
  /** Staking unbonding delay, seconds (default 7 days; must exceed the challenge window). */
  unbondingDelay?: bigint;
  market?: {
    /** Seconds a result stays challengeable (default 1 day). */
    challengeWindow?: bigint;
    /** Stake locked per claimed task (default 100 VRT). */
    minStake?: bigint;
    /** Challenger's share of a slash, bps (default 5000). */
    slashChallengerBps?: number;
    /** Treasury's share of a fee, bps (default 500). */
    protocolFeeBps?: number;
    /** Treasury (default the timelock). */
    treasury?: Address;
  };
  game?: {
    /** Bond per side (default 10 VRT). */
    bond?: bigint;
    /** Per-side chess clock, seconds (default 1 day). */
    clock?: bigint;
    /**
     * Tree levels opened per bisection move, 1..4 (default 4: fewest transactions and least gas per dispute on every
     * shipped model, and gpt-mid's whole dispute under 1.5M gas; docs/protocol.md §Partial sums).
     */
    levelsPerMove?: number;
    /** Share of the losing side's bond to the treasury, bps (default 1000). */
    loserCutBps?: number;
  };
  /** Use this IOneStepVerifier instead of deploying the real one (e.g. a test double). */
  verifier?: Address;
  /**
   * How the supply is split at deployment (docs/protocol.md §Governance on day one), in bps of tokenSupply; applied
   * only when the deployer holds the supply. Default: 40% to the timelock (treasury), 15% to a 4-year linear
   * VerityVesting wallet for contributors, the audit-pool seed (if audits are on) to the AuditBook, the rest stays
   * with the deployer as the operator float that funds nodes and demos. Set treasuryBps and contributorsBps to 0 to
   * keep the old behaviour (whole supply with the deployer).
   */
  distribution?: { treasuryBps?: number; contributorsBps?: number; contributors?: Address; vestingSeconds?: bigint };
  /**
   * Random audits (AuditBook, docs/protocol.md §Audits). Off unless given: deploys the book, sets it on the market
   * through the timelock batch and seeds its reward pool with `poolSeed` VRT from the deployer.
   */
  audits?: {
    rateBps?: number;
    commitWindow?: bigint;
    answerWindow?: bigint;
    revealWindow?: bigint;
    deposit?: bigint;
    reward?: bigint;
    minAuditorStake?: bigint;
    poolSeed?: bigint;
  };
  /**
   * Data availability (DataAvailability, docs/protocol.md §Data availability): deployed and set on the market by
   * default, so a withheld batch can always be challenged; `false` leaves it off. bond: element-request bond (default
   * 1 VRT); window: seconds the other side has to answer (default 1 hour, or the challenge window if shorter).
   */
  dataAvailability?: { bond?: bigint; window?: bigint } | false;
}

export interface DeployProtocolReturnType {
  addresses: ProtocolAddresses;
  /** The AuditBook, when `audits` was given. */
  auditBook?: Address;
  /** The DataAvailability module (deployed unless `dataAvailability: false`). */
  dataAvailability?: Address;
  /** The contributors' VerityVesting wallet, when a contributors share was distributed. */
  vesting?: Address;
  deployer: Address;
  /** Gas used per deployment / setup transaction, in order. */
  gas: { step: string; gasUsed: bigint }[];
}

export type DeployProtocolErrorType = ChainActionErrorType;

/** Deploys, binds and hands over the protocol (see the module comment). */
export async function deployProtocol(
  walletClient: ChainClients['walletClient'],
  publicClient: ChainClients['publicClient'],
  opts: DeployProtocolOptions = {},
): Promise<DeployProtocolReturnType> {
  const clients: ChainClients = { walletClient, publicClient };
  const deployer = walletClient.account.address;
  const gas: { step: string; gasUsed: bigint }[] = [];
  const deploy = async <const abi extends Abi>(name: string, abi: abi, bytecode: Hex, args?: ContractConstructorArgs<abi>): Promise<Address> => {
    const r = await deployContract(clients, name, abi, bytecode, args);
    gas.push({ step: `deploy ${name}`, gasUsed: r.receipt.gasUsed });
    return r.address;
  };
  const call = async <const abi extends Abi, fn extends WriteName<abi>>(contract: string, address: Address, abi: abi, functionName: fn, args: WriteArgs<abi, fn>) => {
    const r = await sendContractTransaction(clients, { contract, address, abi, functionName, args });
    gas.push({ step: `${contract}.${functionName}`, gasUsed: r.receipt.gasUsed });
    return r;
  };

  const g = opts.governor ?? {};
  const m = opts.market ?? {};
  const gm = opts.game ?? {};

  const token = await deploy('VerityToken', verityTokenAbi, verityTokenBytecode, [opts.tokenHolder ?? deployer, opts.tokenSupply ?? 1_000_000_000n * E18]);
  const timelock = await deploy('VerityTimelock', verityTimelockAbi, verityTimelockBytecode, [0n, [deployer], [zeroAddress], deployer]);
  const governor = await deploy('VerityGovernor', verityGovernorAbi, verityGovernorBytecode, [
    token,
    timelock,
    g.votingDelay ?? 1,
    g.votingPeriod ?? 50_400,
    g.proposalThreshold ?? 100_000n * E18,
    g.quorumPercent ?? 4n,
  ]);
  const identityRegistry = await deploy('IdentityRegistry', identityRegistryAbi, identityRegistryBytecode);
  const modelRegistry = await deploy('ModelRegistry', modelRegistryAbi, modelRegistryBytecode);
  const reputationRegistry = await deploy('ReputationRegistry', reputationRegistryAbi, reputationRegistryBytecode, [identityRegistry]);
  const validationRegistry = await deploy('ValidationRegistry', validationRegistryAbi, validationRegistryBytecode, [identityRegistry]);
  const staking = await deploy('Staking', stakingAbi, stakingBytecode, [token, timelock, opts.unbondingDelay ?? 7n * DAY]);

  let oneStepVerifier: Address;
  let verifierFamilies: ProtocolAddresses['verifierFamilies'];
  if (opts.verifier) {
    oneStepVerifier = getAddress(opts.verifier);
  } else {
    const v = await deployOneStepVerifier(clients);
    oneStepVerifier = getAddress(v.verifier);
    verifierFamilies = { dense: getAddress(v.dense), elementwise: getAddress(v.elementwise), reduce: getAddress(v.reduce) };
    gas.push(...v.gas);
  }

  const disputeGame = await deploy('DisputeGame', disputeGameAbi, disputeGameBytecode, [
    timelock,
    token,
    oneStepVerifier,
    gm.bond ?? 10n * E18,
    gm.clock ?? DAY,
    gm.levelsPerMove ?? 4,
  ]);
  const taskMarket = await deploy('TaskMarket', taskMarketAbi, taskMarketBytecode, [
    token,
    identityRegistry,
    modelRegistry,
    staking,
    reputationRegistry,
    validationRegistry,
    timelock,
    {
      challengeWindow: m.challengeWindow ?? DAY,
      minStake: m.minStake ?? 100n * E18,
      slashChallengerBps: m.slashChallengerBps ?? 5_000,
      protocolFeeBps: m.protocolFeeBps ?? 500,
      treasury: m.treasury ?? timelock,
      resolver: disputeGame,
    },
  ]);

  await call('Staking', staking, stakingAbi, 'bindMarket', [taskMarket]);
  await call('ReputationRegistry', reputationRegistry, reputationRegistryAbi, 'bindMarket', [taskMarket]);
  await call('ValidationRegistry', validationRegistry, validationRegistryAbi, 'bindMarket', [taskMarket]);

  let auditBook: Address | undefined;
  if (opts.audits) {
    const au = opts.audits;
    auditBook = await deploy('AuditBook', auditBookAbi, auditBookBytecode, [
      timelock,
      taskMarket,
      {
        rateBps: au.rateBps ?? 1_000,
        commitWindow: au.commitWindow ?? 600n,
        answerWindow: au.answerWindow ?? 600n,
        revealWindow: au.revealWindow ?? 600n,
        deposit: au.deposit ?? 5n * E18,
        reward: au.reward ?? E18,
        minAuditorStake: au.minAuditorStake ?? 100n * E18,
      },
    ]);
  }

  let dataAvailability: Address | undefined;
  if (opts.dataAvailability !== false) {
    const da = opts.dataAvailability ?? {};
    const cw = m.challengeWindow ?? DAY;
    dataAvailability = await deploy('DataAvailability', dataAvailabilityAbi, dataAvailabilityBytecode, [timelock, taskMarket, da.bond ?? E18, da.window ?? (cw < 3_600n ? cw : 3_600n)]);
  }

  // Governance bootstrap through the timelock (delay 0 for now): allow the market on the game (and the audit book on
  // the market), then set the real delay. updateDelay is only callable by the timelock itself, so it runs last.
  const delay = opts.timelockDelay ?? 2n * DAY;
  const targets: Address[] = [disputeGame, disputeGame];
  const payloads: Hex[] = [
    encodeFunctionData({ abi: disputeGameAbi, functionName: 'setMarket', args: [taskMarket, true] }),
    // 10% of a losing side's bond to the treasury: a self-challenge that loses on purpose costs real money.
    encodeFunctionData({ abi: disputeGameAbi, functionName: 'setLoserCut', args: [gm.loserCutBps ?? 1_000, m.treasury ?? timelock] }),
  ];
  if (auditBook || dataAvailability) {
    targets.push(taskMarket);
    payloads.push(encodeFunctionData({ abi: taskMarketAbi, functionName: 'setModules', args: [auditBook ?? zeroAddress, dataAvailability ?? zeroAddress] }));
  }
  targets.push(timelock);
  payloads.push(encodeFunctionData({ abi: verityTimelockAbi, functionName: 'updateDelay', args: [delay] }));
  const values = targets.map(() => 0n);
  const salt = zeroHash;
  await call('VerityTimelock', timelock, verityTimelockAbi, 'scheduleBatch', [targets, values, payloads, zeroHash, salt, 0n]);
  await call('VerityTimelock', timelock, verityTimelockAbi, 'executeBatch', [targets, values, payloads, zeroHash, salt]);

  const role = (name: 'PROPOSER_ROLE' | 'CANCELLER_ROLE' | 'DEFAULT_ADMIN_ROLE') =>
    publicClient.readContract({ address: timelock, abi: verityTimelockAbi, functionName: name });
  const [proposer, canceller, admin] = await Promise.all([role('PROPOSER_ROLE'), role('CANCELLER_ROLE'), role('DEFAULT_ADMIN_ROLE')]);
  await call('VerityTimelock', timelock, verityTimelockAbi, 'grantRole', [proposer, governor]);
  await call('VerityTimelock', timelock, verityTimelockAbi, 'grantRole', [canceller, governor]);
  await call('VerityTimelock', timelock, verityTimelockAbi, 'revokeRole', [proposer, deployer]);
  await call('VerityTimelock', timelock, verityTimelockAbi, 'revokeRole', [canceller, deployer]);
  await call('VerityTimelock', timelock, verityTimelockAbi, 'renounceRole', [admin, deployer]);

  // Post-conditions: the handover really happened.
  const has = (r: Hex, who: Address) => publicClient.readContract({ address: timelock, abi: verityTimelockAbi, functionName: 'hasRole', args: [r, who] });
  const [a, p, c, allowed, minDelay] = await Promise.all([
    has(admin, deployer),
    has(proposer, deployer),
    has(canceller, deployer),
    publicClient.readContract({ address: disputeGame, abi: disputeGameAbi, functionName: 'isMarket', args: [taskMarket] }),
    publicClient.readContract({ address: timelock, abi: verityTimelockAbi, functionName: 'getMinDelay' }),
  ]);
  if (a || p || c || !allowed || minDelay !== delay) {
    throw new TransactionError('Protocol handover to the timelock did not complete.', {
      details: `deployer admin=${a} proposer=${p} canceller=${c}; game allows market=${allowed}; timelock delay=${minDelay}`,
    });
  }

  // Supply distribution (docs/protocol.md §Governance on day one).
  let vesting: Address | undefined;
  if ((opts.tokenHolder ?? deployer) === deployer) {
    const supply = opts.tokenSupply ?? 1_000_000_000n * E18;
    const d = opts.distribution ?? {};
    const treasuryShare = (supply * BigInt(d.treasuryBps ?? 4_000)) / 10_000n;
    const contributorsShare = (supply * BigInt(d.contributorsBps ?? 1_500)) / 10_000n;
    if (treasuryShare > 0n) await call('VerityToken', token, verityTokenAbi, 'transfer', [timelock, treasuryShare]);
    if (contributorsShare > 0n) {
      const now = (await publicClient.getBlock()).timestamp;
      vesting = await deploy('VerityVesting', verityVestingAbi, verityVestingBytecode, [d.contributors ?? deployer, now, d.vestingSeconds ?? 4n * 365n * DAY]);
      await call('VerityToken', token, verityTokenAbi, 'transfer', [vesting, contributorsShare]);
    }
    const seed = opts.audits?.poolSeed ?? 0n;
    if (auditBook && seed > 0n) {
      await call('VerityToken', token, verityTokenAbi, 'approve', [auditBook, seed]);
      await call('AuditBook', auditBook, auditBookAbi, 'fundPool', [seed]);
    }
  }

  return {
    auditBook,
    dataAvailability,
    vesting,
    addresses: {
      token,
      timelock,
      governor,
      identityRegistry,
      reputationRegistry,
      validationRegistry,
      modelRegistry,
      staking,
      taskMarket,
      disputeGame,
      oneStepVerifier,
      ...(verifierFamilies ? { verifierFamilies } : {}),
    },
    deployer,
    gas,
  };
}
