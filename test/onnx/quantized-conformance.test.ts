/**
 * The float vectors of ONNX's own operator tests, through the whole pipeline: each one-node model
 * (its inputs after the first made constant, so it is a single-input model with weights) is
 * imported, calibrated on its own test input, quantized, run on the integer engine, and the
 * dequantized output compared with ONNX's expected output.
 *
 * Tolerance per op, as |error| ≤ k·s_out + L·s_in/2, with s_out the output's quantization step,
 * s_in the input's, and L the op's Lipschitz constant for ops that see the rounded input directly:
 *   data movement (Reshape, Transpose, Flatten, Slice, Concat, Gather, MaxPool): k = 0.5, L = 0 —
 *     the output is the input's own int8 rounding, nothing added;
 *   lookup-table ops (Relu, Clip: L = 1; Sigmoid: 1/4; Tanh: 1; Erf: 2/√π): k = 0.5 for the table
 *     entry's rounding, plus the input's rounding carried through the function;
 *   one requantization (Add, Mul, Gemm/MatMul, Conv, AveragePool, GlobalAveragePool): k = 2;
 *   Softmax: k = 2 steps of 1/256; LayerNormalization: k = 3 (integer mean, variance and sqrt).
 * test_softmax_large_number mixes rows around 0 and around 10000 in one tensor: one int8 scale
 * per tensor cannot hold both (a step of 39), so it is listed as out of range, and checked to fail.
 * A case whose op the importer cannot quantize in this form is listed, not failed, and the list is
 * checked so it cannot silently grow.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { loadOnnx } from '../../src/onnx/load.js';
import { fromTensorProto, type FTensor } from '../../src/onnx/tensor.js';
import { importLoaded, quantizeInput, dequantizeOutput } from '../../src/onnx/import.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { CONFORMANCE, conformanceAvailable } from './helpers.js';
import { BaseError } from '../../src/errors.js';

const { onnx } = pkg;

const TOLERANCE: Record<string, { k: number; L: number }> = {
  Reshape: { k: 0.5, L: 0 }, Transpose: { k: 0.5, L: 0 }, Flatten: { k: 0.5, L: 0 }, Slice: { k: 0.5, L: 0 },
  Concat: { k: 0.5, L: 0 }, Gather: { k: 0.5, L: 0 }, MaxPool: { k: 0.5, L: 0 },
  Relu: { k: 0.5, L: 1 }, Clip: { k: 0.5, L: 1 }, Sigmoid: { k: 0.5, L: 0.25 }, Tanh: { k: 0.5, L: 1 }, Erf: { k: 0.5, L: 2 / Math.sqrt(Math.PI) },
  Add: { k: 2, L: 0 }, Mul: { k: 2, L: 0 }, Gemm: { k: 2, L: 0 }, MatMul: { k: 2, L: 0 }, Conv: { k: 2, L: 0 },
  AveragePool: { k: 2, L: 0 }, GlobalAveragePool: { k: 2, L: 0 }, Softmax: { k: 2, L: 0 }, LayerNormalization: { k: 3, L: 0 },
};

/** Cases whose values cannot be held by one int8 scale per tensor; they must stay out of tolerance. */
const OUT_OF_RANGE: Record<string, string> = {
  test_softmax_large_number: 'rows near 0 and near 10000 share one tensor scale',
};

/** Cases the importer refuses, with the reason; anything else that fails to import is a failure. */
const NOT_QUANTIZABLE: Record<string, string> = {
  test_matmul_3d: 'a constant weight of rank > 2 (batched weights) has no Linear form',
  test_matmul_4d: 'a constant weight of rank > 2 (batched weights) has no Linear form',
  test_concat_2d_axis_1: 'Concat with a constant operand (the second input became a constant)',
};

interface Case {
  name: string;
  op: string;
  dir: string;
}

const cases: Case[] = [];
if (conformanceAvailable()) {
  for (const name of readdirSync(CONFORMANCE).sort()) {
    const dir = join(CONFORMANCE, name);
    if (!existsSync(join(dir, 'model.onnx'))) continue;
    const m = loadOnnx(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), name);
    const op = m.graph.nodes[0]?.op ?? '?';
    if (op in TOLERANCE) cases.push({ name, op, dir });
  }
} else {
  console.log(`skipping quantized conformance: ${CONFORMANCE} is absent`);
}

function load(dir: string, prefix: string): FTensor[] {
  const data = join(dir, 'test_data_set_0');
  return readdirSync(data)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => fromTensorProto(onnx.TensorProto.decode(readFileSync(join(data, f)))));
}

describe.skipIf(cases.length === 0)('ONNX float vectors through import → quantize → integer engine', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const model = loadOnnx(new Uint8Array(readFileSync(join(c.dir, 'model.onnx'))), name);
    const inputs = load(c.dir, 'input_');
    const expected = load(c.dir, 'output_')[0];
    // Inputs after the first become constants (weights, biases, the other addend).
    model.graph.inputs.slice(1).forEach((inp, i) => model.graph.consts.set(inp.name, inputs[i + 1]));
    model.graph.inputs = model.graph.inputs.slice(0, 1);
    // Only the first output is compared (LayerNormalization's tests also output Mean and InvStdDev).
    model.graph.outputs = model.graph.outputs.slice(0, 1);
    const x = inputs[0];
    const row = Array.from(x.data);
    let q;
    try {
      q = importLoaded(model, { name, inputShape: x.shape.slice(1), calibration: [row] }, '0x');
      if (model.graph.inputs[0].shape[0] !== x.shape[0]) throw new Error('batch mismatch');
    } catch (e) {
      if (name in NOT_QUANTIZABLE && e instanceof BaseError) {
        console.log(`${name}: not quantizable here (${NOT_QUANTIZABLE[name]}): ${e.shortMessage}`);
        return;
      }
      throw e;
    }
    expect(name in NOT_QUANTIZABLE, `${name} imports now: remove it from NOT_QUANTIZABLE`).toBe(false);
    const p = prepareModel(q);
    const trace = runModel(p, [quantizeInput(q, row)]);
    const got = dequantizeOutput(q, trace[q.outputs[0]]);
    const step = q.tensors[q.outputs[0]].scale;
    const inStep = q.tensors[q.inputs[0]].scale;
    const { k, L } = TOLERANCE[c.op];
    const tol = k * step + (L * inStep) / 2 + 1e-6;
    expect(got.length).toBe(expected.data.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected.data[i]));
    console.log(`${name} (${c.op}): max error ${(worst / step).toFixed(3)} output steps (tolerance ${(tol / step).toFixed(3)})`);
    if (name in OUT_OF_RANGE) {
      console.log(`${name}: out of int8 range by design (${OUT_OF_RANGE[name]})`);
      expect(worst).toBeGreaterThan(tol);
      return;
    }
    expect(worst).toBeLessThanOrEqual(tol);
  });
});
