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

/* One product op(a) op(b) of matmul, set up (its output on the tape, its
 * operands' layout) by product_begin, computed by product_run (no tape
 * touched: two of them may run at once), recorded by product_end. */
typedef struct product_job {
  ae_val *a, *b, *y;
  int ta, tb;
  int64_t m, n, k;
  const ae_real *bt; /* b^T kept by the running sweep, or NULL */
  ae_real beta;      /* 1: y holds an accumulator that the product adds into */
  ae_real *dst;      /* the gradient sink y is written to, or NULL */
  int sink_bad;      /* product_run's test of dst: a value not finite */
} product_job;

/* y (m x n, row-major) = op(a) op(b) + beta y. b^T kept by the running
 * sweep (a parameter multiplied transposed again and again:
 * tape_internal.h) is read as stored: the built-in GEMM's sums do not
 * depend on the layout (OpenBLAS's kernels may: not there). */
static void product_run(product_job *p) {
  ae_gemm(p->ta, p->tb && !p->bt, p->m, p->n, p->k, 1, p->a->t.data, p->a->t.shape.d[1], p->bt ? p->bt : p->b->t.data,
          p->bt ? p->n : p->b->t.shape.d[1], p->beta, p->y->t.data, p->n);
  if (p->dst) p->sink_bad = ae__grad_sink_test(p->dst, p->m * p->n);
}

static const ae_real *kept_transpose(ae_tape *t, ae_val *b, int tb) {
  return tb && ae_gemm_get_backend() == AE_GEMM_BUILTIN ? ae__tape_transposed(t, b) : NULL;
}

static void product(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb, int64_t m, int64_t n, int64_t k,
                    ae_real beta, ae_val *y) {
  product_job p = {a, b, y, ta, tb, m, n, k, kept_transpose(t, b, tb), beta, NULL, 0};
  product_run(&p);
}

/* op(a) op(b) into dst (a gradient sink, tape_internal.h), added into acc
 * (an accumulator the sweep offers, tape_internal.h) where the GEMM adds
 * exactly and acc is neither operand, or else a new value on the tape.
 * Returns 0 (with the tape's error set) when it cannot. */
static int product_begin(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb, ae_real *dst, ae_real *acc,
                         product_job *p) {
  ae_val *in[2] = {a, b};
  if (!ae_op_begin(t, "matmul", 2, in)) return 0;
  int64_t m, n, k;
  if (!product_dims(t, "matmul", a, b, ta, tb, &m, &n, &k)) return 0;
  ae_shape ys = ae_shape_make(2, (int64_t[]){m, n});
  if (acc && (dst || !ae__gemm_adds_exactly(m, n, k) || overlaps(acc, m * n, a) || overlaps(acc, m * n, b)))
    acc = NULL;
  ae_real *at = acc ? acc : dst;
  ae_val *y = at ? ae__op_out_at(t, "matmul", ys, at) : ae_op_out(t, "matmul", ys);
  if (!y) return 0;
  *p = (product_job){a, b, y, ta, tb, m, n, k, kept_transpose(t, b, tb), acc ? 1 : 0, dst, 0};
  return 1;
}

static ae_val *product_end(ae_tape *t, const product_job *p) {
  if (p->dst) ae__grad_sink_note(t, p->sink_bad);
  ae_node *nd = ae_op_record(t, AE_OP_MATMUL, p->y, 2, (ae_val *[]){p->a, p->b});
  if (nd) nd->i[0] = p->ta, nd->i[1] = p->tb;
  return p->y;
}

static ae_val *matmul_to(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb, ae_real *dst, ae_real *acc) {
  product_job p;
  if (!product_begin(t, a, b, ta, tb, dst, acc, &p)) return NULL;
  product_run(&p);
  return product_end(t, &p);
}

ae_val *ae_matmul(ae_tape *t, ae_val *a, ae_val *b, int ta, int tb) { return matmul_to(t, a, b, ta, tb, NULL, NULL); }

/* Whether the backward's two products run at once, each whole on one of
 * two threads, rather than one after the other, each split across both
 * threads in a parallel region of its own. One region wakes the second
 * thread where there were two, and no operand is packed by both threads
 * (a product of one A block, split by columns, has each thread pack all
 * of A: gemm.c's blocked_team). A dense
 * layer's two products are the same work (dx = g w: m n k multiply-adds;
 * dw = g^T x: n k m). Only with the built-in GEMM (its sums do not depend
 * on which thread computes a tile, or on how many do: gemm.c; OpenBLAS's
 * may); only at two threads (with more, splitting each product keeps
 * them all busy, and a team of another size than OpenMP's last is
 * allocated anew); only where neither product writes what the other
 * reads; and only where the smaller product is one the GEMM would split
 * by itself (AE_PAIR_MIN_DIV, gemm.c's AE_GEMM_PAR_DIV, times
 * AE_PAR_MIN_WORK: 16.8 M multiply-adds by default). Measured
 * (`aezoo train`, 2 threads, interleaved rounds, the best): sparse-l1
 * (128 x 300 x 784) 1.74 -> 1.63 ms, vae 2.31 -> 2.19, cae 13.7 -> 12.1;
 * from 4.2 M, stacked-ae's 10 M products, which ran on one thread, went
 * from 0.60 to 0.71 ms: waking the second thread and moving g and the
 * gradients between the cores' caches cost more than half of two 100 us
 * products saves on this machine. */
#ifndef AE_PAIR_MIN_DIV
#define AE_PAIR_MIN_DIV 16
#endif
static int pair_pays(const product_job *p, const product_job *q) {
#ifdef _OPENMP
  const int64_t wp = p->m * p->n * p->k, wq = q->m * q->n * q->k;
  if (overlaps(p->y->t.data, p->m * p->n, q->a) || overlaps(p->y->t.data, p->m * p->n, q->b) ||
      overlaps(q->y->t.data, q->m * q->n, p->a) || overlaps(q->y->t.data, q->m * q->n, p->b))
    return 0;
  return ae_gemm_get_backend() == AE_GEMM_BUILTIN && omp_get_max_threads() == 2 && !omp_in_parallel() &&
         (wp < wq ? wp : wq) / AE_PAIR_MIN_DIV >= AE_PAR_MIN_WORK;
#else
  (void)p, (void)q;
  return 0;
#endif
}

/* A weight's gradient goes straight into the parameter's gradient when the
 * backward offers its buffer (ae__grad_sink): the GEMM writes it once. A
 * gradient whose input already has one from other consumers (a tied or
 * shared weight) is added into that accumulator by the GEMM itself where
 * the sweep offers it (ae__grad_acc_into), instead of the sweep adding a
 * new value into it in a pass of its own. */
void ae_bw_matmul(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *a = n->in[0], *b = n->in[1];
  int ta = (int)n->i[0], tb = (int)n->i[1];
  product_job job[2];
  ae_real *acc[2] = {NULL, NULL};
  int ready[2] = {0, 0};
  for (int j = 0; j < 2; j++) {
    if (!ae_needs_grad(t, n, j)) continue;
    ae_real *sink = ae__grad_sink(t, n, j, n->in[j]->t.shape);
    acc[j] = ae__grad_acc_into(t, n, j, n->in[j]->t.shape);
    if (j == 0)
      ready[0] = ta ? product_begin(t, b, g, tb, 1, sink, acc[0], &job[0])
                    : product_begin(t, g, b, 0, !tb, sink, acc[0], &job[0]);
    else
      ready[1] = tb ? product_begin(t, g, a, 1, ta, sink, acc[1], &job[1])
                    : product_begin(t, a, g, !ta, 0, sink, acc[1], &job[1]);
    if (!ready[j]) return;
  }
  if (ready[0] && ready[1] && pair_pays(&job[0], &job[1])) {
#ifdef _OPENMP
#pragma omp parallel num_threads(2)
    { /* a team of one (a thread limit) runs both */
      const int id = omp_get_thread_num(), nt = omp_get_num_threads();
      for (int j = id; j < 2; j += nt) product_run(&job[j]);
    }
#endif
  } else {
    for (int j = 0; j < 2; j++)
      if (ready[j]) product_run(&job[j]);
  }
  for (int j = 0; j < 2; j++) {
    if (!ready[j]) continue;
    gin[j] = product_end(t, &job[j]);
    if (acc[j] && gin[j]->t.data == acc[j]) ae__tape_acc_taken(t, j);
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
  product(t, x, w, 0, 1, m, n, k, 0, y);
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
