/* gemm_reference.h: the naive GEMM of the GEMM tests (gemm_reference.c). */
#ifndef AE_TESTS_GEMM_REFERENCE_H
#define AE_TESTS_GEMM_REFERENCE_H
#include <stdint.h>

#include "base/real.h"

/* S(i, j) = sum_p op(A)(i, p) op(B)(p, j) and SA(i, j) = sum_p |op(A)(i, p)
 * op(B)(p, j)|, in double, p increasing; S and SA are M x N row-major. */
void gemm_reference(int ta, int tb, int64_t M, int64_t N, int64_t K, const ae_real *A, int64_t lda,
                    const ae_real *B, int64_t ldb, double *S, double *SA);

#endif
