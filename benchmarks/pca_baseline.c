/* pca_baseline.c: the PCA baseline for the reference-results table. PCA of
 * the full Fashion-MNIST training set (centred; covariance C = Xc^T Xc / N in
 * double via ae_gemm of the float64 library), the top-k eigenvectors of the
 * 784x784 C by subspace iteration with Rayleigh-Ritz (the small projected
 * problem solved by cyclic Jacobi), then the per-pixel MSE of projecting the
 * test set onto the top-k subspace: x_hat = mean + P P^T (x - mean).
 *
 * Checks printed on the way (each an independent computation):
 *  - cyclic Jacobi on a small random symmetric matrix: max ||A v - l v||,
 *    max |V^T V - I|, |sum l - trace A|;
 *  - the k Ritz pairs of the 784x784 C: max ||C v - l v|| / l_1 and
 *    max |P^T P - I|;
 *  - the training-set per-pixel MSE of the projection (computed by
 *    projecting every training image) against the identity
 *    (trace C - sum of the top-k eigenvalues) / 784.
 * Usage: pca_baseline [k] [--data SPEC] (default k 30, data fashion-mnist).
 * Output ends with a line "pca k=K test_mse_pixel=... train_mse_pixel=..."
 * that benchmarks/reference_results.sh parses. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aezoo.h"
#include "io/dataset.h"
#include "base/gemm.h"

#if !defined(AE_REAL_DOUBLE)
#error "pca_baseline links the float64 library (aezoo64_dep)"
#endif

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Cyclic Jacobi on the symmetric n x n A (row-major, destroyed): the
 * eigenvalues in w and the eigenvectors as the columns of V, both sorted by
 * decreasing eigenvalue. Returns the number of sweeps, or -1 without
 * convergence. */
static int jacobi_eig(int n, double *A, double *w, double *V) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) V[i * n + j] = i == j;
  int sweep;
  for (sweep = 1; sweep <= 100; sweep++) {
    double off = 0, diag = 0;
    for (int i = 0; i < n; i++) {
      diag += A[i * n + i] * A[i * n + i];
      for (int j = i + 1; j < n; j++) off += A[i * n + j] * A[i * n + j];
    }
    if (off <= 1e-30 * diag || off == 0) break;
    for (int p = 0; p < n - 1; p++)
      for (int q = p + 1; q < n; q++) {
        double apq = A[p * n + q];
        if (fabs(apq) < 1e-300) continue;
        double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < n; k++) { /* columns p, q */
          double akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) { /* rows p, q */
          double apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; k++) {
          double vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  if (sweep > 100) return -1;
  for (int i = 0; i < n; i++) w[i] = A[i * n + i];
  for (int i = 0; i < n; i++) { /* selection sort, decreasing */
    int m = i;
    for (int j = i + 1; j < n; j++)
      if (w[j] > w[m]) m = j;
    if (m == i) continue;
    double t = w[i];
    w[i] = w[m], w[m] = t;
    for (int r = 0; r < n; r++) t = V[r * n + i], V[r * n + i] = V[r * n + m], V[r * n + m] = t;
  }
  return sweep;
}

/* max over columns of ||A v_j - w_j v_j|| (A n x n, V n x m column-major in
 * the sense V[r * ldv + j]), and max |V^T V - I|. */
static void residuals(int n, int m, const double *A, const double *w, const double *V, int ldv, double *res,
                      double *orth) {
  *res = 0, *orth = 0;
  for (int j = 0; j < m; j++) {
    double r2 = 0;
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int k = 0; k < n; k++) s += A[i * n + k] * V[k * ldv + j];
      s -= w[j] * V[i * ldv + j];
      r2 += s * s;
    }
    if (sqrt(r2) > *res) *res = sqrt(r2);
    for (int l = 0; l < m; l++) {
      double d = 0;
      for (int i = 0; i < n; i++) d += V[i * ldv + j] * V[i * ldv + l];
      d -= j == l;
      if (fabs(d) > *orth) *orth = fabs(d);
    }
  }
}

static int check_jacobi_small(void) {
  enum { N = 12 };
  double A[N * N], A0[N * N], w[N], V[N * N];
  uint64_t s = 12345;
  for (int i = 0; i < N; i++)
    for (int j = 0; j <= i; j++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      A0[i * N + j] = A0[j * N + i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
    }
  memcpy(A, A0, sizeof A);
  int sweeps = jacobi_eig(N, A, w, V);
  double res, orth, tr = 0, sw = 0;
  residuals(N, N, A0, w, V, N, &res, &orth);
  for (int i = 0; i < N; i++) tr += A0[i * N + i], sw += w[i];
  printf("check jacobi %dx%d random symmetric: sweeps=%d max||Av-lv||=%.2e max|V^TV-I|=%.2e |sum l - tr|=%.2e\n", N, N,
         sweeps, res, orth, fabs(sw - tr));
  return sweeps > 0 && res < 1e-10 && orth < 1e-12 && fabs(sw - tr) < 1e-12 ? 0 : -1;
}

/* Modified Gram-Schmidt on the m columns of Q (n x m, row-major, ld m). */
static void orthonormalize(int n, int m, double *Q) {
  for (int j = 0; j < m; j++) {
    for (int pass = 0; pass < 2; pass++)
      for (int l = 0; l < j; l++) {
        double d = 0;
        for (int i = 0; i < n; i++) d += Q[i * m + l] * Q[i * m + j];
        for (int i = 0; i < n; i++) Q[i * m + j] -= d * Q[i * m + l];
      }
    double nr = 0;
    for (int i = 0; i < n; i++) nr += Q[i * m + j] * Q[i * m + j];
    nr = sqrt(nr);
    for (int i = 0; i < n; i++) Q[i * m + j] /= nr;
  }
}

/* Top-k eigenpairs of the symmetric n x n C by subspace iteration on m > k
 * vectors with Rayleigh-Ritz. P (n x k, ld k) gets the eigenvectors, w the
 * eigenvalues, decreasing. Returns iterations or -1. */
static int subspace_topk(int n, int k, const double *C, double *w, double *P) {
  int m = k + 20 < n ? k + 20 : n;
  double *Q = malloc(sizeof(double) * n * m), *Y = malloc(sizeof(double) * n * m);
  double *H = malloc(sizeof(double) * m * m), *S = malloc(sizeof(double) * m * m), *wm = malloc(sizeof(double) * m);
  uint64_t s = 777;
  for (int i = 0; i < n * m; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    Q[i] = (double)(s >> 11) / 9007199254740992.0 - 0.5;
  }
  orthonormalize(n, m, Q);
  int it, done = 0;
  for (it = 1; it <= 2000 && !done; it++) {
    ae_gemm(0, 0, n, m, n, 1, C, n, Q, m, 0, Y, m);  /* Y = C Q */
    ae_gemm(1, 0, m, m, n, 1, Q, m, Y, m, 0, H, m);  /* H = Q^T C Q */
    for (int i = 0; i < m; i++)                        /* symmetrize rounding */
      for (int j = 0; j < i; j++) H[i * m + j] = H[j * m + i] = 0.5 * (H[i * m + j] + H[j * m + i]);
    if (jacobi_eig(m, H, wm, S) < 0) break;
    /* Ritz vectors Q S and their images Y S; residual of the top k */
    double *QS = malloc(sizeof(double) * n * m), *YS = malloc(sizeof(double) * n * m);
    ae_gemm(0, 0, n, m, m, 1, Q, m, S, m, 0, QS, m);
    ae_gemm(0, 0, n, m, m, 1, Y, m, S, m, 0, YS, m);
    double worst = 0;
    for (int j = 0; j < k; j++) {
      double r2 = 0;
      for (int i = 0; i < n; i++) {
        double d = YS[i * m + j] - wm[j] * QS[i * m + j];
        r2 += d * d;
      }
      if (sqrt(r2) > worst) worst = sqrt(r2);
    }
    if (worst <= 1e-10 * wm[0]) {
      for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++) P[i * k + j] = QS[i * m + j];
      for (int j = 0; j < k; j++) w[j] = wm[j];
      done = 1;
    } else { /* next block: the images of the Ritz vectors, orthonormalized */
      memcpy(Q, YS, sizeof(double) * n * m);
      orthonormalize(n, m, Q);
    }
    free(QS), free(YS);
  }
  free(Q), free(Y), free(H), free(S), free(wm);
  return done ? it - 1 : -1;
}

/* Per-pixel MSE of x_hat = mean + P P^T (x - mean) over the rows of X. */
static double projection_mse(const ae_tensor *X, int n, int k, const double *mean, const double *P) {
  int64_t N = X->shape.d[0];
  enum { B = 1000 };
  double *Xc = malloc(sizeof(double) * B * n), *Z = malloc(sizeof(double) * B * k),
         *R = malloc(sizeof(double) * B * n);
  double se = 0;
  for (int64_t r0 = 0; r0 < N; r0 += B) {
    int64_t b = N - r0 < B ? N - r0 : B;
    for (int64_t r = 0; r < b; r++)
      for (int i = 0; i < n; i++) Xc[r * n + i] = X->data[(r0 + r) * n + i] - mean[i];
    ae_gemm(0, 0, b, k, n, 1, Xc, n, P, k, 0, Z, k); /* codes Z = Xc P */
    ae_gemm(0, 1, b, n, k, 1, Z, k, P, k, 0, R, n);  /* R = Z P^T */
    for (int64_t r = 0; r < b; r++)
      for (int i = 0; i < n; i++) {
        double d = R[r * n + i] - Xc[r * n + i]; /* x_hat - x = R - Xc */
        se += d * d;
      }
  }
  free(Xc), free(Z), free(R);
  return se / ((double)N * n);
}

int main(int argc, char **argv) {
  int k = 30;
  const char *spec = "fashion-mnist";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc)
      spec = argv[++i];
    else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      printf("usage: pca_baseline [k] [--data SPEC]   (k default 30)\n");
      return 0;
    } else {
      char *end;
      long v = strtol(argv[i], &end, 10);
      if (*end || v < 1) {
        fprintf(stderr, "pca_baseline: bad argument '%s' (want a code size k >= 1 or --data SPEC)\n", argv[i]);
        return 2;
      }
      k = (int)v;
    }
  }
  if (check_jacobi_small() != 0) {
    fprintf(stderr, "pca_baseline: the Jacobi self-check failed\n");
    return 1;
  }
  ae_dataset tr, te;
  double t0 = now();
  if (ae_dataset_load(spec, 0, 0, 1, &tr) || ae_dataset_load(spec, 1, 0, 1, &te)) {
    fprintf(stderr, "pca_baseline: %s\n", ae_last_error());
    return 1;
  }
  int64_t N = tr.x->shape.d[0];
  int n = (int)(tr.x->numel / N);
  if (k > n) {
    fprintf(stderr, "pca_baseline: k=%d is larger than the dimension %d\n", k, n);
    return 2;
  }
  double *mean = calloc(n, sizeof(double)), *C = malloc(sizeof(double) * n * n);
  for (int64_t r = 0; r < N; r++)
    for (int i = 0; i < n; i++) mean[i] += tr.x->data[r * n + i];
  for (int i = 0; i < n; i++) mean[i] /= (double)N;
  /* C = sum over chunks of Xc^T Xc, then / N */
  enum { B = 2000 };
  double *Xc = malloc(sizeof(double) * B * n);
  for (int64_t r0 = 0; r0 < N; r0 += B) {
    int64_t b = N - r0 < B ? N - r0 : B;
    for (int64_t r = 0; r < b; r++)
      for (int i = 0; i < n; i++) Xc[r * n + i] = tr.x->data[(r0 + r) * n + i] - mean[i];
    ae_gemm(1, 0, n, n, b, 1.0 / (double)N, Xc, n, Xc, n, r0 ? 1.0 : 0.0, C, n);
  }
  free(Xc);
  for (int i = 0; i < n; i++) /* exact symmetry */
    for (int j = 0; j < i; j++) C[i * n + j] = C[j * n + i] = 0.5 * (C[i * n + j] + C[j * n + i]);
  double trace = 0;
  for (int i = 0; i < n; i++) trace += C[i * n + i];
  double t1 = now();
  printf("data %s: train %lld x %d, test %lld; covariance in %.1f s\n", spec, (long long)N, n,
         (long long)te.x->shape.d[0], t1 - t0);

  double *w = malloc(sizeof(double) * k), *P = malloc(sizeof(double) * n * k);
  int iters = subspace_topk(n, k, C, w, P);
  if (iters < 0) {
    fprintf(stderr, "pca_baseline: subspace iteration did not converge\n");
    return 1;
  }
  double res, orth;
  residuals(n, k, C, w, P, k, &res, &orth);
  double top = 0;
  for (int j = 0; j < k; j++) top += w[j];
  printf("subspace iteration (k=%d, block %d): %d iterations, %.1f s; l_1=%.4f l_k=%.5f\n", k,
         k + 20 < n ? k + 20 : n, iters, now() - t1, w[0], w[k - 1]);
  printf("check eigenpairs: max||Cv-lv||/l_1=%.2e max|P^TP-I|=%.2e\n", res / w[0], orth);
  double train_mse = projection_mse(tr.x, n, k, mean, P);
  double train_pred = (trace - top) / n;
  printf("check train per-pixel MSE: projected %.8f vs (trace C - sum top-k l)/%d %.8f (rel diff %.1e)\n",
         train_mse, n, train_pred, fabs(train_mse - train_pred) / train_pred);
  double test_mse = projection_mse(te.x, n, k, mean, P);
  int ok = res / w[0] < 1e-8 && orth < 1e-10 && fabs(train_mse - train_pred) / train_pred < 1e-8;
  printf("pca k=%d test_mse_pixel=%.6f train_mse_pixel=%.6f checks=%s\n", k, test_mse, train_mse,
         ok ? "pass" : "FAIL");
  free(mean), free(C), free(w), free(P);
  ae_dataset_free(&tr), ae_dataset_free(&te);
  return ok ? 0 : 1;
}
