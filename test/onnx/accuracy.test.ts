/**
 * The quantized shipped models against their float originals: top-1 accuracy within 1.0 point of the
 * float accuracy in the data file, argmax agreement with onnxruntime-node ≥ 98%, and for tiny-gpt
 * next-character cross-entropy within 0.15 nats of the float model's.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { MODELS_DIR, modelData, quantized, type ModelName } from './models.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { quantizeInput, dequantizeOutput, argmax } from '../../src/onnx/import.js';

async function ortLogits(name: ModelName, rows: number[][], shape: number[]): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(join(MODELS_DIR, `${name}.onnx`));
  const out: Float32Array[] = [];
  for (const row of rows) {
    const feed =
      name === 'tiny-gpt'
        ? new ort.Tensor('int64', BigInt64Array.from(row.map((v) => BigInt(v))), [1, ...shape])
        : new ort.Tensor('float32', Float32Array.from(row), [1, ...shape]);
    const r = await s.run({ x: feed });
    out.push(r.logits.data as Float32Array);
  }
  return out;
}

describe.each(['wine-mlp', 'digits-convnet'] as const)('%s quantized', (name) => {
  it('keeps top-1 accuracy within 1.0 point and agrees with onnxruntime on ≥ 98% of argmaxes', async () => {
    const data = modelData(name);
    const q = quantized(name);
    const p = prepareModel(q);
    const labels = data.y as number[];
    const ref = await ortLogits(name, data.x, data.shape);
    let correct = 0;
    let agree = 0;
    data.x.forEach((row, i) => {
      const trace = runModel(p, [quantizeInput(q, row)]);
      const pred = argmax(trace[q.outputs[0]].data);
      if (pred === labels[i]) correct++;
      if (pred === argmax(ref[i])) agree++;
    });
    const acc = correct / data.x.length;
    const agreement = agree / data.x.length;
    console.log(`${name}: quantized accuracy ${(acc * 100).toFixed(2)}% (float ${(data.float_accuracy! * 100).toFixed(2)}%), argmax agreement with onnxruntime ${(agreement * 100).toFixed(2)}% over ${data.x.length} rows`);
    expect(acc).toBeGreaterThanOrEqual(data.float_accuracy! - 0.01);
    expect(agreement).toBeGreaterThanOrEqual(0.98);
  });
});

describe('tiny-gpt quantized', () => {
  it('keeps next-character cross-entropy within 0.15 nats of the float model', async () => {
    const data = modelData('tiny-gpt');
    const q = quantized('tiny-gpt');
    const p = prepareModel(q);
    const targets = data.y as number[][];
    const ref = await ortLogits('tiny-gpt', data.x, data.shape);
    const V = data.vocab!.length;
    let qLoss = 0;
    let fLoss = 0;
    let count = 0;
    let agree = 0;
    data.x.forEach((row, r) => {
      const trace = runModel(p, [quantizeInput(q, row)]);
      const logits = dequantizeOutput(q, trace[q.outputs[0]]);
      for (let t = 0; t < row.length; t++) {
        const target = targets[r][t];
        qLoss += crossEntropy(logits.subarray(t * V, (t + 1) * V), target);
        fLoss += crossEntropy(ref[r].subarray(t * V, (t + 1) * V), target);
        if (argmax(logits.subarray(t * V, (t + 1) * V)) === argmax(ref[r].subarray(t * V, (t + 1) * V))) agree++;
        count++;
      }
    });
    qLoss /= count;
    fLoss /= count;
    console.log(`tiny-gpt: quantized CE ${qLoss.toFixed(4)} nats, float CE ${fLoss.toFixed(4)} (data file ${data.float_val_loss!.toFixed(4)}), argmax agreement ${((agree / count) * 100).toFixed(1)}%`);
    expect(Math.abs(fLoss - data.float_val_loss!)).toBeLessThan(1e-3);
    expect(qLoss - fLoss).toBeLessThan(0.15);
  });
});

function crossEntropy(logits: ArrayLike<number>, target: number): number {
  let mx = -Infinity;
  for (let i = 0; i < logits.length; i++) mx = Math.max(mx, logits[i]);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - mx);
  return Math.log(s) + mx - logits[target];
}
