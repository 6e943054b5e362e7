/**
 * A deployed protocol on a fresh anvil for tests and benchmarks (src/chain/devnet.ts: deployProtocol with the real
 * one-step verifier), five accounts by role, four funded with VRT, and a real model run (honest and corrupted traces).
 */
import { bytesToHex, createTestClient, type Hex, type PublicClient } from 'viem';
import { foundry } from 'viem/chains';
import type { AnvilInstance } from '../../src/chain/anvil.js';
import type { DeployProtocolOptions } from '../../src/chain/deploy.js';
import { startDevnet } from '../../src/chain/devnet.js';
import { transferToken } from '../../src/chain/actions/index.js';
import type { ProtocolAddresses, ProtocolClients } from '../../src/chain/types.js';
import { modelRootHex } from '../../src/commit/index.js';
import { OP_TYPES, type QModel, type Trace } from '../../src/engine/ir.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized, type ModelName } from '../onnx/models.js';
import { corrupt } from '../dispute/helpers.js';

export const E18 = 10n ** 18n;

export const ROLES = { deployer: 0, requester: 1, worker: 2, challenger: 3, stranger: 4 } as const;
export type Role = keyof typeof ROLES;

export interface LocalProtocol {
  anvil: AnvilInstance;
  publicClient: PublicClient;
  testClient: ReturnType<typeof createTestClient>;
  addresses: ProtocolAddresses;
  /** Clients acting as `role`. */
  as(role: Role): ProtocolClients;
  /** Advances anvil's clock by `seconds` and mines a block. */
  warp(seconds: number | bigint): Promise<void>;
  now(): Promise<bigint>;
  stop(): Promise<void>;
}

export async function localProtocol(opts: DeployProtocolOptions = {}): Promise<LocalProtocol> {
  const net = await startDevnet({ deploy: opts });
  try {
    const { anvil, publicClient, addresses } = net;
    const testClient = createTestClient({ chain: foundry, transport: net.transport, mode: 'anvil' });
    const as = (role: Role): ProtocolClients => net.clients(ROLES[role]);
    for (const role of ['requester', 'worker', 'challenger', 'stranger'] as const) {
      await transferToken(as('deployer'), { to: as(role).walletClient.account.address, amount: 1_000_000n * E18 });
    }
    return {
      anvil,
      publicClient,
      testClient,
      addresses,
      as,
      warp: async (seconds) => {
        await testClient.increaseTime({ seconds: Number(seconds) });
        await testClient.mine({ blocks: 1 });
      },
      now: async () => (await publicClient.getBlock()).timestamp,
      stop: () => net.stop(),
    };
  } catch (e) {
    await net.stop();
    throw e;
  }
}

export { opsBitmap } from '../../src/chain/actions/registerModel.js';
import { opsBitmap } from '../../src/chain/actions/registerModel.js';

export interface RealRun {
  model: QModel;
  modelRoot: Hex;
  honest: Trace;
  /** The honest trace with element `element` of tensor `tensorId` changed. */
  corrupted: Trace;
  tensorId: number;
  element: number;
}

/** Runs a shipped model on its first data row; corrupts one element of tensor `tensorId` (default: the output). */
export function realRun(name: ModelName, tensorId?: number, element?: number): RealRun {
  const model = quantized(name);
  const honest = runModel(prepareModel(model), [quantizeInput(model, modelData(name).x[0]!)]);
  const id = tensorId ?? honest.length - 1;
  const e = element ?? Math.floor(honest[id]!.data.length / 2);
  return { model, modelRoot: modelRootHex(model), honest, corrupted: corrupt(honest, id, e, 7), tensorId: id, element: e };
}

export { bytesToHex };
