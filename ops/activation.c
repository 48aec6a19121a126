/* activation.c: relu, leaky relu, sigmoid, tanh, and their fused backward
 * kernels. Each fused kernel is an op with its own backward rule (as
 * PyTorch's sigmoid_backward), so activations differentiate to any order:
 *   sigmoid_backward(g, y) = g y (1 - y):  d/dg -> sigmoid_backward(gg, y),  d/dy -> gg g (1 - 2y)
 *   tanh_backward(g, y)    = g (1 - y^2):  d/dg -> tanh_backward(gg, y),     d/dy -> -2 gg g y
 *   relu_backward(g, x)    = g [x > 0]:    d/dg -> relu_backward(gg, x),     d/dx = 0 a.e.
 * relu'(0) = 0 as in PyTorch. */
#include "unary.h"

ae_val *ae_relu(ae_tape *t, ae_val *x) {
  ae_val *y = ae_unary_begin(t, "relu", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v > 0 ? v : 0);
  ae_op_record(t, AE_OP_RELU, y, 1, &x);
  return y;
}
void ae_bw_relu(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) { gin[0] = ae_relu_backward(t, g, n->in[0]); }

static ae_val *fused_begin(ae_tape *t, const char *name, ae_val *g, ae_val *x) {
  ae_val *in[2] = {g, x};
  if (!ae_op_begin(t, name, 2, in)) return NULL;
  if (!ae_shape_eq(g->t.shape, x->t.shape)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, name, "gradient %s and saved value %s differ in shape", ae_sstr(g->t.shape, a),
             ae_sstr(x->t.shape, b));
    return NULL;
  }
  return ae_op_out(t, name, x->t.shape);
}

ae_val *ae_relu_backward(ae_tape *t, ae_val *g, ae_val *x) {
  ae_val *y = fused_begin(t, "relu_backward", g, x);
  if (!y) return NULL;
  AE_MAP2(x->t.numel, y->t.data, g->t.data, x->t.data, v > 0 ? g : 0);
  ae_op_record(t, AE_OP_RELU_BACKWARD, y, 2, (ae_val *[]){g, x});
  return y;
}
void ae_bw_relu_backward(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_relu_backward(t, g, n->in[1]);
}

ae_val *ae_leaky_relu(ae_tape *t, ae_val *x, ae_real s) {
  ae_val *y = ae_unary_begin(t, "leaky_relu", x);
  if (!y) return NULL;
  AE_MAP(x->t.numel, y->t.data, x->t.data, v > 0 ? v : s * v);
  ae_node *n = ae_op_record(t, AE_OP_LEAKY_RELU, y, 1, &x);
  if (n) n->f[0] = s;
  return y;
}
void ae_bw_leaky_relu(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_leaky_relu_backward(t, g, n->in[0], (ae_real)n->f[0]);
}

ae_val *ae_leaky_relu_backward(ae_tape *t, ae_val *g, ae_val *x, ae_real s) {
  ae_val *y = fused_begin(t, "leaky_relu_backward", g, x);
  if (!y) return NULL;
  AE_MAP2(x->t.numel, y->t.data, g->t.data, x->t.data, v > 0 ? g : s * g);
  ae_node *n = ae_op_record(t, AE_OP_LEAKY_RELU_BACKWARD, y, 2, (ae_val *[]){g, x});
  if (n) n->f[0] = s;
  return y;
}
void ae_bw_leaky_relu_backward(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_leaky_relu_backward(t, g, n->in[1], (ae_real)n->f[0]);
}

ae_val *ae_sigmoid(ae_tape *t, ae_val *x) {
  ae_val *y = ae_unary_begin(t, "sigmoid", x);
  if (!y) return NULL;
  ae_v_sigmoid(x->t.numel, x->t.data, y->t.data);
  ae_op_record(t, AE_OP_SIGMOID, y, 1, &x);
  return y;
}
void ae_bw_sigmoid(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  gin[0] = ae_sigmoid_backward(t, g, n->out);
}

ae_val *ae_sigmoid_backward(ae_tape *t, ae_val *g, ae_val *y) {
  ae_val *r = fused_begin(t, "sigmoid_backward", g, y);
  if (!r) return NULL;
  AE_MAP2(y->t.numel, r->t.data, g->t.data, y->t.data, g * v * (1 - v));
  ae_op_record(t, AE_OP_SIGMOID_BACKWARD, r, 2, (ae_val *[]){g, y});
  return r;
}
/* The y-gradients of sigmoid_backward and tanh_backward in a sweep
 * without create_graph, where nothing is recorded: one pass, not the three
 * or four ops below it, each element by the same operations in the same
 * order as those ops (-2 y is exact, so a contraction of -2 y + 1 into an
 * FMA rounds as they do): the same bits. In cae-deep's double backward
 * the ops' passes were 2.3% of the step. NULL (the caller then runs the
 * ops) when grad is enabled, which needs the ops to differentiate again. */
static ae_val *dy_in_one_pass(ae_tape *t, const char *name, ae_val *gg, ae_val *g, ae_val *y, int is_tanh) {
  if (ae_grad_enabled(t) || !ae_shape_eq(gg->t.shape, y->t.shape) || !ae_shape_eq(g->t.shape, y->t.shape))
    return NULL;
  if (!ae_op_begin(t, name, 3, (ae_val *[]){gg, g, y})) return NULL;
  ae_val *r = ae_op_out(t, name, y->t.shape);
  if (!r) return NULL;
  const ae_real *restrict a = gg->t.data, *restrict b = g->t.data, *restrict v = y->t.data;
  ae_real *restrict o = r->t.data;
  const int64_t n = y->t.numel;
  if (is_tanh) /* ae_scale(ae_mul(ae_mul(gg, g), y), -2) */
    AE_PAR_FOR(AE_PAR(n), simd, for (int64_t e = 0; e < n; e++) o[e] = (ae_real)-2 * ((a[e] * b[e]) * v[e]););
  else /* ae_mul(ae_mul(gg, g), ae_add_scalar(ae_scale(y, -2), 1)) */
    AE_PAR_FOR(AE_PAR(n), simd, for (int64_t e = 0; e < n; e++) o[e] = (a[e] * b[e]) * ((ae_real)-2 * v[e] + 1););
  ae_op_record(t, AE_OP_MUL, r, 2, (ae_val *[]){gg, g});
  return r;
}

void ae_bw_sigmoid_backward(ae_tape *t, const ae_node *n, ae_val *gg, ae_val **gin) {
  ae_val *g = n->in[0], *y = n->in[1];
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_sigmoid_backward(t, gg, y);
  if (ae_needs_grad(t, n, 1) && !(gin[1] = dy_in_one_pass(t, "sigmoid_backward", gg, g, y, 0)) && ae_tape_ok(t))
    gin[1] = ae_mul(t, ae_mul(t, gg, g), ae_add_scalar(t, ae_scale(t, y, -2), 1));
}

ae_val *ae_tanh(ae_tape *t, ae_val *x) {
  ae_val *y = ae_unary_begin(t, "tanh", x);
  if (!y) return NULL;
  ae_v_tanh(x->t.numel, x->t.data, y->t.data);
  ae_op_record(t, AE_OP_TANH, y, 1, &x);
  return y;
}
void ae_bw_tanh(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) { gin[0] = ae_tanh_backward(t, g, n->out); }

ae_val *ae_tanh_backward(ae_tape *t, ae_val *g, ae_val *y) {
  ae_val *r = fused_begin(t, "tanh_backward", g, y);
  if (!r) return NULL;
  AE_MAP2(y->t.numel, r->t.data, g->t.data, y->t.data, g * (1 - v * v));
  ae_op_record(t, AE_OP_TANH_BACKWARD, r, 2, (ae_val *[]){g, y});
  return r;
}
void ae_bw_tanh_backward(ae_tape *t, const ae_node *n, ae_val *gg, ae_val **gin) {
  ae_val *g = n->in[0], *y = n->in[1];
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_tanh_backward(t, gg, y);
  if (ae_needs_grad(t, n, 1) && !(gin[1] = dy_in_one_pass(t, "tanh_backward", gg, g, y, 1)) && ae_tape_ok(t))
    gin[1] = ae_scale(t, ae_mul(t, ae_mul(t, gg, g), y), -2);
}

ae_val *ae_activation(ae_tape *t, ae_act act, ae_val *x, ae_real slope) {
  switch (act) {
    case AE_ACT_RELU: return ae_relu(t, x);
    case AE_ACT_SIGMOID: return ae_sigmoid(t, x);
    case AE_ACT_TANH: return ae_tanh(t, x);
    case AE_ACT_LEAKY_RELU: return ae_leaky_relu(t, x, slope);
    default: return x;
  }
}

ae_val *ae_activation_backward(ae_tape *t, ae_act act, ae_val *g, ae_val *y, ae_real slope) {
  switch (act) {
    case AE_ACT_RELU: return ae_relu_backward(t, g, y);
    case AE_ACT_SIGMOID: return ae_sigmoid_backward(t, g, y);
    case AE_ACT_TANH: return ae_tanh_backward(t, g, y);
    case AE_ACT_LEAKY_RELU: return ae_leaky_relu_backward(t, g, y, slope);
    default: return g;
  }
}
