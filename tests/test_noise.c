/* test_noise.c: the noise, sampling and proximal ops of ops/noise.h.
 * Over a large draw (2^20 elements) each noise op has the mean, variance
 * or fraction its definition implies, within 5 standard errors of the
 * binomial or normal sampling distribution; each gives bitwise identical
 * results with 1 and 2 threads for one seed, and advances the generator
 * by numel; gradients are the documented masks and scales (the
 * reparameterised sample's are 1 and exp(logvar/2) eps / 2); Gaussian
 * noise on a constant (one fused pass) is bitwise the composite. Shrink
 * against a loop; ISTA and FISTA solve a small lasso to its optimality
 * (KKT) conditions. The op-table rows of this family run in test_loss.c.
 * Built for float64 and float32. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aezoo.h"

#define N (1 << 20)
#define ARENA ((size_t)256 << 20)

#ifdef AE_REAL_DOUBLE
#define TOL 1e-12
#else
#define TOL 1e-6
#endif

typedef struct stats {
  double mean, var;
} stats;

static stats moments(const ae_real *y, int64_t n) {
  double m = 0, m2 = 0;
  for (int64_t i = 0; i < n; i++) m += y[i];
  m /= (double)n;
  for (int64_t i = 0; i < n; i++) m2 += (y[i] - m) * (y[i] - m);
  return (stats){m, m2 / (double)(n - 1)};
}

static double fraction_eq(const ae_real *y, int64_t n, ae_real v) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; i++) c += y[i] == v;
  return (double)c / (double)n;
}

/* |f - p| within 5 binomial standard errors. */
static void expect_fraction(double f, double p, const char *what) {
  double se = sqrt(p * (1 - p) / N);
  cr_expect(fabs(f - p) <= 5 * se, "%s: fraction %.6f, expected %.6f +- %.6f (5 SE)", what, f, p, 5 * se);
}

/* The op under test on a fresh tape: y, and d sum(y) / dx in g. */
typedef ae_val *(*noise_fn)(ae_tape *t, ae_val *x, ae_rng *r);

static void run_n(int64_t n, noise_fn f, ae_real x0, uint64_t seed, ae_real *y, ae_real *g) {
  ae_tape *t = ae_tape_new(ARENA);
  ae_val *x = ae_full(t, AE_SHAPE(n), x0);
  x = ae_var(t, AE_SHAPE(n), x->t.data);
  ae_rng r;
  ae_rng_init(&r, seed);
  ae_val *out = f(t, x, &r);
  cr_assert(out, "%s", ae_tape_error(t));
  cr_expect_eq(r.counter, (uint64_t)n, "the op drew %llu values for %lld elements", (unsigned long long)r.counter,
               (long long)n);
  memcpy(y, out->t.data, sizeof(ae_real) * (size_t)n);
  if (g) {
    ae_val *gx = ae_grad1(t, ae_sum(t, out), NULL, x, 0);
    cr_assert(gx, "%s", ae_tape_error(t));
    memcpy(g, gx->t.data, sizeof(ae_real) * (size_t)n);
  }
  ae_tape_free(t);
}
static void run(noise_fn f, ae_real x0, uint64_t seed, ae_real *y, ae_real *g) { run_n(N, f, x0, seed, y, g); }

static ae_real *buf(void) { return malloc(sizeof(ae_real) * N); }

static ae_val *gauss_plain(ae_tape *t, ae_val *x, ae_rng *r) { return ae_gaussian_noise(t, x, 0.2, -INFINITY, INFINITY, r); }
static ae_val *gauss_clip(ae_tape *t, ae_val *x, ae_rng *r) { return ae_gaussian_noise(t, x, 0.5, 0, 1, r); }
static ae_val *masking(ae_tape *t, ae_val *x, ae_rng *r) { return ae_masking_noise(t, x, 0.3, r); }
static ae_val *snp(ae_tape *t, ae_val *x, ae_rng *r) { return ae_salt_and_pepper(t, x, 0.2, -1, 2, r); }
static ae_val *drop(ae_tape *t, ae_val *x, ae_rng *r) { return ae_dropout(t, x, 0.25, 1, r); }
static ae_val *reparam(ae_tape *t, ae_val *x, ae_rng *r) {
  return ae_reparameterize(t, x, ae_full(t, x->t.shape, (ae_real)log(0.25)), r);
}

Test(noise, gaussian_mean_and_variance) {
  ae_real *y = buf();
  run(gauss_plain, 0.5, 1, y, NULL);
  stats s = moments(y, N);
  double sd = 0.2, se_m = sd / sqrt(N), se_v = sd * sd * sqrt(2.0 / (N - 1));
  cr_expect(fabs(s.mean - 0.5) <= 5 * se_m, "mean %.6f", s.mean);
  cr_expect(fabs(s.var - sd * sd) <= 5 * se_v, "variance %.6f vs %.6f +- %.6f", s.var, sd * sd, 5 * se_v);
  free(y);
}

/* x = 0.5, sigma = 0.5, clipped to [0, 1]: P(clipped low) = P(clipped high)
 * = Phi(-1); the gradient is 1 inside and 0 where clipped. */
Test(noise, gaussian_clipping_fraction_and_gradient) {
  ae_real *y = buf(), *g = buf();
  run(gauss_clip, 0.5, 2, y, g);
  double phi = 0.5 * erfc(1 / sqrt(2.0));
  expect_fraction(fraction_eq(y, N, 0), phi, "clipped at 0");
  expect_fraction(fraction_eq(y, N, 1), phi, "clipped at 1");
  int64_t bad = 0;
  for (int64_t i = 0; i < N; i++) bad += g[i] != (y[i] > 0 && y[i] < 1 ? 1 : 0) || y[i] < 0 || y[i] > 1;
  cr_expect_eq(bad, 0, "%lld elements out of range or with the wrong gradient", (long long)bad);
  free(y), free(g);
}

Test(noise, masking_fraction_and_gradient) {
  ae_real *y = buf(), *g = buf();
  run(masking, 0.75, 3, y, g);
  expect_fraction(fraction_eq(y, N, 0), 0.3, "zeroed");
  int64_t bad = 0;
  for (int64_t i = 0; i < N; i++) bad += (y[i] != 0 && y[i] != (ae_real)0.75) || g[i] != (y[i] != 0);
  cr_expect_eq(bad, 0, "%lld elements neither kept nor zeroed, or with the wrong gradient", (long long)bad);
  free(y), free(g);
}

Test(noise, salt_and_pepper_fractions_and_gradient) {
  ae_real *y = buf(), *g = buf();
  run(snp, 0.5, 4, y, g);
  expect_fraction(fraction_eq(y, N, -1), 0.1, "set to lo");
  expect_fraction(fraction_eq(y, N, 2), 0.1, "set to hi");
  expect_fraction(fraction_eq(y, N, 0.5), 0.8, "kept");
  int64_t bad = 0;
  for (int64_t i = 0; i < N; i++) bad += g[i] != (y[i] == (ae_real)0.5);
  cr_expect_eq(bad, 0, "%lld wrong gradients", (long long)bad);
  free(y), free(g);
}

Test(noise, dropout_fraction_scale_and_mean) {
  ae_real *y = buf(), *g = buf();
  run(drop, 1, 5, y, g);
  double p = 0.25;
  expect_fraction(fraction_eq(y, N, 0), p, "dropped");
  ae_real kept = (ae_real)(1 / (1 - p));
  int64_t bad = 0;
  for (int64_t i = 0; i < N; i++) bad += (y[i] != 0 && y[i] != kept) || g[i] != y[i]; /* x = 1: dy/dx = y */
  cr_expect_eq(bad, 0, "%lld elements neither dropped nor scaled by 1/(1-p), or wrong gradient", (long long)bad);
  double m = moments(y, N).mean, se = sqrt(p / (1 - p) / N);
  cr_expect(fabs(m - 1) <= 5 * se, "E[y] = %.6f, want 1 +- %.6f", m, 5 * se);
  free(y), free(g);
}

Test(noise, dropout_eval_and_edge_cases) {
  ae_tape *t = ae_tape_new(0);
  ae_rng r;
  ae_rng_init(&r, 6);
  ae_val *x = ae_full(t, AE_SHAPE(5), 2);
  cr_expect_eq(ae_dropout(t, x, 0.5, 0, &r), x, "not training returns x itself");
  cr_expect_eq(ae_dropout(t, x, 0, 1, &r), x, "p = 0 returns x itself");
  cr_expect_eq(r.counter, 0, "nothing drawn");
  ae_val *z = ae_dropout(t, x, 1, 1, &r);
  cr_assert(z);
  for (int i = 0; i < 5; i++) cr_expect(z->t.data[i] == 0, "p = 1 gives zeros, got %g", (double)z->t.data[i]);
  cr_expect_null(ae_dropout(t, x, 1.5, 1, &r));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  ae_tape_reset(t);
  x = ae_full(t, AE_SHAPE(5), 2);
  cr_expect_null(ae_masking_noise(t, x, 0.1, NULL));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  ae_tape_reset(t);
  x = ae_full(t, AE_SHAPE(5), 2);
  cr_expect_null(ae_gaussian_noise(t, x, -1, 0, 1, &r));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  ae_tape_free(t);
}

Test(noise, reparameterize_mean_and_variance) {
  ae_real *y = buf();
  run(reparam, 0.3, 7, y, NULL);
  stats s = moments(y, N);
  double sd = 0.5, se_m = sd / sqrt(N), se_v = sd * sd * sqrt(2.0 / (N - 1));
  cr_expect(fabs(s.mean - 0.3) <= 5 * se_m, "mean %.6f", s.mean);
  cr_expect(fabs(s.var - sd * sd) <= 5 * se_v, "variance %.6f vs %.6f", s.var, sd * sd);
  free(y);
}

/* dz/dmu = 1 and dz/dlogvar = exp(logvar/2) eps / 2, eps redrawn from a
 * copy of the generator. */
Test(noise, reparameterize_gradients) {
  enum { M = 6 };
  ae_real mu[M] = {0.1, -0.4, 1, 2, -3, 0}, lv[M] = {-1, 0, 0.5, 2, -4, 0.1}, eps[M];
  ae_tape *t = ae_tape_new(0);
  ae_val *m = ae_var(t, AE_SHAPE(2, 3), mu), *l = ae_var(t, AE_SHAPE(2, 3), lv);
  ae_rng r, copy;
  ae_rng_init(&r, 8);
  r.counter = 12345;
  copy = r;
  ae_val *z = ae_reparameterize(t, m, l, &r);
  ae_val *ins[2] = {m, l}, *gs[2];
  cr_assert(ae_grad(t, 1, (ae_val *[]){ae_sum(t, z)}, NULL, 2, ins, gs, 0) == 0, "%s", ae_tape_error(t));
  ae_rng_normal(&copy, eps, M, 0, 1);
  for (int i = 0; i < M; i++) {
    double sd = exp(0.5 * lv[i]);
    cr_expect(fabs(z->t.data[i] - (mu[i] + sd * eps[i])) <= TOL * (1 + fabs(z->t.data[i])), "z[%d]", i);
    cr_expect(gs[0]->t.data[i] == 1, "dz/dmu[%d] = %g", i, (double)gs[0]->t.data[i]);
    double want = 0.5 * sd * eps[i];
    cr_expect(fabs(gs[1]->t.data[i] - want) <= TOL * (1 + fabs(want)), "dz/dlogvar[%d] = %.17g, want %.17g", i,
              (double)gs[1]->t.data[i], want);
  }
  ae_tape_free(t);
}

/* The same seed gives bitwise the same noise (and gradient) with 1 and 2
 * threads. NT = 2^17 is 4x the parallel threshold, so every kernel on the
 * way (draw, combine, backward) splits its work over both threads. */
#define NT (1 << 17)
Test(noise, identical_with_1_and_2_threads) {
  noise_fn fns[] = {gauss_plain, gauss_clip, masking, snp, drop, reparam};
  const char *names[] = {"gaussian", "gaussian clipped", "masking", "salt and pepper", "dropout", "reparameterize"};
  ae_real *y1 = buf(), *y2 = buf(), *g1 = buf(), *g2 = buf();
  for (int k = 0; k < 6; k++) {
    ae_set_threads(1);
    run_n(NT, fns[k], 0.5, 100 + k, y1, g1);
    ae_set_threads(2);
    cr_assert_eq(ae_get_threads(), 2);
    run_n(NT, fns[k], 0.5, 100 + k, y2, g2);
    cr_expect(memcmp(y1, y2, sizeof(ae_real) * NT) == 0, "%s: values differ between 1 and 2 threads", names[k]);
    cr_expect(memcmp(g1, g2, sizeof(ae_real) * NT) == 0, "%s: gradients differ between 1 and 2 threads", names[k]);
    /* and a different seed gives different noise */
    run_n(NT, fns[k], 0.5, 200 + k, y2, NULL);
    cr_expect(memcmp(y1, y2, sizeof(ae_real) * NT) != 0, "%s: seed has no effect", names[k]);
  }
  free(y1), free(y2), free(g1), free(g2);
}

/* Gaussian noise on an input that gets no gradient (a denoiser's batch)
 * is added and clamped in one pass (noise.c): bitwise the composite that a
 * variable input takes, at 1 and 2 threads (NT is above the parallel
 * threshold), with values on and around the bounds, -0 and infinite
 * bounds; under anomaly mode a NaN in the input is still caught. */
static void gauss_both(const ae_real *x0, ae_real lo, ae_real hi, ae_real *fused, ae_real *composite) {
  for (int var = 0; var <= 1; var++) {
    ae_tape *t = ae_tape_new(ARENA);
    ae_val *x = var ? ae_var(t, AE_SHAPE(NT), x0) : ae_const(t, AE_SHAPE(NT), x0);
    ae_rng r;
    ae_rng_init(&r, 7);
    ae_val *y = ae_gaussian_noise(t, x, 0.5, lo, hi, &r);
    cr_assert(y, "%s", ae_tape_error(t));
    cr_assert_eq(y->requires_grad, var);
    cr_assert_eq(r.counter, (uint64_t)NT);
    memcpy(var ? composite : fused, y->t.data, sizeof(ae_real) * NT);
    ae_tape_free(t);
  }
}

Test(noise, gaussian_on_a_constant_equals_the_composite) {
  ae_real *x0 = buf(), *a = buf(), *b = buf();
  for (int64_t i = 0; i < NT; i++) x0[i] = i % 5 == 0 ? (ae_real)-0.0 : (ae_real)((i % 13) * 0.125 - 0.5);
  const ae_real bounds[][2] = {{0, 1}, {-INFINITY, INFINITY}, {(ae_real)0.25, (ae_real)0.25}};
  for (int threads = 1; threads <= 2; threads++) {
    ae_set_threads(threads);
    for (int k = 0; k < 3; k++) {
      gauss_both(x0, bounds[k][0], bounds[k][1], a, b);
      cr_expect(memcmp(a, b, sizeof(ae_real) * NT) == 0, "bounds [%g, %g], %d threads: fused and composite differ",
                (double)bounds[k][0], (double)bounds[k][1], threads);
    }
  }
  ae_tape *t = ae_tape_new(ARENA);
  ae_set_anomaly(t, 1);
  x0[12345] = (ae_real)NAN;
  ae_rng r;
  ae_rng_init(&r, 7);
  cr_expect_null(ae_gaussian_noise(t, ae_const(t, AE_SHAPE(NT), x0), 0.5, -INFINITY, INFINITY, &r));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ANOMALY, "%s", ae_tape_error(t));
  ae_tape_free(t);
  free(x0), free(a), free(b);
}

/* ---- proximal ops ---- */

Test(prox, shrink_values_and_gradient) {
  enum { M = 41 };
  ae_real x[M];
  for (int i = 0; i < M; i++) x[i] = (ae_real)(-2 + 0.1 * i + 0.013);
  ae_tape *t = ae_tape_new(0);
  ae_val *xv = ae_var(t, AE_SHAPE(M), x);
  ae_val *y = ae_shrink(t, xv, 0.7);
  ae_val *g = ae_grad1(t, ae_sum(t, y), NULL, xv, 0);
  cr_assert(g, "%s", ae_tape_error(t));
  for (int i = 0; i < M; i++) {
    double v = x[i], lam = (ae_real)0.7, want = v > lam ? v - lam : v < -lam ? v + lam : 0;
    cr_expect(fabs(y->t.data[i] - want) <= TOL, "shrink(%g) = %g, want %g", v, (double)y->t.data[i], want);
    cr_expect(g->t.data[i] == (fabs(v) > lam), "gradient at %g: %g", v, (double)g->t.data[i]);
  }
  cr_expect_null(ae_shrink(t, xv, -1));
  cr_expect_eq(ae_tape_status(t), AE_ERR_ARG);
  ae_tape_free(t);
}

/* Lasso: min_h 0.5 ||W h - x||^2 + lambda ||h||_1 with W (8,4). */
enum { LR = 8, LC = 4 };
typedef struct lasso {
  ae_real W[LR * LC], x[LR], lambda, step;
} lasso;

static lasso make_lasso(void) {
  lasso p;
  ae_rng r;
  ae_rng_init(&r, 77);
  ae_rng_normal(&r, p.W, LR * LC, 0, 1);
  ae_rng_normal(&r, p.x, LR, 0, 1);
  double fro = 0, mx = 0;
  for (int i = 0; i < LR * LC; i++) fro += (double)p.W[i] * p.W[i];
  for (int j = 0; j < LC; j++) {
    double c = 0;
    for (int i = 0; i < LR; i++) c += (double)p.W[i * LC + j] * p.x[i];
    mx = fmax(mx, fabs(c));
  }
  p.step = (ae_real)(1 / fro); /* ||W||_F^2 bounds the Lipschitz constant ||W||_2^2 */
  p.lambda = (ae_real)(0.5 * mx);
  return p;
}

/* d/dh 0.5 ||W h - x||^2 at h, on tape t (h a variable). */
static ae_val *lasso_grad(ae_tape *t, const lasso *p, ae_val *h) {
  ae_val *W = ae_const(t, AE_SHAPE(LR, LC), p->W), *x = ae_const(t, AE_SHAPE(LR, 1), p->x);
  ae_val *res = ae_sub(t, ae_matmul(t, W, h, 0, 0), x);
  return ae_grad1(t, ae_scale(t, ae_sum(t, ae_square(t, res)), 0.5), NULL, h, 0);
}

/* KKT: grad_j = -lambda sign(h_j) where h_j != 0, |grad_j| <= lambda where h_j = 0. */
static double kkt_violation(const lasso *p, const ae_real *h) {
  ae_tape *t = ae_tape_new(0);
  ae_val *g = lasso_grad(t, p, ae_var(t, AE_SHAPE(LC, 1), h));
  double worst = 0;
  for (int j = 0; j < LC; j++) {
    double gj = g->t.data[j];
    worst = fmax(worst, h[j] != 0 ? fabs(gj + p->lambda * (h[j] > 0 ? 1 : -1)) : fmax(fabs(gj) - p->lambda, 0));
  }
  ae_tape_free(t);
  return worst;
}

Test(prox, ista_and_fista_solve_a_lasso) {
  lasso p = make_lasso();
#ifdef AE_REAL_DOUBLE
  const double tol = 1e-9;
#else
  const double tol = 1e-4;
#endif
  ae_real h[LC] = {0}, y[LC] = {0}, hf[LC] = {0}, hold[LC] = {0};
  ae_tape *t = ae_tape_new(0);
  for (int k = 0; k < 3000; k++) { /* ISTA */
    ae_tape_reset(t);
    ae_val *hv = ae_var(t, AE_SHAPE(LC, 1), h);
    ae_val *hn = ae_ista_step(t, hv, lasso_grad(t, &p, hv), p.step, p.lambda);
    cr_assert(hn, "%s", ae_tape_error(t));
    memcpy(h, hn->t.data, sizeof h);
  }
  double tk = 1;
  int fista_iters = 0;
  for (int k = 0; k < 3000; k++) { /* FISTA */
    ae_tape_reset(t);
    ae_val *yv = ae_var(t, AE_SHAPE(LC, 1), y);
    ae_val *hn = ae_ista_step(t, yv, lasso_grad(t, &p, yv), p.step, p.lambda);
    ae_val *yn = ae_fista_extrapolate(t, hn, ae_const(t, AE_SHAPE(LC, 1), hold), &tk);
    cr_assert(yn, "%s", ae_tape_error(t));
    memcpy(hold, hn->t.data, sizeof hold);
    memcpy(y, yn->t.data, sizeof y);
    if (!fista_iters && kkt_violation(&p, hold) <= tol) fista_iters = k + 1;
  }
  memcpy(hf, hold, sizeof hf);
  ae_tape_free(t);
  int zeros = 0;
  for (int j = 0; j < LC; j++) zeros += h[j] == 0;
  cr_log_info("lasso h = (%g %g %g %g), %d exact zeros; FISTA met KKT after %d iterations", (double)h[0],
              (double)h[1], (double)h[2], (double)h[3], zeros, fista_iters);
  cr_expect(zeros >= 1 && zeros < LC, "want a solution with some but not all codes at 0, got %d zeros", zeros);
  cr_expect(kkt_violation(&p, h) <= tol, "ISTA: KKT violation %g", kkt_violation(&p, h));
  cr_expect(kkt_violation(&p, hf) <= tol, "FISTA: KKT violation %g", kkt_violation(&p, hf));
  for (int j = 0; j < LC; j++) cr_expect(fabs(h[j] - hf[j]) <= 100 * tol, "h[%d]: ISTA %g, FISTA %g", j, h[j], hf[j]);
}
