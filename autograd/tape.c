/* tape.c: the tape's arena, its node index, sticky errors, grad and
 * anomaly modes, the leaf constructors, and the reuse of memory inside a
 * reverse sweep (rule windows, the free list of gradient buffers).
 *
 * Data structure: one arena (bump allocator, rewound by reset), mapped
 * with mmap so its pages are committed only when first touched: a large
 * arena costs nothing until a step uses it
 * holds values, their data and the nodes; a heap array `nodes` indexes
 * the nodes by position and only grows (so a warm tape never mallocs).
 * Inside a sweep without create_graph, backward.c brackets each rule in a
 * window: what the rule allocated and does not keep is given back (the
 * kept values are moved down to the window's start), and gradient
 * buffers it has consumed go on a free list, kept inside the free blocks
 * themselves, by exact size, from which later values take their data.
 * A value's owner may also put its buffer there when no rule reads it
 * (ae__tape_release). */
#include "tape.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "op_api.h"
#include "base/rng.h"
#include "tape_internal.h"
#include "tape_struct.h"

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
  t->reuse = 1;
  return t;
}

void ae_tape_free(ae_tape *t) {
  if (!t) return;
  if (t->arena) munmap(t->arena, t->arena_size);
  ae__tape_transposed_free(t);
  free(t->nodes);
  free(t);
}

static void free_clear(ae_tape *t) {
  memset(t->free_list, 0, sizeof t->free_list);
  t->free_hi = NULL;
}

void ae_tape_reset(ae_tape *t) {
  t->arena_used = 0;
  t->arena_peak = 0;
  t->nnodes = 0;
  t->ops_run = 0;
  t->status = AE_OK;
  t->error[0] = 0;
  t->sinks = NULL;
  t->acc_offer = NULL;
  free_clear(t);
}

ae_tape_mark ae_tape_get_mark(const ae_tape *t) {
  ae_tape_mark m = {t->arena_used, t->nnodes};
  return m;
}

/* Drops the free blocks that end above the arena offset `top`. */
static void free_drop_above(ae_tape *t, size_t top) {
  unsigned char *limit = t->arena + top, *hi = NULL;
  if (!t->free_hi || t->free_hi <= limit) return;
  for (int b = 0; b < FREE_BUCKETS; b++)
    for (free_block **p = &t->free_list[b]; *p;) {
      unsigned char *end = (unsigned char *)*p + (*p)->size;
      if (end > limit) {
        *p = (*p)->next;
        continue;
      }
      if (end > hi) hi = end;
      p = &(*p)->next;
    }
  t->free_hi = hi;
}

void ae_tape_rewind(ae_tape *t, ae_tape_mark m) {
  if (m.arena_used <= t->arena_used) {
    t->arena_used = m.arena_used;
    free_drop_above(t, m.arena_used); /* free blocks below the mark stay free */
  }
  if (m.nnodes <= t->nnodes) t->nnodes = m.nnodes;
}

ae_status ae_tape_status(const ae_tape *t) { return t ? t->status : AE_ERR_ARG; }
int ae_tape_ok(const ae_tape *t) { return t && t->status == AE_OK; }
const char *ae_tape_error(const ae_tape *t) { return t ? t->error : "tape is NULL"; }
size_t ae_tape_arena_used(const ae_tape *t) { return t->arena_used; }
size_t ae_tape_arena_size(const ae_tape *t) { return t->arena_size; }
size_t ae_tape_arena_peak(const ae_tape *t) { return t->arena_peak; }
int ae_tape_set_reuse(ae_tape *t, int on) {
  int old = t->reuse;
  t->reuse = on != 0;
  return old;
}
int ae_tape_node_count(const ae_tape *t) { return t->nnodes; }

int ae_set_grad_enabled(ae_tape *t, int on) {
  int old = t->grad_enabled;
  t->grad_enabled = on != 0;
  return old;
}
int ae_grad_enabled(const ae_tape *t) { return t->grad_enabled; }
void ae_set_anomaly(ae_tape *t, int on) { t->anomaly = on != 0; }
int ae_anomaly_enabled(const ae_tape *t) { return t && t->anomaly; }

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
  if (t->arena_used > t->arena_peak) t->arena_peak = t->arena_used;
  return p;
}

/* ---- the free list of gradient buffers ---- */

static size_t aligned(size_t bytes) { return (bytes + AE_ALIGN - 1) / AE_ALIGN * AE_ALIGN; }
static int bucket_of(size_t size) { return (int)(size / AE_ALIGN % FREE_BUCKETS); }

static void free_put(ae_tape *t, free_block *b, size_t size) {
  int k = bucket_of(size);
  b->size = size;
  b->next = t->free_list[k];
  t->free_list[k] = b;
  unsigned char *end = (unsigned char *)b + size;
  if (end > t->free_hi) t->free_hi = end;
}

/* A free block of exactly aligned(bytes) bytes, or NULL. Inside a window
 * it is logged, and the window gives it back at its end unless a kept
 * value uses it; outside one it belongs to the new value for good. */
static void *free_take(ae_tape *t, size_t bytes) {
  size_t size = aligned(bytes);
  if (size == 0 || (t->in_window && t->ntaken == TAKEN_MAX)) return NULL;
  for (free_block **p = &t->free_list[bucket_of(size)]; *p; p = &(*p)->next)
    if ((*p)->size == size) {
      free_block *b = *p;
      *p = b->next;
      if (t->in_window) {
        t->taken[t->ntaken] = b;
        t->taken_size[t->ntaken++] = size;
      }
      return b;
    }
  return NULL;
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
  v->t.data = t->free_hi ? free_take(t, (size_t)n * sizeof(ae_real)) : NULL;
  if (!v->t.data) v->t.data = ae_arena_alloc(t, op, (size_t)n * sizeof(ae_real));
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

/* ---- rule windows: what a rule of a sweep without create_graph keeps ---- */

int ae__tape_window_begin(ae_tape *t) {
  if (!t->reuse || t->in_window || t->status != AE_OK) return 0;
  t->in_window = 1;
  t->ntaken = 0;
  t->window_start = t->arena_used;
  t->window_nodes = t->nnodes;
  return 1;
}

/* A kept range of the window's region, and where it moves. */
typedef struct span {
  unsigned char *lo, *hi, *to;
} span;

static unsigned char *relocate(const span *sp, int ns, unsigned char *p) {
  for (int k = 0; k < ns; k++)
    if (p >= sp[k].lo && p < sp[k].hi) return p - sp[k].lo + sp[k].to;
  return p;
}

static int overlaps(const unsigned char *a, size_t an, const unsigned char *b, size_t bn) {
  return an && bn && a < b + bn && b < a + an;
}

int ae__tape_window_end(ae_tape *t, ae_val **keep, int nkeep, unsigned char *fresh) {
  for (int k = 0; k < nkeep; k++) fresh[k] = 0;
  int ntaken = t->ntaken;
  t->in_window = 0;
  t->ntaken = 0;
  /* After an error, or a rule that recorded nodes (which may point into
   * the window), keep everything; blocks it took stay out of the list. */
  if (t->status != AE_OK || t->nnodes != t->window_nodes) return 0;
  unsigned char *lo = t->arena + t->window_start, *top = t->arena + t->arena_used;
  span sp[2 * AE_TAPE_WINDOW_KEEP];
  int ns = 0;
  if (nkeep > AE_TAPE_WINDOW_KEEP) return 0;
  for (int k = 0; k < nkeep; k++) {
    unsigned char *v = (unsigned char *)keep[k], *d = (unsigned char *)keep[k]->t.data;
    size_t dn = (size_t)keep[k]->t.numel * sizeof(ae_real);
    if (v >= lo && v < top) sp[ns++] = (span){v, v + sizeof(ae_val), NULL};
    if (dn && d >= lo && d < top) sp[ns++] = (span){d, d + dn, NULL};
  }
  /* sort by address (a handful), merge overlaps, pack down from lo */
  for (int a = 1; a < ns; a++)
    for (int b = a; b > 0 && sp[b].lo < sp[b - 1].lo; b--) {
      span x = sp[b];
      sp[b] = sp[b - 1], sp[b - 1] = x;
    }
  int nm = 0;
  for (int a = 0; a < ns; a++)
    if (nm && sp[a].lo < sp[nm - 1].hi) {
      if (sp[a].hi > sp[nm - 1].hi) sp[nm - 1].hi = sp[a].hi;
    } else
      sp[nm++] = sp[a];
  unsigned char *cur = lo;
  for (int a = 0; a < nm; a++) {
    size_t misalign = (size_t)(sp[a].lo - t->arena) % AE_ALIGN; /* keep each range's alignment */
    sp[a].to = cur + misalign;
    cur = t->arena + aligned((size_t)(sp[a].to + (sp[a].hi - sp[a].lo) - t->arena));
  }
  ae_val *moved[AE_TAPE_WINDOW_KEEP];
  ae_real *data[AE_TAPE_WINDOW_KEEP];
  for (int k = 0; k < nkeep; k++) {
    moved[k] = (ae_val *)relocate(sp, nm, (unsigned char *)keep[k]);
    data[k] = (ae_real *)relocate(sp, nm, (unsigned char *)keep[k]->t.data);
  }
  for (int a = 0; a < nm; a++)
    if (sp[a].to != sp[a].lo) memmove(sp[a].to, sp[a].lo, (size_t)(sp[a].hi - sp[a].lo));
  for (int k = 0; k < nkeep; k++) {
    if (moved[k]->t.data != data[k]) moved[k]->t.data = data[k];
    keep[k] = moved[k];
  }
  t->arena_used = (size_t)(cur - t->arena);
  /* Fresh: the data was allocated by this window (its region, or a free
   * block it took, whole). Taken blocks no kept value uses go back. */
  for (int k = 0; k < nkeep; k++) {
    unsigned char *d = (unsigned char *)keep[k]->t.data;
    size_t dn = (size_t)keep[k]->t.numel * sizeof(ae_real);
    fresh[k] = dn && d >= lo && d < t->arena + t->arena_used && (size_t)(d - t->arena) % AE_ALIGN == 0;
    for (int j = 0; j < nkeep && fresh[k]; j++)
      if (overlaps(d, aligned(dn), (unsigned char *)keep[j], sizeof(ae_val))) fresh[k] = 0;
  }
  for (int b = 0; b < ntaken; b++) {
    unsigned char *p = (unsigned char *)t->taken[b];
    size_t size = t->taken_size[b];
    int used = 0, holds_val = 0;
    for (int k = 0; k < nkeep; k++) {
      unsigned char *d = (unsigned char *)keep[k]->t.data;
      used |= overlaps(p, size, d, (size_t)keep[k]->t.numel * sizeof(ae_real));
      holds_val |= overlaps(p, size, (unsigned char *)keep[k], sizeof(ae_val));
    }
    for (int k = 0; k < nkeep; k++)
      if (!holds_val && keep[k]->t.data == (ae_real *)p && aligned((size_t)keep[k]->t.numel * sizeof(ae_real)) == size)
        fresh[k] = 1;
    used |= holds_val;
    if (!used) free_put(t, t->taken[b], size);
  }
  return 1;
}

void ae__tape_recycle(ae_tape *t, ae_val *v) {
  size_t size = aligned((size_t)v->t.numel * sizeof(ae_real));
  if (size) free_put(t, (free_block *)v->t.data, size);
}

void ae__tape_release(ae_tape *t, ae_val *v) {
  unsigned char *d = (unsigned char *)v->t.data;
  size_t size = aligned((size_t)v->t.numel * sizeof(ae_real));
  if (!t->reuse || t->in_window || t->status != AE_OK || !size || d < t->arena ||
      d + size > t->arena + t->arena_used || (size_t)(d - t->arena) % AE_ALIGN)
    return;
  free_put(t, (free_block *)d, size);
}

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

/* An unrecorded constant whose data is x's buffer, shared, not copied. */
static ae_val *shared_const(ae_tape *t, const char *op, const ae_tensor *x) {
  ae_val *v = ae_arena_alloc(t, op, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->t = *x;
  v->node = -1;
  return v;
}

ae_val *ae__const_borrow(ae_tape *t, const ae_tensor *x) {
  if (!t || t->status != AE_OK) return NULL;
  if (!x) {
    ae_raise(t, AE_ERR_ARG, "const", "tensor is NULL");
    return NULL;
  }
  return shared_const(t, "const", x); /* the caller's buffer */
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
  return shared_const(t, "detach", &x->t); /* values are immutable: share the data */
}

double ae_item(const ae_val *v) { return v && v->t.numel >= 1 ? (double)v->t.data[0] : NAN; }
