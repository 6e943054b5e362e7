/**
 * What the node will do on-chain, end to end on anvil with deployProtocol (real DisputeGame, real one-step
 * verifier): deploy, register agent, stake, register model, post task, claim, commit, finalize,
 * challenge → game → slash, batch commit of 100 results. Each action: a success with its event, and a revert whose
 * decoded custom error name is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { erc20Abi, keccak256, parseAbi, parseEventLogs, toHex, zeroHash, type Hex } from 'viem';
import {
  challengeResult,
  claimTask,
  commitBatch,
  commitResult,
  finalizeTask,
  modelShape,
  postBatchTask,
  postTask,
  registerAgent,
  registerModel,
  resolveDispute,
  stake,
} from '../../src/chain/actions/index.js';
import { disputeGameAbi, identityRegistryAbi, modelRegistryAbi, taskMarketAbi, verityTimelockAbi, stakingAbi } from '../../src/chain/artifacts/index.js';
import { ContractRevertError } from '../../src/chain/errors.js';
import { inputHashOf, outputHashOf, tensorArg } from '../../src/chain/io.js';
import { sendContractTransaction } from '../../src/chain/send.js';
import { resultLeaf } from '../../src/chain/positional.js';
import { traceRootHex } from '../../src/commit/index.js';
import { DisputeClient, Outcome, traceStateProvider } from '../../src/dispute/index.js';
import { buildOneStep } from '../../src/verifier/index.js';
import { E18, localProtocol, opsBitmap, realRun, type LocalProtocol, type RealRun } from './helpers.js';

const DAY = 86_400n;

/** ERC-8004's own signatures (the ERC's interfaces, no Verity ABI): what a third-party client calls. */
const erc8004 = parseAbi([
  'function ownerOf(uint256 tokenId) view returns (address)',
  'function tokenURI(uint256 tokenId) view returns (string)',
  'function getSummary(uint256 agentId, address[] clientAddresses, string tag1, string tag2) view returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals)',
  'function getAgentValidations(uint256 agentId) view returns (bytes32[] requestHashes)',
  'function getValidatorRequests(address validatorAddress) view returns (bytes32[] requestHashes)',
  'function getValidationStatus(bytes32 requestHash) view returns (address validatorAddress, uint256 agentId, uint8 response, bytes32 responseHash, string tag, uint256 lastUpdate)',
  'event ValidationRequest(address indexed validatorAddress, uint256 indexed agentId, string requestURI, bytes32 indexed requestHash)',
]);

/** Runs `fn`, expects a ContractRevertError named `errorName`, returns it. */
async function reverts(fn: () => Promise<unknown>, errorName: string): Promise<ContractRevertError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContractRevertError);
    const err = e as ContractRevertError;
    expect(err.errorName).toBe(errorName);
    expect(err.message).toContain(`${errorName}(`);
    return err;
  }
  throw new Error(`expected a revert with ${errorName}`);
}

let p: LocalProtocol;
let run: RealRun;
let agentId: bigint;
let modelId: bigint;

beforeAll(async () => {
  p = await localProtocol();
  run = realRun('wine-mlp');
});

afterAll(async () => {
  await p?.stop();
});

async function deadline(seconds = 3_600n): Promise<bigint> {
  return (await p.now()) + seconds;
}

describe('deployProtocol', () => {
  it('deploys, binds and hands every parameter to the timelock', async () => {
    const { publicClient, addresses: a } = p;
    for (const v of Object.values(a)) if (typeof v === 'string') expect(v).toMatch(/^0x[0-9a-fA-F]{40}$/);
    const params = await publicClient.readContract({ address: a.taskMarket, abi: taskMarketAbi, functionName: 'getParams' });
    expect(params.resolver).toBe(a.disputeGame);
    expect(await publicClient.readContract({ address: a.disputeGame, abi: disputeGameAbi, functionName: 'isMarket', args: [a.taskMarket] })).toBe(true);
    expect(await publicClient.readContract({ address: a.disputeGame, abi: disputeGameAbi, functionName: 'verifier' })).toBe(a.oneStepVerifier);
    expect(await publicClient.readContract({ address: a.staking, abi: stakingAbi, functionName: 'market' })).toBe(a.taskMarket);
    for (const c of [a.taskMarket, a.disputeGame, a.staking] as const) {
      const gov = await publicClient.readContract({ address: c, abi: taskMarketAbi, functionName: 'governance' });
      expect(gov).toBe(a.timelock);
    }
    const deployer = p.as('deployer').walletClient.account.address;
    const role = (name: 'PROPOSER_ROLE' | 'DEFAULT_ADMIN_ROLE') => publicClient.readContract({ address: a.timelock, abi: verityTimelockAbi, functionName: name });
    const has = (r: Hex, who: Hex) => publicClient.readContract({ address: a.timelock, abi: verityTimelockAbi, functionName: 'hasRole', args: [r, who] });
    expect(await has(await role('DEFAULT_ADMIN_ROLE'), deployer)).toBe(false);
    expect(await has(await role('PROPOSER_ROLE'), deployer)).toBe(false);
    expect(await has(await role('PROPOSER_ROLE'), a.governor)).toBe(true);
    expect(await publicClient.readContract({ address: a.timelock, abi: verityTimelockAbi, functionName: 'getMinDelay' })).toBe(2n * DAY);
  });

  it('leaves the deployer no power: a parameter change reverts GovernedUnauthorized', async () => {
    const err = await reverts(
      () => sendContractTransaction(p.as('deployer'), { contract: 'DisputeGame', address: p.addresses.disputeGame, abi: disputeGameAbi, functionName: 'setBond', args: [1n] }),
      'GovernedUnauthorized',
    );
    expect(err.args[0]).toBe(p.as('deployer').walletClient.account.address);
  });
});

describe('agent, stake, model', () => {
  it('registers an ERC-8004 agent (Registered)', async () => {
    const r = await registerAgent(p.as('worker'), { agentURI: 'ipfs://agent-card' });
    agentId = r.agentId;
    expect(r.owner).toBe(p.as('worker').walletClient.account.address);
  });

  it('registerAgent revert: another account may not edit the agent (IdentityUnauthorized)', async () => {
    await reverts(
      () =>
        sendContractTransaction(p.as('stranger'), {
          contract: 'IdentityRegistry',
          address: p.addresses.identityRegistry,
          abi: identityRegistryAbi,
          functionName: 'setAgentURI',
          args: [agentId, 'ipfs://evil'],
        }),
      'IdentityUnauthorized',
    );
  });

  it('stakes (Staked) and rejects a zero stake (StakingZeroAmount)', async () => {
    const r = await stake(p.as('worker'), { amount: 1_000n * E18 });
    expect(r.staked).toBe(1_000n * E18);
    await reverts(() => stake(p.as('worker'), { amount: 0n }), 'StakingZeroAmount');
  });

  it('registers the model (ModelRegistered) and rejects a zero root (ModelRegistryZeroRoot)', async () => {
    const r = await registerModel(p.as('requester'), { modelRoot: run.modelRoot, metadataURI: 'ipfs://wine-mlp', opsBitmap: opsBitmap(run.model) });
    modelId = r.modelId;
    await reverts(() => registerModel(p.as('requester'), { modelRoot: zeroHash, metadataURI: '', opsBitmap: 1n }), 'ModelRegistryZeroRoot');
  });

  it('registers a model with its declared trace shape (registerModelWithShape; shapeOf reads it back)', async () => {
    const shape = modelShape(run.model, 5_000_000n);
    const r = await registerModel(p.as('stranger'), { modelRoot: keccak256(toHex('shaped wine-mlp')), metadataURI: 'ipfs://shaped', opsBitmap: opsBitmap(run.model), shape });
    expect(r.modelId).not.toBe(modelId);
    const got = await p.publicClient.readContract({ address: p.addresses.modelRegistry, abi: modelRegistryAbi, functionName: 'shapeOf', args: [r.modelId] });
    expect(got).toEqual(shape);
    expect(shape).toEqual({ numInputs: 1, nodeCount: run.model.nodes.length, numOutputs: 1, maxStepGas: 5_000_000n });
  });
});

describe('task lifecycle', () => {
  let taskId: bigint;

  it('posts a task with its input tensors; the market commits to the game-format inputHash (InputPublished)', async () => {
    const inputs = run.honest.slice(0, run.model.inputs.length);
    const r = await postTask(p.as('requester'), { modelId, inputs, fee: 20n * E18, deadline: await deadline() });
    taskId = r.taskId;
    expect(r.inputHash).toBe(inputHashOf(inputs));
    const ev = parseEventLogs({ abi: taskMarketAbi, logs: r.receipt.logs, eventName: 'InputPublished' })[0]!;
    expect(ev.args.inputs[0]!.data).toBe(tensorArg(inputs[0]!).data);
  });

  it('postTask reverts: zero fee (MarketZeroFee), malformed tensor (MarketInvalidTensors)', async () => {
    const inputs = run.honest.slice(0, 1);
    await reverts(async () => postTask(p.as('requester'), { modelId, inputs, fee: 0n, deadline: await deadline() }), 'MarketZeroFee');
    // postTask validates tensors in TS first; send a malformed one directly: 14 elements declared, 13 given
    const bad = { ...tensorArg(inputs[0]!), shape: [1, 14] };
    const err = await reverts(
      async () =>
        sendContractTransaction(p.as('requester'), {
          contract: 'TaskMarket',
          address: p.addresses.taskMarket,
          abi: taskMarketAbi,
          functionName: 'postTask',
          args: [modelId, [bad], E18, await deadline()],
        }),
      'MarketInvalidTensors',
    );
    expect(err.args).toEqual([0n]);
  });

  it('claim: a stranger without an agent reverts (MarketNotAgentOperator); the worker claims (TaskClaimed)', async () => {
    await reverts(() => claimTask(p.as('stranger'), { taskId, agentId }), 'MarketNotAgentOperator');
    const r = await claimTask(p.as('worker'), { taskId, agentId });
    expect(r.stakeLocked).toBe(100n * E18);
  });

  it('commit: only the worker (MarketNotWorker); the worker commits its outputs only (ResultCommitted, no trace root)', async () => {
    const outputs = run.honest.slice(-run.model.outputs.length);
    await reverts(() => commitResult(p.as('stranger'), { taskId, outputs }), 'MarketNotWorker');
    const r = await commitResult(p.as('worker'), { taskId, outputs });
    expect(r.outputHash).toBe(outputHashOf(outputs));
    expect(r.resultRoot).toBe(resultLeaf(0, outputHashOf(outputs)));
  });

  it('finalize: reverts inside the window (MarketChallengeWindowOpen), pays after it (TaskFinalized)', async () => {
    await reverts(() => finalizeTask(p.as('stranger'), { taskId }), 'MarketChallengeWindowOpen');
    await p.warp(DAY);
    const r = await finalizeTask(p.as('stranger'), { taskId });
    expect(r.worker).toBe(p.as('worker').walletClient.account.address);
    expect(r.workerPayout + r.protocolFee).toBe(20n * E18);
    expect(r.protocolFee).toBe(E18);
  });
});

describe('challenge → game → slash (real verifier, real model trace)', () => {
  it('a wrong output loses the game and the worker is slashed (TaskInvalidated)', async () => {
    const worker = p.as('worker');
    const challenger = p.as('challenger');
    const inputs = run.honest.slice(0, 1);
    const { taskId } = await postTask(p.as('requester'), { modelId, inputs, fee: 20n * E18, deadline: await deadline() });
    await claimTask(worker, { taskId, agentId });
    const lie = run.corrupted; // the worker's output element is wrong
    const { outputHash } = await commitResult(worker, { taskId, outputs: lie.slice(-1) });

    // revert first: another output digest for the element (MarketInvalidResultProof)
    await reverts(
      () => challengeResult(challenger, { taskId, inputHash: inputHashOf(inputs), outputHash: keccak256(toHex('other')) }),
      'MarketInvalidResultProof',
    );
    const c = await challengeResult(challenger, { taskId, inputHash: inputHashOf(inputs), outputHash });
    const opened = parseEventLogs({ abi: disputeGameAbi, logs: c.receipt.logs, eventName: 'GameOpened' })[0]!;
    expect(opened.args.opener).toBe(p.addresses.taskMarket);
    expect(opened.args.traceRoot).toBe(zeroHash); // no audit pin: the game takes the revealed trace's root
    expect(opened.args.challenger).toBe(challenger.walletClient.account.address);

    await reverts(() => resolveDispute(p.as('stranger'), { disputeId: c.disputeId }), 'MarketDisputePending');

    const mk = (clients: typeof worker) => new DisputeClient({ publicClient: p.publicClient, walletClient: clients.walletClient, game: p.addresses.disputeGame, pollMs: 10 });
    const claimant = mk(worker);
    const honestPlayer = mk(challenger);
    const [co, ho] = await Promise.all([
      claimant.playClaimant(c.gameId, traceStateProvider(run.model, lie, buildOneStep)),
      honestPlayer.playChallenger(c.gameId, traceStateProvider(run.model, run.honest, buildOneStep)),
    ]);
    expect(co).toBe(Outcome.ChallengerWon);
    expect(ho).toBe(Outcome.ChallengerWon);
    const game = await p.publicClient.readContract({ address: p.addresses.disputeGame, abi: disputeGameAbi, functionName: 'game', args: [c.gameId] });
    expect(game.traceRoot).toBe(traceRootHex(lie)); // the root of the trace the liar revealed

    const stakedBefore = (await p.publicClient.readContract({ address: p.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [worker.walletClient.account.address] })).staked;
    const r = await resolveDispute(p.as('stranger'), { disputeId: c.disputeId });
    expect(r.outcome).toBe(Outcome.ChallengerWon);
    expect(r.invalidated).toEqual({ slashed: 100n * E18, challengerShare: 50n * E18, refund: 20n * E18 });
    const stakedAfter = (await p.publicClient.readContract({ address: p.addresses.staking, abi: stakingAbi, functionName: 'accountOf', args: [worker.walletClient.account.address] })).staked;
    expect(stakedBefore - stakedAfter).toBe(100n * E18);

    // A third-party ERC-8004 client reads the outcome through the ERC's interfaces only.
    const read = <T>(address: Hex, functionName: string, args: readonly unknown[]) => p.publicClient.readContract({ address, abi: erc8004, functionName, args } as never) as Promise<T>;
    const { validationRegistry, reputationRegistry, identityRegistry, taskMarket } = p.addresses;
    expect(await read<string>(identityRegistry, 'ownerOf', [agentId])).toBe(worker.walletClient.account.address);
    const [lost, value] = await read<[bigint, bigint, number]>(reputationRegistry, 'getSummary', [agentId, [taskMarket], 'dispute', 'lost']);
    expect([lost, value]).toEqual([1n, -(10n ** 18n)]);
    const hashes = await read<Hex[]>(validationRegistry, 'getAgentValidations', [agentId]);
    expect(hashes.length).toBe(1);
    expect(await read<Hex[]>(validationRegistry, 'getValidatorRequests', [taskMarket])).toEqual(hashes);
    const [validator, forAgent, response, , tag] = await read<[string, bigint, number, Hex, string, bigint]>(validationRegistry, 'getValidationStatus', [hashes[0]]);
    expect([validator, forAgent, response, tag]).toEqual([taskMarket, agentId, 0, 'dispute']);
    // The market's request carries a request URI a client can read: a data: URI naming the market, task and dispute.
    const [req] = await p.publicClient.getContractEvents({ address: validationRegistry, abi: erc8004, eventName: 'ValidationRequest', args: { requestHash: hashes[0] }, fromBlock: 0n, strict: true });
    const uri = req!.args.requestURI;
    expect(uri.startsWith('data:application/json;base64,')).toBe(true);
    const body = JSON.parse(Buffer.from(uri.slice('data:application/json;base64,'.length), 'base64').toString('utf8')) as Record<string, unknown>;
    expect(body).toEqual({ type: 'verity-dispute', chainId: await p.publicClient.getChainId(), market: taskMarket.toLowerCase(), taskId: Number(taskId), disputeId: Number(c.disputeId) });
  });

  it('a nested revert (the game pulling an unapproved bond) is decoded from the protocol ABIs', async () => {
    const inputs = run.honest.slice(0, 1);
    const { taskId } = await postTask(p.as('requester'), { modelId, inputs, fee: E18, deadline: await deadline() });
    await claimTask(p.as('worker'), { taskId, agentId });
    const { outputHash } = await commitResult(p.as('worker'), { taskId, outputs: run.honest.slice(-1) });
    await sendContractTransaction(p.as('stranger'), { contract: 'VerityToken', address: p.addresses.token, abi: erc20Abi, functionName: 'approve', args: [p.addresses.disputeGame, 0n] });
    const err = await reverts(
      () =>
        sendContractTransaction(p.as('stranger'), {
          contract: 'TaskMarket',
          address: p.addresses.taskMarket,
          abi: taskMarketAbi,
          functionName: 'challenge',
          args: [taskId, 0, inputHashOf(inputs), [], outputHash, []],
        }),
      'ERC20InsufficientAllowance',
    );
    expect(err.args[0]).toBe(p.addresses.disputeGame);
  });
});

describe('batch of 100 results', () => {
  it('posts, claims, commits 100 results in one transaction (BatchCommitted) and proves element 57 in a challenge', async () => {
    const n = 100;
    const inputHashes = Array.from({ length: n }, (_, i) => keccak256(toHex(`in${i}`)));
    const results = Array.from({ length: n }, (_, i) => ({ outputHash: keccak256(toHex(`out${i}`)) }));
    const { taskId, inputTree } = await postBatchTask(p.as('requester'), { modelId, inputHashes, fee: 100n * E18, deadline: await deadline() });
    await claimTask(p.as('worker'), { taskId, agentId });
    await reverts(() => commitBatch(p.as('stranger'), { taskId, results }), 'MarketNotWorker');
    const c = await commitBatch(p.as('worker'), { taskId, results });
    const task = await p.publicClient.readContract({ address: p.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [taskId] });
    expect(task.resultRoot).toBe(c.resultTree.root);
    expect(task.itemCount).toBe(n);
    expect(c.receipt.gasUsed / BigInt(n)).toBeLessThanOrEqual(2_000n);
    const i = 57;
    const ch = await challengeResult(p.as('challenger'), {
      taskId,
      index: i,
      inputHash: inputHashes[i]!,
      inputProof: inputTree.proof(i),
      ...results[i]!,
      resultProof: c.resultTree.proof(i),
    });
    const ev = parseEventLogs({ abi: taskMarketAbi, logs: ch.receipt.logs, eventName: 'ResultChallenged' })[0]!;
    expect(ev.args.index).toBe(i);
    await reverts(
      () => challengeResult(p.as('challenger'), { taskId, index: 58, inputHash: inputHashes[i]!, inputProof: inputTree.proof(i), ...results[i]!, resultProof: c.resultTree.proof(i) }),
      'MarketInvalidInputProof',
    );
  });
});

