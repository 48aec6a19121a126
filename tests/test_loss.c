/* test_loss.c: the losses of ops/loss.h. Reductions against plain loops;
 * BCE-with-logits against BCE on sigmoid probabilities where both are
 * finite, and finite (values and gradients) at logits of +-100 where the
 * latter is not; BCE's clamps; the Gaussian KL against a Monte-Carlo
 * estimate (within 3 standard errors); error reporting. Also runs the
 * op-table rows of the loss and noise families (tests/rows/loss.c,
 * tests/rows/noise.c, linked into this executable) as the table harness
 * does: forward against the reference, then gradcheck and gradgradcheck
 * with the default float64 options. Built for float64 and float32. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "op_table.h"

#ifdef AE_REAL_DOUBLE
#define FWD_TOL 1e-12
#else
#define FWD_TOL 1e-5
#endif

/* ---- the op-table rows linked into this executable ---- */

static uint64_t label_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

#ifdef AE_REAL_DOUBLE
static ae_val *row_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  const op_row *row = ctx;
  return row->build(t, in, row);
}
#endif

/* 1 when the row passes; prints what failed. */
static int check_row(const op_row *row) {
  ae_tensor *x[OP_ROW_MAX_IN];
  ae_rng r;
  ae_rng_init(&r, row->seed ? row->seed : label_hash(row->label));
  for (int k = 0; k < row->nin; k++) {
    x[k] = ae_tensor_new(row->in_shape[k]);
    ae_rng_uniform(&r, x[k]->data, x[k]->numel, (ae_real)row->lo, (ae_real)row->hi);
  }
  if (row->init) row->init(x, &r, row);
  int ok = 1;
  ae_tape *t = ae_tape_new(0);
  ae_val *in[OP_ROW_MAX_IN];
  for (int k = 0; k < row->nin; k++)
    in[k] = row->nondiff & (1u << k) ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
  ae_val *y = row->build(t, in, row);
  ae_tensor *ref = ae_tensor_new(row->out_shape);
  if (!y || !ae_shape_eq(y->t.shape, row->out_shape)) {
    fprintf(stderr, "%s: build failed or wrong shape: %s\n", row->label, ae_tape_error(t));
    ok = 0;
  } else {
    row->reference(x, ref, row);
    double tol = row->fwd_rtol > FWD_TOL ? row->fwd_rtol : FWD_TOL;
    for (int64_t i = 0; i < ref->numel; i++) {
      double g = y->t.data[i], w = ref->data[i];
      if (!(fabs(g - w) <= tol * (1 + fabs(w)))) {
        fprintf(stderr, "%s: forward [%lld] got %.17g want %.17g\n", row->label, (long long)i, g, w);
        ok = 0;
        break;
      }
    }
  }
  ae_tape_free(t);
  ae_tensor_free(ref);
#ifdef AE_REAL_DOUBLE
  if (ok && !(row->flags & OP_ROW_FWD_ONLY)) {
    ae_gc_opts o = ae_gc_defaults();
    o.nondiff = row->nondiff;
    ae_gc_report rep;
    if (!ae_gradcheck(row_fn, (void *)row, row->nin, x, &o, &rep)) {
      ae_gc_report_print(stderr, row->label, &rep);
      ok = 0;
    } else if (!ae_gradgradcheck(row_fn, (void *)row, row->nin, x, &o, &rep)) {
      ae_gc_report_print(stderr, row->label, &rep);
      ok = 0;
    }
  }
#endif
  for (int k = 0; k < row->nin; k++) ae_tensor_free(x[k]);
  return ok;
}

Test(rows, loss_and_noise_rows_pass) {
  int n = op_table_count(), bad = 0;
  cr_assert(n >= 20, "only %d rows linked", n);
  for (int i = 0; i < n; i++)
    if (!check_row(op_table_row(i))) {
      bad++;
      cr_log_error("row failed: [%s] %s", op_table_family(i), op_table_row(i)->label);
    }
  cr_expect(bad == 0, "%d of %d rows failed", bad, n);
}

/* ---- reductions ---- */

Test(loss, reductions_match_loops) {
  ae_tape *t = ae_tape_new(0);
  ae_real xh[12], x[12];
  double sum = 0;
  for (int i = 0; i < 12; i++) {
    xh[i] = (ae_real)(0.1 * i - 0.4), x[i] = (ae_real)(0.05 * i * i - 1);
    double d = (double)xh[i] - x[i];
    sum += d * d;
  }
  ae_val *a = ae_var(t, AE_SHAPE(4, 3), xh), *b = ae_const(t, AE_SHAPE(4, 3), x);
  double tol = FWD_TOL * (1 + sum);
  cr_expect_float_eq(ae_item(ae_mse_loss(t, a, b, AE_REDUCE_SUM)), sum, tol);
  cr_expect_float_eq(ae_item(ae_mse_loss(t, a, b, AE_REDUCE_MEAN)), sum / 12, tol);
  cr_expect_float_eq(ae_item(ae_mse_loss(t, a, b, AE_REDUCE_BATCH_MEAN)), sum / 4, tol);
  ae_val *none = ae_mse_loss(t, a, b, AE_REDUCE_NONE);
  cr_assert(none && ae_shape_eq(none->t.shape, AE_SHAPE(4, 3)));
  cr_expect_float_eq(none->t.data[5], ((double)xh[5] - x[5]) * ((double)xh[5] - x[5]), FWD_TOL);
  /* a 0-d loss has batch size 1 */
  ae_val *s = ae_scalar(t, 3);
  cr_expect_float_eq(ae_item(ae_loss_reduce(t, s, AE_REDUCE_BATCH_MEAN)), 3.0, 0);
  /* L1 / L2: sum |w| and sum w^2 (no 1/2) */
  double l1 = 0, l2 = 0;
  for (int i = 0; i < 12; i++) l1 += fabs((double)xh[i]), l2 += (double)xh[i] * xh[i];
  cr_expect_float_eq(ae_item(ae_l1_penalty(t, a)), l1, FWD_TOL * (1 + l1));
  cr_expect_float_eq(ae_item(ae_l2_penalty(t, a)), l2, FWD_TOL * (1 + l2));
  cr_expect(ae_tape_ok(t), "%s", ae_tape_error(t));
  ae_tape_free(t);
}

Test(loss, errors_name_the_problem) {
  ae_tape *t = ae_tape_new(0);
  ae_val *a = ae_full(t, AE_SHAPE(2, 3), 0.5), *b = ae_full(t, AE_SHAPE(3, 2), 0.5);
  cr_expect_null(ae_bce_loss(t, a, b, AE_REDUCE_SUM));
  cr_expect_eq(ae_tape_status(t), AE_ERR_SHAPE);
  cr_expect(strstr(ae_tape_error(t), "(2,3)") && strstr(ae_tape_error(t), "(3,2)"), "%s", ae_tape_error(t));
  ae_tape_reset(t);
  a = ae_full(t, AE_SHAPE(2, 3), 0.5);
  cr_expect_null(ae_kl_bernoulli(t, 1, a, AE_REDUCE_SUM));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  ae_tape_reset(t);
  a = ae_full(t, AE_SHAPE(2, 3), 0.5);
  cr_expect_null(ae_loss_reduce(t, a, (ae_reduction)17));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  ae_tape_reset(t);
  a = ae_full(t, AE_SHAPE(2, 3), 0.5);
  cr_expect_null(ae_gaussian_nll_loss(t, a, ae_full(t, AE_SHAPE(2), 0), a, AE_REDUCE_SUM));
  cr_expect_eq(ae_tape_status(t), AE_ERR_SHAPE);
  ae_tape_free(t);
}

/* ---- BCE on logits against BCE on probabilities ---- */

/* d loss / d z of the summed loss, loss built by f. */
typedef ae_val *(*bce_fn)(ae_tape *, ae_val *, ae_val *);
static ae_val *via_logits(ae_tape *t, ae_val *z, ae_val *x) { return ae_bce_with_logits_loss(t, z, x, AE_REDUCE_NONE); }
/* The textbook composite with no clamp: -(x log p + (1-x) log(1-p)). */
static ae_val *via_plain_logs(ae_tape *t, ae_val *z, ae_val *x) {
  ae_val *p = ae_sigmoid(t, z);
  ae_val *a = ae_mul(t, x, ae_log(t, p)), *b = ae_mul(t, ae_one_minus(t, x), ae_log(t, ae_one_minus(t, p)));
  return ae_neg(t, ae_add(t, a, b));
}

static void values_and_grads(bce_fn f, int n, const ae_real *z, const ae_real *x, ae_real *l, ae_real *g) {
  ae_tape *t = ae_tape_new(0);
  ae_val *zv = ae_var(t, AE_SHAPE(n), z), *xv = ae_const(t, AE_SHAPE(n), x);
  ae_val *y = f(t, zv, xv);
  ae_val *gz = ae_grad1(t, ae_sum(t, y), NULL, zv, 0);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  memcpy(l, y->t.data, sizeof(ae_real) * (size_t)n);
  memcpy(g, gz->t.data, sizeof(ae_real) * (size_t)n);
  ae_tape_free(t);
}

#ifdef AE_REAL_DOUBLE
static ae_val *via_sigmoid(ae_tape *t, ae_val *z, ae_val *x) { return ae_bce_loss(t, ae_sigmoid(t, z), x, AE_REDUCE_NONE); }

/* In float64 sigmoid keeps 1 - p accurate to about 1e-16 / 3e-7 = 3e-10
 * relative at |z| = 15, so both forms agree to 1e-8. (In float32 the
 * probability form itself loses that accuracy: 1 - sigmoid(15) rounds to
 * 2.98e-7 instead of 3.06e-7; the f32 rows compare bce_logits with a
 * double reference instead.) */
Test(loss, bce_logits_equals_bce_on_sigmoid_where_finite) {
  enum { N = 301 * 3 };
  static ae_real z[N], x[N], l1[N], g1[N], l2[N], g2[N];
  for (int i = 0; i < N; i++) z[i] = -15 + 0.1 * (i / 3), x[i] = 0.5 * (i % 3);
  values_and_grads(via_logits, N, z, x, l1, g1);
  values_and_grads(via_sigmoid, N, z, x, l2, g2);
  for (int i = 0; i < N; i++) {
    cr_assert(isfinite(l2[i]) && isfinite(g2[i]));
    cr_expect(fabs(l1[i] - l2[i]) <= 1e-8 * (1 + fabs(l2[i])), "z %g x %g: %.17g vs %.17g", z[i], x[i], l1[i], l2[i]);
    cr_expect(fabs(g1[i] - g2[i]) <= 1e-8, "grad z %g x %g: %.17g vs %.17g", z[i], x[i], g1[i], g2[i]);
  }
}
#endif

Test(loss, bce_logits_finite_at_large_logits) {
  enum { N = 6 };
  ae_real z[N] = {100, 100, 100, -100, -100, -100}, x[N] = {0, 0.5, 1, 0, 0.5, 1};
  ae_real l[N], g[N], lp[N], gp[N];
  values_and_grads(via_logits, N, z, x, l, g);
  values_and_grads(via_plain_logs, N, z, x, lp, gp);
  for (int i = 0; i < N; i++) {
    /* exact: l = max(z,0) - x z + log1p(e^-100), dl/dz = sigmoid(z) - x */
    double want = (z[i] > 0 ? z[i] : 0) - x[i] * z[i] + exp(-100.0), gw = (z[i] > 0 ? 1 : 0) - x[i];
    cr_expect(isfinite(l[i]) && isfinite(g[i]), "z %g x %g: %g %g", z[i], x[i], l[i], g[i]);
    cr_expect(fabs(l[i] - want) <= 1e-6 * (1 + fabs(want)), "z %g x %g: loss %.9g want %.9g", z[i], x[i], l[i], want);
    cr_expect(fabs(g[i] - gw) <= 1e-6, "z %g x %g: grad %.9g want %.9g", z[i], x[i], g[i], gw);
  }
  /* The probability form is not finite there: sigmoid(100) is exactly 1
   * in float32 and float64, so log(1 - p) = -inf for x < 1. */
  cr_expect(!isfinite(lp[0]) && !isfinite(lp[1]), "plain logs at z = 100: %g %g", lp[0], lp[1]);
}

/* BCE on probabilities: logs clamped at -100, gradient bounded by 1e12. */
Test(loss, bce_clamps_logs_and_gradient) {
  ae_real p[4] = {0, 1, 0, 1}, x[4] = {1, 0, 0.25, 0.75};
  ae_tape *t = ae_tape_new(0);
  ae_val *pv = ae_var(t, AE_SHAPE(4), p), *xv = ae_var(t, AE_SHAPE(4), x);
  ae_val *l = ae_bce(t, pv, xv);
  ae_val *ins[2] = {pv, xv}, *gs[2];
  cr_assert(ae_grad(t, 1, (ae_val *[]){ae_sum(t, l)}, NULL, 2, ins, gs, 1) == 0, "%s", ae_tape_error(t));
  const double want_l[4] = {100, 100, 25, 25}, want_gp[4] = {-1e12, 1e12, -0.25e12, 0.25e12};
  const double want_gx[4] = {100, -100, 100, -100}; /* log(1-p) - log(p) with both clamped */
  for (int i = 0; i < 4; i++) {
    cr_expect(fabs(l->t.data[i] - want_l[i]) <= 1e-5 * want_l[i], "l[%d] = %g", i, l->t.data[i]);
    cr_expect(fabs(gs[0]->t.data[i] - want_gp[i]) <= 1e-5 * fabs(want_gp[i]), "dl/dp[%d] = %g", i, gs[0]->t.data[i]);
    cr_expect(fabs(gs[1]->t.data[i] - want_gx[i]) <= 1e-4, "dl/dx[%d] = %g", i, gs[1]->t.data[i]);
  }
  /* second order at the clamps: finite (the double-where log). */
  ae_val *h = ae_grad1(t, ae_sum(t, gs[1]), NULL, pv, 0);
  cr_assert(h, "%s", ae_tape_error(t));
  for (int i = 0; i < 4; i++) cr_expect(isfinite(h->t.data[i]), "d2l/dxdp[%d] = %g", i, h->t.data[i]);
  ae_tape_free(t);
}

/* ---- KL(N(mu, sigma^2) || N(0, 1)) against Monte Carlo ---- */

Test(loss, kl_gaussian_matches_monte_carlo) {
  enum { D = 4, S = 200000 };
  const ae_real mu[D] = {0.3, -1.2, 0.0, 2.0}, lv[D] = {-0.5, 0.4, -2.0, 0.0};
  ae_tape *t = ae_tape_new(0);
  double kl = ae_item(ae_kl_gaussian(t, ae_const(t, AE_SHAPE(D), mu), ae_const(t, AE_SHAPE(D), lv), AE_REDUCE_SUM));
  ae_tape_free(t);
  /* closed form in double, to check the op's arithmetic too */
  double kl_ref = 0;
  for (int j = 0; j < D; j++) kl_ref += 0.5 * (exp((double)lv[j]) + (double)mu[j] * mu[j] - 1 - lv[j]);
  cr_expect(fabs(kl - kl_ref) <= FWD_TOL * (1 + kl_ref), "kl %.17g vs closed form %.17g", kl, kl_ref);
  /* w = log q(z) - log p(z), z = mu + sigma eps: per dimension
   * -0.5 logvar - 0.5 eps^2 + 0.5 z^2 (the 2 pi terms cancel). */
  ae_real *eps = malloc(sizeof(ae_real) * S * D);
  ae_rng r;
  ae_rng_init(&r, 99);
  ae_rng_normal(&r, eps, (int64_t)S * D, 0, 1);
  double m = 0, m2 = 0;
  for (int s = 0; s < S; s++) {
    double w = 0;
    for (int j = 0; j < D; j++) {
      double e = eps[s * D + j], z = mu[j] + exp(0.5 * lv[j]) * e;
      w += -0.5 * lv[j] - 0.5 * e * e + 0.5 * z * z;
    }
    m += w, m2 += w * w;
  }
  free(eps);
  m /= S;
  double se = sqrt((m2 / S - m * m) / (S - 1));
  cr_log_info("KL %.6f, Monte Carlo %.6f +- %.6f", kl, m, se);
  cr_expect(fabs(kl - m) <= 3 * se, "KL %.6f vs Monte Carlo %.6f (3 SE = %.6f)", kl, m, 3 * se);
}

/* Gaussian NLL against the log-density written the other way round. */
Test(loss, gaussian_nll_is_the_log_density) {
  ae_real mu[3] = {0.5, -1, 2}, lv[3] = {0, 1.5, -3}, x[3] = {0.2, 0.7, 2.01};
  ae_tape *t = ae_tape_new(0);
  ae_val *l = ae_gaussian_nll_loss(t, ae_const(t, AE_SHAPE(3), mu), ae_const(t, AE_SHAPE(3), lv),
                                   ae_const(t, AE_SHAPE(3), x), AE_REDUCE_NONE);
  cr_assert(l, "%s", ae_tape_error(t));
  for (int i = 0; i < 3; i++) {
    double sd = exp(0.5 * lv[i]), zz = (x[i] - mu[i]) / sd;
    double want = -log(exp(-0.5 * zz * zz) / (sd * sqrt(2 * M_PI)));
    cr_expect(fabs(l->t.data[i] - want) <= FWD_TOL * (1 + fabs(want)), "[%d] %.17g vs %.17g", i, l->t.data[i], want);
  }
  ae_tape_free(t);
}

/* Runs a loss three ways on inputs a (differentiable) and b: path 0 its
 * composite, path 1 the op with a first-order backward, path 2 the op
 * with create_graph (build(t, in, r, path) gives the composite for path 0,
 * the op otherwise); the value and both inputs' gradients of paths 1 and
 * 2 must be bitwise path 0's. */
typedef ae_val *(*loss_path_fn)(ae_tape *t, ae_val *const *in, ae_reduction r, int path);
static void paths_bitwise(const char *name, const ae_tensor *a, const ae_tensor *b, ae_reduction r,
                          loss_path_fn build) {
  ae_tensor *res[3][3] = {{0}};
  for (int path = 0; path < 3; path++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *in[2] = {ae_var_tensor(t, a), ae_var_tensor(t, b)}, *g[2];
    ae_val *y = build(t, in, r, path);
    cr_assert(y, "%s", ae_tape_error(t));
    cr_assert(path == 0 || ae_tape_node_count(t) == 3, "%s path %d: %d nodes, not the two inputs and the op", name,
              path, ae_tape_node_count(t)); /* one op (test_ops' rows check which) */
    cr_assert(ae_grad(t, 1, &y, NULL, 2, in, g, path == 2) == 0, "%s", ae_tape_error(t));
    res[path][0] = ae_tensor_copy(&y->t), res[path][1] = ae_tensor_copy(&g[0]->t);
    res[path][2] = ae_tensor_copy(&g[1]->t);
    ae_tape_free(t);
  }
  const char *what[3] = {"value", "gradient of its first input", "gradient of x"};
  for (int path = 1; path < 3; path++)
    for (int k = 0; k < 3; k++)
      cr_assert(memcmp(res[path][k]->data, res[0][k]->data, sizeof(ae_real) * (size_t)res[0][k]->numel) == 0,
                "%s (n %lld, reduction %d) %s %s differs from the composite's", name, (long long)a->numel, (int)r,
                what[k], path == 1 ? "(first order)" : "(create_graph)");
  for (int path = 0; path < 3; path++)
    for (int k = 0; k < 3; k++) ae_tensor_free(res[path][k]);
}

/* The reduced mse, and the reduced mse of sigmoid(z), are ops (ops/loss.c)
 * whose first-order backward is a fused pass and whose create_graph
 * backward is the composite's rules in differentiable ops: both give
 * bitwise the composite square(x_hat - x) (x_hat = sigmoid(z)) reduced,
 * in value and in the gradients of both inputs, on 70000 elements
 * (parallel kernels above the threshold) and on 7. */
static ae_val *mse_path(ae_tape *t, ae_val *const *in, ae_reduction r, int path) {
  if (path) return ae_mse_loss(t, in[0], in[1], r);
  return ae_loss_reduce(t, ae_square(t, ae_sub(t, in[0], in[1])), r);
}
static ae_val *sigmoid_mse_path(ae_tape *t, ae_val *const *in, ae_reduction r, int path) {
  if (path) return ae_sigmoid_mse_loss(t, in[0], in[1], r);
  return ae_loss_reduce(t, ae_square(t, ae_sub(t, ae_sigmoid(t, in[0]), in[1])), r);
}
static void mse_paths(int64_t n, ae_reduction r, int sig) {
  ae_rng rng;
  ae_rng_init(&rng, 3 + (uint64_t)n);
  ae_tensor *a = ae_tensor_new(AE_SHAPE(n / 7, 7)), *b = ae_tensor_new(AE_SHAPE(n / 7, 7));
  ae_rng_uniform(&rng, a->data, n, -1, 1);
  ae_rng_uniform(&rng, b->data, n, 0, 1);
  paths_bitwise(sig ? "sigmoid_mse" : "mse", a, b, r, sig ? sigmoid_mse_path : mse_path);
  ae_tensor_free(a), ae_tensor_free(b);
}

/* The reduced bce_with_logits is an op (ops/loss.c) with a one-pass
 * first-order backward and the composite's rules under create_graph: its
 * value and both inputs' gradients are bitwise those of the composite
 * ae_loss_reduce(ae_bce_logits(z, x)), on 70000 elements (parallel kernels
 * above the threshold) and on 7, with logits from -40 to 40 (the
 * saturated and the confident-and-right ends), zeros among them, and
 * targets in [0, 1]. */
static ae_val *bce_logits_path(ae_tape *t, ae_val *const *in, ae_reduction r, int path) {
  if (path) return ae_bce_with_logits_loss(t, in[0], in[1], r);
  return ae_loss_reduce(t, ae_bce_logits(t, in[0], in[1]), r);
}
static void bce_logits_paths(int64_t n, ae_reduction r) {
  ae_rng rng;
  ae_rng_init(&rng, 11 + (uint64_t)n);
  ae_tensor *a = ae_tensor_new(AE_SHAPE(n / 7, 7)), *b = ae_tensor_new(AE_SHAPE(n / 7, 7));
  ae_rng_uniform(&rng, a->data, n, -40, 40);
  ae_rng_uniform(&rng, b->data, n, 0, 1);
  for (int64_t i = 0; i < n; i += 5) a->data[i] = i % 3 ? a->data[i] / 16 : 0;
  paths_bitwise("bce_with_logits", a, b, r, bce_logits_path);
  ae_tensor_free(a), ae_tensor_free(b);
}
Test(loss, bce_with_logits_op_equals_composite_bitwise) {
  ae_reduction rs[3] = {AE_REDUCE_MEAN, AE_REDUCE_SUM, AE_REDUCE_BATCH_MEAN};
  for (int k = 0; k < 3; k++) {
    bce_logits_paths(7, rs[k]);
    bce_logits_paths(70000, rs[k]);
  }
}

Test(loss, mse_ops_equal_composites_bitwise) {
  ae_reduction rs[3] = {AE_REDUCE_MEAN, AE_REDUCE_SUM, AE_REDUCE_BATCH_MEAN};
  for (int k = 0; k < 3; k++) {
    for (int sig = 0; sig < 2; sig++) {
      mse_paths(7, rs[k], sig);
      mse_paths(70000, rs[k], sig);
    }
  }
}
