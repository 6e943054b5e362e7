/**
 * Batch routes of the node API (registered by buildApi in src/node/api.ts with one line). Batch tasks post and
 * commit only roots, so their element data is served here; whoever fetches it checks it against the chain
 * (src/node/batch.ts):
 *
 *   POST /batches                      submit a batch labeling job (requester nodes)
 *   GET  /batches/:inputRoot/inputs    the element inputs of a posted batch, by its input root (requester nodes)
 *   GET  /tasks/:id/inputs             the same, by request or task id
 *   GET  /tasks/:id/results            every element's outputHash and outputs: the worker's committed
 *                                      results, or a requester's verified ones (once finalized)
 *   GET  /tasks/:id/items/:i           one element: result, result proof, input digest and input proof (workers)
 *
 * Element traces are served by GET /traces/:root/tensors/:i (content-addressed) like single tasks'.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Hex } from 'viem';
import { z } from 'zod';
import type { TensorData } from '../engine/ir.js';
import { runModel } from '../engine/run.js';
import { inputTreeOf, resultTreeOf, batchInputsFromJson } from './batch.js';
import { tensorFromJson, tensorJsonSchema } from '../views/tensor.js';
import { HttpError } from './http-error.js';
import { modelIdOf, type VerityNode } from './node.js';
import { Requester } from './roles/requester.js';

const tensorSchema = tensorJsonSchema(1);

export const submitBatchSchema = z
  .object({
    model: z.string().min(1),
    rows: z.array(z.array(z.number())).min(2).max(4096).optional().describe('One float row per element, quantized by the node'),
    items: z.array(z.array(tensorSchema)).min(2).max(4096).optional().describe('Already quantized input tensors per element'),
    fee: z.string().regex(/^\d+$/, 'a decimal integer (wei)'),
    ttl: z.number().int().min(10).max(86_400).optional(),
    repost: z.boolean().optional().describe('Post the batch again if a challenger invalidates it (default: the node’s setting); false leaves it invalidated, for a poster that hires someone else'),
  })
  .refine((b) => (b.rows === undefined) !== (b.items === undefined), { message: 'give exactly one of "rows" (float rows) or "items" (tensors)' });

export async function registerBatchRoutes(app: FastifyInstance, node: VerityNode, opts: { minFee?: bigint } = {}): Promise<void> {
  const ctx = node.ctx;
  const minFee = opts.minFee ?? 10n ** 15n;

  app.post('/batches', { schema: { summary: 'Submit a batch labeling job (requester nodes): many inputs, one model, one fee' } }, async (req, reply) => {
    if (!(node.role instanceof Requester)) throw new HttpError(404, 'NotARequester', `This node is a ${node.role.name}; submit batches to a requester node.`);
    const r = submitBatchSchema.safeParse(req.body);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new HttpError(400, 'InvalidBody', `Invalid batch: ${i.path.length ? `"${i.path.join('.')}" ` : ''}${i.message}.`);
    }
    const body = r.data;
    const lm = ctx.engine.find(body.model);
    if (!lm) throw new HttpError(422, 'UnknownModel', `Unknown model "${body.model}".`);
    const fee = BigInt(body.fee);
    if (fee < minFee) throw new HttpError(422, 'FeeTooLow', `Fee ${fee} wei is below this node's minimum of ${minFee} wei.`);
    let items: TensorData[][];
    try {
      if (body.rows) {
        if (lm.model.inputs.length !== 1) throw new HttpError(422, 'InvalidInput', `Model ${lm.name} has ${lm.model.inputs.length} inputs; send "items" tensors.`);
        const expected = lm.model.tensors[lm.model.inputs[0]!]!.shape.reduce((a, b) => a * b, 1);
        const bad = body.rows.findIndex((row) => row.length !== expected || !row.every(Number.isFinite));
        if (bad >= 0) throw new HttpError(422, 'InvalidInput', `rows[${bad}] must be ${expected} finite numbers for model ${lm.name}.`);
        items = body.rows.map((row) => [ctx.engine.quantize(lm.root, row)]);
      } else {
        items = body.items!.map((ts) => ts.map(tensorFromJson));
      }
      for (const [i, inputs] of items.entries()) {
        try {
          runModel(lm.prepared, inputs);
        } catch (e) {
          throw new HttpError(422, 'InvalidInput', `items[${i}]: ${(e as Error).message.split('\n')[0]}`);
        }
      }
    } catch (e) {
      throw new HttpError(422, 'InvalidInput', (e as Error).message.split('\n')[0]!);
    }
    const modelId = await modelIdOf(ctx, lm.root);
    if (modelId === undefined) throw new HttpError(422, 'UnregisteredModel', `Model ${lm.name} (${lm.root}) is not registered on this chain.`);
    const id = node.role.submitBatch({ modelId, modelRoot: lm.root, items, fee, ttl: body.ttl, ...(body.repost === undefined ? {} : { repost: body.repost }) });
    node.poke();
    return reply.status(202).send({ id, status: 'posting', itemCount: items.length });
  });

  app.get<{ Params: { root: string } }>('/batches/:root/inputs', { schema: { summary: 'Element inputs of a posted batch (content-addressed by its input root)' } }, async (req, reply) => {
    const root = req.params.root.toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(root)) throw new HttpError(400, 'InvalidInputRoot', 'An input root is 0x followed by 64 hex digits.');
    const b = node.role instanceof Requester ? node.role.batchInputs(root) : undefined;
    if (!b) throw new HttpError(404, 'UnknownBatch', `No batch with input root ${root} on this node.`);
    return b;
  });

  app.get<{ Params: { id: string } }>('/tasks/:id/inputs', { schema: { summary: 'Element inputs of a batch this node posted' } }, async (req, reply) => {
    const t = ctx.store.findTask(req.params.id);
    const b = t?.inputRoot && node.role instanceof Requester ? node.role.batchInputs(t.inputRoot) : undefined;
    if (!b) throw new HttpError(404, 'UnknownBatch', `No batch "${req.params.id}" posted by this node.`);
    return b;
  });

  /** A worker's committed element results of task `id` (all of them), if this node committed it. */
  const committed = (id: string) => {
    const t = ctx.store.findTask(id);
    if (!t || t.itemCount < 2 || !t.resultRoot || t.worker?.toLowerCase() !== ctx.account.toLowerCase() || node.role.name !== 'worker') return undefined;
    if (!['committed', 'challenged', 'finalized', 'invalidated'].includes(t.status)) return undefined;
    const results = ctx.store.listResults(t.taskId);
    if (results.length !== t.itemCount) return undefined;
    return { t, items: results.map((r) => ({ index: r.idx, outputHash: r.outputHash as Hex, outputs: JSON.parse(r.outputs) as unknown[] })) };
  };

  app.get<{ Params: { id: string } }>('/tasks/:id/results', { schema: { summary: 'Element results of a batch: a worker’s committed ones, a requester’s verified ones' } }, async (req, reply) => {
    const c = committed(req.params.id);
    if (c) return { taskId: c.t.taskId, resultRoot: c.t.resultRoot, itemCount: c.t.itemCount, status: c.t.status, items: c.items };
    if (node.role instanceof Requester) {
      const v = node.role.view(req.params.id);
      if (v?.batch?.items) return { taskId: v.taskId, resultRoot: v.batch.resultRoot, itemCount: v.batch.itemCount, status: v.status, items: v.batch.items };
    }
    throw new HttpError(404, 'NoBatchResults', `No element results of "${req.params.id}" on this node.`);
  });

  app.get<{ Params: { id: string; i: string } }>('/tasks/:id/items/:i', { schema: { summary: 'One batch element with its result proof and input proof (workers)' } }, async (req, reply) => {
    const c = committed(req.params.id);
    if (!c) throw new HttpError(404, 'NoBatchResults', `No element results of "${req.params.id}" on this node.`);
    const i = Number(req.params.i);
    if (!Number.isInteger(i) || i < 0 || i >= c.t.itemCount) throw new HttpError(400, 'InvalidItemIndex', `The element index must be an integer in 0..${c.t.itemCount - 1}.`);
    const inputs = c.t.inputs ? inputTreeOf(batchInputsFromJson(c.t.inputs)) : undefined;
    return {
      taskId: c.t.taskId,
      ...c.items[i]!,
      resultRoot: c.t.resultRoot,
      resultProof: resultTreeOf(c.items).proof(i),
      ...(inputs ? { inputRoot: c.t.inputRoot, inputHash: inputs.inputHashes[i], inputProof: inputs.tree.proof(i) } : {}),
    };
  });
}
