/* rng.c: Philox4x32-10 streams. Block k of a stream is philox(counter=k,
 * key=seed); a uniform or Bernoulli value uses one block of its own and
 * normals share one (two to a block in double, four in float), so values
 * are a pure function of (seed, position) and any thread may compute any
 * of them. The array draws compute BATCH blocks at a time in a lane loop
 * the compiler vectorises (vpmuludq on AVX-512, pmuludq on SSE2), bitwise
 * equal to ae_rng_block's scalar Random123. */
#include "rng.h"

#include <Random123/philox.h>

#include "parallel.h"
#include "tensor.h"
#include "base/vmath.h"

void ae_rng_block(uint64_t seed, uint64_t counter, uint32_t out[4]) {
  philox4x32_ctr_t c = {{(uint32_t)counter, (uint32_t)(counter >> 32), 0x61657a6fu, 0}};
  philox4x32_key_t k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  philox4x32_ctr_t r = philox4x32(c, k);
  out[0] = r.v[0];
  out[1] = r.v[1];
  out[2] = r.v[2];
  out[3] = r.v[3];
}

void ae_rng_init(ae_rng *r, uint64_t seed) {
  r->seed = seed;
  r->counter = 0;
  r->row0 = r->rows = r->total_rows = 0;
}

int ae_rng_set_rows(ae_rng *r, int64_t row0, int64_t rows, int64_t total_rows) {
  if (!(row0 == 0 && rows == 0 && total_rows == 0) && !(row0 >= 0 && rows >= 1 && rows <= total_rows - row0)) {
    ae_set_last_error("rng: rows [%lld, %lld + %lld) do not lie in a batch of %lld", (long long)row0, (long long)row0,
                      (long long)rows, (long long)total_rows);
    return -1;
  }
  r->row0 = row0;
  r->rows = rows;
  r->total_rows = total_rows;
  return 0;
}

/* A draw of n values: its first value's position in the whole draw, and
 * the whole draw's length (by how much the counter advances). */
static void row_span(const ae_rng *r, int64_t n, uint64_t *first, uint64_t *whole) {
  *first = 0;
  *whole = (uint64_t)n;
  if (r->total_rows > 0 && r->rows > 0 && n % r->rows == 0) {
    uint64_t per = (uint64_t)(n / r->rows);
    *first = (uint64_t)r->row0 * per;
    *whole = (uint64_t)r->total_rows * per;
  }
}

/* Blocks per batch: the unit of the lane loops and of parallel work. */
enum { BATCH = 256 };

/* Blocks counter .. counter+n-1 (n <= BATCH) of key seed into the word
 * arrays w[0..3]: the rounds of Random123's philox4x32_R(10) on SIMD
 * lanes (AVX-512, AVX2 or SSE2 integer vectors; a plain loop without
 * SSE2). A vector of 32-bit blocks is held as two vectors of 64-bit lanes
 * (the even and the odd blocks, one word in each lane's low half):
 * pmuludq reads only the low halves, so a product's low word needs no
 * masking and its high word is one shift away. The upper halves collect
 * garbage that the final store masks off. ILV vectors pass through the
 * rounds together, since each is a chain of multiplies. Past n the lanes
 * compute blocks nobody reads (w has room for BATCH). */
#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#if defined(__AVX512F__)
typedef __m512i vq;
#define QW 16 /* 32-bit words per vector */
#define Q_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define Q_STORE(p, v) _mm512_storeu_si512((void *)(p), (v))
#define Q_SET64(x) _mm512_set1_epi64((long long)(x))
#define Q_MUL(a, b) _mm512_mul_epu32((a), (b))
#define Q_SRL(a) _mm512_srli_epi64((a), 32)
#define Q_SLL(a) _mm512_slli_epi64((a), 32)
#define Q_XOR3(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0x96)
#define Q_JOIN(e, o) _mm512_mask_blend_epi32(0xAAAA, (e), Q_SLL(o)) /* even lanes from e, odd from o */
#elif defined(__AVX2__)
typedef __m256i vq;
#define QW 8
#define Q_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define Q_STORE(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define Q_SET64(x) _mm256_set1_epi64x((long long)(x))
#define Q_MUL(a, b) _mm256_mul_epu32((a), (b))
#define Q_SRL(a) _mm256_srli_epi64((a), 32)
#define Q_SLL(a) _mm256_slli_epi64((a), 32)
#define Q_XOR3(a, b, c) _mm256_xor_si256(_mm256_xor_si256((a), (b)), (c))
#define Q_JOIN(e, o) _mm256_blend_epi32((e), Q_SLL(o), 0xAA)
#else
typedef __m128i vq;
#define QW 4
#define Q_LOAD(p) _mm_loadu_si128((const __m128i *)(p))
#define Q_STORE(p, v) _mm_storeu_si128((__m128i *)(p), (v))
#define Q_SET64(x) _mm_set1_epi64x((long long)(x))
#define Q_MUL(a, b) _mm_mul_epu32((a), (b))
#define Q_SRL(a) _mm_srli_epi64((a), 32)
#define Q_SLL(a) _mm_slli_epi64((a), 32)
#define Q_XOR3(a, b, c) _mm_xor_si128(_mm_xor_si128((a), (b)), (c))
#define Q_JOIN(e, o) _mm_or_si128(_mm_and_si128((e), Q_SET64(0xFFFFFFFFu)), Q_SLL(o))
#endif

enum { ILV = 2, NV = 2 * ILV, PASS = QW * ILV };

static void philox_batch(uint64_t seed, uint64_t counter, int n, uint32_t w[4][BATCH]) {
  const uint32_t clo = (uint32_t)counter, chi = (uint32_t)(counter >> 32);
  const vq m0 = Q_SET64(0xD2511F53u), m1 = Q_SET64(0xCD9E8D57u);
  for (int i = 0; i < n; i += PASS) {
    uint32_t lo[PASS], hi[PASS];
    for (int j = 0; j < PASS; j++) {
      lo[j] = clo + (uint32_t)(i + j);
      hi[j] = chi + (lo[j] < clo);
    }
    vq x0[NV], x1[NV], x2[NV], x3[NV];
    for (int v = 0; v < ILV; v++) {
      vq c0 = Q_LOAD(lo + QW * v), c1 = Q_LOAD(hi + QW * v);
      x0[2 * v] = c0;
      x0[2 * v + 1] = Q_SRL(c0);
      x1[2 * v] = c1;
      x1[2 * v + 1] = Q_SRL(c1);
    }
    for (int v = 0; v < NV; v++) {
      x2[v] = Q_SET64(0x61657a6f);
      x3[v] = Q_SET64(0);
    }
    uint32_t a = (uint32_t)seed, b = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
      vq ka = Q_SET64(a), kb = Q_SET64(b);
      for (int v = 0; v < NV; v++) {
        vq p0 = Q_MUL(x0[v], m0), p1 = Q_MUL(x2[v], m1);
        x0[v] = Q_XOR3(Q_SRL(p1), x1[v], ka);
        x2[v] = Q_XOR3(Q_SRL(p0), x3[v], kb);
        x1[v] = p1;
        x3[v] = p0;
      }
      a += 0x9E3779B9u;
      b += 0xBB67AE85u;
    }
    for (int v = 0; v < ILV; v++) {
      int o = i + QW * v;
      Q_STORE(w[0] + o, Q_JOIN(x0[2 * v], x0[2 * v + 1]));
      Q_STORE(w[1] + o, Q_JOIN(x1[2 * v], x1[2 * v + 1]));
      Q_STORE(w[2] + o, Q_JOIN(x2[2 * v], x2[2 * v + 1]));
      Q_STORE(w[3] + o, Q_JOIN(x3[2 * v], x3[2 * v + 1]));
    }
  }
}
#else
static void philox_batch(uint64_t seed, uint64_t counter, int n, uint32_t w[4][BATCH]) {
  for (int i = 0; i < n; i++) {
    uint32_t o[4];
    ae_rng_block(seed, counter + (uint64_t)i, o);
    for (int k = 0; k < 4; k++) w[k][i] = o[k];
  }
}
#endif

/* Uniform in [0,1) with the mantissa width of ae_real, never 1. */
static inline double u01(uint32_t hi, uint32_t lo) {
  uint64_t x = ((uint64_t)hi << 32) | lo;
#ifdef AE_REAL_DOUBLE
  return (double)(x >> 11) * 0x1.0p-53;
#else
  return (double)(x >> 40) * 0x1.0p-24;
#endif
}

uint64_t ae_rng_u64(ae_rng *r) {
  uint32_t w[4];
  ae_rng_block(r->seed, r->counter++, w);
  return ((uint64_t)w[0] << 32) | w[1];
}

double ae_rng_double(ae_rng *r) {
  uint32_t w[4];
  ae_rng_block(r->seed, r->counter++, w);
  return (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53;
}

/* Runs body(b0, nb, w) for the batches of blocks base .. base+nblocks-1,
 * in parallel when n (the elements drawn) is large. */
#define FOR_BATCHES(n, nblocks, base, seed, BODY)                               \
  do {                                                                         \
    int64_t nbatch_ = ((nblocks) + BATCH - 1) / BATCH;                         \
    AE_PAR_FOR(AE_PAR(n), schedule(static),                                    \
    for (int64_t c_ = 0; c_ < nbatch_; c_++) {                                 \
      int64_t b0 = c_ * BATCH;                                                 \
      int nb = (nblocks) - b0 < BATCH ? (int)((nblocks) - b0) : BATCH;         \
      uint32_t w[4][BATCH];                                                    \
      philox_batch((seed), (base) + (uint64_t)b0, nb, w);                      \
      BODY                                                                     \
    });                                                                        \
  } while (0)

void ae_rng_uniform(ae_rng *r, ae_real *out, int64_t n, ae_real lo, ae_real hi) {
  uint64_t first, whole;
  row_span(r, n, &first, &whole);
  uint64_t seed = r->seed, base = r->counter + first;
  double span = (double)hi - (double)lo;
  FOR_BATCHES(n, n, base, seed, {
    ae_real *o = out + b0;
    for (int k = 0; k < nb; k++) {
      ae_real v = (ae_real)((double)lo + span * u01(w[0][k], w[1][k]));
      o[k] = v < hi ? v : lo; /* rounding can reach hi when span is large */
    }
  });
  r->counter += whole;
}

/* Box-Muller on pairs. In double, block (counter + p) gives normals 2p
 * (cosine) and 2p+1 (sine) of the whole draw from its words (w0 w1, w2 w3);
 * in float, 24 bits a uniform, it gives two pairs: normals 4p, 4p+1 from
 * words (w0, w2) and 4p+2, 4p+3 from (w1, w3), so a Philox block feeds four
 * values (it fed two, with two of its words unread, until 2026-12-05). In
 * ae_real arithmetic: u1 = 1 - m 2^-b in (0,1] and t = 2 m' 2^-b in [0,2)
 * from b-bit integers m, m' (b = 24 for float, 53 for double, so both are
 * exact), radius sqrt(-2 log u1), angle pi t through sincospi (no argument
 * reduction error). The tail reaches sqrt(-2 log 2^-b): 5.8 sigma in
 * float, 8.6 in double. */
#ifdef AE_REAL_DOUBLE
#define NORMALS_PER_BLOCK 2
#else
#define NORMALS_PER_BLOCK 4
#endif
enum { PAIRS_PER_BLOCK = NORMALS_PER_BLOCK / 2 };

/* The nb blocks of w as pairs: out[i0 + 2j] and out[i0 + 2j + 1] are pair
 * j's (i0 < 0 when a row slice starts inside a block), written where they
 * lie in [0, n). */
static void normal_batch(const uint32_t w[4][BATCH], int nb, int64_t i0, int64_t n, ae_real *out, ae_real mean,
                         ae_real std) {
  enum { NP = PAIRS_PER_BLOCK * BATCH };
  ae_real rad[NP] = {0}, t[NP], sn[NP], cs[NP];
  int np = PAIRS_PER_BLOCK * nb;
  for (int k = 0; k < nb; k++) {
#ifdef AE_REAL_DOUBLE
    uint64_t m1 = (((uint64_t)w[0][k] << 32) | w[1][k]) >> 11, m2 = (((uint64_t)w[2][k] << 32) | w[3][k]) >> 11;
    rad[k] = 1 - (double)(int64_t)m1 * 0x1.0p-53;
    t[k] = (double)(int64_t)m2 * 0x1.0p-52;
#else
    for (int h = 0; h < 2; h++) {
      rad[2 * k + h] = 1 - (float)(int32_t)(w[h][k] >> 8) * 0x1.0p-24f;
      t[2 * k + h] = (float)(int32_t)(w[2 + h][k] >> 8) * 0x1.0p-23f;
    }
#endif
  }
  ae_v_log(np, rad, rad);
  for (int k = 0; k < np; k++) rad[k] *= -2;
  ae_v_sqrt(np, rad, rad);
  ae_v_sincospi(np, t, sn, cs);
  if (i0 >= 0 && i0 + 2 * (int64_t)np <= n) {
    ae_real *o = out + i0;
    for (int k = 0; k < np; k++) {
      ae_real sr = std * rad[k];
      o[2 * k] = mean + sr * cs[k];
      o[2 * k + 1] = mean + sr * sn[k];
    }
  } else { /* an end of the draw: the values of a block outside [0, n) are not ours */
    for (int k = 0; k < np; k++) {
      ae_real sr = std * rad[k];
      int64_t a = i0 + 2 * (int64_t)k;
      if (a >= 0 && a < n) out[a] = mean + sr * cs[k];
      if (a + 1 >= 0 && a + 1 < n) out[a + 1] = mean + sr * sn[k];
    }
  }
}

void ae_rng_normal(ae_rng *r, ae_real *out, int64_t n, ae_real mean, ae_real std) {
  uint64_t first, whole;
  row_span(r, n, &first, &whole);
  int64_t off = (int64_t)(first % NORMALS_PER_BLOCK), blocks = (off + n + NORMALS_PER_BLOCK - 1) / NORMALS_PER_BLOCK;
  uint64_t seed = r->seed, base = r->counter + first / NORMALS_PER_BLOCK;
  FOR_BATCHES(n, blocks, base, seed, {
    normal_batch((const uint32_t(*)[BATCH])w, nb, NORMALS_PER_BLOCK * b0 - off, n, out, mean, std);
  });
  r->counter += whole; /* a block reserved per value, so draws never overlap */
}

void ae_rng_bernoulli(ae_rng *r, ae_real *out, int64_t n, double p) {
  uint64_t first, whole;
  row_span(r, n, &first, &whole);
  uint64_t seed = r->seed, base = r->counter + first;
  FOR_BATCHES(n, n, base, seed, {
    ae_real *o = out + b0;
    for (int k = 0; k < nb; k++) {
      double u = (double)((((uint64_t)w[0][k] << 32) | w[1][k]) >> 11) * 0x1.0p-53;
      o[k] = u < p ? 1 : 0;
    }
  });
  r->counter += whole;
}
