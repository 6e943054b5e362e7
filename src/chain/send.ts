/**
 * Sending for code without a node store (deployProtocol, the actions, the CLI, agents, benches, tests): the same
 * crash-safe {@link TxSender} the node uses, over one in-memory journal per (chain, account), so every transaction of
 * the project goes through one sender. A call is typed by its ABI (function name and arguments checked at compile
 * time); a revert surfaces as the decoded {@link ContractRevertError}, anything else as a {@link TransactionError}.
 */
import { encodeDeployData, getAddress, type Abi, type ContractConstructorArgs, type EncodeDeployDataParameters, type Account, type Address, type Chain, type Hex, type PublicClient, type TransactionReceipt, type Transport, type WalletClient } from 'viem';
import { contractCall, type TxRequest, type WriteArgs, type WriteName } from './call.js';
import { ContractRevertError, TransactionError } from './errors.js';
import { MemoryJournal, TxFailedError, TxSender, viemPort } from './tx.js';

/** The clients every action needs. */
export interface ChainClients {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** The sender (default: the process-wide one of this chain and account, see {@link senderFor}). */
  sender?: TxSender;
}

/** A mined, successful transaction. */
export interface SentTransaction {
  hash: Hex;
  receipt: TransactionReceipt;
}

/** A typed contract call: `functionName` and `args` are checked against `abi`. */
export interface ContractCall<abi extends Abi, fn extends WriteName<abi>> {
  /** Contract name for error messages ('TaskMarket'). */
  contract: string;
  address: Address;
  abi: abi;
  functionName: fn;
  args: WriteArgs<abi, fn>;
}

const senders = new Map<string, TxSender>();

/** The process-wide sender of `walletClient`'s account on its chain and RPC (one journal, so nonces never collide). */
export function senderFor(clients: ChainClients): TxSender {
  if (clients.sender) return clients.sender;
  // Keyed by the RPC too: a test's fresh anvil (same chain id, same accounts) starts from nonce 0 again.
  const url = (clients.publicClient.transport as { url?: string }).url ?? '';
  const key = `${clients.publicClient.chain?.id ?? 0}:${url}:${clients.walletClient.account.address.toLowerCase()}`;
  let s = senders.get(key);
  if (!s) senders.set(key, (s = new TxSender(new MemoryJournal(), viemPort(clients.publicClient, clients.walletClient))));
  return s;
}

/** Sends `request` under a fresh key, waits for it, and returns its receipt; reverts are decoded. */
export async function sendRequest(clients: ChainClients, request: TxRequest): Promise<SentTransaction> {
  const sender = senderFor(clients);
  let hash: Hex;
  try {
    hash = (await sender.send(sender.freshKey(request.label), request)).hash;
  } catch (e) {
    if (e instanceof TxFailedError) {
      if (e.cause instanceof ContractRevertError) throw e.cause;
      throw new TransactionError(e.shortMessage, { details: e.details, cause: e });
    }
    throw e;
  }
  const receipt = await clients.publicClient.getTransactionReceipt({ hash });
  return { hash, receipt };
}

/** Simulates, sends and waits for a typed contract call; throws decoded errors. */
export async function sendContractTransaction<const abi extends Abi, fn extends WriteName<abi>>(clients: ChainClients, call: ContractCall<abi, fn>): Promise<SentTransaction> {
  return sendRequest(clients, contractCall(call.contract, call.address, call.abi, call.functionName, call.args));
}

/** Deploys a contract (constructor arguments typed by its ABI) through the sender; returns its address and receipt. */
export async function deployContract<const abi extends Abi>(
  clients: ChainClients,
  contract: string,
  abi: abi,
  bytecode: Hex,
  args?: ContractConstructorArgs<abi>,
): Promise<{ address: Address; hash: Hex; receipt: TransactionReceipt }> {
  // Checked at the call site; viem's conditional parameter type cannot be resolved inside a generic body.
  const data = encodeDeployData({ abi, bytecode, args: args ?? [] } as unknown as EncodeDeployDataParameters);
  const r = await sendRequest(clients, { label: `${contract}.constructor`, data });
  if (!r.receipt.contractAddress) throw new TransactionError(`${contract} deployment has no contract address.`, { details: `tx ${r.hash}` });
  return { address: getAddress(r.receipt.contractAddress), hash: r.hash, receipt: r.receipt };
}

