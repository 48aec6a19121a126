/* backward.c: the reverse sweep. Walks the tape from the outputs down,
 * calls each node's backward rule (ops written in differentiable ops, run
 * with grad mode = create_graph), undoes broadcasting once by summing each
 * input gradient back to its input's shape, and accumulates per node.
 *
 * Without create_graph the gradients are no graph values, and the sweep
 * reclaims memory as it goes (tape_internal.h): each rule runs in a
 * window that keeps only the gradients it produced, and a gradient buffer
 * the sweep owns alone is put on the tape's free list once consumed (its
 * node's rule has run, or it was summed into a new accumulator). Owned:
 * allocated whole by the window that produced it, or handed on from the
 * consumed gradient it aliases (a reshape or an add's rule passes the
 * gradient through), and shared with no other node's gradient. Gradients
 * the caller gets (the targets), the output gradients given, and every
 * forward value are never owned. */
#include <string.h>

#include "autograd/op_api.h"
#include "ops/ops.h"
#include "ops/oplist.h"
#include "autograd/tape_internal.h"
#include "backward_internal.h"
#include "base/base_internal.h"
#include "base/parallel.h"

/* Adds g (already of x's shape) into the accumulator slot. */
static void accumulate(ae_tape *t, ae_val **slot, ae_val *g) { *slot = *slot ? ae_add(t, *slot, g) : g; }

static int same_memory(const ae_val *a, const ae_val *b) {
  const ae_real *p = a->t.data, *q = b->t.data;
  return a->t.numel && b->t.numel && p < q + b->t.numel && q < p + a->t.numel;
}

/* accumulate, in a sweep without create_graph: when the accumulator's
 * buffer is the sweep's alone (own), g is added into it in place (bitwise
 * ae_add's sum) instead of into a new value above g, which the window
 * would then have to move down over g (cae's tied 1000x784 weight: two
 * 3.1 MB moves a step). The add still goes through ae_op_record, for
 * anomaly mode's check; nothing is recorded. */
static void accumulate_into(ae_tape *t, ae_val **slot, ae_val *g, int own) {
  ae_val *a = *slot;
  if (!a || !g || !own || !ae_shape_eq(a->t.shape, g->t.shape) || same_memory(a, g)) {
    accumulate(t, slot, g);
    return;
  }
  if (!ae_op_begin(t, "add", 2, (ae_val *[]){a, g})) return;
  ae_real *restrict y = a->t.data;
  const ae_real *restrict x = g->t.data;
  const int64_t n = a->t.numel;
  AE_PAR_FOR(AE_PAR(n), simd, for (int64_t e = 0; e < n; e++) y[e] += x[e];);
  ae_op_record(t, AE_OP_ADD, a, 0, NULL);
}

/* The accumulators node n's rule may add into itself (tape_internal.h):
 * those of its inputs that are its input once, already hold a gradient
 * the sweep owns, and have the input's shape. Returns o. */
static ae__acc_offer *offer_accumulators(const ae_node *n, ae_val *const *acc, const unsigned char *owned,
                                         const unsigned char *needed, ae__acc_offer *o) {
  memset(o, 0, sizeof *o);
  for (int j = 0; j < n->nin && j < AE_MAX_IN; j++) {
    const ae_val *x = n->in[j];
    if (!x || x->node < 0 || !needed[x->node] || !acc[x->node] || !owned[x->node]) continue;
    int once = 1;
    for (int k = 0; k < n->nin; k++) once &= k == j || n->in[k] != x;
    if (once && ae_shape_eq(acc[x->node]->t.shape, x->t.shape)) o->into[j] = acc[x->node]->t.data;
  }
  return o;
}

/* Reduces a rule's gradient to the input's shape (the broadcast undo). */
static ae_val *fit_to(ae_tape *t, ae_val *g, const ae_val *x) {
  if (!g || ae_shape_eq(g->t.shape, x->t.shape)) return g;
  if (g->t.numel == x->t.numel) return ae_reshape(t, g, x->t.shape);
  return ae_sum_to(t, g, x->t.shape);
}


/* Closes the window of node i's rule, which set acc[slot[0..n)] (their
 * values before it: old[]): keeps those, decides which of them the sweep
 * owns, and recycles the owned buffers the rule consumed (acc[i], and old
 * accumulators replaced by a sum). */
static void reclaim(ae_tape *t, int i, ae_val **acc, unsigned char *owned, const unsigned char *target,
                    const int *slot, ae_val *const *old, int n) {
  ae_val *keep[AE_MAX_IN];
  unsigned char fresh[AE_MAX_IN], owned_before[AE_MAX_IN];
  for (int k = 0; k < n; k++) keep[k] = acc[slot[k]], owned_before[k] = owned[slot[k]];
  if (!ae__tape_window_end(t, keep, n, fresh)) {
    for (int k = 0; k < n; k++) owned[slot[k]] = 0;
    return;
  }
  int give = owned[i] && !target[i]; /* acc[i] is consumed: its buffer may go */
  for (int k = 0; k < n; k++) {
    acc[slot[k]] = keep[k];
    /* an old accumulator kept as it was (no new gradient added) stays as it was */
    if (keep[k] == old[k]) continue;
    int own = fresh[k];
    if (!own && give && keep[k]->t.data == acc[i]->t.data && keep[k]->t.numel == acc[i]->t.numel) own = 2;
    for (int j = 0; j < n && own; j++)
      if (j != k && same_memory(keep[k], keep[j])) own = 0;
    if (own == 2) give = 0; /* handed on: acc[i]'s buffer is now keep[k]'s */
    owned[slot[k]] = own != 0;
  }
  for (int k = 0; k < n; k++) { /* replaced by a sum: the old accumulator is consumed */
    if (!old[k] || keep[k] == old[k] || !owned_before[k]) continue;
    int alone = 1;
    for (int j = 0; j < n; j++) alone &= !same_memory(old[k], keep[j]);
    if (alone) ae__tape_recycle(t, old[k]);
  }
  for (int k = 0; k < n && give; k++)
    if (same_memory(keep[k], acc[i])) give = 0;
  if (give) ae__tape_recycle(t, acc[i]);
  owned[i] = 0;
}

/* The sweep shared by ae_grad and ae_backward. Fills acc[0..top] with the
 * gradient of every node that leads to a marked target. Returns -1 on error. */
static int sweep(ae_tape *t, int nout, ae_val *const *outs, ae_val *const *ogs, const unsigned char *target,
                 ae_val **acc, int top, int create_graph) {
  /* needed[i]: node i is a target or feeds one (forward pass over the tape). */
  unsigned char *needed = ae_arena_alloc(t, "grad", (size_t)top + 1);
  if (!needed) return -1;
  for (int i = 0; i <= top; i++) {
    ae_node *n = ae__tape_node(t, i);
    needed[i] = target[i];
    for (int j = 0; j < n->nin && !needed[i]; j++)
      if (n->in[j]->node >= 0 && needed[n->in[j]->node]) needed[i] = 1;
  }
  int old_mode = ae_set_grad_enabled(t, create_graph), old_top;
  const unsigned char *old_needed = ae__tape_set_sweep(t, needed, top, &old_top);
  ae__tape_sweep_enter(t);
  for (int k = 0; k < nout; k++) {
    ae_val *y = outs[k];
    if (!y->requires_grad || !needed[y->node]) continue;
    ae_val *gy = ogs && ogs[k] ? ogs[k] : ae_full(t, y->t.shape, 1);
    accumulate(t, &acc[y->node], gy);
  }
  /* owned[i]: acc[i]'s buffer belongs to the sweep alone (NULL: no reuse) */
  unsigned char *owned = NULL;
  if (!create_graph && (owned = ae_arena_alloc(t, "grad", (size_t)top + 1))) memset(owned, 0, (size_t)top + 1);
  for (int i = top; i >= 0 && ae_tape_ok(t); i--) {
    ae_node *n = ae__tape_node(t, i);
    if (!acc[i] || n->op == AE_OP_LEAF || !needed[i]) continue;
    int win = owned && ae__tape_window_begin(t);
    ae_val *gin[AE_MAX_IN] = {0}, *old[AE_MAX_IN];
    int slot[AE_MAX_IN], nslot = 0;
    /* this rule's offer, none outside a window (a sweep run by a rule of
     * another sees none of the other's) */
    ae__acc_offer offer = {0};
    ae__acc_offer *outer = ae__tape_set_acc_offer(t, win ? offer_accumulators(n, acc, owned, needed, &offer) : NULL);
    ae_op_backward(n->op)(t, n, acc[i], gin);
    ae__tape_set_acc_offer(t, outer);
    for (int j = 0; j < n->nin; j++) {
      ae_val *x = n->in[j];
      if (!gin[j] || x->node < 0 || !needed[x->node]) continue;
      int k = 0;
      while (k < nslot && slot[k] != x->node) k++;
      if (k == nslot) slot[nslot] = x->node, old[nslot++] = acc[x->node];
      if (offer.taken[j]) continue; /* the rule added it into acc[x->node] */
      ae_val *gx = fit_to(t, gin[j], x);
      if (win) accumulate_into(t, &acc[x->node], gx, owned[x->node]);
      else accumulate(t, &acc[x->node], gx);
    }
    if (win) reclaim(t, i, acc, owned, target, slot, old, nslot);
  }
  ae__tape_sweep_leave(t);
  ae__tape_set_sweep(t, old_needed, old_top, &old_top);
  ae_set_grad_enabled(t, old_mode);
  return ae_tape_ok(t) ? 0 : -1;
}

int ae_grad(ae_tape *t, int nout, ae_val *const *outputs, ae_val *const *out_grads, int nin,
            ae_val *const *inputs, ae_val **grads, int create_graph) {
  for (int k = 0; k < nin; k++) grads[k] = NULL;
  if (!t || !ae_tape_ok(t)) return -1;
  if (!ae_op_begin(t, "grad", nout, outputs) || !ae_op_begin(t, "grad", nin, inputs)) return -1;
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
  for (int k = 0; k < nout; k++) {
    ae_val *gy = out_grads ? out_grads[k] : NULL;
    if (!gy && outputs[k]->t.numel != 1) {
      ae_raise(t, AE_ERR_ARG, "grad", "output %d has shape %s: give its output gradient (only one-element outputs default to 1)",
               k + 1, ae_sstr(outputs[k]->t.shape, s1));
      return -1;
    }
    if (gy && gy->t.numel != outputs[k]->t.numel) {
      ae_raise(t, AE_ERR_SHAPE, "grad", "output %d has shape %s but its output gradient has shape %s", k + 1,
               ae_sstr(outputs[k]->t.shape, s1), ae_sstr(gy->t.shape, s2));
      return -1;
    }
  }
  for (int k = 0; k < nin; k++)
    if (!inputs[k]->requires_grad) {
      ae_raise(t, AE_ERR_ARG, "grad", "input %d does not require grad (a constant or a no-grad result)", k + 1);
      return -1;
    }
  int top = -1;
  for (int k = 0; k < nout; k++)
    if (outputs[k]->node > top) top = outputs[k]->node;
  if (top >= 0) {
    ae_val **acc = ae_arena_alloc(t, "grad", sizeof *acc * (size_t)(top + 1));
    unsigned char *target = ae_arena_alloc(t, "grad", (size_t)top + 1);
    if (!acc || !target) return -1;
    memset(acc, 0, sizeof *acc * (size_t)(top + 1));
    memset(target, 0, (size_t)top + 1);
    for (int k = 0; k < nin; k++)
      if (inputs[k]->node <= top) target[inputs[k]->node] = 1;
    ae_val *shaped[16];
    ae_val *const *ogs = out_grads;
    if (out_grads && nout <= 16) { /* accept flat output gradients of the right size */
      for (int k = 0; k < nout; k++)
        shaped[k] = out_grads[k] && !ae_shape_eq(out_grads[k]->t.shape, outputs[k]->t.shape)
                        ? ae_reshape(t, out_grads[k], outputs[k]->t.shape)
                        : out_grads[k];
      ogs = shaped;
    }
    if (sweep(t, nout, outputs, ogs, target, acc, top, create_graph) < 0) return -1;
    for (int k = 0; k < nin; k++) grads[k] = inputs[k]->node <= top ? acc[inputs[k]->node] : NULL;
  }
  for (int k = 0; k < nin; k++)
    if (!grads[k]) grads[k] = ae_full(t, inputs[k]->t.shape, 0); /* not reached: zero gradient */
  return ae_tape_ok(t) ? 0 : -1;
}

ae_val *ae_grad1(ae_tape *t, ae_val *y, ae_val *gy, ae_val *x, int create_graph) {
  ae_val *g = NULL;
  ae_grad(t, 1, &y, gy ? &gy : NULL, 1, &x, &g, create_graph);
  return ae_tape_ok(t) ? g : NULL;
}

/* A parameter's gradient out of the tape: d = 0 + g (OUT_SET, as zeroing
 * then adding gave: -0 becomes +0), d += g with its values tested
 * (OUT_ADD_TEST: a listed parameter bound twice) or d += g (OUT_ADD: not
 * listed, accumulating as ae_backward does). OUT_SINK: the rule wrote the
 * gradient into d itself (a sink, below) and tested it there
 * (ae__grad_sink_test, while in the caches): nothing left to do. It
 * holds no -0 that 0 + g would make +0: the GEMM's sums start from +0, in
 * the built-in kernels and in OpenBLAS's (test_backward_set.c checks both). */
enum { OUT_SET, OUT_ADD_TEST, OUT_ADD, OUT_SINK };
typedef struct grad_out {
  ae_real *d;
  const ae_real *g;
  int64_t len;
  int kind;
} grad_out;

static int64_t grad_out_len(const void *outs, int j) { return ((const grad_out *)outs)[j].len; }

/* Elements [lo, hi) of outs[j]; returns whether a tested value was not
 * finite (x * 0 is 0 unless x is NaN or Inf; an OR vectorises). */
static int grad_out_range(const void *outs, int j, int64_t lo, int64_t hi) {
  const grad_out *o = (const grad_out *)outs + j;
  ae_real *restrict d = o->d;
  const ae_real *restrict g = o->g;
  int b = 0;
  if (o->kind == OUT_SET) {
#pragma omp simd reduction(| : b)
    for (int64_t e = lo; e < hi; e++) {
      d[e] = g[e] + (ae_real)0;
      b |= d[e] * (ae_real)0 != 0;
    }
  } else if (o->kind == OUT_ADD_TEST) {
#pragma omp simd reduction(| : b)
    for (int64_t e = lo; e < hi; e++) {
      d[e] += g[e];
      b |= d[e] * (ae_real)0 != 0;
    }
  } else {
#pragma omp simd
    for (int64_t e = lo; e < hi; e++) d[e] += g[e];
  }
  return b;
}

/* The sinks a set-backward offers (tape_internal.h): the gradient buffer
 * of each listed parameter bound once (one leaf up to top) whose leaf is
 * one node's input once, where the gradient the sweep finds for that
 * leaf is that rule's result as it is: a rule may write it there. NULL
 * when out of arena (no sinks: the copy as before). */
static ae_real **offer_sinks(ae_tape *t, ae_param *const *set, int nset, const unsigned char *target, int top) {
  ae_real **sinks = ae_arena_alloc(t, "backward", sizeof *sinks * (size_t)(top + 1));
  int *uses = ae_arena_alloc(t, "backward", sizeof *uses * (size_t)(top + 1));
  int *bound = ae_arena_alloc(t, "backward", sizeof *bound * (size_t)nset);
  if (!sinks || !uses || !bound) return NULL;
  memset(uses, 0, sizeof *uses * (size_t)(top + 1));
  memset(bound, 0, sizeof *bound * (size_t)nset);
  for (int i = 0; i <= top; i++) {
    ae_node *n = ae__tape_node(t, i);
    sinks[i] = NULL;
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] && n->in[j]->node >= 0 && n->in[j]->node <= top) uses[n->in[j]->node]++;
    if (!target[i]) continue;
    for (int k = 0; k < nset; k++)
      if (set[k] == n->out->param) bound[k]++;
  }
  for (int i = 0; i <= top; i++) {
    if (!target[i] || uses[i] != 1) continue;
    ae_node *n = ae__tape_node(t, i);
    for (int k = 0; k < nset; k++)
      if (set[k] == n->out->param && bound[k] == 1 && set[k]->grad.numel == n->out->t.numel)
        sinks[i] = set[k]->grad.data;
  }
  return sinks;
}

/* ae_backward, or with set (nset > 0) ae__backward_set: each listed
 * parameter's gradient is set, not added to; listed ones the loss does not
 * reach are zeroed; others accumulate as in ae_backward. *finite (when
 * finite is given): whether every value written to a listed gradient was
 * finite (x * 0 is 0 unless x is NaN or Inf; an OR vectorises). */
static int backward_impl(ae_tape *t, ae_val *loss, ae_param *const *set, int nset, int *finite) {
  if (!t || !ae_tape_ok(t)) return -1;
  if (!ae_op_begin(t, "backward", 1, &loss)) return -1;
  char s[AE_SHAPE_BUF];
  if (loss->t.numel != 1) {
    ae_raise(t, AE_ERR_SHAPE, "backward", "the loss must have one element, got shape %s", ae_sstr(loss->t.shape, s));
    return -1;
  }
  if (finite) *finite = 0;
  unsigned char *done = nset > 0 ? ae_arena_alloc(t, "backward", (size_t)nset) : NULL;
  if (nset > 0 && !done) return -1;
  if (done) memset(done, 0, (size_t)nset);
  int rc = 0, bad = 0;
  if (loss->requires_grad) { /* else nothing depends on a parameter */
    int top = loss->node;
    ae_val **acc = ae_arena_alloc(t, "backward", sizeof *acc * (size_t)(top + 1));
    unsigned char *target = ae_arena_alloc(t, "backward", (size_t)top + 1);
    if (!acc || !target) return -1;
    memset(acc, 0, sizeof *acc * (size_t)(top + 1));
    for (int i = 0; i <= top; i++) {
      ae_node *n = ae__tape_node(t, i);
      target[i] = n->op == AE_OP_LEAF && n->out->param;
    }
    ae_real **sinks = nset > 0 ? offer_sinks(t, set, nset, target, top) : NULL;
    ae__tape_set_sinks(t, sinks, top);
    rc = sweep(t, 1, &loss, NULL, target, acc, top, 0);
    if (sinks) bad |= ae__tape_sinks_bad(t); /* the sinks' values, tested as their rules wrote them */
    ae__tape_set_sinks(t, NULL, -1);
    /* the parameters' gradients out of the tape, in node order (a
     * parameter bound twice: set, then added to) */
    grad_out *outs = rc == 0 ? ae_arena_alloc(t, "backward", sizeof *outs * (size_t)(top + 1)) : NULL;
    if (rc == 0 && !outs) return -1;
    int nouts = 0;
    for (int i = 0; i <= top && rc == 0; i++) {
      ae_node *n = ae__tape_node(t, i);
      if (!target[i] || !acc[i]) continue;
      ae_param *p = n->out->param;
      int k = 0;
      while (k < nset && set[k] != p) k++;
      const int kind = k == nset    ? OUT_ADD
                       : done[k]     ? OUT_ADD_TEST
                       : acc[i]->t.data == p->grad.data ? OUT_SINK
                                                        : OUT_SET;
      if (k < nset) done[k] = 1;
      if (kind == OUT_SINK) continue; /* written and tested by its rule */
      outs[nouts++] = (grad_out){p->grad.data, acc[i]->t.data, p->grad.numel, kind};
    }
    /* One region for all of them, each thread its contiguous share of every
     * gradient: the share of each tensor that the same thread's optimiser
     * update reads next (ae__opt_for_shares, optim/optim.c, takes its shares
     * from the same helper), so the lines stay in that thread's caches. */
    if (rc == 0) bad |= ae__par_shares(nouts, grad_out_len, grad_out_range, outs);
  }
  for (int k = 0; k < nset; k++)
    if (!done[k]) memset(set[k]->grad.data, 0, sizeof(ae_real) * (size_t)set[k]->grad.numel);
  if (finite) *finite = rc == 0 && !bad;
  return rc;
}

int ae_backward(ae_tape *t, ae_val *loss) { return backward_impl(t, loss, NULL, 0, NULL); }

int ae__backward_set(ae_tape *t, ae_val *loss, ae_param *const *params, int nparams, int *finite) {
  return backward_impl(t, loss, params, nparams, finite);
}
