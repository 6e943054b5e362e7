/**
 * A naive reference implementation of docs/ops.md, written directly from the text with BigInt
 * arithmetic (no float64 shortcuts, no precomputation, no folding), used to check the engine's
 * kernels. Given a node, its input tensors and the output dtype/shape (taken as given: the engine
 * validates shapes separately), it returns the output values.
 */
import type { DType, IntArray, Param, QNode, TensorData } from '../../src/engine/ir.js';

type V = bigint;
const B = (x: number | bigint): bigint => BigInt(x);

export const RANGE: Record<DType, [number, number]> = { i8: [-128, 127], u8: [0, 255], i32: [-2147483648, 2147483647] };

// ---- Conventions ---------------------------------------------------------------------------------
export function floorDiv(a: V, b: V): V {
  let q = a / b; // truncates toward zero
  if (a % b !== 0n && a < 0n) q -= 1n;
  return q;
}
export function rshr(v: V, s: V): V {
  return floorDiv(v + 2n ** (s - 1n), 2n ** s);
}
export function requant(acc: V, m: V, s: V): V {
  return rshr(acc * m, s);
}
export function roundDiv(a: V, b: V): V {
  return floorDiv(2n * a + b, 2n * b);
}
export function isqrt(v: V): V {
  if (v < 0n) throw new Error('isqrt of negative');
  if (v < 2n) return v;
  let x = v;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + v / x) / 2n;
  }
  return x;
}
export function clamp(v: V, lo: V, hi: V): V {
  return v < lo ? lo : v > hi ? hi : v;
}

// ---- index helpers --------------------------------------------------------------------------------
export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a];
    i = Math.floor(i / shape[a]);
  }
  return idx;
}
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let o = 0;
  for (let a = 0; a < shape.length; a++) o = o * shape[a] + idx[a];
  return o;
}
/** numpy broadcast: the index into `shape` read by output index `outIdx`. */
function bidx(outIdx: readonly number[], shape: readonly number[]): number[] {
  const off = outIdx.length - shape.length;
  return shape.map((d, a) => (d === 1 ? 0 : outIdx[a + off]));
}

// ---- attrs / params with the documented defaults -----------------------------------------------
function attr(n: QNode, k: string, def?: number): number {
  const v = n.attrs[k];
  if (v === undefined) {
    if (def === undefined) throw new Error(`ref: missing attr ${k}`);
    return def;
  }
  return v as number;
}
function attrs(n: QNode, k: string, def: number[]): number[] {
  const v = n.attrs[k];
  return v === undefined ? def : (v as number[]);
}
function p(n: QNode, k: string): Param | undefined {
  return n.params[k];
}
/** Element i of a scalar-or-vector param (or def). */
function pv(n: QNode, k: string, i: number, def = 0): V {
  const q = p(n, k);
  if (!q) return B(def);
  return B(q.data.length === 1 ? q.data[0] : q.data[i]);
}
function loHi(n: QNode, dt: DType): [V, V] {
  return [B(attr(n, 'lo', RANGE[dt][0])), B(attr(n, 'hi', RANGE[dt][1]))];
}
const at = (d: IntArray, i: number): V => B(d[i]);

export interface Out {
  dtype: DType;
  shape: number[];
}

// ---- the ops -------------------------------------------------------------------------------------
export function reference(node: QNode, ins: readonly TensorData[], out: Out): V[] {
  const n = node;
  const res: V[] = new Array(size(out.shape)).fill(0n);
  const od = out.dtype;
  switch (n.op) {
    case 'Linear': {
      const x = ins[0];
      const W = p(n, 'weight')!;
      const [N, K] = W.shape;
      const xZ = B(attr(n, 'xZero'));
      const yZ = B(attr(n, 'yZero'));
      const [lo, hi] = loHi(n, od);
      const rows = size(x.shape) / K;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < N; j++) {
          let acc = pv(n, 'bias', j);
          for (let k = 0; k < K; k++) acc += (at(x.data, r * K + k) - xZ) * at(W.data, j * K + k);
          res[r * N + j] = clamp(yZ + requant(acc, pv(n, 'mult', j), pv(n, 'shift', j)), lo, hi);
        }
      }
      return res;
    }
    case 'Conv': {
      const x = ins[0];
      const [, H, W, C] = x.shape;
      const w = p(n, 'weight')!;
      const [CO, KH, KW, Cg] = w.shape;
      const group = attr(n, 'group', 1);
      const [top, left] = attrs(n, 'pads', [0, 0, 0, 0]);
      const [sh, sw] = attrs(n, 'strides', [1, 1]);
      const [dh, dw] = attrs(n, 'dilations', [1, 1]);
      const xZ = B(attr(n, 'xZero'));
      const yZ = B(attr(n, 'yZero'));
      const [lo, hi] = loHi(n, od);
      const [, OH, OW] = out.shape;
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let co = 0; co < CO; co++) {
            const g = Math.floor(co / (CO / group));
            let acc = pv(n, 'bias', co);
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++)
                for (let c = 0; c < Cg; c++) {
                  const h = oh * sh + kh * dh - top;
                  const ww = ow * sw + kw * dw - left;
                  const xh = h >= 0 && h < H && ww >= 0 && ww < W ? at(x.data, ravel([0, h, ww, g * Cg + c], x.shape)) - xZ : 0n;
                  acc += xh * at(w.data, ravel([co, kh, kw, c], w.shape));
                }
            res[ravel([0, oh, ow, co], out.shape)] = clamp(yZ + requant(acc, pv(n, 'mult', co), pv(n, 'shift', co)), lo, hi);
          }
      return res;
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const a = ins[0];
      const b: { shape: number[]; data: IntArray } = n.params.b ?? ins[1];
      const transB = n.op === 'MatMul' && attr(n, 'transB', 0) === 1;
      const aS = a.shape.length === 1 ? [1, a.shape[0]] : a.shape;
      const bS = b.shape.length === 1 ? (transB ? [1, b.shape[0]] : [b.shape[0], 1]) : b.shape;
      const K = aS[aS.length - 1];
      // Full output index space [batch.., M, N] (rank-1 drops re-added here).
      const M = aS[aS.length - 2];
      const N = transB ? bS[bS.length - 2] : bS[bS.length - 1];
      const batchRank = Math.max(aS.length, bS.length) - 2;
      const full: number[] = [];
      for (let i = 0; i < batchRank; i++) {
        const da = i - (batchRank - (aS.length - 2)) >= 0 ? aS[i - (batchRank - (aS.length - 2))] : 1;
        const db = i - (batchRank - (bS.length - 2)) >= 0 ? bS[i - (batchRank - (bS.length - 2))] : 1;
        full.push(Math.max(da, db));
      }
      full.push(M, N);
      const isQ = n.op !== 'MatMul';
      const [lo, hi] = n.op === 'MatMul' ? loHi(n, od) : [B(RANGE[od][0]), B(RANGE[od][1])];
      for (let e = 0; e < size(full); e++) {
        const idx = unravel(e, full);
        const bt = idx.slice(0, -2);
        const i = idx[batchRank];
        const j = idx[batchRank + 1];
        const ab = bidx(bt, aS.slice(0, -2));
        const bb = bidx(bt, bS.slice(0, -2));
        let acc = 0n;
        for (let k = 0; k < K; k++) {
          const av = at(a.data, ravel([...ab, i, k], aS));
          const bv = at(b.data, transB ? ravel([...bb, j, k], bS) : ravel([...bb, k, j], bS));
          const aZ = isQ ? pv(n, 'aZero', i) : B(attr(n, 'aZero'));
          const bZ = isQ ? pv(n, 'bZero', j) : B(attr(n, 'bZero'));
          acc += (av - aZ) * (bv - bZ);
        }
        let y: V;
        if (n.op === 'MatMulInteger') y = acc;
        else if (n.op === 'MatMul') y = clamp(B(attr(n, 'yZero')) + requant(acc, B(attr(n, 'mult')), B(attr(n, 'shift'))), lo, hi);
        else y = clamp(pv(n, 'yZero', 0) + requant(acc, pv(n, 'mult', j), pv(n, 'shift', j)), lo, hi);
        res[e] = y; // full and out.shape have the same element order
      }
      return res;
    }
    case 'Add':
    case 'Mul': {
      const a = ins[0];
      const b: { shape: number[]; data: IntArray } = n.params.b ?? ins[1];
      const aZ = B(attr(n, 'aZero'));
      const bZ = B(attr(n, 'bZero'));
      const yZ = B(attr(n, 'yZero'));
      const [lo, hi] = loHi(n, od);
      for (let e = 0; e < res.length; e++) {
        const idx = unravel(e, out.shape);
        const av = at(a.data, ravel(bidx(idx, a.shape), a.shape)) - aZ;
        const bv = at(b.data, ravel(bidx(idx, b.shape), b.shape)) - bZ;
        const v =
          n.op === 'Add'
            ? rshr(av * B(attr(n, 'aMult')) + bv * B(attr(n, 'bMult')), B(attr(n, 'shift')))
            : requant(av * bv, B(attr(n, 'mult')), B(attr(n, 'shift')));
        res[e] = clamp(yZ + v, lo, hi);
      }
      return res;
    }
    case 'Lut': {
      const t = p(n, 'table')!;
      for (let e = 0; e < res.length; e++) res[e] = at(t.data, ins[0].data[e] + 128);
      return res;
    }
    case 'MaxPool':
    case 'AveragePool': {
      const x = ins[0];
      const [, H, W, C] = x.shape;
      const [KH, KW] = attrs(n, 'kernel', []);
      const [sh, sw] = attrs(n, 'strides', [1, 1]);
      const [top, left] = attrs(n, 'pads', [0, 0, 0, 0]);
      const [dh, dw] = n.op === 'MaxPool' ? attrs(n, 'dilations', [1, 1]) : [1, 1];
      const [, OH, OW] = out.shape;
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let c = 0; c < C; c++) {
            let mx: V | null = null;
            let sum = 0n;
            let cnt = 0n;
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const h = oh * sh + kh * dh - top;
                const w = ow * sw + kw * dw - left;
                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                const v = at(x.data, ravel([0, h, w, c], x.shape));
                if (mx === null || v > mx) mx = v;
                sum += v - (n.op === 'AveragePool' ? B(attr(n, 'xZero')) : 0n);
                cnt += 1n;
              }
            if (mx === null) throw new Error('ref: empty window');
            let y: V;
            if (n.op === 'MaxPool') y = mx;
            else {
              const count = attr(n, 'countIncludePad', 0) === 1 ? B(KH * KW) : cnt;
              y = clamp(B(attr(n, 'yZero')) + roundDiv(sum, count), B(RANGE[od][0]), B(RANGE[od][1]));
            }
            res[ravel([0, oh, ow, c], out.shape)] = y;
          }
      return res;
    }
    case 'GlobalAveragePool': {
      const x = ins[0];
      const [, H, W, C] = x.shape;
      for (let c = 0; c < C; c++) {
        let sum = 0n;
        for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) sum += at(x.data, ravel([0, h, w, c], x.shape)) - B(attr(n, 'xZero'));
        res[c] = clamp(B(attr(n, 'yZero')) + roundDiv(sum, B(H * W)), B(RANGE[od][0]), B(RANGE[od][1]));
      }
      return res;
    }
    case 'Softmax': {
      const x = ins[0];
      const L = x.shape[x.shape.length - 1];
      const exp = p(n, 'exp')!;
      const masked = attr(n, 'masked', 0) === 1;
      for (let r = 0; r < res.length / L; r++) {
        const row = Array.from({ length: L }, (_, i) => x.data[r * L + i]);
        const mx = Math.max(...row);
        const e = row.map((xi) => (masked && xi === -128 && mx !== -128 ? 0n : at(exp.data, mx - xi)));
        const S = e.reduce((s, v) => s + v, 0n);
        e.forEach((ei, i) => (res[r * L + i] = clamp(-128n + roundDiv(ei * 256n, S), -128n, 127n)));
      }
      return res;
    }
    case 'LayerNorm': {
      const x = ins[0];
      const N = x.shape[x.shape.length - 1];
      const NB = B(N);
      const gamma = p(n, 'gamma')!;
      const beta = p(n, 'beta')!;
      for (let r = 0; r < res.length / N; r++) {
        const d = Array.from({ length: N }, (_, i) => at(x.data, r * N + i) - B(attr(n, 'xZero')));
        const T = d.reduce((s, v) => s + v, 0n);
        const c = d.map((di) => NB * di - T);
        const V = floorDiv(c.reduce((s, v) => s + v * v, 0n), NB) + B(attr(n, 'eps'));
        let R = isqrt(V);
        if (R < 1n) R = 1n;
        c.forEach((ci, i) => {
          const t = roundDiv(at(gamma.data, i) * ci, R);
          res[r * N + i] = clamp(B(attr(n, 'yZero')) + rshr(t + at(beta.data, i), B(attr(n, 'shift'))), B(RANGE[od][0]), B(RANGE[od][1]));
        });
      }
      return res;
    }
    case 'Gather': {
      const data: { shape: number[]; data: IntArray } = n.params.data ?? ins[0];
      const ind: { shape: number[]; data: IntArray } = n.params.indices ?? (n.params.data ? ins[0] : ins[1]);
      const r = data.shape.length;
      let axis = attr(n, 'axis', 0);
      if (axis < 0) axis += r;
      const A = data.shape[axis];
      for (let e = 0; e < res.length; e++) {
        const idx = unravel(e, out.shape);
        const pre = idx.slice(0, axis);
        const ti = idx.slice(axis, axis + ind.shape.length);
        const post = idx.slice(axis + ind.shape.length);
        let v = ind.data[ravel(ti, ind.shape)];
        if (v < -A || v >= A) throw new RangeError(`ref: index ${v}`);
        if (v < 0) v += A;
        res[e] = at(data.data, ravel([...pre, v, ...post], data.shape));
      }
      return res;
    }
    case 'Reshape':
      return Array.from(ins[0].data, B);
    case 'Transpose': {
      const x = ins[0];
      const r = x.shape.length;
      const perm = attrs(n, 'perm', Array.from({ length: r }, (_, i) => r - 1 - i));
      for (let e = 0; e < res.length; e++) {
        const i = unravel(e, out.shape);
        const j = new Array<number>(r);
        perm.forEach((pa, a) => (j[pa] = i[a]));
        res[e] = at(x.data, ravel(j, x.shape));
      }
      return res;
    }
    case 'Concat': {
      const r = ins[0].shape.length;
      let axis = attr(n, 'axis');
      if (axis < 0) axis += r;
      for (let e = 0; e < res.length; e++) {
        const i = unravel(e, out.shape);
        let k = i[axis];
        let j = 0;
        while (k >= ins[j].shape[axis]) k -= ins[j++].shape[axis];
        const src = i.slice();
        src[axis] = k;
        res[e] = at(ins[j].data, ravel(src, ins[j].shape));
      }
      return res;
    }
    case 'Slice': {
      const x = ins[0];
      const starts = attrs(n, 'starts', []);
      const axes = attrs(n, 'axes', starts.map((_, i) => i));
      const steps = attrs(n, 'steps', starts.map(() => 1));
      for (let e = 0; e < res.length; e++) {
        const i = unravel(e, out.shape);
        axes.forEach((a, q) => (i[a] = starts[q] + i[a] * steps[q]));
        res[e] = at(x.data, ravel(i, x.shape));
      }
      return res;
    }
    case 'Requantize': {
      const [lo, hi] = loHi(n, od);
      for (let e = 0; e < res.length; e++) {
        const v = at(ins[0].data, e) - B(attr(n, 'xZero'));
        res[e] = clamp(B(attr(n, 'yZero')) + requant(v, B(attr(n, 'mult')), B(attr(n, 'shift'))), lo, hi);
      }
      return res;
    }
    case 'ConvInteger':
    case 'QLinearConv': {
      const x = ins[0];
      const w: { shape: number[]; data: IntArray } = n.params.w ?? ins[1];
      const [, C, H, W] = x.shape;
      const [M, Cg, KH, KW] = w.shape;
      const group = attr(n, 'group', 1);
      const [top, left] = attrs(n, 'pads', [0, 0, 0, 0]);
      const [sh, sw] = attrs(n, 'strides', [1, 1]);
      const [dh, dw] = attrs(n, 'dilations', [1, 1]);
      const xZ = pv(n, 'xZero', 0);
      const [Nb, , OH, OW] = out.shape;
      for (let b = 0; b < Nb; b++)
        for (let m = 0; m < M; m++)
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              const g = Math.floor(m / (M / group));
              let acc = n.op === 'QLinearConv' ? pv(n, 'bias', m) : 0n;
              for (let c = 0; c < Cg; c++)
                for (let kh = 0; kh < KH; kh++)
                  for (let kw = 0; kw < KW; kw++) {
                    const h = oh * sh + kh * dh - top;
                    const ww = ow * sw + kw * dw - left;
                    const xh = h >= 0 && h < H && ww >= 0 && ww < W ? at(x.data, ravel([b, g * Cg + c, h, ww], x.shape)) - xZ : 0n;
                    acc += xh * (at(w.data, ravel([m, c, kh, kw], w.shape)) - pv(n, 'wZero', m));
                  }
              const y =
                n.op === 'ConvInteger'
                  ? acc
                  : clamp(pv(n, 'yZero', 0) + requant(acc, pv(n, 'mult', m), pv(n, 'shift', m)), B(RANGE[od][0]), B(RANGE[od][1]));
              res[ravel([b, m, oh, ow], out.shape)] = y;
            }
      void C;
      return res;
    }
  }
  throw new Error(`ref: op ${n.op} not implemented`);
}
