import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Trace } from '../../src/engine/ir.js';
import {
  bytesEqual,
  commitTrace,
  hexRoot,
  keccakReady,
  ProofError,
  proveTraceTensor,
  rootFromHex,
  traceRoot,
  traceRootHex,
  verifyElement,
  verifyTraceTensor,
  type TraceTensorProof,
} from '../../src/commit/index.js';
import { arbTensor, filled } from './fixtures.js';
import { refTraceRoot } from './reference.js';

beforeAll(async () => {
  await keccakReady;
});

const arbTrace = fc.array(arbTensor, { minLength: 1, maxLength: 12 });

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

describe('traceRoot', () => {
  it('matches the spec-literal reference and is deterministic', () => {
    fc.assert(
      fc.property(arbTrace, (trace) => {
        const r = traceRoot(trace);
        expect(r).toEqual(refTraceRoot(trace));
        const copy: Trace = trace.map((t) => ({ dtype: t.dtype, shape: [...t.shape], data: t.data.slice() }));
        expect(traceRoot(copy)).toEqual(r);
        expect(traceRootHex(trace)).toBe(hexRoot(r));
        expect(rootFromHex(traceRootHex(trace))).toEqual(r);
      }),
      { numRuns: 100 },
    );
  });

  it('binds the tensor count and order', () => {
    const a = filled('i8', [4], 1);
    const b = filled('i32', [2], 2);
    const zero = { dtype: 'i8' as const, shape: [0], data: new Int8Array(0) };
    const roots = [[a, b], [b, a], [a], [a, b, zero], []].map((t) => hexRoot(traceRoot(t)));
    expect(new Set(roots).size).toBe(roots.length);
  });

  it('tensor membership proofs verify; any bit change fails', () => {
    fc.assert(
      fc.property(arbTrace, fc.nat(), fc.constantFrom('leaf', 'sibling', 'index', 'count', 'root'), fc.integer({ min: 0, max: 255 }), (trace, pick, kind, bit) => {
        const c = commitTrace(trace);
        const id = pick % trace.length;
        const p = c.proveTensor(id);
        expect(p.leaf).toEqual(c.tensorRoots[id]);
        expect(verifyTraceTensor(c.root, p)).toBe(true);
        expect(verifyTraceTensor(hexRoot(c.root), proveTraceTensor(trace, id))).toBe(true);
        const q: TraceTensorProof = { count: p.count, index: p.index, leaf: p.leaf.slice(), siblings: p.siblings.map((s) => s.slice()) };
        let r = c.root;
        if (kind === 'leaf' || (kind === 'sibling' && q.siblings.length === 0)) q.leaf[bit >> 3] ^= 1 << (bit & 7);
        else if (kind === 'sibling') q.siblings[pick % q.siblings.length][bit >> 3] ^= 1 << (bit & 7);
        else if (kind === 'index') q.index ^= 1 << (bit % 8);
        else if (kind === 'count') q.count ^= 1 << (bit % 8);
        else {
          r = c.root.slice();
          r[bit >> 3] ^= 1 << (bit & 7);
        }
        if (kind === 'index' && q.index < trace.length && bytesEqual(c.tensorRoots[q.index], q.leaf)) {
          // two identical tensors (e.g. both empty): the mutated claim is true
          expect(verifyTraceTensor(r, q)).toBe(true);
        } else {
          rejects(() => verifyTraceTensor(r, q));
        }
        // an element of that tensor, proven against the proven tensorRoot
        const t = trace[id];
        if (t.data.length > 0) expect(verifyElement(p.leaf, c.proveElement(id, pick % t.data.length))).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(() => proveTraceTensor([filled('i8', [1], 1)], 1)).toThrow(/index 1, count 1/);
  });

  it('time to commit the trace of a 1 MB tensor (printed, not asserted)', () => {
    const big = filled('i8', [1, 1024, 1024], 7); // 1 MiB, 32768 words
    const big32 = filled('i32', [1, 512, 512], 8); // 1 MiB as i32 (byte-swapped to big-endian)
    const small = filled('i8', [1, 16], 9);
    traceRoot([small, big]); // warm-up
    const time = (trace: Trace): number => {
      const runs = 5;
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) traceRoot(trace);
      return (performance.now() - t0) / runs;
    };
    const ms8 = time([small, big]);
    const ms32 = time([small, big32]);
    const t0 = performance.now();
    const c = commitTrace([small, big]);
    const p = c.tensor(1).proveElement(123456);
    const msProve = performance.now() - t0;
    expect(verifyElement(c.tensorRoots[1], p)).toBe(true);
    console.log(
      `[commit] traceRoot of a 1 MiB i8 tensor: ${ms8.toFixed(1)} ms; 1 MiB i32 tensor: ${ms32.toFixed(1)} ms; ` +
        `commitTrace + tree + one element proof: ${msProve.toFixed(1)} ms`,
    );
  });
});
