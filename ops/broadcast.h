/* broadcast.h: numpy-style broadcasting of up to 4 dimensions, as padded
 * 4-D shapes with zero strides on broadcast dimensions. Used by the
 * binary element-wise kernels and by broadcast_to / sum_to. */
#ifndef AE_BROADCAST_H
#define AE_BROADCAST_H

#include "base/tensor.h"

typedef struct ae_bcast {
  int64_t d[4];  /* output sizes, padded on the left with 1s */
  int64_t sx[4]; /* element strides of the input in each output dimension (0 = broadcast) */
} ae_bcast;

/* Strides to read a value of shape `in` at every index of shape `out`
 * (in must broadcast to out: checked by the caller). */
static inline ae_bcast ae_bcast_make(ae_shape in, ae_shape out) {
  ae_bcast b;
  int64_t din[4], stride = 1;
  int off_o = 4 - out.ndim, off_i = 4 - in.ndim;
  for (int k = 0; k < 4; k++) {
    b.d[k] = k >= off_o ? out.d[k - off_o] : 1;
    din[k] = k >= off_i ? in.d[k - off_i] : 1;
  }
  for (int k = 3; k >= 0; k--) {
    b.sx[k] = din[k] == 1 ? 0 : stride;
    stride *= din[k];
  }
  return b;
}

/* Offset of output index (i0,i1,i2,i3) in the input. */
static inline int64_t ae_bcast_off(const ae_bcast *b, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return i0 * b->sx[0] + i1 * b->sx[1] + i2 * b->sx[2] + i3 * b->sx[3];
}

/* 1 when shape `in` broadcasts to `out`. */
static inline int ae_broadcasts_to(ae_shape in, ae_shape out) {
  if (in.ndim > out.ndim) return 0;
  for (int k = 1; k <= in.ndim; k++) {
    int64_t a = in.d[in.ndim - k], o = out.d[out.ndim - k];
    if (a != 1 && a != o) return 0;
  }
  return 1;
}

#endif
