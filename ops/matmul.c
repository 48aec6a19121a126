/* matmul.c: 2-D matrix product with either operand transposed, through
 * the one GEMM entry point (gemm.h), and its backward rule in matmuls:
 *   y = A B:     dA = g B^T,   dB = A^T g
 *   y = A^T B:   dA = B g^T,   dB = A g
 *   y = A B^T:   dA = g B,     dB = g^T A
 *   y = A^T B^T: dA = B^T g^T, dB = g^T A^T */
#include "base/gemm.h"
#include "oplist.h"
#include "ops.h"

ae_val *ae_matmul(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb) {
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
  ae_val *y = ae_op_out(t, "matmul", ae_shape_make(2, (int64_t[]){m, n}));
  if (!y) return NULL;
  ae_gemm(ta, tb, m, n, k, 1, a->t.data, a->t.shape.d[1], b->t.data, b->t.shape.d[1], 0, y->t.data, n);
  ae_node *nd = ae_op_record(t, AE_OP_MATMUL, y, 2, in);
  if (nd) nd->i[0] = ta, nd->i[1] = tb;
  return y;
}

void ae_bw_matmul(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *a = n->in[0], *b = n->in[1];
  int ta = (int)n->i[0], tb = (int)n->i[1];
  if (ae_needs_grad(t, n, 0))
    gin[0] = ta ? ae_matmul(t, b, g, tb, 1) : ae_matmul(t, g, b, 0, !tb);
  if (ae_needs_grad(t, n, 1))
    gin[1] = tb ? ae_matmul(t, g, a, 1, ta) : ae_matmul(t, a, g, !ta, 0);
}

ae_val *ae_linear(ae_tape *t, ae_val *x, ae_val *w, ae_val *b) {
  ae_val *y = ae_matmul(t, x, w, 0, 1);
  return b ? ae_add(t, y, b) : y;
}
