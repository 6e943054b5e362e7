/**
 * Length-bound lists of 32-byte commitments (docs/protocol.md §Commitments): the trace
 * (prefix 0x03, leaves = tensorRoots) and the model (prefix 0x05, leaves = node commitments).
 *
 *   listRoot = keccak256(prefix ‖ uint32 count ‖ merkleRoot(leaves))     (count big-endian)
 *
 * A membership proof is a one-leaf multiproof of the Merkle tree (siblings bottom-up) plus the
 * count, which is bound into the root.
 */
import { bytesEqual, MAX_U32 } from './bytes.js';
import { EncodingError, ProofError } from './errors.js';
import { keccak256 } from './keccak.js';
import { merkleRoot, MerkleTree, rootFromWordsProof } from './merkle.js';

export function listRootFromMerkleRoot(prefix: number, count: number, root: Uint8Array): Uint8Array {
  if (!Number.isInteger(count) || count < 0 || count > MAX_U32) {
    throw new EncodingError(`List length ${count} does not fit in a uint32.`);
  }
  const pre = new Uint8Array(37);
  pre[0] = prefix;
  new DataView(pre.buffer).setUint32(1, count, false);
  pre.set(root, 5);
  return keccak256(pre);
}

export function listRoot(prefix: number, leaves: readonly Uint8Array[]): Uint8Array {
  return listRootFromMerkleRoot(prefix, leaves.length, merkleRoot(leaves));
}

/** Proof that `leaf` is at `index` of a list of `count` leaves. */
export interface MembershipProof {
  count: number;
  index: number;
  leaf: Uint8Array;
  /** Bottom-up: siblings[k] is the sibling at level k (depth = ceil(log2(count)) entries). */
  siblings: Uint8Array[];
}

export function proveMembership(tree: MerkleTree, count: number, index: number, what: string): MembershipProof {
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new ProofError(`${what} index ${index} is out of range.`, { details: `index ${index}, count ${count}` });
  }
  const p = tree.prove([index]);
  return { count, index, leaf: p.words[0], siblings: p.siblings };
}

export function rootFromMembership(prefix: number, p: MembershipProof, what: string): Uint8Array {
  if (p === null || typeof p !== 'object') throw new ProofError(`A ${what} proof must be an object.`);
  if (!Number.isInteger(p.count) || p.count < 1 || p.count > MAX_U32) {
    throw new ProofError(`Invalid ${what} count ${p.count}.`, { details: 'count must be an integer in [1, 2^32-1]' });
  }
  if (!Number.isInteger(p.index) || p.index < 0 || p.index >= p.count) {
    throw new ProofError(`${what} index ${p.index} is out of range.`, { details: `index ${p.index}, count ${p.count}` });
  }
  const mr = rootFromWordsProof({ leafCount: p.count, indices: [p.index], words: [p.leaf], siblings: p.siblings });
  return listRootFromMerkleRoot(prefix, p.count, mr);
}

export function verifyMembership(prefix: number, root: Uint8Array, p: MembershipProof, what: string): boolean {
  return bytesEqual(rootFromMembership(prefix, p, what), root);
}
