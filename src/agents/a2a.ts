/**
 * An A2A endpoint (@a2a-js/sdk v1.0 server core, JSON-RPC binding, served by fastify on 127.0.0.1) for an agent
 * that sells verified inference. Its agent card is derived from the agent's ERC-8004 registration file — the JSON
 * the IdentityRegistry's agent URI points to (a data: URI, so it lives on-chain), in the spec's form (see
 * ./registration.ts): `services` [{ name: "A2A", endpoint: "<public base>/.well-known/agent-card.json" }, …],
 * `registrations` [{ agentId, agentRegistry: "eip155:<chainId>:<IdentityRegistry>" }], `supportedTrust`, and the
 * optional extension `verity: { models: [{ name, modelRoot }] }` (other readers ignore it).
 *
 * card.name / description = the file's; card.supportedInterfaces[0].url is the JSON-RPC endpoint next to the
 * registered agent card URL; card.skills = one `verified_infer` skill per registered model (tags carry the
 * modelRoot). A message carrying a data part { model, input | inputs, fee? } (or the same JSON as text) becomes a
 * task: submitted → working → an artifact with the verified result → completed (failed with a reason otherwise).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AGENT_CARD_PATH, A2A_PROTOCOL_VERSION, A2A_VERSION_HEADER, Role, TaskState, type AgentCard, type Message, type Part } from '@a2a-js/sdk';
import {
  AgentEvent,
  DefaultRequestHandler,
  defaultServerCallContextBuilder,
  InMemoryTaskStore,
  JsonRpcTransportHandler,
  validateVersion,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
} from '@a2a-js/sdk/server';
import { createHash } from 'node:crypto';
import { duplicateInterfacesForLegacy, isLegacyJsonRpcMethod } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { TaskNotCancelableError } from '@a2a-js/sdk/errors';
import type { TaskStore } from '@a2a-js/sdk/server';
import Fastify from 'fastify';
import type { Address } from 'viem';
import { registerAgent } from '../chain/actions/index.js';
import { identityRegistryAbi } from '../chain/artifacts/index.js';
import { sendContractTransaction } from '../chain/send.js';
import type { ProtocolClients } from '../chain/types.js';
import { BaseError } from '../errors.js';
import type { InferRequest, ModelInfo, VerityNetwork } from './network.js';
import { inferRequestSchema } from './schemas.js';
import { agentRegistryId, buildRegistration, parseRegistration, readRegistrationUri, registrationDataUri, serviceOf, type ReadRegistrationOptions, type RegistrationFile } from './registration.js';

export class A2aError extends BaseError {
  override name = 'A2aError';
}

export { ERC8004_REGISTRATION_TYPE, type RegistrationFile } from './registration.js';
export const JSONRPC_PATH = '/a2a/jsonrpc';

/** data:application/json;base64 URI of a registration file (what goes on-chain as the agent URI). */
export const registrationUri = registrationDataUri;

/** Parses a data: agent URI holding a registration file (any conformant file; `endpoints` accepted for `services`). */
export function parseRegistrationUri(uri: string): RegistrationFile {
  if (!/^data:/i.test(uri)) throw new A2aError('The agent URI is not a data: URI.', { details: uri.slice(0, 80), hint: 'Use readRegistrationUri for http(s) URIs.' });
  const comma = uri.indexOf(',');
  const meta = uri.slice(5, comma);
  const body = uri.slice(comma + 1);
  const text = /;base64/i.test(meta) ? Buffer.from(decodeURIComponent(body), 'base64').toString('utf8') : decodeURIComponent(body);
  try {
    return parseRegistration(JSON.parse(text), uri.slice(0, 40));
  } catch (e) {
    throw new A2aError('The agent URI does not hold an ERC-8004 registration file.', { details: e instanceof BaseError ? e.details : (e as Error).message, cause: e });
  }
}

/** The A2A agent card a registration file describes (see the module comment). */
export function agentCardOf(reg: RegistrationFile): AgentCard {
  const a2a = serviceOf(reg, 'A2A');
  if (!a2a) throw new A2aError('The registration file has no A2A endpoint.');
  const base = a2a.endpoint.replace(new RegExp(`/${AGENT_CARD_PATH.replace(/\./g, '\\.')}$`), '');
  return {
    name: reg.name,
    description: reg.description,
    // The same JSON-RPC endpoint speaks 1.0 and 0.3 (the SDK's legacy handler).
    supportedInterfaces: duplicateInterfacesForLegacy([{ url: `${base}${JSONRPC_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION }], ['JSONRPC']),
    provider: undefined,
    version: '0.1.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [] },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['application/json', 'text/plain'],
    defaultOutputModes: ['application/json'],
    skills: (reg.verity?.models ?? []).map((m) => ({
      id: `verified_infer:${m.name}`,
      name: `Verified ${m.name}`,
      description: `Runs ${m.name} (modelRoot ${m.modelRoot}) through the Verity market; answers once the result is finalized on-chain. Send a data part {"model":"${m.name}","input":[…]}.`,
      tags: ['verified-inference', m.name, m.modelRoot],
      examples: [],
      inputModes: ['application/json', 'text/plain'],
      outputModes: ['application/json'],
      securityRequirements: [],
    })),
    signatures: [],
  };
}

/** The same card in A2A 0.3's JSON shape (served to clients that send no A2A-Version or a 0.x one). */
export function legacyCardOf(card: AgentCard): Record<string, unknown> {
  const rpc = card.supportedInterfaces.find((i) => i.protocolBinding === 'JSONRPC')!;
  return {
    protocolVersion: '0.3.0',
    name: card.name,
    description: card.description,
    url: rpc.url,
    preferredTransport: 'JSONRPC',
    additionalInterfaces: [{ url: rpc.url, transport: 'JSONRPC' }],
    version: card.version,
    capabilities: { streaming: card.capabilities?.streaming ?? false, pushNotifications: false, stateTransitionHistory: false },
    defaultInputModes: card.defaultInputModes,
    defaultOutputModes: card.defaultOutputModes,
    skills: card.skills.map((k) => ({ id: k.id, name: k.name, description: k.description, tags: k.tags, examples: k.examples, inputModes: k.inputModes, outputModes: k.outputModes })),
  };
}

/**
 * Task store whose reads reflect the chain: a task carrying a verified result gets `metadata.verity` = { taskId,
 * chainStatus, finalized } read from the network (the market's task) at every GetTask.
 */
export class ChainAwareTaskStore implements TaskStore {
  private readonly inner = new InMemoryTaskStore();
  constructor(private readonly network: VerityNetwork) {}
  save(task: Parameters<TaskStore['save']>[0], ctx: Parameters<TaskStore['save']>[1]) {
    return this.inner.save(task, ctx);
  }
  list(params: Parameters<TaskStore['list']>[0], ctx: Parameters<TaskStore['list']>[1]) {
    return this.inner.list(params, ctx);
  }
  async load(taskId: string, ctx: Parameters<TaskStore['load']>[1]) {
    const t = await this.inner.load(taskId, ctx);
    // The verified-result artifact names the market's task (artifactId verified-result-<taskId>).
    const chainTaskId = t?.artifacts.map((a) => /^verified-result-(\d+)$/.exec(a.artifactId)?.[1]).find(Boolean);
    if (!t || !chainTaskId) return t;
    const st = await this.network.taskStatus(chainTaskId).catch(() => undefined);
    if (!st) return t;
    return { ...t, metadata: { ...(t.metadata ?? {}), verity: { taskId: chainTaskId, chainStatus: st.status, finalized: st.finalized } } };
  }
}

/** The inference request in a user message: a data part, or a text part holding the same JSON. */
export function requestOf(message: Message): InferRequest {
  for (const p of message.parts) {
    let v: unknown;
    if (p.content?.$case === 'data') v = p.content.value;
    else if (p.content?.$case === 'text') {
      try {
        v = JSON.parse(p.content.value);
      } catch {
        continue;
      }
    } else continue;
    const r = inferRequestSchema.safeParse(v);
    if (r.success) return r.data;
    throw new A2aError('The request is not a verified inference request.', { details: r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
  }
  throw new A2aError('No request in the message.', { hint: 'Send a data part {"model": "<name>", "input": [ … ]}.' });
}

function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function agentMessage(taskId: string, contextId: string, parts: Part[]): Message {
  return { messageId: randomUUID(), contextId, taskId, role: Role.ROLE_AGENT, parts, metadata: undefined, extensions: [], referenceTaskIds: [] };
}

/** The executor: one verified_infer per task. */
export class VerifiedInferenceExecutor implements AgentExecutor {
  constructor(private readonly network: VerityNetwork) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = ctx;
    const status = (state: TaskState, message?: Message) =>
      AgentEvent.statusUpdate({ taskId, contextId, status: { state, message, timestamp: new Date().toISOString() }, metadata: undefined });
    if (!ctx.task) {
      bus.publish(
        AgentEvent.task({
          id: taskId,
          contextId,
          status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: new Date().toISOString() },
          artifacts: [],
          history: [ctx.userMessage],
          metadata: undefined,
        }),
      );
    }
    try {
      const req = requestOf(ctx.userMessage);
      bus.publish(status(TaskState.TASK_STATE_WORKING, agentMessage(taskId, contextId, [textPart(`Posting ${req.model} to the Verity market…`)])));
      // Each step on-chain (posted, claimed, committed, the challenge window counting down) is a status update.
      const result = await this.network.verifiedInfer(req, {
        onProgress: (p) => {
          if (p.stage === 'finalized') return;
          bus.publish(
            AgentEvent.statusUpdate({
              taskId,
              contextId,
              status: { state: TaskState.TASK_STATE_WORKING, message: agentMessage(taskId, contextId, [textPart(p.message)]), timestamp: new Date().toISOString() },
              metadata: { verity: { stage: p.stage, taskId: p.taskId, ...(p.secondsLeft === undefined ? {} : { secondsLeft: p.secondsLeft }) } },
            }),
          );
        },
      });
      const value = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: {
            artifactId: `verified-result-${result.taskId ?? result.id}`,
            name: 'verified-result',
            description: `${result.model} on the Verity market: ${result.status}`,
            parts: [{ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' }],
            metadata: undefined,
            extensions: [],
          },
          append: false,
          lastChunk: true,
          metadata: undefined,
        }),
      );
      const done = result.status === 'finalized';
      const summary = done
        ? `Finalized: task ${result.taskId}, output digest ${result.outputHash}${result.argmax === undefined ? '' : `, argmax ${result.argmax}`}.`
        : `Task ${result.taskId ?? result.id} ended ${result.status}${result.error ? `: ${result.error}` : ''}.`;
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: { state: done ? TaskState.TASK_STATE_COMPLETED : TaskState.TASK_STATE_FAILED, message: agentMessage(taskId, contextId, [textPart(summary)]), timestamp: new Date().toISOString() },
          metadata: { verity: { taskId: result.taskId, settlementTx: result.txs.finalize ?? null } },
        }),
      );
    } catch (e) {
      const msg = e instanceof BaseError ? `${e.shortMessage}${e.details ? ` (${e.details})` : ''}` : e instanceof Error ? e.message : String(e);
      bus.publish(status(TaskState.TASK_STATE_FAILED, agentMessage(taskId, contextId, [textPart(msg)])));
    }
  }

  async cancelTask(taskId: string): Promise<void> {
    // A task posted to the market runs to finality (its fee is escrowed, a worker may have claimed it).
    throw new TaskNotCancelableError(`Task ${taskId} cannot be canceled: verified tasks run to finality on-chain.`);
  }
}

export interface A2aAgentOptions {
  network: VerityNetwork;
  name?: string;
  description?: string;
  /** Registers the agent in the IdentityRegistry with these clients (its owner); without, the card is served unregistered. */
  identity?: ProtocolClients;
  /** Also advertise an MCP endpoint in the registration file. */
  mcpUrl?: string;
  port?: number;
  /** The URL this agent is reachable at from outside (registered on-chain); default http://127.0.0.1:<port>. */
  publicUrl?: string;
  /** Registration file extras (spec fields). */
  image?: string;
}

export interface A2aAgent {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** The agent card URL registered as the A2A endpoint. */
  cardUrl: string;
  card: AgentCard;
  registration: RegistrationFile;
  /** ERC-8004 agent id (when registered) and its on-chain agent URI. */
  agentId?: bigint;
  agentURI?: string;
  close(): Promise<void>;
}

/** Starts the A2A endpoint on 127.0.0.1, registering its ERC-8004 identity first when `identity` is given. */
export async function startA2aAgent(o: A2aAgentOptions): Promise<A2aAgent> {
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  let handler: DefaultRequestHandler | undefined;
  let card: AgentCard | undefined;
  let legacyHandler: LegacyJsonRpcTransportHandler | undefined;
  const isLegacy = (v: string | undefined) => v === undefined || /^0\./.test(v);
  app.get(`/${AGENT_CARD_PATH}`, async (req, reply) => {
    if (!card) return reply.status(503).send({ error: 'NotReady' });
    // Per-version card (no A2A-Version header = a 0.3 client), cacheable: ETag per version, Vary: A2A-Version.
    const v = req.headers[A2A_VERSION_HEADER.toLowerCase()];
    const body = JSON.stringify(isLegacy(typeof v === 'string' ? v : undefined) ? legacyCardOf(card) : card);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    reply.header('etag', etag).header('vary', A2A_VERSION_HEADER).header('cache-control', 'public, max-age=300');
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.type('application/json').send(body);
  });
  app.post(JSONRPC_PATH, async (req, reply) => {
    if (!handler || !legacyHandler || !card) return reply.status(503).send({ error: 'NotReady' });
    const headerVersion = req.headers[A2A_VERSION_HEADER.toLowerCase()];
    const requested = typeof headerVersion === 'string' ? headerVersion : undefined;
    const method = (req.body as { method?: unknown } | undefined)?.method;
    // A 0.3 client sends no A2A-Version (or 0.x) and 0.3 method names (message/send, message/stream, tasks/get…).
    const legacy = isLegacy(requested) && isLegacyJsonRpcMethod(method);
    const context = defaultServerCallContextBuilder({
      extensions: undefined,
      user: undefined,
      headers: req.headers,
      requestedVersion: legacy ? '0.3' : requested,
    } as Parameters<typeof defaultServerCallContextBuilder>[0]);
    const id = (req.body as { id?: string | number } | undefined)?.id ?? null;
    try {
      let out: unknown;
      if (legacy) out = await legacyHandler.handle(req.body as Record<string, unknown>, context);
      else {
        validateVersion(context.requestedVersion, card, 'JSONRPC');
        out = await new JsonRpcTransportHandler(handler).handle(req.body as Record<string, unknown>, context);
      }
      if (out && typeof (out as AsyncGenerator)[Symbol.asyncIterator] === 'function') {
        // Streaming (SendStreamingMessage / message/stream): one SSE event per JSON-RPC response.
        reply.hijack();
        reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        try {
          for await (const ev of out as AsyncGenerator) reply.raw.write(`data: ${JSON.stringify(ev)}\n\n`);
        } catch (e) {
          reply.raw.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id, error: JsonRpcTransportHandler.mapToJSONRPCError(e) })}\n\n`);
        }
        reply.raw.end();
        return reply;
      }
      return reply.send(out);
    } catch (e) {
      return reply.send({ jsonrpc: '2.0', id, error: JsonRpcTransportHandler.mapToJSONRPCError(e) });
    }
  });
  await app.listen({ host: '127.0.0.1', port: o.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  const publicBase = (o.publicUrl ?? baseUrl).replace(/\/+$/, '');
  const cardUrl = `${publicBase}/${AGENT_CARD_PATH}`;
  try {
    const models: ModelInfo[] = await o.network.listModels();
    const registration = buildRegistration({
      name: o.name ?? 'verity-inference-agent',
      description: o.description ?? 'Sells verified integer inference: every answer is committed on-chain with its trace root and finalized after a challenge window.',
      image: o.image,
      services: [{ name: 'A2A', endpoint: cardUrl, version: A2A_PROTOCOL_VERSION }, ...(o.mcpUrl ? [{ name: 'MCP', endpoint: o.mcpUrl, version: '2025-11-25' }] : [])],
      supportedTrust: ['reputation', 'crypto-economic'],
      verity: { models: models.map((m) => ({ name: m.name, modelRoot: m.modelRoot })) },
    });
    let agentId: bigint | undefined;
    let agentURI: string | undefined;
    if (o.identity) {
      // Register, then point the URI at the file that names its own registration (ERC-8004 `registrations`).
      const r = await registerAgent(o.identity, { agentURI: registrationUri(registration) });
      agentId = r.agentId;
      const chainId = await o.identity.publicClient.getChainId();
      registration.registrations = [{ agentId: Number(agentId), agentRegistry: agentRegistryId(chainId, o.identity.addresses.identityRegistry) }];
      agentURI = registrationUri(registration);
      await sendContractTransaction(o.identity, {
        contract: 'IdentityRegistry',
        address: o.identity.addresses.identityRegistry,
        abi: identityRegistryAbi,
        functionName: 'setAgentURI',
        args: [agentId, agentURI],
      });
    }
    card = agentCardOf(registration);
    handler = new DefaultRequestHandler(card, new ChainAwareTaskStore(o.network), new VerifiedInferenceExecutor(o.network));
    legacyHandler = new LegacyJsonRpcTransportHandler(handler);
    return {
      baseUrl,
      cardUrl,
      card,
      registration,
      ...(agentId === undefined ? {} : { agentId, agentURI }),
      close: () => app.close(),
    };
  } catch (e) {
    await app.close();
    throw e;
  }
}

/**
 * Reads an agent's registration file from the IdentityRegistry (tokenURI: data:, http(s):// or ipfs://) and its agent
 * card: derived from the file for a Verity agent (the `verity` extension), else fetched from the file's A2A service
 * endpoint (any other ERC-8004 agent).
 */
export async function cardFromRegistry(
  client: Pick<ProtocolClients, 'publicClient' | 'addresses'>,
  agentId: bigint,
  read: ReadRegistrationOptions = {},
): Promise<{ uri: string; registration: RegistrationFile; card: AgentCard; owner: Address }> {
  const [uri, owner] = await Promise.all([
    client.publicClient.readContract({ address: client.addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'tokenURI', args: [agentId] }),
    client.publicClient.readContract({ address: client.addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'ownerOf', args: [agentId] }),
  ]);
  const registration = await readRegistrationUri(uri, read);
  if (registration.verity) return { uri, registration, card: agentCardOf(registration), owner };
  const a2a = serviceOf(registration, 'A2A');
  if (!a2a) throw new A2aError(`Agent ${agentId} advertises no A2A service.`, { details: `services: ${registration.services.map((s) => s.name).join(', ') || '(none)'}` });
  const res = await (read.fetch ?? fetch)(a2a.endpoint, { signal: AbortSignal.timeout(read.timeoutMs ?? 5000), headers: { accept: 'application/json' } }).catch((e: unknown) => {
    throw new A2aError(`Could not fetch agent ${agentId}'s card.`, { details: `${a2a.endpoint}: ${(e as Error).message}`, cause: e });
  });
  if (!res.ok) throw new A2aError(`Could not fetch agent ${agentId}'s card.`, { details: `${a2a.endpoint}: HTTP ${res.status}` });
  return { uri, registration, card: (await res.json()) as AgentCard, owner };
}
