/**
 * traceRoot: the commitment to a run's whole trace (docs/protocol.md §Commitments):
 *
 *   traceRoot = keccak256(0x03 ‖ uint32 count ‖ merkleRoot(tensorRoot(trace[0]), …, tensorRoot(trace[count-1])))
 *
 * Tensor ids are trace positions (inputs first, then node outputs), so the tensorRoot of tensor
 * `id` is leaf `id`.
 */
import type { Hex } from 'viem';
import type { Trace } from '../engine/ir.js';
import { asRoot, hexRoot } from './bytes.js';
import { EncodingError, ProofError } from './errors.js';
import { PREFIX } from './keccak.js';
import { listRoot, proveMembership, rootFromMembership, verifyMembership, type MembershipProof } from './list.js';
import { MerkleTree } from './merkle.js';
import { tensorRoot, TensorCommitment, type ElementProof, type TensorProof, type ElementRange } from './tensor.js';

/** Proof that a tensorRoot (`leaf`) is tensor `index` of a trace of `count` tensors. */
export type TraceTensorProof = MembershipProof;

function checkTrace(trace: Trace): void {
  if (!Array.isArray(trace)) throw new EncodingError('A trace must be an array of tensors.');
}

/** tensorRoots of a trace, in trace order. */
export function traceTensorRoots(trace: Trace): Uint8Array[] {
  checkTrace(trace);
  return trace.map((t, id) => {
    if (!t) throw new EncodingError(`Trace tensor ${id} is missing.`, { details: `trace has length ${trace.length}` });
    return tensorRoot(t, `trace tensor ${id}`);
  });
}

export function traceRootFromTensorRoots(tensorRoots: readonly Uint8Array[]): Uint8Array {
  return listRoot(PREFIX.trace, tensorRoots);
}

export function traceRoot(trace: Trace): Uint8Array {
  return traceRootFromTensorRoots(traceTensorRoots(trace));
}

export function traceRootHex(trace: Trace): Hex {
  return hexRoot(traceRoot(trace));
}

/** A committed trace: its root, its tensorRoots and their tree, to build proofs. */
export class TraceCommitment {
  readonly trace: Trace;
  readonly tensorRoots: Uint8Array[];
  readonly tree: MerkleTree;
  readonly root: Uint8Array;

  constructor(trace: Trace) {
    this.trace = trace;
    this.tensorRoots = traceTensorRoots(trace);
    this.tree = MerkleTree.fromWords(this.tensorRoots);
    this.root = traceRootFromTensorRoots(this.tensorRoots);
  }

  /** Proof that tensorRoots[id] is tensor `id` of this trace. */
  proveTensor(id: number): TraceTensorProof {
    return proveMembership(this.tree, this.tensorRoots.length, id, 'Trace tensor');
  }

  /** The data tree of tensor `id` (built on each call: keep it to prove several times). */
  tensor(id: number): TensorCommitment {
    if (!Number.isInteger(id) || id < 0 || id >= this.trace.length) {
      throw new ProofError(`Trace tensor index ${id} is out of range.`, { details: `index ${id}, trace has ${this.trace.length} tensors` });
    }
    return new TensorCommitment(this.trace[id], `trace tensor ${id}`);
  }

  proveElement(id: number, index: number): ElementProof {
    return this.tensor(id).proveElement(index);
  }

  proveElementRanges(id: number, ranges: readonly ElementRange[]): TensorProof {
    return this.tensor(id).proveRanges(ranges);
  }
}

export function commitTrace(trace: Trace): TraceCommitment {
  return new TraceCommitment(trace);
}

/** Proof that tensor `id`'s tensorRoot is in the trace's traceRoot. */
export function proveTraceTensor(trace: Trace, id: number): TraceTensorProof {
  return new TraceCommitment(trace).proveTensor(id);
}

/** The traceRoot a tensor-membership proof hashes to (throws ProofError if malformed). */
export function rootFromTraceTensorProof(p: TraceTensorProof): Uint8Array {
  return rootFromMembership(PREFIX.trace, p, 'trace tensor');
}

/** True iff `p.leaf` is tensor `p.index` of the trace committed by `root`. */
export function verifyTraceTensor(root: Uint8Array | Hex, p: TraceTensorProof): boolean {
  return verifyMembership(PREFIX.trace, asRoot(root), p, 'trace tensor');
}
