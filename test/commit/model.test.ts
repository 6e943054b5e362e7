import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { OP_TYPES, type QModel } from '../../src/engine/ir.js';
import {
  commitModel,
  decodeNodeHeader,
  encodeHeader,
  encodeNodeHeader,
  EncodingError,
  hexRoot,
  keccakReady,
  modelRoot,
  modelRootHex,
  nodeHeaderOf,
  ProofError,
  proveModelNode,
  tensorRoot,
  verifyElement,
  verifyModelNode,
  type ModelNodeProof,
  type NodeHeader,
} from '../../src/commit/index.js';
import { bytesToHex } from 'viem';
import { sampleModel } from './fixtures.js';
import { refHeader, refModelRoot } from './reference.js';

beforeAll(async () => {
  await keccakReady;
});

function rejects(fn: () => boolean): void {
  let ok: boolean;
  try {
    ok = fn();
  } catch (e) {
    if (e instanceof ProofError) return;
    throw e;
  }
  expect(ok).toBe(false);
}

const clone = (m: QModel): QModel => structuredClone(m);

describe('node header', () => {
  it('round-trips every node of the sample model and matches an independent encoding', () => {
    const m = sampleModel();
    m.nodes.forEach((node, i) => {
      const bytes = encodeNodeHeader(m, i);
      expect(bytesToHex(bytes)).toBe(bytesToHex(refHeader(m, i)));
      const h = decodeNodeHeader(bytes);
      expect(h.op).toBe(node.op);
      expect(h.inputs).toEqual(node.inputs);
      expect(h.output).toBe(node.output);
      expect(h.attrs).toEqual(node.attrs);
      expect(Object.keys(h.attrs)).toEqual(Object.keys(node.attrs).sort());
      expect(h.params.map((p) => p.name)).toEqual(Object.keys(node.params).sort());
      for (const p of h.params) {
        expect(p.dtype).toBe(node.params[p.name].dtype);
        expect(p.shape).toEqual(node.params[p.name].shape);
      }
      h.inputMeta.forEach((meta, k) => {
        const t = m.tensors[node.inputs[k]];
        expect(meta).toEqual({ dtype: t.dtype, layout: t.layout, zeroPoint: t.zeroPoint, shape: t.shape });
      });
      expect(h.outputMeta.zeroPoint).toBe(m.tensors[node.output].zeroPoint);
      expect(h).toEqual(nodeHeaderOf(m, i));
      expect(decodeNodeHeader(bytesToHex(bytes))).toEqual(h);
    });
  });

  it('layout of the first words (Solidity abi.decode(header, (NodeHeader)))', () => {
    const m = sampleModel();
    const b = encodeNodeHeader(m, 2); // Reshape
    const word = (i: number) => BigInt(bytesToHex(b.subarray(32 * i, 32 * i + 32)));
    expect(word(0)).toBe(32n); // offset of the (dynamic) tuple
    expect(word(1)).toBe(BigInt(OP_TYPES.indexOf('Reshape'))); // op
    expect(word(3)).toBe(BigInt(m.nodes[2].output)); // output tensor id (word 2 is the offset of inputs)
  });

  it('round-trips random headers', () => {
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,31}$/);
    const meta = fc.record({
      dtype: fc.constantFrom('i8' as const, 'u8' as const, 'i32' as const),
      layout: fc.constantFrom('plain' as const, 'nhwc' as const),
      zeroPoint: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      shape: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 6 }),
    });
    const safe = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
    const arbHeader = fc
      .record({
        op: fc.constantFrom(...OP_TYPES),
        inputs: fc.array(fc.record({ id: fc.integer({ min: 0, max: 2 ** 32 - 1 }), meta }), { maxLength: 4 }),
        output: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        outputMeta: meta,
        attrs: fc.dictionary(name, fc.oneof(safe, fc.array(safe, { maxLength: 6 })), { maxKeys: 8 }),
        params: fc.uniqueArray(fc.record({ name, dtype: fc.constantFrom('i8' as const, 'u8' as const, 'i32' as const), shape: fc.array(fc.nat(1000), { maxLength: 4 }) }), {
          selector: (p) => p.name,
          maxLength: 5,
        }),
      })
      .map(
        (r): NodeHeader => ({
          op: r.op,
          inputs: r.inputs.map((x) => x.id),
          inputMeta: r.inputs.map((x) => x.meta),
          output: r.output,
          outputMeta: r.outputMeta,
          attrs: r.attrs,
          params: r.params,
        }),
      );
    fc.assert(
      fc.property(arbHeader, (h) => {
        const bytes = encodeHeader(h);
        const d = decodeNodeHeader(bytes);
        expect(d.op).toBe(h.op);
        expect(d.inputs).toEqual(h.inputs);
        expect(d.inputMeta).toEqual(h.inputMeta);
        expect(d.output).toBe(h.output);
        expect(d.outputMeta).toEqual(h.outputMeta);
        expect(d.attrs).toEqual(h.attrs);
        expect(Object.keys(d.attrs)).toEqual(Object.keys(h.attrs).sort());
        expect(d.params).toEqual([...h.params].sort((a, b) => (a.name < b.name ? -1 : 1)));
        expect(encodeHeader(d)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('scalar and one-element array attrs encode differently', () => {
    const m = sampleModel();
    const a = encodeNodeHeader(m, 1);
    m.nodes[1].attrs.xZero = [5];
    const b = encodeNodeHeader(m, 1);
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
    expect(decodeNodeHeader(b).attrs.xZero).toEqual([5]);
  });

  it('rejects what cannot be encoded, naming it', () => {
    const m = sampleModel();
    m.nodes[0].attrs.bad = 1.5;
    expect(() => encodeNodeHeader(m, 0)).toThrow(/Node 0 \(conv0\) attr "bad" is not an integer/);
    const m2 = sampleModel();
    m2.nodes[1].inputs = [99];
    expect(() => encodeNodeHeader(m2, 1)).toThrow(/input 0 tensor id 99 is out of range/);
    const m3 = sampleModel();
    m3.nodes[1].attrs['x'.repeat(33)] = 1;
    expect(() => encodeNodeHeader(m3, 1)).toThrow(/33 UTF-8 bytes/);
    expect(() => encodeNodeHeader(sampleModel(), 5)).toThrow(/index 5, model has 5 nodes/);
    const m4 = sampleModel();
    (m4.nodes[0] as { op: string }).op = 'Nope';
    expect(() => encodeNodeHeader(m4, 0)).toThrow(EncodingError);
  });

  it('decoder rejects non-canonical or truncated bytes', () => {
    const m = sampleModel();
    const b = encodeNodeHeader(m, 0);
    expect(() => decodeNodeHeader(b.subarray(0, b.length - 32))).toThrow(EncodingError);
    // unsorted attr keys: hand-build a header whose keys are out of order
    const h = nodeHeaderOf(m, 0);
    const good = encodeHeader(h);
    const hex = bytesToHex(good);
    const k1 = Buffer.from('bias'.padEnd(32, '\0')).toString('hex');
    expect(hex.includes(k1)).toBe(true); // param name present as bytes32
    const swapped = hex.replace(Buffer.from('dilations'.padEnd(32, '\0')).toString('hex'), Buffer.from('zzz'.padEnd(32, '\0')).toString('hex'));
    expect(() => decodeNodeHeader(swapped as `0x${string}`)).toThrow(/canonical/);
    // trailing bytes
    expect(() => decodeNodeHeader(new Uint8Array([...good, ...new Uint8Array(32)]))).toThrow(EncodingError);
  });
});

describe('modelRoot', () => {
  it('matches the spec-literal reference and is deterministic', () => {
    const m = sampleModel();
    const r = modelRoot(m);
    expect(r).toEqual(refModelRoot(m));
    expect(modelRoot(sampleModel())).toEqual(r);
    expect(modelRoot(clone(m))).toEqual(r);
    expect(modelRootHex(m)).toBe(hexRoot(r));
    // attr and param insertion order do not matter
    const m2 = sampleModel();
    const n0 = m2.nodes[0];
    n0.attrs = Object.fromEntries(Object.entries(n0.attrs).reverse());
    n0.params = Object.fromEntries(Object.entries(n0.params).reverse());
    expect(modelRoot(m2)).toEqual(r);
  });

  it('changes with every executed field', () => {
    const base = hexRoot(modelRoot(sampleModel()));
    const edits: Array<(m: QModel) => void> = [
      (m) => (m.nodes[0].attrs.yZero = 6),
      (m) => (m.nodes[0].attrs.pads = [1, 1, 1, 0]),
      (m) => (m.nodes[0].params.weight.data[7] ^= 1),
      (m) => (m.nodes[0].params.weight.shape = [4, 3, 2, 3]),
      (m) => (m.nodes[3].params.bias.data[0] += 1),
      (m) => (m.tensors[3].zeroPoint = 2),
      (m) => (m.tensors[1].layout = 'plain'),
      (m) => (m.tensors[5].shape = [3, 1]),
      (m) => (m.nodes[4].op = 'Requantize'),
      (m) => (m.nodes[2].inputs = [1]),
      (m) => {
        const t = m.nodes[4].params.table;
        m.nodes[4].params = { tableX: t };
      },
      (m) => m.nodes.pop(),
      (m) => ([m.nodes[1], m.nodes[2]] = [m.nodes[2], m.nodes[1]]),
    ];
    const roots = edits.map((edit) => {
      const m = sampleModel();
      edit(m);
      return hexRoot(modelRoot(m));
    });
    expect(roots).not.toContain(base);
    expect(new Set(roots).size).toBe(roots.length);
    // not executed: names, scales, source
    const m = sampleModel();
    m.name = 'other';
    m.nodes[0].name = 'renamed';
    m.tensors[0].scale = 0.5;
    m.tensors[0].name = 'x';
    expect(hexRoot(modelRoot(m))).toBe(base);
  });

  it('node proofs verify, weights open against the proven param roots, bit changes fail', () => {
    const m = sampleModel();
    const c = commitModel(m);
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('header', 'paramRoot', 'sibling', 'index', 'count', 'root'), fc.integer({ min: 0, max: 255 }), (pick, kind, bit) => {
        const i = pick % m.nodes.length;
        const p = c.proveNode(i);
        expect(verifyModelNode(c.root, p)).toBe(true);
        const q: ModelNodeProof = { count: p.count, index: p.index, header: p.header.slice(), paramRoots: p.paramRoots.map((r) => r.slice()), siblings: p.siblings.map((s) => s.slice()) };
        let r = c.root;
        if (kind === 'header' || (kind === 'paramRoot' && q.paramRoots.length === 0)) q.header[(pick >> 3) % q.header.length] ^= 1 << (bit & 7);
        else if (kind === 'paramRoot') q.paramRoots[pick % q.paramRoots.length][bit >> 3] ^= 1 << (bit & 7);
        else if (kind === 'sibling') q.siblings[pick % q.siblings.length][bit >> 3] ^= 1 << (bit & 7);
        else if (kind === 'index') q.index ^= 1 << (bit % 4);
        else if (kind === 'count') q.count ^= 1 << (bit % 6);
        else {
          r = c.root.slice();
          r[bit >> 3] ^= 1 << (bit & 7);
        }
        rejects(() => verifyModelNode(r, q));
      }),
      { numRuns: 300 },
    );
    // open a Conv weight element through the node proof
    const p = proveModelNode(m, 0);
    const h = decodeNodeHeader(p.header);
    const k = h.params.findIndex((x) => x.name === 'weight');
    expect(p.paramRoots[k]).toEqual(tensorRoot(m.nodes[0].params.weight));
    const e = c.param(0, 'weight').proveElement(17);
    expect(e.value).toBe(m.nodes[0].params.weight.data[17]);
    expect(verifyElement(p.paramRoots[k], e)).toBe(true);
    expect(() => c.param(0, 'nope')).toThrow(/params: bias, mult, shift, weight/);
  });

  it('a node proof must carry exactly the header\'s param roots (zero padding is not a param)', () => {
    const c = commitModel(sampleModel());
    const p = c.proveNode(3); // Linear: 4 params, so 4 = 2^2 leaves; a zero root keeps the Merkle root of 3
    const q = c.proveNode(4); // Lut: 1 param
    expect(() => verifyModelNode(c.root, { ...q, paramRoots: [...q.paramRoots, new Uint8Array(32)] })).toThrow(/header lists 1 params, proof has 2 roots/);
    expect(() => verifyModelNode(c.root, { ...p, paramRoots: p.paramRoots.slice(0, 3) })).toThrow(ProofError);
  });
});
