/*
 * Native integer kernels for the Verity engine (docs/ops.md semantics, exact integers):
 *
 *   pack(w: Int8Array, N, K) -> ArrayBuffer
 *       weights i8 [N][K] re-laid as [ceil(N/16)][ceil(K/4)][16][4] (zero padded) followed by the
 *       column sums int32 [ceil(N/16)·16].
 *   packAct(b, bSigned, N, K, transB, dst) packs an activation operand (b [N][K] if transB else [K][N])
 *       as w' = b (i8) or b − 128 (u8) into dst (an ArrayBuffer of packedBytes(N, K) bytes).
 *   dense(x, xSigned, R, K, xZero, packed, N, bias|null, mult, shift, yZero, lo, hi, out, outBytes[, wZero])
 *       for r < R, j < N:  acc = bias_j + Σ_k (x[r·K + k] − xZero)·w[j][k]
 *                          out[r·N + j] = clamp(yZero + ((acc·mult_j + 2^(shift_j − 1)) >> shift_j), lo, hi)
 *       out is i8/u8 (outBytes 1) or i32 (outBytes 4). With wZero, w[j][k] is w'(j, k) − wZero (MatMul).
 *   convPlan(...) -> plan, convRun(plan, x, y, B): NHWC depthwise and group-1 convs, one call a step (native/conv.c),
 *       and gap(...): GlobalAveragePool (native/conv.c).
 *   lut(x, table, n, y)   y[i] = table[x[i] as a byte] (Lut with the table re-indexed by raw byte)
 *   gather(src: Uint8Array|Int8Array, map: Int32Array, n, fill, dst[, B, srcStride[, L]]) (also exported as gatherBatch
 *       and gatherRuns, so callers can tell an addon that takes B, or L, from an older one)
 *       dst[b·n + i] = map[i] ≥ 0 ? src[b·srcStride + map[i]] : fill, for b < B (default 1); with L > 1, map is the
 *       n/L starts of runs of L consecutive indices: dst[b·n + r·L + i] = src[b·srcStride + map[r] + i]
 *   matmul(a, aSigned, b, bSigned, transB, B, batches, M, K, N, aMat, bMat, aMats, bMats, aZero, wZero, mult, shift,
 *          yZero, lo, hi, y, outBytes)   MatMul of two activations over B items in one call (see js_matmul)
 *   maxpool(x, xSigned, B, H, W, C, OH, OW, win, sh, sw, dh, dw, pt, pl, y)   NHWC MaxPool of B items (docs/ops.md
 *       §MaxPool), win = the taps inside the input per output row/column (src/engine/ops/pool.ts planPool).
 *   keccakLeaves(src, leafCount, out, outOffset) / keccakLevel(buf, from, count, to, zero): the Merkle
 *       leaf and level hashes of src/commit/keccak.ts (hashLeavesInto / hashLevelInto), same bytes,
 *       eight Keccak-f[1600] states at a time with AVX-512.
 *   outputHashes(raw, count, spec, zeros) / resultLeaves(start, hashes, count) / treeLevels(leaves, count): outputHashOf,
 *       resultLeaf over every item of a batch, and a whole PositionalTree, in one call each (native/commit.h).
 *   layerNorm(x, xSigned, rows, N, xZero, gamma, beta, eps, shift, yZero, lo, hi, y) and
 *   softmax(x, rows, L, table, masked, y): the row kernels of docs/ops.md §LayerNorm / §Softmax, with
 *       the same exact-division argument as their JS kernels (src/engine/ops/layernorm.ts, softmax.ts).
 *   add(a, b, n, B, bStride, ta, tb, shift, yZero, lo, hi, y)   Add of 8-bit operands by tables (see js_add)
 *   cpu() -> 'avx512vnni' | 'avx2' | 'scalar'
 *
 * Exactness. The dot product Σ (x − z)·w is computed as Σ u·w − z'·Σ w with u = x (u8 input,
 * z' = z) or u = x + 128 (i8 input, z' = z + 128), every step in 32-bit two's complement (unsigned
 * arithmetic, so wrapping is defined). The caller only uses this path when the exact sum satisfies
 * K·max|x − z|·max|w| ≤ 2^31 − 1, so the sum modulo 2^32 is the exact sum. The requantization is in
 * int64: |acc| < 2^32 and mult < 2^15, shift in [1, 46], so acc·mult + 2^(shift−1) < 2^62.
 * The three code paths (AVX-512 VNNI, AVX2-vectorized C, plain C) compute the same integers; which one
 * runs is chosen once from the CPU's features.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && !defined(VERITY_NO_X86_TARGETS)
#define VERITY_X86 1
#include <immintrin.h>
#endif

enum { NR = 16, KQ = 4 };

static int g_path = 0; /* 2 = avx512vnni, 1 = avx2, 0 = scalar */

/* ---------- requantization of one row of exact accumulators ----------
 * Reference (docs/ops.md): y_j = clamp(yZero + (((c_j + bias_j)·mult_j + 2^(shift_j − 1)) >> shift_j), lo, hi).
 * Fast form: the per-column constants bm_j = bias_j·mult_j + 2^(shift_j − 1), m_j, s_j as int64 once per call
 * (struct rq), then y_j = clamp(yZero + ((c_j·m_j + bm_j) >> s_j), lo, hi) — the same int64 sum, exact:
 * |c·m| < 2^46, |bias·m| < 2^46, 2^(s−1) ≤ 2^61, so the sum stays below 2^62. */
typedef struct { int64_t *bm, *m, *s; int n; } rq_t;

static int rq_init(rq_t *q, int n, const int32_t *bias, const int32_t *mult, const int32_t *shift) {
  q->n = n;
  q->bm = malloc((size_t)n * 3 * sizeof(int64_t) + 64);
  if (!q->bm) return 0;
  q->m = q->bm + n;
  q->s = q->m + n;
  for (int j = 0; j < n; j++) {
    q->m[j] = mult[j];
    q->s[j] = shift[j];
    q->bm[j] = (bias ? (int64_t)bias[j] * mult[j] : 0) + ((int64_t)1 << (shift[j] - 1));
  }
  return 1;
}
static void rq_free(rq_t *q) { free(q->bm); }

static inline void requant_row(const int32_t *c, int n, const rq_t *q, int j0, int64_t yZero, int64_t lo, int64_t hi, void *out, int ob) {
  for (int j = 0; j < n; j++) {
    int64_t y = yZero + (((int64_t)c[j] * q->m[j0 + j] + q->bm[j0 + j]) >> q->s[j0 + j]); /* gcc: >> on signed is arithmetic */
    y = y < lo ? lo : y > hi ? hi : y;
    if (ob == 4) ((int32_t *)out)[j] = (int32_t)y;
    else ((uint8_t *)out)[j] = (uint8_t)(int8_t)y; /* i8 or u8: the low byte */
  }
}

/* The plain requant of an int32 row (the AVX2 and scalar paths' dense_core and depthwise; the AVX-512 path requantizes in its
 * kernels' epilogues: gemm_rq_vnni, the depthwise rows). */
static void requant_any(const int32_t *c, int n, const rq_t *q, int64_t yZero, int64_t lo, int64_t hi, void *out, int ob) {
  requant_row(c, n, q, 0, yZero, lo, hi, out, ob);
}

/* ---------- GEMM on packed weights: C[r][j] = Σ_k u(r,k)·w[j][k] − zc·colsum[j] (mod 2^32) ---------- */

static inline uint32_t quad(const uint8_t *a, int K, int q) {
  uint32_t v = 0;
  int k = q * KQ;
  if (k + KQ <= K) memcpy(&v, a + k, 4);
  else
    for (int r = 0; k + r < K; r++) v |= (uint32_t)a[k + r] << (8 * r);
  return v;
}

/* Plain C (vectorized by the compiler where it can): one row at a time. */
static void gemm_generic(const uint8_t *A, int rows, int K, uint8_t flip, const int8_t *pw, const int32_t *colsum, int N,
                         uint32_t zc, int32_t *C) {
  const int nb = (N + NR - 1) / NR, kq = (K + KQ - 1) / KQ;
  for (int r = 0; r < rows; r++) {
    const uint8_t *a = A + (size_t)r * K;
    for (int b = 0; b < nb; b++) {
      uint32_t acc[NR];
      for (int c = 0; c < NR; c++) acc[c] = 0;
      const int8_t *wb = pw + (size_t)b * kq * NR * KQ;
      for (int q = 0; q < kq; q++) {
        uint32_t a4 = quad(a, K, q);
        const int8_t *wq = wb + q * NR * KQ;
        for (int c = 0; c < NR; c++)
          for (int t = 0; t < KQ; t++)
            acc[c] += (uint32_t)((int32_t)(uint8_t)(((a4 >> (8 * t)) & 0xff) ^ flip) * (int32_t)wq[c * KQ + t]);
      }
      for (int c = 0; c < NR && b * NR + c < N; c++) C[(size_t)r * N + b * NR + c] = (int32_t)(acc[c] - zc * (uint32_t)colsum[b * NR + c]);
    }
  }
}

#ifdef VERITY_X86
/* AVX-512 VNNI: vpdpbusd (u8 × s8, four products summed into each i32 lane, wrapping).
 * The rows are first copied as u = x ^ flip into a buffer padded to 4·kq bytes a row (the pad meets zero
 * weights), so each quad of u is one embedded broadcast ({1to16}) of the vpdpbusd. A tile is MR rows × 2
 * blocks of 16 columns (16 accumulators); a column pair's packed weights stay in L1 across the row tiles. */
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
enum { VMR = 8 };
VNNI_TARGET static inline __attribute__((always_inline)) void vnni_tile(const uint8_t *Ap, int lda, int mr, const int8_t *wb0,
                                                                       const int8_t *wb1, int two, int kq, __m512i acc[VMR][2],
                                                                       uint32_t xm) {
  for (int i = 0; i < VMR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
  for (int q = 0; q < kq; q++) {
    const __m512i w0 = _mm512_loadu_si512((const void *)(wb0 + (size_t)q * 64));
    const __m512i w1 = two ? _mm512_loadu_si512((const void *)(wb1 + (size_t)q * 64)) : w0;
    for (int i = 0; i < mr; i++) {
      int32_t a4;
      memcpy(&a4, Ap + (size_t)i * lda + (size_t)q * KQ, 4);
      const __m512i av = _mm512_set1_epi32((int32_t)((uint32_t)a4 ^ xm));
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], av, w0);
      if (two) acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], av, w1);
    }
  }
}

/* The full tile of vnni_tile (8 rows × 2 blocks; vnni_tile is its reference and does the edge tiles): the same
 * vpdpbusd sums into sixteen named accumulators, which the compiler keeps in registers through the k loop (the
 * array form above is moved around and partly spilled to the stack on every iteration). */
VNNI_TARGET static void vnni_tile_8x2(const uint8_t *Ap, int lda, const int8_t *wb0, const int8_t *wb1, int kq, __m512i acc[VMR][2],
                                      uint32_t xm) {
  __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00,
          c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  const uint8_t *a = Ap;
  for (int q = 0; q < kq; q++, a += KQ) {
    const __m512i w0 = _mm512_loadu_si512((const void *)(wb0 + (size_t)q * 64));
    const __m512i w1 = _mm512_loadu_si512((const void *)(wb1 + (size_t)q * 64));
    int32_t a4;
    __m512i av;
#define VROW(i)                                        \
  memcpy(&a4, a + (size_t)(i) * lda, 4);               \
  av = _mm512_set1_epi32((int32_t)((uint32_t)a4 ^ xm)); \
  c##i##0 = _mm512_dpbusd_epi32(c##i##0, av, w0);      \
  c##i##1 = _mm512_dpbusd_epi32(c##i##1, av, w1);
    VROW(0) VROW(1) VROW(2) VROW(3) VROW(4) VROW(5) VROW(6) VROW(7)
#undef VROW
  }
  acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11, acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30;
  acc[3][1] = c31, acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51, acc[6][0] = c60, acc[6][1] = c61;
  acc[7][0] = c70, acc[7][1] = c71;
}

/* The full tile of one block (8 rows × 16 columns: N ≤ 16, or the last odd block): vnni_tile's sums with two = 0 in eight
 * named accumulators (digits-convnet's and mobile-net's 8- and 16-channel convs; wine-mlp's 16-wide Linear). */
VNNI_TARGET static void vnni_tile_8x1(const uint8_t *Ap, int lda, const int8_t *wb0, int kq, __m512i acc[VMR][2], uint32_t xm) {
  __m512i c0 = _mm512_setzero_si512(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const uint8_t *a = Ap;
  for (int q = 0; q < kq; q++, a += KQ) {
    const __m512i w0 = _mm512_loadu_si512((const void *)(wb0 + (size_t)q * 64));
    int32_t a4;
#define VROW(i)                          \
  memcpy(&a4, a + (size_t)(i) * lda, 4); \
  c##i = _mm512_dpbusd_epi32(c##i, _mm512_set1_epi32((int32_t)((uint32_t)a4 ^ xm)), w0);
    VROW(0) VROW(1) VROW(2) VROW(3) VROW(4) VROW(5) VROW(6) VROW(7)
#undef VROW
  }
  acc[0][0] = c0, acc[1][0] = c1, acc[2][0] = c2, acc[3][0] = c3, acc[4][0] = c4, acc[5][0] = c5, acc[6][0] = c6, acc[7][0] = c7;
}

#endif


#ifdef VERITY_X86
/* AVX2: u (≤ 255) and w' widened to i16, vpmaddwd sums two products (≤ 2·255·128, exact) into i32
 * lanes, which wrap like the scalar path. One 16-byte load of the packed block = 4 columns × 4 k. */
#define AVX2_TARGET __attribute__((target("avx2")))
AVX2_TARGET static inline __attribute__((always_inline)) void avx2_tile(const uint8_t *A, int mr, int K, uint32_t flip4, const int8_t *wb,
                                                                       int kq, int32_t *C, int ldc, int nv, uint32_t zc, const int32_t *colsum) {
  const int kfull = K / KQ;
  __m256i acc[4][4];
  for (int i = 0; i < 4; i++)
    for (int g = 0; g < 4; g++) acc[i][g] = _mm256_setzero_si256();
  for (int q = 0; q < kq; q++) {
    __m256i w[4];
    for (int g = 0; g < 4; g++) w[g] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wb + (size_t)q * 64 + 16 * g)));
    for (int i = 0; i < mr; i++) {
      uint32_t a4;
      if (q < kfull) memcpy(&a4, A + (size_t)i * K + q * KQ, 4);
      else a4 = quad(A + (size_t)i * K, K, q);
      a4 ^= flip4;
      const uint64_t a16 = (uint64_t)(a4 & 0xff) | ((uint64_t)((a4 >> 8) & 0xff) << 16) | ((uint64_t)((a4 >> 16) & 0xff) << 32) | ((uint64_t)(a4 >> 24) << 48);
      const __m256i av = _mm256_set1_epi64x((long long)a16);
      for (int g = 0; g < 4; g++) acc[i][g] = _mm256_add_epi32(acc[i][g], _mm256_madd_epi16(av, w[g]));
    }
  }
  for (int i = 0; i < mr; i++) {
    /* acc[g] lanes: [c0 p0, c0 p1, c1 p0, c1 p1 | c2 p0, c2 p1, c3 p0, c3 p1] for columns 4g.. */
    __m256i h01 = _mm256_hadd_epi32(acc[i][0], acc[i][1]); /* [c0 c1 c4 c5 | c2 c3 c6 c7] */
    __m256i h23 = _mm256_hadd_epi32(acc[i][2], acc[i][3]); /* [c8 c9 c12 c13 | c10 c11 c14 c15] */
    h01 = _mm256_permute4x64_epi64(h01, 0xD8);            /* [c0 c1 c2 c3 | c4 c5 c6 c7] */
    h23 = _mm256_permute4x64_epi64(h23, 0xD8);
    int32_t out[16];
    _mm256_storeu_si256((__m256i *)out, h01);
    _mm256_storeu_si256((__m256i *)(out + 8), h23);
    for (int c = 0; c < nv; c++) C[(size_t)i * ldc + c] = (int32_t)((uint32_t)out[c] - zc * (uint32_t)colsum[c]);
  }
}

AVX2_TARGET static void gemm_avx2(const uint8_t *A, int rows, int K, uint8_t flip, const int8_t *pw, const int32_t *colsum, int N,
                                  uint32_t zc, int32_t *C) {
  const int nb = (N + NR - 1) / NR, kq = (K + KQ - 1) / KQ;
  const uint32_t flip4 = flip * 0x01010101u;
  for (int r0 = 0; r0 < rows; r0 += 4) {
    const int mr = rows - r0 < 4 ? rows - r0 : 4;
    for (int b = 0; b < nb; b++) {
      const int nv = N - b * NR < NR ? N - b * NR : NR;
      const int8_t *wb = pw + (size_t)b * kq * 64;
      int32_t *Cb = C + (size_t)r0 * N + b * NR;
      const uint8_t *a = A + (size_t)r0 * K;
      switch (mr) {
        case 4: avx2_tile(a, 4, K, flip4, wb, kq, Cb, N, nv, zc, colsum + b * NR); break;
        case 3: avx2_tile(a, 3, K, flip4, wb, kq, Cb, N, nv, zc, colsum + b * NR); break;
        case 2: avx2_tile(a, 2, K, flip4, wb, kq, Cb, N, nv, zc, colsum + b * NR); break;
        default: avx2_tile(a, 1, K, flip4, wb, kq, Cb, N, nv, zc, colsum + b * NR); break;
      }
    }
  }
}
#endif

static void gemm_any(const uint8_t *A, int rows, int K, uint8_t flip, const int8_t *pw, const int32_t *colsum, int N,
                     uint32_t zc, int32_t *C) {
#ifdef VERITY_X86
  if (g_path == 1) { /* (the AVX-512 path runs dense_vnni instead: dense_core never gets here on it) */
    gemm_avx2(A, rows, K, flip, pw, colsum, N, zc, C);
    return;
  }
#endif
  gemm_generic(A, rows, K, flip, pw, colsum, N, zc, C);
}

/* ---------- N-API glue ---------- */
#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != napi_ok) {                                                         \
      napi_throw_error(env, "VERITY_NATIVE", "verity_native: N-API call failed: " #call); \
      return NULL;                                                                   \
    }                                                                                \
  } while (0)

/* The n arguments a[0..n−1] of a call that needs all n (else a TypeError naming the function). */
#define ARGS(n, name)                                                   \
  size_t argc = (n);                                                   \
  napi_value a[(n)];                                                   \
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));            \
  if (argc < (n)) return fail(env, name ": expected " #n " arguments")

static int get_i32(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

/* v[idx[i]] = a[idx[i]] as int32 for i < n; 0 if one is not a number. */
static int get_ints(napi_env env, const napi_value *a, const int *idx, int n, int32_t *v) {
  for (int i = 0; i < n; i++)
    if (!get_i32(env, a[idx[i]], &v[idx[i]])) return 0;
  return 1;
}

/* Typed array data pointer and byte length; type optional. */
static void *ta(napi_env env, napi_value v, size_t *bytes, napi_typedarray_type *type) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return NULL;
  napi_typedarray_type t;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok) return NULL;
  size_t el = (t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array) ? 4 : (t == napi_int16_array || t == napi_uint16_array) ? 2 : (t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array) ? 8 : 1;
  if (bytes) *bytes = len * el;
  if (type) *type = t;
  static uint8_t empty[8];
  return data ? data : (void *)empty; /* an empty array may have no backing store */
}

static napi_value fail(napi_env env, const char *msg) {
  napi_throw_type_error(env, "VERITY_NATIVE_ARGS", msg);
  return NULL;
}

/* Packs w'(j, k) (j < N, k < K; signed bytes) into p: [nb][kq][16][4] then colsum int32 [nb·16].
 * Reference: p[((b·kq + q)·16 + c)·4 + r] = w'(16b + c, 4q + r) (0 outside N × K); colsum[j] = Σ_k w'(j, k). */
#ifdef VERITY_X86
/* pack_into (below, the reference) when N is a multiple of 16 and K of 4 (no padding), on the VNNI path: each 64-byte
 * [16 columns][4 k] group by vector moves — transB = 0: a 4 × 16 byte transpose (bytes, then words, interleaved);
 * transB = 1: sixteen 4-byte copies — and the column sums by vpdpbusd with ones (Σ of the four w' of each column). */
VNNI_TARGET static void pack_into_vnni(int8_t *p, int N, int K, const uint8_t *src, int transB, uint8_t flip) {
  const int nb = N / NR, kq = K / KQ;
  int32_t *colsum = (int32_t *)(p + (size_t)nb * kq * NR * KQ);
  const __m128i f16 = _mm_set1_epi8((char)flip);
  const uint32_t f4 = flip * 0x01010101u;
  const __m512i ones = _mm512_set1_epi8(1);
  for (int b = 0; b < nb; b++) {
    const int j0 = b * NR;
    __m512i cs = _mm512_setzero_si512();
    for (int q = 0; q < kq; q++) {
      int8_t *d = p + ((size_t)b * kq + q) * NR * KQ;
      if (!transB) {
        const uint8_t *r = src + (size_t)q * KQ * N + j0;
        const __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)r), f16);
        const __m128i r1 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r + N)), f16);
        const __m128i r2 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r + 2 * (size_t)N)), f16);
        const __m128i r3 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r + 3 * (size_t)N)), f16);
        const __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
        const __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
        _mm_storeu_si128((__m128i *)d, _mm_unpacklo_epi16(t0, t2));
        _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(t0, t2));
        _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(t1, t3));
        _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(t1, t3));
      } else {
        for (int c = 0; c < NR; c++) {
          uint32_t v;
          memcpy(&v, src + (size_t)(j0 + c) * K + (size_t)q * KQ, 4);
          v ^= f4;
          memcpy(d + c * KQ, &v, 4);
        }
      }
      cs = _mm512_dpbusd_epi32(cs, ones, _mm512_loadu_si512((const void *)d));
    }
    _mm512_storeu_si512((void *)(colsum + j0), cs);
  }
}
#endif

static void pack_into(int8_t *p, int N, int K, const uint8_t *src, int transB, uint8_t flip) {
#ifdef VERITY_X86
  if (g_path == 2 && N % NR == 0 && K % KQ == 0) {
    pack_into_vnni(p, N, K, src, transB, flip);
    return;
  }
#endif
  const int nb = (N + NR - 1) / NR, kq = (K + KQ - 1) / KQ;
  const size_t wbytes = (size_t)nb * kq * NR * KQ;
  memset(p, 0, wbytes + (size_t)nb * NR * 4);
  int32_t *colsum = (int32_t *)(p + wbytes);
  for (int j = 0; j < N; j++) {
    int8_t *pj = p + (size_t)(j / NR) * kq * NR * KQ + (size_t)(j % NR) * KQ;
    int32_t cs = 0;
    if (transB) {
      const uint8_t *row = src + (size_t)j * K;
      for (int k = 0; k < K; k++) {
        const int8_t v = (int8_t)(row[k] ^ flip);
        pj[(size_t)(k / KQ) * NR * KQ + (k % KQ)] = v;
        cs += v;
      }
    } else {
      for (int k = 0; k < K; k++) {
        const int8_t v = (int8_t)(src[(size_t)k * N + j] ^ flip);
        pj[(size_t)(k / KQ) * NR * KQ + (k % KQ)] = v;
        cs += v;
      }
    }
    colsum[j] = cs;
  }
}

static size_t packed_bytes(int N, int K) {
  const int nb = (N + NR - 1) / NR, kq = (K + KQ - 1) / KQ;
  return (size_t)nb * kq * NR * KQ + (size_t)nb * NR * 4;
}

/* packAct(src: Int8Array|Uint8Array, signed, N, K, transB, dst: ArrayBuffer of packedBytes(N, K)):
 * packs an activation operand b (transB: [N][K], else [K][N]) as w' = b (i8) or b − 128 (u8). */
static napi_value js_pack_act(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t sgn, N, K, tb;
  size_t sb, db;
  void *dst;
  const uint8_t *src = argc >= 6 ? ta(env, a[0], &sb, NULL) : NULL;
  if (!src || !get_i32(env, a[1], &sgn) || !get_i32(env, a[2], &N) || !get_i32(env, a[3], &K) || !get_i32(env, a[4], &tb) ||
      N < 1 || K < 1 || sb < (size_t)N * K || napi_get_arraybuffer_info(env, a[5], &dst, &db) != napi_ok || db != packed_bytes(N, K))
    return fail(env, "packAct(src, signed, N, K, transB, dst): bad arguments");
  pack_into(dst, N, K, src, tb, sgn ? 0 : 0x80);
  return NULL;
}

static napi_value js_packed_bytes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2], r;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t N, K;
  if (argc < 2 || !get_i32(env, a[0], &N) || !get_i32(env, a[1], &K) || N < 1 || K < 1) return fail(env, "packedBytes(N, K)");
  CHECK(napi_create_double(env, (double)packed_bytes(N, K), &r));
  return r;
}

static napi_value js_pack(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t N, K;
  size_t wb;
  napi_typedarray_type t;
  const int8_t *w = ta(env, a[0], &wb, &t);
  if (argc < 3 || !w || t != napi_int8_array || !get_i32(env, a[1], &N) || !get_i32(env, a[2], &K) || N < 1 || K < 1 || (size_t)N * K > wb)
    return fail(env, "pack(w: Int8Array, N, K): bad arguments");
  void *data;
  napi_value ab;
  CHECK(napi_create_arraybuffer(env, packed_bytes(N, K), &data, &ab));
  pack_into(data, N, K, (const uint8_t *)w, 1, 0);
  return ab;
}

#ifdef VERITY_X86
VNNI_TARGET static void gemm_rq_vnni(const uint8_t *Ap, int rows, int kq, const int8_t *pw, const int32_t *colsum, int N, uint32_t zc,
                                     const rq_t *q, int32_t yZero, int32_t lo, int32_t hi, uint8_t *y, int ob,
                                     const int32_t *rowc, uint32_t xm); /* conv.c */

/* dense_core below (the reference) on the VNNI path: the same rows of u = x ^ flip, 32 at a time, through gemm_rq_vnni,
 * which requantizes each 8 × 32 tile from registers (the same int64 formula as requant_row) instead of storing an int32
 * block for requant_any to read back; with wZero, each row's dense_core correction wZero·Σ_k (x − z) (mod 2^32, the same
 * sum) is subtracted there too. */
static int dense_vnni(const uint8_t *x, int R, int K, uint8_t flip, const int8_t *pw, const int32_t *colsum, int N, uint32_t zc,
                      const rq_t *q, int32_t yZero, int32_t lo, int32_t hi, void *y, int ob, int32_t wZero) {
  enum { RB = 32 };
  const int kq = (K + KQ - 1) / KQ, lda = kq * KQ;
  uint8_t stackA[RB * 1024];
  int32_t rowc[RB];
  uint8_t *Ab = (size_t)RB * lda <= sizeof stackA ? stackA : malloc((size_t)RB * lda);
  if (!Ab) return 0;
  for (int r0 = 0; r0 < R; r0 += RB) {
    const int m = R - r0 < RB ? R - r0 : RB;
    for (int i = 0; i < m; i++) {
      const uint8_t *a = x + (size_t)(r0 + i) * K;
      uint8_t *d = Ab + (size_t)i * lda;
      uint32_t rs = 0; /* Σ_k u = Σ_k x + 128·K (i8) or Σ_k x (u8), mod 2^32 */
      for (int k = 0; k < K; k++) {
        d[k] = a[k] ^ flip;
        rs += d[k];
      }
      for (int k = K; k < lda; k++) d[k] = 0;
      rs -= (uint32_t)K * zc; /* Σ (x − z) = Σ u − K·z' */
      rowc[i] = (int32_t)(rs * (uint32_t)wZero);
    }
    gemm_rq_vnni(Ab, m, kq, pw, colsum, N, zc, q, yZero, lo, hi, (uint8_t *)y + (size_t)r0 * N * ob, ob, wZero ? rowc : NULL, 0);
  }
  if (Ab != stackA) free(Ab);
  return 1;
}
#endif

/* out[r][j] = requant(Σ_k (x[r][k] − xZero)·w[j][k]) for r < R, j < N on packed weights pk (pack_into), the
 * requant constants q of N columns; with wZero, w = w' − wZero. Returns 0 when out of memory. */
static int dense_core(const uint8_t *x, int sgn, int R, int K, int32_t xZero, const void *pk, int N, const rq_t *q, int32_t yZero,
                      int32_t lo, int32_t hi, void *y, int ob, int32_t wZero) {
  const int nb = (N + NR - 1) / NR, kq = (K + KQ - 1) / KQ;
  const int8_t *pw = pk;
  const int32_t *colsum = (const int32_t *)((const int8_t *)pk + (size_t)nb * kq * NR * KQ);
  const uint8_t flip = sgn ? 0x80 : 0;
  const uint32_t zc = (uint32_t)(sgn ? xZero + 128 : xZero);
#ifdef VERITY_X86
  if (g_path == 2) return dense_vnni(x, R, K, flip, pw, colsum, N, zc, q, yZero, lo, hi, y, ob, wZero);
#endif
  enum { RB = 32 };
  int32_t stackC[RB * 512];
  int32_t *C = (size_t)RB * N <= sizeof stackC / 4 ? stackC : malloc((size_t)RB * N * 4);
  if (!C) return 0;
  for (int r0 = 0; r0 < R; r0 += RB) {
    const int m = R - r0 < RB ? R - r0 : RB;
    gemm_any(x + (size_t)r0 * K, m, K, flip, pw, colsum, N, zc, C);
    if (wZero) /* Σ (x − z)(w' − wZero) = Σ (x − z)·w' − wZero·Σ (x − z), mod 2^32 */
      for (int i = 0; i < m; i++) {
        const uint8_t *xr = x + (size_t)(r0 + i) * K;
        uint32_t rs = 0;
        for (int k = 0; k < K; k++) rs += (uint32_t)(sgn ? (int32_t)(int8_t)xr[k] : (int32_t)xr[k]);
        rs -= (uint32_t)K * (uint32_t)xZero;
        const uint32_t corr = rs * (uint32_t)wZero;
        for (int j = 0; j < N; j++) C[(size_t)i * N + j] = (int32_t)((uint32_t)C[(size_t)i * N + j] - corr);
      }
    for (int i = 0; i < m; i++) requant_any(C + (size_t)i * N, N, q, yZero, lo, hi, (uint8_t *)y + ((size_t)(r0 + i) * N) * ob, ob);
  }
  if (C != stackC) free(C);
  return 1;
}

/* dense(x, xSigned, R, K, xZero, packed, N, bias|null, mult, shift, yZero, lo, hi, out, outBytes) */
static napi_value js_dense(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value a[16];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 15) return fail(env, "dense: expected 15 arguments");
  int32_t sgn, R, K, xZero, N, yZero, lo, hi, ob;
  if (!get_i32(env, a[1], &sgn) || !get_i32(env, a[2], &R) || !get_i32(env, a[3], &K) || !get_i32(env, a[4], &xZero) ||
      !get_i32(env, a[6], &N) || !get_i32(env, a[10], &yZero) || !get_i32(env, a[11], &lo) || !get_i32(env, a[12], &hi) ||
      !get_i32(env, a[14], &ob))
    return fail(env, "dense: integer arguments expected");
  int32_t wZero = 0;
  if (argc >= 16 && !get_i32(env, a[15], &wZero)) return fail(env, "dense: wZero must be an integer");
  size_t xb, mb, sb, bb = 0, yb, pb;
  const uint8_t *x = ta(env, a[0], &xb, NULL);
  void *pk = NULL;
  if (napi_get_arraybuffer_info(env, a[5], &pk, &pb) != napi_ok) return fail(env, "dense: packed must be an ArrayBuffer");
  napi_valuetype bt;
  napi_typeof(env, a[7], &bt);
  const int32_t *bias = bt == napi_null ? NULL : ta(env, a[7], &bb, NULL);
  const int32_t *mult = ta(env, a[8], &mb, NULL), *shift = ta(env, a[9], &sb, NULL);
  void *y = ta(env, a[13], &yb, NULL);
  const int nb = (N + NR - 1) / NR, kq = (K + KQ - 1) / KQ;
  if (!x || !mult || !shift || !y || (bt != napi_null && !bias) || R < 0 || K < 1 || N < 1 || (ob != 1 && ob != 4) ||
      xb < (size_t)R * K || yb < (size_t)R * N * ob || mb < (size_t)N * 4 || sb < (size_t)N * 4 || (bias && bb < (size_t)N * 4) ||
      pb != (size_t)nb * kq * NR * KQ + (size_t)nb * NR * 4)
    return fail(env, "dense: array sizes do not match");
  for (int j = 0; j < N; j++)
    if (shift[j] < 1 || shift[j] > 62) return fail(env, "dense: shift out of range");
  rq_t q;
  if (!rq_init(&q, N, bias, mult, shift)) return fail(env, "dense: out of memory");
  const int ok = dense_core(x, sgn, R, K, xZero, pk, N, &q, yZero, lo, hi, y, ob, wZero);
  rq_free(&q);
  if (!ok) return fail(env, "dense: out of memory");
  return NULL;
}

/* gather(src, map: Int32Array, n, fill, dst[, B, srcStride[, L]]): for b < B (default 1),
 * dst[b·n + i] = map[i] >= 0 ? src[b·srcStride + map[i]] : fill (bytes).
 * With a run length L > 1 (also exported as gatherRuns, so callers can tell an addon that takes L), map holds the
 * n/L run starts of a map made of runs of L consecutive indices, no fill:
 *   dst[b·n + r·L + i] = src[b·srcStride + map[r] + i]   (one memcpy per run). */
static napi_value js_gather(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t n, fill, B = 1, stride = 0, L = 1;
  size_t sb, mb, db;
  const uint8_t *src = argc >= 5 ? ta(env, a[0], &sb, NULL) : NULL;
  const int32_t *map = argc >= 5 ? ta(env, a[1], &mb, NULL) : NULL;
  uint8_t *dst = argc >= 5 ? ta(env, a[4], &db, NULL) : NULL;
  if (argc >= 7 && (!get_i32(env, a[5], &B) || !get_i32(env, a[6], &stride))) return fail(env, "gather: bad arguments");
  if (argc >= 8 && !get_i32(env, a[7], &L)) return fail(env, "gather: bad arguments");
  if (!src || !map || !dst || !get_i32(env, a[2], &n) || !get_i32(env, a[3], &fill) || n < 0 || B < 0 || stride < 0 || L < 1 ||
      n % L != 0 || mb < (size_t)(n / L) * 4 || db < (size_t)n * B)
    return fail(env, "gather: bad arguments");
  if (B == 0) return NULL;
  const int m = n / L;
  int32_t mx = -1;
  for (int i = 0; i < m; i++) {
    if (L > 1 && map[i] < 0) return fail(env, "gather: a run start is negative");
    mx = map[i] > mx ? map[i] : mx;
  }
  if (mx >= 0 && (size_t)(B - 1) * stride + (size_t)mx + (size_t)L > sb) return fail(env, "gather: index out of range");
  for (int b = 0; b < B; b++) {
    const uint8_t *s = src + (size_t)b * stride;
    uint8_t *d = dst + (size_t)b * n;
    if (L > 1)
      for (int r = 0; r < m; r++) memcpy(d + (size_t)r * L, s + map[r], (size_t)L);
    else
      for (int i = 0; i < n; i++) {
        const int32_t v = map[i];
        d[i] = v >= 0 ? s[v] : (uint8_t)fill;
      }
  }
  return NULL;
}


/* matmul(a, aSigned, b, bSigned, transB, B, batches, M, K, N, aMat: Int32Array, bMat: Int32Array, aMats, bMats,
 *        aZero, wZero, mult, shift, yZero, lo, hi, y, outBytes): MatMul of two activations over B items in one call.
 * Reference (the per-matrix form src/engine/ops/matmul.ts ran before): for each item, each b matrix q packed as
 * packAct(b_q, bSigned, N, K, transB), then for each output matrix t
 *   dense(a_{aMat[t]}, aSigned, M, K, aZero, pack_{bMat[t]}, N, null, mult, shift, yZero, lo, hi, y_t, outBytes, wZero). */
static napi_value js_matmul(napi_env env, napi_callback_info info) {
  ARGS(23, "matmul");
  int32_t v[23];
  static const int ints[] = {1, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 18, 19, 20, 22};
  if (!get_ints(env, a, ints, sizeof ints / sizeof ints[0], v)) return fail(env, "matmul: integer arguments expected");
  const int sa = v[1], sb = v[3], tb = v[4], B = v[5], T = v[6], M = v[7], K = v[8], N = v[9], aMats = v[12], bMats = v[13], aZero = v[14],
            wZero = v[15], yZero = v[18], lo = v[19], hi = v[20], ob = v[22];
  size_t ab, bb, amb, bmb, mb, shb, yb;
  const uint8_t *A = ta(env, a[0], &ab, NULL), *Bm = ta(env, a[2], &bb, NULL);
  const int32_t *aMat = ta(env, a[10], &amb, NULL), *bMat = ta(env, a[11], &bmb, NULL);
  const int32_t *mult = ta(env, a[16], &mb, NULL), *shift = ta(env, a[17], &shb, NULL);
  uint8_t *y = ta(env, a[21], &yb, NULL);
  if (!A || !Bm || !aMat || !bMat || !mult || !shift || !y || B < 0 || T < 1 || M < 1 || K < 1 || N < 1 || aMats < 1 || bMats < 1 ||
      (ob != 1 && ob != 4) || ab < (size_t)B * aMats * M * K || bb < (size_t)B * bMats * N * K || amb < (size_t)T * 4 ||
      bmb < (size_t)T * 4 || mb < (size_t)N * 4 || shb < (size_t)N * 4 || yb < (size_t)B * T * M * N * ob)
    return fail(env, "matmul: array sizes do not match");
  for (int t = 0; t < T; t++)
    if (aMat[t] < 0 || aMat[t] >= aMats || bMat[t] < 0 || bMat[t] >= bMats) return fail(env, "matmul: matrix index out of range");
  for (int j = 0; j < N; j++)
    if (shift[j] < 1 || shift[j] > 62) return fail(env, "matmul: shift out of range");
  const size_t pb = packed_bytes(N, K), aSize = (size_t)aMats * M * K, bSize = (size_t)bMats * N * K, MN = (size_t)M * N;
  int8_t *packs = malloc(pb * bMats + 64);
  rq_t q;
  if (!packs || !rq_init(&q, N, NULL, mult, shift)) {
    free(packs);
    return fail(env, "matmul: out of memory");
  }
  int ok = 1;
  for (int item = 0; item < B && ok; item++) {
    for (int m = 0; m < bMats; m++) pack_into(packs + pb * m, N, K, Bm + item * bSize + (size_t)m * N * K, tb, sb ? 0 : 0x80);
    for (int t = 0; t < T && ok; t++)
      ok = dense_core(A + item * aSize + (size_t)aMat[t] * M * K, sa, M, K, aZero, packs + pb * bMat[t], N, &q, yZero, lo, hi,
                      y + ((size_t)item * T + t) * MN * ob, ob, wZero);
  }
  rq_free(&q);
  free(packs);
  if (!ok) return fail(env, "matmul: out of memory");
  return NULL;
}

/* ---------- Keccak-256 (Ethereum padding 0x01 … 0x80) for Merkle levels (src/commit/keccak.ts) ---------- */
static const uint64_t KRC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL, 0x000000000000808bULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000aULL, 0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
static const int KROT[24] = {1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44};
static const int KPI[24] = {10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1};

static inline uint64_t rol64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static void keccakf(uint64_t st[25]) {
  uint64_t bc[5], t;
  for (int round = 0; round < 24; round++) {
    _Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) bc[i] = st[i] ^ st[i + 5] ^ st[i + 10] ^ st[i + 15] ^ st[i + 20];
    _Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) {
      t = bc[(i + 4) % 5] ^ rol64(bc[(i + 1) % 5], 1);
      _Pragma("GCC unroll 5") for (int j = 0; j < 25; j += 5) st[j + i] ^= t;
    }
    t = st[1];
    _Pragma("GCC unroll 24") for (int i = 0; i < 24; i++) {
      const int j = KPI[i];
      const uint64_t b = st[j];
      st[j] = rol64(t, KROT[i]);
      t = b;
    }
    for (int j = 0; j < 25; j += 5) {
      _Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) bc[i] = st[j + i];
      _Pragma("GCC unroll 5") for (int i = 0; i < 5; i++) st[j + i] ^= (~bc[(i + 1) % 5]) & bc[(i + 2) % 5];
    }
    st[0] ^= KRC[round];
  }
}

/* One padded block (len ≤ 135 bytes of msg) → 32-byte digest. Little-endian host assumed (x86, arm). */
static void keccak_block(const uint8_t *msg, int len, uint8_t *out) {
  uint8_t blk[136];
  memset(blk, 0, sizeof blk);
  memcpy(blk, msg, len);
  blk[len] ^= 0x01;
  blk[135] ^= 0x80;
  uint64_t st[25];
  memset(st, 0, sizeof st);
  memcpy(st, blk, 136);
  keccakf(st);
  memcpy(out, st, 32);
}

#ifdef VERITY_X86
#define K512 __attribute__((target("avx512f")))
#define K256 __attribute__((target("avx2,avx512f,avx512vl")))
/* keccak-f[1600] on 8 states (zmm) or 4 (ymm) at once, st[25] one lane a vector of T, every step written out per
 * lane (the rho/pi moves of KROT/KPI above, which keccakf does in a loop; generated from those tables): theta's
 * column parities as XOR3 and chi's a ^ (~b & c) as CHI, one ternary-logic op each (0x96, 0xD2), ROL a rotation by
 * an immediate, RC(round) the round constant. The 4-wide one takes a stage's last one to four messages and lone
 * hashes: ymm instructions issue on more ports than zmm, so four states cost about 0.6 of eight, and one state less
 * than keccakf (measured ~0.35 µs vs ~0.6 µs per permutation on the 2.3 GHz Xeon of issue 13). */
#define KECCAK_F_LANES(T, st, XOR, XOR3, ROL, CHI, RC)                                                                                                                                                                                                                                                                                        \
  T a0 = st[0], a1 = st[1], a2 = st[2], a3 = st[3], a4 = st[4], a5 = st[5], a6 = st[6], a7 = st[7], a8 = st[8], a9 = st[9], a10 = st[10], a11 = st[11], a12 = st[12], a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18], a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24]; \
  for (int round = 0; round < 24; round++) {                                                                                                                                                                                                                                                                                                  \
    const T c0 = XOR3(XOR3(a0, a5, a10), a15, a20);                                                                                                                                                                                                                                                                                           \
    const T c1 = XOR3(XOR3(a1, a6, a11), a16, a21);                                                                                                                                                                                                                                                                                           \
    const T c2 = XOR3(XOR3(a2, a7, a12), a17, a22);                                                                                                                                                                                                                                                                                           \
    const T c3 = XOR3(XOR3(a3, a8, a13), a18, a23);                                                                                                                                                                                                                                                                                           \
    const T c4 = XOR3(XOR3(a4, a9, a14), a19, a24);                                                                                                                                                                                                                                                                                           \
    const T d0 = XOR(c4, ROL(c1, 1));                                                                                                                                                                                                                                                                                                         \
    const T d1 = XOR(c0, ROL(c2, 1));                                                                                                                                                                                                                                                                                                         \
    const T d2 = XOR(c1, ROL(c3, 1));                                                                                                                                                                                                                                                                                                         \
    const T d3 = XOR(c2, ROL(c4, 1));                                                                                                                                                                                                                                                                                                         \
    const T d4 = XOR(c3, ROL(c0, 1));                                                                                                                                                                                                                                                                                                         \
    const T b0 = XOR(a0, d0);                                                                                                                                                                                                                                                                                                                 \
    const T b1 = ROL(XOR(a6, d1), 44);                                                                                                                                                                                                                                                                                                        \
    const T b2 = ROL(XOR(a12, d2), 43);                                                                                                                                                                                                                                                                                                       \
    const T b3 = ROL(XOR(a18, d3), 21);                                                                                                                                                                                                                                                                                                       \
    const T b4 = ROL(XOR(a24, d4), 14);                                                                                                                                                                                                                                                                                                       \
    const T b5 = ROL(XOR(a3, d3), 28);                                                                                                                                                                                                                                                                                                        \
    const T b6 = ROL(XOR(a9, d4), 20);                                                                                                                                                                                                                                                                                                        \
    const T b7 = ROL(XOR(a10, d0), 3);                                                                                                                                                                                                                                                                                                        \
    const T b8 = ROL(XOR(a16, d1), 45);                                                                                                                                                                                                                                                                                                       \
    const T b9 = ROL(XOR(a22, d2), 61);                                                                                                                                                                                                                                                                                                       \
    const T b10 = ROL(XOR(a1, d1), 1);                                                                                                                                                                                                                                                                                                        \
    const T b11 = ROL(XOR(a7, d2), 6);                                                                                                                                                                                                                                                                                                        \
    const T b12 = ROL(XOR(a13, d3), 25);                                                                                                                                                                                                                                                                                                      \
    const T b13 = ROL(XOR(a19, d4), 8);                                                                                                                                                                                                                                                                                                       \
    const T b14 = ROL(XOR(a20, d0), 18);                                                                                                                                                                                                                                                                                                      \
    const T b15 = ROL(XOR(a4, d4), 27);                                                                                                                                                                                                                                                                                                       \
    const T b16 = ROL(XOR(a5, d0), 36);                                                                                                                                                                                                                                                                                                       \
    const T b17 = ROL(XOR(a11, d1), 10);                                                                                                                                                                                                                                                                                                      \
    const T b18 = ROL(XOR(a17, d2), 15);                                                                                                                                                                                                                                                                                                      \
    const T b19 = ROL(XOR(a23, d3), 56);                                                                                                                                                                                                                                                                                                      \
    const T b20 = ROL(XOR(a2, d2), 62);                                                                                                                                                                                                                                                                                                       \
    const T b21 = ROL(XOR(a8, d3), 55);                                                                                                                                                                                                                                                                                                       \
    const T b22 = ROL(XOR(a14, d4), 39);                                                                                                                                                                                                                                                                                                      \
    const T b23 = ROL(XOR(a15, d0), 41);                                                                                                                                                                                                                                                                                                      \
    const T b24 = ROL(XOR(a21, d1), 2);                                                                                                                                                                                                                                                                                                       \
    a0 = CHI(b0, b1, b2); a1 = CHI(b1, b2, b3); a2 = CHI(b2, b3, b4); a3 = CHI(b3, b4, b0); a4 = CHI(b4, b0, b1);                                                                                                                                                                                                                             \
    a5 = CHI(b5, b6, b7); a6 = CHI(b6, b7, b8); a7 = CHI(b7, b8, b9); a8 = CHI(b8, b9, b5); a9 = CHI(b9, b5, b6);                                                                                                                                                                                                                             \
    a10 = CHI(b10, b11, b12); a11 = CHI(b11, b12, b13); a12 = CHI(b12, b13, b14); a13 = CHI(b13, b14, b10); a14 = CHI(b14, b10, b11);                                                                                                                                                                                                         \
    a15 = CHI(b15, b16, b17); a16 = CHI(b16, b17, b18); a17 = CHI(b17, b18, b19); a18 = CHI(b18, b19, b15); a19 = CHI(b19, b15, b16);                                                                                                                                                                                                         \
    a20 = CHI(b20, b21, b22); a21 = CHI(b21, b22, b23); a22 = CHI(b22, b23, b24); a23 = CHI(b23, b24, b20); a24 = CHI(b24, b20, b21);                                                                                                                                                                                                         \
    a0 = XOR(a0, RC(round));                                                                                                                                                                                                                                                                                                                  \
  }                                                                                                                                                                                                                                                                                                                                           \
  st[0] = a0; st[1] = a1; st[2] = a2; st[3] = a3; st[4] = a4; st[5] = a5; st[6] = a6; st[7] = a7; st[8] = a8; st[9] = a9; st[10] = a10; st[11] = a11; st[12] = a12; st[13] = a13; st[14] = a14; st[15] = a15; st[16] = a16; st[17] = a17; st[18] = a18; st[19] = a19; st[20] = a20; st[21] = a21; st[22] = a22; st[23] = a23; st[24] = a24;


#define X8_XOR(a, b) _mm512_xor_si512(a, b)
#define X8_XOR3(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0x96)
#define X8_CHI(a, b, c) _mm512_ternarylogic_epi64(a, b, c, 0xD2)
#define X8_RC(r) _mm512_set1_epi64((long long)KRC[r])
K512 static void keccakf8(__m512i st[25]) { KECCAK_F_LANES(__m512i, st, X8_XOR, X8_XOR3, _mm512_rol_epi64, X8_CHI, X8_RC) }

#define X4_XOR(a, b) _mm256_xor_si256(a, b)
#define X4_XOR3(a, b, c) _mm256_ternarylogic_epi64(a, b, c, 0x96)
#define X4_CHI(a, b, c) _mm256_ternarylogic_epi64(a, b, c, 0xD2)
#define X4_RC(r) _mm256_set1_epi64x((long long)KRC[r])
K256 static void keccakf4(__m256i st[25]) { KECCAK_F_LANES(__m256i, st, X4_XOR, X4_XOR3, _mm256_rol_epi64, X4_CHI, X4_RC) }

/* The lanes of a padded block (msg, 0x01, zeros, 0x80 at byte 135) that hold message bytes or the 0x01: all 17
 * when that reaches lane 16 (len ≥ 128), else len/8 + 1 (lane 16 is then the constant 0x80 << 56). */
static inline int block_lanes(int len) { return len >= 128 ? 17 : len / 8 + 1; }

/* Those lanes of the padded last blocks of n messages of `len` bytes (≤ 135), back to back: 17 lanes each. */
static void pad_blocks(const uint8_t *const *msg, int n, int len, uint64_t *blocks) {
  const int used = block_lanes(len);
  for (int m = 0; m < n; m++) {
    uint8_t *b = (uint8_t *)(blocks + 17 * m);
    memset(b, 0, (size_t)8 * used);
    memcpy(b, msg[m], len);
    b[len] ^= 0x01;
    if (used == 17) b[135] ^= 0x80;
  }
}

/* The digests (lanes 0–3) of n states whose lane l is o[n·l .. n·l + n − 1]. */
static void store_digests(const uint64_t *o, int n, uint8_t *const *out) {
  for (int m = 0; m < n; m++)
    for (int l = 0; l < 4; l++) memcpy(out[m] + 8 * l, &o[n * l + m], 8);
}

/* N messages of `len` bytes (≤ 135), each given by a pointer → N digests, with F on N states in vectors of T: the
 * lanes the messages reach each in one gather (GATHER(blocks, l)), the others constants (SET1). */
#define KECCAK_XN(name, N, T, GATHER, SET1, STORE, F)                                                        \
  static void name(const uint8_t *const msg[N], int len, uint8_t *const out[N]) {                            \
    uint64_t blocks[17 * N], o[4 * N];                                                                       \
    pad_blocks(msg, N, len, blocks);                                                                         \
    const int used = block_lanes(len);                                                                       \
    T st[25];                                                                                                \
    for (int l = 0; l < 25; l++) st[l] = l < used ? GATHER(blocks, l) : SET1(l == 16 ? (long long)(0x80ULL << 56) : 0); \
    F(st);                                                                                                   \
    for (int l = 0; l < 4; l++) STORE((void *)(o + N * l), st[l]);                                           \
    store_digests(o, N, out);                                                                                \
  }
#define X8_GATHER(b, l) _mm512_i64gather_epi64(_mm512_add_epi64(_mm512_setr_epi64(0, 17, 34, 51, 68, 85, 102, 119), _mm512_set1_epi64(l)), (const void *)(b), 8)
#define X4_GATHER(b, l) _mm256_i64gather_epi64((const long long *)(b), _mm256_add_epi64(_mm256_setr_epi64x(0, 17, 34, 51), _mm256_set1_epi64x(l)), 8)
K512 KECCAK_XN(keccak_x8, 8, __m512i, X8_GATHER, _mm512_set1_epi64, _mm512_storeu_si512, keccakf8)
K256 KECCAK_XN(keccak_x4, 4, __m256i, X4_GATHER, _mm256_set1_epi64x, _mm256_storeu_si256, keccakf4)
#endif

static int g_kx8 = 0; /* 8- and 4-way AVX-512 keccak available and enabled */

/* n messages msg(i) of len bytes → out(i); with AVX-512, 8 at a time, and the last 1–4 (or a lone message) 4-wide
 * (the unused states hash a copy of the first message and are dropped). All reads happen before the writes of each
 * group (in-place Merkle levels rely on it; see hash_level). */
static void keccak_many(int n, int len, const uint8_t *(*msg)(void *, int, uint8_t *), void *ctx, uint8_t *(*out)(void *, int)) {
  int i = 0;
#ifdef VERITY_X86
  if (g_kx8) {
    uint8_t bufs[8][136], tmp[8][32];
    while (i < n) {
      const int k = n - i < 8 ? n - i : 8;
      const uint8_t *m[8];
      uint8_t *o[8];
      for (int q = 0; q < k; q++) m[q] = msg(ctx, i + q, bufs[q]);
      for (int q = k; q < 8; q++) m[q] = m[0];
      for (int q = 0; q < 8; q++) o[q] = tmp[q];
      if (k <= 4) keccak_x4(m, len, o);
      else keccak_x8(m, len, o);
      for (int q = 0; q < k; q++) memcpy(out(ctx, i + q), tmp[q], 32);
      i += k;
    }
    return;
  }
#endif
  uint8_t b[136], d[32];
  for (; i < n; i++) {
    const uint8_t *m = msg(ctx, i, b);
    keccak_block(m, len, d);
    memcpy(out(ctx, i), d, 32);
  }
}

struct leaves_ctx { const uint8_t *src; size_t srcLen; uint8_t *out; };
static const uint8_t *leaf_msg(void *c, int i, uint8_t *buf) {
  struct leaves_ctx *x = c;
  buf[0] = 0x00;
  const size_t at = (size_t)i * 32;
  if (at + 32 <= x->srcLen) memcpy(buf + 1, x->src + at, 32);
  else {
    memset(buf + 1, 0, 32);
    if (at < x->srcLen) memcpy(buf + 1, x->src + at, x->srcLen - at);
  }
  return buf;
}
static uint8_t *leaf_out(void *c, int i) { return ((struct leaves_ctx *)c)->out + (size_t)i * 32; }

struct level_ctx { uint8_t *buf; size_t from, to; int count; const uint8_t *zero; };
static const uint8_t *level_msg(void *c, int j, uint8_t *b) {
  struct level_ctx *x = c;
  b[0] = 0x01;
  memcpy(b + 1, x->buf + x->from + (size_t)64 * j, 32);
  if (2 * j + 1 < x->count) memcpy(b + 33, x->buf + x->from + (size_t)64 * j + 32, 32);
  else memcpy(b + 33, x->zero, 32);
  return b;
}
static uint8_t *level_out(void *c, int j) { struct level_ctx *x = c; return x->buf + x->to + (size_t)32 * j; }

/* keccakLeaves(src: Uint8Array, leafCount, out: Uint8Array, outOffset): out[outOffset + 32i] = keccak(0x00 ‖ word i) */
static napi_value js_keccak_leaves(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  size_t sb, ob;
  int32_t n, off;
  const uint8_t *src = argc >= 4 ? ta(env, a[0], &sb, NULL) : NULL;
  uint8_t *out = argc >= 4 ? ta(env, a[2], &ob, NULL) : NULL;
  if (!src || !out || !get_i32(env, a[1], &n) || !get_i32(env, a[3], &off) || n < 0 || off < 0 || (size_t)off + (size_t)n * 32 > ob)
    return fail(env, "keccakLeaves(src, leafCount, out, outOffset): bad arguments");
  struct leaves_ctx c = {src, sb, out + off};
  keccak_many(n, 33, leaf_msg, &c, leaf_out);
  return NULL;
}

/* keccakLevel(buf: Uint8Array, from, count, to, zero: Uint8Array(32)) -> parents (hashLevelInto) */
static napi_value js_keccak_level(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5], r;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  size_t bb, zb;
  int32_t from, count, to;
  uint8_t *buf = argc >= 5 ? ta(env, a[0], &bb, NULL) : NULL;
  const uint8_t *zero = argc >= 5 ? ta(env, a[4], &zb, NULL) : NULL;
  if (!buf || !zero || zb != 32 || !get_i32(env, a[1], &from) || !get_i32(env, a[2], &count) || !get_i32(env, a[3], &to) || from < 0 ||
      count < 0 || to < 0 || (size_t)from + (size_t)count * 32 > bb || (size_t)to + (size_t)((count + 1) / 2) * 32 > bb ||
      (to > from && (size_t)to < (size_t)from + (size_t)count * 32))
    return fail(env, "keccakLevel(buf, from, count, to, zero): bad arguments");
  const int parents = (count + 1) / 2;
  struct level_ctx c = {buf, (size_t)from, (size_t)to, count, zero};
  keccak_many(parents, 65, level_msg, &c, level_out);
  CHECK(napi_create_int32(env, parents, &r));
  return r;
}

/* outputHashes / resultLeaves: the honest path's digests over a whole batch (native/commit.h). */
#include "commit.h"


/* ---------- LayerNorm and Softmax rows (docs/ops.md; the JS kernels' exact formulas) ---------- */
static int64_t isqrt64(int64_t v) { /* floor sqrt, 0 ≤ v < 2^53 */
  if (v <= 0) return 0;
  int64_t r = (int64_t)__builtin_sqrt((double)v);
  while (r * r > v) r--;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

#ifdef VERITY_X86
/* AVX-512 forms of the per-element loops of layernorm_rows and softmax_rows below (those loops are the
 * reference): the same double operations lane by lane, every intermediate an integer below 2^53 (so exact) except
 * the one product num·rd, which is the same single rounding in both. They return how many elements they did. */
#define AVX512_ROWS __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw")))
#define FLOOR_PD(v) _mm512_roundscale_pd((v), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)
AVX512_ROWS static int layernorm_out_512(const int32_t *ci, const int32_t *gamma, const int32_t *beta, int N, int64_t R, double half,
                                          double inv, int32_t yZero, int32_t lo, int32_t hi, uint8_t *yr) {
  const double d = 2.0 * (double)R, rd = 1.0 / d;
  const __m512d vd = _mm512_set1_pd(d), vrd = _mm512_set1_pd(rd), vR = _mm512_set1_pd((double)R), two = _mm512_set1_pd(2.0),
                one = _mm512_set1_pd(1.0), vh = _mm512_set1_pd(half), vi = _mm512_set1_pd(inv), vz = _mm512_set1_pd((double)yZero),
                vlo = _mm512_set1_pd((double)lo), vhi = _mm512_set1_pd((double)hi), zero = _mm512_setzero_pd();
  int i = 0;
  for (; i + 8 <= N; i += 8) {
    const __m512d c = _mm512_cvtepi32_pd(_mm256_loadu_si256((const __m256i *)(ci + i)));
    const __m512d g = _mm512_cvtepi32_pd(_mm256_loadu_si256((const __m256i *)(gamma + i)));
    const __m512d b = _mm512_cvtepi32_pd(_mm256_loadu_si256((const __m256i *)(beta + i)));
    const __m512d num = _mm512_add_pd(_mm512_mul_pd(_mm512_mul_pd(two, g), c), vR);
    __m512d t = FLOOR_PD(_mm512_mul_pd(num, vrd));
    const __m512d rem = _mm512_sub_pd(num, _mm512_mul_pd(t, vd));
    const __mmask8 below = _mm512_cmp_pd_mask(rem, zero, _CMP_LT_OQ), above = _mm512_cmp_pd_mask(rem, vd, _CMP_GE_OQ);
    t = _mm512_mask_sub_pd(t, below, t, one);
    t = _mm512_mask_add_pd(t, above, t, one);
    __m512d v = _mm512_add_pd(vz, FLOOR_PD(_mm512_mul_pd(_mm512_add_pd(_mm512_add_pd(t, b), vh), vi)));
    v = _mm512_min_pd(_mm512_max_pd(v, vlo), vhi);
    _mm_storel_epi64((__m128i *)(yr + i), _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(v)));
  }
  return i;
}

/* e[i] for i < L (a multiple of 16 done here) and their sum; then y. */
AVX512_ROWS static int softmax_exp_512(const int8_t *xr, int L, const int32_t *table, int mx, int mask, double *e, double *S) {
  const __m512i vmx = _mm512_set1_epi32(mx), m128 = _mm512_set1_epi32(-128);
  __m512d acc = _mm512_setzero_pd();
  int i = 0;
  for (; i + 16 <= L; i += 16) {
    const __m512i xv = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(xr + i)));
    const __mmask16 keep = mask ? _mm512_cmpneq_epi32_mask(xv, m128) : (__mmask16)0xffff;
    const __m512i ev = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), keep, _mm512_sub_epi32(vmx, xv), table, 4);
    const __m512d e0 = _mm512_cvtepi32_pd(_mm512_castsi512_si256(ev)), e1 = _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(ev, 1));
    _mm512_storeu_pd(e + i, e0);
    _mm512_storeu_pd(e + i + 8, e1);
    acc = _mm512_add_pd(acc, _mm512_add_pd(e0, e1));
  }
  *S = _mm512_reduce_add_pd(acc); /* integers with a sum < 2^51: exact in any order */
  return i;
}

AVX512_ROWS static int softmax_out_512(const double *e, int L, double S, int8_t *yr) {
  const double d = 2.0 * S, rd = 1.0 / d;
  const __m512d vd = _mm512_set1_pd(d), vrd = _mm512_set1_pd(rd), vS = _mm512_set1_pd(S), c512 = _mm512_set1_pd(512.0),
                one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd(), m128 = _mm512_set1_pd(128.0), top = _mm512_set1_pd(127.0);
  int i = 0;
  for (; i + 8 <= L; i += 8) {
    const __m512d num = _mm512_add_pd(_mm512_mul_pd(c512, _mm512_loadu_pd(e + i)), vS);
    __m512d q = FLOOR_PD(_mm512_mul_pd(num, vrd));
    const __m512d rem = _mm512_sub_pd(num, _mm512_mul_pd(q, vd));
    const __mmask8 below = _mm512_cmp_pd_mask(rem, zero, _CMP_LT_OQ), above = _mm512_cmp_pd_mask(rem, vd, _CMP_GE_OQ);
    q = _mm512_mask_sub_pd(q, below, q, one);
    q = _mm512_mask_add_pd(q, above, q, one);
    const __m512d v = _mm512_min_pd(_mm512_sub_pd(q, m128), top);
    _mm_storel_epi64((__m128i *)(yr + i), _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(v)));
  }
  return i;
}
#endif

#ifdef VERITY_X86
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
#endif
static void layernorm_rows(const uint8_t *x, int sgn, int rows, int N, int32_t xZero, const int32_t *gamma, const int32_t *beta,
                           int64_t eps, int shift, int32_t yZero, int32_t lo, int32_t hi, uint8_t *y, double *c) {
  const double half = (double)((int64_t)1 << (shift - 1)), inv = 1.0 / (double)((int64_t)1 << shift);
  int32_t *ci = (int32_t *)(c + N); /* caller allocates 2N doubles */
  for (int r = 0; r < rows; r++) {
    const uint8_t *xr = x + (size_t)r * N;
    /* |d| ≤ 255, |T| ≤ 1024·255, |c| = |N·d − T| < 2^20: all in int32 */
    int32_t T = 0;
    if (sgn)
      for (int i = 0; i < N; i++) ci[i] = (int32_t)(int8_t)xr[i] - xZero;
    else
      for (int i = 0; i < N; i++) ci[i] = (int32_t)xr[i] - xZero;
    for (int i = 0; i < N; i++) T += ci[i];
    int64_t Q = 0;
    for (int i = 0; i < N; i++) {
      ci[i] = N * ci[i] - T;
      Q += (int64_t)ci[i] * ci[i];
    }
    int64_t R = isqrt64(Q / N + eps); /* Q ≥ 0: integer division is floor */
    if (R < 1) R = 1;
    const double d = 2.0 * (double)R, rd = 1.0 / d;
    uint8_t *yr = y + (size_t)r * N;
    int i0 = 0;
#ifdef VERITY_X86
    if (g_path == 2) i0 = layernorm_out_512(ci, gamma, beta, N, R, half, inv, yZero, lo, hi, yr);
#endif
    for (int i = i0; i < N; i++) {
      /* t = roundDiv(gamma·c, R) = floor((2·gamma·c + R) / 2R); |numerator| < 2^36, exact in double;
       * the reciprocal quotient is within 2^−16 of the true one, one remainder test makes it exact. */
      const double num = 2.0 * (double)gamma[i] * (double)ci[i] + (double)R;
      double t = __builtin_floor(num * rd);
      const double rem = num - t * d;
      t = rem < 0 ? t - 1 : t;
      t = rem >= d ? t + 1 : t;
      /* rshr(t + beta, shift): |t + beta| < 2^37, (v + 2^(s−1))·2^−s exact in double, floor exact */
      double v = (double)yZero + __builtin_floor((t + (double)beta[i] + half) * inv);
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
      yr[i] = (uint8_t)(int32_t)v;
    }
  }
}

#ifdef VERITY_X86
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
#endif
static void softmax_rows(const int8_t *x, int rows, int L, const int32_t *table, int masked, int8_t *y, double *e) {
  for (int r = 0; r < rows; r++) {
    const int8_t *xr = x + (size_t)r * L;
    int mx = -128;
    for (int i = 0; i < L; i++) mx = xr[i] > mx ? xr[i] : mx;
    const int mask = masked && mx != -128;
    double S = 0; /* Σ e < 2^51: exact in double */
    int i0 = 0, i1 = 0;
#ifdef VERITY_X86
    if (g_path == 2) i0 = softmax_exp_512(xr, L, table, mx, mask, e, &S);
#endif
    for (int i = i0; i < L; i++) {
      const double v = (mask && xr[i] == -128) ? 0.0 : (double)table[mx - xr[i]];
      e[i] = v;
      S += v;
    }
    const double d = 2.0 * S, rd = 1.0 / d;
#ifdef VERITY_X86
    if (g_path == 2) i1 = softmax_out_512(e, L, S, y + (size_t)r * L);
#endif
    for (int i = i1; i < L; i++) {
      /* roundDiv(e·256, S) = floor((512·e + S) / 2S), numerator < 2^52; one remainder test after
       * the reciprocal quotient (within 2^−40) makes it exact. */
      const double num = 512.0 * e[i] + S;
      double q = __builtin_floor(num * rd);
      const double rem = num - q * d;
      q = rem < 0 ? q - 1 : rem >= d ? q + 1 : q;
      const double v = q - 128;
      y[(size_t)r * L + i] = (int8_t)(int32_t)(v > 127 ? 127 : v);
    }
  }
}

/* layerNorm(x, xSigned, rows, N, xZero, gamma: Int32Array, beta: Int32Array, eps, shift, yZero, lo, hi, y) */
static napi_value js_layernorm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value a[13];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 13) return fail(env, "layerNorm: expected 13 arguments");
  int32_t sgn, rows, N, xZero, shift, yZero, lo, hi;
  double epsd;
  if (!get_i32(env, a[1], &sgn) || !get_i32(env, a[2], &rows) || !get_i32(env, a[3], &N) || !get_i32(env, a[4], &xZero) ||
      napi_get_value_double(env, a[7], &epsd) != napi_ok || !get_i32(env, a[8], &shift) || !get_i32(env, a[9], &yZero) ||
      !get_i32(env, a[10], &lo) || !get_i32(env, a[11], &hi))
    return fail(env, "layerNorm: numeric arguments expected");
  size_t xb, gb, bb, yb;
  const uint8_t *x = ta(env, a[0], &xb, NULL);
  const int32_t *gamma = ta(env, a[5], &gb, NULL), *beta = ta(env, a[6], &bb, NULL);
  uint8_t *y = ta(env, a[12], &yb, NULL);
  if (!x || !gamma || !beta || !y || rows < 0 || N < 1 || N > 1 << 20 || xb < (size_t)rows * N || yb < (size_t)rows * N ||
      gb < (size_t)N * 4 || bb < (size_t)N * 4 || shift < 1 || shift > 52 || !(epsd >= 0 && epsd < 9007199254740992.0))
    return fail(env, "layerNorm: bad arguments");
  double *c = malloc((size_t)N * 2 * sizeof(double));
  if (!c) return fail(env, "layerNorm: out of memory");
  layernorm_rows(x, sgn, rows, N, xZero, gamma, beta, (int64_t)epsd, shift, yZero, lo, hi, y, c);
  free(c);
  return NULL;
}

/* softmax(x: Int8Array, rows, L, table: Int32Array(256), masked, y: Int8Array) */
static napi_value js_softmax(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t rows, L, masked;
  size_t xb, tb, yb;
  const int8_t *x = argc >= 6 ? ta(env, a[0], &xb, NULL) : NULL;
  const int32_t *table = argc >= 6 ? ta(env, a[3], &tb, NULL) : NULL;
  int8_t *y = argc >= 6 ? ta(env, a[5], &yb, NULL) : NULL;
  if (!x || !table || !y || !get_i32(env, a[1], &rows) || !get_i32(env, a[2], &L) || !get_i32(env, a[4], &masked) || rows < 0 ||
      L < 1 || xb < (size_t)rows * L || yb < (size_t)rows * L || tb < 256 * 4)
    return fail(env, "softmax(x, rows, L, table, masked, y): bad arguments");
  double *e = malloc((size_t)L * sizeof(double));
  if (!e) return fail(env, "softmax: out of memory");
  softmax_rows(x, rows, L, table, masked, y, e);
  free(e);
  return NULL;
}


#ifdef VERITY_X86
/* The table lookup 64 bytes a step (AVX-512 VBMI): vpermi2b picks from the table's low or high 128 bytes by bit 6
 * of the index; bit 7 chooses between the two halves. Returns how many elements it did (a multiple of 64). */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static int lut_512(const uint8_t *x, const uint8_t *t, int n, uint8_t *y) {
  const __m512i t0 = _mm512_loadu_si512((const void *)t), t1 = _mm512_loadu_si512((const void *)(t + 64)),
                t2 = _mm512_loadu_si512((const void *)(t + 128)), t3 = _mm512_loadu_si512((const void *)(t + 192));
  int i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512((const void *)(x + i));
    const __m512i lo = _mm512_permutex2var_epi8(t0, v, t1), hi = _mm512_permutex2var_epi8(t2, v, t3);
    _mm512_storeu_si512((void *)(y + i), _mm512_mask_blend_epi8(_mm512_movepi8_mask(v), lo, hi));
  }
  return i;
}
#endif
static int g_vbmi = 0; /* AVX-512 VBMI available (and the VNNI path selected) */

/* lut(x, table: Uint8Array(256) indexed by x's raw byte, n, y): y[i] = table[x[i] as byte] */
static napi_value js_lut(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t n;
  size_t xb = 0, tb = 0, yb = 0;
  const uint8_t *x = argc >= 4 ? ta(env, a[0], &xb, NULL) : NULL;
  const uint8_t *t = argc >= 4 ? ta(env, a[1], &tb, NULL) : NULL;
  uint8_t *y = argc >= 4 ? ta(env, a[3], &yb, NULL) : NULL;
  if (!x || !t || !y || !get_i32(env, a[2], &n) || n < 0 || tb < 256 || xb < (size_t)n || yb < (size_t)n)
    return fail(env, "lut(x, table, n, y): bad arguments");
  int i0 = 0;
#ifdef VERITY_X86
  if (g_vbmi) i0 = lut_512(x, t, n, y);
#endif
  for (int i = i0; i < n; i++) y[i] = t[x[i]]; /* reference (and the tail) */
  return NULL;
}

/* add(a, b, n, B, bStride, ta: Int32Array(256), tb: Int32Array(256), shift, yZero, lo, hi, y): Add of 8-bit operands
 * (src/engine/ops/add.ts, shift ≤ 30, tables indexed by the raw byte, |ta + tb| < 2^30):
 *   y[β·n + i] = clamp(yZero + ((ta[a[β·n + i]] + tb[b[β·bStride + i]]) >> shift), lo, hi)   for β < B, i < n. */
#ifdef VERITY_X86
/* The AVX-512 add over affine tables, t[u] = c + v(u)·m mod 2^32 for every raw byte u (table_affine; add.ts's always are):
 * the table values computed in the lanes (vpmovsxbd / vpmovzxbd, vpmulld, vpaddd: the same wrapping int32 values as the
 * lookups; two vpgatherdd per 16 lanes were ~1 us a row of mobile-net's 2048-element Add). Other tables: the reference. */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static int add_512_affine(const uint8_t *a, const uint8_t *b, int n, const int *sg,
                                                                              const uint32_t *c, const uint32_t *m, int shift,
                                                                              int32_t yZero, int32_t lo, int32_t hi, uint8_t *y) {
  const __m512i vz = _mm512_set1_epi32(yZero), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
  const __m512i ca = _mm512_set1_epi32((int)(c[0] + c[1])), ma = _mm512_set1_epi32((int)m[0]), mb = _mm512_set1_epi32((int)m[1]);
  const __m128i sh = _mm_cvtsi32_si128(shift);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i xa = _mm_loadu_si128((const __m128i *)(a + i)), xb = _mm_loadu_si128((const __m128i *)(b + i));
    const __m512i ia = sg[0] ? _mm512_cvtepi8_epi32(xa) : _mm512_cvtepu8_epi32(xa);
    const __m512i ib = sg[1] ? _mm512_cvtepi8_epi32(xb) : _mm512_cvtepu8_epi32(xb);
    const __m512i s = _mm512_add_epi32(ca, _mm512_add_epi32(_mm512_mullo_epi32(ia, ma), _mm512_mullo_epi32(ib, mb)));
    const __m512i v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(vz, _mm512_sra_epi32(s, sh)), vlo), vhi);
    _mm_storeu_si128((__m128i *)(y + i), _mm512_cvtepi32_epi8(v));
  }
  return i;
}
#endif

/* Whether t[u] = c + v(u)·m mod 2^32 for all 256 raw bytes u, v(u) = (int8)u (*sg = 1) or u (*sg = 0): add.ts's tables are,
 * (x − zero)·mult (+ half) of the byte's value x. */
static int table_affine(const int32_t *t, int *sg, uint32_t *c, uint32_t *m) {
  for (int s = 1; s >= 0; s--) {
    const uint32_t c0 = (uint32_t)t[0], m0 = (uint32_t)t[1] - c0;
    int ok = 1;
    for (int u = 0; u < 256 && ok; u++) ok = (uint32_t)t[u] == c0 + (uint32_t)(s ? (int32_t)(int8_t)u : u) * m0;
    if (ok) {
      *sg = s, *c = c0, *m = m0;
      return 1;
    }
  }
  return 0;
}

static napi_value js_add(napi_env env, napi_callback_info info) {
  ARGS(12, "add");
  static const int ints[] = {2, 3, 4, 7, 8, 9, 10};
  int32_t v[12];
  if (!get_ints(env, a, ints, 7, v)) return fail(env, "add: integer arguments expected");
  const int n = v[2], B = v[3], bs = v[4], shift = v[7], yZero = v[8], lo = v[9], hi = v[10];
  size_t ab, bb, tab, tbb, yb;
  const uint8_t *A = ta(env, a[0], &ab, NULL), *Bv = ta(env, a[1], &bb, NULL);
  const int32_t *tA = ta(env, a[5], &tab, NULL), *tB = ta(env, a[6], &tbb, NULL);
  uint8_t *y = ta(env, a[11], &yb, NULL);
  if (!A || !Bv || !tA || !tB || !y || n < 0 || B < 0 || bs < 0 || shift < 1 || shift > 30 || tab < 1024 || tbb < 1024 ||
      ab < (size_t)n * B || yb < (size_t)n * B || (B > 0 && bb < (size_t)(B - 1) * bs + (size_t)n))
    return fail(env, "add: bad arguments");
  int sg[2];
  uint32_t c[2], m[2];
  const int affine = g_path == 2 && table_affine(tA, &sg[0], &c[0], &m[0]) && table_affine(tB, &sg[1], &c[1], &m[1]);
  for (int it = 0; it < B; it++) {
    const uint8_t *ai = A + (size_t)it * n, *bi = Bv + (size_t)it * bs;
    uint8_t *yi = y + (size_t)it * n;
    int i0 = 0;
#ifdef VERITY_X86
    if (affine) i0 = add_512_affine(ai, bi, n, sg, c, m, shift, yZero, lo, hi, yi);
#endif
    for (int i = i0; i < n; i++) { /* reference (and the tail) */
      int32_t r = yZero + ((tA[ai[i]] + tB[bi[i]]) >> shift);
      yi[i] = (uint8_t)(r < lo ? lo : r > hi ? hi : r);
    }
  }
  return NULL;
}

/* ---------- MaxPool, NHWC: max over the window's taps inside the input (win = kh0[OH] kh1[OH] kw0[OW] kw1[OW]) ---------- */
#ifdef VERITY_X86
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default")))
#endif
static void maxpool_item(const uint8_t *x, int sgn, int W, int C, int OH, int OW, const int32_t *win, int sh, int sw, int dh, int dw,
                         int pt, int pl, uint8_t *y) {
  const int32_t *kh0 = win, *kh1 = win + OH, *kw0 = win + 2 * OH, *kw1 = win + 2 * OH + OW;
  for (int oh = 0; oh < OH; oh++) {
    for (int ow = 0; ow < OW; ow++) {
      uint8_t *py = y + ((size_t)oh * OW + ow) * C;
      int first = 1;
      for (int kh = kh0[oh]; kh < kh1[oh]; kh++) {
        const int h = oh * sh - pt + kh * dh;
        for (int kw = kw0[ow]; kw < kw1[ow]; kw++) {
          const uint8_t *px = x + ((size_t)h * W + (ow * sw - pl + kw * dw)) * C;
          if (first) {
            memcpy(py, px, (size_t)C);
            first = 0;
          } else if (sgn) {
            int8_t *q = (int8_t *)py;
            const int8_t *r = (const int8_t *)px;
            for (int c = 0; c < C; c++) q[c] = r[c] > q[c] ? r[c] : q[c];
          } else {
            for (int c = 0; c < C; c++) py[c] = px[c] > py[c] ? px[c] : py[c];
          }
        }
      }
    }
  }
}

#ifdef VERITY_X86
/* maxpool_item on the AVX-512 path: 64 channels a step, each tap one masked load and one vpmaxsb / vpmaxub from the dtype
 * minimum (every window has ≥ 1 tap, so the max is the reference's, which starts at the first tap). */
VNNI_TARGET static void maxpool_item_512(const uint8_t *x, int sgn, int W, int C, int OH, int OW, const int32_t *win, int sh, int sw,
                                         int dh, int dw, int pt, int pl, uint8_t *y) {
  const int32_t *kh0 = win, *kh1 = win + OH, *kw0 = win + 2 * OH, *kw1 = win + 2 * OH + OW;
  const __m512i lo = sgn ? _mm512_set1_epi8(-128) : _mm512_setzero_si512();
  for (int oh = 0; oh < OH; oh++)
    for (int ow = 0; ow < OW; ow++)
      for (int c0 = 0; c0 < C; c0 += 64) {
        const int nc = C - c0 < 64 ? C - c0 : 64;
        const __mmask64 m = nc == 64 ? ~0ULL : (1ULL << nc) - 1;
        __m512i v = lo;
        for (int kh = kh0[oh]; kh < kh1[oh]; kh++) {
          const int h = oh * sh - pt + kh * dh;
          for (int kw = kw0[ow]; kw < kw1[ow]; kw++) {
            const __m512i xv = _mm512_maskz_loadu_epi8(m, x + ((size_t)h * W + (ow * sw - pl + kw * dw)) * C + c0);
            v = sgn ? _mm512_max_epi8(v, xv) : _mm512_max_epu8(v, xv);
          }
        }
        _mm512_mask_storeu_epi8(y + ((size_t)oh * OW + ow) * C + c0, m, v);
      }
}
#endif

/* maxpool(x, xSigned, B, H, W, C, OH, OW, win: Int32Array(2·OH + 2·OW), sh, sw, dh, dw, pt, pl, y): every window has ≥ 1 tap
 * (planPool checks it), so the max starts at the first tap, as the JS loop's max starts at the dtype minimum. */
static napi_value js_maxpool(napi_env env, napi_callback_info info) {
  size_t argc = 16;
  napi_value a[16];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc < 16) return fail(env, "maxpool: expected 16 arguments");
  int32_t v[16];
  for (int i = 1; i <= 7; i++)
    if (!get_i32(env, a[i], &v[i])) return fail(env, "maxpool: integer arguments expected");
  for (int i = 9; i <= 14; i++)
    if (!get_i32(env, a[i], &v[i])) return fail(env, "maxpool: integer arguments expected");
  const int sgn = v[1], B = v[2], H = v[3], W = v[4], C = v[5], OH = v[6], OW = v[7], sh = v[9], sw = v[10], dh = v[11], dw = v[12],
            pt = v[13], pl = v[14];
  size_t xb = 0, wb = 0, yb = 0;
  const uint8_t *x = ta(env, a[0], &xb, NULL);
  const int32_t *win = ta(env, a[8], &wb, NULL);
  uint8_t *y = ta(env, a[15], &yb, NULL);
  if (!x || !win || !y || B < 0 || H < 1 || W < 1 || C < 1 || OH < 1 || OW < 1 || xb < (size_t)B * H * W * C ||
      wb < (size_t)(2 * OH + 2 * OW) * 4 || yb < (size_t)B * OH * OW * C)
    return fail(env, "maxpool: array sizes do not match");
  /* Every tap read must be inside the input (the windows come from planPool; checked here so no call reads out of bounds). */
  for (int oh = 0; oh < OH; oh++) {
    if (win[oh] >= win[OH + oh]) return fail(env, "maxpool: empty window");
    const long h0 = (long)oh * sh - pt + (long)win[oh] * dh, h1 = (long)oh * sh - pt + (long)(win[OH + oh] - 1) * dh;
    if (h0 < 0 || h1 >= H) return fail(env, "maxpool: window outside the input");
  }
  for (int ow = 0; ow < OW; ow++) {
    if (win[2 * OH + ow] >= win[2 * OH + OW + ow]) return fail(env, "maxpool: empty window");
    const long w0 = (long)ow * sw - pl + (long)win[2 * OH + ow] * dw, w1 = (long)ow * sw - pl + (long)(win[2 * OH + OW + ow] - 1) * dw;
    if (w0 < 0 || w1 >= W) return fail(env, "maxpool: window outside the input");
  }
  for (int b = 0; b < B; b++) {
#ifdef VERITY_X86
    if (g_path == 2) {
      maxpool_item_512(x + (size_t)b * H * W * C, sgn, W, C, OH, OW, win, sh, sw, dh, dw, pt, pl, y + (size_t)b * OH * OW * C);
      continue;
    }
#endif
    maxpool_item(x + (size_t)b * H * W * C, sgn, W, C, OH, OW, win, sh, sw, dh, dw, pt, pl, y + (size_t)b * OH * OW * C);
  }
  return NULL;
}

/* Conv kernels (depthwise, group-1 conv with its im2col inside, GlobalAveragePool): native/conv.c. */
#include "conv.c"

static napi_value js_cpu(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  const char *name = g_path == 2 ? "avx512vnni" : g_path == 1 ? "avx2" : "scalar";
  CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &s));
  return s;
}

/* setPath(p): test hook, forces a lower path (0 scalar, 1 avx2) than the CPU allows; returns the path. */
static int g_max = 0, g_has_vbmi = 0;
static napi_value js_set_path(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1], r;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  int32_t p;
  if (argc < 1 || !get_i32(env, a[0], &p)) return fail(env, "setPath(p): integer expected");
  g_path = p < 0 ? 0 : p > g_max ? g_max : p;
  g_kx8 = g_path == 2;
  g_vbmi = g_path == 2 && g_has_vbmi;
  CHECK(napi_create_int32(env, g_path, &r));
  return r;
}

NAPI_MODULE_INIT() {
#ifdef VERITY_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
    g_max = 2;
  else if (__builtin_cpu_supports("avx2"))
    g_max = 1;
#endif
  g_path = g_max;
  g_kx8 = g_path == 2;
#ifdef VERITY_X86
  g_has_vbmi = __builtin_cpu_supports("avx512vbmi");
#endif
  g_vbmi = g_path == 2 && g_has_vbmi;
  struct { const char *name; napi_callback cb; } fns[] = {
    {"pack", js_pack}, {"packAct", js_pack_act}, {"packedBytes", js_packed_bytes}, {"dense", js_dense}, {"gather", js_gather}, {"gatherBatch", js_gather}, {"gatherRuns", js_gather}, {"matmul", js_matmul}, {"add", js_add}, {"cpu", js_cpu}, {"lut", js_lut}, {"maxpool", js_maxpool}, {"layerNorm", js_layernorm}, {"softmax", js_softmax}, {"keccakLeaves", js_keccak_leaves}, {"keccakLevel", js_keccak_level}, {"setPath", js_set_path},
    CONV_EXPORTS
    COMMIT_EXPORTS
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}
