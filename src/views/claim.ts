/**
 * The answer to GET /tasks/:id/claim (src/node/claims.ts serves it, src/web/ checks it): what the chain holds for a
 * single-element task. The node parses its answer with this schema; the page imports the type.
 */
import { z } from 'zod';
import { TASK_STATUS, type TaskStatusName } from '../chain/enums.js';
import { tensorJsonSchema } from './tensor.js';

// ── schemas (zod: the handler's answer is parsed with them, and they document the routes in /openapi.json) ───────

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/).describe('32 bytes, 0x-prefixed lowercase hex');
const txHash = hex32.describe('Transaction hash');

const tensorJson = tensorJsonSchema(0);

/** TaskMarket.TaskStatus in lower case, None left out (src/chain/enums.ts: from the contract). */
export const CLAIM_STATUSES = TASK_STATUS.filter((s) => s !== 'None').map((s) => s.toLowerCase()) as unknown as readonly [
  Lowercase<Exclude<TaskStatusName, 'None'>>,
  ...Lowercase<Exclude<TaskStatusName, 'None'>>[],
];

/** The claim (zod: the handler's answer is parsed with it, and it documents the route in /openapi.json). */
export const taskClaimSchema = z.object({
  taskId: z.string().regex(/^\d+$/).describe('Chain task id'),
  requestId: z.string().nullable().describe('This node’s own id for the task (a requester’s q-N), when it tracks it'),
  status: z.enum(CLAIM_STATUSES).describe('TaskMarket status now'),
  openDisputes: z.number().int().nonnegative(),
  requester: z.string(),
  model: z.object({
    id: z.string().regex(/^\d+$/).describe('ModelRegistry id'),
    root: hex32.describe('Registered model root'),
    name: z.string().nullable().describe('Name, when this node has the model loaded'),
    available: z.boolean().describe('This node serves the model bytes (GET /models/:root)'),
    url: z.string().nullable().describe('Path of the .vqm bytes on this node'),
  }),
  input: z.object({
    hash: hex32.describe('inputHash: keccak256(0x06 ‖ uint32 n ‖ tensorRoots)'),
    tensors: z.array(tensorJson).describe('The quantized input tensors from calldata (empty when only the commitment was posted)'),
    tx: txHash.nullable().describe('The post transaction'),
  }),
  commit: z
    .object({
      worker: z.string(),
      outputHash: hex32.describe('keccak256(0x07 ‖ uint32 n ‖ tensorRoots) of the outputs'),
      outputs: z.array(tensorJson).describe('The committed output tensors'),
      challengeDeadline: z.number().int().describe('Unix time (chain) the challenge window closes'),
      tx: txHash,
      block: z.number().int(),
    })
    .nullable()
    .describe('The ResultCommitted event (null: nothing committed yet)'),
});

export type TaskClaimView = z.infer<typeof taskClaimSchema>;
