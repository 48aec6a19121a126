/* zoo_test_util.c: shared helpers for the zoo's tests (zoo_test_util.h). */
#include "zoo_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ae_dataset cache[2];
static int loaded[2];

const ae_tensor *zt_fashion(int split, int64_t n) {
  if (!loaded[split]) {
    char err[512];
    if (ae_dataset_load("fashion-mnist", split, split ? 10000 : 20000, 0, &cache[split], err, sizeof err)) {
      fprintf(stderr, "zoo tests need Fashion-MNIST (Debian package dataset-fashion-mnist): %s\n", err);
      abort();
    }
    loaded[split] = 1;
  }
  static ae_tensor views[2][8];
  static int nviews[2];
  ae_tensor *v = &views[split][nviews[split]++ % 8];
  *v = *cache[split].x;
  if (n > v->shape.d[0]) n = v->shape.d[0];
  v->shape.d[0] = n;
  v->numel = n * (cache[split].x->numel / cache[split].x->shape.d[0]);
  return v;
}

int zt_train(ae_model *m, const ae_tensor *data, int steps, int batch, ae_opt_kind kind, double lr, uint64_t seed,
             double *losses) {
  char err[512];
  ae_optim_config cfg = ae_optim_defaults(kind);
  cfg.lr = lr;
  ae_trainer *tr = ae_trainer_new(m, &cfg, seed, 0, err, sizeof err);
  if (!tr) {
    fprintf(stderr, "trainer: %s\n", err);
    return -1;
  }
  ae_shape bs = data->shape;
  bs.d[0] = batch;
  ae_tensor *xb = ae_tensor_new(bs);
  int64_t *idx = malloc(sizeof *idx * (size_t)batch), n = data->shape.d[0];
  int rc = 0;
  for (int s = 0; s < steps && rc == 0; s++) {
    for (int i = 0; i < batch; i++) idx[i] = ((int64_t)s * batch + i) % n;
    ae_gather_rows(data, idx, batch, xb);
    if (ae_trainer_step(tr, xb)) {
      fprintf(stderr, "step %d: %s\n", s, tr->error);
      rc = -1;
    } else if (losses)
      losses[s] = tr->loss;
  }
  free(idx);
  ae_tensor_free(xb);
  ae_trainer_free(tr);
  return rc;
}

double zt_mean(const double *v, int lo, int hi) {
  double s = 0;
  for (int i = lo; i < hi; i++) s += v[i];
  return s / (hi - lo);
}

ae_tensor *zt_downsample(const ae_tensor *data, int64_t n, int s) {
  int64_t H = data->shape.d[2], W = data->shape.d[3];
  ae_tensor *out = ae_tensor_new(AE_SHAPE(n, 1, s, s));
  for (int64_t i = 0; i < n; i++)
    for (int y = 0; y < s; y++)
      for (int x = 0; x < s; x++)
        out->data[(i * s + y) * s + x] = data->data[i * H * W + (y * H / s) * W + (x * W / s)];
  return out;
}
