/** Lut (docs/ops.md §Lut): y = table[x + 128] for x i8; table has 256 entries of the output dtype. */
import { type Kernel, NodeContext, rowwise } from './common.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';
import { nativeKernels } from '../native.js';

export function prepare(ctx: NodeContext): Kernel {
  ctx.arity(1);
  ctx.onlyParams(['table']);
  ctx.inDtype(0, ['i8']);
  const yd = ctx.outDtype(['i8', 'u8']);
  const table = ctx.param('table', [yd], { size: 256 });
  ctx.outShape(ctx.inputs[0].shape);
  const t = table.data;
  const nk = nativeKernels();
  const nat = nk && typeof nk.lut === 'function' ? nk : null; // (an addon built from older sources lacks lut)
  const w = wasmKernels();
  if (nat || w) {
    // WebAssembly: a 256-byte table indexed by x's raw byte (x + 128 for x = (byte << 24) >> 24).
    const raw = new Uint8Array(256);
    for (let u = 0; u < 256; u++) raw[u] = t[((u << 24) >> 24) + 128] & 255;
    if (nat) {
      // Native: the same table lookup between the trace arrays (no copies).
      return rowwise((ins, out) => {
        const n = ins[0].data.length;
        if (n > 0) nat.lut(ins[0].data as Int8Array, raw, n, out.data as Uint8Array);
      });
    }
    const T = resident(raw);
    const wk = w!;
    return rowwise((ins, out) => {
      const n = ins[0].data.length;
      const base = scratch(align16(n) + n);
      copyIn8('i8', ins[0].data, base);
      wk.lut8(base, T.off, base + align16(n), n);
      copyOut(yd, out.data, base + align16(n), n);
    });
  }
  return rowwise((ins, out) => {
    const x = ins[0].data;
    const y = out.data;
    const n = x.length;
    for (let i = 0; i < n; i++) y[i] = t[x[i] + 128];
  });
}
