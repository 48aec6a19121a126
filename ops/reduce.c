/* reduce.c: sum and mean (all, along an axis), the sum of squares, max
 * along an axis, and the broadcasting pair sum_to / broadcast_to (each the
 * other's backward).
 * Sums accumulate in double in a fixed order per output element, so the
 * result does not depend on the thread count. */
#include <string.h>

#include "axis_view.h"
#include "base/rowcopy.h"
#include "base/parallel.h"
#include "broadcast.h"
#include "oplist.h"
#include "ops.h"
#include "base/vmath.h"

static int norm_axis(ae_tape *t, const char *op, ae_shape s, int axis) {
  int a = axis < 0 ? axis + s.ndim : axis;
  if (a < 0 || a >= s.ndim) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, op, "axis %d is out of range for shape %s", axis, ae_sstr(s, b));
    return -1;
  }
  return a;
}

static ae_shape reduced_shape(ae_shape s, int axis, int keepdim) {
  ae_shape r = s;
  if (keepdim) {
    r.d[axis] = 1;
    return r;
  }
  for (int k = axis; k < s.ndim - 1; k++) r.d[k] = s.d[k + 1];
  r.d[s.ndim - 1] = 1;
  r.ndim = s.ndim - 1;
  return r;
}

/* y[o, i] = sum_k x[o, k, i], blocks of 64 columns accumulated in double
 * (in registers). A block's rows lie inner elements apart, a stride the
 * hardware prefetcher does not follow, so each job asks for the block's
 * row SUM_AHEAD rows ahead: a conv layer's bias gradient (128 rows of
 * 32 x 28 x 28) went from 117 to 91-94 perf samples in conv-dae (1 thread,
 * 60 steps; 16 ahead the same, 4 ahead 111). A 1024-column block, rows
 * read whole, took 202 (its 1024 accumulators cannot stay in registers). */
enum { SUM_BLK = 64, SUM_AHEAD = 8 };
static inline void sum_axis_job(axis_view v, const ae_real *x, ae_real *y, int64_t nblk, int64_t job) {
  int64_t o = job / nblk, i0 = job % nblk * SUM_BLK, len = v.inner - i0 < SUM_BLK ? v.inner - i0 : SUM_BLK;
  double acc[SUM_BLK] = {0};
  const ae_real *base = x + o * v.n * v.inner + i0;
  for (int64_t k = 0; k < v.n; k++) {
    if (k + SUM_AHEAD < v.n) ae_rc_prefetch(base + k * v.inner, SUM_AHEAD * v.inner * (int64_t)sizeof(ae_real),
                                            len * (int64_t)sizeof(ae_real));
    for (int64_t i = 0; i < len; i++) acc[i] += base[k * v.inner + i];
  }
  for (int64_t i = 0; i < len; i++) y[o * v.inner + i0 + i] = (ae_real)acc[i];
}

static void sum_axis_kernel(axis_view v, const ae_real *x, ae_real *y) {
  if (v.inner == 1) { /* contiguous rows: vmath's lane-blocked sum (one serial chain was latency-bound:
                        psd's per-example energies spent 17% of its step there) */
    AE_PAR_FOR(AE_PAR(v.outer * v.n), schedule(static),
               for (int64_t o = 0; o < v.outer; o++) y[o] = (ae_real)ae_v_sum_serial(v.n, x + o * v.n););
    return;
  }
  int64_t nblk = (v.inner + SUM_BLK - 1) / SUM_BLK, jobs = v.outer * nblk;
  AE_PAR_FOR(AE_PAR(v.outer * v.n * v.inner), schedule(static),
             for (int64_t job = 0; job < jobs; job++) sum_axis_job(v, x, y, nblk, job););
}

/* An op reducing all of x to a scalar (shape ()) with vmath's reduction f. */
static ae_val *to_scalar(ae_tape *t, const char *name, int op, ae_val *x, double (*f)(int64_t, const ae_real *)) {
  if (!ae_op_begin(t, name, 1, &x)) return NULL;
  ae_val *y = ae_op_out(t, name, ae_shape_make(0, NULL));
  if (!y) return NULL;
  y->t.data[0] = (ae_real)f(x->t.numel, x->t.data);
  ae_op_record(t, op, y, 1, &x);
  return y;
}

ae_val *ae_sum(ae_tape *t, ae_val *x) { return to_scalar(t, "sum", AE_OP_SUM, x, ae_v_sum); }
void ae_bw_sum(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_broadcast_to(t, g, n->in[0]->t.shape);
}

/* sum(x^2) in one read of x (vmath's deterministic ae_v_sumsq, squares in
 * double), instead of square's array written and read back by sum. The
 * backward is one product with the scalar 2g, where square + sum's was a
 * broadcast of g, 2x and their product: the contractive penalties sum the
 * squares of every probe's product this way (grad/jacobian.c), psd's
 * inference its smooth energy, and ae_l2_penalty the weights. */
ae_val *ae_sum_sq(ae_tape *t, ae_val *x) { return to_scalar(t, "sum_sq", AE_OP_SUM_SQ, x, ae_v_sumsq); }
void ae_bw_sum_sq(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_mul(t, n->in[0], ae_scale(t, g, 2));
}

ae_val *ae_mean(ae_tape *t, ae_val *x) {
  if (!ae_op_begin(t, "mean", 1, &x)) return NULL;
  return ae_scale(t, ae_sum(t, x), (ae_real)(1.0 / (double)x->t.numel));
}

ae_val *ae_sum_axis(ae_tape *t, ae_val *x, int axis, int keepdim) {
  if (!ae_op_begin(t, "sum_axis", 1, &x)) return NULL;
  int a = norm_axis(t, "sum_axis", x->t.shape, axis);
  if (a < 0) return NULL;
  ae_val *y = ae_op_out(t, "sum_axis", reduced_shape(x->t.shape, a, keepdim));
  if (!y) return NULL;
  sum_axis_kernel(view_of(x->t.shape, a), x->t.data, y->t.data);
  ae_node *n = ae_op_record(t, AE_OP_SUM_AXIS, y, 1, &x);
  if (n) n->i[0] = a;
  return y;
}
/* Reinsert the axis as size 1, then broadcast back. */
void ae_bw_sum_axis(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_shape xs = n->in[0]->t.shape;
  ae_val *gk = ae_reshape(t, g, reduced_shape(xs, (int)n->i[0], 1));
  gin[0] = ae_broadcast_to(t, gk, xs);
}

ae_val *ae_mean_axis(ae_tape *t, ae_val *x, int axis, int keepdim) {
  if (!ae_op_begin(t, "mean_axis", 1, &x)) return NULL;
  int a = norm_axis(t, "mean_axis", x->t.shape, axis);
  if (a < 0) return NULL;
  return ae_scale(t, ae_sum_axis(t, x, a, keepdim), (ae_real)(1.0 / (double)x->t.shape.d[a]));
}

/* y[oi] = max_k x[o, k, i] and a 1 in the mask at the (first) argmax. */
static inline void max_axis_one(axis_view v, const ae_real *px, ae_real *py, ae_real *pm, int64_t oi) {
  int64_t o = oi / v.inner, i = oi % v.inner, base = o * v.n * v.inner + i, best = 0;
  for (int64_t k = 1; k < v.n; k++)
    if (px[base + k * v.inner] > px[base + best * v.inner]) best = k;
  py[oi] = px[base + best * v.inner];
  pm[base + best * v.inner] = 1;
}

/* Max along an axis; saves a one-hot mask of the (first) argmax, which
 * backward multiplies by: a constant, so the rule is differentiable. */
ae_val *ae_max_axis(ae_tape *t, ae_val *x, int axis, int keepdim) {
  if (!ae_op_begin(t, "max_axis", 1, &x)) return NULL;
  int a = norm_axis(t, "max_axis", x->t.shape, axis);
  if (a < 0) return NULL;
  ae_val *y = ae_op_out(t, "max_axis", reduced_shape(x->t.shape, a, keepdim));
  ae_val *mask = ae_op_out(t, "max_axis", x->t.shape);
  if (!y || !mask) return NULL;
  axis_view v = view_of(x->t.shape, a);
  memset(mask->t.data, 0, (size_t)mask->t.numel * sizeof(ae_real));
  AE_PAR_FOR(AE_PAR(x->t.numel), schedule(static),
             for (int64_t oi = 0; oi < v.outer * v.inner; oi++)
                 max_axis_one(v, x->t.data, y->t.data, mask->t.data, oi););
  ae_node *n = ae_op_record(t, AE_OP_MAX_AXIS, y, 1, &x);
  if (n) {
    n->i[0] = a;
    n->saved[0] = mask;
  }
  return y;
}
void ae_bw_max_axis(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_shape xs = n->in[0]->t.shape;
  ae_val *gk = ae_reshape(t, g, reduced_shape(xs, (int)n->i[0], 1));
  gin[0] = ae_mul(t, ae_broadcast_to(t, gk, xs), n->saved[0]);
}

/* Output row r (of length d[3]) of broadcast_to. */
static inline void broadcast_row(const ae_bcast *b, const ae_real *px, ae_real *py, int64_t r) {
  int64_t len = b->d[3];
  const ae_real *src = px + ae_bcast_off(b, r / (b->d[1] * b->d[2]), r / b->d[2] % b->d[1], r % b->d[2], 0);
  ae_real *dst = py + r * len;
  if (b->sx[3])
    memcpy(dst, src, (size_t)len * sizeof(ae_real));
  else
    for (int64_t i = 0; i < len; i++) dst[i] = src[0];
}

ae_val *ae_broadcast_to(ae_tape *t, ae_val *x, ae_shape s) {
  if (!ae_op_begin(t, "broadcast_to", 1, &x)) return NULL;
  if (!ae_broadcasts_to(x->t.shape, s)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, "broadcast_to", "%s does not broadcast to %s", ae_sstr(x->t.shape, a), ae_sstr(s, b));
    return NULL;
  }
  ae_val *y = ae_op_out(t, "broadcast_to", s);
  if (!y) return NULL;
  ae_bcast b = ae_bcast_make(x->t.shape, s);
  int64_t rows = b.d[0] * b.d[1] * b.d[2];
  AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static),
             for (int64_t r = 0; r < rows; r++) broadcast_row(&b, x->t.data, y->t.data, r););
  ae_op_record(t, AE_OP_BROADCAST_TO, y, 1, &x);
  return y;
}
void ae_bw_broadcast_to(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_sum_to(t, g, n->in[0]->t.shape);
}

/* Sums x down to shape s (s must broadcast to x's shape): one axis
 * reduction per broadcast dimension, through arena scratch. */
ae_val *ae_sum_to(ae_tape *t, ae_val *x, ae_shape s) {
  if (!ae_op_begin(t, "sum_to", 1, &x)) return NULL;
  if (!ae_broadcasts_to(s, x->t.shape)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, "sum_to", "%s cannot be summed to %s", ae_sstr(x->t.shape, a), ae_sstr(s, b));
    return NULL;
  }
  ae_val *y = ae_op_out(t, "sum_to", s);
  if (!y) return NULL;
  ae_shape cur = x->t.shape; /* reduce in place of a padded copy of x's shape */
  const ae_real *src = x->t.data;
  int off = cur.ndim - s.ndim;
  int last = -1; /* the last axis that needs a reduction */
  for (int k = 0; k < cur.ndim; k++)
    if ((k < off || s.d[k - off] == 1) && cur.d[k] != 1) last = k;
  if (last < 0) memcpy(y->t.data, src, (size_t)y->t.numel * sizeof(ae_real));
  for (int k = 0; k <= last; k++) {
    if (!((k < off || s.d[k - off] == 1) && cur.d[k] != 1)) continue;
    axis_view v = view_of(cur, k);
    ae_real *dst = k == last ? y->t.data : ae_arena_alloc(t, "sum_to", (size_t)(v.outer * v.inner) * sizeof(ae_real));
    if (!dst) return NULL;
    sum_axis_kernel(v, src, dst);
    cur.d[k] = 1;
    src = dst;
  }
  ae_op_record(t, AE_OP_SUM_TO, y, 1, &x);
  return y;
}
void ae_bw_sum_to(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_broadcast_to(t, g, n->in[0]->t.shape);
}
