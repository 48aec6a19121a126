/* op_api.h: what an op's source file needs to add an op to the engine.
 *
 * An op is a public function that (1) checks its inputs with ae_op_begin,
 * (2) allocates its output with ae_op_out, (3) computes the forward value,
 * and (4) calls ae_op_record, which appends a node when grad mode is on and
 * an input requires grad. Its backward rule, in the same file, has the
 * signature ae_backward_fn and computes input gradients WITH THE SAME
 * DIFFERENTIABLE OPS users call; the engine runs it with grad mode set to
 * create_graph, so second derivatives come for free. Rules return
 * gradients of the broadcast output shape; the engine sums them back to
 * each input's shape. The op list (ops/oplist.h) names every op once. */
#ifndef AE_OP_API_H
#define AE_OP_API_H

#include "base/api.h"
#include "tape.h"

#define AE_MAX_IN 4

typedef struct ae_node {
  int op;                  /* ae_op_id */
  int nin;
  ae_val *in[AE_MAX_IN];
  ae_val *out;
  ae_val *saved[2];        /* extra values backward needs (masks, indices) */
  double f[4];             /* float attributes (scale, slope, bounds, ...) */
  int64_t i[8];            /* integer attributes (axes, flags, sizes) */
  const char *name;        /* the op's name, as its recording passed it (errors, anomaly reports) */
} ae_node;

/* The op id of leaves (variables, bound parameters); ops/oplist.h's
 * AE_OP_LEAF is this value. The tape knows no other op id. */
#define AE_TAPE_LEAF 0

/* Computes input gradients gin[j] from the output gradient g. Leave
 * gin[j] NULL for inputs that get no gradient; check ae_needs_grad(t, n, j)
 * to skip work. */
typedef void (*ae_backward_fn)(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin);

/* 0 when the op must do nothing (a sticky error, or a nil input, which
 * raises AE_ERR_ARG naming the op and the argument). */
AE_API int ae_op_begin(ae_tape *t, const char *op, int nin, ae_val *const *in);
/* A fresh, uninitialised, unrecorded value of shape s in the arena. */
AE_API ae_val *ae_op_out(ae_tape *t, const char *op, ae_shape s);
/* Raw arena memory (aligned); NULL with AE_ERR_ARENA raised when full. */
AE_API void *ae_arena_alloc(ae_tape *t, const char *op, size_t bytes);
/* Record y = op(in...). Returns the node (to set attributes) or NULL when
 * nothing was recorded; checks y for NaN/Inf in anomaly mode. */
AE_API ae_node *ae_op_record(ae_tape *t, int op, ae_val *y, int nin, ae_val *const *in);
/* 1 when input j's gradient is wanted: it requires grad and, inside a
 * reverse sweep, it leads to one of the values being differentiated
 * (PyTorch's needs_input_grad). Rules skip the others' work. */
AE_API int ae_needs_grad(ae_tape *t, const ae_node *n, int j);

/* Broadcasting (numpy rules, aligned from the last dimension). Returns 0
 * and raises AE_ERR_SHAPE naming op and both shapes when they don't fit. */
AE_API int ae_broadcast_shape(ae_tape *t, const char *op, ae_shape a, ae_shape b, ae_shape *out);

/* Shape string helpers for messages: returns buf. */
#define AE_SHAPE_BUF 64
AE_API char *ae_sstr(ae_shape s, char buf[AE_SHAPE_BUF]);

#endif
