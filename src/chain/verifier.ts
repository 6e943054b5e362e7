/**
 * Deploys the one-step verifier (three op-family contracts and the router pointing at them) from the artifacts
 * compiled by scripts/compile.ts, through the same nonce-managed sender as the rest of the protocol.
 */
import type { Address } from 'viem';
import {
  denseOpsAbi,
  denseOpsBytecode,
  elementwiseOpsAbi,
  elementwiseOpsBytecode,
  oneStepVerifierAbi,
  oneStepVerifierBytecode,
  reduceOpsAbi,
  reduceOpsBytecode,
} from './artifacts/index.js';
import { deployContract, type ChainClients } from './send.js';

export interface DeployedVerifier {
  verifier: Address;
  dense: Address;
  elementwise: Address;
  reduce: Address;
  /** Gas used per deployment, in order. */
  gas: { step: string; gasUsed: bigint }[];
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
export async function deployOneStepVerifier(clients: ChainClients): Promise<DeployedVerifier> {
  const gas: DeployedVerifier['gas'] = [];
  const dense = await deployContract(clients, 'DenseOps', denseOpsAbi, denseOpsBytecode);
  const elementwise = await deployContract(clients, 'ElementwiseOps', elementwiseOpsAbi, elementwiseOpsBytecode);
  const reduce = await deployContract(clients, 'ReduceOps', reduceOpsAbi, reduceOpsBytecode);
  const router = await deployContract(clients, 'OneStepVerifier', oneStepVerifierAbi, oneStepVerifierBytecode, [
    dense.address,
    elementwise.address,
    reduce.address,
  ]);
  for (const [step, r] of [['DenseOps', dense], ['ElementwiseOps', elementwise], ['ReduceOps', reduce], ['OneStepVerifier', router]] as const) {
    gas.push({ step: `deploy ${step}`, gasUsed: r.receipt.gasUsed });
  }
  return { verifier: router.address, dense: dense.address, elementwise: elementwise.address, reduce: reduce.address, gas };
}
