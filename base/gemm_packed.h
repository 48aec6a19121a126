/* gemm_packed.h (internal, not installed): the built-in GEMM with op(B)
 * supplied by a callback that packs B's micro-panels itself, so a caller
 * whose B is implicit (a convolution's column matrix, read straight from
 * the image) never materialises it. Same blocking, same micro-kernel and
 * the same determinism invariant as ae_gemm's built-in backend (gemm.c),
 * whatever ae_gemm's backend is set to. */
#ifndef AE_GEMM_PACKED_H
#define AE_GEMM_PACKED_H

#include <stdint.h>

#include "base/real.h"

/* Writes dst[p * AE_GEMM_NR + j] = op(B)(p0 + p, j0 + j) for p < kc, j < nr,
 * and zeros for nr <= j < AE_GEMM_NR (dst is AE_ALIGN-aligned). May run on
 * any thread of the GEMM's team, concurrently for different panels. */
typedef void (*ae_gemm_pack_b_fn)(const void *ctx, int64_t p0, int64_t kc, int64_t j0, int nr, ae_real *dst);

/* C = alpha op(A) B + beta C, B (K x N) given by pack_b(ctx, ...). Returns
 * 0, or -1 (bad arguments, or no packing buffer) with ae_last_error set
 * for bad arguments; C is untouched then. */
int ae_gemm_packed_b(int transa, int64_t M, int64_t N, int64_t K, ae_real alpha, const ae_real *A, int64_t lda,
                     ae_gemm_pack_b_fn pack_b, const void *ctx, ae_real beta, ae_real *C, int64_t ldc);

/* For packing callbacks that transpose: dst[c * ldd + r] = src[r][c] for
 * r < store_rows and c < cols, rows r >= rows reading as zero; rows,
 * store_rows, cols <= AE_GEMM_VL (ae_gemm_transpose_block with a pointer
 * per source row; gemm_ukernel.c). */
void ae_gemm_transpose_rows(const ae_real *const *src, int rows, int cols, ae_real *dst, int64_t ldd,
                            int store_rows);

/* dst (cols x rows) = src (rows x cols)^T, both row-major, in AE_GEMM_VL x
 * AE_GEMM_VL register blocks (ae_gemm_transpose_block); above
 * AE_PAR_MIN_ELEMS elements each thread a range of dst's block rows. */
void ae__gemm_transpose(const ae_real *src, int64_t rows, int64_t cols, ae_real *dst);

/* Packs an A micro-panel of AE_GEMM_VL / 2 rows (the float AVX-512
 * micro-kernel's 8): dst[p * (VL/2) + r] = src[r * lds + p] for p < cols
 * (cols <= 2 VL), r < VL/2, rows r >= rows as zero. The two VL-column
 * halves share one VL x VL register transpose, where
 * ae_gemm_transpose_block would transpose each half with half its rows
 * empty. Only where AE_GEMM_MR * 2 == AE_GEMM_VL (AE_GEMM_PACK_A_HALVES). */
#if defined(__AVX512F__)
/* The micro-kernel on a full AE_GEMM_MR x AE_GEMM_NR tile (m rows of C
 * written) with B's kc x AE_GEMM_NR panel read in place, row p at
 * b + p * ldb, instead of from a packed copy (gemm_ukernel.c). */
void ae_gemm_ukernel_b(int64_t kc, ae_real alpha, const ae_real *a, const ae_real *b, int64_t ldb, ae_real beta,
                       ae_real *c, int64_t rs_c, int64_t cs_c, int m);
/* The micro-kernel on a full AE_GEMM_MR-row tile (n columns of C written)
 * with A read in place, a(i, p) at a[i * lda + p] (a row-major op(A)), and
 * B's row p at b + p * ldb (a packed panel: ldb = AE_GEMM_NR; B in place,
 * as in ae_gemm_ukernel_b). The same sums in the same order as from a
 * packed A. */
void ae__gemm_ukernel_a(int64_t kc, ae_real alpha, const ae_real *a, int64_t lda, const ae_real *b, int64_t ldb,
                        ae_real beta, ae_real *c, int64_t rs_c, int64_t cs_c, int n);
/* Where ae__gemm_ukernel_ai puts its tile: of row i, the lanes whose bit
 * is set in keep (bit j: column j), in order, to dst + i * ld onwards, each
 * plus add[i] (0 when add is NULL), through relu(v) = v > 0 ? v : 0 when
 * relu. A convolution's grid columns (conv_grid_product.c) go to its
 * output this way, the junk columns dropped. */
typedef struct {
  ae_real *dst;
  int64_t ld;
  const ae_real *add;
  uint32_t keep;
  int relu;
} ae_gemm_compress_out;

/* op(A) B for one tile with nothing packed: A read in place as in
 * ae__gemm_ukernel_a (AE_GEMM_MR rows of kc readable, the first m
 * stored), B's row p the AE_GEMM_NR elements at b + boff[p] (all readable;
 * only the first n columns may be kept): a convolution's tap runs, read
 * where they lie. The sum over p in order, one accumulator an element. */
void ae__gemm_ukernel_ai(int64_t kc, const ae_real *a, int64_t lda, const ae_real *b, const int64_t *boff,
                         const ae_gemm_compress_out *co, int m, int n);

/* C = sum over segments s < nseg and p < kseg of a(i, s, p) b(s kseg + p, j)
 * + beta C, for one tile, with a(i, s, p) = arow[i][s * sstride + p]
 * (AE_GEMM_MR row pointers, all readable; rows i < m stored) and B's row
 * q the n elements at b + q * ldb (n <= AE_GEMM_NR; read masked). One
 * accumulator an element, the sum in order of s, then p. A convolution's
 * weight gradient (conv_grid.c): A's rows are the tap runs of each image
 * (a segment), B is the output gradient laid out grid column by column. */
void ae__gemm_ukernel_rows(int64_t kseg, int64_t nseg, int64_t sstride, const ae_real *const *arow,
                           const ae_real *b, int64_t ldb, ae_real beta, ae_real *c, int64_t ldc, int m, int n);

/* ae__gemm_dots's tile: AE_GEMM_DOTS_M rows of A by AE_GEMM_DOTS_N of B. */
#define AE_GEMM_DOTS_M 9
#define AE_GEMM_DOTS_N 3
/* Where ae__gemm_dots reads: segs segments of rows rows each, len elements
 * a row; row r of segment s of A's row i at arow[i] + s a_ss + r a_rs, of
 * B's row j at brow[j] + s b_ss + r b_rs. */
typedef struct {
  int64_t len, rows, segs;
  int64_t a_rs, a_ss, b_rs, b_ss;
} ae_gemm_dots_shape;
/* C = A B^T (+ C when accumulate) as dot products, for A and B with few
 * rows and long ones: c[i rs_c + j cs_c] for i < m <= AE_GEMM_DOTS_M and
 * j < n <= AE_GEMM_DOTS_N is the sum over the segments and rows (above)
 * and k < len of A's row i times B's row j. arow and brow hold
 * AE_GEMM_DOTS_M and AE_GEMM_DOTS_N pointers, all readable (rows past m or
 * n are computed, not stored). The lanes run along k, each accumulator a
 * lane-wise sum in order of segment, row and vector, its lanes added at the
 * end (_mm512_reduce_add). A convolution's weight gradient with few taps
 * (conv_grid_product.c's weight_dots): A's rows are the tap runs, B's the
 * output gradient's channels, read where they lie, a row of the output at
 * a time. */
void ae__gemm_dots(const ae_gemm_dots_shape *s, const ae_real *const *arow, int m, const ae_real *const *brow, int n,
                   int accumulate, ae_real *c, int64_t rs_c, int64_t cs_c);
#endif

#if defined(__AVX512F__) && !defined(AE_REAL_DOUBLE)
#define AE_GEMM_PACK_A_HALVES 1
void ae_gemm_transpose_halves(const ae_real *src, int64_t lds, int rows, int cols, ae_real *dst);
#endif

#endif
