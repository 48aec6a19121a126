/* rng.h: counter-based random numbers (Philox4x32-10 from Random123).
 * Element i of a draw depends only on (seed, counter + i), never on the
 * thread that computes it, so a seed gives the same numbers whatever the
 * thread count, and (seed, counter) is the whole state a checkpoint
 * needs to resume the exact stream. Each draw of n values advances the
 * counter by n.
 *
 * Rows: a data-parallel run computes rows [row0, row0 + rows) of a batch
 * of total_rows on each process. After ae_rng_set_rows every array draw
 * (uniform, normal, bernoulli) of n values, n a multiple of rows, is
 * taken as those rows of a draw of total_rows * (n / rows) values with
 * the rows leading (a (B, ...) tensor): it yields exactly the values the
 * whole draw has there and advances the counter by the whole draw, so
 * the numbers of global row i do not depend on how the batch is split. A
 * draw of n not a multiple of rows, and ae_rng_u64/ae_rng_double, are
 * drawn whole, as without rows. ae_rng_init clears the rows. */
#ifndef AE_RNG_H
#define AE_RNG_H

#include "api.h"
#include "real.h"

typedef struct ae_rng {
  uint64_t seed;
  uint64_t counter;
  int64_t row0, rows, total_rows; /* ae_rng_set_rows; total_rows 0: off */
} ae_rng;

AE_API void ae_rng_init(ae_rng *r, uint64_t seed);
/* Draws are rows [row0, row0 + rows) of batches of total_rows (see
 * above); total_rows 0 turns it off. -1 with ae_last_error() unless
 * 0 <= row0, 1 <= rows and row0 + rows <= total_rows (or all 0). */
AE_API int ae_rng_set_rows(ae_rng *r, int64_t row0, int64_t rows, int64_t total_rows);
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
