/* bench_wake.c: what one OpenMP parallel region costs the thread that opens
 * it, after a stretch of serial work: the fixed price a parallel op pays
 * before its second thread does anything. With OMP_WAIT_POLICY=passive
 * (aezoo's default) the other threads sleep between regions, so this is
 * mostly the time to wake them; a training step opens a region per
 * parallel op, each after some serial work, which is what the gaps mimic.
 * A microbenchmark of the machine and its OpenMP runtime, not of aezoo's
 * code: it says whether a second thread can pay for ops of a few hundred
 * microseconds (zoo_vs_torch.sh measures the zoo's steps).
 *
 * For each gap G (0 to 400 us of busy serial work), R rounds of: G us of
 * serial work, then an empty `omp parallel` region, timed by the opening
 * thread. Prints the median, mean and largest region time per gap.
 * Usage: bench_wake [threads [rounds]]   (default 2 threads, 300 rounds);
 * set OMP_WAIT_POLICY / GOMP_SPINCOUNT to compare waiting policies. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_serial.h"

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, rounds = argc > 2 ? atoi(argv[2]) : 300;
  if (threads < 2 || rounds < 1) {
    fprintf(stderr, "usage: bench_wake [threads >= 2 [rounds >= 1]]\n");
    return 2;
  }
  double *t = malloc(sizeof *t * (size_t)rounds);
  if (!t) return 1;
  const char *policy = getenv("OMP_WAIT_POLICY"), *spin = getenv("GOMP_SPINCOUNT");
  printf("empty parallel region of %d threads after G us of serial work, %d rounds; OMP_WAIT_POLICY=%s "
         "GOMP_SPINCOUNT=%s\n\n",
         threads, rounds, policy ? policy : "(unset)", spin ? spin : "(unset)");
  printf("| gap G (us) | median (us) | mean (us) | largest (us) |\n|---:|---:|---:|---:|\n");
  const double gaps[] = {0, 25, 50, 100, 200, 400};
  for (size_t k = 0; k < sizeof gaps / sizeof gaps[0]; k++) {
    double sum = 0;
    for (int r = 0; r < rounds; r++) {
      serial_work(gaps[k]);
      double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads)
      {
        volatile int me = omp_get_thread_num();
        (void)me;
      }
      t[r] = (omp_get_wtime() - t0) * 1e6;
      sum += t[r];
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    printf("| %.0f | %.1f | %.1f | %.1f |\n", gaps[k], t[rounds / 2], sum / rounds, t[rounds - 1]);
  }
  free(t);
  return 0;
}
