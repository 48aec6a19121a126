/* bench_gemm_gap.c: one ae_gemm after G microseconds of serial work, at 1
 * and at 2 threads: whether a second thread pays for a GEMM of a training
 * step's size when the step does serial work between its GEMMs. With
 * OMP_WAIT_POLICY=passive (aezoo's default) the second thread sleeps in
 * between, and on a virtual machine its halted vCPU takes a while to run
 * again; bench_wake times an empty region, this times the work too (the
 * woken thread's half starts late and runs on cold caches).
 * A microbenchmark of the machine with aezoo's GEMM, not of a model:
 * zoo_vs_torch.sh measures the zoo's steps.
 *
 * For each gap G, R rounds at each thread count, in blocks of 20 rounds at
 * one count, 1 and 2 threads alternating block by block; each round is G
 * us of busy serial work, then the timed GEMM. Prints the median per gap
 * and thread count, and 1-thread / 2-thread.
 * Usage: bench_gemm_gap [rounds [M N K]]   (default 300 rounds, 128 300 784,
 * sparse-l1's encoder, C = A B^T). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "aezoo.h"
#include "base/gemm.h"
#include "bench_serial.h"

enum { BLOCK = 20 };

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 300;
  int64_t M = 128, N = 300, K = 784;
  if (argc > 4) M = atoll(argv[2]), N = atoll(argv[3]), K = atoll(argv[4]);
  if (rounds < 1 || M < 1 || N < 1 || K < 1) {
    fprintf(stderr, "usage: bench_gemm_gap [rounds >= 1 [M N K]]\n");
    return 2;
  }
  ae_real *A = ae_aligned_alloc(sizeof(ae_real) * (size_t)(M * K));
  ae_real *B = ae_aligned_alloc(sizeof(ae_real) * (size_t)(N * K));
  ae_real *C = ae_aligned_alloc(sizeof(ae_real) * (size_t)(M * N));
  double *t[2] = {malloc(sizeof(double) * (size_t)rounds), malloc(sizeof(double) * (size_t)rounds)};
  if (!A || !B || !C || !t[0] || !t[1]) return 1;
  for (int64_t i = 0; i < M * K; i++) A[i] = (ae_real)(rand() / (double)RAND_MAX - 0.5);
  for (int64_t i = 0; i < N * K; i++) B[i] = (ae_real)(rand() / (double)RAND_MAX - 0.5);
  const char *policy = getenv("OMP_WAIT_POLICY");
  printf("ae_gemm %lldx%lldx%lld (C = A B^T) after G us of serial work, median of %d rounds, 1 and 2 threads "
         "alternating in blocks of %d; OMP_WAIT_POLICY=%s\n\n",
         (long long)M, (long long)N, (long long)K, rounds, BLOCK, policy ? policy : "(unset)");
  printf("| gap G (us) | 1 thread (us) | 2 threads (us) | 1 / 2 threads |\n|---:|---:|---:|---:|\n");
  for (int w = 0; w < 5; w++) { /* warm-up: buffers, the team */
    ae_set_threads(1 + w % 2);
    ae_gemm(0, 1, M, N, K, 1, A, K, B, K, 0, C, N);
  }
  const double gaps[] = {0, 50, 100, 200, 400};
  for (size_t k = 0; k < sizeof gaps / sizeof gaps[0]; k++) {
    /* blocks of BLOCK rounds at one thread count, the two alternating: a
     * run at a fixed thread count is what a step sees */
    for (int r0 = 0; r0 < rounds; r0 += BLOCK)
      for (int s = 0; s < 2; s++) {
        int which = (r0 / BLOCK + s) % 2; /* 0: 1 thread, 1: 2 threads */
        ae_set_threads(1 + which);
        for (int r = r0; r < rounds && r < r0 + BLOCK; r++) {
          serial_work(gaps[k]);
          double t0 = omp_get_wtime();
          ae_gemm(0, 1, M, N, K, 1, A, K, B, K, 0, C, N);
          t[which][r] = (omp_get_wtime() - t0) * 1e6;
        }
      }
    qsort(t[0], (size_t)rounds, sizeof(double), cmp_double);
    qsort(t[1], (size_t)rounds, sizeof(double), cmp_double);
    double m1 = t[0][rounds / 2], m2 = t[1][rounds / 2];
    printf("| %.0f | %.1f | %.1f | %.2f |\n", gaps[k], m1, m2, m1 / m2);
  }
  ae_aligned_free(A), ae_aligned_free(B), ae_aligned_free(C);
  free(t[0]), free(t[1]);
  return 0;
}
