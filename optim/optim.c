/* optim.c: optimiser construction and validation, the per-kind defaults
 * and names, state-buffer listing, zero_grad, lr and step count, and
 * ae_optim_step's dispatch, all read from one table of rows, one per
 * optimiser (after a scan of every gradient for NaN/Inf).
 * The updates themselves live in sgd.c, adam.c, rmsprop.c, adagrad.c. */
#include "optim_internal.h"
#include "step_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base_internal.h"

/* Each family's checks of its own fields (lr, weight_decay and
 * max_grad_norm are checked for every kind) and its state buffers, in
 * torch's order (returns how many). */
static int check_range(const char *kind, const char *field, double v, double lo, double hi,
                       int hi_open);

static int sgd_validate(const ae_optim_config *c, const char *k) {
  if (check_range(k, "momentum", c->momentum, 0, INFINITY, 1) ||
      check_range(k, "dampening", c->dampening, -INFINITY, INFINITY, 1))
    return -1;
  if (c->kind != AE_OPT_SGD && c->momentum == 0) {
    ae_set_last_error("optim %s: momentum must be > 0", k);
    return -1;
  }
  if (c->kind == AE_OPT_NESTEROV && c->dampening != 0) {
    ae_set_last_error("optim nesterov: dampening = %g, must be 0", c->dampening);
    return -1;
  }
  return 0;
}

static int adam_validate(const ae_optim_config *c, const char *k) {
  if (c->kind == AE_OPT_NADAM && check_range(k, "momentum_decay", c->momentum_decay, 0, INFINITY, 1))
    return -1;
  return check_range(k, "beta1", c->beta1, 0, 1, 1) || check_range(k, "beta2", c->beta2, 0, 1, 1) ||
                 check_range(k, "eps", c->eps, 0, INFINITY, 1)
             ? -1
             : 0;
}

static int rmsprop_validate(const ae_optim_config *c, const char *k) {
  return check_range(k, "alpha", c->alpha, 0, INFINITY, 1) ||
                 check_range(k, "momentum", c->momentum, 0, INFINITY, 1) ||
                 check_range(k, "eps", c->eps, 0, INFINITY, 1)
             ? -1
             : 0;
}

static int adagrad_validate(const ae_optim_config *c, const char *k) {
  return check_range(k, "lr_decay", c->lr_decay, 0, INFINITY, 1) ||
                 check_range(k, "initial_accumulator", c->initial_accumulator, 0, INFINITY, 1) ||
                 check_range(k, "eps", c->eps, 0, INFINITY, 1)
             ? -1
             : 0;
}

static int sgd_buffers(const ae_optim_config *c, const char *names[AE_OPT_MAX_BUFS]) {
  int n = 0;
  if (c->momentum != 0) names[n++] = "momentum_buffer";
  return n;
}

static int adam_buffers(const ae_optim_config *c, const char *names[AE_OPT_MAX_BUFS]) {
  (void)c;
  names[0] = "exp_avg";
  names[1] = "exp_avg_sq";
  return 2;
}

static int rmsprop_buffers(const ae_optim_config *c, const char *names[AE_OPT_MAX_BUFS]) {
  int n = 0;
  names[n++] = "square_avg";
  if (c->momentum > 0) names[n++] = "momentum_buffer";
  if (c->centered) names[n++] = "grad_avg";
  return n;
}

static int adagrad_buffers(const ae_optim_config *c, const char *names[AE_OPT_MAX_BUFS]) {
  (void)c;
  names[0] = "sum";
  return 1;
}

/* One row per optimiser, indexed by ae_opt_kind: its name, the defaults
 * that differ from the shared ones in ae_optim_defaults (0: keep the
 * shared value), its checks, buffers and update. */
typedef struct {
  const char *name;
  double lr, momentum, weight_decay, eps;
  int (*validate)(const ae_optim_config *c, const char *k);
  int (*buffers)(const ae_optim_config *c, const char *names[AE_OPT_MAX_BUFS]);
  void (*step)(ae_optim *o, int64_t t);
} opt_row;

static const opt_row rows[AE_OPT_COUNT] = {
    [AE_OPT_SGD] = {"sgd", 1e-2, 0, 0, 0, sgd_validate, sgd_buffers, ae__sgd_step},
    [AE_OPT_MOMENTUM] = {"momentum", 1e-2, 0.9, 0, 0, sgd_validate, sgd_buffers, ae__sgd_step},
    [AE_OPT_NESTEROV] = {"nesterov", 1e-2, 0.9, 0, 0, sgd_validate, sgd_buffers, ae__sgd_step},
    [AE_OPT_ADAM] = {"adam", 1e-3, 0, 0, 0, adam_validate, adam_buffers, ae__adam_step},
    [AE_OPT_ADAMW] = {"adamw", 1e-3, 0, 1e-2, 0, adam_validate, adam_buffers, ae__adam_step},
    [AE_OPT_NADAM] = {"nadam", 2e-3, 0, 0, 0, adam_validate, adam_buffers, ae__nadam_step},
    [AE_OPT_RMSPROP] = {"rmsprop", 1e-2, 0, 0, 0, rmsprop_validate, rmsprop_buffers,
                        ae__rmsprop_step},
    [AE_OPT_ADAGRAD] = {"adagrad", 1e-2, 0, 0, 1e-10, adagrad_validate, adagrad_buffers,
                        ae__adagrad_step},
};

const char *ae_opt_kind_name(ae_opt_kind k) {
  return ((unsigned)k < AE_OPT_COUNT) ? rows[k].name : "?";
}

int ae_opt_kind_parse(const char *name, ae_opt_kind *out) {
  if (name)
    for (int k = 0; k < AE_OPT_COUNT; k++)
      if (strcasecmp(name, rows[k].name) == 0) {
        if (out) *out = (ae_opt_kind)k;
        return 0;
      }
  ae_set_last_error("optim: unknown optimiser '%s' (known: sgd, momentum, nesterov, adam, adamw, "
                    "nadam, rmsprop, adagrad)", name ? name : "(null)");
  return -1;
}

ae_optim_config ae_optim_defaults(ae_opt_kind kind) {
  ae_optim_config c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.beta1 = 0.9;
  c.beta2 = 0.999;
  c.eps = 1e-8;
  c.alpha = 0.99;
  c.momentum_decay = 4e-3;
  if ((unsigned)kind >= AE_OPT_COUNT) {
    c.lr = -1;
    return c;
  }
  const opt_row *r = &rows[kind];
  c.lr = r->lr;
  c.momentum = r->momentum;
  c.weight_decay = r->weight_decay;
  if (r->eps) c.eps = r->eps;
  return c;
}

/* 0 when lo <= v (< or <=) hi and v is not NaN; else -1 with a message. */
static int check_range(const char *kind, const char *field, double v, double lo, double hi,
                       int hi_open) {
  int ok = v >= lo && (hi_open ? v < hi : v <= hi);
  if (!ok) {
    ae_set_last_error("optim %s: %s = %g is invalid (must be in [%g, %g%c)", kind, field, v, lo, hi,
                      hi_open ? ')' : ']');
    return -1;
  }
  return 0;
}

static int validate(const ae_optim_config *c) {
  if ((unsigned)c->kind >= AE_OPT_COUNT) {
    ae_set_last_error("optim: unknown optimiser kind %d", (int)c->kind);
    return -1;
  }
  const char *k = rows[c->kind].name;
  if (check_range(k, "lr", c->lr, 0, INFINITY, 1) ||
      check_range(k, "weight_decay", c->weight_decay, 0, INFINITY, 1) ||
      check_range(k, "max_grad_norm", c->max_grad_norm, 0, INFINITY, 1))
    return -1;
  return rows[c->kind].validate(c, k);
}

/* ae__opt_for_shares through ae__par_shares (base_internal.h). */
typedef struct opt_shares {
  ae_optim *o;
  ae_opt_range_fn range;
  const void *ctx;
} opt_shares;
static int64_t param_len(const void *c, int i) { return ((const opt_shares *)c)->o->params[i]->value.numel; }
static int param_range(const void *c, int i, int64_t lo, int64_t hi) {
  const opt_shares *s = c;
  s->range(s->o, i, lo, hi, s->ctx);
  return 0;
}

void ae__opt_for_shares(ae_optim *o, ae_opt_range_fn range, const void *ctx) {
  const opt_shares s = {o, range, ctx};
  ae__par_shares(o->nparams, param_len, param_range, &s);
}

double ae__nadam_mu(double beta1, double psi, int64_t t) {
  return beta1 * (1.0 - 0.5 * pow(0.96, (double)t * psi));
}

ae_optim *ae_optim_new(const ae_optim_config *cfg, ae_param **params, int nparams) {
  if (!cfg) {
    ae_set_last_error("optim: config is NULL");
    return NULL;
  }
  if (validate(cfg)) return NULL;
  const char *kname = rows[cfg->kind].name;
  if (!params || nparams < 1) {
    ae_set_last_error("optim %s: empty parameter list", kname);
    return NULL;
  }
  for (int i = 0; i < nparams; i++) {
    const ae_param *p = params[i];
    if (!p || !p->value.data || !p->grad.data || p->value.numel != p->grad.numel) {
      ae_set_last_error("optim %s: parameter %d is NULL or malformed", kname, i);
      return NULL;
    }
    for (int j = 0; j < i; j++)
      if (params[j] == p) {
        ae_set_last_error("optim %s: parameter '%s' appears twice (indices %d and %d)", kname,
                          p->name, j, i);
        return NULL;
      }
  }

  ae_optim *o = calloc(1, sizeof *o);
  if (!o) goto oom;
  o->cfg = *cfg;
  o->nparams = nparams;
  o->mu_product = 1.0;
  o->params = malloc((size_t)nparams * sizeof *o->params);
  if (!o->params) goto oom;
  memcpy(o->params, params, (size_t)nparams * sizeof *o->params);

  const char *names[AE_OPT_MAX_BUFS];
  o->nbuf = rows[cfg->kind].buffers(cfg, names);
  if (o->nbuf) {
    o->state = calloc((size_t)nparams * (size_t)o->nbuf, sizeof *o->state);
    if (!o->state) goto oom;
    double init = cfg->kind == AE_OPT_ADAGRAD ? cfg->initial_accumulator : 0.0;
    for (int i = 0; i < nparams; i++)
      for (int k = 0; k < o->nbuf; k++) {
        ae_optim_state *s = &o->state[i * o->nbuf + k];
        if (params[i]->name[0])
          snprintf(s->name, sizeof s->name, "%s.%s", names[k], params[i]->name);
        else
          snprintf(s->name, sizeof s->name, "%s.#%d", names[k], i);
        s->t = init != 0 ? ae_tensor_full(params[i]->value.shape, (ae_real)init)
                         : ae_tensor_new(params[i]->value.shape);
        if (!s->t) goto oom;
      }
  }
  return o;

oom:
  ae_optim_free(o);
  ae_set_last_error("optim %s: out of memory for state buffers", kname);
  return NULL;
}

void ae_optim_free(ae_optim *o) {
  if (!o) return;
  if (o->state)
    for (int i = 0; i < o->nparams * o->nbuf; i++) ae_tensor_free(o->state[i].t);
  free(o->state);
  free(o->params);
  free(o);
}

/* 1 when every element is finite: g*0 is 0 unless g is NaN or Inf. An
 * OR over the elements vectorises in either branch (a float sum would be
 * a serial add chain without the simd clause). */
static int all_finite(const ae_real *g, int64_t n) {
  int bad = 0;
  AE_PAR_FOR(AE_PAR(n), simd reduction(| : bad),
  for (int64_t j = 0; j < n; j++) bad |= g[j] * (ae_real)0 != 0;);
  return !bad;
}

/* 1 when params[0..n) is the optimiser's own list, in its order. */
static int same_params(const ae_optim *o, ae_param *const *params, int n) {
  if (n != o->nparams) return 0;
  for (int i = 0; i < n; i++)
    if (params[i] != o->params[i]) return 0;
  return 1;
}

int ae_optim_step(ae_optim *o) { return ae__optim_step_scanned(o, NULL, 0); }

int ae__optim_step_scanned(ae_optim *o, ae_param *const *scanned, int nscanned) {
  if (!o) {
    ae_set_last_error("optim_step: optimiser is NULL");
    return -1;
  }
  if (o->cfg.reduce_grads && o->cfg.reduce_grads(o->cfg.reduce_ctx, o->params, o->nparams)) return -1;
  /* the reduction rewrote the gradients: their scan no longer holds */
  const int known = scanned && !o->cfg.reduce_grads && same_params(o, scanned, nscanned);
  for (int i = 0; i < o->nparams && !known; i++) {
    const ae_param *p = o->params[i];
    if (!all_finite(p->grad.data, p->grad.numel)) {
      int64_t j = 0;
      while (j < p->grad.numel && isfinite((double)p->grad.data[j])) j++;
      ae_set_last_error("optim %s: gradient of parameter '%s' (index %d) is not finite "
                        "(element %lld = %g); step skipped, nothing changed",
                        rows[o->cfg.kind].name, p->name, i, (long long)j,
                        j < p->grad.numel ? (double)p->grad.data[j] : 0.0);
      return -1;
    }
  }
  if (o->cfg.max_grad_norm > 0) ae_clip_grad_norm(o->params, o->nparams, o->cfg.max_grad_norm);
  int64_t t = o->steps + 1;
  rows[o->cfg.kind].step(o, t);
  o->steps = t;
  return 0;
}

void ae_optim_zero_grad(ae_optim *o) {
  if (!o) return;
  for (int i = 0; i < o->nparams; i++) ae_param_zero_grad(o->params[i]);
}

int ae_optim_set_lr(ae_optim *o, double lr) {
  if (!o) {
    ae_set_last_error("optim_set_lr: optimiser is NULL");
    return -1;
  }
  if (!(lr >= 0) || isinf(lr)) {
    ae_set_last_error("optim %s: lr = %g is invalid (must be finite and >= 0)",
                      rows[o->cfg.kind].name, lr);
    return -1;
  }
  o->cfg.lr = lr;
  return 0;
}

double ae_optim_get_lr(const ae_optim *o) { return o ? o->cfg.lr : NAN; }

const ae_optim_config *ae_optim_get_config(const ae_optim *o) { return o ? &o->cfg : NULL; }

int64_t ae_optim_steps_taken(const ae_optim *o) { return o ? o->steps : 0; }

void ae_optim_set_steps_taken(ae_optim *o, int64_t steps) {
  if (!o) return;
  o->steps = steps < 0 ? 0 : steps;
  o->mu_product = 1.0;
  if (o->cfg.kind == AE_OPT_NADAM)
    for (int64_t s = 1; s <= o->steps; s++)
      o->mu_product *= ae__nadam_mu(o->cfg.beta1, o->cfg.momentum_decay, s);
}

int ae_optim_state_count(const ae_optim *o) { return o ? o->nparams * o->nbuf : 0; }

ae_tensor *ae_optim_state_tensor(ae_optim *o, int i, const char **name) {
  if (!o || i < 0 || i >= o->nparams * o->nbuf) {
    if (name) *name = NULL;
    ae_set_last_error("optim_state_tensor: index %d out of range [0, %d)", i,
                      ae_optim_state_count(o));
    return NULL;
  }
  if (name) *name = o->state[i].name;
  return o->state[i].t;
}
