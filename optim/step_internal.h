/* step_internal.h (not installed): ae_optim_step for a caller that has
 * already tested the gradients for NaN/Inf, the trainer (zoo/train.c),
 * whose backward (ae__backward_set) tests each value as it writes it.
 * Hidden in the shared libraries. */
#ifndef AE_OPTIM_STEP_INTERNAL_H
#define AE_OPTIM_STEP_INTERNAL_H

#include "optim.h"

/* ae_optim_step, without its scan of the gradients when scanned[0..n) is
 * the optimiser's own parameter list (same pointers, same order) whose
 * gradients are known to be finite and no reduce_grads hook is set (a
 * reduction rewrites them after the test). Otherwise, with scanned NULL
 * among them, exactly ae_optim_step. The update is the same either way. */
int ae__optim_step_scanned(ae_optim *o, ae_param *const *scanned, int nscanned);

#endif
