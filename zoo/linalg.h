/* linalg.h: the dense linear algebra the experiments on trained models need
 * (tangents, retrieval's PCA baseline, the Gaussian fitted to codes), as
 * thin wrappers around LAPACKE (Debian's liblapacke-dev), always in double
 * whatever ae_real is. Matrices are row-major. Each function returns 0, or
 * -1 with a message naming the routine and the problem in ae_last_error():
 * out of memory, a LAPACK argument error, no convergence. */
#ifndef AE_LINALG_H
#define AE_LINALG_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

/* Thin SVD of the m x n matrix a (not changed): a = U diag(s) V^T with
 * r = min(m, n) singular values s[0] >= s[1] >= ... >= 0 and, in the rows
 * of vt (r x n), the right singular vectors (unit norm, orthogonal).
 * vt may be NULL (singular values only). LAPACK's dgesdd. */
AE_API int ae_linalg_svd(int64_t m, int64_t n, const double *a, double *s, double *vt);

/* Eigen-decomposition of the symmetric n x n matrix a (not changed; only
 * its upper triangle is read): eigenvalues w[0] >= w[1] >= ... (descending)
 * and, in row i of v (n x n), the unit eigenvector of w[i]. v may be NULL
 * (eigenvalues only). LAPACK's dsyevd. */
AE_API int ae_linalg_eigh(int64_t n, const double *a, double *w, double *v);

/* The covariance of the rows of x (n x d, n >= 2): mean (d) and, when cov
 * is not NULL, cov (d x d) = sum_i (x_i - mean)(x_i - mean)^T / (n - 1)
 * (cov may be NULL: the mean only). */
AE_API int ae_linalg_covariance(int64_t n, int64_t d, const double *x, double *mean, double *cov);

#endif
