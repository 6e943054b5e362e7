import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzModel, mutateStructure } from './fuzz.js';
import { ROOT } from './helpers.js';

const PATH = join(ROOT, '..', 'shared', 'models', 'text-mask.onnx');

/** A multi-input graph (int64 ids + float mask, run-time mask chain, masked pooling) under mutation. */
describe.skipIf(!existsSync(PATH))('fuzz: mutated text-mask.onnx (two inputs)', () => {
  it('150 byte mutants and 150 structure-aware mutants import or fail with a typed error, each quickly', () => {
    const src = new Uint8Array(readFileSync(PATH));
    const a = fuzzModel(src, [1, 40], 0x7e57, 150);
    const b = fuzzModel(src, [1, 40], 0x7e58, 150, mutateStructure);
    expect([...a.values(), ...b.values()].reduce((x, y) => x + y, 0)).toBe(300);
    expect((a.get('imported') ?? 0) + (b.get('imported') ?? 0)).toBeGreaterThan(0);
  });
});
