import { describe, expect, it } from 'vitest';
import { fuzzModel, mutateStructure } from './fuzz.js';
import { modelBytes } from './helpers.js';

describe('fuzz: mutated digits-convnet.onnx', () => {
  it('1000 mutants load+fold or fail with a typed error, each quickly', () => {
    const outcomes = fuzzModel(modelBytes('digits-convnet'), [1, 1, 8, 8], 0x5eed2, 1000);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('600 structure-aware mutants (attributes, dims, types, ops, wiring) likewise', () => {
    const outcomes = fuzzModel(modelBytes('digits-convnet'), [1, 1, 8, 8], 0x5eed2 + 1, 600, mutateStructure);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(600);
  });
});
