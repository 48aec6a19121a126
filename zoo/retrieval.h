/* retrieval.h: semantic hashing (Salakhutdinov and Hinton 2009, "Semantic
 * hashing") and its baselines, as used by `aezoo retrieve`: codes made
 * binary (one bit per unit, by a threshold per unit), queries ranked
 * against a database by Hamming distance (or, for real vectors, by
 * Euclidean distance), and the rankings scored by label: precision@k (the
 * fraction of the first k results with the query's label) and average
 * precision over the whole ranking (mean over queries: mAP). Ties in
 * distance are ranked by database index, so every score is deterministic.
 * The PCA + sign baseline (PCA hashing) projects centred data on the top B
 * principal directions and keeps the signs. Functions returning int give
 * 0, or -1 with a message in ae_last_error(). */
#ifndef AE_RETRIEVAL_H
#define AE_RETRIEVAL_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "base/tensor.h"

/* n binary codes of `bits` bits, packed in words of 64 (bit j of code i is
 * bit j % 64 of w[i * words + j / 64]). */
typedef struct ae_bits {
  int64_t n;
  int bits, words;
  uint64_t *w;
} ae_bits;

/* bit j of row i = x[i*k + unit[j]] > threshold[j], for j < bits, with x
 * (n x k) in double; unit NULL means units 0..bits-1. */
AE_API int ae_bits_from(const double *x, int64_t n, int64_t k, int bits, const int64_t *unit, const double *threshold,
                 ae_bits *out);
AE_API void ae_bits_free(ae_bits *b);
AE_API int ae_hamming(const ae_bits *a, int64_t i, const ae_bits *b, int64_t j);

/* Per-unit medians of the columns of x (n x k): the threshold that splits
 * the database in halves, so every bit carries the most information. */
AE_API int ae_column_medians(const double *x, int64_t n, int64_t k, double *median);

/* The `bits` units of x (n x k) with the largest variance, in descending
 * order of variance, into unit. */
AE_API int ae_top_variance_units(const double *x, int64_t n, int64_t k, int bits, int64_t *unit);

/* PCA of the rows of x (n x d): mean (d), the top b principal directions
 * (rows of dirs, b x d, unit norm) and their variances var (b, descending):
 * eigenvectors of the covariance (divided by n - 1), by LAPACK. */
AE_API int ae_pca(const double *x, int64_t n, int64_t d, int b, double *mean, double *dirs, double *var);

/* Scores of a set of rankings. */
#define AE_RETRIEVAL_MAX_K 4
typedef struct ae_retrieval_score {
  int nk;
  int64_t k[AE_RETRIEVAL_MAX_K];
  double precision[AE_RETRIEVAL_MAX_K]; /* mean over queries of precision@k[i] */
  double map;                           /* mean average precision */
} ae_retrieval_score;

/* Ranks the database db (n codes, labels db_lab) for each query q (labels
 * q_lab) by Hamming distance and scores it at s->k[0..s->nk) (set by the
 * caller). top (nq x ntop, may be NULL) gets each query's first ntop
 * database indices. */
AE_API int ae_retrieve_hamming(const ae_bits *db, const int32_t *db_lab, const ae_bits *q, const int32_t *q_lab,
                        ae_retrieval_score *s, int64_t *top, int ntop);
/* The same by Euclidean distance between rows of db (n x d) and q (nq x d). */
AE_API int ae_retrieve_euclidean(const double *db, int64_t n, const int32_t *db_lab, const double *q, int64_t nq,
                          const int32_t *q_lab, int64_t d, ae_retrieval_score *s, int64_t *top, int ntop);
/* Scores one ranking (order: database indices, best first, n of them) of
 * a query with label ql: adds precision@k and the average precision into
 * s's sums (the callers divide by the query count). */
AE_API void ae_retrieval_score_ranking(const int64_t *order, int64_t n, const int32_t *db_lab, int32_t ql,
                                double *precision_sum, double *ap_sum, const int64_t *ks, int nk);

#endif
