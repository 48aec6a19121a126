/* test_latent_codes.c: the decode hook of every zoo model and the code
 * statistics of zoo/latent.h, in float64:
 *   - for every model with decode (all but deconv-ae, whose decoder unpools
 *     at its encoder's argmax positions), at its gradcheck settings on 3
 *     Fashion-MNIST images downsampled to 4x4: reconstruct(x) equals
 *     decode(encode(x)), and decoding a batch equals decoding its rows one
 *     at a time;
 *   - the Gaussian fitted to codes: its mean and covariance equal the
 *     codes' sample mean and covariance computed here in plain loops, and
 *     the mean and covariance of 40000 of its draws approach them
 *     (full and diagonal);
 *   - interpolation: the ends of the code-space line decode to the
 *     reconstructions of the ends (ae, linear-ae), and linear-ae's decoder
 *     being affine, every point of the line decodes to the same mix of the
 *     two reconstructions;
 *   - ae's semantic-hashing code (code_activation=sigmoid, code_noise):
 *     the code is the sigmoid of the linear code of the same weights, the
 *     reconstruction decodes it, and the noisy training loss passes the
 *     first- and second-order gradient checks. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/latent.h"
#include "zoo/mixture.h"
#include "zoo_test_util.h"

_Static_assert(sizeof(ae_real) == sizeof(double), "exact comparisons need libaezoo64");

#define ARENA ((size_t)1 << 28)

static ae_tensor *tiny_images(void) { return zt_downsample(zt_fashion(0, 3), 3, 4); }

/* y = f(x) on a fresh tape, copied out. */
static ae_tensor *run(ae_model *m, ae_val *(*f)(ae_model *, ae_tape *, ae_val *), const ae_tensor *x) {
  ae_tape *t = ae_tape_new(ARENA);
  ae_set_grad_enabled(t, 0);
  ae_val *y = f(m, t, ae_const_tensor(t, x));
  cr_assert(ae_tape_ok(t) && y, "%s: %s", m->def->name, ae_tape_error(t));
  ae_tensor *out = ae_tensor_copy(&y->t);
  ae_tape_free(t);
  return out;
}

Test(latent, reconstruct_is_decode_of_encode_for_every_model_with_decode) {
  ae_tensor *x = tiny_images();
  int without = 0;
  for (int i = 0; i < ae_zoo_count(); i++) {
    const ae_model_def *d = ae_zoo_get(i);
    if (!d->decode) {
      cr_expect_str_eq(d->name, "deconv-ae", "model %s has no decode", d->name);
      without++;
      continue;
    }
    ae_model *m = zt_make(d->name, d->gradcheck_settings, AE_SHAPE(1, 4, 4), 5);
    ae_tensor *r = run(m, d->reconstruct, x);
    ae_tensor *h = run(m, d->encode, x);
    ae_tensor *dec = run(m, d->decode, h);
    cr_assert_eq(dec->numel, r->numel, "%s", d->name);
    cr_assert_eq(dec->shape.ndim, 4, "%s: decode gives (B, example...)", d->name);
    double worst = 0;
    for (int64_t j = 0; j < r->numel; j++) worst = fmax(worst, fabs(dec->data[j] - r->data[j]));
    cr_expect_leq(worst, 1e-12, "%s: |reconstruct - decode(encode)| = %g", d->name, worst);
    /* rows decoded alone */
    int64_t k = h->numel / 3, dim = 16;
    for (int b = 0; b < 3; b++) {
      ae_shape s = h->shape;
      s.d[0] = 1;
      ae_tensor *one = ae_tensor_from(s, h->data + b * k);
      ae_tensor *y = run(m, d->decode, one);
      for (int64_t j = 0; j < dim; j++)
        cr_expect_float_eq(y->data[j], dec->data[b * dim + j], 1e-12, "%s row %d", d->name, b);
      ae_tensor_free(one);
      ae_tensor_free(y);
    }
    ae_tensor_free(r);
    ae_tensor_free(h);
    ae_tensor_free(dec);
    ae_model_free(m);
  }
  cr_expect_eq(without, 1);
  ae_tensor_free(x);
}

Test(latent, decode_all_refuses_a_model_without_decode) {
  ae_model *m = zt_make("deconv-ae", "channels=2,3", AE_SHAPE(1, 4, 4), 5);
  ae_tensor *h = ae_tensor_new(AE_SHAPE(2, 3, 1, 1));
  cr_assert_null(ae_decode_all(m, h, 8));
  const char *e = ae_last_error();
  cr_expect(strstr(e, "deconv-ae") && strstr(e, "argmax") && strstr(e, "linear-ae"), "%s", e);
  ae_tensor_free(h);
  ae_model_free(m);
}

/* codes (n, k) from a fixed correlated distribution */
static ae_tensor *correlated_codes(int64_t n, int64_t k) {
  ae_tensor *c = ae_tensor_new(AE_SHAPE(n, k));
  ae_rng r;
  ae_rng_init(&r, 9);
  ae_real z[8];
  for (int64_t i = 0; i < n; i++) {
    ae_rng_normal(&r, z, k, 0, 1);
    for (int64_t j = 0; j < k; j++) {
      double v = 0.5 * j;
      for (int64_t l = 0; l <= j; l++) v += (1.0 + 0.3 * (double)(j - l)) * z[l]; /* lower-triangular mix */
      c->data[i * k + j] = v;
    }
  }
  return c;
}

Test(latent, gaussian_fit_is_the_sample_mean_and_covariance_and_its_draws_match_it) {
  int64_t n = 500, k = 4;
  ae_tensor *c = correlated_codes(n, k);
  double mean[4] = {0}, cov[16] = {0};
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) mean[j] += c->data[i * k + j] / (double)n;
  for (int64_t i = 0; i < n; i++)
    for (int64_t a = 0; a < k; a++)
      for (int64_t b = 0; b < k; b++)
        cov[a * k + b] += (c->data[i * k + a] - mean[a]) * (c->data[i * k + b] - mean[b]) / (double)(n - 1);
  for (int diagonal = 0; diagonal < 2; diagonal++) {
    ae_gaussian g;
    cr_assert_eq(ae_gaussian_fit(c, diagonal, &g), 0, "%s", ae_last_error());
    cr_assert_eq(g.k, k);
    for (int64_t j = 0; j < k; j++) cr_expect_float_eq(g.mean[j], mean[j], 1e-12);
    for (int64_t a = 0; a < k; a++)
      for (int64_t b = 0; b < k; b++) {
        if (diagonal && a != b) continue;
        double got = diagonal ? g.cov[a] : g.cov[a * k + b];
        cr_expect_float_eq(got, cov[a * k + b], 1e-10, "cov[%lld][%lld] %g vs %g", (long long)a, (long long)b, got,
                           cov[a * k + b]);
      }
    /* draws: their moments approach the fitted ones */
    int64_t draws = 40000;
    ae_real *s = malloc(sizeof(ae_real) * (size_t)(draws * k));
    ae_rng r;
    ae_rng_init(&r, 21);
    cr_assert_eq(ae_gaussian_sample(&g, draws, &r, s), 0, "%s", ae_last_error());
    double sm[4] = {0}, sc[16] = {0};
    for (int64_t i = 0; i < draws; i++)
      for (int64_t j = 0; j < k; j++) sm[j] += s[i * k + j] / (double)draws;
    for (int64_t i = 0; i < draws; i++)
      for (int64_t a = 0; a < k; a++)
        for (int64_t b = 0; b < k; b++) sc[a * k + b] += (s[i * k + a] - sm[a]) * (s[i * k + b] - sm[b]) / (double)draws;
    for (int64_t a = 0; a < k; a++) {
      double sd = sqrt(cov[a * k + a]);
      cr_expect_leq(fabs(sm[a] - mean[a]), 0.03 * sd, "mean %lld", (long long)a); /* ~6 standard errors */
      for (int64_t b = 0; b < k; b++) {
        double want = diagonal && a != b ? 0 : cov[a * k + b];
        cr_expect_leq(fabs(sc[a * k + b] - want), 0.04 * sd * sqrt(cov[b * k + b]), "%s cov[%lld][%lld] %g vs %g",
                      diagonal ? "diagonal" : "full", (long long)a, (long long)b, sc[a * k + b], want);
      }
    }
    free(s);
    ae_gaussian_free(&g);
  }
  ae_tensor_free(c);
}

Test(latent, gaussian_fit_takes_a_singular_covariance) {
  /* unit 2 is constant (a dead ReLU): its draws stay at the constant */
  ae_tensor *c = correlated_codes(100, 3);
  for (int64_t i = 0; i < 100; i++) c->data[i * 3 + 2] = 0.25;
  ae_gaussian g;
  cr_assert_eq(ae_gaussian_fit(c, 0, &g), 0, "%s", ae_last_error());
  ae_real s[30];
  ae_rng r;
  ae_rng_init(&r, 1);
  cr_assert_eq(ae_gaussian_sample(&g, 10, &r, s), 0);
  for (int i = 0; i < 10; i++) cr_expect_float_eq(s[i * 3 + 2], 0.25, 1e-6);
  ae_gaussian_free(&g);
  ae_tensor_free(c);
}

static void check_interpolation(const char *name, const char *sets, int affine) {
  ae_tensor *x = tiny_images();
  ae_model *m = zt_make(name, sets, AE_SHAPE(1, 4, 4), 3);
  ae_tensor *r = run(m, m->def->reconstruct, x);
  int steps = 5;
  ae_real out[5 * 16];
  cr_assert_eq(ae_interpolate_codes(m, x->data, x->data + 16, steps, out), 0, "%s", ae_last_error());
  for (int j = 0; j < 16; j++) {
    cr_expect_float_eq(out[j], r->data[j], 1e-12, "%s: first end", name);
    cr_expect_float_eq(out[(steps - 1) * 16 + j], r->data[16 + j], 1e-12, "%s: last end", name);
    for (int s = 1; affine && s < steps - 1; s++) {
      double f = (double)s / (steps - 1);
      cr_expect_float_eq(out[s * 16 + j], (1 - f) * r->data[j] + f * r->data[16 + j], 1e-12, "%s: step %d", name, s);
    }
  }
  cr_expect_neq(ae_interpolate_codes(m, x->data, x->data + 16, 1, out), 0);
  ae_tensor_free(r);
  ae_tensor_free(x);
  ae_model_free(m);
}

Test(latent, interpolation_ends_are_the_reconstructions) {
  check_interpolation("ae", "hidden=5,3", 0);
  check_interpolation("linear-ae", "code=3", 1);
}

/* ae's semantic-hashing code: sigmoid of the linear code, noise only in training */
Test(latent, ae_logistic_code_with_noise) {
  ae_tensor *x = tiny_images();
  ae_model *lin = zt_make("ae", "hidden=5,3", AE_SHAPE(1, 4, 4), 8);
  ae_model *sig = zt_make("ae", "hidden=5,3 code_activation=sigmoid code_noise=3", AE_SHAPE(1, 4, 4), 8);
  ae_tensor *a = run(lin, lin->def->encode, x), *h = run(sig, sig->def->encode, x);
  for (int64_t i = 0; i < a->numel; i++) cr_expect_float_eq(h->data[i], 1 / (1 + exp(-a->data[i])), 1e-14);
  /* the decoder is the same: reconstruct = decode(sigmoid code) */
  ae_tensor *r = run(sig, sig->def->reconstruct, x), *d = run(lin, lin->def->decode, h);
  for (int64_t i = 0; i < r->numel; i++) cr_expect_float_eq(r->data[i], d->data[i], 1e-14);
  ae_tensor_free(a), ae_tensor_free(h), ae_tensor_free(r), ae_tensor_free(d);
  ae_model_free(lin);
  ae_model_free(sig);
  ae_tensor_free(x);
  /* the noisy loss passes the first- and second-order gradient checks (the noise is redrawn identically) */
  zt_check_model("ae", "code_activation=sigmoid code_noise=3", -1, 1);
}

/* EM on 3000 points from 3 separated 2-D Gaussians: the log-likelihood
 * never falls, the fitted weights and means are the true ones, and the
 * draws' mean is the mixture's. */
Test(latent, mixture_em_recovers_separated_gaussians) {
  const double mu[3][2] = {{0, 0}, {6, 1}, {-2, 7}}, sd[3] = {1, 0.5, 1.5}, wt[3] = {0.5, 0.3, 0.2};
  int64_t n = 3000;
  ae_tensor *c = ae_tensor_new(AE_SHAPE(n, 2));
  ae_rng r;
  ae_rng_init(&r, 17);
  ae_real z[2];
  for (int64_t i = 0; i < n; i++) {
    int comp = i < 1500 ? 0 : i < 2400 ? 1 : 2;
    ae_rng_normal(&r, z, 2, 0, 1);
    for (int j = 0; j < 2; j++) c->data[i * 2 + j] = mu[comp][j] + sd[comp] * z[j];
  }
  ae_mixture mx;
  double ll[41];
  cr_assert_eq(ae_mixture_fit(c, 3, 40, 5, &mx, ll), 0, "%s", ae_last_error());
  for (int it = 1; it <= 40; it++) cr_expect_geq(ll[it], ll[it - 1] - 1e-9, "EM step %d: %g -> %g", it, ll[it - 1], ll[it]);
  for (int t = 0; t < 3; t++) { /* the fitted component nearest each true one */
    int best = 0;
    double bd = INFINITY;
    for (int f = 0; f < 3; f++) {
      double dd = pow(mx.comp[f].mean[0] - mu[t][0], 2) + pow(mx.comp[f].mean[1] - mu[t][1], 2);
      if (dd < bd) bd = dd, best = f;
    }
    cr_expect_lt(sqrt(bd), 0.15, "component %d: mean off by %g", t, sqrt(bd));
    cr_expect_float_eq(mx.weight[best], wt[t], 0.03, "component %d: weight %g", t, mx.weight[best]);
    cr_expect_float_eq(mx.comp[best].cov[0], sd[t] * sd[t], 0.2 * sd[t] * sd[t]);
  }
  int64_t draws = 20000;
  ae_real *s = malloc(sizeof(ae_real) * (size_t)(draws * 2));
  ae_rng_init(&r, 3);
  cr_assert_eq(ae_mixture_sample(&mx, draws, &r, s), 0, "%s", ae_last_error());
  for (int j = 0; j < 2; j++) {
    double want = 0, got = 0;
    for (int f = 0; f < 3; f++) want += mx.weight[f] * mx.comp[f].mean[j];
    for (int64_t i = 0; i < draws; i++) got += s[i * 2 + j] / (double)draws;
    cr_expect_float_eq(got, want, 0.08, "draws' mean %d: %g vs %g", j, got, want);
  }
  free(s);
  ae_mixture_free(&mx);
  ae_tensor_free(c);
}
