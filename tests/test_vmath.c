/* test_vmath.c: the element-wise kernels and reductions of base/vmath.h,
 * built twice (float: vmath-f32, double: vmath-f64).
 *
 * Accuracy: every function is compared with libm evaluated in long double
 * (64-bit mantissa, so the reference's own error is ~2^-11 ulp of double
 * and negligible for float). The error of y against the exact reference r
 * is |y - r| / ulp(r), ulp(r) = 2^(exponent(r) - p + 1) (p = 24 or 53)
 * and never below the smallest subnormal. Bounds asserted:
 *   exp, log, log1p, tanh, pow  1.0 ulp: SLEEF's documented bound for u10
 *   tanh, float on AVX-512      0.501 ulp: evaluated in double (vtanh16.h),
 *       within about 2^-40 relative before its rounding to float
 *   sincospi                    SLEEF's u05 (0.506 documented): 1.0 ulp;
 *       float on AVX-512: 0.501 ulp, evaluated in double (vsincospi16.h)
 *   sqrt; pow with p=2,-1,0.5   0.5 ulp: correctly rounded (one IEEE op)
 *   sigmoid                     2.5 ulp: e=exp(-|x|) carries 1 ulp, the
 *       map e -> 1/(1+e) or e/(1+e) passes at most that relative error on
 *       (condition number <= 1), the add and the divide add 0.5 ulp each,
 *       plus slack for relative error -> ulp within a binade.
 *   softplus, log_sigmoid       2.5 ulp: exp's 1 ulp passes through log1p
 *       with condition <= 1, log1p adds 1 ulp, the final add/sub of two
 *       same-sign terms 0.5 ulp.
 * The maxima observed are printed (stderr, in meson's test log).
 * Plus: lengths 0, 1, 15, 17, 1000, 100000 (the last crosses the parallel
 * threshold) on unaligned pointers, in-place calls, bitwise equality of 1
 * and 2 threads, exact limits, and the deterministic reductions. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base_internal.h"
#include "base/parallel.h"
#include "base/vmath.h"

#ifdef AE_REAL_DOUBLE
#define MANT 53
#define DENORM_MIN 4.9406564584124654e-324L
#define EXPLIM 709.0
#define MAXE 1023
#define MINE (-1074)
#else
#define MANT 24
#define DENORM_MIN 1.40129846432481707e-45L
#define EXPLIM 88.0
#define MAXE 127
#define MINE (-149)
#endif

typedef void (*vfn)(int64_t, const ae_real *, ae_real *);
typedef long double (*rfn)(long double);

/* ---- references and error measure ------------------------------------- */

static long double r_exp(long double x) { return expl(x); }
static long double r_log(long double x) { return logl(x); }
static long double r_log1p(long double x) { return log1pl(x); }
static long double r_sqrt(long double x) { return sqrtl(x); }
static long double r_tanh(long double x) { return tanhl(x); }
#if defined(__AVX512F__) && defined(__AVX512DQ__) && !defined(AE_REAL_DOUBLE) /* as base/vlayer.h */
#define TANH_BOUND 0.501
#define SINCOSPI_BOUND 0.501 /* base/vsincospi16.h: evaluated in double */
#else
#define TANH_BOUND 1.0
#define SINCOSPI_BOUND 1.0
#endif
static long double r_sigmoid(long double x) {
  long double e = expl(-fabsl(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}
static long double r_softplus(long double x) { return fmaxl(x, 0) + log1pl(expl(-fabsl(x))); }
static long double r_log_sigmoid(long double x) {
  return fminl(x, 0) - log1pl(expl(-fabsl(x)));
}

static long double ulp_of(long double r) {
  int e;
  r = fabsl(r);
  if (r == 0) return DENORM_MIN;
  frexpl(r, &e); /* r = m 2^e, m in [0.5, 1) */
  long double u = ldexpl(1.0L, e - MANT);
  return u < DENORM_MIN ? DENORM_MIN : u;
}

/* Error of y in ulps of the exact r; INFINITY for a wrong NaN/inf. */
static double ulp_err(ae_real y, long double r) {
  if (isnan(r)) return isnan(y) ? 0 : INFINITY;
  ae_real rt = (ae_real)r;
  if (isinf(rt)) return y == rt ? 0 : INFINITY;
  if (!isfinite(y)) return INFINITY;
  return (double)(fabsl((long double)y - r) / ulp_of(r));
}

/* ---- inputs ----------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static double urand(void) { /* [0, 1) */
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) * 0x1p-53;
}

typedef struct domain {
  double lin_lo, lin_hi;   /* uniform part */
  int pos_lo, pos_hi;      /* +2^e (1+r), e in [pos_lo, pos_hi]; none if lo > hi */
  int neg_lo, neg_hi;      /* -2^e (1+r) */
  double edges[40];        /* first values of the sweep, 0-terminated list after [0] */
  int nedges;
} domain;

/* n values: the edges, then a third each of the three parts. */
static void fill(const domain *d, int64_t n, ae_real *x) {
  int64_t i = 0;
  for (; i < d->nedges && i < n; i++) x[i] = (ae_real)d->edges[i];
  for (int64_t k = 0; i < n; i++, k++) {
    int part = (int)(k % 3);
    if (part == 1 && d->pos_lo > d->pos_hi) part = 0;
    if (part == 2 && d->neg_lo > d->neg_hi) part = 0;
    if (part == 0) {
      x[i] = (ae_real)(d->lin_lo + (d->lin_hi - d->lin_lo) * urand());
    } else {
      int lo = part == 1 ? d->pos_lo : d->neg_lo, hi = part == 1 ? d->pos_hi : d->neg_hi;
      int e = lo + (int)(urand() * (hi - lo + 1));
      x[i] = (ae_real)((part == 1 ? 1 : -1) * ldexp(1 + urand(), e));
    }
  }
}

#define NE(...) .edges = {__VA_ARGS__}, .nedges = sizeof((double[]){__VA_ARGS__}) / sizeof(double)
#define INF ((double)INFINITY)

struct ufunc {
  const char *name;
  vfn f;
  rfn ref;
  double bound;
  domain dom;
};

static const struct ufunc funcs[] = {
    {"exp", ae_v_exp, r_exp, 1.0,
     {-EXPLIM - 40, EXPLIM, -80, 9, -80, 9,
      NE(0, -0.0, 1e-8, -1e-8, 1, -1, 20, -20, 88, -88, 87.3, -87.3, -100, -103, -104, -120,
         EXPLIM, -EXPLIM, INF, -INF, NAN)}},
    {"log", ae_v_log, r_log, 1.0,
     {0, 100, MINE, MAXE - 1, 1, 0,
      NE(1, 0, -0.0, -1, 2, 0.5, 1e-8, 1e-30, 1 + AE_REAL_EPS, 1 - AE_REAL_EPS / 2, INF, NAN)}},
    {"log1p", ae_v_log1p, r_log1p, 1.0,
     {-1, 10, -80, MAXE - 1, -80, -1,
      NE(0, -0.0, 1e-8, -1e-8, -0.5, -0.999, -1, -2, 1, 1e30, INF, NAN)}},
    {"sqrt", ae_v_sqrt, r_sqrt, 0.5,
     {0, 100, MINE, MAXE - 1, 1, 0, NE(0, -0.0, 1, 2, 4, -1, 1e-30, 1e30, INF, NAN)}},
    {"tanh", ae_v_tanh, r_tanh, TANH_BOUND,
     {-20, 20, -80, 100, -80, 100,
      NE(0, -0.0, 1e-8, -1e-8, 1, -1, 9, -9, 20, -20, 100, -100, 1e30, -1e30, INF, -INF, NAN)}},
    {"sigmoid", ae_v_sigmoid, r_sigmoid, 2.5,
     {-EXPLIM - 40, EXPLIM + 40, -80, 100, -80, 100,
      NE(0, -0.0, 1e-8, -1e-8, 1, -1, 20, -20, 88, -88, 100, -100, 1e4, -1e4, 1e30, -1e30, INF,
         -INF, NAN)}},
    {"softplus", ae_v_softplus, r_softplus, 2.5,
     {-EXPLIM - 40, EXPLIM + 40, -80, 100, -80, 100,
      NE(0, -0.0, 1e-8, -1e-8, 1, -1, 20, -20, 88, -88, 100, -100, 1e4, -1e4, 1e30, -1e30, INF,
         -INF, NAN)}},
    {"log_sigmoid", ae_v_log_sigmoid, r_log_sigmoid, 2.5,
     {-EXPLIM - 40, EXPLIM + 40, -80, 100, -80, 100,
      NE(0, -0.0, 1e-8, -1e-8, 1, -1, 20, -20, 88, -88, 100, -100, 1e4, -1e4, 1e30, -1e30, INF,
         -INF, NAN)}},
};
#define NFUNCS (int)(sizeof funcs / sizeof funcs[0])

/* Max ulp error of f over x[0..n) given y; reports the worst input. */
static double max_err(const struct ufunc *u, int64_t n, const ae_real *x, const ae_real *y,
                      double *worst_x) {
  double m = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = ulp_err(y[i], u->ref((long double)x[i]));
    if (e > m || isnan(e)) m = e, *worst_x = (double)x[i];
  }
  return m;
}

/* ---- accuracy sweeps -------------------------------------------------- */

#define SWEEP (1 << 18)

Test(vmath, accuracy_sweep) {
  ae_real *x = malloc(SWEEP * sizeof *x), *y = malloc(SWEEP * sizeof *y);
  for (int k = 0; k < NFUNCS; k++) {
    const struct ufunc *u = &funcs[k];
    fill(&u->dom, SWEEP, x);
    u->f(SWEEP, x, y);
    double wx = 0, m = max_err(u, SWEEP, x, y, &wx);
    fprintf(stderr, "[%s] %-12s max %.4f ulp (bound %.2f) at x = %.9g\n", AE_REAL_NAME, u->name,
            m, u->bound, wx);
    cr_expect(m <= u->bound, "%s: %.3f ulp > %.1f at x = %.17g", u->name, m, u->bound, wx);
  }
  free(x), free(y);
}

static long double pow_p;
static long double r_pow(long double x) { return powl(x, pow_p); }

Test(vmath, pow_sweep) {
  static const double ps[] = {2, 0.5, 1, -1, 0, 3, -2, 5, -3, 1.7, -0.3, 2.5, -2.5};
  domain d = {-4, 4, -20, 20, -20, 20,
              NE(0, -0.0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 1e-8, 10, -10, INF, NAN)};
  ae_real *x = malloc(SWEEP * sizeof *x), *y = malloc(SWEEP * sizeof *y);
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
    ae_real p = (ae_real)ps[k];
    int exact = p == 2 || p == -1 || p == (ae_real)0.5 || p == 1 || p == 0;
    struct ufunc u = {"pow", NULL, r_pow, exact ? 0.5 : 1.0, d};
    pow_p = p;
    fill(&d, SWEEP, x);
    ae_v_pow_scalar(SWEEP, x, p, y);
    double wx = 0, m = max_err(&u, SWEEP, x, y, &wx);
    fprintf(stderr, "[%s] pow p=%-5g  max %.4f ulp (bound %.2f) at x = %.9g\n", AE_REAL_NAME,
            ps[k], m, u.bound, wx);
    cr_expect(m <= u.bound, "pow p=%g: %.3f ulp at x = %.17g", ps[k], m, wx);
  }
  free(x), free(y);
}

Test(vmath, pow_negative_base_sign) {
  ae_real x[] = {-2, -3, -0.5, -1, 2};
  ae_real y[5];
  ae_v_pow_scalar(5, x, 3, y);
  cr_expect(y[0] == -8 && y[1] == -27 && y[2] == (ae_real)-0.125 && y[3] == -1 && y[4] == 8);
  ae_v_pow_scalar(5, x, -3, y);
  cr_expect(y[0] == (ae_real)-0.125 && y[3] == -1 && y[4] == (ae_real)0.125);
  ae_v_pow_scalar(5, x, 4, y);
  cr_expect(y[0] == 16 && y[1] == 81 && y[3] == 1);
  ae_v_pow_scalar(5, x, -1, y);
  cr_expect(y[0] == (ae_real)-0.5 && y[2] == -2);
  ae_v_pow_scalar(5, x, 2, y);
  cr_expect(y[0] == 4 && y[1] == 9);
  ae_v_pow_scalar(5, x, (ae_real)1.5, y);
  cr_expect(isnan(y[0]) && isnan(y[1]) && !isnan(y[4]));
}

/* ---- limits ------------------------------------------------------------ */

Test(vmath, sigmoid_family_limits) {
  ae_real x[] = {1e30f, -1e30f, INFINITY, -INFINITY, 1e4f, -1e4f, 0};
  int n = 7;
  ae_real y[7];
  ae_v_sigmoid(n, x, y);
  cr_expect(y[0] == 1 && y[1] == 0 && y[2] == 1 && y[3] == 0 && y[4] == 1 && y[5] == 0);
  cr_expect(y[6] == (ae_real)0.5);
  ae_v_softplus(n, x, y);
  cr_expect(y[0] == x[0] && y[1] == 0 && isinf(y[2]) && y[2] > 0 && y[3] == 0 && y[4] == x[4]);
  cr_expect(y[5] == 0);
  ae_v_log_sigmoid(n, x, y);
  cr_expect(y[0] == 0 && y[1] == x[1] && y[2] == 0 && isinf(y[3]) && y[3] < 0 && y[5] == x[5]);
  /* Finite everywhere on |x| <= 1e30 and monotone. */
  ae_real xs[2001], ys[2001], zs[2001];
  for (int i = 0; i <= 2000; i++) xs[i] = (ae_real)(i < 1000 ? -pow(10, 30.0 * (1000 - i) / 1000.0)
                                                 : i == 1000 ? 0 : pow(10, 30.0 * (i - 1000) / 1000.0));
  ae_v_sigmoid(2001, xs, ys);
  ae_v_softplus(2001, xs, zs);
  for (int i = 0; i <= 2000; i++) {
    cr_assert(isfinite(ys[i]) && ys[i] >= 0 && ys[i] <= 1 && isfinite(zs[i]) && zs[i] >= 0,
              "x = %g", (double)xs[i]);
    if (i) cr_assert(ys[i] >= ys[i - 1] && zs[i] >= zs[i - 1], "monotone at x = %g", (double)xs[i]);
  }
}

/* ---- lengths, alignment, aliasing, threads ---------------------------- */

#define BIG 100000
static const int64_t lens[] = {0, 1, 15, 17, 1000, BIG};

static const domain safe_dom = {-30, 30, -20, 6, -20, 6, NE(0, 1, -1, 0.5)};
static const domain pos_dom = {0, 30, -20, 20, 1, 0, NE(0, 1, 0.5, 2)};

Test(vmath, lengths_alignment_aliasing) {
  /* +1 element offsets make every pointer misaligned for vectors. */
  ae_real *xb = malloc((BIG + 2) * sizeof *xb), *ref = malloc((BIG + 2) * sizeof *ref);
  ae_real *yb = malloc((BIG + 3) * sizeof *yb);
  ae_real *x = xb + 1, *full = ref + 1, *y = yb + 1;
  ae_set_threads(2); /* n = BIG takes the parallel path even on one core */
  for (int k = 0; k < NFUNCS; k++) {
    const struct ufunc *u = &funcs[k];
    int pos = u->f == ae_v_log || u->f == ae_v_sqrt || u->f == ae_v_log1p;
    fill(pos ? &pos_dom : &safe_dom, BIG, x);
    u->f(BIG, x, full); /* parallel path when 2 threads */
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
      int64_t n = lens[l];
      for (int64_t i = 0; i < n + 2; i++) yb[i] = (ae_real)-7.25; /* sentinels */
      u->f(n, x, y);
      cr_assert(yb[0] == (ae_real)-7.25 && y[n] == (ae_real)-7.25, "%s n=%lld wrote outside",
                u->name, (long long)n);
      cr_assert(memcmp(y, full, (size_t)n * sizeof *y) == 0,
                "%s n=%lld: value depends on length or position", u->name, (long long)n);
      double wx = 0, m = max_err(u, n, x, y, &wx);
      cr_expect(m <= u->bound, "%s n=%lld: %.3f ulp at %g", u->name, (long long)n, m, wx);
      /* In place. */
      memcpy(y, x, (size_t)n * sizeof *y);
      u->f(n, y, y);
      cr_assert(memcmp(y, full, (size_t)n * sizeof *y) == 0, "%s n=%lld in place differs",
                u->name, (long long)n);
    }
  }
  /* pow in place, exact and general paths. */
  fill(&pos_dom, BIG, x);
  const ae_real ps[] = {2, (ae_real)0.5, 1, -1, 0, (ae_real)1.7};
  for (int k = 0; k < 6; k++) {
    ae_v_pow_scalar(BIG, x, ps[k], full);
    memcpy(y, x, BIG * sizeof *y);
    ae_v_pow_scalar(BIG, y, ps[k], y);
    cr_assert(memcmp(y, full, BIG * sizeof *y) == 0, "pow p=%g in place", (double)ps[k]);
    ae_v_pow_scalar(17, x + 5, ps[k], y);
    cr_assert(memcmp(y, full + 5, 17 * sizeof *y) == 0, "pow p=%g tail", (double)ps[k]);
  }
  free(xb), free(yb), free(ref);
}

Test(vmath, threads_bitwise_equal) {
  int64_t n = 3 * BIG + 13;
  ae_real *x = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *x), *y2 = malloc(n * sizeof *x);
  fill(&safe_dom, n, x);
  for (int k = 0; k < NFUNCS; k++) {
    ae_set_threads(1);
    funcs[k].f(n, x, y1);
    ae_set_threads(2);
    cr_assert(AE_PAR(n) || ae_get_threads() < 2);
    funcs[k].f(n, x, y2);
    cr_assert(memcmp(y1, y2, n * sizeof *x) == 0, "%s: 1 and 2 threads differ", funcs[k].name);
  }
  free(x), free(y1), free(y2);
}

/* ---- reductions --------------------------------------------------------- */

static const int64_t rlens[] = {0, 1, 15, 17, 1000, 4096, 4097, BIG, 5000000};

Test(vmath, reductions) {
  int64_t nmax = 5000000;
  ae_real *x = malloc(nmax * sizeof *x), *y = malloc(nmax * sizeof *y);
  domain d = {-1, 1, -10, 3, -10, 3, NE(0)};
  fill(&d, nmax, x);
  fill(&d, nmax, y);
  for (size_t l = 0; l < sizeof rlens / sizeof rlens[0]; l++) {
    int64_t n = rlens[l];
    long double s = 0, dt = 0, sq = 0, as = 0, adt = 0;
    for (int64_t i = 0; i < n; i++) {
      s += x[i], as += fabsl(x[i]);
      dt += (long double)x[i] * y[i], adt += fabsl((long double)x[i] * y[i]);
      sq += (long double)x[i] * x[i];
    }
    double r1[3], r2[3];
    ae_set_threads(1);
    r1[0] = ae_v_sum(n, x), r1[1] = ae_v_dot(n, x, y), r1[2] = ae_v_sumsq(n, x);
    ae_set_threads(2);
    r2[0] = ae_v_sum(n, x), r2[1] = ae_v_dot(n, x, y), r2[2] = ae_v_sumsq(n, x);
    cr_assert(memcmp(r1, r2, sizeof r1) == 0, "n=%lld: 1 and 2 threads differ", (long long)n);
    /* Double accumulation: the error is a few hundred roundings at most
     * (chunk depth 4096/16 + 16 + chunk count), far below 1e-12. */
    cr_expect(fabsl(r1[0] - s) <= 1e-12L * as, "sum n=%lld: %.17g vs %.17Lg", (long long)n, r1[0], s);
    cr_expect(fabsl(r1[1] - dt) <= 1e-12L * adt, "dot n=%lld", (long long)n);
    cr_expect(fabsl(r1[2] - sq) <= 1e-12L * sq, "sumsq n=%lld", (long long)n);
    if (n == BIG)
      fprintf(stderr, "[%s] sum n=%d rel err %.2e, dot %.2e, sumsq %.2e\n", AE_REAL_NAME, BIG,
              (double)(fabsl(r1[0] - s) / as), (double)(fabsl(r1[1] - dt) / adt),
              (double)(fabsl(r1[2] - sq) / sq));
  }
  cr_expect(ae_v_sum(0, x) == 0 && ae_v_dot(0, x, y) == 0 && ae_v_sumsq(0, x) == 0);
  free(x), free(y);
}

/* ae__v_sum_fill (internal): bitwise ae_v_sum of the array its fill
 * writes, at 1 and 2 threads, each fill a whole chunk from a chunk
 * boundary (the last one shorter). */
static int fill_misplaced;
static void fill_from(const void *ctx, int64_t lo, int64_t len, ae_real *buf) {
  if (lo % AE_V_CHUNK != 0 || len < 1 || len > AE_V_CHUNK) __atomic_store_n(&fill_misplaced, 1, __ATOMIC_RELAXED);
  memcpy(buf, (const ae_real *)ctx + lo, sizeof *buf * (size_t)len);
}

Test(vmath, sum_fill_is_the_sum_of_what_it_fills) {
  int64_t nmax = 5000000;
  ae_real *x = malloc(nmax * sizeof *x);
  domain d = {-1, 1, -10, 3, -10, 3, NE(0)};
  fill(&d, nmax, x);
  for (size_t l = 0; l < sizeof rlens / sizeof rlens[0]; l++) {
    int64_t n = rlens[l];
    ae_set_threads(1);
    double want = ae_v_sum(n, x);
    for (int th = 1; th <= 2; th++) {
      ae_set_threads(th);
      fill_misplaced = 0;
      double got = ae__v_sum_fill(n, fill_from, x);
      cr_assert(memcmp(&got, &want, sizeof got) == 0, "n=%lld, %d threads: %.17g, ae_v_sum %.17g", (long long)n, th,
                got, want);
      cr_assert_eq(fill_misplaced, 0, "n=%lld: a fill off a chunk boundary", (long long)n);
    }
  }
  free(x);
}

/* sincospi: sin(pi x) and cos(pi x) within SINCOSPI_BOUND ulp of long
 * double libm (SLEEF documents 0.506; the float AVX-512 kernel evaluated
 * in double misrounded none of every 7th float) over [-4, 4], for
 * lengths around the vector width and past the parallel threshold; exact
 * at multiples of 1/2 (and (0, 1) at large even integers for the kernel
 * evaluated in double), NaN at infinity and NaN. */
Test(vmath, sincospi) {
  static const int64_t lens[] = {1, 3, 15, 16, 17, 1000, 100001};
  for (int l = 0; l < 7; l++) {
    int64_t n = lens[l];
    ae_real *x = malloc(sizeof(ae_real) * (size_t)n), *s = malloc(sizeof(ae_real) * (size_t)n),
            *c = malloc(sizeof(ae_real) * (size_t)n);
    cr_assert(x && s && c);
    for (int64_t i = 0; i < n; i++) x[i] = (ae_real)(8 * urand() - 4);
    ae_v_sincospi(n, x, s, c);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
      /* reduce exactly first (x = q/2 + r, |r| <= 1/4), so the long double
       * product with pi stays accurate near the zeros of sin and cos */
      long double q = roundl(2 * (long double)x[i]), r = (long double)x[i] - q / 2;
      long double a = 3.14159265358979323846264338327950288L * r, sa = sinl(a), ca = cosl(a), rs, rc;
      switch ((int)fmodl(fmodl(q, 4) + 4, 4)) {
        case 0: rs = sa, rc = ca; break;
        case 1: rs = ca, rc = -sa; break;
        case 2: rs = -sa, rc = -ca; break;
        default: rs = -ca, rc = sa; break;
      }
      double es = ulp_err(s[i], rs), ec = ulp_err(c[i], rc);
      cr_assert(es <= SINCOSPI_BOUND && ec <= SINCOSPI_BOUND, "n %lld: x = %.9g: sin %.3f ulp, cos %.3f ulp",
                (long long)n, (double)x[i], es, ec);
      worst = fmax(worst, fmax(es, ec));
    }
    if (n == 100001)
      fprintf(stderr, "[%s] sincospi     max %.4f ulp (bound %.3f)\n", AE_REAL_NAME, worst, SINCOSPI_BOUND);
    free(x), free(s), free(c);
  }
  /* large even integers only for the kernel evaluated in double: SLEEF's
   * float sincospi gives cos 0 there (at 1e30) */
  const ae_real xs[8] = {0, (ae_real)0.5, 1, (ae_real)1.5, -1, 2, (ae_real)0x1p40, (ae_real)-0x1p40};
  const ae_real ws[8] = {0, 1, 0, -1, 0, 0, 0, 0}, wc[8] = {1, 0, -1, 0, -1, 1, 1, 1};
  const int nx = SINCOSPI_BOUND < 1 ? 8 : 6;
  ae_real s[8], c[8];
  ae_v_sincospi(nx, xs, s, c);
  for (int i = 0; i < nx; i++)
    cr_expect(s[i] == ws[i] && c[i] == wc[i], "x = %g: sin %g cos %g", (double)xs[i], (double)s[i], (double)c[i]);
  const ae_real odd[3] = {(ae_real)INFINITY, (ae_real)-INFINITY, (ae_real)NAN};
  ae_v_sincospi(3, odd, s, c);
  for (int i = 0; i < 3; i++)
    cr_expect(isnan(s[i]) && isnan(c[i]), "x = %g: sin %g cos %g", (double)odd[i], (double)s[i], (double)c[i]);
}
