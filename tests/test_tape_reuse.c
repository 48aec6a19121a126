/* test_tape_reuse.c: memory reuse in the reverse sweep (ae_tape_set_reuse,
 * ae_tape_arena_peak; grad/backward.c, autograd/tape.c): gradients with
 * reuse equal gradients without it bitwise, on every zoo model's loss and
 * on graphs that pass gradients through (add, reshape, broadcasting,
 * shared inputs); a long chain's arena peak is far lower with reuse;
 * create_graph and second-order gradients are unaffected; a contractive
 * penalty keeps no array of squares (the fused sum_sq) and the pieces of
 * an LSTM unroll are released once no rule reads them; a weight shared
 * by several products has its gradient added by their GEMMs; gradients
 * returned by ae_grad survive later sweeps; mark/rewind and reset around
 * sweeps; a warm training step still allocates nothing. Built for float64. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "ops/rnn_internal.h"
#include "random_tensor.h"

static int same_bits(const ae_real *a, const ae_real *b, int64_t n) { return memcmp(a, b, (size_t)n * sizeof *a) == 0; }

/* ---- every zoo model: parameter gradients with and without reuse ---- */

/* Splits "k=v k=v" into set[] (pointers into buf). */
static int split_sets(const char *s, char *buf, size_t cap, const char **set, int max) {
  int n = 0;
  if (!s) return 0;
  snprintf(buf, cap, "%s", s);
  for (char *p = strtok(buf, " "); p && n < max; p = strtok(NULL, " ")) set[n++] = p;
  return n;
}

/* The model's loss (or its own training step without an optimiser) and
 * backward on tape t; the parameter gradients go to grads (concatenated).
 * Returns the loss. */
static double model_grads(ae_model *m, ae_tape *t, const ae_tensor *x, int reuse, ae_real *grads, size_t *peak) {
  ae_tape_reset(t);
  ae_tape_set_reuse(t, reuse);
  for (int i = 0; i < m->nparams; i++) memset(m->params[i]->grad.data, 0, (size_t)m->params[i]->grad.numel * sizeof(ae_real));
  ae_rng rng;
  ae_rng_init(&rng, 5);
  ae_terms tm = {0};
  ae_val *xv = ae_const_tensor(t, x);
  double loss = NAN;
  if (m->def->train_step) {
    cr_assert_eq(m->def->train_step(m, t, xv, NULL, &rng, &tm, &loss), 0, "%s: %s", m->def->name, ae_tape_error(t));
  } else {
    ae_val *l = m->def->loss(m, t, xv, &rng, &tm);
    cr_assert(l && ae_tape_ok(t), "%s: %s", m->def->name, ae_tape_error(t));
    loss = ae_item(l);
    cr_assert_eq(ae_backward(t, l), 0, "%s: %s", m->def->name, ae_tape_error(t));
  }
  int64_t at = 0;
  for (int i = 0; i < m->nparams; i++) {
    memcpy(grads + at, m->params[i]->grad.data, (size_t)m->params[i]->grad.numel * sizeof(ae_real));
    at += m->params[i]->grad.numel;
  }
  if (peak) *peak = ae_tape_arena_peak(t);
  return loss;
}

/* Model `name` with settings `sets` (NULL: defaults) on a batch of `batch`
 * examples of shape ex: gradients bitwise equal with and without reuse,
 * and an arena peak no higher with reuse. */
static void check_model(const char *name, const char *sets, ae_shape ex, int batch) {
  char buf[512];
  const char *set[32];
  int nset = split_sets(sets, buf, sizeof buf, set, 32);
  ae_model *m = ae_model_new(name, nset, set, ex, 3);
  cr_assert(m, "%s: %s", name, ae_last_error());
  ae_shape bs = ex;
  for (int d = bs.ndim; d > 0; d--) bs.d[d] = bs.d[d - 1];
  bs.d[0] = batch;
  bs.ndim++;
  ae_tensor *x = rt_uniform_seeded(bs, 17, 0, 1);
  int64_t np = ae_model_param_count(m);
  ae_real *g_on = malloc(sizeof *g_on * (size_t)np), *g_off = malloc(sizeof *g_off * (size_t)np);
  ae_tape *t = ae_tape_new((size_t)1 << 30);
  cr_assert(g_on && g_off && t);
  size_t peak_on, peak_off;
  double l_off = model_grads(m, t, x, 0, g_off, &peak_off);
  double l_on = model_grads(m, t, x, 1, g_on, &peak_on);
  cr_expect(l_on == l_off, "%s: loss %.17g with reuse, %.17g without", name, l_on, l_off);
  int64_t bad = -1;
  for (int64_t i = 0; i < np && bad < 0; i++)
    if (memcmp(&g_on[i], &g_off[i], sizeof(ae_real))) bad = i;
  cr_expect(bad < 0, "%s (%s): gradient element %lld differs with reuse: %.17g against %.17g", name,
            sets ? sets : "defaults", (long long)bad, bad < 0 ? 0.0 : (double)g_on[bad], bad < 0 ? 0.0 : (double)g_off[bad]);
  cr_expect(peak_on <= peak_off, "%s: arena peak %zu with reuse, %zu without", name, peak_on, peak_off);
  cr_log_info("%s (%s): arena peak %.2f MiB with reuse, %.2f MiB without", name, sets ? sets : "defaults",
              peak_on / 1048576.0, peak_off / 1048576.0);
  ae_tape_free(t);
  free(g_on);
  free(g_off);
  ae_tensor_free(x);
  ae_model_free(m);
}

/* Every zoo model at its gradient-check sizes on 4x4 images. */
Test(tape_reuse, every_zoo_model_small) {
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    check_model(d->name, d->gradcheck_settings, AE_SHAPE(1, 4, 4), 3);
  }
}

/* The models whose sweeps are longest, at their default sizes on 28x28
 * images: a deep contractive model (a VJP per code unit with create_graph,
 * then backward through all of them), a convolutional denoiser, an LSTM. */
Test(tape_reuse, big_graphs_at_default_sizes, .timeout = 300) {
  check_model("cae-deep", "hidden=64,12", AE_SHAPE(1, 28, 28), 4);
  check_model("cae-h", "hidden=100", AE_SHAPE(1, 28, 28), 4);
  check_model("conv-dae", NULL, AE_SHAPE(1, 28, 28), 4);
  check_model("deconv-ae", NULL, AE_SHAPE(1, 28, 28), 4);
  check_model("seq-ae", NULL, AE_SHAPE(1, 28, 28), 4);
}

/* ---- graphs that pass gradients through, ae_grad at intermediate values ---- */

/* loss(x, w) over adds (an add's rule passes its gradient on to both
 * inputs), reshapes (a view of the gradient), broadcasting (sum_to in the
 * sweep), an input used twice, and a value used by several nodes; its
 * gradients with respect to x, w and the intermediate h. */
static void passing_graph(ae_tape *t, const ae_tensor *xt, const ae_tensor *wt, int reuse, ae_real *out) {
  ae_tape_reset(t);
  ae_tape_set_reuse(t, reuse);
  ae_val *x = ae_var_tensor(t, xt), *w = ae_var_tensor(t, wt);
  ae_val *h = ae_add(t, ae_mul(t, x, x), w); /* (6,4) + (4): broadcast */
  ae_val *a = ae_add(t, h, ae_tanh(t, h));
  ae_val *r = ae_reshape(t, a, AE_SHAPE(4, 6));
  ae_val *s = ae_add(t, ae_reshape(t, ae_sigmoid(t, r), AE_SHAPE(6, 4)), h);
  ae_val *u = ae_mul(t, s, ae_add(t, s, x));
  ae_val *loss = ae_add(t, ae_sum(t, u), ae_sum(t, ae_square(t, h)));
  ae_val *ins[3] = {x, w, h}, *g[3];
  cr_assert_eq(ae_grad(t, 1, &loss, NULL, 3, ins, g, 0), 0, "%s", ae_tape_error(t));
  memcpy(out, g[0]->t.data, 24 * sizeof *out);
  memcpy(out + 24, g[1]->t.data, 4 * sizeof *out);
  memcpy(out + 28, g[2]->t.data, 24 * sizeof *out);
}

Test(tape_reuse, pass_through_gradients_bitwise) {
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(6, 4), 1, -1, 1), *wt = rt_uniform_seeded(AE_SHAPE(4), 2, -1, 1);
  ae_tape *t = ae_tape_new(0);
  ae_real on[52], off[52];
  passing_graph(t, xt, wt, 0, off);
  passing_graph(t, xt, wt, 1, on);
  for (int i = 0; i < 52; i++) cr_expect(!memcmp(&on[i], &off[i], sizeof on[i]), "element %d: %.17g against %.17g", i, on[i], off[i]);
  ae_tape_free(t);
  ae_tensor_free(xt);
  ae_tensor_free(wt);
}

/* Gradients returned by ae_grad belong to the caller: later sweeps on the
 * same tape, which recycle their own buffers, leave them as they were. */
Test(tape_reuse, returned_gradients_survive_later_sweeps) {
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(16, 8), 3, -1, 1);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var_tensor(t, xt);
  ae_val *y = x;
  for (int k = 0; k < 10; k++) y = ae_tanh(t, ae_mul(t, y, ae_scalar(t, 1.1)));
  ae_val *loss = ae_sum(t, ae_square(t, y));
  ae_val *g1 = ae_grad1(t, loss, NULL, x, 0);
  cr_assert(g1, "%s", ae_tape_error(t));
  ae_real copy[128];
  memcpy(copy, g1->t.data, sizeof copy);
  for (int rep = 0; rep < 5; rep++) {
    ae_val *g2 = ae_grad1(t, loss, NULL, x, 0);
    cr_assert(g2, "%s", ae_tape_error(t));
    cr_expect(same_bits(g2->t.data, copy, 128), "sweep %d differs from the first", rep + 2);
    cr_expect(g2->t.data != g1->t.data, "a later sweep returned the first sweep's buffer");
  }
  cr_expect(same_bits(g1->t.data, copy, 128), "the first gradient changed under later sweeps");
  ae_tape_free(t);
  ae_tensor_free(xt);
}

/* ---- the arena's peak ---- */

/* A chain of n tanh layers on a (64,64) value: the forward pass holds n
 * values; without reuse the sweep adds n gradients and the rules' scratch,
 * with reuse a few gradients. */
static size_t chain_peak(int n, int reuse, size_t *forward, ae_real *grad) {
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(64, 64), 4, -1, 1);
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  ae_tape_set_reuse(t, reuse);
  ae_val *x = ae_var_tensor(t, xt), *y = x;
  for (int k = 0; k < n; k++) y = ae_tanh(t, ae_add(t, y, ae_scalar(t, 0.01)));
  ae_val *loss = ae_sum(t, y);
  *forward = ae_tape_arena_used(t);
  ae_val *g = ae_grad1(t, loss, NULL, x, 0);
  cr_assert(g, "%s", ae_tape_error(t));
  memcpy(grad, g->t.data, 64 * 64 * sizeof *grad);
  size_t peak = ae_tape_arena_peak(t);
  ae_tape_free(t);
  ae_tensor_free(xt);
  return peak;
}

Test(tape_reuse, long_chain_peak_is_lower) {
  static ae_real g_on[64 * 64], g_off[64 * 64];
  size_t f_on, f_off;
  size_t on = chain_peak(200, 1, &f_on, g_on), off = chain_peak(200, 0, &f_off, g_off);
  cr_assert_eq(f_on, f_off);
  cr_expect(same_bits(g_on, g_off, 64 * 64), "the chain's gradient differs with reuse");
  size_t value = 64 * 64 * sizeof(ae_real);
  cr_log_info("200-layer chain: forward %zu KiB, sweep adds %zu KiB with reuse, %zu KiB without", f_on >> 10,
              (on - f_on) >> 10, (off - f_off) >> 10);
  cr_expect(off - f_off >= 200 * value, "without reuse the sweep should hold a gradient per layer: %zu bytes", off - f_off);
  cr_expect(on - f_on <= 8 * value, "with reuse the sweep holds %zu bytes over the forward pass, more than 8 values of %zu",
            on - f_on, value);
}

/* A weight w (256x256) in four products, in each operand position and
 * transposition, with k rows of x (the inner size of each product giving
 * w's gradient); loss = sum of their squares. w's gradient to gw; returns
 * the arena's peak over the forward pass's use. */
static size_t shared_weight(int reuse, int64_t k, ae_real *gw) {
  ae_tensor *wt = rt_uniform_seeded(AE_SHAPE(256, 256), 21, -1, 1), *xt = rt_uniform_seeded(AE_SHAPE(k, 256), 22, -1, 1);
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_tape_set_reuse(t, reuse);
  ae_val *w = ae_var_tensor(t, wt), *x = ae_const_tensor(t, xt), *loss = NULL;
  ae_val *y[4] = {ae_matmul(t, x, w, 0, 0), ae_matmul(t, x, w, 0, 1), ae_matmul(t, w, x, 0, 1), ae_matmul(t, w, x, 1, 1)};
  for (int i = 0; i < 4; i++) {
    ae_val *s = ae_sum(t, ae_square(t, y[i]));
    loss = loss ? ae_add(t, loss, s) : s;
  }
  size_t forward = ae_tape_arena_used(t);
  ae_val *g = ae_grad1(t, loss, NULL, w, 0);
  cr_assert(g, "%s", ae_tape_error(t));
  memcpy(gw, g->t.data, 256 * 256 * sizeof *gw);
  size_t over = ae_tape_arena_peak(t) - forward;
  ae_tape_free(t);
  ae_tensor_free(wt);
  ae_tensor_free(xt);
  return over;
}

/* With reuse, the GEMM of each later product adds w's gradient into the
 * accumulator the sweep already holds (ae__grad_acc_into): the same bits
 * as the sweep's own add of a separate product, and one w-sized gradient
 * over the forward pass instead of that and the product's. With k = 600
 * the GEMM sums K in two blocks and would round differently: the sweep
 * adds as before, still the same bits. */
Test(tape_reuse, a_shared_weight_accumulates_in_the_gemm) {
  static ae_real on[256 * 256], off[256 * 256];
  const size_t value = 256 * 256 * sizeof(ae_real);
  const int64_t ks[] = {8, 600};
  for (int c = 0; c < 2; c++) {
    size_t over_on = shared_weight(1, ks[c], on), over_off = shared_weight(0, ks[c], off);
    int64_t bad = -1;
    for (int64_t i = 0; i < 256 * 256 && bad < 0; i++)
      if (memcmp(&on[i], &off[i], sizeof on[i])) bad = i;
    cr_expect(bad < 0, "k = %lld: w's gradient element %lld is %.17g with reuse, %.17g without", (long long)ks[c],
              (long long)bad, bad < 0 ? 0.0 : on[bad], bad < 0 ? 0.0 : off[bad]);
    cr_log_info("k = %lld: the sweep adds %zu KiB with reuse, %zu KiB without (w: %zu KiB)", (long long)ks[c],
                over_on >> 10, over_off >> 10, value >> 10);
    cr_expect(over_off >= 4 * value, "k = %lld: without reuse the sweep should hold 4 of w's gradients: %zu bytes",
              (long long)ks[c], over_off);
    if (ks[c] == 8)
      cr_expect(over_on < value + value / 2, "with reuse the sweep holds %zu bytes over the forward pass: more than "
                "one of w's gradients (%zu) and its small values", over_on, value);
  }
}

Test(tape_reuse, peak_follows_reset) {
  ae_tape *t = ae_tape_new(0);
  cr_expect_eq(ae_tape_arena_peak(t), 0);
  ae_full(t, AE_SHAPE(1000), 1);
  size_t p = ae_tape_arena_peak(t);
  cr_expect(p >= 1000 * sizeof(ae_real) && p == ae_tape_arena_used(t));
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_full(t, AE_SHAPE(1000), 1);
  ae_tape_rewind(t, m);
  cr_expect(ae_tape_arena_peak(t) > p, "rewind keeps the high-water mark");
  ae_tape_reset(t);
  cr_expect_eq(ae_tape_arena_peak(t), 0);
  ae_tape_free(t);
}

/* ---- create_graph, second order ---- */

/* d/dw of |d loss/dx|^2 for a small MLP: the inner gradient with
 * create_graph (no reuse: its gradients are graph values), the outer
 * backward without (reuse on). */
static void second_order(int reuse, ae_real *gx, ae_real *gw) {
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(5, 7), 5, -1, 1), *wt = rt_uniform_seeded(AE_SHAPE(6, 7), 6, -1, 1);
  ae_param *w = ae_param_new("w", AE_SHAPE(6, 7));
  memcpy(w->value.data, wt->data, sizeof(ae_real) * 42);
  ae_tape *t = ae_tape_new(0);
  ae_tape_set_reuse(t, reuse);
  ae_val *x = ae_var_tensor(t, xt), *wv = ae_param_bind(t, w);
  ae_val *h = ae_sigmoid(t, ae_matmul(t, x, wv, 0, 1));
  ae_val *loss = ae_sum(t, ae_square(t, ae_tanh(t, ae_matmul(t, h, wv, 0, 0))));
  ae_val *g = ae_grad1(t, loss, NULL, x, 1);
  cr_assert(g, "%s", ae_tape_error(t));
  memcpy(gx, g->t.data, sizeof(ae_real) * 35);
  ae_val *pen = ae_sum(t, ae_square(t, g));
  cr_assert_eq(ae_backward(t, pen), 0, "%s", ae_tape_error(t));
  memcpy(gw, w->grad.data, sizeof(ae_real) * 42);
  ae_tape_free(t);
  ae_param_free(w);
  ae_tensor_free(xt);
  ae_tensor_free(wt);
}

Test(tape_reuse, create_graph_and_second_order_unaffected) {
  ae_real gx_on[35], gx_off[35], gw_on[42], gw_off[42];
  second_order(1, gx_on, gw_on);
  second_order(0, gx_off, gw_off);
  cr_expect(same_bits(gx_on, gx_off, 35), "the create_graph gradient differs with reuse");
  cr_expect(same_bits(gw_on, gw_off, 42), "the second-order gradient differs with reuse");
  int nonzero = 0;
  for (int i = 0; i < 42; i++) nonzero |= gw_on[i] != 0;
  cr_expect(nonzero, "the second-order gradient is zero");
}

/* A create_graph sweep reuses nothing: its gradients are recorded values
 * a later sweep differentiates, so the arena after it is the same either way. */
Test(tape_reuse, create_graph_sweep_keeps_everything) {
  size_t used[2];
  for (int reuse = 0; reuse < 2; reuse++) {
    ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(8, 8), 7, -1, 1);
    ae_tape *t = ae_tape_new(0);
    ae_tape_set_reuse(t, reuse);
    ae_val *x = ae_var_tensor(t, xt), *y = x;
    for (int k = 0; k < 20; k++) y = ae_sigmoid(t, ae_mul(t, y, y));
    cr_assert(ae_grad1(t, ae_sum(t, y), NULL, x, 1), "%s", ae_tape_error(t));
    used[reuse] = ae_tape_arena_used(t);
    ae_tape_free(t);
    ae_tensor_free(xt);
  }
  cr_expect_eq(used[0], used[1], "a create_graph sweep used %zu bytes with reuse, %zu without", used[1], used[0]);
}

/* The exact contractive penalty with create_graph: one VJP per code unit,
 * each product's squares summed by the fused sum_sq, which writes no array
 * of squares. Against the same penalty composed from the public API (a VJP
 * per unit, then square and sum), the arena after the penalty holds at
 * least one square per unit less, with reuse or without; and the
 * parameter gradient through it is bitwise the same with and without
 * reuse. composite = 0: ae_jacobian_frobenius_sq; 1: the composition. */
enum { PB = 8, PD = 50, PH = 16 };
static size_t penalty_grads(int reuse, int composite, ae_real *gw) {
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(PB, PD), 9, 0, 1), *wt = rt_uniform_seeded(AE_SHAPE(PH, PD), 10, -0.3, 0.3);
  ae_param *w = ae_param_new("w", AE_SHAPE(PH, PD));
  memcpy(w->value.data, wt->data, sizeof(ae_real) * PH * PD);
  ae_tape *t = ae_tape_new(0);
  ae_tape_set_reuse(t, reuse);
  ae_val *x = ae_var_tensor(t, xt), *wv = ae_param_bind(t, w);
  ae_val *h = ae_sigmoid(t, ae_matmul(t, x, wv, 0, 1));
  ae_val *pen = NULL;
  if (!composite) {
    pen = ae_jacobian_frobenius_sq(t, h, x, 1);
  } else {
    for (int j = 0; j < PH; j++) { /* unit j of every example */
      ae_val *v = ae_full(t, AE_SHAPE(PB, PH), 0);
      for (int b = 0; b < PB; b++) v->t.data[b * PH + j] = 1;
      ae_val *q = ae_sum(t, ae_square(t, ae_vjp(t, h, v, x, 1)));
      pen = pen ? ae_add(t, pen, q) : q;
    }
  }
  cr_assert(pen, "%s", ae_tape_error(t));
  size_t used = ae_tape_arena_used(t);
  cr_assert_eq(ae_backward(t, pen), 0, "%s", ae_tape_error(t));
  memcpy(gw, w->grad.data, sizeof(ae_real) * PH * PD);
  ae_tape_free(t);
  ae_param_free(w);
  ae_tensor_free(xt);
  ae_tensor_free(wt);
  return used;
}

Test(tape_reuse, frobenius_penalty_keeps_no_squares) {
  static ae_real on[PH * PD], off[PH * PD], comp[PH * PD];
  size_t used_on = penalty_grads(1, 0, on), used_off = penalty_grads(0, 0, off);
  cr_expect(same_bits(on, off, PH * PD), "the penalty's gradient differs with reuse");
  size_t square = PB * PD * sizeof(ae_real);
  for (int reuse = 0; reuse < 2; reuse++) {
    size_t used = reuse ? used_on : used_off, used_comp = penalty_grads(reuse, 1, comp);
    cr_expect(used_comp >= used + PH * square,
              "reuse %d: the penalty used %zu bytes, square + sum %zu: expected at least %zu less", reuse, used,
              used_comp, PH * square);
  }
  /* the composition is the same penalty (its squares rounded to ae_real
   * before the sum, so not bitwise) */
  for (int i = 0; i < PH * PD; i++)
    cr_expect(fabs((double)comp[i] - (double)off[i]) <= 1e-12 * (1 + fabs((double)off[i])),
              "gradient %d: %.17g fused, %.17g composed", i, (double)off[i], (double)comp[i]);
}

/* An LSTM unroll composed step by step (ae__lstm_unroll_set_steps: the
 * reference lstm_seq is compared with in test_rnn.c) releases each step's
 * [h c] once cut, and after the loop the pieces cut from x and the steps'
 * h (no rule reads them): the forward pass holds less, while the outputs,
 * x itself, first- and second-order gradients stay bitwise the same. x
 * with and without grad (cut by halving, or by selects). */
typedef struct lstm_run {
  size_t forward;
  ae_real out[4 * 7 * 5], hl[4 * 5], gx[4 * 7 * 3], gw[20 * 3], gw2[20 * 3];
} lstm_run;

static void lstm_case(int reuse, int x_grad, lstm_run *r) {
  enum { B = 4, T = 7, I = 3, H = 5 };
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(B, T, I), 11, -1, 1), *wi = rt_uniform_seeded(AE_SHAPE(4 * H, I), 12, -0.5, 0.5),
            *wh = rt_uniform_seeded(AE_SHAPE(4 * H, H), 13, -0.5, 0.5), *bi = rt_uniform_seeded(AE_SHAPE(4 * H), 14, -0.5, 0.5),
            *bh = rt_uniform_seeded(AE_SHAPE(4 * H), 15, -0.5, 0.5);
  ae_tape *t = ae_tape_new(0);
  ae_tape_set_reuse(t, reuse);
  ae_val *x = x_grad ? ae_var_tensor(t, xt) : ae_const_tensor(t, xt), *w = ae_var_tensor(t, wi);
  ae_val *hl = NULL, *cl = NULL;
  ae__lstm_unroll_set_steps(1);
  ae_val *out = ae_lstm_unroll(t, x, NULL, NULL, w, ae_var_tensor(t, wh), ae_const_tensor(t, bi), ae_const_tensor(t, bh),
                               &hl, &cl);
  ae__lstm_unroll_set_steps(0);
  cr_assert(out && hl && cl, "%s", ae_tape_error(t));
  ae_val *loss = ae_add(t, ae_sum(t, ae_square(t, out)), ae_add(t, ae_sum(t, hl), ae_sum(t, ae_square(t, cl))));
  r->forward = ae_tape_arena_used(t);
  memcpy(r->out, out->t.data, sizeof r->out);
  memcpy(r->hl, hl->t.data, sizeof r->hl);
  ae_val *ins[2] = {w, x}, *g[2];
  cr_assert_eq(ae_grad(t, 1, &loss, NULL, x_grad ? 2 : 1, ins, g, 1), 0, "%s", ae_tape_error(t));
  memcpy(r->gw, g[0]->t.data, sizeof r->gw);
  if (x_grad) memcpy(r->gx, g[1]->t.data, sizeof r->gx);
  ae_val *pen = ae_sum(t, ae_square(t, g[0]));
  ae_val *g2 = ae_grad1(t, pen, NULL, w, 0);
  cr_assert(g2, "%s", ae_tape_error(t));
  memcpy(r->gw2, g2->t.data, sizeof r->gw2);
  cr_expect(same_bits(x->t.data, xt->data, B * T * I), "the unroll changed its input x");
  cr_expect(same_bits(r->out, out->t.data, B * T * H) && same_bits(r->hl, hl->t.data, B * H),
            "the unroll's outputs changed during the sweeps");
  ae_tape_free(t);
  ae_tensor *ts[5] = {xt, wi, wh, bi, bh};
  for (int k = 0; k < 5; k++) ae_tensor_free(ts[k]);
}

Test(tape_reuse, lstm_unroll_releases_its_pieces) {
  for (int x_grad = 0; x_grad < 2; x_grad++) {
    static lstm_run on, off;
    memset(&on, 0, sizeof on);
    memset(&off, 0, sizeof off);
    lstm_case(1, x_grad, &on);
    lstm_case(0, x_grad, &off);
    cr_expect(same_bits(on.out, off.out, 4 * 7 * 5) && same_bits(on.hl, off.hl, 4 * 5), "x_grad %d: outputs differ", x_grad);
    cr_expect(same_bits(on.gw, off.gw, 20 * 3) && same_bits(on.gx, off.gx, 4 * 7 * 3),
              "x_grad %d: first-order gradients differ with reuse", x_grad);
    cr_expect(same_bits(on.gw2, off.gw2, 20 * 3), "x_grad %d: second-order gradients differ with reuse", x_grad);
    cr_expect(on.forward < off.forward, "x_grad %d: the forward pass holds %zu bytes with reuse, %zu without", x_grad,
              on.forward, off.forward);
  }
}

/* ---- mark and rewind, reset ---- */

/* Sweeps after a mark, rewound each time: the arena comes back to the
 * mark, free blocks below it stay usable, results stay bitwise the same,
 * and the peak stops growing. (It may grow for a round or two: a
 * gradient that took a free block below the mark and was returned to
 * the caller is not free again after the rewind.) */
Test(tape_reuse, rewind_around_sweeps) {
  ae_tensor *xt = rt_uniform_seeded(AE_SHAPE(32, 16), 8, -1, 1);
  ae_tape *t = ae_tape_new(0);
  ae_val *x = ae_var_tensor(t, xt), *y = x;
  for (int k = 0; k < 12; k++) y = ae_tanh(t, ae_add(t, ae_mul(t, y, ae_scalar(t, 0.9)), x));
  ae_val *loss = ae_sum(t, y);
  ae_val *g0 = ae_grad1(t, loss, NULL, x, 0); /* leaves free blocks below the mark */
  cr_assert(g0, "%s", ae_tape_error(t));
  ae_real first[512];
  memcpy(first, g0->t.data, sizeof first);
  ae_tape_mark m = ae_tape_get_mark(t);
  size_t peak[12];
  for (int rep = 0; rep < 12; rep++) {
    ae_val *g = ae_grad1(t, loss, NULL, x, 0);
    cr_assert(g, "%s", ae_tape_error(t));
    cr_expect(same_bits(g->t.data, first, 512), "round %d differs", rep);
    ae_val *z = ae_mul(t, g, g); /* ordinary ops after a sweep */
    cr_expect(z && z->t.data[0] == first[0] * first[0]);
    ae_tape_rewind(t, m);
    cr_expect_eq(ae_tape_arena_used(t), m.arena_used);
    peak[rep] = ae_tape_arena_peak(t);
  }
  cr_expect_eq(peak[11], peak[5], "the peak still grows: %zu after round 5, %zu after round 11 (mark at %zu)",
               peak[5], peak[11], m.arena_used);
  cr_expect(same_bits(g0->t.data, first, 512), "the gradient before the mark changed");
  /* rewinding below the sweeps drops their free blocks: later values are intact */
  ae_tape_rewind(t, (ae_tape_mark){0, 0});
  ae_val *a = ae_full(t, AE_SHAPE(512), 2), *b = ae_full(t, AE_SHAPE(512), 3);
  ae_val *c = ae_var(t, AE_SHAPE(512), a->t.data), *d = ae_sum(t, ae_mul(t, c, b));
  ae_val *gc = ae_grad1(t, d, NULL, c, 0);
  cr_assert(gc, "%s", ae_tape_error(t));
  for (int i = 0; i < 512; i++) cr_expect(a->t.data[i] == 2 && b->t.data[i] == 3 && gc->t.data[i] == 3);
  ae_tape_free(t);
  ae_tensor_free(xt);
}

/* ---- a warm step allocates nothing ---- */

Test(tape_reuse, warm_step_allocates_nothing) {
  ae_model *m = ae_model_new("cae-deep", 1, (const char *[]){"hidden=12,6"}, AE_SHAPE(1, 8, 8), 1);
  cr_assert(m, "%s", ae_last_error());
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  ae_trainer *tr = ae_trainer_new(m, &cfg, 2, 0);
  cr_assert(tr, "%s", ae_last_error());
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(16, 1, 8, 8), 9, 0, 1);
  int64_t before = 0;
  for (int s = 0; s < 6; s++) {
    if (s == 2) before = ae_heap_allocs();
    cr_assert_eq(ae_trainer_step(tr, x), 0, "step %d: %s", s, ae_trainer_error(tr));
  }
  cr_expect_eq(ae_heap_allocs(), before, "%lld heap allocations in warm steps", (long long)(ae_heap_allocs() - before));
  ae_tensor_free(x);
  ae_trainer_free(tr);
  ae_model_free(m);
}

/* ---- the trainer's step sets the gradients (zoo/train.c, ae__backward_set) ---- */

/* ae_trainer_step fuses zero_grad into the backward (each optimiser
 * parameter's gradient is set, not added to zeros): on every zoo model
 * without its own step, and on stacked-ae at its second stage (whose
 * optimiser holds the second layer only), the gradients a step leaves
 * (SGD at lr 0, so the parameters do not move) are bitwise a zero_grad
 * plus ae_backward on the same batch and noise, whatever the gradient
 * buffers held before. */
static void check_trainer_sets(const char *name, const char *sets, int stage) {
  char buf[512];
  const char *set[32];
  int nset = split_sets(sets, buf, sizeof buf, set, 32);
  ae_shape ex = AE_SHAPE(1, 4, 4);
  ae_model *m = ae_model_new(name, nset, set, ex, 3);
  cr_assert(m, "%s: %s", name, ae_last_error());
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(3, 1, 4, 4), 17, 0, 1);
  int64_t np = ae_model_param_count(m);
  ae_real *g_ref = malloc(sizeof *g_ref * (size_t)np), *g_tr = malloc(sizeof *g_tr * (size_t)np);
  ae_tape *t = ae_tape_new((size_t)1 << 26);
  cr_assert(g_ref && g_tr && t);
  ae_optim_config c = ae_optim_defaults(AE_OPT_SGD);
  c.lr = 0;
  ae_trainer *tr = ae_trainer_new(m, &c, 1, 0);
  cr_assert(tr, "%s: %s", name, ae_last_error());
  if (stage) cr_assert_eq(ae_trainer_set_stage(tr, stage), 0, "%s", ae_trainer_error(tr));
  model_grads(m, t, x, 1, g_ref, NULL); /* every parameter: zero_grad, then ae_backward */
  for (int i = 0; i < m->nparams; i++) /* stale values a set must overwrite */
    for (int64_t e = 0; e < m->params[i]->grad.numel; e++) m->params[i]->grad.data[e] = (ae_real)7.5;
  ae_param *ps[64];
  int nps = ae_model_stage_params(m, stage, ps, 64);
  ae_rng_init(&tr->rng, 5); /* model_grads' noise */
  cr_assert_eq(ae_trainer_step(tr, x), 0, "%s: %s", name, ae_trainer_error(tr));
  int64_t at = 0;
  for (int i = 0; i < m->nparams; i++) {
    ae_param *p = m->params[i];
    int in_stage = 0;
    for (int k = 0; k < nps; k++) in_stage |= ps[k] == p;
    if (in_stage)
      cr_expect(same_bits(p->grad.data, g_ref + at, p->grad.numel), "%s stage %d: gradient of %s differs from zero_grad + ae_backward",
                name, stage, p->name);
    at += p->grad.numel;
  }
  ae_trainer_free(tr);
  ae_tape_free(t);
  free(g_ref), free(g_tr);
  ae_tensor_free(x);
  ae_model_free(m);
}
Test(tape_reuse, trainer_step_sets_gradients_bitwise) {
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    if (!d->train_step) check_trainer_sets(d->name, d->gradcheck_settings, 0);
  }
  check_trainer_sets("stacked-ae", NULL, 1);
}
