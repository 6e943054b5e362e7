/** Transpose (docs/ops.md §Transpose): y[i_0..i_{r−1}] = x[j] with j_{perm[a]} = i_a; out shape[a] = in shape[perm[a]]. */
import { sizeOf } from '../ir.js';
import { batchKernel, type Kernel, NodeContext, stridesOf } from './common.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams([]);
  const xs = ctx.inputs[0].shape;
  const r = xs.length;
  const def = Array.from({ length: r }, (_, i) => r - 1 - i);
  const perm = ctx.ints('perm', r, 0, Math.max(0, r - 1), def);
  if (new Set(perm).size !== r) ctx.fail(`attr 'perm' [${perm}] is not a permutation of 0..${r - 1}`);
  const os = perm.map((p) => xs[p]);
  ctx.outDtype([ctx.inputs[0].dtype]);
  ctx.outShape(os);
  const inStr = stridesOf(xs);
  const st = perm.map((p) => inStr[p]); // input stride of each output axis
  const n = sizeOf(os);
  const map = new Int32Array(n);
  const idx = new Array<number>(r).fill(0);
  let off = 0;
  for (let e = 0; e < n; e++) {
    map[e] = off;
    for (let a = r - 1; a >= 0; a--) {
      idx[a]++;
      off += st[a];
      if (idx[a] < os[a]) break;
      off -= st[a] * idx[a];
      idx[a] = 0;
    }
  }
  const inSize = sizeOf(xs);
  const dt = ctx.inputs[0].dtype;
  const w = wasmKernels();
  if (w && dt !== 'i32') {
    // WebAssembly: a byte gather through the resident index map, item by item.
    const M = resident(map);
    return batchKernel((ins, out, B) => {
      const xBytes = align16(B * inSize);
      const base = scratch(xBytes + B * n);
      const yo = base + xBytes;
      copyIn8(dt, ins[0].data, base);
      for (let item = 0; item < B; item++) w.gather8(M.off, base + item * inSize, yo + item * n, n, 0);
      copyOut(dt, out.data, yo, B * n);
    });
  }
  return batchKernel((ins, out, B) => {
    const x = ins[0].data;
    const y = out.data;
    for (let item = 0; item < B; item++) {
      const xo = item * inSize;
      const yo = item * n;
      for (let i = 0; i < n; i++) y[yo + i] = x[xo + map[i]];
    }
  });
}
