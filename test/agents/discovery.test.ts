/**
 * Peers found from on-chain ERC-8004 registrations (no --peers): two agents register files with `verity-node`
 * services; discovery lists the ones whose /health answers, drops one that goes away, re-reads an updated URI.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerDiscovery } from '../../src/agents/discovery.js';
import { EmbeddedChain } from '../../src/agents/embedded.js';
import { buildRegistration, registrationDataUri } from '../../src/agents/registration.js';
import { registerAgent } from '../../src/chain/actions/index.js';
import { identityRegistryAbi } from '../../src/chain/artifacts/index.js';
import { sendContractTransaction } from '../../src/chain/send.js';

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
});
