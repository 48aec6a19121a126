/* rows/loss.c: op-table rows of the loss family (ops/loss.h). bce,
 * bce_logits and the reduced mse, sigmoid mse and bce_logits are ops; the
 * other losses are composites, each row tagged with the op it mostly
 * exercises. References are plain double loops
 * (bce_logits' in the algebraically different form
 * x softplus(-z) + (1 - x) softplus(z)). iattr[0] is the reduction. */
#include <math.h>

#include "../op_table.h"

/* Reduces the element-wise reference loss l (of shape s) as ae_loss_reduce does. */
static void reduce_ref(const double *l, ae_shape s, int red, ae_tensor *out) {
  int64_t n = ae_shape_numel(s);
  if (red == AE_REDUCE_NONE) {
    for (int64_t i = 0; i < n; i++) out->data[i] = (ae_real)l[i];
    return;
  }
  double acc = 0;
  for (int64_t i = 0; i < n; i++) acc += l[i];
  if (red == AE_REDUCE_MEAN) acc /= (double)n;
  if (red == AE_REDUCE_BATCH_MEAN) acc /= (double)(s.ndim ? s.d[0] : 1);
  out->data[0] = (ae_real)acc;
}

#define NMAX 64
#define RED(row) ((ae_reduction)(row)->iattr[0])

static double softplus_ref(double a) { return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a)); }

/* ---- mse ---- */
static ae_val *b_mse(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_mse_loss(t, in[0], in[1], RED(row)); }
static void r_mse(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double d = (double)in[0]->data[i] - in[1]->data[i];
    l[i] = d * d;
  }
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}

/* ---- mse of a sigmoid ---- */
static ae_val *b_smse(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_sigmoid_mse_loss(t, in[0], in[1], RED(row));
}
static void r_smse(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double d = 1 / (1 + exp(-(double)in[0]->data[i])) - in[1]->data[i];
    l[i] = d * d;
  }
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}

/* ---- bce ---- */
static ae_val *b_bce(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_bce_loss(t, in[0], in[1], RED(row)); }
static void r_bce(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double p = in[0]->data[i], x = in[1]->data[i];
    double lp = p > 0 ? fmax(log(p), -100) : -100, lq = p < 1 ? fmax(log(1 - p), -100) : -100;
    l[i] = -(x * lp + (1 - x) * lq);
  }
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}
/* p at and next to the clamps: 0, 1, 1e-300 (below e^-100 in float64),
 * and a value with log p just above -100. */
static void i_bce_edges(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  const double ps[] = {0, 1, 1e-300, 1e-40, 0.5, 1 - 1e-7};
  for (int i = 0; i < 6; i++) in[0]->data[i] = (ae_real)ps[i];
}

/* ---- bce_logits ---- */
static ae_val *b_bcel(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_bce_with_logits_loss(t, in[0], in[1], RED(row));
}
static void r_bcel(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double z = in[0]->data[i], x = in[1]->data[i];
    l[i] = x * softplus_ref(-z) + (1 - x) * softplus_ref(z);
  }
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}
static void i_bcel_extreme(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  const double zs[] = {100, -100, 30, -30, 100, -100, 0, 1e-3};
  const double xs[] = {1, 0, 1, 0, 0, 1, 0.5, 1};
  for (int i = 0; i < 8; i++) in[0]->data[i] = (ae_real)zs[i], in[1]->data[i] = (ae_real)xs[i];
}

/* ---- gaussian nll (logvar broadcasts over rows) ---- */
static ae_val *b_gnll(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_gaussian_nll_loss(t, in[0], in[1], in[2], RED(row));
}
static void r_gnll(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  int64_t cols = in[0]->shape.d[in[0]->shape.ndim - 1];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double mu = in[0]->data[i], lv = in[1]->numel == in[0]->numel ? in[1]->data[i] : in[1]->data[i % cols];
    double x = in[2]->data[i], var = exp(lv);
    l[i] = 0.5 * log(2 * M_PI * var) + (x - mu) * (x - mu) / (2 * var);
  }
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}

/* ---- KL(rho || rho_hat) and the sparsity penalty from activations ---- */
static double kl_bern(double rho, double q) { return rho * log(rho / q) + (1 - rho) * log((1 - rho) / (1 - q)); }
static ae_val *b_klb(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_kl_bernoulli(t, (ae_real)row->attr[0], in[0], RED(row));
}
static void r_klb(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  for (int64_t i = 0; i < in[0]->numel; i++) l[i] = kl_bern(row->attr[0], in[0]->data[i]);
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}
static ae_val *b_kls(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_kl_sparsity(t, (ae_real)row->attr[0], in[0], RED(row));
}
static void r_kls(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  int64_t b = in[0]->shape.d[0], u = in[0]->shape.d[1];
  double l[NMAX];
  for (int64_t j = 0; j < u; j++) {
    double m = 0;
    for (int64_t i = 0; i < b; i++) m += in[0]->data[i * u + j];
    l[j] = kl_bern(row->attr[0], m / (double)b);
  }
  reduce_ref(l, AE_SHAPE(u), row->iattr[0], out);
}

/* ---- KL(N(mu, e^logvar) || N(0, 1)) ---- */
static ae_val *b_klg(ae_tape *t, ae_val *const *in, const op_row *row) {
  return ae_kl_gaussian(t, in[0], in[1], RED(row));
}
static void r_klg(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double l[NMAX];
  for (int64_t i = 0; i < in[0]->numel; i++) {
    double mu = in[0]->data[i], var = exp((double)in[1]->data[i]);
    l[i] = 0.5 * (var + mu * mu - 1 - log(var)); /* the textbook form */
  }
  reduce_ref(l, in[0]->shape, row->iattr[0], out);
}

/* ---- penalties ---- */
static ae_val *b_l1(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_l1_penalty(t, in[0]); }
static void r_l1(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double s = 0;
  for (int64_t i = 0; i < in[0]->numel; i++) s += fabs((double)in[0]->data[i]);
  out->data[0] = (ae_real)s;
}
/* |w| >= 0.1: away from abs's kink. */
static void i_l1(ae_tensor *const *in, ae_rng *r, const op_row *row) {
  for (int64_t i = 0; i < in[0]->numel; i++) {
    ae_real *w = &in[0]->data[i];
    if (fabs((double)*w) < 0.1) *w = *w < 0 ? *w - (ae_real)0.1 : *w + (ae_real)0.1;
  }
}
static ae_val *b_l2(ae_tape *t, ae_val *const *in, const op_row *row) { return ae_l2_penalty(t, in[0]); }
static void r_l2(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  double s = 0;
  for (int64_t i = 0; i < in[0]->numel; i++) s += (double)in[0]->data[i] * in[0]->data[i];
  out->data[0] = (ae_real)s;
}

AE_OP_ROWS(loss,
  {.op = AE_OP_MSE_LOSS, .label = "mse_loss mean (3,4)", .nin = 2, .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)},
   .lo = -1, .hi = 1, .build = b_mse, .reference = r_mse, .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_MEAN}},
  {.op = AE_OP_MSE_LOSS, .label = "mse_loss sum (2,5)", .nin = 2, .in_shape = {OP_SHAPE(2, 5), OP_SHAPE(2, 5)},
   .lo = -1, .hi = 1, .build = b_mse, .reference = r_mse, .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_SUM}},
  {.op = AE_OP_SIGMOID_MSE_LOSS, .label = "sigmoid_mse_loss mean (3,4)", .nin = 2,
   .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)}, .lo = -3, .hi = 3, .build = b_smse, .reference = r_smse,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_MEAN}},
  {.op = AE_OP_SIGMOID_MSE_LOSS, .label = "sigmoid_mse_loss sum (2,5)", .nin = 2,
   .in_shape = {OP_SHAPE(2, 5), OP_SHAPE(2, 5)}, .lo = -3, .hi = 3, .build = b_smse, .reference = r_smse,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_SUM}},
  {.op = AE_OP_SIGMOID_MSE_LOSS, .label = "sigmoid_mse_loss batch_mean (4,3)", .nin = 2,
   .in_shape = {OP_SHAPE(4, 3), OP_SHAPE(4, 3)}, .lo = -3, .hi = 3, .build = b_smse, .reference = r_smse,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_BATCH_MEAN}},
  {.op = AE_OP_MSE_LOSS, .label = "mse_loss batch_mean (4,1,3)", .nin = 2,
   .in_shape = {OP_SHAPE(4, 1, 3), OP_SHAPE(4, 1, 3)}, .lo = -1, .hi = 1, .build = b_mse, .reference = r_mse,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_BATCH_MEAN}},
  {.op = AE_OP_SQUARE, .label = "mse_loss none (2,3)", .nin = 2, .in_shape = {OP_SHAPE(2, 3), OP_SHAPE(2, 3)},
   .lo = -1, .hi = 1, .build = b_mse, .reference = r_mse, .out_shape = OP_SHAPE(2, 3), .iattr = {AE_REDUCE_NONE}},
  {.op = AE_OP_BCE, .label = "bce_loss batch_mean (3,4)", .nin = 2, .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)},
   .lo = 0.05, .hi = 0.95, .build = b_bce, .reference = r_bce, .out_shape = OP_SHAPE(),
   .iattr = {AE_REDUCE_BATCH_MEAN}},
  {.op = AE_OP_BCE, .label = "bce at the log clamps (fwd)", .nin = 2, .in_shape = {OP_SHAPE(6), OP_SHAPE(6)},
   .lo = 0, .hi = 1, .build = b_bce, .reference = r_bce, .init = i_bce_edges, .out_shape = OP_SHAPE(6),
   .iattr = {AE_REDUCE_NONE}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_BCE_LOGITS_LOSS, .label = "bce_with_logits sum (3,4)", .nin = 2,
   .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)}, .lo = -4, .hi = 4, .build = b_bcel, .reference = r_bcel,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_SUM}},
  {.op = AE_OP_BCE_LOGITS_LOSS, .label = "bce_with_logits mean (2,5)", .nin = 2,
   .in_shape = {OP_SHAPE(2, 5), OP_SHAPE(2, 5)}, .lo = -4, .hi = 4, .build = b_bcel, .reference = r_bcel,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_MEAN}},
  {.op = AE_OP_BCE_LOGITS_LOSS, .label = "bce_with_logits batch_mean (4,3)", .nin = 2,
   .in_shape = {OP_SHAPE(4, 3), OP_SHAPE(4, 3)}, .lo = -4, .hi = 4, .build = b_bcel, .reference = r_bcel,
   .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_BATCH_MEAN}},
  {.op = AE_OP_BCE_LOGITS_LOSS, .label = "bce_with_logits batch_mean at +-100 (fwd)", .nin = 2,
   .in_shape = {OP_SHAPE(2, 4), OP_SHAPE(2, 4)}, .lo = 0, .hi = 1, .build = b_bcel, .reference = r_bcel,
   .init = i_bcel_extreme, .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_BATCH_MEAN}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_BCE_LOGITS, .label = "bce_with_logits none (3,4)", .nin = 2,
   .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)}, .lo = -4, .hi = 4, .build = b_bcel, .reference = r_bcel,
   .out_shape = OP_SHAPE(3, 4), .iattr = {AE_REDUCE_NONE}},
  {.op = AE_OP_BCE_LOGITS, .label = "bce_with_logits at +-100 (fwd)", .nin = 2,
   .in_shape = {OP_SHAPE(8), OP_SHAPE(8)}, .lo = 0, .hi = 1, .build = b_bcel, .reference = r_bcel,
   .init = i_bcel_extreme, .out_shape = OP_SHAPE(8), .iattr = {AE_REDUCE_NONE}, .flags = OP_ROW_FWD_ONLY},
  {.op = AE_OP_EXP, .label = "gaussian_nll mean, logvar (4) broadcast", .nin = 3,
   .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(4), OP_SHAPE(3, 4)}, .lo = -1, .hi = 1, .build = b_gnll,
   .reference = r_gnll, .out_shape = OP_SHAPE(), .iattr = {AE_REDUCE_MEAN}},
  {.op = AE_OP_LOG, .label = "kl_bernoulli rho 0.1 sum (6)", .nin = 1, .in_shape = {OP_SHAPE(6)}, .lo = 0.05,
   .hi = 0.95, .build = b_klb, .reference = r_klb, .out_shape = OP_SHAPE(), .attr = {0.1},
   .iattr = {AE_REDUCE_SUM}},
  {.op = AE_OP_SUM_AXIS, .label = "kl_sparsity rho 0.2 from h (4,5)", .nin = 1, .in_shape = {OP_SHAPE(4, 5)},
   .lo = 0.05, .hi = 0.95, .build = b_kls, .reference = r_kls, .out_shape = OP_SHAPE(), .attr = {0.2},
   .iattr = {AE_REDUCE_SUM}},
  {.op = AE_OP_EXP, .label = "kl_gaussian batch_mean (3,4)", .nin = 2, .in_shape = {OP_SHAPE(3, 4), OP_SHAPE(3, 4)},
   .lo = -1, .hi = 1, .build = b_klg, .reference = r_klg, .out_shape = OP_SHAPE(),
   .iattr = {AE_REDUCE_BATCH_MEAN}},
  {.op = AE_OP_ABS, .label = "l1_penalty (3,4)", .nin = 1, .in_shape = {OP_SHAPE(3, 4)}, .lo = -1, .hi = 1,
   .build = b_l1, .reference = r_l1, .init = i_l1, .out_shape = OP_SHAPE()},
  {.op = AE_OP_SUM_SQ, .label = "l2_penalty (3,4)", .nin = 1, .in_shape = {OP_SHAPE(3, 4)}, .lo = -1, .hi = 1,
   .build = b_l2, .reference = r_l2, .out_shape = OP_SHAPE()},
)
