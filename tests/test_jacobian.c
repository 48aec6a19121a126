/* test_jacobian.c: the Jacobian tools (grad/jacobian.h), float64.
 * Checked against independent computations:
 * - ae_jacobian and ae_jvp / ae_vjp against Richardson-extrapolated central
 *   differences of small non-linear functions that couple all their inputs
 *   (both the by-rows and the by-columns paths), the <v, J u> identity, and
 *   gradchecks of the Jacobian itself (its create_graph path);
 * - error paths.
 * The contractive penalty (closed forms, Hutchinson, its gradchecks, no
 * create_graph footprint) is checked in test_contractive_penalty.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aezoo.h"

_Static_assert(sizeof(ae_real) == sizeof(double), "test_jacobian is built against libaezoo64 (float64)");

#include "jacobian_test_util.h"

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
