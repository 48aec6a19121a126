/* check.c: first- and second-order gradient checks of a model's loss with
 * respect to its parameters (check.h). */
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

typedef struct {
  ae_model *m;
  const ae_tensor *x;
  uint64_t seed;
  ae_tape *t;
} evaluator;

/* The loss on a fresh tape; NULL, with the tape's error in ae_last_error(), on a tape error. */
static ae_val *loss_val(evaluator *e) {
  ae_tape_reset(e->t);
  ae_rng rng;
  ae_rng_init(&rng, e->seed);
  ae_terms tm = {0};
  ae_val *x = ae_const_tensor(e->t, e->x);
  ae_val *l = e->m->def->loss(e->m, e->t, x, &rng, &tm);
  if (!ae_tape_ok(e->t)) {
    ae_set_last_error("%s", ae_tape_error(e->t));
    return NULL;
  }
  return l;
}

static void zero_grads(ae_model *m) {
  for (int i = 0; i < m->nparams; i++) ae_param_zero_grad(m->params[i]);
}

/* Whether parameter i is trained by the model's current stage. The others
 * are constants of that stage's loss (stacked-ae holds the layers below
 * fixed by stop-gradient), so they are neither perturbed nor checked. */
static int in_stage(ae_model *m, int i) {
  ae_param *ps[AE_MAX_PARAMS];
  int n = ae_model_stage_params(m, m->stage, ps, AE_MAX_PARAMS);
  for (int k = 0; k < n; k++)
    if (ps[k] == m->params[i]) return 1;
  return 0;
}

static void judge(ae_param_check *c, const ae_gc_opts *o, int64_t j, double a, double n, double *worst) {
  double err = fabs(a - n), excess = err / (o->atol + o->rtol * fabs(n));
  if (!isfinite(a) || !isfinite(n)) excess = INFINITY, err = INFINITY;
  if (err > c->max_abs) c->max_abs = err;
  double rel = err / fmax(fabs(n), o->atol);
  if (rel > c->max_rel) c->max_rel = rel;
  if (excess > *worst) *worst = excess, c->worst = j;
  if (excess > 1) c->ok = 0;
}

static int setup(evaluator *e, ae_model *m, const ae_tensor *x, uint64_t seed, ae_param_check *out) {
  e->m = m, e->x = x, e->seed = seed;
  e->t = ae_tape_new((size_t)256 << 20);
  if (!e->t) {
    ae_set_last_error("gradcheck: %s", ae_last_error());
    return -1;
  }
  /* a model that infers codes in its loss holds them for the whole check (model.h) */
  if (m->def->hold_codes && m->def->hold_codes(m, e->t, x, 1)) {
    ae_set_last_error("gradcheck: %s", ae_tape_error(e->t));
    ae_tape_free(e->t);
    return -1;
  }
  for (int i = 0; i < m->nparams; i++) {
    memset(&out[i], 0, sizeof out[i]);
    snprintf(out[i].name, sizeof out[i].name, "%s", m->params[i]->name);
    out[i].numel = m->params[i]->value.numel;
    out[i].ok = 1;
  }
  return 0;
}

static void finish(evaluator *e) {
  if (e->m->def->hold_codes) e->m->def->hold_codes(e->m, e->t, NULL, 0);
  ae_tape_free(e->t);
}

int ae_model_gradcheck(ae_model *m, const ae_tensor *x, uint64_t seed, const ae_gc_opts *opts, ae_param_check *out) {
  ae_gc_opts o = opts ? *opts : ae_gc_defaults();
  evaluator e;
  if (setup(&e, m, x, seed, out)) return -1;
  int rc = 1;
  zero_grads(m);
  ae_val *l = loss_val(&e);
  if (!l || ae_backward(e.t, l)) {
    if (l) ae_set_last_error("%s", ae_tape_error(e.t));
    finish(&e);
    return -1;
  }
  for (int i = 0; i < m->nparams && rc >= 0; i++) {
    if (!in_stage(m, i)) continue;
    ae_param *p = m->params[i];
    double worst = 0;
    for (int64_t j = 0; j < p->value.numel; j++) {
      ae_real keep = p->value.data[j];
      p->value.data[j] = keep + (ae_real)o.eps;
      ae_val *lp = loss_val(&e);
      double fp = ae_item(lp);
      p->value.data[j] = keep - (ae_real)o.eps;
      ae_val *lm = loss_val(&e);
      double fm = ae_item(lm);
      p->value.data[j] = keep;
      if (!lp || !lm) {
        rc = -1;
        break;
      }
      judge(&out[i], &o, j, (double)p->grad.data[j], (fp - fm) / (2 * o.eps), &worst);
    }
    if (!out[i].ok && rc > 0) rc = 0;
  }
  zero_grads(m);
  finish(&e);
  return rc;
}

/* Gradient of the loss per parameter (leaves of one parameter summed), as
 * values on the tape, recorded when create_graph. */
static int param_grads(evaluator *e, ae_val *loss, ae_val **g, int create_graph) {
  ae_model *m = e->m;
  ae_val *leaves[4 * AE_MAX_PARAMS], *lg[4 * AE_MAX_PARAMS];
  int n = ae_tape_param_leaves(e->t, leaves, 4 * AE_MAX_PARAMS);
  if (n > 4 * AE_MAX_PARAMS) return -1;
  if (ae_grad(e->t, 1, &loss, NULL, n, leaves, lg, create_graph)) return -1;
  for (int i = 0; i < m->nparams; i++) g[i] = NULL;
  for (int k = 0; k < n; k++)
    for (int i = 0; i < m->nparams; i++)
      if (leaves[k]->param == m->params[i]) g[i] = g[i] ? ae_add(e->t, g[i], lg[k]) : lg[k];
  for (int i = 0; i < m->nparams; i++)
    if (!g[i]) g[i] = ae_full(e->t, m->params[i]->value.shape, 0);
  return ae_tape_ok(e->t) ? 0 : -1;
}

/* Flat gradient at the current parameters into buf. */
static int flat_grad(evaluator *e, double *buf) {
  ae_val *l = loss_val(e), *g[AE_MAX_PARAMS];
  if (!l || param_grads(e, l, g, 0)) {
    if (l) ae_set_last_error("%s", ae_tape_error(e->t));
    return -1;
  }
  for (int i = 0, off = 0; i < e->m->nparams; off += (int)g[i]->t.numel, i++)
    for (int64_t j = 0; j < g[i]->t.numel; j++) buf[off + j] = g[i]->t.data[j];
  return 0;
}

int ae_model_gradgradcheck(ae_model *m, const ae_tensor *x, uint64_t seed, const ae_gc_opts *opts,
                           ae_param_check *out) {
  ae_gc_opts o = opts ? *opts : ae_gc_defaults();
  evaluator e;
  if (setup(&e, m, x, seed, out)) return -1;
  int64_t total = ae_model_param_count(m);
  double *v = malloc(sizeof(double) * (size_t)total), *gp = malloc(sizeof(double) * (size_t)total),
         *gm = malloc(sizeof(double) * (size_t)total), *hv = malloc(sizeof(double) * (size_t)total);
  int rc = -1;
  if (!v || !gp || !gm || !hv) {
    ae_set_last_error("gradgradcheck: out of memory");
    goto done;
  }
  ae_rng rng;
  ae_rng_init(&rng, o.seed);
  for (int64_t k = 0; k < total; k++) v[k] = ae_rng_double(&rng) * 2 - 1;
  for (int i = 0, off = 0; i < m->nparams; off += (int)m->params[i]->value.numel, i++)
    if (!in_stage(m, i))
      for (int64_t j = 0; j < m->params[i]->value.numel; j++) v[off + j] = 0;
  /* analytic H v = d/dp <g(p), v> */
  ae_val *l = loss_val(&e), *g[AE_MAX_PARAMS];
  if (!l || param_grads(&e, l, g, 1)) {
    if (l) ae_set_last_error("%s", ae_tape_error(e.t));
    goto done;
  }
  ae_val *dot = NULL;
  for (int i = 0, off = 0; i < m->nparams; off += (int)m->params[i]->value.numel, i++) {
    ae_val *vi = ae_full(e.t, m->params[i]->value.shape, 0);
    if (!vi) break;
    for (int64_t j = 0; j < vi->t.numel; j++) vi->t.data[j] = (ae_real)v[off + j];
    ae_val *d = ae_sum(e.t, ae_mul(e.t, g[i], vi));
    dot = dot ? ae_add(e.t, dot, d) : d;
  }
  ae_val *h[AE_MAX_PARAMS];
  if (!dot || !dot->requires_grad) { /* the gradient does not depend on the parameters: H = 0 */
    for (int64_t k = 0; k < total; k++) hv[k] = 0;
  } else {
    if (param_grads(&e, dot, h, 0)) {
      ae_set_last_error("%s", ae_tape_error(e.t));
      goto done;
    }
    for (int i = 0, off = 0; i < m->nparams; off += (int)h[i]->t.numel, i++)
      for (int64_t j = 0; j < h[i]->t.numel; j++) hv[off + j] = h[i]->t.data[j];
  }
  /* numeric (g(p + eps v) - g(p - eps v)) / 2 eps */
  for (int sgn = 1; sgn >= -1; sgn -= 2) {
    for (int i = 0, off = 0; i < m->nparams; off += (int)m->params[i]->value.numel, i++)
      for (int64_t j = 0; j < m->params[i]->value.numel; j++)
        m->params[i]->value.data[j] += (ae_real)(sgn * o.eps * v[off + j]);
    int bad = flat_grad(&e, sgn > 0 ? gp : gm);
    for (int i = 0, off = 0; i < m->nparams; off += (int)m->params[i]->value.numel, i++)
      for (int64_t j = 0; j < m->params[i]->value.numel; j++)
        m->params[i]->value.data[j] -= (ae_real)(sgn * o.eps * v[off + j]);
    if (bad) goto done;
  }
  rc = 1;
  for (int i = 0, off = 0; i < m->nparams; off += (int)m->params[i]->value.numel, i++) {
    if (!in_stage(m, i)) continue;
    double worst = 0;
    for (int64_t j = 0; j < m->params[i]->value.numel; j++)
      judge(&out[i], &o, j, hv[off + j], (gp[off + j] - gm[off + j]) / (2 * o.eps), &worst);
    if (!out[i].ok) rc = 0;
  }
done:
  free(v), free(gp), free(gm), free(hv);
  finish(&e);
  return rc;
}
