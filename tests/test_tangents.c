/* test_tangents.c: the encoder Jacobian and its singular directions
 * (zoo/tangent.h), in float64:
 *   - linear-ae: dh/dx is the encoder weight W_e entry for entry, the
 *     squared singular values sum to ||W_e||_F^2, and the leading
 *     right singular vectors (as many as code units) are orthonormal and
 *     span the row space of W_e (every row's residual after projection
 *     < 1e-10 of its norm); directions asked past the rank are zeros;
 *     and once trained (with weight decay) they span its decoder's columns
 *     (largest principal-angle sine < 0.02, from 0.94 at initialisation);
 *   - ae (ReLU, 2 layers): every entry of dh/dx equals central finite
 *     differences of the encoder (eps 1e-6);
 *   - psd's inferred code is refused with a message saying why;
 *   - local PCA: the neighbours are the nearest by brute force, the
 *     directions are orthonormal, and each variance is the direction's
 *     Rayleigh quotient on the neighbours' covariance computed here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/tangent.h"
#include "zoo_test_util.h"

_Static_assert(sizeof(ae_real) == sizeof(double), "exact comparisons need libaezoo64");

Test(tangents, linear_ae_directions_span_the_encoder_rows) {
  ae_tensor *x = zt_downsample(zt_fashion(0, 1), 1, 4);
  ae_model *m = zt_make("linear-ae", "code=5", AE_SHAPE(1, 4, 4), 7);
  const ae_param *we = ae_model_find_param(m, "encoder.weight");
  cr_assert(we);
  double *J, s[16], dirs[5 * 16];
  int64_t k, r;
  cr_assert_eq(ae_encoder_jacobian(m, x->data, &J, &k), 0, "%s", ae_last_error());
  cr_assert_eq(k, 5);
  double fro = 0;
  for (int i = 0; i < 5 * 16; i++) {
    cr_expect_float_eq(J[i], we->value.data[i], 1e-14);
    fro += we->value.data[i] * we->value.data[i];
  }
  free(J);
  cr_assert_eq(ae_tangent_directions(m, x->data, 5, s, &r, dirs), 0, "%s", ae_last_error());
  cr_assert_eq(r, 5);
  double ssq = 0;
  for (int i = 0; i < 5; i++) ssq += s[i] * s[i];
  cr_expect_float_eq(ssq, fro, 1e-12 * fro);
  for (int a = 0; a < 5; a++)
    for (int b = 0; b < 5; b++) {
      double dot = 0;
      for (int j = 0; j < 16; j++) dot += dirs[a * 16 + j] * dirs[b * 16 + j];
      cr_expect_float_eq(dot, a == b, 1e-12);
    }
  for (int row = 0; row < 5; row++) {
    const ae_real *w = we->value.data + row * 16;
    double res[16], norm = 0, rn = 0;
    for (int j = 0; j < 16; j++) res[j] = w[j], norm += w[j] * w[j];
    for (int a = 0; a < 5; a++) {
      double dot = 0;
      for (int j = 0; j < 16; j++) dot += dirs[a * 16 + j] * w[j];
      for (int j = 0; j < 16; j++) res[j] -= dot * dirs[a * 16 + j];
    }
    for (int j = 0; j < 16; j++) rn += res[j] * res[j];
    cr_expect_leq(sqrt(rn), 1e-10 * sqrt(norm), "row %d of W_e leaves the tangent span by %g", row, sqrt(rn));
  }
  double more[7 * 16];
  cr_assert_eq(ae_tangent_directions(m, x->data, 7, s, &r, more), 0, "%s", ae_last_error());
  for (int j = 0; j < 7 * 16; j++) cr_expect_float_eq(more[j], j < 5 * 16 ? dirs[j] : 0, 0); /* past the rank: 0 */
  ae_model_free(m);
  ae_tensor_free(x);
}

/* the code of x as doubles */
static void code_of(ae_model *m, const ae_real *x, double *h, int64_t k) {
  ae_tape *t = ae_tape_new((size_t)1 << 24);
  ae_set_grad_enabled(t, 0);
  ae_val *y = m->def->encode(m, t, ae_const(t, AE_SHAPE(1, 1, 4, 4), x));
  cr_assert(ae_tape_ok(t) && y && y->t.numel == k);
  for (int64_t j = 0; j < k; j++) h[j] = y->t.data[j];
  ae_tape_free(t);
}

Test(tangents, ae_jacobian_matches_finite_differences) {
  ae_tensor *x = zt_downsample(zt_fashion(0, 2), 2, 4);
  ae_model *m = zt_make("ae", "hidden=6,3 activation=tanh", AE_SHAPE(1, 4, 4), 3);
  double *J;
  int64_t k;
  const ae_real *x0 = x->data + 16;
  cr_assert_eq(ae_encoder_jacobian(m, x0, &J, &k), 0, "%s", ae_last_error());
  cr_assert_eq(k, 3);
  ae_real xp[16];
  double hp[3], hm[3], eps = 1e-6;
  for (int i = 0; i < 16; i++) {
    memcpy(xp, x0, sizeof xp);
    xp[i] += eps;
    code_of(m, xp, hp, 3);
    xp[i] -= 2 * eps;
    code_of(m, xp, hm, 3);
    for (int j = 0; j < 3; j++) {
      double fd = (hp[j] - hm[j]) / (2 * eps);
      cr_expect_float_eq(J[j * 16 + i], fd, 1e-7 + 1e-5 * fabs(fd), "J[%d][%d] = %g, finite differences %g", j, i,
                         J[j * 16 + i], fd);
    }
  }
  free(J);
  ae_model_free(m);
  ae_tensor_free(x);
}

Test(tangents, psd_inferred_codes_are_refused) {
  ae_tensor *x = zt_downsample(zt_fashion(0, 1), 1, 4);
  ae_model *m = zt_make("psd", "code=5 steps=5", AE_SHAPE(1, 4, 4), 3);
  double *J = NULL;
  int64_t k;
  cr_expect_neq(ae_encoder_jacobian(m, x->data, &J, &k), 0);
  cr_expect_null(J);
  cr_expect(strstr(ae_last_error(), "psd") && strstr(ae_last_error(), "differentiabl"), "%s", ae_last_error());
  ae_model_free(m);
  ae_tensor_free(x);
}

Test(tangents, local_pca_of_the_nearest_neighbours) {
  const ae_tensor *tr = zt_fashion(0, 300);
  const ae_tensor *te = zt_fashion(1, 1);
  int64_t n = 300, d = 784, nb = 20;
  int nd = 4;
  double var[4], *dirs = malloc(sizeof(double) * (size_t)(nd * d));
  int64_t idx[20];
  cr_assert_eq(ae_local_pca(tr->data, n, d, te->data, nb, nd, var, dirs, idx), 0, "%s", ae_last_error());
  /* brute force: no training image outside idx is nearer than the farthest in it */
  double far = 0, *dist = malloc(sizeof(double) * (size_t)n);
  for (int64_t i = 0; i < n; i++) {
    dist[i] = 0;
    for (int64_t j = 0; j < d; j++) dist[i] += pow(tr->data[i * d + j] - te->data[j], 2);
  }
  for (int a = 0; a < nb; a++) {
    far = fmax(far, dist[idx[a]]);
    if (a) cr_expect_leq(dist[idx[a - 1]], dist[idx[a]]);
  }
  for (int64_t i = 0; i < n; i++) {
    int in = 0;
    for (int a = 0; a < nb; a++) in |= idx[a] == i;
    if (!in) cr_expect_geq(dist[i], far);
  }
  /* the neighbours' covariance, here */
  double mean[784] = {0};
  for (int a = 0; a < nb; a++)
    for (int64_t j = 0; j < d; j++) mean[j] += tr->data[idx[a] * d + j] / (double)nb;
  for (int p = 0; p < nd; p++) {
    double rq = 0, norm = 0;
    for (int a = 0; a < nb; a++) {
      double dot = 0;
      for (int64_t j = 0; j < d; j++) dot += (tr->data[idx[a] * d + j] - mean[j]) * dirs[p * d + j];
      rq += dot * dot / (double)(nb - 1);
    }
    for (int q = 0; q < nd; q++) {
      double dot = 0;
      for (int64_t j = 0; j < d; j++) dot += dirs[p * d + j] * dirs[q * d + j];
      cr_expect_float_eq(dot, p == q, 1e-10);
    }
    for (int64_t j = 0; j < d; j++) norm += dirs[p * d + j] * dirs[p * d + j];
    cr_expect_float_eq(rq, var[p], 1e-9 * var[0], "variance %d: %g vs Rayleigh %g", p, var[p], rq);
    if (p) cr_expect_geq(var[p - 1], var[p]);
  }
  free(dist);
  free(dirs);
}

/* The largest sine of the principal angles between span(rows of a) and
 * span(rows of b), both r x d with orthonormalised copies made here. */
static double max_sine(const double *a, const double *b, int r, int d) {
  double qa[8 * 16], qb[8 * 16];
  const double *src[2] = {a, b};
  double *dst[2] = {qa, qb};
  for (int s = 0; s < 2; s++) /* Gram-Schmidt, twice for accuracy */
    for (int i = 0; i < r; i++) {
      for (int j = 0; j < d; j++) dst[s][i * d + j] = src[s][i * d + j];
      for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < i; k++) {
          double dot = 0;
          for (int j = 0; j < d; j++) dot += dst[s][i * d + j] * dst[s][k * d + j];
          for (int j = 0; j < d; j++) dst[s][i * d + j] -= dot * dst[s][k * d + j];
        }
      double n = 0;
      for (int j = 0; j < d; j++) n += dst[s][i * d + j] * dst[s][i * d + j];
      for (int j = 0; j < d; j++) dst[s][i * d + j] /= sqrt(n);
    }
  /* residual of each of b's basis vectors after projection on span(a) */
  double worst = 0;
  for (int i = 0; i < r; i++) {
    double res[16], rn = 0;
    for (int j = 0; j < d; j++) res[j] = qb[i * d + j];
    for (int k = 0; k < r; k++) {
      double dot = 0;
      for (int j = 0; j < d; j++) dot += qa[k * d + j] * qb[i * d + j];
      for (int j = 0; j < d; j++) res[j] -= dot * qa[k * d + j];
    }
    for (int j = 0; j < d; j++) rn += res[j] * res[j];
    worst = fmax(worst, sqrt(rn));
  }
  return worst;
}

/* Trained, a linear autoencoder's encoder rows and decoder columns span the
 * same (principal) subspace, so its tangent directions span its decoder's
 * columns: the decoded images of the code's directions. Weight decay makes
 * the optimum balanced (W_e = W_d^T up to a rotation) and gets there fast;
 * without it the encoder's part outside the subspace decays only at the
 * rate of the data's smallest variances. At initialisation the spans are
 * far apart (largest sine 0.94); trained 3000 Adam steps on 1000 images
 * of 4x4, 0.004. */
Test(tangents, trained_linear_ae_directions_span_the_decoder_columns) {
  ae_tensor *x = zt_downsample(zt_fashion(0, 1000), 1000, 4);
  ae_model *m = zt_make("linear-ae", "code=3 weight_decay=0.01", AE_SHAPE(1, 4, 4), 7);
  const ae_param *wd = ae_model_find_param(m, "decoder.weight"); /* (16, 3) */
  double cols[3 * 16], dirs[3 * 16], s[16];
  int64_t r;
  for (int c = 0; c < 3; c++)
    for (int j = 0; j < 16; j++) cols[c * 16 + j] = wd->value.data[j * 3 + c];
  cr_assert_eq(ae_tangent_directions(m, x->data, 3, s, &r, dirs), 0, "%s", ae_last_error());
  double before = max_sine(dirs, cols, 3, 16);
  cr_assert_eq(zt_train(m, x, 3000, 100, AE_OPT_ADAM, 1e-2, 5, NULL), 0);
  for (int c = 0; c < 3; c++)
    for (int j = 0; j < 16; j++) cols[c * 16 + j] = wd->value.data[j * 3 + c];
  cr_assert_eq(ae_tangent_directions(m, x->data, 3, s, &r, dirs), 0, "%s", ae_last_error());
  double after = max_sine(dirs, cols, 3, 16);
  cr_log_info("largest sine between the tangent span and the decoder's span: %.3g at init, %.3g trained", before,
              after);
  cr_expect_gt(before, 0.3, "at initialisation the spans differ");
  cr_expect_lt(after, 0.02, "trained: the tangent directions span the decoder's columns (sine %g)", after);
  ae_model_free(m);
  ae_tensor_free(x);
}
