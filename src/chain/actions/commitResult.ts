/** Commits a single-element result: the output tensors (hashed on-chain to outputHash); no trace root. */
import type { Hex, TransactionReceipt } from 'viem';
import type { TensorData } from '../../engine/ir.js';
import { taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { tensorArg } from '../io.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface CommitResultParameters {
  taskId: bigint;
  /** The model's output tensors (the last trace tensors), in model order. */
  outputs: readonly TensorData[];
}

export interface CommitResultReturnType {
  /** keccak256(0x07 ‖ uint32 n ‖ output tensorRoots), as computed by the market. */
  outputHash: Hex;
  /** resultLeaf(0, outputHash). */
  resultRoot: Hex;
  challengeDeadline: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type CommitResultErrorType = ChainActionErrorType;

export async function commitResult(client: ProtocolClients, p: CommitResultParameters): Promise<CommitResultReturnType> {
  const address = client.addresses.taskMarket;
  const r = await sendContractTransaction(client, {
    contract: 'TaskMarket',
    address,
    abi: taskMarketAbi,
    functionName: 'commit',
    args: [p.taskId, p.outputs.map(tensorArg)],
  });
  const ev = eventIn(r.receipt, taskMarketAbi, address, 'ResultCommitted');
  return { outputHash: ev.outputHash, resultRoot: ev.resultRoot, challengeDeadline: ev.challengeDeadline, hash: r.hash, receipt: r.receipt };
}
