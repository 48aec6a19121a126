/* test_gemm_packed.c: ae_gemm_packed_b (base/gemm_packed.h), the built-in
 * GEMM whose B panels come from a callback, against ae_gemm's built-in
 * backend on the same B held as a matrix: bitwise equal (same blocking,
 * same micro-kernel, same summation order), for op(A) = A and A^T, shapes
 * above ae_gemm's direct-loop size
 * with partial micro-panels and several K and M blocks, 1 and 2 threads;
 * the callback sees only in-range rows and columns. Built twice (f32, f64). */
#include <criterion/criterion.h>
#include <string.h>

#include "aezoo.h"
#include "base/gemm.h"
#include "base/gemm_packed.h"
#include "base/gemm_ukernel.h"
#include "random_tensor.h"

typedef struct {
  const ae_real *B;
  int64_t ldb, K, N;
  int bad; /* set when asked for a row or column outside B */
} mat_pack;

static void pack_from_matrix(const void *ctx, int64_t p0, int64_t kc, int64_t j0, int nr, ae_real *dst) {
  mat_pack *m = (mat_pack *)ctx;
  if (p0 < 0 || p0 + kc > m->K || j0 < 0 || j0 + nr > m->N || nr < 1 || nr > AE_GEMM_NR)
    __atomic_store_n(&m->bad, 1, __ATOMIC_RELAXED);
  for (int64_t p = 0; p < kc; p++)
    for (int j = 0; j < AE_GEMM_NR; j++) dst[p * AE_GEMM_NR + j] = j < nr ? m->B[(p0 + p) * m->ldb + j0 + j] : 0;
}

Test(gemm_packed, bitwise_equal_to_the_builtin_gemm) {
  /* all above AE_GEMM_SMALL (256 multiply-adds), below which ae_gemm takes
   * its direct loop (which need not round like the micro-kernel) */
  static const int64_t shapes[][3] = {{1, 1, 300}, {5, 7, 9}, {32, 63, 288}, {33, 100, 600}, {300, 45, 70}, {9, 2100, 17}};
  ae_gemm_set_backend(AE_GEMM_BUILTIN);
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int threads = 1; threads <= 2; threads++) {
        ae_set_threads(threads);
        const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        ae_tensor *ta_ = rt_uniform_seeded(AE_SHAPE(M * K), 11 + s, -1, 1), *tb_ = rt_uniform_seeded(AE_SHAPE(K * N), 23 + s, -1, 1);
        ae_tensor *tc0 = rt_uniform_seeded(AE_SHAPE(M * N), 37 + s, -1, 1), *tc1 = rt_uniform_seeded(AE_SHAPE(M * N), 37 + s, -1, 1);
        const ae_real *A = ta_->data, *B = tb_->data;
        ae_real *C0 = tc0->data, *C1 = tc1->data;
        ae_gemm(ta, 0, M, N, K, (ae_real)0.75, A, ta ? M : K, B, N, (ae_real)0.5, C0, N);
        mat_pack mp = {B, N, K, N, 0};
        cr_assert_eq(ae_gemm_packed_b(ta, M, N, K, (ae_real)0.75, A, ta ? M : K, pack_from_matrix, &mp, (ae_real)0.5,
                                      C1, N),
                     0, "%s", ae_last_error());
        cr_assert(!mp.bad, "the callback was asked for panels outside B (%lldx%lldx%lld)", (long long)M, (long long)N,
                  (long long)K);
        cr_assert(memcmp(C0, C1, sizeof(ae_real) * (size_t)(M * N)) == 0,
                  "%lldx%lldx%lld op(A)=%s, %d threads: differs from ae_gemm", (long long)M, (long long)N,
                  (long long)K, ta ? "A^T" : "A", threads);
        ae_tensor_free(ta_), ae_tensor_free(tb_), ae_tensor_free(tc0), ae_tensor_free(tc1);
      }
}

Test(gemm_packed, bad_arguments_are_refused) {
  ae_real a = 1, c = 0;
  mat_pack mp = {&a, 1, 1, 1, 0};
  cr_assert_eq(ae_gemm_packed_b(0, -1, 1, 1, 1, &a, 1, pack_from_matrix, &mp, 0, &c, 1), -1);
  cr_assert(strstr(ae_last_error(), "gemm"), "%s", ae_last_error());
  cr_assert_eq(ae_gemm_packed_b(0, 1, 1, 1, 1, &a, 1, NULL, &mp, 0, &c, 1), -1);
  cr_assert_eq(c, 0);
}
