/* bench_serial.h: what the OpenMP wake-up microbenchmarks (bench_wake.c,
 * bench_gemm_gap.c) share: busy serial work of a given length, the stretch
 * a training step spends between parallel regions, and the comparison
 * their medians sort with. Header-only: bench_wake links no aezoo. */
#ifndef AE_BENCH_SERIAL_H
#define AE_BENCH_SERIAL_H

#include <omp.h>

static volatile double bench_sink;

/* Busy serial work for about us microseconds. */
static inline void serial_work(double us) {
  double t0 = omp_get_wtime(), s = 0;
  while ((omp_get_wtime() - t0) * 1e6 < us) s += 1;
  bench_sink = s;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#endif
