/**
 * Peers from the chain (docs/erc8004.md): with no `--peers`, a node finds the APIs it asks for batch data through
 * the agents' ERC-8004 registrations — agent URI → registration file → its `verity-node` service endpoints — with
 * {@link PeerDiscovery} (registrations followed, endpoints health-checked). The list is refreshed when it is older
 * than `discoveryRefreshMs` and again at once (at most every second) when no listed peer served what was asked, so
 * a peer that is gone drops out and a new or moved one is found. A `--peers` list, when given, is used as is.
 *
 * Each node announces itself the same way: its agent's URI is a registration file whose `verity-node` service
 * (with the node's `role`) points at its public API URL; a URL that changed (a restart on another port) is updated
 * with setAgentURI.
 */
import { identityRegistryAbi } from '../chain/artifacts/index.js';
import { eventsIn } from '../chain/call.js';
import { PeerDiscovery, type PeerDirectory } from '../agents/discovery.js';
import type { FollowerState } from '../chain/follower.js';
import { agentRegistryId, buildRegistration, readRegistrationUri, registrationDataUri, serviceOf } from '../agents/registration.js';
import type { NodeContext } from './context.js';
import { registeredAgentOf, sendCall } from './context.js';
import type { RoleName } from './role-name.js';

const trim = (u: string) => u.replace(/\/+$/, '');

/** The registration file a node's agent points to: its API as `web` and as `verity-node` (with its role). */
export function nodeRegistrationUri(publicUrl: string, role: RoleName, reg?: { chainId: number; identityRegistry: string; agentId: bigint }): string {
  const url = trim(publicUrl);
  return registrationDataUri(
    buildRegistration({
      name: `verity-${role}`,
      description: `Verity ${role} node (verified integer inference)`,
      services: [
        { name: 'web', endpoint: url },
        { name: 'verity-node', endpoint: url, version: '1', role },
      ],
      ...(reg ? { registrations: [{ agentId: reg.agentId, agentRegistry: agentRegistryId(reg.chainId, reg.identityRegistry) }] } : {}),
      supportedTrust: ['reputation', 'crypto-economic'],
    }),
  );
}

/** This account's agent id (kv `agentId`, else its first Registered event), or undefined. */
async function knownAgent(ctx: NodeContext): Promise<bigint | undefined> {
  const known = ctx.store.getKv('agentId');
  if (known) return BigInt(known);
  const mine = await registeredAgentOf(ctx);
  if (mine === undefined) return undefined;
  ctx.store.setKv('agentId', String(mine));
  return mine;
}

/**
 * Registers this node's agent with a registration file pointing at `ctx.publicUrl`, or, when the agent exists and
 * its file's `verity-node` endpoint is another URL, updates its URI. Returns the agent id.
 */
export async function announce(ctx: NodeContext, role: RoleName): Promise<bigint> {
  const url = ctx.publicUrl;
  if (!url) throw new Error('announce: no public URL');
  let agentId = await knownAgent(ctx);
  if (agentId === undefined) {
    const r = await sendCall(ctx, 'agent:register', ctx.calls.identity.register([nodeRegistrationUri(url, role)]));
    const ev = eventsIn(r, identityRegistryAbi, ctx.addresses.identityRegistry, 'Registered')[0];
    if (!ev) throw new Error('register: no Registered event');
    ctx.store.setKv('agentId', String(ev.agentId));
    agentId = ev.agentId;
  }
  const uri = await ctx.publicClient.readContract({ address: ctx.addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'tokenURI', args: [agentId] });
  const reg = await readRegistrationUri(uri).catch(() => undefined);
  const current = reg ? serviceOf(reg, 'verity-node') : undefined;
  if (current && trim(current.endpoint) === trim(url) && current.role === role && reg!.registrations.length > 0) return agentId;
  // The file also names its own registration (agentId + registry), which is only known once registered.
  const next = nodeRegistrationUri(url, role, { chainId: await ctx.publicClient.getChainId(), identityRegistry: ctx.addresses.identityRegistry, agentId });
  const block = await ctx.publicClient.getBlockNumber();
  await sendCall(ctx, `agent:uri:${agentId}:${block}`, ctx.calls.identity.setAgentURI([agentId, next]));
  ctx.log.info({ agentId: String(agentId), url }, 'agent URI points at this node');
  return agentId;
}

const discoveries = new WeakMap<NodeContext, PeerDiscovery>();
const forcedAt = new WeakMap<NodeContext, number>();

/** kv keys of discovery's registration cursor and of the endpoints it found (both survive a restart), per registry. */
export function discoveryKeys(identityRegistry: string): { cursor: string; directory: string } {
  const r = identityRegistry.toLowerCase();
  return { cursor: `follow:discovery:${r}`, directory: `discovery:directory:${r}` };
}

/**
 * The node's {@link PeerDiscovery} (created on first use; its own public URL excluded). Its cursor and what it found
 * are kept in the store's kv, so a restarted node reads only the registrations made since.
 */
export function discoveryOf(ctx: NodeContext): PeerDiscovery {
  let d = discoveries.get(ctx);
  if (!d) {
    const kv = <T>(key: string) => ({
      load: (): T | undefined => {
        const v = ctx.store.getKv(key);
        return v ? (JSON.parse(v) as T) : undefined;
      },
      save: (v: T) => ctx.store.setKv(key, JSON.stringify(v)),
    });
    const keys = discoveryKeys(ctx.addresses.identityRegistry);
    d = new PeerDiscovery({
      client: ctx.publicClient,
      identityRegistry: ctx.addresses.identityRegistry,
      cursor: kv<FollowerState>(keys.cursor),
      directory: kv<PeerDirectory>(keys.directory),
      exclude: ctx.publicUrl ? [trim(ctx.publicUrl)] : [],
      confirmations: ctx.follow?.confirmations ?? 0,
      healthTimeoutMs: 2_000,
    });
    discoveries.set(ctx, d);
  }
  return d;
}

/** True when the node uses discovery (no fixed peers list). */
export function discovers(ctx: NodeContext): boolean {
  return !(ctx.peers && ctx.peers.length > 0);
}

/**
 * Peers to ask, best first: the fixed `--peers` list as given, else the discovered live endpoints ordered by
 * `prefer` (the agent that holds the data first). `force`: re-read the registrations now (at most once a second).
 */
export async function peersFor(ctx: NodeContext, prefer: { owner?: string; role?: RoleName } = {}, force = false): Promise<string[]> {
  if (!discovers(ctx)) return ctx.peers!;
  const d = discoveryOf(ctx);
  const now = Date.now();
  const stale = now - d.refreshedAt > (ctx.discoveryRefreshMs ?? 10_000);
  const mayForce = force && now - (forcedAt.get(ctx) ?? 0) >= 1_000;
  if (d.refreshedAt === 0 || stale || mayForce) {
    if (force) forcedAt.set(ctx, now);
    try {
      await d.refresh();
    } catch (e) {
      // A failed refresh (RPC down) keeps the last list.
      ctx.log.warn({ err: (e as Error).message.split('\n')[0] }, 'peer discovery refresh failed; using the last list');
    }
  }
  return d.ordered(prefer);
}
