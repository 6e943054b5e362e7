/** Registers an ERC-8004 agent (IdentityRegistry.register) owned by the caller. */
import type { Address, Hex, TransactionReceipt } from 'viem';
import { identityRegistryAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface RegisterAgentParameters {
  /** Agent card URI (ERC-8004 registration file). */
  agentURI: string;
}

export interface RegisterAgentReturnType {
  agentId: bigint;
  owner: Address;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type RegisterAgentErrorType = ChainActionErrorType;

export async function registerAgent(client: ProtocolClients, p: RegisterAgentParameters): Promise<RegisterAgentReturnType> {
  const address = client.addresses.identityRegistry;
  const r = await sendContractTransaction(client, { contract: 'IdentityRegistry', address, abi: identityRegistryAbi, functionName: 'register', args: [p.agentURI] });
  const ev = eventIn(r.receipt, identityRegistryAbi, address, 'Registered');
  return { agentId: ev.agentId, owner: ev.owner, hash: r.hash, receipt: r.receipt };
}
