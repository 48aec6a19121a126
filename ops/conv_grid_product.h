/* conv_grid_product.h (internal): the products of the convolution on the
 * padded, phase-split grid (conv_grid.c) with its column matrix col, whose
 * row t is tap t's run in each image: the forward's y_grid = w col, the
 * runs read where they lie (AVX-512, where ae__conv_in_place says) or
 * packed into the GEMM's B panels; the weight gradient's dW^T = col
 * y_grid^T, the runs read where they lie (AVX-512), or its dW = y_grid
 * col^T with col^T's panels packed from the runs. Defined in
 * conv_grid_product.c. */
#ifndef AE_CONV_GRID_PRODUCT_H
#define AE_CONV_GRID_PRODUCT_H

#include "conv_kernels.h"

/* A block's tap runs: tap t of image i's grid column j is
 * xq[i * xpad + r0wq + toff[t] + j], for j < band. */
typedef struct {
  const int64_t *toff; /* the offset of every tap's run, in tap order */
  const ae_real *xq;   /* the block's first image; one every xpad elements */
  int64_t xpad, band, r0wq;
  int64_t wq; /* grid columns a row */
} ae_conv_taps;

/* Whether a product of k taps over bands of `band` grid columns reads the
 * runs in place. */
int ae__conv_in_place(int64_t k, int64_t band);

/* *tail = w's last o % AE_GEMM_MR rows (o x ckk) then zero rows up to
 * AE_GEMM_MR, in the arena, or NULL when o is a multiple: what the last
 * tile read in place reads. 0, or -1 with the tape's error set (arena full). */
int ae__conv_weight_tail(ae_tape *t, const ae_conv_geom *g, const ae_real *w, const ae_real **tail);

/* A block's product w (o x ckk) col for the cnt images of f, 1 where it
 * went straight to y (in place): y's rows r0wq / wq onwards of the cnt
 * images from y, plus b[o] (none when b is NULL), through relu when
 * g->relu, the junk columns dropped; 0 where it went to tmp (o x cols,
 * cols = cnt f->band, as grid columns, no bias; packed); -1 with
 * ae_last_error set (no packing buffer). in_place from ae__conv_in_place,
 * wtail from ae__conv_weight_tail. */
int ae__conv_product(const ae_conv_geom *g, int in_place, const ae_real *w, const ae_real *wtail,
                     const ae_conv_taps *f, int64_t cnt, const ae_real *b, ae_real *y, ae_real *tmp, int64_t cols);

/* The weight gradient's B operand col^T (K = grid columns, N = taps) for
 * ae_gemm_packed_b, packed straight from the runs of ctx (an ae_conv_taps):
 * NR runs transposed a panel. */
void ae__conv_pack_runs_transposed(const void *ctx, int64_t p0, int64_t kc, int64_t j0, int nr, ae_real *dst);

#if defined(__AVX512F__)
/* dst (ckk x o) = col y_grid^T for the cnt images of f (y at the first
 * image's output gradient), plus dst unless first: y's rows r0wq / wq
 * onwards laid out grid column by column in ygt (f->band cnt x o), then
 * each tile of taps x output channels summed over the images' runs where
 * they lie (ae__gemm_ukernel_rows); with few taps, dot products of the
 * runs and y's rows, both where they lie (ae__gemm_dots; ygt unused). */
void ae__conv_weight_product(const ae_conv_geom *g, const ae_conv_taps *f, int64_t cnt, const ae_real *y,
                             ae_real *ygt, int first, ae_real *dst);
/* 1 when ae__conv_weight_product takes g's products as dot products (ygt
 * then unused: the caller need not allocate it). */
int ae__conv_weight_dots(const ae_conv_geom *g);
#endif

#endif
