/**
 * Transaction sending shared by deployProtocol and the actions: simulate (so a revert is decoded before anything is
 * sent), take a nonce from the {@link NonceManager}, send, wait for the receipt, and turn every failure into a
 * decoded {@link ContractRevertError} or a {@link TransactionError}.
 */
import { getAddress, parseEventLogs, type Abi, type Account, type Address, type Chain, type Hex, type PublicClient, type TransactionReceipt, type Transport, type WalletClient } from 'viem';
import { decodeContractError, TransactionError, UnexpectedReceiptError } from './errors.js';
import { defaultNonceManager, type NonceManager } from './nonce.js';

/** The clients every action needs. */
export interface ChainClients {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
  /** Nonce source (default: the process-wide {@link defaultNonceManager}). */
  nonceManager?: NonceManager;
}

/** A mined, successful transaction and the simulated return value of the call. */
export interface SentTransaction<R = unknown> {
  hash: Hex;
  receipt: TransactionReceipt;
  result: R;
}

export interface ContractCall {
  /** Contract name for error messages ('TaskMarket'). */
  contract: string;
  address: Address;
  abi: Abi | readonly unknown[];
  functionName: string;
  args?: readonly unknown[];
}

async function mined(clients: ChainClients, hash: Hex, what: string): Promise<TransactionReceipt> {
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') {
    throw new TransactionError(`${what} was mined but reverted.`, {
      details: `tx ${hash} in block ${receipt.blockNumber}`,
      hint: 'The state changed between simulation and inclusion; simulate again for the reason.',
    });
  }
  return receipt;
}

/** Simulates, sends and waits for a contract call; throws decoded errors. */
export async function sendContractTransaction<R = unknown>(clients: ChainClients, call: ContractCall): Promise<SentTransaction<R>> {
  const { publicClient, walletClient } = clients;
  const nonces = clients.nonceManager ?? defaultNonceManager;
  const account = walletClient.account;
  const ctx = { contract: call.contract, functionName: call.functionName };
  let request: unknown;
  let result: R;
  try {
    const sim = await publicClient.simulateContract({
      address: call.address,
      abi: call.abi as Abi,
      functionName: call.functionName,
      args: call.args ?? [],
      account,
    } as never);
    request = (sim as { request: unknown }).request;
    result = (sim as { result: R }).result;
  } catch (e) {
    throw decodeContractError(e, ctx);
  }
  const nonce = await nonces.consume(publicClient, account.address);
  let hash: Hex;
  try {
    hash = await walletClient.writeContract({ ...(request as object), nonce } as never);
  } catch (e) {
    nonces.reset(publicClient, account.address);
    throw decodeContractError(e, ctx);
  }
  const receipt = await mined(clients, hash, `${call.contract}.${call.functionName}`);
  return { hash, receipt, result };
}

/** Deploys a contract (with a managed nonce) and returns its address and receipt. */
export async function deployContract(
  clients: ChainClients,
  contract: string,
  abi: Abi | readonly unknown[],
  bytecode: Hex,
  args: readonly unknown[] = [],
): Promise<{ address: Address; hash: Hex; receipt: TransactionReceipt }> {
  const { publicClient, walletClient } = clients;
  const nonces = clients.nonceManager ?? defaultNonceManager;
  const account = walletClient.account;
  const nonce = await nonces.consume(publicClient, account.address);
  let hash: Hex;
  try {
    hash = await walletClient.deployContract({ abi: abi as Abi, bytecode, args, nonce, account } as never);
  } catch (e) {
    nonces.reset(publicClient, account.address);
    throw decodeContractError(e, { contract, functionName: 'constructor' });
  }
  const receipt = await mined(clients, hash, `${contract} deployment`);
  if (!receipt.contractAddress) throw new TransactionError(`${contract} deployment has no contract address.`, { details: `tx ${hash}` });
  return { address: getAddress(receipt.contractAddress), hash, receipt };
}

/** The first `eventName` log emitted by `address` in `receipt`, decoded with `abi`. */
export function eventOf<T = Record<string, unknown>>(
  receipt: TransactionReceipt,
  abi: Abi | readonly unknown[],
  address: Address,
  eventName: string,
): T {
  const logs = parseEventLogs({ abi: abi as Abi, logs: receipt.logs, eventName } as never) as unknown as { address: Address; args: T }[];
  const hit = logs.find((l) => l.address.toLowerCase() === address.toLowerCase());
  if (!hit) {
    throw new UnexpectedReceiptError(`No ${eventName} event in the receipt.`, { details: `tx ${receipt.transactionHash}, contract ${address}` });
  }
  return hit.args;
}
