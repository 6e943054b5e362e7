/**
 * Gas of the one-step verifier (OneStepVerifier.computeElement, estimateGas on anvil) for the most
 * expensive element of each op in each shipped model (models/{wine-mlp,digits-convnet,tiny-gpt}).
 * "Most expensive" = the node and output element (sampled: edges + up to 48 evenly spaced) reading the
 * most proven elements. Prints a table and writes bench/results/gas-verifier.json.
 *
 *   npx tsx bench/gas-verifier.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { keccakReady, type TensorCommitment } from '../src/commit/index.js';
import { sizeOf } from '../src/engine/ir.js';
import { prepareModel, runModel } from '../src/engine/run.js';
import { quantizeInput } from '../src/onnx/import.js';
import { startAnvil } from '../src/chain/anvil.js';
import { deployOneStepVerifier, oneStepVerifierFullAbi } from '../src/chain/verifier.js';
import { buildOneStep, dependencies, modelCommitmentOf } from '../src/verifier/index.js';
import { MODEL_NAMES, modelData, quantized } from '../test/onnx/models.js';

interface Row {
  model: string;
  op: string;
  node: number;
  outputIndex: number;
  elementsRead: number;
  words: number;
  gas: number;
  calldataBytes: number;
}

function sampleIndices(n: number): number[] {
  const s = new Set<number>([0, n - 1]);
  const k = Math.min(n, 48);
  for (let i = 0; i < k; i++) s.add(Math.floor((i * n) / k));
  return [...s];
}

async function main(): Promise<void> {
  await keccakReady;
  const anvil = await startAnvil();
  try {
    const account = privateKeyToAccount(anvil.accounts[0].privateKey);
    const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
    const wallet = createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) });
    const { verifier } = await deployOneStepVerifier({ walletClient: wallet, publicClient: client });
    const rows: Row[] = [];
    for (const name of MODEL_NAMES) {
      const model = quantized(name);
      const row = modelData(name).x[0];
      const trace = runModel(prepareModel(model), [quantizeInput(model, row)]);
      const mc = modelCommitmentOf(model);
      const tensors = new Map<number, TensorCommitment>();
      // per op: the (node, element) reading the most elements
      const best = new Map<string, { node: number; o: number; reads: number }>();
      model.nodes.forEach((node, ni) => {
        const n = sizeOf(model.tensors[node.output].shape);
        for (const o of sampleIndices(n)) {
          const d = dependencies(model, ni, o, trace);
          const reads = [...d.inputs, ...d.params].flat().reduce((s, [, c]) => s + c, 0);
          const cur = best.get(node.op);
          if (!cur || reads > cur.reads) best.set(node.op, { node: ni, o, reads });
        }
      });
      for (const [op, b] of best) {
        const w = buildOneStep(model, trace, b.node, b.o, { commitment: mc, tensors });
        const args = [w.modelRoot, w.inputTensorRoots, w.step] as const;
        const [, value] = await client.readContract({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args });
        if (value !== w.expected) throw new Error(`${name} node ${b.node} (${op}) element ${b.o}: contract ${value} ≠ engine ${w.expected}`);
        const gas = await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args, account: account.address });
        const { encodeFunctionData } = await import('viem');
        const calldata = encodeFunctionData({ abi: oneStepVerifierFullAbi, functionName: 'computeElement', args });
        const words = [...w.step.inputs, ...w.step.params].reduce((s, p) => s + p.words.length, 0);
        rows.push({ model: name, op, node: b.node, outputIndex: b.o, elementsRead: b.reads, words, gas: Number(gas), calldataBytes: (calldata.length - 2) / 2 });
      }
    }
    const pad = (s: string | number, n: number): string => String(s).padEnd(n);
    console.log(`${pad('model', 16)}${pad('op', 20)}${pad('node', 6)}${pad('element', 9)}${pad('reads', 7)}${pad('words', 7)}${pad('calldata', 10)}gas`);
    for (const r of rows) console.log(`${pad(r.model, 16)}${pad(r.op, 20)}${pad(r.node, 6)}${pad(r.outputIndex, 9)}${pad(r.elementsRead, 7)}${pad(r.words, 7)}${pad(r.calldataBytes, 10)}${r.gas}`);
    const dir = join(import.meta.dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'gas-verifier.json'), JSON.stringify({ generatedBy: 'bench/gas-verifier.ts', rows }, null, 2) + '\n');
    console.log(`wrote ${join('bench', 'results', 'gas-verifier.json')}`);
  } finally {
    await anvil.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
