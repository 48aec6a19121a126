/* test_linear_act.c: the fused dense layer ae_linear_act (ops/ops.h)
 * against the composite act(ae_add(ae_matmul(x, w^T), b)), built twice
 * (linear-act-f32, linear-act-f64).
 *  - for every activation, with and without a bias, on shapes that cross
 *    the GEMM's micro-tile edges and the vector kernels' tails and one
 *    above the parallel threshold the test suite sets, at 1 and 2 threads:
 *    the output, the gradients of x, w and b (of <y, r>) and second-order
 *    gradients (of <dx, s> with create_graph) are bitwise the composite's;
 *  - a NaN in the input gives the composite's values, and in anomaly mode
 *    it is reported at the product, as the composite reports it;
 *  - a bias of another shape broadcasts (or fails) as ae_add does; a
 *    negative leaky slope and an unknown activation are handled;
 *  - the fused op keeps one value on the tape, the composite three;
 *  - an arena too small at any point of the forward or the reverse sweep
 *    fails with AE_ERR_ARENA, not a crash, some sizes inside the rule.
 * Gradcheck and gradgradcheck of the op against finite differences: the
 * op table's linear rows (tests/rows/core.c) in test_ops.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "fused_check.h"

static const char *const act_names[] = {"none", "relu", "sigmoid", "tanh", "leaky_relu"};
static const ae_real slope = (ae_real)0.01;

static ae_val *composite(ae_tape *t, ae_val *x, ae_val *w, ae_val *b, ae_act act) {
  ae_val *y = ae_matmul(t, x, w, 0, 1);
  if (b) y = ae_add(t, y, b);
  switch (act) {
    case AE_ACT_RELU: return ae_relu(t, y);
    case AE_ACT_SIGMOID: return ae_sigmoid(t, y);
    case AE_ACT_TANH: return ae_tanh(t, y);
    case AE_ACT_LEAKY_RELU: return ae_leaky_relu(t, y, slope);
    default: return y;
  }
}

static ae_val *apply(ae_tape *t, int fused, ae_act act, ae_val *x, ae_val *w, ae_val *b) {
  return fused ? ae_linear_act(t, x, w, b, act, slope) : composite(t, x, w, b, act);
}

static results run(int fused, ae_act act, ae_tensor *const *in, int nin, int threads) {
  int old = ae_get_threads();
  ae_set_threads(threads);
  ae_tape *t = ae_tape_new(0);
  ae_val *v[3] = {NULL, NULL, NULL};
  for (int k = 0; k < nin; k++) v[k] = ae_var_tensor(t, in[k]);
  results res = results_of(t, apply(t, fused, act, v[0], v[1], v[2]), v, nin);
  ae_tape_free(t);
  ae_set_threads(old);
  return res;
}

/* (batch, in, out): a single element; tile and tail edges (MR 8, NR 32 and
 * 16-float vectors in the AVX-512 float build); stacked-ae's first layer
 * and its decoder (100 and 784 outputs); above AEZOO_PAR_MIN_ELEMS=32768,
 * which tests/meson.build sets, so the pass over the rows runs parallel. */
static const int64_t sizes[][3] = {{1, 1, 1}, {3, 4, 5}, {13, 70, 37}, {9, 33, 17}, {128, 784, 100}, {128, 100, 784},
                                   {260, 20, 150}};

Test(linear_act, is_the_composite_bitwise) {
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
    for (int act = AE_ACT_NONE; act <= AE_ACT_LEAKY_RELU; act++)
      for (int nin = 2; nin <= 3; nin++) {
        const int64_t m = sizes[si][0], k = sizes[si][1], n = sizes[si][2];
        ae_tensor *in[3] = {rand_tensor(AE_SHAPE(m, k), 10 + si), rand_tensor(AE_SHAPE(n, k), 20 + si),
                            nin > 2 ? rand_tensor(AE_SHAPE(n), 30 + si) : NULL};
        for (int threads = 1; threads <= 2; threads++) {
          results a = run(1, (ae_act)act, in, nin, threads), b = run(0, (ae_act)act, in, nin, threads);
          if (act == AE_ACT_RELU && m * n >= 15) { /* the relu did something */
            int64_t zero = 0, pos = 0;
            for (int64_t j = 0; j < a.n[0]; j++) zero += a.v[0][j] == 0, pos += a.v[0][j] > 0;
            cr_assert(zero > 0 && pos > 0, "relu: %lld zeros, %lld positive", (long long)zero, (long long)pos);
          }
          char what[96];
          snprintf(what, sizeof what, "(%lld,%lld,%lld) %s%s", (long long)m, (long long)k, (long long)n,
                   act_names[act], nin > 2 ? " with bias" : "");
          expect_same_and_free(&a, &b, what, threads);
        }
        for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
      }
}

/* NaN in x: relu of NaN gives 0 (v > 0 is false), leaky_relu s * NaN,
 * sigmoid and tanh NaN, as the composite's ops do; the bits match. */
Test(linear_act, nan_gives_the_composites_values) {
  ae_tensor *in[3] = {rand_tensor(AE_SHAPE(6, 20), 1), rand_tensor(AE_SHAPE(40, 20), 2), rand_tensor(AE_SHAPE(40), 3)};
  in[0]->data[45] = NAN;
  for (int act = AE_ACT_NONE; act <= AE_ACT_LEAKY_RELU; act++) {
    ae_real *out[2];
    int64_t n = 0;
    for (int fused = 0; fused < 2; fused++) {
      ae_tape *t = ae_tape_new(0);
      ae_val *y = apply(t, fused, (ae_act)act, ae_const_tensor(t, in[0]), ae_const_tensor(t, in[1]),
                        ae_const_tensor(t, in[2]));
      cr_assert(y, "%s", ae_tape_error(t));
      out[fused] = copy_value(y, &n);
      ae_tape_free(t);
    }
    int64_t nans = 0;
    for (int64_t j = 0; j < n; j++) nans += isnan(out[1][j]);
    /* row 2 (element 45 is x[2][5]) is NaN before the activation */
    int64_t want = act == AE_ACT_RELU ? 0 : 40;
    cr_assert_eq(nans, want, "%s: %lld NaN outputs, want %lld", act_names[act], (long long)nans, (long long)want);
    cr_assert(memcmp(out[0], out[1], sizeof(ae_real) * (size_t)n) == 0, "%s: NaN handled unlike the composite",
              act_names[act]);
    free(out[0]), free(out[1]);
  }
  for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
}

Test(linear_act, anomaly_mode_reports_the_nan_at_the_product) {
  for (int act = AE_ACT_RELU; act <= AE_ACT_LEAKY_RELU; act++) {
    ae_tape *t = ae_tape_new(0);
    ae_set_anomaly(t, 1);
    ae_val *x = ae_var(t, AE_SHAPE(4, 6), NULL), *w = ae_var(t, AE_SHAPE(5, 6), NULL);
    ae_val *b = ae_var(t, AE_SHAPE(5), NULL);
    fill(x->t.data, x->t.numel, 4), fill(w->t.data, w->t.numel, 5), fill(b->t.data, b->t.numel, 6);
    w->t.data[7] = NAN;
    cr_assert_null(ae_linear_act(t, x, w, b, (ae_act)act, slope), "%s: a NaN went through", act_names[act]);
    cr_assert_eq(ae_tape_status(t), AE_ERR_ANOMALY, "%s", ae_tape_error(t));
    cr_assert(strstr(ae_tape_error(t), "matmul"), "%s: error '%s' does not name matmul", act_names[act],
              ae_tape_error(t));
    ae_tape_free(t);
  }
}

/* A bias of shape (1, n) broadcasts as in ae_add (the composite runs), a
 * bias that does not broadcast fails as ae_add fails, a negative leaky
 * slope gets the composite's values, an unknown activation is refused. */
Test(linear_act, other_arguments_behave_as_the_composite) {
  ae_tensor *x = rand_tensor(AE_SHAPE(4, 3), 1), *w = rand_tensor(AE_SHAPE(5, 3), 2);
  ae_tensor *b = rand_tensor(AE_SHAPE(1, 5), 3);
  ae_tape *t = ae_tape_new(0);
  ae_val *xv = ae_const_tensor(t, x), *wv = ae_const_tensor(t, w), *bv = ae_const_tensor(t, b);
  ae_val *y[2][2]; /* [tanh with the (1,5) bias, leaky_relu -0.5][fused, composite] */
  for (int fused = 0; fused < 2; fused++) {
    y[0][!fused] = apply(t, fused, AE_ACT_TANH, xv, wv, bv);
    y[1][!fused] = fused ? ae_linear_act(t, xv, wv, bv, AE_ACT_LEAKY_RELU, (ae_real)-0.5)
                         : ae_leaky_relu(t, ae_add(t, ae_matmul(t, xv, wv, 0, 1), bv), (ae_real)-0.5);
  }
  cr_assert(y[0][0] && y[0][1] && y[1][0] && y[1][1], "%s", ae_tape_error(t));
  cr_assert(memcmp(y[0][0]->t.data, y[0][1]->t.data, sizeof(ae_real) * 20) == 0,
            "a (1,5) bias: not the composite's values");
  cr_assert(memcmp(y[1][0]->t.data, y[1][1]->t.data, sizeof(ae_real) * 20) == 0,
            "slope -0.5: not the composite's values");
  ae_tape_reset(t);
  cr_assert_null(ae_linear_act(t, ae_const_tensor(t, x), ae_const_tensor(t, w), ae_full(t, AE_SHAPE(4), 1),
                               AE_ACT_RELU, 0));
  cr_assert_str_eq(ae_tape_error(t), "add: (4,5) and (4,) do not broadcast: dimension 1 has sizes 5 and 4");
  ae_tape_reset(t);
  cr_assert_null(ae_linear_act(t, ae_const_tensor(t, x), ae_const_tensor(t, w), NULL, (ae_act)7, 0));
  cr_assert_eq(ae_tape_status(t), AE_ERR_ARG, "%s", ae_tape_error(t));
  ae_tape_reset(t);
  cr_assert_null(ae_linear_act(t, ae_const_tensor(t, x), ae_full(t, AE_SHAPE(5, 4), 1), NULL, AE_ACT_RELU, 0));
  cr_assert_str_eq(ae_tape_error(t), "linear: (4,3) x (5,4)^T: inner dimensions 3 and 4 differ");
  ae_tape_free(t);
  ae_tensor_free(x), ae_tensor_free(w), ae_tensor_free(b);
}

/* A negative leaky slope flips the output's sign where x < 0, so the fused
 * rule could not read the pre-activation's sign from it: the composite is
 * recorded, and values and gradients (both orders) are the composite's. */
Test(linear_act, negative_slope_gradients_are_the_composites) {
  ae_tensor *in[3] = {rand_tensor(AE_SHAPE(6, 7), 11), rand_tensor(AE_SHAPE(9, 7), 12), rand_tensor(AE_SHAPE(9), 13)};
  results r[2];
  for (int fused = 0; fused < 2; fused++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *v[3] = {ae_var_tensor(t, in[0]), ae_var_tensor(t, in[1]), ae_var_tensor(t, in[2])};
    ae_val *y = fused ? ae_linear_act(t, v[0], v[1], v[2], AE_ACT_LEAKY_RELU, (ae_real)-0.5)
                      : ae_leaky_relu(t, ae_add(t, ae_matmul(t, v[0], v[1], 0, 1), v[2]), (ae_real)-0.5);
    r[fused] = results_of(t, y, v, 3);
    ae_tape_free(t);
  }
  expect_same_and_free(&r[1], &r[0], "leaky_relu slope -0.5", 1);
  for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
}

/* With grad mode on, the fused op adds its output to the tape; the
 * composite the product, the sum and the activation's output. */
Test(linear_act, keeps_one_value_on_the_tape) {
  for (int act = AE_ACT_RELU; act <= AE_ACT_LEAKY_RELU; act++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *x = ae_var(t, AE_SHAPE(64, 50), NULL), *w = ae_var(t, AE_SHAPE(70, 50), NULL);
    ae_val *b = ae_var(t, AE_SHAPE(70), NULL);
    fill(x->t.data, x->t.numel, 6), fill(w->t.data, w->t.numel, 7), fill(b->t.data, b->t.numel, 8);
    const size_t out = 64 * 70 * sizeof(ae_real);
    size_t kept[2];
    for (int fused = 0; fused < 2; fused++) {
      size_t before = ae_tape_arena_used(t);
      cr_assert(apply(t, fused, (ae_act)act, x, w, b), "%s", ae_tape_error(t));
      kept[fused] = ae_tape_arena_used(t) - before;
    }
    cr_assert(kept[1] >= out && kept[1] < out + 1024, "%s: fused kept %zu bytes for a %zu-byte output",
              act_names[act], kept[1], out);
    cr_assert(kept[0] >= kept[1] + 2 * out, "%s: composite kept %zu bytes, fused %zu", act_names[act], kept[0],
              kept[1]);
    ae_tape_free(t);
  }
}

/* An arena too small at any point of the forward or the reverse sweep
 * fails with AE_ERR_ARENA on the tape, not a crash, and from some size on
 * the sweep succeeds; with create_graph some sizes fail in the rule's
 * sigmoid_backward (its output cannot reuse the seed's buffer there). */
Test(linear_act, full_arena_fails_cleanly_at_every_size) {
  ae_tensor *x = rand_tensor(AE_SHAPE(32, 8), 8), *w = rand_tensor(AE_SHAPE(64, 8), 9);
  ae_tensor *b = rand_tensor(AE_SHAPE(64), 10);
  int failed = 0, passed = 0, in_rule = 0;
  for (int cg = 0; cg < 2; cg++)
    for (size_t bytes = 1024; bytes <= 128 * 1024; bytes += 512) {
      ae_tape *t = ae_tape_new(bytes);
      cr_assert(t);
      ae_val *v[3] = {ae_var_tensor(t, x), ae_var_tensor(t, w), ae_var_tensor(t, b)}, *g[3] = {NULL, NULL, NULL};
      ae_val *y = v[0] && v[1] && v[2] ? ae_linear_act(t, v[0], v[1], v[2], AE_ACT_SIGMOID, 0) : NULL;
      ae_val *r = y ? ae_full(t, y->t.shape, 1) : NULL;
      if (r && ae_grad(t, 1, &y, &r, 3, v, g, cg) == 0 && ae_tape_ok(t)) {
        passed++;
      } else {
        cr_assert_eq(ae_tape_status(t), AE_ERR_ARENA, "%zu bytes: %s", bytes, ae_tape_error(t));
        in_rule += strncmp(ae_tape_error(t), "sigmoid_backward", 16) == 0;
        failed++;
      }
      ae_tape_free(t);
    }
  cr_assert(failed > 0 && passed > 0 && in_rule > 0, "%d sizes failed (%d in sigmoid_backward), %d passed", failed,
            in_rule, passed);
  ae_tensor_free(x), ae_tensor_free(w), ae_tensor_free(b);
}
