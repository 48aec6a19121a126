/* rows/core.c: op-table rows for the core ops of ops/oplist.h (binary,
 * pointwise, transcendental, activation, reduce, shape, matmul), plus
 * composite rows (mean, mean_axis, linear, one_minus, t) tagged with the
 * op they mostly exercise. References are plain loops over flat indices in
 * double (libm only, no library kernel); inputs near kinks (abs, clamp,
 * relu, max) are moved away from them by the rows' init functions. */
#include <math.h>

#include "../op_table.h"

#define S(...) OP_SHAPE(__VA_ARGS__)

/* ---- index helpers (independent of ops/broadcast.h) ---- */

/* Flat offset in a value of shape `in` of the element that broadcasting
 * reads at flat index `flat` of shape `out` (numpy rules, aligned right). */
static int64_t bidx(ae_shape in, ae_shape out, int64_t flat) {
  int64_t off = 0, stride = 1;
  for (int k = out.ndim - 1, j = in.ndim - 1; k >= 0; k--, j--) {
    int64_t i = flat % out.d[k];
    flat /= out.d[k];
    if (j >= 0) {
      if (in.d[j] != 1) off += i * stride;
      stride *= in.d[j];
    }
  }
  return off;
}

static int norm_axis(int axis, int ndim) { return axis < 0 ? axis + ndim : axis; }

/* ---- input initialisers ---- */

/* |x| >= 0.1 (relu, leaky relu, abs kinks at 0): every input. */
static void init_away0(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r;
  for (int k = 0; k < row->nin; k++)
    for (int64_t i = 0; i < in[k]->numel; i++) {
      ae_real *v = &in[k]->data[i];
      if (fabs((double)*v) < 0.1) *v = *v < 0 ? *v - (ae_real)0.1 : *v + (ae_real)0.1;
    }
}

/* Divisor (input 1) from [-2, 2] to |b| in [0.5, 2]. */
static void init_den(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r, (void)row;
  for (int64_t i = 0; i < in[1]->numel; i++) {
    ae_real *v = &in[1]->data[i];
    *v = *v >= 0 ? (ae_real)0.5 + (ae_real)0.75 * *v : (ae_real)-0.5 + (ae_real)0.75 * *v;
  }
}

/* where: the condition (input 0) becomes 0/1. */
static void init_cond(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r, (void)row;
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = in[0]->data[i] > 0 ? 1 : 0;
}

/* clamp: at least 0.1 away from both bounds attr[0], attr[1] (which are
 * more than 0.4 apart). */
static void init_clamp(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r;
  for (int64_t i = 0; i < in[0]->numel; i++) {
    ae_real *v = &in[0]->data[i];
    for (int b = 0; b < 2; b++)
      if (fabs((double)*v - row->attr[b]) < 0.1) *v += (ae_real)0.2;
  }
}

/* sigmoid_backward / tanh_backward: the saved output (input 1) inside the
 * activation's range: [-2, 2] -> [0.05, 0.95] (sigmoid) or [-0.95, 0.95]. */
static void init_sig_y(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r, (void)row;
  for (int64_t i = 0; i < in[1]->numel; i++) in[1]->data[i] = (ae_real)0.5 + (ae_real)0.225 * in[1]->data[i];
}
static void init_tanh_y(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r, (void)row;
  for (int64_t i = 0; i < in[1]->numel; i++) in[1]->data[i] = (ae_real)0.475 * in[1]->data[i];
}

/* max_axis: distinct values 0.1 apart, in random order (Fisher-Yates). */
static void init_distinct(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)row;
  int64_t n = in[0]->numel;
  ae_real *x = in[0]->data;
  for (int64_t i = 0; i < n; i++) x[i] = (ae_real)(0.1 * (double)(i - n / 2));
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)(ae_rng_u64(r) % (uint64_t)(i + 1));
    ae_real tmp = x[i];
    x[i] = x[j];
    x[j] = tmp;
  }
}

/* linear with relu or leaky_relu: every pre-activation x w^T + b at least
 * 0.05 from the kink at 0, by drawing w (and b) again until it is (about
 * 0.4 of the draws pass at (3,5) outputs). */
static void init_linear_off_kink(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  const ae_tensor *x = in[0];
  int64_t m = x->shape.d[0], k = x->shape.d[1], n = in[1]->shape.d[0];
  for (int tries = 0; tries < 1000; tries++) {
    int ok = 1;
    for (int64_t i = 0; i < m && ok; i++)
      for (int64_t j = 0; j < n && ok; j++) {
        double z = row->nin > 2 ? (double)in[2]->data[j] : 0;
        for (int64_t p = 0; p < k; p++) z += (double)x->data[i * k + p] * (double)in[1]->data[j * k + p];
        ok = fabs(z) >= 0.05;
      }
    if (ok) return;
    for (int q = 1; q < row->nin; q++) ae_rng_uniform(r, in[q]->data, in[q]->numel, (ae_real)-1, (ae_real)1);
  }
}

/* Large |x| for the stable softplus / log_sigmoid forms. */
static void init_extreme(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  (void)r, (void)row;
  static const double v[] = {-100, -30, -20, -1e-3, 0, 20, 30, 100};
  for (int64_t i = 0; i < in[0]->numel; i++) in[0]->data[i] = (ae_real)v[i % 8];
}

/* ---- binary ---- */

static ae_val *b_binary(ae_tape *t, ae_val *const *in, const op_row *row) {
  switch (row->op) {
    case AE_OP_ADD: return ae_add(t, in[0], in[1]);
    case AE_OP_SUB: return ae_sub(t, in[0], in[1]);
    case AE_OP_MUL: return ae_mul(t, in[0], in[1]);
    default: return ae_div(t, in[0], in[1]);
  }
}
static void r_binary(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < out->numel; i++) {
    double a = in[0]->data[bidx(in[0]->shape, out->shape, i)], b = in[1]->data[bidx(in[1]->shape, out->shape, i)];
    double y = row->op == AE_OP_ADD ? a + b : row->op == AE_OP_SUB ? a - b : row->op == AE_OP_MUL ? a * b : a / b;
    out->data[i] = (ae_real)y;
  }
}

static ae_val *b_mul_self(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_mul(t, in[0], in[0]); }
static void r_square(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = (ae_real)((double)in[0]->data[i] * in[0]->data[i]);
}

static ae_val *b_where(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_where(t, in[0], in[1], in[2]); }
static void r_where(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < out->numel; i++) {
    ae_tensor *src = in[0]->data[i] != 0 ? in[1] : in[2];
    out->data[i] = src->data[src->numel == 1 ? 0 : i];
  }
}

#define BIN(ID, lab, A, B, OUT)                                                                                  \
  {.op = AE_OP_##ID, .label = #ID " " lab, .nin = 2, .in_shape = {A, B}, .lo = -2, .hi = 2, .build = b_binary, \
   .reference = r_binary, .out_shape = OUT, .init = AE_OP_##ID == AE_OP_DIV ? init_den : NULL}
#define BIN_ALL(ID)                                              \
  BIN(ID, "same shape", S(3, 4), S(3, 4), S(3, 4)),              \
  BIN(ID, "scalar b", S(3, 4), S(), S(3, 4)),                    \
  BIN(ID, "scalar a", S(), S(3, 4), S(3, 4)),                    \
  BIN(ID, "row broadcast", S(3, 4), S(4), S(3, 4)),              \
  BIN(ID, "column broadcast", S(3, 4), S(3, 1), S(3, 4)),        \
  BIN(ID, "both broadcast 3-D", S(2, 1, 4), S(3, 1), S(2, 3, 4))

AE_OP_ROWS(core_binary,
  BIN_ALL(ADD), BIN_ALL(SUB), BIN_ALL(MUL), BIN_ALL(DIV),
  {.op = AE_OP_MUL, .label = "MUL same input twice (x*x)", .nin = 1, .in_shape = {S(3, 4)}, .lo = -2, .hi = 2,
   .build = b_mul_self, .reference = r_square, .out_shape = S(3, 4)},
  {.op = AE_OP_WHERE, .label = "where same shapes", .nin = 3, .in_shape = {S(3, 4), S(3, 4), S(3, 4)}, .lo = -2,
   .hi = 2, .nondiff = 1, .build = b_where, .reference = r_where, .out_shape = S(3, 4), .init = init_cond},
  {.op = AE_OP_WHERE, .label = "where scalar b", .nin = 3, .in_shape = {S(2, 3, 2), S(2, 3, 2), S()}, .lo = -2,
   .hi = 2, .nondiff = 1, .build = b_where, .reference = r_where, .out_shape = S(2, 3, 2), .init = init_cond},
  {.op = AE_OP_WHERE, .label = "where scalar a", .nin = 3, .in_shape = {S(5), S(), S(5)}, .lo = -2, .hi = 2,
   .nondiff = 1, .build = b_where, .reference = r_where, .out_shape = S(5), .init = init_cond},
)

/* ---- unary element-wise: pointwise.c, transcendental.c, activation.c ---- */

static ae_val *b_unary(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_val *x = in[0];
  ae_real a0 = (ae_real)row->attr[0], a1 = (ae_real)row->attr[1];
  switch (row->op) {
    case AE_OP_NEG: return ae_neg(t, x);
    case AE_OP_SCALE: return ae_scale(t, x, a0);
    case AE_OP_ADD_SCALAR: return ae_add_scalar(t, x, a0);
    case AE_OP_SQUARE: return ae_square(t, x);
    case AE_OP_POW: return ae_pow(t, x, a0);
    case AE_OP_ABS: return ae_abs(t, x);
    case AE_OP_CLAMP: return ae_clamp(t, x, a0, a1);
    case AE_OP_EXP: return ae_exp(t, x);
    case AE_OP_LOG: return ae_log(t, x);
    case AE_OP_SQRT: return ae_sqrt(t, x);
    case AE_OP_SOFTPLUS: return ae_softplus(t, x);
    case AE_OP_LOG_SIGMOID: return ae_log_sigmoid(t, x);
    case AE_OP_RELU: return ae_relu(t, x);
    case AE_OP_LEAKY_RELU: return ae_leaky_relu(t, x, a0);
    case AE_OP_SIGMOID: return ae_sigmoid(t, x);
    case AE_OP_TANH: return ae_tanh(t, x);
    default: return NULL;
  }
}

static double ref_unary(int op, double x, double a0, double a1) {
  switch (op) {
    case AE_OP_NEG: return -x;
    case AE_OP_SCALE: return a0 * x;
    case AE_OP_ADD_SCALAR: return x + a0;
    case AE_OP_SQUARE: return x * x;
    case AE_OP_POW: return pow(x, a0);
    case AE_OP_ABS: return x < 0 ? -x : x;
    case AE_OP_CLAMP: return x < a0 ? a0 : x > a1 ? a1 : x;
    case AE_OP_EXP: return exp(x);
    case AE_OP_LOG: return log(x);
    case AE_OP_SQRT: return sqrt(x);
    case AE_OP_SOFTPLUS: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
    case AE_OP_LOG_SIGMOID: return (x < 0 ? x : 0) - log1p(exp(-fabs(x)));
    case AE_OP_RELU: return x > 0 ? x : 0;
    case AE_OP_LEAKY_RELU: return x > 0 ? x : a0 * x;
    case AE_OP_SIGMOID: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
    case AE_OP_TANH: return tanh(x);
    default: return NAN;
  }
}
static void r_unary(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  /* attributes as the op sees them (rounded to ae_real) */
  double a0 = (ae_real)row->attr[0], a1 = (ae_real)row->attr[1];
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = (ae_real)ref_unary(row->op, in[0]->data[i], a0, a1);
}

static ae_val *b_one_minus(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_one_minus(t, in[0]); }
static void r_one_minus(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = (ae_real)(1.0 - in[0]->data[i]);
}

#define UN(ID, lab, lo_, hi_, ...)                                                                              \
  {.op = AE_OP_##ID, .label = lab, .nin = 1, .in_shape = {S(3, 4)}, .lo = lo_, .hi = hi_, .build = b_unary, \
   .reference = r_unary, .out_shape = S(3, 4), __VA_ARGS__}

AE_OP_ROWS(core_unary,
  UN(NEG, "neg", -2, 2),
  UN(SCALE, "scale by -1.7", -2, 2, .attr = {-1.7}),
  UN(ADD_SCALAR, "add_scalar 0.6", -2, 2, .attr = {0.6}),
  {.op = AE_OP_ADD_SCALAR, .label = "one_minus (composite)", .nin = 1, .in_shape = {S(2, 5)}, .lo = -2, .hi = 2,
   .build = b_one_minus, .reference = r_one_minus, .out_shape = S(2, 5)},
  UN(SQUARE, "square", -2, 2),
  UN(POW, "pow p=2", 0.5, 2, .attr = {2}),
  UN(POW, "pow p=3", 0.5, 2, .attr = {3}),
  UN(POW, "pow p=0.5", 0.5, 2, .attr = {0.5}),
  UN(POW, "pow p=-1.5", 0.5, 2, .attr = {-1.5}),
  UN(POW, "pow p=-1", 0.5, 2, .attr = {-1}),
  UN(POW, "pow p=1", -2, 2, .attr = {1}),
  UN(POW, "pow p=0", -2, 2, .attr = {0}),
  UN(POW, "pow p=3 negative inputs", -2, -0.5, .attr = {3}),
  UN(POW, "pow p=-2 negative inputs", -2, -0.5, .attr = {-2}),
  UN(POW, "pow p=3 mixed signs", -2, 2, .attr = {3}),
  UN(ABS, "abs away from 0", -2, 2, .init = init_away0),
  UN(CLAMP, "clamp [-0.5, 0.8] away from bounds", -1.5, 1.5, .init = init_clamp, .attr = {-0.5, 0.8}),
  UN(EXP, "exp", -2, 2),
  UN(LOG, "log positive", 0.2, 3),
  UN(SQRT, "sqrt positive", 0.2, 3),
  UN(SOFTPLUS, "softplus", -4, 4),
  {.op = AE_OP_SOFTPLUS, .label = "softplus large |x|", .nin = 1, .in_shape = {S(2, 4)}, .build = b_unary,
   .reference = r_unary, .out_shape = S(2, 4), .init = init_extreme},
  UN(LOG_SIGMOID, "log_sigmoid", -5, 5),
  {.op = AE_OP_LOG_SIGMOID, .label = "log_sigmoid large |x| (+-20, 30, 100)", .nin = 1, .in_shape = {S(2, 4)},
   .build = b_unary, .reference = r_unary, .out_shape = S(2, 4), .init = init_extreme},
  UN(RELU, "relu away from 0", -2, 2, .init = init_away0),
  UN(LEAKY_RELU, "leaky_relu 0.1 away from 0", -2, 2, .init = init_away0, .attr = {0.1}),
  UN(LEAKY_RELU, "leaky_relu 0.01 away from 0", -2, 2, .init = init_away0, .attr = {0.01}),
  UN(SIGMOID, "sigmoid", -4, 4),
  UN(TANH, "tanh", -3, 3),
)

/* ---- fused backward kernels (activation.c) ---- */

static ae_val *b_fused(ae_tape *t, ae_val *const *in, const op_row *row) {
  switch (row->op) {
    case AE_OP_RELU_BACKWARD: return ae_relu_backward(t, in[0], in[1]);
    case AE_OP_LEAKY_RELU_BACKWARD: return ae_leaky_relu_backward(t, in[0], in[1], (ae_real)row->attr[0]);
    case AE_OP_SIGMOID_BACKWARD: return ae_sigmoid_backward(t, in[0], in[1]);
    case AE_OP_TANH_BACKWARD: return ae_tanh_backward(t, in[0], in[1]);
    default: return NULL;
  }
}
static void r_fused(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double s = (ae_real)row->attr[0];
  for (int64_t i = 0; i < out->numel; i++) {
    double g = in[0]->data[i], v = in[1]->data[i], y;
    switch (row->op) {
      case AE_OP_RELU_BACKWARD: y = v > 0 ? g : 0; break;
      case AE_OP_LEAKY_RELU_BACKWARD: y = v > 0 ? g : s * g; break;
      case AE_OP_SIGMOID_BACKWARD: y = g * v * (1 - v); break;
      default: y = g * (1 - v * v); break;
    }
    out->data[i] = (ae_real)y;
  }
}

#define FUSED(ID, lab, init_, ...)                                                                         \
  {.op = AE_OP_##ID, .label = lab, .nin = 2, .in_shape = {S(3, 4), S(3, 4)}, .lo = -2, .hi = 2,        \
   .build = b_fused, .reference = r_fused, .out_shape = S(3, 4), .init = init_, __VA_ARGS__}

/* Both inputs are differentiated: relu_backward's and leaky_relu_backward's
 * derivative in x is 0 away from the kink, which the check confirms. */
AE_OP_ROWS(core_fused,
  FUSED(RELU_BACKWARD, "relu_backward (g, x away from 0)", init_away0),
  FUSED(LEAKY_RELU_BACKWARD, "leaky_relu_backward 0.2 (g, x away from 0)", init_away0, .attr = {0.2}),
  FUSED(SIGMOID_BACKWARD, "sigmoid_backward (g, y in [0.05, 0.95])", init_sig_y),
  FUSED(TANH_BACKWARD, "tanh_backward (g, y in [-0.95, 0.95])", init_tanh_y),
)

/* ---- reductions and broadcasting (reduce.c) ---- */

static ae_val *b_sum(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_sum(t, in[0]); }
static ae_val *b_mean(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_mean(t, in[0]); }
static void r_sum_all(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double s = 0;
  for (int64_t i = 0; i < in[0]->numel; i++) s += in[0]->data[i];
  out->data[0] = (ae_real)(row->iattr[2] ? s / (double)in[0]->numel : s);
}

static ae_val *b_sum_sq(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_sum_sq(t, in[0]); }
static void r_sum_sq(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double s = 0;
  for (int64_t i = 0; i < in[0]->numel; i++) s += (double)in[0]->data[i] * in[0]->data[i];
  out->data[0] = (ae_real)s;
}

/* iattr: [0] axis, [1] keepdim, [2] mean (composite rows). */
static ae_val *b_axis(ae_tape *t, ae_val *const *in, const op_row *row) {
  int a = row->iattr[0], k = row->iattr[1];
  if (row->op == AE_OP_MAX_AXIS) return ae_max_axis(t, in[0], a, k);
  return row->iattr[2] ? ae_mean_axis(t, in[0], a, k) : ae_sum_axis(t, in[0], a, k);
}
static void r_axis(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_shape s = in[0]->shape;
  int a = norm_axis(row->iattr[0], s.ndim);
  int64_t outer = 1, n = s.d[a], inner = 1;
  for (int k = 0; k < a; k++) outer *= s.d[k];
  for (int k = a + 1; k < s.ndim; k++) inner *= s.d[k];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double acc = row->op == AE_OP_MAX_AXIS ? -INFINITY : 0;
      for (int64_t k = 0; k < n; k++) {
        double v = in[0]->data[(o * n + k) * inner + i];
        acc = row->op == AE_OP_MAX_AXIS ? (v > acc ? v : acc) : acc + v;
      }
      out->data[o * inner + i] = (ae_real)(row->iattr[2] ? acc / (double)n : acc);
    }
}

static ae_val *b_sum_to(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_sum_to(t, in[0], row->out_shape);
}
static void r_sum_to(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double acc[64] = {0}; /* out has at most 64 elements in these rows */
  for (int64_t i = 0; i < in[0]->numel; i++) acc[bidx(out->shape, in[0]->shape, i)] += in[0]->data[i];
  for (int64_t j = 0; j < out->numel && j < 64; j++) out->data[j] = (ae_real)acc[j];
}

static ae_val *b_broadcast_to(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_broadcast_to(t, in[0], row->out_shape);
}
static void r_broadcast_to(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = in[0]->data[bidx(in[0]->shape, out->shape, i)];
}

#define AX(ID, lab, IN, OUT, axis, keep, mean, init_)                                                      \
  {.op = AE_OP_##ID, .label = lab, .nin = 1, .in_shape = {IN}, .lo = -2, .hi = 2, .build = b_axis,     \
   .reference = r_axis, .out_shape = OUT, .init = init_, .iattr = {axis, keep, mean}}
#define SUMTO(lab, IN, OUT)                                                                                 \
  {.op = AE_OP_SUM_TO, .label = "sum_to " lab, .nin = 1, .in_shape = {IN}, .lo = -2, .hi = 2,          \
   .build = b_sum_to, .reference = r_sum_to, .out_shape = OUT}
#define BTO(lab, IN, OUT)                                                                                   \
  {.op = AE_OP_BROADCAST_TO, .label = "broadcast_to " lab, .nin = 1, .in_shape = {IN}, .lo = -2, .hi = 2, \
   .build = b_broadcast_to, .reference = r_broadcast_to, .out_shape = OUT}

AE_OP_ROWS(core_reduce,
  {.op = AE_OP_SUM, .label = "sum (3,4)", .nin = 1, .in_shape = {S(3, 4)}, .lo = -2, .hi = 2, .build = b_sum,
   .reference = r_sum_all, .out_shape = S()},
  {.op = AE_OP_SUM, .label = "sum (2,3,4)", .nin = 1, .in_shape = {S(2, 3, 4)}, .lo = -2, .hi = 2,
   .build = b_sum, .reference = r_sum_all, .out_shape = S()},
  {.op = AE_OP_SUM, .label = "sum of a scalar", .nin = 1, .in_shape = {S()}, .lo = -2, .hi = 2, .build = b_sum,
   .reference = r_sum_all, .out_shape = S()},
  {.op = AE_OP_SUM_SQ, .label = "sum_sq (3,4)", .nin = 1, .in_shape = {S(3, 4)}, .lo = -2, .hi = 2,
   .build = b_sum_sq, .reference = r_sum_sq, .out_shape = S()},
  {.op = AE_OP_SUM_SQ, .label = "sum_sq (2,3,4)", .nin = 1, .in_shape = {S(2, 3, 4)}, .lo = -2, .hi = 2,
   .build = b_sum_sq, .reference = r_sum_sq, .out_shape = S()},
  {.op = AE_OP_SUM_SQ, .label = "sum_sq of a scalar", .nin = 1, .in_shape = {S()}, .lo = -2, .hi = 2,
   .build = b_sum_sq, .reference = r_sum_sq, .out_shape = S()},
  {.op = AE_OP_SUM_SQ, .label = "sum_sq of 5000 (chunked)", .nin = 1, .in_shape = {S(5000)}, .lo = -2, .hi = 2,
   .build = b_sum_sq, .reference = r_sum_sq, .out_shape = S(), .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_SUM, .label = "mean (composite) (3,4)", .nin = 1, .in_shape = {S(3, 4)}, .lo = -2, .hi = 2,
   .build = b_mean, .reference = r_sum_all, .out_shape = S(), .iattr = {0, 0, 1}},
  AX(SUM_AXIS, "sum_axis 0", S(2, 3, 4), S(3, 4), 0, 0, 0, NULL),
  AX(SUM_AXIS, "sum_axis 0 keepdim", S(2, 3, 4), S(1, 3, 4), 0, 1, 0, NULL),
  AX(SUM_AXIS, "sum_axis 1", S(2, 3, 4), S(2, 4), 1, 0, 0, NULL),
  AX(SUM_AXIS, "sum_axis 1 keepdim", S(2, 3, 4), S(2, 1, 4), 1, 1, 0, NULL),
  AX(SUM_AXIS, "sum_axis 2", S(2, 3, 4), S(2, 3), 2, 0, 0, NULL),
  AX(SUM_AXIS, "sum_axis 2 keepdim", S(2, 3, 4), S(2, 3, 1), 2, 1, 0, NULL),
  AX(SUM_AXIS, "sum_axis -2", S(2, 3, 4), S(2, 4), -2, 0, 0, NULL),
  AX(SUM_AXIS, "sum_axis of a vector", S(7), S(), 0, 0, 0, NULL),
  AX(SUM_AXIS, "mean_axis 1 (composite)", S(2, 3, 4), S(2, 4), 1, 0, 1, NULL),
  AX(SUM_AXIS, "mean_axis -1 keepdim (composite)", S(3, 5), S(3, 1), -1, 1, 1, NULL),
  AX(MAX_AXIS, "max_axis 0", S(2, 3, 4), S(3, 4), 0, 0, 0, init_distinct),
  AX(MAX_AXIS, "max_axis 0 keepdim", S(2, 3, 4), S(1, 3, 4), 0, 1, 0, init_distinct),
  AX(MAX_AXIS, "max_axis 1", S(2, 3, 4), S(2, 4), 1, 0, 0, init_distinct),
  AX(MAX_AXIS, "max_axis 1 keepdim", S(2, 3, 4), S(2, 1, 4), 1, 1, 0, init_distinct),
  AX(MAX_AXIS, "max_axis 2", S(2, 3, 4), S(2, 3), 2, 0, 0, init_distinct),
  AX(MAX_AXIS, "max_axis 2 keepdim", S(2, 3, 4), S(2, 3, 1), 2, 1, 0, init_distinct),
  AX(MAX_AXIS, "max_axis -1", S(4, 5), S(4), -1, 0, 0, init_distinct),
  SUMTO("(2,3,4) -> (3,1)", S(2, 3, 4), S(3, 1)),
  SUMTO("(2,3,4) -> (4,)", S(2, 3, 4), S(4)),
  SUMTO("(2,3,4) -> ()", S(2, 3, 4), S()),
  SUMTO("(2,3,4) -> (2,1,4)", S(2, 3, 4), S(2, 1, 4)),
  SUMTO("(2,3,4) -> (1,3,4)", S(2, 3, 4), S(1, 3, 4)),
  SUMTO("(2,3,4) -> (2,3,4) identity", S(2, 3, 4), S(2, 3, 4)),
  SUMTO("(3,4) -> (3,1)", S(3, 4), S(3, 1)),
  SUMTO("(2,3,2,3) -> (3,1,3)", S(2, 3, 2, 3), S(3, 1, 3)),
  BTO("(3,1) -> (2,3,4)", S(3, 1), S(2, 3, 4)),
  BTO("(4,) -> (3,4)", S(4), S(3, 4)),
  BTO("() -> (2,3)", S(), S(2, 3)),
  BTO("(1,3,1) -> (2,3,4)", S(1, 3, 1), S(2, 3, 4)),
  BTO("(2,1,4) -> (2,3,4)", S(2, 1, 4), S(2, 3, 4)),
  BTO("(3,4) -> (3,4) identity", S(3, 4), S(3, 4)),
  BTO("(2,1,3,1) -> (2,2,3,2)", S(2, 1, 3, 1), S(2, 2, 3, 2)),
)

/* ---- shape.c ---- */

static ae_val *b_reshape(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_reshape(t, in[0], row->out_shape);
}
static void r_copy(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  for (int64_t i = 0; i < out->numel; i++) out->data[i] = in[0]->data[i];
}

/* iattr: [0], [1] the axes; [2] = 1: the 2-D ae_t composite. */
static ae_val *b_transpose(ae_tape *t, ae_val *const *in, const op_row *row) {
  return row->iattr[2] ? ae_t(t, in[0]) : ae_transpose(t, in[0], row->iattr[0], row->iattr[1]);
}
static void r_transpose(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  ae_shape xs = in[0]->shape, ys = out->shape;
  int nd = xs.ndim, a = norm_axis(row->iattr[0], nd), b = norm_axis(row->iattr[1], nd);
  for (int64_t i = 0; i < out->numel; i++) {
    int64_t idx[AE_MAX_DIMS], rem = i;
    for (int k = nd - 1; k >= 0; k--) {
      idx[k] = rem % ys.d[k];
      rem /= ys.d[k];
    }
    int64_t tmp = idx[a];
    idx[a] = idx[b];
    idx[b] = tmp;
    int64_t off = 0;
    for (int k = 0; k < nd; k++) off = off * xs.d[k] + idx[k];
    out->data[i] = in[0]->data[off];
  }
}

#define RESHAPE(lab, IN, OUT)                                                                              \
  {.op = AE_OP_RESHAPE, .label = "reshape " lab, .nin = 1, .in_shape = {IN}, .lo = -2, .hi = 2,         \
   .build = b_reshape, .reference = r_copy, .out_shape = OUT}
#define TRANSP(lab, IN, OUT, a, b, t_)                                                                     \
  {.op = AE_OP_TRANSPOSE, .label = lab, .nin = 1, .in_shape = {IN}, .lo = -2, .hi = 2,                  \
   .build = b_transpose, .reference = r_transpose, .out_shape = OUT, .iattr = {a, b, t_}}

AE_OP_ROWS(core_shape,
  RESHAPE("(3,4) -> (2,6)", S(3, 4), S(2, 6)),
  RESHAPE("(2,3,4) -> (24,)", S(2, 3, 4), S(24)),
  RESHAPE("(2,3,4) -> (4,1,6)", S(2, 3, 4), S(4, 1, 6)),
  RESHAPE("(1,) -> ()", S(1), S()),
  RESHAPE("(6,) -> (1,2,3,1)", S(6), S(1, 2, 3, 1)),
  TRANSP("transpose 2-D (0,1)", S(3, 4), S(4, 3), 0, 1, 0),
  TRANSP("t (composite)", S(2, 5), S(5, 2), 0, 1, 1),
  TRANSP("transpose 3-D (0,2)", S(2, 3, 4), S(4, 3, 2), 0, 2, 0),
  TRANSP("transpose 4-D (1,3)", S(2, 3, 4, 5), S(2, 5, 4, 3), 1, 3, 0),
  TRANSP("transpose 4-D (0,2)", S(2, 3, 4, 5), S(4, 3, 2, 5), 0, 2, 0),
  TRANSP("transpose 4-D (0,3)", S(2, 3, 4, 5), S(5, 3, 4, 2), 0, 3, 0),
  TRANSP("transpose 4-D (2,3)", S(2, 3, 4, 5), S(2, 3, 5, 4), 2, 3, 0),
  TRANSP("transpose 4-D (-1,-4)", S(2, 3, 4, 5), S(5, 3, 4, 2), -1, -4, 0),
  TRANSP("transpose 4-D (1,1) identity", S(2, 3, 4, 5), S(2, 3, 4, 5), 1, 1, 0),
)

/* ---- matmul.c ---- */

/* iattr: [0] trans_a, [1] trans_b; [2] = 1: the linear op, x w^T (+ the
 * bias, input 2, when nin is 3), through ae_linear, or through
 * ae_linear_act with activation iattr[3] (an ae_act; slope attr[0]) when
 * that is not 0. */
static ae_val *b_matmul(ae_tape *t, ae_val *const *in, const op_row *row) {
  ae_val *b = row->nin > 2 ? in[2] : NULL;
  if (row->iattr[2] && row->iattr[3]) return ae_linear_act(t, in[0], in[1], b, (ae_act)row->iattr[3], row->attr[0]);
  if (row->iattr[2]) return ae_linear(t, in[0], in[1], b);
  return ae_matmul(t, in[0], in[1], row->iattr[0], row->iattr[1]);
}
/* The activation of a linear row, as the composite's op defines it. */
static double act_ref(double v, int act, double slope) {
  switch (act) {
    case AE_ACT_RELU: return v > 0 ? v : 0;
    case AE_ACT_SIGMOID: return 1 / (1 + exp(-v));
    case AE_ACT_TANH: return tanh(v);
    case AE_ACT_LEAKY_RELU: return v > 0 ? v : slope * v;
    default: return v;
  }
}
static void r_matmul(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int ta = row->iattr[0], tb = row->iattr[1];
  if (row->iattr[2]) ta = 0, tb = 1;
  const ae_tensor *A = in[0], *B = in[1];
  int64_t m = out->shape.d[0], n = out->shape.d[1], k = ta ? A->shape.d[0] : A->shape.d[1];
  int64_t ca = A->shape.d[1], cb = B->shape.d[1];
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double acc = 0;
      for (int64_t p = 0; p < k; p++) {
        double a = ta ? A->data[p * ca + i] : A->data[i * ca + p];
        double b = tb ? B->data[j * cb + p] : B->data[p * cb + j];
        acc += a * b;
      }
      if (row->iattr[2] && row->nin > 2) acc += in[2]->data[j];
      out->data[i * n + j] = (ae_real)act_ref(acc, row->iattr[3], row->attr[0]);
    }
}

#define MM(lab, A, B, OUT, ta, tb, ...)                                                                    \
  {.op = AE_OP_MATMUL, .label = "matmul " lab, .nin = 2, .in_shape = {A, B}, .lo = -1, .hi = 1,         \
   .build = b_matmul, .reference = r_matmul, .out_shape = OUT, .iattr = {ta, tb}, __VA_ARGS__}

/* The (13,70)x(70,33) rows cross the GEMM micro-tile edges (MR 12, NR up
 * to 32) and are checked forward only (the small rows check gradients);
 * fwd_rtol32 1e-5 still holds there: float accumulation of 70 products of
 * O(1) values errs by about sqrt(70) u |result| ~ 1e-6. */
AE_OP_ROWS(core_matmul,
  MM("(3,4) x (4,5)", S(3, 4), S(4, 5), S(3, 5), 0, 0),
  MM("(4,3)^T x (4,5)", S(4, 3), S(4, 5), S(3, 5), 1, 0),
  MM("(3,4) x (5,4)^T", S(3, 4), S(5, 4), S(3, 5), 0, 1),
  MM("(4,3)^T x (5,4)^T", S(4, 3), S(5, 4), S(3, 5), 1, 1),
  MM("(13,7) x (7,17) edge tiles", S(13, 7), S(7, 17), S(13, 17), 0, 0),
  MM("(7,13)^T x (17,7)^T edge tiles", S(7, 13), S(17, 7), S(13, 17), 1, 1),
  MM("(13,70) x (70,33) forward", S(13, 70), S(70, 33), S(13, 33), 0, 0, .flags = OP_ROW_FWD_ONLY),
  MM("(70,13)^T x (70,33) forward", S(70, 13), S(70, 33), S(13, 33), 1, 0, .flags = OP_ROW_FWD_ONLY),
  MM("(13,70) x (33,70)^T forward", S(13, 70), S(33, 70), S(13, 33), 0, 1, .flags = OP_ROW_FWD_ONLY),
  MM("(70,13)^T x (33,70)^T forward", S(70, 13), S(33, 70), S(13, 33), 1, 1, .flags = OP_ROW_FWD_ONLY),
)

/* The linear op (ae_linear, ae_linear_act). The relu and leaky_relu rows'
 * inputs are kept off the kink by init_linear_off_kink; (13,70) crosses the
 * micro-tile edges and, with 37 outputs, the vector kernels' tails. */
#define LIN(lab, NIN, X, W, NB, OUT, act, ...)                                                                \
  {.op = AE_OP_LINEAR, .label = "linear " lab, .nin = NIN, .in_shape = {X, W, S(NB)}, .lo = -1,            \
   .hi = 1, .build = b_matmul, .reference = r_matmul, .out_shape = OUT, .iattr = {0, 1, 1, act}, __VA_ARGS__}
AE_OP_ROWS(core_linear,
  LIN("with bias", 3, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_NONE),
  LIN("without bias", 2, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_NONE),
  LIN("relu", 3, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_RELU, .init = init_linear_off_kink),
  LIN("relu without bias", 2, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_RELU, .init = init_linear_off_kink),
  LIN("sigmoid", 3, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_SIGMOID),
  LIN("tanh", 3, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_TANH),
  LIN("leaky_relu 0.1", 3, S(3, 4), S(5, 4), 5, S(3, 5), AE_ACT_LEAKY_RELU, .init = init_linear_off_kink,
      .attr = {0.1}),
  LIN("sigmoid (13,70) x (37,70)^T forward", 3, S(13, 70), S(37, 70), 37, S(13, 37), AE_ACT_SIGMOID,
      .flags = OP_ROW_FWD_ONLY),
  LIN("tanh (13,70) x (37,70)^T forward", 3, S(13, 70), S(37, 70), 37, S(13, 37), AE_ACT_TANH,
      .flags = OP_ROW_FWD_ONLY),
  LIN("relu (13,70) x (37,70)^T forward", 3, S(13, 70), S(37, 70), 37, S(13, 37), AE_ACT_RELU,
      .flags = OP_ROW_FWD_ONLY),
)
