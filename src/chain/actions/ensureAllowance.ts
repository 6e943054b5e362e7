/** Approves `spender` for `amount` of the protocol token if the current allowance is lower. */
import { erc20Abi, type Address, type Hex } from 'viem';
import type { ChainActionErrorType } from '../errors.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface EnsureAllowanceParameters {
  spender: Address;
  amount: bigint;
}

export interface EnsureAllowanceReturnType {
  /** Approval transaction, or undefined if the allowance already sufficed. */
  hash: Hex | undefined;
}

export type EnsureAllowanceErrorType = ChainActionErrorType;

export async function ensureAllowance(client: ProtocolClients, p: EnsureAllowanceParameters): Promise<EnsureAllowanceReturnType> {
  const token = client.addresses.token;
  const owner = client.walletClient.account.address;
  const current = await client.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'allowance', args: [owner, p.spender] });
  if (current >= p.amount) return { hash: undefined };
  const r = await sendContractTransaction(client, { contract: 'VerityToken', address: token, abi: erc20Abi, functionName: 'approve', args: [p.spender, p.amount] });
  return { hash: r.hash };
}
