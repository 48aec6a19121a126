/* conv_ref.h: direct nested-loop references of the conv family (ops/conv.h),
 * straight from the definitions, sharing nothing with the im2col kernels;
 * used by tests/test_conv.c and the op-table rows in tests/rows/conv.c.
 * Sums run in double; `mag` (may be NULL) receives sum |term| per output
 * element, which bounds the rounding error of any summation order. */
#ifndef AE_TEST_CONV_REF_H
#define AE_TEST_CONV_REF_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/real.h"

typedef struct conv_ref_geom {
  int64_t n, c, h, w;  /* conv2d input (conv_transpose2d output) */
  int64_t o, oh, ow;   /* conv2d output (conv_transpose2d input) */
  int64_t kh, kw, sh, sw, ph, pw;
} conv_ref_geom;

/* y (n,o,oh,ow) = sum_{c,i,j} x[n,c,oh*sh-ph+i,ow*sw-pw+j] w[o,c,i,j] + b[o]: seven loops. */
static inline void conv2d_ref(const conv_ref_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                              ae_real *y, double *mag) {
  for (int64_t n = 0; n < g->n; n++)
    for (int64_t o = 0; o < g->o; o++)
      for (int64_t oh = 0; oh < g->oh; oh++)
        for (int64_t ow = 0; ow < g->ow; ow++) {
          double acc = b ? b[o] : 0, m = b ? fabs((double)b[o]) : 0;
          for (int64_t c = 0; c < g->c; c++)
            for (int64_t i = 0; i < g->kh; i++)
              for (int64_t j = 0; j < g->kw; j++) {
                int64_t ih = oh * g->sh - g->ph + i, iw = ow * g->sw - g->pw + j;
                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                double v = (double)x[((n * g->c + c) * g->h + ih) * g->w + iw] * w[((o * g->c + c) * g->kh + i) * g->kw + j];
                acc += v, m += fabs(v);
              }
          int64_t k = ((n * g->o + o) * g->oh + oh) * g->ow + ow;
          y[k] = (ae_real)acc;
          if (mag) mag[k] = m;
        }
}

/* Transposed convolution as PyTorch defines it, by scattering: every input
 * x[n,ci,ih,iw] adds x * w[ci,co,i,j] to out[n,co,ih*sh-ph+i,iw*sw-pw+j].
 * Here x is (n,o,oh,ow), w (o,c,kh,kw), out (n,c,h,w), b (c). */
static inline void conv_transpose2d_ref(const conv_ref_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                                        ae_real *out, double *mag) {
  int64_t total = g->n * g->c * g->h * g->w;
  double *acc = (double *)calloc((size_t)total, sizeof *acc), *m = (double *)calloc((size_t)total, sizeof *m);
  for (int64_t n = 0; n < g->n; n++)
    for (int64_t ci = 0; ci < g->o; ci++)
      for (int64_t ih = 0; ih < g->oh; ih++)
        for (int64_t iw = 0; iw < g->ow; iw++)
          for (int64_t co = 0; co < g->c; co++)
            for (int64_t i = 0; i < g->kh; i++)
              for (int64_t j = 0; j < g->kw; j++) {
                int64_t oh = ih * g->sh - g->ph + i, ow = iw * g->sw - g->pw + j;
                if (oh < 0 || oh >= g->h || ow < 0 || ow >= g->w) continue;
                int64_t k = ((n * g->c + co) * g->h + oh) * g->w + ow;
                double v = (double)x[((n * g->o + ci) * g->oh + ih) * g->ow + iw] * w[((ci * g->c + co) * g->kh + i) * g->kw + j];
                acc[k] += v, m[k] += fabs(v);
              }
  for (int64_t k = 0; k < total; k++) {
    int64_t co = k / (g->h * g->w) % g->c;
    out[k] = (ae_real)(acc[k] + (b ? b[co] : 0));
    if (mag) mag[k] = m[k] + (b ? fabs((double)b[co]) : 0);
  }
  free(acc);
  free(m);
}

/* dw (o,c,kh,kw) = sum_{n,oh,ow} gy[n,o,oh,ow] x[n,c,oh*sh-ph+i,ow*sw-pw+j]. */
static inline void conv2d_weight_grad_ref(const conv_ref_geom *g, const ae_real *x, const ae_real *gy, ae_real *dw,
                                          double *mag) {
  for (int64_t o = 0; o < g->o; o++)
    for (int64_t c = 0; c < g->c; c++)
      for (int64_t i = 0; i < g->kh; i++)
        for (int64_t j = 0; j < g->kw; j++) {
          double acc = 0, m = 0;
          for (int64_t n = 0; n < g->n; n++)
            for (int64_t oh = 0; oh < g->oh; oh++)
              for (int64_t ow = 0; ow < g->ow; ow++) {
                int64_t ih = oh * g->sh - g->ph + i, iw = ow * g->sw - g->pw + j;
                if (ih < 0 || ih >= g->h || iw < 0 || iw >= g->w) continue;
                double v = (double)gy[((n * g->o + o) * g->oh + oh) * g->ow + ow] * x[((n * g->c + c) * g->h + ih) * g->w + iw];
                acc += v, m += fabs(v);
              }
          int64_t k = ((o * g->c + c) * g->kh + i) * g->kw + j;
          dw[k] = (ae_real)acc;
          if (mag) mag[k] = m;
        }
}

#endif
