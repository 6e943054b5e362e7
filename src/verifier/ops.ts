/**
 * One output element of one op, computed exactly as the Solidity verifier does
 * (contracts/verifier/families/*.sol), on BigInt (= int256), from a node header and an element
 * reader. The same code serves three purposes:
 *  - `dependencies`: run with a recording reader over the real tensors → which elements are read;
 *  - `computeElementTs`: run with a reader over the proven words of a witness (throws if an element
 *    is not proven, like the contract's VerifierElementNotProven);
 *  - debugging the contract: it follows the contract's code path line by line.
 * Semantics: docs/ops.md.
 */
import type { AttrValue, DType, OpType } from '../engine/ir.js';
import type { WindowGeo } from '../engine/ops/pool.js';
import type { NodeHeader } from '../commit/index.js';
import { BaseError } from '../errors.js';

export class VerifierOpError extends BaseError {
  override name = 'VerifierOpError';
}

export type OperandKind = 'input' | 'param';

/** Reads element `e` of input `which` or param `which` (header order). */
export type ElementReader = (kind: OperandKind, which: number, e: number) => bigint;

const DMIN: Record<DType, bigint> = { i8: -128n, u8: 0n, i32: -2147483648n };
const DMAX: Record<DType, bigint> = { i8: 127n, u8: 255n, i32: 2147483647n };

function fail(what: string): never {
  throw new VerifierOpError(what);
}

export const clampB = (v: bigint, lo: bigint, hi: bigint): bigint => (v < lo ? lo : v > hi ? hi : v);
export function rshrB(v: bigint, s: bigint): bigint {
  if (s < 1n || s > 128n) fail(`invalid shift ${s}`);
  return (v + (1n << (s - 1n))) >> s; // BigInt >> is a floor, like int256 sar
}
export const requantB = (acc: bigint, m: bigint, s: bigint): bigint => rshrB(acc * m, s);
export function floorDivB(a: bigint, b: bigint): bigint {
  let q = a / b; // truncates, like Solidity
  if (a % b !== 0n && a < 0n) q -= 1n;
  return q;
}
export const roundDivB = (a: bigint, b: bigint): bigint => floorDivB(2n * a + b, 2n * b);
export function isqrtB(v: bigint): bigint {
  if (v <= 0n) return 0n;
  let x = BigInt(Math.floor(Math.sqrt(Number(v))));
  while (x * x > v) x -= 1n;
  while ((x + 1n) * (x + 1n) <= v) x += 1n;
  return x;
}

/** Header helpers mirroring OpLib. */
class H {
  constructor(readonly h: NodeHeader, readonly read: ElementReader) {}
  has(k: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.h.attrs, k);
  }
  attr(k: string, def?: number): bigint {
    if (!this.has(k)) {
      if (def === undefined) fail(`missing attr ${k}`);
      return BigInt(def);
    }
    const v: AttrValue = this.h.attrs[k];
    if (Array.isArray(v)) fail(`attr ${k} must be a scalar`);
    return BigInt(v);
  }
  /** Entry i of array attr k (exactly len entries) or def. */
  at(k: string, len: number, i: number, def: number): bigint {
    if (!this.has(k)) return BigInt(def);
    const v = this.h.attrs[k];
    if (!Array.isArray(v) || v.length !== len) fail(`attr ${k} must be an array of ${len}`);
    return BigInt(v[i]);
  }
  uat(k: string, len: number, i: number, def: number, min: number): number {
    const v = this.at(k, len, i, def);
    if (v < BigInt(min)) fail(`attr ${k} out of range`);
    return Number(v);
  }
  uattr(k: string, def: number, min: number): number {
    const v = this.attr(k, def);
    if (v < BigInt(min)) fail(`attr ${k} out of range`);
    return Number(v);
  }
  outRange(): [bigint, bigint] {
    const dt = this.h.outputMeta.dtype;
    return [this.has('lo') ? this.attr('lo') : DMIN[dt], this.has('hi') ? this.attr('hi') : DMAX[dt]];
  }
  outAttrs(v: bigint): bigint {
    const [lo, hi] = this.outRange();
    return clampB(this.attr('yZero') + v, lo, hi);
  }
  requantAttrs(acc: bigint): bigint {
    return this.outAttrs(requantB(acc, this.attr('mult'), this.attr('shift')));
  }
  param(name: string): number {
    return this.h.params.findIndex((p) => p.name === name);
  }
  paramReq(name: string): number {
    const j = this.param(name);
    if (j < 0) fail(`missing param ${name}`);
    return j;
  }
  paramSize(j: number): number {
    return numel(this.h.params[j].shape);
  }
  inp(i: number, e: number): bigint {
    return this.read('input', i, e);
  }
  par(j: number, e: number): bigint {
    return this.read('param', j, e);
  }
  perChannel(name: string, ch: number, def: bigint): bigint {
    const j = this.param(name);
    if (j < 0) return def;
    return this.par(j, this.paramSize(j) === 1 ? 0 : ch);
  }
  get xs(): number[] {
    return this.h.inputMeta[0].shape;
  }
  get os(): number[] {
    return this.h.outputMeta.shape;
  }
}

export function numel(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

/** OpLib.bcastIndex. */
export function bcastIndex(outShape: readonly number[], inShape: readonly number[], o: number): number {
  const ro = outShape.length;
  const ri = inShape.length;
  let stride = 1;
  let r = 0;
  for (let a = ro; a > 0; a--) {
    const d = outShape[a - 1];
    const idx = o % d;
    o = Math.floor(o / d);
    if (a + ri > ro) {
      const di = inShape[a - 1 + ri - ro];
      if (di !== 1) r += idx * stride;
      stride *= di;
    }
  }
  return r;
}

// ------------------------------------------------------------------------------------------ dense

function linear(x: H, o: number): bigint {
  const jw = x.paramReq('weight');
  const [N, K] = x.h.params[jw].shape;
  const j = o % N;
  const xo = Math.floor(o / N) * K;
  const xZero = x.attr('xZero');
  const jb = x.param('bias');
  let acc = jb >= 0 ? x.par(jb, j) : 0n;
  for (let k = 0; k < K; k++) acc += (x.inp(0, xo + k) - xZero) * x.par(jw, j * K + k);
  return requantOut(x, acc, j);
}

function requantOut(x: H, acc: bigint, ch: number): bigint {
  const m = x.par(x.paramReq('mult'), ch);
  const s = x.par(x.paramReq('shift'), ch);
  const [lo, hi] = x.outRange();
  return clampB(x.attr('yZero') + requantB(acc, m, s), lo, hi);
}

function geo(x: H): WindowGeo {
  return {
    pt: x.uat('pads', 4, 0, 0, 0),
    pl: x.uat('pads', 4, 1, 0, 0),
    sh: x.uat('strides', 2, 0, 1, 1),
    sw: x.uat('strides', 2, 1, 1, 1),
    dh: x.uat('dilations', 2, 0, 1, 1),
    dw: x.uat('dilations', 2, 1, 1, 1),
  };
}

/** Conv's element is its accumulator run over all terms (convReduction: the same taps, reads and sum). */
function conv(x: H, o: number): bigint {
  const r = convReduction(x, o);
  return r.finish(r.init(0n) + r.partial(0, r.terms, 0n));
}

interface Dot {
  K: number;
  i: number;
  j: number;
  aOff: number;
  bOff: number;
  bStep: number;
  bParam: number; // −1: input 1
  aZero: bigint;
  bZero: bigint;
}

function plan(x: H, bs: number[], transB: boolean, o: number): Dot {
  const as = x.xs;
  const ra = as.length;
  const rb = bs.length;
  const M = ra === 1 ? 1 : as[ra - 2];
  const K = as[ra - 1];
  const N = rb === 1 ? 1 : transB ? bs[rb - 2] : bs[rb - 1];
  let rest = o;
  let i = 0;
  let j = 0;
  if (rb !== 1) {
    j = rest % N;
    rest = Math.floor(rest / N);
  }
  if (ra !== 1) {
    i = rest % M;
    rest = Math.floor(rest / M);
  }
  const ro = x.os.length - (ra === 1 ? 0 : 1) - (rb === 1 ? 0 : 1);
  const outBatch = x.os.slice(0, ro);
  const ta = ra < 2 ? 0 : bcastIndex(outBatch, as.slice(0, ra - 2), rest);
  const tb = rb < 2 ? 0 : bcastIndex(outBatch, bs.slice(0, rb - 2), rest);
  const d: Dot = { K, i, j, aOff: (ta * M + i) * K, bOff: 0, bStep: 1, bParam: -1, aZero: 0n, bZero: 0n };
  if (transB) d.bOff = (tb * N + j) * K;
  else {
    d.bOff = tb * K * N + j;
    d.bStep = N;
  }
  return d;
}

function mmAcc(x: H, d: Dot): bigint {
  let acc = 0n;
  for (let k = 0; k < d.K; k++) {
    const e = d.bOff + k * d.bStep;
    const b = d.bParam >= 0 ? x.par(d.bParam, e) : x.inp(1, e);
    acc += (x.inp(0, d.aOff + k) - d.aZero) * (b - d.bZero);
  }
  return acc;
}

function matmul(x: H, o: number): bigint {
  const transB = x.attr('transB', 0) === 1n;
  const d = plan(x, x.h.inputMeta[1].shape, transB, o);
  d.aZero = x.attr('aZero');
  d.bZero = x.attr('bZero');
  return x.requantAttrs(mmAcc(x, d));
}

function qOut(x: H, acc: bigint, ch: number): bigint {
  const v = requantB(acc, x.perChannel('mult', ch, 0n), x.perChannel('shift', ch, 0n));
  const dt = x.h.outputMeta.dtype;
  return clampB(x.perChannel('yZero', 0, 0n) + v, DMIN[dt], DMAX[dt]);
}

function onnxMatMul(x: H, o: number, q: boolean): bigint {
  const jb = x.param('b');
  const d = plan(x, jb >= 0 ? x.h.params[jb].shape : x.h.inputMeta[1].shape, false, o);
  d.bParam = jb;
  d.aZero = x.perChannel('aZero', d.i, 0n);
  d.bZero = x.perChannel('bZero', d.j, 0n);
  const acc = mmAcc(x, d);
  return q ? qOut(x, acc, d.j) : acc;
}

function convNchw(x: H, o: number, q: boolean): bigint {
  // One definition of the Conv element: its partial-sum form (convNchwReduction) summed over every tap.
  const r = convNchwReduction(x, o, q);
  return r.finish(r.init(0n) + r.partial(0, r.terms, 0n));
}

// ------------------------------------------------------------------------------------ elementwise

function binary(x: H, o: number, add: boolean): bigint {
  const a = x.inp(0, bcastIndex(x.os, x.xs, o)) - x.attr('aZero');
  const jb = x.param('b');
  const b = (jb >= 0 ? x.par(jb, bcastIndex(x.os, x.h.params[jb].shape, o)) : x.inp(1, bcastIndex(x.os, x.h.inputMeta[1].shape, o))) - x.attr('bZero');
  if (!add) return x.requantAttrs(a * b);
  return x.outAttrs(rshrB(a * x.attr('aMult') + b * x.attr('bMult'), x.attr('shift')));
}

function lut(x: H, o: number): bigint {
  const v = x.inp(0, o);
  if (v < -128n || v > 127n) fail('Lut input out of range');
  return x.par(x.paramReq('table'), Number(v + 128n));
}

function gather(x: H, o: number): bigint {
  const jd = x.param('data');
  const ji = x.param('indices');
  const ds = jd >= 0 ? x.h.params[jd].shape : x.xs;
  const nI = ji >= 0 ? x.paramSize(ji) : numel(x.h.inputMeta[jd >= 0 ? 0 : 1].shape);
  const r = ds.length;
  const ax = Number(x.attr('axis', 0));
  if (ax < -r || ax >= r) fail('axis out of range');
  const axis = ax < 0 ? ax + r : ax;
  let inner = 1;
  for (let a = axis + 1; a < r; a++) inner *= ds[a];
  const A = ds[axis];
  const t = Math.floor(o / inner) % nI;
  const v = ji >= 0 ? x.par(ji, t) : x.inp(jd >= 0 ? 0 : 1, t);
  if (v < -BigInt(A) || v >= BigInt(A)) fail(`Gather index ${v} out of range`);
  const src = (Math.floor(o / (inner * nI)) * A + Number(v < 0n ? v + BigInt(A) : v)) * inner + (o % inner);
  return jd >= 0 ? x.par(jd, src) : x.inp(0, src);
}

function transposeIndex(x: H, o: number): number {
  const xs = x.xs;
  const r = xs.length;
  const ist = new Array<number>(r);
  let acc = 1;
  for (let a = r; a > 0; a--) {
    ist[a - 1] = acc;
    acc *= xs[a - 1];
  }
  const st = new Array<number>(r);
  for (let a = 0; a < r; a++) {
    const p = x.uat('perm', r, a, r - 1 - a, 0);
    if (p >= r) fail('perm out of range');
    st[a] = ist[p];
  }
  let src = 0;
  for (let a = x.os.length; a > 0; a--) {
    src += (o % x.os[a - 1]) * st[a - 1];
    o = Math.floor(o / x.os[a - 1]);
  }
  return src;
}

function concat(x: H, o: number): bigint {
  const os = x.os;
  const r = os.length;
  const ax = Number(x.attr('axis'));
  if (ax < -r || ax >= r) fail('axis out of range');
  const axis = ax < 0 ? ax + r : ax;
  let inner = 1;
  for (let a = axis + 1; a < r; a++) inner *= os[a];
  const outer = Math.floor(o / (inner * os[axis]));
  let pos = Math.floor(o / inner) % os[axis];
  for (let j = 0; j < x.h.inputMeta.length; j++) {
    const dj = x.h.inputMeta[j].shape[axis];
    if (pos < dj) return x.inp(j, (outer * dj + pos) * inner + (o % inner));
    pos -= dj;
  }
  fail('Concat position past the inputs');
}

function sliceIndex(x: H, o: number): number {
  const xs = x.xs;
  const os = x.os;
  const r = xs.length;
  const st = new Array<number>(r).fill(0);
  const sp = new Array<number>(r).fill(1);
  const starts = x.h.attrs.starts;
  const n = Array.isArray(starts) ? starts.length : fail('starts must be an array');
  for (let i = 0; i < n; i++) {
    const a = x.uat('axes', n, i, i, 0);
    if (a >= r) fail('axes out of range');
    st[a] = Number(x.at('starts', n, i, 0));
    sp[a] = Number(x.at('steps', n, i, 1));
  }
  let src = 0;
  let stride = 1;
  for (let a = r; a > 0; a--) {
    const ia = st[a - 1] + (o % os[a - 1]) * sp[a - 1];
    o = Math.floor(o / os[a - 1]);
    if (ia < 0 || ia >= xs[a - 1]) fail('slice index out of range');
    src += ia * stride;
    stride *= xs[a - 1];
  }
  return src;
}

// ----------------------------------------------------------------------------------------- reduce

function pool(x: H, o: number, isMax: boolean): bigint {
  const [, H_, W, C] = x.xs;
  const OW = x.os[2];
  const c = o % C;
  const ow = Math.floor(o / C) % OW;
  const oh = Math.floor(o / (C * OW));
  const KH = x.uat('kernel', 2, 0, -1, 1);
  const KW = x.uat('kernel', 2, 1, -1, 1);
  const sh = x.uat('strides', 2, 0, 1, 1);
  const sw = x.uat('strides', 2, 1, 1, 1);
  const pt = x.uat('pads', 4, 0, 0, 0);
  const pl = x.uat('pads', 4, 1, 0, 0);
  const dh = isMax ? x.uat('dilations', 2, 0, 1, 1) : 1;
  const dw = isMax ? x.uat('dilations', 2, 1, 1, 1) : 1;
  const xZero = isMax ? 0n : x.attr('xZero');
  const dt = x.h.inputMeta[0].dtype;
  let best = DMIN[dt];
  let sum = 0n;
  let valid = 0;
  for (let kh = 0; kh < KH; kh++) {
    const ihp = oh * sh + kh * dh;
    if (ihp < pt || ihp - pt >= H_) continue;
    for (let kw = 0; kw < KW; kw++) {
      const iwp = ow * sw + kw * dw;
      if (iwp < pl || iwp - pl >= W) continue;
      const v = x.inp(0, ((ihp - pt) * W + iwp - pl) * C + c);
      if (v > best) best = v;
      sum += v - xZero;
      valid++;
    }
  }
  if (isMax) return best;
  const count = x.attr('countIncludePad', 0) === 1n ? KH * KW : valid;
  if (count === 0) fail('empty pooling window');
  const yt = x.h.outputMeta.dtype;
  return clampB(x.attr('yZero') + roundDivB(sum, BigInt(count)), DMIN[yt], DMAX[yt]);
}

function globalAvg(x: H, c: number): bigint {
  const [, H_, W, C] = x.xs;
  const HW = H_ * W;
  let sum = 0n;
  for (let p = 0; p < HW; p++) sum += x.inp(0, p * C + c);
  sum -= BigInt(HW) * x.attr('xZero');
  const yt = x.h.outputMeta.dtype;
  return clampB(x.attr('yZero') + roundDivB(sum, BigInt(HW)), DMIN[yt], DMAX[yt]);
}

function row(x: H, o: number): { v: bigint[]; i: number } {
  const L = x.xs[x.xs.length - 1];
  const base = o - (o % L);
  const v: bigint[] = [];
  for (let k = 0; k < L; k++) v.push(x.inp(0, base + k));
  return { v, i: o % L };
}

function softmax(x: H, o: number): bigint {
  const { v, i } = row(x, o);
  const je = x.paramReq('exp');
  let mx = -128n;
  for (const a of v) if (a > mx) mx = a;
  const mask = x.attr('masked', 0) === 1n && mx !== -128n;
  let S = 0n;
  let ei = 0n;
  v.forEach((a, k) => {
    const e = mask && a === -128n ? 0n : x.par(je, Number(mx - a));
    S += e;
    if (k === i) ei = e;
  });
  if (S <= 0n) fail('softmax sum ≤ 0');
  return clampB(-128n + roundDivB(ei * 256n, S), -128n, 127n);
}

function layerNorm(x: H, o: number): bigint {
  const { v, i } = row(x, o);
  const xZero = x.attr('xZero');
  const [T, Q] = moments(v, xZero);
  return lnFinish(x, i, BigInt(v.length), T, Q, v[i] - xZero);
}

/** Σ (x − xZero) and Σ (x − xZero)² of a run of a row (ReduceOps._moments). */
function moments(v: readonly bigint[], xZero: bigint): [bigint, bigint] {
  let T = 0n;
  let Q = 0n;
  for (const a of v) {
    T += a - xZero;
    Q += (a - xZero) * (a - xZero);
  }
  return [T, Q];
}

/** ReduceOps._lnFinish: floor(Σ c² / N) = N·Q − T² exactly, so R = max(isqrt(N·Q − T² + eps), 1). */
function lnFinish(x: H, i: number, N: bigint, T: bigint, Q: bigint, d: bigint): bigint {
  let R = isqrtB(N * Q - T * T + x.attr('eps'));
  if (R < 1n) R = 1n;
  const ci = N * d - T;
  const t = roundDivB(x.par(x.paramReq('gamma'), i) * ci, R);
  const y = x.attr('yZero') + rshrB(t + x.par(x.paramReq('beta'), i), x.attr('shift'));
  const yt = x.h.outputMeta.dtype;
  return clampB(y, DMIN[yt], DMAX[yt]);
}

/** Output element `o` of the node `h`, reading operands through `read` (docs/ops.md semantics). */
export function computeOp(h: NodeHeader, read: ElementReader, o: number): bigint {
  const x = new H(h, read);
  return OPS[h.op].element(x, o);
}

// ------------------------------------------------------------------------------------ partial sums

/**
 * The accumulator of one output element of a reduction (docs/ops.md §Partial sums), as
 * contracts/verifier/families/DenseOps.sol exposes it (IReductionFamily): A(0) = init(),
 * A(t + 1) = A(t) + term t, the element = finish(A(terms)). `init` and `finish` read params only;
 * `partial(from, to)` = A(to) − A(from) reads the input and param elements of those terms.
 */
export interface Reduction {
  terms: number;
  /** A(0) for a claimed A(T) (Softmax: pack(0, 0, 0, the row max `total` states); the others ignore it). */
  init(total: bigint): bigint;
  /** Σ of terms [from, to); `left` = the claimant's A(from) (Softmax reads its stated row max from it). */
  partial(from: number, to: number, left: bigint): bigint;
  finish(acc: bigint): bigint;
  /** The fixed fields of the true total, read from the inputs (Softmax: pack(0, 0, 0, true row max)); default 0. */
  anchor?(): bigint;
  /**
   * For a packed accumulator (finish not monotone in acc): a total near `total` (the true one) that finishes to `y`,
   * or undefined (defendedAccumulator's test liar).
   */
  defend?(y: bigint, total: bigint): bigint | undefined;
}

// Packed row accumulators (LayerNorm, Softmax; ReduceOps): acc = f0 + f1·2^64 + f2·2^128 + f3·2^192, signed fields.
const F1 = 1n << 64n;
const F2 = 1n << 128n;
const F3 = 1n << 192n;

/** ReduceOps._unpack: the four signed 64-bit fields (the top one takes the rest; int256 wrapping as unchecked). */
export function unpackAcc(a: bigint): [bigint, bigint, bigint, bigint] {
  const f0 = BigInt.asIntN(64, a);
  a = BigInt.asIntN(256, a - f0) >> 64n;
  const f1 = BigInt.asIntN(64, a);
  a = BigInt.asIntN(256, a - f1) >> 64n;
  const f2 = BigInt.asIntN(64, a);
  return [f0, f1, f2, BigInt.asIntN(256, a - f2) >> 64n];
}

/** Packs fields as the terms add them (a sum of packs is the pack of the sums). */
export const packAcc = (f0: bigint, f1: bigint, f2: bigint, f3 = 0n): bigint => f0 + f1 * F1 + f2 * F2 + f3 * F3;

/** The smallest v in [lo, hi] with f(v) ≥ y (f non-decreasing), if f(v) = y there. */
export function searchUp(f: (v: bigint) => bigint, y: bigint, lo: bigint, hi: bigint): bigint | undefined {
  while (lo < hi) {
    const mid = (lo + hi) >> 1n;
    if (f(mid) >= y) hi = mid;
    else lo = mid + 1n;
  }
  return f(lo) === y ? lo : undefined;
}

/** The v in [lo, hi] (the field a test liar moves) with f(v) = y, f monotone in v either way. */
function searchField(f: (v: bigint) => bigint, y: bigint, lo: bigint, hi: bigint): bigint | undefined {
  if (f(lo) <= f(hi)) return searchUp(f, y, lo, hi);
  const r = searchUp((v) => -f(hi + lo - v), -y, lo, hi);
  return r === undefined ? undefined : hi + lo - r;
}

function layerNormReduction(x: H, o: number): Reduction {
  const N = x.xs[x.xs.length - 1];
  const i = o % N;
  const base = o - i;
  const finish = (acc: bigint): bigint => {
    const [T, Q, d] = unpackAcc(acc);
    return lnFinish(x, i, BigInt(N), T, Q, d);
  };
  return {
    terms: N,
    init: () => 0n,
    partial: (from, to) => {
      checkRange(from, to, N);
      const v: bigint[] = [];
      for (let t = from; t < to; t++) v.push(x.inp(0, base + t));
      const xZero = x.attr('xZero');
      const [T, Q] = moments(v, xZero);
      return packAcc(T, Q, i >= from && i < to ? v[i - from] - xZero : 0n);
    },
    finish,
    defend: (y, total) => {
      const [T, Q, d] = unpackAcc(total);
      for (let e = 0n; e <= 510n; e++) for (const dd of [d - e, d + e]) if (finish(packAcc(T, Q, dd)) === y) return packAcc(T, Q, dd);
      const q = searchField((v) => finish(packAcc(T, v, d)), y, 0n, 1n << 60n);
      return q === undefined ? undefined : packAcc(T, q, d);
    },
  };
}

function softmaxReduction(x: H, o: number): Reduction {
  const L = x.xs[x.xs.length - 1];
  const i = o % L;
  const base = o - i;
  const je = x.paramReq('exp');
  const masked = x.attr('masked', 0) === 1n;
  const finish = (acc: bigint): bigint => {
    const [S, counts, own, mx] = unpackAcc(acc);
    const atMax = counts & 0xffffffffn;
    const above = counts >> 32n;
    if (atMax === 0n || above !== 0n || mx > 127n || own < -128n || own > mx) fail(`VerifierSoftmaxMax(${mx}, ${atMax}, ${above}, ${own})`);
    const e = masked && own === -128n && mx !== -128n ? 0n : x.par(je, Number(mx - own));
    if (S <= 0n) fail('softmax sum ≤ 0');
    return clampB(-128n + roundDivB(e * 256n, S), -128n, 127n);
  };
  return {
    terms: L,
    init: (total) => unpackAcc(total)[3] * F3,
    anchor: () => {
      let mx = -128n;
      for (let k = 0; k < L; k++) {
        const v = x.inp(0, base + k);
        if (v > mx) mx = v;
      }
      return mx * F3;
    },
    partial: (from, to, left) => {
      checkRange(from, to, L);
      const v: bigint[] = [];
      for (let t = from; t < to; t++) v.push(x.inp(0, base + t));
      const mx = unpackAcc(left)[3];
      const mask = masked && mx !== -128n;
      let S = 0n;
      let counts = 0n;
      for (const a of v) {
        if (a > mx) {
          counts += 1n << 32n;
          continue;
        }
        if (a === mx) counts += 1n;
        if (!(mask && a === -128n)) S += x.par(je, Number(mx - a));
      }
      return packAcc(S, counts, i >= from && i < to ? v[i - from] : 0n);
    },
    finish,
    defend: (y, total) => {
      const [S, counts, own, mx] = unpackAcc(total);
      const s = searchField((v) => finish(packAcc(v, counts, own, mx)), y, 1n, 1n << 60n);
      if (s !== undefined) return packAcc(s, counts, own, mx);
      for (let a = -128n; a <= mx; a++) if (finish(packAcc(S, counts, a, mx)) === y) return packAcc(S, counts, a, mx);
      return undefined;
    },
  };
}

function checkRange(from: number, to: number, terms: number): void {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= terms)) fail(`VerifierSumRange(${from}, ${to}, ${terms})`);
}

function linearReduction(x: H, o: number): Reduction {
  const jw = x.paramReq('weight');
  const [N, K] = x.h.params[jw].shape;
  const j = o % N;
  const xo = Math.floor(o / N) * K;
  return {
    terms: K,
    init: () => {
      const jb = x.param('bias');
      return jb >= 0 ? x.par(jb, j) : 0n;
    },
    partial: (from, to) => {
      checkRange(from, to, K);
      const xZero = x.attr('xZero');
      let acc = 0n;
      for (let k = from; k < to; k++) acc += (x.inp(0, xo + k) - xZero) * x.par(jw, j * K + k);
      return acc;
    },
    finish: (acc) => requantOut(x, acc, j),
  };
}

function convReduction(x: H, o: number): Reduction {
  const jw = x.paramReq('weight');
  const [, H_, W, C] = x.xs;
  const [CO, KH, KW, Cg] = x.h.params[jw].shape;
  const co = o % CO;
  const OW = x.os[2];
  const ow = Math.floor(o / CO) % OW;
  const oh = Math.floor(o / (CO * OW));
  const c0 = Math.floor(co / Math.floor(CO / x.uattr('group', 1, 1))) * Cg;
  const terms = KH * KW * Cg;
  return {
    terms,
    init: () => {
      const jb = x.param('bias');
      return jb >= 0 ? x.par(jb, co) : 0n;
    },
    partial: (from, to) => {
      checkRange(from, to, terms);
      const xZero = x.attr('xZero');
      const g = geo(x);
      const wBase = co * KH * KW * Cg;
      let acc = 0n;
      // term t = (kh·KW + kw)·Cg + c; a padding tap's terms are 0 (and read nothing)
      for (let t = from; t < to; t++) {
        const tap = Math.floor(t / Cg);
        const c = t % Cg;
        const ihp = oh * g.sh + Math.floor(tap / KW) * g.dh;
        if (ihp < g.pt || ihp - g.pt >= H_) continue;
        const iwp = ow * g.sw + (tap % KW) * g.dw;
        if (iwp < g.pl || iwp - g.pl >= W) continue;
        const xi = ((ihp - g.pt) * W + (iwp - g.pl)) * C + c0 + c;
        acc += (x.inp(0, xi) - xZero) * x.par(jw, wBase + t);
      }
      return acc;
    },
    finish: (acc) => requantOut(x, acc, co),
  };
}

function mmReduction(x: H, o: number, kind: 'MatMul' | 'MatMulInteger' | 'QLinearMatMul'): Reduction {
  let d: Dot;
  if (kind === 'MatMul') {
    d = plan(x, x.h.inputMeta[1].shape, x.attr('transB', 0) === 1n, o);
  } else {
    const jb = x.param('b');
    d = plan(x, jb >= 0 ? x.h.params[jb].shape : x.h.inputMeta[1].shape, false, o);
    d.bParam = jb;
  }
  const zeros = (): void => {
    if (kind === 'MatMul') {
      d.aZero = x.attr('aZero');
      d.bZero = x.attr('bZero');
    } else {
      d.aZero = x.perChannel('aZero', d.i, 0n);
      d.bZero = x.perChannel('bZero', d.j, 0n);
    }
  };
  const K = d.K;
  return {
    terms: K,
    init: () => 0n,
    partial: (from, to) => {
      checkRange(from, to, K);
      zeros();
      return mmAcc(x, { ...d, aOff: d.aOff + from, bOff: d.bOff + from * d.bStep, K: to - from });
    },
    finish: (acc) => (kind === 'MatMul' ? x.requantAttrs(acc) : kind === 'QLinearMatMul' ? qOut(x, acc, d.j) : acc),
  };
}

function convNchwReduction(x: H, o: number, q: boolean): Reduction {
  const jw = x.param('w');
  const [, C, H_, W] = x.xs;
  const ws = jw >= 0 ? x.h.params[jw].shape : x.h.inputMeta[1].shape;
  const [M, Cg, KH, KW] = ws;
  const os = x.os;
  const ow = o % os[3];
  let t0 = Math.floor(o / os[3]);
  const oh = t0 % os[2];
  t0 = Math.floor(t0 / os[2]);
  const co = t0 % M;
  const n = Math.floor(t0 / M);
  const c0 = Math.floor(co / Math.floor(M / x.uattr('group', 1, 1))) * Cg;
  const taps = Cg * KH * KW;
  return {
    terms: taps,
    init: () => (q ? x.perChannel('bias', co, 0n) : 0n),
    partial: (from, to) => {
      checkRange(from, to, taps);
      const g = geo(x);
      const xZero = x.perChannel('xZero', 0, 0n);
      const wZero = x.perChannel('wZero', co, 0n);
      let acc = 0n;
      for (let tp = from; tp < to; tp++) {
        const kw = tp % KW;
        const kh = Math.floor(tp / KW) % KH;
        const c = Math.floor(tp / (KW * KH));
        const iwp = ow * g.sw + kw * g.dw;
        if (iwp < g.pl || iwp - g.pl >= W) continue;
        const ihp = oh * g.sh + kh * g.dh;
        if (ihp < g.pt || ihp - g.pt >= H_) continue;
        const wi = co * taps + tp;
        const w = (jw >= 0 ? x.par(jw, wi) : x.inp(1, wi)) - wZero;
        const xi = ((n * C + c0 + c) * H_ + ihp - g.pt) * W + iwp - g.pl;
        acc += (x.inp(0, xi) - xZero) * w;
      }
      return acc;
    },
    finish: (acc) => (q ? qOut(x, acc, co) : acc),
  };
}

function globalAvgReduction(x: H, c: number): Reduction {
  const [, H_, W, C] = x.xs;
  const HW = H_ * W;
  return {
    terms: HW,
    init: () => 0n,
    partial: (from, to) => {
      checkRange(from, to, HW);
      const xZero = x.attr('xZero');
      let acc = 0n;
      for (let p = from; p < to; p++) acc += x.inp(0, p * C + c) - xZero;
      return acc;
    },
    finish: (acc) => {
      const yt = x.h.outputMeta.dtype;
      return clampB(x.attr('yZero') + roundDivB(acc, BigInt(HW)), DMIN[yt], DMAX[yt]);
    },
  };
}

/** Ops with partial sums (OneStepVerifier.reducible). */
export const REDUCIBLE_OPS = ['Linear', 'Conv', 'MatMul', 'MatMulInteger', 'QLinearMatMul', 'ConvInteger', 'QLinearConv', 'GlobalAveragePool', 'LayerNorm', 'Softmax'] as const;

/** The accumulator of output element `o` of node `h` (reading through `read`), or undefined for an op without one. */
export function reductionOf(h: NodeHeader, read: ElementReader, o: number): Reduction | undefined {
  const x = new H(h, read);
  return OPS[h.op].reduction?.(x, o);
}

/** Every op's element (computeOp) and, for the ops with partial sums, its accumulator (reductionOf). */
const OPS: Record<OpType, { element: (x: H, o: number) => bigint; reduction?: (x: H, o: number) => Reduction }> = {
  Linear: { element: linear, reduction: linearReduction },
  Conv: { element: conv, reduction: convReduction },
  MatMul: { element: matmul, reduction: (x, o) => mmReduction(x, o, 'MatMul') },
  MatMulInteger: { element: (x, o) => onnxMatMul(x, o, false), reduction: (x, o) => mmReduction(x, o, 'MatMulInteger') },
  QLinearMatMul: { element: (x, o) => onnxMatMul(x, o, true), reduction: (x, o) => mmReduction(x, o, 'QLinearMatMul') },
  ConvInteger: { element: (x, o) => convNchw(x, o, false), reduction: (x, o) => convNchwReduction(x, o, false) },
  QLinearConv: { element: (x, o) => convNchw(x, o, true), reduction: (x, o) => convNchwReduction(x, o, true) },
  Add: { element: (x, o) => binary(x, o, true) },
  Mul: { element: (x, o) => binary(x, o, false) },
  Lut: { element: lut },
  Gather: { element: gather },
  Reshape: { element: (x, o) => x.inp(0, o) },
  Transpose: { element: (x, o) => x.inp(0, transposeIndex(x, o)) },
  Concat: { element: concat },
  Slice: { element: (x, o) => x.inp(0, sliceIndex(x, o)) },
  Requantize: { element: (x, o) => x.requantAttrs(x.inp(0, o) - x.attr('xZero')) },
  MaxPool: { element: (x, o) => pool(x, o, true) },
  AveragePool: { element: (x, o) => pool(x, o, false) },
  GlobalAveragePool: { element: globalAvg, reduction: globalAvgReduction },
  Softmax: { element: softmax, reduction: softmaxReduction },
  LayerNorm: { element: layerNorm, reduction: layerNormReduction },
};
