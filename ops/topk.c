/* topk.c: the top-k mask op (topk.h) and its backward rule.
 *
 * Each row is selected on its own: a copy of its numbers (scratch in the
 * tape's arena, given back before the op returns) is reordered by
 * quickselect, with branch-free partitions, to find v, the value of the
 * last number kept; one pass then keeps the NaNs, the numbers above v, and
 * the first numbers equal to v in index order. The kept set is the one
 * topk.h's total order defines, so it does not depend on the pivots or on
 * the thread count. O(n) per row on average. */
#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "topk.h"

/* Moves the elements of a[lo, hi] for which KEEP(v) holds to the front,
 * in one branch-free pass (a comparison per element, no unpredictable
 * branch); returns how many there are. */
#define AE__PARTITION(a, lo, hi, KEEP)                \
  ({                                                  \
    int64_t s_ = (lo);                                \
    for (int64_t i_ = (lo); i_ <= (hi); i_++) {       \
      ae_real v = (a)[i_];                            \
      int keep_ = (KEEP);                             \
      (a)[i_] = (a)[s_];                              \
      (a)[s_] = v;                                    \
      s_ += keep_;                                    \
    }                                                 \
    s_ - (lo);                                        \
  })

/* The value of rank r (0 = the largest) among a[0, m), which it reorders:
 * quickselect with a median-of-three pivot p and branch-free partitions,
 * first into [> p | <= p], then, when rank r lies in the second part, that
 * part into [== p | < p] (which also ends runs of ties). No NaN in a. */
static ae_real rank_value(ae_real *a, int64_t m, int64_t r) {
  int64_t lo = 0, hi = m - 1;
  while (lo < hi) {
    ae_real x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
    ae_real p = x > y ? (y > z ? y : (x > z ? z : x)) : (x > z ? x : (y > z ? z : y));
    int64_t above = AE__PARTITION(a, lo, hi, v > p);
    if (r < lo + above) {
      hi = lo + above - 1;
      continue;
    }
    lo += above;
    int64_t equal = AE__PARTITION(a, lo, hi, v == p); /* >= 1: p is in a[lo, hi] */
    if (r < lo + equal) return p;
    lo += equal;
  }
  return a[r];
}

/* One row: y[i] = x[i] (or 1 when mask_only) for the k top-ranked
 * elements, 0 elsewhere; buf holds n reals of scratch. With z NaNs in the
 * row: the first min(k, z) NaNs are kept; then, if k > z, v is the value of
 * rank k - z - 1 among the numbers, every number above v is kept, and of
 * those equal to v the first ones in index order fill the remaining places. */
static void topk_row(const ae_real *x, ae_real *y, ae_real *buf, int64_t n, int64_t k, int mask_only) {
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++)
    if (x[i] == x[i]) buf[m++] = x[i];
  int64_t nans = k < n - m ? k : n - m, rest = k - nans, ties = 0;
  ae_real v = 0;
  if (rest > 0) {
    v = rank_value(buf, m, rest - 1);
    int64_t above = 0;
    for (int64_t i = 0; i < n; i++) above += x[i] > v;
    ties = rest - above;
  }
  for (int64_t i = 0; i < n; i++) {
    ae_real xi = x[i];
    int keep = xi != xi ? nans-- > 0 : rest > 0 && (xi > v || (xi == v && ties-- > 0));
    y[i] = keep ? (mask_only ? 1 : xi) : 0;
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
  ae_real *buf = ae_arena_alloc(t, op, sizeof *buf * (size_t)(rows * n));
  if (!buf) return 0;
  AE_PAR_FOR(rows > 1 && AE_PAR(rows * n), schedule(static),
  for (int64_t r = 0; r < rows; r++) topk_row(x + r * n, out + r * n, buf + r * n, n, k, mask_only););
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
  if (k < 0 || k > n) {
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
