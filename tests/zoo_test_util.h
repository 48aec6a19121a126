/* zoo_test_util.h: what the zoo's tests share: Fashion-MNIST subsets
 * loaded once per process, a short training run through the trainer, and
 * averages over ranges of recorded losses. */
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

#endif
