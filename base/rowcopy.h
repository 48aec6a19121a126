/* rowcopy.h (internal, not installed): copies of short rows (an image row
 * of 7 to 28 elements, say), the data movement of the convolution kernels.
 * A loop over n elements that the compiler vectorises leaves up to one
 * vector's worth to a scalar epilogue, which for rows this short is most of
 * the row, and memcpy's call overhead is of the same order; with AVX-512
 * the tail is one masked load and store. Without AVX-512: plain loops.
 * Also the prefetch hints those copies give for the rows they read and
 * write next (ae_rc_prefetch, ae_rc_prefetch_w), and the ones a gather of
 * random rows gives (ae_rc_prefetch_row_ends, ae_rc_prefetch_row_rest). */
#ifndef AE_ROWCOPY_H
#define AE_ROWCOPY_H

#include <stdint.h>

#include "base/real.h"

/* How far ahead (bytes) the convolution's row copies ask for the rows they
 * read next. Their sources are tensors of megabytes that an earlier op
 * wrote (a layer's output, its gradient), read in rows of 28 elements or
 * fewer between GEMMs, and the hardware prefetcher left the copies waiting
 * on memory: in conv-dae (perf, 1 thread) pad_image's masked load held
 * 55% of its samples. 1, 2 and 4 KiB ahead measured the same. */
#define AE_RC_AHEAD 2048

/* Asks for the cache lines of [p + ahead, p + ahead + bytes): a hint that
 * never faults, so the range may run past p's array (the address is
 * computed as an integer, not as a pointer out of bounds). */
static inline void ae_rc_prefetch(const void *p, int64_t ahead, int64_t bytes) {
  const uintptr_t a = (uintptr_t)p + (uintptr_t)ahead;
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch((const void *)(a + (uintptr_t)b), 0, 3);
}

/* The same for lines about to be written (prefetchw): a store to a line
 * not in cache waits for it, and the pooling's gradient, which writes 4
 * times what it reads, waited on its stores. */
static inline void ae_rc_prefetch_w(const void *p, int64_t ahead, int64_t bytes) {
  const uintptr_t a = (uintptr_t)p + (uintptr_t)ahead;
  for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch((const void *)(a + (uintptr_t)b), 1, 3);
}

/* A gather of random rows from a set far larger than the caches (a
 * training batch from the data set): every row's first and last cache
 * lines are asked for before any row is copied, so that the rows' page
 * walks and first misses overlap (ae_rc_prefetch_row_ends), then the rest
 * of row i + AE_RC_ROWS_AHEAD while row i is copied
 * (ae_rc_prefetch_row_rest). 128 random rows of 784 bytes out of 60000,
 * converted to floats, 8 MB read between gathers (microbenchmark, 1
 * thread): 32-33 us a batch with only the whole next row asked for, as
 * before, 22 us so. */
#define AE_RC_ROWS_AHEAD 2

static inline void ae_rc_prefetch_row_ends(const void *base, const int64_t *idx, int64_t n, int64_t row_bytes) {
  if (row_bytes <= 0) return;
  for (int64_t i = 0; i < n; i++) {
    const uintptr_t a = (uintptr_t)base + (uintptr_t)(idx[i] * row_bytes);
    __builtin_prefetch((const void *)a, 0, 3);
    __builtin_prefetch((const void *)(a + (uintptr_t)(row_bytes - 1)), 0, 3);
  }
}

/* The lines of row idx[i + AE_RC_ROWS_AHEAD] after its first (none past
 * the last row). */
static inline void ae_rc_prefetch_row_rest(const void *base, const int64_t *idx, int64_t n, int64_t i,
                                           int64_t row_bytes) {
  if (i + AE_RC_ROWS_AHEAD >= n) return;
  ae_rc_prefetch((const char *)base + idx[i + AE_RC_ROWS_AHEAD] * row_bytes, 64, row_bytes - 64);
}

#if defined(__AVX512F__)
#include <immintrin.h>
#ifdef AE_REAL_DOUBLE
#define AE_RC_VL 8
#define AE_RC_LOAD(m, p) _mm512_maskz_loadu_pd(m, p)
#define AE_RC_STORE(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define AE_RC_ADD(a, b) _mm512_add_pd(a, b)
#define AE_RC_MAX(a, b) _mm512_max_pd(a, b)
#define AE_RC_SET1(c) _mm512_set1_pd(c)
#define AE_RC_ZERO() _mm512_setzero_pd()
typedef __m512d ae_rc_vec;
#else
#define AE_RC_VL 16
#define AE_RC_LOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define AE_RC_STORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define AE_RC_ADD(a, b) _mm512_add_ps(a, b)
#define AE_RC_MAX(a, b) _mm512_max_ps(a, b)
#define AE_RC_SET1(c) _mm512_set1_ps(c)
#define AE_RC_ZERO() _mm512_setzero_ps()
typedef __m512 ae_rc_vec;
#endif

/* Lanes [0, k) of a mask, k <= AE_RC_VL. */
static inline __mmask16 ae_rc_mask(int64_t k) { return (__mmask16)((1u << k) - 1u); }

/* d[j] = s[j] + c for j < n (c = 0: a copy). d and s do not overlap. */
static inline void ae_row_copy_add(ae_real *restrict d, const ae_real *restrict s, int64_t n, ae_real c) {
  const ae_rc_vec cv = AE_RC_SET1(c);
  int64_t j = 0;
  for (; j + AE_RC_VL <= n; j += AE_RC_VL) AE_RC_STORE(d + j, ae_rc_mask(AE_RC_VL), AE_RC_ADD(AE_RC_LOAD(ae_rc_mask(AE_RC_VL), s + j), cv));
  if (j < n) {
    __mmask16 m = ae_rc_mask(n - j);
    AE_RC_STORE(d + j, m, AE_RC_ADD(AE_RC_LOAD(m, s + j), cv));
  }
}

/* d[j] = relu(s[j] + c) for j < n, relu(v) = v > 0 ? v : 0 as ae_relu
 * (NaN and -0 give +0: vmaxps returns its second operand, 0, unless v > 0),
 * so a convolution's output is activated as it is written. */
static inline void ae_row_copy_add_relu(ae_real *restrict d, const ae_real *restrict s, int64_t n, ae_real c) {
  const ae_rc_vec cv = AE_RC_SET1(c), z = AE_RC_ZERO();
  int64_t j = 0;
  for (; j + AE_RC_VL <= n; j += AE_RC_VL)
    AE_RC_STORE(d + j, ae_rc_mask(AE_RC_VL), AE_RC_MAX(AE_RC_ADD(AE_RC_LOAD(ae_rc_mask(AE_RC_VL), s + j), cv), z));
  if (j < n) {
    __mmask16 m = ae_rc_mask(n - j);
    AE_RC_STORE(d + j, m, AE_RC_MAX(AE_RC_ADD(AE_RC_LOAD(m, s + j), cv), z));
  }
}

/* d[j] = relu(d[j]) for j < n, in place (as ae_row_copy_add_relu). */
static inline void ae_row_relu(ae_real *d, int64_t n) {
  const ae_rc_vec z = AE_RC_ZERO();
  int64_t j = 0;
  for (; j + AE_RC_VL <= n; j += AE_RC_VL)
    AE_RC_STORE(d + j, ae_rc_mask(AE_RC_VL), AE_RC_MAX(AE_RC_LOAD(ae_rc_mask(AE_RC_VL), d + j), z));
  if (j < n) {
    __mmask16 m = ae_rc_mask(n - j);
    AE_RC_STORE(d + j, m, AE_RC_MAX(AE_RC_LOAD(m, d + j), z));
  }
}

/* d[j] = s[j] for lo <= j < hi, 0 for the other j < n (0 <= lo <= hi <= n);
 * only s[lo, hi) is read. */
static inline void ae_row_window(ae_real *restrict d, const ae_real *s, int64_t n, int64_t lo, int64_t hi) {
  /* the zeros (a padding's column or two) one by one, then [lo, hi) as
   * whole vectors and a masked tail: measured on 30-wide rows (28 read),
   * 30% faster than a masked window per vector of d, whose loads and
   * stores straddled the row's cache lines */
  for (int64_t j = 0; j < lo; j++) d[j] = 0;
  for (int64_t j = hi; j < n; j++) d[j] = 0;
  const ae_real *sl = (const ae_real *)((uintptr_t)s + (uintptr_t)lo * sizeof(ae_real));
  ae_real *dl = d + lo;
  const int64_t m = hi - lo;
  int64_t j = 0;
  for (; j + AE_RC_VL <= m; j += AE_RC_VL) AE_RC_STORE(dl + j, ae_rc_mask(AE_RC_VL), AE_RC_LOAD(ae_rc_mask(AE_RC_VL), sl + j));
  if (j < m) {
    __mmask16 k = ae_rc_mask(m - j);
    AE_RC_STORE(dl + j, k, AE_RC_LOAD(k, sl + j));
  }
}

static inline int64_t ae_rc_min(int64_t a, int64_t b) { return a < b ? a : b; }

/* Spreading short rows: d[r ws + c] = s[r w + c] for c < w, 0 for
 * w <= c < ws, over the n elements of d. A plan holds, for each vector of
 * d, the lanes that take an element and where in s the first comes from,
 * so each vector is one expanding load and one store however short the
 * rows. Plans cover n <= AE_RC_SPREAD_MAX vectors. */
enum { AE_RC_SPREAD_MAX = 256 };
typedef struct {
  int nvec;
  int64_t n;
  __mmask16 mask[AE_RC_SPREAD_MAX];
  int64_t from[AE_RC_SPREAD_MAX];
} ae_rc_spread;

/* 0, or -1 when n needs more than AE_RC_SPREAD_MAX vectors. */
static inline int ae_rc_spread_init(ae_rc_spread *sp, int64_t w, int64_t ws, int64_t n) {
  if (n > (int64_t)AE_RC_SPREAD_MAX * AE_RC_VL || w > ws || w < 0) return -1;
  sp->n = n, sp->nvec = (int)((n + AE_RC_VL - 1) / AE_RC_VL);
  int64_t c = 0, taken = 0;
  for (int k = 0; k < sp->nvec; k++) {
    unsigned m = 0;
    sp->from[k] = taken;
    for (int l = 0; l < AE_RC_VL && k * AE_RC_VL + l < n; l++) {
      if (c < w) m |= 1u << l, taken++;
      if (++c == ws) c = 0;
    }
    sp->mask[k] = (__mmask16)m;
  }
  return 0;
}

static inline void ae_rc_spread_run(const ae_rc_spread *sp, ae_real *restrict d, const ae_real *restrict s) {
  for (int k = 0; k < sp->nvec; k++) {
    const int64_t j = (int64_t)k * AE_RC_VL;
    const __mmask16 st = sp->n - j >= AE_RC_VL ? ae_rc_mask(AE_RC_VL) : ae_rc_mask(sp->n - j);
#ifdef AE_REAL_DOUBLE
    AE_RC_STORE(d + j, st, _mm512_maskz_expandloadu_pd((__mmask8)sp->mask[k], s + sp->from[k]));
#else
    AE_RC_STORE(d + j, st, _mm512_maskz_expandloadu_ps(sp->mask[k], s + sp->from[k]));
#endif
  }
}

/* d[j] = 0 for j < n. */
static inline void ae_row_zero(ae_real *d, int64_t n) {
  int64_t j = 0;
  for (; j + AE_RC_VL <= n; j += AE_RC_VL) AE_RC_STORE(d + j, ae_rc_mask(AE_RC_VL), AE_RC_ZERO());
  if (j < n) AE_RC_STORE(d + j, ae_rc_mask(n - j), AE_RC_ZERO());
}
#else
static inline void ae_row_copy_add(ae_real *restrict d, const ae_real *restrict s, int64_t n, ae_real c) {
  for (int64_t j = 0; j < n; j++) d[j] = s[j] + c;
}

static inline void ae_row_zero(ae_real *d, int64_t n) {
  for (int64_t j = 0; j < n; j++) d[j] = 0;
}

static inline void ae_row_copy_add_relu(ae_real *restrict d, const ae_real *restrict s, int64_t n, ae_real c) {
  for (int64_t j = 0; j < n; j++) {
    const ae_real v = s[j] + c;
    d[j] = v > 0 ? v : 0;
  }
}

static inline void ae_row_relu(ae_real *d, int64_t n) {
  for (int64_t j = 0; j < n; j++) d[j] = d[j] > 0 ? d[j] : 0;
}

static inline void ae_row_window(ae_real *restrict d, const ae_real *s, int64_t n, int64_t lo, int64_t hi) {
  for (int64_t j = 0; j < lo; j++) d[j] = 0;
  for (int64_t j = lo; j < hi; j++) d[j] = s[j];
  for (int64_t j = hi; j < n; j++) d[j] = 0;
}
#endif

/* d[j] = s[j] for j < n. */
static inline void ae_row_copy(ae_real *restrict d, const ae_real *restrict s, int64_t n) {
#if defined(__AVX512F__)
  int64_t j = 0;
  for (; j + AE_RC_VL <= n; j += AE_RC_VL) AE_RC_STORE(d + j, ae_rc_mask(AE_RC_VL), AE_RC_LOAD(ae_rc_mask(AE_RC_VL), s + j));
  if (j < n) {
    __mmask16 m = ae_rc_mask(n - j);
    AE_RC_STORE(d + j, m, AE_RC_LOAD(m, s + j));
  }
#else
  for (int64_t j = 0; j < n; j++) d[j] = s[j];
#endif
}

#endif
