/* bench_gemm.c: GFLOP/s of ae_gemm (float build) on the zoo's shapes
 * M x N x K = 128x784x256, 128x256x784, 784x128x256 with the four transpose
 * combinations, plus 2048^3, for each compiled backend side by side, and
 * the built-in backend's share of the CPU's FMA peak: the peak is measured
 * first, per thread, by a loop of independent 64-byte-vector FMA chains
 * (what the micro-kernel issues), and scaled by the thread count.
 * Each figure is the median of several timed batches. Prints a markdown
 * table. A microbenchmark: the zoo's steps are measured by zoo_vs_torch.sh.
 * Usage: bench_gemm [threads [M N K]] (default: OpenMP's default
 * threads; with M N K, that one shape in the four transpose combinations).
 * bench_gemm --peak prints only one thread's FMA peak in GFLOP/s, one
 * number (zoo_vs_torch.sh measures it beside each aezoo run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aezoo.h"
#include "base/gemm.h"
#include "base/gemm_ukernel.h"

enum { REPS = 7 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static ae_real *rand_buf(int64_t n) {
  ae_real *p = ae_aligned_alloc((size_t)n * sizeof(ae_real));
  for (int64_t i = 0; p && i < n; i++) p[i] = (ae_real)(rand() / (double)RAND_MAX - 0.5);
  return p;
}

/* Median GFLOP/s of REPS batches, each long enough (~20 ms) to time well. */
static double bench(ae_gemm_backend be, int ta, int tb, int64_t M, int64_t N, int64_t K) {
  ae_real *A = rand_buf(M * K), *B = rand_buf(K * N), *C = rand_buf(M * N);
  if (!A || !B || !C) return 0;
  int64_t lda = ta ? M : K, ldb = tb ? K : N;
  ae_gemm_set_backend(be);
  ae_gemm(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N); /* warm up buffers and threads */
  double t0 = now();
  ae_gemm(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N);
  double one = now() - t0;
  int batch = one > 0.02 ? 1 : (int)(0.02 / (one + 1e-9)) + 1;
  double gf[REPS];
  for (int r = 0; r < REPS; r++) {
    t0 = now();
    for (int b = 0; b < batch; b++) ae_gemm(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N);
    double t = (now() - t0) / batch;
    gf[r] = 2.0 * M * N * K / t * 1e-9;
  }
  qsort(gf, REPS, sizeof gf[0], cmp_double);
  ae_aligned_free(A);
  ae_aligned_free(B);
  ae_aligned_free(C);
  return gf[REPS / 2];
}

/* FMA peak of one thread, GFLOP/s: CHAINS independent accumulator vectors
 * (enough to cover the FMA latency times the FMA ports), each updated
 * acc = acc * m + a, which the compiler contracts to one FMA; median of
 * REPS runs of ITERS rounds. */
typedef ae_real fma_vec __attribute__((vector_size(64)));
enum { CHAINS = 12, ITERS = 2000000 };

static double fma_peak(void) {
  const int lanes = (int)(sizeof(fma_vec) / sizeof(ae_real));
  double gf[REPS];
  for (int r = 0; r < REPS; r++) {
    fma_vec acc[CHAINS] = {{0}}, m = {0}, a = {0};
    for (int l = 0; l < lanes; l++) m[l] = (ae_real)0.999999, a[l] = (ae_real)1e-6;
    for (int c = 0; c < CHAINS; c++)
      for (int l = 0; l < lanes; l++) acc[c][l] = (ae_real)(c + l);
    double t0 = now();
    for (int i = 0; i < ITERS; i++) {
      for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * m + a;
    }
    double t = now() - t0;
    volatile ae_real sink = 0;
    for (int c = 0; c < CHAINS; c++) sink += acc[c][0];
    gf[r] = 2.0 * lanes * CHAINS * (double)ITERS / t * 1e-9;
  }
  qsort(gf, REPS, sizeof gf[0], cmp_double);
  return gf[REPS / 2];
}

enum { NROWS = 13 };

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--peak") == 0) {
    printf("%.1f\n", fma_peak());
    return 0;
  }
  if (argc > 1) ae_set_threads(atoi(argv[1]));
  static const int64_t shapes[][3] = {{128, 784, 256}, {128, 256, 784}, {784, 128, 256}};
  int64_t dims[NROWS][3];
  int trans[NROWS], nrows = NROWS;
  for (int r = 0; r < NROWS - 1; r++) {
    for (int d = 0; d < 3; d++) dims[r][d] = shapes[r / 4][d];
    trans[r] = r % 4;
  }
  dims[NROWS - 1][0] = dims[NROWS - 1][1] = dims[NROWS - 1][2] = 2048;
  trans[NROWS - 1] = 0;
  if (argc > 4) { /* one shape given: its four transpose combinations */
    nrows = 4;
    for (int r = 0; r < 4; r++) {
      for (int d = 0; d < 3; d++) dims[r][d] = atoll(argv[2 + d]);
      trans[r] = r;
    }
  }

  const double peak = fma_peak() * ae_get_threads();
  /* One backend at a time: a thread pool still spinning after the other
   * backend's call would steal the cores. */
  double gf[2][NROWS] = {{0}};
  for (int be = 0; be < 2; be++)
    for (int r = 0; be < 2 && ae_gemm_has_backend(be) && r < nrows; r++)
      gf[be][r] = bench(be, trans[r] >> 1, trans[r] & 1, dims[r][0], dims[r][1], dims[r][2]);

  int blas = ae_gemm_has_backend(AE_GEMM_OPENBLAS);
  printf("ae_gemm, %s, %d threads, micro-kernel %s, median of %d; FMA peak %.1f GFLOP/s (%d threads x %.1f, "
         "measured)\n\n",
         AE_REAL_NAME, ae_get_threads(), ae_gemm_ukernel_name(), REPS, peak, ae_get_threads(),
         peak / ae_get_threads());
  printf("| M x N x K | op | builtin GFLOP/s | of FMA peak |%s\n",
         blas ? " openblas GFLOP/s | builtin/openblas |" : "");
  printf("|---|---|---:|---:|%s\n", blas ? "---:|---:|" : "");
  for (int r = 0; r < nrows; r++) {
    printf("| %lldx%lldx%lld | %c%c | %7.1f | %3.0f%% |", (long long)dims[r][0], (long long)dims[r][1],
           (long long)dims[r][2], trans[r] >> 1 ? 'T' : 'N', trans[r] & 1 ? 'T' : 'N', gf[0][r],
           100 * gf[0][r] / peak);
    if (blas) printf(" %7.1f | %5.2f |", gf[1][r], gf[1][r] > 0 ? gf[0][r] / gf[1][r] : 0);
    printf("\n");
  }
  return 0;
}
