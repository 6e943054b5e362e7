/**
 * `verity chain up | deploy | agent register | node run | task submit|show | dispute list|show`: run the network
 * from the command line. RPC, key and deployment come from flags or VERITY_RPC / VERITY_KEY / VERITY_DEPLOYMENT.
 * `--json` prints one JSON document for scripts; logs are pino (JSON lines on stderr for `node run`).
 */
import { buildRegistration, registrationDataUri } from '../agents/registration.js';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { bytesToHex, createPublicClient, createWalletClient, defineChain, getAddress, http, parseGwei, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { pino } from 'pino';
import { modelShape, opsBitmap, registerAgent, registerModel, stake, transferToken } from '../chain/actions/index.js';
import { anvilKey, startAnvil } from '../chain/anvil.js';
import { deployProtocol } from '../chain/deploy.js';
import type { DeployProtocolOptions } from '../chain/deploy.js';
import type { ProtocolAddresses, ProtocolClients } from '../chain/types.js';
import { keccakReady, modelRootHex } from '../commit/index.js';
import { OP_TYPES } from '../engine/ir.js';
import { BaseError } from '../errors.js';
import { loadModelSpec } from '../node/engine-provider.js';
import { createNode } from '../node/node.js';
import { serveNode, type ServedNode } from '../node/serve.js';

export class CliNodeError extends BaseError {
  override name = 'CliNodeError';
}

const E18 = 10n ** 18n;

/** What `verity deploy --out` writes and the other commands read. */
export interface DeploymentFile {
  chainId: number;
  rpc?: string;
  addresses: ProtocolAddresses;
  /** Registered models: name → { id, root }. */
  models: Record<string, { id: string; root: string }>;
}

function need(v: string | undefined, flag: string, env: string): string {
  if (!v) throw new CliNodeError(`Missing ${flag}.`, { hint: `Pass ${flag} or set ${env}.` });
  return v;
}

function keyOf(v: string | undefined): Hex {
  const k = need(v ?? process.env.VERITY_KEY, '--key', 'VERITY_KEY');
  if (!/^0x[0-9a-fA-F]{64}$/.test(k)) throw new CliNodeError('--key must be a 32-byte hex private key (0x + 64 hex digits).');
  return k as Hex;
}

export function readDeployment(path: string | undefined): DeploymentFile {
  const p = need(path ?? process.env.VERITY_DEPLOYMENT, '--deployment', 'VERITY_DEPLOYMENT');
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new CliNodeError('Cannot read the deployment file.', { details: `${p}: ${(e as Error).message}`, hint: 'Write one with `verity deploy --out FILE`.' });
  }
  try {
    return JSON.parse(text) as DeploymentFile;
  } catch (e) {
    throw new CliNodeError('The deployment file is not valid JSON.', { details: `${p}: ${(e as Error).message}` });
  }
}

async function clients(rpc: string, key: Hex): Promise<Omit<ProtocolClients, 'addresses'>> {
  const transport = http(rpc, { retryCount: 5, retryDelay: 200 });
  let id: number;
  try {
    id = await createPublicClient({ transport }).getChainId();
  } catch (e) {
    throw new CliNodeError('Cannot reach the RPC.', { details: `${rpc}: ${(e as Error).message.split('\n')[0]}`, hint: 'Start one with `verity chain up`.' });
  }
  const chain = defineChain({ id, name: `chain-${id}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpc] } } });
  return {
    publicClient: createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient,
    walletClient: createWalletClient({ chain, transport, account: privateKeyToAccount(key), pollingInterval: 100 }),
  };
}

const out = (json: boolean, value: unknown, text: string) => console.log(json ? JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) : text);

async function api(base: string, path: string, init?: RequestInit): Promise<unknown> {
  let r: Response;
  try {
    r = await fetch(`${base.replace(/\/$/, '')}${path}`, init);
  } catch (e) {
    throw new CliNodeError('Cannot reach the node API.', { details: `${base}: ${(e as Error).message}`, hint: 'Start a node with `verity node run --api-port N`.' });
  }
  const body = (await r.json()) as { error?: string; message?: string; details?: string };
  if (!r.ok) throw new CliNodeError(`${body.error ?? r.status}: ${body.message ?? 'request failed'}`, { details: body.details });
  return body;
}

export function registerNodeCommands(program: Command): void {
  // ---------------------------------------------------------------- chain up
  const chain = program.command('chain').description('a local chain');
  chain
    .command('up')
    .description('start an embedded anvil on 127.0.0.1 (a free port), deploy the protocol, print RPC and keys; Ctrl-C stops it')
    .option('--no-deploy', 'only start the chain')
    .option('--out <file>', 'write the deployment file here', 'deployment.json')
    .option('--challenge-window <s>', 'market challenge window, seconds', '60')
    .option('--block-time <s>', 'seconds per block (0 = mine on every transaction)', '1')
    .option('--json', 'print JSON')
    .action(async (o: { deploy: boolean; out: string; challengeWindow: string; blockTime: string; json?: boolean }) => {
      const anvil = await startAnvil({ args: Number(o.blockTime) > 0 ? ['--block-time', o.blockTime] : [] });
      const agents = [1, 2, 3, 4, 5, 6].map((i) => {
        return anvilKey(i);
      });
      // Stop the chain on a signal at any point, also while deploying.
      let done!: () => void;
      const stopped = new Promise<void>((r) => (done = r));
      const stop = () => void anvil.stop().then(done);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      let deployment: DeploymentFile | undefined;
      try {
        if (o.deploy) {
          deployment = await deploy(anvil.rpcUrl, anvil.accounts[0]!.privateKey, {
            out: o.out,
            challengeWindow: BigInt(o.challengeWindow),
            clock: 300n,
            models: ['wine-mlp', 'digits-convnet'],
            fund: agents.map((a) => a.address),
          });
        }
      } catch (e) {
        await anvil.stop();
        throw e;
      }
      out(
        !!o.json,
        { rpc: anvil.rpcUrl, deployer: anvil.accounts[0], agents: deployment ? agents : [], deployment: deployment ? o.out : null },
        `chain: ${anvil.rpcUrl}\ndeployer: ${anvil.accounts[0]!.address}${deployment ? `\ndeployment: ${o.out}\nfunded agent keys (anvil's public test mnemonic, 100k VRT each):\n${agents.map((a, i) => `  ${i + 1}. ${a.address} ${a.privateKey}`).join('\n')}` : ''}\nCtrl-C to stop.`,
      );
      await stopped;
    });

  // ---------------------------------------------------------------- deploy
  program
    .command('deploy')
    .description('deploy the protocol, register models, fund accounts; write the deployment file')
    .option('--rpc <url>', 'RPC URL (or VERITY_RPC)')
    .option('--key <hex>', 'deployer private key (or VERITY_KEY)')
    .option('--out <file>', 'deployment file to write', 'deployment.json')
    .option('--models <names>', 'comma-separated shipped model names or .vqm files', 'wine-mlp,digits-convnet')
    .option('--fund <addresses>', 'comma-separated addresses to give 100k VRT each', '')
    .option('--challenge-window <s>', 'market challenge window, seconds', '86400')
    .option('--clock <s>', 'dispute chess clock per side, seconds', '86400')
    .option('--json', 'print JSON')
    .action(async (o: { rpc?: string; key?: string; out: string; models: string; fund: string; challengeWindow: string; clock: string; json?: boolean }) => {
      const rpc = need(o.rpc ?? process.env.VERITY_RPC, '--rpc', 'VERITY_RPC');
      const d = await deploy(rpc, keyOf(o.key), {
        out: o.out,
        models: o.models.split(',').filter(Boolean),
        fund: o.fund.split(',').filter(Boolean),
        challengeWindow: BigInt(o.challengeWindow),
        clock: BigInt(o.clock),
      });
      out(!!o.json, d, `deployed on chain ${d.chainId}: TaskMarket ${d.addresses.taskMarket}, DisputeGame ${d.addresses.disputeGame}\nmodels: ${Object.entries(d.models).map(([n, m]) => `${n}=#${m.id}`).join(', ')}\nwritten to ${o.out}`);
    });

  // ---------------------------------------------------------------- model register
  const model = program.commands.find((c) => c.name() === 'model') ?? program.command('model');
  model
    .command('register <model>')
    .description('register a model (a shipped name or a .vqm file) in the ModelRegistry; adds it to the deployment file')
    .option('--rpc <url>', 'RPC URL (or VERITY_RPC)')
    .option('--key <hex>', 'private key (or VERITY_KEY)')
    .option('--deployment <file>', 'deployment file (or VERITY_DEPLOYMENT); updated with the new model')
    .option('--json', 'print JSON')
    .action(async (spec: string, o: { rpc?: string; key?: string; deployment?: string; json?: boolean }) => {
      await keccakReady;
      const path = o.deployment ?? process.env.VERITY_DEPLOYMENT;
      const dep = readDeployment(path);
      const c = { ...(await clients(need(o.rpc ?? process.env.VERITY_RPC ?? dep.rpc, '--rpc', 'VERITY_RPC'), keyOf(o.key))), addresses: dep.addresses };
      const r = await registerModelSpec(c, spec);
      dep.models[r.name] = { id: r.id, root: r.root };
      writeFileSync(path!, `${JSON.stringify(dep, null, 2)}\n`);
      out(!!o.json, r, `model ${r.name} registered as #${r.id} (root ${r.root}); ${path} updated`);
    });

  // ---------------------------------------------------------------- agent register
  program
    .command('agent')
    .description('agents')
    .command('register')
    .description('register an ERC-8004 agent for this key and stake VRT')
    .option('--rpc <url>', 'RPC URL (or VERITY_RPC)')
    .option('--key <hex>', 'private key (or VERITY_KEY)')
    .option('--deployment <file>', 'deployment file (or VERITY_DEPLOYMENT)')
    .option('--uri <uri>', 'agent card URI')
    .option('--stake <vrt>', 'VRT to stake', '1000')
    .option('--json', 'print JSON')
    .action(async (o: { rpc?: string; key?: string; deployment?: string; uri?: string; stake: string; json?: boolean }) => {
      const dep = readDeployment(o.deployment);
      const c = { ...(await clients(need(o.rpc ?? process.env.VERITY_RPC ?? dep.rpc, '--rpc', 'VERITY_RPC'), keyOf(o.key))), addresses: dep.addresses };
      const a = await registerAgent(c, { agentURI: o.uri ?? `verity:agent:${c.walletClient.account.address}` });
      const s = BigInt(o.stake) > 0n ? await stake(c, { amount: BigInt(o.stake) * E18 }) : undefined;
      out(!!o.json, { agentId: a.agentId, owner: a.owner, staked: s?.staked ?? 0n, txs: { register: a.hash, stake: s?.hash } }, `agent #${a.agentId} owned by ${a.owner}; staked ${(s?.staked ?? 0n) / E18} VRT`);
    });

  // ---------------------------------------------------------------- node run
  program
    .command('node')
    .description('run a node')
    .command('run')
    .description('run a worker, verifier or requester node until SIGINT/SIGTERM')
    .requiredOption('--role <role>', 'worker | verifier | requester')
    .option('--rpc <url>', 'RPC URL (or VERITY_RPC)')
    .option('--key <hex>', 'private key (or VERITY_KEY)')
    .option('--data <dir>', 'data directory (SQLite state and traces)')
    .option('--deployment <file>', 'deployment file (or VERITY_DEPLOYMENT)')
    .option('--models <names>', 'comma-separated shipped model names or .vqm files', 'wine-mlp,digits-convnet')
    .option('--sample <fraction>', 'verifier: fraction of results re-executed', '1')
    .option('--dishonest <fraction>', 'worker: fraction of answers corrupted (testing only)', '0')
    .option('--api-port <port>', 'serve the HTTP API on this port (0 = any free port)')
    .option('--api-host <host>', 'API bind address', '127.0.0.1')
    .option('--poll <ms>', 'poll interval', '500')
    .option('--peers <urls>', 'comma-separated node API URLs asked for batch data (or VERITY_PEERS)')
    .option('--public-url <url>', 'worker: URL its API is reachable at from outside, registered on-chain in its ERC-8004 registration file')
    .option('--confirmations <n>', 'blocks on top of a log before the node acts on it (use > 0 on a public chain)', '0')
    .option('--max-log-range <blocks>', 'largest eth_getLogs range asked of the RPC (halved when it refuses)', '5000')
    .option('--max-fee-gwei <gwei>', 'EIP-1559: re-sign a transaction stuck for --bump-after seconds with fees +12.5% (same nonce), up to this maxFeePerGas')
    .option('--bump-after <s>', 'seconds a signed transaction may wait for inclusion before its fees are bumped (with --max-fee-gwei)', '60')
    .action(async (o: { maxFeeGwei?: string; bumpAfter: string; role: string; rpc?: string; key?: string; data?: string; deployment?: string; models: string; sample: string; dishonest: string; apiPort?: string; apiHost: string; poll: string; peers?: string; publicUrl?: string; confirmations: string; maxLogRange: string }) => {
      if (!['worker', 'verifier', 'requester'].includes(o.role)) throw new CliNodeError(`Unknown role "${o.role}".`, { hint: 'One of worker, verifier, requester.' });
      const sample = Number(o.sample);
      const dishonest = Number(o.dishonest);
      if (!(sample >= 0 && sample <= 1)) throw new CliNodeError(`--sample must be a fraction in [0, 1], got ${o.sample}.`);
      if (!(dishonest >= 0 && dishonest <= 1)) throw new CliNodeError(`--dishonest must be a fraction in [0, 1], got ${o.dishonest}.`);
      const privateKey = keyOf(o.key);
      const dep = readDeployment(o.deployment);
      const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
      const node = await createNode({
        role: o.role as 'worker',
        rpcUrl: need(o.rpc ?? process.env.VERITY_RPC ?? dep.rpc, '--rpc', 'VERITY_RPC'),
        privateKey,
        dataDir: need(o.data ?? process.env.VERITY_DATA, '--data', 'VERITY_DATA'),
        addresses: dep.addresses,
        models: o.models.split(',').filter(Boolean),
        sample,
        dishonest,
        pollMs: Number(o.poll),
        peers: (o.peers ?? process.env.VERITY_PEERS ?? '').split(',').filter(Boolean),
        follow: { confirmations: Number(o.confirmations), maxRange: BigInt(o.maxLogRange) },
        ...(o.maxFeeGwei ? { feeBump: { afterMs: Number(o.bumpAfter) * 1000, maxFeePerGas: parseGwei(o.maxFeeGwei) } } : {}),
        ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
        ...(o.publicUrl
          ? {
              worker: {
                agentURI: registrationDataUri(
                  buildRegistration({ name: 'verity-worker', description: 'Verity worker node (verified integer inference)', services: [{ name: 'web', endpoint: o.publicUrl }, { name: 'verity-node', endpoint: o.publicUrl, version: '1' }], supportedTrust: ['reputation', 'crypto-economic'] }),
                ),
              },
            }
          : {}),
        logger,
      });
      let served: ServedNode | undefined;
      let stopping = false;
      const stop = async () => {
        if (stopping) return;
        stopping = true;
        logger.info('stopping');
        await (served ? served.close() : node.stop());
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
      if (o.apiPort === undefined) await node.start();
      else {
        // No --public-url: the agent's registration file points at the API's own address (found by peers on-chain).
        served = await serveNode(node, { host: o.apiHost, port: Number(o.apiPort) });
        logger.info({ api: served.url }, 'api listening');
        console.log(JSON.stringify({ api: served.url, role: o.role, account: node.ctx.account }));
      }
    });

  // ---------------------------------------------------------------- task submit|show
  const task = program.command('task').description('tasks (through a requester node’s API)');
  task
    .command('submit')
    .description('submit a task to a requester node')
    .requiredOption('--api <url>', 'requester node API, e.g. http://127.0.0.1:8545')
    .requiredOption('--model <name>', 'model name or root')
    .requiredOption('--input <json>', 'a JSON row of floats, e.g. "[0.1, 0.2]"')
    .option('--fee <vrt>', 'fee in VRT', '1')
    .option('--json', 'print JSON')
    .action(async (o: { api: string; model: string; input: string; fee: string; json?: boolean }) => {
      let input: unknown;
      try {
        input = JSON.parse(o.input);
      } catch (e) {
        throw new CliNodeError('--input is not valid JSON.', { details: (e as Error).message, hint: 'Example: --input "[0.1, 0.2, 0.3]"' });
      }
      if (!/^\d+(\.\d+)?$/.test(o.fee)) throw new CliNodeError(`--fee must be a number of VRT, got "${o.fee}".`);
      const [w, f = ''] = o.fee.split('.');
      const fee = BigInt(w!) * E18 + BigInt((f + '0'.repeat(18)).slice(0, 18));
      const r = (await api(o.api, '/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: o.model, input, fee: String(fee) }) })) as { id: string; status: string };
      out(!!o.json, r, `submitted ${r.id} (${r.status})`);
    });
  task
    .command('show <id>')
    .description('a task’s status, verified result and transactions')
    .requiredOption('--api <url>', 'node API')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { api: string; json?: boolean }) => {
      const t = (await api(o.api, `/tasks/${encodeURIComponent(id)}`)) as { id: string; status: string; taskId: string | null; outputHash: string | null; result?: { outputs: { data: number[] }[] }; txs: Record<string, string> };
      out(!!o.json, t, [`${t.id} (task #${t.taskId ?? '-'}): ${t.status}`, `output digest: ${t.outputHash ?? '-'}`, t.result ? `output: [${t.result.outputs[0]?.data.join(', ')}]` : 'no verified result yet', ...Object.entries(t.txs).map(([k, v]) => `  ${k}: ${v}`)].join('\n'));
    });

  // ---------------------------------------------------------------- dispute list|show
  const dispute = program.command('dispute').description('disputes a node tracks');
  dispute
    .command('list')
    .requiredOption('--api <url>', 'node API')
    .option('--json', 'print JSON')
    .action(async (o: { api: string; json?: boolean }) => {
      const ds = (await api(o.api, '/disputes')) as { disputeId: string; taskId: string; side: string; state: string; outcome: number }[];
      const outcome = ['pending', 'claimant won', 'challenger won'];
      out(!!o.json, ds, ds.length ? ds.map((d) => `#${d.disputeId} task ${d.taskId} as ${d.side}: ${d.state}, ${outcome[d.outcome]}`).join('\n') : 'no disputes');
    });
  dispute
    .command('show <id>')
    .requiredOption('--api <url>', 'node API')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { api: string; json?: boolean }) => {
      const d = await api(o.api, `/disputes/${encodeURIComponent(id)}`);
      out(!!o.json, d, JSON.stringify(d, null, 2));
    });
}

/**
 * Registers a shipped model name or a .vqm file in the ModelRegistry: its modelRoot and the ops it uses, and with
 * `withShape` its declared trace shape (registerModelWithShape: auditable by the AuditBook).
 */
export async function registerModelSpec(pc: ProtocolClients, spec: string, withShape = false): Promise<{ name: string; id: string; root: Hex; hash: Hex }> {
  const m = loadModelSpec(spec);
  const root = modelRootHex(m) as Hex;
  const r = await registerModel(pc, { modelRoot: root, metadataURI: `verity:model:${m.name}`, opsBitmap: opsBitmap(m), ...(withShape ? { shape: modelShape(m, 10_000_000n) } : {}) });
  return { name: m.name, id: String(r.modelId), root, hash: r.hash };
}

/** Deploys the protocol, registers models and funds accounts; writes and returns the deployment file. */
export async function deploy(
  rpc: string,
  key: Hex,
  o: { out?: string; models: string[]; fund: string[]; challengeWindow?: bigint; clock?: bigint; audits?: DeployProtocolOptions['audits'] },
): Promise<DeploymentFile> {
  await keccakReady;
  const c = await clients(rpc, key);
  const window = o.challengeWindow ?? 86_400n;
  const { addresses } = await deployProtocol(c.walletClient, c.publicClient, { market: { challengeWindow: window }, game: { clock: o.clock ?? 86_400n }, unbondingDelay: window * 2n > 7n * 86_400n ? window * 2n : 7n * 86_400n, ...(o.audits ? { audits: o.audits } : {}) });
  const pc: ProtocolClients = { ...c, addresses };
  const models: DeploymentFile['models'] = {};
  for (const spec of o.models) {
    // with audits on, models declare their trace shape (only those can be audited)
    const r = await registerModelSpec(pc, spec, !!o.audits);
    models[r.name] = { id: r.id, root: r.root };
  }
  for (const a of o.fund) {
    await transferToken(pc, { to: getAddress(a), amount: 100_000n * E18 });
  }
  const d: DeploymentFile = { chainId: await c.publicClient.getChainId(), rpc, addresses, models };
  if (o.out) writeFileSync(o.out, `${JSON.stringify(d, null, 2)}\n`);
  return d;
}

