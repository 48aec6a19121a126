/* tape_sweep.c: what a running reverse sweep (grad/backward.c) lends the
 * backward rules it calls (contracts in tape_internal.h): its needed-set
 * (ae_needs_grad), the parameters' gradient buffers as sinks and the test
 * of what the rules write there, and the accumulators a rule may add its
 * gradient into; and ae__op_out_at, a value on such a buffer. */
#include <string.h>

#include "base/base_internal.h"
#include "tape_struct.h"

int ae_needs_grad(ae_tape *t, const ae_node *n, int j) {
  const ae_val *x = n->in[j];
  if (!x || !x->requires_grad) return 0;
  if (!t->sweep_needed || x->node < 0 || x->node > t->sweep_top) return 1;
  return t->sweep_needed[x->node];
}

void ae__tape_set_sinks(ae_tape *t, ae_real **sinks, int top) {
  t->sinks = sinks;
  t->sinks_top = top;
  if (sinks) t->sinks_bad = 0;
}

ae_real *ae__grad_sink(ae_tape *t, const ae_node *n, int j, ae_shape s) {
  const ae_val *x = n->in[j];
  if (!t->sinks || t->grad_enabled || !x || x->node < 0 || x->node > t->sinks_top) return NULL;
  ae_real *d = t->sinks[x->node];
  if (!d || !ae_shape_eq(s, x->t.shape)) return NULL;
  t->sinks[x->node] = NULL; /* one writer */
  return d;
}

typedef struct sink_span {
  const ae_real *d;
  int64_t n;
} sink_span;

static int64_t sink_len(const void *ctx, int i) {
  (void)i;
  return ((const sink_span *)ctx)->n;
}

/* x * 0 is 0 unless x is NaN or Inf; an OR vectorises. */
static int sink_range(const void *ctx, int i, int64_t lo, int64_t hi) {
  (void)i;
  const ae_real *restrict d = ((const sink_span *)ctx)->d;
  int b = 0;
#pragma omp simd reduction(| : b)
  for (int64_t e = lo; e < hi; e++) b |= d[e] * (ae_real)0 != 0;
  return b;
}

int ae__grad_sink_test(const ae_real *d, int64_t n) {
  sink_span s = {d, n};
  return ae__par_shares(1, sink_len, sink_range, &s);
}

void ae__grad_sink_note(ae_tape *t, int bad) { t->sinks_bad |= bad; }

int ae__tape_sinks_bad(const ae_tape *t) { return t->sinks_bad; }

ae__acc_offer *ae__tape_set_acc_offer(ae_tape *t, ae__acc_offer *offer) {
  ae__acc_offer *old = t->acc_offer;
  t->acc_offer = offer;
  return old;
}

ae_real *ae__grad_acc_into(ae_tape *t, const ae_node *n, int j, ae_shape s) {
  const ae_val *x = j >= 0 && j < n->nin ? n->in[j] : NULL;
  if (!t->acc_offer || t->grad_enabled || !x || !ae_shape_eq(s, x->t.shape)) return NULL;
  return t->acc_offer->into[j];
}

void ae__tape_acc_taken(ae_tape *t, int j) {
  if (t->acc_offer && j >= 0 && j < AE_MAX_IN) t->acc_offer->taken[j] = 1;
}

ae_val *ae__op_out_at(ae_tape *t, const char *op, ae_shape s, ae_real *data) {
  t->cur_op = op;
  ae_val *v = ae_arena_alloc(t, op, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->t.data = data;
  v->t.shape = s;
  v->t.numel = ae_shape_numel(s);
  v->node = -1;
  return v;
}

/* Sets the needed-set of the running sweep (NULL: none); returns the old one (tape_internal.h). */
const unsigned char *ae__tape_set_sweep(ae_tape *t, const unsigned char *needed, int top, int *old_top) {
  const unsigned char *old = t->sweep_needed;
  *old_top = t->sweep_top;
  t->sweep_needed = needed;
  t->sweep_top = top;
  return old;
}

/* Internal accessor for backward.c and tests (tape_internal.h). */
ae_node *ae__tape_node(ae_tape *t, int i) { return t->nodes[i]; }
