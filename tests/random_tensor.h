/* random_tensor.h: the tests' uniformly filled tensors, from a caller's
 * generator or from a seed of their own; header-only so any test can use it
 * without a meson change. */
#ifndef RANDOM_TENSOR_H
#define RANDOM_TENSOR_H

#include <criterion/criterion.h>

#include "aezoo.h"

/* A new tensor of shape s, uniform in [lo, hi) from r (advanced); the test
 * fails when it cannot be allocated. Caller frees. */
static inline ae_tensor *rt_uniform(ae_shape s, ae_rng *r, double lo, double hi) {
  ae_tensor *x = ae_tensor_new(s);
  cr_assert(x, "out of memory for a random tensor");
  ae_rng_uniform(r, x->data, x->numel, (ae_real)lo, (ae_real)hi);
  return x;
}

/* rt_uniform from a generator seeded with seed. */
static inline ae_tensor *rt_uniform_seeded(ae_shape s, uint64_t seed, double lo, double hi) {
  ae_rng r;
  ae_rng_init(&r, seed);
  return rt_uniform(s, &r, lo, hi);
}

#endif
