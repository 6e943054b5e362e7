/**
 * A Verity node: one process, one role (worker | verifier | requester), one data directory. Opens the store,
 * finishes any transaction a previous run left unsettled, sets the role up (approvals, agent, stake), then runs the
 * role's tick in a loop with bounded exponential backoff on errors (a dropped RPC, a node restart). Optionally
 * serves the HTTP API (src/node/api.ts).
 */
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { pino, type Logger } from 'pino';
import { modelRegistryAbi } from '../chain/artifacts/index.js';
import { protocolCalls } from '../chain/call.js';
import type { ProtocolAddresses } from '../chain/types.js';
import { keccakReady } from '../commit/index.js';
import type { QModel } from '../engine/ir.js';
import { BaseError } from '../errors.js';
import { inc, type NodeContext } from './context.js';
import { LocalEngineProvider, loadModelSpec } from './engine-provider.js';
import type { Role, RoleName } from './roles/common.js';
import { Requester, type RequesterOptions } from './roles/requester.js';
import { Verifier, type VerifierOptions } from './roles/verifier.js';
import { Worker, type WorkerOptions } from './roles/worker.js';
import { NodeStore } from './store.js';
import { announce } from './discovery.js';
import { TxSender, viemPort } from '../chain/tx.js';
import { HeadWatch } from './heads.js';

export class NodeConfigError extends BaseError {
  override name = 'NodeConfigError';
}

export interface NodeOptions {
  role: RoleName;
  rpcUrl: string;
  privateKey: Hex;
  dataDir: string;
  addresses: ProtocolAddresses;
  /** Shipped model names or .vqm paths (default: wine-mlp, digits-convnet). */
  models?: readonly string[];
  /** Already imported models (instead of / in addition to `models`). */
  qmodels?: readonly QModel[];
  /** Worker: fraction of answers to corrupt. */
  dishonest?: number;
  /** Verifier: fraction of results to re-execute. */
  sample?: number;
  /** Other nodes' API base URLs, asked for batch data (inputs from requesters, element results from workers). */
  peers?: readonly string[];
  /** URL this node's API is reachable at: registered in its agent's ERC-8004 registration file at start
   * (src/node/discovery.ts). Unset: nothing is announced (the CLI announces its API URL once it listens). */
  publicUrl?: string;
  /** Poll interval between ticks, ms (default 500). */
  pollMs?: number;
  /** Chain following: confirmations, reorg window, largest eth_getLogs range (see scan in ./context.ts). */
  follow?: NodeContext['follow'];
  /** Backoff cap after errors, ms (default 10 000). */
  maxBackoffMs?: number;
  /** EIP-1559 fee bumping (src/chain/tx.ts): a transaction not mined `afterMs` (default 60 000) after its latest
   * signature is re-signed under the same nonce with fees ≥ +12.5%, never above `maxFeePerGas` wei. Absent: never. */
  feeBump?: { afterMs?: number; maxFeePerGas: bigint };
  logger?: Logger;
  worker?: WorkerOptions;
  verifier?: Omit<VerifierOptions, 'sample'>;
  requester?: RequesterOptions & { minFee?: bigint };
}

export class VerityNode {
  readonly ctx: NodeContext;
  readonly role: Role;
  readonly opts: NodeOptions;
  private stopped = false;
  private headWatch: HeadWatch | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  ticks = 0;
  lastError: string | null = null;
  ready = false;

  constructor(ctx: NodeContext, role: Role, opts: NodeOptions) {
    this.ctx = ctx;
    this.role = role;
    this.opts = opts;
  }

  /** Recovers unsettled transactions, sets the role up, and starts the loop (returns once set up). */
  async start(): Promise<void> {
    let backoff = 200;
    for (let attempt = 0; ; attempt++) {
      try {
        const rec = await this.ctx.sender.recover();
        if (rec.settled + rec.failed + rec.pending > 0) this.ctx.log.info(rec, 'resumed unsettled transactions');
        // Announced before the role's setup, so a worker's agent is this registration.
        if (this.ctx.publicUrl) await announce(this.ctx, this.opts.role);
        await this.role.setup();
        break;
      } catch (e) {
        if (this.stopped || attempt >= 8) throw e;
        this.ctx.log.warn({ err: (e as Error).message.split('\n')[0] }, `setup failed; retrying in ${backoff} ms`);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(this.opts.maxBackoffMs ?? 10_000, backoff * 2);
      }
    }
    this.ready = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const poll = this.opts.pollMs ?? 500;
    const cap = this.opts.maxBackoffMs ?? 10_000;
    let failures = 0;
    while (!this.stopped) {
      try {
        // A scan saw a reorg: every transaction settled in the blocks it replaced is re-read (and re-broadcast with
        // its same bytes if the new chain lacks it) before the role acts again.
        // Our own head watch too: a trailing follower can miss a reorg of blocks holding what we sent.
        this.headWatch ??= new HeadWatch(this.ctx.publicClient);
        const replaced = await this.headWatch.check();
        if (replaced !== undefined) {
          inc(this.ctx, 'verity_node_reorgs_total');
          this.ctx.log.warn({ from: String(replaced) }, 'chain reorg seen at the head: re-reading our transactions');
          if (this.ctx.reorgedFrom === undefined || replaced < this.ctx.reorgedFrom) this.ctx.reorgedFrom = replaced;
        }
        const from = this.ctx.reorgedFrom;
        if (from !== undefined) {
          const r = await this.ctx.sender.reconcile(Number(from));
          this.ctx.reorgedFrom = from === this.ctx.reorgedFrom ? undefined : this.ctx.reorgedFrom;
          if (r.moved + r.resent > 0) this.ctx.log.warn({ from: String(from), ...r }, 'reconciled transactions after a reorg');
        }
        await this.role.tick();
        this.ticks++;
        failures = 0;
        this.lastError = null;
      } catch (e) {
        failures++;
        this.lastError = (e as Error).message.split('\n')[0]!;
        this.ctx.log.warn({ err: this.lastError, failures }, 'tick failed; backing off');
      }
      if (this.stopped) break;
      const wait = failures === 0 ? poll : Math.min(cap, poll * 2 ** Math.min(failures, 10));
      await new Promise<void>((r) => {
        const timer = setTimeout(r, wait);
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
  }

  /** Runs the next tick now (after a submission). */
  poke(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.ctx.store.close();
  }
}

/** Builds the node: store, sender, clients, engine, role. Does not start it. */
export async function createNode(opts: NodeOptions): Promise<VerityNode> {
  await keccakReady;
  if (!/^0x[0-9a-fA-F]{64}$/.test(opts.privateKey)) throw new NodeConfigError('The node key must be a 32-byte hex private key.', { hint: 'Pass --key 0x… (64 hex digits) or VERITY_KEY.' });
  const log = opts.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const account = privateKeyToAccount(opts.privateKey);
  const transport = http(opts.rpcUrl, { retryCount: 5, retryDelay: 200, timeout: 20_000 });
  const probe = createPublicClient({ transport });
  let chainId: number;
  try {
    chainId = await probe.getChainId();
  } catch (e) {
    throw new NodeConfigError('Cannot reach the RPC.', { details: `${opts.rpcUrl}: ${(e as Error).message.split('\n')[0]}`, hint: 'Check --rpc (or start a chain with `verity chain up`).', cause: e });
  }
  const chain = defineChain({ id: chainId, name: `chain-${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [opts.rpcUrl] } } });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient;
  const walletClient = createWalletClient({ chain, transport, account, pollingInterval: 100 });
  const store = NodeStore.open({ dataDir: opts.dataDir });
  const known = store.getKv('account');
  if (known && known.toLowerCase() !== account.address.toLowerCase()) {
    store.close();
    throw new NodeConfigError('This data directory belongs to another account.', { details: `${opts.dataDir}: ${known}, key: ${account.address}`, hint: 'Use one --data directory per key.' });
  }
  const knownRole = store.getKv('role');
  if (knownRole && knownRole !== opts.role) {
    store.close();
    throw new NodeConfigError('This data directory belongs to another role.', { details: `${opts.dataDir}: ${knownRole}, asked: ${opts.role}` });
  }
  store.setKv('account', account.address);
  store.setKv('role', opts.role);
  store.setKv('deployment', JSON.stringify(opts.addresses));
  const models = [...(opts.qmodels ?? []), ...(opts.models ?? (opts.qmodels ? [] : ['wine-mlp', 'digits-convnet'])).map(loadModelSpec)];
  const engine = new LocalEngineProvider(models, { dishonest: opts.role === 'worker' ? (opts.dishonest ?? 0) : 0 });
  const sender = new TxSender(store, viemPort(publicClient, walletClient), {
    log: (level, msg, extra) => log[level](extra ?? {}, msg),
    ...(opts.feeBump ? { bump: { afterMs: opts.feeBump.afterMs ?? 60_000, maxFeePerGas: opts.feeBump.maxFeePerGas } } : {}),
  });
  const ctx: NodeContext = { store, sender, calls: protocolCalls(opts.addresses), publicClient, walletClient, addresses: opts.addresses, engine, log: log.child({ role: opts.role, account: account.address }), account: account.address as Address, metrics: new Map(), peers: [...(opts.peers ?? [])], ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}), ...(opts.follow ? { follow: opts.follow } : {}) };
  const role: Role =
    opts.role === 'worker'
      ? new Worker(ctx, opts.worker)
      : opts.role === 'verifier'
        ? new Verifier(ctx, { ...opts.verifier, sample: opts.sample ?? 1 })
        : new Requester(ctx, opts.requester);
  return new VerityNode(ctx, role, opts);
}

/** modelId of a registered modelRoot (scans the registry; small). */
export async function modelIdOf(ctx: NodeContext, root: string): Promise<bigint | undefined> {
  const cached = ctx.store.getKv(`modelId:${root.toLowerCase()}`);
  if (cached) return BigInt(cached);
  const total = await ctx.publicClient.readContract({ address: ctx.addresses.modelRegistry, abi: modelRegistryAbi, functionName: 'totalModels' });
  for (let id = 1n; id <= total; id++) {
    const r = await ctx.publicClient.readContract({ address: ctx.addresses.modelRegistry, abi: modelRegistryAbi, functionName: 'modelRoot', args: [id] });
    ctx.store.setKv(`modelRoot:${id}`, r);
    if (r.toLowerCase() === root.toLowerCase()) {
      ctx.store.setKv(`modelId:${root.toLowerCase()}`, String(id));
      return id;
    }
  }
  return undefined;
}
