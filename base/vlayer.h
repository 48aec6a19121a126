/* vlayer.h (internal, not installed): the vector layer of vmath.c, for
 * kernels that fuse several element-wise steps in one pass (ops/rnn_gates.c).
 * One vector of ae_real (vreal, VW lanes) on the widest instruction set the
 * build targets: AVX-512 (16 floats / 8 doubles), AVX2+FMA (8 / 4), SSE2
 * (4 / 2), or plain scalars, with the matching SLEEF functions called by
 * their ISA-suffixed names (no run-time dispatch), and the kernels on one
 * vector (k_exp, k_tanh, k_sigmoid, ...) that vmath.c's array functions
 * run. A fused kernel built on them gets bitwise the values of the
 * separate ae_v_* calls. */
#ifndef AE_VLAYER_H
#define AE_VLAYER_H

#include <math.h>
#include <sleef.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "base/real.h"

/* ---- the vector layer -------------------------------------------------- */

#if defined(__AVX512F__)
#ifdef AE_REAL_DOUBLE
#define VW 8
#define SL(f) Sleef_##f##d8_u10avx512f
#define SINCOSPI_ Sleef_sincospid8_u05avx512f
#define SQRT_ _mm512_sqrt_pd
typedef __m512d vreal;
#define VP(op) _mm512_##op##_pd
#define VSIGN() _mm512_castsi512_pd(_mm512_set1_epi64((long long)0x8000000000000000ULL))
#define VOR(a, b) _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(a), _mm512_castpd_si512(b)))
#define VGT(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_GT_OQ)
#define VGE0(x) _mm512_cmp_pd_mask((x), VZERO(), _CMP_GE_OQ)
#else
#define VW 16
#define SL(f) Sleef_##f##f16_u10avx512f
#if defined(__AVX512DQ__) /* vsincospi16.h's masked xor and 256-bit inserts */
#include "base/vsincospi16.h" /* evaluated in double: 0.5 ulp, faster than SLEEF's */
#define SINCOSPI_ ae__sincospif16
#else
#define SINCOSPI_ Sleef_sincospif16_u05avx512f
#endif
#define SQRT_ _mm512_sqrt_ps
typedef __m512 vreal;
#define VP(op) _mm512_##op##_ps
#define VSIGN() _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000U))
#define VOR(a, b) _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)))
#define VGT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define VGE0(x) _mm512_cmp_ps_mask((x), VZERO(), _CMP_GE_OQ)
#endif
#define VSEL(m, a, b) VP(mask_blend)((m), (b), (a)) /* m ? a : b */
#define VANY(m) ((m) != 0)

#elif defined(__AVX2__) && defined(__FMA__)
#ifdef AE_REAL_DOUBLE
#define VW 4
#define SL(f) Sleef_##f##d4_u10avx2
#define SINCOSPI_ Sleef_sincospid4_u05avx2
#define SQRT_ _mm256_sqrt_pd
typedef __m256d vreal;
#define VP(op) _mm256_##op##_pd
#else
#define VW 8
#define SL(f) Sleef_##f##f8_u10avx2
#define SINCOSPI_ Sleef_sincospif8_u05avx2
#define SQRT_ _mm256_sqrt_ps
typedef __m256 vreal;
#define VP(op) _mm256_##op##_ps
#endif
#define VSIGN() VP(set1)(-0.0)
#define VOR(a, b) VP(or)((a), (b))
#define VGT(a, b) VP(cmp)((a), (b), _CMP_GT_OQ)
#define VGE0(x) VP(cmp)((x), VZERO(), _CMP_GE_OQ)
#define VSEL(m, a, b) VP(blendv)((b), (a), (m))

#elif defined(__SSE2__)
#ifdef AE_REAL_DOUBLE
#define VW 2
#define SL(f) Sleef_##f##d2_u10sse2
#define SINCOSPI_ Sleef_sincospid2_u05sse2
#define SQRT_ _mm_sqrt_pd
typedef __m128d vreal;
#define VP(op) _mm_##op##_pd
#else
#define VW 4
#define SL(f) Sleef_##f##f4_u10sse2
#define SINCOSPI_ Sleef_sincospif4_u05sse2
#define SQRT_ _mm_sqrt_ps
typedef __m128 vreal;
#define VP(op) _mm_##op##_ps
#endif
#define VSIGN() VP(set1)(-0.0)
#define VOR(a, b) VP(or)((a), (b))
#define VGT(a, b) VP(cmpgt)((a), (b))
#define VGE0(x) VP(cmpge)((x), VZERO())
#define VSEL(m, a, b) VP(or)(VP(and)((m), (a)), VP(andnot)((m), (b)))

#else /* scalar: SLEEF's scalar functions, plain C for the rest */
#define VW 1
typedef ae_real vreal;
#ifdef AE_REAL_DOUBLE
#define SL(f) Sleef_##f##_u10
#define SINCOSPI_ Sleef_sincospi_u05
#define SQRT_ sqrt
#else
#define SL(f) Sleef_##f##f_u10
#define SINCOSPI_ Sleef_sincospif_u05
#define SQRT_ sqrtf
#endif
#define VSCALAR 1
#endif

#ifdef VSCALAR
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(c) ((ae_real)(c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VMAX0(x) ((x) > 0 ? (x) : (x) == (x) ? (ae_real)0 : (x))
#define VMIN0(x) ((x) < 0 ? (x) : (x) == (x) ? (ae_real)0 : (x))
#define VNABS(x) (-(ae_real)fabs(x))
#define VGE0(x) ((x) >= 0)
#define VGT(a, b) ((a) > (b))
#define VANY(m) (m)
#define VSEL(m, a, b) ((m) ? (a) : (b))
#else
#define VLOAD(p) VP(loadu)(p)
#define VSTORE(p, v) VP(storeu)((p), (v))
#define VSET1(c) VP(set1)((ae_real)(c))
#define VZERO() VP(setzero)()
#ifndef VANY
#define VANY(m) (VP(movemask)(m) != 0)
#endif
#define VADD(a, b) VP(add)((a), (b))
#define VSUB(a, b) VP(sub)((a), (b))
#define VMUL(a, b) VP(mul)((a), (b))
#define VDIV(a, b) VP(div)((a), (b))
/* max/min return their second operand when either is NaN: NaN propagates. */
#define VMAX0(x) VP(max)(VZERO(), (x))
#define VMIN0(x) VP(min)(VZERO(), (x))
#define VNABS(x) VOR((x), VSIGN()) /* -|x| */
#endif

#define VEXP(x) SL(exp)(x)
#define VLOG(x) SL(log)(x)
#define VLOG1P(x) SL(log1p)(x)
#if defined(__AVX512F__) && defined(__AVX512DQ__) && !defined(AE_REAL_DOUBLE)
#include "base/vtanh16.h" /* evaluated in double: 0.5 ulp, faster than SLEEF's float tanh */
#define VTANH(x) ae__tanhf16(x)
#else
#define VTANH(x) SL(tanh)(x)
#endif
#define VPOW(x, p) SL(pow)((x), (p))
#define VSQRT(x) SQRT_(x)

/* ---- kernels on one vector --------------------------------------------- */

static inline vreal k_exp(vreal x, vreal p) { (void)p; return VEXP(x); }
static inline vreal k_log(vreal x, vreal p) { (void)p; return VLOG(x); }
/* SLEEF's log1p returns inf above 1e38 (float) / 1e307 (double); far
 * above 2^53, 1 + x == x and log(x) is the correctly rounded answer. */
#ifdef AE_REAL_DOUBLE
#define LOG1P_BIG 1e300
#else
#define LOG1P_BIG 1e30f
#endif
static inline vreal k_log1p(vreal x, vreal p) {
  (void)p;
  vreal r = VLOG1P(x);
  if (VANY(VGT(x, VSET1(LOG1P_BIG)))) r = VSEL(VGT(x, VSET1(LOG1P_BIG)), VLOG(x), r);
  return r;
}
static inline vreal k_sqrt(vreal x, vreal p) { (void)p; return VSQRT(x); }
/* SLEEF's tanh is 1 ulp off for tiny |x|; there tanh(x) = x - x^3/3
 * rounds to x itself (|x| < sqrt(3 eps / 2)), so return x. */
#ifdef AE_REAL_DOUBLE
#define TANH_TINY 0x1p-28
#else
#define TANH_TINY 0x1p-13f
#endif
static inline vreal k_tanh(vreal x, vreal p) {
  (void)p;
  return VSEL(VGT(VNABS(x), VSET1(-TANH_TINY)), x, VTANH(x));
}

/* e = exp(-|x|) in (0, 1]; x >= 0: 1/(1+e), else e/(1+e). One division,
 * no overflow; e underflows to 0 for large |x|, giving exactly 1 or 0. */
static inline vreal k_sigmoid(vreal x, vreal p) {
  (void)p;
  vreal e = VEXP(VNABS(x));
  vreal num = VSEL(VGE0(x), VSET1(1), e);
  return VDIV(num, VADD(VSET1(1), e));
}

static inline vreal k_softplus(vreal x, vreal p) {
  (void)p;
  return VADD(VMAX0(x), VLOG1P(VEXP(VNABS(x))));
}

static inline vreal k_log_sigmoid(vreal x, vreal p) {
  (void)p;
  return VSUB(VMIN0(x), VLOG1P(VEXP(VNABS(x))));
}

static inline vreal k_pow(vreal x, vreal p) { return VPOW(x, p); }
static inline vreal k_square(vreal x, vreal p) { (void)p; return VMUL(x, x); }
static inline vreal k_recip(vreal x, vreal p) { (void)p; return VDIV(VSET1(1), x); }

#endif
