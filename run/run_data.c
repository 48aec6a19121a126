/* run_data.c: a run's data: the training set (less the validation split,
 * held out by a permutation keyed by the seed), the validation set and the
 * test set, loaded and checked finite (run_internal.h). The training set
 * stays in bytes when its file stores bytes (run_rows.c). */
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

/* Copies rows idx[0..n) of d into a new data set (labels too). */
static int take_rows(const ae_dataset *d, const int64_t *idx, int64_t n, ae_dataset *out) {
  ae_shape s = d->x->shape;
  s.d[0] = n;
  memset(out, 0, sizeof *out);
  out->x = ae_tensor_new(s);
  if (!out->x) return -1;
  ae_gather_rows(d->x, idx, n, out->x);
  if (ae__run_take_labels(d->labels, idx, n, &out->labels)) return -1;
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
  int64_t n = ae__run_train_rows(r);
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
  if (r->train_u8.x) { /* rows kept as bytes (run_rows.c) */
    int rc = ae__run_split_u8(r, perm, nval);
    free(perm);
    return rc ? fail("out of memory") : 0;
  }
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
  int bytes = ae__run_load_train_u8(r, mt->data, mt->limit, mt->seed); /* 1: kept as bytes, 0: not stored so */
  if (bytes < 0 || (bytes == 0 && load_data(mt->data, 0, mt->limit, mt->seed, &r->train))) return -1;
  if (mt->val_split > 0) {
    int rc = split_validation(r);
    if (rc) return rc;
  }
  if (load_data(test_spec, 1, mt->test_limit, mt->seed, &r->test)) return -1;
  ae_shape ex = ae__run_example_shape(ae__run_train_shape(r));
  if (!ae_shape_eq(ex, ae__run_example_shape(r->test.x->shape))) {
    char a[64], b[64];
    return fail("the test data's examples %s differ from the training data's %s",
                ae_shape_str(ae__run_example_shape(r->test.x->shape), a, sizeof a), ae_shape_str(ex, b, sizeof b));
  }
  return 0;
}

