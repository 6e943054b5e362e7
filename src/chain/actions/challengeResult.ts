/**
 * Challenges one element of a committed result. The market checks the element's commitments and opens a
 * DisputeGame on the caller's behalf; the game takes the caller's bond with transferFrom, so this action first
 * approves the game (not the market) for its current bond.
 */
import type { Hex, TransactionReceipt } from 'viem';
import { disputeGameAbi, taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';
import { ensureAllowance } from './ensureAllowance.js';

export interface ChallengeResultParameters {
  taskId: bigint;
  /** Element index (0 for single-element tasks). */
  index?: number;
  /** The element's input digest (inputHashOf). */
  inputHash: Hex;
  /** PositionalMerkle proof of inputLeaf(index, inputHash) (omit for single-element tasks). */
  inputProof?: readonly Hex[];
  /** The element's claimed output digest. */
  outputHash: Hex;
  /** PositionalMerkle proof of resultLeaf(index, outputHash) (omit for single-element tasks). */
  resultProof?: readonly Hex[];
}

export interface ChallengeResultReturnType {
  disputeId: bigint;
  /** Game id on the DisputeGame (play it with src/dispute's DisputeClient). */
  gameId: bigint;
  bond: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type ChallengeResultErrorType = ChainActionErrorType;

export async function challengeResult(client: ProtocolClients, p: ChallengeResultParameters): Promise<ChallengeResultReturnType> {
  const { taskMarket, disputeGame } = client.addresses;
  const bond = await client.publicClient.readContract({ address: disputeGame, abi: disputeGameAbi, functionName: 'bond' });
  await ensureAllowance(client, { spender: disputeGame, amount: bond });
  const r = await sendContractTransaction(client, {
    contract: 'TaskMarket',
    address: taskMarket,
    abi: taskMarketAbi,
    functionName: 'challenge',
    args: [p.taskId, p.index ?? 0, p.inputHash, p.inputProof ?? [], p.outputHash, p.resultProof ?? []],
  });
  const ev = eventIn(r.receipt, taskMarketAbi, taskMarket, 'ResultChallenged');
  return { disputeId: ev.disputeId, gameId: ev.gameId, bond, hash: r.hash, receipt: r.receipt };
}
