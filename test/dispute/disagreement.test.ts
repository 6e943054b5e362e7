import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MerkleTree, tensorBytes } from '../../src/commit/index.js';
import { firstDisagreement } from '../../src/dispute/index.js';
import type { Trace } from '../../src/engine/ir.js';
import { chainModel, corrupt, runChain } from './helpers.js';

describe('firstDisagreement', () => {
  const model = chainModel(100, 4);
  const honest = runChain(model, 7);

  it('returns null for identical traces', () => {
    expect(firstDisagreement(model, honest, honest.map((t) => ({ ...t, data: t.data.slice() })))).toBeNull();
  });

  it('finds the first corrupted tensor and element, and its word', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 99 }), (id, e, later, e2) => {
        let bad: Trace = corrupt(honest, id, e);
        if (id + later <= 4) bad = corrupt(bad, id + later, e2); // a later difference never wins
        const d = firstDisagreement(model, honest, bad);
        expect(d).toEqual({ tensorId: id, nodeIndex: id === 0 ? null : id - 1, elementIndex: e, wordIndex: Math.floor(e / 32), metaDiffers: false });
        // the word is where the two tensors' Merkle trees first differ at the leaves
        const a = MerkleTree.fromBytes(tensorBytes(honest[id]!));
        const b = MerkleTree.fromBytes(tensorBytes(bad[id]!));
        const firstLeaf = Array.from({ length: a.leafCount }, (_, w) => w).find((w) => a.node(0, w).some((x, k) => x !== b.node(0, w)[k]));
        expect(firstLeaf).toBe(d!.wordIndex);
      }),
      { numRuns: 100 },
    );
  });

  it('handles i32 elements (4 bytes each) and meta differences', () => {
    const a: Trace = [{ dtype: 'i32', shape: [20], data: Int32Array.from({ length: 20 }, (_, i) => i) }];
    const m = { ...chainModel(20, 0), tensors: [{ id: 0, name: 'x', dtype: 'i32' as const, shape: [20], scale: 1, zeroPoint: 0, layout: 'plain' as const }] };
    const b = corrupt(a, 0, 13, 1 << 20);
    expect(firstDisagreement(m, a, b)).toEqual({ tensorId: 0, nodeIndex: null, elementIndex: 13, wordIndex: 1, metaDiffers: false });
    const c: Trace = [{ dtype: 'i32', shape: [2, 10], data: a[0]!.data }];
    expect(firstDisagreement(m, a, c)?.metaDiffers).toBe(true);
  });

  it('rejects traces of another model', () => {
    expect(() => firstDisagreement(model, honest, honest.slice(1))).toThrow(/do not match/);
  });
});
