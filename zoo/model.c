/* model.c: model instances (creation from settings, parameters, stages)
 * and the loss-term list. The registry of definitions is in registry.c. */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

void ae_terms_add(ae_terms *tm, const char *name, ae_val *v) {
  if (!tm || tm->n >= AE_MAX_TERMS) return;
  tm->name[tm->n] = name;
  tm->val[tm->n++] = v;
}

ae_val *ae_term(ae_tape *t, ae_terms *terms, ae_val *l, const char *name, double weight, ae_val *term) {
  ae_val *p = weight == 1 ? term : ae_scale(t, term, (ae_real)weight);
  ae_terms_add(terms, name, p);
  return l ? ae_add(t, l, p) : p;
}

static int accepts(const ae_model_def *d, ae_shape ex) {
  char s[64];
  if (d->input == AE_INPUT_IMAGE && ex.ndim != 3) {
    ae_set_last_error("model %s needs images (C,H,W); the data has examples of shape %s", d->name,
                      ae_shape_str(ex, s, sizeof s));
    return 0;
  }
  if (d->input == AE_INPUT_ROWS && !(ex.ndim == 2 || (ex.ndim == 3 && ex.d[0] == 1))) {
    ae_set_last_error("model %s reads single-channel images row by row; the data has examples of shape %s",
                      d->name, ae_shape_str(ex, s, sizeof s));
    return 0;
  }
  return 1;
}

ae_model *ae_model_new(const char *name, int nset, const char *const *set, ae_shape example, uint64_t seed) {
  const ae_model_def *d = ae_model_lookup(name);
  if (!d) {
    ae_set_last_error("unknown model '%s'; valid models:", name ? name : "");
    for (int i = 0; i < ae_zoo_count(); i++) ae_set_last_error("%s %s", ae_last_error(), ae_zoo_get(i)->name);
    return NULL;
  }
  return ae_model_from_def(d, nset, set, example, seed);
}

ae_model *ae_model_from_def(const ae_model_def *d, int nset, const char *const *set, ae_shape example,
                            uint64_t seed) {
  const char *name = d->name;
  if (!ae_shape_valid(example)) {
    ae_set_last_error("model %s: bad example shape: %s", name, ae_last_error());
    return NULL;
  }
  if (!accepts(d, example)) return NULL;
  ae_model *m = calloc(1, sizeof *m);
  if (!m) {
    ae_set_last_error("model %s: out of memory", name);
    return NULL;
  }
  m->def = d;
  m->example = example;
  m->dim = ae_shape_numel(example);
  ae_settings_init(&m->settings, d->settings, d->nsettings);
  for (int i = 0; i < nset; i++)
    if (ae_settings_parse(&m->settings, set[i])) {
      ae_model_free(m);
      return NULL;
    }
  if (d->state_size && !(m->state = calloc(1, d->state_size))) {
    ae_set_last_error("model %s: out of memory", name);
    ae_model_free(m);
    return NULL;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_set_last_error("%s", "");
  if (d->build(m, &rng)) {
    ae_set_last_error("model %s: %s", name, ae_last_error());
    ae_model_free(m);
    return NULL;
  }
  return m;
}

void ae_model_free(ae_model *m) {
  if (!m) return;
  for (int i = 0; i < m->nparams; i++) ae_param_free(m->params[i]);
  free(m->state);
  free(m);
}

ae_param *ae_model_add_param(ae_model *m, const char *name, ae_shape s) {
  if (m->nparams >= AE_MAX_PARAMS) {
    ae_set_last_error("too many parameters (at most %d)", AE_MAX_PARAMS);
    return NULL;
  }
  ae_param *p = ae_param_new(name, s);
  if (p) m->params[m->nparams++] = p;
  return p;
}

ae_param *ae_model_find_param(const ae_model *m, const char *name) {
  for (int i = 0; i < m->nparams; i++)
    if (strcmp(m->params[i]->name, name) == 0) return m->params[i];
  return NULL;
}

int64_t ae_model_param_count(const ae_model *m) {
  int64_t n = 0;
  for (int i = 0; i < m->nparams; i++) n += m->params[i]->value.numel;
  return n;
}

int ae_model_nstages(const ae_model *m) {
  if (m->nstages > 0) return m->nstages;
  return m->def->nstages > 1 ? m->def->nstages : 1;
}

int ae_model_stage_params(ae_model *m, int stage, ae_param **out, int max) {
  if (m->def->stage_params) return m->def->stage_params(m, stage, out, max);
  int n = m->nparams < max ? m->nparams : max;
  for (int i = 0; i < n; i++) out[i] = m->params[i];
  return n;
}

ae_val *ae_model_flat(ae_model *m, ae_tape *t, ae_val *x) {
  if (!x) return NULL;
  return ae_reshape(t, x, ae_shape_make(2, (int64_t[]){x->t.numel / m->dim, m->dim}));
}

ae_val *ae_model_unflat(ae_model *m, ae_tape *t, ae_val *y) {
  if (!y) return NULL;
  ae_shape s = m->example;
  int64_t b = y->t.numel / m->dim;
  ae_shape out = ae_shape_make(s.ndim + 1, NULL);
  out.d[0] = b;
  for (int k = 0; k < s.ndim; k++) out.d[k + 1] = s.d[k];
  return ae_reshape(t, y, out);
}

int ae_model_is_points(const ae_model *m) { return m->example.ndim == 1 && m->example.d[0] == 2; }
