/* test_tape.c: the tape and the reverse sweep (autograd/tape.h,
 * backward.c): a warm training step allocates nothing; no-grad mode and
 * detach; gradcheck and gradgradcheck can fail; third-order derivatives
 * against closed forms; mark/rewind; anomaly mode; arena exhaustion;
 * accumulation into parameter gradients, unreached inputs, constants.
 * Built for float64. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "random_tensor.h"

/* ---- counting every heap allocation of the process ----
 * Allocation entry points forward to glibc's and count, so the no-alloc
 * test also sees allocations by libgomp, SLEEF or a stray malloc the
 * library's own counter (ae_heap_allocs) would miss. Not under
 * sanitizers, which interpose the allocator themselves. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COUNT_LIBC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define COUNT_LIBC 0
#endif
#endif
#if !defined(COUNT_LIBC) && defined(__GLIBC__)
#define COUNT_LIBC 1
#endif
#ifndef COUNT_LIBC
#define COUNT_LIBC 0
#endif

static long libc_allocs;
#if COUNT_LIBC
#include <errno.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static void count(void) { __atomic_add_fetch(&libc_allocs, 1, __ATOMIC_RELAXED); }
void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
int posix_memalign(void **pp, size_t al, size_t n) {
  count();
  void *p = __libc_memalign(al, n);
  if (!p) return ENOMEM;
  *pp = p;
  return 0;
}
#endif
static long libc_alloc_count(void) { return __atomic_load_n(&libc_allocs, __ATOMIC_RELAXED); }

/* ---- (a) a warm training step makes no heap allocation ---- */

typedef struct mlp {
  ae_param *w1, *b1, *w2, *b2;
  ae_param *ps[4];
} mlp;

static void mlp_init(mlp *m, int d, int h, uint64_t seed) {
  ae_rng r;
  ae_rng_init(&r, seed);
  m->w1 = ae_param_new("w1", AE_SHAPE(h, d));
  m->b1 = ae_param_new("b1", AE_SHAPE(h));
  m->w2 = ae_param_new("w2", AE_SHAPE(d, h));
  m->b2 = ae_param_new("b2", AE_SHAPE(d));
  cr_assert(m->w1 && m->b1 && m->w2 && m->b2);
  ae_rng_normal(&r, m->w1->value.data, m->w1->value.numel, 0, (ae_real)(1 / sqrt(d)));
  ae_rng_normal(&r, m->w2->value.data, m->w2->value.numel, 0, (ae_real)(1 / sqrt(h)));
  m->ps[0] = m->w1, m->ps[1] = m->b1, m->ps[2] = m->w2, m->ps[3] = m->b2;
}
static void mlp_free(mlp *m) {
  for (int i = 0; i < 4; i++) ae_param_free(m->ps[i]);
}

/* One step: bind, forward (tanh encoder, sigmoid decoder, MSE), backward,
 * Adam step, reset. Returns the loss. */
static double mlp_step(ae_tape *t, mlp *m, ae_optim *o, const ae_tensor *x) {
  ae_val *w1 = ae_param_bind(t, m->w1), *b1 = ae_param_bind(t, m->b1);
  ae_val *w2 = ae_param_bind(t, m->w2), *b2 = ae_param_bind(t, m->b2);
  ae_val *xv = ae_const_tensor(t, x);
  ae_val *h = ae_tanh(t, ae_linear(t, xv, w1, b1));
  ae_val *r = ae_sigmoid(t, ae_linear(t, h, w2, b2));
  ae_val *loss = ae_mean(t, ae_square(t, ae_sub(t, r, xv)));
  ae_optim_zero_grad(o);
  double l = ae_item(loss);
  if (ae_backward(t, loss) < 0 || ae_optim_step(o) < 0) l = NAN;
  ae_tape_reset(t);
  return l;
}

static void no_alloc_case(int batch, int d, int hdim, int threads, int check_libc) {
  int old_threads = ae_get_threads();
  ae_set_threads(threads);
  mlp m;
  mlp_init(&m, d, hdim, 7);
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(batch, d), 8, 0, 1);
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  ae_optim *o = ae_optim_new(&cfg, m.ps, 4);
  ae_tape *t = ae_tape_new(0);
  cr_assert(o && t);
  double loss[11];
  int64_t lib_before = 0;
  long libc_before = 0;
  for (int s = 1; s <= 10; s++) {
    if (s == 3) {
      lib_before = ae_heap_allocs();
      libc_before = libc_alloc_count();
    }
    loss[s] = mlp_step(t, &m, o, x);
  }
  int64_t lib_after = ae_heap_allocs();
  long libc_after = libc_alloc_count();
  for (int s = 1; s <= 10; s++) cr_assert(isfinite(loss[s]), "step %d: loss %g (%s)", s, loss[s], ae_tape_error(t));
  cr_expect(loss[10] < loss[1], "training does not reduce the loss: %g -> %g", loss[1], loss[10]);
  cr_expect_eq(lib_after, lib_before, "%dx%d->%d, %d threads: the library made %lld heap allocations in steps 3..10",
               batch, d, hdim, threads, (long long)(lib_after - lib_before));
  if (check_libc)
    cr_expect_eq(libc_after, libc_before, "%dx%d->%d, %d threads: %ld malloc-family calls in steps 3..10", batch, d,
                 hdim, threads, libc_after - libc_before);
  ae_tape_free(t);
  ae_optim_free(o);
  ae_tensor_free(x);
  mlp_free(&m);
  ae_set_threads(old_threads);
}

Test(tape, warm_step_allocates_nothing_small) { no_alloc_case(8, 12, 5, 1, 0); }

/* Sizes above the parallel thresholds (base/parallel.h): element-wise
 * kernels, reductions and GEMM open OpenMP regions with 2 threads. */
Test(tape, warm_step_allocates_nothing_parallel) { no_alloc_case(64, 600, 128, 2, 0); }

/* The same steps with every malloc-family call of the process counted.
 * Disabled while it fails: kernels written `#pragma omp parallel ... if
 * (AE_PAR(n))` still enter libgomp below the threshold, and libgomp
 * allocates (memalign) a one-thread team for every such region, so a
 * small model pays a heap allocation per op call (about 13 per step
 * here, from binary.c, reduce.c, shape.c, rng.c, gemm.c and optim/).
 * Enable once those sites branch to a plain loop instead. */
Test(tape, warm_step_no_malloc_anywhere, .disabled = !COUNT_LIBC) {
  no_alloc_case(8, 12, 5, 1, 1);
  no_alloc_case(64, 600, 128, 2, 1);
}

Test(tape, counting_allocator_counts) {
  long before = libc_alloc_count();
  int64_t lib_before = ae_heap_allocs();
  ae_tensor *x = ae_tensor_new(AE_SHAPE(3));
  cr_assert(x);
  ae_tensor_free(x);
  cr_expect(ae_heap_allocs() > lib_before, "ae_heap_allocs does not count ae_tensor_new");
  if (COUNT_LIBC) cr_expect(libc_alloc_count() > before, "the interposed allocator counts nothing");
}

/* ---- (b) no-grad mode, detach, gradcheck failing ---- */

Test(tape, no_grad_records_nothing) {
  ae_tape *t = ae_tape_new(0);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(3, 4), 1, -1, 1);
  ae_param *p = ae_param_new("p", AE_SHAPE(3, 4));
  ae_val *x = ae_var_tensor(t, xt), *pv = ae_param_bind(t, p);
  int n0 = ae_tape_node_count(t);
  cr_assert_eq(ae_set_grad_enabled(t, 0), 1);
  cr_assert_eq(ae_grad_enabled(t), 0);
  ae_val *y = ae_sum(t, ae_tanh(t, ae_add(t, ae_mul(t, x, x), pv)));
  cr_assert(y && ae_tape_ok(t));
  cr_expect_eq(ae_tape_node_count(t), n0, "no-grad mode recorded %d nodes", ae_tape_node_count(t) - n0);
  cr_expect_eq(y->requires_grad, 0);
  cr_expect_eq(y->node, -1);
  cr_expect_eq(ae_backward(t, y), 0, "backward of a no-grad loss: %s", ae_tape_error(t));
  for (int64_t i = 0; i < p->grad.numel; i++) cr_expect_eq(p->grad.data[i], 0);
  cr_assert_eq(ae_set_grad_enabled(t, 1), 0);
  ae_val *z = ae_sum(t, ae_mul(t, x, x));
  cr_expect(z->requires_grad && ae_tape_node_count(t) == n0 + 2, "grad mode back on records again");
  ae_param_free(p);
  ae_tensor_free(xt);
  ae_tape_free(t);
}

Test(tape, detach_stops_gradients) {
  ae_tape *t = ae_tape_new(0);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(5), 2, -2, 2);
  ae_val *x = ae_var_tensor(t, xt);
  ae_val *d = ae_detach(t, x);
  cr_assert(d && !d->requires_grad && d->node == -1);
  cr_expect_eq(d->t.data[0], x->t.data[0]);
  ae_val *g = ae_grad1(t, ae_sum(t, ae_mul(t, x, d)), NULL, x, 0);
  ae_val *g2 = ae_grad1(t, ae_sum(t, ae_mul(t, x, x)), NULL, x, 0);
  cr_assert(g && g2, "%s", ae_tape_error(t));
  for (int i = 0; i < 5; i++) {
    cr_expect_eq(g->t.data[i], xt->data[i], "d/dx x*detach(x) at %d: %g, want x = %g", i, g->t.data[i], xt->data[i]);
    cr_expect_eq(g2->t.data[i], 2 * xt->data[i], "d/dx x*x at %d: %g, want 2x", i, g2->t.data[i]);
  }
  ae_tensor_free(xt);
  ae_tape_free(t);
}

/* Value x^2, analytic gradient x (the detached factor gets none): wrong. */
static ae_val *fn_wrong_grad(ae_tape *t, ae_val *const *in, void *ctx) {
  return ae_mul(t, in[0], ae_detach(t, in[0]));
}
static ae_val *fn_square(ae_tape *t, ae_val *const *in, void *ctx) { return ae_mul(t, in[0], in[0]); }
/* Value x^3 and first derivative 4 x d - d^2 = 3x^2 (d = detach(x)) are
 * right; the recorded graph of that derivative gives 4x, not 6x, as the
 * second derivative. */
static ae_val *fn_wrong_second(ae_tape *t, ae_val *const *in, void *ctx) {
  ae_val *x = in[0], *d = ae_detach(t, x);
  return ae_sub(t, ae_scale(t, ae_mul(t, ae_mul(t, x, x), d), 2), ae_mul(t, ae_mul(t, x, d), d));
}

Test(tape, gradcheck_can_fail) {
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(4), 3, 0.5, 1.5);
  ae_gc_report r;
  ae_gc_opts o = ae_gc_defaults();
  cr_expect(ae_gradcheck(fn_square, NULL, 1, &x, &o, &r), "x*x fails: %s", r.message);
  cr_expect(ae_gradgradcheck(fn_square, NULL, 1, &x, &o, &r), "x*x fails second order: %s", r.message);

  cr_assert_not(ae_gradcheck(fn_wrong_grad, NULL, 1, &x, &o, &r), "gradcheck passed a wrong gradient: %s", r.message);
  cr_expect_eq(r.ok, 0);
  cr_expect_eq(r.input, 0);
  cr_assert(r.in_index >= 0 && r.in_index < 4, "in_index %lld", (long long)r.in_index);
  cr_expect_eq(r.out_index, r.in_index, "the worst entry is on the diagonal");
  double xj = x->data[r.in_index];
  cr_expect(fabs(r.analytic - xj) < 1e-9 && fabs(r.numeric - 2 * xj) < 1e-6,
            "analytic %g (want x = %g), numeric %g (want 2x)", r.analytic, xj, r.numeric);
  char want[64];
  snprintf(want, sizeof want, "input 0 element %lld", (long long)r.in_index);
  cr_expect(strstr(r.message, "FAIL") && strstr(r.message, want), "report does not name the element: %s", r.message);

  o.fast = 1;
  cr_expect_not(ae_gradcheck(fn_wrong_grad, NULL, 1, &x, &o, &r), "fast gradcheck passed a wrong gradient");
  o.fast = 0;

  cr_expect(ae_gradcheck(fn_wrong_second, NULL, 1, &x, &o, &r), "first order is right: %s", r.message);
  cr_expect_not(ae_gradgradcheck(fn_wrong_second, NULL, 1, &x, &o, &r), "gradgradcheck passed a wrong 2nd derivative");
  cr_expect(strstr(r.message, "second order") != NULL, "report: %s", r.message);
  ae_tensor_free(x);
}

/* ---- (c) third order ---- */

Test(tape, third_derivative_closed_form) {
  ae_tape *t = ae_tape_new(0);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(6), 4, -1.5, 1.5);
  ae_val *x = ae_var_tensor(t, xt);
  /* f = sum(tanh(x)^3) */
  ae_val *f = ae_sum(t, ae_pow(t, ae_tanh(t, x), 3));
  ae_val *g1 = ae_grad1(t, f, NULL, x, 1);
  ae_val *g2 = ae_grad1(t, ae_sum(t, g1), NULL, x, 1);
  ae_val *g3 = ae_grad1(t, ae_sum(t, g2), NULL, x, 0);
  cr_assert(g1 && g2 && g3, "%s", ae_tape_error(t));
  for (int i = 0; i < 6; i++) {
    double th = tanh(xt->data[i]), s = 1 - th * th;
    double d1 = 3 * th * th * s;
    double d2 = (6 * th - 12 * th * th * th) * s;
    double d3 = s * ((6 - 36 * th * th) * s - 12 * th * th + 24 * th * th * th * th);
    cr_expect(fabs(g1->t.data[i] - d1) <= 1e-12 * (1 + fabs(d1)), "f' at %d: %.17g want %.17g", i, g1->t.data[i], d1);
    cr_expect(fabs(g2->t.data[i] - d2) <= 1e-12 * (1 + fabs(d2)), "f'' at %d: %.17g want %.17g", i, g2->t.data[i], d2);
    cr_expect(fabs(g3->t.data[i] - d3) <= 1e-11 * (1 + fabs(d3)), "f''' at %d: %.17g want %.17g", i, g3->t.data[i], d3);
  }
  /* y = x^4 as products: 4x^3, 12x^2, 24x, 24, then nothing. */
  ae_tape_reset(t);
  ae_real xs = (ae_real)1.3;
  x = ae_var(t, AE_SHAPE(), &xs);
  ae_val *x2 = ae_mul(t, x, x);
  ae_val *d[6] = {ae_mul(t, x2, x2)};
  for (int k = 1; k <= 5; k++) d[k] = ae_grad1(t, d[k - 1], NULL, x, 1);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  double want[6] = {pow(1.3, 4), 4 * pow(1.3, 3), 12 * 1.3 * 1.3, 24 * 1.3, 24, 0};
  for (int k = 0; k < 6; k++)
    cr_expect(fabs(ae_item(d[k]) - want[k]) <= 1e-12 * (1 + fabs(want[k])), "d^%d/dx^%d x^4 = %.17g, want %.17g", k,
              k, ae_item(d[k]), want[k]);
  ae_tensor_free(xt);
  ae_tape_free(t);
}

/* ---- (d) mark / rewind ---- */

Test(tape, mark_rewind) {
  ae_tape *t = ae_tape_new(0);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(4), 5, -1, 1);
  ae_val *x = ae_var_tensor(t, xt);
  ae_val *a = ae_exp(t, x);
  ae_tape_mark m = ae_tape_get_mark(t);
  int n0 = ae_tape_node_count(t);
  size_t u0 = ae_tape_arena_used(t);
  ae_val *b = ae_sum(t, ae_mul(t, a, ae_tanh(t, a)));
  cr_assert(b && ae_tape_node_count(t) > n0 && ae_tape_arena_used(t) > u0);
  ae_tape_rewind(t, m);
  cr_expect_eq(ae_tape_node_count(t), n0);
  cr_expect_eq(ae_tape_arena_used(t), u0);
  /* values before the mark are intact and still differentiable */
  ae_val *c = ae_sum(t, ae_scale(t, a, 3));
  ae_val *g = ae_grad1(t, c, NULL, x, 0);
  cr_assert(g, "%s", ae_tape_error(t));
  for (int i = 0; i < 4; i++) {
    double e = exp(xt->data[i]);
    cr_expect(fabs(a->t.data[i] - e) <= 1e-14 * e, "value before the mark changed");
    cr_expect(fabs(g->t.data[i] - 3 * e) <= 1e-13 * e, "grad after rewind %g want %g", g->t.data[i], 3 * e);
  }
  /* many VJPs of one forward in a bounded arena: rows of a Jacobian */
  ae_tape_reset(t);
  x = ae_var_tensor(t, xt);
  ae_val *y = ae_tanh(t, x);
  m = ae_tape_get_mark(t);
  size_t used = ae_tape_arena_used(t);
  for (int i = 0; i < 4; i++) {
    ae_val *e = ae_full(t, AE_SHAPE(4), 0);
    e->t.data[i] = 1;
    ae_val *row = ae_grad1(t, y, e, x, 0);
    cr_assert(row, "%s", ae_tape_error(t));
    for (int j = 0; j < 4; j++) {
      double yj = tanh(xt->data[j]), want = i == j ? 1 - yj * yj : 0;
      cr_expect(fabs(row->t.data[j] - want) <= 1e-14, "J[%d][%d] = %g want %g", i, j, row->t.data[j], want);
    }
    ae_tape_rewind(t, m);
    cr_expect_eq(ae_tape_arena_used(t), used);
  }
  ae_tensor_free(xt);
  ae_tape_free(t);
}

/* ---- (e) anomaly mode ---- */

Test(tape, anomaly_names_op_and_position) {
  ae_tape *t = ae_tape_new(0);
  ae_real xs[3] = {1, -1, 2};
  ae_val *x = ae_var(t, AE_SHAPE(3), xs);
  /* off: NaN flows silently */
  ae_val *l = ae_log(t, x);
  cr_assert(ae_tape_ok(t) && l && isnan(l->t.data[1]));
  ae_tape_reset(t);
  ae_set_anomaly(t, 1);
  x = ae_var(t, AE_SHAPE(3), xs);
  ae_val *e = ae_exp(t, x); /* op #0 */
  cr_assert(e && ae_tape_ok(t));
  ae_log(t, x);             /* op #1: log(-1) = NaN */
  cr_assert_eq(ae_tape_status(t), AE_ERR_ANOMALY, "status %d: %s", ae_tape_status(t), ae_tape_error(t));
  const char *msg = ae_tape_error(t);
  cr_expect(strncmp(msg, "log: ", 5) == 0 && strstr(msg, "NaN") && strstr(msg, "op #1 on the tape"), "message: %s", msg);
  cr_expect_null(ae_exp(t, x), "ops after the anomaly return nil");
  cr_expect_null(ae_add(t, x, e));
  cr_expect_eq(ae_backward(t, ae_sum(t, e)), -1);
  cr_expect_str_eq(ae_tape_error(t), msg, "the first error stays");
  ae_tape_free(t);
}

/* ---- (f) arena exhaustion ---- */

Test(tape, arena_exhaustion) {
  ae_tape *t = ae_tape_new(16384);
  cr_assert(t);
  ae_val *big = ae_full(t, AE_SHAPE(64, 64), 1); /* 32 KiB in float64 */
  cr_expect_null(big);
  cr_assert_eq(ae_tape_status(t), AE_ERR_ARENA);
  cr_expect(strstr(ae_tape_error(t), "full: arena exhausted") != NULL, "message: %s", ae_tape_error(t));
  cr_expect_null(ae_scalar(t, 1), "later ops return nil");
  ae_tape_reset(t);
  cr_expect(ae_tape_ok(t) && ae_scalar(t, 1), "reset clears the error");

  /* A tape with room for the forward pass but not for backward. */
  ae_tape *big_t = ae_tape_new(0);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(16, 16), 6, -1, 1);
  ae_param *p = ae_param_new("p", AE_SHAPE(16, 16));
  ae_val *y = ae_sum(big_t, ae_tanh(big_t, ae_matmul(big_t, ae_param_bind(big_t, p), ae_const_tensor(big_t, xt), 0, 0)));
  cr_assert(y);
  size_t fwd = ae_tape_arena_used(big_t);
  ae_tape_free(big_t);
  ae_tape *small = ae_tape_new(fwd + 256);
  y = ae_sum(small, ae_tanh(small, ae_matmul(small, ae_param_bind(small, p), ae_const_tensor(small, xt), 0, 0)));
  cr_assert(y && ae_tape_ok(small), "%s", ae_tape_error(small));
  cr_expect_eq(ae_backward(small, y), -1);
  cr_expect_eq(ae_tape_status(small), AE_ERR_ARENA, "%s", ae_tape_error(small));
  cr_expect(strstr(ae_tape_error(small), "arena exhausted") != NULL, "message: %s", ae_tape_error(small));
  ae_tape_free(small);
  ae_param_free(p);
  ae_tensor_free(xt);
  ae_tape_free(t);
}

/* ---- (g) accumulation, unreached inputs, constants ---- */

Test(tape, backward_accumulates_into_params) {
  ae_tape *t = ae_tape_new(0);
  ae_param *p = ae_param_new("p", AE_SHAPE(3));
  for (int i = 0; i < 3; i++) p->value.data[i] = (ae_real)(i - 0.5);
  ae_val *loss = ae_sum(t, ae_mul(t, ae_param_bind(t, p), ae_param_bind(t, p)));
  cr_assert_eq(ae_backward(t, loss), 0, "%s", ae_tape_error(t));
  for (int i = 0; i < 3; i++) cr_expect_eq(p->grad.data[i], 2 * p->value.data[i]);
  cr_assert_eq(ae_backward(t, loss), 0, "%s", ae_tape_error(t));
  for (int i = 0; i < 3; i++) cr_expect_eq(p->grad.data[i], 4 * p->value.data[i], "second backward accumulates");
  ae_tape_reset(t);
  ae_val *pv = ae_param_bind(t, p);
  cr_assert_eq(ae_backward(t, ae_sum(t, ae_scale(t, pv, 3))), 0);
  for (int i = 0; i < 3; i++) cr_expect_eq(p->grad.data[i], 4 * p->value.data[i] + 3, "next step accumulates too");
  ae_param_zero_grad(p);
  for (int i = 0; i < 3; i++) cr_expect_eq(p->grad.data[i], 0);
  ae_param_free(p);
  ae_tape_free(t);
}

/* The y-gradients of sigmoid_backward and tanh_backward (the second
 * derivative's half that contractive penalties need): a sweep without
 * create_graph computes each in one pass (ops/activation.c), which must
 * give the bits of the ops a create_graph sweep records; 60000 elements,
 * at 1 and 2 threads (the pass splits across threads above 32768). */
Test(tape, one_pass_activation_second_derivatives_equal_the_ops) {
  ae_tensor *gt = rt_uniform_seeded(AE_SHAPE(300, 200), 31, -3, 3), *wt = rt_uniform_seeded(AE_SHAPE(300, 200), 32, -2, 2);
  for (int which = 0; which < 2; which++)
    for (int threads = 1; threads <= 2; threads++) {
      ae_set_threads(threads);
      ae_tensor *yt = which ? rt_uniform_seeded(AE_SHAPE(300, 200), 33, -0.95, 0.95)
                            : rt_uniform_seeded(AE_SHAPE(300, 200), 33, 0.05, 0.95);
      ae_real *dy[2];
      ae_tape *t = ae_tape_new(0);
      for (int cg = 0; cg < 2; cg++) {
        ae_val *g = ae_var_tensor(t, gt), *y = ae_var_tensor(t, yt), *w = ae_const_tensor(t, wt);
        ae_val *z = which ? ae_tanh_backward(t, g, y) : ae_sigmoid_backward(t, g, y);
        ae_val *d = ae_grad1(t, ae_sum(t, ae_mul(t, z, w)), NULL, y, cg);
        cr_assert(d, "%s", ae_tape_error(t));
        dy[cg] = d->t.data;
      }
      int64_t bad = -1;
      for (int64_t i = 0; i < 60000 && bad < 0; i++)
        if (memcmp(&dy[0][i], &dy[1][i], sizeof(ae_real))) bad = i;
      cr_expect(bad < 0, "%s_backward at %d thread(s): d/dy element %lld is %.17g in one pass, %.17g by the ops",
                which ? "tanh" : "sigmoid", threads, (long long)bad, bad < 0 ? 0.0 : (double)dy[0][bad],
                bad < 0 ? 0.0 : (double)dy[1][bad]);
      ae_tape_free(t);
      ae_tensor_free(yt);
    }
  ae_set_threads(1);
  ae_tensor_free(gt);
  ae_tensor_free(wt);
}

Test(tape, grad_of_unreached_is_zero) {
  ae_tape *t = ae_tape_new(0);
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(2, 3), 9, -1, 1);
  ae_val *x = ae_var_tensor(t, xt), *z = ae_var_tensor(t, xt);
  ae_val *y = ae_sum(t, ae_square(t, x));
  ae_val *late = ae_var_tensor(t, xt); /* recorded after y */
  ae_val *ins[3] = {x, z, late}, *g[3];
  cr_assert_eq(ae_grad(t, 1, &y, NULL, 3, ins, g, 0), 0, "%s", ae_tape_error(t));
  for (int k = 1; k < 3; k++) {
    cr_assert(g[k] && ae_shape_eq(g[k]->t.shape, xt->shape));
    for (int i = 0; i < 6; i++) cr_expect_eq(g[k]->t.data[i], 0, "input %d not reached: gradient %g", k, g[k]->t.data[i]);
  }
  for (int i = 0; i < 6; i++) cr_expect_eq(g[0]->t.data[i], 2 * xt->data[i]);
  ae_tensor_free(xt);
  ae_tape_free(t);
}

Test(tape, grad_wrt_constant_is_an_error) {
  ae_tape *t = ae_tape_new(0);
  ae_real v[2] = {1, 2};
  ae_val *x = ae_var(t, AE_SHAPE(2), v), *c = ae_const(t, AE_SHAPE(2), v);
  ae_val *y = ae_sum(t, ae_mul(t, x, c));
  cr_expect_null(ae_grad1(t, y, NULL, c, 0));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  cr_expect_str_eq(ae_tape_error(t), "grad: input 1 does not require grad (a constant or a no-grad result)");
  ae_tape_free(t);
}
