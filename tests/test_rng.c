/* test_rng.c: the array draws of base/rng.h against independent
 * computations. Uniform and Bernoulli equal, bitwise, their formulas on
 * the words of the scalar Random123 block (ae_rng_block), for odd lengths
 * and across the 2^32 carry of the counter (the batched Philox lanes).
 * Normal equals Box-Muller computed in double with libm from the same
 * blocks, to a few ulps; over 2^20 draws its moments (mean, variance,
 * skewness, kurtosis) lie within 5 standard errors, the Kolmogorov-Smirnov
 * distance to the normal CDF is below the 0.1% critical value, and each
 * of 40 equiprobable bins passes a chi-square test at 0.1%. An odd-length
 * draw is a prefix of the next even one (element i depends only on the
 * seed, the counter and i). Built for float32 and float64. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "aezoo.h"

#define BIG (1 << 20)

static const int64_t lengths[] = {1, 2, 3, 15, 16, 17, 63, 255, 256, 257, 511, 513, 1000, 4099};
#define NLEN ((int)(sizeof lengths / sizeof lengths[0]))
static const uint64_t starts[] = {0, 7, 0xFFFFFFF0ull, 0x12345678FFFFFF00ull};
#define NSTART ((int)(sizeof starts / sizeof starts[0]))

static ae_rng at(uint64_t seed, uint64_t counter) {
  ae_rng r;
  ae_rng_init(&r, seed);
  r.counter = counter;
  return r;
}

static double u53(const uint32_t w[4]) { return (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53; }

Test(rng, uniform_and_bernoulli_equal_the_scalar_blocks) {
  ae_real *y = malloc(sizeof(ae_real) * 4099);
  for (int s = 0; s < NSTART; s++)
    for (int l = 0; l < NLEN; l++) {
      int64_t n = lengths[l];
      ae_rng r = at(0x9E3779B97F4A7C15ull, starts[s]);
      ae_rng_uniform(&r, y, n, -1, 3);
      cr_expect_eq(r.counter, starts[s] + (uint64_t)n);
      for (int64_t i = 0; i < n; i++) {
        uint32_t w[4];
        ae_rng_block(r.seed, starts[s] + (uint64_t)i, w);
        uint64_t x = ((uint64_t)w[0] << 32) | w[1];
#ifdef AE_REAL_DOUBLE
        double u = (double)(x >> 11) * 0x1.0p-53;
#else
        double u = (double)(x >> 40) * 0x1.0p-24;
#endif
        ae_real want = (ae_real)(-1.0 + 4.0 * u);
        if (want >= 3) want = -1;
        cr_assert_eq(y[i], want, "uniform n %lld start %llx element %lld: %.9g, want %.9g", (long long)n,
                     (unsigned long long)starts[s], (long long)i, (double)y[i], (double)want);
      }
      r = at(5, starts[s]);
      ae_rng_bernoulli(&r, y, n, 0.3);
      for (int64_t i = 0; i < n; i++) {
        uint32_t w[4];
        ae_rng_block(5, starts[s] + (uint64_t)i, w);
        cr_assert_eq(y[i], u53(w) < 0.3 ? 1 : 0, "bernoulli n %lld element %lld", (long long)n, (long long)i);
      }
    }
  free(y);
}

#ifdef AE_REAL_DOUBLE
#define NORMAL_TOL 1e-13
#else
#define NORMAL_TOL 4e-6
#endif

/* Box-Muller in double with libm: in double, pair i/2 from block counter +
 * i/2 (words w0 w1 and w2 w3); in float, from block counter + i/4, words
 * (w0, w2) for its first pair and (w1, w3) for its second. */
static double normal_ref(uint64_t seed, uint64_t counter, int64_t i) {
  uint32_t w[4];
#ifdef AE_REAL_DOUBLE
  ae_rng_block(seed, counter + (uint64_t)(i / 2), w);
  double u1 = 1 - (double)((((uint64_t)w[0] << 32) | w[1]) >> 11) * 0x1.0p-53;
  double u2 = (double)((((uint64_t)w[2] << 32) | w[3]) >> 11) * 0x1.0p-53;
#else
  ae_rng_block(seed, counter + (uint64_t)(i / 4), w);
  int h = (int)(i / 2 % 2);
  double u1 = 1 - (double)(w[h] >> 8) * 0x1.0p-24;
  double u2 = (double)(w[2 + h] >> 8) * 0x1.0p-24;
#endif
  double rad = sqrt(-2 * log(u1)), th = 2 * M_PI * u2;
  return i % 2 == 0 ? rad * cos(th) : rad * sin(th);
}

Test(rng, normal_equals_box_muller_in_double) {
  ae_real *y = malloc(sizeof(ae_real) * 4099), *y2 = malloc(sizeof(ae_real) * 4100);
  for (int s = 0; s < NSTART; s++)
    for (int l = 0; l < NLEN; l++) {
      int64_t n = lengths[l];
      ae_rng r = at(77, starts[s]);
      ae_rng_normal(&r, y, n, 0.5, 2);
      cr_expect_eq(r.counter, starts[s] + (uint64_t)n);
      for (int64_t i = 0; i < n; i++) {
        double want = 0.5 + 2 * normal_ref(77, starts[s], i);
        cr_assert(fabs(y[i] - want) <= NORMAL_TOL * (1 + fabs(want)), "normal n %lld start %llx element %lld: %.9g, want %.9g",
                  (long long)n, (unsigned long long)starts[s], (long long)i, (double)y[i], want);
      }
      r = at(77, starts[s]);
      ae_rng_normal(&r, y2, n + n % 2, 0.5, 2);
      for (int64_t i = 0; i < n; i++) cr_assert_eq(y[i], y2[i], "n %lld: element %lld differs from the even draw", (long long)n, (long long)i);
    }
  free(y);
  free(y2);
}

static double phi(double z) { return 0.5 * erfc(-z / sqrt(2.0)); }

static int cmp(const void *a, const void *b) {
  ae_real x = *(const ae_real *)a, y = *(const ae_real *)b;
  return (x > y) - (x < y);
}

Test(rng, normal_distribution) {
  ae_real *y = malloc(sizeof(ae_real) * BIG);
  ae_rng r = at(2024, 3);
  ae_rng_normal(&r, y, BIG, 0, 1);
  double n = BIG, m = 0, m2 = 0, m3 = 0, m4 = 0;
  for (int64_t i = 0; i < BIG; i++) m += y[i];
  m /= n;
  for (int64_t i = 0; i < BIG; i++) {
    double d = y[i] - m, d2 = d * d;
    m2 += d2, m3 += d2 * d, m4 += d2 * d2;
  }
  m2 /= n, m3 /= n, m4 /= n;
  double skew = m3 / pow(m2, 1.5), kurt = m4 / (m2 * m2) - 3;
  cr_expect(fabs(m) <= 5 / sqrt(n), "mean %.6f", m);
  cr_expect(fabs(m2 - 1) <= 5 * sqrt(2 / n), "variance %.6f", m2);
  cr_expect(fabs(skew) <= 5 * sqrt(6 / n), "skewness %.6f", skew);
  cr_expect(fabs(kurt) <= 5 * sqrt(24 / n), "excess kurtosis %.6f", kurt);

  /* chi-square over 40 bins of equal probability (edges by bisection on Phi) */
  enum { BINS = 40 };
  double edge[BINS - 1];
  for (int b = 1; b < BINS; b++) {
    double lo = -10, hi = 10, p = (double)b / BINS;
    for (int it = 0; it < 100; it++) {
      double mid = (lo + hi) / 2;
      *(phi(mid) < p ? &lo : &hi) = mid;
    }
    edge[b - 1] = (lo + hi) / 2;
  }
  qsort(y, BIG, sizeof(ae_real), cmp);
  int64_t count[BINS] = {0};
  int b = 0;
  double ks = 0;
  for (int64_t i = 0; i < BIG; i++) {
    while (b < BINS - 1 && y[i] >= edge[b]) b++;
    count[b]++;
    double f = phi(y[i]);
    double d = fmax(fabs((double)(i + 1) / n - f), fabs(f - (double)i / n));
    if (d > ks) ks = d;
  }
  double chi2 = 0, e = n / BINS;
  for (int k = 0; k < BINS; k++) chi2 += (count[k] - e) * (count[k] - e) / e;
  /* 0.1% critical values: KS 1.949 / sqrt(n); chi-square, 39 degrees of freedom, 72.05 */
  cr_expect(ks * sqrt(n) < 1.949, "KS distance %.6f (sqrt(n) D = %.3f)", ks, ks * sqrt(n));
  cr_expect(chi2 < 72.05, "chi-square %.2f over %d bins", chi2, BINS);
  /* the tails: P(|z| > 3) = 2 Phi(-3), within 5 binomial standard errors */
  int64_t tail = 0;
  for (int64_t i = 0; i < BIG; i++) tail += fabs(y[i]) > 3;
  double p3 = 2 * phi(-3), f3 = tail / n;
  cr_expect(fabs(f3 - p3) <= 5 * sqrt(p3 * (1 - p3) / n), "P(|z| > 3) %.6f, expected %.6f", f3, p3);
  free(y);
}
