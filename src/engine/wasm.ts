/**
 * WebAssembly SIMD integer kernels, assembled here from opcodes (no toolchain, no binary blob), for
 * the dot products of Linear, Conv and MatMul and their requantization epilogues. Every function
 * does exact integer arithmetic that docs/ops.md defines; WebAssembly integer semantics are fully
 * specified (two's complement), so results are bit-identical on every engine.
 *
 *   gemm16(A, lda, B, Kb, C, ldc, M, N, z):  A rows of i16;
 *   gemm8s / gemm8u(...):                     A rows of i8 / u8 bytes, widened in the kernel, minus z:
 *     i32 C[C + i·ldc + 4j] = Σ_{k<K8} a(i, k) · i16 B[B + j·Kb + 2k]      (Kb = 2·K8, K8 = K rounded up to 8)
 *   using i32x4.dot_i16x8_s (8 multiply-adds per instruction), two A rows against four B rows at a
 *   time. B rows must be zero in K..K8, so whatever A holds there contributes 0 (the 8-bit modes read
 *   up to 7 bytes past a row: the caller leaves that much memory after A). Lanes wrap modulo 2^32;
 *   callers use the kernels only when the static bound K·max|a|·max|b| ≤ 2^31 − 1 holds, so the
 *   wrapped sum equals the exact one.
 *
 *   gather8(map, src, dst, n, zb):          u8 dst[i] = map[i] ≥ 0 ? src[map[i]] : zb        (im2col)
 *   gather16s / gather16u(map, src, dst, n, z): i16 dst[i] = map[i] ≥ 0 ? src[map[i]] − z : 0
 *   rq8 / rq32(C, bias, mult, shift, out, n, N, yZero, lo, hi): for e < n, j = e mod N,
 *     out[e] = clamp(yZero + ((C[e] + bias[j])·mult[j] + 2^(shift[j]−1)) >> shift[j], lo, hi)
 *   in i64 (exact: |C + bias| < 2^32, mult < 2^15, so every intermediate is below 2^48), stored as
 *   one byte (i8/u8 outputs, the clamp keeps the value in range) or as i32.
 *
 * Memory: one module-level memory. Constant operands (weights, bias, mult, shift) live in resident
 * regions allocated when a model is prepared (alloc; freed when the owning kernel is garbage
 * collected). Everything above the highest resident region is scratch: a kernel takes it with
 * scratch(bytes) at the start of its run and uses it until it returns (single-threaded JS makes this
 * safe). The memory grows on demand; heap views are refreshed after growth.
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
const simd = (o: number): number[] => [0xfd, ...uleb(o)];
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  i64: (v: number) => [0x42, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  and: [0x71],
  shl: [0x74],
  eq: [0x46],
  ltS: [0x48],
  gtU: [0x4b],
  geU: [0x4f],
  i64add: [0x7c],
  i64mul: [0x7e],
  i64shl: [0x86],
  i64shrS: [0x87],
  i64ltS: [0x53],
  i64gtS: [0x55],
  ext: [0xac], // i64.extend_i32_s
  wrap: [0xa7], // i32.wrap_i64
  select: [0x1b],
  load32: [0x28, 2, 0],
  load8s: [0x2c, 0, 0],
  load8u: [0x2d, 0, 0],
  store32: [0x36, 2, 0],
  store8: [0x3a, 0, 0],
  store16: [0x3b, 1, 0],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  vload: [...simd(0), 0, 0], // v128.load align=1 offset=0
  vload8s: [...simd(1), 0, 0], // i16x8.load8x8_s
  vload8u: [...simd(2), 0, 0], // i16x8.load8x8_u
  vstore: [...simd(11), 0, 0], // v128.store
  vzero: [...simd(12), ...new Array<number>(16).fill(0)], // v128.const 0
  splat16: simd(16), // i16x8.splat
  sub16: simd(145), // i16x8.sub
  vadd: simd(174), // i32x4.add
  vdot: simd(186), // i32x4.dot_i16x8_s
  lane: (l: number) => [...simd(27), l], // i32x4.extract_lane
  splat64: simd(18), // i64x2.splat
  bitselect: simd(82), // v128.bitselect
  store32lane: [...simd(90), 0, 0, 0], // v128.store32_lane lane 0
  narrow8s: simd(101), // i8x16.narrow_i16x8_s
  narrow8u: simd(102), // i8x16.narrow_i16x8_u
  narrow16s: simd(133), // i16x8.narrow_i32x4_s
  extLo: simd(199), // i64x2.extend_low_i32x4_s
  extHi: simd(200), // i64x2.extend_high_i32x4_s
  shrS64: simd(204), // i64x2.shr_s
  add64: simd(206), // i64x2.add
  mul64: simd(213), // i64x2.mul
  lt64: simd(216), // i64x2.lt_s
  gt64: simd(217), // i64x2.gt_s
  shuffle32: (lanes: number[]) => [...simd(13), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
};

const I32 = 0x7f;
const I64 = 0x7e;
const V128 = 0x7b;

/** One function under construction: params are i32 locals 0..nParams−1; local() adds more. */
class Fn {
  readonly code: number[] = [];
  private readonly types: number[] = [];
  constructor(readonly name: string, readonly nParams: number) {}
  local(type: number): number {
    this.types.push(type);
    return this.nParams + this.types.length - 1;
  }
  e(...xs: number[][]): void {
    for (const x of xs) this.code.push(...x);
  }
  /** while (!(cond)) { body } — cond leaves an i32 (non-zero exits). */
  loop(cond: number[][], body: () => void): void {
    this.e([0x02, 0x40, 0x03, 0x40], ...cond, op.brIf(1));
    body();
    this.e(op.br(0), [0x0b, 0x0b]);
  }
  body(): number[] {
    return [...uleb(this.types.length), ...this.types.flatMap((t) => [1, t]), ...this.code, 0x0b];
  }
}

/** gemm with A mode 0 = i16 rows, 1 = i8 bytes − z, 2 = u8 bytes − z. */
function gemmFn(name: string, mode: 0 | 1 | 2): Fn {
  const f = new Fn(name, 9);
  const [A, LDA, B, KB, C, LDC, M, N, Z] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const i = f.local(I32), j = f.local(I32), N4 = f.local(I32), ka = f.local(I32), kb = f.local(I32);
  const ar = [f.local(I32), f.local(I32)];
  const cp = [f.local(I32), f.local(I32)];
  const bp = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const vz = f.local(V128), vb = f.local(V128);
  const va = [f.local(V128), f.local(V128)];
  const acc = [0, 1].map(() => [f.local(V128), f.local(V128), f.local(V128), f.local(V128)]);
  const stepA = mode === 0 ? 16 : 8;
  const loadA = (r: number): number[][] =>
    mode === 0
      ? [op.get(ar[r]), op.get(ka), op.add, op.vload]
      : [op.get(ar[r]), op.get(ka), op.add, mode === 1 ? op.vload8s : op.vload8u, op.get(vz), op.sub16];
  const dot = (r: number, c: number): number[][] => [op.get(acc[r][c]), op.get(va[r]), op.get(vb), op.vdot, op.vadd, op.set(acc[r][c])];
  const hsum4 = (v: number[]): number[][] => [
    op.get(v[0]), op.get(v[1]), op.shuffle32([0, 4, 2, 6]), op.get(v[0]), op.get(v[1]), op.shuffle32([1, 5, 3, 7]), op.vadd, op.set(v[0]),
    op.get(v[2]), op.get(v[3]), op.shuffle32([0, 4, 2, 6]), op.get(v[2]), op.get(v[3]), op.shuffle32([1, 5, 3, 7]), op.vadd, op.set(v[2]),
    op.get(v[0]), op.get(v[2]), op.shuffle32([0, 1, 4, 5]), op.get(v[0]), op.get(v[2]), op.shuffle32([2, 3, 6, 7]), op.vadd,
  ];
  const hsum = (v: number): number[][] => [op.get(v), op.lane(0), op.get(v), op.lane(1), op.add, op.get(v), op.lane(2), op.add, op.get(v), op.lane(3), op.add];
  const rowBlock = (R: number): void => {
    f.e(op.get(A), op.get(i), op.get(LDA), op.mul, op.add, op.set(ar[0]));
    f.e(op.get(C), op.get(i), op.get(LDC), op.mul, op.add, op.set(cp[0]));
    if (R === 2) {
      f.e(op.get(ar[0]), op.get(LDA), op.add, op.set(ar[1]));
      f.e(op.get(cp[0]), op.get(LDC), op.add, op.set(cp[1]));
    }
    f.e(op.i32(0), op.set(j));
    f.loop([op.get(j), op.get(N4), op.geU], () => {
      f.e(op.get(B), op.get(j), op.get(KB), op.mul, op.add, op.tee(bp[0]), op.get(KB), op.add, op.tee(bp[1]), op.get(KB), op.add, op.tee(bp[2]), op.get(KB), op.add, op.set(bp[3]));
      for (let r = 0; r < R; r++) for (let c = 0; c < 4; c++) f.e(op.vzero, op.set(acc[r][c]));
      f.e(op.i32(0), op.set(ka), op.i32(0), op.set(kb));
      f.loop([op.get(kb), op.get(KB), op.geU], () => {
        for (let r = 0; r < R; r++) f.e(...loadA(r), op.set(va[r]));
        for (let c = 0; c < 4; c++) {
          f.e(op.get(bp[c]), op.get(kb), op.add, op.vload, op.set(vb));
          for (let r = 0; r < R; r++) f.e(...dot(r, c));
        }
        f.e(op.get(ka), op.i32(stepA), op.add, op.set(ka), op.get(kb), op.i32(16), op.add, op.set(kb));
      });
      for (let r = 0; r < R; r++) {
        f.e(op.get(cp[r]), ...hsum4(acc[r]), op.vstore);
        f.e(op.get(cp[r]), op.i32(16), op.add, op.set(cp[r]));
      }
      f.e(op.get(j), op.i32(4), op.add, op.set(j));
    });
    f.loop([op.get(j), op.get(N), op.geU], () => {
      f.e(op.get(B), op.get(j), op.get(KB), op.mul, op.add, op.set(bp[0]));
      for (let r = 0; r < R; r++) f.e(op.vzero, op.set(acc[r][0]));
      f.e(op.i32(0), op.set(ka), op.i32(0), op.set(kb));
      f.loop([op.get(kb), op.get(KB), op.geU], () => {
        for (let r = 0; r < R; r++) f.e(...loadA(r), op.set(va[r]));
        f.e(op.get(bp[0]), op.get(kb), op.add, op.vload, op.set(vb));
        for (let r = 0; r < R; r++) f.e(...dot(r, 0));
        f.e(op.get(ka), op.i32(stepA), op.add, op.set(ka), op.get(kb), op.i32(16), op.add, op.set(kb));
      });
      for (let r = 0; r < R; r++) {
        f.e(op.get(cp[r]), ...hsum(acc[r][0]), op.store32);
        f.e(op.get(cp[r]), op.i32(4), op.add, op.set(cp[r]));
      }
      f.e(op.get(j), op.i32(1), op.add, op.set(j));
    });
  };
  f.e(op.get(N), op.i32(-4), op.and, op.set(N4));
  f.e(op.get(Z), op.splat16, op.set(vz));
  f.e(op.i32(0), op.set(i));
  f.loop([op.get(i), op.i32(2), op.add, op.get(M), op.gtU], () => {
    rowBlock(2);
    f.e(op.get(i), op.i32(2), op.add, op.set(i));
  });
  f.loop([op.get(i), op.get(M), op.geU], () => {
    rowBlock(1);
    f.e(op.get(i), op.i32(1), op.add, op.set(i));
  });
  return f;
}

function gather8Fn(): Fn {
  const f = new Fn('gather8', 5);
  const [MAP, SRC, DST, N, ZB] = [0, 1, 2, 3, 4];
  const i = f.local(I32), idx = f.local(I32);
  f.e(op.i32(0), op.set(i));
  f.loop([op.get(i), op.get(N), op.geU], () => {
    f.e(op.get(MAP), op.get(i), op.i32(2), op.shl, op.add, op.load32, op.set(idx));
    f.e(op.get(DST), op.get(i), op.add);
    f.e(op.get(ZB), op.get(SRC), op.get(idx), op.add, op.load8u, op.get(idx), op.i32(0), op.ltS, op.select, op.store8);
    f.e(op.get(i), op.i32(1), op.add, op.set(i));
  });
  return f;
}

function gather16Fn(name: string, signed: boolean): Fn {
  const f = new Fn(name, 5);
  const [MAP, SRC, DST, N, Z] = [0, 1, 2, 3, 4];
  const i = f.local(I32), idx = f.local(I32);
  f.e(op.i32(0), op.set(i));
  f.loop([op.get(i), op.get(N), op.geU], () => {
    f.e(op.get(MAP), op.get(i), op.i32(2), op.shl, op.add, op.load32, op.set(idx));
    f.e(op.get(DST), op.get(i), op.i32(1), op.shl, op.add);
    f.e(op.i32(0), op.get(SRC), op.get(idx), op.add, signed ? op.load8s : op.load8u, op.get(Z), op.sub, op.get(idx), op.i32(0), op.ltS, op.select, op.store16);
    f.e(op.get(i), op.i32(1), op.add, op.set(i));
  });
  return f;
}

function requantFn(name: string, bytes: 1 | 4): Fn {
  const f = new Fn(name, 10);
  const [C, BIAS, MULT, SHIFT, OUT, NN, N, YZ, LO, HI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const e = f.local(I32), j = f.local(I32), t = f.local(I32), s = f.local(I32);
  const v = f.local(I64), lo = f.local(I64), hi = f.local(I64), yz = f.local(I64);
  f.e(op.get(LO), op.ext, op.set(lo), op.get(HI), op.ext, op.set(hi), op.get(YZ), op.ext, op.set(yz));
  f.e(op.i32(0), op.set(e), op.i32(0), op.set(j));
  f.loop([op.get(e), op.get(NN), op.geU], () => {
    f.e(op.get(j), op.i32(2), op.shl, op.set(t));
    f.e(op.get(SHIFT), op.get(t), op.add, op.load32, op.set(s));
    f.e(op.get(C), op.get(e), op.i32(2), op.shl, op.add, op.load32, op.ext);
    f.e(op.get(BIAS), op.get(t), op.add, op.load32, op.ext, op.i64add);
    f.e(op.get(MULT), op.get(t), op.add, op.load32, op.ext, op.i64mul);
    f.e(op.i64(1), op.get(s), op.i32(1), op.sub, op.ext, op.i64shl, op.i64add);
    f.e(op.get(s), op.ext, op.i64shrS, op.get(yz), op.i64add, op.set(v));
    f.e(op.get(lo), op.get(v), op.get(v), op.get(lo), op.i64ltS, op.select, op.set(v));
    f.e(op.get(hi), op.get(v), op.get(v), op.get(hi), op.i64gtS, op.select, op.set(v));
    if (bytes === 1) f.e(op.get(OUT), op.get(e), op.add, op.get(v), op.wrap, op.store8);
    else f.e(op.get(OUT), op.get(e), op.i32(2), op.shl, op.add, op.get(v), op.wrap, op.store32);
    f.e(op.get(e), op.i32(1), op.add, op.set(e));
    f.e(op.get(j), op.i32(1), op.add, op.set(j));
    f.e(op.i32(0), op.get(j), op.get(j), op.get(N), op.eq, op.select, op.set(j));
  });
  return f;
}

/**
 * Vector requant with one shift S for all channels: rows of N values (tables padded to a multiple of
 * 4 channels), four at a time, out = clamp(yZero + ((C + bias)·MW + 2^(S−1)) >> S, lo, hi) in i64
 * lanes, with MW an i64 table. Stores whole vectors: up to 3 values past a row's end are written
 * (and overwritten by the next row; the caller leaves room after the last).
 */
function requantVecFn(name: string, out: 's8' | 'u8' | 'i32'): Fn {
  const f = new Fn(name, 10);
  const [C, BIAS, MW, OUT, ROWS, N, S, YZ, LO, HI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const r = f.local(I32), j = f.local(I32), e0 = f.local(I32), e = f.local(I32);
  const vh = f.local(V128), vy = f.local(V128), vlo = f.local(V128), vhi = f.local(V128), vc = f.local(V128), vb = f.local(V128);
  const a = f.local(V128), b = f.local(V128);
  f.e(op.i64(1), op.get(S), op.i32(1), op.sub, op.ext, op.i64shl, op.splat64, op.set(vh));
  f.e(op.get(YZ), op.ext, op.splat64, op.set(vy), op.get(LO), op.ext, op.splat64, op.set(vlo), op.get(HI), op.ext, op.splat64, op.set(vhi));
  f.e(op.i32(0), op.set(r), op.i32(0), op.set(e0));
  const lane = (x: number, ext: number[], mOff: number): void => {
    f.e(op.get(vc), ext, op.get(vb), ext, op.add64);
    f.e(op.get(MW), op.get(j), op.i32(3), op.shl, op.add, op.i32(mOff), op.add, op.vload, op.mul64, op.get(vh), op.add64);
    f.e(op.get(S), op.shrS64, op.get(vy), op.add64, op.set(x));
    f.e(op.get(vlo), op.get(x), op.get(x), op.get(vlo), op.lt64, op.bitselect, op.set(x));
    f.e(op.get(vhi), op.get(x), op.get(x), op.get(vhi), op.gt64, op.bitselect, op.set(x));
  };
  f.loop([op.get(r), op.get(ROWS), op.geU], () => {
    f.e(op.i32(0), op.set(j));
    f.loop([op.get(j), op.get(N), op.geU], () => {
      f.e(op.get(e0), op.get(j), op.add, op.set(e));
      f.e(op.get(C), op.get(e), op.i32(2), op.shl, op.add, op.vload, op.set(vc));
      f.e(op.get(BIAS), op.get(j), op.i32(2), op.shl, op.add, op.vload, op.set(vb));
      lane(a, op.extLo, 0);
      lane(b, op.extHi, 16);
      f.e(op.get(a), op.get(b), op.shuffle32([0, 2, 4, 6]), op.set(a));
      if (out === 'i32') f.e(op.get(OUT), op.get(e), op.i32(2), op.shl, op.add, op.get(a), op.vstore);
      else {
        f.e(op.get(a), op.get(a), op.narrow16s, op.set(a));
        f.e(op.get(OUT), op.get(e), op.add, op.get(a), op.get(a), out === 's8' ? op.narrow8s : op.narrow8u, op.store32lane);
      }
      f.e(op.get(j), op.i32(4), op.add, op.set(j));
    });
    f.e(op.get(e0), op.get(N), op.add, op.set(e0), op.get(r), op.i32(1), op.add, op.set(r));
  });
  return f;
}

function assemble(): Uint8Array<ArrayBuffer> {
  const fns = [
    gemmFn('gemm16', 0),
    gemmFn('gemm8s', 1),
    gemmFn('gemm8u', 2),
    gather8Fn(),
    gather16Fn('gather16s', true),
    gather16Fn('gather16u', false),
    requantFn('rq8', 1),
    requantFn('rq32', 4),
    requantVecFn('rqv8s', 's8'),
    requantVecFn('rqv8u', 'u8'),
    requantVecFn('rqv32', 'i32'),
  ];
  const arities = [...new Set(fns.map((f) => f.nParams))];
  const sec = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
  const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...sec(1, vec(arities.map((n) => [0x60, ...vec(new Array(n).fill([I32])), 0]))), // (i32 ×n) → ()
    ...sec(2, vec([[...str('e'), ...str('m'), 0x02, 0x00, ...uleb(1)]])), // import memory e.m (min 1 page)
    ...sec(3, vec(fns.map((f) => uleb(arities.indexOf(f.nParams))))),
    ...sec(7, vec(fns.map((f, k) => [...str(f.name), 0x00, ...uleb(k)]))),
    ...sec(10, vec(fns.map((f) => { const b = f.body(); return [...uleb(b.length), ...b]; }))),
  ]);
}

type F5 = (a: number, b: number, c: number, d: number, e: number) => void;
type F9 = (A: number, lda: number, B: number, Kb: number, C: number, ldc: number, M: number, N: number, z: number) => void;
type F10 = (C: number, bias: number, mult: number, shift: number, out: number, n: number, N: number, yZero: number, lo: number, hi: number) => void;
export interface WasmKernels {
  gemm16: F9;
  gemm8s: F9;
  gemm8u: F9;
  gather8: F5;
  gather16s: F5;
  gather16u: F5;
  rq8: F10;
  rq32: F10;
  rqv8s: F10;
  rqv8u: F10;
  rqv32: F10;
}

let memory: WebAssembly.Memory | null = null;
let kernels: WasmKernels | null = null;
let unsupported = false; // this runtime has no WebAssembly SIMD
let switchedOff = false; // setWasmGemmEnabled(false)

/** Views of the whole memory, refreshed after it grows. */
export const heap = {
  i8: new Int8Array(0),
  u8: new Uint8Array(0),
  i16: new Int16Array(0),
  i32: new Int32Array(0),
};

function refresh(): void {
  const buf = memory!.buffer;
  if (heap.i8.buffer === buf) return;
  heap.i8 = new Int8Array(buf);
  heap.u8 = new Uint8Array(buf);
  heap.i16 = new Int16Array(buf);
  heap.i32 = new Int32Array(buf);
}

function init(): boolean {
  if (switchedOff || unsupported) return false;
  if (kernels) return true;
  try {
    const mod = new WebAssembly.Module(assemble());
    memory = new WebAssembly.Memory({ initial: 1 });
    kernels = new WebAssembly.Instance(mod, { e: { m: memory } }).exports as unknown as WasmKernels;
    refresh();
    return true;
  } catch {
    unsupported = true; // kernels use the JS path
    return false;
  }
}

/** Whether the SIMD kernels are in use (WebAssembly SIMD available and not switched off). */
export function wasmGemmAvailable(): boolean {
  return init();
}

/** The kernels, or null when WebAssembly SIMD is unavailable or switched off. */
export function wasmKernels(): WasmKernels | null {
  return init() ? kernels : null;
}

/**
 * Switches the SIMD kernels off (or back on) for models prepared afterwards (tests run the property
 * tests on the JS path too). Returns the previous setting.
 */
export function setWasmGemmEnabled(on: boolean): boolean {
  const was = !switchedOff;
  switchedOff = !on;
  return was;
}

const PAGE = 65536;
const SLACK = 64; // bytes kept readable past any region (8-bit GEMM rows read up to 7 bytes ahead)
const BASE = 64; // address 0..63 unused (a gather may read src − 1)

/** Makes the memory at least `bytes` long and refreshes the views. */
function ensure(bytes: number): void {
  const m = memory!;
  if (m.buffer.byteLength < bytes) m.grow(Math.ceil((bytes - m.buffer.byteLength) / PAGE));
  refresh();
}

const align = (n: number): number => (n + 15) & ~15;

// Resident regions: a first-fit free list below `top`; scratch is everything from `top` up.
let top = BASE;
const freeList: { off: number; size: number }[] = [];

function freeRegion(r: { off: number; size: number }): void {
  freeList.push(r);
  freeList.sort((a, b) => a.off - b.off);
  for (let i = freeList.length - 2; i >= 0; i--) {
    const a = freeList[i];
    const b = freeList[i + 1];
    if (a.off + a.size === b.off) {
      a.size += b.size;
      freeList.splice(i + 1, 1);
    }
  }
  const last = freeList[freeList.length - 1];
  if (last && last.off + last.size === top) {
    top = last.off;
    freeList.pop();
  }
}

const registry = new FinalizationRegistry<{ off: number; size: number }>(freeRegion);

/** A resident region of wasm memory, freed when this object is garbage collected. */
export class Region {
  readonly off: number;
  constructor(readonly bytes: number) {
    const size = align(bytes + SLACK);
    let off = -1;
    for (let i = 0; i < freeList.length; i++) {
      const f = freeList[i];
      if (f.size >= size) {
        off = f.off;
        f.off += size;
        f.size -= size;
        if (f.size === 0) freeList.splice(i, 1);
        break;
      }
    }
    if (off < 0) {
      off = top;
      top += size;
      ensure(top + SLACK);
    }
    this.off = off;
    registry.register(this, { off, size });
  }
}

/** A resident copy of `data` (its bytes, little-endian); returns its region. */
export function resident(data: Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array): Region {
  const r = new Region(data.byteLength);
  heap.u8.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), r.off);
  return r;
}

/** The scratch base for a kernel needing `bytes` bytes (valid until the kernel returns). */
export function scratch(bytes: number): number {
  ensure(top + bytes + SLACK);
  return top;
}

/**
 * One GEMM shape on i16 operands (the JS-compatible interface of gemm.ts): A [M][K8] and B [N][K8]
 * as i16 (columns K..K8 must be zero), C [M][N] as i32, in scratch memory; or B resident when
 * constant. Fill a() (and b() unless constant), then run().
 */
export class WasmGemm {
  readonly K8: number;
  private readonly bytesA: number;
  private readonly bytesB: number;
  private readonly constB: Region | null;

  constructor(
    readonly M: number,
    readonly N: number,
    readonly K: number,
    constB?: Int16Array,
  ) {
    init();
    this.K8 = Math.ceil(K / 8) * 8;
    this.bytesA = align(M * this.K8 * 2);
    this.bytesB = align(N * this.K8 * 2);
    this.constB = constB ? resident(constB) : null;
  }

  private base(): number {
    return scratch(this.bytesA + this.bytesB + this.M * this.N * 4);
  }

  a(): Int16Array {
    const o = this.base();
    return heap.i16.subarray(o >> 1, (o >> 1) + this.M * this.K8);
  }

  b(): Int16Array {
    const o = this.base() + this.bytesA;
    return heap.i16.subarray(o >> 1, (o >> 1) + this.N * this.K8);
  }

  /** Runs the kernel on the current A and B; returns C (valid until the next wasm kernel runs). */
  run(): Int32Array {
    const o = this.base();
    const oc = o + this.bytesA + this.bytesB;
    const b = this.constB ? this.constB.off : o + this.bytesA;
    kernels!.gemm16(o, this.K8 * 2, b, this.K8 * 2, oc, this.N * 4, this.M, this.N, 0);
    return heap.i32.subarray(oc >> 2, (oc >> 2) + this.M * this.N);
  }
}
