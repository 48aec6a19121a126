/* softmax.c: softmax and log-softmax along an axis, numerically stable:
 * with m the max along the axis and s = sum exp(x - m),
 *   softmax(x) = exp(x - m) / s,   log_softmax(x) = x - m - log s.
 * Backward rules, in differentiable ops (so they differentiate again):
 *   softmax y:      dx = y * (g - sum(g * y, axis))
 *   log_softmax y:  dx = g - exp(y) * sum(g, axis)
 * The max and the sum are taken per output element in a fixed order (sums
 * in double), so results do not depend on the thread count. Scratch (the
 * max and the sums, and exp for log_softmax) lives in the tape's arena. */
#include <math.h>
#include <string.h>

#include "axis_view.h"
#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "tensor_ops.h"
#include "base/vmath.h"

enum { BLK = 64 }; /* columns reduced together when inner > 1 */

/* m[o,i] = max_k x[o,k,i]. */
static void max_kernel(axis_view v, const ae_real *x, ae_real *m) {
  int64_t nblk = (v.inner + BLK - 1) / BLK, jobs = v.outer * nblk;
  AE_PAR_FOR(jobs > 1 && AE_PAR(v.outer * v.n * v.inner), schedule(static),
  for (int64_t job = 0; job < jobs; job++) {
    int64_t o = job / nblk, i0 = job % nblk * BLK, len = v.inner - i0 < BLK ? v.inner - i0 : BLK;
    const ae_real *base = x + o * v.n * v.inner + i0;
    ae_real *mo = m + o * v.inner + i0;
    for (int64_t i = 0; i < len; i++) mo[i] = base[i];
    for (int64_t k = 1; k < v.n; k++)
      for (int64_t i = 0; i < len; i++) mo[i] = base[k * v.inner + i] > mo[i] ? base[k * v.inner + i] : mo[i];
  });
}

/* s[o,i] = sum_k e[o,k,i], in double, k in order. */
static void sum_kernel(axis_view v, const ae_real *e, double *s) {
  int64_t nblk = (v.inner + BLK - 1) / BLK, jobs = v.outer * nblk;
  AE_PAR_FOR(jobs > 1 && AE_PAR(v.outer * v.n * v.inner), schedule(static),
  for (int64_t job = 0; job < jobs; job++) {
    int64_t o = job / nblk, i0 = job % nblk * BLK, len = v.inner - i0 < BLK ? v.inner - i0 : BLK;
    double acc[BLK] = {0};
    const ae_real *base = e + o * v.n * v.inner + i0;
    for (int64_t k = 0; k < v.n; k++)
      for (int64_t i = 0; i < len; i++) acc[i] += base[k * v.inner + i];
    for (int64_t i = 0; i < len; i++) s[o * v.inner + i0 + i] = acc[i];
  });
}

/* softmax (take_log = 0) or log_softmax (take_log = 1) of x along axis. */
static ae_val *softmax_common(ae_tape *t, const char *op, int id, ae_val *x, int axis, int take_log) {
  if (!ae_op_begin(t, op, 1, &x)) return NULL;
  ae_shape sh = x->t.shape;
  int a = axis < 0 ? axis + sh.ndim : axis;
  if (a < 0 || a >= sh.ndim) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, op, "axis %d is out of range for shape %s", axis, ae_sstr(sh, b));
    return NULL;
  }
  axis_view v = view_of(sh, a);
  int64_t nred = v.outer * v.inner, numel = x->t.numel, rows = v.outer * v.n;
  ae_val *y = ae_op_out(t, op, sh);
  ae_real *m = ae_arena_alloc(t, op, (size_t)nred * sizeof(ae_real));
  double *s = ae_arena_alloc(t, op, (size_t)nred * sizeof(double));
  ae_real *e = take_log ? ae_arena_alloc(t, op, (size_t)numel * sizeof(ae_real)) : y ? y->t.data : NULL;
  if (!y || !m || !s || !e) return NULL;
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data;

  max_kernel(v, px, m);
  AE_PAR_FOR(rows > 1 && AE_PAR(numel), schedule(static),
  for (int64_t r = 0; r < rows; r++) { /* e = x - m, row r = (o, k) */
    const ae_real *mo = m + r / v.n * v.inner, *xr = px + r * v.inner;
    ae_real *er = e + r * v.inner;
    for (int64_t i = 0; i < v.inner; i++) er[i] = xr[i] - mo[i];
  });
  ae_v_exp(numel, e, e);
  sum_kernel(v, e, s);
  if (take_log) {
    for (int64_t j = 0; j < nred; j++) s[j] = (double)m[j] + log(s[j]); /* m + log s */
    AE_PAR_FOR(rows > 1 && AE_PAR(numel), schedule(static),
    for (int64_t r = 0; r < rows; r++) {
      const double *so = s + r / v.n * v.inner;
      const ae_real *xr = px + r * v.inner;
      ae_real *yr = py + r * v.inner;
      for (int64_t i = 0; i < v.inner; i++) yr[i] = (ae_real)((double)xr[i] - so[i]);
    });
  } else {
    for (int64_t j = 0; j < nred; j++) s[j] = 1.0 / s[j];
    AE_PAR_FOR(rows > 1 && AE_PAR(numel), schedule(static),
    for (int64_t r = 0; r < rows; r++) {
      const double *so = s + r / v.n * v.inner;
      ae_real *yr = py + r * v.inner;
      for (int64_t i = 0; i < v.inner; i++) yr[i] = (ae_real)(yr[i] * so[i]);
    });
  }
  ae_node *n = ae_op_record(t, id, y, 1, &x);
  if (n) n->i[0] = a;
  return y;
}

ae_val *ae_softmax(ae_tape *t, ae_val *x, int axis) {
  return softmax_common(t, "softmax", AE_OP_SOFTMAX, x, axis, 0);
}
void ae_bw_softmax(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *y = n->out;
  ae_val *dot = ae_sum_axis(t, ae_mul(t, g, y), (int)n->i[0], 1);
  gin[0] = ae_mul(t, y, ae_sub(t, g, dot));
}

ae_val *ae_log_softmax(ae_tape *t, ae_val *x, int axis) {
  return softmax_common(t, "log_softmax", AE_OP_LOG_SOFTMAX, x, axis, 1);
}
void ae_bw_log_softmax(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *p = ae_exp(t, n->out); /* softmax(x) */
  gin[0] = ae_sub(t, g, ae_mul(t, p, ae_sum_axis(t, g, (int)n->i[0], 1)));
}
