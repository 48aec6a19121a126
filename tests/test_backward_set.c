/* test_backward_set.c: ae__backward_set (grad/backward_internal.h), the
 * trainer's backward that sets the listed parameters' gradients instead of
 * adding to them. On a loss that binds one parameter twice (its gradient
 * is the sum of both uses), reaches a second, and leaves a third listed
 * parameter and an unlisted one out:
 *   - listed and reached: bitwise a zeroed gradient plus ae_backward, over
 *     stale values;
 *   - listed and not reached: zeros;
 *   - unlisted and reached: added to, as ae_backward does;
 *   - a loss that depends on no parameter zeroes every listed gradient.
 * Its finite flag, and the optimiser step that trusts it
 * (ae__optim_step_scanned, optim/step_internal.h): an Inf gradient, and two
 * finite uses whose sum overflows, clear the flag; the optimiser scans
 * anyway when the list is not its own or a reduce_grads hook rewrote the
 * gradients; and the trainer still refuses an Inf gradient of a finite
 * loss, moving nothing.
 * Also an Inf gradient inside the vectorised part of a longer parameter.
 * And the sinks: a weight used once by a matmul gets its gradient written
 * by the GEMM straight into its buffer, not on the tape: bitwise the
 * zero_grad + ae_backward gradient for each operand and transpose, over
 * stale values, the tape's peak lower by the gradients' bytes, Infs seen
 * by the finite flag, and a zero never -0 (with OpenBLAS too, when built).
 * Hidden internal: links the static library. Built for float32 and
 * float64 (their copy-and-test loops vectorise differently). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "grad/backward_internal.h"
#include "optim/step_internal.h"
#include "zoo/train.h"
#include "zoo/zoo.h"

enum { N = 6 };
/* finite in ae_real, twice it is not */
#define BIG (sizeof(ae_real) == 4 ? 3e38 : 1e308)

/* loss = sum((W x) * (W x)) + sum(b * W x) + sum(c * c), W bound twice,
 * b and c reached, u never used. */
static ae_val *loss_of(ae_tape *t, ae_param *w, ae_param *b, ae_param *c) {
  ae_real xs[N] = {0.5, -1, 2, 0.25, -0.75, 1.5};
  ae_val *x = ae_const(t, AE_SHAPE(N, 1), xs);
  ae_val *w1 = ae_param_bind(t, w), *w2 = ae_param_bind(t, w);
  ae_val *h1 = ae_matmul(t, w1, x, 0, 0), *h2 = ae_matmul(t, w2, x, 0, 0);
  ae_val *l = ae_add(t, ae_sum(t, ae_mul(t, h1, h2)), ae_sum(t, ae_mul(t, ae_param_bind(t, b), h1)));
  ae_val *cv = ae_param_bind(t, c);
  return ae_add(t, l, ae_sum(t, ae_mul(t, cv, cv)));
}

static void fill(ae_param *p, double base) {
  for (int64_t i = 0; i < p->value.numel; i++) p->value.data[i] = (ae_real)(base + 0.1 * (double)i);
}
static void set_grad(ae_param *p, double v) {
  for (int64_t i = 0; i < p->grad.numel; i++) p->grad.data[i] = (ae_real)v;
}

Test(backward_set, sets_listed_zeroes_unreached_adds_unlisted) {
  ae_param *w = ae_param_new("w", AE_SHAPE(N, N)), *b = ae_param_new("b", AE_SHAPE(N, 1));
  ae_param *c = ae_param_new("c", AE_SHAPE(3)), *u = ae_param_new("u", AE_SHAPE(4));
  fill(w, -0.3), fill(b, 0.2), fill(c, 1), fill(u, 5);
  ae_tape *t = ae_tape_new(0);
  /* the reference: zeroed gradients, then ae_backward */
  set_grad(w, 0), set_grad(b, 0), set_grad(c, 0);
  cr_assert_eq(ae_backward(t, loss_of(t, w, b, c)), 0, "%s", ae_tape_error(t));
  ae_real gw[N * N], gb[N], gc[3];
  memcpy(gw, w->grad.data, sizeof gw), memcpy(gb, b->grad.data, sizeof gb), memcpy(gc, c->grad.data, sizeof gc);
  /* set mode over stale buffers: w, b and u listed, c not */
  ae_tape_reset(t);
  set_grad(w, 7.5), set_grad(b, -3), set_grad(u, 9), set_grad(c, 1);
  ae_param *list[3] = {w, b, u};
  cr_assert_eq(ae__backward_set(t, loss_of(t, w, b, c), list, 3, NULL), 0, "%s", ae_tape_error(t));
  cr_assert(memcmp(w->grad.data, gw, sizeof gw) == 0, "w (bound twice): not the zero_grad + backward gradient");
  cr_assert(memcmp(b->grad.data, gb, sizeof gb) == 0, "b: not the zero_grad + backward gradient");
  for (int i = 0; i < 4; i++) cr_assert_eq(u->grad.data[i], 0, "u (listed, unreached): %g", (double)u->grad.data[i]);
  for (int i = 0; i < 3; i++)
    cr_assert_eq(c->grad.data[i], 1 + gc[i], "c (unlisted): %g, want 1 + %g", (double)c->grad.data[i], (double)gc[i]);
  /* a loss that depends on no parameter: every listed gradient zeroed */
  ae_tape_reset(t);
  set_grad(w, 7.5), set_grad(b, -3), set_grad(u, 9);
  ae_val *k = ae_sum(t, ae_full(t, AE_SHAPE(2), 1));
  int finite = -1;
  cr_assert_eq(ae__backward_set(t, k, list, 3, &finite), 0, "%s", ae_tape_error(t));
  for (int j = 0; j < 3; j++)
    for (int64_t i = 0; i < list[j]->grad.numel; i++) cr_assert_eq(list[j]->grad.data[i], 0, "%s", list[j]->name);
  cr_assert_eq(finite, 1, "zeroed gradients are finite");
  ae_tape_free(t);
  ae_param_free(w), ae_param_free(b), ae_param_free(c), ae_param_free(u);
}

/* sum(w * a) + sum(w * b) with w bound twice: gradient a + b. */
static ae_val *two_uses(ae_tape *t, ae_param *w, double a, double b) {
  ae_val *l1 = ae_sum(t, ae_mul(t, ae_param_bind(t, w), ae_full(t, AE_SHAPE(N), (ae_real)a)));
  return ae_add(t, l1, ae_sum(t, ae_mul(t, ae_param_bind(t, w), ae_full(t, AE_SHAPE(N), (ae_real)b))));
}

Test(backward_set, the_finite_flag_sees_an_inf_gradient_and_an_overflowing_sum) {
  ae_param *w = ae_param_new("w", AE_SHAPE(N)), *v = ae_param_new("v", AE_SHAPE(N));
  fill(w, 0.5), fill(v, 1);
  ae_param *list[2] = {w, v};
  ae_tape *t = ae_tape_new(0);
  int finite = -1;
  /* finite: w's gradient 3 + 4, v's from sum(v * v) */
  ae_val *vv = ae_sum(t, ae_square(t, ae_param_bind(t, v)));
  cr_assert_eq(ae__backward_set(t, ae_add(t, two_uses(t, w, 3, 4), vv), list, 2, &finite), 0, "%s", ae_tape_error(t));
  cr_assert_eq(finite, 1);
  cr_assert_eq(w->grad.data[2], 7);
  /* each use finite (BIG), their sum Inf: the flag reads the sum */
  ae_tape_reset(t);
  vv = ae_sum(t, ae_square(t, ae_param_bind(t, v)));
  cr_assert_eq(ae__backward_set(t, ae_add(t, two_uses(t, w, BIG, BIG), vv), list, 2, &finite), 0, "%s",
               ae_tape_error(t));
  cr_assert(isinf(w->grad.data[0]), "%g", (double)w->grad.data[0]);
  cr_assert_eq(finite, 0, "an overflowing sum of two finite uses passed as finite");
  /* a finite loss with an Inf gradient: d sqrt(v)/dv at v = 0 */
  ae_tape_reset(t);
  v->value.data[3] = 0;
  ae_val *l = ae_sum(t, ae_sqrt(t, ae_param_bind(t, v)));
  cr_assert_eq(ae__backward_set(t, ae_add(t, l, two_uses(t, w, 1, 2)), list, 2, &finite), 0, "%s", ae_tape_error(t));
  cr_assert(isfinite(ae_item(l)));
  cr_assert(isinf(v->grad.data[3]), "%g", (double)v->grad.data[3]);
  cr_assert_eq(finite, 0, "an Inf gradient passed as finite");
  ae_tape_free(t);
  ae_param_free(w), ae_param_free(v);
}

/* 71 elements: whole vectors (16 floats or 8 doubles) and a tail; the
 * one Inf, d sqrt(v)/dv at v = 0, lies in the vector part, the rest finite. */
Test(backward_set, the_finite_flag_sees_an_inf_inside_the_vectorised_part) {
  enum { LEN = 71 };
  ae_param *v = ae_param_new("v", AE_SHAPE(LEN));
  fill(v, 1);
  ae_param *list[1] = {v};
  ae_tape *t = ae_tape_new(0);
  int finite = -1;
  cr_assert_eq(ae__backward_set(t, ae_sum(t, ae_sqrt(t, ae_param_bind(t, v))), list, 1, &finite), 0, "%s",
               ae_tape_error(t));
  cr_assert_eq(finite, 1, "finite gradients flagged");
  for (int at = 17; at < 64; at += 23) { /* 17 and 40: past the first vector; 63: the last whole one */
    ae_tape_reset(t);
    fill(v, 1);
    v->value.data[at] = 0;
    cr_assert_eq(ae__backward_set(t, ae_sum(t, ae_sqrt(t, ae_param_bind(t, v))), list, 1, &finite), 0, "%s",
                 ae_tape_error(t));
    cr_assert(isinf(v->grad.data[at]), "%g", (double)v->grad.data[at]);
    cr_assert_eq(finite, 0, "an Inf gradient at element %d of %d passed as finite", at, LEN);
  }
  ae_tape_free(t);
  ae_param_free(v);
}

static int nan_hook(void *ctx, ae_param **ps, int n) {
  (void)ctx, (void)n;
  ps[0]->grad.data[1] = (ae_real)NAN; /* as a broken reduction might */
  return 0;
}

Test(backward_set, the_optimiser_scans_unless_the_scan_was_of_its_own_list) {
  ae_param *a = ae_param_new("a", AE_SHAPE(3)), *b = ae_param_new("b", AE_SHAPE(2));
  fill(a, 1), fill(b, 2);
  set_grad(a, 0.5), set_grad(b, -0.25);
  ae_param *own[2] = {a, b}, *swapped[2] = {b, a};
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  ae_optim *o = ae_optim_new(&cfg, own, 2);
  cr_assert(o, "%s", ae_last_error());
  b->grad.data[0] = (ae_real)NAN;
  /* not its own list (another order): scanned, refused, nothing moved */
  cr_assert_eq(ae__optim_step_scanned(o, swapped, 2), -1);
  cr_assert(strstr(ae_last_error(), "'b'") && strstr(ae_last_error(), "not finite"), "%s", ae_last_error());
  cr_assert_eq(a->value.data[0], 1);
  cr_assert_eq(ae__optim_step_scanned(o, own, 1), -1, "a shorter list passed for the whole");
  cr_assert_eq(ae__optim_step_scanned(o, NULL, 0), -1);
  cr_assert_eq(ae_optim_steps_taken(o), 0);
  ae_optim_free(o);
  /* a reduce_grads hook rewrites the gradients after the backward's test */
  b->grad.data[0] = (ae_real)-0.25;
  cfg.reduce_grads = nan_hook;
  o = ae_optim_new(&cfg, own, 2);
  cr_assert(o, "%s", ae_last_error());
  cr_assert_eq(ae__optim_step_scanned(o, own, 2), -1, "a NaN written by reduce_grads was not caught");
  cr_assert(strstr(ae_last_error(), "'a'") && strstr(ae_last_error(), "not finite"), "%s", ae_last_error());
  cr_assert_eq(b->value.data[0], 2);
  ae_optim_free(o);
  ae_param_free(a), ae_param_free(b);
}

/* A model whose loss, sum(sqrt(w)) + mean(x), is finite while w's gradient
 * is Inf where w = 0. */
static int root_build(ae_model *m, ae_rng *r) {
  (void)r;
  ae_param *w = ae_model_add_param(m, "w", AE_SHAPE(4));
  for (int i = 0; i < 4; i++) w->value.data[i] = (ae_real)(i + 1);
  return 0;
}
static ae_val *root_flat(ae_model *m, ae_tape *t, ae_val *x) { return ae_model_flat(m, t, x); }
static ae_val *root_loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *r, ae_terms *tm) {
  (void)r, (void)tm;
  return ae_add(t, ae_sum(t, ae_sqrt(t, ae_param_bind(t, m->params[0]))), ae_mean(t, x));
}
static const ae_model_def root = {.name = "root-of-w", .build = root_build, .loss = root_loss, .encode = root_flat,
                                  .reconstruct = root_flat};

Test(backward_set, the_trainer_refuses_an_inf_gradient_of_a_finite_loss) {
  cr_assert_eq(ae_model_register(&root, NULL), 0, "%s", ae_last_error());
  ae_model *m = ae_model_new("root-of-w", 0, NULL, AE_SHAPE(3), 1);
  cr_assert(m, "%s", ae_last_error());
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_SGD);
  cfg.lr = 1;
  ae_trainer *tr = ae_trainer_new(m, &cfg, 2, 0);
  cr_assert(tr, "%s", ae_last_error());
  ae_tensor *x = ae_tensor_new(AE_SHAPE(2, 3));
  for (int64_t i = 0; i < x->numel; i++) x->data[i] = (ae_real)i;
  cr_assert_eq(ae_trainer_step(tr, x), 0, "%s", ae_trainer_error(tr));
  m->params[0]->value.data[2] = 0; /* d sqrt(w)/dw = Inf there; the loss stays finite */
  ae_real before[4];
  memcpy(before, m->params[0]->value.data, sizeof before);
  cr_assert_eq(ae_trainer_step(tr, x), -1, "a step with an Inf gradient succeeded");
  cr_log_info("%s", ae_trainer_error(tr));
  cr_assert(strstr(ae_trainer_error(tr), "not finite"), "%s", ae_trainer_error(tr));
  cr_assert(memcmp(before, m->params[0]->value.data, sizeof before) == 0, "w moved on a refused step");
  ae_tensor_free(x);
  ae_trainer_free(tr);
  ae_model_free(m);
}

/* loss = sum(op(A) op(B) * r), A (M x K) and B (K x P) parameters bound
 * once each, op a transpose when ta / tb: each is one matmul's input. */
enum { M = 5, K = 37, P = 19 };
static ae_val *product_loss(ae_tape *t, ae_param *a, ae_param *b, int ta, int tb, const ae_real *r) {
  ae_val *y = ae_matmul(t, ae_param_bind(t, a), ae_param_bind(t, b), ta, tb);
  return ae_sum(t, ae_mul(t, y, ae_const(t, AE_SHAPE(M, P), r)));
}

static void sink_case(int ta, int tb, int inf_at, ae_real zero_sign) {
  ae_param *a = ae_param_new("a", ta ? AE_SHAPE(K, M) : AE_SHAPE(M, K));
  ae_param *b = ae_param_new("b", tb ? AE_SHAPE(P, K) : AE_SHAPE(K, P));
  fill(a, 0.1), fill(b, 0.3); /* A positive */
  ae_real r[M * P];
  for (int i = 0; i < M * P; i++) r[i] = (ae_real)(0.01 * (i % 7) - 0.02);
  /* column 0 of the output gradient all -0 (or +0): b's gradient's column 0
   * sums only products of positive A and -0, each -0; a sum that starts
   * from +0, as the reference's does, is +0, one that starts from its first
   * term is -0 */
  for (int m = 0; m < M; m++) r[m * P] = zero_sign;
  if (inf_at >= 0) a->value.data[inf_at] = (ae_real)INFINITY;
  ae_tape *t = ae_tape_new(0);
  set_grad(a, 0), set_grad(b, 0);
  cr_assert_eq(ae_backward(t, product_loss(t, a, b, ta, tb, r)), 0, "%s", ae_tape_error(t));
  size_t peak_copy = ae_tape_arena_peak(t);
  ae_real *ga = malloc(sizeof(ae_real) * (size_t)a->grad.numel), *gb = malloc(sizeof(ae_real) * (size_t)b->grad.numel);
  memcpy(ga, a->grad.data, sizeof(ae_real) * (size_t)a->grad.numel);
  memcpy(gb, b->grad.data, sizeof(ae_real) * (size_t)b->grad.numel);
  ae_tape_reset(t);
  set_grad(a, 7.5), set_grad(b, -3);
  ae_param *list[2] = {a, b};
  int finite = -1;
  cr_assert_eq(ae__backward_set(t, product_loss(t, a, b, ta, tb, r), list, 2, &finite), 0, "%s", ae_tape_error(t));
  cr_assert(memcmp(a->grad.data, ga, sizeof(ae_real) * (size_t)a->grad.numel) == 0, "ta %d tb %d: a's gradient", ta,
            tb);
  cr_assert(memcmp(b->grad.data, gb, sizeof(ae_real) * (size_t)b->grad.numel) == 0, "ta %d tb %d: b's gradient", ta,
            tb);
  for (int64_t i = 0; i < a->grad.numel; i++)
    cr_assert(!(a->grad.data[i] == 0 && signbit(a->grad.data[i])), "a's gradient %lld is -0", (long long)i);
  for (int64_t i = 0; i < b->grad.numel; i++)
    cr_assert(!(b->grad.data[i] == 0 && signbit(b->grad.data[i])), "b's gradient %lld is -0", (long long)i);
  cr_assert_eq(finite, inf_at < 0, "ta %d tb %d, Inf at %d: finite flag %d", ta, tb, inf_at, finite);
  /* both gradients were written into the parameters, not on the tape */
  size_t grads = sizeof(ae_real) * (size_t)(a->grad.numel + b->grad.numel);
  /* less the sinks' three tables (a word or two per node: a 64-byte block each here) and one
   * block of alignment (the gradients' own bytes are not multiples of 64) */
  cr_assert_leq(ae_tape_arena_peak(t) + grads, peak_copy + 4 * 64,
                "ta %d tb %d: peak %zu with sinks, %zu copied (%zu of gradients)", ta, tb, ae_tape_arena_peak(t),
                peak_copy, grads);
  free(ga), free(gb);
  ae_tape_free(t);
  ae_param_free(a), ae_param_free(b);
}

Test(backward_set, a_weight_used_once_gets_its_gradient_from_the_gemm_directly) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      sink_case(ta, tb, -1, (ae_real)-0.0);
      sink_case(ta, tb, 3, (ae_real)0.0); /* an Inf in A: b's gradient holds Infs */
    }
  if (ae_gemm_set_backend(AE_GEMM_OPENBLAS) == 0) { /* -1: not built with OpenBLAS */
    for (int ta = 0; ta < 2; ta++) sink_case(ta, 1 - ta, -1, (ae_real)-0.0);
    ae_gemm_set_backend(AE_GEMM_BUILTIN);
  }
}
