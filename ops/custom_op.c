/* custom_op.c: the run-time op registry (custom_op.h) and ae_op_call,
 * which records a registered op the way built-in ops record themselves.
 *
 * Data structure: a fixed table of definitions (the name copied in),
 * appended under a lock and published by an atomic count; entries below
 * the count never change, so lookups read them without the lock.
 * ops/registry.c asks here for the names and backward rules of ids at or
 * past AE_OP_COUNT. A recorded node of a registered op keeps its arena
 * copy of the attribute blob in i[0] (address) and i[1] (size). */
#include "custom_op.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "ops.h"

typedef struct custom_op {
  ae_op_def def;
  char name[AE_OP_NAME_MAX];
} custom_op;

static custom_op table[AE_CUSTOM_OP_MAX];
static atomic_int count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const custom_op *lookup(int op) {
  int n = atomic_load_explicit(&count, memory_order_acquire);
  return op >= AE_OP_COUNT && op - AE_OP_COUNT < n ? &table[op - AE_OP_COUNT] : NULL;
}

/* For ops/registry.c: names, lookup by name, rules of registered ops. */
const char *ae__custom_op_name(int op) {
  const custom_op *c = lookup(op);
  return c ? c->name : "?";
}

int ae__custom_op_find(const char *name) {
  int n = atomic_load_explicit(&count, memory_order_acquire);
  for (int i = 0; i < n; i++)
    if (strcmp(table[i].name, name) == 0) return AE_OP_COUNT + i;
  return -1;
}

/* 1 when shape x broadcasts to shape g (numpy's rules, from the last dimension). */
static int broadcasts_to(ae_shape x, ae_shape g) {
  if (x.ndim > g.ndim) return 0;
  for (int k = 1; k <= x.ndim; k++)
    if (x.d[x.ndim - k] != 1 && x.d[x.ndim - k] != g.d[g.ndim - k]) return 0;
  return 1;
}

/* Runs the op's rule, then checks each gradient fits its input (equal
 * element count, or a shape the input broadcasts to), so that a rule's
 * mistake is named here rather than later in the sweep. */
static void custom_backward(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  const custom_op *c = lookup(n->op);
  if (!c) return;
  c->def.backward(t, n, g, gin);
  for (int j = 0; j < n->nin && ae_tape_ok(t); j++) {
    const ae_val *x = n->in[j];
    if (!gin[j] || gin[j]->t.numel == x->t.numel || broadcasts_to(x->t.shape, gin[j]->t.shape)) continue;
    char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF];
    ae_raise(t, AE_ERR_SHAPE, c->name, "the backward rule returned a gradient of shape %s for input %d of shape %s",
             ae_sstr(gin[j]->t.shape, s1), j + 1, ae_sstr(x->t.shape, s2));
    gin[j] = NULL;
  }
}

ae_backward_fn ae__custom_op_backward(int op) {
  (void)op; /* one entry point: custom_backward finds the rule by the node's op */
  return custom_backward;
}

const void *ae_op_attrs(const ae_node *n) {
  return n && n->op >= AE_OP_COUNT && n->i[1] > 0 ? (const void *)(intptr_t)n->i[0] : NULL;
}

/* ---- registration ---- */

static int name_ok(const char *name) {
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.' || *p == '-'))
      return 0;
  return 1;
}

/* Checks a definition on its own (not against the table); 0 with the reason set. */
static int def_ok(const ae_op_def *d) {
  if (!d) {
    ae_set_last_error("op_register: the definition is NULL");
    return 0;
  }
  if (!d->name || !d->name[0]) {
    ae_set_last_error("op_register: the op has no name");
    return 0;
  }
  size_t len = strlen(d->name);
  if (len >= AE_OP_NAME_MAX) {
    ae_set_last_error("op_register: name \"%.*s...\" has %zu characters, at most %d", 16, d->name, len,
                      AE_OP_NAME_MAX - 1);
    return 0;
  }
  if (!name_ok(d->name)) {
    ae_set_last_error("op_register: name \"%s\": only letters, digits, '_', '.' and '-' are allowed", d->name);
    return 0;
  }
  const char *n = d->name;
  if (d->nin < 1 || d->nin > AE_MAX_IN) {
    ae_set_last_error("op_register: %s: nin = %d, must be 1..%d", n, d->nin, AE_MAX_IN);
    return 0;
  }
  if (!d->forward) {
    ae_set_last_error("op_register: %s: forward is NULL (every op needs a forward kernel)", n);
    return 0;
  }
  if (!d->backward) {
    ae_set_last_error("op_register: %s: backward is NULL (give a rule; one that sets no gin makes the op a constant)",
                      n);
    return 0;
  }
  return 1;
}

int ae_op_register(const ae_op_def *def) {
  if (!def_ok(def)) return -1;
  int id = -1;
  pthread_mutex_lock(&lock);
  int n = atomic_load_explicit(&count, memory_order_relaxed), taken = ae_op_find(def->name);
  if (taken >= 0)
    ae_set_last_error("op_register: %s: an op of that name already exists (%s op %d)", def->name,
                      taken < AE_OP_COUNT ? "built-in" : "registered", taken);
  else if (n == AE_CUSTOM_OP_MAX)
    ae_set_last_error("op_register: %s: the table of registered ops is full (%d ops)", def->name, AE_CUSTOM_OP_MAX);
  else {
    table[n].def = *def;
    memcpy(table[n].name, def->name, strlen(def->name) + 1);
    table[n].def.name = table[n].name;
    atomic_store_explicit(&count, n + 1, memory_order_release);
    id = AE_OP_COUNT + n;
  }
  pthread_mutex_unlock(&lock);
  return id;
}

/* ---- recording ---- */

/* "(2,3), (3,)": the input shapes, for messages. */
static const char *shapes_str(ae_val *const *in, int nin, char *buf, size_t len) {
  size_t u = 0;
  buf[0] = 0;
  for (int j = 0; j < nin && u < len; j++) {
    char s[AE_SHAPE_BUF];
    int w = snprintf(buf + u, len - u, "%s%s", j ? ", " : "", ae_sstr(in[j]->t.shape, s));
    if (w < 0) break;
    u += (size_t)w;
  }
  return buf;
}

ae_val *ae_op_call(ae_tape *t, int op, ae_val *const *in, int nin, const void *attrs, size_t attrs_size) {
  if (!ae_tape_ok(t)) return NULL;
  const custom_op *c = lookup(op);
  if (!c) {
    if (op >= 0 && op < AE_OP_COUNT)
      ae_raise(t, AE_ERR_ARG, "op_call", "op %d (%s) is built in: call its own function (ae_%s)", op, ae_op_name(op),
               ae_op_name(op));
    else
      ae_raise(t, AE_ERR_ARG, "op_call", "no op has id %d (registered ops have ids from %d, as ae_op_register returns)",
               op, (int)AE_OP_COUNT);
    return NULL;
  }
  const char *name = c->name;
  if (nin != c->def.nin || !in) {
    ae_raise(t, AE_ERR_ARG, name, "takes %d input%s, got %d%s", c->def.nin, c->def.nin == 1 ? "" : "s", nin,
             in ? "" : " (the input array is NULL)");
    return NULL;
  }
  if (attrs_size != c->def.attrs_size || (attrs_size && !attrs)) {
    ae_raise(t, AE_ERR_ARG, name, "takes attributes of %zu bytes, got %zu%s", c->def.attrs_size, attrs_size,
             attrs_size && !attrs ? " at NULL" : "");
    return NULL;
  }
  if (!ae_op_begin(t, name, nin, in)) return NULL;
  ae_op_args a = {.op = op, .name = name, .nin = nin, .attrs = attrs_size ? attrs : NULL, .attrs_size = attrs_size};
  for (int j = 0; j < nin; j++) a.in[j] = &in[j]->t;
  char why[256] = "";
  ae_shape s = in[0]->t.shape;
  if (c->def.shape && c->def.shape(&a, &s, why, sizeof why) != 0) {
    char shapes[256];
    if (why[0])
      ae_raise(t, AE_ERR_SHAPE, name, "%s", why);
    else
      ae_raise(t, AE_ERR_SHAPE, name, "the shape callback rejects inputs of shapes %s (it gave no reason)",
               shapes_str(in, nin, shapes, sizeof shapes));
    return NULL;
  }
  ae_val *y = ae_op_out(t, name, s);
  if (!y) return NULL;
  memset(y->t.data, 0, sizeof *y->t.data * (size_t)y->t.numel);
  if (c->def.forward(&a, &y->t, why, sizeof why) != 0) {
    ae_raise(t, AE_ERR_ARG, name, "%s", why[0] ? why : "the forward kernel failed (it gave no reason)");
    return NULL;
  }
  ae_node *n = ae_op_record(t, op, y, nin, in);
  if (n && attrs_size) {
    void *copy = ae_arena_alloc(t, name, attrs_size);
    if (!copy) return NULL;
    memcpy(copy, attrs, attrs_size);
    n->i[0] = (int64_t)(intptr_t)copy;
    n->i[1] = (int64_t)attrs_size;
  }
  return y;
}
