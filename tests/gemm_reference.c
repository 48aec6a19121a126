/* gemm_reference.c: the naive GEMM that tests/test_gemm.c checks ae_gemm
 * against, summed in double. Its own file so that it compiles with the
 * build's optimisation, not the -O0 of the test code (tests/meson.build):
 * at -O0 under AddressSanitizer it was a third of the GEMM tests' time.
 * Built once per precision (ae_real from the dependency it is given). */
#include "tests/gemm_reference.h"

#include <math.h>

void gemm_reference(int ta, int tb, int64_t M, int64_t N, int64_t K, const ae_real *A, int64_t lda,
                    const ae_real *B, int64_t ldb, double *S, double *SA) {
  /* Each S(i, j) sums its K products in increasing p, as a dot product
   * would; j runs innermost so that the loop walks rows of S. */
  for (int64_t i = 0; i < M; i++) {
    double *s = S + i * N, *sa = SA + i * N;
    for (int64_t j = 0; j < N; j++) s[j] = sa[j] = 0;
    for (int64_t p = 0; p < K; p++) {
      const double a = ta ? A[p * lda + i] : A[i * lda + p];
      for (int64_t j = 0; j < N; j++) {
        const double t = a * (double)(tb ? B[j * ldb + p] : B[p * ldb + j]);
        s[j] += t;
        sa[j] += fabs(t);
      }
    }
  }
}
