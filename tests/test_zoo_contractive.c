/* test_zoo_contractive.c: the denoising and contractive zoo models: dae,
 * cae, cae-deep and cae-h. Built twice: against libaezoo64 (float64) it runs
 * the gradient checks and the exact comparisons, against libaezoo (float32)
 * the training tests on real Fashion-MNIST.
 * float64:
 *   - every model's full loss (noise, contractive and higher-order
 *     penalties included: second-order autodiff inside, so the checks
 *     exercise third-order machinery) passes ae_model_gradcheck and
 *     ae_model_gradgradcheck at its gradcheck_settings on 3 Fashion-MNIST
 *     images downsampled to 4x4 (16 inputs);
 *   - cae's generic penalty (the model's "contractive" term, in training
 *     and in evaluation) equals the one-layer closed form
 *     sum_j (h_j (1 - h_j))^2 sum_i W_ji^2, computed here in plain loops,
 *     to 1e-10 relative;
 *   - cae-deep's exact penalty equals the squared Frobenius norm of the
 *     encoder's Jacobian by central differences, and the mean of many
 *     k = 1 Hutchinson estimates lies within 3 standard errors of it;
 *   - cae-h's higher-order term is exactly 0 when sigma = 0 and positive
 *     otherwise, and it is unbiased: for the drawn corruption it matches
 *     sum_j (s'_j(x) - s'_j(x + eps))^2 ||W_j||^2 within 3 standard errors
 *     (the Gaussian-probe variance, computed here from the closed form).
 * float32:
 *   - each model's training loss falls (mean of the first 10 steps vs the
 *     last 10);
 *   - cae: held-out mean ||dh/dx||_F^2 at least 3x lower than the same
 *     network trained identically with lambda = 0;
 *   - dae: on noisy held-out inputs, the reconstruction error against the
 *     clean images is lower than for the same network trained without noise. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo_test_util.h"

/* The value of the loss term `name` from one evaluation of the model's loss
 * on x, with grad mode `grad` (1: as in training, 0: as in ae_evaluate). */
static double loss_term(ae_model *m, const ae_tensor *x, uint64_t seed, int grad, const char *name) {
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  ae_set_grad_enabled(t, grad);
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_terms tm = {0};
  m->def->loss(m, t, ae_const_tensor(t, x), &rng, &tm);
  cr_assert(ae_tape_ok(t), "%s loss: %s", m->def->name, ae_tape_error(t));
  double v = NAN;
  for (int i = 0; i < tm.n; i++)
    if (strcmp(tm.name[i], name) == 0) v = ae_item(tm.val[i]);
  cr_assert(!isnan(v), "%s: no loss term %s", m->def->name, name);
  ae_tape_free(t);
  return v;
}

#ifdef AE_REAL_DOUBLE
/* ---------------------------------------------------------------- float64: gradient checks, exact values */

_Static_assert(sizeof(ae_real) == sizeof(double), "gradchecks need libaezoo64");

Test(zoo_contractive_f64, dae_gradcheck) {
  zt_check_model("dae", NULL, -1, 1);
  zt_check_model("dae", "noise=masking loss=bce", -1, 1);
  zt_check_model("dae", "noise=salt_pepper nu=0.5 weight_decay=0.1", -1, 1);
}
Test(zoo_contractive_f64, cae_gradcheck) {
  zt_check_model("cae", NULL, -1, 1); /* the default: Hutchinson, 4 probes */
  zt_check_model("cae", "jacobian=exact", -1, 1);
  zt_check_model("cae", "jacobian=exact tied=false loss=mse weight_decay=0.1", -1, 1);
  zt_check_model("cae", "jacobian=hutchinson probes=3", -1, 1);
}
Test(zoo_contractive_f64, cae_deep_gradcheck) {
  zt_check_model("cae-deep", NULL, -1, 1);
  zt_check_model("cae-deep", "jacobian=hutchinson probes=2 activation=tanh", -1, 1);
}
Test(zoo_contractive_f64, cae_h_gradcheck) {
  /* gamma 10, sigma 0.5: at 16 inputs and the default gamma 0.1, sigma 0.1
   * the higher-order term's gradient is below atol (dropping its graph went
   * unnoticed); here it is not. */
  zt_check_model("cae-h", NULL, -1, 1);
  zt_check_model("cae-h", "gamma=10 sigma=0.5", -1, 1);
  zt_check_model("cae-h", "jacobian=exact tied=false gamma=10 sigma=0.5", -1, 1);
}

Test(zoo_contractive_f64, dae_loss_is_the_clean_reconstruction_error_of_the_corrupted_input) {
  /* loss(x) = mean (reconstruct(corrupt(x)) - x)^2 with the corruption the
   * corrupt hook draws from the same generator state: the target is the
   * clean x, and the hook shows what the loss trains on. */
  const char *noises[] = {"noise=gaussian", "noise=masking", "noise=salt_pepper"};
  ae_tensor *x = zt_downsample(zt_fashion(0, 5), 5, 7);
  for (int k = 0; k < 3; k++) {
    ae_model *m = zt_make("dae", noises[k], AE_SHAPE(1, 7, 7), 3);
    double l = loss_term(m, x, 21, 1, "mse");
    ae_tape *t = ae_tape_new((size_t)16 << 20);
    ae_rng rng;
    ae_rng_init(&rng, 21);
    ae_val *noisy = m->def->corrupt(m, t, ae_const_tensor(t, x), &rng);
    ae_val *y = m->def->reconstruct(m, t, noisy);
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
    double sq = 0, changed = 0;
    for (int64_t i = 0; i < x->numel; i++) {
      sq += (y->t.data[i] - x->data[i]) * (y->t.data[i] - x->data[i]);
      changed += noisy->t.data[i] != x->data[i];
    }
    sq /= (double)x->numel;
    cr_expect_gt(changed, 0.1 * (double)x->numel, "%s: the corruption changed %g of %lld inputs", noises[k], changed,
                 (long long)x->numel);
    cr_expect_leq(fabs(l - sq), 1e-12 * sq, "%s: loss %.17g, clean error of the reconstruction %.17g", noises[k], l,
                  sq);
    ae_tape_free(t);
    ae_model_free(m);
  }
  ae_tensor_free(x);
}

/* Closed form of cae's penalty, mean over the batch of
 * sum_j (h_j (1 - h_j))^2 sum_i W_ji^2 with h = sigmoid(W x + b). */
static double cae_closed_form(const ae_model *m, const ae_tensor *x) {
  const ae_param *w = ae_model_find_param(m, "encoder.weight"), *b = ae_model_find_param(m, "encoder.bias");
  int64_t H = w->value.shape.d[0], D = w->value.shape.d[1], B = x->shape.d[0];
  double total = 0;
  for (int64_t n = 0; n < B; n++)
    for (int64_t j = 0; j < H; j++) {
      double a = b->value.data[j], w2 = 0;
      for (int64_t i = 0; i < D; i++) {
        a += w->value.data[j * D + i] * x->data[n * D + i];
        w2 += w->value.data[j * D + i] * w->value.data[j * D + i];
      }
      double h = 1 / (1 + exp(-a)), s = h * (1 - h);
      total += s * s * w2;
    }
  return total / (double)B;
}

Test(zoo_contractive_f64, cae_generic_penalty_equals_closed_form) {
  /* Full-size images, 40 units (the exact penalty costs 40 VJPs); the
   * weights are scaled up so that units sit in different parts of the
   * sigmoid (h(1-h) from near 0 to 1/4). */
  const ae_tensor *x = zt_fashion(0, 6);
  const char *variants[] = {"hidden=40 lambda=0.5 jacobian=exact", "hidden=40 lambda=0.5 tied=false jacobian=exact"};
  for (int v = 0; v < 2; v++) {
    ae_model *m = zt_make("cae", variants[v], AE_SHAPE(1, 28, 28), 5);
    ae_param *w = ae_model_find_param(m, "encoder.weight");
    for (int64_t i = 0; i < w->value.numel; i++) w->value.data[i] *= 8;
    double closed = cae_closed_form(m, x);
    for (int grad = 1; grad >= 0; grad--) {
      double generic = loss_term(m, x, 1, grad, "contractive") / 0.5;
      cr_expect_leq(fabs(generic - closed), 1e-10 * closed, "[%s] grad mode %d: generic %.17g, closed form %.17g",
                    variants[v], grad, generic, closed);
    }
    /* ae_evaluate (batches of 4: 4 + 2 examples) reports the same mean */
    ae_eval_result r;
    cr_assert_eq(ae_evaluate(m, x, 6, 4, 1, &r), 0, "%s", ae_last_error());
    double ev = NAN;
    for (int i = 0; i < r.nterms; i++)
      if (strcmp(r.term_name[i], "contractive") == 0) ev = r.term[i] / 0.5;
    cr_expect_leq(fabs(ev - closed), 1e-10 * closed, "[%s] evaluate: %.17g, closed form %.17g", variants[v], ev,
                  closed);
    ae_model_free(m);
  }
}

/* sum_b ||dh_b/dx_b||_F^2 of the model's encoder by central differences. */
static double fd_frobenius(ae_model *m, ae_tensor *x) {
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_set_grad_enabled(t, 0);
  const double eps = 1e-6;
  int64_t B = x->shape.d[0], D = m->dim;
  double total = 0, keep[16], *hp = NULL;
  cr_assert_leq(B, 16);
  for (int64_t i = 0; i < D; i++) {
    for (int s = 0; s < 2; s++) {
      for (int64_t n = 0; n < B; n++) keep[n] = x->data[n * D + i], x->data[n * D + i] += s ? -eps : eps;
      ae_tape_reset(t);
      ae_val *h = m->def->encode(m, t, ae_const_tensor(t, x));
      cr_assert(h, "%s", ae_tape_error(t));
      for (int64_t n = 0; n < B; n++) x->data[n * D + i] = keep[n];
      if (!hp) hp = malloc(sizeof *hp * (size_t)h->t.numel);
      for (int64_t k = 0; k < h->t.numel; k++) {
        if (s == 0) {
          hp[k] = h->t.data[k];
        } else {
          double dk = (hp[k] - h->t.data[k]) / (2 * eps);
          total += dk * dk;
        }
      }
    }
  }
  free(hp);
  ae_tape_free(t);
  return total;
}

Test(zoo_contractive_f64, cae_deep_exact_penalty_matches_finite_differences) {
  /* 784-32-8 sigmoid on 3 images: 2 x 784 encoder evaluations. */
  ae_model *m = zt_make("cae-deep", "hidden=32,8 lambda=1", AE_SHAPE(1, 28, 28), 3);
  ae_tensor *x = ae_tensor_new(AE_SHAPE(3, 1, 28, 28));
  memcpy(x->data, zt_fashion(1, 3)->data, sizeof(ae_real) * (size_t)x->numel);
  double exact = loss_term(m, x, 1, 1, "contractive"), fd = fd_frobenius(m, x) / 3;
  cr_expect_leq(fabs(exact - fd), 1e-6 * fd, "exact %.12g, finite differences %.12g", exact, fd);
  ae_tensor_free(x);
  ae_model_free(m);
}

Test(zoo_contractive_f64, cae_deep_hutchinson_is_unbiased) {
  /* The model's encoder at its reference size (784-256-64 sigmoid), 4
   * images: the exact penalty (64 VJPs) against the mean of 400
   * single-probe estimates, each drawn with another seed. */
  const ae_tensor *x = zt_fashion(1, 4);
  ae_model *exact_m = zt_make("cae-deep", "lambda=1", AE_SHAPE(1, 28, 28), 9);
  ae_model *hutch_m = zt_make("cae-deep", "lambda=1 jacobian=hutchinson probes=1", AE_SHAPE(1, 28, 28), 9);
  double exact = loss_term(exact_m, x, 1, 1, "contractive");
  const int n = 400;
  double sum = 0, sum2 = 0;
  for (int k = 0; k < n; k++) {
    double e = loss_term(hutch_m, x, 1000 + (uint64_t)k, 0, "contractive");
    sum += e, sum2 += e * e;
  }
  double mean = sum / n, se = sqrt((sum2 / n - mean * mean) / (n - 1));
  cr_log_info("cae-deep: exact %.6g, Hutchinson mean %.6g +- %.3g (standard error, %d estimates)", exact, mean, se, n);
  cr_expect_gt(se, 0);
  cr_expect_lt(se, 0.2 * exact, "the estimates are too noisy to test anything: se %.3g, exact %.3g", se, exact);
  cr_expect_leq(fabs(mean - exact), 3 * se, "exact %.6g, Hutchinson mean %.6g, standard error %.3g", exact, mean, se);
  ae_model_free(exact_m);
  ae_model_free(hutch_m);
}

Test(zoo_contractive_f64, cae_h_higher_order_term_is_unbiased) {
  /* One corruption, 400 probes, 20 units on 3 full-size images. The first
   * term is exact, so the generator's first draws are the corruption eps
   * (B x 784 normals), replayed here. For D_b = J(x_b) - J(x_b + eps_b) =
   * diag(d_b) W with d_bj = s'_j(x_b) - s'_j(x_b + eps_b), s' = h (1 - h):
   *   value = mean_b sum_j d_bj^2 ||W_j||^2,
   *   the variance of one Gaussian-probe estimate sum_b ||D_b^T v_b||^2 is
   *   2 sum_b ||D_b D_b^T||_F^2 = 2 sum_b sum_jk d_bj^2 d_bk^2 (W W^T)_jk^2. */
  const int B = 3, K = 400;
  const double sigma = 0.3;
  const ae_tensor *x = zt_fashion(1, B);
  ae_model *m = zt_make("cae-h", "hidden=20 jacobian=exact corruptions=1 probes=400 sigma=0.3 gamma=1",
                     AE_SHAPE(1, 28, 28), 4);
  double est = loss_term(m, x, 77, 0, "higher_order");
  const ae_param *w = ae_model_find_param(m, "encoder.weight"), *bias = ae_model_find_param(m, "encoder.bias");
  const int64_t H = 20, D = 784;
  ae_real *eps = malloc(sizeof *eps * (size_t)(B * D));
  ae_rng rng;
  ae_rng_init(&rng, 77);
  ae_rng_normal(&rng, eps, B * D, 0, 1);
  double value = 0, var = 0, d[20], G[20][20];
  for (int64_t j = 0; j < H; j++)
    for (int64_t k = 0; k < H; k++) {
      G[j][k] = 0;
      for (int64_t i = 0; i < D; i++) G[j][k] += w->value.data[j * D + i] * w->value.data[k * D + i];
    }
  for (int b = 0; b < B; b++) {
    for (int64_t j = 0; j < H; j++) {
      double a = bias->value.data[j], an = bias->value.data[j];
      for (int64_t i = 0; i < D; i++) {
        double xi = x->data[b * D + i];
        a += w->value.data[j * D + i] * xi;
        an += w->value.data[j * D + i] * (xi + sigma * eps[b * D + i]);
      }
      double h = 1 / (1 + exp(-a)), hn = 1 / (1 + exp(-an));
      d[j] = h * (1 - h) - hn * (1 - hn);
      value += d[j] * d[j] * G[j][j] / B;
    }
    for (int64_t j = 0; j < H; j++)
      for (int64_t k = 0; k < H; k++) var += 2 * d[j] * d[j] * d[k] * d[k] * G[j][k] * G[j][k];
  }
  double se = sqrt(var / K) / B;
  cr_log_info("cae-h: higher-order estimate %.6g, closed form %.6g, standard error %.3g", est, value, se);
  cr_expect_gt(value, 0);
  cr_expect_leq(fabs(est - value), 3 * se, "estimate %.6g, closed form %.6g, standard error %.3g", est, value, se);
  free(eps);
  ae_model_free(m);
}

#else
/* ---------------------------------------------------------------- float32: training on Fashion-MNIST */

#define IMG AE_SHAPE(1, 28, 28)

/* Trains model `name` made with `sets` (seed 1) for `steps` Adam steps on
 * 2000 images (zt_expect_loss_falls). */
static void expect_loss_falls(const char *name, const char *sets, int steps, int batch, double lr, double ratio) {
  char label[320];
  snprintf(label, sizeof label, "%s [%s]", name, sets);
  ae_model *m = zt_make(name, sets, IMG, 1);
  zt_expect_loss_falls(m, label, zt_fashion(0, 2000), steps, batch, lr, ratio);
  ae_model_free(m);
}

/* Reference sizes where a step is cheap enough. The exact penalty at
 * 784-1000 costs 784 JVPs and about 13 GiB of tape per step at batch 128
 * (see zoo/cae.c), so cae trains here with its Hutchinson setting at 1000
 * units (the exact penalty trains in the 3x test below); cae-deep trains
 * at 784-256-64 with both penalties, cae-h at its reference configuration.
 * Summed BCE falls more slowly in relative terms than MSE (its floor, the
 * pixels' own entropy, is far from 0), hence the milder ratios. */
Test(zoo_contractive_f32, dae_loss_falls, .timeout = 120) { expect_loss_falls("dae", "", 100, 64, 3e-3, 0.5); }
Test(zoo_contractive_f32, dae_masking_loss_falls, .timeout = 120) {
  expect_loss_falls("dae", "noise=masking", 100, 64, 3e-3, 0.5);
}
Test(zoo_contractive_f32, cae_loss_falls, .timeout = 120) {
  expect_loss_falls("cae", "jacobian=hutchinson", 60, 32, 1e-3, 0.8);
}
Test(zoo_contractive_f32, cae_deep_loss_falls, .timeout = 120) {
  expect_loss_falls("cae-deep", "", 60, 16, 1e-2, 0.9);
  expect_loss_falls("cae-deep", "jacobian=hutchinson", 100, 16, 1e-2, 0.8);
}
Test(zoo_contractive_f32, cae_h_loss_falls, .timeout = 120) { expect_loss_falls("cae-h", "", 40, 8, 3e-3, 0.85); }

Test(zoo_contractive_f32, exact_penalty_past_the_arena_is_an_error, .timeout = 60) {
  /* The exact penalty at 784-1000 needs GiBs of tape a step (zoo/cae.c):
   * a trainer with a small arena must report the arena error, and the
   * models must not touch the nil values that follow it. cae-deep's
   * 64 VJPs at batch 8 take about 4 MiB (the penalty's squares are
   * released as it goes, grad/jacobian.c): a 2 MiB arena runs out
   * in their midst. */
  const char *cases[][2] = {{"cae", "jacobian=exact"}, {"cae-h", "jacobian=exact"}, {"cae-deep", ""}};
  const size_t arena[] = {(size_t)8 << 20, (size_t)8 << 20, (size_t)2 << 20};
  ae_tensor *xb = ae_tensor_new(AE_SHAPE(8, 1, 28, 28));
  memcpy(xb->data, zt_fashion(0, 8)->data, sizeof(ae_real) * (size_t)xb->numel);
  for (int k = 0; k < 3; k++) {
    ae_model *m = zt_make(cases[k][0], cases[k][1], IMG, 1);
    ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
    ae_trainer *tr = ae_trainer_new(m, &cfg, 1, arena[k]);
    cr_assert(tr, "%s", ae_last_error());
    cr_expect_eq(ae_trainer_step(tr, xb), -1, "%s [%s]: a step in a %zu MiB arena succeeded", cases[k][0],
                 cases[k][1], arena[k] >> 20);
    cr_log_info("%s [%s]: %s", cases[k][0], cases[k][1], ae_trainer_error(tr));
    cr_expect(strstr(ae_trainer_error(tr), "arena"), "%s [%s]: %s", cases[k][0], cases[k][1], ae_trainer_error(tr));
    ae_trainer_free(tr);
    ae_model_free(m);
  }
  ae_tensor_free(xb);
}

/* Mean over the first n held-out images of ||dh/dx||_F^2 of m's encoder,
 * by the generic exact norm (no graph kept). */
static double heldout_jacobian(ae_model *m, int64_t n) {
  const ae_tensor *data = zt_fashion(1, n);
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  double total = 0;
  const int64_t batch = 50;
  for (int64_t lo = 0; lo < n; lo += batch) {
    ae_tape_reset(t);
    ae_val *x = ae_var(t, AE_SHAPE(batch, 1, 28, 28), data->data + lo * 784);
    ae_val *h = m->def->encode(m, t, x);
    total += ae_item(ae_jacobian_frobenius_sq(t, h, x, 0));
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  }
  ae_tape_free(t);
  return total / (double)n;
}

Test(zoo_contractive_f32, cae_penalty_contracts_the_encoder, .timeout = 120) {
  /* 32 units instead of the reference 1000 (the exact penalty is 32 VJPs a
   * step here, 784 JVPs at 1000 units), 600 Adam steps of 16 images; both
   * networks start from the same weights and see the same batches.
   * ||dh/dx||_F^2 sums over hidden units, so it scales with the width
   * (about 0.65 at initialisation here, 20 at 1000 units); lambda is scaled
   * with it, 0.1 * 1000/32 = 3.125, to give the penalty its reference
   * weight against the summed BCE. Measured: with lambda 0.1 at 64 units
   * the two networks' norms differ by only ~2% after 150 steps, while
   * here the ratio is about 5.6. */
  double jac[2];
  for (int with = 0; with < 2; with++) {
    ae_model *m = zt_make("cae", with ? "hidden=32 lambda=3.125" : "hidden=32 lambda=0", IMG, 1);
    cr_assert_eq(zt_train(m, zt_fashion(0, 2000), 600, 16, AE_OPT_ADAM, 1e-2, 3, NULL), 0);
    jac[with] = heldout_jacobian(m, 200);
    ae_model_free(m);
  }
  cr_log_info("cae: held-out mean ||dh/dx||_F^2 %.4g with lambda 3.125, %.4g with lambda 0 (ratio %.2f)", jac[1],
              jac[0], jac[0] / jac[1]);
  cr_expect_leq(3 * jac[1], jac[0], "lambda 3.125: %.4g, lambda 0: %.4g", jac[1], jac[0]);
}

/* Mean squared error against the clean images of m's reconstruction of
 * the noisy images. */
static double denoise_error(ae_model *m, const ae_tensor *noisy, const ae_tensor *clean) {
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  ae_set_grad_enabled(t, 0);
  ae_val *y = m->def->reconstruct(m, t, ae_const_tensor(t, noisy));
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  double sq = 0;
  for (int64_t i = 0; i < clean->numel; i++) {
    double d = (double)y->t.data[i] - (double)clean->data[i];
    sq += d * d;
  }
  ae_tape_free(t);
  return sq / (double)clean->numel;
}

Test(zoo_contractive_f32, dae_denoises_better_than_plain_training, .timeout = 120) {
  /* 784-100-30 (the default), 300 Adam steps of 64 images, sigma 0.5
   * against sigma 0 (the plain autoencoder: the same network, the same
   * batches and initial weights); evaluated on 500 held-out images
   * corrupted once with Gaussian noise of sigma 0.5 clipped to [0,1]. */
  const int64_t n = 500;
  const ae_tensor *clean = zt_fashion(1, n);
  ae_model *dae = zt_make("dae", "sigma=0.5", IMG, 1), *plain = zt_make("dae", "sigma=0", IMG, 1);
  ae_tensor *noisy = zt_corrupted(dae, clean, 99);
  cr_assert_eq(zt_train(dae, zt_fashion(0, 2000), 300, 64, AE_OPT_ADAM, 3e-3, 3, NULL), 0);
  cr_assert_eq(zt_train(plain, zt_fashion(0, 2000), 300, 64, AE_OPT_ADAM, 3e-3, 3, NULL), 0);
  double e_dae = denoise_error(dae, noisy, clean), e_plain = denoise_error(plain, noisy, clean);
  cr_log_info("dae: noisy held-out -> clean MSE %.5f trained with sigma 0.5, %.5f with sigma 0", e_dae, e_plain);
  cr_expect_lt(e_dae, e_plain, "sigma 0.5: %.5f, sigma 0: %.5f", e_dae, e_plain);
  ae_tensor_free(noisy);
  ae_model_free(dae);
  ae_model_free(plain);
}

#endif

/* Both builds: cae-h's higher-order term vanishes without corruption. */
Test(zoo_contractive, cae_h_higher_order_term_zero_iff_sigma_zero) {
  const ae_tensor *x = zt_fashion(1, 4);
  for (int s = 0; s < 2; s++) {
    ae_model *m = zt_make("cae-h", s ? "hidden=32 sigma=0.1" : "hidden=32 sigma=0", AE_SHAPE(1, 28, 28), 2);
    for (int grad = 0; grad < 2; grad++) {
      double v = loss_term(m, x, 5, grad, "higher_order");
      if (s)
        cr_expect_gt(v, 0, "sigma 0.1, grad mode %d: higher-order term %g", grad, v);
      else
        cr_expect_eq(v, 0, "sigma 0, grad mode %d: higher-order term %g, not exactly 0", grad, v);
    }
    ae_model_free(m);
  }
}
