/* tape_transposed.c: parameters a reverse sweep keeps transposed for its
 * products (contract in tape_internal.h). A parameter leaf is asked for
 * by each rule that multiplies by its transpose; from the second ask on,
 * the rule gets a copy transposed once, and the GEMM reads it in place
 * instead of packing the transpose again (gemm.c packs op(B) = B^T panel
 * by panel with register transposes, each product anew). The copies'
 * buffers stay with the tape from sweep to sweep, grown only for a bigger
 * parameter, so a warm step allocates nothing. */

#include "base/gemm_packed.h"
#include "base/tensor.h"
#include "tape_struct.h"

#define TCOPY_MIN 4096 /* elements: below, packing the transpose costs little */

void ae__tape_sweep_enter(ae_tape *t) { t->sweep_depth++; }

void ae__tape_sweep_leave(ae_tape *t) {
  if (t->sweep_depth > 0 && --t->sweep_depth == 0) {
    for (int i = 0; i < t->ntcopy; i++) t->tcopy[i].src = NULL, t->tcopy[i].asks = 0;
  }
}

void ae__tape_transposed_free(ae_tape *t) {
  for (int i = 0; i < TCOPY_MAX; i++) ae_aligned_free(t->tcopy[i].dst);
}

const ae_real *ae__tape_transposed(ae_tape *t, const ae_val *v) {
  if (t->sweep_depth == 0 || !v || !v->param || v->t.shape.ndim != 2 || v->t.numel < TCOPY_MIN) return NULL;
  const int64_t rows = v->t.shape.d[0], cols = v->t.shape.d[1];
  int i = 0;
  while (i < t->ntcopy && !(t->tcopy[i].src == v->t.data && t->tcopy[i].rows == rows && t->tcopy[i].cols == cols))
    i++;
  if (i == t->ntcopy) { /* the first ask: remember it, in a free entry */
    i = 0;
    while (i < t->ntcopy && t->tcopy[i].src) i++;
    if (i == TCOPY_MAX) return NULL;
    if (i == t->ntcopy) t->ntcopy++;
    t->tcopy[i].src = v->t.data, t->tcopy[i].rows = rows, t->tcopy[i].cols = cols, t->tcopy[i].asks = 1;
    return NULL;
  }
  tcopy *c = &t->tcopy[i];
  if (++c->asks == 2) {
    if (c->cap < (size_t)(rows * cols)) {
      ae_real *d = ae_aligned_alloc(sizeof(ae_real) * (size_t)(rows * cols));
      if (!d) {
        c->asks = 1; /* asked again later: tried again */
        return NULL;
      }
      ae_aligned_free(c->dst);
      c->dst = d, c->cap = (size_t)(rows * cols);
    }
    ae__gemm_transpose(v->t.data, rows, cols, c->dst);
  }
  return c->dst;
}
