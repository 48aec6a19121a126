/* axis_view.h: a value seen as (outer, n, inner) around one axis, the
 * shared view of the axis kernels in reduce.c, tensor_ops.c and softmax.c
 * (private to ops/, not installed). */
#ifndef AE_OPS_AXIS_VIEW_H
#define AE_OPS_AXIS_VIEW_H

#include <stdint.h>

#include "base/tensor.h"

typedef struct {
  int64_t outer, n, inner;
} axis_view;

/* The view of shape s around axis (already in [0, s.ndim)). */
static inline axis_view view_of(ae_shape s, int axis) {
  axis_view v = {1, s.d[axis], 1};
  for (int k = 0; k < axis; k++) v.outer *= s.d[k];
  for (int k = axis + 1; k < s.ndim; k++) v.inner *= s.d[k];
  return v;
}

#endif
