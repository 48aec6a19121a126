/* shape.c: reshape (shares the data: values are immutable) and transpose
 * of two axes, with their backward rules. */
#include <string.h>

#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"

ae_val *ae_reshape(ae_tape *t, ae_val *x, ae_shape s) {
  if (!ae_op_begin(t, "reshape", 1, &x)) return NULL;
  char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
  if (!ae_shape_valid(s) || ae_shape_numel(s) != x->t.numel) {
    ae_raise(t, AE_ERR_SHAPE, "reshape", "cannot reshape %s (%lld elements) to %s", ae_sstr(x->t.shape, a),
             (long long)x->t.numel, ae_sstr(s, b));
    return NULL;
  }
  ae_val *y = ae_arena_alloc(t, "reshape", sizeof *y);
  if (!y) return NULL;
  y->t = x->t;
  y->t.shape = s;
  y->node = -1;
  y->requires_grad = 0;
  y->param = NULL;
  ae_op_record(t, AE_OP_RESHAPE, y, 1, &x);
  return y;
}
void ae_bw_reshape(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_reshape(t, g, n->in[0]->t.shape);
}

/* Row r (of length yd[3]) of a transpose; ys: stride in x of each y dimension. */
static inline void transpose_row(const int64_t yd[4], const int64_t ys[4], const ae_real *px, ae_real *py, int64_t r) {
  int64_t i0 = r / (yd[1] * yd[2]), i1 = r / yd[2] % yd[1], i2 = r % yd[2], len = yd[3];
  const ae_real *src = px + i0 * ys[0] + i1 * ys[1] + i2 * ys[2];
  ae_real *dst = py + r * len;
  for (int64_t i = 0; i < len; i++) dst[i] = src[i * ys[3]];
}

/* y = x with axes d0 and d1 swapped, as padded 4-D index arithmetic. */
static void transpose_kernel(const ae_val *x, ae_val *y, int d0, int d1) {
  int off = 4 - x->t.shape.ndim;
  int64_t xd[4], xs[4], ys[4], yd[4];
  for (int k = 0; k < 4; k++) xd[k] = k >= off ? x->t.shape.d[k - off] : 1;
  xs[3] = 1;
  for (int k = 2; k >= 0; k--) xs[k] = xs[k + 1] * xd[k + 1];
  for (int k = 0; k < 4; k++) {
    yd[k] = xd[k];
    ys[k] = xs[k];
  }
  int p0 = d0 + off, p1 = d1 + off;
  yd[p0] = xd[p1], yd[p1] = xd[p0];
  ys[p0] = xs[p1], ys[p1] = xs[p0]; /* ys: stride in x of each y dimension */
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data;
  int64_t rows = yd[0] * yd[1] * yd[2];
  AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static),
             for (int64_t r = 0; r < rows; r++) transpose_row(yd, ys, px, py, r););
}

ae_val *ae_transpose(ae_tape *t, ae_val *x, int d0, int d1) {
  if (!ae_op_begin(t, "transpose", 1, &x)) return NULL;
  int nd = x->t.shape.ndim;
  int a = d0 < 0 ? d0 + nd : d0, b = d1 < 0 ? d1 + nd : d1;
  if (a < 0 || a >= nd || b < 0 || b >= nd) {
    char s[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, "transpose", "axes %d and %d are out of range for shape %s", d0, d1,
             ae_sstr(x->t.shape, s));
    return NULL;
  }
  ae_shape s = x->t.shape;
  s.d[a] = x->t.shape.d[b];
  s.d[b] = x->t.shape.d[a];
  ae_val *y = ae_op_out(t, "transpose", s);
  if (!y) return NULL;
  if (a == b)
    memcpy(y->t.data, x->t.data, (size_t)x->t.numel * sizeof(ae_real));
  else
    transpose_kernel(x, y, a < b ? a : b, a < b ? b : a);
  ae_node *n = ae_op_record(t, AE_OP_TRANSPOSE, y, 1, &x);
  if (n) n->i[0] = a, n->i[1] = b;
  return y;
}
void ae_bw_transpose(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_transpose(t, g, (int)n->i[0], (int)n->i[1]);
}

ae_val *ae_t(ae_tape *t, ae_val *x) {
  if (!ae_op_begin(t, "t", 1, &x)) return NULL;
  if (x->t.shape.ndim != 2) {
    char s[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, "t", "expects a 2-D value, got %s", ae_sstr(x->t.shape, s));
    return NULL;
  }
  return ae_transpose(t, x, 0, 1);
}
