/* test_rnn.c: the rnn family (ops/rnn.h).
 * - one LSTM and one GRU step, and whole unrolls, against the plain-loop
 *   references of tests/rows/rnn.c (PyTorch's equations in double) on
 *   shapes other than the rows', with and without states and biases;
 * - the unroll equals the cell called step by step (bitwise, h_T and c_T
 *   included);
 * - the unroll as one lstm_seq node equals the steps composed one by one,
 *   with and without c_T: outputs and gradients bitwise, create_graph
 *   gradients and second derivatives to rounding;
 * - the fused gate ops equal the composed gate math, in value, gradient
 *   and second derivative; the LSTM's first-order backward (kept tanh
 *   values, two outputs) too, with tails and one input wanted;
 * - errors name the argument and the shapes, and are sticky;
 * - results independent of the thread count (1, 2 and 3: the LSTM unroll
 *   splits the batch across threads); no heap allocation once warm;
 * - (float64) gradcheck and gradgradcheck of the family's op-table rows,
 *   and of a T=3, B=2, I=3, H=4 LSTM unroll with all seven inputs
 *   (beyond the table's six) and h_T, c_T in the output.
 * Built for float64 and float32. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "autograd/tape_internal.h"
#include "op_table.h"
#include "ops/rnn_internal.h"
#include "rows/rnn_rows.h"
#include "random_tensor.h"

#ifdef AE_REAL_DOUBLE
#define FTOL 1e-12
#else
#define FTOL 1e-5 /* reference in double; the op rounds each product and activation to float */
#endif

/* Inputs of a cell/unroll with the optional ones given by mask, in the
 * rows' order: x, [h], [c], w_ih, w_hh, [b_ih], [b_hh]. Returns the count. */
static int make_inputs(ae_tensor **x, int lstm, int seq, int mask, int64_t B, int64_t T, int64_t I, int64_t H,
                       uint64_t seed) {
  ae_rng r;
  ae_rng_init(&r, seed);
  int64_t G = lstm ? 4 : 3;
  double w = 1 / sqrt((double)H);
  int k = 0;
  x[k++] = rt_uniform(seq ? AE_SHAPE(B, T, I) : AE_SHAPE(B, I), &r, -1, 1);
  if (mask & RNN_H) x[k++] = rt_uniform(AE_SHAPE(B, H), &r, -1, 1);
  if (lstm && (mask & RNN_C)) x[k++] = rt_uniform(AE_SHAPE(B, H), &r, -1, 1);
  x[k++] = rt_uniform(AE_SHAPE(G * H, I), &r, -w, w);
  x[k++] = rt_uniform(AE_SHAPE(G * H, H), &r, -w, w);
  if (mask & RNN_BIH) x[k++] = rt_uniform(AE_SHAPE(G * H), &r, -w, w);
  if (mask & RNN_BHH) x[k++] = rt_uniform(AE_SHAPE(G * H), &r, -w, w);
  return k;
}

/* Whether the tape holds a node of op `op`. */
static int has_node(ae_tape *t, int op) {
  for (int i = 0; i < ae_tape_node_count(t); i++)
    if (ae__tape_node(t, i)->op == op) return 1;
  return 0;
}

typedef ae_val *(*build_fn)(ae_tape *, ae_val *const *, const op_row *);
typedef void (*ref_fn)(ae_tensor *const *, ae_tensor *, const op_row *);

static void check_against_ref(const char *what, int lstm, int seq, int mask, int64_t B, int64_t T, int64_t I,
                              int64_t H) {
  build_fn build = lstm ? (seq ? rnn_build_lstm_unroll : rnn_build_lstm_cell)
                        : (seq ? rnn_build_gru_unroll : rnn_build_gru_cell);
  ref_fn ref = lstm ? (seq ? rnn_ref_lstm_unroll : rnn_ref_lstm_cell) : (seq ? rnn_ref_gru_unroll : rnn_ref_gru_cell);
  op_row row = {.iattr = {mask}};
  ae_tensor *x[7];
  int n = make_inputs(x, lstm, seq, mask, B, T, I, H, 1000 + (uint64_t)mask);
  ae_tape *t = ae_tape_new(0);
  ae_val *in[7];
  for (int k = 0; k < n; k++) in[k] = ae_var_tensor(t, x[k]);
  ae_val *y = build(t, in, &row);
  cr_assert(y && ae_tape_ok(t), "%s: %s", what, ae_tape_error(t));
  ae_tensor *want = ae_tensor_new(y->t.shape);
  ref(x, want, &row);
  for (int64_t i = 0; i < want->numel; i++) {
    double g = y->t.data[i], w = want->data[i];
    if (!(fabs(g - w) <= FTOL * (1 + fabs(w))))
      cr_assert_fail("%s (mask %d): element %lld: got %.17g want %.17g", what, mask, (long long)i, g, w);
  }
  ae_tensor_free(want);
  for (int k = 0; k < n; k++) ae_tensor_free(x[k]);
  ae_tape_free(t);
}

Test(rnn, lstm_step_matches_pytorch_equations) {
  check_against_ref("lstm_cell", 1, 0, RNN_ALL, 3, 1, 5, 7);
  check_against_ref("lstm_cell", 1, 0, RNN_H | RNN_C, 3, 1, 5, 7);   /* no biases */
  check_against_ref("lstm_cell", 1, 0, RNN_BHH, 2, 1, 1, 3);         /* zero state, b_hh only */
}
Test(rnn, gru_step_matches_pytorch_equations) {
  check_against_ref("gru_cell", 0, 0, RNN_ALL, 3, 1, 5, 7);
  check_against_ref("gru_cell", 0, 0, RNN_H, 3, 1, 5, 7);
  check_against_ref("gru_cell", 0, 0, RNN_BIH, 2, 1, 1, 3); /* zero state, b_ih only */
}
Test(rnn, unrolls_match_step_by_step_reference) {
  check_against_ref("lstm_unroll", 1, 1, RNN_ALL, 3, 6, 4, 5);
  check_against_ref("lstm_unroll", 1, 1, RNN_BIH | RNN_BHH, 2, 7, 3, 4);
  check_against_ref("lstm_unroll", 1, 1, RNN_ALL, 2, 1, 3, 4); /* T = 1 */
  check_against_ref("gru_unroll", 0, 1, RNN_ALL, 3, 6, 4, 5);
  check_against_ref("gru_unroll", 0, 1, RNN_BIH | RNN_BHH, 2, 7, 3, 4);
  check_against_ref("gru_unroll", 0, 1, 0, 2, 5, 3, 4); /* no state, no biases */
}

/* Unroll == the cell called T times on x[:, s, :], bitwise (as variables,
 * so the input is cut by halving, and as constants). */
static void unroll_equals_cells(int lstm, int x_is_var) {
  int64_t B = 3, T = 5, I = 4, H = 6;
  ae_tensor *x[7];
  make_inputs(x, lstm, 1, RNN_ALL, B, T, I, H, 77);
  ae_tape *t = ae_tape_new(0);
  ae_val *v[7];
  int n = lstm ? 7 : 6;
  for (int k = 0; k < n; k++) v[k] = k == 0 && !x_is_var ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
  ae_val *hT = NULL, *cT = NULL, *y;
  if (lstm)
    y = ae_lstm_unroll(t, v[0], v[1], v[2], v[3], v[4], v[5], v[6], &hT, &cT);
  else
    y = ae_gru_unroll(t, v[0], v[1], v[2], v[3], v[4], v[5], &hT);
  cr_assert(y && hT && (cT || !lstm), "%s", ae_tape_error(t));
  ae_val *h = v[1], *c = lstm ? v[2] : NULL;
  for (int64_t s = 0; s < T; s++) {
    ae_val *xs = ae_select(t, v[0], 1, s);
    if (lstm)
      h = ae_lstm_cell(t, xs, h, c, v[3], v[4], v[5], v[6], &c);
    else
      h = ae_gru_cell(t, xs, h, v[2], v[3], v[4], v[5]);
    cr_assert(h, "%s", ae_tape_error(t));
    for (int64_t b = 0; b < B; b++)
      cr_assert(memcmp(h->t.data + b * H, y->t.data + (b * T + s) * H, sizeof(ae_real) * (size_t)H) == 0,
                "%s step %lld row %lld differs from the cell", lstm ? "lstm" : "gru", (long long)s, (long long)b);
  }
  cr_assert(memcmp(h->t.data, hT->t.data, sizeof(ae_real) * (size_t)(B * H)) == 0, "h_last");
  if (lstm) cr_assert(memcmp(c->t.data, cT->t.data, sizeof(ae_real) * (size_t)(B * H)) == 0, "c_last");
  for (int k = 0; k < n; k++) ae_tensor_free(x[k]);
  ae_tape_free(t);
}
Test(rnn, unroll_equals_cell_step_by_step) {
  unroll_equals_cells(1, 1);
  unroll_equals_cells(1, 0);
  unroll_equals_cells(0, 1);
  unroll_equals_cells(0, 0);
}

/* The unroll as one lstm_seq node equals the steps composed one by one
 * (ae__lstm_unroll_set_steps), with and without c_T: the outputs and the
 * first-order gradients of every input bitwise (== per element: a zero's
 * sign may differ), and the gradients with create_graph (the rule
 * recorded in differentiable ops) and the second derivatives to FTOL. The
 * loss weighs the outputs and c_T. H = 37: whole vectors and a tail (the
 * last vector again, overlapping), 16 and 5. */
static void seq_equals_steps(int mask, int x_is_var, int with_c, int64_t B, int64_t T, int64_t H) {
  const int64_t I = 5;
  ae_tensor *x[7];
  int n = make_inputs(x, 1, 1, mask, B, T, I, H, 300 + (uint64_t)mask);
  ae_rng r;
  ae_rng_init(&r, 301);
  ae_tensor *wy = rt_uniform(AE_SHAPE(B, T, H), &r, -1, 1), *wc = rt_uniform(AE_SHAPE(B, H), &r, -1, 1);
  ae_tensor *got[2][3][8] = {{{0}}}; /* [path][value, gradient, create_graph gradient + 2nd][input; 7: c_T] */
  for (int steps = 0; steps < 2; steps++)
    for (int order = 0; order < 2; order++) {
      ae_tape *t = ae_tape_new(0);
      ae_val *v[7];
      for (int k = 0; k < n; k++) v[k] = k == 0 && !x_is_var ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
      rnn_in a = rnn_pick_vals(v, mask, 1);
      ae_val *cT = NULL;
      ae__lstm_unroll_set_steps(steps);
      ae_val *y = ae_lstm_unroll(t, a.x, a.h, a.c, a.wi, a.wh, a.bi, a.bh, NULL, with_c ? &cT : NULL);
      ae__lstm_unroll_set_steps(0);
      cr_assert(y && (cT || !with_c), "%s", ae_tape_error(t));
      cr_assert_eq(has_node(t, AE_OP_LSTM_SEQ), !steps, "lstm_seq node %s", steps ? "in the steps" : "missing");
      ae_val *L = ae_sum(t, ae_mul(t, y, ae_const_tensor(t, wy))), *g[7];
      if (with_c) L = ae_add(t, L, ae_sum(t, ae_mul(t, cT, ae_const_tensor(t, wc))));
      int first = x_is_var ? 0 : 1;
      cr_assert(ae_grad(t, 1, &L, NULL, n - first, v + first, g + first, order) == 0, "%s", ae_tape_error(t));
      if (order == 0) {
        got[steps][0][0] = ae_tensor_copy(&y->t);
        if (with_c) got[steps][0][7] = ae_tensor_copy(&cT->t);
        for (int k = first; k < n; k++) got[steps][1][k] = ae_tensor_copy(&g[k]->t);
      } else { /* the sum of squares of the gradients, differentiated again */
        ae_val *sq = NULL;
        for (int k = first; k < n; k++) {
          ae_val *q = ae_sum(t, ae_square(t, g[k]));
          sq = sq ? ae_add(t, sq, q) : q;
        }
        ae_val *gg[7];
        cr_assert(ae_grad(t, 1, &sq, NULL, n - first, v + first, gg + first, 0) == 0, "%s", ae_tape_error(t));
        for (int k = first; k < n; k++) {
          ae_tensor *both = ae_tensor_new(AE_SHAPE(2 * g[k]->t.numel));
          memcpy(both->data, g[k]->t.data, sizeof(ae_real) * (size_t)g[k]->t.numel);
          memcpy(both->data + g[k]->t.numel, gg[k]->t.data, sizeof(ae_real) * (size_t)g[k]->t.numel);
          got[steps][2][k] = both;
        }
      }
      ae_tape_free(t);
    }
  const char *what[3] = {"output", "gradient", "create_graph gradient / second derivative"};
  for (int q = 0; q < 3; q++)
    for (int k = 0; k < 8; k++) {
      ae_tensor *f = got[0][q][k], *c = got[1][q][k];
      if (!c) continue;
      for (int64_t i = 0; i < c->numel; i++) {
        double fv = f->data[i], cv = c->data[i];
        cr_assert(q < 2 ? fv == cv : fabs(fv - cv) <= 10 * FTOL * (1 + fabs(cv)),
                  "mask %d x %s c_T %d: %s of %s %d [%lld]: lstm_seq %.17g, steps %.17g", mask,
                  x_is_var ? "var" : "const", with_c, what[q], k == 7 ? "c_T" : "input", k, (long long)i, fv, cv);
      }
      ae_tensor_free(f), ae_tensor_free(c);
    }
  for (int k = 0; k < n; k++) ae_tensor_free(x[k]);
  ae_tensor_free(wy), ae_tensor_free(wc);
}
Test(rnn, lstm_seq_equals_steps_composed) {
  for (int with_c = 0; with_c < 2; with_c++) {
    seq_equals_steps(RNN_ALL, 1, with_c, 40, 6, 37);
    seq_equals_steps(RNN_ALL, 0, with_c, 40, 6, 37);
    seq_equals_steps(RNN_BIH | RNN_BHH, 1, with_c, 40, 6, 37);
    seq_equals_steps(RNN_C, 1, with_c, 40, 6, 37);
    seq_equals_steps(0, 0, with_c, 40, 6, 37);
    seq_equals_steps(RNN_ALL, 1, with_c, 1, 1, 20);         /* one example, one step */
    seq_equals_steps(RNN_H | RNN_BHH, 1, with_c, 3, 2, 16); /* H one whole vector (float32), no tail */
    seq_equals_steps(RNN_ALL, 1, with_c, 2, 3, 5);          /* H below one vector: the padded path */
  }
}

/* Fused and composed gate math: same value, gradient and second
 * derivative (of <w, y> then of the sum of squares of its gradient). */
static void fused_equals_composed(int lstm) {
  int64_t B = 3, H = 5;
  ae_rng r;
  ae_rng_init(&r, 5);
  ae_tensor *a = rt_uniform(AE_SHAPE(B, (lstm ? 4 : 3) * H), &r, -3, 3);
  ae_tensor *b = rt_uniform(lstm ? AE_SHAPE(B, H) : AE_SHAPE(B, 3 * H), &r, -3, 3);
  ae_tensor *c = rt_uniform(AE_SHAPE(B, H), &r, -2, 2);
  ae_tensor *w = rt_uniform(AE_SHAPE(B, (lstm ? 2 : 1) * H), &r, -1, 1);
  ae_real res[2][4][64];
  int64_t cnt[4] = {0};
  int nin = lstm ? 2 : 3;
  for (int fused = 0; fused < 2; fused++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *in[3] = {ae_var_tensor(t, a), ae_var_tensor(t, b), ae_var_tensor(t, c)};
    ae_val *y = lstm ? (fused ? ae_lstm_gates : ae_lstm_gates_composed)(t, in[0], in[1])
                     : (fused ? ae_gru_gates : ae_gru_gates_composed)(t, in[0], in[1], in[2]);
    ae_val *L = ae_sum(t, ae_mul(t, y, ae_const_tensor(t, w)));
    ae_val *g[3], *gg[3];
    cr_assert(ae_grad(t, 1, &L, NULL, nin, in, g, 1) == 0, "%s", ae_tape_error(t));
    ae_val *sq = ae_add(t, ae_sum(t, ae_square(t, g[0])), ae_sum(t, ae_square(t, g[1])));
    if (nin == 3) sq = ae_add(t, sq, ae_sum(t, ae_square(t, g[2])));
    cr_assert(ae_grad(t, 1, &sq, NULL, nin, in, gg, 0) == 0, "%s", ae_tape_error(t));
    ae_val *v[4] = {y, g[0], gg[0], gg[nin - 1]};
    for (int k = 0; k < 4; k++) {
      cnt[k] = v[k]->t.numel;
      cr_assert(cnt[k] <= 64);
      memcpy(res[fused][k], v[k]->t.data, sizeof(ae_real) * (size_t)cnt[k]);
    }
    ae_tape_free(t);
  }
  const char *what[4] = {"value", "gradient", "second derivative (first input)", "second derivative (last input)"};
  for (int k = 0; k < 4; k++)
    for (int64_t i = 0; i < cnt[k]; i++) {
      double f = res[1][k][i], cm = res[0][k][i];
      cr_assert(fabs(f - cm) <= 10 * FTOL * (1 + fabs(cm)), "%s gates %s [%lld]: fused %.17g composed %.17g",
                lstm ? "lstm" : "gru", what[k], (long long)i, f, cm);
    }
  ae_tensor_free(a), ae_tensor_free(b), ae_tensor_free(c), ae_tensor_free(w);
}
Test(rnn, fused_gates_equal_composed_to_second_order) {
  fused_equals_composed(1);
  fused_equals_composed(0);
}

/* The LSTM gates' first-order backward (no create_graph: one fused pass
 * from the kept tanh values, d p and d c written as two values) equals
 * the composed math's gradient and the create_graph path's, for H of a
 * few units (all in the zero-padded tail), of whole vectors and a tail,
 * and with only p or only c requiring grad. */
static void lstm_first_order(int64_t H, int which) {
  int64_t B = 4;
  ae_rng r;
  ae_rng_init(&r, 17 + (uint64_t)H);
  ae_tensor *a = rt_uniform(AE_SHAPE(B, 4 * H), &r, -3, 3), *c = rt_uniform(AE_SHAPE(B, H), &r, -2, 2);
  ae_tensor *w = rt_uniform(AE_SHAPE(B, 2 * H), &r, -1, 1);
  ae_tensor *got[3][2] = {{0}};
  for (int path = 0; path < 3; path++) { /* 0 composed, 1 fused first order, 2 fused with create_graph */
    ae_tape *t = ae_tape_new(0);
    ae_val *in[2] = {which & 1 ? ae_var_tensor(t, a) : ae_const_tensor(t, a),
                     which & 2 ? ae_var_tensor(t, c) : ae_const_tensor(t, c)};
    ae_val *y = (path ? ae_lstm_gates : ae_lstm_gates_composed)(t, in[0], in[1]);
    ae_val *L = ae_sum(t, ae_mul(t, y, ae_const_tensor(t, w))), *g[2] = {0};
    ae_val *want[2];
    int nw = 0;
    for (int k = 0; k < 2; k++)
      if (which & (1 << k)) want[nw++] = in[k];
    cr_assert(ae_grad(t, 1, &L, NULL, nw, want, g, path == 2) == 0, "%s", ae_tape_error(t));
    for (int k = 0, at = 0; k < 2; k++)
      if (which & (1 << k)) got[path][k] = ae_tensor_copy(&g[at++]->t);
    ae_tape_free(t);
  }
  for (int path = 1; path < 3; path++)
    for (int k = 0; k < 2; k++) {
      if (!got[0][k]) continue;
      for (int64_t i = 0; i < got[0][k]->numel; i++) {
        double f = got[path][k]->data[i], cm = got[0][k]->data[i];
        cr_assert(fabs(f - cm) <= 10 * FTOL * (1 + fabs(cm)),
                  "H=%lld grad of %s [%lld] (%s): fused %.17g composed %.17g", (long long)H, k ? "c" : "p",
                  (long long)i, path == 1 ? "first order" : "create_graph", f, cm);
      }
    }
  for (int path = 0; path < 3; path++)
    for (int k = 0; k < 2; k++) ae_tensor_free(got[path][k]);
  ae_tensor_free(a), ae_tensor_free(c), ae_tensor_free(w);
}
Test(rnn, lstm_first_order_backward_equals_composed) {
  int64_t Hs[] = {5, 37, 48};
  for (int h = 0; h < 3; h++)
    for (int which = 1; which <= 3; which++) lstm_first_order(Hs[h], which);
}

/* ---- errors ---- */
static void expect_error(ae_tape *t, ae_val *y, const char *msg) {
  cr_assert_null(y);
  cr_assert_eq(ae_tape_status(t), AE_ERR_SHAPE, "%s", ae_tape_error(t));
  cr_assert(strstr(ae_tape_error(t), msg), "error '%s' lacks '%s'", ae_tape_error(t), msg);
  /* sticky: a valid op now does nothing */
  cr_assert_null(ae_tanh(t, ae_full(t, AE_SHAPE(2), 0)));
  ae_tape_reset(t);
}
Test(rnn, errors_name_arguments_and_shapes) {
  ae_tape *t = ae_tape_new(0);
#define Z(...) ae_full(t, AE_SHAPE(__VA_ARGS__), 0)
  expect_error(t, ae_lstm_cell(t, Z(4, 7), NULL, NULL, Z(400, 28), Z(400, 100), NULL, NULL, NULL),
               "lstm_cell: x (4,7) and weight_ih (400,28): input size 7, weight expects 28");
  expect_error(t, ae_lstm_cell(t, Z(4, 28), NULL, NULL, Z(300, 28), Z(400, 100), NULL, NULL, NULL),
               "lstm_cell: weight_ih (300,28) and weight_hh (400,100): weight_ih must be (400,I)");
  expect_error(t, ae_lstm_cell(t, Z(4, 28), NULL, NULL, Z(400, 28), Z(300, 100), NULL, NULL, NULL),
               "lstm_cell: weight_hh has shape (300,100), expected (4*H,H)");
  expect_error(t, ae_lstm_cell(t, Z(4, 28), Z(3, 100), NULL, Z(400, 28), Z(400, 100), NULL, NULL, NULL),
               "lstm_cell: h has shape (3,100) but x (4,28) and weight_hh (400,100) need (4,100)");
  expect_error(t, ae_lstm_cell(t, Z(4, 28), NULL, Z(4, 99), Z(400, 28), Z(400, 100), NULL, NULL, NULL),
               "lstm_cell: c has shape (4,99)");
  expect_error(t, ae_gru_cell(t, Z(4, 28), NULL, Z(300, 28), Z(300, 100), Z(400), NULL),
               "gru_cell: bias_ih has shape (400,), expected (300,)");
  expect_error(t, ae_gru_unroll(t, Z(4, 28), NULL, Z(300, 28), Z(300, 100), NULL, NULL, NULL),
               "gru_unroll: x has shape (4,28), expected (B,T,I)");
  expect_error(t, ae_lstm_unroll(t, Z(4, 5, 7), NULL, NULL, Z(400, 28), Z(400, 100), NULL, NULL, NULL, NULL),
               "lstm_unroll: x (4,5,7) and weight_ih (400,28): input size 7, weight expects 28");
  expect_error(t, ae_lstm_gates(t, Z(4, 12), Z(4, 4)), "lstm_gates: pre-activations has shape (4,12), expected (4,16)");
  expect_error(t, ae_gru_gates(t, Z(4, 12), Z(4, 9), Z(4, 3)), "gru_gates: gx (input pre-activations) has shape (4,12)");
  expect_error(t, ae_lstm_gates_backward(t, Z(4, 7), Z(4, 12), Z(4, 3)),
               "lstm_gates_backward: gradient has shape (4,7), expected (4,6)");
  ae_val *hT = Z(1), *cT = Z(1);
  cr_assert_null(ae_lstm_unroll(t, Z(4, 5, 7), NULL, NULL, NULL, Z(400, 100), NULL, NULL, &hT, &cT));
  cr_assert_eq(ae_tape_status(t), AE_ERR_ARG, "%s", ae_tape_error(t));
  cr_assert(hT == NULL && cT == NULL, "h_last / c_last must be cleared on error");
#undef Z
  ae_tape_free(t);
}

/* ---- thread count, heap ---- */
static void big_step(ae_tape *t, ae_tensor *const *x, ae_real *out, int64_t n_out) {
  ae_tape_reset(t);
  ae_val *v[7];
  for (int k = 0; k < 7; k++) v[k] = k == 0 ? ae_const_tensor(t, x[k]) : ae_var_tensor(t, x[k]);
  ae_val *y = ae_lstm_unroll(t, v[0], v[1], v[2], v[3], v[4], v[5], v[6], NULL, NULL);
  ae_val *L = ae_sum(t, ae_square(t, y));
  ae_val *g[6];
  cr_assert(ae_grad(t, 1, &L, NULL, 6, v + 1, g, 0) == 0, "%s", ae_tape_error(t));
  if (!out) return;
  int64_t off = 0;
  for (int k = 0; k < 6 && off < n_out; k++) {
    memcpy(out + off, g[k]->t.data, sizeof(ae_real) * (size_t)g[k]->t.numel);
    off += g[k]->t.numel;
  }
  memcpy(out + off, y->t.data, sizeof(ae_real) * (size_t)y->t.numel);
}
Test(rnn, thread_count_independent_and_no_heap_once_warm) {
  /* B*4H = 51200 elements: the gate kernels go parallel with 2 threads. */
  int64_t B = 128, T = 3, I = 28, H = 100;
  ae_tensor *x[7];
  make_inputs(x, 1, 1, RNN_ALL, B, T, I, H, 9);
  int64_t n = 0;
  for (int k = 1; k < 7; k++) n += x[k]->numel;
  n += B * T * H;
  ae_real *r1 = malloc(sizeof *r1 * (size_t)n), *r2 = malloc(sizeof *r2 * (size_t)n);
  ae_tape *t = ae_tape_new(0);
  int old = ae_get_threads();
  ae_set_threads(1);
  big_step(t, x, r1, n);
  ae_set_threads(2);
  big_step(t, x, r2, n);
  cr_assert(memcmp(r1, r2, sizeof *r1 * (size_t)n) == 0, "1 and 2 threads differ");
  ae_set_threads(3); /* uneven blocks of the batch (43, 43, 42) in the unroll's split */
  big_step(t, x, r2, n);
  cr_assert(memcmp(r1, r2, sizeof *r1 * (size_t)n) == 0, "1 and 3 threads differ");
  ae_set_threads(2);
  int64_t before = ae_heap_allocs();
  big_step(t, x, NULL, 0);
  cr_assert_eq(ae_heap_allocs(), before, "%lld heap allocations in a warm step", (long long)(ae_heap_allocs() - before));
  ae_set_threads(old);
  free(r1), free(r2);
  for (int k = 0; k < 7; k++) ae_tensor_free(x[k]);
  ae_tape_free(t);
}

#ifdef AE_REAL_DOUBLE
typedef struct gc_ctx {
  build_fn build;
  op_row row;
} gc_ctx;
static ae_val *gc_fn(ae_tape *t, ae_val *const *in, void *p) {
  gc_ctx *c = p;
  return c->build(t, in, &c->row);
}
static void gradchecks(const char *label, build_fn build, int mask, int nin, ae_tensor *const *x, uint32_t nondiff) {
  gc_ctx c = {.build = build, .row = {.iattr = {mask}}};
  ae_gc_opts o = ae_gc_defaults();
  o.nondiff = nondiff;
  ae_gc_report rep;
  int ok = ae_gradcheck(gc_fn, &c, nin, x, &o, &rep);
  if (!ok) ae_gc_report_print(stderr, label, &rep);
  cr_expect(ok, "%s: gradcheck: %s", label, rep.message);
  ok = ae_gradgradcheck(gc_fn, &c, nin, x, &o, &rep);
  if (!ok) ae_gc_report_print(stderr, label, &rep);
  cr_expect(ok, "%s: gradgradcheck: %s", label, rep.message);
}

/* Every row of this family, with the row's own builder and inputs. */
Test(rnn, gradcheck_and_gradgradcheck_rows) {
  int n = 0;
  for (int i = 0; i < op_table_count(); i++) {
    const op_row *row = op_table_row(i);
    if (strcmp(op_table_family(i), "rnn") != 0 || (row->flags & OP_ROW_FWD_ONLY)) continue;
    ae_rng r;
    ae_rng_init(&r, 99 + (uint64_t)i);
    ae_tensor *x[OP_ROW_MAX_IN];
    for (int k = 0; k < row->nin; k++) x[k] = rt_uniform(row->in_shape[k], &r, row->lo, row->hi);
    gc_ctx c = {.build = row->build, .row = *row};
    ae_gc_opts o = ae_gc_defaults();
    o.nondiff = row->nondiff;
    ae_gc_report rep;
    int ok = ae_gradcheck(gc_fn, &c, row->nin, x, &o, &rep);
    if (!ok) ae_gc_report_print(stderr, row->label, &rep);
    cr_expect(ok, "%s: gradcheck: %s", row->label, rep.message);
    ok = ae_gradgradcheck(gc_fn, &c, row->nin, x, &o, &rep);
    if (!ok) ae_gc_report_print(stderr, row->label, &rep);
    cr_expect(ok, "%s: gradgradcheck: %s", row->label, rep.message);
    for (int k = 0; k < row->nin; k++) ae_tensor_free(x[k]);
    n++;
  }
  cr_assert_geq(n, 9, "only %d rnn rows", n);
}

/* The full LSTM unroll, all seven inputs, and the GRU unroll without
 * biases; T=3, B=2, I=3, H=4. */
Test(rnn, gradcheck_full_unrolls) {
  ae_tensor *x[7];
  int n = make_inputs(x, 1, 1, RNN_ALL, 2, 3, 3, 4, 31);
  cr_assert_eq(n, 7);
  gradchecks("lstm_unroll all inputs", rnn_build_lstm_unroll, RNN_ALL, n, x, 0);
  for (int k = 0; k < n; k++) ae_tensor_free(x[k]);
  n = make_inputs(x, 0, 1, RNN_H, 2, 3, 3, 4, 32);
  gradchecks("gru_unroll no biases", rnn_build_gru_unroll, RNN_H, n, x, 0);
  for (int k = 0; k < n; k++) ae_tensor_free(x[k]);
}
#endif
