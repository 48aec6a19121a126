/* matmul.c: 2-D matrix product with either operand transposed, through
 * the one GEMM entry point (gemm.h), and its backward rule in matmuls:
 *   y = A B:     dA = g B^T,   dB = A^T g
 *   y = A^T B:   dA = B g^T,   dB = A g
 *   y = A B^T:   dA = g B,     dB = g^T A
 *   y = A^T B^T: dA = B^T g^T, dB = g^T A^T
 * and the dense layer built on it, act(x w^T + b), as one op (linear). */
#include "autograd/tape_internal.h"
#include "base/base_internal.h"
#include "base/gemm.h"
#include "base/parallel.h"
#include "base/vmath.h"
#include "oplist.h"
#include "ops.h"

static int overlaps(const ae_real *d, int64_t n, const ae_val *v) {
  return d < v->t.data + v->t.numel && v->t.data < d + n;
}

/* The m x n result of op(a) op(b) with inner size k; 0 with AE_ERR_SHAPE
 * raised under op's name when a or b is not 2-D or the inner sizes differ. */
static int product_dims(ae_tape *t, const char *op, const ae_val *a, const ae_val *b, int ta, int tb, int64_t *m,
                        int64_t *n, int64_t *k) {
  char sa[AE_SHAPE_BUF], sb[AE_SHAPE_BUF];
  if (a->t.shape.ndim != 2 || b->t.shape.ndim != 2) {
    ae_raise(t, AE_ERR_SHAPE, op, "%s x %s: both operands must be 2-D", ae_sstr(a->t.shape, sa),
             ae_sstr(b->t.shape, sb));
    return 0;
  }
  *m = ta ? a->t.shape.d[1] : a->t.shape.d[0], *k = ta ? a->t.shape.d[0] : a->t.shape.d[1];
  int64_t kb = tb ? b->t.shape.d[1] : b->t.shape.d[0];
  *n = tb ? b->t.shape.d[0] : b->t.shape.d[1];
  if (*k != kb) {
    ae_raise(t, AE_ERR_SHAPE, op, "%s%s x %s%s: inner dimensions %lld and %lld differ", ae_sstr(a->t.shape, sa),
             ta ? "^T" : "", ae_sstr(b->t.shape, sb), tb ? "^T" : "", (long long)*k, (long long)kb);
    return 0;
  }
  return 1;
}

/* y (m x n, row-major) = op(a) op(b) + beta y. b^T kept by the running
 * sweep (a parameter multiplied transposed again and again:
 * tape_internal.h) is read as stored: the built-in GEMM's sums do not
 * depend on the layout (OpenBLAS's kernels may: not there). */
static void product(ae_tape *t, const ae_val *a, ae_val *b, int ta, int tb, int64_t m, int64_t n, int64_t k,
                    ae_real beta, ae_real *y) {
  const ae_real *bt = tb && ae_gemm_get_backend() == AE_GEMM_BUILTIN ? ae__tape_transposed(t, b) : NULL;
  ae_gemm(ta, tb && !bt, m, n, k, 1, a->t.data, a->t.shape.d[1], bt ? bt : b->t.data, bt ? n : b->t.shape.d[1], beta,
          y, n);
}

/* op(a) op(b) into dst (a gradient sink, tape_internal.h), added into acc
 * (an accumulator the sweep offers, tape_internal.h) where the GEMM adds
 * exactly and acc is neither operand, or else a new value on the tape. */
static ae_val *matmul_to(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb, ae_real *dst, ae_real *acc) {
  ae_val *in[2] = {a, b};
  if (!ae_op_begin(t, "matmul", 2, in)) return NULL;
  int64_t m, n, k;
  if (!product_dims(t, "matmul", a, b, ta, tb, &m, &n, &k)) return NULL;
  ae_shape ys = ae_shape_make(2, (int64_t[]){m, n});
  if (acc && (dst || !ae__gemm_adds_exactly(m, n, k) || overlaps(acc, m * n, a) || overlaps(acc, m * n, b)))
    acc = NULL;
  ae_real *at = acc ? acc : dst;
  ae_val *y = at ? ae__op_out_at(t, "matmul", ys, at) : ae_op_out(t, "matmul", ys);
  if (!y) return NULL;
  product(t, a, b, ta, tb, m, n, k, acc ? 1 : 0, y->t.data);
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

/* ---- linear: act(x w^T + b) ---- */

/* The composite ae_linear_act stands for: the product, the bias added,
 * the activation (leaky_relu with slope s). */
static ae_val *linear_composite(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, ae_act act, ae_real s) {
  ae_val *y = ae_matmul(t, x, w, 0, 1);
  return ae_activation(t, act, b ? ae_add(t, y, b) : y, s);
}

/* Row i of the product in place: + b (as ae_add rounds it), then the
 * activation (as ae_relu, ae_leaky_relu, ae_sigmoid, ae_tanh compute it). */
static void finish_row(ae_real *restrict y, const ae_real *restrict b, int64_t n, ae_act act, ae_real s) {
  if (b) {
#pragma omp simd
    for (int64_t j = 0; j < n; j++) y[j] = y[j] + b[j];
  }
  switch (act) {
    case AE_ACT_RELU:
#pragma omp simd
      for (int64_t j = 0; j < n; j++) y[j] = y[j] > 0 ? y[j] : 0;
      break;
    case AE_ACT_LEAKY_RELU:
#pragma omp simd
      for (int64_t j = 0; j < n; j++) y[j] = y[j] > 0 ? y[j] : s * y[j];
      break;
    case AE_ACT_SIGMOID: ae_v_sigmoid(n, y, y); break; /* in place, serial inside the rows' region */
    case AE_ACT_TANH: ae_v_tanh(n, y, y); break;
    default: break;
  }
}

ae_val *ae_linear_act(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, ae_act act, ae_real slope) {
  ae_val *in[3] = {x, w, b};
  if (!ae_op_begin(t, "linear", 2, in)) return NULL;
  if ((unsigned)act > AE_ACT_LEAKY_RELU) {
    ae_raise(t, AE_ERR_ARG, "linear", "activation %d is not an ae_act", (int)act);
    return NULL;
  }
  /* Anomaly mode checks each step of the composite (a NaN is reported at
   * the product or the add, not hidden by relu's 0); a negative slope
   * makes the output's sign differ from the pre-activation's, from which
   * the fused rule reads it. */
  if (ae_anomaly_enabled(t) || (act == AE_ACT_LEAKY_RELU && !(slope >= 0)))
    return linear_composite(t, x, w, b, act, slope);
  int64_t m, n, k;
  if (!product_dims(t, "linear", x, w, 0, 1, &m, &n, &k)) return NULL;
  /* a bias of another shape broadcasts as ae_add does, or fails as it does */
  if (b && (b->t.shape.ndim != 1 || b->t.shape.d[0] != n)) return linear_composite(t, x, w, b, act, slope);
  ae_val *y = ae_op_out(t, "linear", ae_shape_make(2, (int64_t[]){m, n}));
  if (!y) return NULL;
  product(t, x, w, 0, 1, m, n, k, 0, y->t.data);
  if (b || act != AE_ACT_NONE) {
    ae_real *yd = y->t.data;
    const ae_real *bd = b ? b->t.data : NULL;
    AE_PAR_FOR(AE_PAR(m * n), schedule(static),
               for (int64_t i = 0; i < m; i++) finish_row(yd + i * n, bd, n, act, slope););
  }
  ae_node *nd = ae_op_record(t, AE_OP_LINEAR, y, b ? 3 : 2, in);
  if (nd) nd->i[0] = 0, nd->i[1] = 1, nd->i[2] = act, nd->f[0] = slope;
  return y;
}

ae_val *ae_linear(ae_tape *t, ae_val *x, ae_val *w, ae_val *b) { return ae_linear_act(t, x, w, b, AE_ACT_NONE, 0); }

/* The gradient at the pre-activation, from the output
 * (ae_activation_backward: the composite's backward ops on the same
 * values); NULL with the tape's error set when that op fails (arena
 * full). Then the bias's gradient is that one
 * (the sweep sums it to the bias's shape, as it does ae_add's), and the
 * product's are matmul's rule on it (the node's i[0], i[1] say x w^T). */
void ae_bw_linear(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (!(g = ae_activation_backward(t, (ae_act)n->i[2], g, n->out, (ae_real)n->f[0]))) return;
  if (n->nin > 2 && ae_needs_grad(t, n, 2)) gin[2] = g;
  ae_bw_matmul(t, n, g, gin);
}
