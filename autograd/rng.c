/* rng.c: Philox4x32-10 streams. Block k of a stream is philox(counter=k,
 * key=seed); every value drawn uses one block of its own, so values are a
 * pure function of (seed, position) and any thread may compute any of them. */
#define _GNU_SOURCE /* sincos */
#include "rng.h"

#include <math.h>
#include <Random123/philox.h>

#include "parallel.h"
#include "ops/vmath.h"

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
  AE_PAR_FOR(AE_PAR(n), ,
  for (int64_t i = 0; i < n; i++) {
    uint32_t w[4];
    ae_rng_block(seed, base + (uint64_t)i, w);
    ae_real v = (ae_real)((double)lo + span * u01(w[0], w[1]));
    out[i] = v < hi ? v : lo; /* rounding can reach hi when span is large */
  });
  r->counter += (uint64_t)n;
}

/* Box-Muller on pairs: block (counter + p) gives normals 2p (cosine) and
 * 2p+1 (sine). Chunks of pairs take their logarithms and square roots as
 * SLEEF vectors. u1 lies in (0,1], so the tail reaches sqrt(-2 log 2^-m)
 * (5.8 sigma with float's 24 bits, 8.6 with double's 53). */
enum { PAIRS = 256 };

static void normal_chunk(uint64_t seed, uint64_t base, int64_t p0, int64_t np, int64_t n, ae_real *out, double mean,
                         double std) {
  ae_real r[PAIRS] = {0};
  double th[PAIRS];
  for (int64_t k = 0; k < np; k++) {
    uint32_t w[4];
    ae_rng_block(seed, base + (uint64_t)(p0 + k), w);
    r[k] = (ae_real)(1.0 - u01(w[0], w[1]));
    th[k] = 6.283185307179586 * u01(w[2], w[3]);
  }
  ae_v_log(np, r, r);
  for (int64_t k = 0; k < np; k++) r[k] *= -2;
  ae_v_sqrt(np, r, r);
  for (int64_t k = 0; k < np; k++) {
    double sn, cs;
    sincos(th[k], &sn, &cs);
    int64_t i = 2 * (p0 + k);
    out[i] = (ae_real)(mean + std * r[k] * cs);
    if (i + 1 < n) out[i + 1] = (ae_real)(mean + std * r[k] * sn);
  }
}

void ae_rng_normal(ae_rng *r, ae_real *out, int64_t n, ae_real mean, ae_real std) {
  uint64_t seed = r->seed, base = r->counter;
  int64_t pairs = (n + 1) / 2, chunks = (pairs + PAIRS - 1) / PAIRS;
  AE_PAR_FOR(AE_PAR(n), schedule(static),
  for (int64_t c = 0; c < chunks; c++) {
    int64_t p0 = c * PAIRS, np = pairs - p0 < PAIRS ? pairs - p0 : PAIRS;
    normal_chunk(seed, base, p0, np, n, out, (double)mean, (double)std);
  });
  r->counter += (uint64_t)n; /* n blocks reserved, so draws never overlap */
}

void ae_rng_bernoulli(ae_rng *r, ae_real *out, int64_t n, double p) {
  uint64_t seed = r->seed, base = r->counter;
  AE_PAR_FOR(AE_PAR(n), ,
  for (int64_t i = 0; i < n; i++) {
    uint32_t w[4];
    ae_rng_block(seed, base + (uint64_t)i, w);
    double u = (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53;
    out[i] = u < p ? 1 : 0;
  });
  r->counter += (uint64_t)n;
}
