/* backward_internal.h (not installed): the reverse sweep's entry for the
 * trainer (zoo/train.c). Hidden in the shared libraries. */
#ifndef AE_BACKWARD_INTERNAL_H
#define AE_BACKWARD_INTERNAL_H

#include "autograd/tape.h"

/* ae_backward that sets the gradients of params[0..nparams) instead of
 * adding to them: a zero_grad and a backward in one, without the pass
 * that writes zeros and the read of them. Listed parameters the loss does
 * not reach get zeros, as they do when the sweep fails; unlisted ones
 * accumulate as in ae_backward. Gradients are bitwise a zero_grad then
 * ae_backward. 0, or -1 on a tape error.
 * finite (may be NULL): set to 1 when every value written to a listed
 * gradient (the copies and sums above, and the zeros) was finite, else 0.
 * The copy tests each value it writes, so the optimiser's scan of the same
 * gradients (ae__optim_step_scanned) can be skipped: one pass over the
 * gradients fewer a step. */
int ae__backward_set(ae_tape *t, ae_val *loss, ae_param *const *params, int nparams, int *finite);

#endif
