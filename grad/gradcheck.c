/* gradcheck.c: first- and second-order gradient checks by central
 * differences (see gradcheck.h). Analytic rows come from one tape with a
 * mark/rewind around each vector-Jacobian product; numeric columns from
 * re-evaluating fn with one input element moved by +-eps. */
#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "base/rng.h"

ae_gc_opts ae_gc_defaults(void) {
  ae_gc_opts o = {.eps = 1e-6, .atol = 1e-5, .rtol = 1e-3, .fast = 0, .seed = 12345, .nondiff = 0, .arena = 0};
  return o;
}

typedef struct {
  ae_gc_fn fn;
  void *ctx;
  int nin;
  ae_tensor *const *x;
  const ae_gc_opts *o;
  ae_tape *t;
  ae_val *in[32];
  int diff[32], ndiff; /* indices of differentiated inputs */
} checker;

static int is_diff(const checker *c, int k) { return !(c->o->nondiff & (1u << k)); }

/* Fresh tape, inputs bound (differentiable ones as vars), fn evaluated. */
static ae_val *forward(checker *c) {
  ae_tape_reset(c->t);
  for (int k = 0; k < c->nin; k++)
    c->in[k] = is_diff(c, k) ? ae_var_tensor(c->t, c->x[k]) : ae_const_tensor(c->t, c->x[k]);
  ae_val *y = c->fn(c->t, c->in, c->ctx);
  if (!y && ae_tape_ok(c->t)) ae_raise(c->t, AE_ERR_ARG, "gradcheck", "the function returned nil");
  return ae_tape_ok(c->t) ? y : NULL;
}

static int fail_tape(checker *c, ae_gc_report *r) {
  r->ok = 0;
  snprintf(r->message, sizeof r->message, "the function failed on the tape: %s", ae_tape_error(c->t));
  return 0;
}

/* Records one comparison; keeps the worst (largest error relative to the tolerance). */
static void compare(const checker *c, ae_gc_report *r, double *worst, int k, int64_t oi, int64_t ii, double a,
                    double n) {
  /* excess: error as a fraction of the allowed error; > 1 fails */
  double err = fabs(a - n), excess = err / (c->o->atol + c->o->rtol * fabs(n));
  if (isnan(a) || isnan(n)) excess = INFINITY;
  r->checked++;
  if (r->checked == 1 || excess > *worst) {
    *worst = excess;
    r->input = k, r->out_index = oi, r->in_index = ii;
    r->analytic = a, r->numeric = n, r->abs_err = err;
    r->rel_err = err / (fabs(n) > 0 ? fabs(n) : 1);
  }
}

/* v^T-weighted central difference along direction u of input k (u NULL:
 * unit vector at element j). Writes the output difference quotient. */
static int numeric(checker *c, int k, int64_t j, const ae_real *u, double *dq, int64_t nout) {
  ae_tensor *x = c->x[k];
  ae_real *saved = malloc(sizeof(ae_real) * (size_t)x->numel);
  if (!saved) return -1;
  memcpy(saved, x->data, sizeof(ae_real) * (size_t)x->numel);
  double eps = c->o->eps;
  for (int sgn = 1; sgn >= -1; sgn -= 2) {
    if (u)
      for (int64_t e = 0; e < x->numel; e++) x->data[e] = saved[e] + (ae_real)(sgn * eps * u[e]);
    else
      x->data[j] = saved[j] + (ae_real)(sgn * eps);
    ae_val *y = forward(c);
    memcpy(x->data, saved, sizeof(ae_real) * (size_t)x->numel);
    if (!y) {
      free(saved);
      return -1;
    }
    for (int64_t i = 0; i < nout; i++) dq[i] = sgn > 0 ? (double)y->t.data[i] : (dq[i] - y->t.data[i]) / (2 * eps);
  }
  free(saved);
  return 0;
}

static int check_full(checker *c, ae_val *y, ae_gc_report *r, double *worst) {
  int64_t nout = y->t.numel;
  ae_val *g[32];
  double **jac = calloc((size_t)c->nin, sizeof *jac);
  double *dq = malloc(sizeof(double) * (size_t)nout);
  int rc = -1;
  if (!jac || !dq) goto done;
  for (int d = 0; d < c->ndiff; d++) {
    jac[c->diff[d]] = malloc(sizeof(double) * (size_t)(nout * c->x[c->diff[d]]->numel));
    if (!jac[c->diff[d]]) goto done;
  }
  ae_val *dins[32];
  for (int d = 0; d < c->ndiff; d++) dins[d] = c->in[c->diff[d]];
  for (int64_t i = 0; i < nout; i++) { /* analytic: row i of each Jacobian */
    ae_tape_mark m = ae_tape_get_mark(c->t);
    ae_val *v = ae_full(c->t, y->t.shape, 0);
    if (v) v->t.data[i] = 1;
    if (ae_grad(c->t, 1, &y, &v, c->ndiff, dins, g, 0) < 0) goto done;
    for (int d = 0; d < c->ndiff; d++) {
      int64_t n = c->x[c->diff[d]]->numel;
      for (int64_t j = 0; j < n; j++) jac[c->diff[d]][i * n + j] = g[d]->t.data[j];
    }
    ae_tape_rewind(c->t, m);
  }
  for (int d = 0; d < c->ndiff; d++) { /* numeric: column j, compared as it comes */
    int k = c->diff[d];
    int64_t n = c->x[k]->numel;
    for (int64_t j = 0; j < n; j++) {
      if (numeric(c, k, j, NULL, dq, nout) < 0) goto done;
      for (int64_t i = 0; i < nout; i++) compare(c, r, worst, k, i, j, jac[k][i * n + j], dq[i]);
    }
  }
  rc = 0;
done:
  for (int k = 0; jac && k < c->nin; k++) free(jac[k]);
  free(jac);
  free(dq);
  return rc;
}

static int check_fast(checker *c, ae_val *y, ae_gc_report *r, double *worst) {
  int64_t nout = y->t.numel;
  ae_rng rng;
  ae_rng_init(&rng, c->o->seed);
  ae_real *v = malloc(sizeof(ae_real) * (size_t)nout);
  double *dq = malloc(sizeof(double) * (size_t)nout);
  int rc = -1;
  if (!v || !dq) goto done;
  ae_rng_normal(&rng, v, nout, 0, 1);
  for (int d = 0; d < c->ndiff; d++) {
    int k = c->diff[d];
    int64_t n = c->x[k]->numel;
    ae_real *u = malloc(sizeof(ae_real) * (size_t)n);
    if (!u) goto done;
    ae_rng_normal(&rng, u, n, 0, 1);
    y = forward(c);
    ae_val *vv = y ? ae_const(c->t, y->t.shape, v) : NULL, *g = NULL;
    ae_val *din = c->in[k];
    if (!y || ae_grad(c->t, 1, &y, &vv, 1, &din, &g, 0) < 0) {
      free(u);
      goto done;
    }
    double a = 0, num = 0;
    for (int64_t j = 0; j < n; j++) a += (double)g->t.data[j] * u[j];
    if (numeric(c, k, -1, u, dq, nout) < 0) {
      free(u);
      goto done;
    }
    for (int64_t i = 0; i < nout; i++) num += dq[i] * v[i];
    compare(c, r, worst, k, -1, -1, a, num);
    free(u);
  }
  rc = 0;
done:
  free(v);
  free(dq);
  return rc;
}

int ae_gradcheck(ae_gc_fn fn, void *ctx, int nin, ae_tensor *const *inputs, const ae_gc_opts *opts,
                 ae_gc_report *rep) {
  ae_gc_report local;
  ae_gc_report *r = rep ? rep : &local;
  memset(r, 0, sizeof *r);
  ae_gc_opts defaults = ae_gc_defaults();
  checker c = {.fn = fn, .ctx = ctx, .nin = nin, .x = inputs, .o = opts ? opts : &defaults};
  if (nin < 1 || nin > 32) {
    snprintf(r->message, sizeof r->message, "gradcheck: %d inputs; between 1 and 32 are supported", nin);
    return 0;
  }
  for (int k = 0; k < nin; k++)
    if (is_diff(&c, k)) c.diff[c.ndiff++] = k;
  c.t = ae_tape_new(c.o->arena);
  if (!c.t) {
    snprintf(r->message, sizeof r->message, "gradcheck: %s", ae_last_error());
    return 0;
  }
  double worst = 0;
  ae_val *y = forward(&c);
  int rc = y ? (c.o->fast ? check_fast(&c, y, r, &worst) : check_full(&c, y, r, &worst)) : -1;
  if (rc < 0) {
    if (!ae_tape_ok(c.t))
      fail_tape(&c, r);
    else
      snprintf(r->message, sizeof r->message, "gradcheck: out of memory");
    ae_tape_free(c.t);
    return 0;
  }
  r->ok = worst <= 1;
  if (r->checked == 0)
    snprintf(r->message, sizeof r->message, "nothing to check: no differentiable input");
  else if (r->out_index < 0)
    snprintf(r->message, sizeof r->message,
             "%s: worst at input %d (v^T J u): analytic %.10g numeric %.10g, abs err %.3g, rel err %.3g "
             "(atol %g, rtol %g)",
             r->ok ? "pass" : "FAIL", r->input, r->analytic, r->numeric, r->abs_err, r->rel_err, c.o->atol, c.o->rtol);
  else
    snprintf(r->message, sizeof r->message,
             "%s: worst at input %d element %lld, output element %lld: analytic %.10g numeric %.10g, "
             "abs err %.3g, rel err %.3g (atol %g, rtol %g, %d entries)",
             r->ok ? "pass" : "FAIL", r->input, (long long)r->in_index, (long long)r->out_index, r->analytic,
             r->numeric, r->abs_err, r->rel_err, c.o->atol, c.o->rtol, r->checked);
  ae_tape_free(c.t);
  return r->ok;
}

/* ---- second order ---- */

typedef struct {
  ae_gc_fn fn;
  void *ctx;
  int nin, k;
  uint32_t nondiff;
} gg_ctx;

/* G_k(x, v) = d<fn(x), v>/dx_k with create_graph; in[nin] is v. */
static ae_val *grad_of_fn(ae_tape *t, ae_val *const *in, void *p) {
  gg_ctx *g = p;
  ae_val *y = g->fn(t, in, g->ctx);
  if (!y) return NULL;
  ae_val *dins[32], *grads[32];
  int nd = 0, slot = -1;
  for (int j = 0; j < g->nin; j++)
    if (!(g->nondiff & (1u << j))) {
      if (j == g->k) slot = nd;
      dins[nd++] = in[j];
    }
  ae_val *v = in[g->nin];
  if (ae_grad(t, 1, &y, &v, nd, dins, grads, 1) < 0) return NULL;
  return grads[slot];
}

int ae_gradgradcheck(ae_gc_fn fn, void *ctx, int nin, ae_tensor *const *inputs, const ae_gc_opts *opts,
                     ae_gc_report *rep) {
  ae_gc_report local;
  ae_gc_report *r = rep ? rep : &local;
  memset(r, 0, sizeof *r);
  ae_gc_opts o = opts ? *opts : ae_gc_defaults();
  if (nin < 1 || nin > 31) {
    snprintf(r->message, sizeof r->message, "gradgradcheck: %d inputs; between 1 and 31 are supported", nin);
    return 0;
  }
  /* The output's shape gives v's. */
  ae_tape *t = ae_tape_new(o.arena);
  if (!t) {
    snprintf(r->message, sizeof r->message, "gradgradcheck: %s", ae_last_error());
    return 0;
  }
  ae_val *in[32];
  for (int k = 0; k < nin; k++) /* bound as everywhere else: fn may differentiate with respect to its inputs */
    in[k] = o.nondiff & (1u << k) ? ae_const_tensor(t, inputs[k]) : ae_var_tensor(t, inputs[k]);
  ae_val *y = fn(t, in, ctx);
  if (!y || !ae_tape_ok(t)) {
    snprintf(r->message, sizeof r->message, "the function failed on the tape: %s", ae_tape_error(t));
    ae_tape_free(t);
    return 0;
  }
  ae_tensor *v = ae_tensor_new(y->t.shape);
  ae_tape_free(t);
  if (!v) return 0;
  ae_rng rng;
  ae_rng_init(&rng, o.seed ^ 0x9e3779b97f4a7c15ull);
  ae_rng_normal(&rng, v->data, v->numel, 0, 1);
  ae_tensor *all[32];
  for (int k = 0; k < nin; k++) all[k] = inputs[k];
  all[nin] = v;
  int ok = 1;
  for (int k = 0; k < nin && ok; k++) {
    if (o.nondiff & (1u << k)) continue;
    gg_ctx g = {fn, ctx, nin, k, o.nondiff};
    ok = ae_gradcheck(grad_of_fn, &g, nin + 1, all, &o, r);
    if (!ok) {
      char buf[sizeof r->message];
      snprintf(buf, sizeof buf, "second order, gradient of input %d: %.440s", k, r->message);
      memcpy(r->message, buf, sizeof buf);
    }
  }
  ae_tensor_free(v);
  return ok;
}

void ae_gc_report_print(FILE *f, const char *label, const ae_gc_report *r) {
  fprintf(f, "%s: %s\n", label ? label : "gradcheck", r->message);
}
