/* pointwise.c: unary arithmetic ops (neg, scale, add_scalar, square, pow,
 * abs, clamp) and their backward rules. Kinks (abs at 0, clamp at its
 * bounds) take PyTorch's subgradient choices: sign(0) = 0, and the clamp
 * passes the gradient on lo <= x <= hi. */
#include <math.h>

#include "unary.h"

ae_val *ae_neg(ae_tape *t, ae_val *x) {
  ae_val *y = ae_unary_begin(t, "neg", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, -v);
  ae_op_record(t, AE_OP_NEG, y, 1, &x);
  return y;
}
void ae_bw_neg(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  (void)n;
  gin[0] = ae_neg(t, g);
}

ae_val *ae_scale(ae_tape *t, ae_val *x, ae_real c) {
  ae_val *y = ae_unary_begin(t, "scale", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, c * v);
  ae_node *n = ae_op_record(t, AE_OP_SCALE, y, 1, &x);
  if (n) n->f[0] = c;
  return y;
}
void ae_bw_scale(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) { gin[0] = ae_scale(t, g, (ae_real)n->f[0]); }

ae_val *ae_add_scalar(ae_tape *t, ae_val *x, ae_real c) {
  ae_val *y = ae_unary_begin(t, "add_scalar", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v + c);
  ae_op_record(t, AE_OP_ADD_SCALAR, y, 1, &x);
  return y;
}
void ae_bw_add_scalar(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  (void)t, (void)n;
  gin[0] = g;
}

ae_val *ae_one_minus(ae_tape *t, ae_val *x) { return ae_add_scalar(t, ae_neg(t, x), 1); }

ae_val *ae_square(ae_tape *t, ae_val *x) {
  ae_val *y = ae_unary_begin(t, "square", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v * v);
  ae_op_record(t, AE_OP_SQUARE, y, 1, &x);
  return y;
}
void ae_bw_square(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_mul(t, g, ae_scale(t, n->in[0], 2));
}

ae_val *ae_pow(ae_tape *t, ae_val *x, ae_real p) {
  ae_val *y = ae_unary_begin(t, "pow", x);
  if (!y) return NULL;
  ae_v_pow_scalar(x->t.numel, x->t.data, p, y->t.data);
  ae_node *n = ae_op_record(t, AE_OP_POW, y, 1, &x);
  if (n) n->f[0] = p;
  return y;
}
/* d x^p = p x^(p-1); p = 0 has no dependence on x. */
void ae_bw_pow(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_real p = (ae_real)n->f[0];
  if (p == 0) return;
  if (p == 1) {
    gin[0] = g;
    return;
  }
  gin[0] = ae_mul(t, g, ae_scale(t, ae_pow(t, n->in[0], p - 1), p));
}

ae_val *ae_abs(ae_tape *t, ae_val *x) {
  ae_val *y = ae_unary_begin(t, "abs", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v < 0 ? -v : v);
  ae_op_record(t, AE_OP_ABS, y, 1, &x);
  return y;
}
void ae_bw_abs(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *sign = AE_CONST_MAP(t, "abs", n->in[0], (ae_real)((v > 0) - (v < 0)));
  gin[0] = ae_mul(t, g, sign);
}

ae_val *ae_clamp(ae_tape *t, ae_val *x, ae_real lo, ae_real hi) {
  if (!ae_op_begin(t, "clamp", 1, &x)) return NULL;
  if (!(lo <= hi)) {
    ae_raise(t, AE_ERR_ARG, "clamp", "lower bound %g is above upper bound %g", (double)lo, (double)hi);
    return NULL;
  }
  ae_val *y = ae_unary_begin(t, "clamp", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v < lo ? lo : (v > hi ? hi : v));
  ae_node *n = ae_op_record(t, AE_OP_CLAMP, y, 1, &x);
  if (n) n->f[0] = lo, n->f[1] = hi;
  return y;
}
void ae_bw_clamp(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_real lo = (ae_real)n->f[0], hi = (ae_real)n->f[1];
  ae_val *mask = AE_CONST_MAP(t, "clamp", n->in[0], (ae_real)(v >= lo && v <= hi));
  gin[0] = ae_mul(t, g, mask);
}
