/**
 * End to end on anvil: DisputeGame + a test bond token + the MOCK one-step verifier (test double: it returns the
 * honest value registered by the test; the real verifier's end-to-end test is still to come). Both sides are played
 * by DisputeClient from their own traces only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, createTestClient, createWalletClient, http, bytesToHex, type Abi, type Address, type Hex } from 'viem';
import { foundry } from 'viem/chains';
import { anvilAccount, startAnvil, type AnvilInstance } from '../../src/chain/anvil.js';
import { compileContracts } from '../../src/chain/compile.js';
import { tensorBytes, treeDepth, leafCountOfBytes } from '../../src/commit/index.js';
import { DisputeClient, disputeGameAbi, firstDisagreement, ioDigest, Outcome, traceStateProvider } from '../../src/dispute/index.js';
import { buildOneStep } from '../../src/verifier/index.js';
import type { QModel, Trace } from '../../src/engine/ir.js';
import { modelRootHex } from '../../src/commit/index.js';
import { chainModel, corrupt, runChain } from './helpers.js';

const BOND = 10n ** 19n;
const CLOCK = 3n * 86400n;

let anvil: AnvilInstance;
let art: Record<string, { abi: Abi; bytecode: Hex }>;
const deployer = anvilAccount(0);
const claimantAcct = anvilAccount(1);
const challengerAcct = anvilAccount(2);

function clients() {
  const transport = http(anvil.rpcUrl);
  const publicClient = createPublicClient({ chain: foundry, transport, pollingInterval: 20 });
  const wallet = (account: typeof deployer) => createWalletClient({ chain: foundry, transport, account, pollingInterval: 20 });
  const testClient = createTestClient({ chain: foundry, transport, mode: 'anvil' });
  return { publicClient, wallet, testClient };
}

async function deploy(levelsPerMove: number, model: QModel, honest: Trace) {
  const { publicClient, wallet } = clients();
  const w = wallet(deployer);
  const dep = async (name: string, args: unknown[] = []): Promise<Address> => {
    const hash = await w.deployContract({ abi: art[name]!.abi, bytecode: art[name]!.bytecode, args: args as never });
    const r = await publicClient.waitForTransactionReceipt({ hash });
    return r.contractAddress!;
  };
  const token = await dep('TestBondToken');
  const verifier = await dep('MockOneStepVerifier');
  const game = await dep('DisputeGame', [deployer.address, token, verifier, BOND, CLOCK, levelsPerMove]);
  const call = async (address: Address, name: string, functionName: string, args: unknown[]) => {
    const hash = await w.writeContract({ address, abi: art[name]!.abi, functionName, args } as never);
    await publicClient.waitForTransactionReceipt({ hash });
  };
  for (const a of [claimantAcct, challengerAcct]) await call(token, 'TestBondToken', 'mint', [a.address, 100n * BOND]);
  // the mock's "truth" is the honest trace
  for (let i = 0; i < model.nodes.length; i++) {
    await call(verifier, 'MockOneStepVerifier', 'setReference', [BigInt(i), bytesToHex(tensorBytes(honest[model.nodes[i]!.output]!))]);
  }
  return { game, token };
}

function players(game: Address) {
  const { publicClient, wallet } = clients();
  return {
    claimant: new DisputeClient({ publicClient, walletClient: wallet(claimantAcct), game, pollMs: 10 }),
    challenger: new DisputeClient({ publicClient, walletClient: wallet(challengerAcct), game, pollMs: 10 }),
  };
}

async function play(model: QModel, claimantTrace: Trace, challengerTrace: Trace, levelsPerMove: number, honest: Trace) {
  const { game } = await deploy(levelsPerMove, model, honest);
  const { claimant, challenger } = players(game);
  const cp = traceStateProvider(model, claimantTrace, buildOneStep);
  const hp = traceStateProvider(model, challengerTrace, buildOneStep);
  const roots = cp.tensorRoots();
  const gameId = await challenger.open({
    taskKey: bytesToHex(new Uint8Array(32).fill(1)),
    claimant: claimantAcct.address,
    traceRoot: cp.traceRoot(),
    modelRoot: modelRootHex(model),
    inputHash: ioDigest(0x06, roots.slice(0, 1)),
    outputHash: ioDigest(0x07, roots.slice(-1)),
  });
  const [a, b] = await Promise.all([claimant.playClaimant(gameId, cp), challenger.playChallenger(gameId, hp)]);
  expect(a).toBe(b);
  const moves = [...claimant.moves, ...challenger.moves].filter((m) => m.move !== 'approve');
  const gas = moves.reduce((s, m) => s + m.gasUsed, 0n);
  return { outcome: a, moves, gas, claimant, challenger, gameId };
}

beforeAll(async () => {
  art = compileContracts([
    'contracts/dispute/DisputeGame.sol',
    'test/contracts/dispute/mocks/MockOneStepVerifier.sol',
    'test/contracts/dispute/mocks/TestBondToken.sol',
  ]);
  anvil = await startAnvil();
});

afterAll(async () => {
  await anvil?.stop();
});

describe('DisputeGame on anvil', () => {
  it('src/dispute/abi.ts is the compiled ABI', () => {
    expect(JSON.parse(JSON.stringify(disputeGameAbi))).toEqual(art['DisputeGame']!.abi);
  });

  const N = 4096; // i8 elements per tensor: 128 words, depth 7
  const model = chainModel(N, 4);
  const honest = runChain(model, 42);

  for (const levels of [1, 2, 4]) {
    it(`a wrong claimant loses: every move played, counted and measured (levelsPerMove ${levels})`, async () => {
      const bad = corrupt(honest, 3, 2500);
      const d = firstDisagreement(model, honest, bad)!;
      expect(d).toMatchObject({ tensorId: 3, nodeIndex: 2, elementIndex: 2500 });
      const r = await play(model, bad, honest, levels, honest);
      expect(r.outcome).toBe(Outcome.ChallengerWon);
      const depth = treeDepth(leafCountOfBytes(N));
      const rounds = Math.max(1, Math.ceil(depth / levels));
      expect(r.moves.length).toBe(2 * rounds + 3);
      expect(r.moves.length).toBeLessThanOrEqual(2 * Math.log2(N) + 3);
      expect(r.gas).toBeLessThan(1_500_000n);
      const oneStepEvents = await r.challenger.publicClient.getContractEvents({ address: r.challenger.game, abi: disputeGameAbi, eventName: 'ElementChecked', fromBlock: 0n, strict: true });
      expect(oneStepEvents.at(-1)!.args.elementIndex).toBe(2500n);
      // eslint-disable-next-line no-console
      console.log(`levelsPerMove ${levels}: ${r.moves.length} txs, ${r.gas} gas\n` + r.moves.map((m) => `  ${m.move.padEnd(13)} ${m.gasUsed}`).join('\n'));
      await r.challenger.claimCredit();
    });
  }

  it('an honest claimant wins against a wrong challenger', async () => {
    const wrong = corrupt(honest, 2, 77, 5); // the challenger's own run is wrong at tensor 2
    const r = await play(model, honest, wrong, 2, honest);
    expect(r.outcome).toBe(Outcome.ClaimantWon);
  });

  it('a claimant that withholds everything loses on time', async () => {
    const { game } = await deploy(2, model, honest);
    const { challenger } = players(game);
    const hp = traceStateProvider(model, honest, buildOneStep);
    const roots = hp.tensorRoots();
    const gameId = await challenger.open({
      taskKey: bytesToHex(new Uint8Array(32)),
      claimant: claimantAcct.address,
      traceRoot: bytesToHex(new Uint8Array(32).fill(9)), // some root nobody can open
      modelRoot: modelRootHex(model),
      inputHash: ioDigest(0x06, roots.slice(0, 1)),
      outputHash: ioDigest(0x07, roots.slice(-1)),
    });
    const { testClient } = clients();
    await testClient.increaseTime({ seconds: Number(CLOCK) + 1 });
    await testClient.mine({ blocks: 1 });
    expect(await challenger.playChallenger(gameId, hp)).toBe(Outcome.ChallengerWon);
    expect(challenger.moves.map((m) => m.move)).toContain('timeout');
  });
});
