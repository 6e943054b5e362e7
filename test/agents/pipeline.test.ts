/**
 * Hiring (src/agents/pipeline.ts, docs/protocol.md §Hiring) on anvil with the real contracts and the real one-step
 * verifier: a requester's two-stage tiny-gpt job; the contractor does stage 1 and subcontracts stage 2 through the
 * market; a verifier agent re-executes every committed stage.
 *   - all honest: both stages finalize; fees and reputation go to the agent that did each part;
 *   - a lying second-stage agent (one element of one op of one element's trace changed, everything downstream
 *     recomputed honestly): caught, challenged, game played to the one-step re-execution, slashed at stage 2; the
 *     contractor keeps its stage-1 fee and reputation and re-posts stage 2 to an honest agent; the requester gets
 *     the honest text;
 *   - a lying contractor: slashed at stage 1, the requester refunded, stage 2 never posted.
 */
import { erc20Abi } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskMarketAbi, disputeGameAbi } from '../../src/chain/artifacts/index.js';
import { sendContractTransaction } from '../../src/chain/send.js';
import { keccakReady } from '../../src/commit/index.js';
import { Outcome } from '../../src/dispute/index.js';
import { allocate, type TensorData, type Trace } from '../../src/engine/ir.js';
import { outputsOf } from '../../src/engine/run.js';
import { EmbeddedChain } from '../../src/agents/embedded.js';
import { generate, loadTinyGpt, nextId, type TinyGpt } from '../../src/agents/generate.js';
import {
  GenerationWorker,
  MarketAgent,
  runPipeline,
  standing,
  standingsTable,
  VerifierAgent,
  type PipelineJob,
  type StageAttempt,
  type Standing,
  type Tamper,
} from '../../src/agents/pipeline.js';

const E18 = 10n ** 18n;
const PROMPT = 'This program is free software';
const JOB: PipelineJob = { prompt: PROMPT, k1: 6, k2: 6, fee: 10n * E18, subFee: 4n * E18 };
const PROTOCOL_FEE_BPS = 500n; // deployProtocol default

let chain: EmbeddedChain;
let gpt: TinyGpt;
let requester: MarketAgent;
let contractor: GenerationWorker;
let bob: GenerationWorker;
let mallory: GenerationWorker;
let victor: VerifierAgent;
let eve: GenerationWorker;
let everyone: MarketAgent[];
let minStake: bigint;
let bond: bigint;

/**
 * The liar's trace change: node 50 (the last block's second Linear, [1, 32, 48]) at the window's last position,
 * one element changed, nodes 51..53 recomputed honestly from it. Searches (bounded) for the first change that
 * flips the argmax character, so the lie changes the text it delivers.
 */
const LIE_NODE = 50;
const LIE_ELEMENT_STEP = 2;
function lieAt(g: TinyGpt, honest: Trace): Trace {
  const p = g.prepared;
  const honestId = nextId(g, outputsOf(p, honest)[0]!);
  const st = p.steps[LIE_NODE]!;
  const row = honest[st.output]!.data.length - 48;
  let fallback: Trace | undefined;
  for (const delta of [64, -64, 100, -100]) {
    for (let j = 0; j < 48; j++) {
      const trace: TensorData[] = honest.map((t) => ({ dtype: t.dtype, shape: t.shape.slice(), data: t.data.slice() }));
      const t = trace[st.output]!;
      const before = t.data[row + j]!;
      t.data[row + j] = before + delta;
      if (t.data[row + j] === before) continue;
      for (let s = LIE_NODE + 1; s < p.steps.length; s++) {
        const step = p.steps[s]!;
        const out: TensorData = { dtype: step.dtype, shape: step.shape.slice(), data: allocate(step.dtype, step.size) };
        step.kernel(step.inputs.map((id) => trace[id]!), out);
        trace[step.output] = out;
      }
      if (nextId(g, outputsOf(p, trace)[0]!) !== honestId) return trace;
      fallback ??= trace;
    }
  }
  return fallback!;
}
const lies = new Map<string, Trace>();
const tamper: Tamper = ({ index, window, trace }) => {
  if (index !== LIE_ELEMENT_STEP) return undefined;
  const key = window.join(',');
  if (!lies.has(key)) lies.set(key, lieAt(gpt, trace));
  return lies.get(key)!;
};

async function snapshot(): Promise<Standing[]> {
  return Promise.all(everyone.map((a) => standing(a)));
}

beforeAll(async () => {
  await keccakReady;
  gpt = loadTinyGpt();
  chain = await EmbeddedChain.start({ challengeWindow: 600n });
  // accounts 1..3 are funded by EmbeddedChain.start; fund 4 (mallory), 5 (victor), 6 (eve) from the deployer
  for (const i of [4, 5, 6]) {
    await sendContractTransaction(chain.as('deployer'), {
      contract: 'VerityToken',
      address: chain.addresses.token,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [chain.asAccount(i).walletClient.account.address, 10_000n * E18],
    });
  }
  requester = new MarketAgent('requester', chain.asAccount(1));
  contractor = new GenerationWorker('contractor', chain.asAccount(2), gpt);
  bob = new GenerationWorker('bob', chain.asAccount(3), gpt);
  mallory = new GenerationWorker('mallory', chain.asAccount(4), gpt, { tamper });
  victor = new VerifierAgent('victor', chain.asAccount(5), gpt);
  eve = new GenerationWorker('eve', chain.asAccount(6), gpt, { tamper }); // a lying contractor
  for (const w of [contractor, bob, mallory, eve]) await w.register({ stake: 1_000n * E18, description: 'tiny-gpt generation stages' });
  await victor.register({ description: 'verifier: re-executes committed stages and challenges' });
  everyone = [requester, contractor, bob, mallory, victor, eve];
  minStake = (await chain.publicClient.readContract({ address: chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getParams' })).minStake;
  bond = await chain.publicClient.readContract({ address: chain.addresses.disputeGame, abi: disputeGameAbi, functionName: 'bond' });
});

afterAll(async () => {
  await chain?.stop();
});

const afterFee = (fee: bigint) => fee - (fee * PROTOCOL_FEE_BPS) / 10_000n;
const idx = (a: MarketAgent) => everyone.indexOf(a);

describe('hiring: a two-stage tiny-gpt pipeline through the market', () => {
  it('all honest: both stages finalize; fees and reputation to each worker; the requester gets generate(prompt, k1 + k2)', async () => {
    const before = await snapshot();
    const r = await runPipeline({ chain, gpt, requester, contractor, subcontractors: [bob], verifier: victor, job: JOB, log: (l) => console.log(`  ${l}`) });
    const after = await snapshot();
    console.log(`\nall-honest pipeline, ${JSON.stringify(PROMPT)} → ${JSON.stringify(r.text)}\n${standingsTable(everyone, before, after, r.attempts)}\n`);

    expect(r.text).toBe(generate(gpt, PROMPT, JOB.k1 + JOB.k2).text);
    expect(r.attempts.map((a) => [a.stage, a.worker, a.status])).toEqual([
      [1, 'contractor', 'finalized'],
      [2, 'bob', 'finalized'],
    ]);
    expect(r.attempts[0]!.payout).toBe(afterFee(JOB.fee));
    expect(r.attempts[1]!.payout).toBe(afterFee(JOB.subFee));
    const d = (a: MarketAgent) => ({ total: after[idx(a)]!.total - before[idx(a)]!.total, fin: after[idx(a)]!.finalized - before[idx(a)]!.finalized, score: after[idx(a)]!.score - before[idx(a)]!.score, staked: after[idx(a)]!.staked - before[idx(a)]!.staked });
    expect(d(requester).total).toBe(-JOB.fee);
    expect(d(contractor)).toEqual({ total: afterFee(JOB.fee) - JOB.subFee, fin: 1, score: 1, staked: 0n });
    expect(d(bob)).toEqual({ total: afterFee(JOB.subFee), fin: 1, score: 1, staked: 0n });
    expect(d(mallory)).toEqual({ total: 0n, fin: 0, score: 0, staked: 0n });
    expect(d(victor).total).toBe(0n);
  });

  it('a lying stage-2 agent is slashed at stage 2; the contractor keeps its fee and reputation; the requester gets the honest text', async () => {
    const before = await snapshot();
    const r = await runPipeline({ chain, gpt, requester, contractor, subcontractors: [mallory, bob], verifier: victor, job: JOB, log: (l) => console.log(`  ${l}`) });
    const after = await snapshot();
    console.log(`\npipeline with a lying stage-2 agent, ${JSON.stringify(PROMPT)} → ${JSON.stringify(r.text)}\n${standingsTable(everyone, before, after, r.attempts)}\n`);

    // the requester receives the honest result (re-posted stage 2), which is not what the liar quoted
    const honest = generate(gpt, PROMPT, JOB.k1 + JOB.k2).text;
    expect(r.text).toBe(honest);
    expect(r.attempts.map((a) => [a.stage, a.worker, a.status])).toEqual([
      [1, 'contractor', 'finalized'],
      [2, 'mallory', 'invalidated'],
      [2, 'bob', 'finalized'],
    ]);
    const lie = r.attempts[1]!;
    // the lie flipped the character of element LIE_ELEMENT_STEP (the liar's delivery was self-consistent)
    expect(lie.text.slice(0, LIE_ELEMENT_STEP)).toBe(honest.slice(JOB.k1, JOB.k1 + LIE_ELEMENT_STEP));
    expect(lie.text[LIE_ELEMENT_STEP]).not.toBe(honest[JOB.k1 + LIE_ELEMENT_STEP]);

    // the dispute: the verifier's challenge of the lying element, played to the one-step re-execution
    const dis = lie.dispute!;
    expect(dis.index).toBe(LIE_ELEMENT_STEP);
    expect(dis.outcome).toBe(Outcome.ChallengerWon);
    // bisected down to the corrupted node and re-executed one element of it on-chain (not a timeout)
    expect(dis.nodeIndex).toBe(LIE_NODE);
    expect(dis.moves.slice(0, 4)).toEqual(['challenge', 'revealRoots', 'disputeTensor', 'revealTensor']);
    expect(dis.moves.slice(-2)).toEqual(['oneStep', 'resolve']);
    expect(dis.oneStep!.elementIndex).toBeGreaterThanOrEqual(31 * 48); // the window's last position
    expect(dis.oneStep!.claimed).not.toBe(dis.oneStep!.computed);
    console.log(`  dispute: ${dis.moves.length} transactions, ${dis.gas} gas`);
    expect(dis).toMatchObject({ slashed: minStake, challengerShare: minStake / 2n, refund: JOB.subFee });
    const task = await chain.publicClient.readContract({ address: chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [lie.taskId] });
    expect(task.status).toBe(5); // Invalidated

    const d = (a: MarketAgent) => {
      const b = before[idx(a)]!;
      const x = after[idx(a)]!;
      return { total: x.total - b.total, staked: x.staked - b.staked, fin: x.finalized - b.finalized, lost: x.lost - b.lost, score: x.score - b.score };
    };
    // the liar: stake down by the slash (market-opened games are backed by the locked stake: no liquid game bond),
    // one ("dispute","lost") −1 feedback
    expect(d(mallory)).toEqual({ total: -minStake, staked: -minStake, fin: 0, lost: 1, score: -1 });
    // the verifier: credited the challenger share by the market and its own bond back by the game
    expect(after[idx(victor)]!.claimable - before[idx(victor)]!.claimable).toBe(minStake / 2n);
    expect(after[idx(victor)]!.gameCredit - before[idx(victor)]!.gameCredit).toBe(bond);
    expect(d(victor).total).toBe(minStake / 2n);
    // the first-stage agent keeps its fee and its reputation (+1 finalize), nothing slashed; the refunded stage-2
    // fee paid the honest re-post
    expect(r.attempts[0]!.payout).toBe(afterFee(JOB.fee));
    expect(d(contractor)).toEqual({ total: afterFee(JOB.fee) - JOB.subFee, staked: 0n, fin: 1, lost: 0, score: 1 });
    expect(d(bob)).toEqual({ total: afterFee(JOB.subFee), staked: 0n, fin: 1, lost: 0, score: 1 });
    expect(d(requester).total).toBe(-JOB.fee);
  });

  it('a lying contractor is slashed at stage 1: the requester is refunded and no stage 2 is ever posted', async () => {
    const before = await snapshot();
    const tasksBefore = (await chain.publicClient.readContract({ address: chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'counts' }))[0];
    const attempts: StageAttempt[] = [];
    await expect(
      runPipeline({ chain, gpt, requester, contractor: eve, subcontractors: [bob], verifier: victor, job: JOB, attempts, log: (l) => console.log(`  ${l}`) }),
    ).rejects.toThrow(/No worker delivered stage 1/);
    const after = await snapshot();
    console.log(`\npipeline with a lying contractor (stage 1)\n${standingsTable(everyone, before, after, attempts)}\n`);
    const tasksAfter = (await chain.publicClient.readContract({ address: chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'counts' }))[0];
    expect(tasksAfter - tasksBefore).toBe(1n);
    expect(attempts.map((a) => [a.stage, a.worker, a.status])).toEqual([[1, 'eve', 'invalidated']]);
    expect(attempts[0]!.dispute).toMatchObject({ index: LIE_ELEMENT_STEP, nodeIndex: LIE_NODE, outcome: Outcome.ChallengerWon, slashed: minStake, refund: JOB.fee });
    const d = (a: MarketAgent) => after[idx(a)]!.total - before[idx(a)]!.total;
    expect(d(requester)).toBe(0n); // fee refunded (credited by the market)
    expect(d(eve)).toBe(-minStake); // stake-backed game: the slash is the whole loss
    expect(after[idx(eve)]!.lost - before[idx(eve)]!.lost).toBe(1);
    expect(d(victor)).toBe(minStake / 2n);
    expect(d(bob)).toBe(0n);
  });
});
