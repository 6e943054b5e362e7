/**
 * NodeHttpNetwork against a real requester node's HTTP API (src/node/api.ts, listening on 127.0.0.1) with an
 * in-process worker node on anvil, driven through the MCP server by the SDK's client: verified_infer returns a
 * finalized result equal to the local engine's, task_status and agent_reputation follow.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../src/agents/mcp.js';
import { NodeHttpNetwork, type AgentReputation, type VerifiedResult } from '../../src/agents/network.js';
import { localRun } from './local-run.js';
import { buildApi } from '../../src/node/api.js';
import { createNode, type VerityNode } from '../../src/node/node.js';
import { quantizeInput } from '../../src/onnx/io.js';
import { modelData, quantized } from '../onnx/models.js';
import { keyOf, testNet, type TestNet } from '../node/helpers.js';

let net: TestNet;
let requester: VerityNode;
let worker: VerityNode;
let api: FastifyInstance;
let baseUrl: string;
const dirs: string[] = [];

async function node(role: 'worker' | 'requester', i: number): Promise<VerityNode> {
  const dir = mkdtempSync(join(tmpdir(), `verity-agents-${role}-`));
  dirs.push(dir);
  return createNode({ role, rpcUrl: net.anvil.rpcUrl, privateKey: keyOf(i).privateKey, dataDir: dir, addresses: net.addresses, qmodels: [quantized('wine-mlp')], pollMs: 200, logger: pino({ level: 'silent' }) });
}

beforeAll(async () => {
  net = await testNet([quantized('wine-mlp')]);
  requester = await node('requester', 1);
  worker = await node('worker', 2);
  await Promise.all([requester.start(), worker.start()]);
  api = await buildApi(requester);
  baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await api?.close();
  await requester?.stop().catch(() => undefined);
  await worker?.stop().catch(() => undefined);
  await net?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('NodeHttpNetwork (requester node HTTP API) through MCP', () => {
  it('verified_infer is finalized by the node network and matches the local engine', async () => {
    const network = new NodeHttpNetwork(baseUrl, { rpcUrl: net.anvil.rpcUrl, addresses: net.addresses, pollMs: 250, timeoutMs: 100_000 });
    const [ct, st] = InMemoryTransport.createLinkedPair();
    await createMcpServer(network).connect(st);
    const client = new Client({ name: 'verity-test-node', version: '0.0.0' });
    await client.connect(ct);

    const row = modelData('wine-mlp').x[5]!;
    const r = (await client.callTool({ name: 'verified_infer', arguments: { model: 'wine-mlp', input: row, fee: '2000000000000000000' } })).structuredContent as unknown as VerifiedResult;
    const model = quantized('wine-mlp');
    const local = localRun(model, [quantizeInput(model, row)]);
    expect(r.status).toBe('finalized');
    expect(r.finalized).toBe(true);
    expect(r.outputHash).toBe(local.outputHash);
    expect(r.outputs![0]!.data).toEqual(Array.from(local.outputs[0]!.data));
    expect(r.argmax).toBeTypeOf('number');
    expect(Object.keys(r.txs)).toEqual(expect.arrayContaining(['post', 'commit', 'finalize']));

    const s = (await client.callTool({ name: 'task_status', arguments: { id: r.id } })).structuredContent as unknown as VerifiedResult;
    expect(s.status).toBe('finalized');
    expect(s.outputHash).toBe(local.outputHash);

    const agents = (await (await fetch(`${baseUrl}/agents`)).json()) as { agentId: string; owner: string }[];
    const w = agents.find((a) => a.owner.toLowerCase() === keyOf(2).address.toLowerCase())!;
    const rep = (await client.callTool({ name: 'agent_reputation', arguments: { agentId: w.agentId } })).structuredContent as unknown as AgentReputation;
    expect(rep.finalized).toBeGreaterThanOrEqual(1);
    await client.close();
  });
});
