import fc from 'fast-check';
import { keccak256 as viemKeccak } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import { keccak256, keccakBackend, keccakReady, leafHash, merkleRoot, nodeHash, ZERO_HASHES } from '../../src/commit/index.js';
import { _forceJsKeccak } from '../../src/commit/keccak.js';
import { cat, k, refMerkleRoot, refWords } from './reference.js';

beforeAll(async () => {
  await keccakReady;
});

describe('keccak backend', () => {
  it('uses hash-wasm once ready', () => {
    expect(keccakBackend()).toBe('wasm');
  });

  it('hash-wasm keccak256 equals viem keccak256 on random inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.integer({ min: 0, max: 600 }), (data, cut) => {
        const expected = viemKeccak(data, 'bytes');
        expect(keccak256(data)).toEqual(expected);
        const c = Math.min(cut, data.length);
        expect(keccak256(data.subarray(0, c), data.subarray(c))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('known vector: keccak256("") ', () => {
    expect(Buffer.from(keccak256(new Uint8Array(0))).toString('hex')).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });

  it('leafHash, nodeHash and ZERO_HASHES follow the spec', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
        expect(leafHash(a)).toEqual(k(cat([0], a)));
        expect(nodeHash(a, b)).toEqual(k(cat([1], a, b)));
      }),
      { numRuns: 100 },
    );
    expect(ZERO_HASHES[0]).toEqual(k(new Uint8Array(33)));
    for (let i = 0; i < 10; i++) expect(ZERO_HASHES[i + 1]).toEqual(k(cat([1], ZERO_HASHES[i], ZERO_HASHES[i])));
  });

  it('the pure-JS fallback gives the same Merkle roots', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), (data) => {
        const fast = merkleRoot(data);
        _forceJsKeccak(true);
        try {
          expect(keccakBackend()).toBe('wasm'); // loaded, but bypassed by the test hook
          expect(merkleRoot(data)).toEqual(fast);
        } finally {
          _forceJsKeccak(false);
        }
        expect(fast).toEqual(refMerkleRoot(refWords(data)));
      }),
      { numRuns: 50 },
    );
  });
});
