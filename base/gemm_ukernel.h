/* gemm_ukernel.h: the GEMM micro-kernel contract, written down in one place
 * (BLIS style). The blocking loops in gemm.c pack panels of op(A) and op(B)
 * and call one micro-kernel per AE_GEMM_MR x AE_GEMM_NR tile of C.
 *
 * Packed A micro-panel `a`: AE_GEMM_MR x kc, column-major inside the panel,
 *   a[p * AE_GEMM_MR + i] = op(A)(i, p); rows i >= m are zero padding.
 * Packed B micro-panel `b`: kc x AE_GEMM_NR, row-major inside the panel,
 *   b[p * AE_GEMM_NR + j] = op(B)(p, j); columns j >= n are zero padding.
 * Both panels are AE_ALIGN-byte aligned (AE_GEMM_NR * sizeof(ae_real) is a
 * multiple of 64, so every row of b is aligned too).
 *
 * The kernel computes, for i < m and j < n only (1 <= m <= MR, 1 <= n <= NR),
 *   C(i, j) = alpha * sum_{p=0}^{kc-1} a(i, p) * b(p, j) + beta * C(i, j)
 * where C(i, j) lives at c[i * rs_c + j * cs_c] (any strides; cs_c == 1,
 * row-major, and on AVX-512 rs_c == 1, a C stored transposed, are the fast
 * paths). Elements outside the m x n edge are never touched.
 * beta == 0 means C is not read (it may hold NaN). kc == 0 is allowed.
 *
 * Summation order: each C(i, j) is one accumulator that sums p = 0 .. kc-1 in
 * increasing order, then is scaled by alpha and combined with beta * C once.
 * The order depends on nothing but kc, which is what lets gemm.c promise
 * results that do not depend on the thread count.
 *
 * Tile sizes, measured on the 2-core AMD Zen 4 this project targets (one
 * 512-bit FMA per cycle per core, about 117 GFLOP/s float per core): in L1
 * every candidate (8x32, 12x32, 14x32, 16x16, 8x48, 6x64) runs at 99% of
 * peak, so the choice is made inside ae_gemm, where 8x32 was best or tied
 * on the zoo shapes and 2048^3 (within 2-5%): 16 zmm accumulators, 2 B loads
 * and 8 broadcasts per k step, and M = 128 or 784 split into whole tiles.
 *   AVX-512, float : 8 x 32     AVX-512, double: 8 x 16 (best of 8x16,
 *                               12x16, 16x8, 8x24 likewise)
 *   portable       : 6 x 16 float, 6 x 8 double (plain C the compiler
 *                    vectorises for whatever -march it is given)
 */
#ifndef AE_GEMM_UKERNEL_H
#define AE_GEMM_UKERNEL_H

#include "base/api.h"
#include "base/real.h"

/* Elements per 64-byte vector: the block size of ae_gemm_transpose_block. */
#ifdef AE_REAL_DOUBLE
#define AE_GEMM_VL 8
#else
#define AE_GEMM_VL 16
#endif

#if defined(__AVX512F__)
#define AE_GEMM_UKERNEL_AVX512 1
#ifndef AE_GEMM_MR /* overridable with -D for tile-size experiments */
#define AE_GEMM_MR 8
#endif
#ifndef AE_GEMM_NR
#ifdef AE_REAL_DOUBLE
#define AE_GEMM_NR 16
#else
#define AE_GEMM_NR 32
#endif
#endif
#else
#define AE_GEMM_UKERNEL_AVX512 0
#define AE_GEMM_MR 6 /* 6 x 2 accumulators of 16 bytes fit SSE2's 16 registers */
#ifdef AE_REAL_DOUBLE
#define AE_GEMM_NR 4
#else
#define AE_GEMM_NR 8
#endif
#endif

/* The kernel the library uses: AVX-512 intrinsics when the build targets
 * AVX-512, the portable kernel otherwise. */
AE_API void ae_gemm_ukernel(int64_t kc, ae_real alpha, const ae_real *a, const ae_real *b,
                            ae_real beta, ae_real *c, int64_t rs_c, int64_t cs_c, int m, int n);

/* The portable C kernel with the same contract and tile size; tests compare
 * the two. */
AE_API void ae_gemm_ukernel_ref(int64_t kc, ae_real alpha, const ae_real *a, const ae_real *b,
                                ae_real beta, ae_real *c, int64_t rs_c, int64_t cs_c, int m, int n);

/* Packing helper (the transposing cases of packing A and B):
 * dst[c * ldd + r] = src[r * lds + c] for r < store_rows and c < cols, where
 * source rows r >= rows read as zero. rows, store_rows, cols <= AE_GEMM_VL.
 * AVX-512 builds transpose whole register blocks; others loop. */
AE_API void ae_gemm_transpose_block(const ae_real *src, int64_t lds, int rows, int cols,
                                    ae_real *dst, int64_t ldd, int store_rows);

/* Name of the kernel in use ("avx512 12x32" and the like), for benchmarks. */
AE_API const char *ae_gemm_ukernel_name(void);

#endif
