/* gc_op.h: `aezoo gradcheck --op NAME [--shape D,D,...]...`: one built-in
 * op's gradient (first order: every Jacobian entry) and its gradient's
 * gradient (second order) against central differences in float64
 * (grad/gradcheck.h), at given input shapes with inputs uniform in
 * the op's domain from --seed. */
#ifndef AE_CLI_GC_OP_H
#define AE_CLI_GC_OP_H

#include <stdint.h>
#include <stdio.h>

/* Checks NAME and the --shape strings: CLI_OK, or CLI_USAGE after an error
 * (an unknown name lists the valid ones; a bad shape names it). */
int gc_op_check_args(const char *name, int nshapes, const char *const *shapes);
/* Runs both checks; prints the report; appends summary rows to csv (may be
 * NULL). A CLI exit status: CLI_OK only when both pass. */
int gc_op_run(const char *name, int nshapes, const char *const *shapes, double eps, double atol, double rtol,
              uint64_t seed, FILE *csv);

#endif
