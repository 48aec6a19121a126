/* rnn_gates.c: the element-wise math of one LSTM / GRU step as fused ops
 * (one kernel forward, one backward), their backward kernels as ops with
 * their own rules (written in differentiable ops, so the cells
 * differentiate to any order), and the same math composed from
 * slice/sigmoid/tanh/mul/add for tests and benchmarks.
 *
 * lstm_gates(p, c) = [h' c'] (B,2H), p = [pi pf pg po] (B,4H):
 *   i,f,o = sigmoid(pi,pf,po), u = tanh(pg), c' = f c + i u, T = tanh(c'), h' = o T
 * backward, g = [gh gc]: a = gc + gh o (1 - T^2) (the gradient reaching c'),
 *   d pi = a u i(1-i), d pf = a c f(1-f), d pg = a i (1-u^2), d po = gh T o(1-o), d c = a f
 * gru_gates(gx, gh, h) = h', gx = [ar az an], gh = [br bz bn]:
 *   r = sigmoid(ar+br), z = sigmoid(az+bz), n = tanh(an + r bn), h' = (1-z) n + z h
 * backward, g: Pn = g (1-z)(1-n^2), Pz = g (h-n) z(1-z), Pr = Pn bn r(1-r),
 *   d gx = [Pr Pz Pn], d gh = [Pr Pz Pn r], d h = g z
 * The backward kernels recompute the activations from the inputs, except
 * that lstm_gates keeps u and T (its two tanh) for its first-order
 * backward, which writes d p and d c straight from one fused pass. The
 * rules of the backward ops (second order) are the products rule of the
 * formulas above, derived in the comments of each rule. */

#include "base/parallel.h"
#include "base/rowcopy.h"
#include "base/vlayer.h"
#include "oplist.h"
#include "ops.h"
#include "rnn.h"
#include "rnn_internal.h"
#include "tensor_ops.h"
#include "base/vmath.h"

/* Checks that v is 2-D (rows, cols); names the op and the argument. */
static int is_mat(ae_tape *t, const char *op, const char *arg, ae_val *v, int64_t rows, int64_t cols) {
  if (v->t.shape.ndim == 2 && v->t.shape.d[0] == rows && v->t.shape.d[1] == cols) return 1;
  char a[AE_SHAPE_BUF], b[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "%s has shape %s, expected %s", arg, ae_sstr(v->t.shape, a),
           ae_sstr(ae_shape_make(2, (int64_t[]){rows, cols}), b));
  return 0;
}
/* H from a (B,H) state, 0 (with the error raised) if it is not 2-D. */
static int64_t state_h(ae_tape *t, const char *op, const char *arg, ae_val *v) {
  if (v->t.shape.ndim == 2 && v->t.shape.d[1] > 0) return v->t.shape.d[1];
  char a[AE_SHAPE_BUF];
  ae_raise(t, AE_ERR_SHAPE, op, "%s has shape %s, expected (B,H)", arg, ae_sstr(v->t.shape, a));
  return 0;
}
#define SHAPE2(r, c) ae_shape_make(2, (int64_t[]){(r), (c)})

/* ---- the LSTM gate kernels, VW units at a time (base/vlayer.h) ------------------- */

/* The forward on one vector of units: pre-activations pi..po and c in,
 * h' and c' out; s[0..5) (NULL: not kept) get u = tanh(pg), T = tanh(c'),
 * and the gates i, f, o. */
static inline void lstm_fwd_vec(const ae_real *pi, const ae_real *pf, const ae_real *pg, const ae_real *po,
                                const ae_real *c, ae_real *h, ae_real *cn, ae_real *const s[5]) {
  vreal z = VSET1(0);
  vreal i = k_sigmoid(VLOAD(pi), z), f = k_sigmoid(VLOAD(pf), z), u = k_tanh(VLOAD(pg), z);
  vreal o = k_sigmoid(VLOAD(po), z), cv = VADD(VMUL(f, VLOAD(c)), VMUL(i, u)), T = k_tanh(cv, z);
  VSTORE(cn, cv);
  VSTORE(h, VMUL(o, T));
  if (s[0]) VSTORE(s[0], u), VSTORE(s[1], T);
  if (s[2]) VSTORE(s[2], i), VSTORE(s[3], f), VSTORE(s[4], o);
}

/* The row kernels' vectors: with H >= VW, ceil(H / VW) of them, vector q
 * at unit vec_start(q, H), the last one moved back to end at H. So the
 * last H % VW units are the last whole vector, computed again where it
 * overlaps the one before (lane by lane the same inputs, so the same
 * values; no output is an input). With H < VW there are none, and the
 * row goes through zero-padded vectors on the stack, copied in and out by
 * ae_row_copy (masked on AVX-512), the way every H took its tail before
 * (for seq-ae's H = 100 and 30, a large part of the gate kernels' time). */
static int64_t vec_count(int64_t H) { return H >= VW ? (H + VW - 1) / VW : 0; }
static int64_t vec_start(int64_t q, int64_t H) { return (q + 1) * VW <= H ? q * VW : H - VW; }

/* One example's row: p (4H), c (H) -> h' (H) at h, c' (H) at cn, and the
 * first nkept of [u T i f o] (H each) at s. */
void ae__lstm_fwd_row(int64_t H, const ae_real *p, const ae_real *c, ae_real *h, ae_real *cn, ae_real *s, int nkept) {
  ae_real *sv[5];
  for (int64_t q = 0, nq = vec_count(H); q < nq; q++) {
    const int64_t j = vec_start(q, H);
    for (int k = 0; k < 5; k++) sv[k] = k < nkept ? s + k * H + j : NULL;
    lstm_fwd_vec(p + j, p + H + j, p + 2 * H + j, p + 3 * H + j, c + j, h + j, cn + j, sv);
  }
  if (H >= VW) return;
  const int64_t j = 0, n = H;
  ae_real in[5][VW] = {{0}}, out[7][VW];
  for (int k = 0; k < 4; k++) ae_row_copy(in[k], p + k * H + j, n);
  ae_row_copy(in[4], c + j, n);
  for (int k = 0; k < 5; k++) sv[k] = k < nkept ? out[2 + k] : NULL;
  lstm_fwd_vec(in[0], in[1], in[2], in[3], in[4], out[0], out[1], sv);
  ae_row_copy(h + j, out[0], n), ae_row_copy(cn + j, out[1], n);
  for (int k = 0; k < nkept; k++) ae_row_copy(s + k * H + j, out[2 + k], n);
}

/* The backward on one vector of units (the formulas at the top): p, c and
 * g = [gh gc] in; s[0..5) the kept u, T, i, f, o (NULL: recomputed, the
 * gates from p, u and T from p and c). Writes d pi..d po to dp[0..3]
 * (dp[0] NULL: not wanted) and d c to dc (or not). */
static inline void lstm_bw_vec(const ae_real *pi, const ae_real *pf, const ae_real *pg, const ae_real *po,
                               const ae_real *c, const ae_real *gh, const ae_real *gc, const ae_real *const s[5],
                               ae_real *const dp[4], ae_real *dc) {
  vreal z = VSET1(0), one = VSET1(1), cv = VLOAD(c), ghv = VLOAD(gh), i, f, o, u, T;
  if (s[2]) {
    i = VLOAD(s[2]), f = VLOAD(s[3]), o = VLOAD(s[4]);
  } else {
    i = k_sigmoid(VLOAD(pi), z), f = k_sigmoid(VLOAD(pf), z), o = k_sigmoid(VLOAD(po), z);
  }
  if (s[0]) {
    u = VLOAD(s[0]), T = VLOAD(s[1]);
  } else {
    u = k_tanh(VLOAD(pg), z);
    T = k_tanh(VADD(VMUL(f, cv), VMUL(i, u)), z);
  }
  vreal a = VADD(VLOAD(gc), VMUL(VMUL(ghv, o), VSUB(one, VMUL(T, T))));
  if (dp[0]) {
    VSTORE(dp[0], VMUL(VMUL(VMUL(a, u), i), VSUB(one, i)));
    VSTORE(dp[1], VMUL(VMUL(VMUL(a, cv), f), VSUB(one, f)));
    VSTORE(dp[2], VMUL(VMUL(a, i), VSUB(one, VMUL(u, u))));
    VSTORE(dp[3], VMUL(VMUL(VMUL(ghv, T), o), VSUB(one, o)));
  }
  if (dc) VSTORE(dc, VMUL(a, f));
}

/* One example's row of the backward: s the first nkept of [u T i f o]; p
 * (4H) is not read when nkept is 5 (may be NULL); dp (4H) and dc (H) may
 * be NULL. */
static void lstm_bw_row(int64_t H, const ae_real *p, const ae_real *c, const ae_real *g, const ae_real *s, int nkept,
                        ae_real *dp, ae_real *dc) {
  const ae_real *sv[5];
  for (int64_t q = 0, nq = vec_count(H); q < nq; q++) {
    const int64_t j = vec_start(q, H);
    ae_real *d[4] = {dp ? dp + j : NULL, dp ? dp + H + j : NULL, dp ? dp + 2 * H + j : NULL,
                     dp ? dp + 3 * H + j : NULL};
    for (int k = 0; k < 5; k++) sv[k] = k < nkept ? s + k * H + j : NULL;
    if (p)
      lstm_bw_vec(p + j, p + H + j, p + 2 * H + j, p + 3 * H + j, c + j, g + j, g + H + j, sv, d, dc ? dc + j : NULL);
    else
      lstm_bw_vec(NULL, NULL, NULL, NULL, c + j, g + j, g + H + j, sv, d, dc ? dc + j : NULL);
  }
  if (H >= VW) return;
  const int64_t j = 0, n = H;
  ae_real in[12][VW] = {{0}}, out[5][VW];
  for (int k = 0; k < 4 && p; k++) ae_row_copy(in[k], p + k * H + j, n);
  ae_row_copy(in[4], c + j, n), ae_row_copy(in[5], g + j, n), ae_row_copy(in[6], g + H + j, n);
  for (int k = 0; k < 5; k++) {
    if (k < nkept) ae_row_copy(in[7 + k], s + k * H + j, n);
    sv[k] = k < nkept ? in[7 + k] : NULL;
  }
  ae_real *d[4] = {dp ? out[0] : NULL, out[1], out[2], out[3]};
  lstm_bw_vec(in[0], in[1], in[2], in[3], in[4], in[5], in[6], sv, d, dc ? out[4] : NULL);
  for (int k = 0; k < 4 && dp; k++) ae_row_copy(dp + k * H + j, out[k], n);
  if (dc) ae_row_copy(dc + j, out[4], n);
}

/* ---- lstm_gates ------------------------------------------------------------------ */

ae_val *ae_lstm_gates(ae_tape *t, ae_val *p, ae_val *c) {
  ae_val *in[2] = {p, c};
  if (!ae_op_begin(t, "lstm_gates", 2, in)) return NULL;
  int64_t H = state_h(t, "lstm_gates", "c", c), B = c->t.shape.d[0];
  if (!H || !is_mat(t, "lstm_gates", "pre-activations", p, B, 4 * H)) return NULL;
  ae_val *y = ae_op_out(t, "lstm_gates", SHAPE2(B, 2 * H));
  /* With a node to record, u = tanh(pg) and T = tanh(c') are kept (B,2H):
   * the first-order backward then evaluates no tanh (the sigmoids it
   * recomputes cost an exp each; tanh is about five times that). */
  int keep = ae_grad_enabled(t) && (p->requires_grad || c->requires_grad);
  ae_val *s = y && keep ? ae_op_out(t, "lstm_gates", SHAPE2(B, 2 * H)) : NULL;
  if (!y || (keep && !s)) return NULL;
  const ae_real *P = p->t.data, *C = c->t.data;
  ae_real *Y = y->t.data, *S = s ? s->t.data : NULL;
  AE_PAR_FOR(AE_PAR(B * 4 * H), schedule(static),
  for (int64_t b = 0; b < B; b++)
    ae__lstm_fwd_row(H, P + b * 4 * H, C + b * H, Y + b * 2 * H, Y + b * 2 * H + H, S ? S + b * 2 * H : NULL,
                     S ? 2 : 0););
  ae_node *n = ae_op_record(t, AE_OP_LSTM_GATES, y, 2, in);
  if (n) n->saved[0] = s;
  return y;
}

/* The rows of the backward: dp (row stride dps) and dc (dcs) may be NULL;
 * S the kept [u T] rows or NULL. */
void ae__lstm_bw_rows(int64_t B, int64_t H, const ae_real *P, const ae_real *C, const ae_real *G,
                      const ae_real *S, int nkept, ae_real *dp, int64_t dps, ae_real *dc, int64_t dcs) {
  AE_PAR_FOR(AE_PAR(B * 5 * H), schedule(static),
  for (int64_t b = 0; b < B; b++)
    lstm_bw_row(H, P ? P + b * 4 * H : NULL, C + b * H, G + b * 2 * H, S ? S + b * nkept * H : NULL, S ? nkept : 0,
                dp ? dp + b * dps : NULL, dc ? dc + b * dcs : NULL););
}

/* First order (no create_graph): the kernel writes d p and d c as two
 * values, from the kept tanh values. With create_graph: the
 * differentiable lstm_gates_backward (B,5H), cut in two. */
void ae_bw_lstm_gates(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  ae_val *p = n->in[0], *c = n->in[1];
  int64_t B = c->t.shape.d[0], H = c->t.shape.d[1];
  if (!ae_grad_enabled(t)) {
    const char *op = "lstm_gates_backward";
    if (!ae_op_begin(t, op, 3, (ae_val *[]){g, p, c})) return;
    ae_val *dp = ae_needs_grad(t, n, 0) ? ae_op_out(t, op, SHAPE2(B, 4 * H)) : NULL;
    ae_val *dc = ae_needs_grad(t, n, 1) ? ae_op_out(t, op, SHAPE2(B, H)) : NULL;
    if (!ae_tape_ok(t)) return;
    ae__lstm_bw_rows(B, H, p->t.data, c->t.data, g->t.data, n->saved[0] ? n->saved[0]->t.data : NULL, 2,
                 dp ? dp->t.data : NULL, 4 * H, dc ? dc->t.data : NULL, H);
    /* nothing is recorded (grad mode is off); anomaly mode checks both */
    if (dp) ae_op_record(t, AE_OP_LSTM_GATES_BACKWARD, dp, 0, NULL);
    if (dc) ae_op_record(t, AE_OP_LSTM_GATES_BACKWARD, dc, 0, NULL);
    gin[0] = dp, gin[1] = dc;
    return;
  }
  ae_val *r = ae_lstm_gates_backward(t, g, p, c);
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_slice(t, r, 1, 0, 4 * H);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_slice(t, r, 1, 4 * H, H);
}

ae_val *ae_lstm_gates_backward(ae_tape *t, ae_val *g, ae_val *p, ae_val *c) {
  ae_val *in[3] = {g, p, c};
  const char *op = "lstm_gates_backward";
  if (!ae_op_begin(t, op, 3, in)) return NULL;
  int64_t H = state_h(t, op, "c", c), B = c->t.shape.d[0];
  if (!H || !is_mat(t, op, "pre-activations", p, B, 4 * H) || !is_mat(t, op, "gradient", g, B, 2 * H)) return NULL;
  ae_val *y = ae_op_out(t, op, SHAPE2(B, 5 * H));
  if (!y) return NULL;
  ae__lstm_bw_rows(B, H, p->t.data, c->t.data, g->t.data, NULL, 0, y->t.data, 5 * H, y->t.data + 4 * H, 5 * H);
  ae_op_record(t, AE_OP_LSTM_GATES_BACKWARD, y, 3, in);
  return y;
}

#define M(a, b) ae_mul(t, (a), (b))
#define ADD(a, b) ae_add(t, (a), (b))
#define SUB(a, b) ae_sub(t, (a), (b))
#define OM(a) ae_one_minus(t, (a))
#define ONE_MINUS_2(a) ae_add_scalar(t, ae_scale(t, (a), -2), 1) /* 1 - 2a */
#define PART(v, k) ae_slice(t, (v), 1, (k) * H, H)

/* With w = [wi wf wg wo wc] the gradient of the backward's output, the rule
 * differentiates L = <w, R> = a q + wo gh T so, q = wi u si + wf c sf +
 * wg i (1-u^2) + wc f (si = i(1-i), sf, so likewise):
 *   dL/dgc = q,  dL/dgh = q o (1-T^2) + wo T so
 *   through T: KT = gh (wo so - 2 q o T), K' = KT (1-T^2) per unit of c'
 *   Ki = K' u + a (wi u (1-2i) + wg (1-u^2))   Kf = K' c + a (wf c (1-2f) + wc)
 *   Ku = K' i + a (wi si - 2 wg i u)           Ko = gh (q (1-T^2) + wo T (1-2o))
 *   dL/dp = [Ki si, Kf sf, Ku (1-u^2), Ko so],  dL/dc = K' f + a wf sf */
void ae_bw_lstm_gates_backward(ae_tape *t, const ae_node *n, ae_val *w, ae_val **gin) {
  ae_val *g = n->in[0], *p = n->in[1], *c = n->in[2];
  int64_t H = c->t.shape.d[1];
  ae_val *gh = PART(g, 0), *gc = PART(g, 1);
  ae_val *i = ae_sigmoid(t, PART(p, 0)), *f = ae_sigmoid(t, PART(p, 1)), *u = ae_tanh(t, PART(p, 2)),
         *o = ae_sigmoid(t, PART(p, 3));
  ae_val *si = M(i, OM(i)), *sf = M(f, OM(f)), *so = M(o, OM(o)), *tu = OM(ae_square(t, u));
  ae_val *T = ae_tanh(t, ADD(M(f, c), M(i, u))), *tT = OM(ae_square(t, T));
  ae_val *wi = PART(w, 0), *wf = PART(w, 1), *wg = PART(w, 2), *wo = PART(w, 3), *wc = PART(w, 4);
  ae_val *a = ADD(gc, M(M(gh, o), tT));
  ae_val *q = ADD(ADD(M(M(wi, u), si), M(M(wf, c), sf)), ADD(M(M(wg, i), tu), M(wc, f)));
  ae_val *woTso = M(M(wo, T), so);
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_concat(t, 2, (ae_val *[]){ADD(M(M(q, o), tT), woTso), q}, 1);
  if (!ae_needs_grad(t, n, 1) && !ae_needs_grad(t, n, 2)) return;
  ae_val *K = M(M(gh, SUB(M(wo, so), ae_scale(t, M(M(q, o), T), 2))), tT);
  if (ae_needs_grad(t, n, 1)) {
    ae_val *Ki = ADD(M(K, u), M(a, ADD(M(M(wi, u), ONE_MINUS_2(i)), M(wg, tu))));
    ae_val *Kf = ADD(M(K, c), M(a, ADD(M(M(wf, c), ONE_MINUS_2(f)), wc)));
    ae_val *Ku = ADD(M(K, i), M(a, SUB(M(wi, si), ae_scale(t, M(M(wg, i), u), 2))));
    ae_val *Ko = M(gh, ADD(M(q, tT), M(M(wo, T), ONE_MINUS_2(o))));
    gin[1] = ae_concat(t, 4, (ae_val *[]){M(Ki, si), M(Kf, sf), M(Ku, tu), M(Ko, so)}, 1);
  }
  if (ae_needs_grad(t, n, 2)) gin[2] = ADD(M(K, f), M(M(a, wf), sf));
}

/* ---- gru_gates ------------------------------------------------------------------- */

static int gru_check(ae_tape *t, const char *op, ae_val *gx, ae_val *gh, ae_val *h, int64_t *B, int64_t *H) {
  *H = state_h(t, op, "h", h), *B = h->t.shape.d[0];
  return *H && is_mat(t, op, "gx (input pre-activations)", gx, *B, 3 * *H) &&
         is_mat(t, op, "gh (hidden pre-activations)", gh, *B, 3 * *H);
}

ae_val *ae_gru_gates(ae_tape *t, ae_val *gx, ae_val *gh, ae_val *h) {
  ae_val *in[3] = {gx, gh, h};
  int64_t B, H;
  if (!ae_op_begin(t, "gru_gates", 3, in) || !gru_check(t, "gru_gates", gx, gh, h, &B, &H)) return NULL;
  ae_val *y = ae_op_out(t, "gru_gates", SHAPE2(B, H));
  ae_tape_mark scratch = ae_tape_get_mark(t); /* the activations are not kept: backward recomputes them */
  ae_real *act = y ? ae_arena_alloc(t, "gru_gates", sizeof(ae_real) * (size_t)(B * 3 * H)) : NULL;
  if (!y || !act) return NULL;
  const ae_real *X = gx->t.data, *Hh = gh->t.data, *S = h->t.data;
  ae_real *Y = y->t.data;
  AE_PAR_FOR(AE_PAR(B * 3 * H), schedule(static),
  for (int64_t b = 0; b < B; b++) {
    const ae_real *xb = X + b * 3 * H, *hb = Hh + b * 3 * H, *sb = S + b * H;
    ae_real *a = act + b * 3 * H, *yb = Y + b * H;
    for (int64_t j = 0; j < 2 * H; j++) a[j] = xb[j] + hb[j];
    ae_v_sigmoid(2 * H, a, a);
    for (int64_t j = 0; j < H; j++) a[2 * H + j] = xb[2 * H + j] + a[j] * hb[2 * H + j];
    ae_v_tanh(H, a + 2 * H, a + 2 * H);
    for (int64_t j = 0; j < H; j++) {
      ae_real z = a[H + j];
      yb[j] = (1 - z) * a[2 * H + j] + z * sb[j];
    }
  });
  ae_tape_rewind(t, scratch);
  ae_op_record(t, AE_OP_GRU_GATES, y, 3, in);
  return y;
}
void ae_bw_gru_gates(ae_tape *t, const ae_node *n, ae_val *g, ae_val **gin) {
  int64_t H = n->in[2]->t.shape.d[1];
  ae_val *r = ae_gru_gates_backward(t, g, n->in[0], n->in[1], n->in[2]);
  if (ae_needs_grad(t, n, 0)) gin[0] = ae_slice(t, r, 1, 0, 3 * H);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_slice(t, r, 1, 3 * H, 3 * H);
  if (ae_needs_grad(t, n, 2)) gin[2] = ae_slice(t, r, 1, 6 * H, H);
}

ae_val *ae_gru_gates_backward(ae_tape *t, ae_val *g, ae_val *gx, ae_val *gh, ae_val *h) {
  ae_val *in[4] = {g, gx, gh, h};
  const char *op = "gru_gates_backward";
  int64_t B, H;
  if (!ae_op_begin(t, op, 4, in) || !gru_check(t, op, gx, gh, h, &B, &H) || !is_mat(t, op, "gradient", g, B, H))
    return NULL;
  ae_val *y = ae_op_out(t, op, SHAPE2(B, 7 * H));
  if (!y) return NULL;
  const ae_real *X = gx->t.data, *Hh = gh->t.data, *S = h->t.data, *G = g->t.data;
  ae_real *Y = y->t.data;
  AE_PAR_FOR(AE_PAR(B * 7 * H), schedule(static),
  for (int64_t b = 0; b < B; b++) {
    const ae_real *xb = X + b * 3 * H, *hb = Hh + b * 3 * H, *sb = S + b * H, *gb = G + b * H;
    ae_real *r = Y + b * 7 * H; /* activations r z n first, then overwritten by the gradients */
    for (int64_t j = 0; j < 2 * H; j++) r[j] = xb[j] + hb[j];
    ae_v_sigmoid(2 * H, r, r);
    for (int64_t j = 0; j < H; j++) r[2 * H + j] = xb[2 * H + j] + r[j] * hb[2 * H + j];
    ae_v_tanh(H, r + 2 * H, r + 2 * H);
    for (int64_t j = 0; j < H; j++) {
      ae_real rr = r[j], z = r[H + j], nn = r[2 * H + j], d = gb[j];
      ae_real Pn = d * (1 - z) * (1 - nn * nn), Pz = d * (sb[j] - nn) * z * (1 - z), Pr = Pn * hb[2 * H + j] * rr * (1 - rr);
      r[j] = Pr, r[H + j] = Pz, r[2 * H + j] = Pn;
      r[3 * H + j] = Pr, r[4 * H + j] = Pz, r[5 * H + j] = Pn * rr;
      r[6 * H + j] = d * z;
    }
  });
  ae_op_record(t, AE_OP_GRU_GATES_BACKWARD, y, 4, in);
  return y;
}

/* With w = [ux_r ux_z ux_n vr vz vn wh], Wr = ux_r + vr, Wz = ux_z + vz,
 * L = <w, R> = Pn Mn + Wz g (h-n) sz + wh g z, Mn = Wr bn sr + ux_n + vn r:
 *   dL/dg = (1-z)(1-n^2) Mn + Wz (h-n) sz + wh z,   dL/dh = Wz g sz
 *   Kz = g (wh + Wz (h-n)(1-2z) - Mn (1-n^2))       (per unit of z)
 *   Kn = -g (2 Mn n (1-z) + Wz sz) (1-n^2)          (per unit of n's pre-activation)
 *   Kr = (Pn (Wr bn (1-2r) + vn) + Kn bn) sr        (per unit of r's pre-activation)
 *   dL/dgx = [Kr, Kz sz, Kn],  dL/dgh = [Kr, Kz sz, Kn r + Pn Wr sr] */
void ae_bw_gru_gates_backward(ae_tape *t, const ae_node *n, ae_val *w, ae_val **gin) {
  ae_val *g = n->in[0], *gx = n->in[1], *gh = n->in[2], *h = n->in[3];
  int64_t H = h->t.shape.d[1];
  ae_val *bn = PART(gh, 2);
  ae_val *r = ae_sigmoid(t, ADD(PART(gx, 0), PART(gh, 0))), *z = ae_sigmoid(t, ADD(PART(gx, 1), PART(gh, 1)));
  ae_val *nn = ae_tanh(t, ADD(PART(gx, 2), M(r, bn)));
  ae_val *sr = M(r, OM(r)), *sz = M(z, OM(z)), *tn = OM(ae_square(t, nn)), *omz = OM(z), *hmn = SUB(h, nn);
  ae_val *vr = PART(w, 3), *vn = PART(w, 5), *wh = PART(w, 6);
  ae_val *Wr = ADD(PART(w, 0), vr), *Wz = ADD(PART(w, 1), PART(w, 4));
  ae_val *Mn = ADD(ADD(M(M(Wr, bn), sr), PART(w, 2)), M(vn, r));
  if (ae_needs_grad(t, n, 0)) gin[0] = ADD(ADD(M(M(omz, tn), Mn), M(M(Wz, hmn), sz)), M(wh, z));
  if (ae_needs_grad(t, n, 3)) gin[3] = M(M(Wz, g), sz);
  if (!ae_needs_grad(t, n, 1) && !ae_needs_grad(t, n, 2)) return;
  ae_val *Pn = M(M(g, omz), tn);
  ae_val *Kz = M(M(g, SUB(ADD(wh, M(M(Wz, hmn), ONE_MINUS_2(z))), M(Mn, tn))), sz);
  ae_val *Kn = M(ae_neg(t, M(g, ADD(ae_scale(t, M(M(Mn, nn), omz), 2), M(Wz, sz)))), tn);
  ae_val *Kr = M(ADD(M(Pn, ADD(M(M(Wr, bn), ONE_MINUS_2(r)), vn)), M(Kn, bn)), sr);
  if (ae_needs_grad(t, n, 1)) gin[1] = ae_concat(t, 3, (ae_val *[]){Kr, Kz, Kn}, 1);
  if (ae_needs_grad(t, n, 2)) gin[2] = ae_concat(t, 3, (ae_val *[]){Kr, Kz, ADD(M(Kn, r), M(M(Pn, Wr), sr))}, 1);
}

/* ---- composed equivalents -------------------------------------------------------- */

ae_val *ae_lstm_gates_composed(ae_tape *t, ae_val *p, ae_val *c) {
  ae_val *in[2] = {p, c};
  if (!ae_op_begin(t, "lstm_gates_composed", 2, in)) return NULL;
  int64_t H = state_h(t, "lstm_gates_composed", "c", c);
  if (!H || !is_mat(t, "lstm_gates_composed", "pre-activations", p, c->t.shape.d[0], 4 * H)) return NULL;
  ae_val *i = ae_sigmoid(t, PART(p, 0)), *f = ae_sigmoid(t, PART(p, 1)), *u = ae_tanh(t, PART(p, 2)),
         *o = ae_sigmoid(t, PART(p, 3));
  ae_val *cn = ADD(M(f, c), M(i, u));
  return ae_concat(t, 2, (ae_val *[]){M(o, ae_tanh(t, cn)), cn}, 1);
}

ae_val *ae_gru_gates_composed(ae_tape *t, ae_val *gx, ae_val *gh, ae_val *h) {
  ae_val *in[3] = {gx, gh, h};
  int64_t B, H;
  if (!ae_op_begin(t, "gru_gates_composed", 3, in) || !gru_check(t, "gru_gates_composed", gx, gh, h, &B, &H))
    return NULL;
  ae_val *r = ae_sigmoid(t, ADD(PART(gx, 0), PART(gh, 0))), *z = ae_sigmoid(t, ADD(PART(gx, 1), PART(gh, 1)));
  ae_val *nn = ae_tanh(t, ADD(PART(gx, 2), M(r, PART(gh, 2))));
  return ADD(M(OM(z), nn), M(z, h));
}
