/* gemm_pack.c: the built-in GEMM's packing (gemm.c's blocked path): op(A)
 * blocks into MR-row micro-panels and op(B) panels into kc x NR, copied or
 * transposed in registers (gemm_ukernel.c) by the operands' layout. The
 * packed layouts are the micro-kernel's (gemm_ukernel.h). */
#include "base/gemm_internal.h"
#include "base/parallel.h"

#include <string.h>

/* Packs op(A)[ic:ic+mc, pc:pc+kc] as ceil(mc/MR) panels of MR x kc. */
void ae__gemm_pack_a(const gemm_args *g, int64_t ic, int64_t pc, int64_t mc, int64_t kc, ae_real *restrict ap) {
  if (g->ta) { /* op(A)(i,p) = A[p][i]: rows of A are contiguous in i. PB rows
                * at a time, each read from start to end across the panels:
                * panel by panel, the kc rows' 8-element pieces lie lda
                * apart, a stride the hardware prefetchers do not follow past
                * 2 KB (784x128x256 TN ran at 65% of NN's speed) */
    enum { PB = 8 }; /* rows of A at a time: PB * MR contiguous elements of a panel per piece */
    for (int64_t p0 = 0; p0 < kc; p0 += PB) {
      const int64_t pn = min64(PB, kc - p0);
      for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t mr = min64(MR, mc - ir);
        for (int64_t p = p0; p < p0 + pn; p++) {
          const ae_real *src = g->A + (pc + p) * g->lda + ic + ir;
          ae_real *dst = ap + ir * kc + p * MR;
          if (mr == MR) /* memcpy: GCC copied the 8 elements one scalar at a time */
            memcpy(dst, src, MR * sizeof(ae_real));
          else
            for (int i = 0; i < MR; i++) dst[i] = i < mr ? src[i] : 0;
        }
      }
    }
    return;
  }
  /* op(A)(i,p) = A[i][p]: register transposes of MR rows */
  for (int64_t ir = 0; ir < mc; ir += MR, ap += MR * kc) {
    const int64_t mr = min64(MR, mc - ir);
    const ae_real *src = g->A + (ic + ir) * g->lda + pc;
#if AE_GEMM_PACK_A_HALVES /* 2 VL columns per VL x VL transpose */
    for (int64_t p0 = 0; p0 < kc; p0 += 2 * AE_GEMM_VL)
      ae_gemm_transpose_halves(src + p0, g->lda, (int)mr, (int)min64(2 * AE_GEMM_VL, kc - p0), ap + p0 * MR);
#else /* VL columns of VL rows per transpose */
    for (int64_t p0 = 0; p0 < kc; p0 += AE_GEMM_VL)
      for (int r0 = 0; r0 < MR; r0 += AE_GEMM_VL) {
        int rows = clampi((int)mr - r0, 0, AE_GEMM_VL);
        ae_gemm_transpose_block(rows ? src + r0 * g->lda + p0 : g->A, g->lda, rows, clampi(kc - p0, 0, AE_GEMM_VL),
                                ap + p0 * MR + r0, MR, clampi(MR - r0, 0, AE_GEMM_VL));
      }
#endif
  }
}

/* How far ahead along K (elements) the transposed packing prefetches each
 * source row. Its NR rows are NR streams read a cache line at a time, more
 * than the hardware prefetcher follows; the forward's weights (B = W^T,
 * megabytes, just written by the optimiser) then arrive from memory one
 * miss at a time. In deep-ae (perf, 400 steps, 1 thread) the packing's
 * samples went from 649-918 to 368-430; 1 line ahead helps less and 16
 * lines less again. */
#ifndef AE_GEMM_PF_AHEAD
#define AE_GEMM_PF_AHEAD (4 * AE_GEMM_VL)
#endif

/* Packs panel jp (NR columns) of op(B)[pc:pc+kc, jc:jc+nc] as kc x NR at bp. */
void ae__gemm_pack_b_panel(const gemm_args *g, int64_t pc, int64_t jc, int64_t kc, int64_t nc, int64_t jp,
                           ae_real *restrict bp) {
  int64_t j0 = jp * NR, nr = min64(NR, nc - j0);
  if (g->pack_b) {
    g->pack_b(g->pack_ctx, pc, kc, jc + j0, (int)nr, bp);
    return;
  }
  if (!g->tb) { /* rows of B are contiguous in j */
    for (int64_t p = 0; p < kc; p++) {
      const ae_real *src = g->B + (pc + p) * g->ldb + jc + j0;
      ae_real *dst = bp + p * NR;
      if (nr == NR)
        memcpy(dst, src, NR * sizeof(ae_real));
      else
        for (int j = 0; j < NR; j++) dst[j] = j < nr ? src[j] : 0;
    }
  } else { /* op(B)(p,j) = B[j][p]: transpose VL x VL blocks */
    for (int64_t p0 = 0; p0 < kc; p0 += AE_GEMM_VL)
      for (int c0 = 0; c0 < NR; c0 += AE_GEMM_VL) {
        int rows = clampi(nr - c0, 0, AE_GEMM_VL);
        const ae_real *src = rows ? g->B + (jc + j0 + c0) * g->ldb + pc + p0 : g->B;
        if (p0 + AE_GEMM_PF_AHEAD < kc)
          for (int i = 0; i < rows; i++) __builtin_prefetch(src + i * g->ldb + AE_GEMM_PF_AHEAD, 0, 3);
        ae_gemm_transpose_block(src, g->ldb, rows, clampi(kc - p0, 0, AE_GEMM_VL),
                                bp + p0 * NR + c0, NR, clampi(NR - c0, 0, AE_GEMM_VL));
      }
  }
}


/* gemm_packed.h: a whole matrix transposed, a column block of src (a block
 * row of dst) a task. */
void ae__gemm_transpose(const ae_real *src, int64_t rows, int64_t cols, ae_real *dst) {
  const int64_t nb = (cols + AE_GEMM_VL - 1) / AE_GEMM_VL;
  AE_PAR_FOR(AE_PAR(rows * cols), schedule(static), for (int64_t b = 0; b < nb; b++) {
    const int64_t c0 = b * AE_GEMM_VL;
    const int nc = (int)(cols - c0 < AE_GEMM_VL ? cols - c0 : AE_GEMM_VL);
    for (int64_t r0 = 0; r0 < rows; r0 += AE_GEMM_VL) {
      const int nr = (int)(rows - r0 < AE_GEMM_VL ? rows - r0 : AE_GEMM_VL);
      ae_gemm_transpose_block(src + r0 * cols + c0, cols, nr, nc, dst + c0 * rows + r0, rows, nr);
    }
  });
}
