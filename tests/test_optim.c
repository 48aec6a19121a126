/* test_optim.c: optimiser steps (optim/) against hand formulas.
 * Each optimiser's steps are compared with an independent reference
 * written here from the algorithm boxes of the torch.optim documentation
 * (in double, element by element, on two parameters seen as one vector);
 * a second table holds numbers printed by torch.optim itself
 * (tests/oracle/optim_torch.py, torch 1.13; its NAdam has a bug fixed in
 * torch 2.0, patched there) for the same cases. Also convergence on a
 * convex quadratic. Config validation, clipping, schedules and state live
 * in test_optim_misc.c. Built for float64 (1e-12) and float32
 * (relative 2e-5). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "aezoo.h"
#include "optim_fixture.h"

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

/* Adam's update flushes subnormals (optim/adam.c, flush_begin): gradients
 * of 1e-21 (g^2 below FLT_MIN in float) and v decaying toward zero give
 * the same parameters as an unflushed double reference, to TOL, over 40
 * steps; the same bitwise at 1 and 4 threads on a vector long enough to
 * be shared out; and the caller's floating-point control word (MXCSR on
 * x86) is as it was, whether the step ran on one thread or several. */
static void tiny_grad(ae_real *g, int64_t n, int t) {
  for (int64_t j = 0; j < n; j++) /* most steps tiny, every 7th a normal one, some elements always 0 */
    g[j] = j % 11 == 0 ? 0 : (ae_real)((t % 7 ? 1e-21 : 1e-3) * (double)(j % 5 - 2) * (1 + 0.1 * t));
}
Test(optim, adam_tiny_gradients_match_reference) {
  const int64_t n = 3 * 32768 + 17;
  const ae_opt_kind kinds[] = {AE_OPT_ADAM, AE_OPT_ADAMW};
  int saved = ae_get_threads();
  for (int k = 0; k < 2; k++) {
    ae_param *p[2];
    for (int r = 0; r < 2; r++) {
      ae_set_threads(r == 0 ? 1 : 4);
      p[r] = ae_param_new("p", AE_SHAPE(n));
      for (int64_t j = 0; j < n; j++) p[r]->value.data[j] = (ae_real)(0.5 - 0.001 * (double)(j % 1000));
      ae_optim_config c = ae_optim_defaults(kinds[k]);
      c.weight_decay = 0.01;
      ae_optim *o = ae_optim_new(&c, &p[r], 1);
#if defined(__SSE__)
      unsigned csr = _mm_getcsr();
#endif
      double *th = NULL, *m = NULL, *v = NULL;
      if (r == 0) {
        th = malloc(sizeof *th * (size_t)n), m = calloc((size_t)n, sizeof *m), v = calloc((size_t)n, sizeof *v);
        for (int64_t j = 0; j < n; j++) th[j] = (double)p[r]->value.data[j];
      }
      for (int t = 1; t <= 40; t++) {
        tiny_grad(p[r]->grad.data, n, t);
        cr_assert_eq(ae_optim_step(o), 0, "%s", ae_last_error());
#if defined(__SSE__)
        cr_assert_eq(_mm_getcsr(), csr, "MXCSR %#x after the step, %#x before", _mm_getcsr(), csr);
#endif
        if (r) continue;
        /* torch's Adam / AdamW in double, unflushed */
        double bc1 = 1 - pow(c.beta1, t), bc2 = 1 - pow(c.beta2, t);
        for (int64_t j = 0; j < n; j++) {
          double g = (double)p[r]->grad.data[j];
          if (kinds[k] == AE_OPT_ADAMW) th[j] *= 1 - c.lr * c.weight_decay;
          else g += c.weight_decay * th[j];
          m[j] = c.beta1 * m[j] + (1 - c.beta1) * g;
          v[j] = c.beta2 * v[j] + (1 - c.beta2) * g * g;
          th[j] -= c.lr / bc1 * m[j] / (sqrt(v[j]) / sqrt(bc2) + c.eps);
        }
      }
      if (r == 0) {
        for (int64_t j = 0; j < n; j++)
          cr_assert(close_to((double)p[r]->value.data[j], th[j], TOL), "%s elem %lld: got %.17g want %.17g",
                    ae_opt_kind_name(kinds[k]), (long long)j, (double)p[r]->value.data[j], th[j]);
        free(th), free(m), free(v);
      }
      ae_optim_free(o);
    }
    cr_assert_eq(memcmp(p[0]->value.data, p[1]->value.data, (size_t)n * sizeof(ae_real)), 0,
                 "%s: 1 and 4 threads differ", ae_opt_kind_name(kinds[k]));
    ae_param_free(p[0]);
    ae_param_free(p[1]);
  }
  ae_set_threads(saved);
}
