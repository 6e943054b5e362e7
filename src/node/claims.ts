/**
 * What a browser tab needs to check a committed result of the network against its own re-execution, served by the
 * local node (same origin as the page, so no CORS; registered by src/node/api.ts):
 *
 *   GET /tasks/:id/claim      what the chain holds for a task: model id and root, the input tensors (InputPublished),
 *                             the committed outputs, output digest and trace root (ResultCommitted), status, txs
 *   GET /models/:root         the quantized model's .vqm bytes, for a model root this node has loaded
 *   GET /app                  the run-and-check page (src/web/app.ts, prebuilt by `npm run build:web`);
 *                             /app?task=<id> checks that task (the page's `node` defaults to this origin)
 *
 * The claim is read from the chain, not from this node's store (the store only maps a requester's own request id,
 * q-N, to its chain task id and gives the post block to start the log scan), so any node — requester, verifier,
 * worker — can serve it for any single-element task. The page trusts none of it blindly: it checks that the model
 * bytes hash to the model root, the inputs to the on-chain input digest, and the outputs to the committed digest.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Hex } from 'viem';
import { z } from 'zod';
import { taskMarketAbi } from '../chain/artifacts/index.js';
import { encodeModel } from '../engine/format.js';
import { modelRootOf, readTask, tensorFromArg, type NodeContext } from './context.js';
import { CLAIM_STATUSES, taskClaimSchema, type TaskClaimView } from '../views/claim.js';
import { tensorToJson } from '../views/tensor.js';
import { HttpError } from './http-error.js';
import type { VerityNode } from './node.js';
import { DEFAULT_WEB_ROOT, pageAssets, type PageAssets } from './pages.js';

// ── schemas: src/views/claim.ts (shared with the page) ──────────────────────────────────────────────────────────


// ── reading the chain ─────────────────────────────────────────────────────────────────────────────────────────────

type TensorArgLog = { dtype: number; shape: readonly number[]; data: Hex };

/** What the chain holds for task `id` (a chain task id, or this node's own request id). */
export async function readClaim(ctx: NodeContext, id: string): Promise<TaskClaimView> {
  const row = ctx.store.findTask(id);
  const chainId = row?.chainTaskId ?? (/^\d+$/.test(id) ? id : null);
  if (chainId === null) {
    const posting = row ? ` (request ${id} is not on chain yet: ${row.status})` : '';
    throw new HttpError(404, 'UnknownTask', `No task "${id}" on chain${posting}.`);
  }
  const taskId = BigInt(chainId);
  const t = await readTask(ctx, taskId);
  if (t.status === 'None') throw new HttpError(404, 'UnknownTask', `No task ${chainId} on chain.`);
  if (t.itemCount > 1) throw new HttpError(422, 'BatchTask', `Task ${chainId} is a batch of ${t.itemCount} elements committed under one results root; a claim covers a single-element task.`);
  // Start the scan at the post block when this node saw the post (its receipt), else at genesis.
  let fromBlock = 0n;
  const postTx = row?.txs?.post as Hex | undefined;
  if (postTx) {
    const r = await ctx.publicClient.getTransactionReceipt({ hash: postTx }).catch(() => undefined);
    if (r) fromBlock = r.blockNumber;
  }
  const market = { address: ctx.addresses.taskMarket, abi: taskMarketAbi, args: { taskId }, fromBlock, strict: true } as const;
  const [inputsLogs, commitLogs, modelRoot] = await Promise.all([
    ctx.publicClient.getContractEvents({ ...market, eventName: 'InputPublished' }),
    ctx.publicClient.getContractEvents({ ...market, eventName: 'ResultCommitted' }),
    modelRootOf(ctx, t.modelId),
  ]);
  const inp = inputsLogs.at(-1);
  const c = commitLogs.at(-1);
  const root = modelRoot.toLowerCase();
  const lm = ctx.engine.has(root) ? ctx.engine.loadModel(root) : undefined;
  const status = t.status.toLowerCase() as (typeof CLAIM_STATUSES)[number];
  const claim = {
    taskId: chainId,
    requestId: row && row.taskId !== chainId ? row.taskId : null,
    status,
    openDisputes: Number(t.openDisputes),
    requester: t.requester.toLowerCase(),
    model: { id: String(t.modelId), root, name: lm?.name ?? null, available: !!lm, url: lm ? `/models/${root}` : null },
    input: {
      hash: (inp?.args.inputHash ?? '0x' + '0'.repeat(64)).toLowerCase(),
      tensors: (inp?.args.inputs ?? []).map((x) => tensorToJson(tensorFromArg(x as TensorArgLog))),
      tx: postTx?.toLowerCase() ?? inp?.transactionHash.toLowerCase() ?? null,
    },
    commit: c
      ? {
          worker: c.args.worker.toLowerCase(),
          outputHash: c.args.outputHash.toLowerCase(),
          outputs: c.args.outputs.map((x) => tensorToJson(tensorFromArg(x as TensorArgLog))),
          challengeDeadline: Number(c.args.challengeDeadline),
          tx: c.transactionHash.toLowerCase(),
          block: Number(c.blockNumber),
        }
      : null,
  };
  const parsed = taskClaimSchema.safeParse(claim);
  if (!parsed.success) throw new HttpError(502, 'BadChainData', `The chain's record of task ${chainId} does not fit the claim schema: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

// ── the page's assets ─────────────────────────────────────────────────────────────────────────────────────────────

let appPage: { root: string; page: Promise<PageAssets> } | undefined;

/** The prebuilt page (src/node/pages.ts), with a <base> so its relative URLs (app.js, style.css,
 *  models/index.json) resolve under /app/ when it is served at /app. */
export function appAssets(root: string = DEFAULT_WEB_ROOT): Promise<PageAssets> {
  if (appPage?.root !== root) {
    const page = pageAssets('app', root).then((a) => ({ ...a, html: a.html.replace(/<head>/i, '<head>\n  <base href="/app/">') }));
    page.catch(() => (appPage = undefined));
    appPage = { root, page };
  }
  return appPage.page;
}

// ── routes ────────────────────────────────────────────────────────────────────────────────────────────────────────

export interface ClaimsRouteOptions {
  json: (schema: z.ZodType) => Record<string, unknown>;
  errorSchema: z.ZodType;
  /** Where the prebuilt page is (default dist/web). */
  webRoot?: string;
}

/** Registers GET /tasks/:id/claim, GET /models/:root and the /app page on the node's API. */
export async function registerClaims(app: FastifyInstance, node: VerityNode, o: ClaimsRouteOptions): Promise<void> {
  const ctx = node.ctx;
  const vqm = new Map<string, Buffer>();
  await app.register(async (scope) => {
    // Plain JSON.stringify: the documented response schema must not silently reshape what the handler returns.
    scope.setSerializerCompiler(() => (data) => JSON.stringify(data));

    scope.get<{ Params: { id: string } }>(
      '/tasks/:id/claim',
      {
        schema: {
          summary: 'What the chain holds for a single-element task: model id and root, input tensors, committed outputs and trace root, status, txs (for a re-execution in a browser tab)',
          params: { type: 'object', properties: { id: { type: 'string', description: 'Chain task id, or this node’s request id (q-N)' } }, required: ['id'] },
          response: { 200: o.json(taskClaimSchema), 400: o.json(o.errorSchema), 404: o.json(o.errorSchema), 422: o.json(o.errorSchema) },
        },
      },
      async (req) => {
        const id = req.params.id;
        if (!/^(\d{1,30}|[A-Za-z][\w-]{0,63})$/.test(id)) throw new HttpError(400, 'InvalidTaskId', 'A task id is a chain task id (decimal) or a request id such as q-1.');
        return readClaim(ctx, id);
      },
    );

    scope.get<{ Params: { root: string } }>(
      '/models/:root',
      {
        schema: {
          summary: 'The quantized model (.vqm bytes) for a model root this node has loaded; its modelRoot is the root asked for',
          params: { type: 'object', properties: { root: { type: 'string', description: 'Model root, 0x + 64 hex digits' } }, required: ['root'] },
          produces: ['application/octet-stream'],
          response: { 200: { type: 'string', format: 'binary', description: 'The .vqm bytes' }, 400: o.json(o.errorSchema), 404: o.json(o.errorSchema) },
        },
      },
      async (req, reply) => {
        const root = req.params.root.toLowerCase();
        if (!/^0x[0-9a-f]{64}$/.test(root)) throw new HttpError(400, 'InvalidModelRoot', 'A model root is 0x followed by 64 hex digits.');
        if (!ctx.engine.has(root)) throw new HttpError(404, 'UnknownModel', `Model ${root} is not loaded on this node (loaded: ${ctx.engine.modelRoots().join(', ') || 'none'}).`);
        let bytes = vqm.get(root);
        if (!bytes) {
          bytes = Buffer.from(encodeModel(ctx.engine.loadModel(root).model));
          vqm.set(root, bytes);
        }
        // Content-addressed: the bytes for a root never change.
        return reply.type('application/octet-stream').header('cache-control', 'public, max-age=31536000, immutable').header('x-verity-model-root', root).send(bytes);
      },
    );

    const page = (type: string, pick: (a: PageAssets) => string) => async (_req: unknown, reply: FastifyReply) =>
      reply.type(type).header('cache-control', 'no-cache').send(pick(await appAssets(o.webRoot)));
    const html = page('text/html; charset=utf-8', (a) => a.html);
    scope.get('/app', { schema: { summary: 'The run-and-check page (HTML): ?task=<id> re-executes a committed task in the tab and shows match or mismatch', produces: ['text/html'] } }, html);
    scope.get('/app/', { schema: { hide: true } }, html);
    scope.get('/app/app.js', { schema: { hide: true } }, page('text/javascript; charset=utf-8', (a) => a.js));
    scope.get('/app/style.css', { schema: { hide: true } }, page('text/css; charset=utf-8', (a) => a.css));
    // The page's model list: what this node has loaded (an all-zero example row each).
    scope.get('/app/models/index.json', { schema: { hide: true } }, async () =>
      ctx.engine.modelRoots().map((r) => {
        const lm = ctx.engine.loadModel(r);
        const t = lm.model.tensors[lm.model.inputs[0]!]!;
        return { name: lm.name, file: `/models/${r.toLowerCase()}`, modelRoot: r.toLowerCase(), example: new Array<number>(t.shape.reduce((a, b) => a * b, 1)).fill(0) };
      }),
    );
  });
}
