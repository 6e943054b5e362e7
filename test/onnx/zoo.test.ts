/**
 * Real torch.onnx.export models, one per family (test/fixtures/zoo/make_zoo.py trains and exports
 * them on sklearn digits or on Python sources): each is imported from its calibration rows and
 * run on its held-out rows. Checked: top-1 within 1 point of the float model's (next-character
 * cross-entropy within 0.15 nats for the language model), byte-identical traces across two runs
 * and two imports; GRU/LSTM are unrolled over the fixed sequence length, and a recurrent form the
 * unrolling does not cover is a typed error naming the op, the node and what is missing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importOnnx, quantizeInput, dequantizeOutput, argmax } from '../../src/onnx/import.js';
import { quantizeInputs } from '../../src/onnx/inputs.js';
import { checkOnnx } from '../../src/onnx/check.js';
import { OnnxUnsupportedOpError } from '../../src/onnx/errors.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { keccakReady, modelRootHex, traceRootHex } from '../../src/commit/index.js';
import { ROOT } from './helpers.js';

const ZOO = join(ROOT, 'test', 'fixtures', 'zoo');
interface Data { shape?: number[]; shapes?: number[][]; calibration: number[][]; x: number[][]; y: number[] | number[][]; float_accuracy?: number; float_val_loss?: number }
const bytesOf = (n: string) => new Uint8Array(readFileSync(join(ZOO, `${n}.onnx`)));
const dataOf = (n: string) => JSON.parse(readFileSync(join(ZOO, `${n}.data.json`), 'utf8')) as Data;

/** family → model, and the ONNX ops that make it that family (checked to be in the export). */
const CLASSIFIERS: [string, string, string[]][] = [
  ['ResNet (residual Add of differently scaled branches)', 'resnet', ['Add', 'Conv', 'Relu']],
  ['MobileNetV3 (HardSwish, ReLU6, depthwise, squeeze-excite with HardSigmoid)', 'mobilenet-v3', ['HardSwish', 'HardSigmoid', 'Clip', 'GlobalAveragePool', 'Mul']],
  ['EfficientNet-lite (SiLU, SE)', 'efficientnet-lite', ['Sigmoid', 'Mul']],
  ['CNN layers (LeakyRelu, PRelu, InstanceNorm, standalone BatchNorm, ReduceMax/ReduceMean)', 'cnn-layers', ['LeakyRelu', 'PRelu', 'InstanceNormalization', 'BatchNormalization', 'ReduceMax', 'ReduceMean']],
  ['Encoder-decoder with nearest upsampling (nn.Upsample → Resize) and a skip Concat', 'unet-upsample', ['Resize', 'Concat', 'MaxPool']],
  ['GRU (unrolled over the fixed sequence length)', 'gru', ['GRU']],
  ['LSTM (unrolled over the fixed sequence length)', 'lstm', ['LSTM']],
  ['Transformer encoder with mean pooling (ReduceMean)', 'encoder-meanpool', ['ReduceMean', 'Softmax', 'LayerNormalization']],
  ['Decoder with ConvTranspose and GroupNorm (torch 1.13: Reshape/InstanceNorm/Reshape/Mul/Add), SiLU', 'deconv-groupnorm', ['ConvTranspose', 'InstanceNormalization', 'Reshape', 'Sigmoid']],
  [
    "BERT-style, two inputs (int64 ids, float attention_mask): (1 − mask)·finfo.min, DistilBERT's masked_fill (Cast/Not/Expand/Where of the scores), masked mean pooling (ReduceSum, Div of two run-time tensors)",
    'bert-mask',
    ['Sub', 'Cast', 'Not', 'Expand', 'Where', 'ReduceSum', 'Div', 'Clip', 'Erf'],
  ],
];
/** language models: next-character cross-entropy within 0.15 nats. */
const LANGUAGE: [string, string, string[]][] = [
  ['GPT-2 style decoder with gelu_new (Pow/Tanh/Mul/Add)', 'gpt-gelu-new', ['Pow', 'Tanh']],
  ["GPT-2 attention as Hugging Face writes it: torch.where(causal bias, scores, finfo.min)", 'gpt2-where', ['Where', 'Split', 'Pow', 'Tanh']],
];
const shapesOf = (d: Data) => (d.shapes ? { inputShapes: d.shapes } : { inputShape: d.shape });

beforeAll(async () => {
  await keccakReady;
});

function crossEntropy(logits: ArrayLike<number>, target: number): number {
  let mx = -Infinity;
  for (let i = 0; i < logits.length; i++) mx = Math.max(mx, logits[i]);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - mx);
  return Math.log(s) + mx - logits[target];
}

describe('zoo: one real export per family', () => {
  for (const [family, name, ops] of CLASSIFIERS) {
    it(`${family}: top-1 within 1 point of float, identical traces`, async () => {
      const bytes = bytesOf(name);
      const { loadOnnx } = await import('../../src/onnx/load.js');
      const present = new Set(loadOnnx(bytes).graph.nodes.map((n) => n.op));
      for (const op of ops) expect(present, `${name} should contain ${op}`).toContain(op);
      const d = dataOf(name);
      const q = importOnnx(bytes, { name, ...shapesOf(d), calibration: d.calibration });
      expect(modelRootHex(importOnnx(bytes, { name, ...shapesOf(d), calibration: d.calibration }))).toBe(modelRootHex(q));
      expect(q.inputs.length).toBe(d.shapes?.length ?? 1);
      const p = prepareModel(q);
      let ok = 0;
      d.x.forEach((row, i) => {
        const t1 = runModel(p, quantizeInputs(q, row));
        if (argmax(t1[q.outputs[0]].data) === (d.y as number[])[i]) ok++;
        if (i < 10) expect(traceRootHex(runModel(p, quantizeInputs(q, row)))).toBe(traceRootHex(t1));
      });
      const acc = ok / d.x.length;
      console.log(`${name}: quantized ${(acc * 100).toFixed(2)}% vs float ${(d.float_accuracy! * 100).toFixed(2)}% (${q.nodes.length} integer ops)`);
      expect(acc).toBeGreaterThanOrEqual(d.float_accuracy! - 0.01);
    });
  }

  for (const [family, name, ops] of LANGUAGE) {
    it(`${family}: cross-entropy within 0.15 nats, identical traces`, async () => {
      const bytes = bytesOf(name);
      const { loadOnnx } = await import('../../src/onnx/load.js');
      const present = new Set(loadOnnx(bytes).graph.nodes.map((n) => n.op));
      for (const op of ops) expect(present, `${name} should contain ${op}`).toContain(op);
      const d = dataOf(name);
      const q = importOnnx(bytes, { name, inputShape: d.shape, calibration: d.calibration });
      const p = prepareModel(q);
      const V = q.tensors[q.outputs[0]].shape.at(-1)!;
      let loss = 0;
      let n = 0;
      d.x.forEach((row, r) => {
        const t = runModel(p, [quantizeInput(q, row)]);
        if (r < 5) expect(traceRootHex(runModel(p, [quantizeInput(q, row)]))).toBe(traceRootHex(t));
        const logits = dequantizeOutput(q, t[q.outputs[0]]);
        for (let k = 0; k < row.length; k++) {
          loss += crossEntropy(logits.subarray(k * V, (k + 1) * V), (d.y as number[][])[r][k]);
          n++;
        }
      });
      loss /= n;
      console.log(`${name}: quantized CE ${loss.toFixed(4)} vs float ${d.float_val_loss!.toFixed(4)}; ops ${[...new Set(q.nodes.map((x) => x.op))].join(',')}`);
      expect(loss - d.float_val_loss!).toBeLessThan(0.15);
    });
  }

  it('bert-mask: ids at padded positions change no output integer (both Hugging Face masks really mask)', () => {
    const d = dataOf('bert-mask');
    const q = importOnnx(bytesOf('bert-mask'), { name: 'bert-mask', ...shapesOf(d), calibration: d.calibration });
    const p = prepareModel(q);
    const T = d.shapes![0][0];
    let padded = 0;
    let changed = 0;
    d.x.slice(0, 40).forEach((row, r) => {
      const other = row.map((v, i) => (i < T && row[T + i] === 0 ? (v + 3 + r) % 17 : v));
      if (other.some((v, i) => v !== row[i])) padded++;
      expect(Array.from(runModel(p, quantizeInputs(q, other))[q.outputs[0]].data)).toEqual(Array.from(runModel(p, quantizeInputs(q, row))[q.outputs[0]].data));
      // the same change at a real token does change the output: the check is not vacuous
      const real = row.map((v, i) => (i === 0 ? (v + 5) % 17 : v));
      const out = (r2: number[]) => Array.from(runModel(p, quantizeInputs(q, r2))[q.outputs[0]].data).join();
      if (out(real) !== out(row)) changed++;
    });
    expect(padded).toBeGreaterThan(20);
    console.log(`bert-mask: ${padded} rows with padding unchanged; a changed real token changed the logits in ${changed}/40`);
    expect(changed).toBeGreaterThan(30);
  });

  it('a recurrent op the unrolling does not cover is a typed error naming op, node and the requirement', async () => {
    const { buildModel, f32, attrInt } = await import('./helpers.js');
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [4, 1, 3] }],
      outputs: [{ name: 'y' }],
      inits: { W: f32([1, 6, 3], new Array(18).fill(0.1)), R: f32([1, 6, 2], new Array(12).fill(0.1)), L: { dtype: 'int32', shape: [1], data: Float64Array.from([4]) } },
      nodes: [{ op: 'GRU', name: 'gru', inputs: ['x', 'W', 'R', '', 'L'], outputs: ['y'], attrs: [attrInt('hidden_size', 2)] }],
    });
    const r = checkOnnx(bytes);
    expect(r.issues[0]).toMatchObject({ op: 'GRU', node: 'gru' });
    expect(r.issues[0].reason).toContain('sequence_lens');
    expect(() => importOnnx(bytes, { name: 'g', calibration: [new Array(12).fill(0.5)] })).toThrow(OnnxUnsupportedOpError);
  });
});
