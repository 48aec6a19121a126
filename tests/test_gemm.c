/* test_gemm.c: the GEMM micro-kernel on its own, then ae_gemm, against naive
 * triple loops summed in double, for every compiled backend; built twice
 * (gemm-f32, gemm-f64).
 *
 * Tolerance: each element's error is measured relative to
 * scale = |alpha| sum_p |a_ip||b_pj| + |beta c_ij|, the quantity rounding
 * errors are proportional to. The worst-case bound is about K * eps, but the
 * rounding errors of a long sum behave like a random walk (about
 * sqrt(K) * eps: 3e-6 in float at K = 784), so 1e-5 (float) and 1e-12
 * (double) leave a margin while any lost or doubled term (an error of order
 * 1/K relative, >= 1e-3 here) fails by orders of magnitude. Padding of the
 * stored matrices is filled with NaN, so a read outside op(A) / op(B) shows. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "aezoo.h"
#include "base/gemm.h"
#include "base/gemm_ukernel.h"
#include "tests/gemm_reference.h"

#ifdef AE_REAL_DOUBLE
#define TOL 1e-12
#else
#define TOL 1e-5
#endif

static uint64_t rng_state = 88172645463325252ull;
static ae_real urand(void) { /* xorshift64, uniform in [-1, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (ae_real)((double)(rng_state >> 11) / 4503599627370496.0 - 1.0);
}

static ae_real *alloc_fill(int64_t n, int nan) {
  ae_real *p = ae_aligned_alloc((size_t)(n > 0 ? n : 1) * sizeof(ae_real));
  cr_assert_not_null(p);
  for (int64_t i = 0; i < n; i++) p[i] = nan ? (ae_real)NAN : urand();
  return p;
}

/* ---- micro-kernel ---- */

typedef void (*ukernel_fn)(int64_t, ae_real, const ae_real *, const ae_real *, ae_real, ae_real *,
                           int64_t, int64_t, int, int);

static void check_ukernel(ukernel_fn fn, const char *name, int64_t kc, int m, int n, int colmajor,
                          ae_real alpha, ae_real beta) {
  const int MR = AE_GEMM_MR, NR = AE_GEMM_NR;
  ae_real *a = alloc_fill(MR * kc, 0), *b = alloc_fill(kc * NR, 0);
  for (int64_t p = 0; p < kc; p++) { /* zero padding, as the contract says */
    for (int i = m; i < MR; i++) a[p * MR + i] = 0;
    for (int j = n; j < NR; j++) b[p * NR + j] = 0;
  }
  int64_t rs = colmajor ? 1 : NR + 5, cs = colmajor ? MR + 3 : 1;
  int64_t len = colmajor ? cs * NR : rs * MR;
  ae_real *c = alloc_fill(len, 0), *c0 = alloc_fill(len, 0);
  if (beta == 0)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) c[i * rs + j * cs] = (ae_real)NAN;
  memcpy(c0, c, (size_t)len * sizeof(ae_real));
  fn(kc, alpha, a, b, beta, c, rs, cs, m, n);
  for (int64_t e = 0; e < len; e++) {
    int64_t i = colmajor ? e % cs : e / rs, j = colmajor ? e / cs : e % rs;
    if (i >= m || j >= n) { /* outside the tile: untouched, bit for bit */
      cr_assert(memcmp(&c[e], &c0[e], sizeof(ae_real)) == 0, "%s wrote outside its tile", name);
      continue;
    }
    double s = 0, sa = 0;
    for (int64_t p = 0; p < kc; p++) {
      s += (double)a[p * MR + i] * b[p * NR + j];
      sa += fabs((double)a[p * MR + i] * b[p * NR + j]);
    }
    double ref = alpha * s + (beta == 0 ? 0 : beta * (double)c0[e]);
    double scale = fabs(alpha) * sa + (beta == 0 ? 0 : fabs(beta * (double)c0[e])) + 1e-300;
    cr_assert(fabs(c[e] - ref) <= TOL * scale,
              "%s kc=%lld m=%d n=%d colmajor=%d alpha=%g beta=%g: C(%lld,%lld)=%g want %g", name,
              (long long)kc, m, n, colmajor, (double)alpha, (double)beta, (long long)i,
              (long long)j, (double)c[e], ref);
  }
  ae_aligned_free(a);
  ae_aligned_free(b);
  ae_aligned_free(c);
  ae_aligned_free(c0);
}

Test(gemm_ukernel, full_and_edge_tiles) {
  const int MR = AE_GEMM_MR, NR = AE_GEMM_NR;
  /* every tile within the contract 1 <= m <= MR, 1 <= n <= NR (the
   * portable double kernel's NR is 4) */
  const int tiles[][2] = {{MR, NR}, {1, 1}, {MR - 1, NR - 3}, {3, NR}, {MR, NR < 5 ? NR : 5}, {MR, NR - 1},
                          {MR, NR / 2 > 0 ? NR / 2 : 1}, {2, NR / 2 + 1 <= NR ? NR / 2 + 1 : NR}};
  const int64_t kcs[] = {0, 1, 3, 64, 257};
  const ae_real ab[][2] = {{1, 0}, {1, 1}, {(ae_real)-0.75, (ae_real)0.5}};
  for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
    for (size_t k = 0; k < sizeof kcs / sizeof kcs[0]; k++)
      for (int cm = 0; cm < 2; cm++)
        for (int s = 0; s < 3; s++) {
          check_ukernel(ae_gemm_ukernel, "ukernel", kcs[k], tiles[t][0], tiles[t][1], cm, ab[s][0],
                        ab[s][1]);
          check_ukernel(ae_gemm_ukernel_ref, "ukernel_ref", kcs[k], tiles[t][0], tiles[t][1], cm,
                        ab[s][0], ab[s][1]);
        }
}

/* Packed panels of kc steps with full mantissas (sin and cos) and two
 * MR x NR tiles of C, for the edge-tile tests below. */
static void edge_panels(int64_t kc, ae_real **a, ae_real **b, ae_real **c1, ae_real **c2) {
  const int MR = AE_GEMM_MR, NR = AE_GEMM_NR;
  *a = ae_aligned_alloc(sizeof(ae_real) * (size_t)(kc * MR)), *b = ae_aligned_alloc(sizeof(ae_real) * (size_t)(kc * NR));
  *c1 = ae_aligned_alloc(sizeof(ae_real) * (size_t)(MR * NR)), *c2 = ae_aligned_alloc(sizeof(ae_real) * (size_t)(MR * NR));
  cr_assert(*a && *b && *c1 && *c2);
  for (int64_t i = 0; i < kc * MR; i++) (*a)[i] = (ae_real)sin(0.37 * (double)i);
  for (int64_t i = 0; i < kc * NR; i++) (*b)[i] = (ae_real)cos(0.23 * (double)i);
}

/* An edge tile of at most NR/2 columns runs on half the accumulators
 * (gemm_ukernel.c): its columns are bitwise those of the full-width tile
 * on the same panels. */
Test(gemm_ukernel, narrow_edge_tiles_equal_full_tiles_bitwise) {
  const int MR = AE_GEMM_MR, NR = AE_GEMM_NR;
  const int64_t kc = 203;
  ae_real *a, *b, *c1, *c2;
  edge_panels(kc, &a, &b, &c1, &c2);
  for (int n = 1; n <= NR / 2; n++)
    for (int beta = 0; beta < 2; beta++) {
      for (int i = 0; i < MR * NR; i++) c1[i] = c2[i] = (ae_real)(0.01 * i);
      ae_gemm_ukernel(kc, (ae_real)0.5, a, b, (ae_real)beta, c1, NR, 1, MR, NR);
      ae_gemm_ukernel(kc, (ae_real)0.5, a, b, (ae_real)beta, c2, NR, 1, MR, n);
      for (int i = 0; i < MR; i++)
        cr_assert(memcmp(c1 + i * NR, c2 + i * NR, sizeof(ae_real) * (size_t)n) == 0, "n=%d beta=%d row %d", n, beta, i);
    }
  ae_aligned_free(a), ae_aligned_free(b), ae_aligned_free(c1), ae_aligned_free(c2);
}

/* So does a short edge tile, of at most MR/2 rows (100 rows leave 4 of an
 * 8-row panel): its rows are bitwise those of the full-height tile, with C
 * row-major and stored transposed (rs_c == 1, the swapped products), at
 * full width and narrow. */
Test(gemm_ukernel, short_edge_tiles_equal_full_tiles_bitwise) {
  const int MR = AE_GEMM_MR, NR = AE_GEMM_NR;
  const int64_t kc = 203;
  ae_real *a, *b, *c1, *c2;
  edge_panels(kc, &a, &b, &c1, &c2);
  const int widths[] = {NR, NR / 2 > 0 ? NR / 2 : 1, 3 <= NR ? 3 : NR};
  for (int m = 1; m <= MR / 2; m++)
    for (int w = 0; w < 3; w++)
      for (int cm = 0; cm < 2; cm++)
        for (int beta = 0; beta < 2; beta++) {
          const int n = widths[w];
          const int64_t rs = cm ? 1 : NR, cs = cm ? MR : 1; /* cm: C(i, j) at c[j * MR + i] */
          for (int i = 0; i < MR * NR; i++) c1[i] = c2[i] = (ae_real)(0.01 * i);
          ae_gemm_ukernel(kc, (ae_real)0.5, a, b, (ae_real)beta, c1, rs, cs, MR, n);
          ae_gemm_ukernel(kc, (ae_real)0.5, a, b, (ae_real)beta, c2, rs, cs, m, n);
          for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) {
              const int64_t e = i * rs + j * cs;
              const ae_real want = i < m && j < n ? c1[e] : (ae_real)(0.01 * (double)e);
              cr_assert(memcmp(&c2[e], &want, sizeof want) == 0, "m=%d n=%d cm=%d beta=%d C(%d,%d): %a, want %a", m, n,
                        cm, beta, i, j, (double)c2[e], (double)want);
            }
        }
  ae_aligned_free(a), ae_aligned_free(b), ae_aligned_free(c1), ae_aligned_free(c2);
}

Test(gemm_ukernel, transpose_block) {
  enum { V = AE_GEMM_VL };
  ae_real src[V * (V + 3)], dst[V * (V + 2)];
  for (int i = 0; i < V * (V + 3); i++) src[i] = (ae_real)i;
  for (int rows = 0; rows <= V; rows += (rows < 3 ? 1 : V - 3))
    for (int cols = 1; cols <= V; cols += V - 1) {
      for (int i = 0; i < V * (V + 2); i++) dst[i] = -1;
      ae_gemm_transpose_block(src, V + 3, rows, cols, dst, V + 2, V);
      for (int c = 0; c < V; c++)
        for (int r = 0; r < V + 2; r++) {
          ae_real want = c >= cols || r >= V ? -1 : r < rows ? src[r * (V + 3) + c] : 0;
          cr_assert_eq(dst[c * (V + 2) + r], want, "rows=%d cols=%d dst(%d,%d)", rows, cols, c, r);
        }
    }
}

/* ---- ae_gemm ---- */

typedef struct {
  int ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  ae_real *A, *B, *C0;
  double *S, *SA; /* naive sum and sum of |terms| per element */
} problem;

static void problem_make(problem *q, int ta, int tb, int64_t M, int64_t N, int64_t K, int pad) {
  q->ta = ta, q->tb = tb, q->M = M, q->N = N, q->K = K;
  int64_t ar = ta ? K : M, ac = ta ? M : K, br = tb ? N : K, bc = tb ? K : N;
  q->lda = ac + (pad ? 3 : 0), q->ldb = bc + (pad ? 5 : 0), q->ldc = N + (pad ? 7 : 0);
  q->A = alloc_fill(ar * q->lda, 1);
  q->B = alloc_fill(br * q->ldb, 1);
  for (int64_t r = 0; r < ar; r++)
    for (int64_t c = 0; c < ac; c++) q->A[r * q->lda + c] = urand();
  for (int64_t r = 0; r < br; r++)
    for (int64_t c = 0; c < bc; c++) q->B[r * q->ldb + c] = urand();
  q->C0 = alloc_fill(M * q->ldc, 0);
  q->S = malloc((size_t)(M * N + 1) * sizeof(double));
  q->SA = malloc((size_t)(M * N + 1) * sizeof(double));
  cr_assert(q->S && q->SA);
  gemm_reference(ta, tb, M, N, K, q->A, q->lda, q->B, q->ldb, q->S, q->SA);
}

static void problem_free(problem *q) {
  ae_aligned_free(q->A);
  ae_aligned_free(q->B);
  ae_aligned_free(q->C0);
  free(q->S);
  free(q->SA);
}

/* Runs ae_gemm on a copy of C0 (NaN inside op's M x N when beta == 0) and
 * checks every element, and that the ldc padding is untouched. */
static void problem_check(const problem *q, ae_real alpha, ae_real beta) {
  int64_t len = q->M * q->ldc;
  ae_real *C = alloc_fill(len, 0);
  memcpy(C, q->C0, (size_t)len * sizeof(ae_real));
  if (beta == 0)
    for (int64_t i = 0; i < q->M; i++)
      for (int64_t j = 0; j < q->N; j++) C[i * q->ldc + j] = (ae_real)NAN;
  ae_gemm(q->ta, q->tb, q->M, q->N, q->K, alpha, q->A, q->lda, q->B, q->ldb, beta, C, q->ldc);
  double worst = 0;
  int64_t wi = 0, wj = 0;
  for (int64_t i = 0; i < q->M; i++)
    for (int64_t j = 0; j < q->ldc; j++) {
      ae_real c0 = q->C0[i * q->ldc + j], c = C[i * q->ldc + j];
      if (j >= q->N) {
        cr_assert(memcmp(&c, &c0, sizeof c) == 0, "ldc padding written at (%lld,%lld)",
                  (long long)i, (long long)j);
        continue;
      }
      double bc = beta == 0 ? 0 : (double)beta * c0;
      double ref = (double)alpha * q->S[i * q->N + j] + bc;
      double scale = fabs((double)alpha) * q->SA[i * q->N + j] + fabs(bc) + 1e-300;
      double err = isnan(c) ? INFINITY : fabs(c - ref) / scale;
      if (!(err <= worst)) worst = err, wi = i, wj = j;
    }
  cr_assert(worst <= TOL,
            "%s: %c%c %lldx%lldx%lld ld=%lld,%lld,%lld alpha=%g beta=%g: rel err %g at (%lld,%lld)",
            ae_gemm_backend_name(ae_gemm_get_backend()), q->ta ? 'T' : 'N', q->tb ? 'T' : 'N',
            (long long)q->M, (long long)q->N, (long long)q->K, (long long)q->lda,
            (long long)q->ldb, (long long)q->ldc, (double)alpha, (double)beta, worst,
            (long long)wi, (long long)wj);
  ae_aligned_free(C);
}

static void check_shapes(const int64_t (*shapes)[3], int n, int pad) {
  const ae_real ab[][2] = {{1, 0}, {(ae_real)0.5, (ae_real)2}, {(ae_real)-1.25, 1},
                           {2, (ae_real)-0.5}};
  for (int s = 0; s < n; s++)
    for (int t = 0; t < 4; t++) {
      problem q;
      problem_make(&q, t >> 1, t & 1, shapes[s][0], shapes[s][1], shapes[s][2], pad);
      for (int be = 0; be < 2; be++) {
        if (!ae_gemm_has_backend(be)) continue;
        cr_assert_eq(ae_gemm_set_backend(be), 0);
        for (int k = 0; k < 4; k++) problem_check(&q, ab[k][0], ab[k][1]);
      }
      problem_free(&q);
    }
}

Test(gemm, odd_shapes_padded_strides) {
  /* 9x2090x515: one A block (B panels packed by their users) over two
   * column blocks and two K blocks */
  static const int64_t shapes[][3] = {{1, 1, 1},    {3, 5, 7},      {2, 8, 8},
                                      {17, 33, 65}, {129, 257, 31}, {40, 70, 600}, {9, 2090, 515}};
  check_shapes(shapes, 7, 1);
}

Test(gemm, zoo_shapes) {
  static const int64_t shapes[][3] = {{128, 784, 256}, {128, 256, 784}, {784, 128, 256}, {128, 100, 784},
                                      {784, 100, 128}, {784, 30, 128},  {250, 30, 128}};
  check_shapes(shapes, (int)(sizeof shapes / sizeof shapes[0]), 0);
}

/* Where the swapped tile grid is smaller (N = 100: gemm.c's `swapped`),
 * or the grids tie and the swap copies less (784x30x128 TN, 250x30x128
 * TN: swap_pays), ae_gemm computes C^T = op(B)^T op(A)^T and writes C
 * transposed. Its result is bitwise the product computed the other way
 * round, which takes the unswapped path (C^T's own grid is the smaller
 * one, or copies less): the same accumulators, the same order, edge rows
 * (100 = 12 x 8 + 4, 30 = 3 x 8 + 6) included. */
Test(gemm, swapped_operands_give_the_transposed_product_bitwise) {
  static const int64_t shapes[][3] = {{128, 100, 784}, {784, 100, 128}, {30, 100, 128},
                                      {37, 3, 700},    {784, 30, 128},  {250, 30, 128}};
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
    for (int t = 0; t < 4; t++)
      for (int beta = 0; beta < 2; beta++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        int ta = t >> 1, tb = t & 1;
        ae_real *A = alloc_fill(M * K, 0), *B = alloc_fill(K * N, 0), *C = alloc_fill(M * N, 0),
                *Ct = alloc_fill(M * N, 0);
        for (int64_t i = 0; i < M; i++)
          for (int64_t j = 0; j < N; j++) Ct[j * M + i] = C[i * N + j];
        ae_gemm(ta, tb, M, N, K, (ae_real)-0.75, A, ta ? M : K, B, tb ? K : N, (ae_real)beta * (ae_real)0.5, C, N);
        ae_gemm(!tb, !ta, N, M, K, (ae_real)-0.75, B, tb ? K : N, A, ta ? M : K, (ae_real)beta * (ae_real)0.5, Ct, M);
        for (int64_t i = 0; i < M; i++)
          for (int64_t j = 0; j < N; j++)
            cr_assert(memcmp(&C[i * N + j], &Ct[j * M + i], sizeof(ae_real)) == 0,
                      "%c%c %lldx%lldx%lld beta=%d: C(%lld,%lld) = %a, the transposed product's %a", ta ? 'T' : 'N',
                      tb ? 'T' : 'N', (long long)M, (long long)N, (long long)K, beta, (long long)i, (long long)j,
                      (double)C[i * N + j], (double)Ct[j * M + i]);
        ae_aligned_free(A), ae_aligned_free(B), ae_aligned_free(C), ae_aligned_free(Ct);
      }
}

Test(gemm, degenerate_sizes_and_bad_arguments) {
  ae_real A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 1, 1, 1, 1, 1}, C[4] = {NAN, NAN, NAN, NAN};
  ae_gemm(0, 0, 2, 2, 0, 1, A, 1, B, 2, 0, C, 2); /* K = 0, beta = 0: zeros */
  for (int i = 0; i < 4; i++) cr_assert_eq(C[i], 0);
  C[0] = 3;
  ae_gemm(0, 0, 2, 2, 3, 0, A, 3, B, 2, 2, C, 2); /* alpha = 0: C = beta C */
  cr_assert_eq(C[0], 6);
  ae_gemm(0, 0, 0, 2, 3, 1, A, 3, B, 2, 0, C, 2); /* M = 0: nothing */
  cr_assert_eq(C[0], 6);
  ae_gemm(0, 0, 2, 2, 3, 1, A, 2, B, 2, 0, C, 2); /* lda < K: error, C untouched */
  cr_assert_eq(C[0], 6);
  cr_assert(strstr(ae_last_error(), "gemm") != NULL);
  ae_gemm(0, 0, -1, 2, 3, 1, A, 3, B, 2, 0, C, 2);
  cr_assert_eq(C[0], 6);
}

Test(gemm, backend_api) {
  cr_assert(ae_gemm_has_backend(AE_GEMM_BUILTIN));
  cr_assert_eq(ae_gemm_set_backend(AE_GEMM_BUILTIN), 0);
  cr_assert_eq(ae_gemm_get_backend(), AE_GEMM_BUILTIN);
  cr_assert_str_eq(ae_gemm_backend_name(AE_GEMM_BUILTIN), "builtin");
  cr_assert_str_eq(ae_gemm_backend_name(AE_GEMM_OPENBLAS), "openblas");
  int have = ae_gemm_has_backend(AE_GEMM_OPENBLAS);
  cr_assert_eq(ae_gemm_set_backend(AE_GEMM_OPENBLAS), have ? 0 : -1);
  cr_assert_eq(ae_gemm_get_backend(), have ? AE_GEMM_OPENBLAS : AE_GEMM_BUILTIN);
  cr_assert_eq(ae_gemm_set_backend((ae_gemm_backend)7), -1);
}

/* The built-in backend's promise: bitwise the same result for 1, 2 or 16
 * threads (the K summation order never depends on the split). 128x300x784
 * (sparse-*'s layer) is computed unswapped (both tile grids have the same
 * area): M = 128 in one A block, which every thread packs, and the B
 * panels packed by the threads that use them, over two K blocks. */
Test(gemm, bitwise_identical_across_thread_counts) {
  static const int64_t shapes[][3] = {{128, 784, 256}, {784, 128, 256}, {129, 257, 31},  {300, 200, 1000},
                                      {100, 2100, 600}, {784, 100, 128}, {128, 300, 784}, {784, 30, 128}};
  const int threads[] = {1, 2, 16};
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  for (int s = 0; s < (int)(sizeof shapes / sizeof shapes[0]); s++)
    for (int t = 0; t < 4; t++) {
      int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
      int ta = t >> 1, tb = t & 1;
      ae_real *A = alloc_fill(M * K, 0), *B = alloc_fill(K * N, 0);
      ae_real *C[3];
      for (int r = 0; r < 3; r++) {
        C[r] = alloc_fill(M * N, 0);
        if (r) memcpy(C[r], C[0], (size_t)(M * N) * sizeof(ae_real));
      }
      for (int r = 0; r < 3; r++) {
        omp_set_num_threads(threads[r]);
        ae_gemm(ta, tb, M, N, K, (ae_real)0.75, A, ta ? M : K, B, tb ? K : N,
                (ae_real)0.5, C[r], N);
      }
      for (int r = 1; r < 3; r++)
        cr_assert(memcmp(C[0], C[r], (size_t)(M * N) * sizeof(ae_real)) == 0,
                  "%c%c %lldx%lldx%lld differs between 1 and %d threads", ta ? 'T' : 'N',
                  tb ? 'T' : 'N', (long long)M, (long long)N, (long long)K, threads[r]);
      for (int r = 0; r < 3; r++) ae_aligned_free(C[r]);
      ae_aligned_free(A);
      ae_aligned_free(B);
    }
  omp_set_num_threads(2);
}

Test(gemm, steady_state_makes_no_heap_allocation) {
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  int64_t M = 128, N = 784, K = 256;
  ae_real *A = alloc_fill(M * K, 0), *B = alloc_fill(K * N, 0), *C = alloc_fill(M * N, 0);
  for (int t = 0; t < 4; t++) /* warm up: every transpose case, both sizes */
    ae_gemm(t >> 1, t & 1, M, N, K, 1, A, t >> 1 ? M : K, B, t & 1 ? K : N, 0, C, N);
  ae_gemm(0, 0, 2, 8, 8, 1, A, 8, B, 8, 0, C, 8);
  int64_t before = ae_heap_allocs();
  for (int r = 0; r < 3; r++) {
    for (int t = 0; t < 4; t++)
      ae_gemm(t >> 1, t & 1, M, N, K, 1, A, t >> 1 ? M : K, B, t & 1 ? K : N, 1, C, N);
    ae_gemm(0, 0, 2, 8, 8, 1, A, 8, B, 8, 0, C, 8);
  }
  cr_assert_eq(ae_heap_allocs(), before, "steady-state ae_gemm allocated");
  ae_aligned_free(A);
  ae_aligned_free(B);
  ae_aligned_free(C);
}

/* Called from inside a parallel region (convolution runs one GEMM per
 * thread), each thread's GEMM is its own: it must neither share work with
 * nor wait for the caller's team. Two threads multiply different problems
 * large enough for the blocked path; both results must be right, and the
 * call must return (the orphaned-barrier deadlock this guards against). */
Test(gemm, inside_a_parallel_region, .timeout = 60) {
  problem q[2];
  problem_make(&q[0], 0, 0, 96, 200, 150, 0);
  problem_make(&q[1], 1, 0, 64, 130, 300, 1);
  ae_set_threads(2);
#pragma omp parallel num_threads(2)
  {
    int id = 0;
#ifdef _OPENMP
    id = omp_get_thread_num();
#endif
    for (int rep = 0; rep < 3; rep++) problem_check(&q[id], 1, 0);
  }
  problem_free(&q[0]);
  problem_free(&q[1]);
}
