/**
 * Settles a dispute whose game is decided (anyone may call). A challenger win invalidates the task: the worker's
 * locked stake is slashed and split, the fee refunded.
 */
import { parseEventLogs, type Hex, type TransactionReceipt } from 'viem';
import { taskMarketAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface ResolveDisputeParameters {
  disputeId: bigint;
}

export interface ResolveDisputeReturnType {
  /** IDisputeResolver.Outcome: 1 ClaimantWon, 2 ChallengerWon. */
  outcome: number;
  /** Present when this resolution invalidated the task (slash). */
  invalidated?: { slashed: bigint; challengerShare: bigint; refund: bigint };
  hash: Hex;
  receipt: TransactionReceipt;
}

export type ResolveDisputeErrorType = ChainActionErrorType;

export async function resolveDispute(client: ProtocolClients, p: ResolveDisputeParameters): Promise<ResolveDisputeReturnType> {
  const address = client.addresses.taskMarket;
  const r = await sendContractTransaction(client, { contract: 'TaskMarket', address, abi: taskMarketAbi, functionName: 'resolve', args: [p.disputeId] });
  const ev = eventIn(r.receipt, taskMarketAbi, address, 'DisputeResolved');
  const inv = parseEventLogs({ abi: taskMarketAbi, logs: r.receipt.logs, eventName: 'TaskInvalidated' }).find(
    (l) => l.address.toLowerCase() === address.toLowerCase(),
  );
  return {
    outcome: ev.outcome,
    ...(inv ? { invalidated: { slashed: inv.args.slashed, challengerShare: inv.args.challengerShare, refund: inv.args.refund } } : {}),
    hash: r.hash,
    receipt: r.receipt,
  };
}
