/* tape.c: the tape's arena, its node index, sticky errors, grad and
 * anomaly modes, and the leaf constructors.
 *
 * Data structure: one arena (bump allocator, rewound by reset), mapped
 * with mmap so its pages are committed only when first touched: a large
 * arena costs nothing until a step uses it
 * holds values, their data and the nodes; a heap array `nodes` indexes
 * the nodes by position and only grows (so a warm tape never mallocs). */
#include "tape.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "op_api.h"
#include "base/rng.h"
#include "tape_internal.h"

struct ae_tape {
  unsigned char *arena;
  size_t arena_size, arena_used;
  ae_node **nodes;
  int nnodes, nodes_cap;
  int64_t ops_run; /* ops executed since reset, recorded or not (anomaly positions) */
  int grad_enabled, anomaly;
  const unsigned char *sweep_needed; /* during a reverse sweep: nodes leading to its targets */
  int sweep_top;
  ae_status status;
  char error[512];
  const char *cur_op; /* the name the running op passed to ae_op_begin/ae_op_out/ae_arena_alloc */
};

ae_tape *ae_tape_new(size_t arena_bytes) {
  if (arena_bytes == 0) arena_bytes = AE_TAPE_DEFAULT_ARENA;
  ae_tape *t = calloc(1, sizeof *t);
  if (!t) {
    ae_set_last_error("tape: out of memory");
    return NULL;
  }
  void *a = mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t->arena = a == MAP_FAILED ? NULL : a;
  ae_note_heap_alloc();
  t->nodes_cap = 1024;
  t->nodes = malloc(sizeof *t->nodes * (size_t)t->nodes_cap);
  t->arena_size = arena_bytes;
  if (!t->arena || !t->nodes) {
    ae_set_last_error("tape: cannot allocate an arena of %zu bytes", arena_bytes);
    ae_tape_free(t);
    return NULL;
  }
  t->grad_enabled = 1;
  return t;
}

void ae_tape_free(ae_tape *t) {
  if (!t) return;
  if (t->arena) munmap(t->arena, t->arena_size);
  free(t->nodes);
  free(t);
}

void ae_tape_reset(ae_tape *t) {
  t->arena_used = 0;
  t->nnodes = 0;
  t->ops_run = 0;
  t->status = AE_OK;
  t->error[0] = 0;
}

ae_tape_mark ae_tape_get_mark(const ae_tape *t) {
  ae_tape_mark m = {t->arena_used, t->nnodes};
  return m;
}

void ae_tape_rewind(ae_tape *t, ae_tape_mark m) {
  if (m.arena_used <= t->arena_used) t->arena_used = m.arena_used;
  if (m.nnodes <= t->nnodes) t->nnodes = m.nnodes;
}

ae_status ae_tape_status(const ae_tape *t) { return t ? t->status : AE_ERR_ARG; }
int ae_tape_ok(const ae_tape *t) { return t && t->status == AE_OK; }
const char *ae_tape_error(const ae_tape *t) { return t ? t->error : "tape is NULL"; }
size_t ae_tape_arena_used(const ae_tape *t) { return t->arena_used; }
size_t ae_tape_arena_size(const ae_tape *t) { return t->arena_size; }
int ae_tape_node_count(const ae_tape *t) { return t->nnodes; }

int ae_set_grad_enabled(ae_tape *t, int on) {
  int old = t->grad_enabled;
  t->grad_enabled = on != 0;
  return old;
}
int ae_grad_enabled(const ae_tape *t) { return t->grad_enabled; }
void ae_set_anomaly(ae_tape *t, int on) { t->anomaly = on != 0; }

void ae_raise(ae_tape *t, ae_status code, const char *op, const char *fmt, ...) {
  if (!t || t->status != AE_OK) return; /* first error wins */
  t->status = code;
  int n = snprintf(t->error, sizeof t->error, "%s: ", op ? op : "aezoo");
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof t->error) vsnprintf(t->error + n, sizeof t->error - (size_t)n, fmt, ap);
  va_end(ap);
}

char *ae_sstr(ae_shape s, char buf[AE_SHAPE_BUF]) { return ae_shape_str(s, buf, AE_SHAPE_BUF); }

void *ae_arena_alloc(ae_tape *t, const char *op, size_t bytes) {
  if (t->status != AE_OK) return NULL;
  t->cur_op = op;
  size_t need = (bytes + AE_ALIGN - 1) / AE_ALIGN * AE_ALIGN;
  if (need > t->arena_size - t->arena_used) {
    ae_raise(t, AE_ERR_ARENA, op, "arena exhausted: needs %zu bytes, %zu of %zu used; create the tape with a larger arena",
             bytes, t->arena_used, t->arena_size);
    return NULL;
  }
  void *p = t->arena + t->arena_used;
  t->arena_used += need;
  return p;
}

ae_val *ae_op_out(ae_tape *t, const char *op, ae_shape s) {
  t->cur_op = op;
  if (!ae_shape_valid(s)) {
    ae_raise(t, AE_ERR_SHAPE, op, "%s", ae_last_error());
    return NULL;
  }
  ae_val *v = ae_arena_alloc(t, op, sizeof *v);
  if (!v) return NULL;
  int64_t n = ae_shape_numel(s);
  v->t.data = ae_arena_alloc(t, op, (size_t)n * sizeof(ae_real));
  if (!v->t.data) return NULL;
  v->t.shape = s;
  v->t.numel = n;
  v->node = -1;
  v->requires_grad = 0;
  v->param = NULL;
  return v;
}

int ae_op_begin(ae_tape *t, const char *op, int nin, ae_val *const *in) {
  if (!t || t->status != AE_OK) return 0;
  t->cur_op = op;
  for (int j = 0; j < nin; j++)
    if (!in[j]) {
      ae_raise(t, AE_ERR_ARG, op, "input %d is nil", j + 1);
      return 0;
    }
  return 1;
}

static int append_node(ae_tape *t, ae_node *n) {
  if (t->nnodes == t->nodes_cap) {
    int cap = t->nodes_cap * 2;
    ae_node **grown = realloc(t->nodes, sizeof *grown * (size_t)cap);
    if (!grown) {
      ae_raise(t, AE_ERR_NOMEM, n->name, "cannot grow the node index to %d nodes", cap);
      return -1;
    }
    t->nodes = grown; /* the index is the tape's only heap growth */
    t->nodes_cap = cap;
    ae_note_heap_alloc();
  }
  t->nodes[t->nnodes] = n;
  return t->nnodes++;
}

static int has_nonfinite(const ae_val *y) {
  int bad = 0;
  for (int64_t i = 0; i < y->t.numel; i++) bad |= !isfinite(y->t.data[i]);
  return bad;
}

ae_node *ae_op_record(ae_tape *t, int op, ae_val *y, int nin, ae_val *const *in) {
  if (t->status != AE_OK || !y) return NULL;
  int64_t position = t->ops_run++;
  const char *name = t->cur_op ? t->cur_op : "op";
  if (t->anomaly && op != AE_TAPE_LEAF && has_nonfinite(y)) {
    char s[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_ANOMALY, name, "produced NaN or Inf in its output %s (op #%lld on the tape)",
             ae_sstr(y->t.shape, s), (long long)position);
    return NULL;
  }
  int rec = 0;
  if (t->grad_enabled)
    for (int j = 0; j < nin; j++) rec |= in[j]->requires_grad;
  if (!rec) return NULL;
  ae_node *n = ae_arena_alloc(t, name, sizeof *n);
  if (!n) return NULL;
  memset(n, 0, sizeof *n);
  n->op = op;
  n->name = name;
  n->nin = nin;
  for (int j = 0; j < nin; j++) n->in[j] = in[j];
  n->out = y;
  int pos = append_node(t, n);
  if (pos < 0) return NULL;
  y->node = pos;
  y->requires_grad = 1;
  return n;
}

int ae_tape_param_leaves(ae_tape *t, ae_val **out, int max) {
  int n = 0;
  for (int i = 0; i < t->nnodes; i++)
    if (t->nodes[i]->op == AE_TAPE_LEAF && t->nodes[i]->out->param) {
      if (n < max) out[n] = t->nodes[i]->out;
      n++;
    }
  return n;
}

int ae_needs_grad(ae_tape *t, const ae_node *n, int j) {
  const ae_val *x = n->in[j];
  if (!x || !x->requires_grad) return 0;
  if (!t->sweep_needed || x->node < 0 || x->node > t->sweep_top) return 1;
  return t->sweep_needed[x->node];
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

/* ---- leaves ---- */

/* Appends a LEAF node for v, which then requires grad. */
static ae_val *record_leaf(ae_tape *t, const char *op, ae_val *v) {
  ae_node *n = ae_arena_alloc(t, op, sizeof *n);
  if (!n) return NULL;
  memset(n, 0, sizeof *n);
  n->op = AE_TAPE_LEAF;
  n->name = op;
  n->out = v;
  int pos = append_node(t, n);
  if (pos < 0) return NULL;
  v->node = pos;
  v->requires_grad = 1;
  return v;
}

static ae_val *leaf(ae_tape *t, const char *op, ae_shape s, const ae_real *data, int requires_grad) {
  if (!t || t->status != AE_OK) return NULL;
  ae_val *v = ae_op_out(t, op, s);
  if (!v) return NULL;
  if (data)
    memcpy(v->t.data, data, (size_t)v->t.numel * sizeof(ae_real));
  else
    memset(v->t.data, 0, (size_t)v->t.numel * sizeof(ae_real));
  return requires_grad ? record_leaf(t, op, v) : v;
}

ae_val *ae_const(ae_tape *t, ae_shape s, const ae_real *data) { return leaf(t, "const", s, data, 0); }
ae_val *ae_var(ae_tape *t, ae_shape s, const ae_real *data) { return leaf(t, "var", s, data, 1); }

ae_val *ae_const_tensor(ae_tape *t, const ae_tensor *x) {
  if (!x) {
    ae_raise(t, AE_ERR_ARG, "const", "tensor is NULL");
    return NULL;
  }
  return leaf(t, "const", x->shape, x->data, 0);
}

ae_val *ae_var_tensor(ae_tape *t, const ae_tensor *x) {
  if (!x) {
    ae_raise(t, AE_ERR_ARG, "var", "tensor is NULL");
    return NULL;
  }
  return leaf(t, "var", x->shape, x->data, 1);
}

ae_val *ae_full(ae_tape *t, ae_shape s, ae_real c) {
  ae_val *v = leaf(t, "full", s, NULL, 0);
  if (v)
    for (int64_t i = 0; i < v->t.numel; i++) v->t.data[i] = c;
  return v;
}

ae_val *ae_scalar(ae_tape *t, ae_real c) { return ae_full(t, ae_shape_make(0, NULL), c); }

ae_val *ae_randn(ae_tape *t, ae_shape s, ae_rng *r) {
  ae_val *v = leaf(t, "randn", s, NULL, 0);
  if (v) ae_rng_normal(r, v->t.data, v->t.numel, 0, 1);
  return v;
}

ae_val *ae_rand(ae_tape *t, ae_shape s, ae_rng *r) {
  ae_val *v = leaf(t, "rand", s, NULL, 0);
  if (v) ae_rng_uniform(r, v->t.data, v->t.numel, 0, 1);
  return v;
}

ae_val *ae_param_bind(ae_tape *t, ae_param *p) {
  if (!t || t->status != AE_OK) return NULL;
  if (!p) {
    ae_raise(t, AE_ERR_ARG, "param_bind", "parameter is NULL");
    return NULL;
  }
  ae_val *v = ae_arena_alloc(t, "param_bind", sizeof *v);
  if (!v) return NULL;
  v->t = p->value; /* shares the parameter's buffer */
  v->param = p;
  return record_leaf(t, "param_bind", v);
}

ae_val *ae_detach(ae_tape *t, ae_val *x) {
  if (!ae_op_begin(t, "detach", 1, &x)) return NULL;
  ae_val *v = ae_arena_alloc(t, "detach", sizeof *v);
  if (!v) return NULL;
  v->t = x->t; /* values are immutable: share the data */
  v->node = -1;
  v->requires_grad = 0;
  v->param = NULL;
  return v;
}

double ae_item(const ae_val *v) { return v && v->t.numel >= 1 ? (double)v->t.data[0] : NAN; }
