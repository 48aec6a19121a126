/* tape.h: the tape (a Wengert list) and the values recorded on it.
 *
 * A tape owns one arena: every value computed during a step lives there,
 * and ae_tape_reset rewinds it, so a warm training step makes no heap
 * allocation. Forward is eager: an op computes its value when called and,
 * when grad mode is on and an input requires grad, appends a node.
 * Parameters live outside tapes (tensor.h) and are bound as leaves.
 *
 * Errors are sticky (cairo's pattern): the first user mistake (shape
 * mismatch, bad argument, arena full, NaN in anomaly mode) sets the tape's
 * status and message; every later op returns NULL and does nothing, so a
 * caller builds a whole loss and checks ae_tape_ok() once. */
#ifndef AE_TAPE_H
#define AE_TAPE_H

#include "base/api.h"
#include "base/tensor.h"

typedef struct ae_tape ae_tape;

/* A value on a tape. Values are immutable once an op returns them. */
typedef struct ae_val {
  ae_tensor t;           /* shape, numel, data (arena, or a bound parameter's buffer) */
  int32_t node;          /* position on the tape; -1 for constants and no-grad results */
  uint8_t requires_grad; /* 1 when gradients flow to this value */
  ae_param *param;       /* the bound parameter, for parameter leaves */
} ae_val;

typedef enum ae_status {
  AE_OK = 0,
  AE_ERR_SHAPE,   /* shapes do not fit the op */
  AE_ERR_ARG,     /* a bad argument: nil value, axis out of range, ... */
  AE_ERR_ARENA,   /* the arena is full */
  AE_ERR_ANOMALY, /* anomaly mode found a NaN or Inf */
  AE_ERR_NOMEM,   /* the heap refused */
} ae_status;

/* Default arena size when ae_tape_new is given 0. */
#define AE_TAPE_DEFAULT_ARENA ((size_t)64 << 20)

AE_API ae_tape *ae_tape_new(size_t arena_bytes);
AE_API void ae_tape_free(ae_tape *t);
/* Forget every value and node, clear the error; keeps the arena. */
AE_API void ae_tape_reset(ae_tape *t);

AE_API ae_status ae_tape_status(const ae_tape *t);
AE_API int ae_tape_ok(const ae_tape *t);
AE_API const char *ae_tape_error(const ae_tape *t); /* "" when ok */
/* Raise a user error on the tape (the one function every error goes
 * through: break on it in a debugger). Only the first error is kept. */
AE_API void ae_raise(ae_tape *t, ae_status code, const char *op, const char *fmt, ...)
           __attribute__((format(printf, 4, 5)));

/* Mark and rewind: forget everything recorded after the mark (values,
 * nodes) while keeping what came before, e.g. to take many gradients of
 * one forward pass, or to run an inner optimisation in a bounded arena. */
typedef struct ae_tape_mark {
  size_t arena_used;
  int nnodes;
} ae_tape_mark;
AE_API ae_tape_mark ae_tape_get_mark(const ae_tape *t);
AE_API void ae_tape_rewind(ae_tape *t, ae_tape_mark m);

AE_API size_t ae_tape_arena_used(const ae_tape *t);
AE_API size_t ae_tape_arena_size(const ae_tape *t);
AE_API int ae_tape_node_count(const ae_tape *t);
/* The arena's high-water mark: the largest ae_tape_arena_used since the
 * tape was created or last reset (its pages stay committed). */
AE_API size_t ae_tape_arena_peak(const ae_tape *t);
/* Memory reuse in reverse sweeps without create_graph (on by default):
 * each rule's scratch is given back as soon as the rule has run, and a
 * gradient buffer the sweep has consumed is reused for a later gradient
 * of the same size. Results are bitwise the same either way; off, every
 * value of a sweep stays until reset or rewind. Returns the old setting. */
AE_API int ae_tape_set_reuse(ae_tape *t, int on);

/* Grad mode: when off, ops record nothing (inference, optimiser-side
 * computations, backward without create_graph). Returns the old mode. */
AE_API int ae_set_grad_enabled(ae_tape *t, int on);
AE_API int ae_grad_enabled(const ae_tape *t);
/* Anomaly mode: every op checks its output for NaN/Inf and raises
 * AE_ERR_ANOMALY naming the op and its position on the tape.
 * ae_anomaly_enabled: whether it is on (0 for a nil tape); a fused op whose
 * fusion would hide a NaN (relu(NaN) = 0) records its composite then. */
AE_API void ae_set_anomaly(ae_tape *t, int on);
AE_API int ae_anomaly_enabled(const ae_tape *t);

/* Leaves. Data is copied into the arena. */
AE_API ae_val *ae_const(ae_tape *t, ae_shape s, const ae_real *data);   /* no grad */
AE_API ae_val *ae_var(ae_tape *t, ae_shape s, const ae_real *data);     /* requires grad */
AE_API ae_val *ae_const_tensor(ae_tape *t, const ae_tensor *x);
AE_API ae_val *ae_var_tensor(ae_tape *t, const ae_tensor *x);
AE_API ae_val *ae_full(ae_tape *t, ae_shape s, ae_real v);              /* constant */
AE_API ae_val *ae_scalar(ae_tape *t, ae_real v);                        /* constant, shape () */
/* Draws from a counter-based generator into a constant. */
struct ae_rng;
AE_API ae_val *ae_randn(ae_tape *t, ae_shape s, struct ae_rng *r);
AE_API ae_val *ae_rand(ae_tape *t, ae_shape s, struct ae_rng *r);
/* A parameter as a leaf that shares its buffer; backward accumulates into p->grad. */
AE_API ae_val *ae_param_bind(ae_tape *t, ae_param *p);
/* Same data, no gradient flows through (stop-gradient). */
AE_API ae_val *ae_detach(ae_tape *t, ae_val *x);

/* Reverse mode.
 * ae_backward: loss must have one element; d loss / d p is added to
 * p->grad for every parameter bound on this tape. Returns 0, or -1 with
 * the tape's error set.
 * ae_grad: gradients of sum_i <outputs[i], out_grads[i]> with respect to
 * inputs[k], returned as values in grads[k] (zeros when an input is not
 * reached). out_grads[i] may be NULL for one-element outputs (meaning 1).
 * With create_graph the gradient computation is itself recorded, so the
 * gradients can be differentiated again, to any order. */
AE_API int ae_backward(ae_tape *t, ae_val *loss);
AE_API int ae_grad(ae_tape *t, int nout, ae_val *const *outputs, ae_val *const *out_grads, int nin,
                   ae_val *const *inputs, ae_val **grads, int create_graph);
/* One output, one input. */
AE_API ae_val *ae_grad1(ae_tape *t, ae_val *y, ae_val *gy, ae_val *x, int create_graph);

/* The parameter leaves bound on this tape (up to max), in binding order;
 * a parameter bound twice appears twice. Returns how many there are. */
AE_API int ae_tape_param_leaves(ae_tape *t, ae_val **out, int max);

/* Read a one-element value as a double (NaN for nil). */
AE_API double ae_item(const ae_val *v);

#endif
