/**
 * Binary keccak256 Merkle trees over 32-byte words, and their multiproofs
 * (docs/protocol.md §Commitments "Merkle tree" and "Multiproofs").
 *
 * Tree: leaves are leafHash(word) for the words of the data (last word zero-padded), at least one
 * leaf; depth = ceil(log2(leafCount)); conceptually the leaves are padded to 2^depth with
 * leafHash(0^32). Computed level by level: a level of odd length pairs its last node with
 * ZERO_HASHES[level] (the hash of an all-padding subtree of that height), which gives exactly the
 * root of the padded tree. Note a bare Merkle root does not bind leafCount (appending zero words
 * below the next power of two keeps it): every commitment wraps it with a length.
 *
 * Multiproof: the proven leaves sorted by index, plus a flat list of sibling hashes in the order a
 * level-by-level verifier consumes them (see rootFromWordsProof; padding siblings included, so
 * the verifier never needs ZERO_HASHES).
 */
import type { Hex } from 'viem';
import { bytesToHex, hexToBytes } from 'viem';
import { asRoot, bytesEqual, leafCountOfBytes } from './bytes.js';
import { EncodingError, ProofError } from './errors.js';
import { hashLeavesInto, hashLevelInto, leafHash, MAX_DEPTH, nodeHash, ZERO_HASHES } from './keccak.js';

/** A multiproof of some words of a Merkle tree. */
export interface WordsProof {
  /** Number of leaves of the tree: max(1, ceil(byteLength / 32)). Fixes the depth. Not bound by a
   *  bare Merkle root: tensor/trace/model proofs check it against their committed length. */
  leafCount: number;
  /** Leaf indices, strictly increasing, each < leafCount. */
  indices: number[];
  /** words[i] is the 32-byte word at indices[i]. */
  words: Uint8Array[];
  /** Sibling hashes in verifier consumption order (level 0 first, left to right within a level). */
  siblings: Uint8Array[];
}

/** depth = ceil(log2(leafCount)): the number of levels above the leaves. */
export function treeDepth(leafCount: number): number {
  let d = 0;
  while (2 ** d < leafCount) d++;
  return d;
}

function concatWords(words: readonly Uint8Array[], what: string): Uint8Array {
  const out = new Uint8Array(words.length * 32);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!(w instanceof Uint8Array) || w.length !== 32) {
      throw new EncodingError(`Word ${i} of ${what} is not 32 bytes.`, { details: `word ${i} has length ${w?.length}` });
    }
    out.set(w, 32 * i);
  }
  return out;
}

function toBytes(words: Uint8Array | readonly Uint8Array[]): Uint8Array {
  return words instanceof Uint8Array ? words : concatWords(words, 'the word list');
}

function checkLeafCount(leafCount: number): void {
  if (!Number.isInteger(leafCount) || leafCount < 1 || leafCount > 2 ** MAX_DEPTH) {
    throw new ProofError(`Invalid leaf count ${leafCount}.`, { details: `leafCount must be an integer in [1, 2^${MAX_DEPTH}]` });
  }
}

/**
 * Merkle root of data. `words` is either bytes (split into 32-byte words, the last one
 * zero-padded; empty bytes → one zero word) or a list of 32-byte words (e.g. tensor roots).
 * Hashes level by level in place in one preallocated buffer of leafCount·32 bytes.
 */
export function merkleRoot(words: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const bytes = toBytes(words);
  const leafCount = leafCountOfBytes(bytes.length);
  checkLeafCount(leafCount);
  const buf = new Uint8Array(leafCount * 32);
  hashLeavesInto(bytes, leafCount, buf, 0);
  let count = leafCount;
  for (let level = 0; count > 1; level++) count = hashLevelInto(buf, 0, count, 0, ZERO_HASHES[level]);
  return buf.slice(0, 32);
}

/** A whole tree kept in memory (all levels in one buffer) to build proofs. */
export class MerkleTree {
  /** The data the tree is over (words are read from it for proofs; do not mutate). */
  readonly bytes: Uint8Array;
  readonly leafCount: number;
  readonly depth: number;
  /** levelCount[k] = number of nodes at level k (level 0 = leaves). */
  private readonly levelCount: number[];
  private readonly levelOffset: number[];
  private readonly buf: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.leafCount = leafCountOfBytes(bytes.length);
    checkLeafCount(this.leafCount);
    this.depth = treeDepth(this.leafCount);
    this.levelCount = [];
    this.levelOffset = [];
    let total = 0;
    for (let c = this.leafCount; ; c = (c + 1) >> 1) {
      this.levelCount.push(c);
      this.levelOffset.push(total);
      total += 32 * c;
      if (c === 1) break;
    }
    this.buf = new Uint8Array(total);
    hashLeavesInto(bytes, this.leafCount, this.buf, 0);
    for (let k = 0; k < this.depth; k++) {
      hashLevelInto(this.buf, this.levelOffset[k], this.levelCount[k], this.levelOffset[k + 1], ZERO_HASHES[k]);
    }
  }

  /** Tree over bytes (split into 32-byte words, last one zero-padded). */
  static fromBytes(bytes: Uint8Array): MerkleTree {
    return new MerkleTree(bytes);
  }

  /** Tree over a list of 32-byte words. */
  static fromWords(words: readonly Uint8Array[]): MerkleTree {
    return new MerkleTree(concatWords(words, 'the word list'));
  }

  get root(): Uint8Array {
    return this.node(this.depth, 0);
  }

  /** Hash of node `index` at `level` (ZERO_HASHES[level] past the end of the level). */
  node(level: number, index: number): Uint8Array {
    if (index >= this.levelCount[level]) return ZERO_HASHES[level].slice();
    const o = this.levelOffset[level] + 32 * index;
    return this.buf.slice(o, o + 32);
  }

  /** The 32-byte word at a leaf index (zero-padded past the end of the data). */
  word(index: number): Uint8Array {
    const w = new Uint8Array(32);
    if (32 * index < this.bytes.length) w.set(this.bytes.subarray(32 * index, Math.min(32 * index + 32, this.bytes.length)));
    return w;
  }

  /** Multiproof of the given word indices (any order, duplicates allowed; at least one). */
  prove(wordIndices: readonly number[]): WordsProof {
    if (wordIndices.length === 0) throw new ProofError('A proof needs at least one word index.', { details: 'wordIndices is empty' });
    for (const i of wordIndices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.leafCount) {
        throw new ProofError(`Word index ${i} is out of range.`, { details: `index ${i}, leafCount ${this.leafCount} (valid: 0..${this.leafCount - 1})` });
      }
    }
    const indices = [...new Set(wordIndices)].sort((a, b) => a - b);
    const siblings: Uint8Array[] = [];
    let cur = indices;
    for (let level = 0; level < this.depth; level++) {
      const next: number[] = [];
      for (let i = 0; i < cur.length; ) {
        const j = cur[i];
        if (j % 2 === 0 && i + 1 < cur.length && cur[i + 1] === j + 1) {
          i += 2;
        } else {
          siblings.push(this.node(level, j % 2 === 0 ? j + 1 : j - 1));
          i += 1;
        }
        next.push(Math.floor(j / 2));
      }
      cur = next;
    }
    return { leafCount: this.leafCount, indices, words: indices.map((i) => this.word(i)), siblings };
  }
}

/** Multiproof of words of `bytes` (see MerkleTree.prove). Builds the whole tree: to prove many
 *  sets over the same data, build a MerkleTree once. */
export function proveWords(bytes: Uint8Array, wordIndices: readonly number[]): WordsProof {
  return MerkleTree.fromBytes(bytes).prove(wordIndices);
}

/** Word indices covering byte ranges [start, start+len) of a byte length. */
export function wordIndicesOfRanges(byteLength: number, ranges: ReadonlyArray<readonly [start: number, len: number]>): number[] {
  if (ranges.length === 0) throw new ProofError('A proof needs at least one byte range.', { details: 'ranges is empty' });
  const out = new Set<number>();
  for (const [start, len] of ranges) {
    if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 1 || start + len > byteLength) {
      throw new ProofError(`Byte range [${start}, ${start + len}) is out of range.`, {
        details: `byteStart ${start}, byteLen ${len}, data length ${byteLength} (need byteLen ≥ 1 and byteStart + byteLen ≤ length)`,
      });
    }
    for (let w = Math.floor(start / 32); w <= Math.floor((start + len - 1) / 32); w++) out.add(w);
  }
  return [...out].sort((a, b) => a - b);
}

/** Multiproof of the words spanning bytes [byteStart, byteStart + byteLen). */
export function proveRange(bytes: Uint8Array, byteStart: number, byteLen: number): WordsProof {
  return proveWords(bytes, wordIndicesOfRanges(bytes.length, [[byteStart, byteLen]]));
}

/** Multiproof of the words spanning several byte ranges (e.g. the KH input runs of a Conv). */
export function proveRanges(bytes: Uint8Array, ranges: ReadonlyArray<readonly [start: number, len: number]>): WordsProof {
  return proveWords(bytes, wordIndicesOfRanges(bytes.length, ranges));
}

/** Structural checks of a proof (throws ProofError). */
export function checkWordsProof(proof: WordsProof): void {
  if (proof === null || typeof proof !== 'object') throw new ProofError('A proof must be an object.');
  checkLeafCount(proof.leafCount);
  const { indices, words, siblings } = proof;
  if (!Array.isArray(indices) || !Array.isArray(words) || !Array.isArray(siblings)) {
    throw new ProofError('A proof needs arrays indices, words and siblings.');
  }
  if (indices.length === 0) throw new ProofError('A proof must prove at least one word.', { details: 'indices is empty' });
  if (indices.length !== words.length) {
    throw new ProofError('A proof must have one word per index.', { details: `${indices.length} indices, ${words.length} words` });
  }
  for (let i = 0; i < indices.length; i++) {
    const x = indices[i];
    if (!Number.isInteger(x) || x < 0 || x >= proof.leafCount) {
      throw new ProofError(`Proof index ${x} (position ${i}) is out of range.`, { details: `index ${x}, leafCount ${proof.leafCount}` });
    }
    if (i > 0 && x <= indices[i - 1]) {
      throw new ProofError('Proof indices must be strictly increasing.', { details: `indices[${i - 1}] = ${indices[i - 1]}, indices[${i}] = ${x}` });
    }
    const w = words[i];
    if (!(w instanceof Uint8Array) || w.length !== 32) {
      throw new ProofError(`Proof word ${i} is not 32 bytes.`, { details: `word ${i} (index ${x}) has length ${w?.length}` });
    }
  }
  for (let s = 0; s < siblings.length; s++) {
    const h = siblings[s];
    if (!(h instanceof Uint8Array) || h.length !== 32) {
      throw new ProofError(`Proof sibling ${s} is not 32 bytes.`, { details: `sibling ${s} has length ${h?.length}` });
    }
  }
}

/**
 * The root a multiproof hashes to (throws ProofError if malformed). This is the reference for
 * the Solidity verifier (docs/protocol.md §Commitments "Multiproofs"):
 *
 *   h[i] = leafHash(words[i]); idx = indices; s = 0
 *   for level in 0 .. depth-1:
 *     m = 0; i = 0
 *     while i < n:
 *       j = idx[i]
 *       if j even and i+1 < n and idx[i+1] == j+1: p = nodeHash(h[i], h[i+1]); i += 2
 *       elif j even:                               p = nodeHash(h[i], sib[s++]); i += 1
 *       else:                                      p = nodeHash(sib[s++], h[i]); i += 1
 *       idx[m] = j >> 1; h[m] = p; m += 1
 *     n = m
 *   require s == len(sib); return h[0]
 */
export function rootFromWordsProof(proof: WordsProof): Uint8Array {
  checkWordsProof(proof);
  const depth = treeDepth(proof.leafCount);
  const idx = proof.indices.slice();
  const h = proof.words.map((w) => leafHash(w));
  const sib = proof.siblings;
  let n = idx.length;
  let s = 0;
  const take = (): Uint8Array => {
    if (s >= sib.length) {
      throw new ProofError('Proof has too few siblings.', { details: `sibling ${s} needed, proof has ${sib.length} (leafCount ${proof.leafCount}, depth ${depth})` });
    }
    return sib[s++];
  };
  for (let level = 0; level < depth; level++) {
    let m = 0;
    for (let i = 0; i < n; ) {
      const j = idx[i];
      let p: Uint8Array;
      if (j % 2 === 0) {
        if (i + 1 < n && idx[i + 1] === j + 1) {
          p = nodeHash(h[i], h[i + 1]);
          i += 2;
        } else {
          p = nodeHash(h[i], take());
          i += 1;
        }
      } else {
        p = nodeHash(take(), h[i]);
        i += 1;
      }
      idx[m] = Math.floor(j / 2);
      h[m] = p;
      m += 1;
    }
    n = m;
  }
  if (s !== sib.length) {
    throw new ProofError('Proof has too many siblings.', { details: `${s} siblings used, proof has ${sib.length} (leafCount ${proof.leafCount}, depth ${depth})` });
  }
  return h[0];
}

/** True iff the multiproof hashes to `root`. Throws ProofError if the proof is malformed. */
export function verifyWords(root: Uint8Array | Hex, proof: WordsProof): boolean {
  return bytesEqual(rootFromWordsProof(proof), asRoot(root));
}

/** A proof with hex words and siblings, for viem contract calls and JSON. */
export interface HexWordsProof {
  leafCount: number;
  indices: number[];
  words: Hex[];
  siblings: Hex[];
}

export function wordsProofToHex(p: WordsProof): HexWordsProof {
  return { leafCount: p.leafCount, indices: p.indices.slice(), words: p.words.map((w) => bytesToHex(w)), siblings: p.siblings.map((s) => bytesToHex(s)) };
}

export function wordsProofFromHex(p: HexWordsProof): WordsProof {
  return { leafCount: p.leafCount, indices: p.indices.slice(), words: p.words.map((w) => hexToBytes(w)), siblings: p.siblings.map((s) => hexToBytes(s)) };
}
