/**
 * Differential test: engine (src/engine) vs the Solidity one-step verifier (contracts/verifier), on
 * anvil, for every verifiable op. fast-check generates one-node models (shapes, quantization
 * parameters, values with edge cases); the engine runs them; for a picked output element the witness
 * is built (src/verifier) and the contract's computeElement (eth_call, batched) must return the
 * engine's value. The TypeScript mirror (computeElementTs) is checked on every case too.
 * ≥ 200 cases per op; VERITY_LONG=1 for 1000.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Address, Hex, PublicClient } from 'viem';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { sizeOf, type OpType } from '../../src/engine/ir.js';
import type { AnvilInstance } from '../../src/chain/anvil.js';
import { oneStepVerifierFullAbi as oneStepVerifierAbi } from '../../src/chain/verifier.js';
import { startVerifierChain } from './chain.js';
import { accumulatorOf, buildOneStep, buildSumOpen, buildSumStep, computeElementTs, packAcc, REDUCIBLE_OPS, unpackAcc, VERIFIABLE_OPS, type OneStepWitness } from '../../src/verifier/index.js';
import { GENERATORS, oneNode, SUM_GENERATORS, type Case } from './gen.js';

const RUNS = process.env.VERITY_LONG ? 1000 : 200;
const SEED = Number(process.env.VERITY_SEED ?? 20240601);

let anvil: AnvilInstance;
let client: PublicClient;
let verifier: Address;

beforeAll(async () => {
  ({ anvil, client, verifier } = await startVerifierChain(64));
});

afterAll(async () => {
  await anvil?.stop();
});

interface Prepared {
  c: Case;
  w: OneStepWitness;
}

/** Samples `n` cases, runs the engine, builds witnesses; TS mirror checked on each. */
function prepareCases(op: OpType, n: number, seed: number): Prepared[] {
  const cases = fc.sample(GENERATORS[op](), { numRuns: n, seed });
  return cases.map((c) => {
    const p = prepareModel(c.model);
    const trace = runModel(p, c.inputs);
    const out = c.model.tensors[c.model.nodes[0].output];
    const total = sizeOf(out.shape);
    const o = Math.min(total - 1, Math.floor(c.pick * total));
    const w = buildOneStep(c.model, trace, 0, o);
    return { c, w };
  });
}

async function callAll(ws: readonly OneStepWitness[]): Promise<({ ok: true; value: bigint; id: bigint } | { ok: false; error: string })[]> {
  return Promise.all(
    ws.map(async (w) => {
      try {
        const [id, value] = await client.readContract({
          address: verifier,
          abi: oneStepVerifierAbi,
          functionName: 'computeElement',
          args: [w.modelRoot, w.inputTensorRoots, w.step],
        });
        return { ok: true as const, value, id };
      } catch (e) {
        return { ok: false as const, error: (e as Error).message.split('\n').slice(0, 3).join(' ') };
      }
    }),
  );
}

function describeCase(p: Prepared): string {
  const n = p.c.model.nodes[0];
  return JSON.stringify({
    op: n.op,
    attrs: n.attrs,
    inputs: n.inputs.map((i) => p.c.model.tensors[i]).map((t) => `${t.dtype}[${t.shape}]`),
    out: `${p.c.model.tensors[n.output].dtype}[${p.c.model.tensors[n.output].shape}]`,
    params: Object.fromEntries(Object.entries(n.params).map(([k, v]) => [k, `${v.dtype}[${v.shape}] ${v.data.length <= 8 ? Array.from(v.data).join(',') : ''}`])),
    outputIndex: Number(p.w.step.outputIndex),
  });
}

describe('one-step verifier vs engine (differential, anvil)', () => {
  for (const op of VERIFIABLE_OPS) {
    it(`${op}: contract == engine on ${RUNS} generated cases`, async () => {
      const prepared = prepareCases(op, RUNS, SEED + VERIFIABLE_OPS.indexOf(op));
      const tsBad = prepared.filter((p) => {
        const r = computeElementTs(p.w.modelRoot, p.w.inputTensorRoots, p.w.step);
        return r.value !== p.w.expected || r.outputTensorId !== p.w.outputTensorId;
      });
      const results = await callAll(prepared.map((p) => p.w));
      const bad = results
        .map((r, i) => ({ r, p: prepared[i] }))
        .filter(({ r, p }) => !r.ok || r.value !== p.w.expected || r.id !== BigInt(p.w.outputTensorId));
      const report = bad.slice(0, 3).map(({ r, p }) => `${describeCase(p)} engine=${p.w.expected} contract=${r.ok ? r.value : r.error}`);
      expect(report, `${bad.length}/${RUNS} mismatches`).toEqual([]);
      // not vacuous: the picked elements take many different values (not all saturated)
      expect(new Set(prepared.map((p) => p.w.expected)).size).toBeGreaterThan(op === 'Lut' ? 20 : 10);
      expect(tsBad.map(describeCase), 'TS mirror mismatches').toEqual([]);
    });
  }
});

describe('partial sums (docs/ops.md §Partial sums): contract == engine, chunk by chunk', () => {
  const N_SUM = process.env.VERITY_LONG ? 500 : 100;
  for (const op of REDUCIBLE_OPS) {
    it(`${op}: finish(A(0) + Σ contract chunks) == engine, openReduction checks the total, on ${N_SUM} cases`, async () => {
      const cases = fc.sample(GENERATORS[op](), { numRuns: N_SUM, seed: SEED + 7919 + REDUCIBLE_OPS.indexOf(op) });
      const bad: string[] = [];
      const values = new Set<bigint>();
      await Promise.all(
        cases.map(async (c, ci) => {
          const trace = runModel(prepareModel(c.model), c.inputs);
          const total = sizeOf(c.model.tensors[c.model.nodes[0].output].shape);
          const o = Math.min(total - 1, Math.floor(c.pick * total));
          const expected = BigInt(trace[c.model.nodes[0].output].data[o]);
          values.add(expected);
          const acc = accumulatorOf(c.model, trace, 0, o);
          const open = buildSumOpen(c.model, trace, 0, o);
          const mr = buildOneStep(c.model, trace, 0, o).modelRoot;
          const [, terms, init, value] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'openReduction', args: [mr, open.step, open.total] });
          if (terms !== BigInt(acc.terms) || init !== acc.prefix[0] || value !== expected) bad.push(`case ${ci} open: terms ${terms}/${acc.terms} init ${init}/${acc.prefix[0]} value ${value}/${expected}`);
          // three chunks at case-dependent cut points
          const T = acc.terms;
          const a = Math.floor((T * ((ci * 7) % 10)) / 10);
          const b = a + Math.floor(((T - a) * ((ci * 3) % 10)) / 10);
          let sum = acc.prefix[0];
          for (const [from, to] of [[0, a], [a, b], [b, T]] as const) {
            const w = buildSumStep(c.model, trace, 0, o, from, to, { left: acc.prefix[from]! });
            const [, part] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'computePartial', args: [mr, w.inputTensorRoots, w.step, BigInt(from), BigInt(to), acc.prefix[from]!] });
            if (part !== acc.prefix[to]! - acc.prefix[from]! || part !== w.sum) bad.push(`case ${ci} [${from}, ${to}): contract ${part}, TS ${w.sum}`);
            sum += part;
          }
          if (sum !== open.total) bad.push(`case ${ci}: A(0) + Σ chunks ${sum} ≠ A(T) ${open.total}`);
        }),
      );
      expect(bad.slice(0, 5)).toEqual([]);
      expect(values.size).toBeGreaterThan(5);
    });
  }

  // The packed row accumulators (LayerNorm: pack(Σd, Σd², d_i); Softmax: pack(S, counts, x_i, stated max)), on their
  // own generators: rows of 1 … 4096 (LayerNorm ≤ 1024, the engine's bound), ties at the max, masked −128 entries.
  // For every case: open finishes the true total to the engine's element, every chunk of the contract equals the TS
  // mirror's, and (Softmax) a total stating a max one too high or too low is refused while its own sequence of
  // chunks still agrees term by term between contract and mirror (the game bisects on it).
  const N_ROW = process.env.VERITY_LONG ? 1000 : 200;
  for (const op of ['LayerNorm', 'Softmax'] as const) {
    it(`${op} packed sums: contract == engine at the total, == TS chunk by chunk, on ${N_ROW} cases`, async () => {
      const cases = fc.sample(SUM_GENERATORS[op](), { numRuns: N_ROW, seed: SEED + 104729 + (op === 'Softmax' ? 1 : 0) });
      const bad: string[] = [];
      const values = new Set<bigint>();
      const lengths = new Set<number>();
      let ties = 0;
      let maskedRows = 0;
      for (let lo = 0; lo < cases.length; lo += 20) {
        await Promise.all(
          cases.slice(lo, lo + 20).map(async (c, k) => {
            const ci = lo + k;
            const trace = runModel(prepareModel(c.model), c.inputs);
            const outT = c.model.tensors[c.model.nodes[0].output];
            const o = Math.min(sizeOf(outT.shape) - 1, Math.floor(c.pick * sizeOf(outT.shape)));
            const expected = BigInt(trace[c.model.nodes[0].output].data[o]);
            values.add(expected);
            const L = outT.shape[outT.shape.length - 1];
            lengths.add(L);
            const rowX = Array.from(trace[0].data.slice(o - (o % L), o - (o % L) + L));
            const mx = Math.max(...rowX);
            if (rowX.filter((v) => v === mx).length > 1) ties++;
            if (c.model.nodes[0].attrs.masked === 1 && rowX.includes(-128) && mx !== -128) maskedRows++;
            const mr = buildOneStep(c.model, trace, 0, o).modelRoot;
            const check = async (total: bigint | undefined, tag: string): Promise<bigint> => {
              const acc = accumulatorOf(c.model, trace, 0, o, total);
              const T = acc.terms;
              const a = Math.floor((T * ((ci * 7) % 10)) / 10);
              const b = a + Math.floor(((T - a) * ((ci * 3) % 10)) / 10);
              for (const [from, to] of [[0, a], [a, b], [b, T], [Math.max(0, T - 48), T]] as const) {
                const w = buildSumStep(c.model, trace, 0, o, from, to, { left: acc.prefix[from]! });
                const [, part] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'computePartial', args: [mr, w.inputTensorRoots, w.step, BigInt(from), BigInt(to), acc.prefix[from]!] });
                if (part !== acc.prefix[to]! - acc.prefix[from]! || part !== w.sum) bad.push(`case ${ci} ${tag} [${from}, ${to}): contract ${part}, TS ${w.sum}`);
              }
              return acc.prefix[T]!;
            };
            const total = await check(undefined, 'true');
            const open = buildSumOpen(c.model, trace, 0, o);
            if (open.total !== total) bad.push(`case ${ci}: buildSumOpen total ${open.total} ≠ ${total}`);
            const [, terms, init, value] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'openReduction', args: [mr, open.step, total] });
            if (terms !== BigInt(L) || init !== open.init || value !== expected) bad.push(`case ${ci} open: terms ${terms}/${L} init ${init}/${open.init} value ${value}/${expected}`);
            if (op === 'Softmax') {
              const [S, counts, own] = unpackAcc(total);
              if (counts !== BigInt(rowX.filter((v) => v === mx).length) || own !== BigInt(rowX[o % L])) bad.push(`case ${ci}: fields ${S} ${counts} ${own}`);
              for (const m of [mx + 1, mx - 1]) {
                if (m > 127 || m < -128) continue;
                const lie = await check(packAcc(0n, 0n, 0n, BigInt(m)), `max ${m}`);
                const lo2 = unpackAcc(lie);
                // the sequence from a wrong max: too high ⇒ no entry equals it, too low ⇒ some entry exceeds it
                if (m > mx ? (lo2[1] & 0xffffffffn) !== 0n : lo2[1] >> 32n === 0n) bad.push(`case ${ci}: max ${m} counts ${lo2[1]}`);
                const step = buildSumOpen(c.model, trace, 0, o).step;
                await expect(client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'openReduction', args: [mr, step, lie] })).rejects.toThrow(/VerifierSoftmaxMax/);
              }
            }
          }),
        );
      }
      expect(bad.slice(0, 5)).toEqual([]);
      expect(values.size).toBeGreaterThan(10);
      expect(lengths.has(1) && lengths.has(op === 'Softmax' ? 4096 : 1024), `row lengths ${[...lengths].sort((a, b) => a - b).join(',')}`).toBe(true);
      if (op === 'Softmax') {
        expect(ties).toBeGreaterThan(20);
        expect(maskedRows).toBeGreaterThan(10);
      }
    });
  }

  it('a range past the accumulator reverts VerifierSumRange; a non-reduction op reverts on openReduction', async () => {
    const { model, w } = linearCase();
    const trace = runModel(prepareModel(model), linearCaseInputs());
    const s = buildSumStep(model, trace, 0, 2, 0, 70);
    await expect(client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'computePartial', args: [w.modelRoot, s.inputTensorRoots, s.step, 0n, 71n, 0n] })).rejects.toThrow(/VerifierSumRange/);
    const open = buildSumOpen(model, trace, 0, 2);
    // a total off by the requant step no longer finishes to the element
    const [, , , v] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'openReduction', args: [w.modelRoot, open.step, open.total - (1n << 30n)] });
    expect(v).not.toBe(w.expected);
    expect(await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'reducible', args: [5] })).toBe(false);
  });
});

function linearCaseInputs(): Case['inputs'] {
  return [{ dtype: 'i8', shape: [1, 70], data: Int8Array.from({ length: 70 }, (_, i) => ((i * 91) % 256) - 128) }];
}

/** A Linear node over multi-word tensors: x i8 [1, 70], weight i8 [4, 70] (3 words per row). */
function linearCase(): { model: Case['model']; w: OneStepWitness } {
  const K = 70;
  const N = 4;
  const wd = Int8Array.from({ length: N * K }, (_, i) => ((i * 37) % 255) - 127);
  const c = oneNode(
    'Linear',
    [{ dtype: 'i8', shape: [1, K], zp: -3 }],
    { dtype: 'i8', shape: [1, N] },
    { xZero: -3, yZero: 5 },
    {
      weight: { dtype: 'i8', shape: [N, K], data: wd },
      bias: { dtype: 'i32', shape: [N], data: Int32Array.from([100, -200, 300, -400]) },
      mult: { dtype: 'i32', shape: [N], data: Int32Array.from([20000, 17000, 30000, 16500]) },
      shift: { dtype: 'i32', shape: [N], data: Int32Array.from([20, 21, 22, 19]) },
    },
    linearCaseInputs(),
    0,
  );
  const trace = runModel(prepareModel(c.model), c.inputs);
  return { model: c.model, w: buildOneStep(c.model, trace, 0, 2) };
}

async function revertOf(w: OneStepWitness, roots = w.inputTensorRoots, modelRoot = w.modelRoot): Promise<{ name: string; args: readonly unknown[] }> {
  try {
    await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'computeElement', args: [modelRoot, roots, w.step] });
  } catch (e) {
    let err: unknown = e;
    while (err && typeof err === 'object') {
      const data = (err as { data?: { errorName?: string; args?: readonly unknown[] } }).data;
      if (data?.errorName) return { name: data.errorName, args: data.args ?? [] };
      err = (err as { cause?: unknown }).cause;
    }
    return { name: `unrecognized: ${(e as Error).message.slice(0, 200)}`, args: [] };
  }
  return { name: 'no revert', args: [] };
}

const clone = (w: OneStepWitness): OneStepWitness => structuredClone(w);
const flip = (h: Hex): Hex => (h.slice(0, -1) + (h.endsWith('0') ? '1' : '0')) as Hex;

describe('one-step verifier: proofs and named reverts', () => {
  it('a TS-built proof verifies and returns the engine value (multi-word multiproofs)', async () => {
    const { w } = linearCase();
    expect(w.step.inputs[0].indices.length).toBe(3);
    const [id, value] = await client.readContract({ address: verifier, abi: oneStepVerifierAbi, functionName: 'computeElement', args: [w.modelRoot, w.inputTensorRoots, w.step] });
    expect(id).toBe(BigInt(w.outputTensorId));
    expect(value).toBe(w.expected);
    expect(computeElementTs(w.modelRoot, w.inputTensorRoots, w.step).value).toBe(w.expected);
  });

  it('wrong modelRoot / node index / node siblings', async () => {
    const { w } = linearCase();
    expect((await revertOf(w, w.inputTensorRoots, flip(w.modelRoot))).name).toBe('VerifierNodeNotInModel');
    const a = clone(w);
    a.step.node.index = 1n;
    expect(await revertOf(a)).toEqual({ name: 'VerifierNodeIndexOutOfRange', args: [1n, 1n] });
    const b = clone(w);
    b.step.node.siblings.push(w.modelRoot);
    expect((await revertOf(b)).name).toBe('VerifierNodeSiblingCount');
    const c = clone(w);
    c.step.node.paramRoots[0] = flip(c.step.node.paramRoots[0]);
    expect((await revertOf(c)).name).toBe('VerifierNodeNotInModel');
  });

  it('wrong input root / tampered words name the input or param', async () => {
    const { w } = linearCase();
    const r = await revertOf(w, [flip(w.inputTensorRoots[0])]);
    expect(r.name).toBe('VerifierTensorRootMismatch');
    expect(r.args.slice(0, 2)).toEqual([0, 0n]); // Operand.Input, input 0
    const a = clone(w);
    a.step.params[3].words[0] = flip(a.step.params[3].words[0]); // params sorted: bias, mult, shift, weight
    const ra = await revertOf(a);
    expect(ra.name).toBe('VerifierTensorRootMismatch');
    expect(ra.args.slice(0, 2)).toEqual([1, 3n]); // Operand.Param, param 3 (weight)
  });

  it('malformed multiproofs: leafCount, word count, indices, siblings', async () => {
    const { w } = linearCase();
    const a = clone(w);
    a.step.inputs[0].leafCount += 1n;
    expect(await revertOf(a)).toEqual({ name: 'VerifierLeafCount', args: [0, 0n, 3n, 4n] });
    const b = clone(w);
    b.step.inputs[0].words.pop();
    expect((await revertOf(b)).name).toBe('VerifierWordCount');
    const c = clone(w);
    c.step.inputs[0].indices.reverse();
    c.step.inputs[0].words.reverse();
    expect((await revertOf(c)).name).toBe('VerifierProofIndex');
    const d = clone(w);
    d.step.params[3].siblings.push(w.modelRoot);
    expect((await revertOf(d)).name).toBe('VerifierProofSiblings');
    const e = clone(w);
    e.step.params[3].siblings.pop();
    expect((await revertOf(e)).name).toBe('VerifierProofSiblings');
    const f = clone(w);
    f.step.params.pop();
    expect((await revertOf(f)).name).toBe('VerifierParamProofCount');
    const g = clone(w);
    expect((await revertOf(g, [])).name).toBe('VerifierInputCount');
  });

  it('an element missing from a valid proof, and an output index out of range', async () => {
    const { model, w } = linearCase();
    // a valid proof of fewer words (word 0 only) of the input row
    const trace = runModel(prepareModel(model), [{ dtype: 'i8', shape: [1, 70], data: Int8Array.from({ length: 70 }, (_, i) => ((i * 91) % 256) - 128) }]);
    const short = buildOneStep(model, trace, 0, 2);
    const full = short.step.inputs[0];
    const { TensorCommitment } = await import('../../src/commit/index.js');
    const p = new TensorCommitment(trace[0]).proveRanges([[0, 1]]).proof;
    short.step.inputs[0] = { leafCount: BigInt(p.leafCount), indices: p.indices.map(BigInt), words: p.words.map((x) => `0x${Buffer.from(x).toString('hex')}` as Hex), siblings: p.siblings.map((x) => `0x${Buffer.from(x).toString('hex')}` as Hex) };
    expect(full.indices.length).toBe(3);
    expect(await revertOf(short)).toEqual({ name: 'VerifierElementNotProven', args: [0, 0n, 32n] });
    const o = clone(w);
    o.step.outputIndex = 4n;
    expect(await revertOf(o)).toEqual({ name: 'VerifierOutputIndexOutOfRange', args: [4n, 4n] });
  });
});
