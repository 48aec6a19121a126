/* tensor_ops.c: concat, slice, pad_axis and repeat (ops with backward
 * rules), and select / stack (composites of them and reshape).
 *   concat   -> slices of g          slice  -> pad_axis of g (zeros around)
 *   pad_axis -> slice of g           repeat -> sum of g over the new axis
 * Every value is seen as (outer, n, inner) around the axis, so each kernel
 * is a loop of memcpy'd contiguous rows of n*inner or inner elements. */
#include <string.h>

#include "axis_view.h"
#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "tensor_ops.h"

/* axis in [-nd, nd) -> [0, nd), else -1 with AE_ERR_ARG naming the shape. */
static int norm_axis(ae_tape *t, const char *op, ae_shape s, int axis, int nd) {
  int a = axis < 0 ? axis + nd : axis;
  if (a < 0 || a >= nd) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, op, "axis %d is out of range for %s of shape %s", axis,
             nd == s.ndim ? "a value" : "the result (one more axis) of a value", ae_sstr(s, b));
    return -1;
  }
  return a;
}

/* s with a new axis of size `size` at position a (0 <= a <= s.ndim < 4). */
static ae_shape insert_axis(ae_shape s, int a, int64_t size) {
  ae_shape r = s;
  r.ndim = s.ndim + 1;
  for (int k = s.ndim; k > a; k--) r.d[k] = s.d[k - 1];
  r.d[a] = size;
  return r;
}

/* rows rows of len elements, from src (row stride sstride) to dst (dstride). */
static void copy_rows(int64_t rows, int64_t len, ae_real *dst, int64_t dstride, const ae_real *src, int64_t sstride) {
  size_t bytes = (size_t)len * sizeof(ae_real);
  AE_PAR_FOR(rows > 1 && AE_PAR(rows * len), schedule(static),
  for (int64_t r = 0; r < rows; r++) memcpy(dst + r * dstride, src + r * sstride, bytes););
}

/* ---- concat ---------------------------------------------------------------- */

/* One concat of n inputs in a single pass; records a node when n fits in
 * one (the caller only passes n > AE_MAX_IN when nothing will be recorded). */
static ae_val *concat_node(ae_tape *t, int n, ae_val *const *xs, int a) {
  ae_shape s = xs[0]->t.shape;
  s.d[a] = 0;
  for (int j = 0; j < n; j++) s.d[a] += xs[j]->t.shape.d[a];
  ae_val *y = ae_op_out(t, "concat", s);
  if (!y) return NULL;
  axis_view v = view_of(s, a);
  int64_t off = 0;
  for (int j = 0; j < n; j++) {
    int64_t nj = xs[j]->t.shape.d[a];
    copy_rows(v.outer, nj * v.inner, y->t.data + off * v.inner, v.n * v.inner, xs[j]->t.data, nj * v.inner);
    off += nj;
  }
  ae_node *nd = ae_op_record(t, AE_OP_CONCAT, y, n <= AE_MAX_IN ? n : 0, xs);
  if (nd) nd->i[0] = a;
  return y;
}

/* A tree of concats of at most AE_MAX_IN inputs: n split into 4 groups. */
static ae_val *concat_tree(ae_tape *t, int n, ae_val *const *xs, int a) {
  if (n == 1) return xs[0];
  if (n <= AE_MAX_IN) return concat_node(t, n, xs, a);
  ae_val *part[AE_MAX_IN];
  int at = 0;
  for (int k = 0; k < AE_MAX_IN; k++) {
    int len = n / AE_MAX_IN + (k < n % AE_MAX_IN);
    part[k] = concat_tree(t, len, xs + at, a);
    if (!part[k]) return NULL;
    at += len;
  }
  return concat_node(t, AE_MAX_IN, part, a);
}

ae_val *ae_concat(ae_tape *t, int n, ae_val *const *xs, int axis) {
  if (!t || !ae_tape_ok(t)) return NULL;
  if (n < 1 || !xs) {
    ae_raise(t, AE_ERR_ARG, "concat", "needs at least one input (got n = %d%s)", n, xs ? "" : ", xs NULL");
    return NULL;
  }
  if (!ae_op_begin(t, "concat", n, xs)) return NULL;
  ae_shape s0 = xs[0]->t.shape;
  int a = norm_axis(t, "concat", s0, axis, s0.ndim);
  if (a < 0) return NULL;
  int rec = 0;
  for (int j = 0; j < n; j++) {
    ae_shape sj = xs[j]->t.shape;
    int fits = sj.ndim == s0.ndim;
    for (int k = 0; k < s0.ndim && fits; k++) fits = k == a || sj.d[k] == s0.d[k];
    if (!fits) {
      char b0[AE_SHAPE_BUF], bj[AE_SHAPE_BUF];
      ae_raise(t, AE_ERR_SHAPE, "concat", "xs[%d] has shape %s but xs[0] has shape %s: shapes must match except along axis %d",
               j, ae_sstr(sj, bj), ae_sstr(s0, b0), a);
      return NULL;
    }
    rec |= xs[j]->requires_grad;
  }
  if (n <= AE_MAX_IN || !rec || !ae_grad_enabled(t)) return concat_node(t, n, xs, a);
  return concat_tree(t, n, xs, a);
}
void ae_bw_concat(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  int a = (int)n->i[0];
  int64_t off = 0;
  for (int j = 0; j < n->nin; j++) {
    int64_t len = n->in[j]->t.shape.d[a];
    if (ae_needs_grad(t, n, j)) gin[j] = ae_slice(t, g, a, off, len);
    off += len;
  }
}

/* ---- slice and its backward, pad_axis ------------------------------------------ */

ae_val *ae_slice(ae_tape *t, ae_val *x, int axis, int64_t start, int64_t len) {
  if (!ae_op_begin(t, "slice", 1, &x)) return NULL;
  ae_shape s = x->t.shape;
  int a = norm_axis(t, "slice", s, axis, s.ndim);
  if (a < 0) return NULL;
  if (start < 0 || len < 1 || start > s.d[a] - len) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, "slice", "elements [%lld, %lld) are out of range for axis %d (size %lld) of shape %s",
             (long long)start, (long long)start + (long long)len, a, (long long)s.d[a], ae_sstr(s, b));
    return NULL;
  }
  s.d[a] = len;
  ae_val *y = ae_op_out(t, "slice", s);
  if (!y) return NULL;
  axis_view v = view_of(x->t.shape, a);
  copy_rows(v.outer, len * v.inner, y->t.data, len * v.inner, x->t.data + start * v.inner, v.n * v.inner);
  ae_node *n = ae_op_record(t, AE_OP_SLICE, y, 1, &x);
  if (n) n->i[0] = a, n->i[1] = start;
  return y;
}
void ae_bw_slice(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  int a = (int)n->i[0];
  int64_t start = n->i[1], len = n->out->t.shape.d[a];
  gin[0] = ae_pad_axis(t, g, a, start, n->in[0]->t.shape.d[a] - start - len);
}

ae_val *ae_pad_axis(ae_tape *t, ae_val *x, int axis, int64_t before, int64_t after) {
  if (!ae_op_begin(t, "pad_axis", 1, &x)) return NULL;
  ae_shape s = x->t.shape;
  int a = norm_axis(t, "pad_axis", s, axis, s.ndim);
  if (a < 0) return NULL;
  if (before < 0 || after < 0) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, "pad_axis", "padding %lld before and %lld after axis %d of %s: both must be >= 0",
             (long long)before, (long long)after, a, ae_sstr(s, b));
    return NULL;
  }
  s.d[a] += before + after;
  ae_val *y = ae_op_out(t, "pad_axis", s);
  if (!y) return NULL;
  axis_view v = view_of(s, a);
  int64_t nx = x->t.shape.d[a], row = v.n * v.inner;
  size_t zb = (size_t)(before * v.inner) * sizeof(ae_real), za = (size_t)(after * v.inner) * sizeof(ae_real);
  size_t xb = (size_t)(nx * v.inner) * sizeof(ae_real);
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data;
  AE_PAR_FOR(v.outer > 1 && AE_PAR(y->t.numel), schedule(static),
  for (int64_t o = 0; o < v.outer; o++) {
    ae_real *dst = py + o * row;
    memset(dst, 0, zb);
    memcpy(dst + before * v.inner, px + o * nx * v.inner, xb);
    memset(dst + (before + nx) * v.inner, 0, za);
  });
  ae_node *n = ae_op_record(t, AE_OP_PAD_AXIS, y, 1, &x);
  if (n) n->i[0] = a, n->i[1] = before;
  return y;
}
void ae_bw_pad_axis(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  int a = (int)n->i[0];
  gin[0] = ae_slice(t, g, a, n->i[1], n->in[0]->t.shape.d[a]);
}

ae_val *ae_select(ae_tape *t, ae_val *x, int axis, int64_t index) {
  if (!ae_op_begin(t, "select", 1, &x)) return NULL;
  ae_shape s = x->t.shape;
  int a = norm_axis(t, "select", s, axis, s.ndim);
  if (a < 0) return NULL;
  int64_t i = index < 0 ? index + s.d[a] : index;
  if (i < 0 || i >= s.d[a]) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, "select", "index %lld is out of range for axis %d (size %lld) of shape %s",
             (long long)index, a, (long long)s.d[a], ae_sstr(s, b));
    return NULL;
  }
  ae_shape r = s; /* s without axis a */
  for (int k = a; k < s.ndim - 1; k++) r.d[k] = s.d[k + 1];
  r.d[s.ndim - 1] = 1;
  r.ndim = s.ndim - 1;
  return ae_reshape(t, ae_slice(t, x, a, i, 1), r);
}

/* ---- stack and repeat: a new axis --------------------------------------------- */

ae_val *ae_stack(ae_tape *t, int n, ae_val *const *xs, int axis) {
  if (!t || !ae_tape_ok(t)) return NULL;
  if (n < 1 || !xs) {
    ae_raise(t, AE_ERR_ARG, "stack", "needs at least one input (got n = %d%s)", n, xs ? "" : ", xs NULL");
    return NULL;
  }
  if (!ae_op_begin(t, "stack", n, xs)) return NULL;
  ae_shape s0 = xs[0]->t.shape;
  char b0[AE_SHAPE_BUF], bj[AE_SHAPE_BUF];
  if (s0.ndim >= AE_MAX_DIMS) {
    ae_raise(t, AE_ERR_SHAPE, "stack", "inputs of shape %s have %d axes: the result would exceed %d", ae_sstr(s0, b0),
             s0.ndim, AE_MAX_DIMS);
    return NULL;
  }
  int a = norm_axis(t, "stack", s0, axis, s0.ndim + 1);
  if (a < 0) return NULL;
  for (int j = 1; j < n; j++)
    if (!ae_shape_eq(xs[j]->t.shape, s0)) {
      ae_raise(t, AE_ERR_SHAPE, "stack", "xs[%d] has shape %s but xs[0] has shape %s: all must be equal", j,
               ae_sstr(xs[j]->t.shape, bj), ae_sstr(s0, b0));
      return NULL;
    }
  ae_val **ys = ae_arena_alloc(t, "stack", sizeof *ys * (size_t)n);
  if (!ys) return NULL;
  ae_shape s1 = insert_axis(s0, a, 1);
  for (int j = 0; j < n; j++)
    if (!(ys[j] = ae_reshape(t, xs[j], s1))) return NULL;
  return ae_concat(t, n, ys, a);
}

ae_val *ae_repeat(ae_tape *t, ae_val *x, int axis, int64_t n) {
  if (!ae_op_begin(t, "repeat", 1, &x)) return NULL;
  ae_shape s = x->t.shape;
  char b[AE_SHAPE_BUF];
  if (s.ndim >= AE_MAX_DIMS) {
    ae_raise(t, AE_ERR_SHAPE, "repeat", "x of shape %s has %d axes: the result would exceed %d", ae_sstr(s, b),
             s.ndim, AE_MAX_DIMS);
    return NULL;
  }
  int a = norm_axis(t, "repeat", s, axis, s.ndim + 1);
  if (a < 0) return NULL;
  if (n < 1) {
    ae_raise(t, AE_ERR_ARG, "repeat", "n = %lld repeats of x of shape %s: n must be >= 1", (long long)n,
             ae_sstr(s, b));
    return NULL;
  }
  ae_shape r = insert_axis(s, a, n);
  ae_val *y = ae_op_out(t, "repeat", r);
  if (!y) return NULL;
  axis_view v = view_of(r, a); /* x is (outer, inner); y is (outer, n, inner) */
  size_t bytes = (size_t)v.inner * sizeof(ae_real);
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data;
  AE_PAR_FOR(v.outer * n > 1 && AE_PAR(y->t.numel), schedule(static),
  for (int64_t row = 0; row < v.outer * n; row++) memcpy(py + row * v.inner, px + row / n * v.inner, bytes););
  ae_node *nd = ae_op_record(t, AE_OP_REPEAT, y, 1, &x);
  if (nd) nd->i[0] = a;
  return y;
}
void ae_bw_repeat(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_sum_axis(t, g, (int)n->i[0], 0);
}
