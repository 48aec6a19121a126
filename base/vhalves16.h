/* vhalves16.h (internal, not installed): 16 floats on AVX-512 as two
 * vectors of 8 doubles and back, for the float kernels that evaluate in
 * double (vtanh16.h, vsincospi16.h). Widening is exact; joining rounds
 * each double to the nearest float. Needs AVX-512 DQ (the 256-bit insert). */
#ifndef AE_VHALVES16_H
#define AE_VHALVES16_H

#include <immintrin.h>

/* Lanes 0-7 and 8-15 of x, as doubles. */
static inline __m512d ae__f16_lo_pd(__m512 x) { return _mm512_cvtps_pd(_mm512_castps512_ps256(x)); }
static inline __m512d ae__f16_hi_pd(__m512 x) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
}

/* lo's 8 doubles into lanes 0-7 and hi's into 8-15, rounded to float. */
static inline __m512 ae__f16_join(__m512d lo, __m512d hi) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

#endif
