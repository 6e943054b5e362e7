/** Seeded random input rows for the shipped models (the browser test and bench/browser.ts share them). */
import { modelData, type ModelName } from '../onnx/models.js';

/** mulberry32: a small seeded PRNG with uniform output in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` rows for `name`: wine-mlp standardized features in [−4, 4] (past the int8 range, so some saturate);
 * digits-convnet pixels in [0, 1] with exact 0s and 1s; tiny-gpt token ids over the whole vocabulary.
 */
export function randomRows(name: ModelName, n: number, seed: number): number[][] {
  const r = rng(seed);
  const data = modelData(name);
  const size = data.shape.reduce((a, b) => a * b, 1);
  const one = (): number => {
    if (name === 'tiny-gpt') return Math.floor(r() * data.vocab!.length);
    if (name === 'digits-convnet') {
      const u = r();
      return u < 0.3 ? 0 : u > 0.9 ? 1 : r();
    }
    return (r() * 2 - 1) * 4;
  };
  return Array.from({ length: n }, () => Array.from({ length: size }, one));
}
