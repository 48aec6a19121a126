/* bench_rng.c: the array draws of base/rng.h (float build), ns per
 * element at n = 100352 (a 128 x 784 batch, dae's noise) on the threads
 * OMP_NUM_THREADS allows; each entry is the fastest of many timed calls.
 * A microbenchmark: the training step's share is what `perf` shows.
 * Usage: bench_rng [seconds per measurement, default 0.2] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aezoo.h"

#define N (128 * 784)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

typedef void (*draw_fn)(ae_rng *r, ae_real *y);
static void d_normal(ae_rng *r, ae_real *y) { ae_rng_normal(r, y, N, 0, 1); }
static void d_uniform(ae_rng *r, ae_real *y) { ae_rng_uniform(r, y, N, 0, 1); }
static void d_bernoulli(ae_rng *r, ae_real *y) { ae_rng_bernoulli(r, y, N, 0.7); }

static double best_ns(draw_fn f, ae_real *y, double secs) {
  ae_rng r;
  ae_rng_init(&r, 1);
  double best = 1e30, end = now() + secs;
  do {
    double t0 = now();
    f(&r, y);
    double dt = now() - t0;
    if (dt < best) best = dt;
  } while (now() < end);
  return best * 1e9 / N;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.2;
  ae_real *y = malloc(sizeof(ae_real) * N);
  printf("| draw (n = %d) | ns/elem |\n|---|---|\n", N);
  printf("| normal | %.3f |\n", best_ns(d_normal, y, secs));
  printf("| uniform | %.3f |\n", best_ns(d_uniform, y, secs));
  printf("| bernoulli | %.3f |\n", best_ns(d_bernoulli, y, secs));
  free(y);
  return 0;
}
