/* vmath.c: the element-wise transcendental kernels of vmath.h.
 *
 * A small macro layer (V*) maps one vector of ae_real onto the widest
 * instruction set the build targets: AVX-512 (16 floats / 8 doubles),
 * AVX2+FMA (8 / 4), SSE2 (4 / 2), or plain scalars, with the matching
 * SLEEF functions called by their ISA-suffixed names (no run-time
 * dispatch). Each kernel is written once against that layer as a
 * function vreal -> vreal. The array driver runs whole vectors with
 * unaligned loads and stores, then pads the tail (< VW elements) into a
 * vector of ones, so the tail gets bitwise the same values the body
 * would. Above AE_PAR_MIN_ELEMS the array is cut into blocks of VBLK
 * elements shared out by OpenMP; below it the same range function runs
 * on the caller's thread with no parallel region. */
#include "vmath.h"

#include <math.h>
#include <string.h>
#include <sleef.h>
#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include "base/parallel.h"

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
#define SINCOSPI_ Sleef_sincospif16_u05avx512f
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
#define VTANH(x) SL(tanh)(x)
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

/* ---- array drivers ----------------------------------------------------- */

/* Elements per parallel work block (a multiple of every VW). */
#define VBLK 4096

typedef void (*range_fn)(int64_t n, const ae_real *x, ae_real *y, ae_real p);

/* Whole vectors, then the tail padded with ones (a valid input for every
 * kernel) and computed as one more vector. */
#define DEF_RANGE(K)                                                      \
  static void r_##K(int64_t n, const ae_real *x, ae_real *y, ae_real p) { \
    vreal vp = VSET1(p);                                                  \
    int64_t i = 0;                                                        \
    for (; i + VW <= n; i += VW) VSTORE(y + i, K(VLOAD(x + i), vp));      \
    if (i < n) {                                                          \
      ae_real buf[VW];                                                    \
      int64_t r = n - i;                                                  \
      for (int j = 0; j < VW; j++) buf[j] = j < r ? x[i + j] : 1;         \
      VSTORE(buf, K(VLOAD(buf), vp));                                     \
      memcpy(y + i, buf, (size_t)r * sizeof(ae_real));                    \
    }                                                                     \
  }

DEF_RANGE(k_exp)
DEF_RANGE(k_log)
DEF_RANGE(k_log1p)
DEF_RANGE(k_sqrt)
DEF_RANGE(k_tanh)
DEF_RANGE(k_sigmoid)
DEF_RANGE(k_softplus)
DEF_RANGE(k_log_sigmoid)
DEF_RANGE(k_pow)
DEF_RANGE(k_square)
DEF_RANGE(k_recip)

static void run(range_fn f, int64_t n, const ae_real *x, ae_real *y, ae_real p) {
  if (n <= 0) return;
  if (AE_PAR(n)) {
    int64_t nb = (n + VBLK - 1) / VBLK;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; b++) {
      int64_t s = b * VBLK, len = n - s < VBLK ? n - s : VBLK;
      f(len, x + s, y + s, p);
    }
  } else {
    f(n, x, y, p);
  }
}

void ae_v_exp(int64_t n, const ae_real *x, ae_real *y) { run(r_k_exp, n, x, y, 0); }
void ae_v_log(int64_t n, const ae_real *x, ae_real *y) { run(r_k_log, n, x, y, 0); }
void ae_v_log1p(int64_t n, const ae_real *x, ae_real *y) { run(r_k_log1p, n, x, y, 0); }
void ae_v_sqrt(int64_t n, const ae_real *x, ae_real *y) { run(r_k_sqrt, n, x, y, 0); }
void ae_v_tanh(int64_t n, const ae_real *x, ae_real *y) { run(r_k_tanh, n, x, y, 0); }
void ae_v_sigmoid(int64_t n, const ae_real *x, ae_real *y) { run(r_k_sigmoid, n, x, y, 0); }
void ae_v_softplus(int64_t n, const ae_real *x, ae_real *y) { run(r_k_softplus, n, x, y, 0); }
void ae_v_log_sigmoid(int64_t n, const ae_real *x, ae_real *y) {
  run(r_k_log_sigmoid, n, x, y, 0);
}

void ae_v_pow_scalar(int64_t n, const ae_real *x, ae_real p, ae_real *y) {
  if (n <= 0) return;
  if (p == 1) {
    if (y != x) memmove(y, x, (size_t)n * sizeof(ae_real));
  } else if (p == 0) { /* pow(x, 0) == 1 for every x, NaN included */
    for (int64_t i = 0; i < n; i++) y[i] = 1;
  } else if (p == 2) {
    run(r_k_square, n, x, y, p);
  } else if (p == -1) {
    run(r_k_recip, n, x, y, p);
  } else if (p == (ae_real)0.5) {
    run(r_k_sqrt, n, x, y, p);
  } else {
    run(r_k_pow, n, x, y, p);
  }
}

/* sin(pi x) and cos(pi x) from SLEEF's sincospi (u05: within 0.506 ulp);
 * the tail is padded with zeros, as in DEF_RANGE. */
static void r_sincospi(int64_t n, const ae_real *x, ae_real *s, ae_real *c) {
  int64_t i = 0;
  for (; i + VW <= n; i += VW) {
    __typeof__(SINCOSPI_(VLOAD(x))) r = SINCOSPI_(VLOAD(x + i));
    VSTORE(s + i, r.x);
    VSTORE(c + i, r.y);
  }
  if (i < n) {
    ae_real bx[VW], bs[VW], bc[VW];
    int64_t rem = n - i;
    for (int j = 0; j < VW; j++) bx[j] = j < rem ? x[i + j] : 0;
    __typeof__(SINCOSPI_(VLOAD(bx))) r = SINCOSPI_(VLOAD(bx));
    VSTORE(bs, r.x);
    VSTORE(bc, r.y);
    memcpy(s + i, bs, (size_t)rem * sizeof(ae_real));
    memcpy(c + i, bc, (size_t)rem * sizeof(ae_real));
  }
}

void ae_v_sincospi(int64_t n, const ae_real *x, ae_real *s, ae_real *c) {
  if (n <= 0) return;
  if (AE_PAR(n)) {
    int64_t nb = (n + VBLK - 1) / VBLK;
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; b++) {
      int64_t o = b * VBLK, len = n - o < VBLK ? n - o : VBLK;
      r_sincospi(len, x + o, s + o, c + o);
    }
  } else {
    r_sincospi(n, x, s, c);
  }
}
