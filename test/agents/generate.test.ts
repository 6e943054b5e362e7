/**
 * Verified generation with tiny-gpt: greedy decoding on the int8 logits agrees with onnxruntime-node's float
 * model on the same windows; generation is deterministic; the batch root is the market's batch commitment.
 */
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchTrees, encode, generate, loadTinyGpt, nextId, verifyGeneration, windowOf, type TinyGpt } from '../../src/agents/generate.js';
import { PositionalTree, resultLeaf } from '../../src/chain/positional.js';
import { keccakReady } from '../../src/commit/index.js';
import { MODELS_DIR } from '../onnx/models.js';

const PROMPTS = ['This program is free software', 'the terms of the GNU General', 'You may copy and distribute '];
const K = 32;

let gpt: TinyGpt;
let session: ort.InferenceSession;

beforeAll(async () => {
  await keccakReady;
  gpt = loadTinyGpt();
  session = await ort.InferenceSession.create(join(MODELS_DIR, 'tiny-gpt.onnx'));
});

async function floatNext(window: number[]): Promise<number> {
  const r = await session.run({ x: new ort.Tensor('int64', BigInt64Array.from(window.map(BigInt)), [1, window.length]) });
  const logits = r.logits!.data as Float32Array;
  const V = gpt.vocab.length;
  const row = logits.subarray((window.length - 1) * V, window.length * V);
  let best = 0;
  for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
  return best;
}

describe('window and decoding rules', () => {
  it('left-pads short prompts with spaces and keeps the last 32 ids of long ones', () => {
    const w = windowOf(gpt, encode(gpt, 'abc'));
    expect(w).toHaveLength(32);
    expect(w.slice(0, 29).every((id) => gpt.vocab[id] === ' ')).toBe(true);
    expect(w.slice(29)).toEqual(encode(gpt, 'abc'));
    const long = 'x'.repeat(40) + 'The end';
    expect(windowOf(gpt, encode(gpt, long))).toEqual(encode(gpt, long.slice(-32)));
    expect(() => encode(gpt, 'naïve')).toThrow(/not in tiny-gpt's vocabulary/);
  });
});

describe('tiny-gpt generation', () => {
  it(`agrees with onnxruntime's float argmax on ≥ 90% of characters (${PROMPTS.length} prompts × ${K} chars)`, async () => {
    let agree = 0;
    let total = 0;
    for (const prompt of PROMPTS) {
      const g = generate(gpt, prompt, K);
      expect([...g.text]).toHaveLength(K);
      for (const s of g.steps) {
        expect(nextId(gpt, s.outputs[0]!)).toBe(s.id);
        if ((await floatNext(s.window)) === s.id) agree++;
        total++;
      }
      console.log(`  ${JSON.stringify(prompt)} → ${JSON.stringify(g.text)}  batch root ${g.batchRoot}`);
    }
    const rate = agree / total;
    console.log(`tiny-gpt generation: int8 greedy agrees with onnxruntime float argmax on ${agree}/${total} characters (${(rate * 100).toFixed(1)}%)`);
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic: same prompt → same text, same trace roots, same batch root', () => {
    const a = generate(gpt, PROMPTS[0]!, 16);
    const b = generate(gpt, PROMPTS[0]!, 16);
    expect(b.text).toBe(a.text);
    expect(b.steps.map((s) => s.outputHash)).toEqual(a.steps.map((s) => s.outputHash));
    expect(b.batchRoot).toBe(a.batchRoot);
    expect(b.inputsRoot).toBe(a.inputsRoot);
    expect(verifyGeneration(gpt, a)).toEqual({ ok: true, mismatches: [] });
    const other = generate(gpt, PROMPTS[1]!, 16);
    expect(other.batchRoot).not.toBe(a.batchRoot);
  });

  it('commits with the market leaf encoding: batch root = PositionalTree(resultLeaf(i, outputHash))', () => {
    const g = generate(gpt, 'the ', 5);
    const expected = new PositionalTree(g.steps.map((s, i) => resultLeaf(i, s.outputHash))).root;
    expect(g.batchRoot).toBe(expected);
    expect(batchTrees(g.steps).resultTree.root).toBe(expected);
    // one step's output digest changed → a different batch root; a changed character fails verification
    const tampered = g.steps.map((s, i) => (i === 2 ? { ...s, outputHash: g.steps[0]!.outputHash } : s));
    expect(batchTrees(tampered).resultTree.root).not.toBe(g.batchRoot);
    const lie = { ...g, text: g.text.slice(0, 4) + (g.text[4] === 'e' ? 'a' : 'e') };
    expect(verifyGeneration(gpt, lie)).toEqual({ ok: false, mismatches: [4] });
    // proofs of an element verify against the root the market would hold
    expect(g.resultTree.proof(3)).toHaveLength(g.resultTree.depth);
  });
});
