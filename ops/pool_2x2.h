/* pool_2x2.h (internal, not installed): the plane kernels of 2x2, stride 2
 * max pooling without padding, the zoo's pooling, and of the index ops on
 * its geometry (pool_2x2.c); pool.c's ops call them plane by plane. A
 * plane of the input is h x w, of the output oh x ow with oh = h / 2,
 * ow = w / 2; indices are ae_real flat positions in the input plane. */
#ifndef AE_OPS_POOL_2X2_H
#define AE_OPS_POOL_2X2_H

#include <stdint.h>

#include "base/real.h"

/* py, pi = each window's maximum and its position: the first maximum in
 * scan order, the last NaN (PyTorch's scan). relu: of relu(xs) instead,
 * each value v read as v > 0 ? v : 0 (NaN as 0, as the fused conv+relu
 * ops write it), bitwise the pooling of relu(xs). */
void ae__max_pool_2x2_plane(const ae_real *xs, int64_t w, int64_t oh, int64_t ow, ae_real *py, ae_real *pi,
                            int relu);

/* y (h x w) = g at each window's recorded position, 0 elsewhere (a row and
 * a column past the last whole window too): the pooling's input gradient,
 * and max_unpool2d. Returns 1 when every index is one of its own window's
 * four positions; otherwise y is wrong where one is not. */
int ae__max_pool_2x2_backward_plane(const ae_real *g, const ae_real *idx, int64_t oh, int64_t ow, int64_t h,
                                    int64_t w, ae_real *y);

/* y (oh x ow) = xs at each index (gather2d). Returns 1 when every index is
 * one of its own window's four positions; otherwise y is incomplete. */
int ae__gather_2x2_plane(const ae_real *xs, const ae_real *idx, int64_t oh, int64_t ow, int64_t w, ae_real *y);

#endif
