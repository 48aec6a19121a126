/* rowcopy.h (internal, not installed): copies of short rows (an image row
 * of 7 to 28 elements, say), the data movement of the convolution kernels.
 * A loop over n elements that the compiler vectorises leaves up to one
 * vector's worth to a scalar epilogue, which for rows this short is most of
 * the row, and memcpy's call overhead is of the same order; with AVX-512
 * the tail is one masked load and store. Without AVX-512: plain loops. */
#ifndef AE_ROWCOPY_H
#define AE_ROWCOPY_H

#include <stdint.h>

#include "base/real.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#ifdef AE_REAL_DOUBLE
#define AE_RC_VL 8
#define AE_RC_LOAD(m, p) _mm512_maskz_loadu_pd(m, p)
#define AE_RC_STORE(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define AE_RC_ADD(a, b) _mm512_add_pd(a, b)
#define AE_RC_SET1(c) _mm512_set1_pd(c)
#define AE_RC_ZERO() _mm512_setzero_pd()
typedef __m512d ae_rc_vec;
#else
#define AE_RC_VL 16
#define AE_RC_LOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define AE_RC_STORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define AE_RC_ADD(a, b) _mm512_add_ps(a, b)
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

/* Lanes [lo, hi) of the vector starting at element j0, clipped to it. */
static inline __mmask16 ae_rc_window(int64_t j0, int64_t lo, int64_t hi) {
  int64_t a = lo > j0 ? lo - j0 : 0, b = hi - j0 < AE_RC_VL ? hi - j0 : AE_RC_VL;
  return b <= a ? 0 : (__mmask16)(ae_rc_mask(b) & ~ae_rc_mask(a));
}

/* d[j] = s[j] for lo <= j < hi, 0 for the other j < n (0 <= lo <= hi <= n);
 * only s[lo, hi) is read. */
static inline void ae_row_window(ae_real *restrict d, const ae_real *s, int64_t n, int64_t lo, int64_t hi) {
  for (int64_t j = 0; j < n; j += AE_RC_VL) {
    __mmask16 st = n - j >= AE_RC_VL ? ae_rc_mask(AE_RC_VL) : ae_rc_mask(n - j);
    __mmask16 ld = ae_rc_window(j, lo, hi);
    AE_RC_STORE(d + j, st, ld ? AE_RC_LOAD(ld, (const ae_real *)((uintptr_t)s + (uintptr_t)j * sizeof(ae_real))) : AE_RC_ZERO());
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
