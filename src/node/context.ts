/**
 * What every role runs with: the store, the crash-safe sender, viem clients, the protocol's addresses, the engine,
 * a pino logger; and the chain reads the roles share (event scans with a durable cursor, task reads, tensors from
 * calldata, approvals, withdrawals).
 */
import { erc20Abi, maxUint256, parseEventLogs, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type TransactionReceipt, type Transport, type WalletClient } from 'viem';
import type { Logger } from 'pino';
import { disputeGameAbi, identityRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import type { ProtocolAddresses } from '../chain/types.js';
import { dtypeFromCode } from '../commit/index.js';
import { allocate, type TensorData } from '../engine/ir.js';
import type { LocalEngineProvider } from './engine-provider.js';
import type { NodeStore } from './store.js';
import { callRequest, TxFailedError, type TxSender } from './tx.js';

export interface NodeContext {
  store: NodeStore;
  sender: TxSender;
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  addresses: ProtocolAddresses;
  engine: LocalEngineProvider;
  log: Logger;
  account: Address;
  /** Metrics counters (exported at /metrics). */
  metrics: Map<string, number>;
  /** Other nodes' API base URLs, asked for batch data (inputs, element results); see src/node/batch.ts. */
  peers?: string[];
}

export function inc(ctx: NodeContext, name: string, by = 1): void {
  ctx.metrics.set(name, (ctx.metrics.get(name) ?? 0) + by);
}

/** Sends a contract call under an idempotency key and returns its receipt. */
export async function sendCall(
  ctx: NodeContext,
  key: string,
  contract: string,
  address: Address,
  abi: Abi | readonly unknown[],
  functionName: string,
  args: readonly unknown[] = [],
): Promise<TransactionReceipt> {
  const sent = await ctx.sender.send(key, callRequest(contract, address, abi, functionName, args));
  inc(ctx, 'verity_node_transactions_total');
  return ctx.publicClient.getTransactionReceipt({ hash: sent.hash });
}

/** Decoded `eventName` logs of `address` in a receipt. */
export function logsOf<T>(receipt: TransactionReceipt, abi: Abi | readonly unknown[], address: Address, eventName: string): T[] {
  return (parseEventLogs({ abi: abi as Abi, logs: receipt.logs, eventName } as never) as unknown as { address: Address; args: T }[])
    .filter((l) => l.address.toLowerCase() === address.toLowerCase())
    .map((l) => l.args);
}

/** True if `e` is a recorded failure whose decoded revert names `errorName`. */
export function failedWith(e: unknown, errorName: string): boolean {
  return e instanceof TxFailedError && e.message.includes(`${errorName}(`);
}

export interface ScannedLog<T> {
  args: T;
  blockNumber: bigint;
  transactionHash: Hex;
}

/**
 * Scans new logs of the given events since the durable cursor `name` (at most `maxRange` blocks per call), returns
 * them in chain order, and advances the cursor only after `handle` has processed them all.
 */
export async function scan(
  ctx: NodeContext,
  name: string,
  address: Address,
  abi: Abi | readonly unknown[],
  eventNames: readonly string[],
  handle: (logs: (ScannedLog<Record<string, unknown>> & { eventName: string })[]) => Promise<void> | void,
  maxRange = 5_000n,
): Promise<void> {
  const key = `cursor:${name}`;
  const from = BigInt(ctx.store.getKv(key) ?? '0');
  const latest = await ctx.publicClient.getBlockNumber();
  if (latest < from) return;
  const to = latest - from > maxRange ? from + maxRange : latest;
  const logs = await ctx.publicClient.getLogs({ address, fromBlock: from, toBlock: to });
  const decoded = (parseEventLogs({ abi: abi as Abi, logs } as never) as unknown as {
    eventName: string;
    args: Record<string, unknown>;
    blockNumber: bigint;
    transactionHash: Hex;
    logIndex: number;
  }[])
    .filter((l) => eventNames.includes(l.eventName))
    .sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1));
  await handle(decoded.map((l) => ({ eventName: l.eventName, args: l.args, blockNumber: l.blockNumber, transactionHash: l.transactionHash })));
  ctx.store.setKv(key, String(to + 1n));
}

/** Solidity IoCommitments.Tensor → TensorData. */
export function tensorFromArg(t: { dtype: number; shape: readonly number[]; data: Hex }): TensorData {
  const dtype = dtypeFromCode(t.dtype);
  const bytes = Buffer.from(t.data.slice(2), 'hex');
  const n = dtype === 'i32' ? bytes.length / 4 : bytes.length;
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = dtype === 'i32' ? bytes.readInt32BE(4 * i) : dtype === 'i8' ? bytes.readInt8(i) : bytes[i]!;
  return { dtype, shape: [...t.shape], data };
}

export const TASK_STATUS = ['None', 'Open', 'Claimed', 'Committed', 'Finalized', 'Invalidated', 'Cancelled'] as const;

export interface ChainTask {
  worker: Address;
  deadline: bigint;
  itemCount: number;
  challengeDeadline: bigint;
  status: (typeof TASK_STATUS)[number];
  openDisputes: number;
  modelId: bigint;
  agentId: bigint;
  requester: Address;
  fee: bigint;
  resultRoot: Hex;
}

export async function readTask(ctx: NodeContext, taskId: bigint): Promise<ChainTask> {
  const t = await ctx.publicClient.readContract({ address: ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [taskId] });
  return { ...t, status: TASK_STATUS[t.status] ?? 'None' } as unknown as ChainTask;
}

/** Block timestamp of the latest block (the chain's clock). */
export async function chainNow(ctx: NodeContext): Promise<bigint> {
  return (await ctx.publicClient.getBlock()).timestamp;
}

/** modelRoot of a registered model id (cached in kv). */
export async function modelRootOf(ctx: NodeContext, modelId: bigint): Promise<Hex> {
  const k = `modelRoot:${modelId}`;
  const cached = ctx.store.getKv(k);
  if (cached) return cached as Hex;
  const { modelRegistryAbi } = await import('../chain/artifacts/index.js');
  const root = (await ctx.publicClient.readContract({ address: ctx.addresses.modelRegistry, abi: modelRegistryAbi, functionName: 'modelRoot', args: [modelId] })) as Hex;
  ctx.store.setKv(k, root);
  return root;
}

/** Approves the market, staking and the dispute game for the maximum once (idempotent keys). */
export async function ensureApprovals(ctx: NodeContext): Promise<void> {
  for (const [name, spender] of [
    ['market', ctx.addresses.taskMarket],
    ['staking', ctx.addresses.staking],
    ['game', ctx.addresses.disputeGame],
  ] as const) {
    const allowance = await ctx.publicClient.readContract({ address: ctx.addresses.token, abi: erc20Abi, functionName: 'allowance', args: [ctx.account, spender] });
    if (allowance >= maxUint256 / 2n) continue;
    await sendCall(ctx, `approve:${name}:${spender}`, 'VerityToken', ctx.addresses.token, erc20Abi, 'approve', [spender, maxUint256]);
  }
}

/** Registers this account's agent once (kv agentId) and returns its id. */
export async function ensureAgent(ctx: NodeContext, agentURI: string): Promise<bigint> {
  const known = ctx.store.getKv('agentId');
  if (known) return BigInt(known);
  // An agent registered earlier for this key (e.g. by `verity agent register`) is reused.
  const mine = await ctx.publicClient.getContractEvents({ address: ctx.addresses.identityRegistry, abi: identityRegistryAbi, eventName: 'Registered', args: { owner: ctx.account }, fromBlock: 0n, strict: true });
  if (mine[0]) {
    ctx.store.setKv('agentId', String(mine[0].args.agentId));
    return mine[0].args.agentId;
  }
  const r = await sendCall(ctx, 'agent:register', 'IdentityRegistry', ctx.addresses.identityRegistry, identityRegistryAbi, 'register', [agentURI]);
  const ev = logsOf<{ agentId: bigint }>(r, identityRegistryAbi, ctx.addresses.identityRegistry, 'Registered')[0];
  if (!ev) throw new Error('register: no Registered event');
  ctx.store.setKv('agentId', String(ev.agentId));
  return ev.agentId;
}

/** Stakes up to `target` free stake (one keyed transaction per top-up). */
export async function ensureStake(ctx: NodeContext, target: bigint): Promise<void> {
  const free = await ctx.publicClient.readContract({ address: ctx.addresses.staking, abi: stakingAbi, functionName: 'freeStakeOf', args: [ctx.account] });
  if (free >= target) return;
  const acct = await ctx.publicClient.readContract({ address: ctx.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [ctx.account] });
  await sendCall(ctx, `stake:${acct.staked}:${target}`, 'Staking', ctx.addresses.staking, stakingAbi, 'stake', [target - free]);
}

/** Pulls everything credited to this account by the market and the game. */
export async function withdrawAll(ctx: NodeContext): Promise<bigint> {
  let total = 0n;
  const claimable = await ctx.publicClient.readContract({ address: ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [ctx.account] });
  if (claimable > 0n) {
    const n = await ctx.publicClient.getBlockNumber();
    await sendCall(ctx, `withdraw:market:${n}`, 'TaskMarket', ctx.addresses.taskMarket, taskMarketAbi, 'withdraw');
    total += claimable;
  }
  const credit = await ctx.publicClient.readContract({ address: ctx.addresses.disputeGame, abi: disputeGameAbi, functionName: 'credit', args: [ctx.account] });
  if (credit > 0n) {
    const n = await ctx.publicClient.getBlockNumber();
    await sendCall(ctx, `withdraw:game:${n}`, 'DisputeGame', ctx.addresses.disputeGame, disputeGameAbi, 'claimCredit');
    total += credit;
  }
  if (total > 0n) inc(ctx, 'verity_node_withdrawn_vrt_total', Number(total / 10n ** 12n) / 1e6);
  return total;
}
