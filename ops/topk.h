/* topk.h: the top-k mask, the sparsifier of k-sparse autoencoders
 * (Makhzani & Frey 2013): keep the k largest entries of each row, zero the
 * rest.
 *
 *   y[r, i] = x[r, i] when element i is among the k top-ranked of row r,
 *             0 otherwise,
 *
 * where a row is the last axis of x (a (B, n) matrix: B rows of n). The
 * ranking is a strict total order, so exactly k elements of each row are
 * kept and the result does not depend on the thread count: a larger value
 * ranks higher; among equal values the LOWER INDEX WINS (as a stable
 * descending sort would order them); a NaN ranks above every number (as in
 * torch.topk), so it is kept and propagates.
 *
 * Gradient: dy/dx = the mask (1 where kept, 0 elsewhere), a constant of x
 * away from ties, so the backward rule is mask * g (recorded with ae_mul,
 * differentiable again) and second derivatives are zero. At a tie the
 * mask is the one the tie rule picks (a one-sided derivative). Requires
 * x of at least 1 dimension and 0 <= k <= n (the last dimension's size);
 * otherwise AE_ERR_ARG naming the op. */
#ifndef AE_TOPK_H
#define AE_TOPK_H

#include "base/api.h"

#include "autograd/tape.h"

AE_API ae_val *ae_topk_mask(ae_tape *t, ae_val *x, int64_t k);

#endif
