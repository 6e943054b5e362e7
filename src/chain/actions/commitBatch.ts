/** Commits every result of a batch task under one PositionalMerkle root of resultLeaf(i, outputHash_i). */
import type { Hex, TransactionReceipt } from 'viem';
import { taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { PositionalTree } from '../positional.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface CommitBatchParameters {
  taskId: bigint;
  /** One per element, in element order (outputHash = outputHashOf(element outputs)). */
  results: readonly { outputHash: Hex }[];
}

export interface CommitBatchReturnType {
  /** The positional tree over the result leaves (keep it to defend / prove elements). */
  resultTree: PositionalTree;
  challengeDeadline: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type CommitBatchErrorType = ChainActionErrorType;

export async function commitBatch(client: ProtocolClients, p: CommitBatchParameters): Promise<CommitBatchReturnType> {
  const address = client.addresses.taskMarket;
  const resultTree = PositionalTree.ofResults(p.results.map((x) => x.outputHash));
  const r = await sendContractTransaction(client, {
    contract: 'TaskMarket',
    address,
    abi: taskMarketAbi,
    functionName: 'commitBatch',
    args: [p.taskId, resultTree.root],
  });
  const ev = eventIn(r.receipt, taskMarketAbi, address, 'BatchCommitted');
  return { resultTree, challengeDeadline: ev.challengeDeadline, hash: r.hash, receipt: r.receipt };
}
