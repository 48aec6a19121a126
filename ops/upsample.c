/* upsample.c: nearest-neighbour upsampling of NCHW values by an integer
 * factor and its adjoint, the sum over each f x f block, each the other's
 * backward rule (both linear); and the global average pool, a composite
 * (reshape + mean_axis) with no rule of its own. Kernels go parallel over
 * output rows, each row written by one iteration. */

#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "pool.h"

static int check(ae_tape *t, const char *op, ae_val *x, int factor) {
  if (!ae_op_begin(t, op, 1, &x)) return 0;
  char s[AE_SHAPE_BUF];
  if (x->t.shape.ndim != 4) {
    ae_raise(t, AE_ERR_SHAPE, op, "the input must be 4-D (N,C,H,W), got %s", ae_sstr(x->t.shape, s));
    return 0;
  }
  if (factor < 1) {
    ae_raise(t, AE_ERR_ARG, op, "factor %d must be >= 1 (input %s)", factor, ae_sstr(x->t.shape, s));
    return 0;
  }
  return 1;
}

ae_val *ae_upsample_nearest(ae_tape *t, ae_val *x, int factor) {
  const char *op = "upsample_nearest";
  if (!check(t, op, x, factor)) return NULL;
  ae_shape xs = x->t.shape;
  int64_t f = factor, h = xs.d[2], w = xs.d[3], ow = w * f;
  ae_val *y = ae_op_out(t, op, AE_SHAPE(xs.d[0], xs.d[1], h * f, ow));
  if (!y) return NULL;
  int64_t rows = xs.d[0] * xs.d[1] * h * f; /* output rows; row r reads input row r / f */
  const ae_real *px = x->t.data;
  ae_real *py = y->t.data;
  if (f == 2) { /* the zoo's factor: both output rows of an input row in one vectorised pass */
    AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static),
    for (int64_t r = 0; r < rows / 2; r++) {
      const ae_real *src = px + r * w;
      ae_real *restrict d0 = py + 2 * r * ow, *restrict d1 = d0 + ow;
      for (int64_t j = 0; j < w; j++) {
        ae_real v = src[j];
        d0[2 * j] = v, d0[2 * j + 1] = v, d1[2 * j] = v, d1[2 * j + 1] = v;
      }
    });
  } else
  AE_PAR_FOR(AE_PAR(y->t.numel), schedule(static),
  for (int64_t r = 0; r < rows; r++) {
    const ae_real *src = px + r / f * w;
    ae_real *dst = py + r * ow;
    for (int64_t j = 0; j < w; j++)
      for (int64_t e = 0; e < f; e++) dst[j * f + e] = src[j];
  });
  ae_node *n = ae_op_record(t, AE_OP_UPSAMPLE_NEAREST, y, 1, &x);
  if (n) n->i[0] = factor;
  return y;
}
void ae_bw_upsample_nearest(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_upsample_nearest_backward(t, g, (int)n->i[0]);
}

ae_val *ae_upsample_nearest_backward(ae_tape *t, ae_val *g, int factor) {
  const char *op = "upsample_nearest_backward";
  if (!check(t, op, g, factor)) return NULL;
  ae_shape gs = g->t.shape;
  int64_t f = factor, gw = gs.d[3];
  if (gs.d[2] % f || gw % f) {
    char s[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "gradient %s: H and W must be multiples of the factor %d", ae_sstr(gs, s), factor);
    return NULL;
  }
  int64_t h = gs.d[2] / f, w = gw / f;
  ae_val *y = ae_op_out(t, op, AE_SHAPE(gs.d[0], gs.d[1], h, w));
  if (!y) return NULL;
  int64_t rows = gs.d[0] * gs.d[1] * h; /* output rows; row r sums gradient rows r f .. r f + f - 1 */
  const ae_real *pg = g->t.data;
  ae_real *py = y->t.data;
  if (f == 2) { /* the zoo's factor: (top pair) + (bottom pair), a loop GCC vectorises */
    AE_PAR_FOR(AE_PAR(g->t.numel), schedule(static),
    for (int64_t r = 0; r < rows; r++) {
      const ae_real *restrict s0 = pg + r * 2 * gw, *restrict s1 = s0 + gw;
      ae_real *restrict d = py + r * w;
      for (int64_t j = 0; j < w; j++) d[j] = (s0[2 * j] + s0[2 * j + 1]) + (s1[2 * j] + s1[2 * j + 1]);
    });
  } else
  AE_PAR_FOR(AE_PAR(g->t.numel), schedule(static),
  for (int64_t r = 0; r < rows; r++) {
    const ae_real *src = pg + r * f * gw;
    for (int64_t j = 0; j < w; j++) {
      double acc = 0;
      for (int64_t a = 0; a < f; a++)
        for (int64_t e = 0; e < f; e++) acc += src[a * gw + j * f + e];
      py[r * w + j] = (ae_real)acc;
    }
  });
  ae_node *n = ae_op_record(t, AE_OP_UPSAMPLE_NEAREST_BACKWARD, y, 1, &g);
  if (n) n->i[0] = factor;
  return y;
}
void ae_bw_upsample_nearest_backward(ae_tape *t, const ae_node *n, ae_val *gg, ae_val **gin) {
  gin[0] = ae_upsample_nearest(t, gg, (int)n->i[0]);
}

ae_val *ae_global_avg_pool(ae_tape *t, ae_val *x) {
  const char *op = "global_avg_pool";
  if (!ae_op_begin(t, op, 1, &x)) return NULL;
  ae_shape s = x->t.shape;
  if (s.ndim != 4) {
    char b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, op, "the input must be 4-D (N,C,H,W), got %s", ae_sstr(s, b));
    return NULL;
  }
  return ae_mean_axis(t, ae_reshape(t, x, AE_SHAPE(s.d[0], s.d[1], s.d[2] * s.d[3])), 2, 0);
}
