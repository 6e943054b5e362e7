/**
 * An embedded chain: anvil on 127.0.0.1 (startAnvil), the protocol deployed with deployProtocol, funded accounts
 * from anvil's public test mnemonic (as(role), asAccount(i), fund), models registered once (ensureModel). It settles
 * nothing itself: the agents' networks run real nodes on it (./local-network.ts). Everything goes through the
 * actions of src/chain/actions and the one sender (src/chain/send.ts).
 */
import { createPublicClient, createWalletClient, erc20Abi, http, type Hex, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { registerModel } from '../chain/actions/index.js';
import { anvilAccount, startAnvil, type AnvilInstance } from '../chain/anvil.js';
import { deployProtocol } from '../chain/deploy.js';
import { sendContractTransaction } from '../chain/send.js';
import type { ProtocolAddresses, ProtocolClients } from '../chain/types.js';
import { keccakReady, modelRootHex } from '../commit/index.js';
import type { QModel } from '../engine/ir.js';

const E18 = 10n ** 18n;
export const ACCOUNT_INDEX = { deployer: 0, requester: 1, worker: 2, agent: 3 } as const;
export type EmbeddedRole = keyof typeof ACCOUNT_INDEX;

import { opsBitmap } from '../chain/actions/registerModel.js';

export interface EmbeddedChainOptions {
  /** Seconds a result stays challengeable on this chain (default 60). */
  challengeWindow?: bigint;
  /** anvil --block-time in seconds (default: none, a block per transaction): real nodes need the clock to move. */
  blockTime?: number;
}

export class EmbeddedChain {
  readonly anvil: AnvilInstance;
  readonly publicClient: PublicClient;
  readonly addresses: ProtocolAddresses;
  readonly chainId: number;
  private readonly modelIds = new Map<string, bigint>();

  private constructor(anvil: AnvilInstance, publicClient: PublicClient, addresses: ProtocolAddresses) {
    this.anvil = anvil;
    this.publicClient = publicClient;
    this.addresses = addresses;
    this.chainId = foundry.id;
  }

  /** Starts anvil, deploys the protocol, funds the requester, worker and agent accounts with 1M VRT each. */
  static async start(opts: EmbeddedChainOptions = {}): Promise<EmbeddedChain> {
    await keccakReady;
    const anvil = await startAnvil(opts.blockTime === undefined ? {} : { args: ['--block-time', String(opts.blockTime)] });
    try {
      const transport = http(anvil.rpcUrl);
      const publicClient = createPublicClient({ chain: foundry, transport, pollingInterval: 20 }) as PublicClient;
      const deployer = createWalletClient({ chain: foundry, transport, account: anvilAccount(0), pollingInterval: 20 });
      const { addresses } = await deployProtocol(deployer, publicClient, { market: { challengeWindow: opts.challengeWindow ?? 60n } });
      const chain = new EmbeddedChain(anvil, publicClient, addresses);
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
   * funded with VRT by start(): fund others with fund()).
   */
  asAccount(index: number): ProtocolClients {
    const walletClient = createWalletClient({ chain: foundry, transport: http(this.anvil.rpcUrl), account: anvilAccount(index), pollingInterval: 20 });
    return { publicClient: this.publicClient, walletClient, addresses: this.addresses };
  }

  /** Sends `amount` VRT (default 1M) from the deployer to `to`. */
  async fund(to: Hex, amount = 1_000_000n * E18): Promise<void> {
    await sendContractTransaction(this.as('deployer'), { contract: 'VerityToken', address: this.addresses.token, abi: erc20Abi, functionName: 'transfer', args: [to, amount] });
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
    await this.anvil.stop();
  }
}
