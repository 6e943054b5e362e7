/**
 * The MCP server driven by the SDK's own Client (in-memory and Streamable HTTP transports) on anvil, over a network of
 * real nodes (LocalNetwork: a requester node found through its on-chain registration and a worker node): lists the
 * tools, gets a finalized verified wine-mlp result whose output equals the local engine's and whose trace root
 * equals the output digest of a local run; reputation and task status follow.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer, MCP_TOOLS, startMcpHttp, type McpHttpServer } from '../../src/agents/mcp.js';
import { LocalNetwork } from '../../src/agents/local-network.js';
import type { VerifiedResult } from '../../src/agents/network.js';
import { localRun } from './local-run.js';
import { modelRootHex } from '../../src/commit/index.js';
import { taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { quantizeInput } from '../../src/onnx/io.js';
import { modelData, quantized } from '../onnx/models.js';

let net: LocalNetwork;
let http: McpHttpServer;

beforeAll(async () => {
  net = await LocalNetwork.start({ models: [quantized('wine-mlp')], challengeWindow: 3n });
  http = await startMcpHttp(net);
});

afterAll(async () => {
  await http?.close();
  await net?.close();
});

async function inMemoryClient(): Promise<Client> {
  const [clientT, serverT] = InMemoryTransport.createLinkedPair();
  await createMcpServer(net).connect(serverT);
  const client = new Client({ name: 'verity-test', version: '0.0.0' });
  await client.connect(clientT);
  return client;
}

function structured<T>(r: Awaited<ReturnType<Client['callTool']>>): T {
  expect(r.isError ?? false).toBe(false);
  return r.structuredContent as T;
}

describe('MCP server (in-memory transport)', () => {
  it('lists the four tools with input schemas, and the models', async () => {
    const client = await inMemoryClient();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...MCP_TOOLS].sort());
    const infer = tools.find((t) => t.name === 'verified_infer')!;
    expect(infer.inputSchema.required).toEqual(['model']);
    expect(Object.keys(infer.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['model', 'input', 'inputs', 'fee']));
    const { models } = structured<{ models: { name: string; modelRoot: string; modelId: string }[] }>(await client.callTool({ name: 'list_models', arguments: {} }));
    expect(models).toEqual([expect.objectContaining({ name: 'wine-mlp', modelRoot: modelRootHex(quantized('wine-mlp')), modelId: '1' })]);
    await client.close();
  });

  it('rejects bad arguments with a tool error naming the problem', async () => {
    const client = await inMemoryClient();
    const r = await client.callTool({ name: 'verified_infer', arguments: { model: 'no-such-model', input: [1] } });
    expect(r.isError).toBe(true);
    expect((r.content as { text: string }[])[0]!.text).toMatch(/Unknown model "no-such-model"/);
    const bad = await client.callTool({ name: 'agent_reputation', arguments: { agentId: 'x' } });
    expect(bad.isError).toBe(true);
    await client.close();
  });
});

describe('MCP: schemas, resources, cancellation, Origin', () => {
  it('every tool has an output schema; structuredContent conforms (the SDK client validates it)', async () => {
    const client = await inMemoryClient();
    const { tools } = await client.listTools();
    for (const t of tools) {
      expect(t.outputSchema, t.name).toBeDefined();
      expect(t.outputSchema!.type).toBe('object');
    }
    const infer = tools.find((t) => t.name === 'verified_infer')!;
    expect(Object.keys(infer.outputSchema!.properties ?? {})).toEqual(expect.arrayContaining(['status', 'outputHash', 'txs', 'settlementTx']));
    // list_models links each model as a resource, which reads back as JSON.
    const r = await client.callTool({ name: 'list_models', arguments: {} });
    const link = (r.content as { type: string; uri?: string }[]).find((c) => c.type === 'resource_link')!;
    expect(link.uri).toBe(`verity://models/${modelRootHex(quantized('wine-mlp'))}`);
    const read = await client.readResource({ uri: link.uri! });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toMatchObject({ name: 'wine-mlp' });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(['verity://models/{modelRoot}', 'verity://tasks/{id}']);
    await client.close();
  });

  it('a cancelled verified_infer ends without a result; a task cancelled before its claim is cancelled on-chain', async () => {
    const client = await inMemoryClient();
    const ac = new AbortController();
    let taskId: string | undefined;
    const call = client.callTool({ name: 'verified_infer', arguments: { model: 'wine-mlp', input: modelData('wine-mlp').x[1]! } }, undefined, {
      signal: ac.signal,
      onprogress: (p) => {
        const meta = (p as { _meta?: { stage?: string; taskId?: string } })._meta;
        taskId ??= meta?.taskId;
        if (meta?.stage === 'window') ac.abort('user cancelled');
      },
    });
    await expect(call).rejects.toThrow();
    expect(taskId).toMatch(/^\d+$/);
    // Past its claim the task runs to finality on-chain; the server stays usable.
    let st = '';
    for (let i = 0; i < 600 && st !== 'finalized'; i++) {
      st = structured<VerifiedResult>(await client.callTool({ name: 'task_status', arguments: { id: taskId! } })).status;
      if (st !== 'finalized') await new Promise((res) => setTimeout(res, 50));
    }
    expect(st).toBe('finalized');
    await client.close();
    // Before the claim: a task posted below the worker's minimum fee stays open; aborted at 'posted', the requester
    // node cancels it on-chain (status Cancelled = 6).
    const early = new AbortController();
    let posted: string | null = null;
    const e = await net
      .verifiedInfer({ model: 'wine-mlp', input: modelData('wine-mlp').x[2]!, fee: String(10n ** 15n) }, { signal: early.signal, onProgress: (p) => p.stage === 'posted' && ((posted = p.taskId), early.abort()) })
      .catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/cancelled on-chain/);
    const t = await net.chain.publicClient.readContract({ address: net.chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [BigInt(posted!)] });
    expect(t.status).toBe(6);
  });

  it('Streamable HTTP refuses a foreign Origin (403) and serves its own', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '0' } } };
    const post = (origin?: string) =>
      fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(origin ? { origin } : {}) }, body: JSON.stringify(init) });
    expect((await post('https://evil.example')).status).toBe(403);
    expect((await post(`http://127.0.0.1:${http.port}`)).status).toBe(200);
    expect((await post()).status).toBe(200);
  });
});

describe('MCP server (Streamable HTTP on 127.0.0.1) on anvil', () => {
  it('verified_infer returns a finalized result matching the local engine and trace root', async () => {
    expect(http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: 'verity-test-http', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
    expect((await client.listTools()).tools).toHaveLength(MCP_TOOLS.length);

    const model = quantized('wine-mlp');
    const row = modelData('wine-mlp').x[3]!;
    const progress: { progress: number; message?: string; _meta?: { stage?: string; secondsLeft?: number } }[] = [];
    const r = structured<VerifiedResult & { settlementTx: string }>(
      await client.callTool({ name: 'verified_infer', arguments: { model: 'wine-mlp', input: row } }, undefined, { onprogress: (p) => progress.push(p as never) }),
    );
    // Progress streamed over HTTP while the task ran: posted, claimed, committed, the window counting down, finalized.
    const stages = progress.map((p) => p._meta?.stage);
    expect(stages.slice(0, 3)).toEqual(['posted', 'claimed', 'committed']);
    expect(stages.at(-1)).toBe('finalized');
    const left = progress.filter((p) => p._meta?.stage === 'window').map((p) => p._meta!.secondsLeft!);
    expect(left.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < left.length; i++) expect(left[i]!).toBeLessThan(left[i - 1]!);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(r.settlementTx).toBe(r.txs.finalize);
    const local = localRun(model, [quantizeInput(model, row)]);
    expect(r.status).toBe('finalized');
    expect(r.finalized).toBe(true);
    expect(r.outputs![0]!.data).toEqual(Array.from(local.outputs[0]!.data));
    expect(r.outputHash).toBe(local.outputHash);
    expect(r.taskId).toMatch(/^\d+$/);
    expect(Object.keys(r.txs)).toEqual(['post', 'claim', 'commit', 'finalize']);
    for (const h of Object.values(r.txs)) expect(h).toMatch(/^0x[0-9a-f]{64}$/);
    // the chain agrees: finalized, committed by the worker, receipts succeeded
    const status = structured<VerifiedResult>(await client.callTool({ name: 'task_status', arguments: { id: r.taskId! } }));
    expect(status.status).toBe('finalized');
    const receipt = await net.chain.publicClient.getTransactionReceipt({ hash: r.txs.finalize as `0x${string}` });
    expect(receipt.status).toBe('success');

    const agentId = String(net.workerAgentId());
    const rep = structured<{ finalized: number; averageScore: number; owner: string }>(await client.callTool({ name: 'agent_reputation', arguments: { agentId } }));
    expect(rep.finalized).toBeGreaterThanOrEqual(1);
    expect(rep.averageScore).toBe(1);
    expect(rep.owner).toBe(r.worker);
    await client.close();
  });
});

describe('MCP server (stdio: `verity agents mcp`)', () => {
  it('the SDK stdio client spawns the CLI, lists the tools and the models; closing stops the child and its anvil', async () => {
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    const { join } = await import('node:path');
    const root = join(import.meta.dirname, '..', '..');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'agents', 'mcp', '--models', 'wine-mlp'],
      cwd: root,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'verity-test-stdio', version: '0.0.0' });
    await client.connect(transport);
    const pid = transport.pid!;
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual([...MCP_TOOLS].sort());
    const { models } = structured<{ models: { name: string }[] }>(await client.callTool({ name: 'list_models', arguments: {} }));
    expect(models.map((m) => m.name)).toEqual(['wine-mlp']);
    const anvilUrl = /ready at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
    expect(anvilUrl, stderr).toBeTruthy();
    await client.close();
    // the child exited and stopped its anvil
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    await expect(fetch(anvilUrl!, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
