/**
 * The contracts' enums, from one source: scripts/compile.ts reads them from the solc AST into
 * src/chain/artifacts/enums.ts (checked by `compile --check`), so a reordered or renamed member changes the names
 * and codes here and every use of them, instead of silently disagreeing with a hand-kept mirror.
 */
import { SOLIDITY_ENUMS } from './artifacts/enums.js';

type Codes<names extends readonly string[]> = { readonly [i in keyof names as i extends `${number}` ? names[i] : never]: i extends `${infer n extends number}` ? n : never };

/** `{ Name: code }` for an enum's member list (a member's code is its index). */
function codes<const names extends readonly string[]>(names: names): Codes<names> {
  return Object.fromEntries(names.map((n, i) => [n, i])) as unknown as Codes<names>;
}

/** TaskMarket.TaskStatus member names, by code. */
export const TASK_STATUS = SOLIDITY_ENUMS['TaskMarket.TaskStatus'];
export type TaskStatusName = (typeof TASK_STATUS)[number];
/** TaskMarket.TaskStatus codes: `TaskStatus.Finalized`. */
export const TaskStatus = codes(TASK_STATUS);

/** DisputeGame.Phase names and codes. */
export const PHASES = SOLIDITY_ENUMS['DisputeGame.Phase'];
export const Phase = codes(PHASES);
export type PhaseCode = (typeof Phase)[keyof typeof Phase];

/** IDisputeResolver.Outcome names and codes: `Outcome.ChallengerWon`. */
export const OUTCOMES = SOLIDITY_ENUMS['IDisputeResolver.Outcome'];
export const Outcome = codes(OUTCOMES);
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

/** DisputeGame.Reason names (why a game was decided). */
export const REASONS = SOLIDITY_ENUMS['DisputeGame.Reason'];
export const Reason = codes(REASONS);

/** The name of a task status code (a code outside the enum is a contract newer than this build: 'None'). */
export function taskStatusName(code: number): TaskStatusName {
  return TASK_STATUS[code] ?? 'None';
}

/** 'ChallengerWon' → 'challenger won', 'TraceLength' → 'trace length': an enum member as words. */
export function words(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
