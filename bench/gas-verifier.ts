/**
 * Gas of the one-step verifier (OneStepVerifier.computeElement, estimateGas on anvil) for the most
 * expensive element of each op in each shipped model (models/{wine-mlp,digits-convnet,tiny-gpt}, and gpt-mid and
 * mobile-net from ../shared/models when that directory is present).
 * "Most expensive" = in each node the output element (sampled: edges + up to 48 evenly spaced) reading the most
 * proven elements; of those, per op, the one whose played step (below) costs the most gas. Prints a table and writes bench/results/gas-verifier.json.
 *
 * For a reduction longer than SUM_ARITY terms, or a Conv element of more than one term, the game does not re-execute
 * the element whole: it bisects
 * its accumulator (docs/protocol.md §Partial sums) and the last step is OneStepVerifier.computePartial over at most
 * ceil(T / SUM_ARITY) ≤ SUM_CHUNK terms (openReduction runs once, in the claimant's revealSumTotal). `oneStepGas` is the gas of the step the
 * game actually plays: max(computePartial of the longest chunk the game can end on, at several alignments,
 * openReduction), else computeElement.
 * (src/dispute/moves.ts opensSums; LayerNorm and Softmax rows too).
 * Synthetic rows (Linear K = 4096, LayerNorm over 4096, Softmax over 4096) show it is constant in the length. The
 * engine refuses LayerNorm rows over 1024 (docs/ops.md bound), so the LayerNorm-4096 element is computed by the
 * verifier's TypeScript mirror (computeOp), which the differential test holds to the contract.
 *
 *   npx tsx bench/gas-verifier.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, encodeFunctionData, http, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { keccakReady, type TensorCommitment } from '../src/commit/index.js';
import { sizeOf } from '../src/engine/ir.js';
import { prepareModel, runModel } from '../src/engine/run.js';
import { quantizeInput } from '../src/onnx/import.js';
import { startAnvil } from '../src/chain/anvil.js';
import { deployOneStepVerifier, oneStepVerifierFullAbi } from '../src/chain/verifier.js';
import { buildOneStep, buildSumOpen, buildSumStep, computeOp, dependencies, modelCommitmentOf, reductionTerms } from '../src/verifier/index.js';
import { nodeHeaderOf } from '../src/commit/index.js';
import { opensSums } from '../src/dispute/moves.js';
import type { QModel, Trace } from '../src/engine/ir.js';
import { haveShared, MODEL_NAMES, modelData, quantized, SHARED_MODEL_NAMES, SHARED_MODELS_DIR, sharedData, sharedQuantized } from '../test/onnx/models.js';
import { oneNode } from '../test/verifier/gen.js';

const SUM_CHUNK = 39; // DisputeGame.SUM_CHUNK
const SUM_ARITY = 20; // DisputeGame.SUM_ARITY

interface Row {
  model: string;
  op: string;
  node: number;
  outputIndex: number;
  elementsRead: number;
  words: number;
  gas: number;
  calldataBytes: number;
  /** Terms of the element's accumulator (reductions only). */
  terms?: number;
  /** Longest chunk the game can end on for this T, the worst computePartial over such a chunk, and openReduction. */
  chunk?: number;
  sumStepGas?: number;
  openReductionGas?: number;
  /** Gas of the one step the game plays for this element. */
  oneStepGas: number;
  /** Nodes of this op whose heaviest element was measured (the row is the costliest). */
  nodesCompared?: number;
}

/** A synthetic Linear with K = 4096 (x i8 [1, 4096], weight i8 [8, 4096]). */
function syntheticLinear(K: number): { model: QModel; trace: Trace } {
  const N = 8;
  const c = oneNode(
    'Linear',
    [{ dtype: 'i8', shape: [1, K], zp: 1 }],
    { dtype: 'i8', shape: [1, N] },
    { xZero: 1, yZero: 0 },
    {
      weight: { dtype: 'i8', shape: [N, K], data: Int8Array.from({ length: N * K }, (_, i) => ((i * 37) % 255) - 127) },
      bias: { dtype: 'i32', shape: [N], data: Int32Array.from({ length: N }, (_, i) => 100 * i - 300) },
      mult: { dtype: 'i32', shape: [N], data: Int32Array.from({ length: N }, () => 20000) },
      shift: { dtype: 'i32', shape: [N], data: Int32Array.from({ length: N }, () => 30) },
    },
    [{ dtype: 'i8', shape: [1, K], data: Int8Array.from({ length: K }, (_, i) => ((i * 91) % 256) - 128) }],
    0,
  );
  return { model: c.model, trace: runModel(prepareModel(c.model), c.inputs) };
}

/** A synthetic LayerNorm (x i8 [1, N]) or Softmax (x i8 [1, N], masked) over one row of N; only element `o` of the
 * output is filled for LayerNorm (the engine refuses N > 1024; the element comes from the verifier's mirror). */
function syntheticRow(op: 'LayerNorm' | 'Softmax', N: number, o: number): { model: QModel; trace: Trace } {
  const x = Int8Array.from({ length: N }, (_, i) => (i % 7 === 0 ? -128 : ((i * 91) % 200) - 80));
  if (op === 'Softmax') {
    const exp = Int32Array.from({ length: 256 }, (_, d) => Math.max(d === 0 ? 1 : 0, Math.round(Math.exp(-d * 0.05) * 2 ** 20)));
    const c = oneNode('Softmax', [{ dtype: 'i8', shape: [1, N] }], { dtype: 'i8', shape: [1, N], zp: -128 }, { masked: 1 }, { exp: { dtype: 'i32', shape: [256], data: exp } }, [{ dtype: 'i8', shape: [1, N], data: x }], 0);
    return { model: c.model, trace: runModel(prepareModel(c.model), c.inputs) };
  }
  const c = oneNode(
    'LayerNorm',
    [{ dtype: 'i8', shape: [1, N] }],
    { dtype: 'i8', shape: [1, N] },
    { xZero: 1, yZero: 0, eps: 1000, shift: 12 },
    {
      gamma: { dtype: 'i32', shape: [N], data: Int32Array.from({ length: N }, (_, i) => ((i * 37) % 2000) + 3000) },
      beta: { dtype: 'i32', shape: [N], data: Int32Array.from({ length: N }, (_, i) => ((i * 53) % 4000) - 2000) },
    },
    [{ dtype: 'i8', shape: [1, N], data: x }],
    0,
  );
  const y = new Int8Array(N);
  y[o] = Number(computeOp(nodeHeaderOf(c.model, 0), (kind, which, e) => BigInt(kind === 'input' ? x[e] : c.model.nodes[0].params[kind === 'param' ? ['beta', 'gamma'][which] : ''].data[e]), o));
  return { model: c.model, trace: [c.inputs[0], { dtype: 'i8', shape: [1, N], data: y }] };
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
    /** The partial-sum steps of a reduction's element: openReduction, and computePartial of 32-term chunks at several offsets. */
    const sums = async (model: QModel, trace: Trace, node: number, o: number, whole: number): Promise<Pick<Row, 'terms' | 'chunk' | 'sumStepGas' | 'openReductionGas' | 'oneStepGas'>> => {
      const T = reductionTerms(model, node, o);
      if (!opensSums(model.nodes[node].op, T, { arity: SUM_ARITY })) return { oneStepGas: whole, ...(T === undefined ? {} : { terms: T }) };
      if (T === undefined) throw new Error('unreachable');
      const open = buildSumOpen(model, trace, node, o);
      const mr = buildOneStep(model, trace, node, o).modelRoot;
      const openReductionGas = Number(await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'openReduction', args: [mr, open.step, open.total], account: account.address }));
      // the longest range the game can end on: parts of ceil(len / SUM_ARITY) until they are ≤ SUM_CHUNK
      let L = Math.ceil(T / SUM_ARITY);
      while (L > SUM_CHUNK) L = Math.ceil(L / SUM_ARITY);
      let sumStepGas = 0;
      for (const from of [0, 1, 7, 15, 31, Math.floor(T / 2) + 7, T - L - 1, T - L, o % T]) {
        if (from < 0 || from + L > T) continue;
        const st = buildSumStep(model, trace, node, o, from, from + L);
        const g = await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computePartial', args: [mr, st.inputTensorRoots, st.step, BigInt(from), BigInt(from + L), st.left], account: account.address });
        sumStepGas = Math.max(sumStepGas, Number(g));
      }
      return { terms: T, chunk: L, sumStepGas, openReductionGas, oneStepGas: Math.max(sumStepGas, openReductionGas) };
    };
    const missing = SHARED_MODEL_NAMES.filter((n) => !haveShared(n));
    if (missing.length > 0) console.log(`bench/gas-verifier: ${SHARED_MODELS_DIR} lacks ${missing.join(', ')}; skipping them`);
    const models = [
      ...MODEL_NAMES.map((name) => ({ name: name as string, load: () => ({ model: quantized(name), row: modelData(name).x[0]! }) })),
      ...SHARED_MODEL_NAMES.filter(haveShared).map((name) => ({ name: name as string, load: () => ({ model: sharedQuantized(name), row: sharedData(name).x[0]! }) })),
    ];
    for (const { name, load } of models) {
      const { model, row } = load();
      const trace = runModel(prepareModel(model), [quantizeInput(model, row)]);
      const mc = modelCommitmentOf(model);
      const tensors = new Map<number, TensorCommitment>();
      // per node: the element reading the most elements; per op: of those, the one whose played step costs the most
      // (measured: reads alone miss e.g. a depthwise Conv, whose 9 taps lie in 9 words of an NHWC tensor)
      const best = new Map<string, { node: number; o: number; reads: number }[]>();
      model.nodes.forEach((node, ni) => {
        const n = sizeOf(model.tensors[node.output].shape);
        let top = { node: ni, o: 0, reads: -1 };
        for (const o of sampleIndices(n)) {
          const d = dependencies(model, ni, o, trace);
          const reads = [...d.inputs, ...d.params].flat().reduce((s, [, c]) => s + c, 0);
          if (reads > top.reads) top = { node: ni, o, reads };
        }
        best.set(node.op, [...(best.get(node.op) ?? []), top]);
      });
      for (const [op, candidates] of best) {
        let worst: Row | undefined;
        for (const b of candidates) {
          const w = buildOneStep(model, trace, b.node, b.o, { commitment: mc, tensors });
          const args = [w.modelRoot, w.inputTensorRoots, w.step] as const;
          const [, value] = await client.readContract({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args });
          if (value !== w.expected) throw new Error(`${name} node ${b.node} (${op}) element ${b.o}: contract ${value} ≠ engine ${w.expected}`);
          const gas = await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args, account: account.address });
          const calldata = encodeFunctionData({ abi: oneStepVerifierFullAbi, functionName: 'computeElement', args });
          const words = [...w.step.inputs, ...w.step.params].reduce((s, p) => s + p.words.length, 0);
          const r: Row = { model: name, op, node: b.node, outputIndex: b.o, elementsRead: b.reads, words, gas: Number(gas), calldataBytes: (calldata.length - 2) / 2, ...(await sums(model, trace, b.node, b.o, Number(gas))) };
          if (!worst || r.oneStepGas > worst.oneStepGas) worst = r;
        }
        rows.push({ ...worst!, nodesCompared: candidates.length });
      }
    }
    {
      const { model, trace } = syntheticLinear(4096);
      const w = buildOneStep(model, trace, 0, 3);
      const args = [w.modelRoot, w.inputTensorRoots, w.step] as const;
      const gas = Number(await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args, account: account.address }).catch(() => 0n));
      rows.push({ model: 'synthetic', op: 'Linear', node: 0, outputIndex: 3, elementsRead: 2 * 4096 + 3, words: 0, gas, calldataBytes: 0, ...(await sums(model, trace, 0, 3, gas)) });
    }
    for (const op of ['LayerNorm', 'Softmax'] as const) {
      const o = 2051;
      const { model, trace } = syntheticRow(op, 4096, o);
      const w = buildOneStep(model, trace, 0, o);
      const args = [w.modelRoot, w.inputTensorRoots, w.step] as const;
      const gas = Number(await client.estimateContractGas({ address: verifier, abi: oneStepVerifierFullAbi, functionName: 'computeElement', args, account: account.address }).catch(() => 0n));
      const reads = [...w.deps.inputs, ...w.deps.params].flat().reduce((s, [, c]) => s + c, 0);
      rows.push({ model: 'synthetic', op, node: 0, outputIndex: o, elementsRead: reads, words: 0, gas, calldataBytes: 0, ...(await sums(model, trace, 0, o, gas)) });
    }
    const pad = (s: string | number, n: number): string => String(s).padEnd(n);
    console.log(`${pad('model', 16)}${pad('op', 20)}${pad('node', 6)}${pad('element', 9)}${pad('reads', 7)}${pad('words', 7)}${pad('calldata', 10)}${pad('whole', 10)}${pad('terms/chunk', 12)}${pad('open', 9)}${pad('chunk', 9)}one step played`);
    for (const r of rows) console.log(`${pad(r.model, 16)}${pad(r.op, 20)}${pad(r.node, 6)}${pad(r.outputIndex, 9)}${pad(r.elementsRead, 7)}${pad(r.words, 7)}${pad(r.calldataBytes, 10)}${pad(r.gas, 10)}${pad(r.terms === undefined ? '-' : r.chunk ? `${r.terms}/${r.chunk}` : r.terms, 12)}${pad(r.openReductionGas ?? '-', 9)}${pad(r.sumStepGas ?? '-', 9)}${r.oneStepGas}${r.oneStepGas > 200_000 ? '  > 200k' : ''}`);
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
