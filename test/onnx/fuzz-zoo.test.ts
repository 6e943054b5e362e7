/**
 * Fuzzing the real exports of test/fixtures/zoo, which hold the ops the families brought in with
 * the attributes torch writes (HardSwish/HardSigmoid/squeeze-excite, LeakyRelu/PRelu/InstanceNorm/
 * BatchNorm/ReduceMax, Resize, ConvTranspose + GroupNorm, LSTM, and the two-input BERT-style graph
 * with Cast/Not/Expand/Where/ReduceSum/Div, GPT-2's torch.where): byte mutants and structure-aware mutants (attributes,
 * dims, element types, op types, wiring) each load and import, or fail with a typed error, each
 * within the per-case bound of fuzz.ts (no crash, no hang).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzModel, mutateStructure } from './fuzz.js';
import { ROOT } from './helpers.js';

const ZOO = join(ROOT, 'test', 'fixtures', 'zoo');
/** model → the dims its dynamic (batch) axes take */
const MODELS: [string, number[]][] = [
  ['mobilenet-v3', [1, 1, 8, 8]],
  ['cnn-layers', [1, 1, 8, 8]],
  ['unet-upsample', [1, 1, 8, 8]],
  ['deconv-groupnorm', [1, 1, 8, 8]],
  ['lstm', [1, 64]],
  ['bert-mask', [1, 16]],
  ['gpt2-where', [1, 24]],
];
const N = 80;

describe('fuzz: mutated zoo exports', () => {
  MODELS.forEach(([name, shape], k) => {
    it(`${name}: ${N} byte mutants and ${N} structure-aware mutants import or fail with a typed error`, () => {
      const src = new Uint8Array(readFileSync(join(ZOO, `${name}.onnx`)));
      const a = fuzzModel(src, shape, 0x200 + k, N);
      const b = fuzzModel(src, shape, 0x300 + k, N, mutateStructure);
      expect([...a.values(), ...b.values()].reduce((x, y) => x + y, 0)).toBe(2 * N);
      // not vacuous: some structure mutants still import end to end, others are rejected
      expect(b.get('imported') ?? 0).toBeGreaterThan(0);
      expect(b.size).toBeGreaterThan(1);
    }, 120_000);
  });
});
