/* code_plot.c: scatter figures of codes, projected by PCA when wider than 2
 * (code_plot.h). */
#include "code_plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pca.h"

static const char *const mnist_digits[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

const char *const *ae_code_plot_class_names(const char *dataset, int *nclasses) {
  *nclasses = 0;
  if (!dataset) return NULL;
  if (strcmp(dataset, "fashion-mnist") == 0) return *nclasses = 10, ae_plot_fashion_classes;
  if (strcmp(dataset, "mnist") == 0) return *nclasses = 10, mnist_digits;
  return NULL;
}

ae_plot *ae_code_plot(const ae_tensor *codes, const int32_t *labels, const char *dataset, const char *title, int side,
                      double *xy) {
  int64_t n = codes->shape.ndim ? codes->shape.d[0] : 0;
  if (n < 1 || codes->numel % n) {
    ae_set_last_error("code plot: no codes to draw");
    return NULL;
  }
  int64_t d = codes->numel / n;
  if (d > 4096) {
    ae_set_last_error("code plot: codes of %lld units; at most 4096 can be projected", (long long)d);
    return NULL;
  }
  double *rows = malloc(sizeof(double) * (size_t)codes->numel), *pts = malloc(sizeof(double) * (size_t)(2 * n)),
         *x = malloc(sizeof(double) * (size_t)n), *y = malloc(sizeof(double) * (size_t)n);
  ae_plot *p = ae_plot_new(side, side);
  char t[512], xl[64], yl[64];
  if (!rows || !pts || !x || !y || !p) {
    if (!p) ae_set_last_error("code plot: %s", ae_last_error());
    else ae_set_last_error("code plot: out of memory");
    goto fail;
  }
  for (int64_t i = 0; i < codes->numel; i++) rows[i] = (double)codes->data[i];
  if (d == 1) {
    for (int64_t i = 0; i < n; i++) x[i] = (double)i, y[i] = rows[i];
    snprintf(t, sizeof t, "%s", title);
    snprintf(xl, sizeof xl, "example");
    snprintf(yl, sizeof yl, "code");
  } else if (d == 2) {
    for (int64_t i = 0; i < n; i++) x[i] = rows[2 * i], y[i] = rows[2 * i + 1];
    snprintf(t, sizeof t, "%s", title);
    snprintf(xl, sizeof xl, "code unit 1");
    snprintf(yl, sizeof yl, "code unit 2");
  } else {
    double var[2], total;
    if (ae_pca_project(rows, n, (int)d, 2, pts, var, &total)) goto fail;
    for (int64_t i = 0; i < n; i++) x[i] = pts[2 * i], y[i] = pts[2 * i + 1];
    snprintf(t, sizeof t, "%s (PCA of %lld-unit codes)", title, (long long)d);
    snprintf(xl, sizeof xl, "PC 1 (%.0f%% of variance)", total > 0 ? 100 * var[0] / total : 0.0);
    snprintf(yl, sizeof yl, "PC 2 (%.0f%% of variance)", total > 0 ? 100 * var[1] / total : 0.0);
  }
  ae_plot_title(p, t);
  ae_plot_xlabel(p, xl);
  ae_plot_ylabel(p, yl);
  int nc;
  const char *const *names = ae_code_plot_class_names(dataset, &nc);
  if (ae_plot_scatter(p, n, x, y, labels, names, nc)) goto fail;
  if (xy)
    for (int64_t i = 0; i < n; i++) xy[2 * i] = x[i], xy[2 * i + 1] = y[i];
  free(rows), free(pts), free(x), free(y);
  return p;
fail:
  free(rows), free(pts), free(x), free(y);
  ae_plot_free(p);
  return NULL;
}
