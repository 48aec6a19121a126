/* pool_test_util.h: helpers shared by the pool family's test files
 * (test_pool.c, test_pool_2x2.c): random values, exact and scratch
 * comparisons, and the gradient of <y, w> in x. */
#ifndef AE_POOL_TEST_UTIL_H
#define AE_POOL_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdlib.h>

#include "aezoo.h"

static inline ae_val *rand_val(ae_tape *t, ae_shape s, ae_rng *r, double lo, double hi, int var) {
  ae_val *v = var ? ae_var(t, s, NULL) : ae_const(t, s, NULL);
  cr_assert(v, "%s", ae_tape_error(t));
  ae_rng_uniform(r, v->t.data, v->t.numel, (ae_real)lo, (ae_real)hi);
  return v;
}

static inline void expect_exact(const ae_real *got, const ae_real *want, int64_t n, const char *what, int ci) {
  for (int64_t i = 0; i < n; i++)
    if (got[i] != want[i]) {
      cr_expect(0, "%s, config %d: element %lld got %.17g want %.17g", what, ci, (long long)i, (double)got[i],
                (double)want[i]);
      return;
    }
}

static inline ae_real *scratch(int64_t n) {
  ae_real *p = calloc((size_t)n, sizeof(ae_real));
  cr_assert(p);
  return p;
}

static inline ae_val *grad_of(ae_tape *t, ae_val *y, ae_val *w, ae_val *x) {
  ae_val *gx = ae_grad1(t, y, w, x, 0);
  cr_assert(gx, "%s", ae_tape_error(t));
  return gx;
}

#endif
