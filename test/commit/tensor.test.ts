import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TensorData } from '../../src/engine/ir.js';
import {
  EncodingError,
  keccakReady,
  ProofError,
  proveElement,
  proveElementRanges,
  readProvenElement,
  rootFromHex,
  hexRoot,
  TensorCommitment,
  tensorBytes,
  tensorRoot,
  tensorRootPreimage,
  verifyElement,
  verifyTensorProof,
  type ElementProof,
  type TensorProof,
} from '../../src/commit/index.js';
import { arbTensor, filled } from './fixtures.js';
import { refElementBytes, refTensorRoot } from './reference.js';

beforeAll(async () => {
  await keccakReady;
});

function rejects(fn: () => boolean): void {
  let ok: boolean;
  try {
    ok = fn();
  } catch (e) {
    if (e instanceof ProofError) return;
    throw e;
  }
  expect(ok).toBe(false);
}

function cloneEp(p: ElementProof): ElementProof {
  return {
    dtype: p.dtype,
    shape: p.shape.slice(),
    index: p.index,
    value: p.value,
    proof: { leafCount: p.proof.leafCount, indices: p.proof.indices.slice(), words: p.proof.words.map((w) => w.slice()), siblings: p.proof.siblings.map((s) => s.slice()) },
  };
}

describe('element bytes', () => {
  it('i8 two\'s complement, u8 raw, i32 big-endian, row-major', () => {
    expect([...tensorBytes({ dtype: 'i8', shape: [2, 2], data: Int8Array.from([-1, 0, 127, -128]) })]).toEqual([0xff, 0x00, 0x7f, 0x80]);
    expect([...tensorBytes({ dtype: 'u8', shape: [3], data: Uint8Array.from([0, 200, 255]) })]).toEqual([0, 200, 255]);
    expect([...tensorBytes({ dtype: 'i32', shape: [2], data: Int32Array.from([1, -2]) })]).toEqual([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe]);
    fc.assert(
      fc.property(arbTensor, (t) => {
        expect(tensorBytes(t)).toEqual(refElementBytes(t));
      }),
    );
  });

  it('rejects data that does not match dtype or shape', () => {
    expect(() => tensorRoot({ dtype: 'i8', shape: [2], data: new Uint8Array(2) })).toThrow(EncodingError);
    expect(() => tensorRoot({ dtype: 'i32', shape: [2], data: new Int8Array(8) })).toThrow(/dtype i32 but data is a Int8Array/);
    expect(() => tensorRoot({ dtype: 'i8', shape: [2, 3], data: new Int8Array(5) })).toThrow(/6 elements, data has length 5/);
    expect(() => tensorRoot({ dtype: 'i8', shape: [-1], data: new Int8Array(0) })).toThrow(/shape\[0\] = -1/);
    expect(() => tensorRoot({ dtype: 'i8', shape: new Array(256).fill(1), data: new Int8Array(1) })).toThrow(/rank 256/);
  });
});

describe('tensorRoot', () => {
  it('matches the spec-literal reference', () => {
    fc.assert(
      fc.property(arbTensor, (t) => {
        expect(tensorRoot(t)).toEqual(refTensorRoot(t));
      }),
      { numRuns: 200 },
    );
  });

  it('preimage layout: 0x02 ‖ dtype ‖ uint32 n ‖ rank ‖ dims ‖ dataRoot', () => {
    const root = new Uint8Array(32).fill(0xaa);
    const pre = tensorRootPreimage('i32', [1, 258, 3], root);
    expect([...pre.subarray(0, 19)]).toEqual([2, 3, 0, 0, 3, 6, 3, 0, 0, 0, 1, 0, 0, 1, 2, 0, 0, 0, 3]);
    expect(pre.length).toBe(39 + 12);
    expect(pre.subarray(19)).toEqual(root);
  });

  it('changes with dtype or shape when the bytes are identical', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        const n = bytes.length;
        const i8: TensorData = { dtype: 'i8', shape: [n], data: new Int8Array(bytes.buffer.slice(0)) };
        const u8: TensorData = { dtype: 'u8', shape: [n], data: bytes.slice() };
        const u8b: TensorData = { dtype: 'u8', shape: [1, n], data: bytes.slice() };
        const u8c: TensorData = { dtype: 'u8', shape: [n, 1], data: bytes.slice() };
        expect(tensorBytes(i8)).toEqual(tensorBytes(u8));
        const cands = [i8, u8, u8b];
        if (n > 1) cands.push(u8c); // [n, 1] ≠ [1, n]
        const roots = cands.map((t) => hexRoot(tensorRoot(t)));
        if (n % 4 === 0) {
          // same bytes as an i32 tensor
          const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
          const i32 = Int32Array.from({ length: n / 4 }, (_, i) => dv.getInt32(4 * i, false));
          const t32: TensorData = { dtype: 'i32', shape: [n / 4], data: i32 };
          expect(tensorBytes(t32)).toEqual(bytes);
          roots.push(hexRoot(tensorRoot(t32)));
        }
        if (n % 2 === 0 && n > 2) roots.push(hexRoot(tensorRoot({ dtype: 'u8', shape: [2, n / 2], data: bytes.slice() })));
        expect(new Set(roots).size).toBe(roots.length);
      }),
      { numRuns: 100 },
    );
    // empty tensors of different shapes differ too
    const a = tensorRoot({ dtype: 'i8', shape: [0], data: new Int8Array(0) });
    const b = tensorRoot({ dtype: 'i8', shape: [0, 3], data: new Int8Array(0) });
    expect(a).not.toEqual(b);
  });

  it('is deterministic and sensitive to every element', () => {
    const t = filled('i32', [3, 5], 42);
    const r = tensorRoot(t);
    expect(tensorRoot(filled('i32', [3, 5], 42))).toEqual(r);
    for (let i = 0; i < t.data.length; i++) {
      const u = filled('i32', [3, 5], 42);
      u.data[i] ^= 1 << (i % 32);
      expect(tensorRoot(u)).not.toEqual(r);
    }
  });
});

describe('element proofs', () => {
  it('every element proof verifies and carries the value', () => {
    fc.assert(
      fc.property(arbTensor.filter((t) => t.data.length > 0), fc.nat(), (t, pick) => {
        const index = pick % t.data.length;
        const root = tensorRoot(t);
        const p = proveElement(t, index);
        expect(p.value).toBe(t.data[index]);
        expect(verifyElement(root, p)).toBe(true);
        expect(verifyElement(hexRoot(root), p)).toBe(true);
        expect(readProvenElement(p, index)).toBe(t.data[index]);
      }),
      { numRuns: 200 },
    );
  });

  it('range proofs cover all elements of the ranges (e.g. Conv input runs)', () => {
    const t = filled('i8', [1, 6, 6, 16], 3); // NHWC, one 3-wide run = 48 contiguous bytes per row
    const c = new TensorCommitment(t);
    const ranges = [0, 1, 2].map((kh) => [(kh * 6 + 2) * 16, 3 * 16] as const);
    const p = c.proveRanges(ranges);
    expect(verifyTensorProof(c.root, p)).toBe(true);
    for (const [s, n] of ranges) for (let i = s; i < s + n; i++) expect(readProvenElement(p, i)).toBe(t.data[i]);
    expect(() => readProvenElement(p, 5 * 96)).toThrow(/not in the proof/);
    const big = filled('i32', [1000], 9);
    const bp = proveElementRanges(big, [[10, 50], [900, 3]]);
    expect(verifyTensorProof(tensorRoot(big), bp)).toBe(true);
    for (let i = 900; i < 903; i++) expect(readProvenElement(bp, i)).toBe(big.data[i]);
  });

  it('any single-bit change of value, index, dtype, shape, leafCount, word, sibling or root fails', () => {
    fc.assert(
      fc.property(
        fc.record({ dtype: fc.constantFrom('i8' as const, 'u8' as const, 'i32' as const), n: fc.integer({ min: 1, max: 3000 }), seed: fc.integer() }),
        fc.nat(),
        fc.constantFrom('value', 'index', 'dtype', 'shape', 'leafCount', 'word', 'sibling', 'root'),
        fc.integer({ min: 0, max: 255 }),
        ({ dtype, n, seed }, pick, kind, bit) => {
          const t = filled(dtype, [1, n], seed);
          const index = pick % n;
          const root = tensorRoot(t);
          const orig = proveElement(t, index);
          const p = cloneEp(orig);
          let r = root;
          switch (kind) {
            case 'value':
              p.value = p.value ^ (1 << (bit % 32));
              if (dtype === 'i32') p.value |= 0;
              break;
            case 'index':
              p.index = p.index ^ (1 << (bit % 20));
              break;
            case 'dtype':
              p.dtype = (['i8', 'u8', 'i32'] as const)[(['i8', 'u8', 'i32'].indexOf(dtype) + 1 + (bit % 2)) % 3];
              break;
            case 'shape':
              p.shape[bit % 2] ^= 1 << (bit % 12);
              break;
            case 'leafCount':
              p.proof.leafCount ^= 1 << (bit % 16);
              break;
            case 'word':
              p.proof.words[0][bit >> 3] ^= 1 << (bit & 7);
              break;
            case 'sibling':
              if (p.proof.siblings.length === 0) p.proof.words[0][bit >> 3] ^= 1 << (bit & 7);
              else p.proof.siblings[pick % p.proof.siblings.length][bit >> 3] ^= 1 << (bit & 7);
              break;
            case 'root':
              r = root.slice();
              r[bit >> 3] ^= 1 << (bit & 7);
              break;
          }
          const sameWord = p.index < n && Math.floor((p.index * (dtype === 'i32' ? 4 : 1)) / 32) === p.proof.indices[0];
          if (kind === 'index' && sameWord && t.data[p.index] === p.value) {
            // another element of the proven word with the same value: a true claim, which verifies
            expect(verifyElement(r, p)).toBe(true);
          } else {
            rejects(() => verifyElement(r, p));
          }
          expect(verifyElement(root, orig)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('errors name the index and length', () => {
    const t = filled('i8', [2, 3], 1);
    expect(() => proveElement(t, 6)).toThrow(/index 6, tensor has 6 elements/);
    expect(() => proveElementRanges(t, [[4, 3]])).toThrow(/start 4, count 3, tensor has 6 elements/);
    const p: TensorProof = proveElement(t, 1);
    expect(() => verifyTensorProof(tensorRoot(t), { ...p, shape: [2, 300] })).toThrow(/leafCount 1.*has 19 leaves/s);
    expect(() => rootFromHex('0x12')).toThrow(EncodingError);
  });
});
