/**
 * The zoo's real exports (test/fixtures/zoo: one torch.onnx.export per family, including the
 * two-input BERT-style graph and GPT-2's torch.where) verified on chain: for one held-out row of
 * each, the Solidity one-step verifier (contracts/verifier, on anvil) recomputes an element of every
 * node of the imported model from the committed model and the trace's tensors, and must return the
 * engine's value — the differential test's check, on the nodes these families really lower to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, PublicClient } from 'viem';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { sizeOf } from '../../src/engine/ir.js';
import type { AnvilInstance } from '../../src/chain/anvil.js';
import { oneStepVerifierFullAbi as oneStepVerifierAbi } from '../../src/chain/verifier.js';
import { startVerifierChain } from './chain.js';
import { buildOneStep, modelCommitmentOf } from '../../src/verifier/index.js';
import { importOnnx } from '../../src/onnx/import.js';
import { quantizeInputs } from '../../src/onnx/inputs.js';

const ZOO = join(import.meta.dirname, '..', 'fixtures', 'zoo');
const MODELS = ['resnet', 'mobilenet-v3', 'efficientnet-lite', 'cnn-layers', 'unet-upsample', 'deconv-groupnorm', 'gru', 'lstm', 'encoder-meanpool', 'bert-mask', 'gpt-gelu-new', 'gpt2-where'];

let anvil: AnvilInstance;
let client: PublicClient;
let verifier: Address;

beforeAll(async () => {
  ({ anvil, client, verifier } = await startVerifierChain(32));
}, 120_000);

afterAll(async () => {
  await anvil?.stop();
});

describe('zoo exports: the one-step verifier recomputes an element of every node', () => {
  for (const name of MODELS) {
    it(`${name}: contract == engine on one element of each node`, async () => {
      const d = JSON.parse(readFileSync(join(ZOO, `${name}.data.json`), 'utf8')) as { shape?: number[]; shapes?: number[][]; calibration: number[][]; x: number[][] };
      const bytes = new Uint8Array(readFileSync(join(ZOO, `${name}.onnx`)));
      const q = importOnnx(bytes, { name, ...(d.shapes ? { inputShapes: d.shapes } : { inputShape: d.shape }), calibration: d.calibration });
      const trace = runModel(prepareModel(q), quantizeInputs(q, d.x[0]));
      const commitment = modelCommitmentOf(q);
      const ws = q.nodes.map((n, i) => {
        const total = sizeOf(q.tensors[n.output].shape);
        return buildOneStep(q, trace, i, (i * 7919) % total, { commitment });
      });
      const bad: string[] = [];
      await Promise.all(
        ws.map(async (w, i) => {
          try {
            const [, value] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'computeElement', args: [w.modelRoot, w.inputTensorRoots, w.step] });
            if (value !== w.expected) bad.push(`node ${i} ${q.nodes[i].op}: contract ${value}, engine ${w.expected}`);
          } catch (e) {
            bad.push(`node ${i} ${q.nodes[i].op}: ${(e as Error).message.split('\n')[0]}`);
          }
        }),
      );
      console.log(`${name}: ${ws.length} nodes (${[...new Set(q.nodes.map((n) => n.op))].join(', ')}), ${ws.length - bad.length} verified on chain`);
      expect(bad).toEqual([]);
    }, 180_000);
  }
});
