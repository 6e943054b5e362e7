/**
 * Peers found from on-chain ERC-8004 registrations (no --peers): two agents register files with `verity-node`
 * services; discovery lists the ones whose /health answers, drops one that goes away, re-reads an updated URI.
 * A node keeps discovery's cursor and what it found in its store: restarted, it scans only the blocks since.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerDiscovery } from '../../src/agents/discovery.js';
import { EmbeddedChain } from '../../src/agents/embedded.js';
import { buildRegistration, registrationDataUri } from '../../src/agents/registration.js';
import { registerAgent } from '../../src/chain/actions/index.js';
import { identityRegistryAbi } from '../../src/chain/artifacts/index.js';
import { anvilKey } from '../../src/chain/anvil.js';
import { sendContractTransaction } from '../../src/chain/send.js';
import { discoveryKeys, discoveryOf } from '../../src/node/discovery.js';
import { createNode } from '../../src/node/node.js';
import { quantized } from '../onnx/models.js';

let chain: EmbeddedChain;
const servers: Server[] = [];
async function healthServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}
const fileOf = (name: string, url: string) => registrationDataUri(buildRegistration({ name, services: [{ name: 'web', endpoint: url }, { name: 'verity-node', endpoint: url, version: '1' }] }));

beforeAll(async () => {
  chain = await EmbeddedChain.start();
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  await chain?.stop();
});

describe('PeerDiscovery', () => {
  it('finds live verity-node endpoints from the registrations, drops a gone peer, follows URI updates', async () => {
    const a = await healthServer();
    const b = await healthServer();
    const { agentId: idA } = await registerAgent(chain.as('worker'), { agentURI: fileOf('worker-a', a.url) });
    await registerAgent(chain.as('requester'), { agentURI: fileOf('requester-b', b.url) });
    const d = new PeerDiscovery({ client: chain.publicClient, identityRegistry: chain.addresses.identityRegistry, healthTimeoutMs: 500 });
    expect((await d.refresh()).sort()).toEqual([a.url, b.url].sort());
    // Gone: b stops answering.
    b.server.closeAllConnections();
    await new Promise<void>((r) => b.server.close(() => r()));
    servers.splice(servers.indexOf(b.server), 1);
    expect(await d.refresh()).toEqual([a.url]);
    expect(d.registered().size).toBeGreaterThanOrEqual(2);
    // A moves: setAgentURI to a new endpoint.
    const c = await healthServer();
    await sendContractTransaction(chain.as('worker'), { contract: 'IdentityRegistry', address: chain.addresses.identityRegistry, abi: identityRegistryAbi, functionName: 'setAgentURI', args: [idA, fileOf('worker-a', c.url)] });
    expect(await d.refresh()).toEqual([c.url]);
    // Own URL excluded.
    const self = new PeerDiscovery({ client: chain.publicClient, identityRegistry: chain.addresses.identityRegistry, exclude: [c.url] });
    expect(await self.refresh()).toEqual([]);
  });

  it('a node keeps the discovery cursor and directory in its store: a restart does not rescan from block 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'verity-disc-cursor-'));
    try {
      const a = await healthServer();
      await registerAgent(chain.as('agent'), { agentURI: fileOf('worker-p', a.url) });
      // Every eth_getLogs range the node's discovery asks for.
      const ranges: { from: bigint; to: bigint }[] = [];
      const watched = (pc: PublicClient): PublicClient =>
        new Proxy(pc, {
          get(t, k, r) {
            const v = Reflect.get(t, k, r) as unknown;
            if (k !== 'getLogs' || typeof v !== 'function') return v;
            return (args: { fromBlock: bigint; toBlock: bigint }) => {
              ranges.push({ from: args.fromBlock, to: args.toBlock });
              return (v as (x: unknown) => unknown).call(t, args);
            };
          },
        });
      const open = async () => {
        const n = await createNode({ role: 'requester', rpcUrl: chain.anvil.rpcUrl, privateKey: anvilKey(9).privateKey, dataDir: dir, addresses: chain.addresses, qmodels: [quantized('wine-mlp')] });
        n.ctx.publicClient = watched(n.ctx.publicClient);
        return n;
      };
      const first = await open();
      expect(await discoveryOf(first.ctx).refresh()).toContain(a.url);
      expect(ranges[0]!.from).toBe(0n);
      const head = await chain.publicClient.getBlockNumber();
      const keys = discoveryKeys(chain.addresses.identityRegistry);
      expect(BigInt((JSON.parse(first.ctx.store.getKv(keys.cursor)!) as { next: string }).next)).toBe(head + 1n);
      await first.stop();

      // Restarted over the same data directory, after one more registration.
      const b = await healthServer();
      await registerAgent(chain.as('deployer'), { agentURI: fileOf('worker-q', b.url) });
      ranges.length = 0;
      const second = await open();
      const found = await discoveryOf(second.ctx).refresh();
      // The agent found before the restart is still known (its file is not re-read), the new one is found, and no
      // range reaches back before the saved cursor.
      expect(found).toEqual(expect.arrayContaining([a.url, b.url]));
      expect(ranges.length).toBeGreaterThan(0);
      for (const r of ranges) expect(r.from).toBeGreaterThan(head);
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
