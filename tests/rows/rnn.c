/* rows/rnn.c: op-table rows of the rnn family (ops/rnn.h): the fused gate
 * ops lstm_gates, gru_gates and their backward kernels, and the cells and
 * unrolls built on them (tagged with the gate op they record, or the LSTM
 * unroll's lstm_seq). References are plain double loops of PyTorch's
 * equations, generic in B, T, I, H, so tests/test_rnn.c reuses them on
 * other shapes.
 *
 * Cell and unroll rows: iattr[0] is a mask of the optional inputs present
 * (RNN_H, RNN_C, RNN_BIH, RNN_BHH); the inputs are x, [h], [c], w_ih,
 * w_hh, [b_ih], [b_hh] in that order (missing states are zeros, missing
 * biases none). Outputs: lstm_cell [h' c'] (B,2H); gru_cell h' (B,H);
 * lstm_unroll [outputs as (B,T*H), c_T] (B,(T+1)H); lstm_seq: the unroll
 * with h_T, not c_T, [outputs, h_T] (B,(T+1)H) (both record one lstm_seq
 * node); gru_unroll (B,T,H). */
#include <math.h>
#include <string.h>

#include "../op_table.h"
#include "rnn_rows.h"

static double sig(double v) { return 1 / (1 + exp(-v)); }

/* ---- fused gate ops ---- */
static ae_val *build_lstm_gates(ae_tape *t, ae_val *const *in, const op_row *row) {
  (void)row;
  return ae_lstm_gates(t, in[0], in[1]);
}
static void ref_lstm_gates(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  (void)row;
  int64_t B = in[1]->shape.d[0], H = in[1]->shape.d[1];
  for (int64_t b = 0; b < B; b++)
    for (int64_t j = 0; j < H; j++) {
      const ae_real *p = in[0]->data + b * 4 * H;
      double i = sig(p[j]), f = sig(p[H + j]), g = tanh(p[2 * H + j]), o = sig(p[3 * H + j]);
      double c = f * in[1]->data[b * H + j] + i * g;
      out->data[b * 2 * H + j] = (ae_real)(o * tanh(c));
      out->data[b * 2 * H + H + j] = (ae_real)c;
    }
}
static ae_val *build_lstm_gates_bw(ae_tape *t, ae_val *const *in, const op_row *row) {
  (void)row;
  return ae_lstm_gates_backward(t, in[0], in[1], in[2]);
}
static void ref_lstm_gates_bw(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  (void)row;
  int64_t B = in[2]->shape.d[0], H = in[2]->shape.d[1];
  for (int64_t b = 0; b < B; b++)
    for (int64_t j = 0; j < H; j++) {
      const ae_real *g = in[0]->data + b * 2 * H, *p = in[1]->data + b * 4 * H;
      double c = in[2]->data[b * H + j];
      double i = sig(p[j]), f = sig(p[H + j]), u = tanh(p[2 * H + j]), o = sig(p[3 * H + j]);
      double T = tanh(f * c + i * u), a = g[H + j] + g[j] * o * (1 - T * T);
      ae_real *r = out->data + b * 5 * H;
      r[j] = (ae_real)(a * u * i * (1 - i));
      r[H + j] = (ae_real)(a * c * f * (1 - f));
      r[2 * H + j] = (ae_real)(a * i * (1 - u * u));
      r[3 * H + j] = (ae_real)(g[j] * T * o * (1 - o));
      r[4 * H + j] = (ae_real)(a * f);
    }
}
static ae_val *build_gru_gates(ae_tape *t, ae_val *const *in, const op_row *row) {
  (void)row;
  return ae_gru_gates(t, in[0], in[1], in[2]);
}
static void ref_gru_gates(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  (void)row;
  int64_t B = in[2]->shape.d[0], H = in[2]->shape.d[1];
  for (int64_t b = 0; b < B; b++)
    for (int64_t j = 0; j < H; j++) {
      const ae_real *x = in[0]->data + b * 3 * H, *h = in[1]->data + b * 3 * H;
      double r = sig(x[j] + h[j]), z = sig(x[H + j] + h[H + j]), n = tanh(x[2 * H + j] + r * h[2 * H + j]);
      out->data[b * H + j] = (ae_real)((1 - z) * n + z * in[2]->data[b * H + j]);
    }
}
static ae_val *build_gru_gates_bw(ae_tape *t, ae_val *const *in, const op_row *row) {
  (void)row;
  return ae_gru_gates_backward(t, in[0], in[1], in[2], in[3]);
}
static void ref_gru_gates_bw(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  (void)row;
  int64_t B = in[3]->shape.d[0], H = in[3]->shape.d[1];
  for (int64_t b = 0; b < B; b++)
    for (int64_t j = 0; j < H; j++) {
      double d = in[0]->data[b * H + j], hp = in[3]->data[b * H + j];
      const ae_real *x = in[1]->data + b * 3 * H, *h = in[2]->data + b * 3 * H;
      double r = sig(x[j] + h[j]), z = sig(x[H + j] + h[H + j]), n = tanh(x[2 * H + j] + r * h[2 * H + j]);
      double dn = d * (1 - z) * (1 - n * n), dz = d * (hp - n) * z * (1 - z), dr = dn * h[2 * H + j] * r * (1 - r);
      ae_real *o = out->data + b * 7 * H;
      o[j] = (ae_real)dr, o[H + j] = (ae_real)dz, o[2 * H + j] = (ae_real)dn;
      o[3 * H + j] = (ae_real)dr, o[4 * H + j] = (ae_real)dz, o[5 * H + j] = (ae_real)(dn * r);
      o[6 * H + j] = (ae_real)(d * z);
    }
}

/* ---- cells and unrolls ---- */
rnn_in rnn_pick_vals(ae_val *const *in, int mask, int lstm) {
  rnn_in r = {0};
  r.x = in[r.k++];
  if (mask & RNN_H) r.h = in[r.k++];
  if (lstm && (mask & RNN_C)) r.c = in[r.k++];
  r.wi = in[r.k++], r.wh = in[r.k++];
  if (mask & RNN_BIH) r.bi = in[r.k++];
  if (mask & RNN_BHH) r.bh = in[r.k++];
  return r;
}

ae_val *rnn_build_lstm_cell(ae_tape *t, ae_val *const *in, const op_row *row) {
  rnn_in v = rnn_pick_vals(in, row->iattr[0], 1);
  ae_val *c = NULL, *h = ae_lstm_cell(t, v.x, v.h, v.c, v.wi, v.wh, v.bi, v.bh, &c);
  return ae_concat(t, 2, (ae_val *[]){h, c}, 1);
}
ae_val *rnn_build_gru_cell(ae_tape *t, ae_val *const *in, const op_row *row) {
  rnn_in v = rnn_pick_vals(in, row->iattr[0], 0);
  return ae_gru_cell(t, v.x, v.h, v.wi, v.wh, v.bi, v.bh);
}
/* The unroll's outputs as (B,T*H), then its last h (want_c 0) or its last
 * c (want_c 1): (B,(T+1)H). Both record one lstm_seq node; with c_T asked
 * for, the op's own value carries c_T. */
static ae_val *unroll_flat(ae_tape *t, ae_val *const *in, const op_row *row, int want_c) {
  rnn_in v = rnn_pick_vals(in, row->iattr[0], 1);
  ae_val *last = NULL;
  ae_val *y = ae_lstm_unroll(t, v.x, v.h, v.c, v.wi, v.wh, v.bi, v.bh, want_c ? NULL : &last, want_c ? &last : NULL);
  if (!y) return NULL;
  int64_t B = y->t.shape.d[0], TH = y->t.shape.d[1] * y->t.shape.d[2];
  return ae_concat(t, 2, (ae_val *[]){ae_reshape(t, y, AE_SHAPE(B, TH)), last}, 1);
}
ae_val *rnn_build_lstm_unroll(ae_tape *t, ae_val *const *in, const op_row *row) { return unroll_flat(t, in, row, 1); }
/* The unroll asked for h_T, not c_T: [outputs as (B,T*H), h_T]. */
ae_val *rnn_build_lstm_seq(ae_tape *t, ae_val *const *in, const op_row *row) { return unroll_flat(t, in, row, 0); }
ae_val *rnn_build_gru_unroll(ae_tape *t, ae_val *const *in, const op_row *row) {
  rnn_in v = rnn_pick_vals(in, row->iattr[0], 0);
  return ae_gru_unroll(t, v.x, v.h, v.wi, v.wh, v.bi, v.bh, NULL);
}

/* Plain loops: one step of the recurrence for one batch row, in double. */
static void lstm_step_ref(int64_t I, int64_t H, const ae_real *x, double *h, double *c, const ae_tensor *wi,
                          const ae_tensor *wh, const ae_tensor *bi, const ae_tensor *bh) {
  double pre[4 * RNN_REF_MAX_H], hn[RNN_REF_MAX_H];
  for (int64_t r = 0; r < 4 * H; r++) {
    double s = (bi ? bi->data[r] : 0) + (bh ? bh->data[r] : 0);
    for (int64_t k = 0; k < I; k++) s += (double)wi->data[r * I + k] * x[k];
    for (int64_t k = 0; k < H; k++) s += (double)wh->data[r * H + k] * h[k];
    pre[r] = s;
  }
  for (int64_t j = 0; j < H; j++) {
    double i = sig(pre[j]), f = sig(pre[H + j]), g = tanh(pre[2 * H + j]), o = sig(pre[3 * H + j]);
    c[j] = f * c[j] + i * g;
    hn[j] = o * tanh(c[j]);
  }
  memcpy(h, hn, sizeof(double) * (size_t)H);
}
static void gru_step_ref(int64_t I, int64_t H, const ae_real *x, double *h, const ae_tensor *wi,
                         const ae_tensor *wh, const ae_tensor *bi, const ae_tensor *bh) {
  double gx[3 * RNN_REF_MAX_H], gh[3 * RNN_REF_MAX_H];
  for (int64_t r = 0; r < 3 * H; r++) {
    double sx = bi ? bi->data[r] : 0, sh = bh ? bh->data[r] : 0;
    for (int64_t k = 0; k < I; k++) sx += (double)wi->data[r * I + k] * x[k];
    for (int64_t k = 0; k < H; k++) sh += (double)wh->data[r * H + k] * h[k];
    gx[r] = sx, gh[r] = sh;
  }
  for (int64_t j = 0; j < H; j++) {
    double r = sig(gx[j] + gh[j]), z = sig(gx[H + j] + gh[H + j]), n = tanh(gx[2 * H + j] + r * gh[2 * H + j]);
    h[j] = (1 - z) * n + z * h[j];
  }
}

typedef struct rnn_ten {
  int k;
  ae_tensor *x, *h, *c, *wi, *wh, *bi, *bh;
} rnn_ten;
static rnn_ten pick_tens(ae_tensor *const *in, int mask, int lstm) {
  rnn_ten r = {0};
  r.x = in[r.k++];
  if (mask & RNN_H) r.h = in[r.k++];
  if (lstm && (mask & RNN_C)) r.c = in[r.k++];
  r.wi = in[r.k++], r.wh = in[r.k++];
  if (mask & RNN_BIH) r.bi = in[r.k++];
  if (mask & RNN_BHH) r.bh = in[r.k++];
  return r;
}

/* The whole recurrence; `seq`: x is (B,T,I), else (B,I) and T = 1. */
static void rnn_ref(ae_tensor *const *in, ae_tensor *out, const op_row *row, int lstm, int seq) {
  rnn_ten v = pick_tens(in, row->iattr[0], lstm);
  int64_t B = v.x->shape.d[0], T = seq ? v.x->shape.d[1] : 1, I = v.x->shape.d[seq ? 2 : 1];
  int64_t H = v.wh->shape.d[1], W = out->shape.d[out->shape.ndim - 1];
  if (out->shape.ndim == 3) W = T * H; /* gru_unroll (B,T,H) */
  for (int64_t b = 0; b < B; b++) {
    double h[RNN_REF_MAX_H], c[RNN_REF_MAX_H];
    for (int64_t j = 0; j < H; j++) h[j] = v.h ? v.h->data[b * H + j] : 0, c[j] = v.c ? v.c->data[b * H + j] : 0;
    ae_real *o = out->data + b * W;
    for (int64_t s = 0; s < T; s++) {
      const ae_real *x = v.x->data + (b * T + s) * I;
      if (lstm)
        lstm_step_ref(I, H, x, h, c, v.wi, v.wh, v.bi, v.bh);
      else
        gru_step_ref(I, H, x, h, v.wi, v.wh, v.bi, v.bh);
      for (int64_t j = 0; j < H; j++) o[s * H + j] = (ae_real)h[j];
    }
    if (lstm)
      for (int64_t j = 0; j < H; j++) o[T * H + j] = (ae_real)c[j];
  }
}
void rnn_ref_lstm_cell(ae_tensor *const *in, ae_tensor *out, const op_row *row) { rnn_ref(in, out, row, 1, 0); }
void rnn_ref_gru_cell(ae_tensor *const *in, ae_tensor *out, const op_row *row) { rnn_ref(in, out, row, 0, 0); }
void rnn_ref_lstm_unroll(ae_tensor *const *in, ae_tensor *out, const op_row *row) { rnn_ref(in, out, row, 1, 1); }
void rnn_ref_gru_unroll(ae_tensor *const *in, ae_tensor *out, const op_row *row) { rnn_ref(in, out, row, 0, 1); }
/* [h_1 .. h_T, h_T]: the unroll's reference with c_T's place taken by h_T. */
void rnn_ref_lstm_seq(ae_tensor *const *in, ae_tensor *out, const op_row *row) {
  rnn_ref(in, out, row, 1, 1);
  int64_t B = out->shape.d[0], W = out->shape.d[1], H = W / (in[0]->shape.d[1] + 1);
  for (int64_t b = 0; b < B; b++)
    memcpy(out->data + b * W + W - H, out->data + b * W + W - 2 * H, sizeof(ae_real) * (size_t)H);
}

#define S OP_SHAPE
AE_OP_ROWS(rnn,
  {.op = AE_OP_LSTM_GATES, .label = "lstm_gates B2 H3", .nin = 2, .in_shape = {S(2, 12), S(2, 3)}, .lo = -2,
   .hi = 2, .build = build_lstm_gates, .reference = ref_lstm_gates, .out_shape = S(2, 6)},
  {.op = AE_OP_LSTM_GATES_BACKWARD, .label = "lstm_gates_backward B2 H3", .nin = 3,
   .in_shape = {S(2, 6), S(2, 12), S(2, 3)}, .lo = -2, .hi = 2, .build = build_lstm_gates_bw,
   .reference = ref_lstm_gates_bw, .out_shape = S(2, 15)},
  {.op = AE_OP_GRU_GATES, .label = "gru_gates B2 H3", .nin = 3, .in_shape = {S(2, 9), S(2, 9), S(2, 3)}, .lo = -2,
   .hi = 2, .build = build_gru_gates, .reference = ref_gru_gates, .out_shape = S(2, 3)},
  {.op = AE_OP_GRU_GATES_BACKWARD, .label = "gru_gates_backward B2 H3", .nin = 4,
   .in_shape = {S(2, 3), S(2, 9), S(2, 9), S(2, 3)}, .lo = -2, .hi = 2, .build = build_gru_gates_bw,
   .reference = ref_gru_gates_bw, .out_shape = S(2, 21)},
  {.op = AE_OP_LSTM_GATES, .label = "lstm_cell x h c w_ih w_hh b_ih", .nin = 6,
   .in_shape = {S(2, 3), S(2, 4), S(2, 4), S(16, 3), S(16, 4), S(16)}, .lo = -1, .hi = 1,
   .build = rnn_build_lstm_cell, .reference = rnn_ref_lstm_cell, .out_shape = S(2, 8),
   .iattr = {RNN_H | RNN_C | RNN_BIH}},
  {.op = AE_OP_LSTM_SEQ, .label = "lstm_unroll T3 B2 I3 H4 (h0 c0 b_ih)", .nin = 6,
   .in_shape = {S(2, 3, 3), S(2, 4), S(2, 4), S(16, 3), S(16, 4), S(16)}, .lo = -1, .hi = 1,
   .build = rnn_build_lstm_unroll, .reference = rnn_ref_lstm_unroll, .out_shape = S(2, 16),
   .iattr = {RNN_H | RNN_C | RNN_BIH}},
  {.op = AE_OP_LSTM_SEQ, .label = "lstm_unroll T3 B2 I3 H4 (zero state, both biases)", .nin = 5,
   .in_shape = {S(2, 3, 3), S(16, 3), S(16, 4), S(16), S(16)}, .lo = -1, .hi = 1,
   .build = rnn_build_lstm_unroll, .reference = rnn_ref_lstm_unroll, .out_shape = S(2, 16),
   .iattr = {RNN_BIH | RNN_BHH}},
  {.op = AE_OP_LSTM_SEQ, .label = "lstm_seq T3 B2 I3 H4 (h0 c0 b_ih)", .nin = 6,
   .in_shape = {S(2, 3, 3), S(2, 4), S(2, 4), S(16, 3), S(16, 4), S(16)}, .lo = -1, .hi = 1,
   .build = rnn_build_lstm_seq, .reference = rnn_ref_lstm_seq, .out_shape = S(2, 16),
   .iattr = {RNN_H | RNN_C | RNN_BIH}},
  {.op = AE_OP_LSTM_SEQ, .label = "lstm_seq T4 B3 I2 H3 (zero state, both biases)", .nin = 5,
   .in_shape = {S(3, 4, 2), S(12, 2), S(12, 3), S(12), S(12)}, .lo = -1, .hi = 1,
   .build = rnn_build_lstm_seq, .reference = rnn_ref_lstm_seq, .out_shape = S(3, 15),
   .iattr = {RNN_BIH | RNN_BHH}},
  {.op = AE_OP_LSTM_SEQ, .label = "lstm_seq T2 B2 I3 H2 (c0, no biases)", .nin = 4,
   .in_shape = {S(2, 2, 3), S(2, 2), S(8, 3), S(8, 2)}, .lo = -1, .hi = 1,
   .build = rnn_build_lstm_seq, .reference = rnn_ref_lstm_seq, .out_shape = S(2, 6),
   .iattr = {RNN_C}},
  {.op = AE_OP_GRU_GATES, .label = "gru_cell x h w_ih w_hh b_ih b_hh", .nin = 6,
   .in_shape = {S(2, 3), S(2, 4), S(12, 3), S(12, 4), S(12), S(12)}, .lo = -1, .hi = 1,
   .build = rnn_build_gru_cell, .reference = rnn_ref_gru_cell, .out_shape = S(2, 4),
   .iattr = {RNN_H | RNN_BIH | RNN_BHH}},
  {.op = AE_OP_GRU_GATES, .label = "gru_unroll T3 B2 I3 H4 (h0, both biases)", .nin = 6,
   .in_shape = {S(2, 3, 3), S(2, 4), S(12, 3), S(12, 4), S(12), S(12)}, .lo = -1, .hi = 1,
   .build = rnn_build_gru_unroll, .reference = rnn_ref_gru_unroll, .out_shape = S(2, 3, 4),
   .iattr = {RNN_H | RNN_BIH | RNN_BHH}})
#undef S
