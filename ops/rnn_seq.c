/* rnn_seq.c: lstm_seq, a whole LSTM unroll as one op, which
 * ae_lstm_unroll records (ops/rnn.c).
 *
 * Forward, step s = 0..T-1, with the joined weight w = [W_ih W_hh b]
 * (4H,K), K = I + H + 1 (no last column without biases):
 *   XH_s = [x_s h_{s-1} 1] (B,K);  P_s = XH_s w^T (B,4H);
 *   [h_s c_s] = lstm_gates(P_s, c_{s-1})
 * the same GEMM and gate kernel, with the same operands, as the unroll
 * composed step by step (rnn.c's lstm_unroll_steps: concat, matmul,
 * lstm_gates, slices), so the values are bitwise the composite's.
 *
 * Backward (first order), s = T-1..0, gh = dY_s + dh, gc = dc (zero at
 * the last step):
 *   [dP_s dc] = the lstm_gates backward kernel;  dXH_s = dP_s w (B,K),
 *   dx_s and dh its first I and next H columns;  dw += dP_s^T XH_s
 * again the composite's GEMMs, and dw summed in the composite's order
 * (the sweep adds each step's product to the later steps' sum), so the
 * gradients are bitwise the composite's too, up to the sign of a zero.
 * What the composite spent on top (a few hundred nodes per unroll, the
 * slices' zero-padded gradients, the stack and concat copies, splitting
 * x: 11% of seq-ae's step in memmove alone) is gone.
 *
 * With c_T asked for, the op's value is [h_1 .. h_T c_T] (B,T+1,H), c_T's
 * gradient the last step's gc.
 *
 * With create_graph the rule records the forward again in the composite's
 * ops and the composite's rules on it (lstm_gates_backward, matmuls,
 * slices), so the unroll differentiates to any order. */
#include <string.h>

#include "autograd/op_api.h"
#include "autograd/tape_internal.h"
#include "base/gemm.h"
#include "base/parallel.h"
#include "oplist.h"
#include "ops.h"
#include "rnn.h"
#include "rnn_internal.h"
#include "tensor_ops.h"

enum { HAS_H0 = 1, HAS_C0 = 2 };

/* The sizes of one call and the kept buffers, step-major:
 *   XH (T,B,K) each step's GEMM input, C (T,B,H) c_s, S (T,B,5H) the
 *   gate kernel's [u T i f o]: the backward reads the gates kept, not
 *   recomputed from the pre-activations (three exps and divides a unit;
 *   lstm_bw_row was 11% of seq-ae's step), which are not kept. */
typedef struct seq_dims {
  int64_t B, T, I, H, K;
} seq_dims;

static seq_dims dims_of(const ae_val *x, const ae_val *w) {
  seq_dims d = {x->t.shape.d[0], x->t.shape.d[1], x->t.shape.d[2], w->t.shape.d[0] / 4, w->t.shape.d[1]};
  return d;
}

enum { NKEPT = 5 }; /* [u T i f o] */

/* Elements per (step, example) of the kept buffers. */
static int64_t kept_per_row(const seq_dims *d) { return d->K + d->H + NKEPT * d->H; }

typedef struct seq_bufs {
  ae_real *xh, *c, *s; /* step 0 of each; a step is B rows */
} seq_bufs;

static seq_bufs carve(const seq_dims *d, ae_real *base) {
  const int64_t TB = d->T * d->B;
  seq_bufs b = {base, base + TB * d->K, base + TB * (d->K + d->H)};
  return b;
}

/* B rows of zeros (a missing h0 or c0) in the arena. */
static ae_real *zero_rows(ae_tape *t, int64_t B, int64_t H) {
  ae_real *z = ae_arena_alloc(t, "lstm_seq", sizeof(ae_real) * (size_t)(B * H));
  if (z) memset(z, 0, sizeof(ae_real) * (size_t)(B * H));
  return z;
}

/* ---- the batch split ----
 *
 * An example's recurrence never reads another example's rows, so with
 * several threads each takes a block of the batch through every step:
 * one parallel region per unroll and direction, where splitting each
 * step's GEMM would open one per step (28 for seq-ae's, each waking the
 * sleeping thread: a 2-thread seq-ae step was no faster than 1 thread's).
 * A GEMM on a block of rows gives each element the same sum as on all
 * rows (gemm.c: the sums depend on K alone), and the weight gradient's
 * GEMMs run over the whole batch after the recurrence, each thread on a
 * block of the weight's rows, so the bits do not depend on the thread
 * count. */

/* The last (smallest) of ae_par_share's blocks; below 1 when some thread gets none. */
static int64_t last_block(int64_t n, int nt) { return n - (nt - 1) * ((n + nt - 1) / nt); }

/* The thread count (1: no split). Every block has at least MIN_ROWS rows,
 * and every GEMM a block makes (the step's, and the weight gradient's on a
 * block of its rows) is well above the size where ae_gemm takes its
 * direct loop, whose sums round differently. */
enum { MIN_ROWS = 8, MIN_GEMM = 4096 };
static int split_threads(const seq_dims *d) {
#ifdef _OPENMP
  const int64_t B = d->B, G = 4 * d->H, K = d->K;
  int nt = omp_get_max_threads();
  if (nt < 2 || !AE_PAR_WORK(B * G * K * d->T / 16)) return 1;
  while (nt > 1 && (last_block(B, nt) < MIN_ROWS || last_block(B, nt) * G * K <= MIN_GEMM ||
                    last_block(G, nt) * K * B <= MIN_GEMM))
    nt--;
  return nt;
#else
  (void)d;
  return 1;
#endif
}

/* What the forward's row blocks share. */
typedef struct fwd_job {
  seq_dims d;
  int64_t TY;
  int has_b, keep, with_c;
  const ae_real *X, *W, *h0, *c0; /* h0, c0: zeros when not given */
  ae_real *Y, *P;                 /* P: one step's pre-activations (B,4H) */
  seq_bufs kb;                    /* kept, or one step's XH and two c slots */
} fwd_job;

/* Rows [b0, b1) of the forward, through every step. */
static void fwd_rows(const fwd_job *j, int64_t b0, int64_t b1) {
  const int64_t B = j->d.B, T = j->d.T, I = j->d.I, H = j->d.H, K = j->d.K, TY = j->TY, nb = b1 - b0;
  if (nb <= 0) return;
  for (int64_t s = 0; s < T; s++) {
    ae_real *xh = j->kb.xh + (j->keep ? s : 0) * B * K;
    ae_real *cn = j->kb.c + (j->keep ? s : s % 2) * B * H, *sv = j->keep ? j->kb.s + s * B * NKEPT * H : NULL;
    const ae_real *cp = s == 0 ? j->c0 : j->kb.c + (j->keep ? s - 1 : (s - 1) % 2) * B * H;
    for (int64_t b = b0; b < b1; b++) { /* XH_s = [x_s h_{s-1} 1], as the composite's concat */
      ae_real *row = xh + b * K;
      const ae_real *hp = s == 0 ? j->h0 + b * H : j->Y + (b * TY + s - 1) * H;
      memcpy(row, j->X + (b * T + s) * I, sizeof(ae_real) * (size_t)I);
      memcpy(row + I, hp, sizeof(ae_real) * (size_t)H);
      if (j->has_b) row[I + H] = 1;
    }
    /* the composite's matmul(xh, w, 0, 1), on these rows */
    ae_gemm(0, 1, nb, 4 * H, K, 1, xh + b0 * K, K, j->W, K, 0, j->P + b0 * 4 * H, 4 * H);
    for (int64_t b = b0; b < b1; b++)
      ae__lstm_fwd_row(H, j->P + b * 4 * H, cp + b * H, j->Y + (b * TY + s) * H, cn + b * H,
                       sv ? sv + b * NKEPT * H : NULL, sv ? NKEPT : 0);
  }
  if (j->with_c) { /* c_T after the outputs */
    const ae_real *cT = j->kb.c + (j->keep ? T - 1 : (T - 1) % 2) * B * H;
    for (int64_t b = b0; b < b1; b++) memcpy(j->Y + (b * TY + T) * H, cT + b * H, sizeof(ae_real) * (size_t)H);
  }
}

ae_val *ae__lstm_seq(ae_tape *t, ae_val *x, ae_val *w, int has_b, ae_val *h0, ae_val *c0, int with_c) {
  ae_val *in[4] = {x, w};
  int nin = 2, flags = 0;
  if (h0) in[nin++] = h0, flags |= HAS_H0;
  if (c0) in[nin++] = c0, flags |= HAS_C0;
  if (!ae_op_begin(t, "lstm_seq", nin, in)) return NULL;
  const seq_dims d = dims_of(x, w);
  const int64_t B = d.B, T = d.T, H = d.H, K = d.K, TY = T + !!with_c; /* steps of y */
  ae_val *y = ae_op_out(t, "lstm_seq", AE_SHAPE(B, TY, H));
  if (!y) return NULL;
  /* Kept for the backward when a node will be recorded; else one step's
   * XH and two c rows (this step's and the last), dropped after. P is one
   * step's either way. */
  int keep = 0;
  for (int k = 0; k < nin; k++) keep |= in[k]->requires_grad;
  keep = keep && ae_grad_enabled(t);
  ae_tape_mark scratch = ae_tape_get_mark(t);
  ae_val *kept = keep ? ae_op_out(t, "lstm_seq", AE_SHAPE(T * B * kept_per_row(&d))) : NULL;
  ae_val *pv = ae_op_out(t, "lstm_seq", AE_SHAPE(B, 4 * H));
  ae_real *tmp = keep ? NULL : ae_arena_alloc(t, "lstm_seq", sizeof(ae_real) * (size_t)(B * (K + 2 * H)));
  ae_real *zh = h0 ? NULL : zero_rows(t, B, H), *zc = c0 ? NULL : zero_rows(t, B, H);
  if (!ae_tape_ok(t) || (keep && !kept) || !pv || (!keep && !tmp)) return NULL;
  fwd_job j = {d, TY, has_b, keep, with_c, x->t.data, w->t.data, h0 ? h0->t.data : zh, c0 ? c0->t.data : zc,
               y->t.data, pv->t.data, keep ? carve(&d, kept->t.data) : (seq_bufs){tmp, tmp + B * K, NULL}};
  const int nt = split_threads(&d);
#ifdef _OPENMP
  if (nt > 1) {
#pragma omp parallel num_threads(nt)
    {
      int64_t lo, hi;
      ae_par_share(B, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
      fwd_rows(&j, lo, hi);
    }
  }
#endif
  if (nt <= 1) fwd_rows(&j, 0, B);
  ae_node *n = ae_op_record(t, AE_OP_LSTM_SEQ, y, nin, in);
  if (n) {
    n->saved[0] = kept;
    n->i[0] = flags, n->i[1] = has_b, n->i[2] = !!with_c;
    ae__tape_recycle(t, pv); /* read by no rule: its buffer serves what follows */
  } else if (ae_tape_ok(t)) {
    ae_tape_rewind(t, scratch);
  }
  return ae_tape_ok(t) ? y : NULL;
}

/* With create_graph: the forward again in differentiable ops (the
 * composite's concat, matmul, lstm_gates and slices), then the rules those
 * ops would run, in the same ops, so the gradients are graph values. */
static void bw_composite(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  const int flags = (int)n->i[0], has_b = (int)n->i[1], with_c = (int)n->i[2], ih = 2, ic = 2 + !!(flags & HAS_H0);
  ae_val *x = n->in[0], *w = n->in[1];
  const seq_dims d = dims_of(x, w);
  const int64_t B = d.B, T = d.T, I = d.I, H = d.H;
  ae_val **xh = ae_arena_alloc(t, "lstm_seq", sizeof(ae_val *) * (size_t)(4 * T));
  if (!xh) return;
  ae_val **p = xh + T, **cp = p + T, **dxs = cp + T;
  ae_val *ones = has_b ? ae_full(t, AE_SHAPE(B, 1), 1) : NULL, *zero = ae_full(t, AE_SHAPE(B, H), 0);
  ae_val *h = flags & HAS_H0 ? n->in[ih] : zero, *c = flags & HAS_C0 ? n->in[ic] : zero;
  for (int64_t s = 0; s < T && ae_tape_ok(t); s++) {
    xh[s] = ae_concat(t, has_b ? 3 : 2, (ae_val *[]){ae_select(t, x, 1, s), h, ones}, 1);
    p[s] = ae_matmul(t, xh[s], w, 0, 1);
    cp[s] = c;
    ae_val *y = ae_lstm_gates(t, p[s], c);
    h = ae_slice(t, y, 1, 0, H), c = ae_slice(t, y, 1, H, H);
  }
  ae_val *dh = NULL, *dc = with_c ? ae_select(t, g, 1, T) : zero, *dw = NULL;
  for (int64_t s = T - 1; s >= 0 && ae_tape_ok(t); s--) {
    ae_val *gh = ae_select(t, g, 1, s);
    if (dh) gh = ae_add(t, gh, dh);
    ae_val *r = ae_lstm_gates_backward(t, ae_concat(t, 2, (ae_val *[]){gh, dc}, 1), p[s], cp[s]);
    ae_val *dp = ae_slice(t, r, 1, 0, 4 * H);
    dc = ae_slice(t, r, 1, 4 * H, H);
    ae_val *gw = ae_matmul(t, dp, xh[s], 1, 0);
    dw = dw ? ae_add(t, dw, gw) : gw;
    ae_val *dxh = ae_matmul(t, dp, w, 0, 0);
    dxs[s] = ae_slice(t, dxh, 1, 0, I), dh = ae_slice(t, dxh, 1, I, H);
  }
  if (!ae_tape_ok(t)) return;
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_stack(t, (int)T, dxs, 1);
  if (ae_needs_grad(t, n, 1)) gin[1] = dw;
  if ((flags & HAS_H0) && ae_needs_grad(t, n, ih)) gin[ih] = dh;
  if ((flags & HAS_C0) && ae_needs_grad(t, n, ic)) gin[ic] = dc;
}

/* What the backward's row blocks share. */
typedef struct bw_job {
  seq_dims d;
  int64_t TY;
  const ae_real *G, *W, *c0; /* c0: zeros when not given */
  seq_bufs kb;
  ae_real *gg, *dp, *dxh, *dc; /* (B,2H) [gh gc]; dP (T,B,4H) or one step's; (B,K); (B,H) */
  int dp_all;                  /* dp keeps every step's (the weight gradient wants them) */
  ae_real *dx, *dh0, *dc0;     /* NULL: not wanted */
} bw_job;

/* Rows [b0, b1) of the backward recurrence, through every step. */
static void bw_rows(const bw_job *j, int64_t b0, int64_t b1) {
  const int64_t B = j->d.B, T = j->d.T, I = j->d.I, H = j->d.H, K = j->d.K, TY = j->TY, nb = b1 - b0;
  if (nb <= 0) return;
  for (int64_t s = T - 1; s >= 0; s--) {
    for (int64_t b = b0; b < b1; b++) { /* gh = dY_s + dh, gc = dc (after the last step: c_T's, or none) */
      ae_real *gr = j->gg + b * 2 * H;
      const ae_real *gy = j->G + (b * TY + s) * H;
      if (s == T - 1) {
        memcpy(gr, gy, sizeof(ae_real) * (size_t)H);
        if (TY > T)
          memcpy(gr + H, gy + H, sizeof(ae_real) * (size_t)H);
        else
          memset(gr + H, 0, sizeof(ae_real) * (size_t)H);
      } else {
        const ae_real *dh = j->dxh + b * K + I;
        for (int64_t e = 0; e < H; e++) gr[e] = gy[e] + dh[e];
        memcpy(gr + H, j->dc + b * H, sizeof(ae_real) * (size_t)H);
      }
    }
    const ae_real *cp = s == 0 ? j->c0 : j->kb.c + (s - 1) * B * H;
    ae_real *dp = j->dp + (j->dp_all ? s * B * 4 * H : 0) + b0 * 4 * H;
    ae__lstm_bw_rows(nb, H, NULL, cp + b0 * H, j->gg + b0 * 2 * H, j->kb.s + (s * B + b0) * NKEPT * H, NKEPT, dp,
                     4 * H, j->dc + b0 * H, H);
    if (s > 0 || j->dx || j->dh0) /* the composite's g w, on these rows */
      ae_gemm(0, 0, nb, K, 4 * H, 1, dp, 4 * H, j->W, K, 0, j->dxh + b0 * K, K);
    if (j->dx)
      for (int64_t b = b0; b < b1; b++)
        memcpy(j->dx + (b * T + s) * I, j->dxh + b * K, sizeof(ae_real) * (size_t)I);
  }
  for (int64_t b = b0; b < b1 && j->dh0; b++)
    memcpy(j->dh0 + b * H, j->dxh + b * K + I, sizeof(ae_real) * (size_t)H);
  if (j->dc0) memcpy(j->dc0 + b0 * H, j->dc + b0 * H, sizeof(ae_real) * (size_t)(nb * H));
}

/* Rows [r0, r1) of the weight gradient: the composite's matmul rule g^T xh
 * at every step, each added to the later steps' sum (the sweep's order). */
static void dw_rows(const bw_job *j, ae_real *dw, int64_t r0, int64_t r1) {
  const int64_t B = j->d.B, T = j->d.T, H = j->d.H, K = j->d.K;
  if (r1 <= r0) return;
  for (int64_t s = T - 1; s >= 0; s--)
    ae_gemm(1, 0, r1 - r0, K, B, 1, j->dp + s * B * 4 * H + r0, 4 * H, j->kb.xh + s * B * K, K, s == T - 1 ? 0 : 1,
            dw + r0 * K, K);
}

void ae_bw_lstm_seq(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_grad_enabled(t) || !n->saved[0]) { /* (nothing kept: cannot happen, see keep) */
    bw_composite(t, n, g, gin);
    return;
  }
  const char *op = "lstm_seq_backward";
  ae_val *x = n->in[0], *w = n->in[1];
  const int flags = (int)n->i[0], ih = 2, ic = 2 + !!(flags & HAS_H0);
  const seq_dims d = dims_of(x, w);
  const int64_t B = d.B, T = d.T, H = d.H, K = d.K;
  const int nx = ae_needs_grad(t, n, 0), nw = ae_needs_grad(t, n, 1);
  const int nh = (flags & HAS_H0) && ae_needs_grad(t, n, ih), nc = (flags & HAS_C0) && ae_needs_grad(t, n, ic);
  if (!ae_op_begin(t, op, 2, (ae_val *[]){g, x})) return;
  ae_val *dx = nx ? ae_op_out(t, op, x->t.shape) : NULL, *dw = nw ? ae_op_out(t, op, w->t.shape) : NULL;
  ae_val *dh0 = nh ? ae_op_out(t, op, AE_SHAPE(B, H)) : NULL, *dc0 = nc ? ae_op_out(t, op, AE_SHAPE(B, H)) : NULL;
  /* [gh gc] (B,2H), dP (T or 1 steps of (B,4H)), dXH (B,K), dc (B,H) */
  const int64_t dp_steps = nw ? T : 1;
  ae_real *gg = ae_arena_alloc(t, op, sizeof(ae_real) * (size_t)(B * (2 * H + dp_steps * 4 * H + K + H)));
  ae_real *zc = (flags & HAS_C0) ? NULL : zero_rows(t, B, H);
  if (!ae_tape_ok(t) || !gg) return;
  bw_job j = {d, T + !!n->i[2], g->t.data, w->t.data, (flags & HAS_C0) ? n->in[ic]->t.data : zc,
              carve(&d, n->saved[0]->t.data), gg, gg + B * 2 * H, gg + B * (2 * H + dp_steps * 4 * H),
              gg + B * (2 * H + dp_steps * 4 * H + K), nw, dx ? dx->t.data : NULL, dh0 ? dh0->t.data : NULL,
              dc0 ? dc0->t.data : NULL};
  const int nt = split_threads(&d);
#ifdef _OPENMP
  if (nt > 1) {
#pragma omp parallel num_threads(nt)
    {
      const int tid = omp_get_thread_num(), nth = omp_get_num_threads();
      int64_t lo, hi;
      ae_par_share(B, tid, nth, &lo, &hi);
      bw_rows(&j, lo, hi);
      if (nw) {
#pragma omp barrier
        ae_par_share(4 * H, tid, nth, &lo, &hi);
        dw_rows(&j, dw->t.data, lo, hi);
      }
    }
  }
#endif
  if (nt <= 1) {
    bw_rows(&j, 0, B);
    if (nw) dw_rows(&j, dw->t.data, 0, 4 * H);
  }
  /* nothing is recorded (grad mode is off); anomaly mode checks them */
  ae_val *out[4] = {dx, dw, dh0, dc0};
  for (int k = 0; k < 4; k++)
    if (out[k]) ae_op_record(t, AE_OP_LSTM_SEQ, out[k], 0, NULL);
  gin[0] = dx, gin[1] = dw;
  if (flags & HAS_H0) gin[ih] = dh0;
  if (flags & HAS_C0) gin[ic] = dc0;
}
