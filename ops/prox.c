/* prox.c: the soft-threshold (shrink) op, the proximal operator of
 * lambda ||x||_1, with its backward rule, and the ISTA / FISTA step
 * helpers of noise.h built from it and other ops. */
#include <math.h>

#include "noise.h"
#include "unary.h"

ae_val *ae_shrink(ae_tape *t, ae_val *x, ae_real lambda) {
  if (!ae_op_begin(t, "shrink", 1, &x)) return NULL;
  if (!(lambda >= 0)) {
    ae_raise(t, AE_ERR_ARG, "shrink", "threshold lambda %g is negative", (double)lambda);
    return NULL;
  }
  ae_val *y = ae_unary_begin(t, "shrink", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v > lambda ? v - lambda : (v < -lambda ? v + lambda : 0));
  ae_node *n = ae_op_record(t, AE_OP_SHRINK, y, 1, &x);
  if (n) n->f[0] = lambda;
  return y;
}
/* d shrink = [|x| > lambda], a constant mask: the rule is linear in g. */
void ae_bw_shrink(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_real lambda = (ae_real)n->f[0];
  ae_val *mask = AE_CONST_MAP(t, "shrink", n->in[0], (ae_real)(v > lambda || v < -lambda));
  gin[0] = ae_mul(t, g, mask);
}

ae_val *ae_ista_step(ae_tape *t, ae_val *h, ae_val *grad_h, ae_real step, ae_real lambda) {
  ae_val *in[2] = {h, grad_h};
  if (!ae_op_begin(t, "ista_step", 2, in)) return NULL;
  if (!ae_shape_eq(h->t.shape, grad_h->t.shape)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, "ista_step", "code h has shape %s but its gradient has shape %s",
             ae_sstr(h->t.shape, a), ae_sstr(grad_h->t.shape, b));
    return NULL;
  }
  if (!(step > 0) || !(lambda >= 0)) {
    ae_raise(t, AE_ERR_ARG, "ista_step", "need step > 0 and lambda >= 0, got step %g, lambda %g", (double)step,
             (double)lambda);
    return NULL;
  }
  return ae_shrink(t, ae_sub(t, h, ae_scale(t, grad_h, step)), step * lambda);
}

ae_val *ae_fista_extrapolate(ae_tape *t, ae_val *h_new, ae_val *h_old, double *tk) {
  ae_val *in[2] = {h_new, h_old};
  if (!ae_op_begin(t, "fista_extrapolate", 2, in)) return NULL;
  if (!ae_shape_eq(h_new->t.shape, h_old->t.shape) || !tk || !(*tk >= 1)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ARG, "fista_extrapolate", "need equal shapes (got %s and %s) and a momentum t_k >= 1 (got %g)",
             ae_sstr(h_new->t.shape, a), ae_sstr(h_old->t.shape, b), tk ? *tk : NAN);
    return NULL;
  }
  double tn = (1 + sqrt(1 + 4 * *tk * *tk)) / 2, beta = (*tk - 1) / tn;
  ae_val *y = ae_add(t, h_new, ae_scale(t, ae_sub(t, h_new, h_old), (ae_real)beta));
  if (y) *tk = tn;
  return y;
}
