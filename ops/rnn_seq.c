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

ae_val *ae__lstm_seq(ae_tape *t, ae_val *x, ae_val *w, int has_b, ae_val *h0, ae_val *c0, int with_c) {
  ae_val *in[4] = {x, w};
  int nin = 2, flags = 0;
  if (h0) in[nin++] = h0, flags |= HAS_H0;
  if (c0) in[nin++] = c0, flags |= HAS_C0;
  if (!ae_op_begin(t, "lstm_seq", nin, in)) return NULL;
  const seq_dims d = dims_of(x, w);
  const int64_t B = d.B, T = d.T, I = d.I, H = d.H, K = d.K, TY = T + !!with_c; /* steps of y */
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
  ae_real *p = pv->t.data;
  seq_bufs kb = keep ? carve(&d, kept->t.data) : (seq_bufs){tmp, tmp + B * K, NULL};
  const ae_real *X = x->t.data, *W = w->t.data;
  ae_real *Y = y->t.data;
  for (int64_t s = 0; s < T; s++) {
    ae_real *xh = kb.xh + (keep ? s : 0) * B * K;
    ae_real *cn = kb.c + (keep ? s : s % 2) * B * H, *sv = keep ? kb.s + s * B * NKEPT * H : NULL;
    const ae_real *cp = s == 0 ? (c0 ? c0->t.data : zc) : kb.c + (keep ? s - 1 : (s - 1) % 2) * B * H;
    for (int64_t b = 0; b < B; b++) { /* XH_s = [x_s h_{s-1} 1], as the composite's concat */
      ae_real *row = xh + b * K;
      const ae_real *hp = s == 0 ? (h0 ? h0->t.data : zh) + b * H : Y + (b * TY + s - 1) * H;
      memcpy(row, X + (b * T + s) * I, sizeof(ae_real) * (size_t)I);
      memcpy(row + I, hp, sizeof(ae_real) * (size_t)H);
      if (has_b) row[I + H] = 1;
    }
    ae_gemm(0, 1, B, 4 * H, K, 1, xh, K, W, K, 0, p, 4 * H); /* the composite's matmul(xh, w, 0, 1) */
    AE_PAR_FOR(AE_PAR(B * 4 * H), schedule(static),
    for (int64_t b = 0; b < B; b++)
      ae__lstm_fwd_row(H, p + b * 4 * H, cp + b * H, Y + (b * TY + s) * H, cn + b * H,
                       sv ? sv + b * NKEPT * H : NULL, sv ? NKEPT : 0););
  }
  if (with_c) { /* c_T after the outputs */
    const ae_real *cT = kb.c + (keep ? T - 1 : (T - 1) % 2) * B * H;
    for (int64_t b = 0; b < B; b++) memcpy(Y + (b * TY + T) * H, cT + b * H, sizeof(ae_real) * (size_t)H);
  }
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

void ae_bw_lstm_seq(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  if (ae_grad_enabled(t) || !n->saved[0]) { /* (nothing kept: cannot happen, see keep) */
    bw_composite(t, n, g, gin);
    return;
  }
  const char *op = "lstm_seq_backward";
  ae_val *x = n->in[0], *w = n->in[1];
  const int flags = (int)n->i[0], ih = 2, ic = 2 + !!(flags & HAS_H0);
  const seq_dims d = dims_of(x, w);
  const int64_t B = d.B, T = d.T, I = d.I, H = d.H, K = d.K, TY = T + !!n->i[2];
  const int nx = ae_needs_grad(t, n, 0), nw = ae_needs_grad(t, n, 1);
  const int nh = (flags & HAS_H0) && ae_needs_grad(t, n, ih), nc = (flags & HAS_C0) && ae_needs_grad(t, n, ic);
  if (!ae_op_begin(t, op, 2, (ae_val *[]){g, x})) return;
  ae_val *dx = nx ? ae_op_out(t, op, x->t.shape) : NULL, *dw = nw ? ae_op_out(t, op, w->t.shape) : NULL;
  ae_val *dh0 = nh ? ae_op_out(t, op, AE_SHAPE(B, H)) : NULL, *dc0 = nc ? ae_op_out(t, op, AE_SHAPE(B, H)) : NULL;
  /* per step: [gh gc] (B,2H), dP (B,4H), dXH (B,K), dc (B,H) */
  ae_real *gg = ae_arena_alloc(t, op, sizeof(ae_real) * (size_t)(B * (2 * H + 4 * H + K + H)));
  ae_real *zc = (flags & HAS_C0) ? NULL : zero_rows(t, B, H);
  if (!ae_tape_ok(t) || !gg) return;
  ae_real *dp = gg + B * 2 * H, *dxh = dp + B * 4 * H, *dc = dxh + B * K;
  const seq_bufs kb = carve(&d, n->saved[0]->t.data);
  const ae_real *G = g->t.data, *W = w->t.data, *c0 = (flags & HAS_C0) ? n->in[ic]->t.data : zc;
  for (int64_t s = T - 1; s >= 0; s--) {
    for (int64_t b = 0; b < B; b++) { /* gh = dY_s + dh, gc = dc (after the last step: c_T's, or none) */
      ae_real *gr = gg + b * 2 * H;
      const ae_real *gy = G + (b * TY + s) * H;
      if (s == T - 1) {
        memcpy(gr, gy, sizeof(ae_real) * (size_t)H);
        if (TY > T)
          memcpy(gr + H, gy + H, sizeof(ae_real) * (size_t)H);
        else
          memset(gr + H, 0, sizeof(ae_real) * (size_t)H);
      } else {
        const ae_real *dh = dxh + b * K + I;
        for (int64_t j = 0; j < H; j++) gr[j] = gy[j] + dh[j];
        memcpy(gr + H, dc + b * H, sizeof(ae_real) * (size_t)H);
      }
    }
    const ae_real *cp = s == 0 ? c0 : kb.c + (s - 1) * B * H;
    ae__lstm_bw_rows(B, H, NULL, cp, gg, kb.s + s * B * NKEPT * H, NKEPT, dp, 4 * H, dc, H);
    const ae_real *xh = kb.xh + s * B * K;
    if (nw) /* the composite's matmul rule: g^T xh, added to the later steps' sum */
      ae_gemm(1, 0, 4 * H, K, B, 1, dp, 4 * H, xh, K, s == T - 1 ? 0 : 1, dw->t.data, K);
    if (s > 0 || nx || nh) ae_gemm(0, 0, B, K, 4 * H, 1, dp, 4 * H, W, K, 0, dxh, K); /* g w */
    if (nx)
      for (int64_t b = 0; b < B; b++) memcpy(dx->t.data + (b * T + s) * I, dxh + b * K, sizeof(ae_real) * (size_t)I);
  }
  if (nh)
    for (int64_t b = 0; b < B; b++) memcpy(dh0->t.data + b * H, dxh + b * K + I, sizeof(ae_real) * (size_t)H);
  if (nc) memcpy(dc0->t.data, dc, sizeof(ae_real) * (size_t)(B * H));
  /* nothing is recorded (grad mode is off); anomaly mode checks them */
  ae_val *out[4] = {dx, dw, dh0, dc0};
  for (int k = 0; k < 4; k++)
    if (out[k]) ae_op_record(t, AE_OP_LSTM_SEQ, out[k], 0, NULL);
  gin[0] = dx, gin[1] = dw;
  if (flags & HAS_H0) gin[ih] = dh0;
  if (flags & HAS_C0) gin[ic] = dc0;
}
