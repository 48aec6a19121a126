/* gemm_internal.h (internal, not installed): what gemm.c's blocked path
 * and its packing routines (gemm_pack.c) share: the arguments of one
 * product, the tile sizes, and the two packing routines. */
#ifndef AE_GEMM_INTERNAL_H
#define AE_GEMM_INTERNAL_H

#include <stdint.h>

#include "base/gemm_packed.h"
#include "base/gemm_ukernel.h"
#include "base/real.h"

#define MR AE_GEMM_MR
#define NR AE_GEMM_NR

typedef struct {
  int ta, tb;
  int64_t M, N, K;
  ae_real alpha, beta;
  const ae_real *A, *B;
  int64_t lda, ldb;
  ae_real *C;
  int64_t ldc;
  ae_gemm_pack_b_fn pack_b; /* op(B) from a callback (ae_gemm_packed_b), else NULL */
  const void *pack_ctx;
  int ct; /* C stored transposed: C(i, j) at C[j * ldc + i] (blocked path only; see swapped) */
} gemm_args;

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int clampi(int64_t x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : (int)x; }

/* Packs op(A)[ic:ic+mc, pc:pc+kc] as ceil(mc/MR) panels of MR x kc at ap. */
void ae__gemm_pack_a(const gemm_args *g, int64_t ic, int64_t pc, int64_t mc, int64_t kc, ae_real *restrict ap);

/* Packs panel jp (NR columns) of op(B)[pc:pc+kc, jc:jc+nc] as kc x NR at bp
 * (from g->pack_b when given), zero-padded to NR columns. */
void ae__gemm_pack_b_panel(const gemm_args *g, int64_t pc, int64_t jc, int64_t kc, int64_t nc, int64_t jp,
                           ae_real *restrict bp);

#endif
