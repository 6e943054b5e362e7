/**
 * What every role runs with: the store, the crash-safe sender, viem clients, the protocol's addresses, the engine,
 * a pino logger; and the chain reads the roles share (event scans with a durable cursor, task reads, tensors from
 * calldata, approvals, withdrawals).
 */
import { erc20Abi, maxUint256, parseEventLogs, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type TransactionReceipt, type Transport, type WalletClient } from 'viem';
import type { Logger } from 'pino';
import { BaseError } from '../errors.js';
import { taskStatusName, type TaskStatusName } from '../chain/enums.js';
import { disputeGameAbi, identityRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import type { ProtocolAddresses } from '../chain/types.js';
import { dtypeFromCode } from '../commit/index.js';
import { allocate, type TensorData } from '../engine/ir.js';
import type { LocalEngineProvider } from './engine-provider.js';
import type { NodeStore, TaskStatus } from './store.js';
import { eventsIn, type ProtocolCalls, type TxRequest } from '../chain/call.js';
import { TxFailedError, type TxSender } from '../chain/tx.js';
import { LogFollower, type FollowerState } from '../chain/follower.js';

export interface NodeContext {
  store: NodeStore;
  sender: TxSender;
  /** Typed requests for every protocol call at `addresses` (src/chain/call.ts). */
  calls: ProtocolCalls;
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  addresses: ProtocolAddresses;
  engine: LocalEngineProvider;
  log: Logger;
  account: Address;
  /** Metrics counters (exported at /metrics). */
  metrics: Map<string, number>;
  /** Other nodes' API base URLs, asked for batch data (inputs, element results); see src/node/batch.ts. Empty or
   * absent: the peers are found through the agents' ERC-8004 registrations (src/node/discovery.ts). */
  peers?: string[];
  /** The URL this node's API is reachable at, registered in its agent's registration file (src/node/discovery.ts). */
  publicUrl?: string;
  /** How old the discovered peer list may get before it is re-read, ms (default 10 000). */
  discoveryRefreshMs?: number;
  /** Chain following (see {@link scan}): confirmations before acting on a log (default 0, fine on anvil; set it on a
   * public chain), reorg window in blocks (default 64), largest eth_getLogs range (default: the scan's). */
  follow?: { confirmations?: number; reorgWindow?: number; maxRange?: bigint };
  /** Lowest block a scan saw reorged since the node last reconciled its settled transactions (see VerityNode). */
  reorgedFrom?: bigint;
}

export function inc(ctx: NodeContext, name: string, by = 1): void {
  ctx.metrics.set(name, (ctx.metrics.get(name) ?? 0) + by);
}

/** Sends a typed request (`ctx.calls.market.claim([…])`, src/chain/call.ts) under an idempotency key; returns its receipt. */
export async function sendCall(ctx: NodeContext, key: string, request: TxRequest): Promise<TransactionReceipt> {
  const sent = await ctx.sender.send(key, request);
  inc(ctx, 'verity_node_transactions_total');
  return ctx.publicClient.getTransactionReceipt({ hash: sent.hash });
}

/**
 * One task step's transaction (a worker's commit, a requester's post, a verifier's challenge): sends `request` under
 * `key`; once mined, `done(receipt)` makes the step's own store writes, then the transaction is recorded under `step`
 * and `metric` counted. A revert (TxFailedError) sets the task to `onRevert` with the reason's first line; any other
 * error is thrown (the loop retries the step next tick under the same key).
 */
export async function taskStep(
  ctx: NodeContext,
  taskId: string,
  key: string,
  request: TxRequest,
  o: { step: string; metric: string; onRevert: TaskStatus; done: (r: TransactionReceipt) => void },
): Promise<void> {
  try {
    const r = await sendCall(ctx, key, request);
    o.done(r);
    ctx.store.addTaskTx(taskId, o.step, r.transactionHash);
    inc(ctx, o.metric);
  } catch (e) {
    if (e instanceof TxFailedError) ctx.store.updateTask(taskId, { status: o.onRevert, error: e.message.split('\n')[0]! });
    else throw e;
  }
}

export class MissingFieldError extends BaseError {
  override name = 'MissingFieldError';
}

/** A hex column a call needs from a stored row (`task q-3 inputRoot`); a missing one is a {@link MissingFieldError}. */
export function hexField(v: string | null | undefined, what: string): Hex {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]*$/.test(v)) throw new MissingFieldError(`No ${what} stored.`, { details: `value: ${String(v)}` });
  return v as Hex;
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

/** Most eth_getLogs ranges one {@link scan} call walks before returning to the role's tick. */
const SCAN_POLLS = 32;

/** One {@link LogFollower} per context and scan name (it keeps the range it learned from the provider). */
const followers = new WeakMap<NodeContext, Map<string, LogFollower>>();

/**
 * Scans new logs of the given events since the durable cursor `name` (at most `maxRange` blocks per `eth_getLogs`,
 * halved when the provider refuses a range), returns them in chain order, and advances the cursor only after `handle`
 * has processed them all. Runs on {@link LogFollower}: logs are handed over once they have `ctx.follow.confirmations`
 * blocks on top; a reorg within `ctx.follow.reorgWindow` blocks rolls the cursor back and replays, delivering only
 * logs not handed over before (the intent journal guards sends against a crash between handling and saving); rate
 * limits (HTTP 429, -32005) are retried with backoff. The cursor lives in the store's kv (`follow:<name>`).
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
  let mine = followers.get(ctx);
  if (!mine) followers.set(ctx, (mine = new Map()));
  const fkey = `${name}|${address.toLowerCase()}|${eventNames.join(',')}`;
  let f = mine.get(fkey);
  if (!f) {
    const key = `follow:${name}`;
    // A cursor from before the follower (`cursor:<name>`, the next block) is where it starts.
    const legacy = ctx.store.getKv(`cursor:${name}`);
    f = new LogFollower({
      client: ctx.publicClient,
      address,
      abi,
      eventNames,
      fromBlock: legacy ? BigInt(legacy) : 0n,
      confirmations: ctx.follow?.confirmations ?? 0,
      reorgWindow: ctx.follow?.reorgWindow ?? 64,
      maxRange: ctx.follow?.maxRange ?? maxRange,
      cursor: {
        load: () => {
          const v = ctx.store.getKv(key);
          return v ? (JSON.parse(v) as FollowerState) : undefined;
        },
        save: (st) => ctx.store.setKv(key, JSON.stringify(st)),
      },
      onReorg: (r) => {
        inc(ctx, 'verity_node_reorgs_total');
        // The node re-reads its transactions' receipts from here (TxSender.reconcile) before its next tick.
        ctx.reorgedFrom = ctx.reorgedFrom === undefined || r.from < ctx.reorgedFrom ? r.from : ctx.reorgedFrom;
        ctx.log.warn({ scan: name, from: String(r.from), to: String(r.to), ancestor: String(r.ancestor) }, 'chain reorg: rolling back and replaying');
      },
      onBackoff: (b) => {
        inc(ctx, 'verity_node_rpc_backoffs_total');
        ctx.log.debug({ scan: name, attempt: b.attempt, delayMs: b.delayMs }, b.reason);
      },
    });
    mine.set(fkey, f);
  }
  // Several bounded ranges per call when behind (a provider capping eth_getLogs at a few blocks would otherwise leave
  // the node further behind at every tick than the chain grows), at most SCAN_POLLS.
  for (let i = 0; i < SCAN_POLLS; i++) {
    const r = await f.poll({
      onLogs: (logs) => handle(logs.map((l) => ({ eventName: l.eventName, args: l.args, blockNumber: l.blockNumber, transactionHash: l.transactionHash }))),
      onRemoved: (gone) => {
        inc(ctx, 'verity_node_reorged_logs_total', gone.length);
      },
    });
    if (r.caughtUp) break;
  }
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

export { TASK_STATUS } from '../chain/enums.js';

export interface ChainTask {
  worker: Address;
  deadline: bigint;
  itemCount: number;
  challengeDeadline: bigint;
  status: TaskStatusName;
  openDisputes: number;
  modelId: bigint;
  agentId: bigint;
  requester: Address;
  fee: bigint;
  resultRoot: Hex;
}

export async function readTask(ctx: NodeContext, taskId: bigint): Promise<ChainTask> {
  const t = await ctx.publicClient.readContract({ address: ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [taskId] });
  return { ...t, status: taskStatusName(t.status) };
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
    await sendCall(ctx, `approve:${name}:${spender}`, ctx.calls.token.approve([spender, maxUint256]));
  }
}

/**
 * The first agent registered to this account, if any: none when it holds no agent NFT (no log scan); else its
 * Registered events, read in bounded eth_getLogs ranges (a public RPC refuses a range from block 0 to the head).
 */
export async function registeredAgentOf(ctx: NodeContext): Promise<bigint | undefined> {
  const held = await ctx.publicClient.readContract({ address: ctx.addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'balanceOf', args: [ctx.account] });
  if (held === 0n) return undefined;
  let mem: FollowerState | undefined;
  let found: bigint | undefined;
  const f = new LogFollower({ client: ctx.publicClient, address: ctx.addresses.identityRegistry, abi: identityRegistryAbi, eventNames: ['Registered'], cursor: { load: () => mem, save: (st) => void (mem = st) }, maxRange: ctx.follow?.maxRange ?? 5_000n });
  await f.catchUp({
    onLogs: (logs) => {
      for (const l of logs) if (found === undefined && String(l.args.owner).toLowerCase() === ctx.account.toLowerCase()) found = l.args.agentId as bigint;
    },
  }, 100_000);
  return found;
}

/** Registers this account's agent once (kv agentId) and returns its id. */
export async function ensureAgent(ctx: NodeContext, agentURI: string): Promise<bigint> {
  const known = ctx.store.getKv('agentId');
  if (known) return BigInt(known);
  // An agent registered earlier for this key (e.g. by `verity agent register`) is reused.
  const mine = await registeredAgentOf(ctx);
  if (mine !== undefined) {
    ctx.store.setKv('agentId', String(mine));
    return mine;
  }
  const r = await sendCall(ctx, 'agent:register', ctx.calls.identity.register([agentURI]));
  const ev = eventsIn(r, identityRegistryAbi, ctx.addresses.identityRegistry, 'Registered')[0];
  if (!ev) throw new Error('register: no Registered event');
  ctx.store.setKv('agentId', String(ev.agentId));
  return ev.agentId;
}

/** Stakes up to `target` free stake (one keyed transaction per top-up). */
export async function ensureStake(ctx: NodeContext, target: bigint): Promise<void> {
  const free = await ctx.publicClient.readContract({ address: ctx.addresses.staking, abi: stakingAbi, functionName: 'freeStakeOf', args: [ctx.account] });
  if (free >= target) return;
  const acct = await ctx.publicClient.readContract({ address: ctx.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [ctx.account] });
  await sendCall(ctx, `stake:${acct.staked}:${target}`, ctx.calls.staking.stake([target - free]));
}

/** Pulls everything credited to this account by the market and the game. */
export async function withdrawAll(ctx: NodeContext): Promise<bigint> {
  let total = 0n;
  const claimable = await ctx.publicClient.readContract({ address: ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [ctx.account] });
  if (claimable > 0n) {
    const n = await ctx.publicClient.getBlockNumber();
    await sendCall(ctx, `withdraw:market:${n}`, ctx.calls.market.withdraw());
    total += claimable;
  }
  const credit = await ctx.publicClient.readContract({ address: ctx.addresses.disputeGame, abi: disputeGameAbi, functionName: 'credit', args: [ctx.account] });
  if (credit > 0n) {
    const n = await ctx.publicClient.getBlockNumber();
    await sendCall(ctx, `withdraw:game:${n}`, ctx.calls.game.claimCredit());
    total += credit;
  }
  if (total > 0n) inc(ctx, 'verity_node_withdrawn_vrt_total', Number(total / 10n ** 12n) / 1e6);
  return total;
}
