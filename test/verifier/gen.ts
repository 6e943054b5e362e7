/**
 * fast-check generators of one-node QModels (plus inputs and the output element to check) for every
 * op, valid by construction (docs/ops.md constraints), biased toward edge values: saturation
 * (−128/127, 0/255), rounding ties (small shifts, power-of-two multipliers), negative zero points,
 * padding, strides, dilations, broadcasting, masked softmax.
 */
import fc from 'fast-check';
import type { AttrValue, DType, OpType, Param, QModel, TensorData } from '../../src/engine/ir.js';
import { sizeOf } from '../../src/engine/ir.js';

export interface Case {
  model: QModel;
  inputs: TensorData[];
  /** Fraction in [0, 1) picking the output element (0 and ~1 are edges). */
  pick: number;
}

interface TSpec {
  dtype: DType;
  shape: number[];
  layout?: 'plain' | 'nhwc';
  zp?: number;
}

const RANGE: Record<DType, [number, number]> = { i8: [-128, 127], u8: [0, 255], i32: [-2147483648, 2147483647] };
const CTOR = { i8: Int8Array, u8: Uint8Array, i32: Int32Array } as const;

export function oneNode(op: OpType, ins: TSpec[], out: TSpec, attrs: Record<string, AttrValue>, params: Record<string, Param>, inputs: TensorData[], pick: number): Case {
  const tensors = [...ins, out].map((t, id) => ({
    id,
    name: `t${id}`,
    dtype: t.dtype,
    shape: t.shape,
    scale: 1,
    zeroPoint: t.zp ?? 0,
    layout: t.layout ?? 'plain',
  }));
  const k = ins.length;
  const model: QModel = {
    format: 'verity-qmodel',
    version: 1,
    name: `one-${op}`,
    inputs: ins.map((_, i) => i),
    outputs: [k],
    tensors,
    nodes: [{ op, name: op, inputs: ins.map((_, i) => i), output: k, attrs, params }],
    source: { onnxSha256: '', opset: 0, producer: 'test' },
  };
  return { model, inputs, pick };
}

// ------------------------------------------------------------------------------------- primitives

const dt8 = fc.constantFrom<DType>('i8', 'u8');
const dtOut = fc.constantFrom<DType>('i8', 'u8', 'i32');

/** A value of a dtype, biased toward the range ends and zero. */
export function val(dt: DType, small = false): fc.Arbitrary<number> {
  const [lo, hi] = RANGE[dt];
  if (dt === 'i32') {
    const lim = small ? 1 << 20 : 2 ** 31 - 1;
    return fc.oneof(fc.integer({ min: -lim, max: lim }), fc.integer({ min: -300, max: 300 }), fc.constantFrom(-lim, lim, 0, -1, 1));
  }
  return fc.oneof({ weight: 5, arbitrary: fc.integer({ min: lo, max: hi }) }, { weight: 2, arbitrary: fc.constantFrom(lo, hi, lo + 1, hi - 1, 0) });
}

export function data(dt: DType, n: number, small = false): fc.Arbitrary<Int8Array | Uint8Array | Int32Array> {
  return fc.array(val(dt, small), { minLength: n, maxLength: n }).map((a) => CTOR[dt].from(a));
}

function tensor(dt: DType, shape: number[], small = false): fc.Arbitrary<TensorData> {
  return data(dt, sizeOf(shape), small).map((d) => ({ dtype: dt, shape, data: d }));
}

function param(dt: DType, shape: number[], v?: fc.Arbitrary<number>): fc.Arbitrary<Param> {
  const n = sizeOf(shape);
  return fc.array(v ?? val(dt), { minLength: n, maxLength: n }).map((a) => ({ dtype: dt, shape, data: CTOR[dt].from(a) }));
}

const zero = (dt: DType): fc.Arbitrary<number> => (dt === 'i32' ? fc.integer({ min: -1000, max: 1000 }) : val(dt));
const mult = fc.oneof(fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 16384, max: 32767 }), fc.constantFrom(0, 1, 16384, 32767, 1 << 10));
const shiftFor = (lo: number, hi: number): fc.Arbitrary<number> => fc.oneof({ weight: 4, arbitrary: fc.integer({ min: lo, max: hi }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 46 }) });
const pick = fc.oneof({ weight: 6, arbitrary: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, 0.999999) });

/** Optional lo/hi attrs inside the output range. */
function loHi(dt: DType): fc.Arbitrary<Record<string, number>> {
  const [lo, hi] = RANGE[dt];
  return fc.oneof(
    fc.constant({}),
    fc.tuple(fc.integer({ min: lo, max: hi }), fc.integer({ min: lo, max: hi })).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b) })),
  );
}

const dims = (rank: number, max: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max }), { minLength: rank, maxLength: rank });

/** numpy broadcast of two compatible shapes. */
function bc(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)];
    const y = i < n - b.length ? 1 : b[i - (n - b.length)];
    return Math.max(x, y);
  });
}

/** Two shapes derived from one base (some dims set to 1, some leading dims dropped) and their broadcast. */
function bcastPair(maxRank: number, maxDim: number): fc.Arbitrary<{ out: number[]; a: number[]; b: number[] }> {
  return fc
    .integer({ min: 0, max: maxRank })
    .chain((r) => fc.tuple(dims(r, maxDim), fc.array(fc.boolean(), { minLength: r, maxLength: r }), fc.array(fc.boolean(), { minLength: r, maxLength: r }), fc.integer({ min: 0, max: r }), fc.integer({ min: 0, max: r })))
    .map(([base, ma, mb, da, db]) => {
      const a = base.map((d, i) => (ma[i] ? 1 : d)).slice(da);
      const b = base.map((d, i) => (mb[i] ? 1 : d)).slice(db);
      return { out: bc(a, b), a, b };
    });
}

const bcastShapes = bcastPair;

// -------------------------------------------------------------------------------------------- ops

function linear(): fc.Arbitrary<Case> {
  return fc
    .record({ lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), K: fc.integer({ min: 1, max: 40 }), N: fc.integer({ min: 1, max: 6 }), xd: dt8, yd: dtOut, bias: fc.boolean() })
    .chain(({ lead, K, N, xd, yd, bias }) =>
      fc.record({
        x: tensor(xd, [...lead, K]),
        weight: param('i8', [N, K]),
        bias: bias ? param('i32', [N], fc.integer({ min: -(1 << 20), max: 1 << 20 })).map((p) => p as Param | null) : fc.constant(null),
        mult: param('i32', [N], mult),
        shift: param('i32', [N], shiftFor(8, 24)),
        xZero: zero(xd),
        yZero: zero(yd),
        lh: loHi(yd),
        pick,
      }).map((g) => {
        const params: Record<string, Param> = { weight: g.weight, mult: g.mult, shift: g.shift };
        if (g.bias) params.bias = g.bias;
        return oneNode('Linear', [{ dtype: xd, shape: [...lead, K], zp: g.xZero }], { dtype: yd, shape: [...lead, N] }, { xZero: g.xZero, yZero: g.yZero, ...g.lh }, params, [g.x], g.pick);
      }),
    );
}

const convOut = (i: number, a: number, b: number, k: number, s: number, d: number): number => Math.floor((i + a + b - d * (k - 1) - 1) / s) + 1;

function conv(): fc.Arbitrary<Case> {
  return fc
    .record({
      H: fc.integer({ min: 1, max: 6 }),
      W: fc.integer({ min: 1, max: 6 }),
      group: fc.constantFrom(1, 1, 2),
      Cg: fc.integer({ min: 1, max: 3 }),
      COg: fc.integer({ min: 1, max: 3 }),
      KH: fc.integer({ min: 1, max: 3 }),
      KW: fc.integer({ min: 1, max: 3 }),
      pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
      strides: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }),
      dil: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }),
      xd: dt8,
      yd: dtOut,
      bias: fc.boolean(),
      explicit: fc.boolean(),
    })
    .filter((g) => convOut(g.H, g.pads[0], g.pads[2], g.KH, g.strides[0], g.dil[0]) >= 1 && convOut(g.W, g.pads[1], g.pads[3], g.KW, g.strides[1], g.dil[1]) >= 1)
    .chain((g) => {
      const C = g.Cg * g.group;
      const CO = g.COg * g.group;
      const OH = convOut(g.H, g.pads[0], g.pads[2], g.KH, g.strides[0], g.dil[0]);
      const OW = convOut(g.W, g.pads[1], g.pads[3], g.KW, g.strides[1], g.dil[1]);
      return fc.record({
        x: tensor(g.xd, [1, g.H, g.W, C]),
        weight: param('i8', [CO, g.KH, g.KW, g.Cg]),
        bias: g.bias ? param('i32', [CO], fc.integer({ min: -(1 << 18), max: 1 << 18 })).map((p) => p as Param | null) : fc.constant(null),
        mult: param('i32', [CO], mult),
        shift: param('i32', [CO], shiftFor(8, 22)),
        xZero: zero(g.xd),
        yZero: zero(g.yd),
        lh: loHi(g.yd),
        pick,
      }).map((r) => {
        const params: Record<string, Param> = { weight: r.weight, mult: r.mult, shift: r.shift };
        if (r.bias) params.bias = r.bias;
        const attrs: Record<string, AttrValue> = { xZero: r.xZero, yZero: r.yZero, ...r.lh };
        if (g.explicit || g.group !== 1) attrs.group = g.group;
        if (g.explicit || g.pads.some((p) => p)) attrs.pads = g.pads;
        if (g.explicit || g.strides.some((p) => p !== 1)) attrs.strides = g.strides;
        if (g.explicit || g.dil.some((p) => p !== 1)) attrs.dilations = g.dil;
        return oneNode('Conv', [{ dtype: g.xd, shape: [1, g.H, g.W, C], layout: 'nhwc', zp: r.xZero }], { dtype: g.yd, shape: [1, OH, OW, CO], layout: 'nhwc' }, attrs, params, [r.x], r.pick);
      });
    });
}

/** numpy matmul operand shapes: a [.., M, K], b [.., K, N] / [.., N, K], rank-1 variants, broadcast batch. */
function mmShapes(withTrans: boolean): fc.Arbitrary<{ a: number[]; b: number[]; out: number[]; transB: boolean }> {
  return fc
    .record({
      batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      ma: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      mb: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      dropA: fc.integer({ min: 0, max: 2 }),
      dropB: fc.integer({ min: 0, max: 2 }),
      M: fc.integer({ min: 1, max: 5 }),
      K: fc.integer({ min: 1, max: 12 }),
      N: fc.integer({ min: 1, max: 5 }),
      aRank1: fc.constantFrom(false, false, false, true),
      bRank1: fc.constantFrom(false, false, false, true),
      transB: withTrans ? fc.boolean() : fc.constant(false),
    })
    .map((g) => {
      const ab = g.batch.map((d, i) => (g.ma[i] ? 1 : d)).slice(g.dropA);
      const bb = g.batch.map((d, i) => (g.mb[i] ? 1 : d)).slice(g.dropB);
      const a = g.aRank1 ? [g.K] : [...ab, g.M, g.K];
      const b = g.bRank1 ? [g.K] : g.transB ? [...bb, g.N, g.K] : [...bb, g.K, g.N];
      const o = bc(g.aRank1 ? [] : ab, g.bRank1 ? [] : bb);
      if (!g.aRank1) o.push(g.M);
      if (!g.bRank1) o.push(g.N);
      return { a, b, out: o, transB: g.transB };
    });
}

function matmul(): fc.Arbitrary<Case> {
  return fc.record({ s: mmShapes(true), ad: dt8, bd: dt8, yd: dtOut }).chain(({ s, ad, bd, yd }) =>
    fc.record({ a: tensor(ad, s.a), b: tensor(bd, s.b), aZero: zero(ad), bZero: zero(bd), yZero: zero(yd), mult, shift: shiftFor(6, 22), lh: loHi(yd), pick, explicitT: fc.boolean() }).map((r) => {
      const attrs: Record<string, AttrValue> = { aZero: r.aZero, bZero: r.bZero, yZero: r.yZero, mult: r.mult, shift: r.shift, ...r.lh };
      if (s.transB || r.explicitT) attrs.transB = s.transB ? 1 : 0;
      return oneNode('MatMul', [{ dtype: ad, shape: s.a }, { dtype: bd, shape: s.b }], { dtype: yd, shape: s.out }, attrs, {}, [r.a, r.b], r.pick);
    }),
  );
}

function binary(op: 'Add' | 'Mul'): fc.Arbitrary<Case> {
  return fc.record({ s: bcastShapes(3, 4), ad: dt8, bd: dt8, yd: dtOut, bParam: fc.constantFrom(false, false, true) }).chain(({ s, ad, bd, yd, bParam }) =>
    fc.record({
      a: tensor(ad, s.a),
      b: tensor(bd, s.b),
      aZero: zero(ad),
      bZero: zero(bd),
      yZero: zero(yd),
      m1: mult,
      m2: mult,
      shift: op === 'Add' ? shiftFor(1, 16) : shiftFor(1, 20),
      lh: loHi(yd),
      pick,
    }).map((r) => {
      const attrs: Record<string, AttrValue> = { aZero: r.aZero, bZero: r.bZero, yZero: r.yZero, shift: r.shift, ...r.lh };
      if (op === 'Add') Object.assign(attrs, { aMult: r.m1, bMult: r.m2 });
      else attrs.mult = r.m1;
      const ins: TSpec[] = [{ dtype: ad, shape: s.a }];
      const inputs = [r.a];
      const params: Record<string, Param> = {};
      if (bParam) params.b = { dtype: bd, shape: s.b, data: r.b.data };
      else {
        ins.push({ dtype: bd, shape: s.b });
        inputs.push(r.b);
      }
      return oneNode(op, ins, { dtype: yd, shape: s.out }, attrs, params, inputs, r.pick);
    }),
  );
}

function lut(): fc.Arbitrary<Case> {
  return fc.record({ shape: fc.integer({ min: 0, max: 3 }).chain((r) => dims(r, 5)), yd: dt8 }).chain(({ shape, yd }) =>
    fc.record({ x: tensor('i8', shape), table: param(yd, [256]), pick }).map((r) => oneNode('Lut', [{ dtype: 'i8', shape }], { dtype: yd, shape }, {}, { table: r.table }, [r.x], r.pick)),
  );
}

function pool(op: 'MaxPool' | 'AveragePool'): fc.Arbitrary<Case> {
  const isMax = op === 'MaxPool';
  return fc
    .record({
      H: fc.integer({ min: 1, max: 7 }),
      W: fc.integer({ min: 1, max: 7 }),
      C: fc.integer({ min: 1, max: 3 }),
      KH: fc.integer({ min: 1, max: 3 }),
      KW: fc.integer({ min: 1, max: 3 }),
      pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
      strides: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }),
      dil: isMax ? fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }) : fc.constant<number[]>([1, 1]),
      ceil: fc.boolean(),
      xd: dt8,
      yd: isMax ? fc.constant<DType>('i8') : dt8,
      cip: fc.constantFrom(0, 0, 1),
    })
    .map((g) => {
      const span = (i: number, a: number, b: number, k: number, s: number, d: number, c: boolean): number => (c ? Math.ceil : Math.floor)((i + a + b - d * (k - 1) - 1) / s) + 1;
      let OH = span(g.H, g.pads[0], g.pads[2], g.KH, g.strides[0], g.dil[0], g.ceil);
      let OW = span(g.W, g.pads[1], g.pads[3], g.KW, g.strides[1], g.dil[1], g.ceil);
      // every window must touch the input: shrink until it does
      const touches = (o: number, i: number, k: number, s: number, d: number, p: number): boolean => {
        for (let t = 0; t < k; t++) {
          const x = o * s + t * d - p;
          if (x >= 0 && x < i) return true;
        }
        return false;
      };
      const okRows = (n: number): boolean => Array.from({ length: n }, (_, o) => touches(o, g.H, g.KH, g.strides[0], g.dil[0], g.pads[0])).every(Boolean);
      const okCols = (n: number): boolean => Array.from({ length: n }, (_, o) => touches(o, g.W, g.KW, g.strides[1], g.dil[1], g.pads[1])).every(Boolean);
      while (OH >= 1 && !okRows(OH)) OH--;
      while (OW >= 1 && !okCols(OW)) OW--;
      return { ...g, OH, OW };
    })
    .filter((g) => g.OH >= 1 && g.OW >= 1)
    .chain((g) =>
      fc.record({ x: tensor(g.xd, [1, g.H, g.W, g.C]), xZero: zero(g.xd), yZero: zero(g.yd), pick, explicit: fc.boolean() }).map((r) => {
        const attrs: Record<string, AttrValue> = { kernel: [g.KH, g.KW] };
        if (r.explicit || g.pads.some((p) => p)) attrs.pads = g.pads;
        if (r.explicit || g.strides.some((p) => p !== 1)) attrs.strides = g.strides;
        if (isMax && (r.explicit || g.dil.some((p) => p !== 1))) attrs.dilations = g.dil;
        if (!isMax) Object.assign(attrs, { xZero: r.xZero, yZero: r.yZero, countIncludePad: g.cip });
        const yd = isMax ? g.xd : g.yd;
        return oneNode(op, [{ dtype: g.xd, shape: [1, g.H, g.W, g.C], layout: 'nhwc' }], { dtype: yd, shape: [1, g.OH, g.OW, g.C], layout: 'nhwc' }, attrs, {}, [r.x], r.pick);
      }),
    );
}

function gap(): fc.Arbitrary<Case> {
  return fc.record({ H: fc.integer({ min: 1, max: 6 }), W: fc.integer({ min: 1, max: 6 }), C: fc.integer({ min: 1, max: 4 }), xd: dt8, yd: dt8 }).chain((g) =>
    fc.record({ x: tensor(g.xd, [1, g.H, g.W, g.C]), xZero: zero(g.xd), yZero: zero(g.yd), pick }).map((r) =>
      oneNode('GlobalAveragePool', [{ dtype: g.xd, shape: [1, g.H, g.W, g.C], layout: 'nhwc' }], { dtype: g.yd, shape: [1, 1, 1, g.C], layout: 'nhwc' }, { xZero: r.xZero, yZero: r.yZero }, {}, [r.x], r.pick),
    ),
  );
}

/** Row lengths of the partial-sum cases: mostly short, with rows of 1 and `long` (the longest the engine runs). */
function sumRows(long: number): fc.Arbitrary<number> {
  return fc.oneof({ arbitrary: fc.integer({ min: 1, max: 64 }), weight: 12 }, { arbitrary: fc.constantFrom(1, long), weight: 1 });
}

/** Generators of the LayerNorm / Softmax partial-sum cases (docs/ops.md §Partial sums): rows of 1 … 4096 (LayerNorm ≤ 1024, its engine bound), ties at the max. */
export const SUM_GENERATORS = {
  Softmax: () => softmax(sumRows(4096), true),
  LayerNorm: () => layerNorm(sumRows(1024)),
};

function softmax(rowLength: fc.Arbitrary<number> = fc.integer({ min: 1, max: 40 }), sums = false): fc.Arbitrary<Case> {
  const expTable = fc.oneof(
    fc.double({ min: 0.005, max: 2, noNaN: true }).map((s) => Int32Array.from({ length: 256 }, (_, d) => Math.max(d === 0 ? 1 : 0, Math.round(Math.exp(-d * s) * 2 ** 20)))),
    fc.array(fc.integer({ min: 0, max: 2147483647 }), { minLength: 256, maxLength: 256 }).map((a) => {
      a[0] = Math.max(1, a[0]);
      return Int32Array.from(a);
    }),
  );
  return fc.record({ lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), L: rowLength, masked: fc.constantFrom(0, 1, 1), ties: fc.boolean() }).chain((g) => {
    const shape = g.L > 64 ? [g.L] : [...g.lead, g.L];
    // ties: values near the top of the range, so the row max occurs several times
    const v = g.ties && sums ? fc.oneof(fc.integer({ min: 124, max: 127 }), fc.constant(-128)) : fc.oneof(val('i8'), fc.constant(-128), fc.constant(-128));
    return fc.record({ x: fc.array(v, { minLength: sizeOf(shape), maxLength: sizeOf(shape) }), exp: expTable, pick, explicit: fc.boolean() }).map((r) => {
      const attrs: Record<string, AttrValue> = {};
      if (g.masked || r.explicit) attrs.masked = g.masked;
      return oneNode('Softmax', [{ dtype: 'i8', shape }], { dtype: 'i8', shape, zp: -128 }, attrs, { exp: { dtype: 'i32', shape: [256], data: r.exp } }, [{ dtype: 'i8', shape, data: Int8Array.from(r.x) }], r.pick);
    });
  });
}

function layerNorm(rowLength: fc.Arbitrary<number> = fc.integer({ min: 1, max: 64 })): fc.Arbitrary<Case> {
  return fc.record({ lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), N: rowLength, xd: dt8, yd: dt8 }).chain((g) => {
    const shape = g.N > 64 ? [g.N] : [...g.lead, g.N];
    return fc
      .record({
        x: tensor(g.xd, shape),
        gamma: param('i32', [g.N], fc.oneof(fc.integer({ min: -32767, max: 32767 }), fc.constantFrom(-32767, 32767, 0, 1, -1))),
        beta: param('i32', [g.N], fc.integer({ min: -(1 << 22), max: 1 << 22 })),
        xZero: zero(g.xd),
        yZero: zero(g.yd),
        eps: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(2 ** 52 - 2 ** 40)),
        shift: shiftFor(4, 20),
        pick,
      })
      .map((r) => oneNode('LayerNorm', [{ dtype: g.xd, shape }], { dtype: g.yd, shape }, { xZero: r.xZero, yZero: r.yZero, eps: r.eps, shift: r.shift }, { gamma: r.gamma, beta: r.beta }, [r.x], r.pick));
  });
}

function gather(): fc.Arbitrary<Case> {
  return fc
    .record({
      ds: fc.integer({ min: 1, max: 3 }).chain((r) => dims(r, 5)),
      is: fc.integer({ min: 0, max: 2 }).chain((r) => dims(r, 4)),
      dd: dtOut,
      mode: fc.constantFrom('inputs', 'dataParam', 'indicesParam'),
      axisSel: fc.integer({ min: 0, max: 100 }),
      neg: fc.boolean(),
      explicit: fc.boolean(),
    })
    .chain((g) => {
      const r = g.ds.length;
      const axis = g.axisSel % r;
      const A = g.ds[axis];
      const os = [...g.ds.slice(0, axis), ...g.is, ...g.ds.slice(axis + 1)];
      return fc
        .record({ d: tensor(g.dd, g.ds), ind: fc.array(fc.integer({ min: -A, max: A - 1 }), { minLength: sizeOf(g.is), maxLength: sizeOf(g.is) }), pick })
        .map((x) => {
          const attrs: Record<string, AttrValue> = {};
          const ax = g.neg ? axis - r : axis;
          if (ax !== 0 || g.explicit) attrs.axis = ax;
          const dSpec: TSpec = { dtype: g.dd, shape: g.ds };
          const iSpec: TSpec = { dtype: 'i32', shape: g.is };
          const iData: TensorData = { dtype: 'i32', shape: g.is, data: Int32Array.from(x.ind) };
          const out: TSpec = { dtype: g.dd, shape: os };
          if (g.mode === 'dataParam') return oneNode('Gather', [iSpec], out, attrs, { data: { dtype: g.dd, shape: g.ds, data: x.d.data } }, [iData], x.pick);
          if (g.mode === 'indicesParam') return oneNode('Gather', [dSpec], out, attrs, { indices: { dtype: 'i32', shape: g.is, data: iData.data } }, [x.d], x.pick);
          return oneNode('Gather', [dSpec, iSpec], out, attrs, {}, [x.d, iData], x.pick);
        });
    });
}

function reshape(): fc.Arbitrary<Case> {
  return fc.record({ shape: fc.integer({ min: 0, max: 4 }).chain((r) => dims(r, 4)), dt: dtOut, seed: fc.integer({ min: 0, max: 1000 }) }).chain((g) => {
    const n = sizeOf(g.shape);
    const target = g.seed % 3 === 0 ? [n] : g.seed % 3 === 1 ? [...g.shape].reverse() : [1, ...g.shape, 1];
    return fc.record({ x: tensor(g.dt, g.shape), pick }).map((r) => oneNode('Reshape', [{ dtype: g.dt, shape: g.shape }], { dtype: g.dt, shape: target }, { shape: target }, {}, [r.x], r.pick));
  });
}

function transpose(): fc.Arbitrary<Case> {
  return fc.record({ shape: fc.integer({ min: 1, max: 4 }).chain((r) => dims(r, 4)), dt: dtOut, def: fc.constantFrom(false, false, true) }).chain((g) => {
    const r = g.shape.length;
    return fc.record({ perm: fc.shuffledSubarray([...Array(r).keys()], { minLength: r, maxLength: r }), x: tensor(g.dt, g.shape), pick }).map((x) => {
      const perm = g.def ? [...Array(r).keys()].reverse() : x.perm;
      return oneNode('Transpose', [{ dtype: g.dt, shape: g.shape }], { dtype: g.dt, shape: perm.map((p) => g.shape[p]) }, g.def ? {} : { perm }, {}, [x.x], x.pick);
    });
  });
}

function concat(): fc.Arbitrary<Case> {
  return fc.record({ base: fc.integer({ min: 1, max: 3 }).chain((r) => dims(r, 4)), k: fc.integer({ min: 1, max: 3 }), axisSel: fc.integer({ min: 0, max: 100 }), neg: fc.boolean(), dt: dtOut }).chain((g) => {
    const r = g.base.length;
    const axis = g.axisSel % r;
    return fc.array(fc.integer({ min: 1, max: 4 }), { minLength: g.k, maxLength: g.k }).chain((ds) => {
      const shapes = ds.map((d) => g.base.map((x, a) => (a === axis ? d : x)));
      const os = g.base.map((x, a) => (a === axis ? ds.reduce((s, d) => s + d, 0) : x));
      return fc.record({ xs: fc.tuple(...shapes.map((s) => tensor(g.dt, s))), pick }).map((x) =>
        oneNode('Concat', shapes.map((s) => ({ dtype: g.dt, shape: s })), { dtype: g.dt, shape: os }, { axis: g.neg ? axis - r : axis }, {}, x.xs, x.pick),
      );
    });
  });
}

function slice(): fc.Arbitrary<Case> {
  return fc.record({ shape: fc.integer({ min: 1, max: 3 }).chain((r) => dims(r, 6)), dt: dtOut, explicit: fc.boolean() }).chain((g) => {
    const r = g.shape.length;
    return fc
      .record({
        axes: fc.shuffledSubarray([...Array(r).keys()], { minLength: 1, maxLength: r }),
        specs: fc.array(fc.record({ step: fc.constantFrom(1, 1, 2, 3, -1, -2), u: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), v: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }), { minLength: r, maxLength: r }),
        x: tensor(g.dt, g.shape),
        pick,
      })
      .map((x) => {
        const starts: number[] = [];
        const ends: number[] = [];
        const steps: number[] = [];
        const os = g.shape.slice();
        x.axes.forEach((a, i) => {
          const D = g.shape[a];
          const { step, u, v } = x.specs[i];
          let s: number;
          let e: number;
          if (step > 0) {
            s = Math.floor(u * D); // 0..D-1
            e = s + 1 + Math.floor(v * (D - s)); // s+1..D
          } else {
            s = Math.floor(u * D); // 0..D-1
            e = -1 + Math.floor(v * (s + 1)); // -1..s-1
          }
          starts.push(s);
          ends.push(e);
          steps.push(step);
          os[a] = Math.max(0, Math.ceil((e - s) / step));
        });
        const canonicalAxes = x.axes.every((a, i) => a === i);
        const attrs: Record<string, AttrValue> = { starts, ends };
        if (!canonicalAxes || g.explicit) attrs.axes = x.axes;
        if (steps.some((s) => s !== 1) || g.explicit) attrs.steps = steps;
        return oneNode('Slice', [{ dtype: g.dt, shape: g.shape }], { dtype: g.dt, shape: os }, attrs, {}, [x.x], x.pick);
      });
  });
}

function requantize(): fc.Arbitrary<Case> {
  return fc.record({ shape: fc.integer({ min: 0, max: 3 }).chain((r) => dims(r, 4)), xd: dtOut, yd: dtOut }).chain((g) =>
    fc.record({ x: tensor(g.xd, g.shape, true), xZero: zero(g.xd), yZero: zero(g.yd), mult, shift: shiftFor(1, 20), lh: loHi(g.yd), pick }).map((r) =>
      oneNode('Requantize', [{ dtype: g.xd, shape: g.shape }], { dtype: g.yd, shape: g.shape }, { xZero: r.xZero, yZero: r.yZero, mult: r.mult, shift: r.shift, ...r.lh }, {}, [r.x], r.pick),
    ),
  );
}

function onnxMatMul(op: 'MatMulInteger' | 'QLinearMatMul'): fc.Arbitrary<Case> {
  const q = op === 'QLinearMatMul';
  return fc.record({ s: mmShapes(false), ad: dt8, bd: dt8, yd: q ? dt8 : fc.constant<DType>('i32'), bParam: fc.boolean(), aZ: fc.constantFrom(0, 1, 2), bZ: fc.constantFrom(0, 1, 2), perCol: fc.boolean() }).chain((g) => {
    const M = g.s.a.length === 1 ? 1 : g.s.a[g.s.a.length - 2];
    const N = g.s.b.length === 1 ? 1 : g.s.b[g.s.b.length - 1];
    const opt = (k: number, dt: DType, n: number): fc.Arbitrary<Param | null> => (k === 0 ? fc.constant(null) : param(dt, [k === 1 ? 1 : n]));
    return fc
      .record({
        a: tensor(g.ad, g.s.a),
        b: tensor(g.bd, g.s.b),
        aZero: opt(g.aZ, g.ad, M),
        bZero: opt(g.bZ, g.bd, N),
        yZero: q ? opt(1, g.yd, 1) : fc.constant(null),
        mult: param('i32', [g.perCol ? N : 1], mult),
        shift: param('i32', [g.perCol ? N : 1], shiftFor(6, 22)),
        pick,
      })
      .map((r) => {
        const params: Record<string, Param> = {};
        if (r.aZero) params.aZero = r.aZero;
        if (r.bZero) params.bZero = r.bZero;
        if (q) {
          if (r.yZero) params.yZero = r.yZero;
          params.mult = r.mult;
          params.shift = r.shift;
        }
        const ins: TSpec[] = [{ dtype: g.ad, shape: g.s.a }];
        const inputs = [r.a];
        if (g.bParam) params.b = { dtype: g.bd, shape: g.s.b, data: r.b.data };
        else {
          ins.push({ dtype: g.bd, shape: g.s.b });
          inputs.push(r.b);
        }
        return oneNode(op, ins, { dtype: g.yd, shape: g.s.out }, {}, params, inputs, r.pick);
      });
  });
}

function onnxConv(op: 'ConvInteger' | 'QLinearConv'): fc.Arbitrary<Case> {
  const q = op === 'QLinearConv';
  return fc
    .record({
      N: fc.integer({ min: 1, max: 2 }),
      H: fc.integer({ min: 1, max: 5 }),
      W: fc.integer({ min: 1, max: 5 }),
      group: fc.constantFrom(1, 1, 2),
      Cg: fc.integer({ min: 1, max: 2 }),
      Mg: fc.integer({ min: 1, max: 2 }),
      KH: fc.integer({ min: 1, max: 3 }),
      KW: fc.integer({ min: 1, max: 3 }),
      pads: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }),
      strides: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }),
      dil: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 2, maxLength: 2 }),
      xd: dt8,
      wd: dt8,
      yd: q ? dt8 : fc.constant<DType>('i32'),
      wParam: fc.boolean(),
      xZ: fc.boolean(),
      wZ: fc.constantFrom(0, 1, 2),
      perCh: fc.boolean(),
      bias: fc.boolean(),
    })
    .filter((g) => convOut(g.H, g.pads[0], g.pads[2], g.KH, g.strides[0], g.dil[0]) >= 1 && convOut(g.W, g.pads[1], g.pads[3], g.KW, g.strides[1], g.dil[1]) >= 1)
    .chain((g) => {
      const C = g.Cg * g.group;
      const M = g.Mg * g.group;
      const OH = convOut(g.H, g.pads[0], g.pads[2], g.KH, g.strides[0], g.dil[0]);
      const OW = convOut(g.W, g.pads[1], g.pads[3], g.KW, g.strides[1], g.dil[1]);
      const ws = [M, g.Cg, g.KH, g.KW];
      return fc
        .record({
          x: tensor(g.xd, [g.N, C, g.H, g.W]),
          w: tensor(g.wd, ws),
          xZero: param(g.xd, [1]),
          wZero: param(g.wd, [g.wZ === 2 ? M : 1]),
          yZero: param(g.yd, [1]),
          bias: param('i32', [M], fc.integer({ min: -(1 << 18), max: 1 << 18 })),
          mult: param('i32', [g.perCh ? M : 1], mult),
          shift: param('i32', [g.perCh ? M : 1], shiftFor(6, 22)),
          pick,
        })
        .map((r) => {
          const params: Record<string, Param> = {};
          if (g.xZ) params.xZero = r.xZero;
          if (g.wZ) params.wZero = r.wZero;
          if (q) {
            params.yZero = r.yZero;
            if (g.bias) params.bias = r.bias;
            params.mult = r.mult;
            params.shift = r.shift;
          }
          const ins: TSpec[] = [{ dtype: g.xd, shape: [g.N, C, g.H, g.W] }];
          const inputs = [r.x];
          if (g.wParam) params.w = { dtype: g.wd, shape: ws, data: r.w.data };
          else {
            ins.push({ dtype: g.wd, shape: ws });
            inputs.push(r.w);
          }
          const attrs: Record<string, AttrValue> = { pads: g.pads, strides: g.strides, dilations: g.dil };
          if (g.group !== 1) attrs.group = g.group;
          return oneNode(op, ins, { dtype: g.yd, shape: [g.N, M, OH, OW] }, attrs, params, inputs, r.pick);
        });
    });
}

export const GENERATORS: Record<OpType, () => fc.Arbitrary<Case>> = {
  Linear: linear,
  Conv: conv,
  MatMul: matmul,
  Add: () => binary('Add'),
  Mul: () => binary('Mul'),
  Lut: lut,
  MaxPool: () => pool('MaxPool'),
  AveragePool: () => pool('AveragePool'),
  GlobalAveragePool: gap,
  Softmax: softmax,
  LayerNorm: layerNorm,
  Gather: gather,
  Reshape: reshape,
  Transpose: transpose,
  Concat: concat,
  Slice: slice,
  Requantize: requantize,
  MatMulInteger: () => onnxMatMul('MatMulInteger'),
  ConvInteger: () => onnxConv('ConvInteger'),
  QLinearMatMul: () => onnxMatMul('QLinearMatMul'),
  QLinearConv: () => onnxConv('QLinearConv'),
};
