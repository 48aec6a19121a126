/* run_rows.c: the training rows a run gathers its batches from. When the
 * data's file stores its values as unsigned bytes (the Fashion-MNIST and
 * MNIST IDX files the command reads by default), the rows stay bytes
 * (io/dataset_u8.h) and each batch is converted as it is gathered, with
 * the loader's own conversion, so the batches, the fingerprint and every
 * result are those of the float rows. The set takes a quarter of the
 * memory (47 MB against 188 MB for Fashion-MNIST's 60000 images), and a
 * batch of 128 random rows reads 100 KB instead of 400 KB from memory:
 * 13-22 us against 42 us in a microbenchmark (rows evicted between
 * gathers), 4 to 5% of a step of the small MLP models (aezoo_ab.sh).
 * uint8 .npy files in C order are kept so too. Other data (float files,
 * synthetic sets) stays in r->train as floats. */
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

int ae__run_load_train_u8(run *r, const char *spec, int64_t limit, uint64_t seed) {
  int rc = ae__dataset_load_u8(spec, 0, limit, seed, &r->train_u8);
  if (rc < 0) return ae__run_fail("%s", ae_last_error());
  if (rc == 1 && r->train_u8.shape.ndim < 2) {
    ae__dataset_u8_free(&r->train_u8);
    return ae__run_fail("data set '%s' has no examples dimension", spec);
  }
  return rc;
}

ae_shape ae__run_train_shape(const run *r) { return r->train_u8.x ? r->train_u8.shape : r->train.x->shape; }

ae_shape ae__run_example_shape(ae_shape data) { return ae_shape_make(data.ndim - 1, data.d + 1); }

int64_t ae__run_train_rows(const run *r) { return ae__run_train_shape(r).d[0]; }

void ae__run_gather(const run *r, const int64_t *idx, int64_t n, ae_tensor *out) {
  if (r->train_u8.x)
    ae__dataset_u8_gather(&r->train_u8, idx, n, out);
  else
    ae_gather_rows(r->train.x, idx, n, out);
}

int ae__run_take_labels(const int32_t *labels, const int64_t *idx, int64_t n, int32_t **out) {
  *out = NULL;
  if (!labels) return 0;
  *out = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  if (!*out) return -1;
  for (int64_t i = 0; i < n; i++) (*out)[i] = labels[idx[i]];
  return 0;
}

/* ae_run_data_hash of the rows as floats, converted a piece at a time. */
uint64_t ae__run_train_hash(const run *r) {
  if (!r->train_u8.x) return ae_run_data_hash(r->train.x);
  enum { PIECE = 4096 }; /* whole 8-byte words of floats and of doubles */
  ae_real buf[PIECE];
  const int64_t n = ae_shape_numel(r->train_u8.shape);
  uint64_t h = ae__ckpt_hash_begin(sizeof(ae_real) * (size_t)n);
  for (int64_t i = 0; i < n; i += PIECE) {
    const int64_t len = n - i < PIECE ? n - i : PIECE;
    ae__dataset_u8_to_real(r->train_u8.x + i, len, buf);
    h = ae__ckpt_hash_add(h, buf, sizeof(ae_real) * (size_t)len);
  }
  return ae__ckpt_hash_end(h);
}

/* The rows idx[0..n) of the byte rows as a float data set (labels too). */
static int take_float_rows(const ae__dataset_u8 *d, const int64_t *idx, int64_t n, ae_dataset *out) {
  ae_shape s = d->shape;
  s.d[0] = n;
  memset(out, 0, sizeof *out);
  out->x = ae_tensor_new(s);
  if (!out->x) return -1;
  ae__dataset_u8_gather(d, idx, n, out->x);
  if (ae__run_take_labels(d->labels, idx, n, &out->labels)) return -1;
  out->nclasses = d->nclasses;
  snprintf(out->name, sizeof out->name, "%s", d->name);
  return 0;
}

/* The rows idx[0..n) of the byte rows, still bytes. */
static int take_byte_rows(const ae__dataset_u8 *d, const int64_t *idx, int64_t n, ae__dataset_u8 *out) {
  const int64_t row = d->shape.d[0] > 0 ? ae_shape_numel(d->shape) / d->shape.d[0] : 0;
  memset(out, 0, sizeof *out);
  out->shape = d->shape;
  out->shape.d[0] = n;
  out->x = malloc(n * row > 0 ? (size_t)(n * row) : 1);
  if (!out->x) return -1;
  for (int64_t i = 0; i < n; i++) memcpy(out->x + i * row, d->x + idx[i] * row, (size_t)row);
  if (ae__run_take_labels(d->labels, idx, n, &out->labels)) return -1;
  out->nclasses = d->nclasses;
  snprintf(out->name, sizeof out->name, "%s", d->name);
  return 0;
}

int ae__run_split_u8(run *r, const int64_t *perm, int64_t nval) {
  const int64_t n = r->train_u8.shape.d[0];
  ae__dataset_u8 rest;
  if (take_float_rows(&r->train_u8, perm, nval, &r->val)) return -1; /* r->val is freed with the run */
  if (take_byte_rows(&r->train_u8, perm + nval, n - nval, &rest)) {
    ae__dataset_u8_free(&rest);
    return -1;
  }
  ae__dataset_u8_free(&r->train_u8);
  r->train_u8 = rest;
  return 0;
}
