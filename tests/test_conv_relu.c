/* test_conv_relu.c: the fused ops ae_conv2d_relu_ex and
 * ae_conv_transpose2d_relu_ex (ops/conv.h) against the composite
 * relu(conv), built twice (conv-relu-f32, conv-relu-f64) and run again
 * with AEZOO_CONV=im2col (conv-relu-im2col-*: the kernels' other path,
 * which applies the relu after a column block or image is complete).
 *  - on every shape of conv_cases.h and four above the parallel threshold,
 *    at 1 and 2 threads: the output, the gradients of x, w and b (of
 *    <y, r>) and second-order gradients (of <dx, s> with create_graph) are
 *    bitwise the composite's; the relu did something (outputs both zero
 *    and positive);
 *  - a NaN in the input gives the composite's values (relu(NaN) = 0), and
 *    in anomaly mode it is reported at the convolution, as the composite
 *    does, not hidden by the relu;
 *  - the fused op keeps its output on the tape, the composite two values;
 *  - an arena too small at any point (the rule's relu_backward included)
 *    fails with AE_ERR_ARENA, not a crash (mutation-checked: without the
 *    rule's NULL check the test crashes).
 * Gradcheck and gradgradcheck of the fused ops: the op table rows
 * (tests/rows/conv.c) in test_conv.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "conv_cases.h"
#include "fused_check.h"

/* One call of either op, fused or as the composite. */
typedef struct {
  int transpose, fused;
  int sh, sw, ph, pw, op; /* op: output padding (transpose) */
} call;

static ae_val *apply(ae_tape *t, const call *c, ae_val *x, ae_val *w, ae_val *b) {
  if (c->transpose)
    return c->fused ? ae_conv_transpose2d_relu_ex(t, x, w, b, c->sh, c->sw, c->ph, c->pw, c->op, c->op)
                    : ae_relu(t, ae_conv_transpose2d_ex(t, x, w, b, c->sh, c->sw, c->ph, c->pw, c->op, c->op));
  return c->fused ? ae_conv2d_relu_ex(t, x, w, b, c->sh, c->sw, c->ph, c->pw)
                  : ae_relu(t, ae_conv2d_ex(t, x, w, b, c->sh, c->sw, c->ph, c->pw));
}

static results run(const call *c, ae_tensor *const *in, int nin, int threads) {
  int old = ae_get_threads();
  ae_set_threads(threads);
  ae_tape *t = ae_tape_new(0);
  ae_val *v[3] = {NULL, NULL, NULL};
  for (int k = 0; k < nin; k++) v[k] = ae_var_tensor(t, in[k]);
  results res = results_of(t, apply(t, c, v[0], v[1], v[2]), v, nin);
  ae_tape_free(t);
  ae_set_threads(old);
  return res;
}

/* The fused op against the composite, bitwise, at 1 and 2 threads. */
static void check(const call *fused, ae_tensor *const *in, int nin, const char *what) {
  call comp = *fused;
  comp.fused = 0;
  for (int threads = 1; threads <= 2; threads++) {
    results a = run(fused, in, nin, threads), b = run(&comp, in, nin, threads);
    if (threads == 1) { /* the relu did something: some outputs cut to 0, some kept */
      int64_t zero = 0, pos = 0;
      for (int64_t j = 0; j < a.n[0]; j++) zero += a.v[0][j] == 0, pos += a.v[0][j] > 0;
      cr_assert(zero > 0 && pos > 0, "%s: %lld zeros, %lld positive of %lld", what, (long long)zero, (long long)pos,
                (long long)a.n[0]);
    }
    expect_same_and_free(&a, &b, what, threads);
  }
}

/* conv_cases.h, then shapes above the parallel threshold (as
 * test_conv.c's threads cases: many small images per block, bands of
 * rows, one output channel). */
static const conv_case big[] = {
    {11, 6, 15, 13, 7, 3, 3, 2, 2, 1, 1, 1},
    {3, 16, 40, 30, 5, 3, 3, 1, 1, 1, 1, 1},
    {9, 8, 20, 18, 1, 3, 3, 1, 1, 1, 1, 1},
    {4, 16, 40, 64, 1, 3, 3, 1, 1, 1, 1, 0},
};

static const conv_case *case_at(size_t i) {
  const size_t nc = sizeof cases / sizeof cases[0];
  return i < nc ? &cases[i] : i < nc + sizeof big / sizeof big[0] ? &big[i - nc] : NULL;
}

Test(conv_relu, conv2d_relu_is_the_composite_bitwise) {
  const conv_case *k;
  for (size_t ci = 0; (k = case_at(ci)); ci++) {
    conv_ref_geom g = geom_of(k);
    ae_tensor *in[3] = {rand_tensor(AE_SHAPE(k->n, k->c, k->h, k->w), 10 + ci),
                        rand_tensor(AE_SHAPE(k->o, k->c, k->kh, k->kw), 20 + ci),
                        k->bias ? rand_tensor(AE_SHAPE(g.o), 30 + ci) : NULL};
    call c = {0, 1, k->sh, k->sw, k->ph, k->pw, 0};
    char what[64];
    snprintf(what, sizeof what, "conv2d_relu case %zu", ci);
    check(&c, in, k->bias ? 3 : 2, what);
    for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
  }
}

/* Back from each case's output shape to its input shape, output padding 0
 * and, where the stride allows, 1. */
Test(conv_relu, conv_transpose2d_relu_is_the_composite_bitwise) {
  const conv_case *k;
  for (size_t ci = 0; (k = case_at(ci)); ci++)
    for (int op = 0; op < 2; op++) {
      if (op >= k->sh || op >= k->sw) continue;
      conv_ref_geom g = geom_of(k);
      ae_tensor *in[3] = {rand_tensor(AE_SHAPE(g.n, g.o, g.oh, g.ow), 40 + ci),
                          rand_tensor(AE_SHAPE(g.o, g.c, g.kh, g.kw), 50 + ci),
                          k->bias ? rand_tensor(AE_SHAPE(g.c), 60 + ci) : NULL};
      call c = {1, 1, k->sh, k->sw, k->ph, k->pw, op};
      char what[64];
      snprintf(what, sizeof what, "conv_transpose2d_relu case %zu op %d", ci, op);
      check(&c, in, k->bias ? 3 : 2, what);
      for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
    }
}

/* A NaN pre-activation: 0 after the relu, as the composite gives (vmaxps
 * returns its second operand, 0, for a NaN first). */
Test(conv_relu, nan_gives_the_composites_values) {
  for (int tr = 0; tr < 2; tr++) {
    ae_tensor *in[3] = {rand_tensor(AE_SHAPE(2, 3, 9, 8), 1), rand_tensor(AE_SHAPE(3, 3, 3, 3), 2),
                        rand_tensor(AE_SHAPE(3), 3)};
    in[0]->data[40] = NAN;
    ae_real *out[2];
    int64_t n = 0;
    for (int fused = 0; fused < 2; fused++) {
      ae_tape *t = ae_tape_new(0);
      call c = {tr, fused, 1, 1, 1, 1, 0};
      ae_val *y = apply(t, &c, ae_const_tensor(t, in[0]), ae_const_tensor(t, in[1]), ae_const_tensor(t, in[2]));
      cr_assert(y, "%s", ae_tape_error(t));
      out[fused] = copy_value(y, &n);
      ae_tape_free(t);
    }
    int64_t zeros = 0;
    for (int64_t j = 0; j < n; j++) {
      cr_assert(!isnan(out[1][j]), "%s: element %lld is NaN", tr ? "convT" : "conv", (long long)j);
      zeros += out[1][j] == 0;
    }
    cr_assert(zeros > 0);
    cr_assert(memcmp(out[0], out[1], sizeof(ae_real) * (size_t)n) == 0, "%s: NaN handled unlike the composite",
              tr ? "conv_transpose2d_relu" : "conv2d_relu");
    free(out[0]), free(out[1]);
    for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
  }
}

Test(conv_relu, anomaly_mode_reports_the_nan_at_the_convolution) {
  for (int tr = 0; tr < 2; tr++) {
    ae_tape *t = ae_tape_new(0);
    ae_set_anomaly(t, 1);
    ae_val *x = ae_var(t, AE_SHAPE(2, 3, 6, 5), NULL), *w = ae_var(t, AE_SHAPE(3, 3, 3, 3), NULL);
    fill(x->t.data, x->t.numel, 4), fill(w->t.data, w->t.numel, 5);
    w->t.data[7] = NAN;
    call c = {tr, 1, 1, 1, 1, 1, 0};
    cr_assert_null(apply(t, &c, x, w, NULL), "%s: a NaN went through", tr ? "convT" : "conv");
    cr_assert_eq(ae_tape_status(t), AE_ERR_ANOMALY, "%s", ae_tape_error(t));
    const char *want = tr ? "conv_transpose2d" : "conv2d";
    cr_assert(strstr(ae_tape_error(t), want), "error '%s' does not name %s", ae_tape_error(t), want);
    ae_tape_free(t);
  }
}

/* With grad mode on, the fused op adds one value (its output) to the tape
 * and its node; the composite two values and two nodes: at least one
 * output's worth more. */
Test(conv_relu, keeps_one_value_on_the_tape) {
  for (int tr = 0; tr < 2; tr++) {
    ae_tape *t = ae_tape_new(0);
    ae_val *x = ae_var(t, AE_SHAPE(4, 5, 12, 10), NULL), *w = ae_var(t, AE_SHAPE(5, 5, 3, 3), NULL);
    fill(x->t.data, x->t.numel, 6), fill(w->t.data, w->t.numel, 7);
    const size_t out = (size_t)x->t.numel * sizeof(ae_real); /* same shape: stride 1, pad 1 */
    size_t kept[2];
    for (int fused = 0; fused < 2; fused++) {
      size_t before = ae_tape_arena_used(t);
      call c = {tr, fused, 1, 1, 1, 1, 0};
      cr_assert(apply(t, &c, x, w, NULL), "%s", ae_tape_error(t));
      kept[fused] = ae_tape_arena_used(t) - before;
    }
    cr_assert(kept[1] >= out && kept[1] < out + 1024, "%s: fused kept %zu bytes for a %zu-byte output",
              tr ? "convT" : "conv", kept[1], out);
    cr_assert(kept[0] >= kept[1] + out, "%s: composite kept %zu bytes, fused %zu", tr ? "convT" : "conv", kept[0],
              kept[1]);
    ae_tape_free(t);
  }
}

/* An arena too small at any point of the forward or the reverse sweep
 * fails with AE_ERR_ARENA on the tape, not a crash, and from some size on
 * the sweep succeeds. The shapes (many images, one input channel, eight
 * output channels) make the output larger than the convolution's scratch,
 * so that some sizes fail in the rule's relu_backward itself (with
 * create_graph; without, it reuses the consumed seed's buffer), on the
 * grid path at one thread. */
Test(conv_relu, full_arena_fails_cleanly_at_every_size) {
  ae_tensor *x = rand_tensor(AE_SHAPE(32, 1, 8, 8), 8);
  ae_tensor *ws[2] = {rand_tensor(AE_SHAPE(8, 1, 3, 3), 9), rand_tensor(AE_SHAPE(1, 8, 3, 3), 10)};
  int failed = 0, passed = 0, in_rule = 0, old = ae_get_threads();
  ae_set_threads(1); /* one scratch slot: the sizes at which each op fails do not depend on the machine */
  for (int tr = 0; tr < 2; tr++)
    for (int cg = 0; cg < 2; cg++)
      for (size_t bytes = 4096; bytes <= 1024 * 1024; bytes += 2048) {
        ae_tape *t = ae_tape_new(bytes);
        cr_assert(t);
        ae_val *v[2] = {ae_var_tensor(t, x), ae_var_tensor(t, ws[tr])}, *g[2] = {NULL, NULL};
        call c = {tr, 1, 1, 1, 1, 1, 0};
        ae_val *y = v[0] && v[1] ? apply(t, &c, v[0], v[1], NULL) : NULL;
        ae_val *r = y ? ae_full(t, y->t.shape, 1) : NULL;
        if (r && ae_grad(t, 1, &y, &r, 2, v, g, cg) == 0 && ae_tape_ok(t))
          passed++;
        else {
          cr_assert_eq(ae_tape_status(t), AE_ERR_ARENA, "%zu bytes: %s", bytes, ae_tape_error(t));
          in_rule += strncmp(ae_tape_error(t), "relu_backward", 13) == 0;
          failed++;
        }
        ae_tape_free(t);
      }
  ae_set_threads(old);
  /* Under AEZOO_CONV=im2col the kernels' column matrix (9 rows a column)
   * outgrows the output, so the sweep always runs out before the rule. */
  const char *path = getenv("AEZOO_CONV");
  if (path && strcmp(path, "im2col") == 0) in_rule = -1;
  cr_assert(failed > 0 && passed > 0 && in_rule != 0, "%d sizes failed (%d in relu_backward), %d passed", failed,
            in_rule, passed);
  ae_tensor_free(x), ae_tensor_free(ws[0]), ae_tensor_free(ws[1]);
}
