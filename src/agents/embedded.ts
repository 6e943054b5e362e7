/**
 * An embedded chain: a devnet (src/chain/devnet.ts: anvil on 127.0.0.1, the protocol deployed by account 0, clients
 * for any anvil account) with named accounts (as(role)), VRT funding (fund) and models registered once
 * (ensureModel). It settles nothing itself: the agents' networks run real nodes on it (./local-network.ts).
 * Everything goes through the actions of src/chain/actions and the one sender (src/chain/send.ts).
 */
import type { Hex, PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { opsBitmap, registerModel, transferToken } from '../chain/actions/index.js';
import type { AnvilInstance } from '../chain/anvil.js';
import { startDevnet, type Devnet } from '../chain/devnet.js';
import type { ProtocolAddresses, ProtocolClients } from '../chain/types.js';
import { modelRootHex } from '../commit/index.js';
import type { QModel } from '../engine/ir.js';

const E18 = 10n ** 18n;
export const ACCOUNT_INDEX = { deployer: 0, requester: 1, worker: 2, agent: 3 } as const;
export type EmbeddedRole = keyof typeof ACCOUNT_INDEX;

export interface EmbeddedChainOptions {
  /** Seconds a result stays challengeable on this chain (default 60). */
  challengeWindow?: bigint;
  /** anvil --block-time in seconds (default: none, a block per transaction): real nodes need the clock to move. */
  blockTime?: number;
}

export class EmbeddedChain {
  readonly devnet: Devnet;
  readonly anvil: AnvilInstance;
  readonly publicClient: PublicClient;
  readonly addresses: ProtocolAddresses;
  readonly chainId = foundry.id;
  private readonly modelIds = new Map<string, bigint>();

  private constructor(devnet: Devnet) {
    this.devnet = devnet;
    this.anvil = devnet.anvil;
    this.publicClient = devnet.publicClient;
    this.addresses = devnet.addresses;
  }

  /** Starts the devnet, funds the requester, worker and agent accounts with 1M VRT each. */
  static async start(opts: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
    const devnet = await startDevnet({
      ...(opts.blockTime === undefined ? {} : { anvilArgs: ['--block-time', String(opts.blockTime), '--mixed-mining'] }),
      deploy: { market: { challengeWindow: opts.challengeWindow ?? 60n } },
    });
    const chain = new EmbeddedChain(devnet);
    try {
      for (const role of ['requester', 'worker', 'agent'] as const) await chain.fund(chain.as(role).walletClient.account.address);
      return chain;
    } catch (e) {
      await devnet.stop();
      throw e;
    }
  }

  /** Clients acting as one of the embedded accounts. */
  as(role: EmbeddedRole): ProtocolClients {
    return this.devnet.clients(ACCOUNT_INDEX[role]);
  }

  /**
   * Clients acting as account `index` of anvil's test mnemonic (0..9 hold ETH for gas; only the roles above are
   * funded with VRT by start(): fund others with fund()).
   */
  asAccount(index: number): ProtocolClients {
    return this.devnet.clients(index);
  }

  /** Sends `amount` VRT (default 1M) from the deployer to `to`. */
  async fund(to: Hex, amount = 1_000_000n * E18): Promise<void> {
    await transferToken(this.as('deployer'), { to, amount });
  }

  /** Registers `model` in the ModelRegistry once (by modelRoot); returns its model id. */
  async ensureModel(model: QModel): Promise<bigint> {
    const root = modelRootHex(model).toLowerCase();
    const known = this.modelIds.get(root);
    if (known !== undefined) return known;
    const r = await registerModel(this.as('deployer'), { modelRoot: root as Hex, metadataURI: `verity:model:${model.name}`, opsBitmap: opsBitmap(model) });
    this.modelIds.set(root, r.modelId);
    return r.modelId;
  }

  async stop(): Promise<void> {
    await this.devnet.stop();
  }
}
