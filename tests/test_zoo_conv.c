/* test_zoo_conv.c: the convolutional zoo models: conv-ae, conv-dae and
 * deconv-ae. Built twice: against libaezoo64 (float64) it runs the
 * gradient checks and the exact structural checks, against libaezoo
 * (float32) the training tests on real Fashion-MNIST.
 * float64:
 *   - every model's full loss (noise, BCE and weight decay included)
 *     passes ae_model_gradcheck and ae_model_gradgradcheck at its
 *     gradcheck_settings (2 and 3 channels, code 3) on 3 Fashion-MNIST
 *     images downsampled to 8x8; conv-ae also on a 2-channel 6x10 image
 *     (odd sizes: output paddings differ per level and per dimension);
 *     every parameter's gradient is nonzero there (the check is not
 *     vacuous: no layer is dead);
 *   - reconstructions have the input's shape (28x28, 6x10, 12x8), the
 *     pooling models refuse sizes not divisible by 2^levels with a message;
 *   - deconv-ae's decoder unpools at the encoder's argmax positions: with
 *     identity kernels and zero biases, reconstruct(x) must be
 *     sigmoid(max of each 4x4 block) at that block's argmax and
 *     sigmoid(0) elsewhere, computed here by plain loops; with upsampling
 *     (conv-dae, same weights) the result is different.
 * float32 (Fashion-MNIST, 2000 training images, Adam):
 *   - the training loss falls (mean of the first 10 steps vs the last 10)
 *     for each model;
 *   - conv-dae denoises: on 300 held-out images corrupted with its own
 *     noise (Gaussian sigma 0.5 clipped to [0,1]), the reconstruction's MSE
 *     against the clean images is below the noisy images' own MSE.
 * Sizes: the training tests use the reference networks and noise, with
 * short runs (60-80 Adam steps of 32 images) to stay within the time
 * budget; the losses fall to about a third in that time. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo_test_util.h"
#include "random_tensor.h"

/* reconstruct(x) on a fresh no-grad tape, copied out; caller frees. */
static ae_tensor *reconstruct(ae_model *m, const ae_tensor *x) {
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  ae_set_grad_enabled(t, 0);
  ae_val *y = m->def->reconstruct(m, t, ae_const_tensor(t, x));
  cr_assert(ae_tape_ok(t), "%s reconstruct: %s", m->def->name, ae_tape_error(t));
  ae_tensor *out = ae_tensor_new(y->t.shape);
  memcpy(out->data, y->t.data, sizeof(ae_real) * (size_t)out->numel);
  ae_tape_free(t);
  return out;
}

#ifdef AE_REAL_DOUBLE
/* ---------------------------------------------------------------- float64: gradient checks, structure */

_Static_assert(sizeof(ae_real) == sizeof(double), "gradchecks need libaezoo64");

/* Every parameter gets a nonzero gradient from the loss on x (else the
 * gradcheck below would pass trivially for it). */
static void expect_live_gradients(ae_model *m, const char *sets, const ae_tensor *x) {
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_rng rng;
  ae_rng_init(&rng, 11);
  ae_terms tm = {0};
  for (int i = 0; i < m->nparams; i++) ae_param_zero_grad(m->params[i]);
  ae_val *l = m->def->loss(m, t, ae_const_tensor(t, x), &rng, &tm);
  int rc = l ? ae_backward(t, l) : -1;
  cr_assert_eq(rc, 0, "%s: %s", m->def->name, ae_tape_error(t));
  for (int i = 0; i < m->nparams; i++) {
    double s = 0;
    for (int64_t j = 0; j < m->params[i]->grad.numel; j++) s += fabs((double)m->params[i]->grad.data[j]);
    cr_expect(s > 0, "%s [%s]: %s has a zero gradient", m->def->name, sets, m->params[i]->name);
    ae_param_zero_grad(m->params[i]);
  }
  ae_tape_free(t);
}

/* gradcheck + gradgradcheck of the model's full loss at its
 * gradcheck_settings plus `extra`, on x (a batch of examples of shape ex),
 * at seed 1 (a seed where no layer starts dead at 2-3 channels), after
 * checking that every parameter gets a gradient. */
static void check_on(const char *name, const char *extra, ae_shape ex, const ae_tensor *x) {
  zt_check_model_on(name, extra, ex, x, 1, -1, 1, expect_live_gradients);
}

/* On 3 Fashion-MNIST images at 8x8. */
static void check_model(const char *name, const char *extra) {
  ae_tensor *x = zt_downsample(zt_fashion(0, 3), 3, 8);
  check_on(name, extra, AE_SHAPE(1, 8, 8), x);
  ae_tensor_free(x);
}

Test(zoo_conv_f64, conv_ae_gradcheck) {
  check_model("conv-ae", NULL);
  check_model("conv-ae", "loss=bce weight_decay=0.1");
  /* 2 channels of 6x10: heights 6 -> 3 -> 2, widths 10 -> 5 -> 3, so the
   * decoder's output paddings are (1,1) then (0,1); uniform pixels */
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(2, 2, 6, 10), 3, 0, 1);
  check_on("conv-ae", NULL, AE_SHAPE(2, 6, 10), x);
  ae_tensor_free(x);
}
Test(zoo_conv_f64, conv_dae_gradcheck_with_noise) {
  check_model("conv-dae", NULL); /* Gaussian sigma 0.5, clipped */
  check_model("conv-dae", "noise=masking loss=bce");
  check_model("conv-dae", "noise=salt_pepper nu=0.5 weight_decay=0.1");
}
Test(zoo_conv_f64, deconv_ae_gradcheck_with_noise) {
  check_model("deconv-ae", NULL); /* Gaussian sigma 0.5, clipped */
  check_model("deconv-ae", "noise=none loss=bce weight_decay=0.1");
}

Test(zoo_conv_f64, reconstructions_have_the_input_shape) {
  static const struct {
    const char *name, *sets;
    int64_t c, h, w;
  } cases[] = {
      {"conv-ae", "", 1, 28, 28},
      {"conv-ae", "channels=2,3 code=3", 2, 6, 10},
      {"conv-ae", "channels=4 code=2", 3, 5, 7},
      {"conv-dae", "channels=2,3", 1, 28, 28},
      {"conv-dae", "channels=2,3", 3, 12, 8},
      {"deconv-ae", "channels=2,3", 1, 28, 28},
      {"deconv-ae", "channels=2,3,2", 2, 8, 16},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    ae_model *m = zt_make(cases[k].name, cases[k].sets, AE_SHAPE(cases[k].c, cases[k].h, cases[k].w), 1);
    ae_tensor *x = rt_uniform_seeded(AE_SHAPE(2, cases[k].c, cases[k].h, cases[k].w), 5, 0, 1);
    ae_tensor *y = reconstruct(m, x);
    char a[64], b[64];
    cr_expect(ae_shape_eq(y->shape, x->shape), "%s [%s]: reconstruction %s of input %s", cases[k].name, cases[k].sets,
              ae_shape_str(y->shape, a, sizeof a), ae_shape_str(x->shape, b, sizeof b));
    int64_t outside = 0;
    for (int64_t i = 0; i < y->numel; i++) outside += !(y->data[i] > 0 && y->data[i] < 1);
    cr_expect_eq(outside, 0, "%s: %lld reconstructed pixels outside (0,1)", cases[k].name, (long long)outside);
    ae_tensor_free(x);
    ae_tensor_free(y);
    ae_model_free(m);
  }
}

Test(zoo_conv_f64, pooling_models_refuse_sizes_not_divisible_by_their_levels) {
  const char *names[] = {"conv-dae", "deconv-ae"};
  for (int k = 0; k < 2; k++) {
    ae_model *m = ae_model_new(names[k], 0, NULL, AE_SHAPE(1, 30, 30), 1);
    cr_expect_null(m, "%s accepted 30x30 images with 2 pooling levels", names[k]);
    const char *err = ae_last_error();
    cr_expect(strstr(err, "30x30") && strstr(err, "divisible by 4"), "%s: message: %s", names[k], err);
    ae_model_free(m);
    const char *one[] = {"channels=8"}; /* one level: 30 is even */
    m = ae_model_new(names[k], 1, one, AE_SHAPE(1, 30, 30), 1);
    cr_expect(m, "%s, one level, 30x30: %s", names[k], ae_last_error());
    ae_model_free(m);
  }
}

/* Sets every 3x3 kernel of m to the identity (centre 1) and every bias to
 * 0: conv, and transposed conv at stride 1 pad 1, then copy their input. */
static void identity_kernels(ae_model *m) {
  for (int i = 0; i < m->nparams; i++) {
    ae_tensor *v = &m->params[i]->value;
    memset(v->data, 0, sizeof(ae_real) * (size_t)v->numel);
    if (v->shape.ndim == 4) {
      cr_assert(v->shape.d[0] == 1 && v->shape.d[1] == 1, "%s is not 1 -> 1", m->params[i]->name);
      v->data[4] = 1;
    }
  }
}

Test(zoo_conv_f64, deconv_ae_unpools_at_the_encoders_argmax) {
  /* channels=1,1: conv, pool, conv, pool | convT, unpool, convT, unpool,
   * convT. With identity kernels on positive x, the two poolings take the
   * max of each 4x4 block, and the two unpoolings put it back exactly at
   * its argmax: y = sigmoid(max) there, sigmoid(0) = 1/2 elsewhere. */
  const int S = 8, B = 2;
  ae_model *m = zt_make("deconv-ae", "channels=1,1", AE_SHAPE(1, S, S), 1);
  identity_kernels(m);
  ae_tensor *x = rt_uniform_seeded(AE_SHAPE(B, 1, S, S), 9, 0.1, 1); /* positive, ties have probability 0 */
  ae_tensor *y = reconstruct(m, x);
  int nmax = 0;
  for (int b = 0; b < B; b++)
    for (int by = 0; by < S; by += 4)
      for (int bx = 0; bx < S; bx += 4) {
        const ae_real *img = x->data + b * S * S;
        int arg = by * S + bx;
        for (int yy = by; yy < by + 4; yy++)
          for (int xx = bx; xx < bx + 4; xx++)
            if (img[yy * S + xx] > img[arg]) arg = yy * S + xx;
        for (int yy = by; yy < by + 4; yy++)
          for (int xx = bx; xx < bx + 4; xx++) {
            int p = yy * S + xx;
            double want = p == arg ? 1 / (1 + exp(-(double)img[arg])) : 0.5;
            cr_expect(fabs((double)y->data[b * S * S + p] - want) < 1e-12, "image %d pixel (%d,%d): %.15g, want %.15g",
                      b, yy, xx, (double)y->data[b * S * S + p], want);
            nmax += p == arg;
          }
      }
  cr_assert_eq(nmax, B * (S / 4) * (S / 4));
  /* The same network with nearest upsampling (conv-dae) spreads the max
   * over the whole block instead: a different reconstruction. */
  ae_model *up = zt_make("conv-dae", "channels=1,1", AE_SHAPE(1, S, S), 1);
  identity_kernels(up);
  ae_tensor *yu = reconstruct(up, x);
  double diff = 0;
  for (int64_t i = 0; i < y->numel; i++) diff += fabs((double)y->data[i] - (double)yu->data[i]);
  cr_expect(diff > 1, "unpooling and upsampling agree (sum |diff| %g)", diff);
  ae_tensor_free(yu);
  ae_model_free(up);
  ae_tensor_free(y);
  ae_tensor_free(x);
  ae_model_free(m);
}

#else
/* ---------------------------------------------------------------- float32: training on Fashion-MNIST */

#define IMG AE_SHAPE(1, 28, 28)

Test(zoo_conv_f32, conv_ae_loss_falls, .timeout = 120) {
  /* the reference network (16-32-64, code 30) */
  ae_model *m = zt_make("conv-ae", "", IMG, 1);
  zt_expect_loss_falls(m, "conv-ae", zt_fashion(0, 2000), 80, 32, 3e-3, 0.6);
  ae_model_free(m);
}

Test(zoo_conv_f32, deconv_ae_loss_falls, .timeout = 120) {
  /* the reference network (32,32), default noise */
  ae_model *m = zt_make("deconv-ae", "", IMG, 1);
  zt_expect_loss_falls(m, "deconv-ae", zt_fashion(0, 2000), 60, 32, 3e-3, 0.6);
  ae_model_free(m);
}

/* Mean squared difference of a and b. */
static double mse(const ae_tensor *a, const ae_tensor *b) {
  double sq = 0;
  for (int64_t i = 0; i < a->numel; i++) {
    double d = (double)a->data[i] - (double)b->data[i];
    sq += d * d;
  }
  return sq / (double)a->numel;
}

Test(zoo_conv_f32, conv_dae_loss_falls_and_it_denoises, .timeout = 120) {
  /* the reference network (32,32) and noise (Gaussian sigma 0.5,
   * clipped); one run serves both properties. */
  ae_model *m = zt_make("conv-dae", "", IMG, 1);
  zt_expect_loss_falls(m, "conv-dae", zt_fashion(0, 2000), 60, 32, 3e-3, 0.6);
  /* 300 held-out images corrupted once by the model's own noise */
  const int64_t n = 300;
  const ae_tensor *clean = zt_fashion(1, n);
  ae_tensor *noisy = zt_corrupted(m, clean, 99);
  ae_tensor *denoised = reconstruct(m, noisy);
  double e_noisy = mse(noisy, clean), e_out = mse(denoised, clean);
  cr_log_info("conv-dae: held-out MSE against the clean images: noisy input %.5f, reconstruction %.5f", e_noisy, e_out);
  cr_expect_lt(e_out, e_noisy, "reconstruction %.5f vs noisy input %.5f", e_out, e_noisy);
  ae_tensor_free(denoised);
  ae_tensor_free(noisy);
  ae_model_free(m);
}

#endif
