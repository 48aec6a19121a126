/* base_internal.h (not installed): the base floor's private entry points
 * that the floors above call. Hidden in the shared libraries; tests reach
 * them through the static library. */
#ifndef AE_BASE_INTERNAL_H
#define AE_BASE_INTERNAL_H

#include <stdint.h>

#include "base/real.h"

/* vreduce.c: ae_v_sum of an array that is never stored whole:
 * fill(ctx, lo, len, buf) writes its elements [lo, lo + len) into buf
 * (len <= AE_V_CHUNK, lo a multiple of it), one chunk at a time, on the
 * thread that sums them. Bitwise ae_v_sum of the whole array, for any
 * thread count. For the fused losses (ops/loss.c). */
typedef void (*ae__v_fill_fn)(const void *ctx, int64_t lo, int64_t len, ae_real *buf);
double ae__v_sum_fill(int64_t n, ae__v_fill_fn fill, const void *ctx);

/* parallel.c: fn(ctx, i, lo, hi) on elements [lo, hi) of each of n arrays
 * (array i has len(ctx, i) elements). When they total AE_PAR's element
 * count, in one parallel region, each thread its contiguous share of every
 * array (ae_par_share); else on the caller, array by array. Returns the OR
 * of fn's results. The optimisers' updates (optim.c) and the copy of the
 * gradients out of the tape (backward.c) both run through it, so a thread
 * updates the share of each gradient it copied, still in its cache. */
typedef int64_t (*ae__par_len_fn)(const void *ctx, int i);
typedef int (*ae__par_range_fn)(const void *ctx, int i, int64_t lo, int64_t hi);
int ae__par_shares(int n, ae__par_len_fn len, ae__par_range_fn fn, const void *ctx);

/* gemm.c: whether ae_gemm(..., alpha = 1, ..., beta = 1, C) gives, for
 * every element, C + S rounded once, S being the element ae_gemm gives
 * with beta = 0 (so the same bits as that product added to C after it):
 * true when the backend is the built-in one and its sums take all of K in
 * one block (K <= its KC, or the direct path). For a caller adding a
 * product into an accumulator (grad/backward.c's sweep, through matmul's
 * rule) without a pass of its own. */
int ae__gemm_adds_exactly(int64_t M, int64_t N, int64_t K);

#endif
