/* gc_f32.h: the float32 half of `aezoo gradcheck --float32` and
 * `--sweep-eps`. The float64 process (aezoo64) rounds the parameters and
 * the input to float32, writes them to a job file and runs its float32
 * sibling `aezoo` with the same arguments and AEZOO_GC_F32_JOB=FILE in the
 * environment; that process builds the same model, loads the point, and
 * writes back its float32 analytic gradient and, for each eps, each
 * scheme's float32 finite differences of every entry. The float64 process
 * then judges them against its float64 reference at the very same point. */
#ifndef AE_CLI_GC_F32_H
#define AE_CLI_GC_F32_H

#include "gc_model.h"

#define GC_F32_ENV "AEZOO_GC_F32_JOB"

/* Parent (either build): rounds every parameter value and x to float32 in place. */
void gc_f32_round_point(ae_model *m, ae_tensor *x);
/* Parent: runs the sibling `aezoo` (argv: the gradcheck command's own
 * arguments, argv[0] "gradcheck") on g's model, stage and point. grad32:
 * g->n values; diff32: neps * GC_NSCHEMES * g->n values (eps e, scheme s,
 * entry k at [(e * GC_NSCHEMES + s) * n + k]); NULL when neps is 0.
 * 0, or -1 with ae_last_error(). */
int gc_f32_run(gc_model *g, int argc, char **argv, int neps, const double *eps, double *grad32, double *diff32);
/* Child (the float32 build): does the job named by $AEZOO_GC_F32_JOB on
 * model m (built as the parent built it) with input x. A CLI exit status. */
int gc_f32_child(const char *job, ae_model *m, ae_tensor *x, uint64_t seed);

#endif
