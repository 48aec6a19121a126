/* pca.h: principal components of a set of rows, for drawing codes wider
 * than 2 units in a plane (`aezoo encode --plot`): the rows are centred,
 * their d x d covariance is diagonalised (cyclic Jacobi rotations), and
 * each row is projected onto the k leading eigenvectors. Each
 * eigenvector's sign is fixed (its largest component positive) so the
 * picture does not flip between runs. */
#ifndef AE_IO_PCA_H
#define AE_IO_PCA_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

/* rows: n x d (row-major), n >= 1, 1 <= k <= d <= 4096. out: n x k, the
 * centred rows' coordinates along the k leading components; var (may be
 * NULL): the variance along each (descending); *total (may be NULL): the
 * total variance (the covariance's trace), so var[i] / *total is the share
 * explained. 0, or -1 with ae_last_error (bad sizes, out of memory). */
AE_API int ae_pca_project(const double *rows, int64_t n, int d, int k, double *out, double *var, double *total);

#endif
