/** Posts a batch task: one input commitment per element, committed by a PositionalMerkle root. */
import type { Hex, TransactionReceipt } from 'viem';
import { taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { inputLeaf, PositionalTree } from '../positional.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';
import { ensureAllowance } from './ensureAllowance.js';

export interface PostBatchTaskParameters {
  modelId: bigint;
  /** inputHash of each element (inputHashOf(element inputs)). */
  inputHashes: readonly Hex[];
  fee: bigint;
  deadline: bigint;
}

export interface PostBatchTaskReturnType {
  taskId: bigint;
  /** The positional tree over inputLeaf(i, inputHashes[i]) (for challengers' proofs). */
  inputTree: PositionalTree;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type PostBatchTaskErrorType = ChainActionErrorType;

export async function postBatchTask(client: ProtocolClients, p: PostBatchTaskParameters): Promise<PostBatchTaskReturnType> {
  const address = client.addresses.taskMarket;
  const inputTree = new PositionalTree(p.inputHashes.map((h, i) => inputLeaf(i, h)));
  await ensureAllowance(client, { spender: address, amount: p.fee });
  const r = await sendContractTransaction(client, {
    contract: 'TaskMarket',
    address,
    abi: taskMarketAbi,
    functionName: 'postBatchTask',
    args: [p.modelId, inputTree.root, p.inputHashes.length, p.fee, p.deadline],
  });
  const ev = eventIn(r.receipt, taskMarketAbi, address, 'TaskPosted');
  return { taskId: ev.taskId, inputTree, hash: r.hash, receipt: r.receipt };
}
