import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  keccakReady,
  merkleRoot,
  MerkleTree,
  ProofError,
  proveRange,
  proveRanges,
  proveWords,
  rootFromWordsProof,
  treeDepth,
  verifyWords,
  wordsProofFromHex,
  wordsProofToHex,
  hexRoot,
  nodeHash,
  type WordsProof,
} from '../../src/commit/index.js';
import { randomBytes } from './fixtures.js';
import { refMerkleRoot, refWords } from './reference.js';

beforeAll(async () => {
  await keccakReady;
});

/** false or ProofError: anything else (true, another error) fails the test. */
function rejects(root: Uint8Array, proof: WordsProof): void {
  let ok: boolean;
  try {
    ok = verifyWords(root, proof);
  } catch (e) {
    if (e instanceof ProofError) return;
    throw e;
  }
  expect(ok).toBe(false);
}

function clone(p: WordsProof): WordsProof {
  return { leafCount: p.leafCount, indices: p.indices.slice(), words: p.words.map((w) => w.slice()), siblings: p.siblings.map((s) => s.slice()) };
}

/** Random data of 1..5000 words (byte length not a multiple of 32 half the time) and index sets. */
const arbCase = fc
  .record({
    words: fc.integer({ min: 1, max: 5000 }),
    cut: fc.integer({ min: 0, max: 31 }),
    seed: fc.integer(),
    picks: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 24 }),
    run: fc.option(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), len: fc.integer({ min: 1, max: 40 }) })),
  })
  .map(({ words, cut, seed, picks, run }) => {
    const len = Math.max(1, words * 32 - cut);
    const bytes = randomBytes(len, seed);
    const leafCount = Math.ceil(len / 32);
    const idx = picks.map((p) => Math.floor(p * leafCount));
    if (run) {
      const s = Math.floor(run.at * leafCount);
      for (let i = s; i < Math.min(leafCount, s + run.len); i++) idx.push(i);
    }
    return { bytes, idx, leafCount };
  });

describe('merkleRoot', () => {
  it('equals the padded power-of-two reference tree (random sizes, not powers of two)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer(), (len, seed) => {
        const b = randomBytes(len, seed);
        expect(merkleRoot(b)).toEqual(refMerkleRoot(refWords(b)));
      }),
      { numRuns: 60 },
    );
  });

  it('word list and concatenated bytes give the same root; one word → its leaf', () => {
    const words = [randomBytes(32, 1), randomBytes(32, 2), randomBytes(32, 3)];
    const bytes = new Uint8Array(96);
    words.forEach((w, i) => bytes.set(w, 32 * i));
    expect(merkleRoot(words)).toEqual(merkleRoot(bytes));
    expect(merkleRoot([words[0]])).toEqual(refMerkleRoot([words[0]]));
    expect(() => merkleRoot([new Uint8Array(31)])).toThrow(/Word 0 of the word list is not 32 bytes/);
  });

  it('MerkleTree root equals merkleRoot; depth = ceil(log2 leafCount)', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100]) {
      const b = randomBytes(32 * n - 5, n);
      const t = MerkleTree.fromBytes(b);
      expect(t.root).toEqual(merkleRoot(b));
      expect(t.leafCount).toBe(n);
      expect(t.depth).toBe(treeDepth(n));
      expect(2 ** t.depth).toBeGreaterThanOrEqual(n);
      if (n > 1) expect(2 ** (t.depth - 1)).toBeLessThan(n);
    }
  });

  it('a bare root does not bind the word count (why every commitment wraps it with a length)', () => {
    const b = randomBytes(5 * 32, 7);
    const padded = new Uint8Array(6 * 32);
    padded.set(b);
    expect(merkleRoot(padded)).toEqual(merkleRoot(b));
  });
});

describe('multiproofs', () => {
  it('every proof built verifies (1..5000 words, random index sets)', () => {
    fc.assert(
      fc.property(arbCase, ({ bytes, idx, leafCount }) => {
        const tree = MerkleTree.fromBytes(bytes);
        const p = tree.prove(idx);
        expect(p.leafCount).toBe(leafCount);
        expect(p.indices).toEqual([...new Set(idx)].sort((a, b) => a - b));
        for (let i = 0; i < p.indices.length; i++) expect(p.words[i]).toEqual(tree.word(p.indices[i]));
        expect(verifyWords(tree.root, p)).toBe(true);
        // spec-literal reference (slow: only on the smaller cases)
        expect(rootFromWordsProof(p)).toEqual(leafCount <= 300 ? refMerkleRoot(refWords(bytes)) : merkleRoot(bytes));
      }),
      { numRuns: 120 },
    );
  });

  it('any single-bit change of a word, a sibling, an index or the root fails', () => {
    fc.assert(
      fc.property(
        arbCase,
        fc.constantFrom('word', 'sibling', 'index', 'root'),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        ({ bytes, idx }, kind, pos, bit) => {
          const tree = MerkleTree.fromBytes(bytes);
          const proof = tree.prove(idx);
          const root = tree.root.slice();
          const p = clone(proof);
          let r = root;
          if (kind === 'word' || (kind === 'sibling' && p.siblings.length === 0)) {
            const w = p.words[pos % p.words.length];
            w[bit >> 3] ^= 1 << (bit & 7);
          } else if (kind === 'sibling') {
            const s = p.siblings[pos % p.siblings.length];
            s[bit >> 3] ^= 1 << (bit & 7);
          } else if (kind === 'index') {
            const i = pos % p.indices.length;
            p.indices[i] = (p.indices[i] ^ (1 << (bit % 32))) >>> 0;
          } else {
            r = root.slice();
            r[bit >> 3] ^= 1 << (bit & 7);
          }
          rejects(r, p);
          // the original is untouched and still verifies
          expect(verifyWords(root, proof)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('dropping, adding or reordering siblings fails', () => {
    const bytes = randomBytes(1000 * 32 - 3, 11);
    const tree = MerkleTree.fromBytes(bytes);
    const p = tree.prove([3, 4, 500, 999]);
    rejects(tree.root, { ...clone(p), siblings: p.siblings.slice(1) });
    rejects(tree.root, { ...clone(p), siblings: [...p.siblings, p.siblings[0]] });
    const swapped = clone(p);
    [swapped.siblings[0], swapped.siblings[1]] = [swapped.siblings[1], swapped.siblings[0]];
    rejects(tree.root, swapped);
    // leaves swapped between indices
    const sw = clone(p);
    [sw.words[0], sw.words[1]] = [sw.words[1], sw.words[0]];
    rejects(tree.root, sw);
  });

  it('malformed proofs throw ProofError naming the problem', () => {
    const tree = MerkleTree.fromBytes(randomBytes(10 * 32, 3));
    const p = tree.prove([2, 5]);
    expect(() => verifyWords(tree.root, { ...clone(p), indices: [5, 2] })).toThrow(/strictly increasing/);
    expect(() => verifyWords(tree.root, { ...clone(p), indices: [2, 2] })).toThrow(ProofError);
    expect(() => verifyWords(tree.root, { ...clone(p), indices: [2, 10] })).toThrow(/index 10.*leafCount 10/s);
    expect(() => verifyWords(tree.root, { ...clone(p), words: [p.words[0]] })).toThrow(/2 indices, 1 words/);
    expect(() => verifyWords(tree.root, { ...clone(p), words: [p.words[0], new Uint8Array(31)] })).toThrow(/length 31/);
    expect(() => verifyWords(tree.root, { ...clone(p), indices: [], words: [] })).toThrow(ProofError);
    expect(() => verifyWords(tree.root, { ...clone(p), leafCount: 0 })).toThrow(ProofError);
    expect(() => tree.prove([10])).toThrow(/index 10, leafCount 10/);
    expect(() => tree.prove([])).toThrow(ProofError);
    expect(() => tree.prove([-1])).toThrow(ProofError);
  });

  it('single-index proofs have exactly depth siblings (a simple loop verifies them)', () => {
    for (const n of [1, 2, 3, 6, 17, 64, 65]) {
      const tree = MerkleTree.fromBytes(randomBytes(32 * n, n));
      for (let i = 0; i < n; i += Math.max(1, n >> 2)) {
        const p = tree.prove([i]);
        expect(p.siblings.length).toBe(tree.depth);
        // the loop of docs/protocol.md
        let h = tree.node(0, i);
        let j = i;
        for (const s of p.siblings) {
          h = j % 2 === 0 ? nodeHash(h, s) : nodeHash(s, h);
          j = Math.floor(j / 2);
        }
        expect(h).toEqual(tree.root);
      }
    }
  });

  it('proveRange covers exactly the words spanning the range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4000 }), fc.integer(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 300 }), (len, seed, at, l) => {
        const bytes = randomBytes(len, seed);
        const start = Math.floor(at * len);
        const n = Math.min(l, len - start);
        const p = proveRange(bytes, start, n);
        const first = Math.floor(start / 32);
        const last = Math.floor((start + n - 1) / 32);
        expect(p.indices).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
        expect(verifyWords(merkleRoot(bytes), p)).toBe(true);
        // the proven words hold the range
        for (let b = start; b < start + n; b++) expect(p.words[Math.floor(b / 32) - first][b % 32]).toBe(bytes[b]);
      }),
      { numRuns: 100 },
    );
    const bytes = randomBytes(100, 1);
    expect(() => proveRange(bytes, 90, 11)).toThrow(/byteStart 90, byteLen 11, data length 100/);
    expect(() => proveRange(bytes, 0, 0)).toThrow(ProofError);
    const multi = proveRanges(bytes, [[0, 2], [70, 5]]);
    expect(multi.indices).toEqual([0, 2]);
    expect(proveWords(bytes, [2, 0, 2]).indices).toEqual([0, 2]);
  });

  it('hex form round-trips', () => {
    const bytes = randomBytes(777, 5);
    const p = proveWords(bytes, [1, 7, 20]);
    const h = wordsProofToHex(p);
    expect(h.words[0]).toMatch(/^0x[0-9a-f]{64}$/);
    expect(verifyWords(hexRoot(merkleRoot(bytes)), wordsProofFromHex(h))).toBe(true);
  });
});
