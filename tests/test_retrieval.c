/* test_retrieval.c: semantic-hashing retrieval and its baselines
 * (zoo/retrieval.h), in float64:
 *   - precision@k and average precision of a hand-made ranking equal the
 *     values worked out by hand; Hamming distances equal bit counts done
 *     here bit by bit; ties rank by database index;
 *   - PCA: the directions are orthonormal, each is an eigenvector of the
 *     covariance computed here in plain loops (||C v - var v|| small), the
 *     variances descend, and no direction orthogonal to them has a larger
 *     Rayleigh quotient than the last variance (so they are the top ones);
 *   - on 2000 Fashion-MNIST training images as the database and 200 test
 *     images as queries, PCA + sign at 16 bits and raw pixels by Euclidean
 *     distance retrieve the query's class far above chance (0.1 for 10
 *     balanced classes): precision@10 > 0.4 and mAP > 0.2. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo/retrieval.h"
#include "zoo_test_util.h"

_Static_assert(sizeof(ae_real) == sizeof(double), "exact comparisons need libaezoo64");

Test(retrieval, scores_of_a_hand_made_ranking) {
  /* labels along the ranking: 1 0 1 1 0; query label 1: hits at ranks 1, 3, 4 */
  int32_t lab[5] = {1, 0, 1, 1, 0};
  int64_t order[5] = {0, 1, 2, 3, 4}, ks[2] = {1, 4};
  double p[2] = {0}, ap = 0;
  ae_retrieval_score_ranking(order, 5, lab, 1, p, &ap, ks, 2);
  cr_expect_float_eq(p[0], 1.0, 1e-15);
  cr_expect_float_eq(p[1], 0.75, 1e-15);
  cr_expect_float_eq(ap, (1.0 / 1 + 2.0 / 3 + 3.0 / 4) / 3, 1e-15);
}

Test(retrieval, hamming_distances_and_ties) {
  /* 3 database codes of 70 bits (two words), 1 query */
  double x[4 * 70], thr[70];
  for (int j = 0; j < 70; j++) thr[j] = 0.5;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 70; j++) x[i * 70 + j] = ((i * 7 + j * 3) % 5) < 2;
  ae_bits db, q;
  cr_assert_eq(ae_bits_from(x, 3, 70, 70, NULL, thr, &db), 0, "%s", ae_last_error());
  cr_assert_eq(ae_bits_from(x + 3 * 70, 1, 70, 70, NULL, thr, &q), 0, "%s", ae_last_error());
  cr_assert_eq(db.words, 2);
  for (int i = 0; i < 3; i++) {
    int want = 0;
    for (int j = 0; j < 70; j++) want += (x[i * 70 + j] > 0.5) != (x[3 * 70 + j] > 0.5);
    cr_expect_eq(ae_hamming(&q, 0, &db, i), want);
  }
  /* a query equal to every database code: all distances 0, ranked by index */
  int32_t dl[3] = {2, 1, 2}, ql[1] = {2};
  ae_bits same;
  double zeros[3 * 70] = {0};
  cr_assert_eq(ae_bits_from(zeros, 3, 70, 70, NULL, thr, &same), 0);
  ae_bits q0;
  cr_assert_eq(ae_bits_from(zeros, 1, 70, 70, NULL, thr, &q0), 0);
  ae_retrieval_score s = {.nk = 1, .k = {2}};
  int64_t top[3];
  cr_assert_eq(ae_retrieve_hamming(&same, dl, &q0, ql, &s, top, 3), 0, "%s", ae_last_error());
  cr_expect(top[0] == 0 && top[1] == 1 && top[2] == 2);
  cr_expect_float_eq(s.precision[0], 0.5, 1e-15);
  cr_expect_float_eq(s.map, (1.0 + 2.0 / 3) / 2, 1e-15);
  ae_bits_free(&db);
  ae_bits_free(&q);
  ae_bits_free(&same);
  ae_bits_free(&q0);
}

/* Fashion-MNIST rows as doubles */
static double *as_double(const ae_tensor *x, int64_t n) {
  double *d = malloc(sizeof(double) * (size_t)(n * 784));
  for (int64_t i = 0; i < n * 784; i++) d[i] = x->data[i];
  return d;
}

Test(retrieval, pca_directions_are_the_top_eigenvectors_of_the_covariance) {
  int64_t n = 400, d = 784;
  int b = 8;
  double *x = as_double(zt_fashion(0, n), n);
  double *mean = malloc(sizeof(double) * (size_t)d), *dirs = malloc(sizeof(double) * (size_t)(b * d)), var[8];
  cr_assert_eq(ae_pca(x, n, d, b, mean, dirs, var), 0, "%s", ae_last_error());
  double *cov = calloc((size_t)(d * d), sizeof(double)), *c = malloc(sizeof(double) * (size_t)d);
  for (int64_t j = 0; j < d; j++) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i * d + j];
    cr_expect_float_eq(mean[j], s / (double)n, 1e-12);
  }
  for (int64_t i = 0; i < n; i++) {
    for (int64_t j = 0; j < d; j++) c[j] = x[i * d + j] - mean[j];
    for (int64_t j = 0; j < d; j++)
      for (int64_t l = 0; l < d; l++) cov[j * d + l] += c[j] * c[l] / (double)(n - 1);
  }
  double cv[784];
  for (int p = 0; p < b; p++) {
    for (int q = 0; q < b; q++) {
      double dot = 0;
      for (int64_t j = 0; j < d; j++) dot += dirs[p * d + j] * dirs[q * d + j];
      cr_expect_float_eq(dot, p == q, 1e-10);
    }
    double res = 0;
    for (int64_t j = 0; j < d; j++) {
      cv[j] = 0;
      for (int64_t l = 0; l < d; l++) cv[j] += cov[j * d + l] * dirs[p * d + l];
      res += pow(cv[j] - var[p] * dirs[p * d + j], 2);
    }
    cr_expect_leq(sqrt(res), 1e-9 * var[0], "direction %d: ||C v - var v|| = %g", p, sqrt(res));
    if (p) cr_expect_geq(var[p - 1], var[p]);
  }
  /* random directions with the top b projected out: Rayleigh quotient <= var[b-1] */
  ae_rng r;
  ae_rng_init(&r, 4);
  ae_real u[784];
  double v[784];
  for (int trial = 0; trial < 20; trial++) {
    ae_rng_normal(&r, u, d, 0, 1);
    for (int64_t j = 0; j < d; j++) v[j] = u[j];
    for (int p = 0; p < b; p++) {
      double dot = 0;
      for (int64_t j = 0; j < d; j++) dot += v[j] * dirs[p * d + j];
      for (int64_t j = 0; j < d; j++) v[j] -= dot * dirs[p * d + j];
    }
    double num = 0, den = 0;
    for (int64_t j = 0; j < d; j++) {
      double a = 0;
      for (int64_t l = 0; l < d; l++) a += cov[j * d + l] * v[l];
      num += v[j] * a, den += v[j] * v[j];
    }
    cr_expect_leq(num / den, var[b - 1] * (1 + 1e-9));
  }
  free(x);
  free(mean);
  free(dirs);
  free(cov);
  free(c);
}

Test(retrieval, pca_sign_and_pixels_retrieve_far_above_chance) {
  int64_t n = 2000, nq = 200, d = 784;
  int b = 16;
  ae_dataset tr, te;
  cr_assert_eq(ae_dataset_load("fashion-mnist", 0, n, 0, &tr), 0, "%s", ae_last_error());
  cr_assert_eq(ae_dataset_load("fashion-mnist", 1, nq, 0, &te), 0, "%s", ae_last_error());
  double *x = as_double(tr.x, n), *q = as_double(te.x, nq);
  double *mean = malloc(sizeof(double) * (size_t)d), *dirs = malloc(sizeof(double) * (size_t)(b * d)), var[16];
  cr_assert_eq(ae_pca(x, n, d, b, mean, dirs, var), 0, "%s", ae_last_error());
  double *px = malloc(sizeof(double) * (size_t)(n * b)), *pq = malloc(sizeof(double) * (size_t)(nq * b));
  for (int64_t i = 0; i < n + nq; i++) {
    const double *row = i < n ? x + i * d : q + (i - n) * d;
    double *o = i < n ? px + i * b : pq + (i - n) * b;
    for (int p = 0; p < b; p++) {
      o[p] = 0;
      for (int64_t j = 0; j < d; j++) o[p] += (row[j] - mean[j]) * dirs[p * d + j];
    }
  }
  double zero[16] = {0};
  ae_bits db, qb;
  cr_assert_eq(ae_bits_from(px, n, b, b, NULL, zero, &db), 0);
  cr_assert_eq(ae_bits_from(pq, nq, b, b, NULL, zero, &qb), 0);
  ae_retrieval_score hs = {.nk = 2, .k = {10, 100}}, es = hs;
  cr_assert_eq(ae_retrieve_hamming(&db, tr.labels, &qb, te.labels, &hs, NULL, 0), 0, "%s", ae_last_error());
  cr_assert_eq(ae_retrieve_euclidean(x, n, tr.labels, q, nq, te.labels, d, &es, NULL, 0), 0, "%s",
               ae_last_error());
  cr_log_info("PCA+sign 16 bits: P@10 %.3f P@100 %.3f mAP %.3f; pixels: P@10 %.3f P@100 %.3f mAP %.3f",
              hs.precision[0], hs.precision[1], hs.map, es.precision[0], es.precision[1], es.map);
  cr_expect_gt(hs.precision[0], 0.4);
  cr_expect_gt(hs.map, 0.2);
  cr_expect_gt(es.precision[0], 0.4);
  cr_expect_gt(es.map, 0.2);
  ae_bits_free(&db);
  ae_bits_free(&qb);
  free(x), free(q), free(mean), free(dirs), free(px), free(pq);
  ae_dataset_free(&tr);
  ae_dataset_free(&te);
}
