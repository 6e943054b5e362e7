/** Claims an open task for one of the caller's agents (locks minStake of its free stake). */
import type { Hex, TransactionReceipt } from 'viem';
import { taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface ClaimTaskParameters {
  taskId: bigint;
  agentId: bigint;
}

export interface ClaimTaskReturnType {
  stakeLocked: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type ClaimTaskErrorType = ChainActionErrorType;

export async function claimTask(client: ProtocolClients, p: ClaimTaskParameters): Promise<ClaimTaskReturnType> {
  const address = client.addresses.taskMarket;
  const r = await sendContractTransaction(client, { contract: 'TaskMarket', address, abi: taskMarketAbi, functionName: 'claim', args: [p.taskId, p.agentId] });
  const ev = eventIn(r.receipt, taskMarketAbi, address, 'TaskClaimed');
  return { stakeLocked: ev.stakeLocked, hash: r.hash, receipt: r.receipt };
}
