/**
 * ERC-8004 registration files: the spec's own example (ERCS/erc-8004.md, registration-v1, with `services`) read from
 * a data: URI (base64 and percent-encoded) and over http(s); the older `endpoints` name; bad files and unreachable
 * URIs rejected with a typed error naming where; what Verity writes passes a plain JSON check of the spec's fields.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPEC_EXAMPLE } from './erc8004-example.js';
import { buildRegistration, ERC8004_REGISTRATION_TYPE, readRegistrationUri, registrationDataUri, RegistrationError, serviceOf } from '../../src/agents/registration.js';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/agent.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(SPEC_EXAMPLE));
    }
    if (req.url === '/slow') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('reading registration files', () => {
  it('reads the spec example from base64 and percent-encoded data: URIs and over http', async () => {
    const json = JSON.stringify(SPEC_EXAMPLE);
    for (const uri of [
      `data:application/json;base64,${Buffer.from(json).toString('base64')}`,
      `data:application/json;charset=utf-8,${encodeURIComponent(json)}`,
      `${base}/agent.json`,
    ]) {
      const r = await readRegistrationUri(uri);
      expect(r.name).toBe('myAgentName');
      expect(r.services).toHaveLength(7);
      expect(serviceOf(r, 'A2A')).toEqual({ name: 'A2A', endpoint: 'https://agent.example/.well-known/agent-card.json', version: '0.3.0' });
      expect(serviceOf(r, 'mcp')!.endpoint).toBe('https://mcp.agent.eth/');
      expect(serviceOf(r, 'OASF')!.skills).toEqual([]);
      expect(r.registrations).toEqual([{ agentId: 22, agentRegistry: '{namespace}:{chainId}:{identityRegistry}' }]);
      expect(r.supportedTrust).toEqual(['reputation', 'crypto-economic', 'tee-attestation']);
      expect(r.active).toBe(true);
      expect(r.x402Support).toBe(false);
      expect(r.verity).toBeUndefined();
    }
  });

  it('accepts the older `endpoints` name and fills the optional fields with defaults', async () => {
    const old = { type: ERC8004_REGISTRATION_TYPE, name: 'old', endpoints: [{ name: 'A2A', endpoint: 'https://a.example/.well-known/agent-card.json' }] };
    const r = await readRegistrationUri(`data:application/json,${encodeURIComponent(JSON.stringify(old))}`);
    expect(r.services).toEqual(old.endpoints);
    expect(r).toMatchObject({ description: '', image: '', active: true, x402Support: false, registrations: [], supportedTrust: [] });
  });

  it('rejects non-conformant files and unreachable URIs with a typed error naming where', async () => {
    const bad = async (v: unknown, re: RegExp) => {
      const e = await readRegistrationUri(`data:application/json,${encodeURIComponent(JSON.stringify(v))}`).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RegistrationError);
      expect((e as RegistrationError).details).toMatch(re);
    };
    await bad({ ...SPEC_EXAMPLE, type: 'https://example.com/other' }, /type is/);
    await bad({ ...SPEC_EXAMPLE, services: undefined }, /services/);
    await bad({ ...SPEC_EXAMPLE, services: [{ name: 'A2A' }] }, /services\[0\]/);
    await bad({ ...SPEC_EXAMPLE, registrations: [{ agentId: 'x', agentRegistry: 'y' }] }, /registrations\[0\]/);
    await bad({ ...SPEC_EXAMPLE, active: 'yes' }, /active/);
    const t0 = Date.now();
    const slow = await readRegistrationUri(`${base}/slow`, { timeoutMs: 200 }).catch((x: unknown) => x);
    expect(slow).toBeInstanceOf(RegistrationError);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await readRegistrationUri(`${base}/missing`).catch((x: unknown) => (x as RegistrationError).details)).toMatch(/HTTP 404/);
    expect(await readRegistrationUri('ipfs://bafy').catch((x: unknown) => x)).toBeInstanceOf(RegistrationError);
  });
});

describe('writing registration files', () => {
  it('writes every field of the spec form; a plain JSON reader needs nothing of Verity', () => {
    const r = buildRegistration({
      name: 'verity-agent',
      description: 'verified inference',
      services: [{ name: 'A2A', endpoint: 'https://agent.verity.example/.well-known/agent-card.json', version: '1.0' }],
      registrations: [{ agentId: 7n, agentRegistry: 'eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3' }],
      supportedTrust: ['reputation', 'crypto-economic'],
      verity: { models: [{ name: 'm', modelRoot: '0x01' }] },
    });
    const plain = JSON.parse(Buffer.from(registrationDataUri(r).split(',')[1]!, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(Object.keys(plain).slice(0, 9)).toEqual(['type', 'name', 'description', 'image', 'services', 'x402Support', 'active', 'registrations', 'supportedTrust']);
    expect(plain.type).toBe('https://eips.ethereum.org/EIPS/eip-8004#registration-v1');
    expect(plain.services).toEqual([{ name: 'A2A', endpoint: 'https://agent.verity.example/.well-known/agent-card.json', version: '1.0' }]);
    expect(plain.registrations).toEqual([{ agentId: 7, agentRegistry: 'eip155:31337:0x5FbDB2315678afecb367f032d93F642f64180aa3' }]);
    expect(typeof plain.x402Support).toBe('boolean');
    expect(plain.active).toBe(true);
  });
});
