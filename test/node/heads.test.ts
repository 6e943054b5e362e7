/** HeadWatch on a real anvil: no reorg → nothing; evm_revert + new blocks at the same heights → the first replaced block. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPublicClient, createTestClient, http } from 'viem';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { HeadWatch } from '../../src/node/heads.js';

let anvil: AnvilInstance;
beforeAll(async () => {
  anvil = await startAnvil();
});
afterAll(async () => {
  await anvil?.stop();
});

it('reports the lowest replaced block after a reorg, and nothing while the chain only grows', async () => {
  const transport = http(anvil.rpcUrl);
  const pc = createPublicClient({ chain: foundry, transport });
  const tc = createTestClient({ chain: foundry, transport, mode: 'anvil' });
  const w = new HeadWatch(pc);
  await tc.mine({ blocks: 3 });
  expect(await w.check()).toBeUndefined();
  const snap = await tc.snapshot();
  const fork = await pc.getBlockNumber();
  for (let i = 0; i < 4; i++) {
    await tc.mine({ blocks: 1 });
    expect(await w.check()).toBeUndefined(); // growing chain: no reorg
  }
  await tc.revert({ id: snap });
  await tc.setNextBlockTimestamp({ timestamp: (await pc.getBlock()).timestamp + 1000n });
  await tc.mine({ blocks: 6 }); // new blocks at the old heights (different timestamps, so different hashes)
  expect(await w.check()).toBe(fork + 1n);
  expect(await w.check()).toBeUndefined(); // reported once
});
