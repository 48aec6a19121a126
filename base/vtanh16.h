/* vtanh16.h (internal, not installed): tanh of 16 floats on AVX-512,
 * evaluated in double, for vlayer.h's k_tanh in the float build.
 *
 * With a = |x| and u = 2a = k ln2 + r (|r| <= ln2 / 2), expm1(u) is
 * 2^k (1 + p(r)) - 1, with p(r) = expm1(r) by its Taylor polynomial to
 * degree 10 (truncation below 2^-40 relative on that interval); tanh(a) =
 * expm1(u) / (expm1(u) + 2), and the sign of x put back. Where k = 0 the
 * add and subtract of 1 cost at most 2^-53 absolute, 2^-41 relative to
 * expm1(u) for the u >= 2^-12 that reach here (k_tanh returns x below).
 * The double result is within about 2^-40 relative of tanh, so
 * rounding it to float gives the correctly rounded value except where
 * tanh lies within that distance of a rounding boundary: measured over
 * every 7th positive float below infinity against glibc's double tanh,
 * at most 0.5 ulp (SLEEF's float tanh, u10, which this replaces: 1 ulp).
 * u is capped at 40, where tanh rounds to 1 in float; NaN comes back as
 * NaN. k_tanh returns x itself for tiny |x| before this is consulted.
 *
 * Why: SLEEF's float tanh carries double-float arithmetic through expm1
 * and a division, 1.26-1.27 ns an element on this machine; this takes
 * 0.70-0.72 (a microbenchmark: 2^20 floats in [-4, 4), 20 passes, k_tanh's
 * tiny-x selection included, the last two of three rounds).
 * seq-ae's LSTM evaluates two tanh per hidden unit and time step: SLEEF's
 * tanh was 12.7% of its step's perf samples. */
#ifndef AE_VTANH16_H
#define AE_VTANH16_H

#include <immintrin.h>

#include "base/vhalves16.h"

/* tanh(a) for doubles a >= 0 (or NaN). */
static inline __m512d ae__tanh_pos_pd(__m512d a) {
  const __m512d one = _mm512_set1_pd(1.0);
  __m512d u = _mm512_min_pd(_mm512_add_pd(a, a), _mm512_set1_pd(40.0));
  __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(u, _mm512_set1_pd(1.4426950408889634)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(k, _mm512_set1_pd(0.6931471805599453), u); /* off by k 2^-54 at most */
  /* q(r) = sum_{j=0..9} r^j / (j+1)!, by Estrin's scheme: four dependent
   * steps rather than Horner's nine (an LSTM step's second tanh waits on
   * its first) */
  const __m512d r2 = _mm512_mul_pd(r, r), r4 = _mm512_mul_pd(r2, r2), r8 = _mm512_mul_pd(r4, r4);
#define AE_C(k) _mm512_set1_pd(k)
  const __m512d a0 = _mm512_fmadd_pd(AE_C(1.0 / 2), r, AE_C(1.0));
  const __m512d a1 = _mm512_fmadd_pd(AE_C(1.0 / 24), r, AE_C(1.0 / 6));
  const __m512d a2 = _mm512_fmadd_pd(AE_C(1.0 / 720), r, AE_C(1.0 / 120));
  const __m512d a3 = _mm512_fmadd_pd(AE_C(1.0 / 40320), r, AE_C(1.0 / 5040));
  const __m512d a4 = _mm512_fmadd_pd(AE_C(1.0 / 3628800), r, AE_C(1.0 / 362880));
#undef AE_C
  const __m512d b0 = _mm512_fmadd_pd(a1, r2, a0), b1 = _mm512_fmadd_pd(a3, r2, a2);
  __m512d p = _mm512_fmadd_pd(a4, r8, _mm512_fmadd_pd(b1, r4, b0));
  p = _mm512_mul_pd(p, r); /* expm1(r) */
  __m512d em = _mm512_sub_pd(_mm512_scalef_pd(_mm512_add_pd(p, one), k), one);
  return _mm512_div_pd(em, _mm512_add_pd(em, _mm512_set1_pd(2.0)));
}

static inline __m512 ae__tanhf16(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  __m512 r = ae__f16_join(ae__tanh_pos_pd(ae__f16_lo_pd(ax)), ae__tanh_pos_pd(ae__f16_hi_pd(ax)));
  r = _mm512_or_ps(r, _mm512_and_ps(x, _mm512_set1_ps(-0.0f))); /* tanh is odd */
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), r, x);
}

#endif
