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
 *   one byte (i8/u8 outputs, the clamp keeps the value in range) or as i32; rqm* / rqv* are vector
 *   forms of the same epilogue under static bounds (see their comments).
 *
 *   Elementwise kernels (docs/ops.md formulas, exact): lut8 (Lut), add8 / add8m (Add with shift ≤ 30),
 *   softmax8 (Softmax), layernorm8.. (LayerNorm); Transpose and Slice use gather8.
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
  splat32: simd(17), // i32x4.splat
  splatF: simd(20), // f64x2.splat
  floorF: simd(117), // f64x2.floor
  ltF: simd(73), // f64x2.lt
  geF: simd(76), // f64x2.ge
  addF: simd(240), // f64x2.add
  subF: simd(241), // f64x2.sub
  mulF: simd(242), // f64x2.mul
  pminF: simd(246), // f64x2.pmin
  pmaxF: simd(247), // f64x2.pmax
  truncF: simd(252), // i32x4.trunc_sat_f64x2_s_zero
  cvtLo: simd(254), // f64x2.convert_low_i32x4_s
  store16lane: [...simd(89), 0, 0, 0], // v128.store16_lane lane 0
  store64lane: [...simd(91), 0, 0, 0], // v128.store64_lane lane 0
  extmulLo16: simd(188), // i32x4.extmul_low_i16x8_s
  extmulHi16: simd(189), // i32x4.extmul_high_i16x8_s
  extmulLo: simd(220), // i64x2.extmul_low_i32x4_s
  extmulHi: simd(221), // i64x2.extmul_high_i32x4_s
  shr32: simd(172), // i32x4.shr_s
  min32: simd(182), // i32x4.min_s
  max32: simd(184), // i32x4.max_s
  shuffle32: (lanes: number[]) => [...simd(13), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
};

const f64c = (v: number): number[] => [0x44, ...new Uint8Array(new Float64Array([v]).buffer)];
const F = {
  load: (off: number) => [0x2b, 3, ...uleb(off)],
  sqrt: [0x9f],
  floor: [0x9c],
  add: [0xa0],
  sub: [0xa1],
  mul: [0xa2],
  div: [0xa3],
  min: [0xa4],
  max: [0xa5],
  lt: [0x63],
  gt: [0x64],
  le: [0x65],
  ge: [0x66],
  fromI32: [0xb7], // f64.convert_i32_s
  fromI64: [0xb9], // f64.convert_i64_s
  toI32: [0xaa], // i32.trunc_f64_s
};
const F64 = 0x7c;
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
  const lane = (x: number, ext: number[], mOff: number): void => {
    f.e(op.get(vc), ext, op.get(vb), ext, op.add64);
    f.e(op.get(MW), op.get(j), op.i32(3), op.shl, op.add, op.i32(mOff), op.add, op.vload, op.mul64, op.get(vh), op.add64);
    f.e(op.get(S), op.shrS64, op.get(vy), op.add64, op.set(x));
    f.e(op.get(vlo), op.get(x), op.get(x), op.get(vlo), op.lt64, op.bitselect, op.set(x));
    f.e(op.get(vhi), op.get(x), op.get(x), op.get(vhi), op.gt64, op.bitselect, op.set(x));
  };
  requantRows(f, out, { OUT, ROWS, N }, { r, j, e0, e, a }, () => {
    f.e(op.get(C), op.get(e), op.i32(2), op.shl, op.add, op.vload, op.set(vc));
    f.e(op.get(BIAS), op.get(j), op.i32(2), op.shl, op.add, op.vload, op.set(vb));
    lane(a, op.extLo, 0);
    lane(b, op.extHi, 16);
    f.e(op.get(a), op.get(b), op.shuffle32([0, 2, 4, 6]), op.set(a));
  });
  return f;
}

/**
 * The row loop of the requant epilogues (requantVecFn, requantMulFn): for each of ROWS rows of N values, four at
 * a time (e = e0 + j the element), `lanes` leaves the four outputs in the i32 lanes of `a`; they are stored at
 * OUT + e as i32 (16 bytes) or narrowed to four bytes.
 */
function requantRows(
  f: Fn,
  out: 's8' | 'u8' | 'i32',
  p: { OUT: number; ROWS: number; N: number },
  l: { r: number; j: number; e0: number; e: number; a: number },
  lanes: () => void,
): void {
  const { OUT, ROWS, N } = p;
  const { r, j, e0, e, a } = l;
  f.e(op.i32(0), op.set(r), op.i32(0), op.set(e0));
  f.loop([op.get(r), op.get(ROWS), op.geU], () => {
    f.e(op.i32(0), op.set(j));
    f.loop([op.get(j), op.get(N), op.geU], () => {
      f.e(op.get(e0), op.get(j), op.add, op.set(e));
      lanes();
      if (out === 'i32') f.e(op.get(OUT), op.get(e), op.i32(2), op.shl, op.add, op.get(a), op.vstore);
      else {
        f.e(op.get(a), op.get(a), op.narrow16s, op.set(a));
        f.e(op.get(OUT), op.get(e), op.add, op.get(a), op.get(a), out === 's8' ? op.narrow8s : op.narrow8u, op.store32lane);
      }
      f.e(op.get(j), op.i32(4), op.add, op.set(j));
    });
    f.e(op.get(e0), op.get(N), op.add, op.set(e0), op.get(r), op.i32(1), op.add, op.set(r));
  });
}

/** lut8(x, table, y, n): u8 y[i] = table[x[i]] (x read as an unsigned byte; table of 256 bytes). */
function lutFn(): Fn {
  const f = new Fn('lut8', 4);
  const [X, T, Y, N] = [0, 1, 2, 3];
  const i = f.local(I32);
  f.e(op.i32(0), op.set(i));
  f.loop([op.get(i), op.get(N), op.geU], () => {
    f.e(op.get(Y), op.get(i), op.add, op.get(T), op.get(X), op.get(i), op.add, op.load8u, op.add, op.load8u, op.store8);
    f.e(op.get(i), op.i32(1), op.add, op.set(i));
  });
  return f;
}

/**
 * add8 / add8m(a, amap, b, bmap, ta, tb, y, n, shift, yZero, lo, hi): for i < n,
 *   y[i] = clamp(yZero + ((ta[a[ai]] + tb[b[bi]]) >> shift), lo, hi)   (i32 tables indexed by the raw byte)
 * with ai = bi = i (add8; the maps are ignored) or ai = amap[i], bi = bmap[i] (add8m); one byte out.
 */
function addFn(name: string, mapped: boolean): Fn {
  const f = new Fn(name, 12);
  const [A, AMAP, B, BMAP, TA, TB, Y, N, SH, YZ, LO, HI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const i = f.local(I32), v = f.local(I32);
  const idx = (src: number, map: number): number[][] =>
    mapped ? [op.get(src), op.get(map), op.get(i), op.i32(2), op.shl, op.add, op.load32, op.add, op.load8u] : [op.get(src), op.get(i), op.add, op.load8u];
  f.e(op.i32(0), op.set(i));
  f.loop([op.get(i), op.get(N), op.geU], () => {
    f.e(op.get(TA), ...idx(A, AMAP), op.i32(2), op.shl, op.add, op.load32);
    f.e(op.get(TB), ...idx(B, BMAP), op.i32(2), op.shl, op.add, op.load32, op.add);
    f.e(op.get(SH), [0x75], op.get(YZ), op.add, op.set(v)); // i32.shr_s
    f.e(op.get(LO), op.get(v), op.get(v), op.get(LO), op.ltS, op.select, op.set(v));
    f.e(op.get(HI), op.get(v), op.get(v), op.get(HI), [0x4a], op.select, op.set(v)); // i32.gt_s
    f.e(op.get(Y), op.get(i), op.add, op.get(v), op.store8);
    f.e(op.get(i), op.i32(1), op.add, op.set(i));
  });
  return f;
}

/**
 * softmax8(x, exp, y, rows, L, masked, ebuf): docs/ops.md §Softmax on i8 rows of length L, with the
 * i32 table exp[256] (ebuf: scratch for a row's e values; the output pass runs two float64 lanes at a time). S = Σ e (i64, < 2^51); y = min(−128 + roundDiv(256·e, S), 127) where roundDiv is
 * floor((512·e + S) / 2S) computed as a float64 quotient corrected by one with the exact remainder
 * (every operand is an integer below 2^53, so the float64 products and differences are exact).
 */
function softmaxFn(): Fn {
  const f = new Fn('softmax8', 7);
  const [X, EXP, Y, ROWS, L, MASKED, EB] = [0, 1, 2, 3, 4, 5, 6];
  const r = f.local(I32), i = f.local(I32), o = f.local(I32), yo = f.local(I32), mx = f.local(I32), v = f.local(I32), mask = f.local(I32), e = f.local(I32);
  const S = f.local(I64);
  const d = f.local(F64), rd = f.local(F64), num = f.local(F64), q = f.local(F64), rem = f.local(F64);
  const vS = f.local(V128), vd = f.local(V128), vrd = f.local(V128), vnum = f.local(V128), vq = f.local(V128), vrem = f.local(V128);
  const v512 = f.local(V128), vone = f.local(V128), vzero = f.local(V128), v128 = f.local(V128), v127 = f.local(V128);
  f.e(f64c(512), op.splatF, op.set(v512), f64c(1), op.splatF, op.set(vone), f64c(0), op.splatF, op.set(vzero), f64c(128), op.splatF, op.set(v128), f64c(127), op.splatF, op.set(v127));
  f.e(op.i32(0), op.set(r), op.get(X), op.set(o), op.get(Y), op.set(yo));
  f.loop([op.get(r), op.get(ROWS), op.geU], () => {
    f.e(op.i32(-128), op.set(mx), op.i32(0), op.set(i));
    f.loop([op.get(i), op.get(L), op.geU], () => {
      f.e(op.get(o), op.get(i), op.add, op.load8s, op.tee(v), op.get(mx), op.get(v), op.get(mx), [0x4a], op.select, op.set(mx));
      f.e(op.get(i), op.i32(1), op.add, op.set(i));
    });
    f.e(op.get(MASKED), op.get(mx), op.i32(-128), [0x47], op.and, op.set(mask)); // masked && mx ≠ −128
    // e_i = (mask && x_i = −128) ? 0 : exp[mx − x_i], kept in EB; S = Σ e_i
    f.e(op.i64(0), op.set(S), op.i32(0), op.set(i));
    f.loop([op.get(i), op.get(L), op.geU], () => {
      f.e(op.get(o), op.get(i), op.add, op.load8s, op.set(v));
      f.e(op.i32(0), op.get(EXP), op.get(mx), op.get(v), op.sub, op.i32(2), op.shl, op.add, op.load32);
      f.e(op.get(mask), op.get(v), op.i32(-128), op.eq, op.and, op.select, op.set(e));
      f.e(op.get(EB), op.get(i), op.i32(2), op.shl, op.add, op.get(e), op.store32);
      f.e(op.get(S), op.get(e), [0xad], op.i64add, op.set(S)); // i64.extend_i32_u
      f.e(op.get(i), op.i32(1), op.add, op.set(i));
    });
    f.e(op.get(S), F.fromI64, f64c(2), F.mul, op.set(d), f64c(1), op.get(d), F.div, op.set(rd));
    f.e(op.get(S), F.fromI64, op.splatF, op.set(vS), op.get(d), op.splatF, op.set(vd), op.get(rd), op.splatF, op.set(vrd));
    f.e(op.i32(0), op.set(i));
    // Two lanes at a time (float64x2; e ≥ 0 is read as i32, e < 2^31), then a scalar tail.
    f.loop([op.get(i), op.i32(2), op.add, op.get(L), op.gtU], () => {
      f.e(op.get(EB), op.get(i), op.i32(2), op.shl, op.add, op.vload, op.cvtLo, op.get(v512), op.mulF, op.get(vS), op.addF, op.set(vnum));
      f.e(op.get(vnum), op.get(vrd), op.mulF, op.floorF, op.set(vq));
      f.e(op.get(vnum), op.get(vq), op.get(vd), op.mulF, op.subF, op.set(vrem));
      f.e(op.get(vq), op.get(vone), op.subF, op.get(vq), op.get(vrem), op.get(vzero), op.ltF, op.bitselect, op.set(vq));
      f.e(op.get(vq), op.get(vone), op.addF, op.get(vq), op.get(vrem), op.get(vd), op.geF, op.bitselect, op.set(vq));
      f.e(op.get(vq), op.get(v128), op.subF, op.get(v127), op.pminF, op.truncF, op.set(vq));
      f.e(op.get(vq), op.get(vq), op.narrow16s, op.set(vq));
      f.e(op.get(yo), op.get(i), op.add, op.get(vq), op.get(vq), op.narrow8s, op.store16lane);
      f.e(op.get(i), op.i32(2), op.add, op.set(i));
    });
    f.loop([op.get(i), op.get(L), op.geU], () => {
      f.e(op.get(EB), op.get(i), op.i32(2), op.shl, op.add, op.load32, op.set(e));
      f.e(op.get(e), [0xad], op.i64(512), op.i64mul, op.get(S), op.i64add, F.fromI64, op.set(num));
      f.e(op.get(num), op.get(rd), F.mul, F.floor, op.set(q));
      f.e(op.get(num), op.get(q), op.get(d), F.mul, F.sub, op.set(rem));
      // v = q − (rem < 0) + (rem ≥ d) − 128, at most 127
      f.e(op.get(q), F.toI32, op.get(rem), f64c(0), F.lt, op.sub, op.get(rem), op.get(d), F.ge, op.add, op.i32(128), op.sub, op.set(v));
      f.e(op.get(yo), op.get(i), op.add, op.i32(127), op.get(v), op.get(v), op.i32(127), [0x4a], op.select, op.store8);
      f.e(op.get(i), op.i32(1), op.add, op.set(i));
    });
    f.e(op.get(o), op.get(L), op.add, op.set(o), op.get(yo), op.get(L), op.add, op.set(yo), op.get(r), op.i32(1), op.add, op.set(r));
  });
  return f;
}

/**
 * layernorm8{s,u}{s,u}(x, gamma, beta, y, rows, N, xZero, yZero, consts, lo, hi, cbuf): docs/ops.md
 * §LayerNorm on rows of N i8 / u8 values (first letter; the second is the output's); consts holds f64 [eps, 2^(shift−1), 2^−shift]; cbuf is
 * scratch for the row's c_i (i32). Integer sums in i32 (|c| < 2^19); Σc² and the rest in float64 on
 * integers below 2^53 (exact), with floor divisions as a float quotient corrected by one with the
 * exact remainder and isqrt as floor(sqrt) corrected by integer comparisons.
 */
function layerNormFn(name: string, signed: boolean, signedOut: boolean): Fn {
  const f = new Fn(name, 12);
  const [X, G, BETA, Y, ROWS, N, XZ, YZ, K, LO, HI, CB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const r = f.local(I32), i = f.local(I32), o = f.local(I32), yo = f.local(I32), T = f.local(I32), c = f.local(I32);
  const Q = f.local(F64), V = f.local(F64), R = f.local(F64), d = f.local(F64), rd = f.local(F64), num = f.local(F64), t = f.local(F64), rem = f.local(F64), nf = f.local(F64), v = f.local(F64);
  const load = signed ? op.load8s : op.load8u;
  const vR = f.local(V128), vd = f.local(V128), vrd = f.local(V128), vnum = f.local(V128), vt = f.local(V128), vrem = f.local(V128);
  const vtwo = f.local(V128), vone = f.local(V128), vzeroF = f.local(V128), vhalf = f.local(V128), vinv = f.local(V128), vyz = f.local(V128), vlo = f.local(V128), vhi = f.local(V128);
  f.e(f64c(2), op.splatF, op.set(vtwo), f64c(1), op.splatF, op.set(vone), f64c(0), op.splatF, op.set(vzeroF));
  f.e(op.get(K), F.load(8), op.splatF, op.set(vhalf), op.get(K), F.load(16), op.splatF, op.set(vinv));
  f.e(op.get(YZ), F.fromI32, op.splatF, op.set(vyz), op.get(LO), F.fromI32, op.splatF, op.set(vlo), op.get(HI), F.fromI32, op.splatF, op.set(vhi));
  f.e(op.get(N), F.fromI32, op.set(nf));
  f.e(op.i32(0), op.set(r), op.get(X), op.set(o), op.get(Y), op.set(yo));
  f.loop([op.get(r), op.get(ROWS), op.geU], () => {
    f.e(op.i32(0), op.set(T), op.i32(0), op.set(i));
    f.loop([op.get(i), op.get(N), op.geU], () => {
      f.e(op.get(T), op.get(o), op.get(i), op.add, load, op.add, op.set(T));
      f.e(op.get(i), op.i32(1), op.add, op.set(i));
    });
    f.e(op.get(T), op.get(N), op.get(XZ), op.mul, op.sub, op.set(T));
    f.e(f64c(0), op.set(Q), op.i32(0), op.set(i));
    f.loop([op.get(i), op.get(N), op.geU], () => {
      f.e(op.get(N), op.get(o), op.get(i), op.add, load, op.get(XZ), op.sub, op.mul, op.get(T), op.sub, op.set(c));
      f.e(op.get(CB), op.get(i), op.i32(2), op.shl, op.add, op.get(c), op.store32);
      f.e(op.get(Q), op.get(c), F.fromI32, op.get(c), F.fromI32, F.mul, F.add, op.set(Q));
      f.e(op.get(i), op.i32(1), op.add, op.set(i));
    });
    // V = floorDiv(Q, N) + eps
    f.e(op.get(Q), op.get(nf), F.div, F.floor, op.set(V));
    f.e(op.get(Q), op.get(V), op.get(nf), F.mul, F.sub, op.set(rem));
    f.e(op.get(V), op.get(rem), f64c(0), F.lt, F.fromI32, F.sub, op.get(rem), op.get(nf), F.ge, F.fromI32, F.add);
    f.e(op.get(K), F.load(0), F.add, op.set(V));
    // R = max(isqrt(V), 1)
    f.e(op.get(V), F.sqrt, F.floor, op.set(R));
    f.loop([op.get(R), op.get(R), F.mul, op.get(V), F.le], () => f.e(op.get(R), f64c(1), F.sub, op.set(R)));
    f.loop([op.get(R), f64c(1), F.add, op.get(R), f64c(1), F.add, F.mul, op.get(V), F.gt], () => f.e(op.get(R), f64c(1), F.add, op.set(R)));
    f.e(op.get(R), f64c(1), F.max, op.set(R));
    f.e(op.get(R), f64c(2), F.mul, op.set(d), f64c(1), op.get(d), F.div, op.set(rd));
    f.e(op.i32(0), op.set(i));
    // Two lanes at a time (float64x2, the same exact operations), then a scalar tail.
    f.e(op.get(R), op.splatF, op.set(vR), op.get(d), op.splatF, op.set(vd), op.get(rd), op.splatF, op.set(vrd));
    f.loop([op.get(i), op.i32(2), op.add, op.get(N), op.gtU], () => {
      f.e(op.get(i), op.i32(2), op.shl, op.set(c));
      f.e(op.get(G), op.get(c), op.add, op.vload, op.cvtLo, op.get(CB), op.get(c), op.add, op.vload, op.cvtLo, op.mulF, op.get(vtwo), op.mulF, op.get(vR), op.addF, op.set(vnum));
      f.e(op.get(vnum), op.get(vrd), op.mulF, op.floorF, op.set(vt));
      f.e(op.get(vnum), op.get(vt), op.get(vd), op.mulF, op.subF, op.set(vrem));
      f.e(op.get(vt), op.get(vone), op.subF, op.get(vt), op.get(vrem), op.get(vzeroF), op.ltF, op.bitselect, op.set(vt));
      f.e(op.get(vt), op.get(vone), op.addF, op.get(vt), op.get(vrem), op.get(vd), op.geF, op.bitselect, op.set(vt));
      f.e(op.get(vt), op.get(BETA), op.get(c), op.add, op.vload, op.cvtLo, op.addF, op.get(vhalf), op.addF, op.get(vinv), op.mulF, op.floorF);
      f.e(op.get(vyz), op.addF, op.get(vlo), op.pmaxF, op.get(vhi), op.pminF, op.truncF, op.set(vt));
      f.e(op.get(vt), op.get(vt), op.narrow16s, op.set(vt));
      f.e(op.get(yo), op.get(i), op.add, op.get(vt), op.get(vt), signedOut ? op.narrow8s : op.narrow8u, op.store16lane);
      f.e(op.get(i), op.i32(2), op.add, op.set(i));
    });
    f.loop([op.get(i), op.get(N), op.geU], () => {
      f.e(op.get(i), op.i32(2), op.shl, op.set(c));
      // t = roundDiv(gamma·c, R) = floor((2·gamma·c + R) / 2R)
      f.e(op.get(G), op.get(c), op.add, op.load32, F.fromI32, op.get(CB), op.get(c), op.add, op.load32, F.fromI32, F.mul, f64c(2), F.mul, op.get(R), F.add, op.set(num));
      f.e(op.get(num), op.get(rd), F.mul, F.floor, op.set(t));
      f.e(op.get(num), op.get(t), op.get(d), F.mul, F.sub, op.set(rem));
      f.e(op.get(t), op.get(rem), f64c(0), F.lt, F.fromI32, F.sub, op.get(rem), op.get(d), F.ge, F.fromI32, F.add, op.set(t));
      // y = clamp(yZero + floor((t + beta + 2^(s−1))·2^−s), lo, hi)
      f.e(op.get(t), op.get(BETA), op.get(c), op.add, op.load32, F.fromI32, F.add, op.get(K), F.load(8), F.add, op.get(K), F.load(16), F.mul, F.floor);
      f.e(op.get(YZ), F.fromI32, F.add, op.get(LO), F.fromI32, F.max, op.get(HI), F.fromI32, F.min, op.set(v));
      f.e(op.get(yo), op.get(i), op.add, op.get(v), F.toI32, op.store8);
      f.e(op.get(i), op.i32(1), op.add, op.set(i));
    });
    f.e(op.get(o), op.get(N), op.add, op.set(o), op.get(yo), op.get(N), op.add, op.set(yo), op.get(r), op.i32(1), op.add, op.set(r));
  });
  return f;
}

/**
 * Vector requant through 32×32→64-bit products, for epilogues where statically |C + bias| < 2^31,
 * every MW_j = mult_j·2^(S − shift_j) < 2^31 and 32 ≤ S: rows of N values, four at a time,
 *   p = (C + bias)·MW + 2^(S−1)   (i64 lanes, |p| < 2^63)
 *   out = clamp(yZero + (hi32(p) >> (S − 32)), lo, hi)
 * where hi32(p) = floor(p / 2^32), so the shifted value is floor(p / 2^S) = rshr((C + bias)·mult, shift)
 * (numerator and denominator of the rounding division scaled by 2^(S − shift)). Like requantVecFn it
 * writes up to 3 values past a row's end.
 */
function requantMulFn(name: string, out: 's8' | 'u8' | 'i32'): Fn {
  const f = new Fn(name, 10);
  const [C, BIAS, MW, OUT, ROWS, N, S, YZ, LO, HI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const r = f.local(I32), j = f.local(I32), e0 = f.local(I32), e = f.local(I32), t = f.local(I32), sh = f.local(I32);
  const vh = f.local(V128), vy = f.local(V128), vlo = f.local(V128), vhi = f.local(V128), v = f.local(V128), m = f.local(V128), a = f.local(V128);
  f.e(op.i64(1), op.get(S), op.i32(1), op.sub, op.ext, op.i64shl, op.splat64, op.set(vh));
  f.e(op.get(S), op.i32(32), op.sub, op.set(sh));
  f.e(op.get(YZ), op.splat32, op.set(vy), op.get(LO), op.splat32, op.set(vlo), op.get(HI), op.splat32, op.set(vhi));
  requantRows(f, out, { OUT, ROWS, N }, { r, j, e0, e, a }, () => {
    f.e(op.get(j), op.i32(2), op.shl, op.set(t));
    f.e(op.get(C), op.get(e), op.i32(2), op.shl, op.add, op.vload, op.get(BIAS), op.get(t), op.add, op.vload, op.vadd, op.set(v));
    f.e(op.get(MW), op.get(t), op.add, op.vload, op.set(m));
    f.e(op.get(v), op.get(m), op.extmulLo, op.get(vh), op.add64);
    f.e(op.get(v), op.get(m), op.extmulHi, op.get(vh), op.add64);
    f.e(op.shuffle32([1, 3, 5, 7]), op.get(sh), op.shr32, op.get(vy), op.vadd, op.get(vlo), op.max32, op.get(vhi), op.min32, op.set(a));
  });
  return f;
}

/**
 * addv..(a, b, y, n, aZero, bZero, aMult, bMult, shift, yZero, lo, hi): Add without broadcasting,
 * eight elements at a time: with da = a − aZero and db = b − bZero in i16 lanes (|d| ≤ 383),
 *   y = clamp(yZero + ((da·aMult + db·bMult + 2^(shift−1)) >> shift), lo, hi)
 * in i32 lanes (mult < 2^15; |sum| < 2^24 + 2^29 for shift ≤ 30), stored as bytes. Reads and writes
 * whole groups of eight (up to 7 past n).
 */
function addVecFn(name: string, aSigned: boolean, bSigned: boolean, ySigned: boolean): Fn {
  const f = new Fn(name, 12);
  const [A, B, Y, N, AZ, BZ, AM, BM, SH, YZ, LO, HI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const i = f.local(I32);
  const vaz = f.local(V128), vbz = f.local(V128), vam = f.local(V128), vbm = f.local(V128), vh = f.local(V128), vy = f.local(V128), vlo = f.local(V128), vhi = f.local(V128);
  const da = f.local(V128), db = f.local(V128), lo4 = f.local(V128);
  f.e(op.get(AZ), op.splat16, op.set(vaz), op.get(BZ), op.splat16, op.set(vbz), op.get(AM), op.splat16, op.set(vam), op.get(BM), op.splat16, op.set(vbm));
  f.e(op.i32(1), op.get(SH), op.i32(1), op.sub, op.shl, op.splat32, op.set(vh));
  f.e(op.get(YZ), op.splat32, op.set(vy), op.get(LO), op.splat32, op.set(vlo), op.get(HI), op.splat32, op.set(vhi));
  f.e(op.i32(0), op.set(i));
  const fin = (mul: number[]): number[][] => [
    op.get(da), op.get(vam), mul, op.get(db), op.get(vbm), mul, op.vadd, op.get(vh), op.vadd,
    op.get(SH), op.shr32, op.get(vy), op.vadd, op.get(vlo), op.max32, op.get(vhi), op.min32,
  ];
  f.loop([op.get(i), op.get(N), op.geU], () => {
    f.e(op.get(A), op.get(i), op.add, aSigned ? op.vload8s : op.vload8u, op.get(vaz), op.sub16, op.set(da));
    f.e(op.get(B), op.get(i), op.add, bSigned ? op.vload8s : op.vload8u, op.get(vbz), op.sub16, op.set(db));
    f.e(...fin(op.extmulLo16), op.set(lo4));
    f.e(op.get(Y), op.get(i), op.add, op.get(lo4), ...fin(op.extmulHi16), op.narrow16s, op.set(lo4), op.get(lo4), op.get(lo4), ySigned ? op.narrow8s : op.narrow8u, op.store64lane);
    f.e(op.get(i), op.i32(8), op.add, op.set(i));
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
    requantMulFn('rqm8s', 's8'),
    requantMulFn('rqm8u', 'u8'),
    requantMulFn('rqm32', 'i32'),
    lutFn(),
    addFn('add8', false),
    addFn('add8m', true),
    ...['sss', 'ssu', 'sus', 'suu', 'uss', 'usu', 'uus', 'uuu'].map((k) => addVecFn(`addv${k}`, k[0] === 's', k[1] === 's', k[2] === 's')),
    softmaxFn(),
    layerNormFn('layernorm8ss', true, true),
    layerNormFn('layernorm8su', true, false),
    layerNormFn('layernorm8us', false, true),
    layerNormFn('layernorm8uu', false, false),
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
  rqm8s: F10;
  rqm8u: F10;
  rqm32: F10;
  lut8: (x: number, table: number, y: number, n: number) => void;
  add8: AddFn;
  add8m: AddFn;
  [addv: `addv${string}`]: (a: number, b: number, y: number, n: number, aZero: number, bZero: number, aMult: number, bMult: number, shift: number, yZero: number, lo: number, hi: number) => void;
  softmax8: (x: number, exp: number, y: number, rows: number, L: number, masked: number, ebuf: number) => void;
  layernorm8ss: LayerNormFn;
  layernorm8su: LayerNormFn;
  layernorm8us: LayerNormFn;
  layernorm8uu: LayerNormFn;
}
type LayerNormFn = (x: number, gamma: number, beta: number, y: number, rows: number, N: number, xZero: number, yZero: number, consts: number, lo: number, hi: number, cbuf: number) => void;
type AddFn = (a: number, amap: number, b: number, bmap: number, ta: number, tb: number, y: number, n: number, shift: number, yZero: number, lo: number, hi: number) => void;

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

/** Whether setWasmGemmEnabled(false) is in effect (the native kernels then stand down too: JS only). */
export function portableJsOnly(): boolean {
  return switchedOff;
}

/** The kernels, or null when WebAssembly SIMD is unavailable or switched off. */
export function wasmKernels(): WasmKernels | null {
  return init() ? kernels : null;
}

/**
 * Switches the WebAssembly kernels (dense and elementwise) off (or back on) for models prepared
 * afterwards (tests run the property tests on the JS paths too). Returns the previous setting.
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
export function resident(data: Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float64Array): Region {
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
