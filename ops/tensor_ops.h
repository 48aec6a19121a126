/* tensor_ops.h: the tensor-manipulation family: concat, slice, select,
 * stack, zero padding and repeat along an axis (ops/tensor_ops.c), and
 * softmax / log-softmax along an axis (ops/softmax.c). Axes count from the
 * end when negative. Every op returns NULL (with the tape's error set:
 * AE_ERR_SHAPE or AE_ERR_ARG, naming the shapes) on a bad argument. */
#ifndef AE_TENSOR_OPS_H
#define AE_TENSOR_OPS_H

#include "base/api.h"
#include "autograd/tape.h"

/* Joins n >= 1 values along an existing axis; all shapes must be equal
 * except along it. Any n: more than 4 recorded inputs become a tree of
 * concats of at most 4 (the node holds AE_MAX_IN inputs). */
AE_API ae_val *ae_concat(ae_tape *t, int n, ae_val *const *xs, int axis);
/* Elements start .. start+len-1 along axis (the axis is kept, size len). */
AE_API ae_val *ae_slice(ae_tape *t, ae_val *x, int axis, int64_t start, int64_t len);
/* One index along axis, the axis dropped; index may be negative (from the end). */
AE_API ae_val *ae_select(ae_tape *t, ae_val *x, int axis, int64_t index);
/* Joins n >= 1 equal-shaped values along a new axis at `axis` of the
 * result (-1: last). */
AE_API ae_val *ae_stack(ae_tape *t, int n, ae_val *const *xs, int axis);
/* Zero padding along an axis: `before` zeros, x, `after` zeros. The
 * backward of slice (and its backward is a slice). */
AE_API ae_val *ae_pad_axis(ae_tape *t, ae_val *x, int axis, int64_t before, int64_t after);
/* Inserts a new axis at `axis` of the result and repeats x n times along
 * it: (N,D), axis 1, n 28 -> (N,28,D) (the sequence autoencoder's
 * RepeatVector). */
AE_API ae_val *ae_repeat(ae_tape *t, ae_val *x, int axis, int64_t n);

/* softmax.c: numerically stable (the max along the axis is subtracted). */
AE_API ae_val *ae_softmax(ae_tape *t, ae_val *x, int axis);
AE_API ae_val *ae_log_softmax(ae_tape *t, ae_val *x, int axis);

#endif
