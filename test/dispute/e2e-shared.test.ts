/**
 * End-to-end disputes on anvil with the REAL one-step verifier for the two larger models in ../shared/models
 * (gpt-mid: causal GPT, d = 192, 4 blocks, ~1.8M parameters; mobile-net: depthwise / pointwise convs, residual Adds,
 * GlobalAveragePool), the e2e.test.ts scenarios plus the market around them:
 *
 * On the game alone (harness ./e2e-harness.ts, levelsPerMove 4 as deployProtocol deploys it; gpt-mid also at 2):
 *  1. a claimant wrong in one element of one op (seeded PRNG site, honest downstream) loses at the one-step (or the
 *     partial-sum) re-execution, in exactly 2·R + 3 (+ 2·sumRounds) transactions; 2. the heaviest one step (most
 *     proven elements read) is one of the long reductions of 4 (gpt-mid's also played at levelsPerMove 2);
 *  3. an honest claimant wins against a lying challenger;
 *  4. a wrong element of each long reduction (gpt-mid: Linear K = 768, LayerNorm rows of 192, Softmax rows of 48;
 *     mobile-net: the pointwise Conv K = 128, GlobalAveragePool over 64) loses at the chunk step of the partial-sum
 *     sub-game, each chunk re-added by computePartial in ≤ 200k gas, and an honest claimant wins it;
 *  5. a silent claimant and 6. a silent challenger lose on time.
 * Through the market (deployProtocol: TaskMarket, Staking, the real DisputeGame and verifier):
 *  7. a worker whose committed outputs come from a trace wrong inside a long reduction is challenged, loses at the
 *     chunk step and is slashed (TaskInvalidated, its locked stake gone);
 *  8. an honest worker challenged by a lying verifier wins, is not slashed, and is paid at finalize;
 *  9. a worker that never reveals its trace loses on time and is slashed; 10. a challenger that goes silent loses
 *     on time and the worker keeps its stake.
 * Every dispute: ≤ 2·log2(elements) + 3 (+ 2·sumRounds) transactions (the market's challenge counted as the open)
 * and ≤ 1.5M gas for the game (open + moves); through the market, challenge + moves ≤ 1.5M too (MARKET_MAX_GAS). The
 * honest traces are computed once per model and shared by every scenario. Prints a table per model.
 * Skipped, with a printed reason, where ../shared/models is absent. VERITY_SEED overrides the PRNG seed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventLogs } from 'viem';
import { challengeResult, claimTask, commitResult, finalizeTask, postTask, registerAgent, registerModel, resolveDispute, stake } from '../../src/chain/actions/index.js';
import { disputeGameAbi, stakingAbi, taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { inputHashOf, outputHashOf } from '../../src/chain/io.js';
import { modelRootHex } from '../../src/commit/index.js';
import { firstDisagreement } from '../../src/dispute/index.js';
import type { QModel, Trace } from '../../src/engine/ir.js';
import { reductionTerms } from '../../src/verifier/index.js';
import { E18, localProtocol, opsBitmap, type LocalProtocol } from '../chain/helpers.js';
import { haveShared, SHARED_MODEL_NAMES, SHARED_MODELS_DIR, sharedData, sharedQuantized, type SharedModelName } from '../onnx/models.js';
import {
  heaviestSite,
  honestTrace,
  lyingTrace,
  Outcome,
  playDispute,
  playGame,
  prng,
  randomSite,
  rounds,
  startEnv,
  sumRounds,
  txBound,
  type DisputeResult,
  type Env,
  type PlayOptions,
} from './e2e-harness.js';
import { checkBounds, expectTimedOut, MAX_GAS, row, ROW_HEADER } from './e2e-scenarios.js';

const SEED = Number(process.env.VERITY_SEED ?? 0x5eed);
const MAX_CHUNK_GAS = 200_000n;
/** deployProtocol's levelsPerMove: the only setting that keeps gpt-mid's whole dispute under 1.5M (docs/protocol.md). */
const S = 4;
const DAY = 86_400n;

/** The long reductions of each model whose wrong element is played through the partial-sum sub-game. */
const SUM_OPS: Record<SharedModelName, string[]> = { 'gpt-mid': ['Linear', 'LayerNorm', 'Softmax'], 'mobile-net': ['Conv', 'GlobalAveragePool'] };
/** Where the market scenarios lie: the worker (7) and the lying verifier (8). */
const MARKET_OPS: Record<SharedModelName, [worker: string, verifier: string]> = { 'gpt-mid': ['Linear', 'LayerNorm'], 'mobile-net': ['Conv', 'GlobalAveragePool'] };

const present = SHARED_MODEL_NAMES.filter(haveShared);
for (const name of SHARED_MODEL_NAMES.filter((n) => !present.includes(n))) {
  console.log(`[test/dispute/e2e-shared] ${name} skipped: ${SHARED_MODELS_DIR}/${name}.onnx is not on this machine`);
}

let env: Env;
let p: LocalProtocol;
let agentId: bigint;
beforeAll(async () => {
  if (present.length === 0) return;
  [env, p] = await Promise.all([startEnv(), localProtocol()]);
  agentId = (await registerAgent(p.as('worker'), { agentURI: 'ipfs://e2e-shared-worker' })).agentId;
  await stake(p.as('worker'), { amount: 1_000n * E18 });
});
afterAll(async () => {
  await env?.stop();
  await p?.stop();
});

/**
 * Through the market the game is opened by TaskMarket.challenge, which also checks the element's proofs and writes the
 * dispute record: 299k for a deployment's first dispute (its game is the game's first: the bond token's first balance
 * of the game), 282k after. Challenge + moves on gpt-mid's heaviest long reduction (Linear K = 768): 1,458,758 measured
 * (was 1,649,518 before the market's record went to 2 slots, the trace root's Merkle fold to assembly and the sum
 * state into the game's bisection slot): within the 1.5M target like every game alone.
 */
const MARKET_MAX_GAS: Record<SharedModelName, bigint> = { 'gpt-mid': MAX_GAS, 'mobile-net': MAX_GAS };

/** The sub-game was played to its chunk step: openSums, the claimant's total, and a sumStep last. */
function expectSums(r: DisputeResult): void {
  expect(r.moves.map((m) => m.move)).toEqual(expect.arrayContaining(['openSums', 'revealSumTotal', 'sumStep']));
  expect(r.moves.at(-1)!.move).toBe('sumStep');
  expect(r.sums!.computePartialGas!).toBeLessThanOrEqual(MAX_CHUNK_GAS);
}

for (const name of SHARED_MODEL_NAMES) {
  describe.skipIf(!present.includes(name))(`${name} (../shared/models): disputes with the real one-step verifier (anvil)`, () => {
    let model: QModel;
    let honest: Trace;
    const lines: string[] = [];
    const rnd = prng(SEED + 16 + SHARED_MODEL_NAMES.indexOf(name));
    const play = (claimant: Trace, challenger: Trace, opts: PlayOptions = {}) => playDispute(env, model, claimant, challenger, { levelsPerMove: S, ...opts });

    beforeAll(() => {
      model = sharedQuantized(name);
      honest = honestTrace(model, sharedData(name)); // once per model: every scenario below corrupts a copy
    });
    afterAll(() => {
      // eslint-disable-next-line no-console
      console.log(`${name} (seed ${SEED}, levelsPerMove ${S})\n${ROW_HEADER}\n${lines.join('\n')}`);
    });

    it('a claimant wrong in one element of one op loses at the one-step re-execution', async () => {
      const { nodeIndex, element } = randomSite(model, rnd);
      const bad = lyingTrace(model, honest, nodeIndex, element);
      const tensorId = model.inputs.length + nodeIndex;
      expect(firstDisagreement(model, honest, bad)).toMatchObject({ tensorId, nodeIndex, elementIndex: element });
      const r = await play(bad, honest);
      lines.push(row(`wrong claimant n${nodeIndex} ${model.nodes[nodeIndex]!.op}`, r));
      expect(r.outcome).toBe(Outcome.ChallengerWon);
      expect(r.tensorId).toBe(tensorId);
      expect(r.elementIndex).toBe(element);
      const extra = r.sums ? 2 * sumRounds(r.sums.terms) : 0;
      expect(r.moves.length).toBe(2 * rounds(r.numElements!, model.tensors[tensorId]!.dtype, S) + 3 + extra);
      expect(r.moves.at(-1)!.move).toBe(r.sums ? 'sumStep' : 'oneStep');
      checkBounds(r);
    });

    it('the heaviest one step (most proven elements read) is a long reduction, played through its partial sums below', async () => {
      const h = heaviestSite(model, honest);
      const op = model.nodes[h.nodeIndex]!.op;
      expect(SUM_OPS[name]).toContain(op);
      expect(heaviestSite(model, honest, op)).toEqual(h); // the site the "wrong partial sum" test of `op` plays
      if (name === 'gpt-mid') {
        // at levelsPerMove 2 the liar loses as surely, in more (cheaper) bisection rounds; its gas is printed, not
        // bounded: 1.5M holds only at the deployed 4 (docs/protocol.md §Measured)
        const r2 = await play(lyingTrace(model, honest, h.nodeIndex, h.element), honest, { levelsPerMove: 2 });
        lines.push(row(`heaviest n${h.nodeIndex} ${op}, levelsPerMove 2`, r2));
        expect(r2.outcome).toBe(Outcome.ChallengerWon);
        expect(r2.moves.at(-1)!.move).toBe('sumStep');
        expect(r2.moves.length).toBeLessThanOrEqual(txBound(r2.numElements!, r2.sums?.terms));
      }
    });

    it('an honest claimant wins against a lying challenger', async () => {
      const { nodeIndex, element } = randomSite(model, rnd);
      const r = await play(honest, lyingTrace(model, honest, nodeIndex, element, 3));
      lines.push(row(`lying challenger n${nodeIndex} ${model.nodes[nodeIndex]!.op}`, r));
      expect(r.outcome).toBe(Outcome.ClaimantWon);
      expect(r.tensorId).toBe(model.inputs.length + nodeIndex); // it disputed a tensor that is in fact correct
      expect(r.moves.at(-1)!.move).toBe(r.sums ? 'sumStep' : 'oneStep');
      checkBounds(r);
    });

    for (const op of SUM_OPS[name]) {
      it(`a wrong partial sum of its heaviest ${op} element loses at the chunk step; an honest claimant wins it`, async () => {
        const { nodeIndex, element } = heaviestSite(model, honest, op);
        expect(model.nodes[nodeIndex]!.op).toBe(op);
        const terms = reductionTerms(model, nodeIndex, element)!;
        expect(terms).toBeGreaterThan(op === 'LayerNorm' || op === 'Softmax' ? 16 : 48); // long enough for the sub-game
        const bad = await play(lyingTrace(model, honest, nodeIndex, element), honest);
        lines.push(row(`sums: wrong ${op} n${nodeIndex} T=${terms}`, bad, `chunk [${bad.sums?.from}, ${bad.sums?.to}) computePartial ${bad.sums?.computePartialGas}: `));
        expect(bad.outcome).toBe(Outcome.ChallengerWon);
        expect(bad.elementIndex).toBe(element);
        expect(bad.sums!.terms).toBe(terms);
        expectSums(bad);
        checkBounds(bad);
        const good = await play(honest, lyingTrace(model, honest, nodeIndex, element, 3));
        lines.push(row(`sums: lying challenger ${op} n${nodeIndex}`, good, `computePartial ${good.sums?.computePartialGas}: `));
        expect(good.outcome).toBe(Outcome.ClaimantWon);
        expectSums(good);
        checkBounds(good);
      });
    }

    it('a claimant that stops answering loses on time', async () => {
      const { nodeIndex, element } = randomSite(model, rnd);
      // it reveals its roots, then never opens the disputed tensor
      const r = await play(lyingTrace(model, honest, nodeIndex, element), honest, { claimantStopsAfter: 1 });
      lines.push(row('claimant silent', r));
      expectTimedOut(r, 'challenger');
    });

    it('a challenger that stops answering loses on time', async () => {
      const { nodeIndex, element } = randomSite(model, rnd);
      // it opens and disputes a tensor, then never picks a child nor plays the one step
      const r = await play(honest, lyingTrace(model, honest, nodeIndex, element), { challengerStopsAfter: 2 });
      lines.push(row('challenger silent', r));
      expectTimedOut(r, 'claimant');
      expect(r.moves.map((m) => m.move)).not.toContain('oneStep');
    });

    describe('through the market: commit → challenge → dispute → resolve', () => {
      let modelId: bigint;
      const worker = () => p.as('worker');
      const challenger = () => p.as('challenger');
      const staked = async () =>
        (await p.publicClient.readContract({ address: p.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [worker().walletClient.account.address] })).staked;

      beforeAll(async () => {
        modelId = (await registerModel(p.as('requester'), { modelRoot: modelRootHex(model), metadataURI: `ipfs://${name}`, opsBitmap: opsBitmap(model) })).modelId;
        const read = (functionName: 'levelsPerMove' | 'clock') => p.publicClient.readContract({ address: p.addresses.disputeGame, abi: disputeGameAbi, functionName });
        expect(Number(await read('levelsPerMove'))).toBe(S);
        expect(await read('clock')).toBe(DAY);
      });

      /**
       * A task on the first data row, claimed by the worker, its outputs committed from `workerTrace`, challenged by
       * the challenger and played from `challengerTrace`; then resolved by a stranger.
       */
      async function marketDispute(workerTrace: Trace, challengerTrace: Trace, opts: PlayOptions = {}) {
        const inputs = honest.slice(0, model.inputs.length);
        const { taskId } = await postTask(p.as('requester'), { modelId, inputs, fee: 20n * E18, deadline: (await p.now()) + 3_600n });
        const { stakeLocked } = await claimTask(worker(), { taskId, agentId });
        const { outputHash } = await commitResult(worker(), { taskId, outputs: workerTrace.slice(-model.outputs.length) });
        let challenge: Awaited<ReturnType<typeof challengeResult>> | undefined;
        const table = { publicClient: p.publicClient, rpcUrl: p.anvil.rpcUrl, game: p.addresses.disputeGame, verifier: p.addresses.oneStepVerifier, claimant: worker().walletClient, challenger: challenger().walletClient, levelsPerMove: S, clock: DAY };
        const before = await staked();
        const r = await playGame(table, model, workerTrace, challengerTrace, opts, async () => {
          challenge = await challengeResult(challenger(), { taskId, inputHash: inputHashOf(inputs), outputHash });
          return challenge.gameId;
        });
        const c = challenge!;
        const opened = parseEventLogs({ abi: disputeGameAbi, logs: c.receipt.logs, eventName: 'GameOpened' })[0]!;
        expect(opened.args.opener).toBe(p.addresses.taskMarket);
        const resolved = await resolveDispute(p.as('stranger'), { disputeId: c.disputeId });
        expect(resolved.outcome).toBe(r.outcome);
        const market = { txs: 1, gas: c.receipt.gasUsed, max: MARKET_MAX_GAS[name] }; // the challenge opened the game: the dispute's first transaction
        return { taskId, r, resolved, market, stakeLocked, stakeLost: before - (await staked()), challengeGas: c.receipt.gasUsed };
      }
      const marketRow = (scenario: string, m: Awaited<ReturnType<typeof marketDispute>>) =>
        lines.push(row(`market: ${scenario}`, m.r, `challenge ${m.challengeGas}, game+challenge ${m.r.gas + m.challengeGas}, resolve ${m.resolved.receipt.gasUsed}: `));

      it('a worker wrong inside a long reduction is caught at the chunk step and slashed', async () => {
        const { nodeIndex, element } = heaviestSite(model, honest, MARKET_OPS[name][0]);
        // the smallest change of that element (of a few) that reaches the committed outputs: a wrong result (a +1 in
        // mobile-net's pointwise Conv is averaged away by the pool, and a worker whose outputs are right is right)
        const out = (t: Trace) => outputHashOf(t.slice(-model.outputs.length));
        const lie = [1, 7, 37, 101].map((d) => lyingTrace(model, honest, nodeIndex, element, d)).find((t) => out(t) !== out(honest));
        if (!lie) throw new Error(`no change of n${nodeIndex} e${element} reaches ${name}'s outputs`);
        const m = await marketDispute(lie, honest);
        marketRow(`wrong ${model.nodes[nodeIndex]!.op} n${nodeIndex} slashed`, m);
        expect(m.r.outcome).toBe(Outcome.ChallengerWon);
        expect(m.r.tensorId).toBe(model.inputs.length + nodeIndex);
        expect(m.r.elementIndex).toBe(element);
        expectSums(m.r);
        checkBounds(m.r, m.market);
        expect(m.resolved.invalidated).toEqual({ slashed: m.stakeLocked, challengerShare: m.stakeLocked / 2n, refund: 20n * E18 });
        expect(m.stakeLost).toBe(m.stakeLocked);
      });

      it('an honest worker challenged by a lying verifier wins, keeps its stake and is paid', async () => {
        const { nodeIndex, element } = heaviestSite(model, honest, MARKET_OPS[name][1]);
        const m = await marketDispute(honest, lyingTrace(model, honest, nodeIndex, element, 3));
        marketRow(`lying verifier ${model.nodes[nodeIndex]!.op} n${nodeIndex}`, m);
        expect(m.r.outcome).toBe(Outcome.ClaimantWon);
        expect(m.r.moves.at(-1)!.move).toBe(m.r.sums ? 'sumStep' : 'oneStep');
        checkBounds(m.r, m.market);
        expect(m.resolved.invalidated).toBeUndefined();
        expect(m.stakeLost).toBe(0n);
        await p.warp(DAY);
        const f = await finalizeTask(p.as('stranger'), { taskId: m.taskId });
        expect(f.worker).toBe(worker().walletClient.account.address);
        expect(f.workerPayout + f.protocolFee).toBe(20n * E18);
        expect(await staked()).toBeGreaterThan(0n);
      });

      it('a worker that never reveals its trace loses on time and is slashed', async () => {
        const { nodeIndex, element } = randomSite(model, rnd);
        const m = await marketDispute(lyingTrace(model, honest, nodeIndex, element), honest, { claimantStopsAfter: 0 });
        marketRow('worker silent', m);
        expect(m.r.moves.map((x) => x.move)).toEqual(['timeout']);
        expectTimedOut(m.r, 'challenger', m.market);
        expect(m.resolved.invalidated?.slashed).toBe(m.stakeLocked);
        expect(m.stakeLost).toBe(m.stakeLocked);
        const inv = parseEventLogs({ abi: taskMarketAbi, logs: m.resolved.receipt.logs, eventName: 'TaskInvalidated' });
        expect(inv.length).toBe(1);
      });

      it('a challenger that goes silent loses on time; the honest worker keeps its stake', async () => {
        const { nodeIndex, element } = randomSite(model, rnd);
        // it challenges, then never disputes a tensor once the worker has revealed its roots
        const m = await marketDispute(honest, lyingTrace(model, honest, nodeIndex, element), { challengerStopsAfter: 1 });
        marketRow('verifier silent', m);
        expect(m.r.moves.map((x) => x.move)).toEqual(['revealRoots', 'timeout']);
        expectTimedOut(m.r, 'claimant', m.market);
        expect(m.resolved.invalidated).toBeUndefined();
        expect(m.stakeLost).toBe(0n);
      });
    });
  });
}
