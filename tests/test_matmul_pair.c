/* test_matmul_pair.c: matmul's backward at two threads runs its two
 * products at once, one on each thread (ops/matmul.c, pair_pays), when
 * both inputs need a gradient and each product is big enough. Products of
 * 256 x 272 x 256 (17.8 M multiply-adds, above the pairing threshold at
 * the library's defaults and at the test suite's) in the four transpose
 * combinations, checked at 1 and 2 threads:
 *  - both gradients of <op(A) op(B), R> against a double-precision
 *    computation of R op(B)^T and op(A)^T R (so a product that did not run,
 *    or ran on the wrong operands, fails);
 *  - the gradients are bitwise the same at 1 and 2 threads: on variables,
 *    on a parameter whose gradient the GEMM writes into the parameter's
 *    buffer (a gradient sink), and on a weight used twice, whose second
 *    gradient the GEMM adds into the first (an accumulator);
 *  - a NaN in one operand reaches the parameter's gradient and the sweep
 *    reports it at both thread counts (the sink's test runs on the thread
 *    that wrote it).
 * Built twice (matmul-pair-f32, matmul-pair-f64). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "grad/backward_internal.h"
#include "random_tensor.h"

enum { M = 256, N = 272, K = 256 };

/* The stored shape of an operand whose op() is rows x cols. */
static ae_shape stored(int trans, int64_t rows, int64_t cols) {
  return trans ? AE_SHAPE(cols, rows) : AE_SHAPE(rows, cols);
}

/* op(X)(i, j) of a stored rows x cols operand (before op). */
static double at(const ae_tensor *x, int trans, int64_t i, int64_t j) {
  const int64_t ld = x->shape.d[1];
  return trans ? x->data[j * ld + i] : x->data[i * ld + j];
}

/* The largest |got - want| / max|want| over the stored layout of X's
 * gradient, want the double-precision gradient of <op(A) op(B), R>. */
static double worst_vs_reference(const ae_tensor *a, const ae_tensor *b, const ae_tensor *r, int ta, int tb,
                                 int which, const ae_real *got) {
  const int tx = which == 0 ? ta : tb;
  const int64_t rows = which == 0 ? M : K, cols = which == 0 ? K : N; /* op(X) is rows x cols */
  double *want = calloc((size_t)(rows * cols), sizeof(double)), wmax = 0, dmax = 0;
  cr_assert(want);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) {
      double s = 0;
      if (which == 0) /* d/d op(A) = R op(B)^T */
        for (int64_t q = 0; q < N; q++) s += (double)r->data[i * N + q] * at(b, tb, j, q);
      else /* d/d op(B) = op(A)^T R */
        for (int64_t q = 0; q < M; q++) s += at(a, ta, q, i) * (double)r->data[q * N + j];
      want[i * cols + j] = s;
    }
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < cols; j++) {
      const int64_t e = tx ? j * rows + i : i * cols + j; /* where op(X)(i, j) is stored */
      double w = want[i * cols + j], d = fabs((double)got[e] - w);
      if (fabs(w) > wmax) wmax = fabs(w);
      if (!(d <= dmax)) dmax = isnan(d) ? INFINITY : d;
    }
  free(want);
  return dmax / wmax;
}

typedef struct grads {
  ae_real *ga, *gb; /* stored layouts, malloc'd */
  int bad;          /* the sweep reported a value not finite */
} grads;

static void grads_free(grads *g) {
  free(g->ga);
  free(g->gb);
}

static ae_real *copy_of(const ae_real *d, int64_t n) {
  ae_real *c = malloc(sizeof(ae_real) * (size_t)n);
  cr_assert(c);
  memcpy(c, d, sizeof(ae_real) * (size_t)n);
  return c;
}

/* Gradients of <op(A) op(B), R> with A and B variables (ae_grad). */
static grads on_variables(const ae_tensor *a, const ae_tensor *b, const ae_tensor *r, int ta, int tb, int threads) {
  ae_set_threads(threads);
  ae_tape *t = ae_tape_new(0);
  ae_val *va = ae_var_tensor(t, a), *vb = ae_var_tensor(t, b);
  ae_val *l = ae_sum(t, ae_mul(t, ae_matmul(t, va, vb, ta, tb), ae_const_tensor(t, r)));
  ae_val *ins[2] = {va, vb}, *g[2];
  cr_assert_eq(ae_grad(t, 1, (ae_val *[]){l}, NULL, 2, ins, g, 0), 0, "%s", ae_tape_error(t));
  grads out = {copy_of(g[0]->t.data, a->numel), copy_of(g[1]->t.data, b->numel), 0};
  ae_tape_free(t);
  return out;
}

/* The gradient of B, a parameter, used `uses` times: <op(A) op(B), R>,
 * plus <op(A / 2) op(B), R> for a second use. Through the trainer's
 * backward (ae__backward_set), which offers B's gradient buffer as the
 * sink of its one use, or adds the second use's product into the first's
 * (an accumulator). bad: its finite flag came back cleared. */
static grads on_parameter(const ae_tensor *a, const ae_tensor *b, const ae_tensor *r, int ta, int tb, int uses,
                          int threads) {
  ae_set_threads(threads);
  ae_param *p = ae_param_new("b", b->shape);
  cr_assert(p);
  memcpy(p->value.data, b->data, sizeof(ae_real) * (size_t)b->numel);
  for (int64_t i = 0; i < b->numel; i++) p->grad.data[i] = 3; /* stale: set, not added to */
  ae_tape *t = ae_tape_new(0);
  ae_val *va = ae_var_tensor(t, a), *vb = ae_param_bind(t, p), *vr = ae_const_tensor(t, r);
  ae_val *l = ae_sum(t, ae_mul(t, ae_matmul(t, va, vb, ta, tb), vr));
  if (uses == 2) l = ae_add(t, l, ae_sum(t, ae_mul(t, ae_matmul(t, ae_scale(t, va, (ae_real)0.5), vb, ta, tb), vr)));
  int finite = 0;
  cr_assert_eq(ae__backward_set(t, l, &p, 1, &finite), 0, "%s", ae_tape_error(t));
  grads out = {NULL, copy_of(p->grad.data, b->numel), !finite};
  ae_tape_free(t);
  ae_param_free(p);
  return out;
}

static void expect_bitwise(const ae_real *x, const ae_real *y, int64_t n, const char *what) {
  for (int64_t i = 0; i < n; i++)
    if (memcmp(&x[i], &y[i], sizeof(ae_real))) {
      cr_expect(0, "%s: element %lld is %.17g at 1 thread, %.17g at 2", what, (long long)i, (double)x[i],
                (double)y[i]);
      return;
    }
}

static const double tol = sizeof(ae_real) == 4 ? 1e-5 : 1e-12;

/* A, B (stored for op(A) M x K, op(B) K x N) and R (M x N), uniform in [-1, 1] from seeds s, s + 1, s + 2. */
typedef struct operands {
  ae_tensor *a, *b, *r;
} operands;

static operands operands_new(int ta, int tb, uint64_t s) {
  operands o = {rt_uniform_seeded(stored(ta, M, K), s, -1, 1), rt_uniform_seeded(stored(tb, K, N), s + 1, -1, 1),
                rt_uniform_seeded(AE_SHAPE(M, N), s + 2, -1, 1)};
  cr_assert(o.a && o.b && o.r);
  return o;
}

static void operands_free(operands *o) {
  ae_tensor_free(o->a);
  ae_tensor_free(o->b);
  ae_tensor_free(o->r);
}

Test(matmul_pair, both_gradients_match_a_double_reference_and_one_thread_bitwise) {
  const int old = ae_get_threads();
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      operands o = operands_new(ta, tb, 11);
      const ae_tensor *a = o.a, *b = o.b, *r = o.r;
      grads one = on_variables(a, b, r, ta, tb, 1), two = on_variables(a, b, r, ta, tb, 2);
      for (int w = 0; w < 2; w++) {
        double e1 = worst_vs_reference(a, b, r, ta, tb, w, w ? one.gb : one.ga);
        double e2 = worst_vs_reference(a, b, r, ta, tb, w, w ? two.gb : two.ga);
        cr_expect(e1 <= tol && e2 <= tol, "ta %d tb %d: d/d%c off the reference by %g (1 thread), %g (2)", ta, tb,
                  w ? 'B' : 'A', e1, e2);
      }
      char what[64];
      snprintf(what, sizeof what, "ta %d tb %d, d/dA", ta, tb);
      expect_bitwise(one.ga, two.ga, a->numel, what);
      snprintf(what, sizeof what, "ta %d tb %d, d/dB", ta, tb);
      expect_bitwise(one.gb, two.gb, b->numel, what);
      grads_free(&one);
      grads_free(&two);
      operands_free(&o);
    }
  ae_set_threads(old);
}

Test(matmul_pair, a_sink_and_an_accumulator_are_bitwise_at_one_and_two_threads) {
  const int old = ae_get_threads();
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      operands o = operands_new(ta, tb, 21);
      const ae_tensor *a = o.a, *b = o.b, *r = o.r;
      for (int uses = 1; uses <= 2; uses++) {
        grads one = on_parameter(a, b, r, ta, tb, uses, 1), two = on_parameter(a, b, r, ta, tb, uses, 2);
        cr_expect(!one.bad && !two.bad, "ta %d tb %d, %d uses: a finite gradient reported as not finite", ta, tb,
                  uses);
        if (uses == 1) {
          double e = worst_vs_reference(a, b, r, ta, tb, 1, two.gb);
          cr_expect(e <= tol, "ta %d tb %d: the parameter's gradient off the reference by %g", ta, tb, e);
        }
        char what[80];
        snprintf(what, sizeof what, "ta %d tb %d, %d uses, the parameter's gradient", ta, tb, uses);
        expect_bitwise(one.gb, two.gb, b->numel, what);
        grads_free(&one);
        grads_free(&two);
      }
      operands_free(&o);
    }
  ae_set_threads(old);
}

Test(matmul_pair, a_nan_reaches_the_parameters_gradient_at_both_thread_counts) {
  const int old = ae_get_threads();
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  operands o = operands_new(0, 1, 31);
  o.a->data[5 * K + 7] = (ae_real)NAN; /* row 5 of A: d/dB = R^T A gets it in column 7 */
  for (int threads = 1; threads <= 2; threads++) {
    grads g = on_parameter(o.a, o.b, o.r, 0, 1, 1, threads);
    cr_expect(g.bad, "%d threads: the NaN in A's gradient product was not reported", threads);
    cr_expect(isnan((double)g.gb[7]), "%d threads: d/dB(0, 7) is %g, not NaN", threads, (double)g.gb[7]);
    grads_free(&g);
  }
  operands_free(&o);
  ae_set_threads(old);
}
