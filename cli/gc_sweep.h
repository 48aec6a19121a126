/* gc_sweep.h: `aezoo gradcheck MODEL --sweep-eps A:B[:K]`: the error of
 * finite-difference gradients against the step eps, for float64 and
 * float32 and for forward, central and Richardson-extrapolated central
 * differences, all against the float64 analytic gradient at one point
 * (the parameters and input rounded to float32, so both precisions see
 * the same function). Prints a table, draws the error against eps on
 * log-log axes (the V: truncation error falling as eps^p on the right,
 * rounding error growing as 1/eps on the left) and writes the table as
 * CSV on request. */
#ifndef AE_CLI_GC_SWEEP_H
#define AE_CLI_GC_SWEEP_H

#include <stdio.h>

#include "gc_model.h"

#define GC_SWEEP_MAX 200

/* Parses "A:B" or "A:B:K" (A > B > 0, K points per decade, default 2)
 * into eps[0..*n), from A down to B. 0, or -1 with ae_last_error(). */
int gc_sweep_parse(const char *spec, double *eps, int *n);
/* Runs the sweep on g (float32 columns from the sibling build, see
 * gc_f32.h; argv: the gradcheck command's arguments). Writes png, and csv
 * rows "eps,precision,scheme,max_abs_err,median_abs_err" when csv is not
 * NULL. A CLI exit status. */
int gc_sweep_run(gc_model *g, int argc, char **argv, int neps, const double *eps, const char *png, FILE *csv,
                 const char *model_name);

#endif
