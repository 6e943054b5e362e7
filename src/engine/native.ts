/**
 * The optional native integer kernels (native/verity_native.c, an N-API addon built from source at
 * install by native/build.mjs): dense GEMM + requant (Linear, MatMul of two activations
 * over a whole batch in one call), depthwise and group-1 convs (one call a step on a prepared plan), GlobalAveragePool, byte gather (and its run-of-bytes form), LayerNorm and Softmax rows, and the Merkle leaf/level Keccak hashes src/commit/keccak.ts uses. They compute the same integers as the WebAssembly and JS paths (docs/ops.md;
 * exactness argument in the C file's header), dispatching inside on the CPU's features
 * (AVX-512 VNNI, AVX2, plain C).
 *
 * Loading: only where `process.getBuiltinModule` exists (Node ≥ 20.16) — no static import of any
 * Node module, so this file stays pure for browsers and bundlers, where nativeKernels() is null.
 * A missing or unloadable addon, or VERITY_NATIVE=0, also gives null, and the ops use their
 * WebAssembly path, then their JS path.
 */
import type { IntArray } from './ir.js';
import { portableJsOnly } from './wasm.js';

/** An opaque native conv plan (NativeKernels.convPlan). */
export type ConvPlan = { readonly __convPlan: unique symbol };

export interface NativeKernels {
  pack(w: Int8Array, N: number, K: number): ArrayBuffer;
  packedBytes(N: number, K: number): number;
  packAct(src: Int8Array | Uint8Array, signed: number, N: number, K: number, transB: number, dst: ArrayBuffer): void;
  dense(
    x: Int8Array | Uint8Array,
    signed: number,
    R: number,
    K: number,
    xZero: number,
    packed: ArrayBuffer,
    N: number,
    bias: Int32Array | null,
    mult: Int32Array,
    shift: Int32Array,
    yZero: number,
    lo: number,
    hi: number,
    out: Int8Array | Uint8Array | Int32Array,
    outBytes: number,
    wZero?: number,
  ): void;
  /** A conv step's constants, made once (native/conv.c; an opaque value): depthwise (group = C = CO, weights Int16Array
   *  [KH][KW][C]) or group 1 (weights Int8Array [CO][KH][KW][C]); absent in addons built before it. */
  convPlan?(
    depthwise: number, signed: number, H: number, W: number, C: number, KH: number, KW: number, sh: number, sw: number, dh: number,
    dw: number, pt: number, pl: number, OH: number, OW: number, xZero: number, CO: number, weights: Int16Array | Int8Array,
    bias: Int32Array | null, mult: Int32Array, shift: Int32Array, yZero: number, lo: number, hi: number, outBytes: number,
  ): ConvPlan;
  /** The planned conv over B stacked items of x into y, one call a step. */
  convRun?(plan: ConvPlan, x: IntArray, y: IntArray, B: number): void;
  /** Test hook: an external value that is not a conv plan (convRun refuses it: plans carry a type tag). */
  testExternal?(): unknown;
  /** GlobalAveragePool of B items [HW][C], 8-bit in and out (native/conv.c; absent in addons built before it). */
  gap?(x: Int8Array | Uint8Array, signed: number, B: number, HW: number, C: number, xZero: number, yZero: number, lo: number, hi: number, y: Int8Array | Uint8Array): void;
  gather(src: Int8Array | Uint8Array, map: Int32Array, n: number, fill: number, dst: Int8Array | Uint8Array): void;
  /** gather over B items: dst[b·n + i] = map[i] ≥ 0 ? src[b·srcStride + map[i]] : fill (absent in addons built before it). */
  gatherBatch?(src: Int8Array | Uint8Array, map: Int32Array, n: number, fill: number, dst: Int8Array | Uint8Array, B: number, srcStride: number): void;
  /** gatherBatch of a map made of runs of L consecutive indices, given by the n/L run starts:
   *  dst[b·n + r·L + i] = src[b·srcStride + starts[r] + i] (absent in addons built before it). */
  gatherRuns?(src: Int8Array | Uint8Array, starts: Int32Array, n: number, fill: 0, dst: Int8Array | Uint8Array, B: number, srcStride: number, L: number): void;
  /** MatMul of two activations over B items in one call: per item, each b matrix packed as packAct does, then one
   *  dense(…, wZero) per output matrix t from a matrix aMat[t] and b matrix bMat[t] (absent in addons built before it). */
  matmul?(
    a: Int8Array | Uint8Array, aSigned: number, b: Int8Array | Uint8Array, bSigned: number, transB: number, B: number,
    batches: number, M: number, K: number, N: number, aMat: Int32Array, bMat: Int32Array, aMats: number, bMats: number,
    aZero: number, wZero: number, mult: Int32Array, shift: Int32Array, yZero: number, lo: number, hi: number,
    y: Int8Array | Uint8Array | Int32Array, outBytes: number,
  ): void;
  /** Add of 8-bit operands over B items of n: y[b·n + i] = clamp(yZero + ((ta[a[b·n + i]] + tb[bv[b·bStride + i]]) >> shift), lo, hi),
   *  tables indexed by raw byte (absent in addons built before it). */
  add?(a: Int8Array | Uint8Array, bv: Int8Array | Uint8Array, n: number, B: number, bStride: number, ta: Int32Array, tb: Int32Array, shift: number, yZero: number, lo: number, hi: number, y: Int8Array | Uint8Array): void;
  keccakLeaves(src: Uint8Array, leafCount: number, out: Uint8Array, outOffset: number): void;
  keccakLevel(buf: Uint8Array, from: number, count: number, to: number, zero: Uint8Array): number;
  /** outputHashOf (src/commit/io.ts) of `count` items laid out back to back (native/commit.h), as count × 66 hex chars
   *  (absent in addons built before it). `raw`: any typed array, read as its bytes in memory. */
  outputHashes?(raw: Uint8Array | Int8Array | Int32Array, count: number, spec: Int32Array, zeros: Uint8Array): string;
  /** resultLeaf(start + i, hash_i) (src/chain/positional.ts) of count 0x-hex digests joined, as count × 66 hex chars;
   *  null if `hashes` is not that (absent in addons built before it). */
  resultLeaves?(start: number, hashes: string, count: number): string | null;
  /** Every PositionalTree level above count (a power of two) 0x-hex leaves joined, bottom-up, as (count − 1) × 66 hex
   *  chars; null as resultLeaves (absent in addons built before it). */
  treeLevels?(leaves: string, count: number): string | null;
  /** resultLeaves and the whole PositionalTree over them in one call: for size = count rounded up to a power of two,
   *  (2·size − 1) × 66 hex chars, bottom-up (the count result leaves, the zero leaves, each level above, the root
   *  last); null as resultLeaves (absent in addons built before it). */
  resultTree?(start: number, hashes: string, count: number): string | null;
  layerNorm(x: Int8Array | Uint8Array, signed: number, rows: number, N: number, xZero: number, gamma: Int32Array, beta: Int32Array, eps: number, shift: number, yZero: number, lo: number, hi: number, y: Int8Array | Uint8Array): void;
  softmax(x: Int8Array, rows: number, L: number, table: Int32Array, masked: number, y: Int8Array): void;
  lut(x: Int8Array, table: Uint8Array, n: number, y: Int8Array | Uint8Array): void;
  maxpool(x: IntArray, signed: number, B: number, H: number, W: number, C: number, OH: number, OW: number, win: Int32Array, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number, y: IntArray): void;
  cpu(): string;
  setPath(p: number): number;
}

let loaded: NativeKernels | null | undefined;
let switchedOff = false;

function load(): NativeKernels | null {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; env?: Record<string, string | undefined> } }).process;
    if (!proc || typeof proc.getBuiltinModule !== 'function' || proc.env?.VERITY_NATIVE === '0') return null;
    const mod = proc.getBuiltinModule('node:module') as { createRequire: (u: string | URL) => (id: string) => unknown };
    const url = (proc.getBuiltinModule('node:url') as { fileURLToPath: (u: URL) => string }).fileURLToPath;
    const file = url(new URL('../../native/build/Release/verity_native.node', import.meta.url));
    return mod.createRequire(import.meta.url)(file) as NativeKernels;
  } catch {
    return null;
  }
}

/** The native kernels, or null when absent, unloadable or switched off (setNativeEnabled(false), or
 *  setWasmGemmEnabled(false), which selects the portable JS paths for everything). */
export function nativeKernels(): NativeKernels | null {
  if (switchedOff || portableJsOnly()) return null;
  if (loaded === undefined) loaded = load();
  return loaded;
}

/** Whether the addon is loaded (regardless of setNativeEnabled). */
export function nativeAvailable(): boolean {
  if (loaded === undefined) loaded = load();
  return loaded !== null;
}

/**
 * Switches the native kernels off (or back on) for models prepared afterwards (tests compare every
 * path). Returns the previous setting.
 */
export function setNativeEnabled(on: boolean): boolean {
  const was = !switchedOff;
  switchedOff = !on;
  return was;
}

/**
 * Test hook: the addon's highest CPU path to use (2 = AVX-512 VNNI, 1 = AVX2, 0 = plain C; capped at
 * what the CPU supports). Returns the path in effect, or −1 without the addon.
 */
export function setNativeCpuPath(p: number): number {
  return nativeAvailable() ? loaded!.setPath(p) : -1;
}

/** The addon's CPU path ('avx512vnni' | 'avx2' | 'scalar'), or null without the addon. */
export function nativeCpu(): string | null {
  return nativeAvailable() ? loaded!.cpu() : null;
}

/** Which dense-kernel path models prepared now take: 'native', 'wasm' or 'js'. */
export function kernelPath(): 'native' | 'wasm' | 'js' {
  return nativeKernels() ? 'native' : portableJsOnly() ? 'js' : 'wasm';
}

/** Requant tables as Int32Arrays of n entries (a scalar or length-1 table is broadcast). */
export function int32Table(n: number, v: ArrayLike<number> | number): Int32Array {
  const t = new Int32Array(n);
  for (let j = 0; j < n; j++) t[j] = typeof v === 'number' ? v : v.length === 1 ? v[0] : v[j];
  return t;
}
