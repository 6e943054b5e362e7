/**
 * tensorRoot: a tensor's commitment, binding dtype and shape (docs/protocol.md §Commitments):
 *
 *   tensorRoot = keccak256(0x02 ‖ uint8 dtypeCode ‖ uint32 numElements ‖ uint8 rank
 *                          ‖ rank × uint32 dim ‖ merkleRoot(element bytes))      (integers big-endian)
 *
 * and proofs of elements of a tensor against its tensorRoot.
 */
import type { Hex } from 'viem';
import type { DType } from '../engine/ir.js';
import {
  asRoot,
  bytesEqual,
  checkTensor,
  decodeElement,
  dtypeCode,
  elementSize,
  leafCountOfBytes,
  MAX_U32,
  tensorBytes,
  type TensorLike,
} from './bytes.js';
import { EncodingError, ProofError } from './errors.js';
import { keccak256, PREFIX } from './keccak.js';
import { merkleRoot, MerkleTree, rootFromWordsProof, wordIndicesOfRanges, type WordsProof } from './merkle.js';

/** Element count of a shape, validating it (rank ≤ 255, dims and count uint32). */
function shapeCount(shape: readonly number[], what: string, Err: typeof EncodingError | typeof ProofError): number {
  if (!Array.isArray(shape)) throw new Err(`Shape of ${what} is not an array.`);
  if (shape.length > 255) throw new Err(`Rank of ${what} does not fit in a uint8.`, { details: `rank ${shape.length} > 255` });
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || d < 0 || d > MAX_U32) throw new Err(`Dimension ${i} of ${what} is not a uint32.`, { details: `shape[${i}] = ${d}` });
    n *= d;
  }
  if (n > MAX_U32) throw new Err(`Element count of ${what} does not fit in a uint32.`, { details: `${n} elements` });
  return n;
}

/** The preimage 0x02 ‖ dtype ‖ numElements ‖ rank ‖ dims ‖ dataRoot (39 + 4·rank bytes). */
export function tensorRootPreimage(dtype: DType, shape: readonly number[], dataRoot: Uint8Array): Uint8Array {
  const n = shapeCount(shape, 'tensor', EncodingError);
  if (!(dataRoot instanceof Uint8Array) || dataRoot.length !== 32) {
    throw new EncodingError('A data root must be 32 bytes.', { details: `got length ${dataRoot?.length}` });
  }
  const out = new Uint8Array(39 + 4 * shape.length);
  const v = new DataView(out.buffer);
  out[0] = PREFIX.tensor;
  out[1] = dtypeCode(dtype);
  v.setUint32(2, n, false);
  out[6] = shape.length;
  for (let i = 0; i < shape.length; i++) v.setUint32(7 + 4 * i, shape[i], false);
  out.set(dataRoot, 7 + 4 * shape.length);
  return out;
}

/** tensorRoot from dtype, shape and the Merkle root of the element bytes. */
export function tensorRootFromDataRoot(dtype: DType, shape: readonly number[], dataRoot: Uint8Array): Uint8Array {
  return keccak256(tensorRootPreimage(dtype, shape, dataRoot));
}

/** tensorRoot of a trace tensor or a model param. */
export function tensorRoot(t: TensorLike, what = 'tensor'): Uint8Array {
  return tensorRootFromDataRoot(t.dtype, t.shape, merkleRoot(tensorBytes(t, what)));
}

/** A proof of some elements of a tensor: its dtype and shape and a multiproof of the words
 *  holding them. Verifies against the tensorRoot. */
export interface TensorProof {
  dtype: DType;
  shape: number[];
  proof: WordsProof;
}

/** A proof of one element, with its value (checked against the proven word on verify). */
export interface ElementProof extends TensorProof {
  index: number;
  value: number;
}

/** An element range [start, start + count) in row-major order. */
export type ElementRange = readonly [start: number, count: number];

/** A tensor's data tree, kept to build several proofs. */
export class TensorCommitment {
  readonly dtype: DType;
  readonly shape: number[];
  readonly numElements: number;
  readonly tree: MerkleTree;
  readonly root: Uint8Array;

  constructor(t: TensorLike, what = 'tensor') {
    this.numElements = checkTensor(t, what);
    this.dtype = t.dtype;
    this.shape = [...t.shape];
    this.tree = MerkleTree.fromBytes(tensorBytes(t, what));
    this.root = tensorRootFromDataRoot(this.dtype, this.shape, this.tree.root);
  }

  /** Proof of the words holding the given element ranges (the union of their words). */
  proveRanges(ranges: readonly ElementRange[]): TensorProof {
    const es = elementSize(this.dtype);
    for (const [start, count] of ranges) {
      if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > this.numElements) {
        throw new ProofError(`Element range [${start}, ${start + count}) is out of range.`, {
          details: `start ${start}, count ${count}, tensor has ${this.numElements} elements (shape [${this.shape.join(', ')}])`,
        });
      }
    }
    const words = wordIndicesOfRanges(this.tree.bytes.length, ranges.map(([s, c]) => [s * es, c * es] as const));
    return { dtype: this.dtype, shape: [...this.shape], proof: this.tree.prove(words) };
  }

  proveElement(index: number): ElementProof {
    if (!Number.isInteger(index) || index < 0 || index >= this.numElements) {
      throw new ProofError(`Element index ${index} is out of range.`, {
        details: `index ${index}, tensor has ${this.numElements} elements (shape [${this.shape.join(', ')}])`,
      });
    }
    const p = this.proveRanges([[index, 1]]);
    return { ...p, index, value: decodeElement(this.tree.bytes, this.dtype, index) };
  }
}

/** Proof of one element of a tensor. */
export function proveElement(t: TensorLike, index: number): ElementProof {
  return new TensorCommitment(t).proveElement(index);
}

/** Proof of several element ranges of a tensor (e.g. one Linear input row, KH Conv input runs). */
export function proveElementRanges(t: TensorLike, ranges: readonly ElementRange[]): TensorProof {
  return new TensorCommitment(t).proveRanges(ranges);
}

/** The tensorRoot a tensor proof hashes to; throws ProofError if it is malformed or its
 *  leafCount does not match its dtype and shape. */
export function rootFromTensorProof(p: TensorProof): Uint8Array {
  if (p === null || typeof p !== 'object') throw new ProofError('A tensor proof must be an object.');
  const n = shapeCount(p.shape, 'the proven tensor', ProofError);
  let es: number;
  try {
    dtypeCode(p.dtype);
    es = elementSize(p.dtype);
  } catch (e) {
    throw new ProofError(`Unknown dtype "${String(p.dtype)}" in a tensor proof.`, { cause: e });
  }
  const expected = leafCountOfBytes(n * es);
  if (p.proof?.leafCount !== expected) {
    throw new ProofError('Tensor proof leaf count does not match its shape.', {
      details: `leafCount ${p.proof?.leafCount}, but ${p.dtype} shape [${p.shape.join(', ')}] (${n} elements) has ${expected} leaves`,
    });
  }
  return tensorRootFromDataRoot(p.dtype, p.shape, rootFromWordsProof(p.proof));
}

/** True iff the proof hashes to `root`. Throws ProofError if malformed. */
export function verifyTensorProof(root: Uint8Array | Hex, p: TensorProof): boolean {
  return bytesEqual(rootFromTensorProof(p), asRoot(root));
}

/** True iff the proof hashes to `root` and its word holds `value` at `index`. Throws ProofError if
 *  malformed (including an index whose word is not in the proof). */
export function verifyElement(root: Uint8Array | Hex, p: ElementProof): boolean {
  if (!verifyTensorProof(root, p)) return false;
  return readProvenElement(p, p.index) === p.value;
}

/** Element `index` read from the words of a proof. Throws ProofError if its word is not proven.
 *  (Does not verify the proof: call verifyTensorProof first.) */
export function readProvenElement(p: TensorProof, index: number): number {
  const n = shapeCount(p.shape, 'the proven tensor', ProofError);
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new ProofError(`Element index ${index} is out of range.`, { details: `index ${index}, tensor has ${n} elements` });
  }
  const es = elementSize(p.dtype);
  const byte = index * es;
  const w = Math.floor(byte / 32);
  const k = p.proof.indices.indexOf(w);
  if (k < 0) {
    throw new ProofError(`Element ${index} is not in the proof.`, { details: `its word ${w} is not among the proven words [${p.proof.indices.join(', ')}]` });
  }
  return decodeElement(p.proof.words[k], p.dtype, (byte % 32) / es);
}
