/* linalg.c: SVD, symmetric eigen-decomposition and covariance through
 * LAPACKE and CBLAS-free loops (linalg.h). */
#include "linalg.h"

#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parallel.h"
#include "base/tensor.h"

static int fail(const char *fmt, const char *what, long long info) {
  ae_set_last_error(fmt, what, info);
  return -1;
}

int ae_linalg_svd(int64_t m, int64_t n, const double *a, double *s, double *vt) {
  int64_t r = m < n ? m : n;
  if (m < 1 || n < 1) return fail("%s: empty matrix (%lld rows)", "ae_linalg_svd", (long long)m);
  double *work = malloc(sizeof(double) * (size_t)(m * n));
  double *u = vt ? malloc(sizeof(double) * (size_t)(m * r)) : NULL;
  if (!work || (vt && !u)) {
    free(work);
    free(u);
    return fail("%s: out of memory for a %lld-column matrix", "ae_linalg_svd", (long long)n);
  }
  memcpy(work, a, sizeof(double) * (size_t)(m * n));
  lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, vt ? 'S' : 'N', (lapack_int)m, (lapack_int)n, work,
                                   (lapack_int)n, s, u, (lapack_int)r, vt, (lapack_int)n);
  free(work);
  free(u);
  if (info) return fail("%s: LAPACK dgesdd failed (info %lld)", "ae_linalg_svd", (long long)info);
  return 0;
}

int ae_linalg_eigh(int64_t n, const double *a, double *w, double *v) {
  if (n < 1) return fail("%s: empty matrix (%lld rows)", "ae_linalg_eigh", (long long)n);
  double *work = malloc(sizeof(double) * (size_t)(n * n));
  double *wa = malloc(sizeof(double) * (size_t)n);
  if (!work || !wa) {
    free(work);
    free(wa);
    return fail("%s: out of memory for a %lld x %lld matrix", "ae_linalg_eigh", (long long)n);
  }
  memcpy(work, a, sizeof(double) * (size_t)(n * n));
  lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, v ? 'V' : 'N', 'U', (lapack_int)n, work, (lapack_int)n, wa);
  if (!info) {
    /* ascending, eigenvectors in columns -> descending, in rows */
    for (int64_t i = 0; i < n; i++) {
      w[i] = wa[n - 1 - i];
      if (v)
        for (int64_t j = 0; j < n; j++) v[i * n + j] = work[j * n + (n - 1 - i)];
    }
  }
  free(work);
  free(wa);
  if (info) return fail("%s: LAPACK dsyevd failed (info %lld)", "ae_linalg_eigh", (long long)info);
  return 0;
}

int ae_linalg_covariance(int64_t n, int64_t d, const double *x, double *mean, double *cov) {
  if (n < 2 || d < 1)
    return fail("%s: a covariance needs at least 2 rows, got %lld", "ae_linalg_covariance",
                (long long)n);
  for (int64_t j = 0; j < d; j++) mean[j] = 0;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (int64_t j = 0; j < d; j++) mean[j] /= (double)n;
  if (!cov) return 0;
  double *c = malloc(sizeof(double) * (size_t)(n * d)); /* the centred rows */
  if (!c) return fail("%s: out of memory (%lld rows)", "ae_linalg_covariance", (long long)n);
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < d; j++) c[i * d + j] = x[i * d + j] - mean[j];
  /* row j of the upper triangle: sum over i in order, so the result does
   * not depend on the thread count */
  AE_PAR_FOR(AE_PAR_WORK(n * d * d / 2), schedule(dynamic, 8), for (int64_t j = 0; j < d; j++) {
    double *row = cov + j * d;
    for (int64_t l = j; l < d; l++) row[l] = 0;
    for (int64_t i = 0; i < n; i++) {
      const double *ci = c + i * d;
      double cj = ci[j];
      for (int64_t l = j; l < d; l++) row[l] += cj * ci[l];
    }
  });
  for (int64_t j = 0; j < d; j++)
    for (int64_t l = j; l < d; l++) {
      cov[j * d + l] /= (double)(n - 1);
      cov[l * d + j] = cov[j * d + l];
    }
  free(c);
  return 0;
}
