/**
 * TypeScript side of contracts/libraries/PositionalMerkle.sol: the fixed-shape tree over a task's element inputs
 * and results (depth ceil(log2 count), leaves past `count` are zero, node = keccak256(left ‖ right), leaves
 * double-hashed). Used for batch tasks: the requester's input root, the worker's result root, a challenger's proofs.
 */
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { splitHexes } from '../commit/bytes.js';
import { keccak256, nativeHashing } from '../commit/keccak.js';
import { BaseError } from '../errors.js';

export class PositionalMerkleError extends BaseError {
  override name = 'PositionalMerkleError';
}

/** Largest number of leaves (PositionalMerkle.MAX_LEAVES). */
export const MAX_LEAVES = 1 << 16;
const ZERO = `0x${'00'.repeat(32)}` as Hex;

/**
 * keccak256(keccak256(abi.encode(uint256 index, bytes32 digest))), hashed with src/commit's keccak (hash-wasm once
 * ready: a result leaf is on the honest path of every batch element, and viem's JS keccak took ~10× longer).
 */
function elementLeaf(index: number | bigint, digest: Hex): Hex {
  const buf = new Uint8Array(64);
  let i = BigInt(index);
  if (i < 0n || i >= 1n << 256n) throw new PositionalMerkleError(`Leaf index ${index} is not a uint256.`);
  for (let k = 31; k >= 0 && i > 0n; k--, i >>= 8n) buf[k] = Number(i & 0xffn);
  const d = hexToBytes(digest);
  if (d.length !== 32) throw new PositionalMerkleError('A leaf digest is 32 bytes.', { details: `got ${d.length}` });
  buf.set(d, 32);
  return bytesToHex(keccak256(keccak256(buf)));
}

/** keccak256(keccak256(abi.encode(index, inputHash))). */
export function inputLeaf(index: number | bigint, inputHash: Hex): Hex {
  return elementLeaf(index, inputHash);
}

/**
 * keccak256(keccak256(abi.encode(index, outputHash))): an element's result is its output digest only (no trace root:
 * docs/protocol.md §Commitments).
 */
export function resultLeaf(index: number | bigint, outputHash: Hex): Hex {
  return (typeof index === 'number' && nativeResultLeaves([outputHash], index)?.[0]) || elementLeaf(index, outputHash);
}

/** resultLeaf(start + i, outputHashes[i]) for every i: one native call for them all when the addon is loaded. */
export function resultLeaves(outputHashes: readonly Hex[], start = 0): Hex[] {
  return nativeResultLeaves(outputHashes, start) ?? outputHashes.map((h, i) => elementLeaf(start + i, h));
}

/** The native addon's result leaves (native/commit.h), or null without it or for what it does not take (then
 *  elementLeaf, which also says what is wrong with a bad digest). */
function nativeResultLeaves(hashes: readonly Hex[], start: number): Hex[] | null {
  const nat = nativeHashing();
  if (!nat?.resultLeaves || !Number.isInteger(start) || start < 0 || start + hashes.length > 2 ** 31 - 1) return null;
  for (let i = 0; i < hashes.length; i++) if (hashes[i]!.length !== 66) return null;
  const s = nat.resultLeaves(start, hashes.length === 1 ? hashes[0]! : hashes.join(''), hashes.length);
  return s === null ? null : hashes.length === 1 ? [s as Hex] : splitHexes(s, hashes.length);
}

/** The positional tree over `leaves` (already leaf-hashed). */
export class PositionalTree {
  readonly count: number;
  readonly depth: number;
  /** Every level, bottom-up (from `flat` on first use when the tree came from PositionalTree.ofResults). */
  private built: Hex[][] | undefined;
  /** PositionalTree.ofResults' native tree: every node's 66 hex chars, bottom-up, the root last. */
  private readonly flat: string | undefined;

  /** `flat`: PositionalTree.ofResults' native nodes (then `leaves` is ignored). */
  constructor(leaves: readonly Hex[], flat?: { count: number; nodes: string }) {
    const count = flat ? flat.count : leaves.length;
    if (count === 0 || count > MAX_LEAVES) {
      throw new PositionalMerkleError(`A positional tree needs 1..${MAX_LEAVES} leaves.`, { details: `got ${count}` });
    }
    this.count = count;
    let d = 0;
    while (1 << d < count) d++;
    this.depth = d;
    this.flat = flat?.nodes;
    if (!flat) this.built = levelsOf(leaves, d);
  }

  /**
   * new PositionalTree(resultLeaves(outputHashes, start)), a batch's result tree (commitBatch's root): with the native
   * addon, the leaves and every level in one call, split into levels only if a proof is asked for.
   */
  static ofResults(outputHashes: readonly Hex[], start = 0): PositionalTree {
    const nat = nativeHashing();
    const n = outputHashes.length;
    if (nat?.resultTree && n > 0 && n <= MAX_LEAVES && Number.isInteger(start) && start >= 0 && start + n <= 2 ** 31 - 1 && outputHashes.every((h) => h.length === 66)) {
      const nodes = nat.resultTree(start, n === 1 ? outputHashes[0]! : outputHashes.join(''), n);
      if (nodes !== null) return new PositionalTree([], { count: n, nodes });
    }
    return new PositionalTree(resultLeaves(outputHashes, start));
  }

  private get levels(): Hex[][] {
    if (this.built) return this.built;
    const s = this.flat!;
    const levels: Hex[][] = [];
    for (let l = 0, at = 0, w = 1 << this.depth; l <= this.depth; l++, w >>= 1) {
      levels.push(splitHexes(s.slice(at, at + 66 * w), w));
      at += 66 * w;
    }
    return (this.built = levels);
  }

  get root(): Hex {
    return this.flat !== undefined ? (this.flat.slice(-66) as Hex) : this.levels[this.depth]![0]!;
  }

  /** Bottom-up siblings of leaf `index` (exactly `depth` of them). */
  proof(index: number): Hex[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new PositionalMerkleError(`Leaf index ${index} is out of range.`, { details: `the tree has ${this.count} leaves` });
    }
    const out: Hex[] = [];
    for (let l = 0; l < this.depth; l++) out.push(this.levels[l]![(index >> l) ^ 1]!);
    return out;
  }
}

/** The leaves padded with zero words to 2^depth, then every level above them, bottom-up. */
function levelsOf(leaves: readonly Hex[], d: number): Hex[][] {
  const level0 = [...leaves];
  while (level0.length < 1 << d) level0.push(ZERO);
  const levels = [level0];
  // Every level in one native call when the addon is loaded (native/commit.h; null for a leaf that is not 0x-hex).
  const nat = nativeHashing();
  const s = d > 0 && nat?.treeLevels && level0.every((h) => h.length === 66) ? nat.treeLevels(level0.join(''), level0.length) : null;
  for (let l = 0, at = 0; l < d; l++) {
    const prev = levels[l]!;
    if (s !== null) {
      levels.push(splitHexes(s.slice(at, at + 33 * prev.length), prev.length / 2));
      at += 33 * prev.length;
      continue;
    }
    const next: Hex[] = [];
    for (let i = 0; i < prev.length; i += 2) next.push(bytesToHex(keccak256(hexToBytes(prev[i]!), hexToBytes(prev[i + 1]!))));
    levels.push(next);
  }
  return levels;
}
