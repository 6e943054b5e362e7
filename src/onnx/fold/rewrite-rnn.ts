/**
 * GRU and LSTM unrolled over the sequence length the concrete input shape fixes (fold pass 1):
 * per step a Slice of x_t, one Linear per gate for x_t (its bias W_b + R_b) and one for h_{t−1}
 * (none at t = 0: h_0 = 0), Sigmoid/Tanh of the sums, and the state updates as Mul/Add of
 * activations — ops the integer engine has, so the unrolled graph inherits their integer semantics,
 * their Solidity one-step and their differential tests. Y is a Concat of the steps' h.
 * Implemented: forward direction, default activations, no peepholes, no sequence_lens, zero (or
 * absent) initial state, layout 0 or 1, GRU with either linear_before_reset.
 */
import type { FNode } from '../graph.js';
import { rnnSpec } from '../ops/recurrent.js';
import { tensorFrom, zeros, type FTensor } from '../tensor.js';
import { emitReshape, node } from './emit.js';
import type { FoldState } from './state.js';

export function rewriteRnn(s: FoldState, n: FNode, index: number): void {
  const ctx = s.ctx(n, index);
  const kind = n.op as 'GRU' | 'LSTM';
  const [x, Wn, Rn, Bn, seqLens, h0n, c0n, pn] = n.inputs;
  const g = kind === 'GRU' ? 3 : 4;
  const { layout, H, T, B, I, linearBeforeReset } = rnnSpec(ctx, s.shape(x), g);
  const W = s.consts.get(Wn) ?? ctx.unsupported('a computed W');
  const R = s.consts.get(Rn) ?? ctx.unsupported('a computed R');
  const Bias = Bn ? (s.consts.get(Bn) ?? ctx.unsupported('a computed B')) : undefined;
  if (seqLens) ctx.unsupported('sequence_lens (every sequence has the full length after export with a fixed length)');
  if (pn) ctx.unsupported('peepholes (P)');
  for (const st of [h0n, c0n]) {
    if (!st) continue;
    const c = s.consts.get(st);
    if (!c || c.data.some((v) => v !== 0)) ctx.unsupported('a non-zero or computed initial state (initial_h / initial_c)');
  }
  const out = n.outputs[0];
  const tag = (what: string) => s.fresh(`${out || n.name}::${what}`);
  const rows = (t: FTensor, gate: number, cols: number) => tensorFrom('float32', [H, cols], t.data.slice(gate * H * cols, (gate + 1) * H * cols));
  const bias = (k: number) => tensorFrom('float32', [H], Bias ? Bias.data.slice(k * H, (k + 1) * H) : new Float32Array(H));
  const sumBias = (gate: number) => tensorFrom('float32', [H], bias(gate).data.map((v, j) => v + bias(g + gate).data[j]));
  const emit = (op: string, ins: string[], what: string, shape: number[], attrs: FNode['attrs'] = {}): string => {
    const o = tag(what);
    s.emit(node(n, op, ins, [o], attrs, `::${what}`), shape, 'float32');
    return o;
  };
  const linear = (inp: string, Wt: FTensor, b: FTensor, what: string) =>
    emit('Linear', [inp, s.addConst(`${n.name}::${what}::W`, Wt), s.addConst(`${n.name}::${what}::b`, b)], what, [B, H]);
  const one = s.addConst(`${n.name}::one`, tensorFrom('float32', [], [1]));

  let h: string | undefined;
  let c: string | undefined;
  const hs: string[] = [];
  for (let t = 0; t < T; t++) {
    // x_t as [B, I]
    let xt = x;
    if (T > 1) xt = emit('Slice', [x], `x${t}`, layout === 0 ? [1, B, I] : [B, 1, I], { starts: [t], ends: [t + 1], axes: [layout === 0 ? 0 : 1], steps: [1] });
    const x2 = tag(`x${t}::rows`);
    emitReshape(s, n, xt, x2, [B, I], `::x${t}rows`);
    const xr = s.resolve(x2);
    const gate = (k: number, what: string, withR: boolean) => {
      const a = linear(xr, rows(W, k, I), withR ? sumBias(k) : bias(k), `${what}${t}x`);
      if (!h || !withR) return a;
      return emit('Add', [a, linear(h, rows(R, k, H), zeros('float32', [H]), `${what}${t}h`)], `${what}${t}`, [B, H]);
    };
    if (kind === 'GRU') {
      const z = emit('Sigmoid', [gate(0, 'z', true)], `z${t}s`, [B, H]);
      const r = emit('Sigmoid', [gate(1, 'r', true)], `r${t}s`, [B, H]);
      let pre: string;
      if (linearBeforeReset) {
        const xh = linear(xr, rows(W, 2, I), bias(2), `n${t}x`);
        const hr = h ? linear(h, rows(R, 2, H), bias(g + 2), `n${t}h`) : s.addConst(`${n.name}::Rbh`, bias(g + 2));
        pre = emit('Add', [xh, emit('Mul', [r, hr], `n${t}r`, [B, H])], `n${t}`, [B, H]);
      } else {
        const xh = linear(xr, rows(W, 2, I), sumBias(2), `n${t}x`);
        pre = h ? emit('Add', [xh, linear(emit('Mul', [r, h], `rh${t}`, [B, H]), rows(R, 2, H), zeros('float32', [H]), `n${t}h`)], `n${t}`, [B, H]) : xh;
      }
      const hh = emit('Tanh', [pre], `n${t}t`, [B, H]);
      const omz = emit('Add', [emit('Neg', [z], `z${t}neg`, [B, H]), one], `z${t}inv`, [B, H]);
      const keep = emit('Mul', [omz, hh], `h${t}new`, [B, H]);
      h = h ? emit('Add', [keep, emit('Mul', [z, h], `h${t}old`, [B, H])], `h${t}`, [B, H]) : keep;
    } else {
      const i = emit('Sigmoid', [gate(0, 'i', true)], `i${t}s`, [B, H]);
      const o = emit('Sigmoid', [gate(1, 'o', true)], `o${t}s`, [B, H]);
      const f = emit('Sigmoid', [gate(2, 'f', true)], `f${t}s`, [B, H]);
      const cc = emit('Tanh', [gate(3, 'c', true)], `c${t}t`, [B, H]);
      const ic = emit('Mul', [i, cc], `ic${t}`, [B, H]);
      c = c ? emit('Add', [emit('Mul', [f, c], `fc${t}`, [B, H]), ic], `c${t}`, [B, H]) : ic;
      h = emit('Mul', [o, emit('Tanh', [c], `c${t}th`, [B, H])], `h${t}`, [B, H]);
    }
    hs.push(h);
  }
  const stepShape = layout === 0 ? [1, 1, B, H] : [B, 1, 1, H];
  const [Y, Yh, Yc] = n.outputs;
  if (Y && s.consumed.has(Y)) {
    const parts = hs.map((ht, t) => {
      const p = tag(`y${t}`);
      emitReshape(s, n, ht, p, stepShape, `::y${t}`);
      return s.resolve(p);
    });
    if (parts.length === 1) s.setAlias(Y, parts[0]);
    else s.emit(node(n, 'Concat', parts, [Y], { axis: layout === 0 ? 0 : 1 }, '::y'), layout === 0 ? [T, 1, B, H] : [B, T, 1, H], 'float32');
  }
  const state = layout === 0 ? [1, B, H] : [B, 1, H];
  if (Yh && s.consumed.has(Yh)) emitReshape(s, n, h!, Yh, state, '::yh');
  if (Yc && c && s.consumed.has(Yc)) emitReshape(s, n, c, Yc, state, '::yc');
}
