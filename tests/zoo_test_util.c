/* zoo_test_util.c: shared helpers for the zoo's tests (zoo_test_util.h). */
#include "zoo_test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ae_dataset cache[2];
static int loaded[2];

const ae_tensor *zt_fashion(int split, int64_t n) {
  if (!loaded[split]) {
    if (ae_dataset_load("fashion-mnist", split, split ? 10000 : 20000, 0, &cache[split])) {
      fprintf(stderr, "zoo tests need Fashion-MNIST (Debian package dataset-fashion-mnist): %s\n", ae_last_error());
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
  ae_optim_config cfg = ae_optim_defaults(kind);
  cfg.lr = lr;
  ae_trainer *tr = ae_trainer_new(m, &cfg, seed, 0);
  if (!tr) {
    fprintf(stderr, "trainer: %s\n", ae_last_error());
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
      fprintf(stderr, "step %d: %s\n", s, ae_trainer_error(tr));
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

ae_model *zt_make(const char *name, const char *sets, ae_shape ex, uint64_t seed) {
  char buf[256];
  const char *kv[16];
  int n = 0;
  snprintf(buf, sizeof buf, "%s", sets ? sets : "");
  for (char *tok = strtok(buf, " "); tok && n < 16; tok = strtok(NULL, " ")) kv[n++] = tok;
  ae_model *m = ae_model_new(name, n, kv, ex, seed);
  cr_assert(m, "%s: %s", name, ae_last_error());
  return m;
}

void zt_report(const char *what, const ae_model *m, const ae_param_check *c) {
  for (int i = 0; i < m->nparams; i++)
    if (!c[i].ok)
      cr_log_error("%s: %s: max abs err %.3g, max rel err %.3g at element %lld", what, c[i].name, c[i].max_abs,
                   c[i].max_rel, (long long)c[i].worst);
}

void zt_check_model_on(const char *name, const char *extra, ae_shape ex, const ae_tensor *x, uint64_t seed, int stage,
                       int second, zt_model_hook before) {
  const ae_model_def *d = ae_zoo_find(name);
  cr_assert(d, "model %s is not registered", name);
  char sets[256], label[320];
  snprintf(sets, sizeof sets, "%s %s", d->gradcheck_settings, extra ? extra : "");
  if (stage >= 0)
    snprintf(label, sizeof label, "%s [%s] stage %d", name, sets, stage);
  else
    snprintf(label, sizeof label, "%s [%s]", name, sets);
  ae_model *m = zt_make(name, sets, ex, seed);
  if (stage >= 0) m->stage = stage;
  if (before) before(m, sets, x);
  ae_param_check c[AE_MAX_PARAMS];
  int rc = ae_model_gradcheck(m, x, 11, NULL, c);
  zt_report("gradcheck", m, c);
  cr_expect_eq(rc, 1, "%s: gradcheck %s", label, rc < 0 ? ae_last_error() : "failed");
  if (second) {
    rc = ae_model_gradgradcheck(m, x, 11, NULL, c);
    zt_report("gradgradcheck", m, c);
    cr_expect_eq(rc, 1, "%s: gradgradcheck %s", label, rc < 0 ? ae_last_error() : "failed");
  }
  ae_model_free(m);
}

void zt_check_model(const char *name, const char *extra, int stage, int second) {
  ae_tensor *x = zt_downsample(zt_fashion(0, 3), 3, 4);
  zt_check_model_on(name, extra, AE_SHAPE(1, 4, 4), x, 7, stage, second, NULL);
  ae_tensor_free(x);
}

void zt_expect_loss_falls(ae_model *m, const char *label, const ae_tensor *data, int steps, int batch, double lr,
                          double ratio) {
  double *loss = calloc((size_t)steps, sizeof *loss);
  cr_assert_eq(zt_train(m, data, steps, batch, AE_OPT_ADAM, lr, 3, loss), 0);
  double first = zt_mean(loss, 0, 10), last = zt_mean(loss, steps - 10, steps);
  cr_log_info("%s: loss %.5f (first 10 steps) -> %.5f (last 10 of %d)", label, first, last, steps);
  cr_expect_lt(last, ratio * first, "%s: loss %.5f -> %.5f after %d steps", label, first, last, steps);
  free(loss);
}

ae_tensor *zt_corrupted(ae_model *m, const ae_tensor *x, uint64_t seed) {
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_val *nv = m->def->corrupt(m, t, ae_const_tensor(t, x), &rng);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  ae_tensor *out = ae_tensor_new(x->shape);
  memcpy(out->data, nv->t.data, sizeof(ae_real) * (size_t)out->numel);
  ae_tape_free(t);
  return out;
}
