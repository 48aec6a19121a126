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
 * ae_backward. 0, or -1 on a tape error. */
int ae__backward_set(ae_tape *t, ae_val *loss, ae_param *const *params, int nparams);

#endif
