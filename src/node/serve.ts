/**
 * A node with its HTTP API (src/node/api.ts) on `host:port`: what `verity node run --api-port` runs and what the
 * agents' LocalNetwork starts for each of its nodes. The API listens before the node starts, so a node with no
 * public URL of its own announces the API's address in its agent's ERC-8004 registration as it starts
 * (src/node/discovery.ts), where peers and the agent front-ends find it.
 */
import type { FastifyInstance } from 'fastify';
import { buildApi } from './api.js';
import type { VerityNode } from './node.js';

export interface ServedNode {
  node: VerityNode;
  api: FastifyInstance;
  /** The API's address, e.g. http://127.0.0.1:40123. */
  url: string;
  /** Closes the API, then stops the node. */
  close(): Promise<void>;
}

/** Builds the node's API, listens on `at`, then starts the node; on failure closes both and throws. */
export async function serveNode(node: VerityNode, at: { host: string; port: number }): Promise<ServedNode> {
  const api = await buildApi(node);
  const close = async () => {
    await api.close();
    await node.stop();
  };
  try {
    const url = await api.listen(at);
    node.ctx.publicUrl ??= url;
    await node.start();
    return { node, api, url, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
