/* gc_model.c: the loss of a zoo model entry by entry, its analytic
 * gradient and finite differences (gc_model.h). */
#include "gc_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "autograd/tape.h"

const char *const gc_scheme_name[GC_NSCHEMES] = {"forward", "central", "richardson"};

int gc_model_open(gc_model *g, ae_model *m, const ae_tensor *x, uint64_t seed) {
  memset(g, 0, sizeof *g);
  g->m = m, g->x = x, g->seed = seed;
  ae_param *ps[AE_MAX_PARAMS];
  int np = ae_model_stage_params(m, m->stage, ps, AE_MAX_PARAMS);
  int64_t n = 0;
  for (int i = 0; i < m->nparams; i++)
    for (int j = 0; j < np; j++)
      if (ps[j] == m->params[i]) n += m->params[i]->value.numel;
  g->param = malloc(sizeof(int) * (size_t)(n ? n : 1));
  g->index = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  g->t = ae_tape_new((size_t)256 << 20);
  if (!g->param || !g->index || !g->t) {
    snprintf(g->err, sizeof g->err, "out of memory");
    gc_model_close(g);
    return -1;
  }
  for (int i = 0; i < m->nparams; i++)
    for (int j = 0; j < np; j++)
      if (ps[j] == m->params[i])
        for (int64_t e = 0; e < m->params[i]->value.numel; e++) g->param[g->n] = i, g->index[g->n++] = e;
  /* a model that infers codes in its loss holds them for the whole check (model.h) */
  if (m->def->hold_codes && m->def->hold_codes(m, g->t, x, 1)) {
    snprintf(g->err, sizeof g->err, "%s", ae_tape_error(g->t));
    g->m = NULL;
    gc_model_close(g);
    return -1;
  }
  return 0;
}

void gc_model_close(gc_model *g) {
  if (g->m && g->m->def->hold_codes && g->t) g->m->def->hold_codes(g->m, g->t, NULL, 0);
  if (g->t) ae_tape_free(g->t);
  free(g->param), free(g->index);
  g->t = NULL, g->param = NULL, g->index = NULL;
}

static ae_val *loss_val(gc_model *g) {
  ae_tape_reset(g->t);
  ae_rng rng;
  ae_rng_init(&rng, g->seed);
  ae_terms tm = {0};
  ae_val *l = g->m->def->loss(g->m, g->t, ae_const_tensor(g->t, g->x), &rng, &tm);
  if (!ae_tape_ok(g->t)) {
    snprintf(g->err, sizeof g->err, "%s", ae_tape_error(g->t));
    return NULL;
  }
  return l;
}

double gc_model_loss(gc_model *g) {
  ae_val *l = loss_val(g);
  return l ? ae_item(l) : NAN;
}

int gc_model_grad(gc_model *g, double *grad) {
  ae_model *m = g->m;
  for (int i = 0; i < m->nparams; i++) ae_param_zero_grad(m->params[i]);
  ae_val *l = loss_val(g);
  if (!l) return -1;
  if (ae_backward(g->t, l)) {
    snprintf(g->err, sizeof g->err, "%s", ae_tape_error(g->t));
    return -1;
  }
  for (int64_t k = 0; k < g->n; k++) grad[k] = (double)m->params[g->param[k]]->grad.data[g->index[k]];
  for (int i = 0; i < m->nparams; i++) ae_param_zero_grad(m->params[i]);
  return 0;
}

/* The loss with entry k at keep + h (in the build's precision). */
static double loss_at(gc_model *g, ae_real *v, ae_real keep, double h) {
  *v = keep + (ae_real)h;
  double l = gc_model_loss(g);
  *v = keep;
  return l;
}

double gc_model_diff(gc_model *g, int64_t k, gc_scheme s, double eps) {
  ae_real *v = &g->m->params[g->param[k]]->value.data[g->index[k]], keep = *v;
  switch (s) {
  case GC_FORWARD: return (loss_at(g, v, keep, eps) - gc_model_loss(g)) / eps;
  case GC_CENTRAL: return (loss_at(g, v, keep, eps) - loss_at(g, v, keep, -eps)) / (2 * eps);
  case GC_RICHARDSON: {
    /* C(h) = f' + c h^2 + O(h^4): (4 C(h/2) - C(h)) / 3 cancels the h^2 term */
    double c1 = (loss_at(g, v, keep, eps) - loss_at(g, v, keep, -eps)) / (2 * eps);
    double c2 = (loss_at(g, v, keep, eps / 2) - loss_at(g, v, keep, -eps / 2)) / eps;
    return (4 * c2 - c1) / 3;
  }
  default: return NAN;
  }
}

void gc_model_keep(gc_model *g, int64_t count, uint64_t seed) {
  if (count <= 0 || count >= g->n) return;
  int64_t *pick = malloc(sizeof(int64_t) * (size_t)g->n);
  unsigned char *keep = calloc((size_t)g->n, 1);
  if (!pick || !keep) { /* keep them all rather than fail */
    free(pick), free(keep);
    return;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed ^ 0x5e1ec7ull);
  for (int64_t k = 0; k < g->n; k++) pick[k] = k;
  for (int64_t k = 0; k < count; k++) { /* partial Fisher-Yates */
    int64_t j = k + (int64_t)(ae_rng_double(&rng) * (double)(g->n - k));
    if (j >= g->n) j = g->n - 1;
    int64_t t = pick[k];
    pick[k] = pick[j], pick[j] = t;
    keep[pick[k]] = 1;
  }
  int64_t n = 0;
  for (int64_t k = 0; k < g->n; k++)
    if (keep[k]) g->param[n] = g->param[k], g->index[n++] = g->index[k];
  g->n = n;
  free(pick), free(keep);
}

void gc_model_entry_name(const gc_model *g, int64_t k, char *buf, size_t len) {
  snprintf(buf, len, "%s[%lld]", g->m->params[g->param[k]]->name, (long long)g->index[k]);
}
