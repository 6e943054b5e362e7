import { createPublicClient, createWalletClient, http, decodeAbiParameters, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { keccakReady } from '/work/main/src/commit/index.js';
import { prepareModel, runModel } from '/work/main/src/engine/run.js';
import { quantizeInput } from '/work/main/src/onnx/import.js';
import { startAnvil } from '/work/main/src/chain/anvil.js';
import { deployOneStepVerifier, oneStepVerifierFullAbi } from '/work/main/src/verifier/deploy.js';
import { denseOpsAbi } from '/work/main/src/chain/artifacts/index.js';
import { buildOneStep } from '/work/main/src/verifier/index.js';
import { modelData, quantized } from '/work/main/test/onnx/models.js';
await keccakReady;
const anvil = await startAnvil();
try {
  const account = privateKeyToAccount(anvil.accounts[0].privateKey);
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
  const wallet = createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) });
  const { verifier, dense } = await deployOneStepVerifier(wallet, client);
  for (const [name, node] of [['tiny-gpt', 25], ['wine-mlp', 1]] as const) {
    const model = quantized(name);
    const trace = runModel(prepareModel(model), [quantizeInput(model, modelData(name).x[0])]);
    const w = buildOneStep(model, trace, node, 0);
    const g1 = await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args: [w.modelRoot, w.inputTensorRoots, w.step], account: account.address });
    const computeAbi = denseOpsAbi.find((e: any) => e.name === 'compute') as any;
    const [h] = decodeAbiParameters([computeAbi.inputs[0]], w.step.node.header);
    const g2 = await client.estimateContractGas({ address: dense, abi: denseOpsAbi, functionName: 'compute', args: [h as any, w.step.inputs, w.step.params, w.step.outputIndex], account: account.address });
    const emptyIns = w.step.inputs.map(p => p);
    console.log(name, node, 'router', g1, 'dense direct', g2);
  }
} finally { await anvil.stop(); }
