/*
 * Conv kernels of the native addon (included by verity_native.c, which provides the requant, GEMM and N-API helpers):
 *
 *   depthwise(x, xSigned, B, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, w16, bias|null, mult, shift,
 *             yZero, lo, hi, out, outBytes)
 *       NHWC depthwise conv (group = C = CO), w16 int16 [KH][KW][C]; padding contributes 0.
 *   conv(x, xSigned, B, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, packed, CO, bias|null, mult, shift,
 *        yZero, lo, hi, out, outBytes)
 *       NHWC group-1 conv, weights packed as pack() does from [CO][KH][KW][C]: per item, x padded with xZero bytes,
 *       its im2col rows (KH·KW·C bytes an output position) built a block at a time, then dense_core on the block.
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

/* dense_core's rows with the requant fused into the tile epilogue (no int32 C block): Ap holds rows of u (already flipped),
 * each padded with zeros to lda = 4·kq bytes; y[r][j] = requant(Σ_k u(r,k)·w'(j,k) − zc·colsum[j]) for r < rows, j < N. */
VNNI_TARGET static void gemm_rq_vnni(const uint8_t *Ap, int rows, int kq, const int8_t *pw, const int32_t *colsum, int N, uint32_t zc,
                                     const rq_t *q, int32_t yZero, int32_t lo, int32_t hi, uint8_t *y, int ob) {
  const int nb = (N + NR - 1) / NR, lda = kq * KQ;
  const __m512i vzc = _mm512_set1_epi32((int)zc), vz = _mm512_set1_epi64(yZero), vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
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
      if (mr == VMR && two) vnni_tile(a, lda, VMR, wb0, wb1, 1, kq, acc);
      else vnni_tile(a, lda, mr, wb0, wb1, two, kq, acc);
      for (int h = 0; h < 1 + two; h++)
        for (int i = 0; i < mr; i++)
          store16(rq16(_mm512_sub_epi32(acc[i][h], corr[h]), &k[h], vz, vlo, vhi), m[h], y + ((size_t)(r0 + i) * N + (b + h) * NR) * ob, ob);
    }
  }
}
#endif

#ifdef VERITY_X86
/* One output row from the padded item u (row stride Wp·C): y[ow][c] = requant(Σ_taps u·w − corr[c]). KH, KW constant when
 * inlined for 3 × 3, so the 9 weight vectors of a 16-channel block stay in registers across the row. */
VNNI_TARGET static inline __attribute__((always_inline)) void dw_row_vnni_k(const uint8_t *u, int Wp, int C, int KH, int KW, int sh,
                                                                            int sw, int dh, int dw, int oh, int OW, const int16_t *w16,
                                                                            const int32_t *corr, const rq_t *q, int32_t yZero, int32_t lo,
                                                                            int32_t hi, uint8_t *y, int ob) {
  const __m512i vz = _mm512_set1_epi64(yZero), vlo = _mm512_set1_epi64(lo), vhi = _mm512_set1_epi64(hi);
  for (int c0 = 0; c0 < C; c0 += 16) {
    const int nv = C - c0 < 16 ? C - c0 : 16;
    const __mmask16 m = (__mmask16)(nv == 16 ? 0xffff : (1u << nv) - 1);
    const __m512i nc = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_maskz_loadu_epi32(m, corr + c0));
    const rq16_t k = rq16_load(q, c0, m);
    __m512i wv[9];
    const int inreg = KH * KW <= 9;
    if (inreg)
      for (int t = 0; t < KH * KW; t++) wv[t] = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w16 + (size_t)t * C + c0));
    const uint8_t *row = u + (size_t)oh * sh * Wp * C + c0;
    for (int ow = 0; ow < OW; ow++) {
      const uint8_t *p = row + (size_t)ow * sw * C;
      __m512i s[2] = {nc, _mm512_setzero_si512()}; /* two sums: half the dependency chain */
      for (int kh = 0; kh < KH; kh++)
        for (int kw = 0; kw < KW; kw++) {
          const int t = kh * KW + kw;
          const __m512i xv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, p + ((size_t)kh * dh * Wp + (size_t)kw * dw) * C));
          const __m512i wt = inreg ? wv[t] : _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, w16 + (size_t)t * C + c0));
          s[t & 1] = _mm512_dpwssd_epi32(s[t & 1], xv, wt);
        }
      store16(rq16(_mm512_add_epi32(s[0], s[1]), &k, vz, vlo, vhi), m, y + ((size_t)ow * C + c0) * ob, ob);
    }
  }
}

VNNI_TARGET static void dw_row_vnni(const uint8_t *u, int Wp, int C, int KH, int KW, int sh, int sw, int dh, int dw, int oh, int OW,
                                    const int16_t *w16, const int32_t *corr, const rq_t *q, int32_t yZero, int32_t lo, int32_t hi,
                                    uint8_t *y, int ob) {
  if (KH == 3 && KW == 3) dw_row_vnni_k(u, Wp, C, 3, 3, sh, sw, dh, dw, oh, OW, w16, corr, q, yZero, lo, hi, y, ob);
  else dw_row_vnni_k(u, Wp, C, KH, KW, sh, sw, dh, dw, oh, OW, w16, corr, q, yZero, lo, hi, y, ob);
}
#endif

/* depthwise(x, xSigned, B, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, w16, bias|null, mult, shift, yZero, lo, hi, out, outBytes) */
static napi_value js_depthwise(napi_env env, napi_callback_info info) {
  ARGS(26, "depthwise");
  int32_t v[17];
  static const int ints[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  if (!get_ints(env, a, ints, 16, v)) return fail(env, "depthwise: integer arguments expected");
  int32_t yZero, lo, hi, ob;
  if (!get_i32(env, a[21], &yZero) || !get_i32(env, a[22], &lo) || !get_i32(env, a[23], &hi) || !get_i32(env, a[25], &ob))
    return fail(env, "depthwise: integer arguments expected");
  const int sgn = v[1], B = v[2], H = v[3], W = v[4], C = v[5], KH = v[6], KW = v[7], sh = v[8], sw = v[9], dh = v[10], dw = v[11],
            pt = v[12], pl = v[13], OH = v[14], OW = v[15], z = v[16];
  size_t xb, wb, bb = 0, mb, sb, yb;
  const uint8_t *x = ta(env, a[0], &xb, NULL);
  const int16_t *w16 = ta(env, a[17], &wb, NULL);
  napi_valuetype bt;
  napi_typeof(env, a[18], &bt);
  const int32_t *bias = bt == napi_null ? NULL : ta(env, a[18], &bb, NULL);
  const int32_t *mult = ta(env, a[19], &mb, NULL), *shift = ta(env, a[20], &sb, NULL);
  void *y = ta(env, a[24], &yb, NULL);
  if (!x || !w16 || !mult || !shift || !y || (bt != napi_null && !bias) || B < 0 || H < 1 || W < 1 || C < 1 || KH < 1 || KW < 1 ||
      OH < 1 || OW < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || pt < 0 || pl < 0 || (ob != 1 && ob != 4) ||
      xb < (size_t)B * H * W * C || wb < (size_t)KH * KW * C * 2 || yb < (size_t)B * OH * OW * C * ob || mb < (size_t)C * 4 ||
      sb < (size_t)C * 4 || (bias && bb < (size_t)C * 4))
    return fail(env, "depthwise: array sizes do not match");
  for (int j = 0; j < C; j++)
    if (shift[j] < 1 || shift[j] > 62) return fail(env, "depthwise: shift out of range");
  /* Accumulators for one output row [OW][C], requantized a pixel (C channels) at a time. */
  const size_t rowN = (size_t)OW * C;
  const int Hp = (OH - 1) * sh + (KH - 1) * dh + 1, Wp = (OW - 1) * sw + (KW - 1) * dw + 1; /* the pixels the windows reach */
  const int fast = g_path == 2;
  const size_t padBytes = fast ? (size_t)Hp * Wp * C + 64 : 0;
  int32_t *acc = malloc(rowN * 4 + (size_t)C * 4 + padBytes);
  if (!acc) return fail(env, "depthwise: out of memory");
  int32_t *corr = acc + rowN;
  uint8_t *u = (uint8_t *)(corr + C);
  const uint8_t flip = sgn ? 0x80 : 0;
  const int32_t zf = sgn ? z + 128 : z; /* z' : the padding value of u */
  if (fast) { /* corr[c] = z'·Σ_taps w (mod 2^32) */
    memset(corr, 0, (size_t)C * 4);
    for (int t = 0; t < KH * KW; t++)
      for (int c = 0; c < C; c++) corr[c] = (int32_t)((uint32_t)corr[c] + (uint32_t)(int32_t)w16[(size_t)t * C + c]);
    for (int c = 0; c < C; c++) corr[c] = (int32_t)((uint32_t)zf * (uint32_t)corr[c]);
  }
  rq_t q;
  if (!rq_init(&q, C, bias, mult, shift)) {
    free(acc);
    return fail(env, "depthwise: out of memory");
  }
  for (int b = 0; b < B; b++) {
    const uint8_t *xi = x + (size_t)b * H * W * C;
    uint8_t *yi = (uint8_t *)y + (size_t)b * OH * OW * C * ob;
#ifdef VERITY_X86
    if (fast) {
      pad_item(xi, H, W, C, pt, pl, Hp, Wp, flip, (uint8_t)zf, u);
      for (int oh = 0; oh < OH; oh++) dw_row_vnni(u, Wp, C, KH, KW, sh, sw, dh, dw, oh, OW, w16, corr, &q, yZero, lo, hi, yi + (size_t)oh * rowN * ob, ob);
      continue;
    }
#endif
    for (int oh = 0; oh < OH; oh++) {
      dw_row(xi, sgn, H, W, C, KH, KW, oh, OW, sh, sw, dh, dw, pt, pl, z, w16, acc);
      for (int ow = 0; ow < OW; ow++) requant_any(acc + (size_t)ow * C, C, &q, yZero, lo, hi, yi + ((size_t)oh * OW + ow) * C * ob, ob);
    }
  }
  rq_free(&q);
  free(acc);
  return NULL;
}

/* ---------- group-1 conv: im2col rows from the padded item, a block at a time, into dense_core ---------- */
/* conv(x, xSigned, B, H, W, C, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, xZero, packed, CO, bias|null, mult, shift, yZero, lo, hi, out, outBytes)
 * Reference: out[b][p][j] = requant(Σ_{kh,kw,c} (x[b][h][w][c] − xZero)·W[j][kh][kw][c]) with (h, w) = (oh·sh + kh·dh − pt,
 * ow·sw + kw·dw − pl), terms outside the input 0 — the same rows as the JS im2col (src/engine/ops/conv.ts) with xZero as the
 * padding byte, so each row equals dense's row. */
static napi_value js_conv(napi_env env, napi_callback_info info) {
  ARGS(27, "conv");
  int32_t v[27];
  static const int ints[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 22, 23, 24, 26};
  if (!get_ints(env, a, ints, 21, v)) return fail(env, "conv: integer arguments expected");
  const int sgn = v[1], B = v[2], H = v[3], W = v[4], C = v[5], KH = v[6], KW = v[7], sh = v[8], sw = v[9], dh = v[10], dw = v[11],
            pt = v[12], pl = v[13], OH = v[14], OW = v[15], z = v[16], CO = v[18], yZero = v[22], lo = v[23], hi = v[24], ob = v[26];
  size_t xb, pb, bb = 0, mb, sb, yb;
  const uint8_t *x = ta(env, a[0], &xb, NULL);
  void *pk = NULL;
  if (napi_get_arraybuffer_info(env, a[17], &pk, &pb) != napi_ok) return fail(env, "conv: packed must be an ArrayBuffer");
  napi_valuetype bt;
  napi_typeof(env, a[19], &bt);
  const int32_t *bias = bt == napi_null ? NULL : ta(env, a[19], &bb, NULL);
  const int32_t *mult = ta(env, a[20], &mb, NULL), *shift = ta(env, a[21], &sb, NULL);
  uint8_t *y = ta(env, a[25], &yb, NULL);
  if (!x || !mult || !shift || !y || (bt != napi_null && !bias) || B < 0 || H < 1 || W < 1 || C < 1 || KH < 1 || KW < 1 || OH < 1 ||
      OW < 1 || CO < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || pt < 0 || pl < 0 || (ob != 1 && ob != 4) ||
      (size_t)KH * KW * C > (1u << 24))
    return fail(env, "conv: bad arguments");
  const int K = KH * KW * C, P = OH * OW;
  const int Hp = (OH - 1) * sh + (KH - 1) * dh + 1, Wp = (OW - 1) * sw + (KW - 1) * dw + 1;
  if (xb < (size_t)B * H * W * C || yb < (size_t)B * P * CO * ob || mb < (size_t)CO * 4 || sb < (size_t)CO * 4 ||
      (bias && bb < (size_t)CO * 4) || pb != packed_bytes(CO, K))
    return fail(env, "conv: array sizes do not match");
  for (int j = 0; j < CO; j++)
    if (shift[j] < 1 || shift[j] > 62) return fail(env, "conv: shift out of range");
  const int fast = g_path == 2;
  const int lda = fast ? (K + KQ - 1) / KQ * KQ : K; /* the fast path's rows are u = x ^ flip padded to whole quads */
  int rows = (64 * 1024) / lda;
  rows = rows < 8 ? 8 : rows > P ? P : rows;
  uint8_t *u = malloc((size_t)Hp * Wp * C + (size_t)rows * lda);
  if (!u) return fail(env, "conv: out of memory");
  uint8_t *A = u + (size_t)Hp * Wp * C;
  rq_t q;
  if (!rq_init(&q, CO, bias, mult, shift)) {
    free(u);
    return fail(env, "conv: out of memory");
  }
  const uint8_t flip = fast && sgn ? 0x80 : 0;
  const int32_t zf = flip ? z + 128 : z; /* the padding byte: xZero as u */
  const size_t runW = (size_t)KW * C; /* dw = 1: one kernel row is one run of KW·C bytes */
  /* A 1×1 window at stride 1 over whole quads reads the (padded) item's pixels as they are: no im2col copy. */
  const int direct = KH == 1 && KW == 1 && sh == 1 && sw == 1 && lda == K;
  int ok = 1;
  for (int b = 0; b < B && ok; b++) {
    const uint8_t *xi = x + (size_t)b * H * W * C;
    const int asIs = direct && !flip && pt == 0 && pl == 0 && Hp == H && Wp == W; /* u would equal x */
    if (!asIs) pad_item(xi, H, W, C, pt, pl, Hp, Wp, flip, (uint8_t)zf, u);
    const uint8_t *ui = asIs ? xi : u;
    for (int p0 = 0; p0 < P && ok; p0 += rows) {
      const int m = P - p0 < rows ? P - p0 : rows;
      const uint8_t *Ab = A;
      if (direct && OW == Wp) Ab = ui + (size_t)p0 * C; /* the rows are consecutive pixels */
      else
        for (int i = 0, oh = p0 / OW, ow = p0 % OW; i < m; i++) {
          uint8_t *d = A + (size_t)i * lda;
          for (int kh = 0; kh < KH; kh++) {
            const uint8_t *s = ui + ((size_t)(oh * sh + kh * dh) * Wp + (size_t)ow * sw) * C;
            if (dw == 1) {
              if (runW >= 16) memcpy(d, s, runW);
              else for (size_t e = 0; e < runW; e++) d[e] = s[e];
              d += runW;
            } else
              for (int kw = 0; kw < KW; kw++, d += C)
                for (int e = 0; e < C; e++) d[e] = s[(size_t)kw * dw * C + e];
          }
          for (int k = K; k < lda; k++) *d++ = 0;
          if (++ow == OW) ow = 0, oh++;
        }
      uint8_t *yb = y + ((size_t)b * P + p0) * CO * ob;
#ifdef VERITY_X86
      if (fast) {
        const int nb = (CO + NR - 1) / NR, kq = lda / KQ;
        const int8_t *pw = pk;
        gemm_rq_vnni(Ab, m, kq, pw, (const int32_t *)(pw + (size_t)nb * kq * NR * KQ), CO, (uint32_t)zf, &q, yZero, lo, hi, yb, ob);
        continue;
      }
#endif
      ok = dense_core(Ab, sgn, m, K, z, pk, CO, &q, yZero, lo, hi, yb, ob, 0);
    }
  }
  rq_free(&q);
  free(u);
  if (!ok) return fail(env, "conv: out of memory");
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

#define CONV_EXPORTS {"depthwise", js_depthwise}, {"conv", js_conv}, {"gap", js_gap},
