/* rnn.c: the LSTM and GRU cells and the helpers that unroll them over a
 * sequence, composed from concat, matmul, slice, stack and the fused gate
 * ops of rnn_gates.c (so they need no rule of their own), except the LSTM
 * unroll, which is one op, lstm_seq (rnn_seq.c): the same GEMMs and gate
 * kernels, bitwise the same values and gradients, without the few hundred
 * nodes a step-by-step unroll records and the copies their rules make.
 *
 * One LSTM step is one matmul: [x h 1] (B,I+H+1) times W^T, with
 * W = [W_ih W_hh b_ih+b_hh] (4H,I+H+1) joined once per call, so the bias
 * rides in the GEMM and its gradient comes out of the weight gradient. A
 * GRU step is two, [x 1] [W_ih b_ih]^T and [h 1] [W_hh b_hh]^T (n's
 * hidden part is gated by r, so the two cannot be summed first).
 *
 * The composed unrolls (the GRU's, and the LSTM's step by step, which
 * tests compare lstm_seq with) feed step s the slice x[:, s, :]. Every
 * slice's gradient is the full (B,T,I) tensor padded with zeros (the
 * engine accumulates whole gradients), so when x needs a gradient it is
 * cut by halving (log2 T levels of slices) rather than T slices of the
 * whole: O(T log T) instead of O(T^2) work and arena in backward. The
 * input projection is therefore done per step, not as one (B*T,I) matmul
 * whose (B,T,4H) result would have to be cut the same way. A step's
 * [h' c'] is released once cut (autograd/tape_internal.h): its buffer
 * serves the next step; after an LSTM unroll, so are the pieces of x and
 * the steps' h. */
#include "rnn.h"

#include "autograd/op_api.h"
#include "autograd/tape_internal.h"
#include "ops.h"
#include "rnn_internal.h"
#include "tensor_ops.h"

/* Checks the arguments of a cell or unroll: x (B,I) or (B,T,I), weights,
 * biases, h and c (NULL allowed); sets B, I, H. 0 with the error raised. */
static int check_args(ae_tape *t, const char *op, int ngates, int xdim, ae_val *x, ae_val *h, ae_val *c,
                      ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh, int64_t *B, int64_t *I, int64_t *H) {
  if (!ae_op_begin(t, op, 3, (ae_val *[]){x, w_ih, w_hh})) return 0;
  char s1[AE_SHAPE_BUF], s2[AE_SHAPE_BUF], s3[AE_SHAPE_BUF];
  ae_shape xs = x->t.shape, wi = w_ih->t.shape, wh = w_hh->t.shape;
  if (xs.ndim != xdim) {
    ae_raise(t, AE_ERR_SHAPE, op, "x has shape %s, expected %s", ae_sstr(xs, s1), xdim == 3 ? "(B,T,I)" : "(B,I)");
    return 0;
  }
  if (wh.ndim != 2 || wh.d[1] < 1 || wh.d[0] != ngates * wh.d[1]) {
    ae_raise(t, AE_ERR_SHAPE, op, "weight_hh has shape %s, expected (%d*H,H)", ae_sstr(wh, s1), ngates);
    return 0;
  }
  *H = wh.d[1], *B = xs.d[0], *I = xs.d[xdim - 1];
  if (wi.ndim != 2 || wi.d[0] != ngates * *H) {
    ae_raise(t, AE_ERR_SHAPE, op, "weight_ih %s and weight_hh %s: weight_ih must be (%lld,I) (%d*H rows)",
             ae_sstr(wi, s1), ae_sstr(wh, s2), (long long)(ngates * *H), ngates);
    return 0;
  }
  if (wi.d[1] != *I) {
    ae_raise(t, AE_ERR_SHAPE, op, "x %s and weight_ih %s: input size %lld, weight expects %lld", ae_sstr(xs, s1),
             ae_sstr(wi, s2), (long long)*I, (long long)wi.d[1]);
    return 0;
  }
  ae_val *b[2] = {b_ih, b_hh};
  for (int k = 0; k < 2; k++)
    if (b[k] && (b[k]->t.shape.ndim != 1 || b[k]->t.shape.d[0] != ngates * *H)) {
      ae_raise(t, AE_ERR_SHAPE, op, "%s has shape %s, expected (%lld,) (%d*H for weight_hh %s)",
               k ? "bias_hh" : "bias_ih", ae_sstr(b[k]->t.shape, s1), (long long)(ngates * *H), ngates,
               ae_sstr(wh, s2));
      return 0;
    }
  ae_val *st[2] = {h, c};
  for (int k = 0; k < 2; k++)
    if (st[k] && (st[k]->t.shape.ndim != 2 || st[k]->t.shape.d[0] != *B || st[k]->t.shape.d[1] != *H)) {
      ae_raise(t, AE_ERR_SHAPE, op, "%s has shape %s but x %s and weight_hh %s need (%lld,%lld)", k ? "c" : "h",
               ae_sstr(st[k]->t.shape, s1), ae_sstr(xs, s2), ae_sstr(wh, s3), (long long)*B,
               (long long)*H);
      return 0;
    }
  return 1;
}

/* What every step of one call shares: the joined weight(s) and the ones column. */
typedef struct cell_ctx {
  int64_t B, H;
  ae_val *w, *w2; /* LSTM: w = [W_ih W_hh b]; GRU: w = [W_ih b_ih], w2 = [W_hh b_hh] */
  ae_val *ones;   /* (B,1), NULL without biases */
  int has_b1, has_b2; /* GRU: b_ih, b_hh given */
} cell_ctx;

static ae_val *as_column(ae_tape *t, ae_val *b) { return ae_reshape(t, b, AE_SHAPE(b->t.shape.d[0], 1)); }

/* The joined LSTM weight [W_ih W_hh b] (4H,I+H+1), b = b_ih + b_hh, or
 * [W_ih W_hh] without biases. */
static ae_val *lstm_join(ae_tape *t, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh) {
  ae_val *b = b_ih && b_hh ? ae_add(t, b_ih, b_hh) : b_ih ? b_ih : b_hh;
  ae_val *parts[3] = {w_ih, w_hh, b ? as_column(t, b) : NULL};
  return ae_concat(t, b ? 3 : 2, parts, 1);
}

static void lstm_prepare(ae_tape *t, cell_ctx *k, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh) {
  k->w = lstm_join(t, w_ih, w_hh, b_ih, b_hh);
  k->ones = b_ih || b_hh ? ae_full(t, AE_SHAPE(k->B, 1), 1) : NULL;
}

/* h' of one LSTM step; *c_out gets c'. */
static ae_val *lstm_step(ae_tape *t, const cell_ctx *k, ae_val *x, ae_val *h, ae_val *c, ae_val **c_out) {
  ae_val *xh = ae_concat(t, k->ones ? 3 : 2, (ae_val *[]){x, h, k->ones}, 1);
  ae_val *y = ae_lstm_gates(t, ae_matmul(t, xh, k->w, 0, 1), c);
  *c_out = ae_slice(t, y, 1, k->H, k->H);
  ae_val *hn = ae_slice(t, y, 1, 0, k->H);
  /* [h' c'] is read by no rule (lstm_gates' reads its inputs, slice's
   * only shapes) and by no one else: its buffer serves the next step */
  if (hn && *c_out) ae__tape_release(t, y);
  return hn;
}

static void gru_prepare(ae_tape *t, cell_ctx *k, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh) {
  k->w = b_ih ? ae_concat(t, 2, (ae_val *[]){w_ih, as_column(t, b_ih)}, 1) : w_ih;
  k->w2 = b_hh ? ae_concat(t, 2, (ae_val *[]){w_hh, as_column(t, b_hh)}, 1) : w_hh;
  k->ones = b_ih || b_hh ? ae_full(t, AE_SHAPE(k->B, 1), 1) : NULL;
  k->has_b1 = b_ih != NULL, k->has_b2 = b_hh != NULL;
}

/* Input part of a GRU step, [x 1] [W_ih b_ih]^T (B,3H). */
static ae_val *gru_input(ae_tape *t, const cell_ctx *k, ae_val *x) {
  return ae_matmul(t, k->has_b1 ? ae_concat(t, 2, (ae_val *[]){x, k->ones}, 1) : x, k->w, 0, 1);
}
static ae_val *gru_step(ae_tape *t, const cell_ctx *k, ae_val *gx, ae_val *h) {
  ae_val *hb = k->has_b2 ? ae_concat(t, 2, (ae_val *[]){h, k->ones}, 1) : h;
  return ae_gru_gates(t, gx, ae_matmul(t, hb, k->w2, 0, 1), h);
}

static ae_val *zeros_or(ae_tape *t, ae_val *v, int64_t B, int64_t H) {
  return v ? v : ae_full(t, AE_SHAPE(B, H), 0);
}

ae_val *ae_lstm_cell(ae_tape *t, ae_val *x, ae_val *h, ae_val *c, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih,
                     ae_val *b_hh, ae_val **c_out) {
  if (c_out) *c_out = NULL;
  cell_ctx k = {0};
  int64_t I;
  if (!check_args(t, "lstm_cell", 4, 2, x, h, c, w_ih, w_hh, b_ih, b_hh, &k.B, &I, &k.H)) return NULL;
  lstm_prepare(t, &k, w_ih, w_hh, b_ih, b_hh);
  ae_val *cn = NULL;
  ae_val *hn = lstm_step(t, &k, x, zeros_or(t, h, k.B, k.H), zeros_or(t, c, k.B, k.H), &cn);
  if (!ae_tape_ok(t)) return NULL;
  if (c_out) *c_out = cn;
  return hn;
}

ae_val *ae_gru_cell(ae_tape *t, ae_val *x, ae_val *h, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh) {
  cell_ctx k = {0};
  int64_t I;
  if (!check_args(t, "gru_cell", 3, 2, x, h, NULL, w_ih, w_hh, b_ih, b_hh, &k.B, &I, &k.H)) return NULL;
  gru_prepare(t, &k, w_ih, w_hh, b_ih, b_hh);
  ae_val *hn = gru_step(t, &k, gru_input(t, &k, x), zeros_or(t, h, k.B, k.H));
  return ae_tape_ok(t) ? hn : NULL;
}

/* xs[0..n) = the steps lo..lo+n of v (B,n,I) as (B,I) values, by halving;
 * the slices it cuts are appended to cut[*ncut...]. */
static void split_halving(ae_tape *t, ae_val *v, int64_t n, ae_val **xs, ae_val **cut, int64_t *ncut) {
  if (n == 1) {
    *xs = ae_reshape(t, v, AE_SHAPE(v->t.shape.d[0], v->t.shape.d[2]));
    return;
  }
  int64_t m = n / 2;
  ae_val *lo = ae_slice(t, v, 1, 0, m), *hi = ae_slice(t, v, 1, m, n - m);
  cut[(*ncut)++] = lo, cut[(*ncut)++] = hi;
  split_halving(t, lo, m, xs, cut, ncut);
  split_halving(t, hi, n - m, xs + m, cut, ncut);
}

/* The T steps of x (B,T,I) in the arena; NULL on error. The values made
 * to cut them (slices or selects, at most 2T) go to *cut, *ncut. */
static ae_val **split_steps(ae_tape *t, const char *op, ae_val *x, ae_val ***cut, int64_t *ncut) {
  int64_t T = x->t.shape.d[1];
  ae_val **xs = ae_arena_alloc(t, op, sizeof *xs * (size_t)T);
  *cut = ae_arena_alloc(t, op, sizeof **cut * (size_t)(2 * T));
  *ncut = 0;
  if (!xs || !*cut) return NULL;
  if (x->requires_grad && ae_grad_enabled(t))
    split_halving(t, x, T, xs, *cut, ncut);
  else
    for (int64_t s = 0; s < T; s++) (*cut)[(*ncut)++] = xs[s] = ae_select(t, x, 1, s);
  return ae_tape_ok(t) ? xs : NULL;
}

/* After an LSTM unroll: the pieces cut from x, and every step's h but the
 * last (which the caller may get), are read by no rule (slice's, select's,
 * concat's and stack's read only shapes; lstm_gates reads c, not h) and
 * by no one else: their buffers serve what follows. */
static void release_lstm_steps(ae_tape *t, const ae_val *x, ae_val **cut, int64_t ncut, ae_val **hs, int64_t T) {
  for (int64_t k = 0; k < ncut; k++)
    if (cut[k] && cut[k]->t.data != x->t.data) ae__tape_release(t, cut[k]); /* slices copy; x is the caller's */
  for (int64_t s = 0; s + 1 < T; s++) ae__tape_release(t, hs[s]);
}

static int check_steps(ae_tape *t, const char *op, ae_val *x) {
  if (x->t.shape.d[1] >= 1) return 1;
  char s[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "x has shape %s: no time steps", ae_sstr(x->t.shape, s));
  return 0;
}

/* The unroll composed step by step (concat, matmul, lstm_gates, slices)
 * with the joined weight w; *h_last, *c_last (may be NULL) get h_T, c_T.
 * What ae_lstm_unroll recorded before lstm_seq, kept for tests. */
static ae_val *lstm_unroll_steps(ae_tape *t, ae_val *x, ae_val *w, int has_b, ae_val *h0, ae_val *c0, ae_val **h_last,
                                 ae_val **c_last) {
  if (h_last) *h_last = NULL;
  if (c_last) *c_last = NULL;
  if (!ae_op_begin(t, "lstm_unroll", 2, (ae_val *[]){x, w})) return NULL;
  cell_ctx k = {.B = x->t.shape.d[0], .H = w->t.shape.d[0] / 4, .w = w};
  k.ones = has_b ? ae_full(t, AE_SHAPE(k.B, 1), 1) : NULL;
  int64_t T = x->t.shape.d[1], ncut;
  ae_val **cut, **xs = split_steps(t, "lstm_unroll", x, &cut, &ncut);
  ae_val **hs = ae_arena_alloc(t, "lstm_unroll", sizeof *hs * (size_t)T);
  if (!xs || !hs) return NULL;
  ae_val *h = zeros_or(t, h0, k.B, k.H), *c = zeros_or(t, c0, k.B, k.H);
  for (int64_t s = 0; s < T && ae_tape_ok(t); s++) h = hs[s] = lstm_step(t, &k, xs[s], h, c, &c);
  ae_val *out = ae_tape_ok(t) ? ae_stack(t, (int)T, hs, 1) : NULL;
  if (!out) return NULL;
  release_lstm_steps(t, x, cut, ncut, hs, T);
  if (h_last) *h_last = h;
  if (c_last) *c_last = c;
  return out;
}

static _Thread_local int steps_only; /* ae__lstm_unroll_set_steps */

void ae__lstm_unroll_set_steps(int on) { steps_only = on; }

ae_val *ae_lstm_unroll(ae_tape *t, ae_val *x, ae_val *h0, ae_val *c0, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih,
                       ae_val *b_hh, ae_val **h_last, ae_val **c_last) {
  if (h_last) *h_last = NULL;
  if (c_last) *c_last = NULL;
  int64_t B, I, H;
  if (!check_args(t, "lstm_unroll", 4, 3, x, h0, c0, w_ih, w_hh, b_ih, b_hh, &B, &I, &H) ||
      !check_steps(t, "lstm_unroll", x))
    return NULL;
  ae_val *w = lstm_join(t, w_ih, w_hh, b_ih, b_hh);
  int has_b = b_ih || b_hh;
  if (!ae_tape_ok(t)) return NULL;
  if (steps_only) return lstm_unroll_steps(t, x, w, has_b, h0, c0, h_last, c_last);
  const int64_t T = x->t.shape.d[1];
  ae_val *y = ae__lstm_seq(t, x, w, has_b, h0, c0, c_last != NULL); /* (B,T,H), or (B,T+1,H) with c_T */
  if (!y) return NULL;
  ae_val *out = c_last ? ae_slice(t, y, 1, 0, T) : y;
  if (h_last) *h_last = ae_select(t, y, 1, T - 1);
  if (c_last) *c_last = ae_select(t, y, 1, T);
  if (!ae_tape_ok(t)) {
    if (h_last) *h_last = NULL;
    if (c_last) *c_last = NULL;
    return NULL;
  }
  return out;
}

ae_val *ae_gru_unroll(ae_tape *t, ae_val *x, ae_val *h0, ae_val *w_ih, ae_val *w_hh, ae_val *b_ih, ae_val *b_hh,
                      ae_val **h_last) {
  if (h_last) *h_last = NULL;
  cell_ctx k = {0};
  int64_t I;
  if (!check_args(t, "gru_unroll", 3, 3, x, h0, NULL, w_ih, w_hh, b_ih, b_hh, &k.B, &I, &k.H) ||
      !check_steps(t, "gru_unroll", x))
    return NULL;
  int64_t T = x->t.shape.d[1], ncut;
  ae_val **cut, **xs = split_steps(t, "gru_unroll", x, &cut, &ncut);
  ae_val **hs = ae_arena_alloc(t, "gru_unroll", sizeof *hs * (size_t)T);
  if (!xs || !hs) return NULL;
  gru_prepare(t, &k, w_ih, w_hh, b_ih, b_hh);
  ae_val *h = zeros_or(t, h0, k.B, k.H);
  for (int64_t s = 0; s < T && ae_tape_ok(t); s++) h = hs[s] = gru_step(t, &k, gru_input(t, &k, xs[s]), h);
  ae_val *out = ae_tape_ok(t) ? ae_stack(t, (int)T, hs, 1) : NULL;
  if (!out) return NULL;
  if (h_last) *h_last = h;
  return out;
}
