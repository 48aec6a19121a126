/* conv_kernels.h (internal): the three convolution kernels behind conv.c,
 * all described in conv2d's terms: an "image" side x (n,c,h,w), an
 * "output" side y (n,o,oh,ow) and a weight w (o,c,kh,kw).
 *   fwd:    y = conv2d(x, w) + b[o]                    (conv2d forward)
 *   data:   x = conv_transpose2d(y, w) + b[c]          (conv_transpose2d forward)
 * (fwd and data through relu as they write, when g->relu)
 *   weight: w = sum_n correlation of x and y           (conv2d_weight_grad)
 * Scratch comes from the tape's arena and is given back before return.
 * Each returns 0, or -1 with the tape's error set (arena full). */
#ifndef AE_CONV_KERNELS_H
#define AE_CONV_KERNELS_H

#include "autograd/tape.h"

typedef struct ae_conv_geom {
  int64_t n, c, h, w;  /* image side */
  int64_t o, oh, ow;   /* output side */
  int64_t kh, kw;
  int64_t sh, sw, ph, pw;
  int relu; /* fwd and data: the result is written as relu(v) = v > 0 ? v : 0 (the fused ops) */
  const char *op; /* the op's name, for the kernels' arena allocations and errors (and so the node's name) */
  int up;   /* fwd and weight on the grid path (ae_conv_up_ok): the image x is given at (h / up, w / up) and read
             * upsampled by up, nearest (conv2d_upsampled); 0 or 1: as given */
} ae_conv_geom;

int ae_conv_fwd_kernel(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                       ae_real *y);
int ae_conv_data_kernel(ae_tape *t, const ae_conv_geom *g, const ae_real *y, const ae_real *w, const ae_real *b,
                        ae_real *x);
int ae_conv_weight_kernel(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *y, ae_real *w);

/* The weight gradient from nch per-chunk partials (o, ckk), or (ckk, o) when
 * tr, summed in chunk order into w (o, ckk); when tr, the sum is left in
 * the first partial on the way. */
void ae_conv_sum_partials(const ae_conv_geom *g, ae_real *part, int64_t nch, int tr, ae_real *w);

/* Convolution on the padded, phase-split grid (conv_grid.c): the kernels
 * above hand over to it when ae_conv_grid_fits (consistent shapes). */
int ae_conv_grid_fits(const ae_conv_geom *g);
/* Whether fwd and weight can read g's image upsampled (g->up): the grid
 * path is on and fits, and h, w are multiples of up. */
int ae_conv_up_ok(const ae_conv_geom *g);
int ae_conv_grid_fwd(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                     ae_real *y);
int ae_conv_grid_data(ae_tape *t, const ae_conv_geom *g, const ae_real *y, const ae_real *w, const ae_real *b,
                      ae_real *x);
int ae_conv_grid_weight(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *y, ae_real *w);

#endif
