/*
 * Commitment digests on the honest path (issue 13), batched over the items of a batch: included once by
 * verity_native.c after its Keccak section (it uses keccakf, keccak_many and the N-API helpers there), kept in
 * its own file so the kernels and the digests change apart.
 *
 *   outputHashes(raw, count, spec, zeros) -> string of count × 66 chars ("0x" + 64 lowercase hex each):
 *       outputHashOf (src/commit/io.ts) of each item's outputs: keccak256(0x07 ‖ uint32 T ‖ tensorRoot_0 … _T−1),
 *       tensorRoot = keccak256(0x02 ‖ uint8 dtypeCode ‖ uint32 n ‖ uint8 rank ‖ rank × uint32 dim ‖ merkleRoot(bytes))
 *       (docs/protocol.md §Commitments; integers big-endian; merkleRoot as src/commit/merkle.ts: leaves
 *       keccak256(0x00 ‖ word), last word zero-padded, odd levels paired with zeros[level]).
 *       raw: the items back to back, each its T output tensors back to back in memory layout (i8/u8 one byte,
 *       i32 four bytes little-endian; element bytes are big-endian, converted here). spec: Int32Array
 *       [T, then per output: dtypeCode (1 i8, 2 u8, 3 i32), rank, dims…] (every item has the same shapes).
 *       zeros: ZERO_HASHES of src/commit/keccak.ts back to back (32 bytes each, one per level).
 *   resultLeaves(start, hashes, count) -> string of count × 66 chars, or null if `hashes` is not count 0x-hex
 *       32-byte digests back to back: resultLeaf(start + i, hash_i) of src/chain/positional.ts,
 *       keccak256(keccak256(abi.encode(uint256 index, bytes32 digest))).
 *   treeLevels(leaves, count) -> string of (count − 1) × 66 chars, or null as above: every level of PositionalTree
 *       (src/chain/positional.ts) above its count leaves (a power of two), bottom-up, the root last;
 *       node = keccak256(left ‖ right).
 *   resultTree(start, hashes, count) -> string of (2·size − 1) × 66 chars (size: count rounded up to a power of two),
 *       or null as resultLeaves: the whole PositionalTree over resultLeaf(start + i, hash_i), bottom-up — the size
 *       leaves (the count result leaves, then zero words), then every level above, the root last.
 * Hashing runs stage by stage over all items (leaves, each Merkle level, tensor roots, digests), so
 * keccak_many hashes eight items' messages at a time where AVX-512 allows.
 */

/* keccak256 of a message of any length: 136-byte blocks, then the padded last one (0x01 … 0x80). */
static void keccak_any(const uint8_t *msg, size_t len, uint8_t *out) {
  uint64_t st[25];
  uint8_t blk[136];
  memset(st, 0, sizeof st);
  for (;;) {
    const int last = len < 136;
    if (last) {
      memset(blk, 0, sizeof blk);
      memcpy(blk, msg, len);
      blk[len] ^= 0x01;
      blk[135] ^= 0x80;
    } else memcpy(blk, msg, 136);
    for (int l = 0; l < 17; l++) {
      uint64_t w;
      memcpy(&w, blk + 8 * l, 8);
      st[l] ^= w;
    }
    keccakf(st);
    if (last) break;
    msg += 136;
    len -= 136;
  }
  memcpy(out, st, 32);
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void to_hex(const uint8_t *d, char *s) {
  static const char hx[] = "0123456789abcdef";
  s[0] = '0';
  s[1] = 'x';
  for (int i = 0; i < 32; i++) {
    s[2 + 2 * i] = hx[d[i] >> 4];
    s[3 + 2 * i] = hx[d[i] & 15];
  }
}

/* HEXV[c] = the value of hex digit c (either case), or 16 (not a digit): one table look-up a character. */
static const uint8_t HEXV[256] = {
    [0 ... 255] = 16, ['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4, ['5'] = 5, ['6'] = 6, ['7'] = 7, ['8'] = 8,
    ['9'] = 9, ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15, ['A'] = 10, ['B'] = 11,
    ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15};

/* count digests as one string of count × 66 chars (napi string, latin1). */
static napi_value hex_string(napi_env env, const uint8_t *digests, int count) {
  char *s = malloc((size_t)count * 66 + 1);
  if (!s) return fail(env, "out of memory");
  for (int i = 0; i < count; i++) to_hex(digests + (size_t)32 * i, s + (size_t)66 * i);
  napi_value r;
  const napi_status st = napi_create_string_latin1(env, s, (size_t)count * 66, &r);
  free(s);
  CHECK(st);
  return r;
}

/* One output tensor of every item: where its raw bytes are and its header. */
struct dig_ctx {
  const uint8_t *raw;
  size_t stride, off, bytes; /* item stride, tensor offset in the item, element-byte length */
  int i32, L, P, cnt;        /* i32 (else one byte per element), leaves per item, parents and nodes this level */
  uint8_t *buf;              /* count × L × 32: each item's Merkle level, in place */
  const uint8_t *zero;       /* this level's padding hash */
  const uint8_t *head;       /* 0x02 ‖ code ‖ n ‖ rank ‖ dims (7 + 4·rank bytes) */
  int headLen;
  uint8_t *roots; /* count × T × 32 */
  int T, t;
};

static const uint8_t *dig_leaf_msg(void *c, int k, uint8_t *b) {
  struct dig_ctx *x = c;
  const size_t item = (size_t)(k / x->L), at = (size_t)(k % x->L) * 32;
  const uint8_t *src = x->raw + item * x->stride + x->off;
  memset(b, 0, 33);
  if (at >= x->bytes) return b;
  const size_t n = x->bytes - at < 32 ? x->bytes - at : 32;
  if (!x->i32) memcpy(b + 1, src + at, n);
  else
    for (size_t e = 0; e < n; e += 4) { /* element bytes: i32 big-endian; raw is little-endian */
      uint32_t v;
      memcpy(&v, src + at + e, 4);
      put_be32(b + 1 + e, v);
    }
  return b;
}
static uint8_t *dig_leaf_out(void *c, int k) { return ((struct dig_ctx *)c)->buf + (size_t)k * 32; }

static const uint8_t *dig_node_msg(void *c, int k, uint8_t *b) {
  struct dig_ctx *x = c;
  const int j = k % x->P;
  const uint8_t *lv = x->buf + (size_t)(k / x->P) * x->L * 32 + (size_t)64 * j;
  b[0] = 0x01;
  memcpy(b + 1, lv, 32);
  memcpy(b + 33, 2 * j + 1 < x->cnt ? lv + 32 : x->zero, 32);
  return b;
}
static uint8_t *dig_node_out(void *c, int k) {
  struct dig_ctx *x = c;
  return x->buf + (size_t)(k / x->P) * x->L * 32 + (size_t)32 * (k % x->P);
}

static const uint8_t *dig_root_msg(void *c, int b, uint8_t *m) {
  struct dig_ctx *x = c;
  memcpy(m, x->head, x->headLen);
  memcpy(m + x->headLen, x->buf + (size_t)b * x->L * 32, 32);
  return m;
}
static uint8_t *dig_root_out(void *c, int b) { struct dig_ctx *x = c; return x->roots + ((size_t)b * x->T + x->t) * 32; }

static const uint8_t *dig_io_msg(void *c, int b, uint8_t *m) {
  struct dig_ctx *x = c;
  m[0] = 0x07;
  put_be32(m + 1, (uint32_t)x->T);
  memcpy(m + 5, x->roots + (size_t)b * x->T * 32, (size_t)x->T * 32);
  return m;
}
static uint8_t *dig_io_out(void *c, int b) { return ((struct dig_ctx *)c)->buf + (size_t)b * 32; }

/* messages msg(0..n−1) of len bytes: keccak_many when they fit one block, else one at a time. */
static int hash_stage(int n, size_t len, const uint8_t *(*msg)(void *, int, uint8_t *), struct dig_ctx *c, uint8_t *(*out)(void *, int)) {
  if (len <= 135) {
    keccak_many(n, (int)len, msg, c, out);
    return 1;
  }
  uint8_t *m = malloc(len);
  if (!m) return 0;
  for (int i = 0; i < n; i++) keccak_any(msg(c, i, m), len, out(c, i));
  free(m);
  return 1;
}

static napi_value js_output_hashes(napi_env env, napi_callback_info info) {
  ARGS(4, "outputHashes(raw, count, spec, zeros)");
  size_t rawBytes, specBytes, zeroBytes;
  napi_typedarray_type specType;
  int32_t count;
  const uint8_t *raw = ta(env, a[0], &rawBytes, NULL);
  const int32_t *spec = ta(env, a[2], &specBytes, &specType);
  const uint8_t *zeros = ta(env, a[3], &zeroBytes, NULL);
  const size_t ns = specBytes / 4;
  if (!raw || !spec || specType != napi_int32_array || !zeros || !get_i32(env, a[1], &count) || count < 0 || ns < 1 || spec[0] < 0 ||
      (size_t)spec[0] * 32 > ((size_t)1 << 31))
    return fail(env, "outputHashes(raw, count, spec, zeros): bad arguments");
  const int T = spec[0];
  /* Walk the spec once: each tensor's offset, byte length, leaf count (checked against raw and zeros). */
  size_t stride = 0, at = 1, maxL = 1;
  for (int t = 0; t < T; t++) {
    if (at + 2 > ns || spec[at] < 1 || spec[at] > 3 || spec[at + 1] < 0 || spec[at + 1] > 255 || at + 2 + (size_t)spec[at + 1] > ns)
      return fail(env, "outputHashes: malformed spec");
    uint64_t n = 1;
    for (int d = 0; d < spec[at + 1]; d++) {
      if (spec[at + 2 + d] < 0) return fail(env, "outputHashes: malformed spec");
      n *= (uint64_t)spec[at + 2 + d];
      if (n > 0xffffffffULL) return fail(env, "outputHashes: element count does not fit in a uint32");
    }
    const size_t bytes = (size_t)n * (spec[at] == 3 ? 4 : 1), L = bytes > 32 ? (bytes + 31) / 32 : 1;
    if (L > maxL) maxL = L;
    stride += bytes;
    at += 2 + (size_t)spec[at + 1];
  }
  int depth = 0;
  while (((size_t)1 << depth) < maxL) depth++;
  if (rawBytes < stride * (size_t)count || zeroBytes < (size_t)32 * depth || maxL * (size_t)count > 0x7fffffff)
    return fail(env, "outputHashes: raw or zeros too short, or too many leaves");
  uint8_t *roots = malloc((size_t)count * T * 32 + 1), *buf = malloc(maxL * (size_t)count * 32 + 32), head[7 + 4 * 255];
  if (!roots || !buf) {
    free(roots);
    free(buf);
    return fail(env, "outputHashes: out of memory");
  }
  struct dig_ctx c = {.raw = raw, .stride = stride, .buf = buf, .head = head, .roots = roots, .T = T};
  int ok = 1;
  at = 1;
  for (int t = 0; t < T && ok; t++) {
    const int code = spec[at], rank = spec[at + 1];
    uint32_t n = 1;
    for (int d = 0; d < rank; d++) n *= (uint32_t)spec[at + 2 + d];
    c.t = t;
    c.i32 = code == 3;
    c.bytes = (size_t)n * (c.i32 ? 4 : 1);
    c.L = c.bytes > 32 ? (int)((c.bytes + 31) / 32) : 1;
    keccak_many(count * c.L, 33, dig_leaf_msg, &c, dig_leaf_out);
    c.cnt = c.L;
    for (int level = 0; c.cnt > 1; level++) {
      c.P = (c.cnt + 1) / 2;
      c.zero = zeros + (size_t)32 * level;
      keccak_many(count * c.P, 65, dig_node_msg, &c, dig_node_out);
      c.cnt = c.P;
    }
    head[0] = 0x02;
    head[1] = (uint8_t)code;
    put_be32(head + 2, n);
    head[6] = (uint8_t)rank;
    for (int d = 0; d < rank; d++) put_be32(head + 7 + 4 * d, (uint32_t)spec[at + 2 + d]);
    c.headLen = 7 + 4 * rank;
    ok = hash_stage(count, (size_t)c.headLen + 32, dig_root_msg, &c, dig_root_out);
    c.off += c.bytes;
    at += 2 + (size_t)rank;
  }
  if (ok) ok = hash_stage(count, 5 + (size_t)32 * T, dig_io_msg, &c, dig_io_out);
  free(roots);
  napi_value r = ok ? hex_string(env, buf, count) : fail(env, "outputHashes: out of memory");
  free(buf);
  return r;
}

/* abi.encode(uint256 start + i, bytes32 digest_i), then its keccak256 hashed again (in place). */
struct leaf_ctx { const uint8_t *digests; uint8_t *out; uint32_t start; };
static const uint8_t *rl_msg(void *c, int i, uint8_t *m) {
  struct leaf_ctx *x = c;
  memset(m, 0, 28);
  put_be32(m + 28, x->start + (uint32_t)i);
  memcpy(m + 32, x->digests + (size_t)32 * i, 32);
  return m;
}
static const uint8_t *rl_again_msg(void *c, int i, uint8_t *m) {
  memcpy(m, ((struct leaf_ctx *)c)->out + (size_t)32 * i, 32);
  return m;
}
static uint8_t *rl_out(void *c, int i) { return ((struct leaf_ctx *)c)->out + (size_t)32 * i; }

/* The digests of a string of count 0x-hex 32-byte digests back to back, into d (count × 32 bytes); 0 if it is not
 * that (wrong length, a missing "0x", a non-hex digit), -1 if a N-API call failed. */
static int parse_hexes(napi_env env, napi_value v, int count, uint8_t *d) {
  size_t len;
  if (napi_get_value_string_latin1(env, v, NULL, 0, &len) != napi_ok) return -1;
  if (len != (size_t)count * 66) return 0;
  char *s = malloc(len + 1);
  if (!s || napi_get_value_string_latin1(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return -1;
  }
  int ok = 1;
  for (int i = 0; i < count && ok; i++) {
    const uint8_t *h = (const uint8_t *)s + (size_t)66 * i;
    uint8_t bad = h[0] != '0' || h[1] != 'x';
    for (int k = 0; k < 32; k++) {
      const uint8_t hi = HEXV[h[2 + 2 * k]], lo = HEXV[h[3 + 2 * k]];
      bad |= (hi | lo) & 16;
      d[(size_t)32 * i + k] = (uint8_t)(hi << 4 | (lo & 15));
    }
    ok = !bad;
  }
  free(s);
  return ok;
}

static napi_value js_result_leaves(napi_env env, napi_callback_info info) {
  ARGS(3, "resultLeaves(start, hashes, count)");
  int32_t start, count;
  if (!get_i32(env, a[0], &start) || !get_i32(env, a[2], &count) || start < 0 || count < 0 || count > (1 << 24))
    return fail(env, "resultLeaves(start, hashes, count): bad arguments");
  uint8_t *d = malloc((size_t)count * 64 + 1);
  if (!d) return fail(env, "resultLeaves: out of memory");
  const int ok = parse_hexes(env, a[1], count, d);
  napi_value r;
  if (ok == 1) {
    struct leaf_ctx c = {d, d + (size_t)32 * count, (uint32_t)start};
    keccak_many(count, 64, rl_msg, &c, rl_out);
    keccak_many(count, 32, rl_again_msg, &c, rl_out);
    r = hex_string(env, c.out, count);
  } else if (ok == 0) napi_get_null(env, &r);
  else r = fail(env, "resultLeaves: N-API string access failed");
  free(d);
  return r;
}

/* keccak256(h[2i] ‖ h[2i + 1]): one level of the positional tree (contracts/libraries/PositionalMerkle.sol), read
 * at c (the level below) and written after it (parent i at 32·i from the level's end). */
static const uint8_t *pair_msg(void *c, int i, uint8_t *m) {
  memcpy(m, (const uint8_t *)c + (size_t)64 * i, 64);
  return m;
}
struct level_span { const uint8_t *below; uint8_t *out; };
static const uint8_t *span_msg(void *c, int i, uint8_t *m) { return pair_msg((void *)((struct level_span *)c)->below, i, m); }
static uint8_t *span_out(void *c, int i) { return ((struct level_span *)c)->out + (size_t)32 * i; }

static napi_value js_tree_levels(napi_env env, napi_callback_info info) {
  ARGS(2, "treeLevels(leaves, count)");
  int32_t count;
  if (!get_i32(env, a[1], &count) || count < 1 || count > (1 << 24) || (count & (count - 1))) return fail(env, "treeLevels(leaves, count): bad arguments");
  uint8_t *d = malloc((size_t)count * 64);
  if (!d) return fail(env, "treeLevels: out of memory");
  const int ok = parse_hexes(env, a[0], count, d);
  napi_value r;
  if (ok == 1) {
    /* d: the leaves, then every level above them in turn (count − 1 nodes in all, the root last). */
    size_t at = 0;
    for (int n = count; n > 1; n /= 2) {
      struct level_span c = {d + at, d + at + (size_t)32 * n};
      keccak_many(n / 2, 64, span_msg, &c, span_out);
      at += (size_t)32 * n;
    }
    r = hex_string(env, d + (size_t)32 * count, count - 1);
  } else if (ok == 0) napi_get_null(env, &r);
  else r = fail(env, "treeLevels: N-API string access failed");
  free(d);
  return r;
}

/* resultLeaves and treeLevels in one call, for a batch's result tree: the leaves resultLeaf(start + i, hash_i), the
 * zero leaves up to the next power of two, then every level above, as one string. */
static napi_value js_result_tree(napi_env env, napi_callback_info info) {
  ARGS(3, "resultTree(start, hashes, count)");
  int32_t start, count;
  if (!get_i32(env, a[0], &start) || !get_i32(env, a[2], &count) || start < 0 || count < 1 || count > (1 << 24) ||
      (int64_t)start + count > 0x7fffffff)
    return fail(env, "resultTree(start, hashes, count): bad arguments");
  int size = 1;
  while (size < count) size *= 2;
  /* d: the digests (count × 32), then the tree: size leaves, then each level above (2·size − 1 nodes, the root last). */
  uint8_t *d = malloc((size_t)count * 32 + (size_t)size * 64);
  if (!d) return fail(env, "resultTree: out of memory");
  const int ok = parse_hexes(env, a[1], count, d);
  napi_value r;
  if (ok == 1) {
    uint8_t *tree = d + (size_t)count * 32;
    struct leaf_ctx c = {d, tree, (uint32_t)start};
    keccak_many(count, 64, rl_msg, &c, rl_out);
    keccak_many(count, 32, rl_again_msg, &c, rl_out);
    memset(tree + (size_t)count * 32, 0, (size_t)(size - count) * 32);
    size_t at = 0;
    for (int n = size; n > 1; n /= 2) {
      struct level_span l = {tree + at, tree + at + (size_t)32 * n};
      keccak_many(n / 2, 64, span_msg, &l, span_out);
      at += (size_t)32 * n;
    }
    r = hex_string(env, tree, 2 * size - 1);
  } else if (ok == 0) napi_get_null(env, &r);
  else r = fail(env, "resultTree: N-API string access failed");
  free(d);
  return r;
}

/* The exports above, for verity_native.c's table. */
#define COMMIT_EXPORTS {"outputHashes", js_output_hashes}, {"resultLeaves", js_result_leaves}, {"treeLevels", js_tree_levels}, {"resultTree", js_result_tree},
