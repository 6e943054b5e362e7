/** The bounds every anvil e2e dispute is held to and the row it prints (test/dispute/e2e.test.ts, e2e-shared.test.ts). */
import { expect } from 'vitest';
import { Outcome, txBound, type DisputeResult } from './e2e-harness.js';

/** Whole-dispute gas target (docs/protocol.md §Measured). */
export const MAX_GAS = 1_500_000n;

/** Transactions and gas of a dispute the game does not record (a market's challenge that opened it), and its gas bound. */
export interface Outside {
  txs: number;
  gas: bigint;
  max: bigint;
}

/** One printed line: scenario, transactions, gas, the disputed tensor / element, the verifier alone, every move's gas. */
export function row(scenario: string, r: DisputeResult, extra = ''): string {
  const where = r.tensorId === undefined ? '-' : `t${r.tensorId} (${r.numElements} el.)${r.elementIndex === undefined ? '' : ` e${r.elementIndex}`}`;
  const verify = r.computeElementGas !== undefined ? `computeElement ${r.computeElementGas}: ` : '';
  const moves = r.moves.map((m) => `${m.move} ${m.gasUsed}`).join(', ');
  return `  ${scenario.padEnd(34)} ${String(r.moves.length).padEnd(4)} ${String(r.gas).padEnd(9)} ${where.padEnd(24)} ${extra}${verify}${moves}`;
}

/** The header of the rows {@link row} prints. */
export const ROW_HEADER = `  ${'scenario'.padEnd(34)} txs  gas       disputed                 moves (gas each)`;

/**
 * ≤ 2·log2(elements) + 3 (+ 2·sumRounds) transactions and ≤ MAX_GAS (or `outside.max`, counting `outside`'s
 * transactions and gas too); the last re-execution of the partial-sum sub-game adds at most SUM_CHUNK terms.
 */
export function checkBounds(r: DisputeResult, outside: Outside = { txs: 0, gas: 0n, max: MAX_GAS }): void {
  expect(r.gas + outside.gas).toBeLessThanOrEqual(outside.max);
  const txs = r.moves.length + outside.txs;
  if (r.numElements !== undefined) expect(txs).toBeLessThanOrEqual(txBound(r.numElements, r.sums?.terms));
  else expect(txs).toBeLessThanOrEqual(3); // open + (revealRoots) + timeout
  // the last re-execution is constant-cost: one chunk of at most SUM_CHUNK terms, whatever the reduction's length
  if (r.sums?.to !== undefined) expect(r.sums.to - r.sums.from!).toBeLessThanOrEqual(39);
}

/** The silent side lost on time: `winner` won and called timeout last; the bounds hold. */
export function expectTimedOut(r: DisputeResult, winner: 'claimant' | 'challenger', outside?: Outside): void {
  expect(r.outcome).toBe(winner === 'claimant' ? Outcome.ClaimantWon : Outcome.ChallengerWon);
  expect(r.moves.at(-1)).toMatchObject({ move: 'timeout', side: winner });
  checkBounds(r, outside);
}
