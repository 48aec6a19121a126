/* test_optim.c: optimisers, gradient clipping and lr schedules (optim/).
 * Each optimiser's steps are compared with an independent reference
 * written here from the algorithm boxes of the torch.optim documentation
 * (in double, element by element, on two parameters seen as one vector);
 * a second table holds numbers printed by torch.optim itself
 * (tests/oracle/optim_torch.py, torch 1.13; its NAdam has a bug fixed in
 * torch 2.0, patched there) for the same cases. Also:
 * state naming and checkpoint restore, NaN gradients, bad configs, clipping,
 * schedules, thread-count independence, no allocation in step, and
 * convergence on a convex quadratic. Built for float64 (1e-12) and float32
 * (relative 2e-5). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "aezoo.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#ifdef AE_REAL_DOUBLE
#define TOL 1e-12
#else
#define TOL 2e-5
#endif

static int close_to(double got, double want, double tol) {
  return fabs(got - want) <= tol * (1.0 + fabs(want));
}

/* ---- fixture: w (2,3) and b (3,), seen as one vector of 9 ---------------- */

#define NW 6
#define NB 3
#define N (NW + NB)
static const double P0[N] = {0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.1, -0.2, 0.3};
static const double G0[N] = {0.1, -0.3, 0.7, -1.2, 0.05, 0.4, 2.0, -0.6, 0.0};

/* The gradient fed at step t (1-based): varies with t so that state matters. */
static double grad_at(int j, int t) { return G0[j] * (1.0 + 0.25 * t) - 0.05 * t; }

typedef struct fixture {
  ae_param *w, *b;
  ae_param *ps[2];
} fixture;

static void fx_init(fixture *f) {
  f->w = ae_param_new("w", AE_SHAPE(2, 3));
  f->b = ae_param_new("b", AE_SHAPE(3));
  cr_assert(f->w && f->b);
  for (int j = 0; j < NW; j++) f->w->value.data[j] = (ae_real)P0[j];
  for (int j = 0; j < NB; j++) f->b->value.data[j] = (ae_real)P0[NW + j];
  f->ps[0] = f->w;
  f->ps[1] = f->b;
}
static void fx_free(fixture *f) {
  ae_param_free(f->w);
  ae_param_free(f->b);
}
static ae_real *fx_elem(fixture *f, int j, int grad) {
  ae_param *p = j < NW ? f->w : f->b;
  int k = j < NW ? j : j - NW;
  return grad ? &p->grad.data[k] : &p->value.data[k];
}
static void fx_set_grad(fixture *f, int t) {
  for (int j = 0; j < N; j++) *fx_elem(f, j, 1) = (ae_real)grad_at(j, t);
}

/* ---- the reference, from the torch.optim algorithm boxes ----------------- */

typedef struct ref_state {
  double m[N], v[N], buf[N], gave[N], sum[N];
} ref_state;

/* One step t (1-based) of the optimiser described by c, on theta, in place.
 * g holds the inputs exactly as the library saw them. */
static void ref_step(const ae_optim_config *c, int t, double *theta, const double *g_in,
                     ref_state *s) {
  const double lr = c->lr, wd = c->weight_decay;
  for (int j = 0; j < N; j++) {
    double g = g_in[j];
    switch (c->kind) {
    case AE_OPT_SGD:
    case AE_OPT_MOMENTUM:
    case AE_OPT_NESTEROV: {
      /* if lambda != 0: g <- g + lambda theta; if mu != 0: b_t = g (t = 1) or
       * mu b + (1 - tau) g; nesterov: g <- g + mu b_t else g <- b_t */
      if (wd != 0) g = g + wd * theta[j];
      if (c->momentum != 0) {
        s->buf[j] = t > 1 ? c->momentum * s->buf[j] + (1 - c->dampening) * g : g;
        g = c->kind == AE_OPT_NESTEROV ? g + c->momentum * s->buf[j] : s->buf[j];
      }
      theta[j] = theta[j] - lr * g;
      break;
    }
    case AE_OPT_ADAM:
    case AE_OPT_ADAMW: {
      if (c->kind == AE_OPT_ADAMW)
        theta[j] = theta[j] - lr * wd * theta[j];
      else if (wd != 0)
        g = g + wd * theta[j];
      s->m[j] = c->beta1 * s->m[j] + (1 - c->beta1) * g;
      s->v[j] = c->beta2 * s->v[j] + (1 - c->beta2) * g * g;
      double mhat = s->m[j] / (1 - pow(c->beta1, t));
      double vhat = s->v[j] / (1 - pow(c->beta2, t));
      theta[j] = theta[j] - lr * mhat / (sqrt(vhat) + c->eps);
      break;
    }
    case AE_OPT_NADAM: {
      if (wd != 0) g = g + wd * theta[j];
      double mu[64];
      for (int i = 1; i <= t + 1; i++) mu[i] = c->beta1 * (1 - 0.5 * pow(0.96, i * c->momentum_decay));
      double prod_t = 1, prod_t1;
      for (int i = 1; i <= t; i++) prod_t *= mu[i];
      prod_t1 = prod_t * mu[t + 1];
      s->m[j] = c->beta1 * s->m[j] + (1 - c->beta1) * g;
      s->v[j] = c->beta2 * s->v[j] + (1 - c->beta2) * g * g;
      double mhat = mu[t + 1] * s->m[j] / (1 - prod_t1) + (1 - mu[t]) * g / (1 - prod_t);
      double vhat = s->v[j] / (1 - pow(c->beta2, t));
      theta[j] = theta[j] - lr * mhat / (sqrt(vhat) + c->eps);
      break;
    }
    case AE_OPT_RMSPROP: {
      if (wd != 0) g = g + wd * theta[j];
      s->v[j] = c->alpha * s->v[j] + (1 - c->alpha) * g * g;
      double vt = s->v[j];
      if (c->centered) {
        s->gave[j] = s->gave[j] * c->alpha + (1 - c->alpha) * g;
        vt = vt - s->gave[j] * s->gave[j];
      }
      if (c->momentum > 0) {
        s->buf[j] = c->momentum * s->buf[j] + g / (sqrt(vt) + c->eps);
        theta[j] = theta[j] - lr * s->buf[j];
      } else {
        theta[j] = theta[j] - lr * g / (sqrt(vt) + c->eps);
      }
      break;
    }
    case AE_OPT_ADAGRAD: {
      double lr_t = lr / (1 + (t - 1) * c->lr_decay);
      if (wd != 0) g = g + wd * theta[j];
      if (t == 1) s->sum[j] = c->initial_accumulator;
      s->sum[j] = s->sum[j] + g * g;
      theta[j] = theta[j] - lr_t * g / (sqrt(s->sum[j]) + c->eps);
      break;
    }
    default: cr_assert_fail("unknown kind");
    }
  }
}

/* ---- the cases (mirrored in tests/oracle/optim_torch.py) ------------------ */

typedef struct opt_case {
  const char *label;
  ae_optim_config cfg;
} opt_case;

#define MAX_CASES 24
static int make_cases(opt_case *cs) {
  int n = 0;
  ae_optim_config c;
#define ADD(lbl) (cs[n].label = (lbl), cs[n].cfg = c, n++)
  c = ae_optim_defaults(AE_OPT_SGD); c.lr = 0.1; ADD("sgd");
  c = ae_optim_defaults(AE_OPT_SGD); c.lr = 0.1; c.weight_decay = 0.05; ADD("sgd_wd");
  c = ae_optim_defaults(AE_OPT_SGD); c.lr = 0.1; c.momentum = 0.5; ADD("sgd_with_momentum");
  c = ae_optim_defaults(AE_OPT_MOMENTUM); c.lr = 0.1; ADD("momentum");
  c = ae_optim_defaults(AE_OPT_MOMENTUM); c.lr = 0.1; c.momentum = 0.8; c.dampening = 0.3;
  c.weight_decay = 0.02; ADD("momentum_damp_wd");
  c = ae_optim_defaults(AE_OPT_NESTEROV); c.lr = 0.1; ADD("nesterov");
  c = ae_optim_defaults(AE_OPT_NESTEROV); c.lr = 0.05; c.momentum = 0.7; c.weight_decay = 0.1;
  ADD("nesterov_wd");
  c = ae_optim_defaults(AE_OPT_ADAM); c.lr = 0.01; ADD("adam");
  c = ae_optim_defaults(AE_OPT_ADAM); c.lr = 0.01; c.weight_decay = 0.1; c.beta1 = 0.8;
  c.beta2 = 0.99; c.eps = 1e-6; ADD("adam_wd");
  c = ae_optim_defaults(AE_OPT_ADAMW); c.lr = 0.01; c.weight_decay = 0.1; ADD("adamw");
  c = ae_optim_defaults(AE_OPT_NADAM); c.lr = 0.01; ADD("nadam");
  c = ae_optim_defaults(AE_OPT_NADAM); c.lr = 0.01; c.weight_decay = 0.05; c.beta1 = 0.85;
  c.momentum_decay = 0.01; ADD("nadam_wd");
  c = ae_optim_defaults(AE_OPT_RMSPROP); c.lr = 0.01; ADD("rmsprop");
  c = ae_optim_defaults(AE_OPT_RMSPROP); c.lr = 0.01; c.momentum = 0.9; c.weight_decay = 0.05;
  ADD("rmsprop_momentum_wd");
  c = ae_optim_defaults(AE_OPT_RMSPROP); c.lr = 0.01; c.centered = 1; c.alpha = 0.9;
  ADD("rmsprop_centered");
  c = ae_optim_defaults(AE_OPT_RMSPROP); c.lr = 0.01; c.centered = 1; c.momentum = 0.5;
  c.alpha = 0.95; c.eps = 1e-4; ADD("rmsprop_centered_momentum");
  c = ae_optim_defaults(AE_OPT_ADAGRAD); c.lr = 0.1; ADD("adagrad");
  c = ae_optim_defaults(AE_OPT_ADAGRAD); c.lr = 0.1; c.lr_decay = 0.1; c.weight_decay = 0.05;
  c.initial_accumulator = 0.1; c.eps = 1e-6; ADD("adagrad_decay_wd");
#undef ADD
  return n;
}

#define STEPS 3

Test(optim, matches_reference_each_optimiser) {
  opt_case cs[MAX_CASES];
  int nc = make_cases(cs);
  for (int ci = 0; ci < nc; ci++) {
    fixture f;
    fx_init(&f);
    ae_optim *o = ae_optim_new(&cs[ci].cfg, f.ps, 2);
    cr_assert(o, "%s: %s", cs[ci].label, ae_last_error());
    double theta[N], g[N];
    ref_state s;
    memset(&s, 0, sizeof s);
    for (int j = 0; j < N; j++) theta[j] = (double)*fx_elem(&f, j, 0);
    for (int t = 1; t <= STEPS; t++) {
      fx_set_grad(&f, t);
      for (int j = 0; j < N; j++) g[j] = (double)*fx_elem(&f, j, 1);
      cr_assert_eq(ae_optim_step(o), 0, "%s: %s", cs[ci].label, ae_last_error());
      ref_step(&cs[ci].cfg, t, theta, g, &s);
      for (int j = 0; j < N; j++) {
        double got = (double)*fx_elem(&f, j, 0);
        cr_assert(close_to(got, theta[j], TOL), "%s step %d elem %d: got %.17g want %.17g",
                  cs[ci].label, t, j, got, theta[j]);
      }
      /* The parameter really moved (no case is a no-op). */
      cr_assert(theta[0] != P0[0] || theta[2] != P0[2], "%s", cs[ci].label);
    }
    cr_assert_eq(ae_optim_steps_taken(o), STEPS);
    ae_optim_free(o);
    fx_free(&f);
  }
}

/* Numbers printed by torch.optim (tests/oracle/optim_torch.py, torch 1.13,
 * float64) after 3 steps of each case: all 9 elements (w then b). */
/* torch_ref: generated by tests/oracle/optim_torch.py (torch 1.13.0a0) */
/* nadam rows: torch < 2.0 with its mu_product_next bug patched as in pytorch#92699 */
static const struct { const char *label; double p[9]; } torch_ref[] = {
    {"sgd", {0.48499999999999999, -0.83499999999999996, 1.7150000000000001, 0.81999999999999995, -0.74250000000000005, 1.3500000000000001, -0.77000000000000002, 0.10000000000000002, 0.33000000000000002}},
    {"sgd_wd", {0.47763724999999996, -0.82077381249999992, 1.6864476875000001, 0.81377259375000011, -0.73130618750000009, 1.3283111875, -0.76759863750000001, 0.10168702500000003, 0.32542258750000003}},
    {"sgd_with_momentum", {0.47687499999999999, -0.77562500000000001, 1.6056250000000001, 1.03125, -0.7421875, 1.29125, -1.0987499999999999, 0.21000000000000002, 0.33875}},
    {"momentum", {0.46767500000000001, -0.71282500000000004, 1.4884250000000001, 1.2560500000000001, -0.74238749999999998, 1.2280500000000001, -1.4499500000000003, 0.32680000000000003, 0.34755000000000003}},
    {"momentum_damp_wd", {0.46929870334000001, -0.77123005278000001, 1.5866828104599999, 1.0219359128200001, -0.73893017950999995, 1.27579376592, -1.0970602765919999, 0.206456549584, 0.332628620624}},
    {"nesterov", {0.45590750000000002, -0.57654249999999996, 1.2545825000000002, 1.7254450000000001, -0.73564875000000007, 1.105245, -2.1649550000000004, 0.57412000000000007, 0.37279500000000004}},
    {"nesterov_wd", {0.46714791984374998, -0.79790243834374996, 1.6386163677187502, 0.83339464040625, -0.71963508492187489, 1.2949178402500001, -0.80913734247500002, 0.11698465582500002, 0.32031031782499997}},
    {"adam", {0.471360276976306, -0.9700275345088033, 1.9699544458465146, 0.28001683660050664, -0.74935207245995494, 1.4699503770921034, 0.069963891981274326, -0.16999722630108952, 0.3292318283918314}},
    {"adam_wd", {0.47077436399767081, -0.96979759192917703, 1.9698430929089887, 0.28020167545035224, -0.71993861963080164, 1.4698790013415606, 0.069809248690382478, -0.16979709563300177, 0.32879840311806552}},
    {"adamw", {0.46989146999339904, -0.9670605086233478, 1.9639904457633073, 0.27923759479733407, -0.7470879927593651, 1.4654848791693704, 0.069694190389104224, -0.16942781251108896, 0.32830308627679183}},
    {"nadam", {0.47917385280715624, -0.97220985800853743, 1.9730477120709913, 0.27741987549772579, -0.74104837313084848, 1.4733354513492078, 0.072836166541524083, -0.17244301020720051, 0.32981197611575697}},
    {"nadam_wd", {0.47651779933537569, -0.97104179699759208, 1.9718543948009712, 0.27875801285011331, -0.7182495363728395, 1.4721622669518957, 0.071518726501985291, -0.1711309633917891, 0.3316928975150038}},
    {"rmsprop", {0.31739944707025336, -0.75080900688087482, 1.7591066197040877, 0.49550931150042321, -0.66908899347190753, 1.2619303515634375, -0.14297735865138506, 0.046869793064236553, 0.56988242240636078}},
    {"rmsprop_momentum_wd", {0.089993972305541362, -0.5116868823146058, 1.5221650632213042, 0.73621748636646678, -0.22368092374945456, 1.0266793746379164, -0.38262403222583058, 0.28746536232988268, 0.82644042282508046}},
    {"rmsprop_centered", {0.43610531684673609, -0.91180127334532279, 1.9145304302803996, 0.33700368550956283, -0.72328704138414934, 1.4154873364580116, 0.013833055296542489, -0.11255165673683791, 0.39433882047588087}},
    {"rmsprop_centered_momentum", {0.367416868926561, -0.82933376510368872, 1.8338938605085657, 0.41871931899597203, -0.72573106114860708, 1.3355371160459393, -0.067320542519053866, -0.030559148987650709, 0.481041515952637}},
    {"adagrad", {0.31780385640967784, -0.75120422904708783, 1.7595387444102843, 0.49509645765499977, -0.66927018763581414, 1.2623726982745118, -0.14255353654318767, 0.046463226797592141, 0.5696210913508617}},
    {"adagrad_decay_wd", {0.43863965349589606, -0.79641564297324063, 1.7863183192625494, 0.47383948726046388, -0.70030818287312502, 1.3029250158717758, -0.12329912099523838, 0.017801991819969311, 0.36559862435466928}},
};
/* end torch_ref */

Test(optim, matches_torch_recorded) {
  opt_case cs[MAX_CASES];
  int nc = make_cases(cs);
  int ntorch = (int)(sizeof torch_ref / sizeof torch_ref[0]);
  cr_assert_eq(ntorch, nc, "oracle table has %d cases, test has %d", ntorch, nc);
  for (int ci = 0; ci < nc; ci++) {
    cr_assert_str_eq(torch_ref[ci].label, cs[ci].label);
    fixture f;
    fx_init(&f);
    ae_optim *o = ae_optim_new(&cs[ci].cfg, f.ps, 2);
    cr_assert(o, "%s: %s", cs[ci].label, ae_last_error());
    for (int t = 1; t <= STEPS; t++) {
      fx_set_grad(&f, t);
      cr_assert_eq(ae_optim_step(o), 0);
    }
    for (int j = 0; j < N; j++) {
      double got = (double)*fx_elem(&f, j, 0), want = torch_ref[ci].p[j];
      cr_assert(close_to(got, want, TOL), "%s elem %d: got %.17g torch %.17g", cs[ci].label, j,
                got, want);
    }
    ae_optim_free(o);
    fx_free(&f);
  }
}

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

/* ---- convergence on a convex quadratic ------------------------------------ */

/* loss(p) = 0.5 ||A p - y||^2, y = A p*; gradient A^T (A p - y). */
#define QM 4
#define QN 3
static const double QA[QM][QN] = {{2, 1, 0}, {1, 3, 1}, {0, 1, 4}, {1, 0, 1}};
static const double QSTAR[QN] = {1, -2, 0.5};

static double quad_loss_grad(const ae_real *p, ae_real *g) {
  double r[QM], loss = 0;
  for (int i = 0; i < QM; i++) {
    r[i] = 0;
    for (int k = 0; k < QN; k++) r[i] += QA[i][k] * ((double)p[k] - QSTAR[k]);
    loss += 0.5 * r[i] * r[i];
  }
  if (g)
    for (int k = 0; k < QN; k++) {
      double s = 0;
      for (int i = 0; i < QM; i++) s += QA[i][k] * r[i];
      g[k] = (ae_real)s;
    }
  return loss;
}

Test(optim, converges_on_quadratic) {
  struct { ae_opt_kind kind; double lr; } runs[] = {
      {AE_OPT_SGD, 0.03},     {AE_OPT_MOMENTUM, 0.01}, {AE_OPT_NESTEROV, 0.01},
      {AE_OPT_ADAM, 0.05},    {AE_OPT_ADAMW, 0.05},    {AE_OPT_NADAM, 0.05},
      {AE_OPT_RMSPROP, 0.01}, {AE_OPT_ADAGRAD, 0.5},
  };
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    ae_param *p = ae_param_new("p", AE_SHAPE(QN));
    ae_optim_config c = ae_optim_defaults(runs[r].kind);
    c.lr = runs[r].lr;
    ae_optim *o = ae_optim_new(&c, &p, 1);
    double loss0 = quad_loss_grad(p->value.data, NULL);
    for (int t = 0; t < 300; t++) {
      quad_loss_grad(p->value.data, p->grad.data);
      cr_assert_eq(ae_optim_step(o), 0);
    }
    double loss1 = quad_loss_grad(p->value.data, NULL);
    cr_assert(loss1 * 10 <= loss0, "%s: loss %g -> %g", ae_opt_kind_name(runs[r].kind), loss0, loss1);
    ae_optim_free(o);
    ae_param_free(p);
  }
}
