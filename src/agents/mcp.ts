/**
 * An MCP server (@modelcontextprotocol/sdk) giving agent frameworks verified inference:
 *
 *   list_models       models the network serves (name, modelRoot, model id, shapes)
 *   verified_infer    model + input → output, trace root, task id, transaction hashes, finality status
 *   agent_reputation  an ERC-8004 agent's market-written reputation and stake
 *   task_status       a task's status / verified result
 *
 * Transports: stdio (`verity agents mcp`) and Streamable HTTP on 127.0.0.1 (stateless: one server + transport per
 * request, POST /mcp). Tools talk to the network only through VerityNetwork (src/agents/network.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BaseError } from '../errors.js';
import type { VerityNetwork } from './network.js';

export const MCP_TOOLS = ['list_models', 'verified_infer', 'agent_reputation', 'task_status'] as const;

const tensorJson = z.object({
  dtype: z.enum(['i8', 'u8', 'i32']),
  shape: z.array(z.number().int().positive()).min(1),
  data: z.array(z.number().int()),
});

function ok(value: unknown): CallToolResult {
  const structured = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function fail(e: unknown): CallToolResult {
  const message = e instanceof BaseError ? `${e.shortMessage}${e.details ? ` (${e.details})` : ''}${e.hint ? ` ${e.hint}` : ''}` : e instanceof Error ? e.message : String(e);
  return { isError: true, content: [{ type: 'text', text: message }] };
}

async function guard(fn: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return ok(await fn());
  } catch (e) {
    return fail(e);
  }
}

/** The MCP server over `network` (not connected to a transport). */
export function createMcpServer(network: VerityNetwork): McpServer {
  const server = new McpServer({ name: 'verity', version: '0.1.0' }, { capabilities: { tools: {} } });

  server.registerTool(
    'list_models',
    {
      title: 'List verifiable models',
      description: 'Models this Verity network can run with on-chain verification: name, modelRoot (keccak Merkle root of the integer model), registry id, input and output shapes.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    () => guard(async () => ({ models: await network.listModels() })),
  );

  server.registerTool(
    'verified_infer',
    {
      title: 'Verified inference',
      description:
        'Runs a model through the Verity market and waits until the result is final: a staked worker commits the output and the trace root on-chain; it is returned once the challenge window closed without a successful challenge. Give `input` (one float row, or integer ids) or `inputs` (quantized tensors).',
      inputSchema: {
        model: z.string().min(1).describe('Model name (see list_models) or modelRoot (0x…)'),
        input: z.array(z.number()).optional().describe('One input row (floats; integer ids for id-input models)'),
        inputs: z.array(tensorJson).optional().describe('Already quantized input tensors, in model order'),
        fee: z.string().regex(/^\d+$/).optional().describe('Fee in VRT wei (decimal)'),
      },
    },
    (args) => guard(() => network.verifiedInfer(args)),
  );

  server.registerTool(
    'agent_reputation',
    {
      title: 'Agent reputation',
      description: "An ERC-8004 agent's reputation as written by the task market (+1 per finalized task or won dispute, −1 per expired task or lost dispute), its registration URI and stake.",
      inputSchema: { agentId: z.string().regex(/^\d+$/).describe('ERC-8004 agent id (decimal)') },
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
      annotations: { readOnlyHint: true },
    },
    ({ id }) => guard(() => network.taskStatus(id)),
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

/** Streamable HTTP transport on 127.0.0.1 (stateless). */
export async function startMcpHttp(network: VerityNetwork, opts: { port?: number } = {}): Promise<McpHttpServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
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
  const port = (http.address() as AddressInfo).port;
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
