/** Stakes VRT (approving Staking first if needed). */
import type { Hex, TransactionReceipt } from 'viem';
import { stakingAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';
import { ensureAllowance } from './ensureAllowance.js';

export interface StakeParameters {
  amount: bigint;
}

export interface StakeReturnType {
  /** The caller's total stake after the call. */
  staked: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type StakeErrorType = ChainActionErrorType;

export async function stake(client: ProtocolClients, p: StakeParameters): Promise<StakeReturnType> {
  const address = client.addresses.staking;
  await ensureAllowance(client, { spender: address, amount: p.amount });
  const r = await sendContractTransaction(client, { contract: 'Staking', address, abi: stakingAbi, functionName: 'stake', args: [p.amount] });
  const ev = eventIn(r.receipt, stakingAbi, address, 'Staked');
  return { staked: ev.staked, hash: r.hash, receipt: r.receipt };
}
