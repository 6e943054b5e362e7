/**
 * keccak256 for the commitment layer, and the two Merkle hashes (docs/protocol.md §Commitments):
 *
 *   leafHash(word)  = keccak256(0x00 ‖ word)          word: 32 bytes
 *   nodeHash(l, r)  = keccak256(0x01 ‖ l ‖ r)         l, r: 32 bytes
 *
 * Backend: hash-wasm's Keccak-256 (one hasher, reused: init/update/digest) once its WebAssembly
 * module has been instantiated, which is asynchronous. Until then — or if WebAssembly is
 * unavailable — the same functions fall back to viem's (noble) keccak256, which gives identical
 * digests about 10x slower. Await `keccakReady` once at startup before bulk commitments.
 * The hasher is only ever used synchronously (init → update → digest with no await in between),
 * so sharing one instance is safe.
 */
import { createKeccak, type IHasher } from 'hash-wasm';
import { keccak256 as viemKeccak256 } from 'viem';
import { EncodingError } from './errors.js';
import { nativeKernels } from '../engine/native.js';

let wasm: IHasher | null = null;

/** Resolves once the fast (WebAssembly) keccak is in use. Never rejects: on failure the slower
 *  pure-JS keccak stays in use and results are the same. */
export const keccakReady: Promise<void> = createKeccak(256).then(
  (h) => {
    wasm = h;
  },
  () => {
    /* stay on the pure-JS fallback */
  },
);

/** 'wasm' once hash-wasm is loaded, 'js' before that (or if WebAssembly is unavailable). */
export function keccakBackend(): 'wasm' | 'js' {
  return wasm ? 'wasm' : 'js';
}

/** Test hook: force the pure-JS backend (true) or restore the WebAssembly one (false). */
let forceJs = false;
export function _forceJsKeccak(on: boolean): void {
  forceJs = on;
}

function hasher(): IHasher | null {
  return forceJs ? null : wasm;
}

/** The native addon for hashing (src/engine/native.ts), or null without it or while the JS backend is forced. */
export function nativeHashing(): ReturnType<typeof nativeKernels> {
  return forceJs ? null : nativeKernels();
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** keccak256 of the concatenation of `parts`. Returns a fresh 32-byte array. */
export function keccak256(...parts: Uint8Array[]): Uint8Array {
  const h = hasher();
  if (h) {
    h.init();
    for (const p of parts) h.update(p);
    return h.digest('binary');
  }
  return viemKeccak256(parts.length === 1 ? parts[0] : concat(parts), 'bytes');
}

/** Domain-separation prefixes (first byte of every hashed preimage). */
export const PREFIX = {
  leaf: 0x00,
  node: 0x01,
  tensor: 0x02,
  trace: 0x03,
  node_commitment: 0x04,
  model: 0x05,
  inputs: 0x06,
  outputs: 0x07,
} as const;

const scratchLeaf = new Uint8Array(33); // 0x00 ‖ word
const scratchNode = new Uint8Array(65); // 0x01 ‖ left ‖ right
scratchNode[0] = PREFIX.node;

function digestScratch(buf: Uint8Array): Uint8Array {
  const h = hasher();
  if (h) {
    h.init();
    h.update(buf);
    return h.digest('binary');
  }
  return viemKeccak256(buf, 'bytes');
}

/** keccak256(0x00 ‖ word). `word` is at most 32 bytes; a shorter one (the last word of some
 *  data) is zero-padded on the right. */
export function leafHash(word: Uint8Array): Uint8Array {
  if (!(word instanceof Uint8Array) || word.length > 32) {
    throw new EncodingError('A Merkle word is at most 32 bytes.', { details: `got length ${word?.length}` });
  }
  scratchLeaf.fill(0);
  scratchLeaf.set(word, 1);
  return digestScratch(scratchLeaf);
}

/** keccak256(0x01 ‖ left ‖ right), both 32 bytes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left?.length !== 32 || right?.length !== 32) {
    throw new EncodingError('Merkle children are 32 bytes each.', { details: `got lengths ${left?.length} and ${right?.length}` });
  }
  scratchNode.set(left, 1);
  scratchNode.set(right, 33);
  return digestScratch(scratchNode);
}

/**
 * Hash the 32-byte leaves of `src` (bytes, split into words, last word zero-padded) into
 * `out[outOffset + 32·i]` for i in [0, leafCount). Words at or past the end of `src` are zero
 * words (so a leafCount larger than ceil(src.length/32) pads with empty leaves).
 */
export function hashLeavesInto(src: Uint8Array, leafCount: number, out: Uint8Array, outOffset: number): void {
  // The native addon (src/engine/native.ts), when built: the same digests, one call per level,
  // eight Keccak states at a time (AVX-512).
  const nat = nativeHashing();
  if (nat && leafCount <= 0x7fffffff && outOffset + 32 * leafCount <= out.length) {
    nat.keccakLeaves(src, leafCount, out, outOffset);
    return;
  }
  const fullWords = Math.floor(src.length / 32);
  const h = hasher();
  for (let i = 0; i < leafCount; i++) {
    if (i < fullWords) {
      scratchLeaf.set(src.subarray(32 * i, 32 * i + 32), 1);
    } else {
      scratchLeaf.fill(0, 1);
      if (32 * i < src.length) scratchLeaf.set(src.subarray(32 * i), 1);
    }
    let d: Uint8Array;
    if (h) {
      h.init();
      h.update(scratchLeaf);
      d = h.digest('binary');
    } else {
      d = viemKeccak256(scratchLeaf, 'bytes');
    }
    out.set(d, outOffset + 32 * i);
  }
}

/**
 * One Merkle level: hash `count` nodes at `buf[from..]` pairwise into `buf[to..]`
 * (parent j = nodeHash(child 2j, child 2j+1), the missing right child of an odd last node being
 * `zero`). `to` may equal `from` (in place): parent j is written at or before child 2j's slot,
 * after both its children were read. Returns the parent count, ceil(count/2).
 */
export function hashLevelInto(buf: Uint8Array, from: number, count: number, to: number, zero: Uint8Array): number {
  const parents = (count + 1) >> 1;
  const nat = nativeHashing();
  if (nat && (to <= from || to >= from + 32 * count) && to + 32 * parents <= buf.length && from + 32 * count <= buf.length) {
    return nat.keccakLevel(buf, from, count, to, zero);
  }
  const h = hasher();
  for (let j = 0; j < parents; j++) {
    const l = from + 64 * j;
    if (2 * j + 1 < count) {
      scratchNode.set(buf.subarray(l, l + 64), 1);
    } else {
      scratchNode.set(buf.subarray(l, l + 32), 1);
      scratchNode.set(zero, 33);
    }
    let d: Uint8Array;
    if (h) {
      h.init();
      h.update(scratchNode);
      d = h.digest('binary');
    } else {
      d = viemKeccak256(scratchNode, 'bytes');
    }
    buf.set(d, to + 32 * j);
  }
  return parents;
}

/** Maximum tree depth supported (leaf counts up to 2^MAX_DEPTH). */
export const MAX_DEPTH = 48;

/**
 * ZERO_HASHES[k] = root of a full subtree of height k whose leaves are all the zero word:
 * ZERO_HASHES[0] = leafHash(32 zero bytes), ZERO_HASHES[k+1] = nodeHash(ZERO_HASHES[k], ZERO_HASHES[k]).
 * Computed once with the pure-JS keccak (the wasm one may not be ready at import time).
 */
export const ZERO_HASHES: readonly Uint8Array[] = (() => {
  const z: Uint8Array[] = [viemKeccak256(new Uint8Array(33), 'bytes')];
  for (let k = 0; k < MAX_DEPTH; k++) {
    const pre = new Uint8Array(65);
    pre[0] = PREFIX.node;
    pre.set(z[k], 1);
    pre.set(z[k], 33);
    z.push(viemKeccak256(pre, 'bytes'));
  }
  return z;
})();
