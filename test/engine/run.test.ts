/** prepareModel / runModel: input validation, model validation, traces of multi-node models. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QModel, TensorData } from '../../src/engine/ir.js';
import { outputsOf, prepareModel, runModel } from '../../src/engine/run.js';
import { EngineInputError, EngineModelError } from '../../src/engine/errors.js';
import { decodeModel, encodeModel } from '../../src/engine/format.js';
import { isVerityError } from '../../src/errors.js';
import { fromArray, param, RUNS, tensor } from './helpers.js';
import { reference } from './reference.js';

/** x i8[1,4] → Linear(3) → Lut → Softmax; plus a Gather of token ids (i32[2]) from an embedding param. */
function model(): QModel {
  return {
    format: 'verity-qmodel',
    version: 1,
    name: 'small',
    inputs: [0, 1],
    outputs: [4, 5],
    tensors: [
      { id: 0, name: 'x', dtype: 'i8', shape: [1, 4], scale: 0.1, zeroPoint: 0, layout: 'plain' },
      { id: 1, name: 'tokens', dtype: 'i32', shape: [2], scale: 1, zeroPoint: 0, layout: 'plain' },
      { id: 2, name: 'h', dtype: 'i8', shape: [1, 3], scale: 0.1, zeroPoint: 0, layout: 'plain' },
      { id: 3, name: 'a', dtype: 'i8', shape: [1, 3], scale: 0.1, zeroPoint: 0, layout: 'plain' },
      { id: 4, name: 'p', dtype: 'i8', shape: [1, 3], scale: 1 / 256, zeroPoint: -128, layout: 'plain' },
      { id: 5, name: 'emb', dtype: 'i8', shape: [2, 2], scale: 0.1, zeroPoint: 0, layout: 'plain' },
    ],
    nodes: [
      {
        op: 'Linear',
        name: 'fc',
        inputs: [0],
        output: 2,
        attrs: { xZero: -1, yZero: 2, lo: -128, hi: 127 },
        params: {
          weight: param('i8', [3, 4], [1, 2, 3, 4, -5, 6, -7, 8, 127, -128, 0, 1]),
          bias: param('i32', [3], [10, -10, 0]),
          mult: param('i32', [3], [16384, 20000, 30000]),
          shift: param('i32', [3], [15, 16, 17]),
        },
      },
      { op: 'Lut', name: 'relu', inputs: [2], output: 3, attrs: {}, params: { table: param('i8', [256], Array.from({ length: 256 }, (_, i) => Math.max(0, i - 128))) } },
      { op: 'Softmax', name: 'sm', inputs: [3], output: 4, attrs: { masked: 0 }, params: { exp: param('i32', [256], Array.from({ length: 256 }, (_, d) => Math.round(2 ** 20 * Math.exp(-d * 0.1)))) } },
      { op: 'Gather', name: 'embed', inputs: [1], output: 5, attrs: { axis: 0 }, params: { data: param('i8', [5, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) } },
    ],
    source: { onnxSha256: '', opset: 13, producer: 'test' },
  };
}

const x = (): TensorData => fromArray('i8', [1, 4], [5, -3, 127, -128]);
const tok = (a: number, b: number): TensorData => fromArray('i32', [2], [a, b]);

function catchErr(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('runModel', () => {
  it('returns the full trace: inputs (copied) then every node output, each matching the reference', () => {
    const m = model();
    const p = prepareModel(m);
    fc.assert(
      fc.property(tensor('i8', [1, 4]), fc.integer({ min: -5, max: 4 }), fc.integer({ min: -5, max: 4 }), (xi, t0, t1) => {
        const ins = [xi, tok(t0, t1)];
        const trace = runModel(p, ins);
        expect(trace.length).toBe(6);
        expect(trace[0].data).toEqual(xi.data);
        expect(trace[0].data).not.toBe(xi.data);
        m.nodes.forEach((n) => {
          const want = reference(n, n.inputs.map((id) => trace[id]), m.tensors[n.output]);
          expect(Array.from(trace[n.output].data, BigInt)).toEqual(want);
          expect(trace[n.output].shape).toEqual(m.tensors[n.output].shape);
          expect(trace[n.output].dtype).toBe(m.tensors[n.output].dtype);
        });
        expect(outputsOf(p, trace)).toEqual([trace[4], trace[5]]);
      }),
      { numRuns: RUNS },
    );
  });
  it('is deterministic and survives an encode/decode round trip', () => {
    const p1 = prepareModel(model());
    const p2 = prepareModel(decodeModel(encodeModel(model())));
    expect(runModel(p2, [x(), tok(1, -1)])).toEqual(runModel(p1, [x(), tok(1, -1)]));
    expect(runModel(p1, [x(), tok(1, -1)])).toEqual(runModel(p1, [x(), tok(1, -1)]));
  });
});

describe('EngineInputError', () => {
  const p = prepareModel(model());
  it('wrong input count', () => {
    const e = catchErr(() => runModel(p, [x()])) as EngineInputError;
    expect(e).toBeInstanceOf(EngineInputError);
    expect(e.input).toBe('inputs');
    expect(e.expected).toMatch(/2 tensor/);
  });
  it('wrong dtype / shape / data type / length, naming the input', () => {
    const cases: TensorData[] = [
      fromArray('u8', [1, 4], [1, 2, 3, 4]),
      fromArray('i8', [4], [1, 2, 3, 4]),
      fromArray('i8', [1, 5], [1, 2, 3, 4, 5]),
      { dtype: 'i8', shape: [1, 4], data: new Uint8Array(4) },
      { dtype: 'i8', shape: [1, 4], data: new Int8Array(3) },
    ];
    for (const c of cases) {
      const e = catchErr(() => runModel(p, [c, tok(0, 0)])) as EngineInputError;
      expect(e).toBeInstanceOf(EngineInputError);
      expect(e.input).toMatch(/'x'/);
      expect(e.expected).toMatch(/i8.*\[1,4\]/);
      expect(isVerityError(e)).toBe(true);
    }
  });
  it('out-of-range Gather index names the node and the index', () => {
    for (const [a, b, bad] of [[5, 0, 0], [0, -6, 1]]) {
      const e = catchErr(() => runModel(p, [x(), tok(a, b)])) as EngineInputError;
      expect(e).toBeInstanceOf(EngineInputError);
      expect(e.input).toMatch(/node 3 \(embed, Gather\) indices\[/);
      expect(e.input).toContain(`[${bad}]`);
      expect(e.got).toBe(String(bad === 0 ? a : b));
    }
  });
});

describe('EngineModelError', () => {
  const expectModelError = (mut: (m: QModel) => void, nodeIndex: number | undefined, re: RegExp): void => {
    const m = model();
    mut(m);
    const e = catchErr(() => prepareModel(m)) as EngineModelError;
    expect(e).toBeInstanceOf(EngineModelError);
    expect(e.nodeIndex).toBe(nodeIndex);
    if (nodeIndex !== undefined) expect(e.nodeName).toBe(m.nodes[nodeIndex].name);
    expect(e.message).toMatch(re);
  };
  it('structure', () => {
    expectModelError((m) => ((m as { version: number }).version = 2), undefined, /version/);
    expectModelError((m) => (m.inputs = [1, 0]), undefined, /inputs/);
    expectModelError((m) => m.tensors.push({ ...m.tensors[5], id: 6 }), undefined, /tensors/);
    expectModelError((m) => (m.tensors[2].shape = [1, 0]), undefined, /shape/);
    expectModelError((m) => (m.outputs = [9]), undefined, /outputs/);
    expectModelError((m) => (m.nodes[1].output = 5), 1, /must write tensor 3/);
    expectModelError((m) => (m.nodes[1].inputs = [4]), 1, /defined before/);
    expectModelError((m) => ((m.nodes[2] as { op: string }).op = 'Gemm'), 2, /unknown op/);
  });
  it('attrs and params', () => {
    expectModelError((m) => delete m.nodes[0].attrs.xZero, 0, /missing attr 'xZero'/);
    expectModelError((m) => (m.nodes[0].attrs.xZero = 200), 0, /xZero/);
    expectModelError((m) => Object.assign(m.nodes[0].attrs, { lo: 100, hi: 50 }), 0, /lo = 100 > hi = 50/);
    expectModelError((m) => (m.nodes[0].attrs.hi = 1.5), 0, /integer/);
    expectModelError((m) => (m.nodes[0].params.weight = param('i8', [3, 5], new Array(15).fill(0))), 0, /weight/);
    expectModelError((m) => (m.nodes[0].params.mult = param('i32', [3], [1, 2, 40000])), 0, /mult/);
    expectModelError((m) => (m.nodes[0].params.shift = param('i32', [3], [0, 2, 3])), 0, /shift/);
    expectModelError((m) => (m.nodes[0].params.weights = m.nodes[0].params.weight), 0, /unexpected param 'weights'/);
    expectModelError((m) => (m.nodes[0].params.bias = { dtype: 'i32', shape: [3], data: new Int32Array(2) }), 0, /elements/);
    expectModelError((m) => (m.nodes[1].params.table = param('i8', [255], new Array(255).fill(0))), 1, /table/);
    expectModelError((m) => (m.nodes[2].params.exp = param('i32', [256], new Array(256).fill(0))), 2, /exp/);
    expectModelError((m) => (m.nodes[3].params.indices = param('i32', [1], [0])), 3, /both be params/);
    expectModelError((m) => (m.nodes[3].params.data = undefined as never), 3, /param 'data'/);
    expectModelError((m) => (m.nodes[3].attrs.axis = 2), 3, /axis/);
  });
  it('dtypes and shapes', () => {
    expectModelError((m) => (m.tensors[2].shape = [1, 4]), 0, /shape/);
    expectModelError((m) => (m.tensors[3].dtype = 'u8'), 1, /dtype/);
    expectModelError((m) => (m.tensors[4].dtype = 'i32'), 2, /dtype/);
    expectModelError((m) => (m.tensors[5].shape = [2, 3]), 3, /shape/);
  });
  it('every op rejects a node with no attrs/params without crashing', () => {
    const m = model();
    for (const op of ['Linear', 'Conv', 'MatMul', 'Add', 'Mul', 'Lut', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Softmax', 'LayerNorm', 'Gather', 'Reshape', 'Transpose', 'Concat', 'Slice', 'Requantize', 'MatMulInteger', 'ConvInteger', 'QLinearMatMul', 'QLinearConv'] as const) {
      const mm: QModel = { ...m, nodes: [{ ...m.nodes[0], op, attrs: {}, params: {} }, ...m.nodes.slice(1)] };
      const e = catchErr(() => prepareModel(mm));
      // Transpose/Reshape/etc. may fail on shapes instead of attrs; all must be EngineModelError on node 0
      expect(e, op).toBeInstanceOf(EngineModelError);
      expect((e as EngineModelError).nodeIndex, op).toBe(0);
    }
  });
});
