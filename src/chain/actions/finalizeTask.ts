/** Finalizes a committed task after its challenge window (anyone may call): credits the fee, releases the stake. */
import type { Address, Hex, TransactionReceipt } from 'viem';
import { taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface FinalizeTaskParameters {
  taskId: bigint;
}

export interface FinalizeTaskReturnType {
  worker: Address;
  workerPayout: bigint;
  protocolFee: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type FinalizeTaskErrorType = ChainActionErrorType;

export async function finalizeTask(client: ProtocolClients, p: FinalizeTaskParameters): Promise<FinalizeTaskReturnType> {
  const address = client.addresses.taskMarket;
  const r = await sendContractTransaction(client, { contract: 'TaskMarket', address, abi: taskMarketAbi, functionName: 'finalize', args: [p.taskId] });
  const ev = eventIn(r.receipt, taskMarketAbi, address, 'TaskFinalized');
  return { ...ev, hash: r.hash, receipt: r.receipt };
}
