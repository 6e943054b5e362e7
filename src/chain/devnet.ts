/**
 * A devnet for tests and benchmarks: anvil on 127.0.0.1 (startAnvil), the protocol deployed by anvil account 0
 * (deployProtocol), and clients acting as any anvil account. Stops its anvil when the deployment fails.
 */
import { createPublicClient, createWalletClient, http, type HttpTransport, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { keccakReady } from '../commit/index.js';
import { anvilAccount, startAnvil, type AnvilInstance } from './anvil.js';
import { deployProtocol, type DeployProtocolOptions, type DeployProtocolReturnType } from './deploy.js';
import type { ProtocolAddresses, ProtocolClients } from './types.js';

export interface DevnetOptions {
  /** Extra anvil arguments (e.g. `--block-time 0.25`). */
  anvilArgs?: string[];
  /** viem polling interval of the clients, ms (default 20). */
  pollingInterval?: number;
  deploy?: DeployProtocolOptions;
}

export interface Devnet {
  anvil: AnvilInstance;
  transport: HttpTransport;
  publicClient: PublicClient;
  deployment: DeployProtocolReturnType;
  addresses: ProtocolAddresses;
  /** Clients acting as anvil account `i` (account 0 deployed the protocol). */
  clients(i: number): ProtocolClients;
  stop(): Promise<void>;
}

export async function startDevnet(opts: DevnetOptions = {}): Promise<Devnet> {
  await keccakReady;
  const anvil = await startAnvil(opts.anvilArgs ? { args: opts.anvilArgs } : {});
  try {
    const transport = http(anvil.rpcUrl);
    const pollingInterval = opts.pollingInterval ?? 20;
    const publicClient = createPublicClient({ chain: foundry, transport, pollingInterval }) as PublicClient;
    const wallet = (i: number) => createWalletClient({ chain: foundry, transport, account: anvilAccount(i), pollingInterval });
    const deployment = await deployProtocol(wallet(0), publicClient, opts.deploy ?? {});
    const { addresses } = deployment;
    return {
      anvil,
      transport,
      publicClient,
      deployment,
      addresses,
      clients: (i) => ({ publicClient, walletClient: wallet(i), addresses }),
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}
