/* transcendental.c: exp, log, sqrt, softplus and log-sigmoid (SLEEF
 * kernels from vmath.c) and their backward rules. */
#include "unary.h"

typedef void (*vfn)(int64_t, const ae_real *, ae_real *);

static ae_val *map_op(ae_tape *t, int op, const char *name, vfn f, ae_val *x) {
  ae_val *y = ae_unary_begin(t, name, x);
  if (!y) return NULL;
  f(x->t.numel, x->t.data, y->t.data);
  ae_op_record(t, op, y, 1, &x);
  return y;
}

ae_val *ae_exp(ae_tape *t, ae_val *x) { return map_op(t, AE_OP_EXP, "exp", ae_v_exp, x); }
ae_val *ae_log(ae_tape *t, ae_val *x) { return map_op(t, AE_OP_LOG, "log", ae_v_log, x); }
ae_val *ae_sqrt(ae_tape *t, ae_val *x) { return map_op(t, AE_OP_SQRT, "sqrt", ae_v_sqrt, x); }
ae_val *ae_softplus(ae_tape *t, ae_val *x) { return map_op(t, AE_OP_SOFTPLUS, "softplus", ae_v_softplus, x); }
ae_val *ae_log_sigmoid(ae_tape *t, ae_val *x) {
  return map_op(t, AE_OP_LOG_SIGMOID, "log_sigmoid", ae_v_log_sigmoid, x);
}

/* d e^x = e^x = y */
void ae_bw_exp(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) { gin[0] = ae_mul(t, g, n->out); }
/* d log x = 1/x */
void ae_bw_log(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) { gin[0] = ae_div(t, g, n->in[0]); }
/* d sqrt x = 1/(2 y) */
void ae_bw_sqrt(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_div(t, g, ae_scale(t, n->out, 2));
}
/* d softplus x = sigmoid(x) */
void ae_bw_softplus(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_mul(t, g, ae_sigmoid(t, n->in[0]));
}
/* d log sigmoid x = 1 - sigmoid(x) = sigmoid(-x) */
void ae_bw_log_sigmoid(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_mul(t, g, ae_sigmoid(t, ae_neg(t, n->in[0])));
}
