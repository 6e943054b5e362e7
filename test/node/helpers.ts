/**
 * A protocol on a fresh anvil for the node tests: short challenge window and clocks, a block per transaction and
 * blocks every 0.25 s (so the chain's clock moves without traffic), the shipped models registered, funded agent
 * keys from anvil's public test mnemonic.
 */
import { createTestClient, http, type Hex, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import { registerModel, transferToken } from '../../src/chain/actions/index.js';
import { anvilKey, type AnvilInstance } from '../../src/chain/anvil.js';
import { startDevnet } from '../../src/chain/devnet.js';
import type { ProtocolAddresses } from '../../src/chain/types.js';
import { modelRootHex } from '../../src/commit/index.js';
import { OP_TYPES, type QModel } from '../../src/engine/ir.js';

export const E18 = 10n ** 18n;

export const keyOf = anvilKey;

export { opsBitmap } from '../../src/chain/actions/registerModel.js';
import { opsBitmap } from '../../src/chain/actions/registerModel.js';

export interface TestNet {
  anvil: AnvilInstance;
  publicClient: PublicClient;
  addresses: ProtocolAddresses;
  modelIds: Map<string, bigint>;
  stop(): Promise<void>;
}

/** Deploys, registers `models`, and gives 100k VRT to accounts 1..funded. */
export async function testNet(
  models: readonly QModel[],
  opts: { funded?: number; challengeWindow?: bigint; clock?: bigint; blockTime?: string; mixedMining?: boolean; anvilArgs?: string[] } = {},
): Promise<TestNet> {
  const net = await startDevnet({
    // Mixed mining (default): a block for every transaction as it arrives, and one every blockTime for the clock.
    anvilArgs: ['--block-time', opts.blockTime ?? '0.25', ...(opts.mixedMining === false ? [] : ['--mixed-mining']), ...(opts.anvilArgs ?? [])],
    pollingInterval: 50,
    deploy: { market: { challengeWindow: opts.challengeWindow ?? 12n }, game: { clock: opts.clock ?? 120n }, unbondingDelay: 3_600n, timelockDelay: 60n },
  });
  try {
    const { anvil, publicClient, addresses } = net;
    const client = net.clients(0);
    const modelIds = new Map<string, bigint>();
    for (const m of models) {
      const r = await registerModel(client, { modelRoot: modelRootHex(m) as Hex, metadataURI: `verity:model:${m.name}`, opsBitmap: opsBitmap(m) });
      modelIds.set(m.name, r.modelId);
    }
    for (let i = 1; i <= (opts.funded ?? 6); i++) {
      await transferToken(client, { to: keyOf(i).address, amount: 100_000n * E18 });
    }
    return { anvil, publicClient, addresses, modelIds, stop: () => net.stop() };
  } catch (e) {
    await net.stop();
    throw e;
  }
}

/** Polls `fn` until it returns a truthy value or `ms` pass (bounded). */
export async function until<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number, every = 250): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Moves the chain's clock to `t` (anvil evm_increaseTime, then evm_mine so the next read sees it): a window ends
 * without the test waiting it out in real time. Nothing happens when the chain is already at or past `t`.
 */
export async function warpTo(net: Pick<TestNet, 'anvil' | 'publicClient'>, t: bigint): Promise<void> {
  const now = (await net.publicClient.getBlock()).timestamp;
  if (t <= now) return;
  const tc = createTestClient({ chain: foundry, transport: http(net.anvil.rpcUrl), mode: 'anvil' });
  await tc.increaseTime({ seconds: Number(t - now) });
  await tc.mine({ blocks: 1 });
}
