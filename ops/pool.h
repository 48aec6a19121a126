/* pool.h: pooling, unpooling and upsampling of NCHW values (PyTorch
 * semantics, ceil_mode off, dilation 1). Windows are k x k, moved by
 * `stride`, over the input padded by `pad` on every side (pad <= k/2):
 * the output is (N, C, (H + 2 pad - k) / stride + 1, same for W).
 *
 * Indices (max_pool2d's argmax) are values of the pooled shape holding the
 * flat position h*W + w of each maximum within its (n, c) input plane,
 * stored as ae_real (exact: planes are limited to 2^24 elements in the
 * float32 build). They are constants: no gradient flows to them.
 *
 * Every op differentiates to any order; the adjoint pairs are
 *   max_pool2d -> max_pool2d_backward (scatter-add at the indices)
 *   max_pool2d_backward <-> gather2d (read at the indices)
 *   max_unpool2d -> gather2d (masked where an index repeats, see below)
 *   avg_pool2d <-> avg_pool2d_backward
 *   upsample_nearest <-> upsample_nearest_backward (sum over f x f blocks). */
#ifndef AE_POOL_H
#define AE_POOL_H

#include "base/api.h"
#include "autograd/tape.h"

/* pool.c */
/* Max over each window; padding counts as -inf; the first maximum in
 * scan order wins ties (NaN propagates). *indices (if indices is non-NULL)
 * receives the argmax positions, or NULL on error. */
AE_API ae_val *ae_max_pool2d(ae_tape *t, ae_val *x, int k, int stride, int pad, ae_val **indices);
/* max_pool2d(relu(x)) without relu(x) written out, the values, the indices
 * and the gradients bitwise the composite's (relu(NaN) = 0, and a window
 * whose values are all <= 0 gives 0 at its first position): the pooling
 * of a fused conv+relu whose argmax positions are kept (deconv-ae's
 * unpooling), where relu(max_pool2d(x)) would pick other positions in the
 * windows whose maximum is <= 0. Its backward reads the relu's mask at the
 * pooled size. In anomaly mode the composite. */
AE_API ae_val *ae_relu_max_pool2d(ae_tape *t, ae_val *x, int k, int stride, int pad, ae_val **indices);
/* PyTorch's MaxUnpool2d with an explicit output size: (N, C, out_h, out_w)
 * zeros, except out[n, c, indices[n, c, i]] = x[n, c, i]. indices has x's
 * shape; every entry must be an integer in [0, out_h*out_w). Where an index
 * repeats, the last entry in scan order is the one written (and the only
 * one that gets a gradient). */
AE_API ae_val *ae_max_unpool2d(ae_tape *t, ae_val *x, ae_val *indices, int out_h, int out_w);
/* max_pool2d's backward: (N, C, in_h, in_w) zeros plus g[n, c, i] added at
 * indices[n, c, i] (repeated indices accumulate). */
AE_API ae_val *ae_max_pool2d_backward(ae_tape *t, ae_val *g, ae_val *indices, int in_h, int in_w);
/* max_pool2d's index select: out[n, c, i] = x[n, c, indices[n, c, i]],
 * out of indices' shape; x is (N, C, H, W), indices (N, C, h, w). */
AE_API ae_val *ae_gather2d(ae_tape *t, ae_val *x, ae_val *indices);

/* Mean over each window, padding counted as zeros (count_include_pad). */
AE_API ae_val *ae_avg_pool2d(ae_tape *t, ae_val *x, int k, int stride, int pad);
/* avg_pool2d's adjoint: g (N, C, OH, OW), the pooled shape of an
 * (N, C, in_h, in_w) input, spread back over each window, / k^2. */
AE_API ae_val *ae_avg_pool2d_backward(ae_tape *t, ae_val *g, int in_h, int in_w, int k, int stride, int pad);

/* upsample.c */
/* Nearest neighbour: (N, C, H, W) -> (N, C, H f, W f), each value copied
 * over an f x f block. */
AE_API ae_val *ae_upsample_nearest(ae_tape *t, ae_val *x, int factor);
/* Its adjoint: (N, C, H f, W f) -> (N, C, H, W), the sum of each block. */
AE_API ae_val *ae_upsample_nearest_backward(ae_tape *t, ae_val *g, int factor);
/* Mean over each plane: (N, C, H, W) -> (N, C); a composite of reshape and
 * mean_axis. */
AE_API ae_val *ae_global_avg_pool(ae_tape *t, ae_val *x);

#endif
