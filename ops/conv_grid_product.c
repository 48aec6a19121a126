/* conv_grid_product.c: the grid convolution's products with its column
 * matrix col, which is never written (conv_grid_product.h).
 *   forward: a block's y_grid = w col, two ways, chosen by the product's
 *            shape: the micro-kernel reading w's rows and the taps' runs
 *            where they lie, storing straight into y (tiles_in_place,
 *            AVX-512), or the built-in GEMM with B panels packed from the
 *            runs (pack_taps, ae_gemm_packed_b).
 *   weight:  dW^T = col y_grid^T, the micro-kernel reading col's rows (the
 *            runs) where they lie (ae__conv_weight_product, AVX-512); with
 *            few taps, dot products of the runs and y's rows, both where
 *            they lie (weight_dots, ae__gemm_dots). */
#include <string.h>

#include "autograd/op_api.h"
#include "base/gemm_packed.h"
#include "base/gemm_ukernel.h"
#include "base/rowcopy.h"
#include "conv_grid_product.h"

static int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* The product's B operand, the column matrix of a block, packed straight
 * from the images (ae_gemm_packed_b): row t of B is tap t's run, column j
 * is image j / band's grid column r0 wq + j % band. */
static void pack_taps(const void *ctx, int64_t p0, int64_t kc, int64_t j0, int nr, ae_real *dst) {
  const ae_conv_taps *f = ctx;
  /* the panel's columns in runs that stay in one image */
  const ae_real *src[AE_GEMM_NR];
  int at[AE_GEMM_NR + 1], nseg = 0;
  for (int j = 0; j < nr; nseg++) {
    const int64_t i = (j0 + j) / f->band, jj = (j0 + j) % f->band;
    src[nseg] = f->xq + i * f->xpad + f->r0wq + jj;
    at[nseg] = j;
    j += (int)imin(nr - j, f->band - jj);
  }
  at[nseg] = nr;
  if (nseg == 1 && nr == AE_GEMM_NR) { /* the common panel: one run per tap, a constant-size copy */
    for (int64_t p = 0; p < kc; p++)
      __builtin_memcpy(dst + p * AE_GEMM_NR, src[0] + f->toff[p0 + p], AE_GEMM_NR * sizeof(ae_real));
    return;
  }
  for (int64_t p = 0; p < kc; p++) {
    ae_real *d = dst + p * AE_GEMM_NR;
    const int64_t off = f->toff[p0 + p];
    for (int sg = 0; sg < nseg; sg++) ae_row_copy(d + at[sg], src[sg] + off, at[sg + 1] - at[sg]);
    if (nr < AE_GEMM_NR) ae_row_zero(d + nr, AE_GEMM_NR - nr);
  }
}

/* Taps (K) from which the forward's product reads the runs in place
 * (AVX-512; see tiles_in_place): every tap count of the zoo's
 * convolutions (the band rule below still sends some to packing). With
 * few taps a tile's stores weigh as much as its multiply-adds. At 9
 * it had been no faster than packing (68.8 GFLOP/s against 68.6) and
 * deconv-ae's step 0.84x as fast while the tiles stored with vcompressps
 * to memory and y's lines arrived one miss at a time; with the compress in
 * a register and y's lines asked for ahead, bench_conv's 28x28 1->32
 * forward (1 thread, best of 8) ran at 78.4 GFLOP/s against 62.6 packed
 * (stride 1) and 74.0 against 52.5 (stride 2). Below 9 not measured. */
#define IN_PLACE_MIN_K 9

/* In place, each image's band is its own panels, the last one partly
 * empty, where packed panels run on into the next image. Read in place
 * only when the panels' columns are at least 7/8 the band's: 14x14 s2
 * (bands of 56 in 64 columns) gained (bench_conv), conv-ae's 7x7 s2 (20
 * in 32) lost: conv-ae's step was 1.10x faster with this rule than with
 * every product in place (aezoo_ab.sh, 5 rounds, 1 thread). */
int ae__conv_in_place(int64_t k, int64_t band) {
#if defined(__AVX512F__)
  const int64_t cols = (band + AE_GEMM_NR - 1) / AE_GEMM_NR * AE_GEMM_NR;
  return k >= IN_PLACE_MIN_K && 8 * band >= 7 * cols;
#else
  (void)k, (void)band;
  return 0;
#endif
}

int ae__conv_weight_tail(ae_tape *t, const ae_conv_geom *g, const ae_real *w, const ae_real **tail) {
  const int64_t ckk = g->c * g->kh * g->kw, rows = g->o % AE_GEMM_MR;
  *tail = NULL;
  if (!rows) return 0;
  ae_real *d = ae_arena_alloc(t, g->op, (size_t)(AE_GEMM_MR * ckk) * sizeof(ae_real));
  if (!d) return -1;
  memcpy(d, w + (g->o - rows) * ckk, (size_t)(rows * ckk) * sizeof(ae_real));
  ae_row_zero(d + rows * ckk, (AE_GEMM_MR - rows) * ckk);
  *tail = d;
  return 0;
}

#if defined(__AVX512F__)
/* y = w col + b for a block with nothing packed (the cnt images of f, y
 * at the first): each image's band in panels of AE_GEMM_NR grid columns,
 * each panel through every AE_GEMM_MR-row tile of w while its runs are in
 * L1, the micro-kernel reading w's rows and the taps' runs where they lie
 * and storing the panel's valid columns, which are consecutive in y, with
 * a compress in a register and a masked store a vector
 * (ae__gemm_ukernel_ai). The last tile, when o is not a multiple of
 * AE_GEMM_MR, reads its rows from wtail. A panel's last columns may read
 * past the image's runs, into the next image or the slack conv_grid.c's
 * plan keeps after each image (xpad); they are not stored. Against
 * packing the runs into B panels (ae_gemm_packed_b with pack_taps, then
 * the grid's rows copied to y),
 * bench_conv's 32-channel forwards, 1 thread, best of 6 alternations:
 * 28x28 s1 186.7 GFLOP/s against 153.4, 14x14 s1 178.6 against 165.9,
 * 7x7 s1 163.3 against 122.6, 28x28 s2 143.7 against 128.0, 14x14 s2
 * 133.5 against 115.6. The sums run over the taps in order in one
 * accumulator an element, not in the packed GEMM's K blocks: the two
 * paths agree to rounding. */
#ifndef PF_OUT
#define PF_OUT (2 * AE_GEMM_NR)
#endif
static void tiles_in_place(const ae_conv_geom *g, const ae_real *w, const ae_real *wtail, const ae_conv_taps *f,
                           int64_t cnt, const ae_real *b, ae_real *y) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow;
  for (int64_t j0 = 0; j0 < f->band; j0 += AE_GEMM_NR) {
    /* the panel's valid columns (c < ow) and where the first goes in y's plane */
    const int n = (int)imin(AE_GEMM_NR, f->band - j0);
    uint32_t keep = 0;
    int64_t start = -1, row = (f->r0wq + j0) / f->wq, c = (f->r0wq + j0) % f->wq;
    for (int l = 0; l < n; l++, c = c + 1 == f->wq ? (row++, 0) : c + 1) {
      if (c >= g->ow) continue;
      if (start < 0) start = row * g->ow + c;
      keep |= 1u << l;
    }
    if (!keep) continue;
    for (int64_t i = 0; i < cnt; i++) {
      const ae_real *bp = f->xq + i * f->xpad + f->r0wq + j0;
      for (int64_t i0 = 0; i0 < g->o; i0 += AE_GEMM_MR) {
        const int m = (int)imin(AE_GEMM_MR, g->o - i0);
        const ae_gemm_compress_out co = {y + (i * g->o + i0) * plane + start, plane, b ? b + i0 : NULL, keep,
                                         g->relu};
        /* y streams from memory, a plane per tile row: ask for the lines two panels on */
        for (int r = 0; r < m; r++) {
          __builtin_prefetch(co.dst + r * plane + PF_OUT, 1, 3);
          __builtin_prefetch(co.dst + r * plane + PF_OUT + AE_GEMM_VL, 1, 3);
        }
        ae__gemm_ukernel_ai(ckk, m == AE_GEMM_MR ? w + i0 * ckk : wtail, ckk, bp, f->toff, &co, m, n);
      }
    }
  }
}
#endif

int ae__conv_product(const ae_conv_geom *g, int in_place, const ae_real *w, const ae_real *wtail,
                     const ae_conv_taps *f, int64_t cnt, const ae_real *b, ae_real *y, ae_real *tmp, int64_t cols) {
#if defined(__AVX512F__)
  if (in_place) {
    tiles_in_place(g, w, wtail, f, cnt, b, y);
    return 1;
  }
#else
  (void)in_place, (void)wtail, (void)b, (void)y;
#endif
  const int64_t ckk = g->c * g->kh * g->kw;
  return ae_gemm_packed_b(0, g->o, cols, ckk, 1, w, ckk, pack_taps, f, 0, tmp, cols) ? -1 : 0;
}

/* The weight gradient's B operand, col^T (K = grid columns, N = taps),
 * packed straight from the images: row p of B is grid column p (image
 * p / band), column j is tap j, so a panel is NR runs transposed, in
 * blocks of AE_GEMM_VL runs by AE_GEMM_VL columns. */
void ae__conv_pack_runs_transposed(const void *ctx, int64_t p0, int64_t kc, int64_t j0, int nr, ae_real *dst) {
  const ae_conv_taps *f = ctx;
  enum { VLB = AE_GEMM_VL };
  const ae_real *rows[VLB];
  for (int64_t pp = 0; pp < kc;) {
    const int64_t i = (p0 + pp) / f->band, q = (p0 + pp) % f->band, len = imin(kc - pp, f->band - q);
    const ae_real *img = f->xq + i * f->xpad + f->r0wq + q;
    for (int64_t q0 = 0; q0 < len; q0 += VLB) {
      const int cols = (int)imin(VLB, len - q0);
      for (int jb = 0; jb < AE_GEMM_NR; jb += VLB) {
        const int store = (int)imin(VLB, AE_GEMM_NR - jb), nrows = (int)imax(0, imin(store, nr - jb));
        for (int r = 0; r < nrows; r++) rows[r] = img + f->toff[j0 + jb + r] + q0;
        ae_gemm_transpose_rows(rows, nrows, cols, dst + (pp + q0) * AE_GEMM_NR + jb, AE_GEMM_NR, store);
      }
    }
    pp += len;
  }
}

#if defined(__AVX512F__)
/* Taps up to which the weight gradient is dot products (weight_dots), not
 * the micro-kernel on the output gradient's transpose. With 9 taps (one
 * input channel, 3x3) the transposes of o planes were as much work as the
 * product, whose 9 rows filled two 8-row tiles. bench_conv, 28x28 1->32,
 * backward (1 thread, best of 6): 69.9 GFLOP/s against 60.9 at stride 1,
 * 56.4 against 49.3 at stride 2; the weight gradient's share of
 * deconv-ae's step 27.0% -> 25.2% (perf, two runs each). */
#ifndef DOTS_MAX_K
#define DOTS_MAX_K 9
#endif

/* ygt[(i band + (r - r0) wq + c) o + oc] = y[i][oc][r][c] for the cnt
 * images' rows r from r0 = f->r0wq / wq on (band / wq of them), 0 in the
 * junk columns c >= ow: 16 x 16 register transposes from o planes. */
static void y_to_grid_t(const ae_conv_geom *g, const ae_conv_taps *f, int64_t cnt, const ae_real *y, ae_real *ygt) {
  const int64_t plane = g->oh * g->ow, r0 = f->r0wq / f->wq, nr = f->band / f->wq, o = g->o;
  for (int64_t i = 0; i < cnt; i++)
    for (int64_t r = 0; r < nr; r++) {
      ae_real *d = ygt + (i * f->band + r * f->wq) * o;
      const ae_real *sr = y + i * o * plane + (r0 + r) * g->ow;
      for (int64_t o0 = 0; o0 < o; o0 += AE_GEMM_VL)
        for (int64_t c0 = 0; c0 < g->ow; c0 += AE_GEMM_VL) {
          const int nrows = (int)imin(AE_GEMM_VL, o - o0), ncols = (int)imin(AE_GEMM_VL, g->ow - c0);
          ae_gemm_transpose_block(sr + o0 * plane + c0, plane, nrows, ncols, d + c0 * o + o0, o, nrows);
        }
      ae_row_zero(d + g->ow * o, (f->wq - g->ow) * o);
    }
}

/* dst[t o + oc] (+)= the dot products of tap t's runs and channel oc of
 * the output gradient y, both read where they lie, a row of the output at
 * a time: its ow columns are consecutive in y's plane and in each run. */
static void weight_dots(const ae_conv_geom *g, const ae_conv_taps *f, int64_t cnt, const ae_real *y, int first,
                        ae_real *dst) {
  enum { DM = AE_GEMM_DOTS_M, DN = AE_GEMM_DOTS_N };
  const int64_t ckk = g->c * g->kh * g->kw, o = g->o, plane = g->oh * g->ow, r0 = f->r0wq / f->wq;
  const ae_gemm_dots_shape sh = {g->ow, f->band / f->wq, cnt, f->wq, f->xpad, g->ow, o * plane};
  for (int64_t o0 = 0; o0 < o; o0 += DN) {
    const int n = (int)imin(DN, o - o0);
    const ae_real *brow[DN]; /* rows past n repeat the first: read, not stored */
    for (int j = 0; j < DN; j++) brow[j] = y + (o0 + (j < n ? j : 0)) * plane + r0 * g->ow;
    for (int64_t t0 = 0; t0 < ckk; t0 += DM) {
      const int m = (int)imin(DM, ckk - t0);
      const ae_real *arow[DM];
      for (int i = 0; i < DM; i++) arow[i] = f->xq + f->r0wq + f->toff[t0 + (i < m ? i : 0)];
      ae__gemm_dots(&sh, arow, m, brow, n, !first, dst + t0 * o + o0, o, 1);
    }
  }
}

int ae__conv_weight_dots(const ae_conv_geom *g) { return g->c * g->kh * g->kw <= DOTS_MAX_K; }

void ae__conv_weight_product(const ae_conv_geom *g, const ae_conv_taps *f, int64_t cnt, const ae_real *y,
                             ae_real *ygt, int first, ae_real *dst) {
  const int64_t ckk = g->c * g->kh * g->kw, o = g->o;
  if (ae__conv_weight_dots(g)) {
    weight_dots(g, f, cnt, y, first, dst);
    return;
  }
  y_to_grid_t(g, f, cnt, y, ygt);
  for (int64_t t0 = 0; t0 < ckk; t0 += AE_GEMM_MR) {
    const int m = (int)imin(AE_GEMM_MR, ckk - t0);
    const ae_real *arow[AE_GEMM_MR]; /* rows past m repeat the first: read, not stored */
    for (int i = 0; i < AE_GEMM_MR; i++) arow[i] = f->xq + f->r0wq + f->toff[t0 + (i < m ? i : 0)];
    for (int64_t o0 = 0; o0 < o; o0 += AE_GEMM_NR) {
      const int n = (int)imin(AE_GEMM_NR, o - o0);
      ae__gemm_ukernel_rows(f->band, cnt, f->xpad, arow, ygt + o0, o, first ? 0 : 1, dst + t0 * o + o0, o, m, n);
    }
  }
}
#endif
