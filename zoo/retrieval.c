/* retrieval.c: binary codes, Hamming and Euclidean ranking, precision@k
 * and mean average precision, PCA hashing (retrieval.h). */
#include "retrieval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parallel.h"
#include "linalg.h"
#include "nearest.h"

static int oom(const char *what) {
  ae_set_last_error("%s: out of memory", what);
  return -1;
}

int ae_bits_from(const double *x, int64_t n, int64_t k, int bits, const int64_t *unit, const double *threshold,
                 ae_bits *out) {
  memset(out, 0, sizeof *out);
  if (bits < 1 || bits > k) {
    ae_set_last_error("binary codes: %d bits asked of codes of %lld units", bits, (long long)k);
    return -1;
  }
  out->n = n, out->bits = bits, out->words = (bits + 63) / 64;
  if (!(out->w = calloc((size_t)(n * out->words), sizeof(uint64_t)))) return oom("binary codes");
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < bits; j++)
      if (x[i * k + (unit ? unit[j] : j)] > threshold[j]) out->w[i * out->words + j / 64] |= (uint64_t)1 << (j % 64);
  return 0;
}

void ae_bits_free(ae_bits *b) {
  free(b->w);
  memset(b, 0, sizeof *b);
}

int ae_hamming(const ae_bits *a, int64_t i, const ae_bits *b, int64_t j) {
  int d = 0;
  for (int w = 0; w < a->words; w++) d += __builtin_popcountll(a->w[i * a->words + w] ^ b->w[j * b->words + w]);
  return d;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int ae_column_medians(const double *x, int64_t n, int64_t k, double *median) {
  double *col = malloc(sizeof(double) * (size_t)n);
  if (!col || n < 1) {
    free(col);
    return oom("medians");
  }
  for (int64_t j = 0; j < k; j++) {
    for (int64_t i = 0; i < n; i++) col[i] = x[i * k + j];
    qsort(col, (size_t)n, sizeof *col, cmp_double);
    median[j] = n % 2 ? col[n / 2] : 0.5 * (col[n / 2 - 1] + col[n / 2]);
  }
  free(col);
  return 0;
}

typedef struct var_unit {
  double var;
  int64_t unit;
} var_unit;

static int by_var_desc(const void *a, const void *b) {
  const var_unit *x = a, *y = b;
  if (x->var != y->var) return x->var > y->var ? -1 : 1;
  return x->unit < y->unit ? -1 : x->unit > y->unit;
}

int ae_top_variance_units(const double *x, int64_t n, int64_t k, int bits, int64_t *unit) {
  if (bits < 1 || bits > k) {
    ae_set_last_error("%d bits asked of codes of %lld units", bits, (long long)k);
    return -1;
  }
  var_unit *v = calloc((size_t)k, sizeof *v);
  double *mean = calloc((size_t)k, sizeof *mean);
  if (!v || !mean) {
    free(v);
    free(mean);
    return oom("unit variances");
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) mean[j] += x[i * k + j] / (double)n;
  for (int64_t j = 0; j < k; j++) v[j].unit = j;
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < k; j++) v[j].var += (x[i * k + j] - mean[j]) * (x[i * k + j] - mean[j]);
  qsort(v, (size_t)k, sizeof *v, by_var_desc);
  for (int j = 0; j < bits; j++) unit[j] = v[j].unit;
  free(v);
  free(mean);
  return 0;
}

int ae_pca(const double *x, int64_t n, int64_t d, int b, double *mean, double *dirs, double *var) {
  if (b < 1 || b > d) {
    ae_set_last_error("PCA: %d directions asked of %lld-dimensional data", b, (long long)d);
    return -1;
  }
  double *cov = malloc(sizeof(double) * (size_t)(d * d)), *w = malloc(sizeof(double) * (size_t)d);
  double *v = malloc(sizeof(double) * (size_t)(d * d));
  int rc = -1;
  if (!cov || !w || !v) {
    oom("PCA");
    goto done;
  }
  if (ae_linalg_covariance(n, d, x, mean, cov) || ae_linalg_eigh(d, cov, w, v)) goto done;
  memcpy(dirs, v, sizeof(double) * (size_t)(b * d));
  memcpy(var, w, sizeof(double) * (size_t)b);
  rc = 0;
done:
  free(cov);
  free(w);
  free(v);
  return rc;
}

void ae_retrieval_score_ranking(const int64_t *order, int64_t n, const int32_t *db_lab, int32_t ql,
                                double *precision_sum, double *ap_sum, const int64_t *ks, int nk) {
  int64_t hits = 0;
  double ap = 0;
  for (int64_t r = 0; r < n; r++) {
    if (db_lab[order[r]] == ql) {
      hits++;
      ap += (double)hits / (double)(r + 1);
    }
    for (int i = 0; i < nk; i++)
      if (r + 1 == ks[i]) precision_sum[i] += (double)hits / (double)ks[i];
  }
  if (hits) *ap_sum += ap / (double)hits;
}

static int check_score(const ae_retrieval_score *s, int64_t n) {
  if (s->nk < 0 || s->nk > AE_RETRIEVAL_MAX_K) {
    ae_set_last_error("retrieval: %d precision cut-offs (at most %d)", s->nk, AE_RETRIEVAL_MAX_K);
    return -1;
  }
  for (int i = 0; i < s->nk; i++)
    if (s->k[i] < 1 || s->k[i] > n) {
      ae_set_last_error("retrieval: precision@%lld asked of a database of %lld", (long long)s->k[i],
                        (long long)n);
      return -1;
    }
  return 0;
}

static void finish(ae_retrieval_score *s, const double *psum, double apsum, int64_t nq) {
  for (int i = 0; i < s->nk; i++) s->precision[i] = psum[i] / (double)nq;
  s->map = apsum / (double)nq;
}

int ae_retrieve_hamming(const ae_bits *db, const int32_t *db_lab, const ae_bits *q, const int32_t *q_lab,
                        ae_retrieval_score *s, int64_t *top, int ntop) {
  int64_t n = db->n;
  if (check_score(s, n)) return -1;
  if (db->bits != q->bits) {
    ae_set_last_error("retrieval: database codes of %d bits, queries of %d", db->bits, q->bits);
    return -1;
  }
  int nb = db->bits + 1;
  int *dist = malloc(sizeof(int) * (size_t)n);
  int64_t *start = malloc(sizeof(int64_t) * (size_t)(nb + 1)), *order = malloc(sizeof(int64_t) * (size_t)n);
  if (!dist || !start || !order) {
    free(dist);
    free(start);
    free(order);
    return oom("retrieval");
  }
  double psum[AE_RETRIEVAL_MAX_K] = {0}, apsum = 0;
  for (int64_t qi = 0; qi < q->n; qi++) {
    memset(start, 0, sizeof(int64_t) * (size_t)(nb + 1));
    for (int64_t i = 0; i < n; i++) start[(dist[i] = ae_hamming(q, qi, db, i)) + 1]++;
    for (int b = 0; b < nb; b++) start[b + 1] += start[b];
    for (int64_t i = 0; i < n; i++) order[start[dist[i]]++] = i; /* counting sort: stable, ties by index */
    ae_retrieval_score_ranking(order, n, db_lab, q_lab[qi], psum, &apsum, s->k, s->nk);
    if (top)
      for (int t = 0; t < ntop; t++) top[qi * ntop + t] = t < n ? order[t] : -1;
  }
  finish(s, psum, apsum, q->n);
  free(dist);
  free(start);
  free(order);
  return 0;
}

int ae_retrieve_euclidean(const double *db, int64_t n, const int32_t *db_lab, const double *q, int64_t nq,
                          const int32_t *q_lab, int64_t d, ae_retrieval_score *s, int64_t *top, int ntop) {
  if (check_score(s, n)) return -1;
  /* per-query scores, summed in query order afterwards: the same result
   * whatever the thread count */
  double *pq = calloc((size_t)(nq * (s->nk ? s->nk : 1)), sizeof(double)), *apq = calloc((size_t)nq, sizeof(double));
  int failed = 0;
  if (!pq || !apq) {
    free(pq);
    free(apq);
    return oom("retrieval");
  }
#pragma omp parallel if (AE_PAR_WORK(nq * n * d) && nq > 1)
  {
    dist_idx *di = malloc(sizeof *di * (size_t)n);
    int64_t *order = malloc(sizeof(int64_t) * (size_t)n);
    if (!di || !order) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 4)
    for (int64_t qi = 0; qi < nq; qi++) {
      if (!di || !order) continue;
      const double *qr = q + qi * d;
      for (int64_t i = 0; i < n; i++) {
        const double *r = db + i * d;
        double acc = 0;
        for (int64_t j = 0; j < d; j++) acc += (r[j] - qr[j]) * (r[j] - qr[j]);
        di[i].dist = acc, di[i].idx = i;
      }
      ae_zoo_sort_by_dist(di, n);
      for (int64_t i = 0; i < n; i++) order[i] = di[i].idx;
      ae_retrieval_score_ranking(order, n, db_lab, q_lab[qi], pq + qi * s->nk, apq + qi, s->k, s->nk);
      if (top)
        for (int t = 0; t < ntop; t++) top[qi * ntop + t] = t < n ? order[t] : -1;
    }
    free(di);
    free(order);
  }
  if (failed) {
    free(pq);
    free(apq);
    return oom("retrieval");
  }
  double psum[AE_RETRIEVAL_MAX_K] = {0}, apsum = 0;
  for (int64_t qi = 0; qi < nq; qi++) {
    for (int i = 0; i < s->nk; i++) psum[i] += pq[qi * s->nk + i];
    apsum += apq[qi];
  }
  finish(s, psum, apsum, nq);
  free(pq);
  free(apq);
  return 0;
}
