/**
 * Where with a computed branch (fold pass 1). Exporters write attention masks this way:
 *   GPT-2 (Hugging Face):  torch.where(causal_bias, scores, finfo.min)   — constant condition
 *   DistilBERT:            scores.masked_fill(~mask.bool(), finfo.min)   — run-time condition
 * The integer engine selects only through tables (Where(mask, c₁, c₂) with one-valued constants is
 * part of a Lut), so Where(c, a, b) becomes arithmetic on 0/1 masks of c:
 *   a branch t that is −∞ or ≤ −1e30 (a mask value): Add(other branch, Where(c, 0, t)) — x + t = t in
 *     float32 for every |x| < 1e22, so this is exact, and the sum is the additive mask Softmax
 *     calibration already reads as −∞ (docs/quantization.md §3);
 *   otherwise: termA + termB, termA = a·Where(c, 1, 0) (a constant of one value: Where(c, a, 0)),
 *     termB likewise with Where(c, 0, 1) — exact for finite branches (x·1 + 0 = x, x·0 + v = v).
 * A constant condition makes the masks constants (a Mul and an Add by constant tensors).
 */
import type { FNode } from '../graph.js';
import { broadcastShape } from '../ops/broadcast.js';
import { Where } from '../ops/elementwise.js';
import { tensorFrom, type FTensor } from '../tensor.js';
import { emitCommutative, node } from './emit.js';
import type { FoldState } from './state.js';

/** The one value of a constant whose elements are all equal (−0 and 0 count as equal). */
function oneValue(t: FTensor | undefined): number | undefined {
  if (!t || t.data.length === 0) return undefined;
  const v = t.data[0];
  for (let i = 1; i < t.data.length; i++) if (t.data[i] !== v && !Number.isNaN(v)) return undefined;
  return Number.isNaN(v) ? undefined : v;
}

const isMaskValue = (v: number | undefined): boolean => v !== undefined && v <= -1e30;

export function rewriteWhere(s: FoldState, n: FNode, index: number): void {
  const [c, a, b] = n.inputs;
  const out = n.outputs[0];
  const ctx = s.ctx(n, index);
  const va = oneValue(s.consts.get(a));
  const vb = oneValue(s.consts.get(b));
  // The table form (a mask test selecting between two constants), and non-float selections, stay as they are.
  if ((va !== undefined && vb !== undefined && !s.isConst(c)) || s.dtype(a) !== 'float32') {
    s.emit(n);
    return;
  }
  const scalar = (v: number, tag: string) => s.addConst(`${out}::${tag}`, tensorFrom('float32', [], [v]));
  /** Where(c, x, y) for constant x, y: a constant when c is, else a mask table. */
  const select = (x: string, y: string, tag: string): string => {
    const cc = s.consts.get(c);
    if (cc) return s.addConst(`${out}::${tag}`, Where(ctx, [cc, s.consts.get(x)!, s.consts.get(y)!])[0]!);
    const name = s.fresh(`${out}::${tag}`);
    s.emit(node(n, 'Where', [c, x, y], [name], {}, `::${tag}`), broadcastShape(ctx, [s.shape(c), s.shape(x), s.shape(y)]), 'float32');
    return name;
  };
  const shapeOf = (t: string) => (s.isConst(t) ? [...s.consts.get(t)!.shape] : s.shape(t));
  const mul = (x: string, m: string, tag: string): string => {
    const name = s.fresh(`${out}::${tag}`);
    emitCommutative(s, n, 'Mul', x, m, name, `::${tag}`);
    s.shapes.set(name, broadcastShape(ctx, [shapeOf(x), shapeOf(m)]));
    s.dtypes.set(name, 'float32');
    return name;
  };
  const zero = () => scalar(0, 'zero');
  const one = () => scalar(1, 'one');
  let termA: string;
  let termB: string;
  if (!s.isConst(a) && isMaskValue(vb)) {
    termA = a;
    termB = select(zero(), b, 'mask');
  } else if (!s.isConst(b) && isMaskValue(va)) {
    termA = select(a, zero(), 'mask');
    termB = b;
  } else if (s.isConst(c)) {
    // Constant condition: a Mul by a constant 0/1 tensor per computed branch, a constant for a constant one.
    const onMask = select(one(), zero(), 'on');
    const offMask = select(zero(), one(), 'off');
    termA = s.isConst(a) ? select(a, zero(), 'then') : mul(a, onMask, 'then');
    termB = s.isConst(b) ? select(zero(), b, 'else') : mul(b, offMask, 'else');
  } else {
    // Run-time condition: one mask table t = Where(c, 1, 0) (a single reader of c, so fold/sink.ts
    // moves it into the mask's table) and 1 − t, a table of t; each branch is multiplied by its mask.
    for (const t of [a, b]) {
      if (s.isConst(t) && [...s.consts.get(t)!.data].some((x) => !Number.isFinite(x))) ctx.unsupported('a constant branch holding ±∞ or NaN other than a single mask value next to a computed condition');
    }
    const on = select(one(), zero(), 'on');
    const step = (x: string, op: 'Mul' | 'Add', k: number, tag: string): string => {
      const name = s.fresh(`${out}::${tag}`);
      s.emit(node(n, op, [x, scalar(k, `${tag}-k`)], [name], {}, `::${tag}`), s.shape(x), 'float32');
      return name;
    };
    termA = mul(a, on, 'then');
    termB = mul(b, step(step(on, 'Mul', -1, 'off-neg'), 'Add', 1, 'off'), 'else');
  }
  emitCommutative(s, n, 'Add', termA, termB, out);
}
