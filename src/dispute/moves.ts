/**
 * The dispute game's move table (docs/protocol.md §Dispute game): for each phase, whose turn it is and the move that
 * side plays. DisputeClient.playMove dispatches on it; DisputeClient.playClaimant / playChallenger (tests, benches,
 * agents) and the node's DisputeMachine (src/node/dispute-fsm.ts) both play through playMove, so a fix here reaches
 * every path. Phase and Outcome are DisputeGame.Phase and IDisputeResolver.Outcome as scripts/compile.ts reads them
 * from the contracts (src/chain/enums.ts).
 */

import { OP_TYPES, type OpType } from '../engine/ir.js';
import { Outcome, Phase, type PhaseCode } from '../chain/enums.js';

/** Game phases (DisputeGame.Phase) and outcomes (IDisputeResolver.Outcome), generated from the contracts. */
export { Outcome, Phase, type OutcomeCode, type PhaseCode } from '../chain/enums.js';

export type Side = 'claimant' | 'challenger';
export type MoveName =
  | 'revealRoots'
  | 'revealTensor'
  | 'bisect'
  | 'disputeTensor'
  | 'pick'
  | 'oneStep'
  | 'revealSumTotal'
  | 'revealSums'
  | 'pickSum'
  | 'sumStep';

/**
 * Phase → the side that moves and its move. Phases absent here (None, Resolved) have no mover. In AwaitOneStep the
 * challenger's move re-executes the element whole, or — when {@link opensSums} says so — plays `openSums` instead,
 * which starts the partial-sum sub-game (the last four phases, docs/protocol.md §Partial sums).
 */
export const MOVE_TABLE: Readonly<Partial<Record<PhaseCode, { side: Side; move: MoveName }>>> = {
  [Phase.AwaitRoots]: { side: 'claimant', move: 'revealRoots' },
  [Phase.AwaitTensor]: { side: 'challenger', move: 'disputeTensor' },
  [Phase.AwaitTensorData]: { side: 'claimant', move: 'revealTensor' },
  [Phase.AwaitPick]: { side: 'challenger', move: 'pick' },
  [Phase.AwaitChildren]: { side: 'claimant', move: 'bisect' },
  [Phase.AwaitOneStep]: { side: 'challenger', move: 'oneStep' },
  [Phase.AwaitSumTotal]: { side: 'claimant', move: 'revealSumTotal' },
  [Phase.AwaitSums]: { side: 'claimant', move: 'revealSums' },
  [Phase.AwaitSumPick]: { side: 'challenger', move: 'pickSum' },
  [Phase.AwaitSumStep]: { side: 'challenger', move: 'sumStep' },
};

/** Whose turn it is in `phase` (undefined: nobody's, the game is not running). */
export function moverOf(phase: number): Side | undefined {
  return MOVE_TABLE[phase as PhaseCode]?.side;
}

/** The move `side` plays in `phase`, or undefined if it is not that side's turn. */
export function nextMove(phase: number, side: Side): MoveName | undefined {
  const m = MOVE_TABLE[phase as PhaseCode];
  return m && m.side === side ? m.move : undefined;
}

/** The side an outcome names as winner (undefined while pending). */
export function winnerOf(outcome: number): Side | undefined {
  return outcome === Outcome.ClaimantWon ? 'claimant' : outcome === Outcome.ChallengerWon ? 'challenger' : undefined;
}

/** Convolutions: each tap of a window sits in another word (NHWC), so even a short window's whole step is costly. */
const WINDOW_OPS: readonly OpType[] = ['Conv', 'ConvInteger', 'QLinearConv'];

/**
 * Whether the challenger's AwaitOneStep move on an element of op `op` (its code or name) whose accumulator has `terms`
 * terms (undefined: no partial sums) is `openSums` rather than a whole re-execution: a reduction longer than one part
 * (`arity` = DisputeGame.SUM_ARITY), or a Conv element of more than one term. The sub-game's last step re-adds
 * one part of ≤ ceil(terms / SUM_ARITY) terms (≤ SUM_CHUNK): it stays under 200k gas where the whole step does not —
 * a 3×3 Conv's taps each in another word (mobile-net depthwise whole 324k, digits 224k), K = 48 dot products (203k–
 * 233k), rows of 32–48 (≈ 200k); a dot product or row of ≤ 20 terms is cheaper whole (≤ 165k) and plays oneStep.
 * The contract admits either move on a reducible op (the claimant cannot choose; both re-execute the committed
 * computation, so an honest claimant wins both): this is the honest challenger's rule. Where the sub-game ends is the
 * contract's (DisputeGame._acceptPoints: parts of ≤ SUM_CHUNK terms), not a party's.
 */
export function opensSums(op: number | OpType, terms: number | undefined, consts: { arity: number }): boolean {
  if (terms === undefined || terms <= 1) return false;
  const name = typeof op === 'number' ? OP_TYPES[op] : op;
  return terms > consts.arity || (name !== undefined && WINDOW_OPS.includes(name));
}
