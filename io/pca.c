/* pca.c: principal components by cyclic Jacobi rotations of the
 * covariance (pca.h). */
#include "pca.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/tensor.h" /* ae_set_last_error */

/* Diagonalises the symmetric d x d matrix a in place; v gets the
 * eigenvectors as columns. */
static void jacobi(double *a, double *v, int d) {
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++) v[i * d + j] = i == j;
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, diag = 0;
    for (int i = 0; i < d; i++) {
      diag += a[i * d + i] * a[i * d + i];
      for (int j = i + 1; j < d; j++) off += a[i * d + j] * a[i * d + j];
    }
    if (off <= 1e-30 * diag || off == 0) return;
    for (int p = 0; p < d; p++)
      for (int q = p + 1; q < d; q++) {
        double apq = a[p * d + q];
        if (apq == 0) continue;
        double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < d; k++) { /* columns p, q */
          double akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq, a[k * d + q] = s * akp + c * akq;
        }
        for (int k = 0; k < d; k++) { /* rows p, q */
          double apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk, a[q * d + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < d; k++) {
          double vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq, v[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
}

int ae_pca_project(const double *rows, int64_t n, int d, int k, double *out, double *var, double *total) {
  if (n < 1 || d < 1 || d > 4096 || k < 1 || k > d) {
    ae_set_last_error("pca: %lld rows of %d columns onto %d components: need n >= 1 and 1 <= k <= d <= 4096",
                      (long long)n, d, k);
    return -1;
  }
  double *mean = calloc((size_t)d, sizeof *mean), *cov = calloc((size_t)d * (size_t)d, sizeof *cov),
         *vec = malloc(sizeof(double) * (size_t)d * (size_t)d);
  int *order = malloc(sizeof(int) * (size_t)d);
  if (!mean || !cov || !vec || !order) {
    free(mean), free(cov), free(vec), free(order);
    ae_set_last_error("pca: out of memory");
    return -1;
  }
  for (int64_t r = 0; r < n; r++)
    for (int j = 0; j < d; j++) mean[j] += rows[r * d + j];
  for (int j = 0; j < d; j++) mean[j] /= (double)n;
  for (int64_t r = 0; r < n; r++)
    for (int i = 0; i < d; i++) {
      double ci = rows[r * d + i] - mean[i];
      for (int j = i; j < d; j++) cov[i * d + j] += ci * (rows[r * d + j] - mean[j]);
    }
  for (int i = 0; i < d; i++)
    for (int j = i; j < d; j++) cov[j * d + i] = cov[i * d + j] /= (double)n;
  double tr = 0;
  for (int i = 0; i < d; i++) tr += cov[i * d + i];
  jacobi(cov, vec, d);
  /* components by descending eigenvalue (selection: k is small) */
  for (int i = 0; i < d; i++) order[i] = i;
  for (int i = 0; i < k; i++)
    for (int j = i + 1; j < d; j++)
      if (cov[order[j] * d + order[j]] > cov[order[i] * d + order[i]]) {
        int t = order[i];
        order[i] = order[j], order[j] = t;
      }
  for (int c = 0; c < k; c++) {
    int e = order[c], big = 0;
    for (int j = 1; j < d; j++)
      if (fabs(vec[j * d + e]) > fabs(vec[big * d + e])) big = j;
    double sign = vec[big * d + e] < 0 ? -1 : 1;
    if (var) var[c] = cov[e * d + e];
    for (int64_t r = 0; r < n; r++) {
      double s = 0;
      for (int j = 0; j < d; j++) s += (rows[r * d + j] - mean[j]) * vec[j * d + e];
      out[r * k + c] = sign * s;
    }
  }
  if (total) *total = tr;
  free(mean), free(cov), free(vec), free(order);
  return 0;
}
