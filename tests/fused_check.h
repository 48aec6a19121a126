/* fused_check.h: what the fused-op tests (test_conv_relu.c,
 * test_linear_act.c) compare between a fused op and its composite: the
 * output y, the first-order gradients of the (up to three) inputs from
 * <y, r>, and the second-order ones from <dx, s> with create_graph, r and
 * s fixed random tensors. Static helpers, included by one test file each. */
#ifndef AE_TEST_FUSED_CHECK_H
#define AE_TEST_FUSED_CHECK_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"

static void fill(ae_real *p, int64_t n, uint64_t seed) {
  ae_rng r;
  ae_rng_init(&r, seed);
  ae_rng_uniform(&r, p, n, -1, 1);
}

static ae_tensor *rand_tensor(ae_shape s, uint64_t seed) {
  ae_tensor *x = ae_tensor_new(s);
  cr_assert(x);
  fill(x->data, x->numel, seed);
  return x;
}

enum { NRES = 7 };
typedef struct {
  ae_real *v[NRES];
  int64_t n[NRES];
} results;

static const char *const res_names[NRES] = {"output", "dx", "dw", "db", "d2x", "d2w", "d2b"};

/* v's values (none for NULL) in a malloc'd copy; their count in *n. */
static ae_real *copy_value(const ae_val *v, int64_t *n) {
  *n = v ? v->t.numel : 0;
  ae_real *p = malloc(sizeof(ae_real) * (size_t)(*n ? *n : 1));
  cr_assert(p);
  if (v) memcpy(p, v->t.data, sizeof(ae_real) * (size_t)*n);
  return p;
}

static void keep(results *res, int k, const ae_val *v) { res->v[k] = copy_value(v, &res->n[k]); }

/* y's value and gradients with respect to v[0..nin) (nin <= 3), copied
 * out of the tape t that holds them. */
static results results_of(ae_tape *t, ae_val *y, ae_val *const *v, int nin) {
  results res;
  ae_val *g[3] = {NULL, NULL, NULL}, *gg[3] = {NULL, NULL, NULL};
  cr_assert(y, "%s", ae_tape_error(t));
  ae_val *r = ae_const(t, y->t.shape, NULL);
  fill(r->t.data, r->t.numel, 77);
  cr_assert(ae_grad(t, 1, &y, &r, nin, v, g, 1) == 0, "%s", ae_tape_error(t));
  ae_val *s = ae_const(t, g[0]->t.shape, NULL);
  fill(s->t.data, s->t.numel, 78);
  cr_assert(ae_grad(t, 1, &g[0], &s, nin, v, gg, 0) == 0, "%s", ae_tape_error(t));
  keep(&res, 0, y);
  for (int k = 0; k < 3; k++) keep(&res, 1 + k, k < nin ? g[k] : NULL), keep(&res, 4 + k, k < nin ? gg[k] : NULL);
  return res;
}

/* a and b bitwise equal, result by result; then both freed. */
static void expect_same_and_free(results *a, results *b, const char *what, int threads) {
  for (int k = 0; k < NRES; k++) {
    cr_assert_eq(a->n[k], b->n[k], "%s, %d threads: %s sizes differ", what, threads, res_names[k]);
    cr_assert(memcmp(a->v[k], b->v[k], sizeof(ae_real) * (size_t)a->n[k]) == 0,
              "%s, %d threads: %s differs from the composite's", what, threads, res_names[k]);
  }
  for (int k = 0; k < NRES; k++) free(a->v[k]), free(b->v[k]);
}

#endif
