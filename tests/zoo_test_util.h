/* zoo_test_util.h: what the zoo's tests share: Fashion-MNIST subsets
 * loaded once per process, models from "k=v" strings, gradchecks of a
 * model's full loss with per-parameter reports, a short training run
 * through the trainer, the loss-falls check, inputs corrupted by a model's
 * own noise, and averages over ranges of
 * recorded losses. */
#ifndef ZOO_TEST_UTIL_H
#define ZOO_TEST_UTIL_H

#include "aezoo.h"
#include "io/dataset.h"

/* The first n training (split 0) or test (split 1) images of Fashion-MNIST,
 * (n,1,28,28) in [0,1]; loaded once and cached (n at most 10000 for test).
 * Aborts the test with a clear message when the data set is missing. */
const ae_tensor *zt_fashion(int split, int64_t n);

/* Trains m for `steps` steps of `batch` examples drawn in order (wrapping)
 * from data with the given optimiser kind and learning rate; losses[i]
 * receives step i's loss (may be NULL). Returns 0 or -1 (message printed). */
int zt_train(ae_model *m, const ae_tensor *data, int steps, int batch, ae_opt_kind kind, double lr, uint64_t seed,
             double *losses);

/* Mean of v[lo..hi). */
double zt_mean(const double *v, int lo, int hi);

/* A tensor of the first n examples of data, resized to shape (n, example...)
 * by nearest-neighbour downsampling from 28x28 to s x s (tiny images for
 * gradchecks); caller frees. */
ae_tensor *zt_downsample(const ae_tensor *data, int64_t n, int s);

/* A model from a space-separated "k=v k=v" string (NULL: none); the test
 * fails with the library's message if it is refused. */
ae_model *zt_make(const char *name, const char *sets, ae_shape ex, uint64_t seed);

/* Logs each parameter that failed a check in c (m->nparams entries). */
void zt_report(const char *what, const ae_model *m, const ae_param_check *c);

/* Called on the fresh model before its checks (e.g. to check that every
 * parameter gets a gradient); sets are the settings it was made with. */
typedef void (*zt_model_hook)(ae_model *m, const char *sets, const ae_tensor *x);

/* ae_model_gradcheck (and ae_model_gradgradcheck when `second`, data seed
 * 11, default tolerances) of the full loss of model `name` made with its
 * gradcheck_settings plus `extra` (NULL: none), for examples of shape ex,
 * with the given seed, on x. stage >= 0 sets m->stage (and is named in the
 * messages); stage < 0 leaves the model's own. `before` may be NULL.
 * Failures are test expectations (the test goes on). */
void zt_check_model_on(const char *name, const char *extra, ae_shape ex, const ae_tensor *x, uint64_t seed, int stage,
                       int second, zt_model_hook before);

/* zt_check_model_on at (1,4,4) with seed 7 on the first 3 Fashion-MNIST
 * training images downsampled to 4x4. */
void zt_check_model(const char *name, const char *extra, int stage, int second);

/* Trains m for `steps` Adam steps of `batch` examples of data (zt_train,
 * seed 3) at learning rate lr and expects the mean loss of the last 10
 * steps to be below `ratio` times that of the first 10; label names the
 * run in the messages. */
void zt_expect_loss_falls(ae_model *m, const char *label, const ae_tensor *data, int steps, int batch, double lr,
                          double ratio);

/* x corrupted once by m's own noise (m->def->corrupt on a fresh tape, the
 * generator seeded with seed), copied out; caller frees. */
ae_tensor *zt_corrupted(ae_model *m, const ae_tensor *x, uint64_t seed);

#endif
