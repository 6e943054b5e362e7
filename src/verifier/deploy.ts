/**
 * Deploys the one-step verifier (three op-family contracts and the router) from the artifacts
 * compiled by scripts/compile.ts.
 */
import type { Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem';
import {
  denseOpsAbi,
  denseOpsBytecode,
  elementwiseOpsAbi,
  elementwiseOpsBytecode,
  oneStepVerifierAbi,
  oneStepVerifierBytecode,
  reduceOpsAbi,
  reduceOpsBytecode,
} from '../chain/artifacts/index.js';

export interface DeployedVerifier {
  verifier: Address;
  dense: Address;
  elementwise: Address;
  reduce: Address;
}

export { oneStepVerifierAbi };

type AbiEntry = { type: string; name?: string };
const seen = new Set(oneStepVerifierAbi.filter((e: AbiEntry) => e.type === 'error').map((e: AbiEntry) => e.name));
/** The router's ABI plus the custom errors its op families revert with (VerifierElementNotProven, …),
 *  so viem decodes every revert of computeElement. */
export const oneStepVerifierFullAbi = [
  ...oneStepVerifierAbi,
  ...[...denseOpsAbi, ...elementwiseOpsAbi, ...reduceOpsAbi].filter((e: AbiEntry) => {
    if (e.type !== 'error' || seen.has(e.name)) return false;
    seen.add(e.name);
    return true;
  }),
] as unknown as typeof oneStepVerifierAbi;

/** Deploys DenseOps, ElementwiseOps, ReduceOps and the OneStepVerifier router pointing at them. */
export async function deployOneStepVerifier(
  wallet: WalletClient<Transport, Chain, Account>,
  client: PublicClient,
): Promise<DeployedVerifier> {
  const deploy = async (abi: readonly unknown[], bytecode: Hex, args: readonly unknown[] = []): Promise<Address> => {
    const hash = await wallet.deployContract({ abi: abi as never, bytecode, args: args as never });
    const r = await client.waitForTransactionReceipt({ hash });
    if (!r.contractAddress || r.status !== 'success') throw new Error(`deployment failed: ${hash}`);
    return r.contractAddress;
  };
  const dense = await deploy(denseOpsAbi, denseOpsBytecode);
  const elementwise = await deploy(elementwiseOpsAbi, elementwiseOpsBytecode);
  const reduce = await deploy(reduceOpsAbi, reduceOpsBytecode);
  const verifier = await deploy(oneStepVerifierAbi, oneStepVerifierBytecode, [dense, elementwise, reduce]);
  return { verifier, dense, elementwise, reduce };
}
