/**
 * An MCP server (@modelcontextprotocol/sdk) giving agent frameworks verified inference:
 *
 *   list_models       models the network serves (name, modelRoot, model id, shapes)
 *   verified_infer    model + input → output, trace root, task id, transaction hashes, finality status
 *   agent_reputation  an ERC-8004 agent's market-written reputation and stake
 *   task_status       a task's status / verified result
 *
 * Every tool declares an outputSchema and answers structuredContent (plus the same JSON as text, and resource links).
 * verified_infer sends notifications/progress when the request carries a progressToken (posted, claimed, committed,
 * the challenge window counting down in chain seconds, finalized) and honors notifications/cancelled: the request
 * ends without a result, and a task no worker claimed yet is cancelled on-chain where the network can do it.
 * Resources: verity://models/{modelRoot} and verity://tasks/{id} (JSON), linked from list_models and verified_infer.
 *
 * Transports: stdio (`verity agents mcp`) and Streamable HTTP on 127.0.0.1 (stateless: one server + transport per
 * request, POST /mcp; a request whose Origin header is not allowed is refused with 403, against DNS rebinding).
 * Tools talk to the network only through VerityNetwork (src/agents/network.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BaseError } from '../errors.js';
import type { InferProgress, VerifiedResult, VerityNetwork } from './network.js';
import { inferRequestShape, requestTensorSchema } from './schemas.js';

export const MCP_TOOLS = ['list_models', 'verified_infer', 'agent_reputation', 'task_status'] as const;


const hex = z.string().regex(/^0x[0-9a-fA-F]*$/);

const modelInfoSchema = z.object({
  name: z.string(),
  modelRoot: hex,
  modelId: z.string().nullable(),
  inputShape: z.array(z.number().int()),
  inputDtype: z.string(),
  outputShape: z.array(z.number().int()),
});

const verifiedResultShape = {
  id: z.string().describe("The network's handle for the request"),
  taskId: z.string().nullable().describe("The market's task id"),
  status: z.enum(['pending', 'committed', 'finalized', 'invalidated', 'failed']),
  finalized: z.boolean().describe('True once the challenge window closed without a successful challenge'),
  model: z.string(),
  modelRoot: z.string(),
  outputs: z.array(requestTensorSchema).optional().describe('Committed output tensors (when finalized)'),
  output: z.array(z.number()).optional().describe('Dequantized first output'),
  argmax: z.number().int().optional(),
  outputHash: hex.optional().describe('The committed output digest keccak256(0x07 ‖ n ‖ output tensorRoots): the whole on-chain claim'),
  worker: z.string().optional(),
  txs: z.record(z.string(), z.string()).describe('Transaction hashes by step (post, claim, commit, finalize)'),
  settlementTx: z.string().nullable().describe('The transaction that settled the task (finalize), when settled'),
  error: z.string().nullable().optional(),
};

const reputationShape = {
  agentId: z.string(),
  owner: z.string().nullable(),
  uri: z.string().nullable(),
  feedbackCount: z.number().nullable().describe('Feedback written by the task market (ReputationRegistry.getSummary over [market])'),
  averageScore: z.number().nullable(),
  finalized: z.number().nullable(),
  staked: z.string().nullable(),
};

type Link = { type: 'resource_link'; uri: string; name: string; mimeType: string; description?: string };

function modelLink(m: { name: string; modelRoot: string }): Link {
  return { type: 'resource_link', uri: `verity://models/${m.modelRoot}`, name: m.name, mimeType: 'application/json', description: `Model ${m.name} (modelRoot ${m.modelRoot})` };
}

function taskLink(r: { id: string; status: string }): Link {
  return { type: 'resource_link', uri: `verity://tasks/${r.id}`, name: `task ${r.id}`, mimeType: 'application/json', description: `Verified result, ${r.status}` };
}

function withSettlement(r: VerifiedResult): VerifiedResult & { settlementTx: string | null } {
  return { ...r, settlementTx: r.txs.finalize ?? null };
}

function ok(value: unknown, links: Link[] = []): CallToolResult {
  const structured = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(structured) }, ...links], structuredContent: structured };
}

function fail(e: unknown): CallToolResult {
  const message = e instanceof BaseError ? `${e.shortMessage}${e.details ? ` (${e.details})` : ''}${e.hint ? ` ${e.hint}` : ''}` : e instanceof Error ? e.message : String(e);
  return { isError: true, content: [{ type: 'text', text: message }] };
}

async function guard<T>(fn: () => Promise<T>, links?: (v: T) => Link[]): Promise<CallToolResult> {
  try {
    const v = await fn();
    return ok(v, links ? links(v) : []);
  } catch (e) {
    return fail(e);
  }
}

/** The MCP server over `network` (not connected to a transport). */
export function createMcpServer(network: VerityNetwork): McpServer {
  const server = new McpServer({ name: 'verity', version: '0.1.0' }, { capabilities: { tools: {}, resources: {} } });

  server.registerTool(
    'list_models',
    {
      title: 'List verifiable models',
      description: 'Models this Verity network can run with on-chain verification: name, modelRoot (keccak Merkle root of the integer model), registry id, input and output shapes.',
      inputSchema: {},
      outputSchema: { models: z.array(modelInfoSchema) },
      annotations: { readOnlyHint: true },
    },
    () => guard(async () => ({ models: await network.listModels() }), (v: { models: { name: string; modelRoot: string }[] }) => v.models.map(modelLink)),
  );

  server.registerTool(
    'verified_infer',
    {
      title: 'Verified inference',
      description:
        'Runs a model through the Verity market and waits until the result is final: a staked worker commits the output and the trace root on-chain; it is returned once the challenge window closed without a successful challenge. Give `input` (one float row, or integer ids) or `inputs` (quantized tensors). Sends progress notifications (posted, claimed, committed, challenge window seconds left, finalized) when asked for; can be cancelled.',
      inputSchema: inferRequestShape,
      outputSchema: verifiedResultShape,
    },
    (args, extra) => {
      const token = extra._meta?.progressToken;
      let n = 0;
      const onProgress = (p: InferProgress) => {
        if (token === undefined) return;
        n += 1;
        void extra
          .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: n, message: p.message, _meta: { stage: p.stage, taskId: p.taskId, ...(p.secondsLeft === undefined ? {} : { secondsLeft: p.secondsLeft }) } } })
          .catch(() => undefined);
      };
      return guard(async () => withSettlement(await network.verifiedInfer(args, { onProgress, signal: extra.signal })), (r: VerifiedResult) => [taskLink(r)]);
    },
  );

  server.registerTool(
    'agent_reputation',
    {
      title: 'Agent reputation',
      description: "An ERC-8004 agent's reputation as written by the task market (+1 per finalized task or won dispute, −1 per expired task or lost dispute), its registration URI and stake.",
      inputSchema: { agentId: z.string().regex(/^\d+$/).describe('ERC-8004 agent id (decimal)') },
      outputSchema: reputationShape,
      annotations: { readOnlyHint: true },
    },
    ({ agentId }) => guard(() => network.agentReputation(agentId)),
  );

  server.registerTool(
    'task_status',
    {
      title: 'Task status',
      description: 'Status of a task submitted through this network (pending, committed, finalized, invalidated, failed), with the verified result once finalized.',
      inputSchema: { id: z.string().min(1).describe('Task id returned by verified_infer') },
      outputSchema: verifiedResultShape,
      annotations: { readOnlyHint: true },
    },
    ({ id }) => guard(async () => withSettlement(await network.taskStatus(id)), (r: VerifiedResult) => [taskLink(r)]),
  );

  server.registerResource(
    'model',
    new ResourceTemplate('verity://models/{modelRoot}', {
      list: async () => ({ resources: (await network.listModels()).map((m) => ({ uri: `verity://models/${m.modelRoot}`, name: m.name, mimeType: 'application/json' })) }),
    }),
    { title: 'Verifiable model', description: 'A model the network serves: modelRoot, registry id, shapes.', mimeType: 'application/json' },
    async (uri, { modelRoot }) => {
      const m = (await network.listModels()).find((x) => x.modelRoot.toLowerCase() === String(modelRoot).toLowerCase());
      if (!m) throw new BaseError(`No model with modelRoot ${String(modelRoot)}.`);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(m) }] };
    },
  );

  server.registerResource(
    'task',
    new ResourceTemplate('verity://tasks/{id}', { list: undefined }),
    { title: 'Verified result', description: 'A task and its verified result (status, outputs, trace root, transactions).', mimeType: 'application/json' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(withSettlement(await network.taskStatus(String(id)))) }] }),
  );

  return server;
}

/**
 * Serves the MCP server on stdin/stdout (logs must go to stderr). Resolves when the client goes away: the
 * transport closes, stdin ends (the SDK's stdio client ends stdin first), or SIGINT/SIGTERM arrives — so the caller
 * can stop what it started (an embedded anvil) before exiting.
 */
export async function serveMcpStdio(network: VerityNetwork): Promise<void> {
  const server = createMcpServer(network);
  const transport = new StdioServerTransport();
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  transport.onclose = () => done();
  process.stdin.once('end', () => done());
  process.once('SIGTERM', () => done());
  process.once('SIGINT', () => done());
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
}

export interface McpHttpServer {
  /** http://127.0.0.1:<port>/mcp */
  url: string;
  port: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage, limit = 4 * 1024 * 1024): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

/**
 * Streamable HTTP transport on 127.0.0.1 (stateless). Requests with an Origin header are served only when it is
 * this server's own origin (http://127.0.0.1:<port> or http://localhost:<port>) or in `allowedOrigins`; others get
 * 403 (the MCP transport spec's DNS-rebinding defence). Requests without Origin (non-browser clients) are served.
 */
export async function startMcpHttp(network: VerityNetwork, opts: { port?: number; allowedOrigins?: string[] } = {}): Promise<McpHttpServer> {
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      const allowed = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, ...(opts.allowedOrigins ?? [])]);
      if (!allowed.has(origin)) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: `Origin ${origin} is not allowed.` }, id: null }));
        return;
      }
    }
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mcp') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'NotFound', message: 'The MCP endpoint is POST /mcp.' }));
      return;
    }
    if (req.method !== 'POST') {
      // Stateless server: no standalone SSE stream, no sessions to delete.
      res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }));
      return;
    }
    let body: unknown;
    try {
      body = await readBody(req);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
      return;
    }
    const server = createMcpServer(network);
    // SSE responses: progress notifications of a running verified_infer stream back before its result.
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: false });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };
  const http: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: e instanceof Error ? e.message : String(e) }, id: null }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
