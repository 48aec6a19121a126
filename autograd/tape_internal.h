/* tape_internal.h (not installed): the tape's private entry points, shared
 * by tape.c, backward.c and the tests that look at recorded nodes. Hidden
 * in the shared libraries; tests reach them through the static library. */
#ifndef AE_TAPE_INTERNAL_H
#define AE_TAPE_INTERNAL_H

#include "op_api.h"

/* The i-th node recorded on the tape (0 <= i < ae_tape_node_count). */
ae_node *ae__tape_node(ae_tape *t, int i);
/* Installs the reverse sweep's needed-mask and top node (for
 * ae_needs_grad); returns the previous mask, its top in *old_top. */
const unsigned char *ae__tape_set_sweep(ae_tape *t, const unsigned char *needed, int top, int *old_top);

/* Memory reuse in a reverse sweep without create_graph (backward.c).
 * A window brackets one rule (and the accumulation of its results):
 * ae__tape_window_begin opens it (0 when reuse is off or a window is
 * already open: then no window); while it is open, new values take their
 * data from the free list when a block of their exact size is there.
 * ae__tape_window_end keeps the values keep[0..nkeep) (at most
 * AE_TAPE_WINDOW_KEEP) and gives back everything else the window
 * allocated: kept values it allocated move down to the window's start
 * (keep[] is updated), unused free blocks return to the list. fresh[k] is
 * 1 when keep[k]'s data was allocated by the window, whole. Returns 0
 * (keeping everything) after an error or when the rule recorded nodes.
 * ae__tape_recycle puts v's data on the free list: the caller vouches
 * that nothing else uses it and that it was allocated whole. */
#define AE_TAPE_WINDOW_KEEP 8
/* The free list serves every new value's data (ae_op_out), inside a
 * window or not. ae__tape_release puts the buffer of a recorded value on
 * it, for a value whose data nothing will read again: no rule reads it
 * (neither its own node's nor its consumers') and no one else holds it.
 * Its node stays, with its shape. A no-op with reuse off, inside a
 * window, or for data that is not a whole arena allocation. */
int ae__tape_window_begin(ae_tape *t);
int ae__tape_window_end(ae_tape *t, ae_val **keep, int nkeep, unsigned char *fresh);
void ae__tape_recycle(ae_tape *t, ae_val *v);
void ae__tape_release(ae_tape *t, ae_val *v);

/* Gradient sinks (backward.c, ae__backward_set): sinks[i] (i <= top),
 * when not NULL, is the buffer where leaf node i's gradient ends up, for a
 * parameter leaf whose one use is one rule's input: that rule may write
 * the gradient there, not on the tape, and the copy out of the tape is
 * saved. ae__grad_sink(t, n, j, s): the sink of node n's input j, for a
 * rule about to write a gradient of shape s (NULL: none, or create_graph,
 * or another shape); handed out once. ae__op_out_at: a value of shape s
 * whose data is `data` (a sink), as ae_op_out gives one on the arena. The
 * tape forgets the sinks at reset. A rule that wrote n values to a sink
 * tests them while they are still in the caches: ae__grad_sink_test (1
 * when one is not finite; it touches no tape, so it may run on the thread
 * that wrote them, as matmul.c's paired products do), then
 * ae__grad_sink_note with its answer, on the tape's thread.
 * ae__tape_sinks_bad: whether one was not finite, since the sinks were
 * set. */
void ae__tape_set_sinks(ae_tape *t, ae_real **sinks, int top);
ae_real *ae__grad_sink(ae_tape *t, const ae_node *n, int j, ae_shape s);
int ae__grad_sink_test(const ae_real *d, int64_t n);
void ae__grad_sink_note(ae_tape *t, int bad);
int ae__tape_sinks_bad(const ae_tape *t);
ae_val *ae__op_out_at(ae_tape *t, const char *op, ae_shape s, ae_real *data);

/* Accumulating in place (grad/backward.c's sweep without create_graph).
 * While node n's rule runs, into[j], when not NULL, is the buffer that
 * already holds the gradient of n's input j from its other consumers, the
 * sweep's alone and of the input's shape; the input is n's input once. A
 * rule may add its gradient for input j into that buffer itself, bitwise
 * as the sweep's own in-place add would (old + g, rounded once), return
 * gin[j] as a value on that data (ae__op_out_at) and call
 * ae__tape_acc_taken(t, j), which sets taken[j]: the sweep then adds
 * nothing. matmul's rule does where ae_gemm adds exactly (base_internal.h):
 * cae's tied 1000x784 weight took 4 in-place adds of 3.1 MB a step,
 * cae-deep's weights 128. ae__grad_acc_into(t, n, j, s): into[j] for a
 * gradient of shape s, or NULL (none offered, create_graph, another
 * shape). ae__tape_set_acc_offer returns the offer it replaces. */
typedef struct ae__acc_offer {
  ae_real *into[AE_MAX_IN];
  unsigned char taken[AE_MAX_IN];
} ae__acc_offer;
ae__acc_offer *ae__tape_set_acc_offer(ae_tape *t, ae__acc_offer *offer);
ae_real *ae__grad_acc_into(ae_tape *t, const ae_node *n, int j, ae_shape s);
void ae__tape_acc_taken(ae_tape *t, int j);

/* Transposed parameters for a sweep's products (tape_transposed.c; used by
 * ops/matmul.c). ae__tape_sweep_enter and ae__tape_sweep_leave bracket
 * every reverse sweep (grad/backward.c; nested sweeps count). While one
 * runs, ae__tape_transposed(t, v) gives v^T (cols x rows, row-major) for a
 * 2-D parameter leaf v of at least 4096 elements that rules have asked for
 * before in the outermost sweep: a copy made at the second ask and kept
 * until that sweep ends. NULL at the first ask, for other values, outside
 * a sweep, or without memory. No parameter changes during a sweep. A
 * product op(A) B^T then reads B^T stored, as op(A) B, in place: the same
 * sums (the built-in GEMM's order does not depend on the operands'
 * layout; matmul asks only under it), without packing B^T again for each
 * product: cae-deep's double backward makes 64 products a step with its
 * first weight transposed. */
void ae__tape_sweep_enter(ae_tape *t);
void ae__tape_sweep_leave(ae_tape *t);
const ae_real *ae__tape_transposed(ae_tape *t, const ae_val *v);
void ae__tape_transposed_free(ae_tape *t);

/* A constant whose data is x's own buffer (no copy), for a caller that
 * keeps x alive and unchanged until the tape is reset: the trainer's
 * batch (zoo/train.c), 400 KB a step at batch 128 on Fashion-MNIST. */
ae_val *ae__const_borrow(ae_tape *t, const ae_tensor *x);

#endif
