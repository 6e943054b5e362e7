/**
 * The native digests of the honest path (native/commit.h: outputHashes, resultLeaves, treeLevels, resultTree) are
 * byte-identical to src/commit's hash-wasm path: outputHashesOf / outputHashOf (one output: no copy), resultLeaves /
 * resultLeaf, PositionalTree roots and PositionalTree.ofResults' root and every proof on
 * random tensors of every dtype, odd sizes (empty, one element, a partial last word, several Merkle levels), rank 0 to
 * 30 (a tensorRoot preimage longer than one Keccak block) and up to 6 outputs (a digest preimage longer than one
 * block), on each of the addon's Keccak paths (eight or four states at a time with AVX-512 — a stage's last one to
 * four messages and a lone hash take the four-state one, five to seven an eight-state group with repeated lanes — and
 * one at a time). Skips, with a
 * printed reason, when the addon is not built.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import type { DType, TensorData } from '../../src/engine/ir.js';
import { nativeAvailable, nativeCpu, setNativeCpuPath, setNativeEnabled } from '../../src/engine/native.js';
import { keccakBackend, keccakReady, outputHashesOf, outputHashesOfFlat, outputHashOf } from '../../src/commit/index.js';
import { flatTensors } from '../../src/parallel/flat.js';
import { PositionalMerkleError, PositionalTree, resultLeaf, resultLeaves } from '../../src/chain/positional.js';

const HAVE = nativeAvailable();
const CPU_MAX = HAVE ? setNativeCpuPath(2) : -1;
if (!HAVE) console.log('io-native.test: the native addon is not loaded (not built — run `node native/build.mjs` — or VERITY_NATIVE=0); skipping the native digests');
else console.log(`io-native.test: native addon loaded (CPU path ${nativeCpu()})`);

/** Runs f with the native addon off: src/commit hashes with hash-wasm. */
function wasmOnly<T>(f: () => T): T {
  setNativeEnabled(false);
  try {
    return f();
  } finally {
    setNativeEnabled(true);
  }
}

const DTYPES: DType[] = ['i8', 'u8', 'i32'];
const RANGE: Record<DType, [number, number]> = { i8: [-128, 127], u8: [0, 255], i32: [-(2 ** 31), 2 ** 31 - 1] };
const layout = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.oneof(fc.array(fc.integer({ min: 0, max: 13 }), { maxLength: 4 }), fc.constant<number[]>([1, 67]), fc.constant(Array.from({ length: 30 }, () => 1))),
});
/** A batch: 1 to 9 items with the same output layouts (1 to 6 outputs), random values. */
const batch = fc.array(layout, { minLength: 1, maxLength: 6 }).chain((outs) =>
  fc.array(
    fc.tuple(...outs.map((o) => fc.array(fc.integer({ min: RANGE[o.dtype][0], max: RANGE[o.dtype][1] }), { minLength: size(o.shape), maxLength: size(o.shape) }))),
    { minLength: 1, maxLength: 9 },
  ).map((items) => items.map((vals) => vals.map((v, t) => tensor(outs[t]!.dtype, outs[t]!.shape, v)))),
);

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function tensor(dtype: DType, shape: number[], vals: number[]): TensorData {
  return { dtype, shape, data: dtype === 'i8' ? Int8Array.from(vals) : dtype === 'u8' ? Uint8Array.from(vals) : Int32Array.from(vals) };
}

describe.skipIf(!HAVE)('native digests = hash-wasm digests', () => {
  beforeAll(async () => {
    await keccakReady;
    expect(keccakBackend()).toBe('wasm');
  });
  afterAll(() => {
    setNativeEnabled(true);
    setNativeCpuPath(CPU_MAX);
  });

  for (const cpu of [2, 0].filter((p) => p <= CPU_MAX)) {
    it(`outputHashesOf, resultLeaves and PositionalTree on random batches (Keccak path ${cpu === 2 ? 'AVX-512 ×8' : 'scalar'})`, () => {
      setNativeCpuPath(cpu);
      fc.assert(
        fc.property(batch, fc.integer({ min: 0, max: 1000 }), (items, start) => {
          const want = wasmOnly(() => items.map((it) => outputHashOf(it)));
          expect(outputHashesOf(items)).toEqual(want);
          expect(items.map((it) => outputHashOf(it))).toEqual(want);
          // The same items as one array per output, items back to back (runBatchOutputs' layout): natively and not.
          const flat = flatTensors(items);
          expect(outputHashesOfFlat(flat, items.length)).toEqual(want);
          expect(wasmOnly(() => outputHashesOfFlat(flat, items.length))).toEqual(want);
          const leaves = wasmOnly(() => resultLeaves(want, start));
          expect(leaves).toEqual(want.map((h, i) => wasmOnly(() => resultLeaf(start + i, h))));
          expect(resultLeaves(want, start)).toEqual(leaves);
          expect(resultLeaf(start, want[0]!)).toBe(leaves[0]);
          expect(new PositionalTree(leaves).root).toBe(wasmOnly(() => new PositionalTree(leaves).root));
          // The batch's result tree in one native call: the same root and the same proof of every element.
          const ref = wasmOnly(() => new PositionalTree(leaves));
          const fused = PositionalTree.ofResults(want, start);
          expect([fused.count, fused.depth, fused.root]).toEqual([ref.count, ref.depth, ref.root]);
          for (let i = 0; i < want.length; i++) expect(fused.proof(i)).toEqual(ref.proof(i));
          expect(wasmOnly(() => PositionalTree.ofResults(want, start).root)).toBe(ref.root);
        }),
        { numRuns: 120 },
      );
    });
  }

  it('PositionalTree.ofResults = new PositionalTree(resultLeaves(…)) on up to 130 elements (every Keccak group remainder)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 130 }), fc.integer({ min: 0, max: 2 ** 31 - 200 }), (ds, start) => {
        const hashes = ds.map((d) => `0x${Buffer.from(d).toString('hex')}` as Hex);
        const ref = wasmOnly(() => new PositionalTree(resultLeaves(hashes, start)));
        const fused = PositionalTree.ofResults(hashes, start);
        expect(fused.root).toBe(ref.root);
        const i = ds.length - 1;
        expect(fused.proof(i)).toEqual(ref.proof(i));
        expect(fused.proof(0)).toEqual(ref.proof(0));
      }),
      { numRuns: 60 },
    );
  });

  it('outputHashesOfFlat names a count that does not divide its arrays', () => {
    const flat = [tensor('i8', [3], [1, 2, 3, 4, 5, 6])];
    expect(outputHashesOfFlat(flat, 2)).toEqual(wasmOnly(() => outputHashesOf([[tensor('i8', [3], [1, 2, 3])], [tensor('i8', [3], [4, 5, 6])]])));
    expect(() => outputHashesOfFlat(flat, 3)).toThrow(/output 0 is not 3 items of its shape/);
    expect(() => outputHashesOfFlat([{ dtype: 'i32', shape: [3], data: new Int8Array(6) }], 2)).toThrow(/output 0 does not match its dtype/);
    expect(outputHashesOfFlat(flat.map((t) => ({ ...t, data: t.data.subarray(0, 0) })), 0)).toEqual([]);
  });

  it('a batch whose items differ in shape is hashed item by item, with the same digests', () => {
    const items = [[tensor('i8', [3], [1, -2, 3])], [tensor('i8', [4], [1, -2, 3, 4])], [tensor('i32', [1, 3], [7, -8, 2 ** 31 - 1])], []];
    expect(outputHashesOf(items)).toEqual(wasmOnly(() => items.map((it) => outputHashOf(it))));
  });

  it('a digest that is not 32 bytes of 0x-hex gets the JS path and its error', () => {
    const good = outputHashOf([tensor('u8', [2], [1, 2])]);
    const upper = `0x${good.slice(2).toUpperCase()}` as Hex;
    expect(resultLeaves([good, upper])).toEqual(wasmOnly(() => resultLeaves([good, upper])));
    expect(() => resultLeaves([good, '0x1234'])).toThrow(PositionalMerkleError);
    expect(PositionalTree.ofResults([good, upper]).root).toBe(wasmOnly(() => new PositionalTree(resultLeaves([good, upper])).root));
    expect(() => PositionalTree.ofResults([good, '0x1234'])).toThrow(PositionalMerkleError);
    expect(() => PositionalTree.ofResults([good, `0x${'zz'.repeat(32)}` as Hex])).toThrow();
    expect(() => PositionalTree.ofResults([])).toThrow(PositionalMerkleError);
    expect(() => resultLeaves([good, `0x${'zz'.repeat(32)}` as Hex])).toThrow();
  });
});
