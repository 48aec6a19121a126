/* mixture.c: Gaussian mixtures fitted by EM and sampled (mixture.h). */
#include "mixture.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linalg.h"

void ae_mixture_free(ae_mixture *mx) {
  for (int c = 0; mx->comp && c < mx->ncomp; c++) ae_gaussian_free(&mx->comp[c]);
  free(mx->comp);
  free(mx->weight);
  memset(mx, 0, sizeof *mx);
}

/* log N(x_i | mean, cov) for every row into lp, by the Cholesky factor of
 * cov (row-major lower L, L L^T = cov). -1 when cov is not positive definite. */
static int log_density(const double *x, int64_t n, int64_t k, const double *mean, const double *cov, double *chol,
                       double *z, double *lp) {
  memcpy(chol, cov, sizeof(double) * (size_t)(k * k));
  if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)k, chol, (lapack_int)k)) return -1;
  double logdet = 0;
  for (int64_t j = 0; j < k; j++) logdet += 2 * log(chol[j * k + j]);
  double base = -0.5 * ((double)k * log(2 * M_PI) + logdet);
  for (int64_t i = 0; i < n; i++) {
    double q = 0;
    for (int64_t j = 0; j < k; j++) { /* forward substitution: L z = x - mean */
      double v = x[i * k + j] - mean[j];
      const double *row = chol + j * k;
      for (int64_t l = 0; l < j; l++) v -= row[l] * z[l];
      z[j] = v / row[j];
      q += z[j] * z[j];
    }
    lp[i] = base - 0.5 * q;
  }
  return 0;
}

int ae_mixture_fit(const ae_tensor *codes, int ncomp, int iters, uint64_t seed, ae_mixture *mx, double *loglik) {
  memset(mx, 0, sizeof *mx);
  int64_t n = codes->shape.d[0], k = n ? codes->numel / n : 0;
  if (ncomp < 1 || n < 2 || n < ncomp || iters < 0) {
    ae_set_last_error("a mixture of %d Gaussians needs at least that many codes (and 2), got %lld", ncomp,
                      (long long)n);
    return -1;
  }
  if (k > AE_MIXTURE_MAX_UNITS) {
    ae_set_last_error("a Gaussian mixture over codes of %lld units is refused (at most %d: each EM iteration "
                      "costs codes x components x units^2); use a single Gaussian", (long long)k, AE_MIXTURE_MAX_UNITS);
    return -1;
  }
  int nc = ncomp, rc = -1;
  double *x = malloc(sizeof(double) * (size_t)(n * k)), *mean = malloc(sizeof(double) * (size_t)(nc * k));
  double *cov = malloc(sizeof(double) * (size_t)(nc * k * k)), *w = malloc(sizeof(double) * (size_t)nc);
  double *resp = malloc(sizeof(double) * (size_t)(n * nc)), *chol = malloc(sizeof(double) * (size_t)(k * k));
  double *z = malloc(sizeof(double) * (size_t)k), *d2 = malloc(sizeof(double) * (size_t)n);
  double *gmean = malloc(sizeof(double) * (size_t)k), *gcov = malloc(sizeof(double) * (size_t)(k * k));
  if (!x || !mean || !cov || !w || !resp || !chol || !z || !d2 || !gmean || !gcov) {
    ae_set_last_error("a Gaussian mixture: out of memory");
    goto done;
  }
  for (int64_t i = 0; i < n * k; i++) x[i] = (double)codes->data[i];
  if (ae_linalg_covariance(n, k, x, gmean, gcov)) goto done;
  double ridge = 0;
  for (int64_t j = 0; j < k; j++) ridge += gcov[j * k + j];
  ridge = 1e-6 * (ridge > 0 ? ridge / (double)k : 1);
  for (int64_t j = 0; j < k; j++) gcov[j * k + j] += ridge;
  /* k-means++ seeding */
  ae_rng rng;
  ae_rng_init(&rng, seed);
  for (int c = 0; c < nc; c++) {
    int64_t pick = 0;
    if (c == 0) {
      pick = (int64_t)(ae_rng_double(&rng) * (double)n);
    } else {
      double total = 0;
      for (int64_t i = 0; i < n; i++) {
        double best = INFINITY;
        for (int b = 0; b < c; b++) {
          double s = 0;
          for (int64_t j = 0; j < k; j++) s += (x[i * k + j] - mean[b * k + j]) * (x[i * k + j] - mean[b * k + j]);
          best = fmin(best, s);
        }
        d2[i] = best;
        total += best;
      }
      double u = ae_rng_double(&rng) * total, acc = 0;
      for (pick = 0; pick < n - 1; pick++) {
        acc += d2[pick];
        if (acc > u) break;
      }
    }
    if (pick >= n) pick = n - 1;
    memcpy(mean + c * k, x + pick * k, sizeof(double) * (size_t)k);
    memcpy(cov + c * k * k, gcov, sizeof(double) * (size_t)(k * k));
    w[c] = 1.0 / nc;
  }
  for (int it = 0; it <= iters; it++) {
    /* E-step: log w_c + log N(x_i | c), normalised per row */
    for (int c = 0; c < nc; c++) {
      if (log_density(x, n, k, mean + c * k, cov + c * k * k, chol, z, d2)) {
        ae_set_last_error("a Gaussian mixture: component %d's covariance is not positive definite", c);
        goto done;
      }
      for (int64_t i = 0; i < n; i++) resp[i * nc + c] = log(w[c]) + d2[i];
    }
    double ll = 0;
    for (int64_t i = 0; i < n; i++) {
      double mx_ = -INFINITY, s = 0;
      for (int c = 0; c < nc; c++) mx_ = fmax(mx_, resp[i * nc + c]);
      for (int c = 0; c < nc; c++) s += exp(resp[i * nc + c] - mx_);
      double lse = mx_ + log(s);
      ll += lse;
      for (int c = 0; c < nc; c++) resp[i * nc + c] = exp(resp[i * nc + c] - lse);
    }
    if (loglik) loglik[it] = ll / (double)n;
    if (it == iters) break;
    /* M-step */
    for (int c = 0; c < nc; c++) {
      double nk = 0;
      for (int64_t i = 0; i < n; i++) nk += resp[i * nc + c];
      if (nk < 1e-8 * (double)n) continue; /* an empty component keeps its parameters */
      w[c] = nk / (double)n;
      double *mu = mean + c * k, *s = cov + c * k * k;
      for (int64_t j = 0; j < k; j++) mu[j] = 0;
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < k; j++) mu[j] += resp[i * nc + c] * x[i * k + j];
      for (int64_t j = 0; j < k; j++) mu[j] /= nk;
      memset(s, 0, sizeof(double) * (size_t)(k * k));
      for (int64_t i = 0; i < n; i++) {
        double r = resp[i * nc + c];
        for (int64_t j = 0; j < k; j++) z[j] = x[i * k + j] - mu[j];
        for (int64_t j = 0; j < k; j++)
          for (int64_t l = j; l < k; l++) s[j * k + l] += r * z[j] * z[l];
      }
      for (int64_t j = 0; j < k; j++)
        for (int64_t l = j; l < k; l++) {
          s[j * k + l] /= nk;
          s[l * k + j] = s[j * k + l];
        }
      for (int64_t j = 0; j < k; j++) s[j * k + j] += ridge;
    }
    double ws = 0; /* weights of empty components were kept: renormalise */
    for (int c = 0; c < nc; c++) ws += w[c];
    for (int c = 0; c < nc; c++) w[c] /= ws;
  }
  mx->k = k, mx->ncomp = nc;
  mx->weight = w;
  w = NULL;
  if (!(mx->comp = calloc((size_t)nc, sizeof *mx->comp))) {
    ae_set_last_error("a Gaussian mixture: out of memory");
    goto done;
  }
  for (int c = 0; c < nc; c++)
    if (ae_gaussian_from(k, mean + c * k, cov + c * k * k, &mx->comp[c])) goto done;
  rc = 0;
done:
  if (rc) ae_mixture_free(mx);
  free(x), free(mean), free(cov), free(w), free(resp), free(chol), free(z), free(d2), free(gmean), free(gcov);
  return rc;
}

int ae_mixture_sample(const ae_mixture *mx, int64_t n, ae_rng *rng, ae_real *out) {
  for (int64_t i = 0; i < n; i++) {
    double u = ae_rng_double(rng), acc = 0;
    int c = 0;
    for (; c < mx->ncomp - 1; c++) {
      acc += mx->weight[c];
      if (u < acc) break;
    }
    if (ae_gaussian_sample(&mx->comp[c], 1, rng, out + i * mx->k)) return -1;
  }
  return 0;
}
