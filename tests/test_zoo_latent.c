/* test_zoo_latent.c: the zoo's latent-variable models, vae and psd. Built
 * twice: against libaezoo64 (float64) it runs the gradient checks and the
 * exact comparisons, against libaezoo (float32) the training tests on real
 * Fashion-MNIST.
 * float64:
 *   - each model's full loss passes ae_model_gradcheck and
 *     ae_model_gradgradcheck at its gradcheck_settings on 3 Fashion-MNIST
 *     images downsampled to 4x4 (vae: the noise eps comes from the
 *     generator the check resets for every evaluation; psd: the codes are
 *     held at those inferred at the unperturbed parameters, the hold_codes
 *     hook, and the test shows why: without the hold the differences pick
 *     up dz* / dtheta and the check fails);
 *   - vae's loss equals the negative ELBO computed here in plain loops from
 *     the parameters and the generator's first draws (eps);
 *   - psd: MFISTA's energy, computed here in plain loops from the codes of
 *     k = 0..20 inference steps, never rises for any example, at the
 *     initial dictionary and at a coherent one made of images; the model's
 *     loss is that energy at its codes.
 * float32:
 *   - vae (784-400-20 tanh): the negative ELBO falls (training and
 *     held-out), the KL term is positive and finite at every step, samples
 *     decode to values in [0, 1];
 *   - psd (784 to 256 codes): the training loss falls, at least half of the
 *     inferred held-out code entries are exactly zero, and the encoder's
 *     prediction error of the inferred codes falls. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zoo_test_util.h"

#ifdef AE_REAL_DOUBLE
/* ---------------------------------------------------------------- float64: gradient checks, exact values */

_Static_assert(sizeof(ae_real) == sizeof(double), "gradchecks need libaezoo64");

static const ae_real *param(const ae_model *m, const char *name) {
  const ae_param *p = ae_model_find_param(m, name);
  cr_assert(p, "%s has no parameter %s", m->def->name, name);
  return p->value.data;
}

/* The loss of m on x (generator seeded with seed, grad mode on as in
 * training) and the value of its term `term` (NULL: none). */
static double loss_of(ae_model *m, const ae_tensor *x, uint64_t seed, const char *term, double *term_val) {
  ae_tape *t = ae_tape_new((size_t)256 << 20);
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_terms tm = {0};
  double l = ae_item(m->def->loss(m, t, ae_const_tensor(t, x), &rng, &tm));
  cr_assert(ae_tape_ok(t), "%s loss: %s", m->def->name, ae_tape_error(t));
  for (int i = 0; term && i < tm.n; i++)
    if (strcmp(tm.name[i], term) == 0) *term_val = ae_item(tm.val[i]);
  ae_tape_free(t);
  return l;
}

Test(zoo_latent_f64, vae_gradcheck) {
  zt_check_model("vae", NULL, -1, 1);
  zt_check_model("vae", "hidden=6,4 beta=0.5 weight_decay=0.1", -1, 1);
}

Test(zoo_latent_f64, psd_gradcheck) {
  zt_check_model("psd", NULL, -1, 1);
  zt_check_model("psd", "lambda=0.05 gamma=0.3 steps=12 weight_decay=0.1", -1, 1);
}

Test(zoo_latent_f64, psd_gradcheck_needs_the_codes_held) {
  /* The held loss is the loss: same value as with codes inferred afresh. */
  ae_model *m = zt_make("psd", "code=5 steps=5", AE_SHAPE(1, 4, 4), 7);
  ae_tensor *x = zt_downsample(zt_fashion(0, 3), 3, 4);
  double fresh = loss_of(m, x, 1, NULL, NULL);
  ae_tape *t = ae_tape_new((size_t)16 << 20);
  cr_assert_eq(m->def->hold_codes(m, t, x, 1), 0, "%s", ae_tape_error(t));
  double held = loss_of(m, x, 1, NULL, NULL);
  m->def->hold_codes(m, t, NULL, 0);
  ae_tape_free(t);
  cr_expect_eq(held, fresh, "held codes: loss %.17g, inferred codes: %.17g", held, fresh);
  /* Without the hold, the finite differences re-infer the codes at every
   * perturbed parameter and measure the total derivative, dz* / dtheta
   * included, which the training step (codes constant) does not follow. */
  ae_model_def unheld = *m->def;
  unheld.hold_codes = NULL;
  m->def = &unheld;
  ae_param_check c[AE_MAX_PARAMS];
  int rc = ae_model_gradcheck(m, x, 11, NULL, c);
  double worst = 0;
  for (int i = 0; i < m->nparams; i++) worst = fmax(worst, c[i].max_abs);
  cr_log_info("psd without held codes: gradcheck %d, worst |analytic - numeric| %.3g", rc, worst);
  cr_expect_eq(rc, 0, "the check passed although the codes moved with the parameters (worst error %.3g)", worst);
  cr_expect_gt(worst, 1e-3);
  ae_tensor_free(x);
  ae_model_free(m);
}

Test(zoo_latent_f64, vae_loss_is_the_negative_elbo) {
  /* 784-6-3 with 2 images: the loss, recomputed from the parameters in
   * plain loops, with eps the generator's first B x code normals:
   *   -ELBO = sum_i softplus(l_i) - x_i l_i + 1/2 sum_j (mu_j^2 + e^lv_j - 1 - lv_j),
   *   l = Wd2 tanh(Wd0 z + bd0) + bd2, z = mu + e^(lv/2) eps. */
  enum { B = 2, D = 784, H = 6, C = 3 };
  ae_model *m = zt_make("vae", "hidden=6 code=3", AE_SHAPE(1, 28, 28), 5);
  const ae_tensor *x = zt_fashion(1, B);
  double recon_term = NAN, kl_term = NAN, loss = loss_of(m, x, 42, "recon", &recon_term);
  loss_of(m, x, 42, "kl", &kl_term);
  const ae_real *w0 = param(m, "encoder.0.weight"), *b0 = param(m, "encoder.0.bias");
  const ae_real *wm = param(m, "fc_mu.weight"), *bm = param(m, "fc_mu.bias");
  const ae_real *wl = param(m, "fc_logvar.weight"), *bl = param(m, "fc_logvar.bias");
  const ae_real *wd0 = param(m, "decoder.0.weight"), *bd0 = param(m, "decoder.0.bias");
  const ae_real *wd2 = param(m, "decoder.2.weight"), *bd2 = param(m, "decoder.2.bias");
  ae_real eps[B * C];
  ae_rng rng;
  ae_rng_init(&rng, 42);
  ae_rng_normal(&rng, eps, B * C, 0, 1);
  double recon = 0, kl = 0;
  for (int b = 0; b < B; b++) {
    const ae_real *xb = x->data + b * D;
    double h[H], mu[C], lv[C], z[C], g[H];
    for (int j = 0; j < H; j++) {
      double a = b0[j];
      for (int i = 0; i < D; i++) a += w0[j * D + i] * xb[i];
      h[j] = tanh(a);
    }
    for (int c = 0; c < C; c++) {
      mu[c] = bm[c], lv[c] = bl[c];
      for (int j = 0; j < H; j++) mu[c] += wm[c * H + j] * h[j], lv[c] += wl[c * H + j] * h[j];
      z[c] = mu[c] + exp(lv[c] / 2) * eps[b * C + c];
      kl += 0.5 * (mu[c] * mu[c] + exp(lv[c]) - 1 - lv[c]) / B;
    }
    for (int j = 0; j < H; j++) {
      double a = bd0[j];
      for (int c = 0; c < C; c++) a += wd0[j * C + c] * z[c];
      g[j] = tanh(a);
    }
    for (int i = 0; i < D; i++) {
      double l = bd2[i];
      for (int j = 0; j < H; j++) l += wd2[i * H + j] * g[j];
      recon += (fmax(l, 0) + log1p(exp(-fabs(l))) - xb[i] * l) / B;
    }
  }
  cr_expect_leq(fabs(recon_term - recon), 1e-10 * recon, "recon: model %.17g, loops %.17g", recon_term, recon);
  cr_expect_leq(fabs(kl_term - kl), 1e-10 * kl, "kl: model %.17g, loops %.17g", kl_term, kl);
  cr_expect_leq(fabs(loss - (recon + kl)), 1e-10 * loss, "loss %.17g, -ELBO %.17g", loss, recon + kl);
  cr_expect_gt(kl, 0);
  ae_model_free(m);
}

/* E(x_b, z_b) = ||x_b - D z_b||^2 + lambda |z_b|_1 + gamma ||z_b - G tanh(W x_b + b)||^2
 * in plain loops; z is (B, K). */
static void psd_energy(const ae_model *m, const ae_real *x, const ae_real *z, int64_t B, double lambda, double gamma,
                       double *e) {
  const ae_real *w = param(m, "encoder.weight"), *bias = param(m, "encoder.bias"), *g = param(m, "encoder.gain");
  const ae_param *dp = ae_model_find_param(m, "decoder.weight");
  const ae_real *dict = dp->value.data;
  int64_t D = dp->value.shape.d[0], K = dp->value.shape.d[1];
  for (int64_t b = 0; b < B; b++) {
    const ae_real *xb = x + b * D, *zb = z + b * K;
    double s = 0;
    for (int64_t i = 0; i < D; i++) {
      double r = xb[i];
      for (int64_t k = 0; k < K; k++) r -= dict[i * K + k] * zb[k];
      s += r * r;
    }
    for (int64_t k = 0; k < K; k++) {
      double a = bias[k];
      for (int64_t i = 0; i < D; i++) a += w[k * D + i] * xb[i];
      double p = zb[k] - g[k] * tanh(a);
      s += lambda * fabs(zb[k]) + gamma * p * p;
    }
    e[b] = s;
  }
}

/* For k = 0..20 inference steps: the codes (encode with steps=k), their
 * energy per example in loops; it never rises. Also: the loss is the mean
 * energy at the codes. Returns the mean energy at 0 and 20 steps. */
static void expect_monotone(ae_model *m, const ae_tensor *x, const char *what, double out[2]) {
  enum { B = 8, KMAX = 20 };
  double prev[B] = {0}, e[B];
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  int rises = 0;
  for (int k = 0; k <= KMAX; k++) {
    char kv[32];
    snprintf(kv, sizeof kv, "steps=%d", k);
    cr_assert_eq(ae_settings_parse(&m->settings, kv), 0, "%s", ae_last_error());
    ae_tape_reset(t);
    ae_val *z = m->def->encode(m, t, ae_const_tensor(t, x));
    cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
    psd_energy(m, x->data, z->t.data, B, 0.5, 1, e);
    double mean = 0;
    for (int b = 0; b < B; b++) {
      mean += e[b] / B;
      /* 1e-12 relative: the model compares energies summed by its GEMM in
       * another order than these loops (float64 rounding ~1e-16 per term) */
      if (k > 0 && e[b] > prev[b] * (1 + 1e-12)) {
        rises++;
        cr_log_error("%s: example %d: energy rose from %.17g to %.17g at step %d", what, b, prev[b], e[b], k);
      }
      prev[b] = e[b];
    }
    if (k == 0) out[0] = mean;
    if (k == KMAX) {
      out[1] = mean;
      double l = loss_of(m, x, 1, NULL, NULL);
      cr_expect_leq(fabs(l - mean), 1e-10 * mean, "%s: loss %.17g, energy at the codes %.17g", what, l, mean);
    }
  }
  cr_expect_eq(rises, 0, "%s: the energy rose %d times", what, rises);
  ae_tape_free(t);
}

Test(zoo_latent_f64, psd_mfista_energy_never_rises) {
  /* Reference sizes (784 to 256 codes, lambda 0.5, gamma 1), 8 images. */
  ae_model *m = zt_make("psd", "", AE_SHAPE(1, 28, 28), 3);
  ae_tensor *x = ae_tensor_copy(zt_fashion(1, 8));
  x->shape.d[0] = 8, x->numel = 8 * 784;
  double e[2];
  expect_monotone(m, x, "initial dictionary", e);
  cr_log_info("psd, initial dictionary: mean energy %.6g at F(x), %.6g after 20 MFISTA steps", e[0], e[1]);
  cr_expect_lt(e[1], 0.9 * e[0], "initial dictionary: energy %.6g -> %.6g", e[0], e[1]);
  /* A coherent dictionary, as training makes it (sigma_max(D)^2 ~ 60):
   * atoms are training images (unit norm). Plain FISTA (every prox point
   * accepted) makes this test see 30 rises at these two dictionaries. */
  ae_param *d = ae_model_find_param(m, "decoder.weight");
  const ae_tensor *imgs = zt_fashion(0, 256);
  for (int64_t k = 0; k < 256; k++) {
    double n = 0;
    for (int64_t i = 0; i < 784; i++) n += imgs->data[k * 784 + i] * imgs->data[k * 784 + i];
    for (int64_t i = 0; i < 784; i++) d->value.data[i * 256 + k] = imgs->data[k * 784 + i] / sqrt(n);
  }
  expect_monotone(m, x, "image dictionary", e);
  cr_log_info("psd, image dictionary: mean energy %.6g at F(x), %.6g after 20 MFISTA steps", e[0], e[1]);
  cr_expect_lt(e[1], 0.5 * e[0], "image dictionary: energy %.6g -> %.6g", e[0], e[1]);
  ae_tensor_free(x);
  ae_model_free(m);
}

#else
/* ---------------------------------------------------------------- float32: training on Fashion-MNIST */

#define IMG AE_SHAPE(1, 28, 28)

Test(zoo_latent_f32, vae_elbo_falls_kl_positive_samples_in_unit_range, .timeout = 120) {
  /* The reference 784-400-20 tanh VAE, beta 1 (loss = negative ELBO),
   * 100 Adam steps of 32 images; the trainer's terms checked each step. */
  enum { STEPS = 100, BATCH = 32 };
  ae_model *m = zt_make("vae", "", IMG, 1);
  const ae_tensor *train = zt_fashion(0, 2000), *test = zt_fashion(1, 500);
  ae_eval_result before, after;
  cr_assert_eq(ae_evaluate(m, test, 500, 100, 1, &before), 0, "%s", ae_last_error());
  ae_optim_config cfg = ae_optim_defaults(AE_OPT_ADAM);
  cfg.lr = 1e-3;
  ae_trainer *tr = ae_trainer_new(m, &cfg, 3, 0);
  cr_assert(tr, "%s", ae_last_error());
  ae_tensor *xb = ae_tensor_new(AE_SHAPE(BATCH, 1, 28, 28));
  int64_t idx[BATCH];
  double nelbo[STEPS];
  for (int s = 0; s < STEPS; s++) {
    for (int i = 0; i < BATCH; i++) idx[i] = ((int64_t)s * BATCH + i) % train->shape.d[0];
    ae_gather_rows(train, idx, BATCH, xb);
    cr_assert_eq(ae_trainer_step(tr, xb), 0, "step %d: %s", s, ae_trainer_error(tr));
    double recon = NAN, kl = NAN;
    for (int i = 0; i < tr->nterms; i++) {
      if (strcmp(tr->term_name[i], "recon") == 0) recon = tr->term[i];
      if (strcmp(tr->term_name[i], "kl") == 0) kl = tr->term[i];
    }
    cr_assert(isfinite(kl) && kl > 0, "step %d: KL term %g", s, kl);
    cr_assert(isfinite(recon), "step %d: recon term %g", s, recon);
    nelbo[s] = recon + kl;
    cr_expect_leq(fabs(nelbo[s] - tr->loss), 1e-4 * tr->loss, "step %d: loss %g, recon + kl %g", s, tr->loss,
                  nelbo[s]);
  }
  double first = zt_mean(nelbo, 0, 10), last = zt_mean(nelbo, STEPS - 10, STEPS);
  cr_assert_eq(ae_evaluate(m, test, 500, 100, 1, &after), 0, "%s", ae_last_error());
  cr_log_info("vae: negative ELBO %.2f (first 10 steps) -> %.2f (last 10 of %d); held-out %.2f -> %.2f nats", first,
              last, STEPS, before.loss, after.loss);
  cr_expect_lt(last, 0.75 * first, "negative ELBO %.2f -> %.2f", first, last);
  cr_expect_lt(after.loss, 0.75 * before.loss, "held-out negative ELBO %.2f -> %.2f", before.loss, after.loss);
  /* 64 prior samples decoded: Bernoulli means in [0, 1], not all alike */
  ae_tape *t = ae_tape_new((size_t)64 << 20);
  ae_rng rng;
  ae_rng_init(&rng, 9);
  ae_val *y = m->def->sample(m, t, 64, &rng);
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  cr_assert_eq(y->t.numel, 64 * 784, "samples have shape (64,1,28,28)");
  int64_t outside = 0;
  double spread = 0;
  for (int64_t i = 0; i < y->t.numel; i++) {
    double v = y->t.data[i];
    outside += !(v >= 0 && v <= 1);
    if (i >= 784) spread += fabs(v - y->t.data[i - 784]);
  }
  cr_expect_eq(outside, 0, "%lld sample values outside [0, 1]", (long long)outside);
  cr_expect_gt(spread / (double)(63 * 784), 1e-3, "the samples are all alike");
  ae_tape_free(t);
  ae_tensor_free(xb);
  ae_trainer_free(tr);
  ae_model_free(m);
}

/* Fraction of exactly-zero entries of the inferred codes of data. */
static double zero_fraction(ae_model *m, const ae_tensor *data) {
  ae_tape *t = ae_tape_new((size_t)128 << 20);
  ae_set_grad_enabled(t, 0);
  ae_val *z = m->def->encode(m, t, ae_const_tensor(t, data));
  cr_assert(ae_tape_ok(t), "%s", ae_tape_error(t));
  int64_t zeros = 0;
  for (int64_t i = 0; i < z->t.numel; i++) zeros += z->t.data[i] == 0;
  double f = (double)zeros / (double)z->t.numel;
  ae_tape_free(t);
  return f;
}

static double term(const ae_eval_result *r, const char *name) {
  for (int i = 0; i < r->nterms; i++)
    if (strcmp(r->term_name[i], name) == 0) return r->term[i];
  cr_assert_fail("no term %s", name);
  return NAN;
}

Test(zoo_latent_f32, psd_loss_falls_codes_sparse_prediction_improves, .timeout = 120) {
  /* The reference configuration (784 to 256 codes, lambda 0.5, gamma 1,
   * 20 MFISTA steps), 120 Adam steps of 16 images: a step is 60 GEMMs of
   * (16 x 256) x (256 x 784), so the batch stays small. The zero fraction
   * grows as the encoder learns to predict near-zero codes (51.8% after 80
   * steps, 52.8% after 120, 53.9% after 200 at this batch); this run's
   * numbers are the same in the native and portable builds. */
  enum { STEPS = 120, BATCH = 16 };
  ae_model *m = zt_make("psd", "", IMG, 1);
  const ae_tensor *test = zt_fashion(1, 200);
  ae_eval_result before, after;
  cr_assert_eq(ae_evaluate(m, test, 200, 100, 1, &before), 0, "%s", ae_last_error());
  double loss[STEPS];
  cr_assert_eq(zt_train(m, zt_fashion(0, 2000), STEPS, BATCH, AE_OPT_ADAM, 3e-3, 3, loss), 0);
  cr_assert_eq(ae_evaluate(m, test, 200, 100, 1, &after), 0, "%s", ae_last_error());
  double first = zt_mean(loss, 0, 10), last = zt_mean(loss, STEPS - 10, STEPS), zeros = zero_fraction(m, test);
  double p0 = term(&before, "prediction"), p1 = term(&after, "prediction");
  cr_log_info("psd: loss %.3f (first 10 steps) -> %.3f (last 10 of %d); held-out prediction error %.3f -> %.3f, "
              "recon %.3f -> %.3f; %.1f%% of the held-out code entries are 0",
              first, last, STEPS, p0, p1, term(&before, "recon"), term(&after, "recon"), 100 * zeros);
  cr_expect_lt(last, 0.5 * first, "loss %.3f -> %.3f", first, last);
  cr_expect_lt(p1, 0.5 * p0, "held-out prediction error ||z* - F(x)||^2 %.4f -> %.4f", p0, p1);
  cr_expect_geq(zeros, 0.5, "only %.1f%% of the inferred code entries are exactly 0", 100 * zeros);
  ae_model_free(m);
}
#endif
