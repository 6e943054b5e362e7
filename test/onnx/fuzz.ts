/**
 * Shared body of the fuzz tests: seeded random mutations of a model's bytes; loadOnnx + foldGraph
 * must either succeed or throw a BaseError subclass, each case within a time bound. The bound
 * holds by construction: the work/size limits make every op fail fast instead of running long.
 */
import { expect } from 'vitest';
import { BaseError } from '../../src/errors.js';
import { foldGraph } from '../../src/onnx/fold.js';
import { loadOnnx } from '../../src/onnx/load.js';
import { importLoaded, quantizeInput } from '../../src/onnx/import.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import pkg from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';

const { onnx } = pkg;

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function mutate(src: Uint8Array, rand: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(rand() * n);
  let b = Uint8Array.from(src);
  const steps: string[] = [];
  const count = 1 + int(4);
  for (let k = 0; k < count; k++) {
    const kind = int(6);
    const at = int(b.length + 1);
    switch (kind) {
      case 0: // flip bits of one byte
        if (b.length) b[Math.min(at, b.length - 1)] ^= 1 << int(8);
        steps.push(`flip@${at}`);
        break;
      case 1: // random byte
        if (b.length) b[Math.min(at, b.length - 1)] = int(256);
        steps.push(`set@${at}`);
        break;
      case 2: // truncate
        b = b.slice(0, at);
        steps.push(`cut@${at}`);
        break;
      case 3: {
        // insert random bytes
        const ins = Uint8Array.from({ length: 1 + int(8) }, () => int(256));
        b = Uint8Array.from([...b.slice(0, at), ...ins, ...b.slice(at)]);
        steps.push(`ins${ins.length}@${at}`);
        break;
      }
      case 4: {
        // delete a run
        const len = 1 + int(16);
        b = Uint8Array.from([...b.slice(0, at), ...b.slice(at + len)]);
        steps.push(`del${len}@${at}`);
        break;
      }
      case 5: {
        // a run of 0xff: turns varints (dims, lengths, attribute ints) into huge values
        const len = 1 + int(9);
        for (let i = 0; i < len && at + i < b.length; i++) b[at + i] = 0xff;
        steps.push(`ff${len}@${at}`);
        break;
      }
    }
  }
  return { bytes: b, how: steps.join(',') };
}

export const FUZZ_LIMITS = { maxElements: 2 ** 20, maxWork: 2 ** 24 };
/** Per-case bound (ms); generous for a loaded CI machine, tiny next to a hang. */
export const CASE_MS = 3000;

export function fuzzModel(
  src: Uint8Array,
  inputShape: number[],
  seed: number,
  cases: number,
  mutator: (src: Uint8Array, rand: () => number) => { bytes: Uint8Array; how: string } = mutate,
): Map<string, number> {
  const rand = prng(seed);
  const outcomes = new Map<string, number>();
  let slowest = { ms: 0, how: '' };
  for (let i = 0; i < cases; i++) {
    const { bytes, how } = mutator(src, rand);
    const t0 = performance.now();
    let outcome = 'ok';
    try {
      const m = loadOnnx(bytes, `mutant ${i}`);
      const shapes = Object.fromEntries(m.graph.inputs.map((inp) => [inp.name, inp.shape.map((d, k) => (typeof d === 'number' ? d : (inputShape[k] ?? 1)))]));
      foldGraph(m, shapes, { limits: FUZZ_LIMITS });
      // A mutant that folds goes on through the whole pipeline: quantize, prepare, run.
      // Several inputs: one flat row of all inputs back to back (ids small integers, floats in [−2, 2)).
      const sizes = m.graph.inputs.map((inp) => shapes[inp.name].reduce((a, b) => a * b, 1));
      const parts = m.graph.inputs.map((inp, k) => Array.from({ length: sizes[k] }, () => (inp.dtype === 'float32' ? rand() * 4 - 2 : Math.floor(rand() * 4))));
      const q = importLoaded(m, { name: `mutant ${i}`, inputShapes: m.graph.inputs.map((inp) => shapes[inp.name].slice(1)), calibration: [parts.flat()] }, '0x');
      runModel(prepareModel(q), parts.map((part, k) => quantizeInput(q, part, k)));
      outcome = 'imported';
    } catch (e) {
      if (!(e instanceof BaseError)) {
        throw new Error(`mutant ${i} (seed ${seed}, ${how}) threw a non-typed error: ${e instanceof Error ? e.stack : String(e)}`);
      }
      outcome = e.name;
    }
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, how: `mutant ${i}: ${how}` };
    expect(ms, `mutant ${i} (${how}) took ${ms} ms`).toBeLessThan(CASE_MS);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  console.log(`seed ${seed}: ${cases} mutants, outcomes ${JSON.stringify(Object.fromEntries(outcomes))}, slowest ${slowest.ms.toFixed(1)} ms (${slowest.how})`);
  return outcomes;
}


const OPS = ['Conv', 'Gemm', 'MatMul', 'Add', 'Relu', 'Reshape', 'Transpose', 'Softmax', 'MaxPool', 'AveragePool', 'Flatten', 'Slice', 'Gather', 'Concat', 'Split', 'BatchNormalization', 'Squeeze', 'Unsqueeze', 'Expand', 'Identity', 'Sub', 'Div', 'LayerNormalization', 'GlobalAveragePool', 'Shape', 'Cast', 'Where', 'NonZero',
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'PRelu', 'LeakyRelu', 'HardSwish', 'HardSigmoid', 'InstanceNormalization', 'Reciprocal', 'Softplus', 'Mish', 'Elu', 'Selu', 'Celu', 'Log', 'Abs', 'Resize', 'Not', 'Equal', 'GroupNormalization', 'GRU', 'LSTM', 'ConvTranspose'];
const NASTY = [0, -1, 1, 2, 3, -2, 7, 64, 1000, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, 1e15];

/**
 * Structure-aware mutation: decode, change one or more semantic fields (attribute values, dims,
 * element types, op types, wiring), re-encode. Byte mutations mostly die in the decoder; these
 * reach the loader's validation, the executor's shape checks and the rewrites.
 */
export function mutateStructure(src: Uint8Array, rand: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const m = onnx.ModelProto.decode(src);
  // Decoded messages are class instances whose repeated fields are always arrays.
  const g = m.graph as P.GraphProto;
  const inits = g.initializer as P.TensorProto[];
  const steps: string[] = [];
  const count = 1 + int(3);
  for (let k = 0; k < count; k++) {
    const nodes = g.node as P.NodeProto[];
    const node = nodes.length ? pick(nodes) : undefined;
    switch (int(9)) {
      case 0: {
        // an attribute's int(s) get a nasty value
        const a = node?.attribute.length ? (pick(node.attribute) as P.AttributeProto) : undefined;
        if (!a) break;
        const v = pick(NASTY);
        if (a.ints.length) a.ints[int(a.ints.length)] = v;
        else if (a.type === 1) a.f = v;
        else a.i = v;
        steps.push(`attr ${node!.name}.${a.name}=${v}`);
        break;
      }
      case 1: {
        // an initializer dim changes (its data no longer matches)
        const t = inits.length ? pick(inits) : undefined;
        if (!t || !t.dims.length) break;
        const v = pick(NASTY);
        t.dims[int(t.dims.length)] = v;
        steps.push(`dims ${t.name}=${v}`);
        break;
      }
      case 2: {
        const t = inits.length ? pick(inits) : undefined;
        if (!t) break;
        t.dataType = int(17);
        steps.push(`dtype ${t.name}=${t.dataType}`);
        break;
      }
      case 3: {
        if (!node) break;
        node.opType = pick(OPS);
        steps.push(`op ${node.name}=${node.opType}`);
        break;
      }
      case 4: {
        // rewire an input to another tensor of the graph (may create cycles, type clashes)
        if (!node || !node.input.length) break;
        const names = [...inits.map((t) => t.name), ...nodes.flatMap((n) => n.output), ...g.input.map((i) => i.name ?? ''), 'nowhere'];
        const i = int(node.input.length);
        node.input[i] = pick(names);
        steps.push(`wire ${node.name}[${i}]=${node.input[i]}`);
        break;
      }
      case 5: {
        if (!node) break;
        nodes.splice(nodes.indexOf(node), 1);
        steps.push(`drop ${node.name}`);
        break;
      }
      case 6: {
        const inp = g.input[0];
        const dims = inp?.type?.tensorType?.shape?.dim;
        if (!dims?.length) break;
        const d = dims[int(dims.length)];
        const v = pick(NASTY);
        // dim_value/dim_param are a oneof: drop the param so the value is what gets encoded.
        delete (d as { dimParam?: string }).dimParam;
        d.dimValue = v;
        steps.push(`input dim=${v}`);
        break;
      }
      case 7: {
        if (!node) break;
        node.attribute.push(onnx.AttributeProto.create({ name: pick(['axis', 'perm', 'pads', 'auto_pad', 'ceil_mode', 'group', 'transA', 'split', 'to']), type: 2, i: pick(NASTY) }));
        steps.push(`addattr ${node.name}`);
        break;
      }
      case 8: {
        // node output renamed (duplicates or dangling reads)
        if (!node || !node.output.length) break;
        const other = pick([...nodes.flatMap((n) => n.output), 'x', 'logits']);
        node.output[0] = other;
        steps.push(`out ${node.name}=${other}`);
        break;
      }
    }
  }
  return { bytes: onnx.ModelProto.encode(m).finish(), how: steps.join('; ') || 'none' };
}
