/** anvil with the one-step verifier deployed, and a batching public client (the verifier tests' chain). */
import { createPublicClient, createWalletClient, http, type Address, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { keccakReady } from '../../src/commit/index.js';
import { startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { deployOneStepVerifier } from '../../src/chain/verifier.js';

export interface VerifierChain {
  anvil: AnvilInstance;
  client: PublicClient;
  verifier: Address;
}

export async function startVerifierChain(batchSize: number): Promise<VerifierChain> {
  await keccakReady;
  const anvil = await startAnvil();
  const account = privateKeyToAccount(anvil.accounts[0].privateKey);
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl, { batch: { batchSize } }) }) as PublicClient;
  const wallet = createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) });
  const { verifier } = await deployOneStepVerifier({ walletClient: wallet, publicClient: client });
  return { anvil, client, verifier };
}
