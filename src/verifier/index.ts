/**
 * The one-step verifier's TypeScript side: witness builder (dependencies, buildOneStep), a TS mirror
 * of the contract (computeElementTs), and the list of ops the contract can verify.
 */
import type { OpType } from '../engine/ir.js';
import { OP_TYPES } from '../engine/ir.js';

/**
 * Ops contracts/verifier/ can re-execute (all of OP_TYPES). A node must refuse to serve a verified
 * task whose model contains an op missing from this list: its results could not be disputed.
 */
export const VERIFIABLE_OPS: readonly OpType[] = [...OP_TYPES];

export function isVerifiableOp(op: OpType): boolean {
  return VERIFIABLE_OPS.includes(op);
}

export { computeOp, packAcc, reductionOf, REDUCIBLE_OPS, unpackAcc, VerifierOpError, type ElementReader, type OperandKind, type Reduction } from './ops.js';
export {
  dependencies,
  buildOneStep,
  buildSumOpen,
  buildSumStep,
  accumulatorOf,
  defendedAccumulator,
  reductionTerms,
  sumWitnesses,
  type Accumulator,
  computeElementTs,
  modelCommitmentOf,
  EMPTY_PROOF,
  type Dependencies,
  type OneStepArg,
  type OneStepWitness,
  type WordsProofArg,
} from './witness.js';
