/* conv_grid.c: convolution on the padded, phase-split grid, the path the
 * kernels of conv_kernels.c hand over to.
 *
 * Pad each image with zeros (hp = h + 2 ph rows, wp = w + 2 pw columns) and
 * split it by stride phase: xq[ci][a][b][u][v] = xpadded[ci][u sh + a][v sw + b],
 * planes of hq = ceil(hp / sh) by wq = ceil(wp / sw) (with stride 1 this is
 * just the padded image). Compute the output on a grid of oh rows of wq
 * columns, of which the last wq - ow of each row are junk and dropped. Tap
 * (ci, ki, kj) of grid column j then reads
 *   xq[ci][ki % sh][kj % sw][0][(ki / sh) wq + kj / sw + j]:
 * one contiguous run per tap, so the column matrix is ckk long copies
 * (im2col's per-output-row copies, strided gathers and bounds tests are
 * gone), and a band of output rows [r0, r1) is grid columns [r0 wq, r1 wq).
 *   fwd:    y = W col + b[o], junk columns dropped; col is never written:
 *           the micro-kernel reads the runs where they lie, or the GEMM
 *           packs its B panels straight from them (conv_grid_product.c).
 *   data:   stride 1: the input gradient of a stride-1 conv (conv_transpose2d's
 *           forward) is a stride-1 conv of y with the kernel flipped, its
 *           channels swapped and padding k - 1 - p: it runs fwd, with no
 *           scatter. Other strides, and one or two input channels (where
 *           that conv would have one or two outputs; measured: 28x28 1->32
 *           backward 23 GFLOP/s that way, 28 this way): col = W^T y_grid
 *           (zeros in the junk columns), each tap's row added as one run
 *           into xq, and xq taken back to x's layout.
 *   weight: with AVX-512, dW^T += col y_grid^T, the micro-kernel reading
 *           col's rows (the runs) where they lie and y_grid laid out grid
 *           column by column, or with 9 taps or fewer dot products of the
 *           runs and y's rows (conv_grid_product.c). Otherwise dW +=
 *           y_grid col^T, col^T's panels packed straight from the runs
 *           (transposed; ae_gemm_transpose_rows); when ckk < o, dW^T +=
 *           col y_grid^T with col written out. The batch in
 *           AE_CONV_WG_CHUNKS chunks, each summed in order into its own
 *           partial, the partials added in chunk order.
 * One or two output channels (fwd, weight) take a direct path: per grid
 * column, a sum over the tap runs, no column matrix and no GEMM. With
 * g->up (conv2d_upsampled) fwd and weight read the image upsampled, nearest:
 * pad_image's planned permutation takes each pixel up x up times.
 * Blocks, from the shapes alone: several whole images side by side, or
 * bands of output rows of one image, the column matrix in L2. Threads take
 * whole blocks (fwd, data) or chunks (weight), so every result is bitwise
 * the same for any thread count. The summation order differs from the
 * im2col path's (conv_kernels.c), so the two agree to rounding, not
 * bitwise. AEZOO_CONV=im2col turns this path off (A/B runs). */
#include <stdint.h>
#include <string.h>

#include "base/gemm.h"
#include "base/gemm_packed.h"
#include "base/gemm_ukernel.h"
#include "base/rowcopy.h"
#include "base/rowperm.h"
#include "conv_grid_product.h"
#include "conv_kernels.h"
#include "conv_scratch.h"

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

/* Output channels up to which the direct path (no GEMM) runs: a GEMM with
 * one or two rows fills one or two of the micro-kernel's AE_GEMM_MR rows.
 * Measured (bench_conv, 1 thread, batch 128, 28x28 32->1): forward 5 GFLOP/s
 * through the GEMM. */
#define DIRECT_MAX_O 2
/* Grid columns the direct path accumulates at once: four 64-byte vectors. */
#define DIRECT_JV 64

typedef struct {
  int64_t hq, wq;           /* one phase plane */
  int64_t xpad;             /* elements of one phase-split image and its slack, a multiple of 16 */
  int64_t gcols;            /* grid columns of one image: oh * wq */
  int64_t imgs, rows, cols; /* a block: imgs whole images, or bands of `rows` rows; cols: its most columns */
} grid_plan;

static grid_plan plan_of(const ae_conv_geom *g) {
  const int64_t ckk = g->c * g->kh * g->kw;
  grid_plan p;
  p.hq = cdiv(g->h + 2 * g->ph, g->sh), p.wq = cdiv(g->w + 2 * g->pw, g->sw);
  /* Tap runs end at most (kw - 1) / sw elements past the last plane (since
   * oh + (kh - 1) / sh <= hq); the direct path reads DIRECT_JV - 1 further. */
  p.xpad = (g->c * g->sh * g->sw * p.hq * p.wq + g->kw + DIRECT_JV + 15) / 16 * 16;
  p.gcols = g->oh * p.wq;
  p.imgs = 1, p.rows = g->oh, p.cols = p.gcols;
  int64_t fit = AE_CONV_TILE_ELEMS / imax(1, ckk * p.gcols);
  if (fit >= 2 && p.gcols < AE_CONV_MAX_COLS) {
    p.imgs = imin(g->n, imin(fit, imax(1, AE_CONV_MAX_COLS / p.gcols)));
    p.cols = p.imgs * p.gcols;
  } else {
    int64_t rt = imax(1, imin(g->oh, AE_CONV_TILE_ELEMS / imax(1, ckk * p.wq)));
    p.rows = cdiv(g->oh, cdiv(g->oh, rt));
    p.cols = p.rows * p.wq;
  }
  return p;
}

int ae_conv_grid_fits(const ae_conv_geom *g) {
  if (!(g->sh >= 1 && g->sw >= 1 && g->oh > 0 && g->ow > 0 && g->h + 2 * g->ph >= g->kh &&
        g->w + 2 * g->pw >= g->kw && g->oh == (g->h + 2 * g->ph - g->kh) / g->sh + 1 &&
        g->ow == (g->w + 2 * g->pw - g->kw) / g->sw + 1))
    return 0;
  const grid_plan p = plan_of(g); /* phase_perm indexes a channel's image and its planes in int32 */
  return g->sh * g->sw * p.hq * p.wq < INT32_MAX / 2 && g->h * g->w < INT32_MAX / 2;
}

/* Strides above 1 split the image by phase through phase_perm's plans. */
static int strided(const ae_conv_geom *g) { return g->sh > 1 || g->sw > 1; }
/* The image's upsampling factor (1: none), and its elements per channel as given. */
static int64_t up_of(const ae_conv_geom *g) { return g->up > 1 ? g->up : 1; }
static int64_t in_plane(const ae_conv_geom *g) { return g->h / up_of(g) * (g->w / up_of(g)); }
/* pad_image fills a channel's planes by one planned permutation: strided, or read upsampled. */
static int by_perm(const ae_conv_geom *g) { return strided(g) || up_of(g) > 1; }

/* Offset in a phase-split image of tap (ci, ki, kj)'s run: plane
 * (ci, ki % sh, kj % sw), row ki / sh, column kj / sw. */
static int64_t tap_off(const ae_conv_geom *g, const grid_plan *p, int64_t ci, int64_t ki, int64_t kj) {
  return ((ci * g->sh + ki % g->sh) * g->sw + kj % g->sw) * p->hq * p->wq + ki / g->sh * p->wq + kj / g->sw;
}

/* Every tap's offset in tap order (ci, ki, kj), in ckk int64 from the
 * arena (given back with the caller's rewind); NULL with the tape's error
 * set when the arena is full. */
static int64_t *tap_table(ae_tape *t, const char *op, const ae_conv_geom *g, const grid_plan *p) {
  int64_t *toff = ae_arena_alloc(t, op, (size_t)(g->c * g->kh * g->kw) * sizeof(int64_t));
  if (!toff) return NULL;
  for (int64_t ci = 0, tp = 0; ci < g->c; ci++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) toff[tp++] = tap_off(g, p, ci, ki, kj);
  return toff;
}

/* Phase b's columns: v with 0 <= v sw + b - pw < w are [*lo, *hi) (within wq). */
static void phase_cols(const ae_conv_geom *g, const grid_plan *p, int64_t b, int64_t *lo, int64_t *hi) {
  *lo = imin(p->wq, b >= g->pw ? 0 : cdiv(g->pw - b, g->sw));
  *hi = imax(*lo, imin(p->wq, cdiv(g->w + g->pw - b, g->sw)));
}

/* How pad_image writes an image, planned once per op. Stride 1 with
 * AVX-512: each channel's rows as one spread (rowcopy.h: a masked
 * expanding load and a store a vector, the padding columns between two
 * rows included); in conv-dae that pass had cost 7 to 10% of the step a
 * row at a time, most of it the bookkeeping of rows of 28 elements.
 * Other strides: each channel's phase planes as one planned permutation
 * (rowperm.h); dealing rows of 14 or 7 elements out to their phases one
 * at a time had cost 16% of conv-ae's step (perf, 1 thread), and taking
 * them back (unpad_image) 8%. */
typedef struct {
  int spread;      /* 1: sp spreads a channel's h rows of w into rows of wq */
  ae_rc_perm perm; /* strided(g): fills a channel's planes from its image */
#if defined(__AVX512F__)
  ae_rc_spread sp;
#endif
} pad_plan;

/* Where element (ih, iw) of a channel's image lies in its phase planes. */
static int64_t phase_pos(const ae_conv_geom *g, const grid_plan *p, int64_t ih, int64_t iw) {
  const int64_t r = ih + g->ph, c = iw + g->pw;
  return ((r % g->sh * g->sw + c % g->sw) * p->hq + r / g->sh) * p->wq + c / g->sw;
}

/* The permutation between a channel's image and its phase planes, in the
 * arena: to_image, each element of the image from its place in the planes
 * (unpad_image); otherwise each element of the planes from the image, or 0
 * (pad_image). -1 with the tape's error set when the arena is full. */
static int phase_perm(ae_tape *t, const char *op, const ae_conv_geom *g, const grid_plan *p, int to_image,
                      ae_rc_perm *pl) {
  const int64_t planes = g->sh * g->sw * p->hq * p->wq, img = g->h * g->w, u = up_of(g), src = img / (u * u);
  const int64_t n = to_image ? img : planes, slen = to_image ? planes : src;
  int32_t *tab = ae_arena_alloc(t, op, (size_t)n * sizeof(int32_t));
  if (!tab) return -1;
  for (int64_t k = 0; k < n; k++) tab[k] = -1;
  for (int64_t ih = 0; ih < g->h; ih++)
    for (int64_t iw = 0; iw < g->w; iw++) {
      const int64_t q = phase_pos(g, p, ih, iw), e = to_image ? ih * g->w + iw : ih / u * (g->w / u) + iw / u;
      if (to_image)
        tab[e] = (int32_t)q;
      else
        tab[q] = (int32_t)e;
    }
  const int64_t cap = ae_rc_perm_cap(n);
  ae_rc_piece *pieces = cap ? ae_arena_alloc(t, op, (size_t)cap * sizeof(ae_rc_piece)) : NULL;
  if (cap && !pieces) return -1;
  ae_rc_perm_init(pl, tab, n, slen, pieces);
  return 0;
}

/* 0, or -1 with the tape's error set (the arena is full). */
static int pad_plan_init(ae_tape *t, const char *op, const ae_conv_geom *g, const grid_plan *p, pad_plan *pp) {
  pp->spread = 0;
#if defined(__AVX512F__)
  /* from the first pixel's place to the last row's right padding */
  if (!by_perm(g) && g->h > 0)
    pp->spread = ae_rc_spread_init(&pp->sp, g->w, p->wq, g->h * p->wq - g->pw) == 0;
#endif
  return by_perm(g) ? phase_perm(t, op, g, p, 0, &pp->perm) : 0;
}

/* xq = image x (c, h, w) padded and split by phase (see the top), then
 * zeros up to p->xpad: each channel's planes in one planned permutation
 * (strides above 1), or its top padding, its rows (one spread, or row by
 * row) and its bottom padding (stride 1). */
static void pad_image(const ae_conv_geom *g, const grid_plan *p, const pad_plan *pp, const ae_real *x,
                      ae_real *xq) {
  const int64_t wq = p->wq, w = g->w, plane = p->hq * wq, used = g->c * g->sh * g->sw * plane;
  int64_t img = g->h * w;
  if (by_perm(g)) {
    img = in_plane(g);
    for (int64_t ci = 0; ci < g->c; ci++) {
      ae_rc_prefetch(x + (ci + 1) * img, 0, img * (int64_t)sizeof(ae_real)); /* the next plane (or image) */
      ae_rc_perm_run(&pp->perm, xq + ci * g->sh * g->sw * plane, x + ci * img, 0, 0);
    }
    ae_row_zero(xq + used, p->xpad - used);
    return;
  }
#if defined(__AVX512F__)
  if (pp->spread) { /* hq = h + 2 ph, wq = w + 2 pw */
    for (int64_t ci = 0; ci < g->c; ci++) {
      ae_real *d = xq + ci * plane;
      ae_rc_prefetch(x + (ci + 1) * img, 0, img * (int64_t)sizeof(ae_real)); /* the next plane (or image) */
      ae_row_zero(d, g->ph * wq + g->pw);
      ae_rc_spread_run(&pp->sp, d + g->ph * wq + g->pw, x + ci * img);
      ae_row_zero(d + (g->ph + g->h) * wq, plane - (g->ph + g->h) * wq);
    }
    ae_row_zero(xq + used, p->xpad - used);
    return;
  }
#endif
  int64_t lo, hi;
  phase_cols(g, p, 0, &lo, &hi);
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t u = 0, ih = -g->ph; u < p->hq; u++, ih++) {
      ae_real *d = xq + (ci * p->hq + u) * wq;
      if (ih < 0 || ih >= g->h) {
        ae_row_zero(d, wq);
        continue;
      }
      ae_rc_prefetch(x + (ci * g->h + ih) * w, AE_RC_AHEAD, w * (int64_t)sizeof(ae_real));
      /* d[v] = x's row at column v - pw (the pointer may point before the row; only [lo, hi) is read) */
      ae_row_window(d, (const ae_real *)((uintptr_t)(x + (ci * g->h + ih) * w) - (uintptr_t)g->pw * sizeof(ae_real)),
                    wq, lo, hi);
    }
  ae_row_zero(xq + used, p->xpad - used);
}

/* A row of the op's result: d = s + c, through relu when the op is fused. */
static void out_row(const ae_conv_geom *g, ae_real *d, const ae_real *s, int64_t n, ae_real c) {
  if (g->relu)
    ae_row_copy_add_relu(d, s, n, c);
  else
    ae_row_copy_add(d, s, n, c);
}

/* The inverse of pad_image on the image's own elements: x = xq + bias[ci]
 * (x's plane ci), padding dropped: each channel in one planned permutation
 * (perm, strides above 1), or row by row (stride 1). */
static void unpad_image(const ae_conv_geom *g, const grid_plan *p, const ae_rc_perm *perm, const ae_real *xq,
                        const ae_real *bias, ae_real *x) {
  const int64_t wq = p->wq, w = g->w, img = g->h * w, planes = g->sh * g->sw * p->hq * wq;
  for (int64_t ci = 0; ci < g->c; ci++) {
    const ae_real bc = bias ? bias[ci] : 0;
    if (perm) {
      ae_rc_perm_run(perm, x + ci * img, xq + ci * planes, 1, bc);
      if (g->relu) ae_row_relu(x + ci * img, img); /* the plane just written, in L1 */
      continue;
    }
    for (int64_t ih = 0; ih < g->h; ih++)
      out_row(g, x + ci * img + ih * w, xq + ci * planes + (ih + g->ph) * wq + g->pw, w, bc);
  }
}

/* The column matrix of output rows [r0, r1) of cnt phase-split images (xq,
 * one every p->xpad elements): col[t * ld + i * band + j] = xq_i[tap_off(t)
 * + r0 wq + j] for tap t = (ci, ki, kj), band = (r1 - r0) wq. */
static void grid_im2col(const ae_conv_geom *g, const grid_plan *p, const ae_real *xq, int64_t cnt, int64_t r0,
                        int64_t r1, ae_real *col, int64_t ld) {
  const int64_t band = (r1 - r0) * p->wq;
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        const ae_real *s = xq + tap_off(g, p, ci, ki, kj) + r0 * p->wq;
        ae_real *d = col + ((ci * g->kh + ki) * g->kw + kj) * ld;
        for (int64_t i = 0; i < cnt; i++) memcpy(d + i * band, s + i * p->xpad, (size_t)band * sizeof *d);
      }
}

/* The adjoint of grid_im2col: adds each tap's row of col into its run of
 * the cnt images' xq. */
static void grid_col2im_add(const ae_conv_geom *g, const grid_plan *p, const ae_real *col, int64_t ld, int64_t cnt,
                            int64_t r0, int64_t r1, ae_real *xq) {
  const int64_t band = (r1 - r0) * p->wq;
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        ae_real *d = xq + tap_off(g, p, ci, ki, kj) + r0 * p->wq;
        const ae_real *s = col + ((ci * g->kh + ki) * g->kw + kj) * ld;
        for (int64_t i = 0; i < cnt; i++) {
          ae_real *di = d + i * p->xpad;
          const ae_real *si = s + i * band;
          for (int64_t j = 0; j < band; j++) di[j] += si[j];
        }
      }
}

/* y's rows [r0, r1) of cnt images from n0 laid out on the grid, (o, cols)
 * with image i's band at column i band, zeros in the junk columns. */
static void y_to_grid(const ae_conv_geom *g, const grid_plan *p, const ae_real *y, int64_t n0, int64_t cnt,
                      int64_t r0, int64_t r1, ae_real *yg, int64_t cols) {
  const int64_t plane = g->oh * g->ow, band = (r1 - r0) * p->wq;
#if defined(__AVX512F__)
  ae_rc_spread sp; /* every band is the same spread of rows of ow to rows of wq */
  if (ae_rc_spread_init(&sp, g->ow, p->wq, band) == 0) {
    const int64_t run = (r1 - r0) * g->ow;
    for (int64_t o = 0; o < g->o; o++)
      for (int64_t i = 0; i < cnt; i++) {
        /* the next run asked for while this one spreads (see AE_RC_AHEAD) */
        const int64_t no = i + 1 < cnt ? o : o + 1, ni = i + 1 < cnt ? i + 1 : 0;
        if (no < g->o)
          ae_rc_prefetch(y + ((n0 + ni) * g->o + no) * plane + r0 * g->ow, 0, run * (int64_t)sizeof(ae_real));
        ae_rc_spread_run(&sp, yg + o * cols + i * band, y + ((n0 + i) * g->o + o) * plane + r0 * g->ow);
      }
    return;
  }
#endif
  for (int64_t o = 0; o < g->o; o++)
    for (int64_t i = 0; i < cnt; i++)
      for (int64_t r = r0; r < r1; r++) {
        ae_row_window(yg + o * cols + i * band + (r - r0) * p->wq, y + ((n0 + i) * g->o + o) * plane + r * g->ow,
                      p->wq, 0, g->ow);
      }
}

/* Four vectors of 64 bytes: the direct path's accumulators (GCC vector
 * extensions, so the portable build gets narrower instructions, not a
 * different sum). vec_u is the unaligned view of the tap runs. */
typedef ae_real vec __attribute__((vector_size(64)));
typedef ae_real vec_u __attribute__((vector_size(64), aligned(sizeof(ae_real))));
#define VLANES ((int)(64 / sizeof(ae_real)))
#define NVEC (DIRECT_JV / VLANES)

/* Direct forward of one phase-split image xq for few output channels: for
 * each DIRECT_JV grid columns, acc = sum over taps t in order of w[o][t]
 * times the tap's run; the valid columns go to y (this image's planes) plus b[o]. */
static void direct_fwd(const ae_conv_geom *g, const grid_plan *p, const ae_real *xq, const ae_real *w,
                       const ae_real *b, const int64_t *toff, ae_real *y) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow;
  for (int64_t o = 0; o < g->o; o++) {
    const ae_real *wo = w + o * ckk, bo = b ? b[o] : 0;
    ae_real *yo = y + o * plane;
    for (int64_t j0 = 0; j0 < p->gcols; j0 += DIRECT_JV) {
      vec acc[NVEC] = {{0}};
      for (int64_t tp = 0; tp < ckk; tp++) {
        const vec_u *src = (const vec_u *)(xq + toff[tp] + j0);
        for (int v = 0; v < NVEC; v++) acc[v] += wo[tp] * src[v];
      }
      ae_real out[DIRECT_JV];
      memcpy(out, acc, sizeof out);
      for (int64_t j = j0, e = imin(p->gcols, j0 + DIRECT_JV); j < e; j++) {
        const int64_t r = j / p->wq, c = j % p->wq;
        const ae_real v = out[j - j0] + bo;
        if (c < g->ow) yo[r * g->ow + c] = g->relu && !(v > 0) ? 0 : v;
      }
    }
  }
}

/* sum_j a[j] b[j] over n elements: DIRECT_JV lane sums (NVEC vectors) of
 * the first n - n % DIRECT_JV, added pairwise (vector v + w into vector v
 * for w = NVEC / 2, ..., 1, then a vector's halves, down to its lanes),
 * plus the rest summed in order. Adding the 64 lanes one after another had
 * been 79% of this function's samples: its share of conv-dae's step went
 * from 4.0% to 2.9% (perf, 60 steps, 1 thread). */
static ae_real dot(const ae_real *a, const ae_real *b, int64_t n) {
  vec acc[NVEC] = {{0}};
  int64_t j = 0;
  for (; j + DIRECT_JV <= n; j += DIRECT_JV)
    for (int v = 0; v < NVEC; v++)
      acc[v] += *(const vec_u *)(a + j + v * VLANES) * *(const vec_u *)(b + j + v * VLANES);
  ae_real tail = 0; /* the last n % DIRECT_JV products, in order */
  for (; j < n; j++) tail += a[j] * b[j];
  for (int w = NVEC / 2; w >= 1; w /= 2)
    for (int v = 0; v < w; v++) acc[v] += acc[v + w];
  /* halves of 64, 32 and 16 bytes, then the 4 (float) or 2 (double) lanes in pairs */
  typedef ae_real vec32 __attribute__((vector_size(32)));
  typedef ae_real vec16 __attribute__((vector_size(16)));
  vec32 h32[2];
  vec16 h16[2];
  memcpy(h32, &acc[0], sizeof h32);
  const vec32 s32 = h32[0] + h32[1];
  memcpy(h16, &s32, sizeof h16);
  const vec16 s16 = h16[0] + h16[1];
  ae_real lane[16 / sizeof(ae_real)];
  memcpy(lane, &s16, sizeof lane);
  const ae_real r = sizeof lane / sizeof lane[0] == 4 ? (lane[0] + lane[2]) + (lane[1] + lane[3]) : lane[0] + lane[1];
  return r + tail;
}

int ae_conv_grid_fwd(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                     ae_real *y) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * in_plane(g);
  const grid_plan p = plan_of(g);
  const int64_t jobs = cdiv(g->n, p.imgs);
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && jobs >= 2;
  ae_tape_mark m = ae_tape_get_mark(t);
  pad_plan pp;
  int64_t *toff = tap_table(t, g->op, g, &p); /* shared by the threads, read only, as pp and wtail */
  if (!toff || pad_plan_init(t, g->op, g, &p, &pp)) return -1;
  const ae_real *wtail = NULL; /* w's last rows, for tiles read in place */
  const int in_place = g->o > DIRECT_MAX_O && ae__conv_in_place(ckk, p.rows * p.wq);
  if (in_place && ae__conv_weight_tail(t, g, w, &wtail)) return -1;
  ae_conv_scratch s;
  int fail = 0;
  /* per thread: the block's images and, unless it goes straight to y, the product */
  if (ae_conv_scratch_get(t, g->op, par, p.imgs * p.xpad + (in_place ? 0 : g->o * p.cols), &s)) return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t job = 0; job < jobs; job++) {
    ae_real *xq = ae_conv_scratch_slot(&s), *tmp = xq + p.imgs * p.xpad;
    const int64_t n0 = job * p.imgs, cnt = imin(p.imgs, g->n - n0);
    for (int64_t i = 0; i < cnt; i++) pad_image(g, &p, &pp, x + (n0 + i) * img, xq + i * p.xpad);
    if (g->o <= DIRECT_MAX_O) {
      for (int64_t i = 0; i < cnt; i++)
        direct_fwd(g, &p, xq + i * p.xpad, w, b, toff, y + (n0 + i) * g->o * plane);
      continue;
    }
    for (int64_t r0 = 0; r0 < g->oh; r0 += p.rows) {
      const int64_t r1 = imin(g->oh, r0 + p.rows), band = (r1 - r0) * p.wq, cols = cnt * band;
      const ae_conv_taps f = {toff, xq, p.xpad, band, r0 * p.wq, p.wq};
      const int rc = ae__conv_product(g, in_place, w, wtail, &f, cnt, b, y + n0 * g->o * plane, tmp, cols);
      if (rc < 0) {
        __atomic_store_n(&fail, 1, __ATOMIC_RELAXED);
        break;
      }
      if (rc == 1) continue; /* y written */
      for (int64_t i = 0; i < cnt; i++)
        for (int64_t o = 0; o < g->o; o++) {
          const ae_real bo = b ? b[o] : 0;
          /* the next plane's rows asked for while these are written (y is megabytes, not in cache) */
          ae_rc_prefetch_w(y + ((n0 + i) * g->o + o) * plane + r0 * g->ow, plane * (int64_t)sizeof(ae_real),
                           (r1 - r0) * g->ow * (int64_t)sizeof(ae_real));
          for (int64_t r = r0; r < r1; r++) {
            out_row(g, y + ((n0 + i) * g->o + o) * plane + r * g->ow, tmp + o * cols + i * band + (r - r0) * p.wq,
                    g->ow, bo);
          }
        }
    }
  });
  ae_tape_rewind(t, m);
  if (fail) {
    ae_raise(t, AE_ERR_NOMEM, g->op, "%s", ae_last_error());
    return -1;
  }
  return 0;
}

/* Stride 1: x = conv2d(y, wf) + b with wf[ci][oc][ki][kj] =
 * w[oc][ci][kh-1-ki][kw-1-kj], padding k - 1 - p (needs p <= k - 1). */
static int data_flipped(ae_tape *t, const ae_conv_geom *g, const ae_real *y, const ae_real *w, const ae_real *b,
                        ae_real *x) {
  const ae_conv_geom f = {g->n, g->o, g->oh, g->ow, g->c, g->h, g->w, g->kh, g->kw, 1, 1,
                          g->kh - 1 - g->ph, g->kw - 1 - g->pw, g->relu, g->op, 0};
  const int64_t kk = g->kh * g->kw;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_real *wf = ae_arena_alloc(t, g->op, (size_t)(g->o * g->c * kk) * sizeof(ae_real));
  if (!wf) return -1;
  for (int64_t oc = 0; oc < g->o; oc++)
    for (int64_t ci = 0; ci < g->c; ci++)
      for (int64_t k = 0; k < kk; k++) wf[(ci * g->o + oc) * kk + k] = w[(oc * g->c + ci) * kk + (kk - 1 - k)];
  int rc = ae_conv_grid_fwd(t, &f, y, wf, b, x);
  ae_tape_rewind(t, m);
  return rc;
}

int ae_conv_grid_data(ae_tape *t, const ae_conv_geom *g, const ae_real *y, const ae_real *w, const ae_real *b,
                      ae_real *x) {
  if (g->sh == 1 && g->sw == 1 && g->ph <= g->kh - 1 && g->pw <= g->kw - 1 && g->c > DIRECT_MAX_O)
    return data_flipped(t, g, y, w, b, x);
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * g->h * g->w;
  const grid_plan p = plan_of(g);
  const int64_t jobs = cdiv(g->n, p.imgs);
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && jobs >= 2;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  ae_rc_perm perm; /* shared by the threads, read only */
  if (strided(g) && phase_perm(t, g->op, g, &p, 1, &perm)) return -1;
  if (ae_conv_scratch_get(t, g->op, par, p.imgs * p.xpad + (ckk + g->o) * p.cols, &s)) return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t job = 0; job < jobs; job++) {
    ae_real *xq = ae_conv_scratch_slot(&s), *col = xq + p.imgs * p.xpad, *yg = col + ckk * p.cols;
    const int64_t n0 = job * p.imgs, cnt = imin(p.imgs, g->n - n0);
    ae_row_zero(xq, cnt * p.xpad);
    for (int64_t r0 = 0; r0 < g->oh; r0 += p.rows) {
      const int64_t r1 = imin(g->oh, r0 + p.rows), cols = cnt * (r1 - r0) * p.wq;
      y_to_grid(g, &p, y, n0, cnt, r0, r1, yg, cols);
      ae_gemm(1, 0, ckk, cols, g->o, 1, w, ckk, yg, cols, 0, col, cols);
      grid_col2im_add(g, &p, col, cols, cnt, r0, r1, xq);
    }
    for (int64_t i = 0; i < cnt; i++)
      unpad_image(g, &p, strided(g) ? &perm : NULL, xq + i * p.xpad, b, x + (n0 + i) * img);
  });
  ae_tape_rewind(t, m);
  return 0;
}

int ae_conv_grid_weight(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *y, ae_real *w) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * in_plane(g), wn = g->o * ckk;
  const grid_plan p = plan_of(g);
  pad_plan pp;
  const int64_t nch = imin(g->n, AE_CONV_WG_CHUNKS);
  const int direct = g->o <= DIRECT_MAX_O; /* dot products, no GEMM */
  /* rows (AVX-512): dW^T += col y_grid^T with col's rows read where they lie (conv_grid_product.c) */
#if defined(__AVX512F__)
  const int rows = !direct, dots = rows && ae__conv_weight_dots(g);
#else
  const int rows = 0, dots = 0;
#endif
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && nch >= 2, tr = rows || (!direct && ckk < g->o);
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  int fail = 0;
  ae_real *part = ae_arena_alloc(t, g->op, (size_t)(nch * wn) * sizeof(ae_real));
  int64_t *toff = tap_table(t, g->op, g, &p);
  /* per thread: the block's images, y on the grid (the direct path lays out
   * a whole image, which may be more than a band; the dot products read y
   * where it lies), and col when tr */
  const int64_t ygn = dots ? 0 : g->o * (direct ? imax(p.cols, p.gcols) : p.cols);
  if (!part || !toff || pad_plan_init(t, g->op, g, &p, &pp) ||
      ae_conv_scratch_get(t, g->op, par, p.imgs * p.xpad + ygn + (tr && !rows ? ckk * p.cols : 0), &s))
    return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t k = 0; k < nch; k++) {
    ae_real *xq = ae_conv_scratch_slot(&s), *yg = xq + p.imgs * p.xpad, *col = yg + ygn; /* col: tr only */
    ae_real *dst = part + k * wn;
    int first = 1;
    for (int64_t n = k * g->n / nch, end = (k + 1) * g->n / nch; n < end;) {
      const int64_t cnt = imin(p.imgs, end - n);
      for (int64_t i = 0; i < cnt; i++) pad_image(g, &p, &pp, x + (n + i) * img, xq + i * p.xpad);
      if (direct) { /* dst[o][t] += sum over the grid of y_grid[o] times tap t's run, image by image */
        for (int64_t i = 0; i < cnt; i++) {
          y_to_grid(g, &p, y, n + i, 1, 0, g->oh, yg, p.gcols);
          for (int64_t o = 0; o < g->o; o++)
            for (int64_t tp = 0; tp < ckk; tp++) {
              const ae_real v = dot(yg + o * p.gcols, xq + i * p.xpad + toff[tp], p.gcols);
              dst[o * ckk + tp] = first ? v : dst[o * ckk + tp] + v;
            }
          first = 0;
        }
        n += cnt;
        continue;
      }
      for (int64_t r0 = 0; r0 < g->oh; r0 += p.rows) {
        const int64_t r1 = imin(g->oh, r0 + p.rows), cols = cnt * (r1 - r0) * p.wq;
#if defined(__AVX512F__)
        if (rows) {
          const ae_conv_taps f = {toff, xq, p.xpad, (r1 - r0) * p.wq, r0 * p.wq, p.wq};
          ae__conv_weight_product(g, &f, cnt, y + n * g->o * plane, yg, first, dst);
          first = 0;
          continue;
        }
#endif
        y_to_grid(g, &p, y, n, cnt, r0, r1, yg, cols);
        if (tr) {
          grid_im2col(g, &p, xq, cnt, r0, r1, col, cols);
          ae_gemm(0, 1, ckk, g->o, cols, 1, col, cols, yg, cols, first ? 0 : 1, dst, g->o);
        } else {
          const ae_conv_taps f = {toff, xq, p.xpad, (r1 - r0) * p.wq, r0 * p.wq, p.wq};
          if (ae_gemm_packed_b(0, g->o, ckk, cols, 1, yg, cols, ae__conv_pack_runs_transposed, &f, first ? 0 : 1, dst,
                               ckk)) {
            __atomic_store_n(&fail, 1, __ATOMIC_RELAXED);
            break;
          }
        }
        first = 0;
      }
      n += cnt;
    }
  });
  if (fail) {
    ae_tape_rewind(t, m);
    ae_raise(t, AE_ERR_NOMEM, g->op, "%s", ae_last_error());
    return -1;
  }
  ae_conv_sum_partials(g, part, nch, tr, w);
  ae_tape_rewind(t, m);
  return 0;
}
