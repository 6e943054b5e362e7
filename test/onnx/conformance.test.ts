/**
 * ONNX backend node tests (../shared/conformance/onnx-node): runFloat on each one-node model must
 * reproduce the expected outputs; and, for the float ops, the same model with every input but
 * the first made constant must fold to canonical ops that give the same outputs.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { FLOAT_OPS, runFloat } from '../../src/onnx/floatexec.js';
import { CANONICAL_OPS, foldGraph } from '../../src/onnx/fold.js';
import { OnnxUnsupportedOpError } from '../../src/onnx/errors.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { fromTensorProto, type FTensor } from '../../src/onnx/tensor.js';
import { CONFORMANCE, conformanceAvailable, maxAbsDiff } from './helpers.js';

const { onnx } = pkg;

interface Case {
  name: string;
  op: string;
  model: ReturnType<typeof loadOnnx>;
  inputs: FTensor[];
  outputs: FTensor[];
}

function readCase(name: string): Case | undefined {
  const dir = join(CONFORMANCE, name);
  const data = join(dir, 'test_data_set_0');
  if (!existsSync(join(dir, 'model.onnx')) || !existsSync(data)) return undefined;
  const model = loadOnnx(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), name);
  const files = readdirSync(data);
  const load = (prefix: string) =>
    files
      .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
      .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
      .map((f) => fromTensorProto(onnx.TensorProto.decode(readFileSync(join(data, f)))));
  return { name, op: model.graph.nodes[0]?.op ?? '?', model, inputs: load('input_'), outputs: load('output_') };
}

const cases: Case[] = conformanceAvailable()
  ? readdirSync(CONFORMANCE).sort().map(readCase).filter((c): c is Case => c !== undefined)
  : [];
if (!conformanceAvailable()) console.log(`skipping ONNX conformance vectors: ${CONFORMANCE} is absent`);

const supported = cases.filter((c) => FLOAT_OPS.includes(c.op));
const QUANT_OPS = new Set(['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearMatMul', 'QLinearConv', 'MatMulInteger', 'ConvInteger']);

describe.skipIf(cases.length === 0)('onnx-node conformance', () => {
  it('supports every op of the vectors', () => {
    const missing = cases.filter((c) => !FLOAT_OPS.includes(c.op)).map((c) => `${c.name} (${c.op})`);
    if (missing.length) console.log(`conformance cases with unsupported ops, skipped: ${missing.join(', ')}`);
    expect(supported.length).toBeGreaterThan(50);
  });

  it.each(supported.map((c) => [c.name, c] as const))('runFloat %s', (_, c) => {
    const feeds = Object.fromEntries(c.model.graph.inputs.map((inp, i) => [inp.name, c.inputs[i]]));
    const out = runFloat(c.model.graph, feeds);
    c.model.graph.outputs.forEach((name, i) => {
      const got = out.get(name)!;
      const want = c.outputs[i];
      expect(got.dtype).toBe(want.dtype);
      expect(got.shape).toEqual(want.shape);
      // Integer outputs are exact; float outputs within 1e-4 (relative for large values).
      const tol = want.dtype === 'float32' ? 1e-4 * Math.max(1, ...Array.from(want.data, Math.abs)) : 0;
      expect(maxAbsDiff(got.data, want.data)).toBeLessThanOrEqual(tol);
    });
  });

  // Folding: inputs after the first become constants (as weights are in real models), and only
  // the first output is kept (LayerNormalization's Mean/InvStdDev are not canonical).
  const foldable = supported.filter((c) => !QUANT_OPS.has(c.op) && c.model.graph.inputs[0]?.dtype === 'float32');
  // A constant right operand of rank > 2 (batched weights) has no canonical form.
  const NOT_CANONICAL = new Set(['test_matmul_3d', 'test_matmul_4d']);
  const asFoldable = (c: Case) => {
    const g = c.model.graph;
    const [first, ...rest] = g.inputs;
    const consts = new Map(g.consts);
    rest.forEach((inp, i) => consts.set(inp.name, c.inputs[i + 1]));
    return { model: { ...c.model, graph: { ...g, inputs: [first], consts, outputs: g.outputs.slice(0, 1) } }, first };
  };
  it.each(foldable.filter((c) => NOT_CANONICAL.has(c.name)).map((c) => [c.name, c] as const))('fold %s is reported unsupported', (_, c) => {
    const { model, first } = asFoldable(c);
    expect(() => foldGraph(model, { [first.name]: c.inputs[0].shape })).toThrow(OnnxUnsupportedOpError);
  });
  it.each(foldable.filter((c) => !NOT_CANONICAL.has(c.name)).map((c) => [c.name, c] as const))('fold %s', (_, c) => {
    const { model, first } = asFoldable(c);
    const folded = foldGraph(model, { [first.name]: c.inputs[0].shape });
    for (const n of folded.nodes) expect(CANONICAL_OPS).toContain(n.op);
    const out = runFloat(folded, { [first.name]: c.inputs[0] });
    model.graph.outputs.forEach((name, i) => {
      const want = c.outputs[i];
      const got = out.get(name)!;
      expect(got.shape).toEqual(want.shape);
      const tol = 1e-4 * Math.max(1, ...Array.from(want.data, Math.abs));
      expect(maxAbsDiff(got.data, want.data)).toBeLessThanOrEqual(tol);
    });
  });
});
