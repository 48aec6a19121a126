/* jacobian_test_util.h: helpers shared by test_jacobian.c and
 * test_contractive_penalty.c (float64): vector relative errors, copying a
 * value out, seeded normal fills, the logistic sigmoid, and
 * Richardson-extrapolated central differences. */
#ifndef AEZOO_TESTS_JACOBIAN_TEST_UTIL_H
#define AEZOO_TESTS_JACOBIAN_TEST_UTIL_H

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aezoo.h"

#define MAXN 64

/* max_i |a_i - b_i| / max_i |b_i|: relative error of a vector as a whole. */
static inline double vec_rel_err(const double *a, const double *b, int n) {
  double num = 0, den = 0;
  for (int i = 0; i < n; i++) {
    num = fmax(num, fabs(a[i] - b[i]));
    den = fmax(den, fabs(b[i]));
  }
  return den > 0 ? num / den : num;
}

static inline double rel_err(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

static inline void copy_out(const ae_val *v, double *dst) {
  cr_assert_not_null(v);
  for (int64_t i = 0; i < v->t.numel; i++) dst[i] = (double)v->t.data[i];
}

static inline void fill_normal(uint64_t seed, double *dst, int n, double std) {
  ae_rng r;
  ae_rng_init(&r, seed);
  ae_rng_normal(&r, dst, n, 0, std);
}

static inline double sigm(double z) { return 1 / (1 + exp(-z)); }

/* ---- Richardson-extrapolated central differences ------------------------
 * D(h) = (f(x+h) - f(x-h)) / 2h has error c2 h^2 + c4 h^4 + ...;
 * (4 D(h/2) - D(h)) / 3 cancels the h^2 term. With h = 1e-3 the remaining
 * truncation is ~h^4 = 1e-12 (relative, for O(1) derivatives) and rounding
 * ~1e-16 / 5e-4 = 2e-13, so these differences are good to about 1e-11. */
typedef void (*vec_fn)(const double *x, double *y, void *ctx);

static inline void fd_jacobian(vec_fn f, void *ctx, int n, int m, const double *x0, double *J /* m x n */) {
  double x[MAXN], yp[MAXN], ym[MAXN], d[2][MAXN];
  const double h = 1e-3;
  cr_assert(n <= MAXN && m <= MAXN);
  for (int i = 0; i < n; i++) {
    for (int r = 0; r < 2; r++) {
      double hh = r ? h / 2 : h;
      memcpy(x, x0, sizeof(double) * (size_t)n);
      x[i] = x0[i] + hh;
      f(x, yp, ctx);
      x[i] = x0[i] - hh;
      f(x, ym, ctx);
      for (int k = 0; k < m; k++) d[r][k] = (yp[k] - ym[k]) / (2 * hh);
    }
    for (int k = 0; k < m; k++) J[k * n + i] = (4 * d[1][k] - d[0][k]) / 3;
  }
}


#endif
