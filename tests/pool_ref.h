/* pool_ref.h: plain nested-loop references of the pool family (ops/pool.h),
 * written from the definitions (window by window, or scatter form where
 * the kernels gather), sharing nothing with ops/pool.c and ops/upsample.c;
 * used by tests/test_pool.c and the op-table rows in tests/rows/pool.c.
 * Sums run in double. Arrays are NCHW, planes = N*C. */
#ifndef AE_TEST_POOL_REF_H
#define AE_TEST_POOL_REF_H

#include <stdint.h>
#include <stdlib.h>

#include "base/real.h"

typedef struct pool_ref_geom {
  int64_t planes, h, w; /* input */
  int64_t oh, ow;       /* output */
  int k, s, p;
} pool_ref_geom;

static inline pool_ref_geom pool_ref_geom_make(int64_t planes, int64_t h, int64_t w, int k, int s, int p) {
  pool_ref_geom g = {planes, h, w, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1, k, s, p};
  return g;
}

/* y = max over each window (padding ignored), idx = flat position of the
 * first maximum in scan order (idx may be NULL). */
static inline void max_pool2d_ref(const pool_ref_geom *g, const ae_real *x, ae_real *y, ae_real *idx) {
  for (int64_t q = 0; q < g->planes; q++)
    for (int64_t r = 0; r < g->oh; r++)
      for (int64_t c = 0; c < g->ow; c++) {
        int have = 0;
        ae_real best = 0;
        int64_t at = -1;
        for (int i = 0; i < g->k; i++)
          for (int j = 0; j < g->k; j++) {
            int64_t ih = r * g->s - g->p + i, iw = c * g->s - g->p + j;
            if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
            ae_real v = x[(q * g->h + ih) * g->w + iw];
            if (!have || v > best) have = 1, best = v, at = ih * g->w + iw;
          }
        int64_t o = (q * g->oh + r) * g->ow + c;
        y[o] = best;
        if (idx) idx[o] = (ae_real)at;
      }
}

/* y = sum over each window (padding as zeros) / k^2. */
static inline void avg_pool2d_ref(const pool_ref_geom *g, const ae_real *x, ae_real *y) {
  for (int64_t q = 0; q < g->planes; q++)
    for (int64_t r = 0; r < g->oh; r++)
      for (int64_t c = 0; c < g->ow; c++) {
        double acc = 0;
        for (int i = 0; i < g->k; i++)
          for (int j = 0; j < g->k; j++) {
            int64_t ih = r * g->s - g->p + i, iw = c * g->s - g->p + j;
            if (ih >= 0 && ih < g->h && iw >= 0 && iw < g->w) acc += x[(q * g->h + ih) * g->w + iw];
          }
        y[(q * g->oh + r) * g->ow + c] = (ae_real)(acc / ((double)g->k * g->k));
      }
}

/* avg_pool2d's adjoint in scatter form: each gy / k^2 added over its window. */
static inline void avg_pool2d_backward_ref(const pool_ref_geom *g, const ae_real *gy, ae_real *gx) {
  int64_t n = g->planes * g->h * g->w;
  double *acc = calloc((size_t)n, sizeof *acc);
  if (!acc) abort();
  for (int64_t q = 0; q < g->planes; q++)
    for (int64_t r = 0; r < g->oh; r++)
      for (int64_t c = 0; c < g->ow; c++)
        for (int i = 0; i < g->k; i++)
          for (int j = 0; j < g->k; j++) {
            int64_t ih = r * g->s - g->p + i, iw = c * g->s - g->p + j;
            if (ih >= 0 && ih < g->h && iw >= 0 && iw < g->w)
              acc[(q * g->h + ih) * g->w + iw] += gy[(q * g->oh + r) * g->ow + c] / ((double)g->k * g->k);
          }
  for (int64_t i = 0; i < n; i++) gx[i] = (ae_real)acc[i];
  free(acc);
}

/* y (planes, nout) = 0; y[q, idx[q, i]] = x[q, i] in scan order (last write
 * wins), or += when accumulate. */
static inline void scatter_ref(int64_t planes, int64_t nin, int64_t nout, const ae_real *x, const ae_real *idx,
                               int accumulate, ae_real *y) {
  double *acc = calloc((size_t)(planes * nout), sizeof *acc);
  if (!acc) abort();
  for (int64_t q = 0; q < planes; q++)
    for (int64_t i = 0; i < nin; i++) {
      int64_t at = q * nout + (int64_t)idx[q * nin + i];
      acc[at] = accumulate ? acc[at] + x[q * nin + i] : x[q * nin + i];
    }
  for (int64_t i = 0; i < planes * nout; i++) y[i] = (ae_real)acc[i];
  free(acc);
}

/* y[q, i] = x[q, idx[q, i]]. */
static inline void gather_ref(int64_t planes, int64_t nx, int64_t ni, const ae_real *x, const ae_real *idx,
                              ae_real *y) {
  for (int64_t q = 0; q < planes; q++)
    for (int64_t i = 0; i < ni; i++) y[q * ni + i] = x[q * nx + (int64_t)idx[q * ni + i]];
}

/* y (planes, h f, w f): y[q, i, j] = x[q, i / f, j / f]. */
static inline void upsample_ref(int64_t planes, int64_t h, int64_t w, int f, const ae_real *x, ae_real *y) {
  for (int64_t q = 0; q < planes; q++)
    for (int64_t i = 0; i < h * f; i++)
      for (int64_t j = 0; j < w * f; j++) y[(q * h * f + i) * w * f + j] = x[(q * h + i / f) * w + j / f];
}

/* Its adjoint in scatter form: gx[q, i / f, j / f] += gy[q, i, j]; h, w are gx's. */
static inline void upsample_backward_ref(int64_t planes, int64_t h, int64_t w, int f, const ae_real *gy,
                                         ae_real *gx) {
  double *acc = calloc((size_t)(planes * h * w), sizeof *acc);
  if (!acc) abort();
  for (int64_t q = 0; q < planes; q++)
    for (int64_t i = 0; i < h * f; i++)
      for (int64_t j = 0; j < w * f; j++) acc[(q * h + i / f) * w + j / f] += gy[(q * h * f + i) * w * f + j];
  for (int64_t i = 0; i < planes * h * w; i++) gx[i] = (ae_real)acc[i];
  free(acc);
}

/* y[q] = mean of plane q. */
static inline void global_avg_ref(int64_t planes, int64_t hw, const ae_real *x, ae_real *y) {
  for (int64_t q = 0; q < planes; q++) {
    double acc = 0;
    for (int64_t i = 0; i < hw; i++) acc += x[q * hw + i];
    y[q] = (ae_real)(acc / (double)hw);
  }
}

#endif
