/* loss.c: the losses of loss.h. Five are first-class ops with their own
 * backward rules, bce (for PyTorch's clamped logs and bounded gradient),
 * bce_logits (one fused pass, accurate where confident), the reduced mse,
 * the reduced mse of a sigmoid and the reduced bce_logits (one pass each
 * way); the others are composites of differentiable ops, so they need no
 * rule. Each composite forms the element-wise loss and hands it to
 * ae_loss_reduce. */
#include "loss.h"

#include <math.h>

#include "base/base_internal.h"
#include "base/vmath.h"
#include "broadcast.h"
#include "unary.h"

ae_val *ae_loss_reduce(ae_tape *t, ae_val *l, ae_reduction r) {
  if (!ae_op_begin(t, "loss_reduce", 1, &l)) return NULL;
  switch (r) {
    case AE_REDUCE_SUM: return ae_sum(t, l);
    case AE_REDUCE_MEAN: return ae_mean(t, l);
    case AE_REDUCE_BATCH_MEAN: {
      int64_t b = l->t.shape.ndim > 0 ? l->t.shape.d[0] : 1;
      return ae_scale(t, ae_sum(t, l), (ae_real)(1.0 / (double)b));
    }
    case AE_REDUCE_NONE: return l;
  }
  ae_raise(t, AE_ERR_ARG, "loss_reduce", "unknown reduction %d", (int)r);
  return NULL;
}

/* 1 when a and b have equal shapes; else raises AE_ERR_SHAPE naming both. */
static int same_shape(ae_tape *t, const char *op, const char *na, ae_val *a, const char *nb, ae_val *b) {
  ae_val *in[2] = {a, b};
  if (!ae_op_begin(t, op, 2, in)) return 0;
  if (ae_shape_eq(a->t.shape, b->t.shape)) return 1;
  char sa[AE_SHAPE_BUF], sb[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "%s has shape %s but %s has shape %s (must be equal)", na, ae_sstr(a->t.shape, sa),
           nb, ae_sstr(b->t.shape, sb));
  return 0;
}

/* ---- mse, reduced: c times the sum of (a - x)^2, c = 1, 1/n or 1/B ----
 *
 * mse_loss (a = x_hat) and sigmoid_mse_loss (a = sigmoid(z), the zoo
 * MLPs' reconstruction term) are ops when reduced: no (a - x) and no
 * squares kept, and their first-order backward is one pass, where the
 * composite broadcast g, doubled d into a temporary and multiplied (and
 * for the sigmoid, wrote d l/d a and read it back with a). Values and
 * gradients are bitwise the composite's: the forward runs the composite's
 * kernels in order (ae_v_sigmoid, the squares, ae_v_sum as ae_sum does),
 * and d = (c g)(2 (a - x)), then d a (1 - a) for the sigmoid, are the
 * products the composite's rules form. With create_graph the rules are the
 * composite's, in differentiable ops. Unreduced, each is its composite. */

static int reduced(ae_reduction r) { return r == AE_REDUCE_SUM || r == AE_REDUCE_MEAN || r == AE_REDUCE_BATCH_MEAN; }

/* One chunk's element-wise losses for ae__v_sum_fill (reduced_loss): in
 * (z or x_hat) and x are the inputs, a the kept array when one is kept
 * (else in), and sig whether one is (mse_fill: a = sigmoid(z)). */
typedef struct loss_chunks {
  const ae_real *z, *x;
  ae_real *a;
  int sig;
} loss_chunks;

/* The squared differences (a - x)^2 in ae_real, with a = sigmoid(z)
 * computed for the chunk first when sig. */
static void mse_fill(const void *ctx, int64_t lo, int64_t len, ae_real *sq) {
  const loss_chunks *m = ctx;
  if (m->sig) ae_v_sigmoid(len, m->z + lo, m->a + lo);
  const ae_real *restrict a = m->a + lo, *restrict x = m->x + lo;
#pragma omp simd
  for (int64_t i = 0; i < len; i++) sq[i] = (a[i] - x[i]) * (a[i] - x[i]);
}

/* A reduced loss op's value: c times the sum of fill's element-wise
 * losses; keep: an array of in's shape that fill writes (a = sigmoid(z)),
 * kept (saved[0]) for the backward when a node is recorded. One pass a
 * chunk (e.g. sigmoid, square, sum), bitwise the passes over whole arrays
 * it replaced: the vmath kernels' values do not depend on where an array
 * starts (vmath.c) and ae__v_sum_fill sums as ae_v_sum does. */
static ae_val *reduced_loss(ae_tape *t, const char *op, int id, ae__v_fill_fn fill, int keep, ae_val *in, ae_val *x,
                            ae_reduction r) {
  int64_t n = x->t.numel, b = x->t.shape.ndim > 0 ? x->t.shape.d[0] : 1;
  ae_real c = r == AE_REDUCE_SUM ? 1 : (ae_real)(1.0 / (double)(r == AE_REDUCE_MEAN ? n : b));
  ae_val *out = ae_op_out(t, op, ae_shape_make(0, NULL));
  ae_tape_mark before_a = ae_tape_get_mark(t);
  ae_val *a = out && keep ? ae_op_out(t, op, in->t.shape) : in;
  if (!out || !a) return NULL;
  loss_chunks m = {in->t.data, x->t.data, a->t.data, keep};
  ae_real sum = (ae_real)ae__v_sum_fill(n, fill, &m);
  out->t.data[0] = r == AE_REDUCE_SUM ? sum : c * sum;
  ae_node *nd = ae_op_record(t, id, out, 2, (ae_val *[]){in, x});
  if (nd) {
    nd->f[0] = c;
    if (keep) nd->saved[0] = a;
  } else if (keep && ae_tape_ok(t)) {
    ae_tape_rewind(t, before_a); /* no backward will read a */
  }
  return ae_tape_ok(t) ? out : NULL;
}

/* The first-order rules of the reduced losses (grad mode off): gin[j] a
 * new array of the inputs' shape where the sweep needs input j's
 * gradient, else NULL, and *k = c g, the composite's broadcast value.
 * Returns 0 when out of arena. */
static int fused_grads_begin(ae_tape *t, const ae_node *n, const ae_val *g, const char *op, ae_val **gin,
                             ae_real *k) {
  ae_real c = (ae_real)n->f[0];
  for (int j = 0; j < 2; j++)
    if (ae_needs_grad(t, n, j) && !(gin[j] = ae_op_out(t, op, n->in[0]->t.shape))) return 0;
  *k = c == 1 ? g->t.data[0] : c * g->t.data[0];
  return 1;
}
/* Once written: nothing is recorded (grad mode is off); anomaly mode checks them. */
static void fused_grads_end(ae_tape *t, const ae_node *n, ae_val **gin) {
  for (int j = 0; j < 2; j++)
    if (gin[j]) ae_op_record(t, n->op, gin[j], 0, NULL);
}

static void bw_reduced_mse(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin, const char *op, int sig) {
  ae_val *in = n->in[0], *x = n->in[1];
  ae_real c = (ae_real)n->f[0];
  int ni = ae_needs_grad(t, n, 0), nx = ae_needs_grad(t, n, 1);
  if (ae_grad_enabled(t)) { /* create_graph: the composite's rules (on a recorded sigmoid) */
    ae_val *a = sig ? ae_sigmoid(t, in) : in;
    ae_val *gc = c == 1 ? g : ae_scale(t, g, c);
    ae_val *ga = ae_mul(t, ae_broadcast_to(t, gc, in->t.shape), ae_scale(t, ae_sub(t, a, x), 2));
    if (ni) gin[0] = sig ? ae_sigmoid_backward(t, ga, a) : ga;
    if (nx) gin[1] = ae_neg(t, ga);
    return;
  }
  ae_real k;
  if (!fused_grads_begin(t, n, g, op, gin, &k)) return;
  const ae_real *pa = sig ? n->saved[0]->t.data : in->t.data, *px = x->t.data;
  ae_real *pi = gin[0] ? gin[0]->t.data : NULL, *pg = gin[1] ? gin[1]->t.data : NULL;
  const int64_t len = in->t.numel;
  AE_PAR_FOR(AE_PAR(len), simd,
  for (int64_t e = 0; e < len; e++) {
    ae_real v = pa[e], d = k * (2 * (v - px[e])); /* the composite's d l/d a, then its sigmoid_backward */
    if (pi) pi[e] = sig ? d * v * (1 - v) : d;
    if (pg) pg[e] = -d;
  });
  fused_grads_end(t, n, gin);
}

ae_val *ae_mse_loss(ae_tape *t, ae_val *x_hat, ae_val *x, ae_reduction r) {
  if (!same_shape(t, "mse_loss", "x_hat", x_hat, "x", x)) return NULL;
  if (!reduced(r)) return ae_loss_reduce(t, ae_square(t, ae_sub(t, x_hat, x)), r);
  return reduced_loss(t, "mse_loss", AE_OP_MSE_LOSS, mse_fill, 0, x_hat, x, r);
}
void ae_bw_mse_loss(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  bw_reduced_mse(t, n, g, gin, "mse_loss", 0);
}

ae_val *ae_sigmoid_mse_loss(ae_tape *t, ae_val *z, ae_val *x, ae_reduction r) {
  if (!same_shape(t, "sigmoid_mse_loss", "z", z, "x", x)) return NULL;
  if (!reduced(r)) return ae_mse_loss(t, ae_sigmoid(t, z), x, r);
  return reduced_loss(t, "sigmoid_mse_loss", AE_OP_SIGMOID_MSE_LOSS, mse_fill, 1, z, x, r);
}
void ae_bw_sigmoid_mse_loss(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  bw_reduced_mse(t, n, g, gin, "sigmoid_mse_loss", 1);
}

/* ---- bce: l = -(x max(log p, -100) + (1 - x) max(log(1 - p), -100)) ---- */

ae_val *ae_bce(ae_tape *t, ae_val *p, ae_val *x) {
  if (!same_shape(t, "bce", "p", p, "x", x)) return NULL;
  int64_t n = p->t.numel;
  ae_val *y = ae_op_out(t, "bce", p->t.shape);
  ae_real *lq = ae_arena_alloc(t, "bce", sizeof(ae_real) * (size_t)n);
  if (!y || !lq) return NULL;
  const ae_real *pp = p->t.data, *px = x->t.data;
  ae_real *py = y->t.data;
  AE_MAP(n, lq, pp, 1 - v);
  ae_v_log(n, lq, lq);
  ae_v_log(n, pp, py);
  const ae_real lmin = (ae_real)AE_BCE_LOG_MIN;
  AE_PAR_FOR(AE_PAR(n), simd,
  for (int64_t i = 0; i < n; i++) {
    ae_real lp = py[i] > lmin ? py[i] : lmin, l1 = lq[i] > lmin ? lq[i] : lmin;
    py[i] = -(px[i] * lp + (1 - px[i]) * l1);
  });
  ae_op_record(t, AE_OP_BCE, y, 2, (ae_val *[]){p, x});
  return y;
}

/* max(log p, -100) as differentiable ops with no Inf or NaN anywhere in
 * its gradients: where p is at the floor the log sees 1 instead of p
 * (the double-where trick), so 0 * (1/0) never arises. */
static ae_val *clamped_log(ae_tape *t, ae_val *p) {
  const double pmin = exp(AE_BCE_LOG_MIN);
  ae_val *m = AE_CONST_MAP(t, "bce", p, (ae_real)((double)v > pmin));
  ae_val *safe = ae_where(t, m, p, ae_scalar(t, 1));
  return ae_where(t, m, ae_log(t, safe), ae_scalar(t, (ae_real)AE_BCE_LOG_MIN));
}

void ae_bw_bce(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *p = n->in[0], *x = n->in[1];
  if (ae_needs_grad(t, n, 0)) {
    ae_val *den = ae_clamp(t, ae_mul(t, p, ae_one_minus(t, p)), (ae_real)AE_BCE_GRAD_EPS, (ae_real)INFINITY);
    gin[0] = ae_div(t, ae_mul(t, g, ae_sub(t, p, x)), den);
  }
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_mul(t, g, ae_sub(t, clamped_log(t, ae_one_minus(t, p)), clamped_log(t, p)));
}

ae_val *ae_bce_loss(ae_tape *t, ae_val *p, ae_val *x, ae_reduction r) { return ae_loss_reduce(t, ae_bce(t, p, x), r); }

/* ---- bce_logits: l = max(z, 0) - x z + log1p(exp(-|z|)) ---- */

ae_val *ae_bce_logits(ae_tape *t, ae_val *z, ae_val *x) {
  if (!same_shape(t, "bce_logits", "z", z, "x", x)) return NULL;
  int64_t n = z->t.numel;
  ae_val *y = ae_op_out(t, "bce_logits", z->t.shape);
  if (!y) return NULL;
  const ae_real *pz = z->t.data, *px = x->t.data;
  ae_real *py = y->t.data;
  AE_MAP(n, py, pz, v < 0 ? v : -v);
  ae_v_exp(n, py, py);
  ae_v_log1p(n, py, py);
  AE_PAR_FOR(AE_PAR(n), simd,
  for (int64_t i = 0; i < n; i++) py[i] = (pz[i] > 0 ? pz[i] : 0) - px[i] * pz[i] + py[i];);
  ae_op_record(t, AE_OP_BCE_LOGITS, y, 2, (ae_val *[]){z, x});
  return y;
}

void ae_bw_bce_logits(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *z = n->in[0], *x = n->in[1];
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_mul(t, g, ae_sub(t, ae_sigmoid(t, z), x));
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_neg(t, ae_mul(t, g, z));
}

/* ---- bce_logits, reduced: c times the sum of bce_logits' l ----
 *
 * An op, as the reduced mse is: the composite wrote l, summed it, and its
 * backward broadcast c g, evaluated sigmoid(z) again (an exp a value),
 * subtracted x and multiplied, four arrays of temporaries. Here each
 * chunk's l is summed as it is made, and s = sigmoid(z), formed from the
 * same e = exp(-|z|) that l's log1p reads, is kept for the backward, which
 * is one pass: d l/d z = (c g)(s - x), d l/d x = -((c g) z). Values and
 * gradients are bitwise the composite's: l is bce_logits' expression on
 * the same kernels' values, s is k_sigmoid's quotient (base/vlayer.h: the
 * same numerator over the same 1 + e), and the products are the ones the
 * composite's rules form. With create_graph the rules are the composite's,
 * in differentiable ops. Unreduced, it is the composite. */
static void bcel_fill(const void *ctx, int64_t lo, int64_t len, ae_real *l) {
  const loss_chunks *m = ctx;
  const ae_real *restrict z = m->z + lo, *restrict x = m->x + lo;
  ae_real *restrict s = m->a + lo;
#pragma omp simd
  for (int64_t i = 0; i < len; i++) s[i] = z[i] < 0 ? z[i] : -z[i];
  ae_v_exp(len, s, s);
  ae_v_log1p(len, s, l);
#pragma omp simd
  for (int64_t i = 0; i < len; i++) {
    ae_real e = s[i];
    l[i] = (z[i] > 0 ? z[i] : 0) - x[i] * z[i] + l[i];
    s[i] = (z[i] >= 0 ? 1 : e) / (1 + e);
  }
}

ae_val *ae_bce_with_logits_loss(ae_tape *t, ae_val *z, ae_val *x, ae_reduction r) {
  if (!reduced(r)) return ae_loss_reduce(t, ae_bce_logits(t, z, x), r);
  if (!same_shape(t, "bce_with_logits_loss", "z", z, "x", x)) return NULL;
  return reduced_loss(t, "bce_with_logits_loss", AE_OP_BCE_LOGITS_LOSS, bcel_fill, 1, z, x, r);
}

void ae_bw_bce_logits_loss(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *z = n->in[0], *x = n->in[1];
  ae_real c = (ae_real)n->f[0];
  int nz = ae_needs_grad(t, n, 0), nx = ae_needs_grad(t, n, 1);
  if (ae_grad_enabled(t)) { /* create_graph: the composite's rules */
    ae_val *gb = ae_broadcast_to(t, c == 1 ? g : ae_scale(t, g, c), z->t.shape);
    if (nz) gin[0] = ae_mul(t, gb, ae_sub(t, ae_sigmoid(t, z), x));
    if (nx) gin[1] = ae_neg(t, ae_mul(t, gb, z));
    return;
  }
  ae_real k;
  if (!fused_grads_begin(t, n, g, "bce_with_logits_loss", gin, &k)) return;
  const ae_real *ps = n->saved[0]->t.data, *pz = z->t.data, *px = x->t.data;
  ae_real *pgz = gin[0] ? gin[0]->t.data : NULL, *pgx = gin[1] ? gin[1]->t.data : NULL;
  const int64_t len = z->t.numel;
  AE_PAR_FOR(AE_PAR(len), simd,
  for (int64_t e = 0; e < len; e++) {
    if (pgz) pgz[e] = k * (ps[e] - px[e]);
    if (pgx) pgx[e] = -(k * pz[e]);
  });
  fused_grads_end(t, n, gin);
}

/* ---- composites ---- */

ae_val *ae_gaussian_nll_loss(ae_tape *t, ae_val *mu, ae_val *logvar, ae_val *x, ae_reduction r) {
  ae_val *in[3] = {mu, logvar, x};
  if (!ae_op_begin(t, "gaussian_nll_loss", 3, in)) return NULL;
  if (!same_shape(t, "gaussian_nll_loss", "mu", mu, "x", x)) return NULL;
  if (!ae_broadcasts_to(logvar->t.shape, x->t.shape)) {
    char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, "gaussian_nll_loss", "logvar of shape %s does not broadcast to x's shape %s",
             ae_sstr(logvar->t.shape, a), ae_sstr(x->t.shape, b));
    return NULL;
  }
  const double log_2pi = 1.8378770664093453;
  ae_val *sq = ae_mul(t, ae_square(t, ae_sub(t, x, mu)), ae_exp(t, ae_neg(t, logvar)));
  ae_val *l = ae_scale(t, ae_add_scalar(t, ae_add(t, logvar, sq), (ae_real)log_2pi), (ae_real)0.5);
  return ae_loss_reduce(t, l, r);
}

ae_val *ae_kl_bernoulli(ae_tape *t, ae_real rho, ae_val *rho_hat, ae_reduction r) {
  if (!ae_op_begin(t, "kl_bernoulli", 1, &rho_hat)) return NULL;
  if (!(rho > 0 && rho < 1)) {
    ae_raise(t, AE_ERR_ARG, "kl_bernoulli", "target rho %g is not inside (0, 1)", (double)rho);
    return NULL;
  }
  double c = (double)rho * log((double)rho) + (1 - (double)rho) * log1p(-(double)rho);
  ae_val *cross = ae_add(t, ae_scale(t, ae_log(t, rho_hat), rho), ae_scale(t, ae_log(t, ae_one_minus(t, rho_hat)), 1 - rho));
  return ae_loss_reduce(t, ae_add_scalar(t, ae_neg(t, cross), (ae_real)c), r);
}

ae_val *ae_kl_sparsity(ae_tape *t, ae_real rho, ae_val *h, ae_reduction r) {
  if (!ae_op_begin(t, "kl_sparsity", 1, &h)) return NULL;
  if (h->t.shape.ndim != 2) {
    char a[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, "kl_sparsity", "activations must be (batch, units), got %s", ae_sstr(h->t.shape, a));
    return NULL;
  }
  return ae_kl_bernoulli(t, rho, ae_mean_axis(t, h, 0, 0), r);
}

ae_val *ae_kl_gaussian(ae_tape *t, ae_val *mu, ae_val *logvar, ae_reduction r) {
  if (!same_shape(t, "kl_gaussian", "mu", mu, "logvar", logvar)) return NULL;
  ae_val *s = ae_sub(t, ae_sub(t, logvar, ae_square(t, mu)), ae_exp(t, logvar));
  return ae_loss_reduce(t, ae_scale(t, ae_add_scalar(t, s, 1), (ae_real)-0.5), r);
}

ae_val *ae_l1_penalty(ae_tape *t, ae_val *w) { return ae_sum(t, ae_abs(t, w)); }
ae_val *ae_l2_penalty(ae_tape *t, ae_val *w) { return ae_sum_sq(t, w); }
