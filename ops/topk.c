/* topk.c: the top-k mask op (topk.h) and its backward rule.
 *
 * Each row is selected on its own: an index array of the row (scratch in
 * the tape's arena, given back before the op returns) is partitioned by
 * quickselect (median-of-three pivot) under the strict total order of
 * topk.h, so its first k entries are the row's top k. The order has no
 * ties, so the kept set is unique and the same whatever the pivots or the
 * thread count. O(n) per row on average. */
#include <string.h>

#include "autograd/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "topk.h"

/* 1 when element a (value va) ranks above element b (value vb). */
static inline int ranks_above(ae_real va, int32_t a, ae_real vb, int32_t b) {
  int na = va != va, nb = vb != vb;
  if (na | nb) return na != nb ? na : a < b;
  return va > vb || (va == vb && a < b);
}

static inline void swap_idx(int32_t *idx, int64_t i, int64_t j) {
  int32_t s = idx[i];
  idx[i] = idx[j];
  idx[j] = s;
}

/* Reorders idx[0, n) (a permutation of the row's indices) so that
 * idx[0, k) are the row's k top-ranked elements; needs 0 < k < n. */
static void select_top(const ae_real *x, int32_t *idx, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2; /* median of idx[lo], idx[mid], idx[hi] moved to hi, the pivot */
    if (ranks_above(x[idx[mid]], idx[mid], x[idx[lo]], idx[lo])) swap_idx(idx, mid, lo);
    if (ranks_above(x[idx[hi]], idx[hi], x[idx[lo]], idx[lo])) swap_idx(idx, hi, lo);
    if (ranks_above(x[idx[mid]], idx[mid], x[idx[hi]], idx[hi])) swap_idx(idx, mid, hi);
    int32_t p = idx[hi];
    int64_t store = lo;
    for (int64_t i = lo; i < hi; i++)
      if (ranks_above(x[idx[i]], idx[i], x[p], p)) swap_idx(idx, i, store++);
    swap_idx(idx, store, hi); /* [lo, store) rank above p, (store, hi] below */
    if (store == k) return;
    if (store < k)
      lo = store + 1;
    else
      hi = store - 1;
  }
}

/* out[r, i] = x[r, i] (or 1 when mask_only) for the kept elements, 0 elsewhere. */
static int topk_kernel(ae_tape *t, const char *op, const ae_real *x, ae_real *out, int64_t rows, int64_t n,
                       int64_t k, int mask_only) {
  if (k == 0 || k == n) {
    for (int64_t i = 0; i < rows * n; i++) out[i] = k == 0 ? 0 : mask_only ? 1 : x[i];
    return 1;
  }
  ae_tape_mark m = ae_tape_get_mark(t);
  int32_t *idx = ae_arena_alloc(t, op, sizeof *idx * (size_t)(rows * n));
  if (!idx) return 0;
  AE_PAR_FOR(rows > 1 && AE_PAR(rows * n), schedule(static),
  for (int64_t r = 0; r < rows; r++) {
    const ae_real *xr = x + r * n;
    ae_real *yr = out + r * n;
    int32_t *ir = idx + r * n;
    for (int64_t i = 0; i < n; i++) ir[i] = (int32_t)i;
    select_top(xr, ir, n, k);
    memset(yr, 0, sizeof *yr * (size_t)n);
    for (int64_t j = 0; j < k; j++) yr[ir[j]] = mask_only ? 1 : xr[ir[j]];
  });
  ae_tape_rewind(t, m); /* the scratch is not needed past this call */
  return 1;
}

ae_val *ae_topk_mask(ae_tape *t, ae_val *x, int64_t k) {
  if (!ae_op_begin(t, "topk_mask", 1, &x)) return NULL;
  ae_shape s = x->t.shape;
  char b[AE_SHAPE_BUF];
  if (s.ndim < 1) {
    ae_raise(t, AE_ERR_ARG, "topk_mask", "x has shape %s: needs at least 1 dimension (rows along the last)",
             ae_sstr(s, b));
    return NULL;
  }
  int64_t n = s.d[s.ndim - 1];
  if (k < 0 || k > n || n > INT32_MAX) {
    ae_raise(t, AE_ERR_ARG, "topk_mask", "k = %lld is out of range for rows of %lld (shape %s): need 0 <= k <= %lld",
             (long long)k, (long long)n, ae_sstr(s, b), (long long)n);
    return NULL;
  }
  ae_val *y = ae_op_out(t, "topk_mask", s);
  if (!y || !topk_kernel(t, "topk_mask", x->t.data, y->t.data, x->t.numel / n, n, k, 0)) return NULL;
  ae_node *nd = ae_op_record(t, AE_OP_TOPK_MASK, y, 1, &x);
  if (nd) nd->i[0] = k;
  return y;
}

/* dy/dx is the kept-set mask, a constant of x: gx = mask * g. */
void ae_bw_topk_mask(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (!ae_needs_grad(t, n, 0)) return;
  const ae_val *x = n->in[0];
  int64_t len = x->t.shape.d[x->t.shape.ndim - 1];
  ae_val *mask = ae_op_out(t, "topk_mask", x->t.shape);
  if (!mask || !topk_kernel(t, "topk_mask", x->t.data, mask->t.data, x->t.numel / len, len, n->i[0], 1)) return;
  gin[0] = ae_mul(t, g, mask);
}
