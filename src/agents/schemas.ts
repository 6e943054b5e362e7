/**
 * The zod schemas the agent front-ends share: a verified inference request (MCP's `verified_infer` input, A2A's
 * message data part) over the one tensor schema of src/views/tensor.ts (the node API validates with the same).
 */
import { z } from 'zod';
import { tensorJsonSchema } from '../views/tensor.js';

/** A quantized input tensor as a request carries it (rank ≥ 1). */
export const requestTensorSchema = tensorJsonSchema(1);

/** The fields of a verified inference request (a raw shape: MCP's registerTool takes it as its inputSchema). */
export const inferRequestShape = {
  model: z.string().min(1).describe('Model name (see list_models) or modelRoot (0x…)'),
  input: z.array(z.number()).optional().describe('One input row (floats; integer ids for id-input models)'),
  inputs: z.array(requestTensorSchema).optional().describe('Already quantized input tensors, in model order'),
  fee: z.string().regex(/^\d+$/).optional().describe('Fee in VRT wei (decimal)'),
};

export const inferRequestSchema = z.object(inferRequestShape);
