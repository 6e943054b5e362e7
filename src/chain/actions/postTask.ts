/**
 * Posts a single-element task (approving the fee first if needed): either the input tensors in calldata (the market
 * hashes them on-chain to inputHash) or only their commitment `inputHash` (tensors delivered off-chain).
 */
import type { Hex, TransactionReceipt } from 'viem';
import type { TensorData } from '../../engine/ir.js';
import { taskMarketAbi } from '../artifacts/index.js';
import { UnexpectedReceiptError, type ChainActionErrorType } from '../errors.js';
import { inputHashOf, tensorArg } from '../io.js';
import { inputLeaf } from '../positional.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';
import { ensureAllowance } from './ensureAllowance.js';

export type PostTaskParameters = {
  modelId: bigint;
  /** Fee escrowed by the market. */
  fee: bigint;
  /** Unix time by which the result must be committed. */
  deadline: bigint;
} & ({ inputs: readonly TensorData[]; inputHash?: undefined } | { inputHash: Hex; inputs?: undefined });

export interface PostTaskReturnType {
  taskId: bigint;
  /** keccak256(0x06 ‖ uint32 n ‖ input tensorRoots). */
  inputHash: Hex;
  /** inputLeaf(0, inputHash), stored as the task's input root. */
  inputRoot: Hex;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type PostTaskErrorType = ChainActionErrorType;

export async function postTask(client: ProtocolClients, p: PostTaskParameters): Promise<PostTaskReturnType> {
  const address = client.addresses.taskMarket;
  await ensureAllowance(client, { spender: address, amount: p.fee });
  const r = p.inputs
    ? await sendContractTransaction(client, {
        contract: 'TaskMarket',
        address,
        abi: taskMarketAbi,
        functionName: 'postTask',
        args: [p.modelId, p.inputs.map(tensorArg), p.fee, p.deadline],
      })
    : await sendContractTransaction(client, {
        contract: 'TaskMarket',
        address,
        abi: taskMarketAbi,
        functionName: 'postTaskCommitment',
        args: [p.modelId, p.inputHash, p.fee, p.deadline],
      });
  const posted = eventIn(r.receipt, taskMarketAbi, address, 'TaskPosted');
  const published = eventIn(r.receipt, taskMarketAbi, address, 'InputPublished');
  const expected = p.inputs ? inputHashOf(p.inputs) : p.inputHash;
  if (published.inputHash !== expected || posted.inputRoot !== inputLeaf(0, expected)) {
    throw new UnexpectedReceiptError('The market committed to another input than the one posted.', {
      details: `expected inputHash ${expected}, market ${published.inputHash}`,
    });
  }
  return { taskId: posted.taskId, inputHash: published.inputHash, inputRoot: posted.inputRoot, hash: r.hash, receipt: r.receipt };
}
