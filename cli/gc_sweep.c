/* gc_sweep.c: finite-difference error against eps, in float64 and float32,
 * as a table, a log-log plot and CSV rows (gc_sweep.h). */
#include "gc_sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "run/progress.h"
#include "gc_f32.h"
#include "gc_report.h"
#include "io/plot.h"

int gc_sweep_parse(const char *spec, double *eps, int *n) {
  double a, b, k = 2;
  char tail;
  int got = sscanf(spec, "%lf:%lf:%lf%c", &a, &b, &k, &tail);
  if (got == 3 && strchr(strchr(spec, ':') + 1, ':') == NULL) got = 0; /* "A:B" followed by junk */
  if (!(got == 2 || got == 3) || !(a > b) || !(b > 0) || !isfinite(a) || !(k >= 1 && k <= 20) || k != floor(k)) {
    ae_set_last_error("--sweep-eps '%s': expected A:B or A:B:K with A > B > 0 (eps from A down to B) and K = 1..20 "
                      "points per decade, e.g. 1e-1:1e-9",
                      spec);
    return -1;
  }
  *n = 0;
  for (int i = 0; *n < GC_SWEEP_MAX; i++) {
    double e = a * pow(10, -i / k);
    if (e < b * (1 - 1e-9)) break;
    eps[(*n)++] = e;
  }
  return 0;
}

/* max and median of |d[k] - ref[k]| over n entries */
static void errors(const double *d, const double *ref, int64_t n, double *scratch, double *max, double *med) {
  *max = 0;
  for (int64_t k = 0; k < n; k++) {
    scratch[k] = fabs(d[k] - ref[k]);
    if (!isfinite(d[k])) scratch[k] = INFINITY;
    *max = fmax(*max, scratch[k]);
  }
  *med = gc_quantile(scratch, n, 0.5);
}

int gc_sweep_run(gc_model *g, int argc, char **argv, int neps, const double *eps, const char *png, FILE *csv,
                 const char *model_name) {
  int64_t n = g->n;
  size_t per = (size_t)(n ? n : 1);
  double *ref = malloc(sizeof(double) * per), *g32 = malloc(sizeof(double) * per),
         *d32 = malloc(sizeof(double) * per * GC_NSCHEMES * (size_t)neps), *d64 = malloc(sizeof(double) * per),
         *scratch = malloc(sizeof(double) * per);
  double(*emax)[2][GC_NSCHEMES] = malloc(sizeof *emax * (size_t)neps); /* [eps][f64, f32][scheme] */
  int rc = CLI_FAIL;
  if (!ref || !g32 || !d32 || !d64 || !scratch || !emax) {
    cli_error("gradcheck: out of memory");
    goto done;
  }
  if (gc_model_grad(g, ref)) {
    cli_error("gradcheck %s: %s", model_name, g->err);
    goto done;
  }
  double t0 = ae_monotonic_seconds();
  if (gc_f32_run(g, argc, argv, neps, eps, g32, d32)) {
    cli_error("gradcheck %s --sweep-eps: %s", model_name, ae_last_error());
    goto done;
  }
  double g32max, g32med;
  errors(g32, ref, n, scratch, &g32max, &g32med);
  printf("error of finite differences against eps: max over %lld entries of |numeric - analytic|,\n"
         "the analytic gradient in float64 at the same point (parameters and input rounded to float32)\n",
         (long long)n);
  printf("  %9s  %-35s  %-35s\n", "", "float64", "float32");
  printf("  %9s  %11s %11s %11s  %11s %11s %11s\n", "eps", "forward", "central", "richardson", "forward", "central",
         "richardson");
  if (csv) fprintf(csv, "eps,precision,scheme,max_abs_err,median_abs_err\n");
  for (int e = 0; e < neps; e++) {
    double med[2][GC_NSCHEMES];
    for (int s = 0; s < GC_NSCHEMES; s++) {
      for (int64_t k = 0; k < n; k++) d64[k] = gc_model_diff(g, k, (gc_scheme)s, eps[e]);
      errors(d64, ref, n, scratch, &emax[e][0][s], &med[0][s]);
      errors(d32 + ((size_t)e * GC_NSCHEMES + (size_t)s) * per, ref, n, scratch, &emax[e][1][s], &med[1][s]);
    }
    printf("  %9.3g  %11.3e %11.3e %11.3e  %11.3e %11.3e %11.3e\n", eps[e], emax[e][0][0], emax[e][0][1],
           emax[e][0][2], emax[e][1][0], emax[e][1][1], emax[e][1][2]);
    if (csv)
      for (int p = 0; p < 2; p++)
        for (int s = 0; s < GC_NSCHEMES; s++)
          fprintf(csv, "%.6g,%s,%s,%.6e,%.6e\n", eps[e], p ? "float32" : "float64", gc_scheme_name[s], emax[e][p][s],
                  med[p][s]);
  }
  for (int p = 0; p < 2; p++) {
    int best_e = 0, best_s = 0;
    for (int e = 0; e < neps; e++)
      for (int s = 0; s < GC_NSCHEMES; s++)
        if (emax[e][p][s] < emax[best_e][p][best_s]) best_e = e, best_s = s;
    printf("  %s: smallest error %.3e (%s differences, eps %.3g)\n", p ? "float32" : "float64",
           emax[best_e][p][best_s], gc_scheme_name[best_s], eps[best_e]);
  }
  printf("  float32 analytic gradient (backward in float32): error %.3e (max), %.3e (median)\n", g32max, g32med);
  printf("  (%.2f s)\n", ae_monotonic_seconds() - t0);
  /* the picture */
  ae_plot *pl = ae_plot_new(800, 560);
  if (!pl) {
    cli_error("gradcheck: %s", ae_last_error());
    goto done;
  }
  char title[256];
  snprintf(title, sizeof title, "finite-difference error against eps: %s, %lld entries", model_name, (long long)n);
  ae_plot_title(pl, title);
  ae_plot_xlabel(pl, "eps (step of the finite difference)");
  ae_plot_ylabel(pl, "max |numeric - analytic float64 gradient|");
  ae_plot_xscale(pl, AE_PLOT_LOG);
  ae_plot_yscale(pl, AE_PLOT_LOG);
  int bad = 0;
  for (int p = 0; p < 2; p++)
    for (int s = 0; s < GC_NSCHEMES; s++) {
      char label[64];
      snprintf(label, sizeof label, "%s %s", p ? "float32" : "float64", gc_scheme_name[s]);
      double y[GC_SWEEP_MAX];
      for (int e = 0; e < neps; e++) y[e] = emax[e][p][s];
      /* float64: blue, orange, green; float32: purple, brown, pink */
      bad |= ae_plot_line(pl, label, p ? 4 + s : s, neps, eps, y, 1);
    }
  double xs[2] = {eps[neps - 1], eps[0]}, ys[2] = {g32max, g32max};
  bad |= ae_plot_line(pl, "float32 backward (no eps)", 7, 2, xs, ys, 0);
  if (bad || ae_plot_save(pl, png)) {
    cli_error("gradcheck: %s", bad ? "out of memory" : ae_last_error());
    ae_plot_free(pl);
    goto done;
  }
  ae_plot_free(pl);
  printf("picture: %s\n", png);
  rc = CLI_OK;
done:
  free(ref), free(g32), free(d32), free(d64), free(scratch), free(emax);
  return rc;
}
