/**
 * The byte moves of Slice and Transpose are one mechanism: each output element e (row-major over the
 * output shape) reads input element map[e], where map walks the output index with a fixed input
 * stride per output axis from a base offset. Built once at prepare; a run is a gather through it.
 */
import type { DType } from '../ir.js';
import { batchKernel, type Kernel } from './common.js';
import { resident, scratch, wasmKernels } from '../wasm.js';
import { align16, copyIn8, copyOut } from './wasmdense.js';
import { nativeKernels } from '../native.js';

/** map[e] = base + Σ_a idx_a(e)·step[a], over the row-major output index idx(e) of `outShape`. */
export function stridedIndexMap(base: number, step: readonly number[], outShape: readonly number[]): Int32Array {
  const r = outShape.length;
  const total = outShape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(total);
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let e = 0; e < total; e++) {
    map[e] = off;
    for (let a = r - 1; a >= 0; a--) {
      idx[a]++;
      off += step[a];
      if (idx[a] < outShape[a]) break;
      off -= step[a] * idx[a];
      idx[a] = 0;
    }
  }
  return map;
}

/** The largest L such that map is n/L runs of L consecutive indices (map[e] = map[e − 1] + 1 unless L divides e):
 *  the gcd of its maximal runs' lengths. 0 for an empty map or one with a fill (−1) entry. */
export function runLength(map: Int32Array): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let L = 0;
  let run = 0;
  for (let e = 0; e < map.length; e++) {
    if (map[e] < 0) return 0;
    if (e > 0 && map[e] !== map[e - 1] + 1) {
      L = gcd(run, L);
      run = 0;
    }
    run++;
  }
  return map.length ? gcd(run, L) : 0;
}

/** y[item][e] = x[item][map[e]] for every item of a batch (inSize input elements per item). */
export function gatherKernel(dt: DType, map: Int32Array, inSize: number): Kernel {
  const n = map.length;
  const nat = nativeKernels();
  const L = runLength(map);
  if (nat && nat.gatherRuns && dt !== 'i32' && L >= 8) {
    // Native: the map is runs of L consecutive indices (Slice, most Transposes): one copy per run.
    const runs = n / L;
    const starts = new Int32Array(runs);
    for (let r = 0; r < runs; r++) starts[r] = map[r * L];
    const gr = nat.gatherRuns.bind(nat);
    return batchKernel((ins, out, B) => gr(ins[0].data as Uint8Array, starts, n, 0, out.data as Uint8Array, B, inSize, L));
  }
  if (nat && dt !== 'i32' && n > 0) {
    // Native: the same byte gather, straight between the trace arrays (no copies).
    return batchKernel((ins, out, B) => {
      const x = ins[0].data as Uint8Array;
      const y = out.data as Uint8Array;
      if (nat.gatherBatch) nat.gatherBatch(x, map, n, 0, y, B, inSize);
      else for (let item = 0; item < B; item++) nat.gather(x.subarray(item * inSize, (item + 1) * inSize), map, n, 0, y.subarray(item * n, (item + 1) * n));
    });
  }
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
