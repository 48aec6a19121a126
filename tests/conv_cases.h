/* conv_cases.h: the convolution shapes the conv tests run (test_conv.c
 * against direct loops, test_conv_relu.c against the composite), chosen
 * to reach every path of ops/conv_kernels.c and ops/conv_grid.c: odd
 * non-square images and kernels, strides 1, 2, 3 and 9 by 10, padding 0
 * to 3, with and without bias, many or few output channels, images cut
 * into bands of rows, the forward's product packed or read in place (with
 * AVX-512 every weight gradient through the GEMM reads the runs in place,
 * and with 9 taps or fewer is dot products). */
#ifndef AE_TEST_CONV_CASES_H
#define AE_TEST_CONV_CASES_H

#include "conv_ref.h"

typedef struct {
  int n, c, h, w, o, kh, kw, sh, sw, ph, pw, bias;
} conv_case;

static const conv_case cases[] = {
    {1, 2, 7, 5, 4, 3, 3, 1, 1, 0, 0, 0}, {3, 2, 7, 5, 4, 3, 3, 1, 1, 1, 1, 1}, {3, 3, 7, 5, 2, 3, 2, 2, 2, 0, 0, 1},
    {1, 3, 7, 5, 2, 2, 3, 2, 2, 1, 1, 0}, {3, 1, 6, 9, 3, 3, 3, 2, 2, 1, 1, 1}, {3, 2, 8, 6, 3, 1, 1, 2, 2, 0, 0, 1},
    {1, 2, 5, 7, 3, 5, 3, 1, 1, 1, 1, 1}, {3, 2, 9, 4, 2, 3, 2, 2, 1, 1, 0, 0}, {1, 4, 4, 4, 4, 4, 4, 1, 1, 0, 0, 1},
    /* few kernel taps (weight gradient taken transposed) */
    {2, 1, 7, 6, 5, 2, 2, 1, 1, 0, 0, 1},
    /* images too large for one column block: bands of output rows */
    {1, 16, 40, 64, 4, 3, 3, 1, 1, 1, 1, 1}, {2, 16, 80, 50, 3, 3, 3, 2, 2, 1, 1, 0},
    /* stride 1, one or two output channels: conv_grid.c's direct path (no GEMM) */
    {3, 5, 9, 8, 1, 3, 3, 1, 1, 1, 1, 1}, {2, 3, 6, 7, 2, 3, 2, 1, 1, 2, 1, 0}, {5, 2, 30, 41, 1, 5, 4, 1, 1, 2, 3, 1},
    /* one output channel, images cut into bands (the direct path takes whole images) */
    {2, 16, 40, 64, 1, 3, 3, 1, 1, 1, 1, 1},
    /* more images than weight-gradient chunks: several images summed per chunk */
    {10, 2, 6, 5, 1, 3, 3, 1, 1, 1, 1, 0}, {11, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1}, {10, 2, 7, 6, 3, 3, 3, 2, 2, 1, 1, 1},
    /* stride 1, padding above kernel - 1: the input gradient is not a flipped conv */
    {2, 2, 5, 6, 3, 2, 2, 1, 1, 2, 2, 1},
    /* stride 3, and strides above 8 (the phase split's planned permutations, base/rowperm.h) */
    {2, 2, 11, 10, 3, 3, 3, 3, 3, 1, 1, 1}, {2, 2, 9, 13, 4, 2, 3, 1, 3, 0, 2, 0},
    {2, 2, 21, 30, 3, 3, 3, 9, 10, 1, 2, 1},
    /* 32 taps or more, bands that fill their 32-column panels, and more output channels than a micro-kernel
     * tile has rows: the forward's product read in place (conv_grid_product.c's tiles_in_place), whole tiles
     * and a last one of 3 or 1 rows */
    {3, 4, 8, 6, 11, 3, 3, 1, 1, 1, 1, 1}, {2, 5, 10, 9, 17, 3, 3, 2, 2, 1, 1, 0},
    /* 9 taps and more than two output channels: the forward read in place (a last tile of 3 rows, at stride
     * 2) and the weight gradient as dot products (conv_grid_product.c's weight_dots, AVX-512), at stride 2
     * with a last block of two channels, and in two bands of 75 rows */
    {2, 1, 28, 28, 11, 3, 3, 2, 2, 1, 1, 1}, {1, 1, 150, 140, 4, 3, 3, 1, 1, 1, 1, 0},
    /* strides above 1 with more than two input channels (the input gradient's col = W^T y_grid added into
     * the phase planes): conv-ae's shapes; rows and columns no output window reaches (7 % 2); a 1x1 kernel
     * (phases no tap reads); even padding at stride 2; stride 3; strides 9 by 10 */
    {2, 16, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1}, {3, 32, 7, 7, 64, 3, 3, 2, 2, 1, 1, 0},
    {2, 4, 8, 8, 3, 3, 3, 2, 2, 1, 1, 1}, {2, 3, 8, 6, 3, 1, 1, 2, 2, 0, 0, 1}, {2, 3, 9, 37, 5, 3, 5, 2, 2, 2, 2, 1},
    {2, 3, 11, 10, 4, 3, 3, 3, 3, 1, 1, 1}, {1, 3, 21, 30, 3, 3, 3, 9, 10, 1, 2, 1},
};

static inline conv_ref_geom geom_of(const conv_case *k) {
  conv_ref_geom g = {k->n, k->c, k->h, k->w, k->o, (k->h + 2 * k->ph - k->kh) / k->sh + 1,
                     (k->w + 2 * k->pw - k->kw) / k->sw + 1, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw};
  return g;
}

#endif
