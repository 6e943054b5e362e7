/**
 * The answer to GET /network (src/node/dashboard.ts serves it, src/web/dashboard.ts draws it): agents, tasks,
 * disputes with their moves, series. The node documents and checks with these schemas; the page imports the types.
 */
import { z } from 'zod';
import { OUTCOMES, words } from '../chain/enums.js';
import { CLAIM_STATUSES } from './claim.js';

/** IDisputeResolver.Outcome as words: 'pending', 'claimant won', 'challenger won'. */
export const OUTCOME_WORDS = OUTCOMES.map(words) as unknown as readonly [string, ...string[]];

// ── response schemas (zod; the same schemas document /network in the OpenAPI document) ─────────────────────────

const uint = z.string().regex(/^\d+$/).describe('A non-negative integer as a decimal string (wei, gas)');

export const agentViewSchema = z.object({
  address: z.string(),
  agentId: z.string().nullable().describe('ERC-8004 agent id (registered agents only)'),
  uri: z.string().nullable(),
  role: z.enum(['worker', 'verifier', 'requester', 'agent']).describe('From the agent URI, else from what the account did'),
  staked: uint,
  locked: uint,
  claimable: uint,
  reputation: z.object({ count: z.number().int(), value: z.number() }).nullable().describe('ReputationRegistry.getSummary average (null: not registered)'),
  tasksCommitted: z.number().int(),
  tasksFinalized: z.number().int(),
  tasksPosted: z.number().int(),
  challenges: z.number().int(),
  disputesWon: z.number().int(),
  disputesLost: z.number().int(),
  earned: uint.describe('Worker payouts of finalized tasks'),
  slashed: uint.describe('Stake slashed for invalidated tasks'),
});

/** A task's state on the dashboard: TaskMarket.TaskStatus in lower case (None left out), plus `challenged` (committed
 *  with an open dispute). */
export const TASK_STATES = [...CLAIM_STATUSES, 'challenged'] as const;

export const taskViewSchema = z.object({
  taskId: z.string(),
  modelId: z.string(),
  requester: z.string(),
  worker: z.string().nullable(),
  fee: uint,
  items: z.number().int(),
  state: z.enum(TASK_STATES),
  outputHash: z.string().nullable().describe('The committed output digest (single tasks; no trace root is committed)'),
  postedAt: z.number().int().describe('Unix time (chain) of the post'),
  updatedAt: z.number().int(),
  txs: z.record(z.string(), z.string()).describe('Transaction hash by step: post, claim, commit, challenge, finalize, invalidate, cancel'),
  disputes: z.array(z.string()),
});

export const moveViewSchema = z.object({
  move: z.string().describe('challenge, reveal roots, pick tensor, open tensor, reveal children, pick child, one-step check, resolved, settle, slash'),
  by: z.string().describe('Sender of the transaction'),
  side: z.enum(['claimant', 'challenger', 'other']),
  detail: z.string(),
  tx: z.string(),
  gas: uint.nullable().describe('Gas used by the transaction (null: same transaction as the previous move)'),
  block: z.number().int(),
  at: z.number().int(),
});

export const disputeViewSchema = z.object({
  disputeId: z.string(),
  taskId: z.string(),
  gameId: z.string(),
  index: z.number().int(),
  claimant: z.string().nullable(),
  challenger: z.string(),
  state: z.enum(['playing', 'resolved', 'settled']),
  outcome: z.enum(OUTCOME_WORDS),
  reason: z.string().nullable(),
  gas: uint.describe('Total gas of the dispute’s transactions'),
  openedAt: z.number().int(),
  moves: z.array(moveViewSchema),
});

export const pointSchema = z.object({
  t: z.number().int().describe('Start of the interval, unix seconds (chain time)'),
  gas: z.number().describe('Gas used by protocol transactions in the interval'),
  txs: z.number().int(),
  posted: z.number().int(),
  finalized: z.number().int(),
  disputes: z.number().int(),
});

export const networkViewSchema = z.object({
  at: z.string().describe('ISO time of the snapshot'),
  node: z.object({ role: z.string(), account: z.string() }),
  chain: z.object({ chainId: z.number().int(), block: z.number().int(), time: z.number().int() }),
  totals: z.object({
    agents: z.number().int(),
    tasks: z.number().int(),
    finalized: z.number().int(),
    invalidated: z.number().int(),
    disputes: z.number().int(),
    disputesOpen: z.number().int(),
    txs: z.number().int(),
    gas: uint,
    slashed: uint,
  }),
  taskStates: z.record(z.string(), z.number().int()),
  agents: z.array(agentViewSchema),
  tasks: z.array(taskViewSchema).describe('Most recent first'),
  disputes: z.array(disputeViewSchema).describe('Most recent first'),
  series: z.object({ bucketSeconds: z.number().int(), points: z.array(pointSchema) }),
});

export const networkQuerySchema = z.object({
  tasks: z.coerce.number().int().min(1).max(1000).default(60).describe('How many recent tasks to return'),
  disputes: z.coerce.number().int().min(1).max(200).default(30).describe('How many recent disputes to return'),
  bucket: z.coerce.number().int().min(1).max(3600).default(5).describe('Width of a chart interval, seconds of chain time'),
  points: z.coerce.number().int().min(2).max(2000).default(120).describe('At most this many intervals (the most recent)'),
});

export type AgentView = z.infer<typeof agentViewSchema>;
export type TaskView = z.infer<typeof taskViewSchema>;
export type MoveView = z.infer<typeof moveViewSchema>;
export type DisputeView = z.infer<typeof disputeViewSchema>;
export type SeriesPoint = z.infer<typeof pointSchema>;
export type NetworkView = z.infer<typeof networkViewSchema>;
export type NetworkQuery = z.infer<typeof networkQuerySchema>;

