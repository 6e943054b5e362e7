/**
 * The A2A endpoint driven by the SDK's own client on anvil: the served agent card is the one the agent's ERC-8004
 * registration (IdentityRegistry agent URI) describes, and a message/send gets a completed task whose artifact is a
 * finalized verified result matching the local engine.
 */
import { randomUUID } from 'node:crypto';
import { Role, TaskState, type Message, type StreamResponse, type Task } from '@a2a-js/sdk';
import { isLegacyAgentCard, parseLegacyAgentCard } from '@a2a-js/sdk/compat/v0_3/client';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardFromRegistry, startA2aAgent, type A2aAgent } from '../../src/agents/a2a.js';
import { LocalNetwork } from '../../src/agents/local-network.js';
import type { VerifiedResult } from '../../src/agents/network.js';
import { localRun } from './local-run.js';
import { modelRootHex } from '../../src/commit/index.js';
import { quantizeInput } from '../../src/onnx/io.js';
import { modelData, quantized } from '../onnx/models.js';
import { createServer } from 'node:http';
import { parseAbi } from 'viem';
import { registerAgent } from '../../src/chain/actions/index.js';
import { SPEC_EXAMPLE } from './erc8004-example.js';

let net: LocalNetwork;
let agent: A2aAgent;

beforeAll(async () => {
  net = await LocalNetwork.start({ models: [quantized('wine-mlp')], challengeWindow: 3n });
  agent = await startA2aAgent({ network: net, name: 'verity-wine-agent', identity: net.chain.as('agent') });
});

afterAll(async () => {
  await agent?.close();
  await net?.close();
});

function userMessage(parts: Message['parts']): Message {
  return { messageId: randomUUID(), contextId: '', taskId: '', role: Role.ROLE_USER, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

async function client() {
  const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory()] }));
  return factory.createFromUrl(agent.baseUrl);
}

describe('A2A agent card and ERC-8004 registration', () => {
  it('serves the card that its on-chain registration file describes', async () => {
    expect(agent.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const fromChain = await cardFromRegistry(net.chain.as('agent'), agent.agentId!);
    expect(fromChain.uri).toBe(agent.agentURI);
    expect(fromChain.owner).toBe(net.chain.as('agent').walletClient.account.address);
    const reg = fromChain.registration;
    expect(reg.registrations).toEqual([{ agentId: Number(agent.agentId), agentRegistry: `eip155:${net.chain.chainId}:${net.chain.addresses.identityRegistry}` }]);
    expect(reg.services.find((e) => e.name === 'A2A')!.endpoint).toBe(agent.cardUrl);
    expect(reg.verity!.models).toEqual([{ name: 'wine-mlp', modelRoot: modelRootHex(quantized('wine-mlp')) }]);

    const served = (await (await fetch(agent.cardUrl, { headers: { 'A2A-Version': '1.0' } })).json()) as typeof fromChain.card;
    expect(served.name).toBe(reg.name);
    expect(served.name).toBe('verity-wine-agent');
    expect(served.supportedInterfaces[0]!.url).toBe(`${agent.baseUrl}/a2a/jsonrpc`);
    expect(served.skills.map((s) => s.tags[2])).toEqual(reg.verity!.models.map((m) => m.modelRoot));
    expect(served).toEqual(JSON.parse(JSON.stringify(fromChain.card)));
  });

  it('its on-chain file passes a plain ERC-8004 reader (ERC-721 tokenURI + JSON, nothing of Verity)', async () => {
    const pc = net.chain.as('agent').publicClient;
    const uri = await pc.readContract({ address: net.chain.addresses.identityRegistry, abi: parseAbi(['function tokenURI(uint256) view returns (string)']), functionName: 'tokenURI', args: [agent.agentId!] });
    const m = /^data:application\/json;base64,(.+)$/.exec(uri)!;
    const f = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as Record<string, any>;
    expect(f.type).toBe('https://eips.ethereum.org/EIPS/eip-8004#registration-v1');
    for (const k of ['name', 'description', 'image']) expect(typeof f[k]).toBe('string');
    expect(typeof f.x402Support).toBe('boolean');
    expect(typeof f.active).toBe('boolean');
    expect(f.services.find((s: { name: string }) => s.name === 'A2A').endpoint).toBe(agent.cardUrl);
    expect(f.registrations).toEqual([{ agentId: Number(agent.agentId), agentRegistry: `eip155:${await pc.getChainId()}:${net.chain.addresses.identityRegistry}` }]);
    // The A2A service endpoint is a card the SDK's client resolves.
    const card = (await (await fetch(f.services[0].endpoint)).json()) as { name: string };
    expect(card.name).toBe(f.name);
  });

  it("reads another agent's spec-form file (https agent URI, `services`) and uses its A2A endpoint", async () => {
    const thirdCard = { ...JSON.parse(JSON.stringify(agent.card)), name: 'third-party-agent' };
    let port = 0;
    const srv = createServer((req, res) => {
      res.writeHead(req.url === '/agent.json' || req.url === '/.well-known/agent-card.json' ? 200 : 404, { 'content-type': 'application/json' });
      if (req.url === '/agent.json') {
        const services = SPEC_EXAMPLE.services.map((x) => (x.name === 'A2A' ? { ...x, endpoint: `http://127.0.0.1:${port}/.well-known/agent-card.json` } : x));
        return res.end(JSON.stringify({ ...SPEC_EXAMPLE, name: 'third-party-agent', services }));
      }
      res.end(req.url === '/.well-known/agent-card.json' ? JSON.stringify(thirdCard) : '{}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as { port: number }).port;
    try {
      const { agentId } = await registerAgent(net.chain.as('requester'), { agentURI: `http://127.0.0.1:${port}/agent.json` });
      const got = await cardFromRegistry(net.chain.as('requester'), agentId);
      expect(got.registration.name).toBe('third-party-agent');
      expect(got.registration.verity).toBeUndefined();
      expect(got.registration.services.map((x) => x.name)).toEqual(['web', 'A2A', 'MCP', 'OASF', 'ENS', 'DID', 'email']);
      expect(got.card).toEqual(thirdCard);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('registers the public URL it is reachable at (--public-url)', async () => {
    const pub = await startA2aAgent({ network: net, name: 'public-agent', publicUrl: 'https://agent.verity.example/' });
    try {
      expect(pub.cardUrl).toBe('https://agent.verity.example/.well-known/agent-card.json');
      expect(pub.registration.services[0]!.endpoint).toBe(pub.cardUrl);
      expect(pub.card.supportedInterfaces[0]!.url).toBe('https://agent.verity.example/a2a/jsonrpc');
    } finally {
      await pub.close();
    }
  });
});

describe('A2A message/send on anvil', () => {
  it('returns a completed task with a finalized verified result', async () => {
    const c = await client();
    const model = quantized('wine-mlp');
    const row = modelData('wine-mlp').x[7]!;
    const res = await c.sendMessage({
      tenant: '',
      message: userMessage([{ content: { $case: 'data', value: { model: 'wine-mlp', input: row } }, metadata: undefined, filename: '', mediaType: 'application/json' }]),
      configuration: undefined,
      metadata: undefined,
    });
    const task = res as Task;
    expect(task.id).toBeTruthy();
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const part = task.artifacts[0]!.parts[0]!;
    expect(part.content?.$case).toBe('data');
    const result = (part.content as { value: VerifiedResult }).value;
    const local = localRun(model, [quantizeInput(model, row)]);
    expect(result.status).toBe('finalized');
    expect(result.outputs![0]!.data).toEqual(Array.from(local.outputs[0]!.data));
    expect(result.outputHash).toBe(local.outputHash);
    expect(Object.keys(result.txs)).toEqual(['post', 'claim', 'commit', 'finalize']);
    const again = await c.getTask({ tenant: '', id: task.id, historyLength: undefined });
    expect(again.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
  });

  it('a message without a request fails the task with a reason', async () => {
    const c = await client();
    const res = (await c.sendMessage({
      tenant: '',
      message: userMessage([{ content: { $case: 'text', value: 'hello' }, metadata: undefined, filename: '', mediaType: 'text/plain' }]),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    expect(res.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    const msg = res.status?.message?.parts[0]?.content;
    expect(msg?.$case === 'text' ? msg.value : '').toMatch(/No request in the message/);
  });
});

describe('A2A 1.0 and 0.3 clients (the SDK’s own), streaming, caching, cancel', () => {
  const request = (i: number) =>
    userMessage([{ content: { $case: 'data', value: { model: 'wine-mlp', input: modelData('wine-mlp').x[i]! } }, metadata: undefined, filename: '', mediaType: 'application/json' }]);

  async function streamToEnd(c: Awaited<ReturnType<typeof client>>, i: number) {
    const events: StreamResponse[] = [];
    for await (const ev of c.sendMessageStream({ tenant: '', message: request(i), configuration: undefined, metadata: undefined })) events.push(ev);
    const states = events.map((e) => (e.payload?.$case === 'statusUpdate' ? e.payload.value.status?.state : e.payload?.$case === 'task' ? e.payload.value.status?.state : undefined)).filter((x) => x !== undefined);
    const artifact = events.find((e) => e.payload?.$case === 'artifactUpdate');
    const value = artifact?.payload?.$case === 'artifactUpdate' ? (artifact.payload.value.artifact?.parts[0]?.content as { value: VerifiedResult }).value : undefined;
    const texts = events.map((e) => (e.payload?.$case === 'statusUpdate' ? e.payload.value.status?.message?.parts[0]?.content : undefined)).map((p) => (p?.$case === 'text' ? p.value : '')).filter(Boolean);
    const taskId = events.map((e) => (e.payload?.$case === 'statusUpdate' ? e.payload.value.taskId : e.payload?.$case === 'task' ? e.payload.value.id : '')).find(Boolean)!;
    return { events, states, value, texts, taskId };
  }

  function checkVerified(value: VerifiedResult | undefined, i: number) {
    const model = quantized('wine-mlp');
    const local = localRun(model, [quantizeInput(model, modelData('wine-mlp').x[i]!)]);
    expect(value?.status).toBe('finalized');
    expect(value?.outputHash).toBe(local.outputHash);
    expect(value?.outputs![0]!.data).toEqual(Array.from(local.outputs[0]!.data));
  }

  it('a 1.0 client fetches the card from the well-known path and streams a task to a verified result', async () => {
    const c = await client();
    const { states, value, texts } = await streamToEnd(c, 4);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(states).toContain(TaskState.TASK_STATE_WORKING);
    // Progress streamed: the on-chain steps and the challenge window counting down.
    expect(texts.some((t) => /committed on-chain/.test(t))).toBe(true);
    expect(texts.some((t) => /challenge window: \d+ s left/.test(t))).toBe(true);
    checkVerified(value, 4);
  });

  it('a 0.3 client (no A2A-Version; 0.3 card and wire format) streams a task to a verified result', async () => {
    const raw = await (await fetch(agent.cardUrl)).json();
    expect(raw.protocolVersion).toBe('0.3.0');
    expect(isLegacyAgentCard(raw)).toBe(true);
    const card = parseLegacyAgentCard(raw);
    const factory = new ClientFactory(ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ legacyCompat: { enabled: true } })] }));
    const c = await factory.createFromAgentCard(card);
    expect(c.protocolVersion).toMatch(/^0\.3/);
    const { states, value } = await streamToEnd(c as never, 5);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    checkVerified(value, 5);
  });

  it('GetTask reflects the on-chain task; cancel answers TaskNotCancelable', async () => {
    const c = await client();
    const { taskId, value } = await streamToEnd(c, 6);
    const t = await c.getTask({ tenant: '', id: taskId, historyLength: undefined });
    expect((t.metadata as { verity?: { taskId: string; chainStatus: string; finalized: boolean } }).verity).toEqual({ taskId: value!.taskId, chainStatus: 'finalized', finalized: true });
    const rpc = await fetch(`${agent.baseUrl}/a2a/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'CancelTask', params: { id: taskId } }),
    });
    const body = (await rpc.json()) as { error?: { code: number } };
    expect(body.error?.code).toBe(-32002); // TaskNotCancelableError
  });

  it('the card is cacheable per version (ETag, Vary: A2A-Version, 304)', async () => {
    const v1 = await fetch(agent.cardUrl, { headers: { 'A2A-Version': '1.0' } });
    expect(v1.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(v1.headers.get('vary')).toMatch(/A2A-Version/i);
    const etag = v1.headers.get('etag')!;
    expect((await v1.json()).supportedInterfaces.map((i: { protocolVersion: string }) => i.protocolVersion).sort()).toEqual(['0.3', '1.0']);
    const legacy = await fetch(agent.cardUrl);
    expect(legacy.headers.get('etag')).not.toBe(etag);
    expect((await fetch(agent.cardUrl, { headers: { 'A2A-Version': '1.0', 'if-none-match': etag } })).status).toBe(304);
  });
});
