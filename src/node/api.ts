/**
 * The node's HTTP API (fastify): bodies validated with zod (the same schemas, as JSON Schema, make the OpenAPI
 * document served at /openapi.json). Every error is JSON `{ error, message, details? }` with a 4xx status naming
 * what was wrong; a rejected request stores nothing.
 *
 *   POST /tasks                      submit a task (requester nodes)
 *   GET  /tasks/:id                  status, verified result (finalized only), output digest, transaction hashes, chain time
 *   POST /tasks/:id/cancel           cancel a task no worker claimed yet (requester nodes; sent by the node's loop)
 *   POST /run                        run a model unverified: a worker's quote (nothing committed)
 *   GET  /models                     loaded models with their registry ids and shapes (bytes at /models/:root)
 *   GET  /traces/:root/tensors/:i    one tensor of a trace under an open dispute (recomputed; 404 otherwise)
 *   GET  /disputes, /disputes/:id    tracked disputes
 *   GET  /agents                     registered agents with stake
 *   GET  /health                     liveness and chain head
 *   GET  /metrics                    Prometheus text format
 *   GET  /network                    the whole network from the chain: agents, tasks, disputes with moves, gas series
 *   GET  /dashboard                  the live dashboard page (polls /network; src/node/dashboard.ts)
 */
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { bytesToHex } from 'viem';
import { identityRegistryAbi, stakingAbi, taskMarketAbi } from '../chain/artifacts/index.js';
import { tensorRoot } from '../commit/index.js';
import { BaseError } from '../errors.js';
import { runModel } from '../engine/run.js';
import { inputRows } from '../onnx/inputs.js';
import { quantizeInput } from '../onnx/io.js';
import type { TensorData } from '../engine/ir.js';
import { tensorJsonSchema } from '../views/tensor.js';
import { registerDashboard } from './dashboard.js';
import { HttpError } from './http-error.js';
import { PageMissingError } from './pages.js';
import { tensorFromJson, tensorToJson } from './engine-provider.js';
import { traceFor, TraceUnavailableError } from './traces.js';
import { chainNow } from './context.js';
import { modelIdOf, type VerityNode } from './node.js';
import { Requester, viewOf } from './roles/requester.js';
import { registerBatchRoutes } from './api-batch.js';

const E18 = 10n ** 18n;

const tensorSchema = tensorJsonSchema(1);

export const submitSchema = z
  .object({
    model: z.string().min(1).describe('Model name (as loaded on this node) or modelRoot (0x…)'),
    input: z
      .union([z.array(z.number()), z.array(z.array(z.number())), z.record(z.string(), z.array(z.number()))])
      .optional()
      .describe('Float inputs, quantized by the node with the model’s input scales: one row (several inputs back to back), one row per graph input in order, or an object keyed by input name'),
    inputs: z.array(tensorSchema).optional().describe('Already quantized input tensors, in model order'),
    fee: z.string().regex(/^\d+$/, 'a decimal integer (wei)').describe('Fee in VRT wei'),
    ttl: z.number().int().min(10).max(86_400).optional().describe('Seconds a worker has to commit (default 600)'),
  })
  .refine((b) => (b.input === undefined) !== (b.inputs === undefined), { message: 'give exactly one of "input" (float row) or "inputs" (tensors)' });

/** POST /run: one element's quantized inputs (a quote; unverified). */
export const runSchema = z.object({ model: z.string().min(1), inputs: z.array(tensorSchema).min(1) });

const errorSchema = z.object({ error: z.string(), message: z.string(), details: z.string().optional() });

function json(schema: z.ZodType): Record<string, unknown> {
  const s = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

/** Validates `v` with `schema`; a failure is a 400 naming the first problem (InvalidBody, or InvalidQuery for a query). */
function parse<T>(schema: z.ZodType<T>, v: unknown, what: string): T {
  const r = schema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HttpError(400, what === 'query' ? 'InvalidQuery' : 'InvalidBody', `Invalid ${what}: ${i.path.length ? `"${i.path.join('.')}" ` : ''}${i.message}.`, r.error.issues.map((x) => `${x.path.join('.') || '(body)'}: ${x.message}`).join('; '));
  }
  return r.data;
}

export interface ApiOptions {
  /** Lowest fee accepted by POST /tasks, wei (default 1e15). */
  minFee?: bigint;
  /** The prebuilt pages served at /app and /dashboard (default dist/web, written by `npm run build:web`). */
  webRoot?: string;
}

/** Builds the API for a node (not listening; call `listen`). */
export async function buildApi(node: VerityNode, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  const ctx = node.ctx;
  const minFee = opts.minFee ?? 10n ** 15n;
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Verity node API', version: '0.1.0', description: `A ${node.role.name} node of the Verity protocol.` },
    },
  });
  // zod validates (in the handlers); the route schemas only document.
  app.setValidatorCompiler(() => (data) => ({ value: data }));

  app.setErrorHandler((err: FastifyError | HttpError, _req, reply: FastifyReply) => {
    if (err instanceof HttpError) return reply.status(err.status).send(err.body());
    if (err instanceof PageMissingError) return reply.status(503).send(new HttpError(503, 'PageNotBuilt', err.shortMessage, err.hint).body());
    const fe = err as FastifyError;
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
      return reply.status(400).send({ error: 'MalformedJson', message: 'The request body is not valid JSON.', details: fe.message });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.status(415).send({ error: 'UnsupportedMediaType', message: 'Send application/json.' });
    if (fe.statusCode && fe.statusCode < 500) return reply.status(fe.statusCode).send({ error: fe.code ?? 'BadRequest', message: fe.message });
    ctx.log.error({ err: fe.message }, 'api error');
    return reply.status(500).send({ error: 'Internal', message: fe.message });
  });

  app.post(
    '/tasks',
    {
      schema: {
        summary: 'Submit a task (requester nodes): validated, recorded, then posted on-chain by the node',
        body: json(submitSchema),
        response: { 202: json(z.object({ id: z.string(), status: z.string() })), 400: json(errorSchema), 404: json(errorSchema), 422: json(errorSchema) },
      },
    },
    async (req, reply) => {
      if (!(node.role instanceof Requester)) throw new HttpError(404, 'NotARequester', `This node is a ${node.role.name}; submit tasks to a requester node.`);
      const body = parse(submitSchema, req.body, 'task');
      const lm = ctx.engine.find(body.model);
      if (!lm) throw new HttpError(422, 'UnknownModel', `Unknown model "${body.model}".`, `loaded: ${ctx.engine.modelRoots().map((r) => `${ctx.engine.loadModel(r).name} (${r})`).join(', ')}`);
      const fee = BigInt(body.fee);
      if (fee < minFee) throw new HttpError(422, 'FeeTooLow', `Fee ${fee} wei is below this node's minimum of ${minFee} wei.`);
      let inputs: TensorData[];
      try {
        if (body.input) {
          const flat = (Array.isArray(body.input) ? body.input.flat() : Object.values(body.input).flat()) as number[];
          if (!flat.every(Number.isFinite)) throw new HttpError(422, 'InvalidInput', 'Input values must be finite numbers.');
          const rows = inputRows(lm.model, body.input);
          inputs = rows.map((row, k) => {
            const info = lm.model.tensors[lm.model.inputs[k]!]!;
            const expected = info.shape.reduce((a, b) => a * b, 1);
            const which = rows.length > 1 ? ` "${info.name}"` : '';
            if (row.length !== expected) throw new HttpError(422, 'InvalidInput', `Input${which} has ${row.length} values; model ${lm.name} expects ${expected} (shape [${info.shape.join(', ')}]).`);
            return quantizeInput(lm.model, row, k);
          });
        } else {
          inputs = body.inputs!.map((t, i) => {
            if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new HttpError(422, 'InvalidInput', `inputs[${i}] has ${t.data.length} values for shape [${t.shape.join(', ')}].`);
            return tensorFromJson(t);
          });
        }
        runModel(lm.prepared, inputs); // the worker will run exactly this: reject what the engine rejects
      } catch (e) {
        if (e instanceof HttpError) throw e;
        if (e instanceof BaseError) throw new HttpError(422, 'InvalidInput', `${e.shortMessage}${e.details ? `: ${e.details}` : ''}`, e.hint);
        throw e;
      }
      const modelId = await modelIdOf(ctx, lm.root);
      if (modelId === undefined) throw new HttpError(422, 'UnregisteredModel', `Model ${lm.name} (${lm.root}) is not registered on this chain.`);
      const id = (node.role as Requester).submit({ modelId, modelRoot: lm.root, inputs, fee, ttl: body.ttl });
      node.poke();
      return reply.status(202).send({ id, status: 'posting' });
    },
  );

  app.get('/tasks', { schema: { summary: 'Recent tasks this node tracks' } }, async () => ctx.store.listTasks(100).map(viewOf));

  app.get<{ Params: { id: string } }>('/tasks/:id', { schema: { summary: 'A task: status, verified result (finalized only), output digest, tx hashes (a trace root exists only in its disputes: /disputes)' } }, async (req) => {
    const t = ctx.store.findTask(req.params.id);
    if (!t) throw new HttpError(404, 'UnknownTask', `No task "${req.params.id}" on this node.`);
    // chainTime: the chain's clock, against which challengeDeadline counts down; cancel: a cancel asked of this node.
    const chainTime = Number(await chainNow(ctx));
    return { ...viewOf(t), outputHash: t.outputHash, challengeDeadline: t.challengeDeadline, worker: t.worker, chainTime, cancel: ctx.store.getKv(`cancel:${t.taskId}`) ?? null };
  });

  app.post<{ Params: { id: string } }>(
    '/tasks/:id/cancel',
    { schema: { summary: 'Ask the node to cancel a task no worker claimed yet (requester nodes): the loop cancels it on-chain and the fee is refunded; a claimed task runs to finality (cancel "refused")' } },
    async (req, reply) => {
      if (!(node.role instanceof Requester)) throw new HttpError(404, 'NotARequester', `This node is a ${node.role.name}; cancel tasks at the requester node that posted them.`);
      const t = ctx.store.findTask(req.params.id);
      if (!t) throw new HttpError(404, 'UnknownTask', `No task "${req.params.id}" on this node.`);
      const cancel = node.role.requestCancel(t.taskId);
      node.poke();
      return reply.status(202).send({ id: t.taskId, status: t.status, cancel });
    },
  );

  app.post('/run', { schema: { summary: 'Run a loaded model on quantized inputs, unverified: a quote (nothing is committed or paid; the verified answer is a task). Served by worker nodes' } }, async (req) => {
    if (node.role.name !== 'worker') throw new HttpError(404, 'NotAWorker', `This node is a ${node.role.name}; ask a worker node for a quote.`);
    const body = parse(runSchema, req.body, 'run');
    const lm = ctx.engine.find(body.model);
    if (!lm) throw new HttpError(422, 'UnknownModel', `Unknown model "${body.model}".`);
    let outputs: TensorData[];
    try {
      // As this worker would answer (a liar's quote is its lie).
      outputs = ctx.engine.run(lm.root, body.inputs.map(tensorFromJson)).outputs;
    } catch (e) {
      throw new HttpError(422, 'InvalidInput', (e as Error).message.split('\n')[0]!);
    }
    return { modelRoot: lm.root, outputs: outputs.map(tensorToJson) };
  });

  app.get('/models', { schema: { summary: 'The models this node has loaded: name, modelRoot, registry id (null when not registered on this chain), input and output shapes; the .vqm bytes are at /models/:root' } }, async () =>
    Promise.all(
      ctx.engine.modelRoots().map(async (r) => {
        const { model, name } = ctx.engine.loadModel(r);
        const shape = (id: number) => [...model.tensors[id]!.shape];
        const modelId = await modelIdOf(ctx, r);
        return { name, modelRoot: r.toLowerCase(), modelId: modelId === undefined ? null : String(modelId), inputShape: shape(model.inputs[0]!), inputDtype: model.tensors[model.inputs[0]!]!.dtype, outputShape: shape(model.outputs[0]!) };
      }),
    ),
  );

  // Served only while a dispute on that trace is open: intermediate tensor roots stay unpublished otherwise (the
  // audits of docs/protocol.md §Audits ask for one an auditor must have computed itself). Recomputed, not stored.
  app.get<{ Params: { root: string; i: string } }>('/traces/:root/tensors/:i', { schema: { summary: 'One tensor of a trace under an open dispute, with its tensorRoot' } }, async (req) => {
    const root = req.params.root.toLowerCase();
    if (!/^0x[0-9a-f]{64}$/.test(root)) throw new HttpError(400, 'InvalidTraceRoot', 'A trace root is 0x followed by 64 hex digits.');
    const i = Number(req.params.i);
    if (!Number.isInteger(i) || i < 0) throw new HttpError(400, 'InvalidTensorIndex', 'The tensor index must be a non-negative integer.');
    const d = ctx.store.listDisputes({ active: true }).find((x) => x.traceRoot.toLowerCase() === root);
    if (!d) throw new HttpError(404, 'TraceNotDisputed', `No open dispute on trace ${root} at this node; traces are served only while disputed.`);
    let got: ReturnType<typeof traceFor>;
    try {
      got = traceFor(ctx, { taskId: d.taskId, idx: d.idx }, root);
    } catch (e) {
      if (e instanceof TraceUnavailableError) throw new HttpError(404, 'UnknownTrace', e.shortMessage);
      throw e;
    }
    const trace = got.trace;
    const t = trace[i];
    if (!t) throw new HttpError(404, 'UnknownTensor', `Trace has ${trace.length} tensors; no tensor ${i}.`);
    return { traceRoot: root, modelRoot: got.modelRoot, index: i, count: trace.length, tensorRoot: bytesToHex(tensorRoot(t)), tensor: tensorToJson(t) };
  });

  app.get('/disputes', { schema: { summary: 'Disputes this node tracks' } }, async () => ctx.store.listDisputes());
  app.get<{ Params: { id: string } }>('/disputes/:id', { schema: { summary: 'One tracked dispute' } }, async (req) => {
    const d = ctx.store.getDispute(req.params.id);
    if (!d) throw new HttpError(404, 'UnknownDispute', `No dispute "${req.params.id}" on this node.`);
    return d;
  });

  app.get('/agents', { schema: { summary: 'Registered agents with their stake' } }, async () => {
    const logs = await ctx.publicClient.getContractEvents({ address: ctx.addresses.identityRegistry, abi: identityRegistryAbi, eventName: 'Registered', fromBlock: 0n, strict: true });
    return Promise.all(
      logs.map(async (l) => {
        const acct = await ctx.publicClient.readContract({ address: ctx.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [l.args.owner] });
        const claimable = await ctx.publicClient.readContract({ address: ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'claimable', args: [l.args.owner] });
        return { agentId: String(l.args.agentId), owner: l.args.owner, uri: l.args.agentURI, staked: String(acct.staked), locked: String(acct.locked), claimable: String(claimable), stakedVrt: Number(acct.staked / (E18 / 1000n)) / 1000 };
      }),
    );
  });

  app.get('/health', { schema: { summary: 'Liveness and chain head' } }, async () => {
    let block: string | null = null;
    try {
      block = String(await ctx.publicClient.getBlockNumber());
    } catch {
      block = null;
    }
    return { ok: node.ready && block !== null, role: node.role.name, account: ctx.account, block, ticks: node.ticks, lastError: node.lastError, unsettledTxs: ctx.store.unsettledTxs().length };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus text format' } }, async (_req, reply) => {
    const lines: string[] = [];
    const labels = `role="${node.role.name}"`;
    for (const [name, v] of [...ctx.metrics.entries()].sort()) {
      lines.push(`# TYPE ${name} counter`, `${name}{${labels}} ${v}`);
    }
    lines.push('# TYPE verity_node_tasks gauge');
    for (const [s, n] of Object.entries(ctx.store.countTasksByStatus())) lines.push(`verity_node_tasks{${labels},status="${s}"} ${n}`);
    lines.push('# TYPE verity_node_txs gauge');
    for (const [s, n] of Object.entries(ctx.store.countTxsByStatus())) lines.push(`verity_node_txs{${labels},status="${s}"} ${n}`);
    lines.push('# TYPE verity_node_disputes_active gauge', `verity_node_disputes_active{${labels}} ${ctx.store.listDisputes({ active: true }).length}`);
    lines.push('# TYPE verity_node_ticks_total counter', `verity_node_ticks_total{${labels}} ${node.ticks}`);
    return reply.type('text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });

  await registerBatchRoutes(app, node, { minFee }); // batch data routes: src/node/api-batch.ts
  await registerDashboard(app, node, { parse, json, errorSchema, webRoot: opts.webRoot });
  await (await import('./claims.js')).registerClaims(app, node, { json, errorSchema, webRoot: opts.webRoot }); // GET /tasks/:id/claim, /models/:root, /app: src/node/claims.ts

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
