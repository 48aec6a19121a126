/* gc_report.h: how `aezoo gradcheck` reports an entry-by-entry check: per
 * parameter the worst absolute and relative errors and pass/FAIL (against
 * atol + rtol |numeric|), then the distribution over every entry (median,
 * 99th percentile, worst, and where), and, with --csv, every entry. */
#ifndef AE_CLI_GC_REPORT_H
#define AE_CLI_GC_REPORT_H

#include <stdio.h>

#include "gc_model.h"

typedef struct gc_tol {
  double atol, rtol;
} gc_tol;

/* Prints the table and the distribution of g's entries (analytic against
 * numeric) to stdout; appends every entry to csv when not NULL (header
 * written by gc_report_csv_header). Returns 1 when every entry passes, 0
 * when one fails, -1 when out of memory. */
int gc_report(const gc_model *g, const double *analytic, const double *numeric, gc_tol tol, FILE *csv,
              const char *stage_label);
void gc_report_csv_header(FILE *csv);
/* The q-quantile (0..1) of v[0..n) by nearest rank; sorts v. NaN when n is 0. */
double gc_quantile(double *v, int64_t n, double q);

#endif
