/**
 * ERC-8004 agent registration files as the current text (ethereum/ERCs ERCS/erc-8004.md, registration-v1) writes
 * them, and a reader for any conformant file:
 *
 *   {
 *     "type": "https://eips.ethereum.org/EIPS/eip-8004#registration-v1",
 *     "name", "description", "image",
 *     "services": [{ "name": "A2A", "endpoint": "https://…/.well-known/agent-card.json", "version": "0.3.0" }, …],
 *     "x402Support": false, "active": true,
 *     "registrations": [{ "agentId": 22, "agentRegistry": "eip155:<chainId>:<IdentityRegistry>" }],
 *     "supportedTrust": ["reputation", "crypto-economic"]
 *   }
 *
 * Verity's own data (the models an agent serves) sits in an optional extension field `verity`; a reader never
 * needs it. The older draft's `endpoints` (renamed `services`) is accepted when reading. Agent URIs are read from
 * `data:` URIs (base64 or percent-encoded) and `http(s)://` (fetched with a timeout and a size cap); `ipfs://` through
 * a gateway when one is given.
 */
import { BaseError } from '../errors.js';

export class RegistrationError extends BaseError {
  override name = 'RegistrationError';
}

export const ERC8004_REGISTRATION_TYPE = 'https://eips.ethereum.org/EIPS/eip-8004#registration-v1';

export interface RegistrationService {
  name: string;
  endpoint: string;
  version?: string;
  /** Other keys a service may carry (OASF `skills`/`domains`, MCP `capabilities`, …), kept as read. */
  [extra: string]: unknown;
}

export interface VerityExtension {
  models: { name: string; modelRoot: string }[];
}

export interface RegistrationFile {
  type: typeof ERC8004_REGISTRATION_TYPE;
  name: string;
  description: string;
  image: string;
  services: RegistrationService[];
  x402Support: boolean;
  active: boolean;
  registrations: { agentId: number; agentRegistry: string }[];
  supportedTrust: string[];
  /** Verity extension (optional; ignored by other readers). */
  verity?: VerityExtension;
}

export interface BuildRegistrationOptions {
  name: string;
  description?: string;
  image?: string;
  services: RegistrationService[];
  registrations?: { agentId: number | bigint; agentRegistry: string }[];
  supportedTrust?: string[];
  x402Support?: boolean;
  active?: boolean;
  verity?: VerityExtension;
}

/** A registration file in the spec's form (every top-level field written, in the spec's order). */
export function buildRegistration(o: BuildRegistrationOptions): RegistrationFile {
  return {
    type: ERC8004_REGISTRATION_TYPE,
    name: o.name,
    description: o.description ?? '',
    image: o.image ?? '',
    services: o.services.map((s) => ({ ...s })),
    x402Support: o.x402Support ?? false,
    active: o.active ?? true,
    registrations: (o.registrations ?? []).map((r) => ({ agentId: Number(r.agentId), agentRegistry: r.agentRegistry })),
    supportedTrust: o.supportedTrust ?? [],
    ...(o.verity ? { verity: o.verity } : {}),
  };
}

/** `eip155:<chainId>:<identityRegistry>` (the spec's agentRegistry string). */
export function agentRegistryId(chainId: number | bigint, identityRegistry: string): string {
  return `eip155:${chainId}:${identityRegistry}`;
}

/** The agent URI for a file stored fully on-chain: `data:application/json;base64,…` (the spec's SHOULD). */
export function registrationDataUri(r: RegistrationFile): string {
  return `data:application/json;base64,${Buffer.from(JSON.stringify(r), 'utf8').toString('base64')}`;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates and normalizes a parsed registration file. Required: `name` and a services list (`services`, or the
 * older `endpoints`) of {name, endpoint}; `type`, when present, must be registration-v1. Optional fields get the
 * spec's defaults (active: true, x402Support: false, empty lists).
 */
export function parseRegistration(v: unknown, where = 'registration file'): RegistrationFile {
  const bad = (details: string) => new RegistrationError('Not an ERC-8004 registration file.', { details: `${where}: ${details}` });
  if (!isObj(v)) throw bad('not a JSON object');
  if (v.type !== undefined && v.type !== ERC8004_REGISTRATION_TYPE) throw bad(`type is ${JSON.stringify(v.type)}, not ${ERC8004_REGISTRATION_TYPE}`);
  if (typeof v.name !== 'string' || v.name === '') throw bad('name is missing or not a string');
  const list = v.services ?? v.endpoints;
  if (!Array.isArray(list)) throw bad('services (or the older endpoints) is missing or not a list');
  const key = v.services !== undefined ? 'services' : 'endpoints';
  const services = list.map((s, i): RegistrationService => {
    if (!isObj(s) || typeof s.name !== 'string' || typeof s.endpoint !== 'string') throw bad(`${key}[${i}] is not {name, endpoint}`);
    if (s.version !== undefined && typeof s.version !== 'string') throw bad(`${key}[${i}].version is not a string`);
    return { ...s, name: s.name, endpoint: s.endpoint } as RegistrationService;
  });
  const str = (k: string) => {
    const x = v[k];
    if (x === undefined) return '';
    if (typeof x !== 'string') throw bad(`${k} is not a string`);
    return x;
  };
  const bool = (k: string, dflt: boolean) => {
    const x = v[k];
    if (x === undefined) return dflt;
    if (typeof x !== 'boolean') throw bad(`${k} is not a boolean`);
    return x;
  };
  const regs = v.registrations ?? [];
  if (!Array.isArray(regs)) throw bad('registrations is not a list');
  const registrations = regs.map((r, i) => {
    const id = isObj(r) ? r.agentId : undefined;
    const agentId = typeof id === 'string' && /^\d+$/.test(id) ? Number(id) : id;
    if (!isObj(r) || typeof agentId !== 'number' || !Number.isSafeInteger(agentId) || agentId < 0 || typeof r.agentRegistry !== 'string') throw bad(`registrations[${i}] is not {agentId, agentRegistry}`);
    return { agentId, agentRegistry: r.agentRegistry };
  });
  const trust = v.supportedTrust ?? [];
  if (!Array.isArray(trust) || trust.some((t) => typeof t !== 'string')) throw bad('supportedTrust is not a list of strings');
  let verity: VerityExtension | undefined;
  if (isObj(v.verity) && Array.isArray(v.verity.models)) {
    const models = v.verity.models.filter((m): m is { name: string; modelRoot: string } => isObj(m) && typeof m.name === 'string' && typeof m.modelRoot === 'string');
    verity = { models: models.map((m) => ({ name: m.name, modelRoot: m.modelRoot })) };
  }
  return {
    type: ERC8004_REGISTRATION_TYPE,
    name: v.name,
    description: str('description'),
    image: str('image'),
    services,
    x402Support: bool('x402Support', false),
    active: bool('active', true),
    registrations,
    supportedTrust: trust as string[],
    ...(verity ? { verity } : {}),
  };
}

export interface ReadRegistrationOptions {
  /** Timeout of an http(s) fetch (default 5 s). */
  timeoutMs?: number;
  /** Largest file accepted (default 1 MiB). */
  maxBytes?: number;
  /** Gateway for ipfs:// URIs, e.g. https://ipfs.io/ipfs/ (none: ipfs:// is refused). */
  ipfsGateway?: string;
  fetch?: typeof fetch;
}

/** The text a data: URI carries (RFC 2397: `;base64` or percent-encoded; any JSON media type). */
function dataUriText(uri: string): string {
  const comma = uri.indexOf(',');
  if (comma < 0) throw new RegistrationError('Malformed data: URI.', { details: `no comma in ${uri.slice(0, 60)}` });
  const meta = uri.slice(5, comma).toLowerCase();
  const media = meta.split(';')[0] ?? '';
  if (media !== '' && !/^(application|text)\/([\w.+-]*\+)?json$/.test(media) && media !== 'text/plain') {
    throw new RegistrationError('The data: URI is not JSON.', { details: `media type ${media}` });
  }
  const body = uri.slice(comma + 1);
  return meta.split(';').includes('base64') ? Buffer.from(decodeURIComponent(body), 'base64').toString('utf8') : decodeURIComponent(body);
}

/** Reads the registration file an agent URI points to. */
export async function readRegistrationUri(uri: string, o: ReadRegistrationOptions = {}): Promise<RegistrationFile> {
  const where = uri.length > 80 ? `${uri.slice(0, 77)}…` : uri;
  let text: string;
  if (/^data:/i.test(uri)) text = dataUriText(uri);
  else {
    let url = uri;
    if (/^ipfs:\/\//i.test(uri)) {
      if (!o.ipfsGateway) throw new RegistrationError('No IPFS gateway to read an ipfs:// agent URI.', { details: where, hint: 'Pass ipfsGateway, e.g. https://ipfs.io/ipfs/.' });
      url = `${o.ipfsGateway.replace(/\/?$/, '/')}${uri.slice(7)}`;
    } else if (!/^https?:\/\//i.test(uri)) throw new RegistrationError('Unsupported agent URI scheme.', { details: where, hint: 'data:, http(s):// and ipfs:// are read.' });
    const max = o.maxBytes ?? 1 << 20;
    let res: Response;
    try {
      res = await (o.fetch ?? fetch)(url, { signal: AbortSignal.timeout(o.timeoutMs ?? 5000), headers: { accept: 'application/json' }, redirect: 'follow' });
    } catch (e) {
      throw new RegistrationError('Could not fetch the registration file.', { details: `${where}: ${(e as Error).message}`, cause: e });
    }
    if (!res.ok) throw new RegistrationError('Could not fetch the registration file.', { details: `${where}: HTTP ${res.status}` });
    const buf = Buffer.from(await res.arrayBuffer());
    if (buf.length > max) throw new RegistrationError('The registration file is too large.', { details: `${where}: ${buf.length} bytes > ${max}` });
    text = buf.toString('utf8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RegistrationError('The registration file is not JSON.', { details: `${where}: ${(e as Error).message}`, cause: e });
  }
  return parseRegistration(json, where);
}

/** The first service named `name` (case-insensitive, as names like "A2A"/"a2a" are written both ways). */
export function serviceOf(reg: RegistrationFile, name: string): RegistrationService | undefined {
  return reg.services.find((s) => s.name.toLowerCase() === name.toLowerCase());
}
