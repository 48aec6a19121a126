/* test_conv_upsampled.c: ae_conv2d_upsampled (ops/conv.h), the
 * convolution that reads its input upsampled as it pads it, against the
 * composite conv2d(upsample_nearest(x, f)) (relu(...) for the relu
 * variant), built twice (conv-upsampled-f32, -f64) and run again with
 * AEZOO_CONV=im2col, where it records the composite itself:
 *  - on shapes that reach the forward's paths (one output channel: the
 *    direct sums; more: the GEMM, packed or read in place; bands of rows
 *    on a large image), strides 1 and 2, padding 0 and 1, factors 2 and
 *    3, with and without bias and relu, and one above the parallel
 *    threshold, at 1 and 2 threads: the output, the gradients of x, w and
 *    b (of <y, r>) with and without create_graph (the rule's kernel path),
 *    and the second-order ones (of <dx, s>) are bitwise the composite's;
 *  - the fused op keeps one value on the tape for its output, where the
 *    composite keeps the upsampled image too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"
#include "fused_check.h"

typedef struct {
  int n, c, h, w, o, k, stride, pad, f, bias, relu;
} up_case;

static const up_case cases[] = {
    /* conv-dae's decoder: 7x7 and 14x14 maps upsampled by 2, 32 channels, then one output channel */
    {2, 32, 7, 7, 32, 3, 1, 1, 2, 1, 1}, {2, 32, 14, 14, 1, 3, 1, 1, 2, 1, 0},
    /* small odd shapes: non-square, two output channels, stride 2, factor 3, an even kernel, no padding */
    {3, 3, 5, 4, 5, 3, 1, 1, 2, 1, 1}, {2, 4, 3, 5, 2, 3, 1, 1, 2, 0, 0}, {2, 4, 4, 6, 6, 3, 2, 1, 2, 0, 1},
    {1, 2, 5, 3, 3, 2, 1, 0, 3, 1, 0}, {2, 3, 4, 4, 4, 3, 1, 1, 1, 1, 1},
    /* a large image: bands of output rows */
    {1, 16, 32, 40, 4, 3, 1, 1, 2, 1, 1},
    /* above the parallel thresholds */
    {8, 16, 14, 14, 16, 3, 1, 1, 2, 1, 1},
};

static ae_val *apply(ae_tape *t, const up_case *c, int fused, ae_val *const *v) {
  if (fused) return ae_conv2d_upsampled(t, v[0], c->f, v[1], v[2], c->stride, c->pad, c->relu);
  ae_val *u = c->f > 1 ? ae_upsample_nearest(t, v[0], c->f) : v[0];
  ae_val *y = ae_conv2d(t, u, v[1], v[2], c->stride, c->pad);
  return c->relu ? ae_relu(t, y) : y;
}

/* first: the first-order gradients without create_graph (the rules'
 * kernels; results_of's take the differentiable path), in res's dx, dw,
 * db, the second-order slots empty. */
static results run(const up_case *c, int fused, ae_tensor *const *in, int threads, int first) {
  int old = ae_get_threads();
  ae_set_threads(threads);
  ae_tape *t = ae_tape_new(0);
  const int nin = c->bias ? 3 : 2;
  ae_val *v[3] = {NULL, NULL, NULL};
  for (int k = 0; k < nin; k++) v[k] = ae_var_tensor(t, in[k]);
  ae_val *y = apply(t, c, fused, v);
  results res;
  if (first) {
    cr_assert(y, "%s", ae_tape_error(t));
    ae_val *r = ae_const(t, y->t.shape, NULL), *g[3] = {NULL, NULL, NULL};
    fill(r->t.data, r->t.numel, 77);
    cr_assert(ae_grad(t, 1, &y, &r, nin, v, g, 0) == 0, "%s", ae_tape_error(t));
    keep(&res, 0, y);
    for (int k = 0; k < 3; k++) keep(&res, 1 + k, k < nin ? g[k] : NULL), keep(&res, 4 + k, NULL);
  } else {
    res = results_of(t, y, v, nin);
  }
  ae_tape_free(t);
  ae_set_threads(old);
  return res;
}

Test(conv_upsampled, is_the_composite_bitwise) {
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const up_case *c = &cases[ci];
    ae_tensor *in[3] = {rand_tensor(AE_SHAPE(c->n, c->c, c->h, c->w), 10 + ci),
                        rand_tensor(AE_SHAPE(c->o, c->c, c->k, c->k), 20 + ci),
                        c->bias ? rand_tensor(AE_SHAPE(c->o), 30 + ci) : NULL};
    char what[64];
    for (int threads = 1; threads <= 2; threads++)
      for (int first = 0; first < 2; first++) {
        results a = run(c, 1, in, threads, first), b = run(c, 0, in, threads, first);
        snprintf(what, sizeof what, "conv2d_upsampled case %zu%s", ci, first ? ", first order" : "");
        expect_same_and_free(&a, &b, what, threads);
      }
    for (int j = 0; j < 3; j++) ae_tensor_free(in[j]);
  }
}

/* The upsampled image is not kept: without a gradient to record, the op
 * leaves only its output in the arena (the composite also leaves the
 * upsampled image), unless AEZOO_CONV=im2col, where it is the composite. */
Test(conv_upsampled, keeps_only_its_output) {
  ae_tape *t = ae_tape_new(0);
  ae_set_grad_enabled(t, 0);
  ae_val *x = ae_const(t, AE_SHAPE(2, 3, 6, 5), NULL), *w = ae_const(t, AE_SHAPE(4, 3, 3, 3), NULL);
  fill(x->t.data, x->t.numel, 1), fill(w->t.data, w->t.numel, 2);
  size_t before = ae_tape_arena_used(t);
  ae_val *y = ae_conv2d_upsampled(t, x, 2, w, NULL, 1, 1, 0);
  cr_assert(y, "%s", ae_tape_error(t));
  size_t val = (sizeof(ae_val) + 63) / 64 * 64, out = ((size_t)y->t.numel * sizeof(ae_real) + 63) / 64 * 64;
  const char *path = getenv("AEZOO_CONV");
  size_t upsampled = val + ((size_t)(2 * 3 * 12 * 10) * sizeof(ae_real) + 63) / 64 * 64;
  size_t want = val + out + (path && strcmp(path, "im2col") == 0 ? upsampled : 0);
  cr_expect_eq(ae_tape_arena_used(t) - before, want, "kept %zu bytes, want %zu", ae_tape_arena_used(t) - before, want);
  ae_tape_free(t);
}
