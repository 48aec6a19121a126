/* run_data.c: a run's data: the training set (less the validation split,
 * held out by a permutation keyed by the seed), the validation set and the
 * test set, loaded and checked finite (run_internal.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define bad ae__run_bad
#define fail ae__run_fail
#define mix64 ae__run_mix64

/* ---- data ---------------------------------------------------------------- */

static int load_data(const char *spec, int split, int64_t limit, uint64_t seed, ae_dataset *d) {
  if (ae_dataset_load(spec, split, limit, seed, d)) return fail("%s", ae_last_error());
  if (ae_dataset_check_finite(d)) {
    ae_dataset_free(d);
    memset(d, 0, sizeof *d);
    return fail("%s", ae_last_error());
  }
  if (d->x->shape.ndim < 2) {
    ae_dataset_free(d);
    memset(d, 0, sizeof *d);
    return fail("data set '%s' has no examples dimension", spec);
  }
  return 0;
}

ae_shape ae__run_example_shape(const ae_tensor *x) { return ae_shape_make(x->shape.ndim - 1, x->shape.d + 1); }

/* Copies rows idx[0..n) of d into a new data set (labels too). */
static int take_rows(const ae_dataset *d, const int64_t *idx, int64_t n, ae_dataset *out) {
  ae_shape s = d->x->shape;
  s.d[0] = n;
  memset(out, 0, sizeof *out);
  out->x = ae_tensor_new(s);
  if (!out->x) return -1;
  ae_gather_rows(d->x, idx, n, out->x);
  if (d->labels) {
    out->labels = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (!out->labels) return -1;
    for (int64_t i = 0; i < n; i++) out->labels[i] = d->labels[idx[i]];
  }
  out->nclasses = d->nclasses;
  snprintf(out->name, sizeof out->name, "%s", d->name);
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Holds out round(frac * N) examples, chosen by a seeded permutation; the
 * rest (in their original order) stay the training set. */
static int split_validation(run *r) {
  int64_t n = r->train.x->shape.d[0];
  int64_t nval = (int64_t)llround(r->meta.val_split * (double)n);
  if (nval < 1 || nval >= n)
    return bad("val split %g of %" PRId64 " examples leaves %" PRId64 " for validation and %" PRId64
               " for training; both need at least 1",
               r->meta.val_split, n, nval, n - nval);
  int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
  if (!perm) return fail("out of memory");
  ae_run_epoch_permutation(perm, n, 1, mix64(r->meta.seed ^ 0x76616cull) /* "val" */, 0, 0);
  qsort(perm, (size_t)nval, sizeof *perm, cmp_i64);
  qsort(perm + nval, (size_t)(n - nval), sizeof *perm, cmp_i64);
  ae_dataset rest;
  int rc = take_rows(&r->train, perm, nval, &r->val) || take_rows(&r->train, perm + nval, n - nval, &rest);
  free(perm);
  if (rc) return fail("out of memory");
  ae_dataset_free(&r->train);
  r->train = rest;
  return 0;
}

int ae__run_open_data(run *r) {
  ae_ckpt_meta *mt = &r->meta;
  const char *test_spec = mt->test_data[0] ? mt->test_data : mt->data;
  if (load_data(mt->data, 0, mt->limit, mt->seed, &r->train)) return -1;
  if (mt->val_split > 0) {
    int rc = split_validation(r);
    if (rc) return rc;
  }
  if (load_data(test_spec, 1, mt->test_limit, mt->seed, &r->test)) return -1;
  ae_shape ex = ae__run_example_shape(r->train.x);
  if (!ae_shape_eq(ex, ae__run_example_shape(r->test.x))) {
    char a[64], b[64];
    return fail("the test data's examples %s differ from the training data's %s",
                ae_shape_str(ae__run_example_shape(r->test.x), a, sizeof a), ae_shape_str(ex, b, sizeof b));
  }
  return 0;
}

