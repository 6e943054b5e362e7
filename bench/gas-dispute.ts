/**
 * Gas of whole disputes on anvil with the REAL one-step verifier, per shipped model (wine-mlp, digits-convnet,
 * tiny-gpt): a claimant whose trace is wrong in one element of one op (recomputed honestly downstream) against an
 * honest challenger, played to the one-step re-execution. Two sites per model: `random` (op and element from a seeded
 * PRNG, as test/dispute/e2e.test.ts) and `heaviest` (the node/element whose one step reads the most proven elements).
 * For each: gas of every move, of the oneStep transaction, of computeElement alone, of the whole dispute, and the
 * number of transactions. Prints tables and writes bench/results/gas-dispute.json.
 * A reduction longer than DisputeGame.SUM_CHUNK terms ends in the partial-sum sub-game (openSums … sumStep,
 * docs/protocol.md §Partial sums): `oneStepGas` is then the sumStep transaction and `computeElementGas` the
 * verifier's computePartial alone (so do LayerNorm / Softmax rows longer than SUM_ARITY: tiny-gpt is also played at
 * its heaviest LayerNorm and Softmax elements). gpt-mid and mobile-net (../shared/models, when present) are played
 * at their heaviest site too, at levelsPerMove 2 and 4.
 *
 *   npx tsx bench/gas-dispute.ts              (levelsPerMove 2, the default deployment)
 *   LEVELS=1,2,4 npx tsx bench/gas-dispute.ts
 *
 * bench/gas.ts may import { measureDisputes } (returns the rows; starts and stops its own anvil).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { haveShared, MODEL_NAMES, sharedData, sharedQuantized, type ModelName, type SharedModelName } from '../test/onnx/models.js';
import { heaviestSite, honestTrace, lyingTrace, Outcome, playDispute, prng, quantized, randomSite, startEnv, txBound } from '../test/dispute/e2e-harness.js';
import type { QModel, Trace } from '../src/engine/ir.js';

export const SEED = 0x5eed;

export interface DisputeRow {
  model: string;
  /** Terms of the disputed element's accumulator when the partial-sum sub-game was played. */
  sumTerms?: number;
  site: 'random' | 'heaviest' | 'LayerNorm' | 'Softmax';
  levelsPerMove: number;
  nodeIndex: number;
  op: string;
  tensorId: number;
  elements: number;
  elementIndex: number;
  outcome: 'ClaimantWon' | 'ChallengerWon';
  transactions: number;
  txBound: number;
  moves: { move: string; side: string; gas: number }[];
  oneStepGas: number;
  computeElementGas: number;
  totalGas: number;
}

/** Plays the disputes (one anvil for all) and returns one row per (model, site, levelsPerMove). */
export async function measureDisputes(opts: { models?: readonly ModelName[]; levels?: readonly number[]; seed?: number } = {}): Promise<DisputeRow[]> {
  const env = await startEnv();
  const rows: DisputeRow[] = [];
  try {
    const list: { name: string; model: QModel; honest: Trace; sites: DisputeRow['site'][]; levels?: number[] }[] = (opts.models ?? MODEL_NAMES).map((name) => {
      const model = quantized(name);
      const rowSites: DisputeRow['site'][] = model.nodes.some((n) => n.op === 'LayerNorm' || n.op === 'Softmax') ? ['LayerNorm', 'Softmax'] : [];
      return { name, model, honest: honestTrace(model, name), sites: ['random', 'heaviest', ...rowSites.filter((op) => model.nodes.some((n) => n.op === op))] };
    });
    // ../shared/models, when present: gpt-mid and mobile-net at their heaviest site, also at levelsPerMove 4 (gpt-mid's
    // 9216-element tensor takes 5 bisection rounds at 2, 3 at 4)
    const shared: SharedModelName[] = opts.models ? [] : ['gpt-mid', 'mobile-net'];
    for (const name of shared.filter(haveShared)) {
      const model = sharedQuantized(name);
      list.push({ name, model, honest: honestTrace(model, sharedData(name)), sites: ['heaviest'], levels: [...new Set([...(opts.levels ?? [2]), 4])] });
    }
    for (const { name, model, honest, sites: which, levels } of list) {
      const all = {
        random: () => randomSite(model, prng(opts.seed ?? SEED)),
        heaviest: () => heaviestSite(model, honest),
        LayerNorm: () => heaviestSite(model, honest, 'LayerNorm'),
        Softmax: () => heaviestSite(model, honest, 'Softmax'),
      };
      const sites = Object.fromEntries(which.map((w) => [w, all[w]()]));
      for (const [site, { nodeIndex, element }] of Object.entries(sites) as [DisputeRow['site'], { nodeIndex: number; element: number }][]) {
        const bad = lyingTrace(model, honest, nodeIndex, element);
        for (const s of levels ?? opts.levels ?? [2]) {
          const r = await playDispute(env, model, bad, honest, { levelsPerMove: s });
          if (r.outcome !== Outcome.ChallengerWon) throw new Error(`${name} ${site}: the lying claimant did not lose`);
          const oneStep = r.moves.find((m) => m.move === 'oneStep' || m.move === 'sumStep');
          rows.push({
            model: name,
            site,
            levelsPerMove: s,
            nodeIndex,
            op: model.nodes[nodeIndex]!.op,
            tensorId: r.tensorId!,
            elements: r.numElements!,
            elementIndex: r.elementIndex!,
            outcome: 'ChallengerWon',
            transactions: r.moves.length,
            txBound: Math.floor(txBound(r.numElements!, r.sums?.terms)),
            ...(r.sums ? { sumTerms: r.sums.terms } : {}),
            moves: r.moves.map((m) => ({ move: m.move, side: m.side, gas: Number(m.gasUsed) })),
            oneStepGas: Number(oneStep?.gasUsed ?? 0n),
            computeElementGas: Number(r.computeElementGas ?? r.sums?.computePartialGas ?? 0n),
            totalGas: Number(r.gas),
          });
        }
      }
    }
  } finally {
    await env.stop();
  }
  return rows;
}

/** Per-row table: one line per dispute with its moves' gas. */
export function formatDisputeRows(rows: readonly DisputeRow[]): string {
  const pad = (v: string | number, n: number): string => String(v).padEnd(n);
  const lines = [`${pad('model', 16)}${pad('site', 10)}${pad('s', 3)}${pad('node/op', 22)}${pad('elements', 10)}${pad('txs', 9)}${pad('oneStep', 10)}${pad('verify', 10)}total`];
  for (const r of rows) {
    lines.push(
      `${pad(r.model, 16)}${pad(r.site, 10)}${pad(r.levelsPerMove, 3)}${pad(`${r.nodeIndex} ${r.op}`, 22)}${pad(r.elements, 10)}${pad(`${r.transactions}/${r.txBound}`, 9)}${pad(r.oneStepGas, 10)}${pad(r.computeElementGas, 10)}${r.totalGas}`,
    );
    lines.push('    ' + r.moves.map((m) => `${m.move} ${m.gas}`).join(', '));
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const levels = (process.env.LEVELS ?? '2').split(',').map(Number);
  const rows = await measureDisputes({ levels });
  console.log(formatDisputeRows(rows));
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gas-dispute.json'), JSON.stringify({ generatedBy: 'bench/gas-dispute.ts', seed: SEED, rows }, null, 2) + '\n');
  console.log(`wrote ${join('bench', 'results', 'gas-dispute.json')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
