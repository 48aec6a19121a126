/* rng.c: Philox4x32-10 streams. Block k of a stream is philox(counter=k,
 * key=seed); every value drawn uses one block of its own, so values are a
 * pure function of (seed, position) and any thread may compute any of them. */
#include "rng.h"

#include <math.h>
#include <Random123/philox.h>

#include "parallel.h"

void ae_rng_block(uint64_t seed, uint64_t counter, uint32_t out[4]) {
  philox4x32_ctr_t c = {{(uint32_t)counter, (uint32_t)(counter >> 32), 0x61657a6fu, 0}};
  philox4x32_key_t k = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
  philox4x32_ctr_t r = philox4x32(c, k);
  out[0] = r.v[0];
  out[1] = r.v[1];
  out[2] = r.v[2];
  out[3] = r.v[3];
}

void ae_rng_init(ae_rng *r, uint64_t seed) {
  r->seed = seed;
  r->counter = 0;
}

/* Uniform in [0,1) with the mantissa width of ae_real, never 1. */
static inline double u01(uint32_t hi, uint32_t lo) {
  uint64_t x = ((uint64_t)hi << 32) | lo;
#ifdef AE_REAL_DOUBLE
  return (double)(x >> 11) * 0x1.0p-53;
#else
  return (double)(x >> 40) * 0x1.0p-24;
#endif
}

uint64_t ae_rng_u64(ae_rng *r) {
  uint32_t w[4];
  ae_rng_block(r->seed, r->counter++, w);
  return ((uint64_t)w[0] << 32) | w[1];
}

double ae_rng_double(ae_rng *r) {
  uint32_t w[4];
  ae_rng_block(r->seed, r->counter++, w);
  return (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53;
}

void ae_rng_uniform(ae_rng *r, ae_real *out, int64_t n, ae_real lo, ae_real hi) {
  uint64_t seed = r->seed, base = r->counter;
  double span = (double)hi - (double)lo;
#pragma omp parallel for if (AE_PAR(n))
  for (int64_t i = 0; i < n; i++) {
    uint32_t w[4];
    ae_rng_block(seed, base + (uint64_t)i, w);
    ae_real v = (ae_real)((double)lo + span * u01(w[0], w[1]));
    out[i] = v < hi ? v : lo; /* rounding can reach hi when span is large */
  }
  r->counter += (uint64_t)n;
}

void ae_rng_normal(ae_rng *r, ae_real *out, int64_t n, ae_real mean, ae_real std) {
  uint64_t seed = r->seed, base = r->counter;
#pragma omp parallel for if (AE_PAR(n))
  for (int64_t i = 0; i < n; i++) {
    uint32_t w[4];
    ae_rng_block(seed, base + (uint64_t)i, w);
    /* Box-Muller; u1 in (0,1] so the log is finite. */
    double u1 = 1.0 - (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53;
    double u2 = (double)((((uint64_t)w[2] << 32) | w[3]) >> 11) * 0x1.0p-53;
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    out[i] = (ae_real)((double)mean + (double)std * z);
  }
  r->counter += (uint64_t)n;
}

void ae_rng_bernoulli(ae_rng *r, ae_real *out, int64_t n, double p) {
  uint64_t seed = r->seed, base = r->counter;
#pragma omp parallel for if (AE_PAR(n))
  for (int64_t i = 0; i < n; i++) {
    uint32_t w[4];
    ae_rng_block(seed, base + (uint64_t)i, w);
    double u = (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53;
    out[i] = u < p ? 1 : 0;
  }
  r->counter += (uint64_t)n;
}
