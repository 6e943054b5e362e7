/** LocalEngineProvider: honest runs match the engine and the commitments; the dishonest one lies like a real liar. */
import { beforeAll, describe, expect, it } from 'vitest';
import { keccakReady, outputHashOf, traceRootHex } from '../../src/commit/index.js';
import { firstDisagreement } from '../../src/dispute/index.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { decodeTrace, encodeTrace, LocalEngineProvider, tensorFromJson, tensorToJson } from '../../src/node/engine-provider.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { modelData, quantized } from '../onnx/models.js';

beforeAll(async () => {
  await keccakReady;
});

/** A seeded xorshift in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('LocalEngineProvider', () => {
  it('honest: outputs, trace and traceRoot equal a direct engine run; the state provider matches', () => {
    const q = quantized('digits-convnet');
    const p = new LocalEngineProvider([q]);
    const root = p.modelRoots()[0]!;
    expect(p.has(root.toUpperCase().replace('0X', '0x'))).toBe(true);
    const input = quantizeInput(q, modelData('digits-convnet').x[3]!);
    const e = p.execute(root, [input]);
    const direct = runModel(prepareModel(q), [input]);
    expect(e.traceRoot).toBe(traceRootHex(direct));
    expect(e.corrupted).toBeUndefined();
    expect(Array.from(e.outputs[0]!.data)).toEqual(Array.from(direct[direct.length - 1]!.data));
    const sp = p.stateProvider(root, e.trace);
    expect(sp.traceRoot()).toBe(e.traceRoot);
    expect(sp.tensorRoots()).toEqual(e.tensorRoots);
    expect(() => p.loadModel('0x1234')).toThrow(/not loaded/);
  });

  it('runHonestBatch / run: per item, the outputs and outputHash of execute, no trace root (one runBatch for all)', () => {
    for (const name of ['wine-mlp', 'digits-convnet', 'tiny-gpt'] as const) {
      const q = quantized(name);
      const p = new LocalEngineProvider([q]);
      const root = p.modelRoots()[0]!;
      const data = modelData(name);
      const items = [0, 3, 1, 3].map((r) => [quantizeInput(q, data.x[r % data.x.length]!)]);
      const got = p.runHonestBatch(root, items);
      expect(got).toHaveLength(items.length);
      got.forEach((g, i) => {
        const e = p.execute(root, items[i]!);
        const r = p.run(root, items[i]!);
        expect(g).not.toHaveProperty('traceRoot');
        expect(r).not.toHaveProperty('traceRoot');
        expect(g.outputHash).toBe(outputHashOf(e.outputs));
        expect(r.outputHash).toBe(g.outputHash);
        expect(g.outputs.map(tensorToJson)).toEqual(e.outputs.map(tensorToJson));
        expect(r.outputs.map(tensorToJson)).toEqual(e.outputs.map(tensorToJson));
      });
      expect(got[1]!.outputHash).toBe(got[3]!.outputHash);
      const same = JSON.stringify(got[0]!.outputs.map(tensorToJson)) === JSON.stringify(got[1]!.outputs.map(tensorToJson));
      expect(got[0]!.outputHash === got[1]!.outputHash).toBe(same);
    }
  });

  it('dishonest: changes exactly one op element, recomputes downstream honestly, and the dispute finds that tensor', () => {
    const q = quantized('digits-convnet');
    const liar = new LocalEngineProvider([q], { dishonest: 1, random: rng(7) });
    const honest = new LocalEngineProvider([q]);
    const root = liar.modelRoots()[0]!;
    const pre = prepareModel(q);
    for (let r = 0; r < 12; r++) {
      const input = quantizeInput(q, modelData('digits-convnet').x[r]!);
      const lie = liar.execute(root, [input]);
      const truth = honest.execute(root, [input]);
      expect(lie.corrupted).toBeDefined();
      expect(lie.traceRoot).not.toBe(truth.traceRoot);
      const d = firstDisagreement(q, truth.trace, lie.trace)!;
      expect(d.tensorId).toBe(lie.corrupted!.tensorId);
      expect(d.elementIndex).toBe(lie.corrupted!.element);
      // Downstream of the lie is the honest function of the corrupted tensor: re-running every later node from
      // the liar's trace reproduces it (so the only false step is the corrupted element's node).
      const s = lie.corrupted!.tensorId - q.inputs.length;
      for (let k = s + 1; k < pre.steps.length; k++) {
        const st = pre.steps[k]!;
        const out = { dtype: st.dtype, shape: st.shape.slice(), data: lie.trace[st.output]!.data.slice().fill(0) };
        st.kernel(st.inputs.map((id) => lie.trace[id]!), out);
        expect(Array.from(out.data)).toEqual(Array.from(lie.trace[st.output]!.data));
      }
    }
  });

  it('a fraction of answers are corrupted', () => {
    const q = quantized('wine-mlp');
    const p = new LocalEngineProvider([q], { dishonest: 0.3, random: rng(3) });
    const root = p.modelRoots()[0]!;
    const rows = modelData('wine-mlp').x;
    let lies = 0;
    for (let i = 0; i < 200; i++) if (p.execute(root, [quantizeInput(q, rows[i % rows.length]!)]).corrupted) lies++;
    expect(lies).toBeGreaterThan(30);
    expect(lies).toBeLessThan(90);
    expect(() => new LocalEngineProvider([q], { dishonest: 2 })).toThrow(/fraction/);
  });

  it('trace and tensor codecs round-trip (i8 and i32)', () => {
    const q = quantized('tiny-gpt');
    const p = new LocalEngineProvider([q]);
    const root = p.modelRoots()[0]!;
    const e = p.execute(root, [quantizeInput(q, modelData('tiny-gpt').x[0]!)]);
    const back = decodeTrace(encodeTrace(e.trace));
    expect(traceRootHex(back)).toBe(e.traceRoot);
    const t = e.trace[0]!;
    expect(Array.from(tensorFromJson(tensorToJson(t)).data)).toEqual(Array.from(t.data));
    expect(() => decodeTrace(new Uint8Array([1, 2, 3]))).toThrow(/Not a trace/);
  });
});
