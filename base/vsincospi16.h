/* vsincospi16.h (internal, not installed): sin(pi x) and cos(pi x) of 16
 * floats on AVX-512, evaluated in double, for vlayer.h's SINCOSPI_ in the
 * float build (Box-Muller's angle in base/rng.c is its main caller).
 *
 * In double, x = q/2 + r with q = round(2x) and |r| <= 1/4, both exact;
 * sin(pi r) = r P(r^2) and cos(pi r) = Q(r^2) by their Taylor polynomials
 * to degrees 13 and 14 (truncation below 2^-44 relative on |r| <= 1/4),
 * and q mod 4 (q - 4 floor(q/4), exact) picks which of the two, with
 * which sign, is sin(pi x) and which cos(pi x):
 *   q mod 4 = 0: ( s,  c)   1: ( c, -s)   2: (-s, -c)   3: (-c,  s).
 * At multiples of 1/2, r = 0 gives exact zeros and ones (sin(-0) is
 * -0). The double results are within about 2^-44 relative of the true
 * values, so the floats are correctly rounded except where a value lies
 * within that distance of a rounding boundary (SLEEF's u05 float
 * sincospi, which this replaces: 0.506 ulp documented). Measured on every
 * 7th float bit pattern below infinity, both signs (6.1e8 values), against
 * long double libm after the same exact reduction: none misrounded, at
 * most 0.5000 ulp for both (SLEEF's: 0.999). Past
 * 2^24, where every float is an even integer, it gives (0, 1) exactly
 * (SLEEF's: cos 0). Infinity and NaN give NaN.
 *
 * Why: SLEEF's float sincospi carries double-float arithmetic; it and its
 * driver were 5.6% of dae's perf samples (1 thread), the largest part of
 * the Gaussian noise after the Philox blocks. */
#ifndef AE_VSINCOSPI16_H
#define AE_VSINCOSPI16_H

#include <immintrin.h>

#include "base/vhalves16.h"

typedef struct ae__sincospif16_t {
  __m512 x, y; /* sin(pi x), cos(pi x), as SLEEF's vfloat2 */
} ae__sincospif16_t;

/* sin(pi x) into *s and cos(pi x) into *c for 8 doubles x. */
static inline void ae__sincospi_pd(__m512d x, __m512d *s, __m512d *c) {
#define AE_C(k) _mm512_set1_pd(k)
  const __m512d q = _mm512_roundscale_pd(_mm512_add_pd(x, x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d r = _mm512_fnmadd_pd(q, AE_C(0.5), x); /* exact */
  const __m512d qm = _mm512_fnmadd_pd(_mm512_roundscale_pd(_mm512_mul_pd(q, AE_C(0.25)), _MM_FROUND_TO_NEG_INF),
                                      AE_C(4.0), q); /* q mod 4, exact */
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d ps = AE_C(0.00046630280576761255);
  ps = _mm512_fmadd_pd(ps, r2, AE_C(-0.0073704309457143504));
  ps = _mm512_fmadd_pd(ps, r2, AE_C(0.08214588661112823));
  ps = _mm512_fmadd_pd(ps, r2, AE_C(-0.5992645293207921));
  ps = _mm512_fmadd_pd(ps, r2, AE_C(2.5501640398773455));
  ps = _mm512_fmadd_pd(ps, r2, AE_C(-5.16771278004997));
  ps = _mm512_fmadd_pd(ps, r2, AE_C(3.141592653589793));
  const __m512d sa = _mm512_mul_pd(ps, r);
  __m512d pc = AE_C(-0.0001046381049248457);
  pc = _mm512_fmadd_pd(pc, r2, AE_C(0.0019295743094039231));
  pc = _mm512_fmadd_pd(pc, r2, AE_C(-0.02580689139001406));
  pc = _mm512_fmadd_pd(pc, r2, AE_C(0.2353306303588932));
  pc = _mm512_fmadd_pd(pc, r2, AE_C(-1.3352627688545895));
  pc = _mm512_fmadd_pd(pc, r2, AE_C(4.0587121264167685));
  pc = _mm512_fmadd_pd(pc, r2, AE_C(-4.934802200544679));
  const __m512d ca = _mm512_fmadd_pd(pc, r2, AE_C(1.0));
  /* odd quadrants swap the two; quadrants 2, 3 negate sin, 1, 2 negate cos */
  const __mmask8 odd = _mm512_cmp_pd_mask(qm, AE_C(1.0), _CMP_EQ_OQ) | _mm512_cmp_pd_mask(qm, AE_C(3.0), _CMP_EQ_OQ);
  const __mmask8 sneg = _mm512_cmp_pd_mask(qm, AE_C(2.0), _CMP_GE_OQ);
  const __mmask8 cneg = _mm512_cmp_pd_mask(qm, AE_C(1.0), _CMP_EQ_OQ) | _mm512_cmp_pd_mask(qm, AE_C(2.0), _CMP_EQ_OQ);
  const __m512d minus0 = AE_C(-0.0);
  const __m512d s0 = _mm512_mask_blend_pd(odd, sa, ca), c0 = _mm512_mask_blend_pd(odd, ca, sa);
  *s = _mm512_mask_xor_pd(s0, sneg, s0, minus0);
  *s = _mm512_mask_mov_pd(*s, _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_EQ_OQ), x); /* sin(-0) = -0 */
  *c = _mm512_mask_xor_pd(c0, cneg, c0, minus0);
#undef AE_C
}

static inline ae__sincospif16_t ae__sincospif16(__m512 x) {
  __m512d slo, clo, shi, chi;
  ae__sincospi_pd(ae__f16_lo_pd(x), &slo, &clo);
  ae__sincospi_pd(ae__f16_hi_pd(x), &shi, &chi);
  ae__sincospif16_t r = {ae__f16_join(slo, shi), ae__f16_join(clo, chi)};
  return r;
}

#endif
