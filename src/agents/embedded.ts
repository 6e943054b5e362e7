/**
 * An embedded chain: anvil on 127.0.0.1 (startAnvil), the protocol deployed with deployProtocol, funded accounts
 * from anvil's public test mnemonic (as(role), asAccount(i), fund), models registered once, the clock warped. The
 * agents' networks run real nodes on it (./local-network.ts). settleBatch is what remains of the in-process
 * settlement: the dialogue demo's batch task (post, claim, commit, finalize after a warp), not yet driven through
 * nodes. Everything goes through the actions of src/chain/actions.
 */
import { createPublicClient, createTestClient, createWalletClient, erc20Abi, http, type Hex, type PublicClient, type TransactionReceipt } from 'viem';
import { foundry } from 'viem/chains';
import { claimTask, commitBatch, finalizeTask, postBatchTask, registerAgent, registerModel, stake } from '../chain/actions/index.js';
import { anvilAccount, startAnvil, type AnvilInstance } from '../chain/anvil.js';
import { taskMarketAbi } from '../chain/artifacts/index.js';
import { deployProtocol } from '../chain/deploy.js';
import { sendContractTransaction } from '../chain/send.js';
import type { ProtocolAddresses, ProtocolClients } from '../chain/types.js';
import { keccakReady, modelRootHex } from '../commit/index.js';
import type { QModel } from '../engine/ir.js';

const E18 = 10n ** 18n;
export const ACCOUNT_INDEX = { deployer: 0, requester: 1, worker: 2, agent: 3 } as const;
export type EmbeddedRole = keyof typeof ACCOUNT_INDEX;

export { opsBitmap } from '../chain/actions/registerModel.js';
import { opsBitmap } from '../chain/actions/registerModel.js';

/** Gas and hash of one protocol transaction. */
export interface TxRecord {
  step: string;
  hash: Hex;
  gasUsed: bigint;
}

function rec(step: string, r: { hash: Hex; receipt: TransactionReceipt }): TxRecord {
  return { step, hash: r.hash, gasUsed: r.receipt.gasUsed };
}

export interface SettledTask {
  taskId: bigint;
  agentId: bigint;
  worker: Hex;
  workerPayout: bigint;
  /** post, claim, commit, finalize (in order). The fee approval, when one was needed, is not included. */
  txs: TxRecord[];
  /** The root the worker committed (resultRoot of the task). */
  resultRoot: Hex;
  status: 'finalized';
}

export interface EmbeddedChainOptions {
  /** Seconds a result stays challengeable on this chain (default 60). */
  challengeWindow?: bigint;
  /** anvil --block-time in seconds (default: none, a block per transaction): real nodes need the clock to move. */
  blockTime?: number;
  /** Fee per task, wei (default 1 VRT). */
  fee?: bigint;
}

export class EmbeddedChain {
  readonly anvil: AnvilInstance;
  readonly publicClient: PublicClient;
  readonly addresses: ProtocolAddresses;
  readonly chainId: number;
  readonly fee: bigint;
  private readonly testClient: ReturnType<typeof createTestClient>;
  private readonly modelIds = new Map<string, bigint>();
  private workerAgentId: bigint | undefined;
  /** Serializes protocol flows (one nonce sequence per account; anvil automines). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(a: {
    anvil: AnvilInstance;
    publicClient: PublicClient;
    testClient: ReturnType<typeof createTestClient>;
    addresses: ProtocolAddresses;
    fee: bigint;
  }) {
    this.anvil = a.anvil;
    this.publicClient = a.publicClient;
    this.testClient = a.testClient;
    this.addresses = a.addresses;
    this.chainId = foundry.id;
    this.fee = a.fee;
  }

  /** Starts anvil, deploys the protocol, funds the requester, worker and agent accounts with 1M VRT each. */
  static async start(opts: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
    await keccakReady;
    const anvil = await startAnvil(opts.blockTime === undefined ? {} : { args: ['--block-time', String(opts.blockTime)] });
    try {
      const transport = http(anvil.rpcUrl);
      const publicClient = createPublicClient({ chain: foundry, transport, pollingInterval: 20 }) as PublicClient;
      const testClient = createTestClient({ chain: foundry, transport, mode: 'anvil' });
      const deployer = createWalletClient({ chain: foundry, transport, account: anvilAccount(0), pollingInterval: 20 });
      const { addresses } = await deployProtocol(deployer, publicClient, { market: { challengeWindow: opts.challengeWindow ?? 60n } });
      const chain = new EmbeddedChain({ anvil, publicClient, testClient, addresses, fee: opts.fee ?? E18 });
      for (const role of ['requester', 'worker', 'agent'] as const) await chain.fund(chain.as(role).walletClient.account.address);
      return chain;
    } catch (e) {
      await anvil.stop();
      throw e;
    }
  }

  /** Clients acting as one of the embedded accounts. */
  as(role: EmbeddedRole): ProtocolClients {
    return this.asAccount(ACCOUNT_INDEX[role]);
  }

  /**
   * Clients acting as account `index` of anvil's test mnemonic (0..9 hold ETH for gas; only the roles above are
   * funded with VRT by start(): fund others from the deployer).
   */
  asAccount(index: number): ProtocolClients {
    const walletClient = createWalletClient({
      chain: foundry,
      transport: http(this.anvil.rpcUrl),
      account: anvilAccount(index),
      pollingInterval: 20,
    });
    return { publicClient: this.publicClient, walletClient, addresses: this.addresses };
  }

  /** Sends `amount` VRT (default 1M) from the deployer to `to`. */
  async fund(to: Hex, amount = 1_000_000n * E18): Promise<void> {
    await sendContractTransaction(this.as('deployer'), { contract: 'VerityToken', address: this.addresses.token, abi: erc20Abi, functionName: 'transfer', args: [to, amount] });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Registers `model` in the ModelRegistry once (by modelRoot); returns its model id. */
  ensureModel(model: QModel): Promise<bigint> {
    const known = this.modelIds.get(modelRootHex(model).toLowerCase());
    return known !== undefined ? Promise.resolve(known) : this.serial(() => this.ensureModelUnqueued(model));
  }

  modelIdOf(root: string): bigint | undefined {
    return this.modelIds.get(root.toLowerCase());
  }

  /** The in-process worker's ERC-8004 agent (registered and staked on first use). */
  async workerAgent(): Promise<bigint> {
    if (this.workerAgentId !== undefined) return this.workerAgentId;
    const w = this.as('worker');
    const { agentId } = await registerAgent(w, { agentURI: 'data:application/json,{"name":"verity-embedded-worker"}' });
    await stake(w, { amount: 1_000n * E18 });
    this.workerAgentId = agentId;
    return agentId;
  }

  /** Advances anvil's clock by `seconds` and mines a block. */
  async warp(seconds: bigint): Promise<void> {
    await this.testClient.increaseTime({ seconds: Number(seconds) });
    await this.testClient.mine({ blocks: 1 });
  }

  private async deadline(): Promise<bigint> {
    return (await this.publicClient.getBlock()).timestamp + 3_600n;
  }

  private async closeWindow(): Promise<void> {
    await this.warp((await this.challengeWindowSeconds()) + 1n);
  }

  async challengeWindowSeconds(): Promise<bigint> {
    return BigInt(await this.publicClient.readContract({ address: this.addresses.taskMarket, abi: taskMarketAbi, functionName: 'challengeWindow' }));
  }

  /**
   * One batch task: the requester posts the element input hashes (inputs delivered off-chain), the worker claims,
   * commits the positional root of its results, the window passes, anyone finalizes.
   */
  settleBatch(
    model: QModel,
    elements: readonly { inputHash: Hex; outputHash: Hex; traceRoot: Hex }[],
    opts: { fee?: bigint } = {},
  ): Promise<SettledTask & { inputsRoot: Hex }> {
    return this.serial(async () => {
      const modelId = await this.ensureModelUnqueued(model);
      const agentId = await this.workerAgent();
      const post = await postBatchTask(this.as('requester'), {
        modelId,
        inputHashes: elements.map((e) => e.inputHash),
        fee: opts.fee ?? this.fee,
        deadline: await this.deadline(),
      });
      const claim = await claimTask(this.as('worker'), { taskId: post.taskId, agentId });
      const commit = await commitBatch(this.as('worker'), { taskId: post.taskId, results: elements });
      await this.closeWindow();
      const fin = await finalizeTask(this.as('worker'), { taskId: post.taskId });
      return {
        taskId: post.taskId,
        agentId,
        worker: fin.worker,
        workerPayout: fin.workerPayout,
        txs: [rec('post', post), rec('claim', claim), rec('commit', commit), rec('finalize', fin)],
        resultRoot: commit.resultTree.root,
        inputsRoot: post.inputTree.root,
        status: 'finalized',
      };
    });
  }

  /** ensureModel inside a serialized flow (no re-queueing). */
  private async ensureModelUnqueued(model: QModel): Promise<bigint> {
    const root = modelRootHex(model).toLowerCase();
    const known = this.modelIds.get(root);
    if (known !== undefined) return known;
    const r = await registerModel(this.as('deployer'), { modelRoot: root as Hex, metadataURI: `verity:model:${model.name}`, opsBitmap: opsBitmap(model) });
    this.modelIds.set(root, r.modelId);
    return r.modelId;
  }

  async stop(): Promise<void> {
    await this.anvil.stop();
  }
}
