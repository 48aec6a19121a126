/* matmul.c: 2-D matrix product with either operand transposed, through
 * the one GEMM entry point (gemm.h), and its backward rule in matmuls:
 *   y = A B:     dA = g B^T,   dB = A^T g
 *   y = A^T B:   dA = B g^T,   dB = A g
 *   y = A B^T:   dA = g B,     dB = g^T A
 *   y = A^T B^T: dA = B^T g^T, dB = g^T A^T */
#include "autograd/tape_internal.h"
#include "base/base_internal.h"
#include "base/gemm.h"
#include "oplist.h"
#include "ops.h"

static int overlaps(const ae_real *d, int64_t n, const ae_val *v) {
  return d < v->t.data + v->t.numel && v->t.data < d + n;
}

/* op(a) op(b) into dst (a gradient sink, tape_internal.h), added into acc
 * (an accumulator the sweep offers, tape_internal.h) where the GEMM adds
 * exactly and acc is neither operand, or else a new value on the tape. */
static ae_val *matmul_to(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb, ae_real *dst, ae_real *acc) {
  ae_val *in[2] = {a, b};
  if (!ae_op_begin(t, "matmul", 2, in)) return NULL;
  char sa[AE_SHAPE_BUF], sb[AE_SHAPE_BUF];
  if (a->t.shape.ndim != 2 || b->t.shape.ndim != 2) {
    ae_raise(t, AE_ERR_SHAPE, "matmul", "%s x %s: both operands must be 2-D", ae_sstr(a->t.shape, sa),
             ae_sstr(b->t.shape, sb));
    return NULL;
  }
  int64_t m = ta ? a->t.shape.d[1] : a->t.shape.d[0], k = ta ? a->t.shape.d[0] : a->t.shape.d[1];
  int64_t kb = tb ? b->t.shape.d[1] : b->t.shape.d[0], n = tb ? b->t.shape.d[0] : b->t.shape.d[1];
  if (k != kb) {
    ae_raise(t, AE_ERR_SHAPE, "matmul", "%s%s x %s%s: inner dimensions %lld and %lld differ", ae_sstr(a->t.shape, sa),
             ta ? "^T" : "", ae_sstr(b->t.shape, sb), tb ? "^T" : "", (long long)k, (long long)kb);
    return NULL;
  }
  ae_shape ys = ae_shape_make(2, (int64_t[]){m, n});
  if (acc && (dst || !ae__gemm_adds_exactly(m, n, k) || overlaps(acc, m * n, a) || overlaps(acc, m * n, b)))
    acc = NULL;
  ae_real *at = acc ? acc : dst;
  ae_val *y = at ? ae__op_out_at(t, "matmul", ys, at) : ae_op_out(t, "matmul", ys);
  if (!y) return NULL;
  /* b^T kept by the running sweep (a parameter multiplied transposed again
   * and again: tape_internal.h) is read as stored: the built-in GEMM's
   * sums do not depend on the layout (OpenBLAS's kernels may: not there) */
  const ae_real *bt = tb && ae_gemm_get_backend() == AE_GEMM_BUILTIN ? ae__tape_transposed(t, b) : NULL;
  ae_gemm(ta, tb && !bt, m, n, k, 1, a->t.data, a->t.shape.d[1], bt ? bt : b->t.data, bt ? n : b->t.shape.d[1],
          acc ? 1 : 0, y->t.data, n);
  if (dst) ae__grad_sink_written(t, dst, m * n);
  ae_node *nd = ae_op_record(t, AE_OP_MATMUL, y, 2, in);
  if (nd) nd->i[0] = ta, nd->i[1] = tb;
  return y;
}

ae_val *ae_matmul(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb) { return matmul_to(t, a, b, ta, tb, NULL, NULL); }

/* A weight's gradient goes straight into the parameter's gradient when the
 * backward offers its buffer (ae__grad_sink): the GEMM writes it once. A
 * gradient whose input already has one from other consumers (a tied or
 * shared weight) is added into that accumulator by the GEMM itself where
 * the sweep offers it (ae__grad_acc_into), instead of the sweep adding a
 * new value into it in a pass of its own. */
void ae_bw_matmul(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *a = n->in[0], *b = n->in[1];
  int ta = (int)n->i[0], tb = (int)n->i[1];
  if (ae_needs_grad(t, n, 0)) {
    ae_real *sink = ae__grad_sink(t, n, 0, a->t.shape), *acc = ae__grad_acc_into(t, n, 0, a->t.shape);
    gin[0] = ta ? matmul_to(t, b, g, tb, 1, sink, acc) : matmul_to(t, g, b, 0, !tb, sink, acc);
    if (gin[0] && acc && gin[0]->t.data == acc) ae__tape_acc_taken(t, 0);
  }
  if (ae_needs_grad(t, n, 1)) {
    ae_real *sink = ae__grad_sink(t, n, 1, b->t.shape), *acc = ae__grad_acc_into(t, n, 1, b->t.shape);
    gin[1] = tb ? matmul_to(t, g, a, 1, ta, sink, acc) : matmul_to(t, a, g, !ta, 0, sink, acc);
    if (gin[1] && acc && gin[1]->t.data == acc) ae__tape_acc_taken(t, 1);
  }
}

ae_val *ae_linear(ae_tape *t, ae_val *x, ae_val *w, ae_val *b) {
  ae_val *y = ae_matmul(t, x, w, 0, 1);
  return b ? ae_add(t, y, b) : y;
}
