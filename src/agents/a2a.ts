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
import Fastify from 'fastify';
import type { Address } from 'viem';
import { z } from 'zod';
import { registerAgent } from '../chain/actions/index.js';
import { identityRegistryAbi } from '../chain/artifacts/index.js';
import { sendContractTransaction } from '../chain/send.js';
import type { ProtocolClients } from '../chain/types.js';
import { BaseError } from '../errors.js';
import type { InferRequest, ModelInfo, VerityNetwork } from './network.js';
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
    supportedInterfaces: [{ url: `${base}${JSONRPC_PATH}`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION }],
    provider: undefined,
    version: '0.1.0',
    capabilities: { streaming: false, pushNotifications: false, extensions: [] },
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

const requestSchema = z.object({
  model: z.string().min(1),
  input: z.array(z.number()).optional(),
  inputs: z.array(z.object({ dtype: z.enum(['i8', 'u8', 'i32']), shape: z.array(z.number().int().positive()), data: z.array(z.number().int()) })).optional(),
  fee: z.string().regex(/^\d+$/).optional(),
});

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
    const r = requestSchema.safeParse(v);
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
      const result = await this.network.verifiedInfer(req);
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
        ? `Finalized: task ${result.taskId}, trace root ${result.traceRoot}${result.argmax === undefined ? '' : `, argmax ${result.argmax}`}.`
        : `Task ${result.taskId ?? result.id} ended ${result.status}${result.error ? `: ${result.error}` : ''}.`;
      bus.publish(status(done ? TaskState.TASK_STATE_COMPLETED : TaskState.TASK_STATE_FAILED, agentMessage(taskId, contextId, [textPart(summary)])));
    } catch (e) {
      const msg = e instanceof BaseError ? `${e.shortMessage}${e.details ? ` (${e.details})` : ''}` : e instanceof Error ? e.message : String(e);
      bus.publish(status(TaskState.TASK_STATE_FAILED, agentMessage(taskId, contextId, [textPart(msg)])));
    }
  }

  async cancelTask(taskId: string): Promise<void> {
    // A task posted to the market runs to finality (its fee is escrowed, a worker may have claimed it).
    throw new A2aError(`Task ${taskId} cannot be canceled: verified tasks run to finality on-chain.`);
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
  app.get(`/${AGENT_CARD_PATH}`, async (_req, reply) => {
    if (!card) return reply.status(503).send({ error: 'NotReady' });
    return reply.header('cache-control', 'no-cache').send(card);
  });
  app.post(JSONRPC_PATH, async (req, reply) => {
    if (!handler || !card) return reply.status(503).send({ error: 'NotReady' });
    const headerVersion = req.headers[A2A_VERSION_HEADER.toLowerCase()];
    const context = defaultServerCallContextBuilder({
      extensions: undefined,
      user: undefined,
      headers: req.headers,
      requestedVersion: typeof headerVersion === 'string' ? headerVersion : undefined,
    } as Parameters<typeof defaultServerCallContextBuilder>[0]);
    try {
      validateVersion(context.requestedVersion, card, 'JSONRPC');
      const out = await new JsonRpcTransportHandler(handler).handle(req.body as Record<string, unknown>, context);
      if (out && typeof (out as AsyncGenerator)[Symbol.asyncIterator] === 'function') {
        const id = (req.body as { id?: string | number } | undefined)?.id ?? null;
        return reply.send({ jsonrpc: '2.0', id, error: { code: -32004, message: 'Streaming is not supported by this agent.' } });
      }
      return reply.send(out);
    } catch (e) {
      const id = (req.body as { id?: string | number } | undefined)?.id ?? null;
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
    handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), new VerifiedInferenceExecutor(o.network));
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
