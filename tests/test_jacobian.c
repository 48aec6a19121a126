/* test_jacobian.c: the Jacobian tools (autograd/jacobian.h), float64.
 * Checked against independent computations:
 * - ae_jacobian and ae_jvp / ae_vjp against Richardson-extrapolated central
 *   differences of small non-linear functions that couple all their inputs
 *   (both the by-rows and the by-columns paths), the <v, J u> identity, and
 *   gradchecks of the Jacobian itself (its create_graph path);
 * - the contractive penalty of one sigmoid layer against pylearn2's closed
 *   form sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2 and its gradient
 *   (second-order autodiff) against the closed form built from ops, a
 *   hand-derived gradient in plain C, and differences of the closed form;
 * - two sigmoid layers against J_b = diag(h2') W2 diag(h1') W1 in plain C,
 *   value and gradient;
 * - Hutchinson estimates (Gaussian / Rademacher, output / input side):
 *   the mean of 2000 one-probe estimates within 3 standard errors of the
 *   exact value, the sample variance against the documented formula, and
 *   the gradient of the create_graph estimate against the exact gradient;
 * - gradcheck and gradgradcheck of the exact penalty; error paths; and
 *   that a call without create_graph leaves nothing but its result. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aezoo.h"

_Static_assert(sizeof(ae_real) == sizeof(double), "test_jacobian is built against libaezoo64 (float64)");

#define MAXN 64

/* max_i |a_i - b_i| / max_i |b_i|: relative error of a vector as a whole. */
static double vec_rel_err(const double *a, const double *b, int n) {
  double num = 0, den = 0;
  for (int i = 0; i < n; i++) {
    num = fmax(num, fabs(a[i] - b[i]));
    den = fmax(den, fabs(b[i]));
  }
  return den > 0 ? num / den : num;
}

static double rel_err(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-300); }

static void copy_out(const ae_val *v, double *dst) {
  cr_assert_not_null(v);
  for (int64_t i = 0; i < v->t.numel; i++) dst[i] = (double)v->t.data[i];
}

static void fill_normal(uint64_t seed, double *dst, int n, double std) {
  ae_rng r;
  ae_rng_init(&r, seed);
  ae_rng_normal(&r, dst, n, 0, std);
}

static double sigm(double z) { return 1 / (1 + exp(-z)); }

/* ---- Richardson-extrapolated central differences ------------------------
 * D(h) = (f(x+h) - f(x-h)) / 2h has error c2 h^2 + c4 h^4 + ...;
 * (4 D(h/2) - D(h)) / 3 cancels the h^2 term. With h = 1e-3 the remaining
 * truncation is ~h^4 = 1e-12 (relative, for O(1) derivatives) and rounding
 * ~1e-16 / 5e-4 = 2e-13, so these differences are good to about 1e-11. */
typedef void (*vec_fn)(const double *x, double *y, void *ctx);

static void fd_jacobian(vec_fn f, void *ctx, int n, int m, const double *x0, double *J /* m x n */) {
  double x[MAXN], yp[MAXN], ym[MAXN], d[2][MAXN];
  const double h = 1e-3;
  cr_assert(n <= MAXN && m <= MAXN);
  for (int i = 0; i < n; i++) {
    for (int r = 0; r < 2; r++) {
      double hh = r ? h / 2 : h;
      memcpy(x, x0, sizeof(double) * (size_t)n);
      x[i] = x0[i] + hh;
      f(x, yp, ctx);
      x[i] = x0[i] - hh;
      f(x, ym, ctx);
      for (int k = 0; k < m; k++) d[r][k] = (yp[k] - ym[k]) / (2 * hh);
    }
    for (int k = 0; k < m; k++) J[k * n + i] = (4 * d[1][k] - d[0][k]) / 3;
  }
}

/* ---- small non-linear functions that couple every input --------------- */

/* f1: x (2,3) -> tanh(x A) * sum(x^2), (2,2): m = 4 < n = 6 (by rows).
 * f2: x (2,2) -> sigmoid(x A) * (1 + sum(x^3)), (2,3): m = 6 > n = 4 (by columns). */
typedef struct nl_fn {
  int which;
  ae_shape xs;
  double A[6];
} nl_fn;

static ae_val *nl_build(ae_tape *t, ae_val *x, ae_val *A, int which) {
  if (which == 1) return ae_mul(t, ae_tanh(t, ae_matmul(t, x, A, 0, 0)), ae_sum(t, ae_square(t, x)));
  return ae_mul(t, ae_sigmoid(t, ae_matmul(t, x, A, 0, 0)), ae_add_scalar(t, ae_sum(t, ae_pow(t, x, 3)), 1));
}

static ae_shape nl_ashape(const nl_fn *f) { return f->which == 1 ? AE_SHAPE(3, 2) : AE_SHAPE(2, 3); }

static void nl_eval(const double *x, double *y, void *ctx) {
  nl_fn *f = ctx;
  ae_tape *t = ae_tape_new(1 << 20);
  ae_val *r = nl_build(t, ae_const(t, f->xs, x), ae_const(t, nl_ashape(f), f->A), f->which);
  copy_out(r, y);
  ae_tape_free(t);
}

static nl_fn nl_make(int which) {
  nl_fn f = {.which = which, .xs = which == 1 ? AE_SHAPE(2, 3) : AE_SHAPE(2, 2)};
  fill_normal(7 + which, f.A, 6, 0.8);
  return f;
}

static void check_full_jacobian(int which) {
  nl_fn f = nl_make(which);
  const int n = (int)ae_shape_numel(f.xs), m = which == 1 ? 4 : 6;
  double x0[8], Jfd[MAXN], Jad[MAXN];
  fill_normal(100 + which, x0, n, 0.7);
  fd_jacobian(nl_eval, &f, n, m, x0, Jfd);
  for (int cg = 0; cg <= 1; cg++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *x = ae_var(t, f.xs, x0);
    ae_val *y = nl_build(t, x, ae_const(t, nl_ashape(&f), f.A), which);
    ae_val *J = ae_jacobian(t, y, x, cg);
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
    cr_assert(ae_shape_eq(J->t.shape, AE_SHAPE(m, n)));
    cr_assert_eq(J->requires_grad, cg, "the Jacobian is recorded exactly when create_graph is set");
    copy_out(J, Jad);
    double e = vec_rel_err(Jad, Jfd, m * n);
    cr_expect(e < 1e-9, "f%d create_graph %d: Jacobian vs differences, rel err %.3g", which, cg, e);
    ae_tape_free(t);
  }
}

Test(jacobian, full_jacobian_by_rows_matches_differences) { check_full_jacobian(1); }
Test(jacobian, full_jacobian_by_columns_matches_differences) { check_full_jacobian(2); }

Test(jacobian, jvp_and_vjp_match_differences_and_each_other) {
  for (int which = 1; which <= 2; which++) {
    nl_fn f = nl_make(which);
    const int n = (int)ae_shape_numel(f.xs), m = which == 1 ? 4 : 6;
    double x0[8], u[8], v[8], Jfd[MAXN], ju[8], vj[8], want[8];
    fill_normal(100 + which, x0, n, 0.7);
    fill_normal(200 + which, u, n, 1);
    fill_normal(300 + which, v, m, 1);
    fd_jacobian(nl_eval, &f, n, m, x0, Jfd);
    ae_tape *t = ae_tape_new(0);
    ae_val *x = ae_var(t, f.xs, x0);
    ae_val *y = nl_build(t, x, ae_const(t, nl_ashape(&f), f.A), which);
    ae_val *JU = ae_jvp(t, y, x, ae_const(t, f.xs, u), 0);
    ae_val *VJ = ae_vjp(t, y, ae_const(t, y->t.shape, v), x, 0);
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
    cr_assert(ae_shape_eq(JU->t.shape, y->t.shape) && ae_shape_eq(VJ->t.shape, x->t.shape));
    copy_out(JU, ju);
    copy_out(VJ, vj);
    for (int k = 0; k < m; k++) {
      want[k] = 0;
      for (int i = 0; i < n; i++) want[k] += Jfd[k * n + i] * u[i];
    }
    cr_expect(vec_rel_err(ju, want, m) < 1e-9, "f%d: J u vs differences, rel err %.3g", which,
              vec_rel_err(ju, want, m));
    for (int i = 0; i < n; i++) {
      want[i] = 0;
      for (int k = 0; k < m; k++) want[i] += v[k] * Jfd[k * n + i];
    }
    cr_expect(vec_rel_err(vj, want, n) < 1e-9, "f%d: v^T J vs differences, rel err %.3g", which,
              vec_rel_err(vj, want, n));
    double vju = 0, vju2 = 0; /* <v, J u> = <v^T J, u>, both analytic */
    for (int k = 0; k < m; k++) vju += v[k] * ju[k];
    for (int i = 0; i < n; i++) vju2 += vj[i] * u[i];
    cr_expect(rel_err(vju, vju2) < 1e-12, "f%d: <v, J u> = %.17g but <v^T J, u> = %.17g", which, vju, vju2);
    ae_tape_free(t);
  }
}

/* The Jacobian with create_graph is differentiable in x and in A. */
static ae_val *nl_jacobian_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  int which = *(int *)ctx;
  return ae_jacobian(t, nl_build(t, in[0], in[1], which), in[0], 1);
}

Test(jacobian, full_jacobian_gradcheck) {
  for (int which = 1; which <= 2; which++) {
    nl_fn f = nl_make(which);
    ae_tensor *x = ae_tensor_new(f.xs), *A = ae_tensor_from(nl_ashape(&f), f.A);
    fill_normal(100 + which, x->data, (int)x->numel, 0.7);
    ae_tensor *in[2] = {x, A};
    ae_gc_opts o = ae_gc_defaults();
    ae_gc_report r;
    cr_expect(ae_gradcheck(nl_jacobian_fn, &which, 2, in, &o, &r), "f%d: %s", which, r.message);
    ae_tensor_free(x);
    ae_tensor_free(A);
  }
}

/* ---- one sigmoid layer: pylearn2's closed form ------------------------- */

typedef struct layer1 {
  int B, D, H;
  double x[MAXN], W[MAXN], b[MAXN]; /* x (B,D), W (H,D), b (H) */
} layer1;

static layer1 layer1_make(int B, int D, int H, uint64_t seed) {
  layer1 L = {.B = B, .D = D, .H = H};
  cr_assert(B * D <= MAXN && H * D <= MAXN && H <= MAXN);
  fill_normal(seed, L.x, B * D, 1);
  fill_normal(seed + 1, L.W, H * D, 0.6);
  fill_normal(seed + 2, L.b, H, 0.3);
  return L;
}

static void layer1_h(const layer1 *L, const double *W, const double *b, double *h /* (B,H) */) {
  for (int s = 0; s < L->B; s++)
    for (int j = 0; j < L->H; j++) {
      double z = b[j];
      for (int i = 0; i < L->D; i++) z += L->x[s * L->D + i] * W[j * L->D + i];
      h[s * L->H + j] = sigm(z);
    }
}

/* sum_b sum_j (h_bj (1 - h_bj))^2 sum_i W_ji^2, in plain C. */
static double layer1_closed_form(const layer1 *L, const double *W, const double *b) {
  double h[MAXN], p = 0;
  layer1_h(L, W, b, h);
  for (int j = 0; j < L->H; j++) {
    double c = 0, s2 = 0;
    for (int i = 0; i < L->D; i++) c += W[j * L->D + i] * W[j * L->D + i];
    for (int s = 0; s < L->B; s++) {
      double hs = h[s * L->H + j] * (1 - h[s * L->H + j]);
      s2 += hs * hs;
    }
    p += c * s2;
  }
  return p;
}

/* Its gradient, derived by hand: with s = h(1-h), ds/dz = s(1-2h),
 * dP/dz_bj = 2 c_j s_bj^2 (1 - 2 h_bj), dP/dW_ji = 2 W_ji sum_b s_bj^2 +
 * sum_b dP/dz_bj x_bi, dP/db_j = sum_b dP/dz_bj. */
static void layer1_closed_form_grad(const layer1 *L, double *gW, double *gb) {
  double h[MAXN];
  layer1_h(L, L->W, L->b, h);
  for (int j = 0; j < L->H; j++) {
    double c = 0, s2 = 0;
    for (int i = 0; i < L->D; i++) c += L->W[j * L->D + i] * L->W[j * L->D + i];
    gb[j] = 0;
    for (int i = 0; i < L->D; i++) gW[j * L->D + i] = 0;
    for (int s = 0; s < L->B; s++) {
      double hh = h[s * L->H + j], sv = hh * (1 - hh);
      s2 += sv * sv;
      double dz = 2 * c * sv * sv * (1 - 2 * hh);
      gb[j] += dz;
      for (int i = 0; i < L->D; i++) gW[j * L->D + i] += dz * L->x[s * L->D + i];
    }
    for (int i = 0; i < L->D; i++) gW[j * L->D + i] += 2 * L->W[j * L->D + i] * s2;
  }
}

/* Differences of the plain-C closed form with respect to W then b. */
typedef struct {
  const layer1 *L;
} l1_fd_ctx;
static void layer1_cf_of_params(const double *p, double *y, void *ctx) {
  const layer1 *L = ((l1_fd_ctx *)ctx)->L;
  y[0] = layer1_closed_form(L, p, p + L->H * L->D);
}

/* The generic exact penalty on a tape: x var, W and b bound parameters. */
typedef struct l1_tape {
  ae_tape *t;
  ae_param *W, *b;
  ae_val *x, *Wv, *bv, *h;
} l1_tape;

static l1_tape l1_tape_make(const layer1 *L) {
  l1_tape s = {.t = ae_tape_new(0)};
  s.W = ae_param_new("W", AE_SHAPE(L->H, L->D));
  s.b = ae_param_new("b", AE_SHAPE(L->H));
  memcpy(s.W->value.data, L->W, sizeof(double) * (size_t)(L->H * L->D));
  memcpy(s.b->value.data, L->b, sizeof(double) * (size_t)L->H);
  s.x = ae_var(s.t, AE_SHAPE(L->B, L->D), L->x);
  s.Wv = ae_param_bind(s.t, s.W);
  s.bv = ae_param_bind(s.t, s.b);
  s.h = ae_sigmoid(s.t, ae_linear(s.t, s.x, s.Wv, s.bv));
  cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
  return s;
}

static void l1_tape_free(l1_tape *s) {
  ae_tape_free(s->t);
  ae_param_free(s->W);
  ae_param_free(s->b);
}

/* The closed form built from ops: sum((h(1-h))^2 * sum_i W_ji^2). */
static ae_val *layer1_closed_form_ops(ae_tape *t, ae_val *h, ae_val *W) {
  ae_val *s = ae_mul(t, h, ae_one_minus(t, h));
  return ae_sum(t, ae_mul(t, ae_square(t, s), ae_sum_axis(t, ae_square(t, W), 1, 0)));
}

static void check_layer1(int B, int D, int H, uint64_t seed) {
  layer1 L = layer1_make(B, D, H, seed);
  const int nW = H * D;
  l1_tape s = l1_tape_make(&L);
  ae_tape *t = s.t;
  ae_val *P = ae_jacobian_frobenius_sq(t, s.h, s.x, 1);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_assert_eq(P->t.shape.ndim, 0);
  double want = layer1_closed_form(&L, L.W, L.b);
  cr_expect(rel_err(ae_item(P), want) < 1e-10, "(B,D,H)=(%d,%d,%d): penalty %.17g, closed form %.17g", B, D, H,
            ae_item(P), want);

  /* Gradients: ae_backward through the penalty (second-order autodiff). */
  cr_assert_eq(ae_backward(t, P), 0, "%s", ae_tape_error(t));
  double gW[MAXN], gb[MAXN], hW[MAXN], hb[MAXN], oW[MAXN], ob[MAXN], fd[2 * MAXN];
  memcpy(gW, s.W->grad.data, sizeof(double) * (size_t)nW);
  memcpy(gb, s.b->grad.data, sizeof(double) * (size_t)H);
  /* ... against the hand-derived gradient in plain C */
  layer1_closed_form_grad(&L, hW, hb);
  cr_expect(vec_rel_err(gW, hW, nW) < 1e-10, "dP/dW vs hand-derived: rel err %.3g", vec_rel_err(gW, hW, nW));
  cr_expect(vec_rel_err(gb, hb, H) < 1e-10, "dP/db vs hand-derived: rel err %.3g", vec_rel_err(gb, hb, H));
  /* ... against ae_grad of the closed form built from ops */
  ae_val *C = layer1_closed_form_ops(t, s.h, s.Wv);
  ae_val *ins[2] = {s.Wv, s.bv}, *gs[2];
  cr_assert_eq(ae_grad(t, 1, &C, NULL, 2, ins, gs, 0), 0, "%s", ae_tape_error(t));
  cr_expect(rel_err(ae_item(C), want) < 1e-12);
  copy_out(gs[0], oW);
  copy_out(gs[1], ob);
  cr_expect(vec_rel_err(gW, oW, nW) < 1e-10, "dP/dW vs closed form's ops: rel err %.3g", vec_rel_err(gW, oW, nW));
  cr_expect(vec_rel_err(gb, ob, H) < 1e-10, "dP/db vs closed form's ops: rel err %.3g", vec_rel_err(gb, ob, H));
  /* ... and against Richardson differences of the plain-C closed form
   * (good to ~1e-11, see fd_jacobian; 1e-9 leaves a margin of 100) */
  double p0[2 * MAXN];
  memcpy(p0, L.W, sizeof(double) * (size_t)nW);
  memcpy(p0 + nW, L.b, sizeof(double) * (size_t)H);
  l1_fd_ctx c = {&L};
  fd_jacobian(layer1_cf_of_params, &c, nW + H, 1, p0, fd);
  cr_expect(vec_rel_err(gW, fd, nW) < 1e-9, "dP/dW vs differences: rel err %.3g", vec_rel_err(gW, fd, nW));
  cr_expect(vec_rel_err(gb, fd + nW, H) < 1e-9, "dP/db vs differences: rel err %.3g", vec_rel_err(gb, fd + nW, H));
  l1_tape_free(&s);
}

/* D > H: one VJP per code unit; D < H: one JVP per input unit. */
Test(jacobian, contractive_one_layer_vjp_path) { check_layer1(3, 5, 4, 11); }
Test(jacobian, contractive_one_layer_jvp_path) { check_layer1(3, 3, 5, 21); }

Test(jacobian, frobenius_equals_full_jacobian_for_one_example) {
  layer1 L = layer1_make(1, 4, 3, 31);
  l1_tape s = l1_tape_make(&L);
  ae_val *J = ae_jacobian(s.t, s.h, s.x, 0);
  ae_val *P = ae_jacobian_frobenius_sq(s.t, s.h, s.x, 0);
  cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
  cr_assert(ae_shape_eq(J->t.shape, AE_SHAPE(3, 4)));
  double f = 0;
  for (int k = 0; k < 12; k++) f += J->t.data[k] * J->t.data[k];
  cr_expect(rel_err(ae_item(P), f) < 1e-12);
  cr_expect(rel_err(f, layer1_closed_form(&L, L.W, L.b)) < 1e-12);
  l1_tape_free(&s);
}

/* ---- two sigmoid layers: J_b = diag(h2') W2 diag(h1') W1 -------------- */

typedef struct layer2 {
  int B, D, H1, H2;
  double x[MAXN], W1[MAXN], b1[16], W2[MAXN], b2[16];
} layer2;

static double layer2_closed_form(const layer2 *L, const double *W1) {
  double p = 0;
  for (int s = 0; s < L->B; s++) {
    double h1[16], d1[16], h2[16], M[16 * 16];
    for (int j = 0; j < L->H1; j++) {
      double z = L->b1[j];
      for (int i = 0; i < L->D; i++) z += L->x[s * L->D + i] * W1[j * L->D + i];
      h1[j] = sigm(z);
      d1[j] = h1[j] * (1 - h1[j]);
    }
    for (int k = 0; k < L->H2; k++) {
      double z = L->b2[k];
      for (int j = 0; j < L->H1; j++) z += h1[j] * L->W2[k * L->H1 + j];
      h2[k] = sigm(z);
    }
    for (int k = 0; k < L->H2; k++) /* M = diag(h2') W2 diag(h1') W1, (H2, D) */
      for (int i = 0; i < L->D; i++) {
        double a = 0;
        for (int j = 0; j < L->H1; j++) a += L->W2[k * L->H1 + j] * d1[j] * W1[j * L->D + i];
        M[k * L->D + i] = h2[k] * (1 - h2[k]) * a;
        p += M[k * L->D + i] * M[k * L->D + i];
      }
  }
  return p;
}

static void layer2_cf_of_W1(const double *W1, double *y, void *ctx) { y[0] = layer2_closed_form(ctx, W1); }

static void check_layer2(int B, int D, int H1, int H2, uint64_t seed) {
  layer2 L = {.B = B, .D = D, .H1 = H1, .H2 = H2};
  fill_normal(seed, L.x, B * D, 1);
  fill_normal(seed + 1, L.W1, H1 * D, 0.7);
  fill_normal(seed + 2, L.b1, H1, 0.3);
  fill_normal(seed + 3, L.W2, H2 * H1, 0.9);
  fill_normal(seed + 4, L.b2, H2, 0.3);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var(t, AE_SHAPE(B, D), L.x);
  ae_val *W1 = ae_var(t, AE_SHAPE(H1, D), L.W1), *b1 = ae_var(t, AE_SHAPE(H1), L.b1);
  ae_val *W2 = ae_var(t, AE_SHAPE(H2, H1), L.W2), *b2 = ae_var(t, AE_SHAPE(H2), L.b2);
  ae_val *h2 = ae_sigmoid(t, ae_linear(t, ae_sigmoid(t, ae_linear(t, x, W1, b1)), W2, b2));
  ae_val *P = ae_jacobian_frobenius_sq(t, h2, x, 1);
  ae_val *g = ae_grad1(t, P, NULL, W1, 0);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  double want = layer2_closed_form(&L, L.W1);
  cr_expect(rel_err(ae_item(P), want) < 1e-10, "(B,D,H1,H2)=(%d,%d,%d,%d): penalty %.17g, closed form %.17g", B, D,
            H1, H2, ae_item(P), want);
  double ga[MAXN], fd[MAXN];
  copy_out(g, ga);
  fd_jacobian(layer2_cf_of_W1, &L, H1 * D, 1, L.W1, fd);
  cr_expect(vec_rel_err(ga, fd, H1 * D) < 1e-9, "dP/dW1 vs differences of the closed form: rel err %.3g",
            vec_rel_err(ga, fd, H1 * D));
  ae_tape_free(t);
}

Test(jacobian, contractive_two_layers_vjp_path) { check_layer2(3, 5, 4, 3, 41); }
Test(jacobian, contractive_two_layers_jvp_path) { check_layer2(2, 2, 3, 4, 51); }

/* ---- Hutchinson -------------------------------------------------------- */

/* The exact variance of one probe: for A = J J^T (output side) or J^T J
 * (input side), block-diagonal over the batch, 2 ||A||_F^2 (Gaussian) or
 * 2 (||A||_F^2 - sum_i A_ii^2) (Rademacher). J_b = diag(h_b(1-h_b)) W. */
static double layer1_probe_variance(const layer1 *L, ae_probe_dist dist, ae_probe_side side) {
  double h[MAXN], var = 0;
  layer1_h(L, L->W, L->b, h);
  for (int s = 0; s < L->B; s++) {
    double J[MAXN];
    for (int j = 0; j < L->H; j++)
      for (int i = 0; i < L->D; i++) J[j * L->D + i] = h[s * L->H + j] * (1 - h[s * L->H + j]) * L->W[j * L->D + i];
    int k = side == AE_PROBE_OUTPUT ? L->H : L->D;
    for (int a = 0; a < k; a++)
      for (int c = 0; c < k; c++) {
        double A = 0;
        if (side == AE_PROBE_OUTPUT)
          for (int i = 0; i < L->D; i++) A += J[a * L->D + i] * J[c * L->D + i];
        else
          for (int j = 0; j < L->H; j++) A += J[j * L->D + a] * J[j * L->D + c];
        if (dist == AE_PROBE_GAUSSIAN || a != c) var += 2 * A * A;
      }
  }
  return var;
}

typedef struct stats {
  double mean, se, var, var_se;
} stats;

static stats sample_stats(const double *v, int N) {
  stats s = {0};
  for (int k = 0; k < N; k++) s.mean += v[k];
  s.mean /= N;
  double m2 = 0, m4 = 0;
  for (int k = 0; k < N; k++) {
    double d = v[k] - s.mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  s.var = m2 / (N - 1);
  s.se = sqrt(s.var / N);
  m4 /= N;
  s.var_se = sqrt((m4 - (m2 / N) * (m2 / N)) / N); /* large-N standard error of the sample variance */
  return s;
}

#define NPROBES 2000

Test(jacobian, hutchinson_is_unbiased_with_the_documented_variance) {
  layer1 L = layer1_make(3, 5, 4, 61);
  const double exact = layer1_closed_form(&L, L.W, L.b);
  static const char *names[2][2] = {{"gaussian/output", "gaussian/input"}, {"rademacher/output", "rademacher/input"}};
  double var[2][2];
  for (int dist = 0; dist < 2; dist++)
    for (int side = 0; side < 2; side++) {
      l1_tape s = l1_tape_make(&L);
      ae_rng rng;
      ae_rng_init(&rng, 1000 + 10 * dist + side);
      static double est[NPROBES];
      for (int k = 0; k < NPROBES; k++) {
        ae_tape_mark m = ae_tape_get_mark(s.t);
        ae_val *P = ae_jacobian_frobenius_sq_hutchinson_ex(s.t, s.h, s.x, 1, dist, side, &rng, 0);
        cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
        est[k] = ae_item(P);
        ae_tape_rewind(s.t, m);
      }
      stats st = sample_stats(est, NPROBES);
      double want_var = layer1_probe_variance(&L, dist, side);
      var[dist][side] = st.var;
      cr_expect(fabs(st.mean - exact) <= 3 * st.se, "%s: mean %.6g, exact %.6g, standard error %.3g", names[dist][side],
                st.mean, exact, st.se);
      cr_expect(fabs(st.var - want_var) <= 3 * st.var_se, "%s: sample variance %.6g, formula %.6g, its s.e. %.3g",
                names[dist][side], st.var, want_var, st.var_se);
      /* A k-probe call is the mean of k one-probe calls on the same stream. */
      ae_rng_init(&rng, 1000 + 10 * dist + side);
      ae_val *P10 = ae_jacobian_frobenius_sq_hutchinson_ex(s.t, s.h, s.x, 10, dist, side, &rng, 0);
      double mean10 = 0;
      for (int k = 0; k < 10; k++) mean10 += est[k];
      cr_expect(rel_err(ae_item(P10), mean10 / 10) < 1e-13, "%s: 10 probes %.17g, mean of 10 single %.17g",
                names[dist][side], ae_item(P10), mean10 / 10);
      l1_tape_free(&s);
    }
  cr_expect(var[1][0] < var[0][0] && var[1][1] < var[0][1], "Rademacher probes have the lower variance");
}

/* The create_graph estimate's gradient is an unbiased estimate of the
 * exact gradient: compare two projections of it (onto the exact gradient's
 * direction and onto a fixed random direction) within 3 standard errors. */
Test(jacobian, hutchinson_gradient_is_unbiased) {
  layer1 L = layer1_make(2, 4, 3, 71);
  const int nW = L.H * L.D;
  double gexact[MAXN], gb[MAXN], dir[2][MAXN];
  layer1_closed_form_grad(&L, gexact, gb);
  double nrm = 0;
  for (int i = 0; i < nW; i++) nrm += gexact[i] * gexact[i];
  for (int i = 0; i < nW; i++) dir[0][i] = gexact[i] / sqrt(nrm);
  fill_normal(72, dir[1], nW, 1);
  l1_tape s = l1_tape_make(&L);
  ae_rng rng;
  ae_rng_init(&rng, 73);
  static double proj[2][NPROBES];
  for (int k = 0; k < NPROBES; k++) {
    ae_tape_mark m = ae_tape_get_mark(s.t);
    ae_val *P = ae_jacobian_frobenius_sq_hutchinson(s.t, s.h, s.x, 1, &rng, 1);
    ae_val *g = ae_grad1(s.t, P, NULL, s.Wv, 0);
    cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
    for (int d = 0; d < 2; d++) {
      proj[d][k] = 0;
      for (int i = 0; i < nW; i++) proj[d][k] += g->t.data[i] * dir[d][i];
    }
    ae_tape_rewind(s.t, m);
  }
  for (int d = 0; d < 2; d++) {
    double want = 0;
    for (int i = 0; i < nW; i++) want += gexact[i] * dir[d][i];
    stats st = sample_stats(proj[d], NPROBES);
    cr_expect(fabs(st.mean - want) <= 3 * st.se, "projection %d: mean %.6g, exact %.6g, standard error %.3g", d,
              st.mean, want, st.se);
  }
  l1_tape_free(&s);
}

/* ---- gradcheck and gradgradcheck of the exact penalty ------------------ */

/* in: x (B,D), W (H,D), b (H). */
static ae_val *penalty_fn(ae_tape *t, ae_val *const *in, void *ctx) {
  ae_val *h = ae_sigmoid(t, ae_linear(t, in[0], in[1], in[2]));
  return ae_jacobian_frobenius_sq(t, h, in[0], 1);
}

static void gradcheck_penalty(int B, int D, int H, int second_order) {
  layer1 L = layer1_make(B, D, H, 81);
  ae_tensor *x = ae_tensor_from(AE_SHAPE(B, D), L.x), *W = ae_tensor_from(AE_SHAPE(H, D), L.W),
            *b = ae_tensor_from(AE_SHAPE(H), L.b);
  ae_tensor *in[3] = {x, W, b};
  ae_gc_opts o = ae_gc_defaults();
  ae_gc_report r;
  if (second_order)
    cr_expect(ae_gradgradcheck(penalty_fn, NULL, 3, in, &o, &r), "(B,D,H)=(%d,%d,%d): %s", B, D, H, r.message);
  else
    cr_expect(ae_gradcheck(penalty_fn, NULL, 3, in, &o, &r), "(B,D,H)=(%d,%d,%d): %s", B, D, H, r.message);
  ae_tensor_free(x);
  ae_tensor_free(W);
  ae_tensor_free(b);
}

Test(jacobian, penalty_gradcheck) {
  gradcheck_penalty(3, 5, 4, 0); /* by VJPs */
  gradcheck_penalty(3, 3, 5, 0); /* by JVPs */
}

Test(jacobian, penalty_gradgradcheck) {
  gradcheck_penalty(2, 3, 2, 1);
  gradcheck_penalty(2, 2, 3, 1);
}

/* ---- no create_graph: nothing left behind but the result ---------------- */

/* Arena bytes of one value of n elements. */
static size_t footprint(int64_t n) {
  size_t a = AE_ALIGN;
  return (sizeof(ae_val) + a - 1) / a * a + ((size_t)n * sizeof(ae_real) + a - 1) / a * a;
}

Test(jacobian, without_create_graph_only_the_result_stays) {
  layer1 L = layer1_make(3, 3, 5, 91);
  l1_tape s = l1_tape_make(&L);
  ae_rng rng;
  ae_rng_init(&rng, 92);
  int nodes = ae_tape_node_count(s.t);
  ae_val *r[5];
  size_t before[5], after[5];
  for (int k = 0; k < 5; k++) {
    before[k] = ae_tape_arena_used(s.t);
    switch (k) {
      case 0: r[k] = ae_jacobian_frobenius_sq(s.t, s.h, s.x, 0); break;
      case 1: r[k] = ae_jacobian_frobenius_sq_hutchinson(s.t, s.h, s.x, 4, &rng, 0); break;
      case 2: r[k] = ae_jacobian_frobenius_sq_hutchinson_ex(s.t, s.h, s.x, 4, AE_PROBE_RADEMACHER, AE_PROBE_INPUT, &rng, 0); break;
      case 3: r[k] = ae_jacobian(s.t, s.h, s.x, 0); break;
      default: r[k] = ae_jvp(s.t, s.h, s.x, ae_full(s.t, s.x->t.shape, 1), 0); break;
    }
    after[k] = ae_tape_arena_used(s.t);
    cr_assert(ae_tape_ok(s.t), "%s", ae_tape_error(s.t));
    cr_expect(!r[k]->requires_grad && r[k]->node < 0, "call %d: a constant result", k);
    cr_expect_eq(ae_tape_node_count(s.t), nodes, "call %d: no node left on the tape", k);
    /* the result (value header + data, each AE_ALIGN-aligned), plus the probe for the jvp call */
    size_t allowed = footprint(r[k]->t.numel) + (k == 4 ? footprint(s.x->t.numel) : 0);
    cr_expect(after[k] - before[k] <= allowed, "call %d kept %zu bytes (allowed %zu)", k, after[k] - before[k], allowed);
  }
  cr_expect(rel_err(ae_item(r[0]), layer1_closed_form(&L, L.W, L.b)) < 1e-12);
  l1_tape_free(&s);
}

/* ---- errors ------------------------------------------------------------- */

Test(jacobian, errors_raise_on_the_tape) {
  ae_rng rng;
  ae_rng_init(&rng, 1);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var(t, AE_SHAPE(2, 3), NULL);
  ae_val *y = ae_sigmoid(t, ae_linear(t, x, ae_var(t, AE_SHAPE(4, 3), NULL), NULL)); /* (2,4) */
  ae_val *x3 = ae_var(t, AE_SHAPE(3, 3), NULL);
  ae_val *y3 = ae_sigmoid(t, x3);

  /* mismatched batch sizes: y (2,4), x (3,3) */
  cr_expect_null(ae_jacobian_frobenius_sq(t, y, x3, 1));
  cr_expect_eq(ae_tape_status(t), AE_ERR_SHAPE);
  cr_expect(strstr(ae_tape_error(t), "(2,4)") && strstr(ae_tape_error(t), "(3,3)"), "%s", ae_tape_error(t));
  cr_expect_null(ae_jacobian_frobenius_sq(t, y3, x3, 1), "errors are sticky");
  ae_tape_reset(t);

  x = ae_var(t, AE_SHAPE(2, 3), NULL);
  y = ae_sigmoid(t, x);
  cr_expect_null(ae_jacobian_frobenius_sq_hutchinson(t, y, x, 0, &rng, 1));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  cr_expect(strstr(ae_tape_error(t), "probes"), "%s", ae_tape_error(t));
  ae_tape_reset(t);

  struct {
    const char *what;
    ae_status want;
  } cases[] = {
      {"nil y", AE_ERR_ARG},          {"nil x", AE_ERR_ARG},       {"constant x", AE_ERR_ARG},
      {"NULL rng", AE_ERR_ARG},       {"scalar y", AE_ERR_SHAPE},  {"jvp u size", AE_ERR_SHAPE},
      {"vjp v size", AE_ERR_SHAPE},   {"negative probes", AE_ERR_ARG},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    ae_tape_reset(t);
    x = ae_var(t, AE_SHAPE(2, 3), NULL);
    y = ae_sigmoid(t, x);
    ae_val *r = NULL;
    switch (c) {
      case 0: r = ae_jacobian_frobenius_sq(t, NULL, x, 1); break;
      case 1: r = ae_jacobian(t, y, NULL, 1); break;
      case 2: r = ae_jacobian_frobenius_sq(t, y, ae_full(t, AE_SHAPE(2, 3), 1), 1); break;
      case 3: r = ae_jacobian_frobenius_sq_hutchinson(t, y, x, 1, NULL, 1); break;
      case 4: r = ae_jacobian_frobenius_sq(t, ae_sum(t, y), x, 1); break;
      case 5: r = ae_jvp(t, y, x, ae_full(t, AE_SHAPE(5), 1), 1); break;
      case 6: r = ae_vjp(t, y, ae_full(t, AE_SHAPE(2, 2), 1), x, 1); break;
      default: r = ae_jacobian_frobenius_sq_hutchinson_ex(t, y, x, -3, AE_PROBE_RADEMACHER, AE_PROBE_INPUT, &rng, 0); break;
    }
    cr_expect_null(r, "%s: returns nil", cases[c].what);
    cr_expect_eq(ae_tape_status(t), cases[c].want, "%s: status %d (%s)", cases[c].what, ae_tape_status(t),
                 ae_tape_error(t));
  }
  ae_tape_free(t);
}
