/**
 * End-to-end disputes on anvil with the REAL one-step verifier (contracts/verifier), for each shipped model
 * (wine-mlp, digits-convnet, tiny-gpt), played move by move by DisputeClient (harness: ./e2e-harness.ts):
 *  1. a claimant whose trace is wrong in exactly one element of one op (op and element from a seeded PRNG; the
 *     lying trace is recomputed honestly downstream) loses at the one-step re-execution;
 *  2. an honest claimant wins against a lying challenger (whose own trace is wrong at a random site, so it disputes
 *     a tensor that is in fact correct and picks wrongly all the way down);
 *  3. a claimant that stops answering loses on time; 4. a challenger that stops answering loses on time
 *     (evm_increaseTime past the clock, then the other side calls timeout).
 * Every dispute: ≤ 2·log2(elements) + 3 transactions (elements = the disputed tensor's) and ≤ 1.5M gas in total.
 * Prints a table per model. VERITY_SEED overrides the PRNG seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstDisagreement } from '../../src/dispute/index.js';
import { sizeOf, type QModel, type Trace } from '../../src/engine/ir.js';
import { MODEL_NAMES } from '../onnx/models.js';
import { reductionTerms as sumTermsOf } from '../../src/verifier/index.js';
import { heaviestSite, honestTrace, lyingTrace, Outcome, playDispute, prng, quantized, randomSite, rounds, startEnv, sumRounds, type Env } from './e2e-harness.js';
import { checkBounds, expectTimedOut, row, ROW_HEADER } from './e2e-scenarios.js';

const SEED = Number(process.env.VERITY_SEED ?? 0x5eed);

let env: Env;
beforeAll(async () => {
  env = await startEnv();
});
afterAll(async () => {
  await env?.stop();
});

const totals = new Map<string, bigint>(); // model → gas of the wrong-claimant dispute (random site)
const heaviest = new Map<string, bigint>(); // model → gas of the wrong-claimant dispute at the heaviest one step

describe.each(MODEL_NAMES)('%s: disputes with the real one-step verifier (anvil)', (name) => {
  let model: QModel;
  let honest: Trace;
  const lines: string[] = [];
  const rnd = prng(SEED + MODEL_NAMES.indexOf(name));

  beforeAll(() => {
    model = quantized(name);
    honest = honestTrace(model, name);
  });
  afterAll(() => {
    // eslint-disable-next-line no-console
    console.log(`${name} (seed ${SEED}, levelsPerMove 2)\n${ROW_HEADER}\n${lines.join('\n')}`);
  });

  it('a claimant wrong in one element of one op loses at the one-step re-execution', async () => {
    const { nodeIndex, element } = randomSite(model, rnd);
    const bad = lyingTrace(model, honest, nodeIndex, element);
    const tensorId = model.inputs.length + nodeIndex;
    expect(firstDisagreement(model, honest, bad)).toMatchObject({ tensorId, nodeIndex, elementIndex: element });
    const r = await playDispute(env, model, bad, honest);
    lines.push(row(`wrong claimant n${nodeIndex} ${model.nodes[nodeIndex]!.op}`, r));
    expect(r.outcome).toBe(Outcome.ChallengerWon);
    expect(r.tensorId).toBe(tensorId);
    expect(r.elementIndex).toBe(element);
    const t = model.tensors[tensorId]!;
    // a reduction longer than one chunk is bisected inside its accumulator (openSums … sumStep)
    const extra = r.sums ? 2 * sumRounds(r.sums.terms) : 0;
    expect(r.moves.length).toBe(2 * rounds(r.numElements!, t.dtype, 2) + 3 + extra);
    expect(r.moves.at(-1)!.move).toBe(r.sums ? 'sumStep' : 'oneStep');
    checkBounds(r);
    totals.set(name, r.gas);
  });

  it('the heaviest one step (most proven elements read) stays within the bounds', async () => {
    const { nodeIndex, element } = heaviestSite(model, honest);
    const r = await playDispute(env, model, lyingTrace(model, honest, nodeIndex, element), honest);
    lines.push(row(`heaviest n${nodeIndex} ${model.nodes[nodeIndex]!.op}`, r));
    expect(r.outcome).toBe(Outcome.ChallengerWon);
    expect(r.elementIndex).toBe(element);
    checkBounds(r);
    heaviest.set(name, r.gas);
  });

  it('an honest claimant wins against a lying challenger', async () => {
    const { nodeIndex, element } = randomSite(model, rnd);
    const lie = lyingTrace(model, honest, nodeIndex, element, 3);
    const r = await playDispute(env, model, honest, lie);
    lines.push(row(`lying challenger n${nodeIndex} ${model.nodes[nodeIndex]!.op}`, r));
    expect(r.outcome).toBe(Outcome.ClaimantWon);
    expect(r.tensorId).toBe(model.inputs.length + nodeIndex); // it disputed a tensor that is in fact correct
    expect(r.moves.at(-1)!.move).toBe(r.sums ? 'sumStep' : 'oneStep');
    checkBounds(r);
  });

  it('at the heaviest reduction: a wrong total loses at the partial-sum step, an honest claimant wins it', async () => {
    const { nodeIndex, element } = heaviestSite(model, honest);
    const terms = sumTermsOf(model, nodeIndex, element);
    if (terms === undefined || terms <= 48) return; // no reduction longer than one chunk in this model
    const bad = await playDispute(env, model, lyingTrace(model, honest, nodeIndex, element), honest);
    lines.push(row(`sums: wrong claimant n${nodeIndex}`, bad));
    expect(bad.outcome).toBe(Outcome.ChallengerWon);
    expect(bad.moves.map((m) => m.move)).toEqual(expect.arrayContaining(['openSums', 'revealSumTotal', 'sumStep']));
    expect(bad.moves.at(-1)!.move).toBe('sumStep');
    checkBounds(bad);
    const good = await playDispute(env, model, honest, lyingTrace(model, honest, nodeIndex, element, 3));
    lines.push(row(`sums: lying challenger n${nodeIndex}`, good));
    expect(good.outcome).toBe(Outcome.ClaimantWon);
    expect(good.moves.at(-1)!.move).toBe('sumStep');
    checkBounds(good);
  });

  it('a claimant that stops answering loses on time', async () => {
    const { nodeIndex, element } = randomSite(model, rnd);
    const bad = lyingTrace(model, honest, nodeIndex, element);
    // it reveals its roots, then never opens the disputed tensor
    const r = await playDispute(env, model, bad, honest, { claimantStopsAfter: 1 });
    lines.push(row('claimant silent', r));
    expectTimedOut(r, 'challenger');
  });

  it('a challenger that stops answering loses on time', async () => {
    const { nodeIndex, element } = randomSite(model, rnd);
    const lie = lyingTrace(model, honest, nodeIndex, element);
    // it opens and disputes a tensor, then never picks a child nor plays the one step
    const r = await playDispute(env, model, honest, lie, { challengerStopsAfter: 2 });
    lines.push(row('challenger silent', r));
    expectTimedOut(r, 'claimant');
    expect(r.moves.map((m) => m.move)).not.toContain('oneStep');
  });
});

describe('tiny-gpt: LayerNorm and Softmax elements through the partial-sum sub-game (anvil)', () => {
  for (const op of ['LayerNorm', 'Softmax'] as const) {
    it(`a wrong ${op} element loses at the chunk step; an honest claimant wins`, async () => {
      const model = quantized('tiny-gpt');
      const honest = honestTrace(model, 'tiny-gpt');
      const nodeIndex = model.nodes.findIndex((n) => n.op === op);
      expect(nodeIndex).toBeGreaterThanOrEqual(0);
      const n = sizeOf(model.tensors[model.nodes[nodeIndex]!.output]!.shape);
      const element = Math.floor(n / 2) + 3;
      const bad = await playDispute(env, model, lyingTrace(model, honest, nodeIndex, element), honest);
      // eslint-disable-next-line no-console
      console.log(`tiny-gpt ${op} n${nodeIndex} e${element}: ${bad.moves.length} txs, ${bad.gas} gas, computePartial ${bad.sums?.computePartialGas}: ${bad.moves.map((m) => `${m.move} ${m.gasUsed}`).join(', ')}`);
      expect(bad.outcome).toBe(Outcome.ChallengerWon);
      expect(bad.moves.map((m) => m.move)).toEqual(expect.arrayContaining(['openSums', 'revealSumTotal', 'sumStep']));
      expect(bad.moves.at(-1)!.move).toBe('sumStep');
      expect(bad.sums!.computePartialGas!).toBeLessThanOrEqual(200_000n);
      checkBounds(bad);
      const good = await playDispute(env, model, honest, lyingTrace(model, honest, nodeIndex, element, 3));
      expect(good.outcome).toBe(Outcome.ClaimantWon);
      expect(good.moves.at(-1)!.move).toBe('sumStep');
      checkBounds(good);
    });
  }
});

describe('dispute cost across models', () => {
  it("tiny-gpt's dispute costs at most twice wine-mlp's", () => {
    const wine = totals.get('wine-mlp');
    const gpt = totals.get('tiny-gpt');
    expect(wine).toBeDefined();
    expect(gpt).toBeDefined();
    expect(gpt!).toBeLessThanOrEqual(2n * wine!);
    expect(heaviest.get('tiny-gpt')!).toBeLessThanOrEqual(2n * heaviest.get('wine-mlp')!);
  });
});
