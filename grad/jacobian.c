/* jacobian.c: VJPs, JVPs (by the double-vector-Jacobian trick), the full
 * Jacobian, and the exact and stochastic squared Frobenius norms of a
 * Jacobian (see jacobian.h). Everything is composed from ae_grad and
 * differentiable ops, so with create_graph the results can be
 * differentiated again. Without create_graph, each function allocates its
 * result first, sets a mark, does its work after the mark, copies the
 * result in and rewinds, so it leaves only the result in the arena. With
 * create_graph, a Frobenius norm sums each product's squares with the
 * fused sum_sq (no array of squares). */
#include "jacobian.h"

#include <string.h>

#include "autograd/op_api.h"
#include "ops/ops.h"

/* ---- argument checks ---- */

/* Nil values and an x that no gradient can reach. */
static int check_yx(ae_tape *t, const char *op, ae_val *y, ae_val *x) {
  ae_val *in[2] = {y, x};
  if (!ae_op_begin(t, op, 2, in)) return 0;
  if (!x->requires_grad) {
    ae_raise(t, AE_ERR_ARG, op, "x does not require grad (a constant or a no-grad result): bind it with ae_var or "
                                "compute it from a var or a parameter");
    return 0;
  }
  return 1;
}

/* v must have the number of elements of `like` (named `what`). */
static int check_numel(ae_tape *t, const char *op, const char *vname, ae_val *v, const char *what, ae_val *like) {
  if (v->t.numel == like->t.numel) return 1;
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "%s has shape %s but %s has shape %s", vname, ae_sstr(v->t.shape, s1), what,
           ae_sstr(like->t.shape, s2));
  return 0;
}

/* The batch split: y (B, ...), x (B, ...), m and n units per example. */
static int batch_split(ae_tape *t, const char *op, ae_val *y, ae_val *x, int64_t *B, int64_t *m, int64_t *n) {
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
  if (y->t.shape.ndim < 1 || x->t.shape.ndim < 1 || y->t.shape.d[0] != x->t.shape.d[0]) {
    ae_raise(t, AE_ERR_SHAPE, op,
             "y %s and x %s must share their leading (batch) dimension; reshape a non-batched function to (1, ...)",
             ae_sstr(y->t.shape, s1), ae_sstr(x->t.shape, s2));
    return 0;
  }
  *B = y->t.shape.d[0];
  *m = y->t.numel / *B;
  *n = x->t.numel / *B;
  return 1;
}

/* ---- results that leave nothing else behind without create_graph ---- */

typedef struct scope {
  ae_val *out; /* preallocated constant result, or NULL with create_graph */
  ae_tape_mark mark;
} scope;

static int scope_open(ae_tape *t, scope *s, const char *op, ae_shape shape, int create_graph) {
  s->out = NULL;
  if (!create_graph) {
    s->out = ae_op_out(t, op, shape);
    if (!s->out) return 0;
  }
  s->mark = ae_tape_get_mark(t);
  return 1;
}

/* r: the computed result (of the scope's shape), or NULL on error. */
static ae_val *scope_close(ae_tape *t, scope *s, ae_val *r) {
  if (!r || !ae_tape_ok(t)) return NULL;
  if (!s->out) return r;
  memcpy(s->out->t.data, r->t.data, sizeof(ae_real) * (size_t)r->t.numel);
  ae_tape_rewind(t, s->mark);
  return s->out;
}

/* ---- VJP and JVP ---- */

ae_val *ae_vjp(ae_tape *t, ae_val *y, ae_val *v, ae_val *x, int create_graph) {
  if (!check_yx(t, "vjp", y, x) || !ae_op_begin(t, "vjp", 1, &v) || !check_numel(t, "vjp", "v", v, "y", y))
    return NULL;
  return ae_grad1(t, y, v, x, create_graph);
}

/* The JVP trick's first sweep: g = J^T w for a fresh zero leaf w of y's
 * shape, recorded so that it can be differentiated with respect to w. */
static ae_val *jvp_first(ae_tape *t, ae_val *y, ae_val *x, ae_val **w) {
  *w = ae_var(t, y->t.shape, NULL);
  return *w ? ae_grad1(t, y, *w, x, 1) : NULL;
}

/* The second sweep: d<g, u>/dw = J u, of y's (= w's) shape. */
static ae_val *jvp_second(ae_tape *t, ae_val *g, ae_val *w, ae_val *u, int create_graph) {
  return ae_grad1(t, g, u, w, create_graph);
}

ae_val *ae_jvp(ae_tape *t, ae_val *y, ae_val *x, ae_val *u, int create_graph) {
  if (!check_yx(t, "jvp", y, x) || !ae_op_begin(t, "jvp", 1, &u) || !check_numel(t, "jvp", "u", u, "x", x))
    return NULL;
  scope s;
  if (!scope_open(t, &s, "jvp", y->t.shape, create_graph)) return NULL;
  ae_val *w, *g = jvp_first(t, y, x, &w);
  return scope_close(t, &s, g ? jvp_second(t, g, w, u, create_graph) : NULL);
}

/* A constant of `shape` with 1 at the flat indices k, k + stride, ... */
static ae_val *one_hot(ae_tape *t, ae_shape shape, int64_t k, int64_t stride) {
  ae_val *e = ae_full(t, shape, 0);
  if (e)
    for (int64_t i = k; i < e->t.numel; i += stride) e->t.data[i] = 1;
  return e;
}

/* ---- the full Jacobian ---- */

static ae_val *jacobian(ae_tape *t, ae_val *y, ae_val *x, int create_graph) {
  const int64_t m = y->t.numel, n = x->t.numel;
  const int by_rows = m <= n;
  const int64_t count = by_rows ? m : n, len = by_rows ? n : m;
  scope s;
  if (!scope_open(t, &s, "jacobian", AE_SHAPE(m, n), create_graph)) return NULL;
  ae_val *g = NULL, *w = NULL, *acc = NULL;
  if (!by_rows && !(g = jvp_first(t, y, x, &w))) return NULL;
  for (int64_t k = 0; k < count; k++) {
    ae_tape_mark mk = ae_tape_get_mark(t);
    ae_val *e = one_hot(t, by_rows ? y->t.shape : x->t.shape, k, count);
    ae_val *r = by_rows ? ae_grad1(t, y, e, x, create_graph) : jvp_second(t, g, w, e, create_graph);
    if (!r) return NULL;
    if (!create_graph) { /* write row or column k into the result, forget the work */
      for (int64_t i = 0; i < len; i++) s.out->t.data[by_rows ? k * n + i : i * n + k] = r->t.data[i];
      ae_tape_rewind(t, mk);
      continue;
    }
    /* acc += onehot_k (m,1) * row_k (1,n), or col_k (m,1) * onehot_k (1,n) */
    ae_val *a = by_rows ? one_hot(t, AE_SHAPE(m, 1), k, m) : ae_reshape(t, r, AE_SHAPE(m, 1));
    ae_val *b = by_rows ? ae_reshape(t, r, AE_SHAPE(1, n)) : one_hot(t, AE_SHAPE(1, n), k, n);
    ae_val *outer = ae_mul(t, a, b);
    acc = acc ? ae_add(t, acc, outer) : outer;
    if (!acc) return NULL;
  }
  if (s.out) {
    ae_tape_rewind(t, s.mark);
    return ae_tape_ok(t) ? s.out : NULL;
  }
  return acc;
}

ae_val *ae_jacobian(ae_tape *t, ae_val *y, ae_val *x, int create_graph) {
  if (!check_yx(t, "jacobian", y, x)) return NULL;
  int old = ae_set_grad_enabled(t, create_graph); /* the assembly records exactly when asked to */
  ae_val *r = jacobian(t, y, x, create_graph);
  ae_set_grad_enabled(t, old);
  return r;
}

/* ---- squared Frobenius norms ---- */

/* Accumulates sum(r^2): into *acc as a recorded value with create_graph,
 * else into *sum (and rewinds to mk). */
static int accumulate_sq(ae_tape *t, ae_val *r, int create_graph, ae_val **acc, double *sum, ae_tape_mark mk) {
  if (!r) return 0;
  if (create_graph) {
    ae_val *q = ae_sum_sq(t, r); /* one read of r, no r^2 array */
    *acc = *acc ? ae_add(t, *acc, q) : q;
    return *acc != NULL;
  }
  double s = 0;
  for (int64_t i = 0; i < r->t.numel; i++) s += (double)r->t.data[i] * (double)r->t.data[i];
  *sum += s;
  ae_tape_rewind(t, mk);
  return 1;
}

/* The shared loop: `count` probes, each a VJP (output side) or a JVP
 * (input side, sharing its first sweep). probe(k) fills the probe; the
 * result is scale * sum over probes of ||product||^2, a scalar. */
typedef void (*probe_fill)(ae_val *p, int64_t k, void *ctx);

static ae_val *sum_sq_products_(ae_tape *t, const char *op, ae_val *y, ae_val *x, int64_t count,
                                ae_probe_side side, probe_fill fill, void *ctx, double scale, int create_graph) {
  scope s;
  if (!scope_open(t, &s, op, AE_SHAPE(), create_graph)) return NULL;
  ae_val *g = NULL, *w = NULL, *acc = NULL;
  double sum = 0;
  if (side == AE_PROBE_INPUT && !(g = jvp_first(t, y, x, &w))) return NULL;
  for (int64_t k = 0; k < count; k++) {
    ae_tape_mark mk = ae_tape_get_mark(t);
    ae_val *p = ae_full(t, side == AE_PROBE_OUTPUT ? y->t.shape : x->t.shape, 0);
    if (!p) return NULL;
    fill(p, k, ctx);
    ae_val *r = side == AE_PROBE_OUTPUT ? ae_grad1(t, y, p, x, create_graph) : jvp_second(t, g, w, p, create_graph);
    if (!accumulate_sq(t, r, create_graph, &acc, &sum, mk)) return NULL;
  }
  if (!create_graph) {
    s.out->t.data[0] = (ae_real)(scale * sum);
    ae_tape_rewind(t, s.mark);
    return ae_tape_ok(t) ? s.out : NULL;
  }
  return scale == 1 ? acc : ae_scale(t, acc, (ae_real)scale);
}

/* The same with grad mode = create_graph, so that the accumulation is
 * recorded exactly when asked for, whatever the caller's mode. */
static ae_val *sum_sq_products(ae_tape *t, const char *op, ae_val *y, ae_val *x, int64_t count, ae_probe_side side,
                               probe_fill fill, void *ctx, double scale, int create_graph) {
  int old = ae_set_grad_enabled(t, create_graph);
  ae_val *r = sum_sq_products_(t, op, y, x, count, side, fill, ctx, scale, create_graph);
  ae_set_grad_enabled(t, old);
  return r;
}

typedef struct {
  int64_t stride;
} unit_ctx;

/* Unit k in every example: flat indices k, k + stride, ... */
static void fill_unit(ae_val *p, int64_t k, void *c) {
  int64_t stride = ((unit_ctx *)c)->stride;
  for (int64_t i = k; i < p->t.numel; i += stride) p->t.data[i] = 1;
}

ae_val *ae_jacobian_frobenius_sq(ae_tape *t, ae_val *y, ae_val *x, int create_graph) {
  static const char op[] = "jacobian_frobenius_sq";
  int64_t B, m, n;
  if (!check_yx(t, op, y, x) || !batch_split(t, op, y, x, &B, &m, &n)) return NULL;
  ae_probe_side side = m <= n ? AE_PROBE_OUTPUT : AE_PROBE_INPUT;
  unit_ctx c = {side == AE_PROBE_OUTPUT ? m : n};
  return sum_sq_products(t, op, y, x, c.stride, side, fill_unit, &c, 1, create_graph);
}

typedef struct {
  ae_rng *rng;
  ae_probe_dist dist;
} random_ctx;

static void fill_random(ae_val *p, int64_t k, void *c) {
  random_ctx *r = c;
  if (r->dist == AE_PROBE_GAUSSIAN) {
    ae_rng_normal(r->rng, p->t.data, p->t.numel, 0, 1);
    return;
  }
  ae_rng_bernoulli(r->rng, p->t.data, p->t.numel, 0.5);
  for (int64_t i = 0; i < p->t.numel; i++) p->t.data[i] = 2 * p->t.data[i] - 1;
}

ae_val *ae_jacobian_frobenius_sq_hutchinson_ex(ae_tape *t, ae_val *y, ae_val *x, int probes, ae_probe_dist dist,
                                               ae_probe_side side, ae_rng *rng, int create_graph) {
  static const char op[] = "jacobian_frobenius_sq_hutchinson";
  if (!check_yx(t, op, y, x)) return NULL;
  if (probes < 1) {
    ae_raise(t, AE_ERR_ARG, op, "probes must be at least 1, got %d", probes);
    return NULL;
  }
  if (!rng) {
    ae_raise(t, AE_ERR_ARG, op, "rng is NULL");
    return NULL;
  }
  if ((dist != AE_PROBE_GAUSSIAN && dist != AE_PROBE_RADEMACHER) || (side != AE_PROBE_OUTPUT && side != AE_PROBE_INPUT)) {
    ae_raise(t, AE_ERR_ARG, op, "unknown probe distribution %d or side %d", (int)dist, (int)side);
    return NULL;
  }
  random_ctx c = {rng, dist};
  return sum_sq_products(t, op, y, x, probes, side, fill_random, &c, 1.0 / probes, create_graph);
}

ae_val *ae_jacobian_frobenius_sq_hutchinson(ae_tape *t, ae_val *y, ae_val *x, int probes, ae_rng *rng,
                                            int create_graph) {
  return ae_jacobian_frobenius_sq_hutchinson_ex(t, y, x, probes, AE_PROBE_GAUSSIAN, AE_PROBE_OUTPUT, rng,
                                                create_graph);
}
