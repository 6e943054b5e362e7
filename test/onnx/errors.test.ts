/** Bad inputs: each failure is the typed error, with the fields that locate it. */
import { describe, expect, it } from 'vitest';
import { BaseError } from '../../src/errors.js';
import {
  OnnxDecodeError,
  OnnxFileError,
  OnnxGraphError,
  OnnxMissingInitializerError,
  OnnxMissingTensorError,
  OnnxShapeError,
  OnnxUnsupportedOpError,
} from '../../src/onnx/errors.js';
import { runFloat } from '../../src/onnx/floatexec.js';
import { foldGraph } from '../../src/onnx/fold.js';
import { loadOnnx, loadOnnxFile } from '../../src/onnx/load.js';
import { attrInts, buildModel, f32, modelBytes } from './helpers.js';

/** Runs f, expects it to throw an instance of `cls`, returns the error for field checks. */
function catchErr<T extends Error>(f: () => unknown, cls: abstract new (...a: never[]) => T): T {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    expect(e).toBeInstanceOf(BaseError);
    return e as T;
  }
  throw new Error(`expected ${cls.name}, nothing was thrown`);
}

const W = f32([2, 3], [1, 2, 3, 4, 5, 6]);

describe('malformed and truncated files', () => {
  it('garbage bytes are an OnnxDecodeError with length and protobuf message', () => {
    const bytes = new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
    const e = catchErr(() => loadOnnx(bytes, 'junk.onnx'), OnnxDecodeError);
    expect(e.name).toBe('OnnxDecodeError');
    expect(e.byteLength).toBe(8);
    expect(e.origin).toBe('junk.onnx');
    expect(e.reason.length).toBeGreaterThan(0);
    expect(e.message).toContain('malformed or truncated protobuf');
    expect(e.message).toContain('8 bytes');
    expect(e.message).toContain(e.reason);
  });

  it('a truncated tiny-gpt is an OnnxDecodeError at every cut point inside the graph', () => {
    const full = modelBytes('tiny-gpt');
    for (const cut of [40, 1000, 20_000, 100_000, 200_000, full.length - 200]) {
      const e = catchErr(() => loadOnnx(full.slice(0, cut), `tiny-gpt[0:${cut}]`), OnnxDecodeError);
      expect(e.byteLength).toBe(cut);
      expect(e.reason).toMatch(/range|length|wire|invalid/i);
    }
  });

  it('bytes with no graph are an OnnxGraphError', () => {
    const e = catchErr(() => loadOnnx(new Uint8Array(0)), OnnxGraphError);
    expect(e.message).toContain('has no graph');
  });

  it('a missing file is an OnnxFileError naming the path', () => {
    const e = catchErr(() => loadOnnxFile('/nonexistent/model.onnx'), OnnxFileError);
    expect(e.path).toBe('/nonexistent/model.onnx');
  });
});

describe('structural errors', () => {
  it('an unsupported op names the op, the node and its index, and lists supported ops', () => {
    const bytes = buildModel({
      inputs: [{ name: 'boxes', shape: [1, 4, 4] }, { name: 'scores', shape: [1, 1, 4] }],
      outputs: [{ name: 'sel' }],
      nodes: [
        { op: 'Relu', name: 'first', inputs: ['boxes'], outputs: ['b2'] },
        { op: 'NonMaxSuppression', name: 'nms', inputs: ['b2', 'scores'], outputs: ['sel'] },
      ],
    });
    const model = loadOnnx(bytes);
    const e = catchErr(() => foldGraph(model, {}), OnnxUnsupportedOpError);
    expect(e.opType).toBe('NonMaxSuppression');
    expect(e.nodeName).toBe('nms');
    expect(e.nodeIndex).toBe(1);
    expect(e.supported).toContain('Conv');
    expect(e.message).toContain('NonMaxSuppression');
    expect(e.message).toContain('"nms"');
    expect(e.hint).toContain('Supported ops:');
    // The executor reports the same.
    const e2 = catchErr(() => runFloat(model.graph, { boxes: f32([1, 4, 4], new Array(16).fill(0)), scores: f32([1, 1, 4], [0, 0, 0, 0]) }), OnnxUnsupportedOpError);
    expect(e2.nodeIndex).toBe(1);
  });

  it('an op of another domain is unsupported under its full name', () => {
    const bytes = buildModel({ inputs: [{ name: 'x', shape: [2] }], outputs: [{ name: 'y' }], nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }] });
    const model = loadOnnx(bytes);
    model.graph.nodes[0].op = 'com.microsoft:FusedGemm';
    expect(catchErr(() => foldGraph(model, {}), OnnxUnsupportedOpError).opType).toBe('com.microsoft:FusedGemm');
  });

  it('a supported op that stays dynamic after folding, but is not canonical, is reported', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 4] }],
      outputs: [{ name: 'y' }],
      inits: { zero: f32([], [0]), one: f32([], [1]) },
      nodes: [
        { op: 'Relu', name: 'r', inputs: ['x'], outputs: ['r'] },
        { op: 'Equal', name: 'eq', inputs: ['x', 'r'], outputs: ['m'] },
        { op: 'Where', name: 'sel', inputs: ['m', 'one', 'zero'], outputs: ['y'] },
      ],
    });
    // Equal(x, 0) is a mask test (canonical); Equal of two computed tensors is not.
    const e = catchErr(() => foldGraph(loadOnnx(bytes), {}), OnnxUnsupportedOpError);
    expect(e.opType).toBe('Equal');
    expect(e.nodeName).toBe('eq');
    expect(e.rewrite).toMatch(/one constant value/);
  });

  it('a missing initializer names the tensor and the reading node', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 3] }],
      outputs: [{ name: 'y' }],
      inits: { W },
      nodes: [{ op: 'Gemm', name: 'fc', inputs: ['x', 'W', 'fc.bias'], outputs: ['y'] }],
    });
    const e = catchErr(() => loadOnnx(bytes), OnnxMissingInitializerError);
    expect(e).toBeInstanceOf(OnnxMissingTensorError);
    expect(e.name).toBe('OnnxMissingInitializerError');
    expect(e.tensor).toBe('fc.bias');
    expect(e.node).toBe('fc');
  });

  it('a graph output nothing produces is an OnnxMissingTensorError', () => {
    const bytes = buildModel({ inputs: [{ name: 'x', shape: [2] }], outputs: [{ name: 'nope' }], nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }] });
    const e = catchErr(() => loadOnnx(bytes), OnnxMissingTensorError);
    expect(e.tensor).toBe('nope');
    expect(e.node).toBe('<graph output>');
  });

  it('a cycle is an OnnxGraphError naming a node on it', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [2] }],
      outputs: [{ name: 'b' }],
      nodes: [
        { op: 'Add', name: 'n1', inputs: ['x', 'b'], outputs: ['a'] },
        { op: 'Relu', name: 'n2', inputs: ['a'], outputs: ['b'] },
      ],
    });
    const e = catchErr(() => loadOnnx(bytes), OnnxGraphError);
    expect(e.message).toContain('cycle');
    expect(['n1', 'n2']).toContain(e.node);
  });

  it('a bad attribute names the node and the attribute', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y' }],
      nodes: [{ op: 'Transpose', name: 'tr', inputs: ['x'], outputs: ['y'], attrs: [attrInts('perm', [0, 0])] }],
    });
    const e = catchErr(() => foldGraph(loadOnnx(bytes), {}), OnnxGraphError);
    expect(e.node).toBe('tr');
    expect(e.attribute).toBe('perm');
  });

  it('a tensor claiming 1e12 elements fails before allocating', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [1, 3] }],
      outputs: [{ name: 'y' }],
      inits: { W },
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    });
    // Patch the dims of W to [1e6, 1e6] (the raw data stays 24 bytes).
    const model = loadOnnx(bytes); // sanity: the unpatched model loads
    expect(model.graph.consts.get('W')!.shape).toEqual([2, 3]);
    const huge = buildModel({
      inputs: [{ name: 'x', shape: [1, 3] }],
      outputs: [{ name: 'y' }],
      inits: { W: { dtype: 'float32', shape: [1_000_000, 1_000_000], data: W.data } },
      nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
    });
    const e = catchErr(() => loadOnnx(huge), OnnxGraphError);
    expect(e.message).toContain('over the limit');
  });

  it('an output that is constant once shapes are fixed is an OnnxGraphError', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [2, 3] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Cast', inputs: ['s'], outputs: ['y'], attrs: [{ name: 'to', type: 2, i: 1 }] },
      ],
    });
    expect(catchErr(() => foldGraph(loadOnnx(bytes), {}), OnnxGraphError).message).toContain('"y" is a constant');
  });

  it('an input that no output depends on is an OnnxGraphError', () => {
    const bytes = buildModel({
      inputs: [{ name: 'x', shape: [2, 3] }, { name: 'z', shape: [2, 3] }],
      outputs: [{ name: 'y' }],
      nodes: [
        { op: 'Shape', inputs: ['z'], outputs: ['s'] },
        { op: 'Relu', inputs: ['x'], outputs: ['y'] },
      ],
    });
    expect(catchErr(() => foldGraph(loadOnnx(bytes), {}), OnnxGraphError).message).toContain('"z" does not reach any output');
  });
});

describe('wrong inputs', () => {
  const wine = () => loadOnnx(modelBytes('wine-mlp'));

  it('a wrong input shape for folding says expected vs got, and which input', () => {
    const e = catchErr(() => foldGraph(wine(), { x: [1, 12] }), OnnxShapeError);
    expect(e.input).toBe('x');
    expect(e.expected).toBe('float32[n,13]');
    expect(e.got).toBe('shape [1,12]');
  });

  it('a missing shape for a dynamic input, and a shape for an unknown input', () => {
    expect(catchErr(() => foldGraph(wine(), {}), OnnxShapeError).got).toBe('no shape');
    expect(catchErr(() => foldGraph(wine(), { x: [1, 13], y: [1] }), OnnxShapeError).input).toBe('y');
  });

  it('runFloat rejects a feed of the wrong dtype, shape or length', () => {
    const g = wine().graph;
    let e = catchErr(() => runFloat(g, { x: { dtype: 'int64', shape: [1, 13], data: new Float64Array(13) } }), OnnxShapeError);
    expect(e.expected).toBe('float32[n,13]');
    expect(e.got).toBe('int64[1,13]');
    e = catchErr(() => runFloat(g, { x: f32([13], new Array(13).fill(0)) }), OnnxShapeError);
    expect(e.got).toBe('float32[13]');
    e = catchErr(() => runFloat(g, { x: { dtype: 'float32', shape: [1, 13], data: new Float32Array(12) } }), OnnxShapeError);
    expect(e.got).toContain('12 values');
    e = catchErr(() => runFloat(g, {}), OnnxShapeError);
    expect(e.got).toBe('no feed');
  });

  it('an out-of-range token id is a typed error naming the Gather', () => {
    const m = loadOnnx(modelBytes('tiny-gpt'));
    const f = foldGraph(m, { x: [1, 32] });
    const ids = new Float64Array(32).fill(3);
    ids[5] = 999;
    const e = catchErr(() => runFloat(f, { x: { dtype: 'int64', shape: [1, 32], data: ids } }), OnnxGraphError);
    expect(e.node).toBe('/tok/Gather');
    expect(e.message).toContain('999');
  });
});
