/**
 * LocalNetwork: a Verity network of real nodes on a local anvil, for the agent front-ends with no network to point
 * at (`verity agents mcp|a2a` without --node, the tests). It starts an EmbeddedChain (anvil, the protocol deployed,
 * funded accounts), registers the models, and runs a requester node and a worker node in this process (src/node:
 * createNode and serveNode, as `verity node run --api-port` does: the node's own HTTP API on 127.0.0.1, its URL
 * announced in its agent's ERC-8004 registration file). The
 * front-ends then reach the requester node exactly as they would on a public chain: found through the
 * registrations (discoverRequester), spoken to over HTTP (NodeHttpNetwork). Nothing here settles a task itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { anvilKey } from '../chain/anvil.js';
import type { QModel } from '../engine/ir.js';
import { loadShippedModel } from '../node/engine-provider.js';
import { createNode, type VerityNode } from '../node/node.js';
import { serveNode, type ServedNode } from '../node/serve.js';
import type { RoleName } from '../node/role-name.js';
import { EmbeddedChain } from './embedded.js';
import { discoverRequester, NodeHttpNetwork } from './network.js';

/** anvil accounts the nodes sign with (EmbeddedChain's named roles use 0..3). */
export const NODE_ACCOUNTS = { requester: 4, worker: 5 } as const;

export interface LocalNetworkOptions {
  /** Shipped model names or imported models (default wine-mlp), served by both nodes. */
  models?: readonly (string | QModel)[];
  /** Challenge window, chain seconds (default 5: the chain's clock runs in real time, a block a second). */
  challengeWindow?: bigint;
  /** Lowest fee the worker serves, wei (default 0.1 VRT): a task posted below it stays open (and can be cancelled). */
  workerMinFee?: bigint;
  /** Node poll interval, ms (default 200). */
  pollMs?: number;
  logger?: Logger;
}

interface RunningNode extends ServedNode {
  role: RoleName;
  dir: string;
}

export class LocalNetwork extends NodeHttpNetwork {
  override readonly kind = 'local' as const;
  readonly chain: EmbeddedChain;
  readonly nodes: readonly RunningNode[];

  private constructor(url: string, chain: EmbeddedChain, nodes: RunningNode[]) {
    super(url, { rpcUrl: chain.anvil.rpcUrl, addresses: chain.addresses, pollMs: 250 });
    this.chain = chain;
    this.nodes = nodes;
  }

  static async start(opts: LocalNetworkOptions = {}): Promise<LocalNetwork> {
    const models = (opts.models ?? ['wine-mlp']).map((m) => (typeof m === 'string' ? loadShippedModel(m) : m));
    const chain = await EmbeddedChain.start({ challengeWindow: opts.challengeWindow ?? 5n, blockTime: 1 });
    const nodes: RunningNode[] = [];
    try {
      for (const m of models) await chain.ensureModel(m);
      for (const role of ['requester', 'worker'] as const) {
        const key = anvilKey(NODE_ACCOUNTS[role]);
        await chain.fund(key.address);
        const dir = mkdtempSync(join(tmpdir(), `verity-local-${role}-`));
        const node = await createNode({
          role,
          rpcUrl: chain.anvil.rpcUrl,
          privateKey: key.privateKey,
          dataDir: dir,
          addresses: chain.addresses,
          qmodels: models,
          pollMs: opts.pollMs ?? 200,
          logger: opts.logger ?? pino({ level: 'silent' }),
          worker: { minFee: opts.workerMinFee ?? 10n ** 17n },
        });
        // The node announces its API's URL in its agent's registration file as it starts, as `verity node run` does.
        nodes.push({ role, dir, ...(await serveNode(node, { host: '127.0.0.1', port: 0 })) });
      }
      return new LocalNetwork(await discoverRequester(chain.anvil.rpcUrl, chain.addresses), chain, nodes);
    } catch (e) {
      await stopAll(nodes, chain);
      throw e;
    }
  }

  /** The node of `role`. */
  node(role: RoleName): VerityNode {
    const n = this.nodes.find((x) => x.role === role);
    if (!n) throw new Error(`no ${role} node in this network`);
    return n.node;
  }

  /** The worker node's ERC-8004 agent id. */
  workerAgentId(): bigint {
    return BigInt(this.node('worker').ctx.store.getKv('agentId')!);
  }

  override async close(): Promise<void> {
    await stopAll(this.nodes, this.chain);
  }
}

async function stopAll(nodes: readonly RunningNode[], chain: EmbeddedChain): Promise<void> {
  for (const n of nodes) {
    await n.close().catch(() => undefined);
    rmSync(n.dir, { recursive: true, force: true });
  }
  await chain.stop();
}
