/*
 * Conv kernels of the native addon (included by verity_native.c, which provides the requant, GEMM and N-API helpers):
 *
 *   convPlan(depthwise, xSigned, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, CO, weights, bias|null, mult,
 *            shift, yZero, lo, hi, outBytes) -> plan (an external value: the step's constants, made once)
 *   convRun(plan, x, y, B)
 *       NHWC conv of B items: depthwise (group = C = CO, weights int16 [KH][KW][C]; padding contributes 0), or group 1
 *       (weights i8 [CO][KH][KW][C], packed by convPlan): per item, x padded with xZero bytes, its im2col rows
 *       (KH·KW·C bytes an output position) built a block at a time, then the GEMM + requant on the block.
 *   gap(x, xSigned, B, HW, C, xZero, yZero, lo, hi, y)
 *       GlobalAveragePool: y[b][c] = clamp(yZero + roundDiv(Σ_p x[b][p][c] − HW·xZero, HW), lo, hi), 8-bit in and out,
 *       roundDiv(a, d) = floor((2a + d) / 2d) (docs/ops.md §GlobalAveragePool).
 *
 * Exactness of the fast depthwise (AVX-512 VNNI): with u = x ^ flip (u = x + 128 for i8, x for u8) and z' = xZero
 * (+ 128 for i8), each item is first copied into a buffer whose border is z' (the padding), so every window has all
 * its taps and Σ_taps (x − xZero)·w = Σ_taps u·w − z'·Σ_taps w (the padded taps give u − z' = 0). u (0..255,
 * zero-extended) and w (int16) sit in the low halves of int32 lanes whose high halves are 0, so one vpdpwssd adds
 * the exact product u·w; the lane sums wrap mod 2^32 like the GEMM's, and the exact sum fits in int32 (the caller's
 * bound K·max|x − z|·max|w| ≤ 2^31 − 1), so the wrapped sum is the exact sum. dw_row is the plain reference.
 */

/* ---------- depthwise conv: one output row [OW][C] of int32 accumulators at a time (reference, all paths) ---------- */
#ifdef VERITY_X86
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
#endif
static void dw_row(const uint8_t *x, int sgn, int H, int W, int C, int KH, int KW, int oh, int OW, int sh, int sw, int dh, int dw,
                   int pt, int pl, int32_t z, const int16_t *w16, int32_t *acc) {
  memset(acc, 0, (size_t)OW * C * 4);
  for (int kh = 0; kh < KH; kh++) {
    const int h = oh * sh + kh * dh - pt;
    if (h < 0 || h >= H) continue;
    for (int kw = 0; kw < KW; kw++) {
      const int16_t *wk = w16 + ((size_t)kh * KW + kw) * C;
      for (int ow = 0; ow < OW; ow++) {
        const int xx = ow * sw + kw * dw - pl;
        if (xx < 0 || xx >= W) continue; /* padding: x − xZero = 0 */
        const uint8_t *px = x + ((size_t)h * W + xx) * C;
        int32_t *pa = acc + (size_t)ow * C;
        if (sgn)
          for (int c = 0; c < C; c++) pa[c] += ((int32_t)(int8_t)px[c] - z) * (int32_t)wk[c];
        else
          for (int c = 0; c < C; c++) pa[c] += ((int32_t)px[c] - z) * (int32_t)wk[c];
      }
    }
  }
}

/* The Hp × Wp pixels the windows reach, rows −pt.. and columns −pl.. of x: u = x ^ flip inside, fill outside. */
static void pad_item(const uint8_t *x, int H, int W, int C, int pt, int pl, int Hp, int Wp, uint8_t flip, uint8_t fill, uint8_t *u) {
  const size_t rowBytes = (size_t)Wp * C;
  const int c0 = pl < Wp ? pl : Wp, c1 = pl + W < Wp ? pl + W : Wp; /* inside columns [c0, c1) */
  for (int r = 0; r < Hp; r++) {
    uint8_t *d = u + (size_t)r * rowBytes;
    const int h = r - pt;
    if (h < 0 || h >= H || c1 <= c0) {
      memset(d, fill, rowBytes);
      continue;
    }
    memset(d, fill, (size_t)c0 * C);
    const uint8_t *s = x + (size_t)h * W * C;
    const size_t n = (size_t)(c1 - c0) * C;
    if (flip)
      for (size_t i = 0; i < n; i++) d[(size_t)c0 * C + i] = s[i] ^ flip;
    else
      memcpy(d + (size_t)c0 * C, s, n);
    memset(d + (size_t)c1 * C, fill, (size_t)(Wp - c1) * C);
  }
}

#ifdef VERITY_X86
/* The requant constants of 16 columns (channels) j0.. as int64 lanes, even columns j0, j0 + 2, .. and odd ones apart, lanes
 * outside m zero; rq16 then applies requant_row's int64 formula y = clamp(yZero + ((c·m_j + bm_j) >> s_j), lo, hi) to 16
 * int32 accumulators (vpmuldq reads the even ones in place and the odd ones shifted down) and returns the 16 results as int32. */
typedef struct { __m512i me, mo, be, bo, se, so; } rq16_t;

VNNI_TARGET static inline __attribute__((always_inline)) rq16_t rq16_load(const rq_t *q, int j0, __mmask16 m) {
  const __m512i ie = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), io = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
  const __mmask8 m0 = (__mmask8)m, m1 = (__mmask8)(m >> 8);
  rq16_t r;
  const int64_t *t[3] = {q->m, q->bm, q->s};
  __m512i e[3], o[3];
  for (int k = 0; k < 3; k++) {
    const __m512i lo = _mm512_maskz_loadu_epi64(m0, t[k] + j0), hi = _mm512_maskz_loadu_epi64(m1, t[k] + j0 + 8);
    e[k] = _mm512_permutex2var_epi64(lo, ie, hi);
    o[k] = _mm512_permutex2var_epi64(lo, io, hi);
  }
  r.me = e[0], r.mo = o[0], r.be = e[1], r.bo = o[1], r.se = e[2], r.so = o[2];
  return r;
}

VNNI_TARGET static inline __attribute__((always_inline)) __m512i rq16(__m512i c, const rq16_t *k, __m512i vz, __m512i vlo, __m512i vhi) {
  __m512i ye = _mm512_add_epi64(_mm512_mul_epi32(c, k->me), k->be);
  __m512i yo = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srai_epi64(c, 32), k->mo), k->bo);
  ye = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(vz, _mm512_srav_epi64(ye, k->se)), vlo), vhi);
  yo = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(vz, _mm512_srav_epi64(yo, k->so)), vlo), vhi);
  return _mm512_mask_blend_epi32(0xAAAA, ye, _mm512_slli_epi64(yo, 32));
}

VNNI_TARGET static inline __attribute__((always_inline)) void store16(__m512i y, __mmask16 m, void *out, int ob) {
  if (ob == 4) _mm512_mask_storeu_epi32(out, m, y);
  else _mm_mask_storeu_epi8(out, m, _mm512_cvtepi32_epi8(y));
}

/* dense_core's rows with the requant fused into the tile epilogue (no int32 C block): Ap holds rows of u (already flipped,
 * or flipped as read: each 4-byte group of a row XORed with xm, 0x80808080 for raw i8 bytes, 0 otherwise), each padded with
 * zeros to lda = 4·kq bytes; y[r][j] = requant(Σ_k u(r,k)·w'(j,k) − zc·colsum[j] − rowc[r]) for r < rows,
 * j < N (rowc: MatMul's wZero·Σ_k (x − z) per row, mod 2^32; NULL: none). */
VNNI_TARGET static void gemm_rq_vnni(const uint8_t *Ap, int rows, int kq, const int8_t *pw, const int32_t *colsum, int N, uint32_t zc,
                                     const rq_t *q, int32_t yZero, int32_t lo, int32_t hi, uint8_t *y, int ob, const int32_t *rowc,
                                     uint32_t xm) {
  const int nb = (N + NR - 1) / NR, lda = kq * KQ;
  const __m512i vzc = _mm512_set1_epi32((int)zc), vz = _mm512_set1_epi64(yZero), vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
  if (N <= 8) { /* two rows a requant: rows r and r + 1 are adjacent in y, so lanes 0..N−1 (row r) and N..2N−1 (row r + 1) */
    int64_t tm[16], tb[16], ts[16];
    int32_t cs[16], ix[16];
    for (int l = 0; l < 16; l++) {
      const int j = l % N;
      tm[l] = q->m[j], tb[l] = q->bm[j], ts[l] = q->s[j], cs[l] = colsum[j];
      ix[l] = l < N ? l : 16 + l - N; /* row r + 1's lane l − N */
    }
    const rq_t q2 = {.bm = tb, .m = tm, .s = ts, .n = 16};
    const __mmask16 m1 = (__mmask16)((1u << N) - 1), m2 = (__mmask16)(N == 8 ? 0xffff : (1u << 2 * N) - 1);
    const rq16_t k2 = rq16_load(&q2, 0, 0xffff);
    const __m512i corr = _mm512_mullo_epi32(vzc, _mm512_loadu_si512((const void *)cs)), idx = _mm512_loadu_si512((const void *)ix);
    for (int r0 = 0; r0 < rows; r0 += VMR) {
      const int mr = rows - r0 < VMR ? rows - r0 : VMR;
      const uint8_t *a = Ap + (size_t)r0 * lda;
      __m512i acc[VMR][2];
      if (mr == VMR) vnni_tile_8x1(a, lda, pw, kq, acc, xm);
      else vnni_tile(a, lda, mr, pw, pw, 0, kq, acc, xm);
      int i = 0;
      for (; i + 1 < mr; i += 2) {
        const __m512i c = rowc ? _mm512_add_epi32(corr, _mm512_mask_blend_epi32((__mmask16)~m1, _mm512_set1_epi32(rowc[r0 + i]),
                                                                                 _mm512_set1_epi32(rowc[r0 + i + 1])))
                               : corr;
        const __m512i v = _mm512_permutex2var_epi32(acc[i][0], idx, acc[i + 1][0]);
        store16(rq16(_mm512_sub_epi32(v, c), &k2, vz, vlo, vhi), m2, y + (size_t)(r0 + i) * N * ob, ob);
      }
      if (i < mr) {
        const __m512i c = rowc ? _mm512_add_epi32(corr, _mm512_set1_epi32(rowc[r0 + i])) : corr;
        store16(rq16(_mm512_sub_epi32(acc[i][0], c), &k2, vz, vlo, vhi), m1, y + (size_t)(r0 + i) * N * ob, ob);
      }
    }
    return;
  }
  for (int b = 0; b < nb; b += 2) {
    const int two = b + 1 < nb;
    const int8_t *wb0 = pw + (size_t)b * kq * 64;
    const int8_t *wb1 = two ? wb0 + (size_t)kq * 64 : wb0;
    __m512i corr[2];
    __mmask16 m[2];
    rq16_t k[2];
    for (int h = 0; h < 1 + two; h++) {
      const int j0 = (b + h) * NR, nv = N - j0 < NR ? N - j0 : NR;
      corr[h] = _mm512_mullo_epi32(vzc, _mm512_loadu_si512((const void *)(colsum + j0)));
      m[h] = (__mmask16)(nv == 16 ? 0xffff : (1u << nv) - 1);
      k[h] = rq16_load(q, j0, m[h]);
    }
    for (int r0 = 0; r0 < rows; r0 += VMR) {
      const int mr = rows - r0 < VMR ? rows - r0 : VMR;
      const uint8_t *a = Ap + (size_t)r0 * lda;
      __m512i acc[VMR][2];
      if (mr == VMR && two) vnni_tile_8x2(a, lda, wb0, wb1, kq, acc, xm);
      else if (mr == VMR) vnni_tile_8x1(a, lda, wb0, kq, acc, xm);
      else vnni_tile(a, lda, mr, wb0, wb1, two, kq, acc, xm);
      for (int h = 0; h < 1 + two; h++)
        for (int i = 0; i < mr; i++)
          store16(rq16(_mm512_sub_epi32(acc[i][h], rowc ? _mm512_add_epi32(corr[h], _mm512_set1_epi32(rowc[r0 + i])) : corr[h]), &k[h], vz,
                       vlo, vhi),
                  m[h], y + ((size_t)(r0 + i) * N + (b + h) * NR) * ob, ob);
    }
  }
}
#endif

#ifdef VERITY_X86
/* The fast path's im2col rows p0 .. p0 + m − 1 of the padded item u at column dilation 1: each kernel row is one run of
 * runW ≤ 64 bytes, moved by one masked load and store (the byte loop and memcpy call of conv_run cost more than the GEMM
 * on small-C convs: digits-convnet's and mobile-net's first 3 × 3 over one channel, 3-byte runs), then the row's zero tail
 * up to lda. */
VNNI_TARGET static void im2col_runs(const uint8_t *u, int Wp, int C, int KH, int sh, int sw, int dh, int OW, int p0, int m,
                                    size_t runW, int K, int lda, uint8_t *A) {
  const __mmask64 mk = runW >= 64 ? ~0ULL : (1ULL << runW) - 1;
  /* the narrowest vector that holds a run: a wider one splits across cache lines more often (masked-off bytes too) */
  const int wide = runW > 32 ? 2 : runW > 16;
  for (int i = 0, oh = p0 / OW, ow = p0 % OW; i < m; i++) {
    uint8_t *d = A + (size_t)i * lda;
    for (int kh = 0; kh < KH; kh++, d += runW) {
      const uint8_t *s = u + ((size_t)(oh * sh + kh * dh) * Wp + (size_t)ow * sw) * C;
      if (wide == 0) _mm_mask_storeu_epi8(d, (__mmask16)mk, _mm_maskz_loadu_epi8((__mmask16)mk, s));
      else if (wide == 1) _mm256_mask_storeu_epi8(d, (__mmask32)mk, _mm256_maskz_loadu_epi8((__mmask32)mk, s));
      else _mm512_mask_storeu_epi8(d, mk, _mm512_maskz_loadu_epi8(mk, s));
    }
    for (int k = K; k < lda; k++) *d++ = 0;
    if (++ow == OW) ow = 0, oh++;
  }
}

/* A 16-channel block c0.. of a depthwise row: its lane count and mask, −corr, the requant constants and bounds, and the
 * widened weights of its first `taps` taps (taps ≤ 9). */
typedef struct { int nv; __mmask16 m; __m512i nc, vz, vlo, vhi, w[9]; rq16_t k; } dw_block_t;

VNNI_TARGET static inline __attribute__((always_inline)) dw_block_t dw_block(int c0, int C, int taps, const int16_t *w16, const int32_t *corr,
                                                                             const rq_t *q, int32_t yZero, int32_t lo, int32_t hi) {
  dw_block_t b;
  b.nv = C - c0 < 16 ? C - c0 : 16;
  b.m = (__mmask16)(b.nv == 16 ? 0xffff : (1u << b.nv) - 1);
  b.nc = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_maskz_loadu_epi32(b.m, corr + c0));
  b.vz = _mm512_set1_epi64(yZero), b.vlo = _mm512_set1_epi64(lo), b.vhi = _mm512_set1_epi64(hi);
  b.k = rq16_load(q, c0, b.m);
  for (int t = 0; t < taps; t++) b.w[t] = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(b.m, w16 + (size_t)t * C + c0));
  return b;
}

/* One output row from the padded item u (row stride Wp·C): y[ow][c] = requant(Σ_taps u·w − corr[c]). KH, KW constant when
 * inlined for 3 × 3, so the 9 weight vectors of a 16-channel block stay in registers across the row. */
VNNI_TARGET static inline __attribute__((always_inline)) void dw_row_vnni_k(const uint8_t *u, int Wp, int C, int KH, int KW, int sh,
                                                                            int sw, int dh, int dw, int oh, int OW, const int16_t *w16,
                                                                            const int32_t *corr, const rq_t *q, int32_t yZero, int32_t lo,
                                                                            int32_t hi, uint8_t *y, int ob) {
  const int inreg = KH * KW <= 9;
  for (int c0 = 0; c0 < C; c0 += 16) {
    const dw_block_t bk = dw_block(c0, C, inreg ? KH * KW : 0, w16, corr, q, yZero, lo, hi);
    const int nv = bk.nv;
    const __mmask16 m = bk.m;
    const uint8_t *row = u + (size_t)oh * sh * Wp * C + c0;
    for (int ow = 0; ow < OW; ow++) {
      const uint8_t *p = row + (size_t)ow * sw * C;
      __m512i s[2] = {bk.nc, _mm512_setzero_si512()}; /* two sums: half the dependency chain */
      for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++) {
          const int t = kh * KW + kw;
          const uint8_t *px = p + ((size_t)kh * dh * Wp + (size_t)kw * dw) * C;
          /* a whole block: a plain load, folded into vpmovzxbd (the masked load is one more uop) */
          const __m512i xv = _mm512_cvtepu8_epi32(nv == 16 ? _mm_loadu_si128((const __m128i *)px) : _mm_maskz_loadu_epi8(m, px));
          const __m512i wt = inreg ? bk.w[t] : _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w16 + (size_t)t * C + c0));
          s[t & 1] = _mm512_dpwssd_epi32(s[t & 1], xv, wt);
        }
      store16(rq16(_mm512_add_epi32(s[0], s[1]), &bk.k, bk.vz, bk.vlo, bk.vhi), m, y + ((size_t)ow * C + c0) * ob, ob);
    }
  }
}

/* 3 × 3 at column stride 1 (no column dilation): output ow + 1 reads two of ow's three input columns, so the widened
 * input vectors slide along the row in registers (3 loads an output instead of 9). Same sums as dw_row_vnni_k. */
VNNI_TARGET static void dw_row_vnni_3x3s1(const uint8_t *u, int Wp, int C, int sh, int dh, int oh, int OW, const int16_t *w16,
                                          const int32_t *corr, const rq_t *q, int32_t yZero, int32_t lo, int32_t hi, uint8_t *y, int ob) {
  for (int c0 = 0; c0 < C; c0 += 16) {
    const dw_block_t bk = dw_block(c0, C, 9, w16, corr, q, yZero, lo, hi);
    const int nv = bk.nv;
    const __mmask16 m = bk.m;
    const __m512i *w = bk.w;
    const uint8_t *r[3];
    for (int kh = 0; kh < 3; kh++) r[kh] = u + ((size_t)oh * sh + (size_t)kh * dh) * Wp * C + c0;
#define DWX(p) _mm512_cvtepu8_epi32(nv == 16 ? _mm_loadu_si128((const __m128i *)(p)) : _mm_maskz_loadu_epi8(m, (p)))
    __m512i a0 = DWX(r[0]), a1 = DWX(r[0] + C), b0 = DWX(r[1]), b1 = DWX(r[1] + C), e0 = DWX(r[2]), e1 = DWX(r[2] + C);
    for (int ow = 0; ow < OW; ow++) {
      const size_t o = (size_t)(ow + 2) * C;
      const __m512i a2 = DWX(r[0] + o), b2 = DWX(r[1] + o), e2 = DWX(r[2] + o);
#undef DWX
      __m512i s0 = _mm512_dpwssd_epi32(bk.nc, a0, w[0]), s1 = _mm512_dpwssd_epi32(_mm512_setzero_si512(), a1, w[1]);
      s0 = _mm512_dpwssd_epi32(s0, a2, w[2]);
      s1 = _mm512_dpwssd_epi32(s1, b0, w[3]);
      s0 = _mm512_dpwssd_epi32(s0, b1, w[4]);
      s1 = _mm512_dpwssd_epi32(s1, b2, w[5]);
      s0 = _mm512_dpwssd_epi32(s0, e0, w[6]);
      s1 = _mm512_dpwssd_epi32(s1, e1, w[7]);
      s0 = _mm512_dpwssd_epi32(s0, e2, w[8]);
      store16(rq16(_mm512_add_epi32(s0, s1), &bk.k, bk.vz, bk.vlo, bk.vhi), m, y + ((size_t)ow * C + c0) * ob, ob);
      a0 = a1, a1 = a2, b0 = b1, b1 = b2, e0 = e1, e1 = e2;
    }
  }
}

VNNI_TARGET static void dw_row_vnni(const uint8_t *u, int Wp, int C, int KH, int KW, int sh, int sw, int dh, int dw, int oh, int OW,
                                    const int16_t *w16, const int32_t *corr, const rq_t *q, int32_t yZero, int32_t lo, int32_t hi,
                                    uint8_t *y, int ob) {
  if (KH == 3 && KW == 3 && sw == 1 && dw == 1) dw_row_vnni_3x3s1(u, Wp, C, sh, dh, oh, OW, w16, corr, q, yZero, lo, hi, y, ob);
  else if (KH == 3 && KW == 3) dw_row_vnni_k(u, Wp, C, 3, 3, sh, sw, dh, dw, oh, OW, w16, corr, q, yZero, lo, hi, y, ob);
  else dw_row_vnni_k(u, Wp, C, KH, KW, sh, sw, dh, dw, oh, OW, w16, corr, q, yZero, lo, hi, y, ob);
}
#endif

/* ---------- a conv step's plan: its constants made once (convPlan), then one convRun per step ---------- */
/* Held in an external value (JS can neither read nor change it); freed when it is garbage collected. The scratch is the
 * plan's own (one JS thread uses a prepared model, and a run is synchronous), sized for one item. */
typedef struct {
  int depthwise, sgn, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, z, CO, yZero, lo, hi, ob, Hp, Wp, K, rows;
  rq_t q;
  int32_t *corr; /* depthwise: z'·Σ_taps w per channel, z' = xZero as u (mod 2^32) */
  int16_t *w16;  /* depthwise weights [KH][KW][C] */
  int8_t *pk;    /* group-1 conv: the packed weights (pack_into of [CO][KH·KW·C]) */
  uint8_t *scratch;
} conv_plan_t;

/* The type tag of a conv plan's external value: convRun takes no other external (an untagged one, or another addon's, would be
 * read as a plan). */
static const napi_type_tag CONV_PLAN_TAG = {0x7665726974792d63ULL, 0x6f6e76706c616e31ULL};

static void plan_free(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  conv_plan_t *p = data;
  rq_free(&p->q);
  free(p->corr), free(p->w16), free(p->pk), free(p->scratch), free(p);
}

/* Depthwise (group = C = CO) over B items. Reference: dw_row (padding skipped, x − xZero = 0 there). */
static void dw_run(const conv_plan_t *p, const uint8_t *x, uint8_t *y, int B) {
  const int C = p->C, OH = p->OH, OW = p->OW, ob = p->ob;
  const size_t rowN = (size_t)OW * C;
  int32_t *acc = (int32_t *)p->scratch;
  for (int b = 0; b < B; b++) {
    const uint8_t *xi = x + (size_t)b * p->H * p->W * C;
    uint8_t *yi = y + (size_t)b * OH * rowN * ob;
#ifdef VERITY_X86
    if (g_path == 2) {
      uint8_t *u = p->scratch + rowN * 4;
      const int zf = p->sgn ? p->z + 128 : p->z;
      pad_item(xi, p->H, p->W, C, p->pt, p->pl, p->Hp, p->Wp, p->sgn ? 0x80 : 0, (uint8_t)zf, u);
      for (int oh = 0; oh < OH; oh++)
        dw_row_vnni(u, p->Wp, C, p->KH, p->KW, p->sh, p->sw, p->dh, p->dw, oh, OW, p->w16, p->corr, &p->q, p->yZero, p->lo, p->hi,
                    yi + (size_t)oh * rowN * ob, ob);
      continue;
    }
#endif
    for (int oh = 0; oh < OH; oh++) {
      dw_row(xi, p->sgn, p->H, p->W, C, p->KH, p->KW, oh, OW, p->sh, p->sw, p->dh, p->dw, p->pt, p->pl, p->z, p->w16, acc);
      for (int ow = 0; ow < OW; ow++) requant_any(acc + (size_t)ow * C, C, &p->q, p->yZero, p->lo, p->hi, yi + ((size_t)oh * OW + ow) * C * ob, ob);
    }
  }
}

/* Group-1 conv over B items: per item x padded with xZero bytes, its im2col rows built a block at a time, then the GEMM +
 * requant. Reference: out[b][p][j] = requant(Σ_{kh,kw,c} (x[b][h][w][c] − xZero)·W[j][kh][kw][c]) with (h, w) = (oh·sh + kh·dh
 * − pt, ow·sw + kw·dw − pl), terms outside the input 0 — the JS im2col's rows (src/engine/ops/conv.ts) with xZero as the
 * padding byte, so each row is dense's row. Returns 0 when out of memory. */
static int conv_run(const conv_plan_t *p, const uint8_t *x, uint8_t *y, int B) {
  const int C = p->C, KH = p->KH, KW = p->KW, K = p->K, OW = p->OW, P = p->OH * p->OW, CO = p->CO, ob = p->ob, Hp = p->Hp, Wp = p->Wp;
  const int fast = g_path == 2;
  const int lda = fast ? (K + KQ - 1) / KQ * KQ : K; /* the fast path's rows are u = x ^ flip padded to whole quads */
  const int rows = p->rows;
  uint8_t *u = p->scratch, *A = u + (size_t)Hp * Wp * C;
  const uint8_t flip = fast && p->sgn ? 0x80 : 0;
  const int32_t zf = flip ? p->z + 128 : p->z; /* the padding byte: xZero as u */
  const size_t runW = (size_t)KW * C;         /* dw = 1: one kernel row is one run of KW·C bytes */
  /* A 1×1 window at stride 1 over whole quads reads the (padded) item's pixels as they are: no im2col copy; without padding
   * not even the item copy (i8 bytes then flipped as the GEMM reads them: xm). */
  const int direct = KH == 1 && KW == 1 && p->sh == 1 && p->sw == 1 && lda == K;
  for (int b = 0; b < B; b++) {
    const uint8_t *xi = x + (size_t)b * p->H * p->W * C;
    const int asIs = direct && p->pt == 0 && p->pl == 0 && Hp == p->H && Wp == p->W; /* u would equal x ^ flip */
    const uint32_t xm = asIs ? flip * 0x01010101u : 0;
    if (!asIs) pad_item(xi, p->H, p->W, C, p->pt, p->pl, Hp, Wp, flip, (uint8_t)zf, u);
    const uint8_t *ui = asIs ? xi : u;
    for (int p0 = 0; p0 < P; p0 += rows) {
      const int m = P - p0 < rows ? P - p0 : rows;
      const uint8_t *Ab = A;
      if (direct && OW == Wp) Ab = ui + (size_t)p0 * C; /* the rows are consecutive pixels */
#ifdef VERITY_X86
      else if (fast && p->dw == 1 && runW <= 64)
        im2col_runs(ui, Wp, C, KH, p->sh, p->sw, p->dh, OW, p0, m, runW, K, lda, A);
#endif
      else
        for (int i = 0, oh = p0 / OW, ow = p0 % OW; i < m; i++) {
          uint8_t *d = A + (size_t)i * lda;
          for (int kh = 0; kh < KH; kh++) {
            const uint8_t *s = ui + ((size_t)(oh * p->sh + kh * p->dh) * Wp + (size_t)ow * p->sw) * C;
            if (p->dw == 1) {
              if (runW >= 16) memcpy(d, s, runW);
              else for (size_t e = 0; e < runW; e++) d[e] = s[e];
              d += runW;
            } else
              for (int kw = 0; kw < KW; kw++, d += C)
                for (int e = 0; e < C; e++) d[e] = s[(size_t)kw * p->dw * C + e];
          }
          for (int k = K; k < lda; k++) *d++ = 0;
          if (++ow == OW) ow = 0, oh++;
        }
      uint8_t *yb = y + ((size_t)b * P + p0) * CO * ob;
#ifdef VERITY_X86
      if (fast) {
        const int nb = (CO + NR - 1) / NR, kq = lda / KQ;
        gemm_rq_vnni(Ab, m, kq, p->pk, (const int32_t *)(p->pk + (size_t)nb * kq * NR * KQ), CO, (uint32_t)zf, &p->q, p->yZero, p->lo,
                     p->hi, yb, ob, NULL, xm);
        continue;
      }
#endif
      if (!dense_core(Ab, p->sgn, m, K, p->z, p->pk, CO, &p->q, p->yZero, p->lo, p->hi, yb, ob, 0)) return 0;
    }
  }
  return 1;
}

/* convPlan(depthwise, xSigned, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, CO, weights, bias|null, mult, shift, yZero,
 *          lo, hi, outBytes) -> plan: depthwise (group = C = CO) with weights an Int16Array [KH][KW][C], else a group-1 conv with
 * weights an Int8Array [CO][KH][KW][C] (packed here). The output size must be the window's (docs/ops.md §Conv). */
static napi_value js_conv_plan(napi_env env, napi_callback_info info) {
  ARGS(25, "convPlan");
  int32_t v[25];
  static const int ints[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 21, 22, 23, 24};
  if (!get_ints(env, a, ints, 21, v)) return fail(env, "convPlan: integer arguments expected");
  const int dwise = v[0] != 0, C = v[4], KH = v[5], KW = v[6], sh = v[7], sw = v[8], dh = v[9], dw = v[10], pt = v[11], pl = v[12],
            OH = v[13], OW = v[14], CO = dwise ? C : v[16], ob = v[24];
  size_t wb, bb = 0, mb, sb;
  napi_typedarray_type wt;
  const void *w = ta(env, a[17], &wb, &wt);
  napi_valuetype bt;
  napi_typeof(env, a[18], &bt);
  const int32_t *bias = bt == napi_null ? NULL : ta(env, a[18], &bb, NULL);
  const int32_t *mult = ta(env, a[19], &mb, NULL), *shift = ta(env, a[20], &sb, NULL);
  if (!w || !mult || !shift || (bt != napi_null && !bias) || v[2] < 1 || v[3] < 1 || C < 1 || KH < 1 || KW < 1 || sh < 1 || sw < 1 ||
      dh < 1 || dw < 1 || pt < 0 || pl < 0 || OH < 1 || OW < 1 || CO < 1 || (ob != 1 && ob != 4) || (size_t)KH * KW * C > (1u << 24) ||
      ((double)(OH - 1) * sh + (double)(KH - 1) * dh + 1) * ((double)(OW - 1) * sw + (double)(KW - 1) * dw + 1) * C > (double)(1 << 30) ||
      /* an item's input and output stay under 2^31 bytes, so convRun's B·H·W·C and B·OH·OW·CO·ob cannot wrap */
      (double)v[2] * v[3] * C > (double)(1u << 31) || (double)OH * OW * CO * ob > (double)(1u << 31))
    return fail(env, "convPlan: bad arguments"); /* every read is inside x or the padded buffer, whatever OH and OW are */
  const size_t taps = (size_t)KH * KW;
  if (dwise ? wt != napi_int16_array || wb < taps * C * 2 : wt != napi_int8_array || wb < taps * C * CO)
    return fail(env, "convPlan: weights do not match");
  if (mb < (size_t)CO * 4 || sb < (size_t)CO * 4 || (bias && bb < (size_t)CO * 4)) return fail(env, "convPlan: tables do not match");
  for (int j = 0; j < CO; j++)
    if (shift[j] < 1 || shift[j] > 62) return fail(env, "convPlan: shift out of range");
  conv_plan_t *p = calloc(1, sizeof *p);
  if (!p) return fail(env, "convPlan: out of memory");
  *p = (conv_plan_t){.depthwise = dwise, .sgn = v[1] != 0, .H = v[2], .W = v[3], .C = C, .KH = KH, .KW = KW, .sh = sh, .sw = sw,
                     .dh = dh, .dw = dw, .pt = pt, .pl = pl, .OH = OH, .OW = OW, .z = v[15], .CO = CO, .yZero = v[21], .lo = v[22],
                     .hi = v[23], .ob = ob, .K = (int)(taps * C)};
  p->Hp = (OH - 1) * sh + (KH - 1) * dh + 1; /* the pixels the windows reach */
  p->Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
  const size_t padBytes = (size_t)p->Hp * p->Wp * C + 64;
  int ok = rq_init(&p->q, CO, bias, mult, shift);
  if (dwise) {
    p->w16 = malloc(taps * C * 2);
    p->corr = calloc((size_t)C, 4);
    p->scratch = malloc((size_t)OW * C * 4 + padBytes);
    ok = ok && p->w16 && p->corr && p->scratch;
    if (ok) {
      memcpy(p->w16, w, taps * C * 2);
      const uint32_t zf = (uint32_t)(p->sgn ? p->z + 128 : p->z);
      for (size_t t = 0; t < taps; t++)
        for (int c = 0; c < C; c++) p->corr[c] = (int32_t)((uint32_t)p->corr[c] + (uint32_t)(int32_t)p->w16[t * C + c]);
      for (int c = 0; c < C; c++) p->corr[c] = (int32_t)(zf * (uint32_t)p->corr[c]);
    }
  } else {
    const int lda = (p->K + KQ - 1) / KQ * KQ, P = OH * OW;
    p->rows = (64 * 1024) / lda;
    p->rows = p->rows < 8 ? 8 : p->rows > P ? P : p->rows;
    p->pk = malloc(packed_bytes(CO, p->K));
    p->scratch = malloc(padBytes + (size_t)p->rows * lda);
    ok = ok && p->pk && p->scratch;
    if (ok) pack_into(p->pk, CO, p->K, w, 1, 0);
  }
  napi_value r;
  if (!ok || napi_create_external(env, p, plan_free, NULL, &r) != napi_ok) {
    plan_free(env, p, NULL);
    return fail(env, "convPlan: out of memory");
  }
  if (napi_type_tag_object(env, r, &CONV_PLAN_TAG) != napi_ok) return fail(env, "convPlan: cannot tag the plan");
  return r;
}

/* convRun(plan, x, y, B): the planned conv over B items of x into y. */
static napi_value js_conv_run(napi_env env, napi_callback_info info) {
  ARGS(4, "convRun");
  conv_plan_t *p = NULL;
  int32_t B;
  size_t xb, yb;
  napi_valuetype pt;
  bool tagged = false;
  if (napi_typeof(env, a[0], &pt) != napi_ok || pt != napi_external || napi_check_object_type_tag(env, a[0], &CONV_PLAN_TAG, &tagged) != napi_ok ||
      !tagged)
    return fail(env, "convRun: the plan argument is not a value made by convPlan");
  const uint8_t *x = ta(env, a[1], &xb, NULL);
  uint8_t *y = ta(env, a[2], &yb, NULL);
  if (napi_get_value_external(env, a[0], (void **)&p) != napi_ok || !p || !x || !y || !get_i32(env, a[3], &B) || B < 0 ||
      xb < (size_t)B * p->H * p->W * p->C || yb < (size_t)B * p->OH * p->OW * p->CO * p->ob)
    return fail(env, "convRun(plan, x, y, B): bad arguments");
  if (p->depthwise) dw_run(p, x, y, B);
  else if (!conv_run(p, x, y, B)) return fail(env, "convRun: out of memory");
  return NULL;
}

/* ---------- GlobalAveragePool ---------- */
#ifdef VERITY_X86
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
#endif
static void gap_sums(const uint8_t *x, int sgn, int HW, int C, int32_t *s) {
  memset(s, 0, (size_t)C * 4);
  for (int p = 0; p < HW; p++) {
    const uint8_t *px = x + (size_t)p * C;
    if (sgn)
      for (int c = 0; c < C; c++) s[c] += (int8_t)px[c];
    else
      for (int c = 0; c < C; c++) s[c] += px[c];
  }
}

/* gap(x, xSigned, B, HW, C, xZero, yZero, lo, hi, y); HW·128 < 2^31 (the sums fit int32). */
static napi_value js_gap(napi_env env, napi_callback_info info) {
  ARGS(10, "gap");
  int32_t v[10];
  static const int ints[] = {1, 2, 3, 4, 5, 6, 7, 8};
  if (!get_ints(env, a, ints, 8, v)) return fail(env, "gap: integer arguments expected");
  const int sgn = v[1], B = v[2], HW = v[3], C = v[4], xz = v[5], yz = v[6], lo = v[7], hi = v[8];
  size_t xb, yb;
  const uint8_t *x = ta(env, a[0], &xb, NULL);
  uint8_t *y = ta(env, a[9], &yb, NULL);
  if (!x || !y || B < 0 || HW < 1 || HW > (1 << 22) || C < 1 || xb < (size_t)B * HW * C || yb < (size_t)B * C)
    return fail(env, "gap: bad arguments");
  int32_t stackS[1024];
  int32_t *s = C <= 1024 ? stackS : malloc((size_t)C * 4);
  if (!s) return fail(env, "gap: out of memory");
  for (int b = 0; b < B; b++) {
    gap_sums(x + (size_t)b * HW * C, sgn, HW, C, s);
    for (int c = 0; c < C; c++) {
      const int64_t n = 2 * ((int64_t)s[c] - (int64_t)HW * xz) + HW, d = 2 * (int64_t)HW;
      int64_t qv = n / d;
      if (n % d != 0 && n < 0) qv--; /* floor */
      int64_t r = yz + qv;
      r = r < lo ? lo : r > hi ? hi : r;
      y[(size_t)b * C + c] = (uint8_t)(int8_t)r;
    }
  }
  if (s != stackS) free(s);
  return NULL;
}

/* testExternal(): an untagged external value (test hook: convRun must refuse it). */
static int g_test_external;
static napi_value js_test_external(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  if (napi_create_external(env, &g_test_external, NULL, NULL, &r) != napi_ok) return fail(env, "testExternal: failed");
  return r;
}

#define CONV_EXPORTS {"convPlan", js_conv_plan}, {"convRun", js_conv_run}, {"gap", js_gap}, {"testExternal", js_test_external},
