/* gc_report.c: per-parameter tables, error distributions and CSV rows of
 * an entry-by-entry gradient check (gc_report.h). */
#include "gc_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double gc_quantile(double *v, int64_t n, double q) {
  if (n <= 0) return NAN;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  int64_t r = (int64_t)ceil(q * (double)n) - 1;
  if (r < 0) r = 0;
  if (r >= n) r = n - 1;
  return v[r];
}

void gc_report_csv_header(FILE *csv) {
  fprintf(csv, "stage,param,index,analytic,numeric,abs_err,rel_err,pass\n");
}

int gc_report(const gc_model *g, const double *analytic, const double *numeric, gc_tol tol, FILE *csv,
              const char *stage_label) {
  int64_t n = g->n;
  double *err = malloc(sizeof(double) * (size_t)(n ? n : 1)), *rel = malloc(sizeof(double) * (size_t)(n ? n : 1));
  if (!err || !rel) {
    free(err), free(rel);
    return -1;
  }
  int all_ok = 1;
  int64_t worst = -1;
  double worst_excess = -1;
  printf("  %-28s %9s %13s %13s  %s\n", "parameter", "elements", "max abs err", "max rel err", "result");
  for (int64_t k = 0; k < n;) {
    int p = g->param[k];
    double max_abs = 0, max_rel = 0;
    int ok = 1;
    int64_t start = k;
    for (; k < n && g->param[k] == p; k++) {
      double a = analytic[k], u = numeric[k], e = fabs(a - u), excess = e / (tol.atol + tol.rtol * fabs(u));
      if (!isfinite(a) || !isfinite(u)) e = INFINITY, excess = INFINITY;
      err[k] = e, rel[k] = e / fmax(fabs(u), tol.atol);
      max_abs = fmax(max_abs, e), max_rel = fmax(max_rel, rel[k]);
      if (excess > 1) ok = 0;
      if (excess > worst_excess) worst_excess = excess, worst = k;
      if (csv)
        fprintf(csv, "%s,%s,%lld,%.17g,%.17g,%.6e,%.6e,%d\n", stage_label, g->m->params[p]->name,
                (long long)g->index[k], a, u, e, rel[k], excess <= 1);
    }
    printf("  %-28s %9lld %13.3e %13.3e  %s\n", g->m->params[p]->name, (long long)(k - start), max_abs, max_rel,
           ok ? "pass" : "FAIL");
    if (!ok) all_ok = 0;
  }
  if (n > 0) {
    char where[128];
    gc_model_entry_name(g, worst, where, sizeof where);
    double wa = analytic[worst], wn = numeric[worst], we = err[worst], wr = rel[worst];
    double med = gc_quantile(err, n, 0.5), p99 = gc_quantile(err, n, 0.99), top = err[n - 1];
    double rmed = gc_quantile(rel, n, 0.5), rp99 = gc_quantile(rel, n, 0.99), rtop = rel[n - 1];
    printf("  error over %lld entries: abs median %.3e, 99th percentile %.3e, worst %.3e\n", (long long)n, med, p99,
           top);
    printf("                          rel median %.3e, 99th percentile %.3e, worst %.3e\n", rmed, rp99, rtop);
    printf("  closest to failing: %s (analytic %.9g, numeric %.9g, abs err %.3e, rel err %.3e)\n", where, wa, wn, we,
           wr);
  }
  free(err), free(rel);
  return all_ok;
}
