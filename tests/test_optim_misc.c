/* test_optim_misc.c: the optimisers' surroundings (optim/): state naming
 * and checkpoint restore, lr get/set, kind names and defaults, NaN
 * gradients, bad configs, gradient clipping, thread-count independence,
 * no allocation in step, and lr schedules. The steps themselves are
 * checked in test_optim.c. Built for float64 (1e-12) and float32
 * (relative 2e-5). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aezoo.h"
#include "optim_fixture.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- state buffers, checkpoints, lr, names -------------------------------- */

Test(optim, state_names_and_counts) {
  fixture f;
  fx_init(&f);
  const char *name;
  ae_optim_config c = ae_optim_defaults(AE_OPT_ADAM);
  ae_optim *o = ae_optim_new(&c, f.ps, 2);
  cr_assert_eq(ae_optim_state_count(o), 4);
  const char *want[] = {"exp_avg.w", "exp_avg_sq.w", "exp_avg.b", "exp_avg_sq.b"};
  for (int i = 0; i < 4; i++) {
    ae_tensor *t = ae_optim_state_tensor(o, i, &name);
    cr_assert(t);
    cr_assert_str_eq(name, want[i]);
    cr_assert(ae_shape_eq(t->shape, i < 2 ? f.w->value.shape : f.b->value.shape));
  }
  cr_assert_null(ae_optim_state_tensor(o, 4, &name));
  ae_optim_free(o);

  c = ae_optim_defaults(AE_OPT_SGD);
  o = ae_optim_new(&c, f.ps, 2);
  cr_assert_eq(ae_optim_state_count(o), 0);
  ae_optim_free(o);

  c = ae_optim_defaults(AE_OPT_RMSPROP);
  c.momentum = 0.9;
  c.centered = 1;
  o = ae_optim_new(&c, f.ps, 2);
  cr_assert_eq(ae_optim_state_count(o), 6);
  const char *want_r[] = {"square_avg.w", "momentum_buffer.w", "grad_avg.w",
                          "square_avg.b", "momentum_buffer.b", "grad_avg.b"};
  for (int i = 0; i < 6; i++) {
    ae_optim_state_tensor(o, i, &name);
    cr_assert_str_eq(name, want_r[i]);
  }
  ae_optim_free(o);

  c = ae_optim_defaults(AE_OPT_ADAGRAD);
  c.initial_accumulator = 0.5;
  o = ae_optim_new(&c, f.ps, 2);
  cr_assert_eq(ae_optim_state_count(o), 2);
  ae_tensor *sum = ae_optim_state_tensor(o, 1, &name);
  cr_assert_str_eq(name, "sum.b");
  cr_assert_eq(sum->data[2], (ae_real)0.5);
  ae_optim_free(o);
  fx_free(&f);
}

/* Restoring state buffers and the step count into a fresh optimiser gives
 * the same next step as the original (NAdam's mu_product included). */
Test(optim, checkpoint_restore_continues_identically) {
  const ae_opt_kind kinds[] = {AE_OPT_MOMENTUM, AE_OPT_ADAM, AE_OPT_NADAM, AE_OPT_RMSPROP,
                               AE_OPT_ADAGRAD};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    ae_optim_config c = ae_optim_defaults(kinds[k]);
    c.lr = 0.05;
    fixture a, b;
    fx_init(&a);
    fx_init(&b);
    ae_optim *oa = ae_optim_new(&c, a.ps, 2);
    for (int t = 1; t <= 2; t++) {
      fx_set_grad(&a, t);
      ae_optim_step(oa);
    }
    /* "checkpoint": values, state, step count into a fresh optimiser */
    ae_optim *ob = ae_optim_new(&c, b.ps, 2);
    for (int j = 0; j < N; j++) *fx_elem(&b, j, 0) = *fx_elem(&a, j, 0);
    cr_assert_eq(ae_optim_state_count(ob), ae_optim_state_count(oa));
    for (int i = 0; i < ae_optim_state_count(oa); i++) {
      const char *na, *nb;
      ae_tensor *ta = ae_optim_state_tensor(oa, i, &na), *tb = ae_optim_state_tensor(ob, i, &nb);
      cr_assert_str_eq(na, nb);
      memcpy(tb->data, ta->data, (size_t)ta->numel * sizeof(ae_real));
    }
    ae_optim_set_steps_taken(ob, ae_optim_steps_taken(oa));
    fx_set_grad(&a, 3);
    fx_set_grad(&b, 3);
    ae_optim_step(oa);
    ae_optim_step(ob);
    for (int j = 0; j < N; j++)
      cr_assert_eq(*fx_elem(&a, j, 0), *fx_elem(&b, j, 0), "%s elem %d", ae_opt_kind_name(kinds[k]), j);
    ae_optim_free(oa);
    ae_optim_free(ob);
    fx_free(&a);
    fx_free(&b);
  }
}

Test(optim, lr_get_set_and_zero_grad) {
  fixture f;
  fx_init(&f);
  ae_optim_config c = ae_optim_defaults(AE_OPT_SGD);
  ae_optim *o = ae_optim_new(&c, f.ps, 2);
  cr_assert_eq(ae_optim_get_lr(o), 0.01);
  cr_assert_eq(ae_optim_set_lr(o, 0.5), 0);
  cr_assert_eq(ae_optim_get_lr(o), 0.5);
  cr_assert_eq(ae_optim_set_lr(o, -1), -1);
  cr_assert_eq(ae_optim_set_lr(o, NAN), -1);
  cr_assert_eq(ae_optim_get_lr(o), 0.5);
  fx_set_grad(&f, 1);
  ae_optim_step(o);
  cr_assert(close_to((double)f.w->value.data[0], P0[0] - 0.5 * grad_at(0, 1), TOL));
  ae_optim_zero_grad(o);
  for (int j = 0; j < N; j++) cr_assert_eq(*fx_elem(&f, j, 1), 0);
  ae_optim_free(o);
  fx_free(&f);
}

/* reduce_grads: a hook that doubles every gradient; one that fails. */
static int double_grads(void *ctx, ae_param **ps, int n) {
  (*(int *)ctx)++;
  for (int i = 0; i < n; i++)
    for (int64_t j = 0; j < ps[i]->grad.numel; j++) ps[i]->grad.data[j] *= 2;
  return 0;
}
static int refuse(void *ctx, ae_param **ps, int n) {
  (void)ctx, (void)ps, (void)n;
  ae_set_last_error("no answer from rank 1");
  return -1;
}

Test(optim, reduce_grads_runs_first_and_its_failure_skips_the_step) {
  fixture f;
  fx_init(&f);
  int calls = 0;
  ae_optim_config c = ae_optim_defaults(AE_OPT_SGD);
  c.lr = 0.5;
  c.max_grad_norm = 1e9; /* clipping sees the reduced gradients (no clip here) */
  c.reduce_grads = double_grads;
  c.reduce_ctx = &calls;
  ae_optim *o = ae_optim_new(&c, f.ps, 2);
  fx_set_grad(&f, 1);
  cr_assert_eq(ae_optim_step(o), 0);
  cr_assert_eq(calls, 1);
  for (int j = 0; j < N; j++)
    cr_assert(close_to((double)*fx_elem(&f, j, 0), P0[j] - 0.5 * 2 * grad_at(j, 1), TOL), "element %d", j);
  ae_optim_free(o);
  c.reduce_grads = refuse;
  o = ae_optim_new(&c, f.ps, 2);
  double before = (double)f.w->value.data[0];
  cr_assert_eq(ae_optim_step(o), -1);
  cr_assert(strstr(ae_last_error(), "rank 1"));
  cr_assert_eq((double)f.w->value.data[0], before);
  cr_assert_eq(ae_optim_steps_taken(o), 0);
  ae_optim_free(o);
  fx_free(&f);
}

Test(optim, kind_names_and_defaults) {
  const char *names[] = {"sgd", "momentum", "nesterov", "adam", "adamw", "nadam", "rmsprop", "adagrad"};
  for (int k = 0; k < AE_OPT_COUNT; k++) {
    cr_assert_str_eq(ae_opt_kind_name((ae_opt_kind)k), names[k]);
    ae_opt_kind out;
    cr_assert_eq(ae_opt_kind_parse(names[k], &out), 0);
    cr_assert_eq(out, (ae_opt_kind)k);
  }
  ae_opt_kind out;
  cr_assert_eq(ae_opt_kind_parse("ADAMW", &out), 0);
  cr_assert_eq(out, AE_OPT_ADAMW);
  cr_assert_eq(ae_opt_kind_parse("lbfgs", &out), -1);
  cr_assert(strstr(ae_last_error(), "lbfgs"));
  /* torch's defaults */
  ae_optim_config c = ae_optim_defaults(AE_OPT_ADAM);
  cr_assert(c.lr == 1e-3 && c.beta1 == 0.9 && c.beta2 == 0.999 && c.eps == 1e-8 && c.weight_decay == 0);
  c = ae_optim_defaults(AE_OPT_ADAMW);
  cr_assert(c.lr == 1e-3 && c.weight_decay == 1e-2);
  c = ae_optim_defaults(AE_OPT_NADAM);
  cr_assert(c.lr == 2e-3 && c.momentum_decay == 4e-3);
  c = ae_optim_defaults(AE_OPT_RMSPROP);
  cr_assert(c.lr == 1e-2 && c.alpha == 0.99 && c.eps == 1e-8 && c.momentum == 0 && !c.centered);
  c = ae_optim_defaults(AE_OPT_ADAGRAD);
  cr_assert(c.lr == 1e-2 && c.eps == 1e-10 && c.lr_decay == 0 && c.initial_accumulator == 0);
  c = ae_optim_defaults(AE_OPT_NESTEROV);
  cr_assert(c.momentum == 0.9 && c.dampening == 0);
}

/* ---- errors -------------------------------------------------------------- */

static void expect_rejected(ae_optim_config c, ae_param **ps, int n, const char *needle) {
  ae_set_last_error("%s", "");
  ae_optim *o = ae_optim_new(&c, ps, n);
  cr_assert_null(o, "config accepted; expected an error about '%s'", needle);
  cr_assert(strstr(ae_last_error(), needle), "message '%s' lacks '%s'", ae_last_error(), needle);
}

Test(optim, bad_config_rejected_with_message) {
  fixture f;
  fx_init(&f);
  ae_optim_config c;
  c = ae_optim_defaults(AE_OPT_SGD); c.lr = -0.1; expect_rejected(c, f.ps, 2, "lr");
  c = ae_optim_defaults(AE_OPT_ADAM); c.lr = NAN; expect_rejected(c, f.ps, 2, "lr");
  c = ae_optim_defaults(AE_OPT_ADAM); c.beta1 = 1.0; expect_rejected(c, f.ps, 2, "beta1");
  c = ae_optim_defaults(AE_OPT_ADAMW); c.beta2 = -0.1; expect_rejected(c, f.ps, 2, "beta2");
  c = ae_optim_defaults(AE_OPT_NADAM); c.momentum_decay = -1; expect_rejected(c, f.ps, 2, "momentum_decay");
  c = ae_optim_defaults(AE_OPT_ADAM); c.eps = -1e-8; expect_rejected(c, f.ps, 2, "eps");
  c = ae_optim_defaults(AE_OPT_ADAM); c.weight_decay = -0.1; expect_rejected(c, f.ps, 2, "weight_decay");
  c = ae_optim_defaults(AE_OPT_NESTEROV); c.momentum = 0; expect_rejected(c, f.ps, 2, "momentum");
  c = ae_optim_defaults(AE_OPT_NESTEROV); c.dampening = 0.5; expect_rejected(c, f.ps, 2, "dampening");
  c = ae_optim_defaults(AE_OPT_MOMENTUM); c.momentum = 0; expect_rejected(c, f.ps, 2, "momentum");
  c = ae_optim_defaults(AE_OPT_SGD); c.momentum = -0.5; expect_rejected(c, f.ps, 2, "momentum");
  c = ae_optim_defaults(AE_OPT_RMSPROP); c.alpha = -0.1; expect_rejected(c, f.ps, 2, "alpha");
  c = ae_optim_defaults(AE_OPT_ADAGRAD); c.lr_decay = -1; expect_rejected(c, f.ps, 2, "lr_decay");
  c = ae_optim_defaults(AE_OPT_ADAGRAD); c.initial_accumulator = -1;
  expect_rejected(c, f.ps, 2, "initial_accumulator");
  c = ae_optim_defaults((ae_opt_kind)99); expect_rejected(c, f.ps, 2, "kind");
  c = ae_optim_defaults(AE_OPT_SGD);
  expect_rejected(c, f.ps, 0, "empty");
  expect_rejected(c, NULL, 2, "empty");
  ae_param *dup[2] = {f.w, f.w};
  expect_rejected(c, dup, 2, "twice");
  ae_param *null_one[2] = {f.w, NULL};
  expect_rejected(c, null_one, 2, "NULL");
  cr_assert_null(ae_optim_new(NULL, f.ps, 2));
  fx_free(&f);
}

Test(optim, nonfinite_gradient_skips_step) {
  const ae_opt_kind kinds[] = {AE_OPT_SGD, AE_OPT_NESTEROV, AE_OPT_ADAM, AE_OPT_NADAM,
                               AE_OPT_RMSPROP, AE_OPT_ADAGRAD};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    for (int use_inf = 0; use_inf < 2; use_inf++) {
      fixture f, ref;
      fx_init(&f);
      fx_init(&ref);
      ae_optim_config c = ae_optim_defaults(kinds[k]);
      ae_optim *o = ae_optim_new(&c, f.ps, 2), *oref = ae_optim_new(&c, ref.ps, 2);
      fx_set_grad(&f, 1);
      f.b->grad.data[1] = use_inf ? (ae_real)-INFINITY : (ae_real)NAN;
      cr_assert_eq(ae_optim_step(o), -1);
      cr_assert(strstr(ae_last_error(), "'b'"), "message: %s", ae_last_error());
      cr_assert_eq(ae_optim_steps_taken(o), 0);
      for (int j = 0; j < N; j++) cr_assert_eq(*fx_elem(&f, j, 0), (ae_real)P0[j], "elem %d", j);
      for (int i = 0; i < ae_optim_state_count(o); i++) {
        ae_tensor *st = ae_optim_state_tensor(o, i, NULL);
        for (int64_t j = 0; j < st->numel; j++) cr_assert_eq(st->data[j], 0);
      }
      /* A good gradient afterwards: the same as a fresh first step. */
      fx_set_grad(&f, 1);
      fx_set_grad(&ref, 1);
      cr_assert_eq(ae_optim_step(o), 0);
      cr_assert_eq(ae_optim_step(oref), 0);
      for (int j = 0; j < N; j++) cr_assert_eq(*fx_elem(&f, j, 0), *fx_elem(&ref, j, 0));
      ae_optim_free(o);
      ae_optim_free(oref);
      fx_free(&f);
      fx_free(&ref);
    }
  }
}

/* ---- clipping ------------------------------------------------------------ */

Test(optim, clip_grad_norm) {
  fixture f;
  fx_init(&f);
  fx_set_grad(&f, 1);
  double want_sq = 0, g[N];
  for (int j = 0; j < N; j++) {
    g[j] = (double)*fx_elem(&f, j, 1);
    want_sq += g[j] * g[j];
  }
  double want = sqrt(want_sq);
  /* below the threshold: untouched */
  double got = ae_clip_grad_norm(f.ps, 2, want * 2);
  cr_assert(close_to(got, want, TOL), "norm %.17g want %.17g", got, want);
  for (int j = 0; j < N; j++) cr_assert_eq((double)*fx_elem(&f, j, 1), g[j]);
  /* above: scaled by max_norm / (norm + 1e-6) (torch), new norm = max_norm */
  double max_norm = want / 4;
  got = ae_clip_grad_norm(f.ps, 2, max_norm);
  cr_assert(close_to(got, want, TOL));
  double coef = max_norm / (want + 1e-6), new_sq = 0;
  for (int j = 0; j < N; j++) {
    double gj = (double)*fx_elem(&f, j, 1);
    cr_assert(close_to(gj, g[j] * coef, TOL), "elem %d: %.17g want %.17g", j, gj, g[j] * coef);
    new_sq += gj * gj;
  }
  cr_assert(close_to(sqrt(new_sq), max_norm, 1e-5), "new norm %.17g", sqrt(new_sq));
  /* hand example: (3, 4) and (12) -> 13 */
  ae_param *a = ae_param_new("a", AE_SHAPE(2)), *b = ae_param_new("b", AE_SHAPE(1));
  a->grad.data[0] = 3;
  a->grad.data[1] = 4;
  b->grad.data[0] = 12;
  ae_param *ab[2] = {a, b};
  cr_assert_eq(ae_clip_grad_norm(ab, 2, 6.5), 13.0);
  cr_assert(close_to((double)a->grad.data[1], 4 * 6.5 / (13 + 1e-6), TOL));
  cr_assert(close_to((double)b->grad.data[0], 12 * 6.5 / (13 + 1e-6), TOL));
  cr_assert_eq(ae_clip_grad_norm(ab, 2, -1), -1);
  /* non-finite norm: returned, gradients untouched */
  a->grad.data[0] = (ae_real)INFINITY;
  cr_assert(isinf(ae_clip_grad_norm(ab, 2, 1.0)));
  cr_assert_eq(a->grad.data[1], (ae_real)(4 * 6.5 / (13 + 1e-6)));
  ae_param_free(a);
  ae_param_free(b);
  fx_free(&f);
}

/* ---- threads and allocation --------------------------------------------- */

Test(optim, thread_count_does_not_change_results) {
  const int64_t n = 3 * AE_PAR_MIN_ELEMS + 17;
  const ae_opt_kind kinds[] = {AE_OPT_NESTEROV, AE_OPT_ADAMW, AE_OPT_NADAM, AE_OPT_RMSPROP, AE_OPT_ADAGRAD};
  int saved = ae_get_threads();
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    ae_param *p[2];
    double norm[2];
    for (int r = 0; r < 2; r++) {
      ae_set_threads(r == 0 ? 1 : 4);
      p[r] = ae_param_new("big", AE_SHAPE(n));
      for (int64_t j = 0; j < n; j++) p[r]->value.data[j] = (ae_real)sin(0.001 * (double)j);
      ae_optim_config c = ae_optim_defaults(kinds[k]);
      ae_optim *o = ae_optim_new(&c, &p[r], 1);
      for (int t = 1; t <= 3; t++) {
        for (int64_t j = 0; j < n; j++) p[r]->grad.data[j] = (ae_real)cos(0.0007 * (double)(j * t));
        norm[r] = ae_clip_grad_norm(&p[r], 1, 100.0);
        ae_optim_step(o);
      }
      ae_optim_free(o);
    }
    cr_assert_eq(norm[0], norm[1], "%s: norm %.17g vs %.17g", ae_opt_kind_name(kinds[k]), norm[0], norm[1]);
    cr_assert_eq(memcmp(p[0]->value.data, p[1]->value.data, (size_t)n * sizeof(ae_real)), 0, "%s",
                 ae_opt_kind_name(kinds[k]));
    ae_param_free(p[0]);
    ae_param_free(p[1]);
  }
  ae_set_threads(saved);
}

Test(optim, step_allocates_nothing) {
  for (int k = 0; k < AE_OPT_COUNT; k++) {
    fixture f;
    fx_init(&f);
    ae_optim_config c = ae_optim_defaults((ae_opt_kind)k);
    if (k == AE_OPT_RMSPROP) c.centered = 1, c.momentum = 0.5;
    ae_optim *o = ae_optim_new(&c, f.ps, 2);
    int64_t before = ae_heap_allocs();
    for (int t = 1; t <= 5; t++) {
      fx_set_grad(&f, t);
      ae_clip_grad_norm(f.ps, 2, 1.0);
      ae_optim_step(o);
      ae_optim_zero_grad(o);
    }
    cr_assert_eq(ae_heap_allocs(), before, "%s allocated in step", ae_opt_kind_name((ae_opt_kind)k));
    ae_optim_free(o);
    fx_free(&f);
  }
}

/* ---- schedules ------------------------------------------------------------ */

Test(optim, step_schedule) {
  cr_assert_eq(ae_lr_step_schedule(0.1, 0, 30, 0.1), 0.1);
  cr_assert_eq(ae_lr_step_schedule(0.1, 29, 30, 0.1), 0.1);
  cr_assert(close_to(ae_lr_step_schedule(0.1, 30, 30, 0.1), 0.01, 1e-15));
  cr_assert(close_to(ae_lr_step_schedule(0.1, 59, 30, 0.1), 0.01, 1e-15));
  cr_assert(close_to(ae_lr_step_schedule(0.1, 95, 30, 0.5), 0.1 * 0.125, 1e-15));
  cr_assert(isnan(ae_lr_step_schedule(0.1, 5, 0, 0.5)));
  cr_assert(isnan(ae_lr_step_schedule(0.1, -1, 10, 0.5)));
}

Test(optim, cosine_schedule) {
  const double base = 0.1, lo = 0.001;
  /* warmup 10 of 110: linear from 0 */
  cr_assert_eq(ae_lr_cosine_schedule(base, 0, 110, lo, 10), 0.0);
  cr_assert(close_to(ae_lr_cosine_schedule(base, 5, 110, lo, 10), 0.05, 1e-15));
  cr_assert(close_to(ae_lr_cosine_schedule(base, 10, 110, lo, 10), base, 1e-15)); /* warmup end */
  cr_assert(close_to(ae_lr_cosine_schedule(base, 60, 110, lo, 10), (base + lo) / 2, 1e-15)); /* middle */
  cr_assert(close_to(ae_lr_cosine_schedule(base, 35, 110, lo, 10),
                     lo + (base - lo) * 0.5 * (1 + cos(M_PI / 4)), 1e-15));
  cr_assert(close_to(ae_lr_cosine_schedule(base, 109, 110, lo, 10),
                     lo + (base - lo) * 0.5 * (1 + cos(M_PI * 99 / 100)), 1e-15));
  cr_assert_eq(ae_lr_cosine_schedule(base, 110, 110, lo, 10), lo); /* end */
  cr_assert_eq(ae_lr_cosine_schedule(base, 500, 110, lo, 10), lo);
  /* no warmup: torch CosineAnnealingLR */
  cr_assert_eq(ae_lr_cosine_schedule(base, 0, 100, 0, 0), base);
  cr_assert(close_to(ae_lr_cosine_schedule(base, 50, 100, 0, 0), base / 2, 1e-15));
  cr_assert(isnan(ae_lr_cosine_schedule(base, 0, 0, 0, 0)));
  cr_assert(isnan(ae_lr_cosine_schedule(base, 0, 10, 0, 11)));
  cr_assert(isnan(ae_lr_cosine_schedule(base, -1, 10, 0, 0)));
}
