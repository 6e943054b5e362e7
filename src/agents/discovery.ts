/**
 * Peers found through the chain instead of a `--peers` list: every agent registered in the IdentityRegistry (its
 * `Registered` and `URIUpdated` events, followed with {@link LogFollower}) points at an ERC-8004 registration file;
 * the endpoints of its services named `serviceName` (default `verity-node`, what `verity node run --public-url`
 * registers) are the candidates. A refresh re-reads changed files, health-checks every candidate (GET
 * `<endpoint>/health`, short timeout) and keeps only the ones that answer — a peer that is gone drops out and comes
 * back when it answers again.
 */
import type { Address, PublicClient } from 'viem';
import { identityRegistryAbi } from '../chain/artifacts/index.js';
import { LogFollower, type FollowerCursorStore } from '../chain/follower.js';
import { readRegistrationUri, type ReadRegistrationOptions } from './registration.js';

/**
 * What discovery learned, persisted beside its cursor so a restart neither rescans from block 0 nor forgets the
 * agents it found: each agent's endpoints, each endpoint's owner and role, and the agents whose registration
 * changed but whose file is not yet read (saved before the cursor moves past their events).
 */
export interface PeerDirectory {
  endpoints: [agentId: string, endpoints: string[]][];
  about: [endpoint: string, info: { owner?: string; role?: string }][];
  dirty: string[];
}

export interface PeerDirectoryStore {
  load(): PeerDirectory | undefined;
  save(d: PeerDirectory): void;
}

export interface PeerDiscoveryOptions {
  client: PublicClient;
  identityRegistry: Address;
  /** Follower cursor (the node keeps it in its store); default in memory. */
  cursor?: FollowerCursorStore;
  /** The endpoints found so far (the node keeps them in its store with the cursor); default in memory. A persisted
   * cursor needs a persisted directory: the events behind the cursor are not read again. */
  directory?: PeerDirectoryStore;
  serviceName?: string;
  /** Endpoints never returned (this node's own public URL). */
  exclude?: string[];
  /** Health-check path and timeout (default /health, 2 s); null: no health check. */
  healthPath?: string | null;
  healthTimeoutMs?: number;
  read?: ReadRegistrationOptions;
  confirmations?: number;
}

export class PeerDiscovery {
  private readonly o: PeerDiscoveryOptions;
  private readonly follower: LogFollower;
  /** agentId → service endpoints from its current registration file. */
  private readonly endpoints = new Map<string, string[]>();
  /** endpoint → the agent's owner (lowercase) and the `role` its service declares (a Verity node's role), if any. */
  private readonly about = new Map<string, { owner?: string; role?: string }>();
  /** Agents whose registration changed and whose file is still to be read. */
  private readonly dirty = new Set<string>();
  private live: string[] = [];
  /** Date.now() of the last completed refresh (0: never). */
  refreshedAt = 0;

  constructor(o: PeerDiscoveryOptions) {
    this.o = o;
    let mem: ReturnType<FollowerCursorStore['load']>;
    const cursor = o.cursor ?? { load: () => mem, save: (s) => void (mem = s) };
    this.follower = new LogFollower({ client: o.client, address: o.identityRegistry, abi: identityRegistryAbi, eventNames: ['Registered', 'URIUpdated'], cursor, confirmations: o.confirmations ?? 0 });
    const saved = o.directory?.load();
    if (saved) {
      for (const [id, eps] of saved.endpoints) this.endpoints.set(id, eps);
      for (const [e, a] of saved.about) this.about.set(e, a);
      for (const id of saved.dirty) this.dirty.add(id);
    }
  }

  private persist(): void {
    this.o.directory?.save({ endpoints: [...this.endpoints.entries()], about: [...this.about.entries()], dirty: [...this.dirty] });
  }

  /** The endpoints that answered at the last refresh. */
  peers(): string[] {
    return [...this.live];
  }

  /**
   * The live endpoints ordered for a purpose: those of agents owned by `owner` first, then those whose service
   * declares `role`, then the rest (a peer that holds the data is asked first; any other may still serve it).
   */
  ordered(prefer: { owner?: string; role?: string } = {}): string[] {
    const rank = (e: string) => {
      const a = this.about.get(e);
      if (prefer.owner && a?.owner === prefer.owner.toLowerCase()) return 0;
      if (prefer.role && a?.role === prefer.role) return 1;
      return 2;
    };
    return this.live.map((e, i) => ({ e, i, r: rank(e) })).sort((x, y) => x.r - y.r || x.i - y.i).map((x) => x.e);
  }

  /** Owner and declared role of a registered endpoint. */
  describe(endpoint: string): { owner?: string; role?: string } | undefined {
    return this.about.get(endpoint.replace(/\/+$/, ''));
  }

  /** Every endpoint registered, reachable or not. */
  registered(): Map<string, string[]> {
    return new Map(this.endpoints);
  }

  /** Follows new registrations to the chain head, re-reads the files they point to, health-checks the endpoints. */
  async refresh(): Promise<string[]> {
    await this.follower.catchUp({
      // Recorded before the follower saves its cursor past these events (a crash in between re-reads them).
      onLogs: (logs) => {
        for (const l of logs) this.dirty.add(String(l.args.agentId));
        if (logs.length) this.persist();
      },
    });
    const name = (this.o.serviceName ?? 'verity-node').toLowerCase();
    for (const id of [...this.dirty]) {
      const uri = await this.o.client
        .readContract({ address: this.o.identityRegistry, abi: identityRegistryAbi, functionName: 'tokenURI', args: [BigInt(id)] })
        .catch(() => '');
      // An unreadable or non-conformant file simply advertises nothing.
      const reg = uri ? await readRegistrationUri(uri, this.o.read).catch(() => undefined) : undefined;
      const services = (reg?.services ?? []).filter((s) => s.name.toLowerCase() === name);
      const eps = services.map((s) => s.endpoint.replace(/\/+$/, ''));
      if (eps.length) {
        // The owner now (the NFT may have moved since Registered); unreadable: unknown.
        const owner = await this.o.client.readContract({ address: this.o.identityRegistry, abi: identityRegistryAbi, functionName: 'ownerOf', args: [BigInt(id)] }).catch(() => undefined);
        services.forEach((s, i) => this.about.set(eps[i]!, { ...(owner ? { owner: owner.toLowerCase() } : {}), ...(typeof s.role === 'string' ? { role: s.role } : {}) }));
        this.endpoints.set(id, eps);
      } else this.endpoints.delete(id);
      this.dirty.delete(id);
      this.persist();
    }
    const exclude = new Set((this.o.exclude ?? []).map((e) => e.replace(/\/+$/, '')));
    const all = [...new Set([...this.endpoints.values()].flat())].filter((e) => !exclude.has(e));
    const path = this.o.healthPath === undefined ? '/health' : this.o.healthPath;
    const ok = await Promise.all(
      all.map(async (e) => {
        if (path === null) return true;
        try {
          const r = await fetch(`${e}${path}`, { signal: AbortSignal.timeout(this.o.healthTimeoutMs ?? 2000) });
          return r.ok;
        } catch {
          return false;
        }
      }),
    );
    this.live = all.filter((_, i) => ok[i]);
    this.refreshedAt = Date.now();
    return this.peers();
  }
}
