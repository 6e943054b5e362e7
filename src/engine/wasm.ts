/**
 * A WebAssembly SIMD integer GEMM kernel, assembled here from opcodes (no toolchain, no binary
 * blob), for the dot products of Linear, Conv and MatMul:
 *
 *   gemm(A, B, C, M, N, Kb, ldc):  for i < M, j < N:
 *     i32 C[C + i·ldc + 4j] = Σ_k i16 A[A + i·Kb + 2k] · i16 B[B + j·Kb + 2k]     (Kb = 2·K8, K8 = K rounded up to 8)
 *
 * using i32x4.dot_i16x8_s (8 multiply-adds per instruction), one A row against four B rows at a time.
 * WebAssembly integer arithmetic is fully specified (two's complement, wrapping), so the result is
 * bit-identical on every engine. Lanes wrap modulo 2^32; callers use it only when the static bound
 * K·max|a|·max|b| ≤ 2^31 − 1 holds, so the wrapped sum equals the exact one.
 *
 * All calls share one module-level memory (grown on demand), used as scratch: a caller writes A and
 * B, runs, and reads C before the next call. Single-threaded JS makes this safe.
 */

const uleb = (n: number): number[] => {
  const o: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    o.push(b);
  } while (n);
  return o;
};
const sleb = (n: number): number[] => {
  const o: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      o.push(b);
      return o;
    }
    o.push(b | 0x80);
  }
};
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  and: [0x71],
  geu: [0x4f], // i32.ge_u
  blockLoop: [0x02, 0x40, 0x03, 0x40],
  endEnd: [0x0b, 0x0b],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  br: (d: number) => [0x0c, ...uleb(d)],
  store32: (off: number) => [0x36, 2, ...uleb(off)],
  vload: [...simd(0), 0, 0], // v128.load align=1 offset=0
  vzero: [...simd(12), ...new Array<number>(16).fill(0)], // v128.const 0
  vadd: simd(174), // i32x4.add
  vdot: simd(186), // i32x4.dot_i16x8_s
  lane: (l: number) => [...simd(27), l], // i32x4.extract_lane
  shuffle32: (lanes: number[]) => [...simd(13), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])], // i8x16.shuffle by i32 lanes (0-3 first, 4-7 second)
  vstore: [...simd(11), 0, 0], // v128.store
};

function assemble(): Uint8Array<ArrayBuffer> {
  // params: 0 A, 1 B, 2 C, 3 M, 4 N, 5 Kb, 6 ldc ; i32 locals 7.. ; v128 locals after
  const A = 0, B = 1, C = 2, M = 3, N = 4, Kb = 5, LDC = 6;
  const i = 7, j = 8, k = 9, ar = 10, b0 = 11, b1 = 12, b2 = 13, b3 = 14, cp = 15, N4 = 16;
  const v = [17, 18, 19, 20];
  const code: number[] = [];
  const e = (...xs: number[][]): void => {
    for (const x of xs) code.push(...x);
  };
  const hsum = (vi: number): number[][] => [op.get(vi), op.lane(0), op.get(vi), op.lane(1), op.add, op.get(vi), op.lane(2), op.add, op.get(vi), op.lane(3), op.add];
  const acc = (vi: number, bp: number): number[][] => [op.get(vi), op.get(ar), op.get(k), op.add, op.vload, op.get(bp), op.get(k), op.add, op.vload, op.vdot, op.vadd, op.set(vi)];
  e(op.get(N), op.i32(-4), op.and, op.set(N4));
  e(op.i32(0), op.set(i));
  e(op.blockLoop); // rows
  e(op.get(i), op.get(M), op.geu, op.brIf(1));
  e(op.get(A), op.get(i), op.get(Kb), op.mul, op.add, op.set(ar));
  e(op.get(C), op.get(i), op.get(LDC), op.mul, op.add, op.set(cp));
  e(op.i32(0), op.set(j));
  e(op.blockLoop); // 4-column blocks
  e(op.get(j), op.get(N4), op.geu, op.brIf(1));
  e(op.get(B), op.get(j), op.get(Kb), op.mul, op.add, op.tee(b0), op.get(Kb), op.add, op.tee(b1), op.get(Kb), op.add, op.tee(b2), op.get(Kb), op.add, op.set(b3));
  for (const vi of v) e(op.vzero, op.set(vi));
  e(op.i32(0), op.set(k));
  e(op.blockLoop);
  e(op.get(k), op.get(Kb), op.geu, op.brIf(1));
  e(...acc(v[0], b0), ...acc(v[1], b1), ...acc(v[2], b2), ...acc(v[3], b3));
  e(op.get(k), op.i32(16), op.add, op.set(k), op.br(0));
  e(op.endEnd);
  // [Σv0, Σv1, Σv2, Σv3] with shuffles: u = [v0.01, v1.01, v0.23, v1.23], w likewise for v2/v3
  e(op.get(cp));
  e(op.get(v[0]), op.get(v[1]), op.shuffle32([0, 4, 2, 6]), op.get(v[0]), op.get(v[1]), op.shuffle32([1, 5, 3, 7]), op.vadd, op.set(v[0]));
  e(op.get(v[2]), op.get(v[3]), op.shuffle32([0, 4, 2, 6]), op.get(v[2]), op.get(v[3]), op.shuffle32([1, 5, 3, 7]), op.vadd, op.set(v[2]));
  e(op.get(v[0]), op.get(v[2]), op.shuffle32([0, 1, 4, 5]), op.get(v[0]), op.get(v[2]), op.shuffle32([2, 3, 6, 7]), op.vadd, op.vstore);
  e(op.get(cp), op.i32(16), op.add, op.set(cp));
  e(op.get(j), op.i32(4), op.add, op.set(j), op.br(0));
  e(op.endEnd);
  e(op.blockLoop); // remaining columns one at a time
  e(op.get(j), op.get(N), op.geu, op.brIf(1));
  e(op.get(B), op.get(j), op.get(Kb), op.mul, op.add, op.set(b0));
  e(op.vzero, op.set(v[0]));
  e(op.i32(0), op.set(k));
  e(op.blockLoop);
  e(op.get(k), op.get(Kb), op.geu, op.brIf(1));
  e(...acc(v[0], b0));
  e(op.get(k), op.i32(16), op.add, op.set(k), op.br(0));
  e(op.endEnd);
  e(op.get(cp), ...hsum(v[0]), op.store32(0));
  e(op.get(cp), op.i32(4), op.add, op.set(cp));
  e(op.get(j), op.i32(1), op.add, op.set(j), op.br(0));
  e(op.endEnd);
  e(op.get(i), op.i32(1), op.add, op.set(i), op.br(0));
  e(op.endEnd);
  code.push(0x0b);
  const locals = [2, ...uleb(10), 0x7f, ...uleb(4), 0x7b];
  const body = [...locals, ...code];
  const sec = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
  const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...sec(1, vec([[0x60, ...vec(new Array(7).fill([0x7f])), 0]])), // type (i32 ×7) → ()
    ...sec(2, vec([[...str('e'), ...str('m'), 0x02, 0x00, ...uleb(1)]])), // import memory e.m (min 1 page)
    ...sec(3, vec([[0]])),
    ...sec(7, vec([[...str('gemm'), 0x00, 0]])),
    ...sec(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

type GemmFn = (A: number, B: number, C: number, M: number, N: number, Kb: number, ldc: number) => void;

let memory: WebAssembly.Memory | null = null;
let gemmFn: GemmFn | null = null;
let unsupported = false; // this runtime has no WebAssembly SIMD
let switchedOff = false; // setWasmGemmEnabled(false)

function init(): boolean {
  if (switchedOff || unsupported) return false;
  if (gemmFn) return true;
  try {
    const mod = new WebAssembly.Module(assemble());
    memory = new WebAssembly.Memory({ initial: 1 });
    gemmFn = new WebAssembly.Instance(mod, { e: { m: memory } }).exports.gemm as GemmFn;
    return true;
  } catch {
    unsupported = true; // kernels use the JS path
    return false;
  }
}

/** Whether the SIMD kernel is in use (WebAssembly SIMD available and not switched off). */
export function wasmGemmAvailable(): boolean {
  return init();
}

/**
 * Switches the SIMD kernel off (or back on) for models prepared afterwards (tests run the property
 * tests on the JS path too). Returns the previous setting.
 */
export function setWasmGemmEnabled(on: boolean): boolean {
  const was = !switchedOff;
  switchedOff = !on;
  return was;
}

const PAGE = 65536;

/** Makes the shared memory at least `bytes` long. */
function ensure(bytes: number): void {
  const m = memory!;
  if (m.buffer.byteLength < bytes) m.grow(Math.ceil((bytes - m.buffer.byteLength) / PAGE));
}

/**
 * One prepared GEMM shape on the shared memory: A [M][K8] and B [N][K8] as i16 (columns K..K8 must
 * be zero), C [M][N] as i32. Get the views with a()/b()/c() at run time (they are re-created if the
 * memory grew), fill A and B, then run().
 */
export class WasmGemm {
  readonly K8: number;
  private readonly offB: number;
  private readonly offC: number;
  private buf: ArrayBuffer | null = null;
  private va!: Int16Array;
  private vb!: Int16Array;
  private vc!: Int32Array;

  constructor(
    readonly M: number,
    readonly N: number,
    readonly K: number,
  ) {
    this.K8 = Math.ceil(K / 8) * 8;
    this.offB = M * this.K8 * 2;
    this.offC = this.offB + N * this.K8 * 2;
    ensure(this.offC + M * N * 4);
  }

  private views(): void {
    const buf = memory!.buffer;
    if (buf === this.buf) return;
    ensure(this.offC + this.M * this.N * 4);
    this.buf = memory!.buffer;
    this.va = new Int16Array(this.buf, 0, this.M * this.K8);
    this.vb = new Int16Array(this.buf, this.offB, this.N * this.K8);
    this.vc = new Int32Array(this.buf, this.offC, this.M * this.N);
  }

  a(): Int16Array {
    this.views();
    return this.va;
  }

  b(): Int16Array {
    this.views();
    return this.vb;
  }

  /** Runs the kernel on the current A and B; returns C (valid until the next gemm call). */
  run(): Int32Array {
    this.views();
    gemmFn!(0, this.offB, this.offC, this.M, this.N, this.K8 * 2, this.N * 4);
    return this.vc;
  }
}
