/** Sends VRT from the client's account (VerityToken.transfer): funding test, bench and devnet accounts. */
import { erc20Abi, type Address, type Hex, type TransactionReceipt } from 'viem';
import type { ChainActionErrorType } from '../errors.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface TransferTokenParameters {
  to: Address;
  amount: bigint;
}

export interface TransferTokenReturnType {
  hash: Hex;
  receipt: TransactionReceipt;
}

export type TransferTokenErrorType = ChainActionErrorType;

export async function transferToken(client: ProtocolClients, p: TransferTokenParameters): Promise<TransferTokenReturnType> {
  const r = await sendContractTransaction(client, { contract: 'VerityToken', address: client.addresses.token, abi: erc20Abi, functionName: 'transfer', args: [p.to, p.amount] });
  return { hash: r.hash, receipt: r.receipt };
}
