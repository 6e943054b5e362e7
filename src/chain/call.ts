/**
 * Typed requests for every protocol call: the contract's ABI gives the function names and their argument types, so
 * a misspelt function or a wrong argument is a compile error, not a revert. A request is encoded calldata with a label
 * (so the crash-safe sender can journal it as JSON and resume it after a restart); the receipt decoders read what a
 * mined call emitted, typed by the same ABI.
 *
 *   const calls = protocolCalls(addresses);
 *   await sender.send(`claim:${taskId}`, calls.market.claim([taskId, agentId]));
 */
import {
  encodeFunctionData,
  erc20Abi,
  parseEventLogs,
  type Abi,
  type Address,
  type ContractEventArgsFromTopics,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type EncodeFunctionDataParameters,
  type Hex,
  type TransactionReceipt,
} from 'viem';
import {
  disputeGameAbi,
  identityRegistryAbi,
  modelRegistryAbi,
  reputationRegistryAbi,
  stakingAbi,
  taskMarketAbi,
  validationRegistryAbi,
  verityTimelockAbi,
} from './artifacts/index.js';
import { UnexpectedReceiptError } from './errors.js';
import type { ProtocolAddresses } from './addresses.js';

/** What to send: a contract call, already encoded (so it survives a restart as JSON). */
export interface TxRequest {
  /** 'TaskMarket.claim' (for logs and decoded errors). */
  label: string;
  /** The contract called; absent for a deployment (`data` is then the init code). */
  to?: Address;
  data: Hex;
  value?: string;
}

/** The state-changing functions of `abi`. */
export type WriteName<abi extends Abi> = ContractFunctionName<abi, 'nonpayable' | 'payable'>;
/** Their argument tuples. */
export type WriteArgs<abi extends Abi, fn extends WriteName<abi>> = ContractFunctionArgs<abi, 'nonpayable' | 'payable', fn>;

/** One typed builder per state-changing function of the ABI: `calls.claim([taskId, agentId])`. */
export type Calls<abi extends Abi> = {
  [fn in WriteName<abi>]: (...args: WriteArgs<abi, fn> extends readonly [] ? [] : [args: WriteArgs<abi, fn>]) => TxRequest;
};

/** A typed request for `contract.functionName(args)` at `to`. */
export function contractCall<const abi extends Abi, fn extends WriteName<abi>>(contract: string, to: Address, abi: abi, functionName: fn, args: WriteArgs<abi, fn>): TxRequest {
  // The generic parameters are checked at the call site; viem's conditional parameter type cannot be resolved
  // inside a generic body, hence the widening to its non-generic form.
  const data = encodeFunctionData({ abi, functionName, args } as unknown as EncodeFunctionDataParameters);
  return { label: `${contract}.${functionName}`, to, data };
}

/** The builders of one contract (see {@link Calls}). */
export function callsOf<const abi extends Abi>(contract: string, to: Address, abi: abi): Calls<abi> {
  const names = new Set(abi.filter((e) => e.type === 'function' && (e.stateMutability === 'nonpayable' || e.stateMutability === 'payable')).map((e) => (e as { name: string }).name));
  const out: Record<string, (args?: readonly unknown[]) => TxRequest> = {};
  for (const fn of names) out[fn] = (args: readonly unknown[] = []) => contractCall(contract, to, abi, fn as WriteName<abi>, args as WriteArgs<abi, WriteName<abi>>);
  return out as unknown as Calls<abi>;
}

/** Every protocol contract's builders, at the deployed addresses. */
export function protocolCalls(a: ProtocolAddresses) {
  return {
    token: callsOf('VerityToken', a.token, erc20Abi),
    timelock: callsOf('VerityTimelock', a.timelock, verityTimelockAbi),
    market: callsOf('TaskMarket', a.taskMarket, taskMarketAbi),
    staking: callsOf('Staking', a.staking, stakingAbi),
    identity: callsOf('IdentityRegistry', a.identityRegistry, identityRegistryAbi),
    reputation: callsOf('ReputationRegistry', a.reputationRegistry, reputationRegistryAbi),
    validation: callsOf('ValidationRegistry', a.validationRegistry, validationRegistryAbi),
    models: callsOf('ModelRegistry', a.modelRegistry, modelRegistryAbi),
    game: callsOf('DisputeGame', a.disputeGame, disputeGameAbi),
  };
}

export type ProtocolCalls = ReturnType<typeof protocolCalls>;

/** Decoded `eventName` logs that `address` emitted in `receipt` (typed by the ABI). */
export function eventsIn<const abi extends Abi, name extends ContractEventName<abi>>(
  receipt: TransactionReceipt,
  abi: abi,
  address: Address,
  eventName: name,
): ContractEventArgsFromTopics<abi, name>[] {
  const logs = parseEventLogs({ abi: abi as Abi, logs: receipt.logs, eventName: eventName as string }) as { address: Address; args: unknown }[];
  return logs.filter((l) => l.address.toLowerCase() === address.toLowerCase()).map((l) => l.args as ContractEventArgsFromTopics<abi, name>);
}

/** The first `eventName` log of `address` in `receipt`; an {@link UnexpectedReceiptError} if there is none. */
export function eventIn<const abi extends Abi, name extends ContractEventName<abi>>(
  receipt: TransactionReceipt,
  abi: abi,
  address: Address,
  eventName: name,
): ContractEventArgsFromTopics<abi, name> {
  const hit = eventsIn(receipt, abi, address, eventName)[0];
  if (!hit) throw new UnexpectedReceiptError(`No ${eventName} event in the receipt.`, { details: `tx ${receipt.transactionHash}, contract ${address}` });
  return hit;
}
