/* tape_internal.h (not installed): the tape's private entry points, shared
 * by tape.c, backward.c and the tests that look at recorded nodes. Hidden
 * in the shared libraries; tests reach them through the static library. */
#ifndef AE_TAPE_INTERNAL_H
#define AE_TAPE_INTERNAL_H

#include "op_api.h"

/* The i-th node recorded on the tape (0 <= i < ae_tape_node_count). */
ae_node *ae__tape_node(ae_tape *t, int i);
/* Installs the reverse sweep's needed-mask and top node (for
 * ae_needs_grad); returns the previous mask, its top in *old_top. */
const unsigned char *ae__tape_set_sweep(ae_tape *t, const unsigned char *needed, int top, int *old_top);

#endif
