/**
 * Gas of the protocol's transactions, measured on anvil with real transactions (deployProtocol: real DisputeGame,
 * real one-step verifier): register, stake, register model, post task, claim, commit one result, commit a batch of
 * 100 (per result), finalize, slash (a lost dispute), and every dispute move for real model traces (the claimant's
 * trace has one wrong element; both sides played by src/dispute's DisputeClient). The one-step verifier's per-op
 * table comes from bench/gas-verifier.ts (its bench/results/gas-verifier.json; run `npx tsx bench/gas-verifier.ts`
 * to refresh it) and the game-only whole disputes of all shipped models from bench/gas-dispute.ts
 * (bench/results/gas-dispute.json); neither is re-measured here.
 *
 *   npm run bench:gas            → prints tables, writes bench/results/gas.json
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak256, toHex } from 'viem';
import {
  challengeResult,
  claimTask,
  commitBatch,
  commitResult,
  finalizeTask,
  postBatchTask,
  postTask,
  registerAgent,
  registerModel,
  resolveDispute,
  stake,
} from '../src/chain/actions/index.js';
import { disputeGameAbi } from '../src/chain/artifacts/index.js';
import { inputHashOf } from '../src/chain/io.js';
import { DisputeClient, traceStateProvider } from '../src/dispute/index.js';
import { sizeOf } from '../src/engine/ir.js';
import { buildOneStep } from '../src/verifier/index.js';
import { E18, localProtocol, opsBitmap, realRun, type LocalProtocol } from '../test/chain/helpers.js';
import { checkAgainstContracts } from './economy-check.js';
import type { ModelName } from '../test/onnx/models.js';

const TARGETS = { commitSingle: 80_000, batchPerResult: 2_000, wholeDispute: 1_500_000 };
const DAY = 86_400n;

interface Row {
  action: string;
  gas: number;
  note?: string;
}
interface DisputeReport {
  model: string;
  tensorId: number;
  op: string;
  elements: number;
  moves: Row[];
  total: number;
  transactions: number;
  withinTarget: boolean;
}

async function agentAndModel(p: LocalProtocol, name: ModelName) {
  const run = realRun(name);
  const { modelId } = await registerModel(p.as('requester'), { modelRoot: run.modelRoot, metadataURI: `ipfs://${name}`, opsBitmap: opsBitmap(run.model) });
  return { run, modelId };
}

/** One dispute over `name`'s trace with element `element` of tensor `tensorId` wrong in the worker's trace. */
async function dispute(p: LocalProtocol, agentId: bigint, name: ModelName, pickTensor: (sizes: number[]) => number): Promise<DisputeReport> {
  const base = realRun(name);
  const sizes = base.honest.map((t) => sizeOf(t.shape));
  const tensorId = pickTensor(sizes);
  const run = realRun(name, tensorId, Math.floor((sizes[tensorId]! * 5) / 8));
  const { modelId } = await registerModel(p.as('requester'), { modelRoot: run.modelRoot, metadataURI: `ipfs://${name}`, opsBitmap: opsBitmap(run.model) });
  const inputs = run.honest.slice(0, run.model.inputs.length);
  const { taskId } = await postTask(p.as('requester'), { modelId, inputs, fee: E18, deadline: (await p.now()) + 3_600n });
  await claimTask(p.as('worker'), { taskId, agentId });
  const { outputHash } = await commitResult(p.as('worker'), { taskId, outputs: run.corrupted.slice(-run.model.outputs.length) });
  const ch = await challengeResult(p.as('challenger'), { taskId, inputHash: inputHashOf(inputs), outputHash });
  const mk = (role: 'worker' | 'challenger') => new DisputeClient({ publicClient: p.publicClient, walletClient: p.as(role).walletClient, game: p.addresses.disputeGame, pollMs: 5 });
  const claimant = mk('worker');
  const challenger = mk('challenger');
  await Promise.all([
    claimant.playClaimant(ch.gameId, traceStateProvider(run.model, run.corrupted, buildOneStep)),
    challenger.playChallenger(ch.gameId, traceStateProvider(run.model, run.honest, buildOneStep)),
  ]);
  const res = await resolveDispute(p.as('stranger'), { disputeId: ch.disputeId });
  const moves = [...claimant.moves, ...challenger.moves]
    .filter((m) => m.move !== 'approve')
    .sort((a, b) => (a.hash < b.hash ? -1 : 1));
  // order by block: read receipts' block numbers
  const withBlock = await Promise.all(moves.map(async (m) => ({ m, r: await p.publicClient.getTransactionReceipt({ hash: m.hash }) })));
  withBlock.sort((a, b) => Number(a.r.blockNumber - b.r.blockNumber) || a.r.transactionIndex - b.r.transactionIndex);
  const rows: Row[] = [{ action: 'open (TaskMarket.challenge → DisputeGame.open)', gas: Number(ch.receipt.gasUsed) }];
  for (const { m } of withBlock) rows.push({ action: m.move, gas: Number(m.gasUsed) });
  const total = rows.reduce((s, r) => s + r.gas, 0);
  rows.push({ action: 'resolve → slash (TaskMarket.resolve, not part of the game)', gas: Number(res.receipt.gasUsed) });
  const node = run.model.nodes[tensorId - run.model.inputs.length]!;
  return {
    model: name,
    tensorId,
    op: node.op,
    elements: sizes[tensorId]!,
    moves: rows,
    total,
    transactions: rows.length - 1,
    withinTarget: total <= TARGETS.wholeDispute,
  };
}

async function main(): Promise<void> {
  const p = await localProtocol();
  try {
    const rows: Row[] = [];
    const g = (action: string, gas: bigint, note?: string) => rows.push({ action, gas: Number(gas), ...(note ? { note } : {}) });

    const agent = await registerAgent(p.as('worker'), { agentURI: 'ipfs://agent-card' });
    g('registerAgent (IdentityRegistry.register)', agent.receipt.gasUsed);
    const st = await stake(p.as('worker'), { amount: 10_000n * E18 });
    g('stake (Staking.stake, after approve)', st.receipt.gasUsed);
    const { run, modelId } = await agentAndModel(p, 'wine-mlp');
    const rm = await registerModel(p.as('stranger'), { modelRoot: keccak256(toHex('another model')), metadataURI: 'ipfs://m', opsBitmap: 1n });
    g('registerModel (ModelRegistry.registerModel)', rm.receipt.gasUsed);

    const inputs = run.honest.slice(0, 1);
    const pt = await postTask(p.as('requester'), { modelId, inputs, fee: 20n * E18, deadline: (await p.now()) + 3_600n });
    g('postTask (wine-mlp input i8[1,13] in calldata, hashed on-chain)', pt.receipt.gasUsed);
    const pc = await postTask(p.as('requester'), { modelId, inputHash: inputHashOf(inputs), fee: 20n * E18, deadline: (await p.now()) + 3_600n });
    g('postTaskCommitment (inputHash only)', pc.receipt.gasUsed);
    const cl = await claimTask(p.as('worker'), { taskId: pt.taskId, agentId: agent.agentId });
    g('claim (locks stake)', cl.receipt.gasUsed);
    const cm = await commitResult(p.as('worker'), { taskId: pt.taskId, outputs: run.honest.slice(-1) });
    g('commit one result (output i8[1,3] in calldata, no trace root)', cm.receipt.gasUsed, `target ≤ ${TARGETS.commitSingle}`);
    const commitSingle = Number(cm.receipt.gasUsed);

    const n = 100;
    const bt = await postBatchTask(p.as('requester'), {
      modelId,
      inputHashes: Array.from({ length: n }, (_, i) => keccak256(toHex(`in${i}`))),
      fee: 100n * E18,
      deadline: (await p.now()) + 3_600n,
    });
    g('postBatchTask (100 elements)', bt.receipt.gasUsed);
    await claimTask(p.as('worker'), { taskId: bt.taskId, agentId: agent.agentId });
    const cb = await commitBatch(p.as('worker'), {
      taskId: bt.taskId,
      results: Array.from({ length: n }, (_, i) => ({ outputHash: keccak256(toHex(`out${i}`)) })),
    });
    g('commitBatch of 100 (whole tx)', cb.receipt.gasUsed);
    const batchPerResult = Number(cb.receipt.gasUsed) / n;
    rows.push({ action: 'commitBatch of 100, per result', gas: Math.round(batchPerResult), note: `target ≤ ${TARGETS.batchPerResult}` });

    await p.warp(DAY);
    const fz = await finalizeTask(p.as('stranger'), { taskId: pt.taskId });
    g('finalize (fee credited, stake released)', fz.receipt.gasUsed);

    const disputes: DisputeReport[] = [];
    // wine-mlp: the worker's published output element is wrong (the output tensor is disputed)
    disputes.push(await dispute(p, agent.agentId, 'wine-mlp', (s) => s.length - 1));
    // digits-convnet: a wrong element in the largest node output (deepest bisection)
    disputes.push(
      await dispute(p, agent.agentId, 'digits-convnet', (s) => {
        let best = 1;
        for (let i = 1; i < s.length; i++) if (s[i]! > s[best]!) best = i;
        return best;
      }),
    );
    const slash = disputes[0]!.moves[disputes[0]!.moves.length - 1]!;
    rows.push({ action: 'slash (TaskMarket.resolve after a lost dispute)', gas: slash.gas });

    // ---- issue-11 moves: audits (AuditBook) and challenger teams, measured on a second deployment with audits on
    // (bench/economy-check.ts plays the scenarios with real transactions and records every call's gas)
    const audit = await checkAgainstContracts();
    const ag = (k: string) => audit.gas[k]?.gas;
    const auditRows: [string, string][] = [
      ['drawAudit', 'drawAudit (AuditBook: blockhash(commitBlock+1) selection)'],
      ['commitAudit', 'commitAudit (seal + deposit)'],
      ['answerAudit', 'answerAudit (trace root pinned + tensor j Merkle proof, single task)'],
      ['revealAudit', 'revealAudit (match, picked: deposit back + reward)'],
      ['settleAudit', 'settleAudit (close a matched audit)'],
      ['settleAuditInvalidate', 'settleAudit, worker never answered → market.moduleInvalidate (slash, share to pool)'],
      ['reclaimDeposit', 'reclaimDeposit (auditor pulls a refundable deposit)'],
      ['requestElement', 'requestElement (DataAvailability: one element, bond posted, finalize held)'],
      ['openElement', 'openElement (one element: wine-mlp output i8[1,3] in calldata + Merkle proof in a batch of 100)'],
      ['settleUnopened', 'settleUnopened (one element never opened → batch invalidated, slash)'],
      ['joinChallenge', 'joinChallenge (second challenger joins the live game)'],
    ];
    for (const [k, label] of auditRows) {
      const v = ag(k);
      if (v !== undefined) rows.push({ action: label, gas: v });
    }
    const rate = Number(audit.params.auditRateBps) / 10_000;
    const drawG = ag('drawAudit') ?? 0;
    const auditedG = (ag('answerAudit') ?? 0) + (ag('settleAudit') ?? 0);
    const batchPerResultAudited = (Number(cb.receipt.gasUsed) + drawG + rate * auditedG) / n;
    rows.push({
      action: `commitBatch of 100 + drawAudit + ${rate * 100}% × (answer + settle), per result`,
      gas: Math.round(batchPerResultAudited),
      note: `target ≤ ${TARGETS.batchPerResult}`,
    });
    const notMeasured: string[] = [];
    for (const k of ['requestElement', 'openElement', 'settleUnopened']) if (ag(k) === undefined) notMeasured.push(`${k} (data availability): not measured — is DataAvailability deployed?`);

    const verifierPath = join(import.meta.dirname, 'results', 'gas-verifier.json');
    const verifier = existsSync(verifierPath) ? (JSON.parse(readFileSync(verifierPath, 'utf8')) as { rows: unknown[] }) : undefined;

    // ---------------------------------------------------------------- print
    const levelsPerMove = await p.publicClient.readContract({ address: p.addresses.disputeGame, abi: disputeGameAbi, functionName: 'levelsPerMove' });
    const pad = (s: string | number, w: number) => String(s).padEnd(w);
    const num = (x: number) => x.toLocaleString('en-US');
    console.log('\nProtocol transactions (anvil, real transactions)\n');
    console.log(`${pad('action', 66)}${pad('gas', 12)}note`);
    for (const r of rows) console.log(`${pad(r.action, 66)}${pad(num(r.gas), 12)}${r.note ?? ''}`);
    for (const d of disputes) {
      console.log(`\nDispute: ${d.model}, tensor ${d.tensorId} (${d.op} output, ${d.elements} elements), levelsPerMove ${levelsPerMove}\n`);
      for (const r of d.moves) console.log(`${pad(r.action, 66)}${num(r.gas)}`);
      console.log(`${pad(`whole dispute (${d.transactions} txs, open … oneStep or sumStep)`, 66)}${num(d.total)}   target ≤ ${num(TARGETS.wholeDispute)}: ${d.withinTarget ? 'ok' : 'OVER'}`);
    }
    if (verifier) {
      console.log('\nOne-step verifier per op (from bench/results/gas-verifier.json, bench/gas-verifier.ts)\n');
      // whole = computeElement of the element; played = the step the game plays for it (a long reduction's chunk)
      const vr = verifier.rows as { model: string; op: string; gas: number; elementsRead: number; oneStepGas?: number }[];
      console.log(`${pad('model', 16)}${pad('op', 20)}${pad('reads', 14)}${pad('whole', 12)}played (target ≤ 200,000)`);
      for (const r of vr) {
        const played = r.oneStepGas ?? r.gas;
        console.log(`${pad(r.model, 16)}${pad(r.op, 20)}${pad(r.elementsRead, 14)}${pad(num(r.gas), 12)}${num(played)}${played > 200_000 ? '  OVER' : ''}`);
      }
    } else {
      console.log('\n(no bench/results/gas-verifier.json: run `npx tsx bench/gas-verifier.ts` for the per-op verifier table)');
    }
    const disputePath = join(import.meta.dirname, 'results', 'gas-dispute.json');
    const gameOnly = existsSync(disputePath)
      ? (JSON.parse(readFileSync(disputePath, 'utf8')) as { rows?: { model: string; site: string; levelsPerMove: number; op: string; elements: number; transactions: number; totalGas: number }[] }).rows ?? []
      : [];
    if (gameOnly.length > 0) {
      console.log('\nWhole disputes on the game alone, all shipped models (from bench/results/gas-dispute.json, bench/gas-dispute.ts)\n');
      for (const r of gameOnly) {
        console.log(`${pad(r.model, 16)}${pad(r.site, 10)}${pad(`s=${r.levelsPerMove}`, 5)}${pad(r.op, 20)}${pad(`${r.elements} el`, 10)}${pad(`${r.transactions} txs`, 9)}${num(r.totalGas)}`);
      }
    }
    const checks = {
      commitSingle: { gas: commitSingle, target: TARGETS.commitSingle, ok: commitSingle <= TARGETS.commitSingle },
      batchPerResult: { gas: batchPerResult, target: TARGETS.batchPerResult, ok: batchPerResult <= TARGETS.batchPerResult },
      batchPerResultWithAudits: { gas: batchPerResultAudited, target: TARGETS.batchPerResult, ok: batchPerResultAudited <= TARGETS.batchPerResult },
      wholeDispute: disputes.map((d) => ({ model: d.model, gas: d.total, target: TARGETS.wholeDispute, ok: d.withinTarget })),
    };
    for (const x of notMeasured) console.log(`not measured: ${x}`);
    console.log(`\ntargets: ${JSON.stringify(checks)}`);
    const dir = join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'gas.json'),
      JSON.stringify({ generatedBy: 'bench/gas.ts', rows, notMeasured, disputes, targets: checks, verifierPerOp: verifier?.rows ?? null, gameOnlyDisputes: gameOnly }, null, 2) + '\n',
    );
    console.log(`wrote ${join('bench', 'results', 'gas.json')}`);
  } finally {
    await p.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
