/* custom_op.h: primitive ops registered at run time, from a program or a
 * plugin, without editing the op list (ops/oplist.h): the equivalent of
 * PyTorch's torch.autograd.Function.
 *
 * A registered op has a forward kernel (plain C: the output value from
 * the input values and an attribute blob), an optional output-shape
 * callback, and a backward rule of the same form as the built-in ones
 * (ae_backward_fn, op_api.h): it receives the node and the upstream
 * gradient g and sets gin[j], the gradient of input j, built WITH THE
 * LIBRARY'S DIFFERENTIABLE OPS. The engine runs it with grad mode set to
 * create_graph, so a registered op supports gradients of gradients like
 * the built-in ones, and ae_gradcheck / ae_gradgradcheck check it.
 *
 * ae_op_call records the op exactly as the built-in ops record
 * themselves: a nil input, a wrong input count, a wrong attribute size or
 * a shape the shape callback rejects raises the tape's sticky error
 * naming the op; in no-grad mode nothing is recorded; anomaly mode names
 * the op when its output holds a NaN or an Inf. ae_op_name and ae_op_find
 * (ops/oplist.h) know registered ops by their names.
 *
 * Ids: ae_op_register returns an id >= AE_OP_COUNT (the built-in ops come
 * first), in registration order. float32 (libaezoo) and float64
 * (libaezoo64) keep separate registries: register in the library you link.
 *
 * Threads: registration takes a lock, and a registered op never changes
 * or goes away, so registering while other threads record is safe. The
 * simple rule is to register every op at start-up, before building tapes,
 * so that ids are the same in every run. There is no unregistering: a
 * plugin that registers ops must stay loaded. */
#ifndef AE_CUSTOM_OP_H
#define AE_CUSTOM_OP_H

#include "autograd/op_api.h"
#include "oplist.h" /* AE_OP_COUNT, ae_op_name, ae_op_find */

#define AE_CUSTOM_OP_MAX 64 /* ops a process may register (per library) */
#define AE_OP_NAME_MAX 48   /* bytes of a name, its terminating nul included */

/* What the shape and forward callbacks see. */
typedef struct ae_op_args {
  int op;                         /* the op's id */
  const char *name;               /* its registered name */
  int nin;
  const ae_tensor *in[AE_MAX_IN]; /* the input values */
  const void *attrs;              /* the caller's attribute blob (NULL when the op takes none) */
  size_t attrs_size;
} ae_op_args;

/* Sets *out to the output shape (it holds input 1's shape on entry).
 * Returns 0, or nonzero with a one-line reason written to why (the tape's
 * error becomes AE_ERR_SHAPE "NAME: reason"). */
typedef int (*ae_op_shape_fn)(const ae_op_args *a, ae_shape *out, char *why, size_t why_size);
/* Computes the output value into out (allocated with the output shape,
 * zero-filled). Returns 0, or nonzero with a reason in why (the tape's
 * error becomes AE_ERR_ARG "NAME: reason"). */
typedef int (*ae_op_forward_fn)(const ae_op_args *a, ae_tensor *out, char *why, size_t why_size);

typedef struct ae_op_def {
  const char *name;         /* unique among all ops; letters, digits, '_', '.', '-'; copied */
  int nin;                  /* inputs, 1..AE_MAX_IN */
  size_t attrs_size;        /* bytes of the attribute blob every call passes (0: none) */
  ae_op_shape_fn shape;     /* NULL: the output has input 1's shape */
  ae_op_forward_fn forward; /* required */
  /* Required. Sets gin[j] (of input j's shape, or of a shape input j
   * broadcasts to: the engine sums it back) or leaves it NULL (no
   * gradient); ae_needs_grad(t, n, j) says which are wanted. n->in[j] are
   * the inputs, n->out the output, ae_op_attrs(n) the attributes. A rule
   * that sets no gin makes the op a constant for differentiation. */
  ae_backward_fn backward;
} ae_op_def;

/* Registers an op. Returns its id (>= AE_OP_COUNT), or -1 with the reason
 * in ae_last_error(): a NULL or malformed definition, a NULL callback, a
 * bad input count, a name already taken (built-in or registered), or a
 * full table. */
AE_API int ae_op_register(const ae_op_def *def);

/* Runs the registered op `op` on inputs in[0..nin) with the attribute
 * blob attrs (attrs_size bytes, which must equal the definition's) and
 * records it. Returns its value, or NULL when the tape holds an error. The
 * blob is copied onto the tape when the op is recorded, so the caller's
 * may be a local. */
AE_API ae_val *ae_op_call(ae_tape *t, int op, ae_val *const *in, int nin, const void *attrs, size_t attrs_size);

/* The recorded node's copy of its attribute blob (inside backward rules);
 * NULL for ops without attributes and for built-in ops. */
AE_API const void *ae_op_attrs(const ae_node *n);

#endif
