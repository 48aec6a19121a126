/* rng.h: counter-based random numbers (Philox4x32-10 from Random123).
 * Element i of a draw depends only on (seed, counter + i), never on the
 * thread that computes it, so a seed gives the same numbers whatever the
 * thread count, and (seed, counter) is the whole state a checkpoint
 * needs to resume the exact stream. Each draw of n values advances the
 * counter by n. */
#ifndef AE_RNG_H
#define AE_RNG_H

#include "api.h"
#include "real.h"

typedef struct ae_rng {
  uint64_t seed;
  uint64_t counter;
} ae_rng;

AE_API void ae_rng_init(ae_rng *r, uint64_t seed);
/* Uniform in [lo, hi). */
AE_API void ae_rng_uniform(ae_rng *r, ae_real *out, int64_t n, ae_real lo, ae_real hi);
/* Normal(mean, std^2). */
AE_API void ae_rng_normal(ae_rng *r, ae_real *out, int64_t n, ae_real mean, ae_real std);
/* 1 with probability p, else 0. */
AE_API void ae_rng_bernoulli(ae_rng *r, ae_real *out, int64_t n, double p);
/* One uniform 64-bit word and one uniform double in [0,1) (advance by 1). */
AE_API uint64_t ae_rng_u64(ae_rng *r);
AE_API double ae_rng_double(ae_rng *r);

/* Raw access for kernels that draw inside their own loops: the four
 * 32-bit words of block (seed, counter). */
AE_API void ae_rng_block(uint64_t seed, uint64_t counter, uint32_t out[4]);

#endif
