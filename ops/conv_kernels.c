/* conv_kernels.c: the convolution kernels of conv_kernels.h, by im2col /
 * col2im and the one GEMM entry point, over blocks of output columns.
 *
 * A block is either several whole images side by side (small images: the
 * GEMM gets at least a few hundred columns) or a band of output rows of one
 * image (large images); its column matrix col (c*kh*kw, cols) is sized to
 * stay in L2 (TILE_ELEMS). The blocking depends on the shapes alone.
 *   fwd:    y[:, block] = W (o, ckk) col                     (+ b[o])
 *   data:   col = W^T y[:, block], then col2im adds col into x
 *   weight: dW += y[:, block] col^T (or dW^T += col y^T when ckk < o);
 *           the batch is split into WG_CHUNKS chunks (not the thread
 *           count), each summed in order into its own partial, and the
 *           partials added in chunk order.
 * Multi-image blocks gather y's planes into one (o, cols) matrix (data,
 * weight) or scatter the product back to NCHW (fwd). Threads take whole
 * blocks (data: whole images; weight: chunks), so every output element is
 * computed the same way whatever the thread count. Each thread's buffers
 * come from the tape's arena before the parallel region and are given back
 * (mark / rewind) before return. */
#include <stdlib.h>
#include <string.h>

#include "conv_kernels.h"
#include "conv_scratch.h"
#include "base/gemm.h"
#include "base/gemm_packed.h"
#include "base/rowcopy.h"

#define TILE_ELEMS AE_CONV_TILE_ELEMS
#define MAX_COLS AE_CONV_MAX_COLS
#define WG_CHUNKS AE_CONV_WG_CHUNKS

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

/* Blocking, from the shapes alone: `imgs` whole images per block when one
 * image's columns are small (imgs > 1), else bands of `rows` output rows of
 * one image, as many as fit TILE_ELEMS, balanced over the image. */
typedef struct {
  int64_t imgs, rows, cols; /* cols: the most columns of any block */
} blocking;

static blocking blocking_of(const ae_conv_geom *g) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow;
  blocking b = {1, g->oh, plane};
  int64_t fit = TILE_ELEMS / imax(1, ckk * plane);
  if (fit >= 2 && plane < MAX_COLS) {
    b.imgs = imin(g->n, imin(fit, imax(1, MAX_COLS / plane)));
    b.cols = b.imgs * plane;
    return b;
  }
  int64_t rt = imax(1, imin(g->oh, TILE_ELEMS / imax(1, ckk * g->ow)));
  b.rows = cdiv(g->oh, cdiv(g->oh, rt));
  b.cols = b.rows * g->ow;
  return b;
}

/* Output columns ow whose input column ow*sw - pw + kw lies in [0, w): [lo, hi). */
static void valid_cols(const ae_conv_geom *g, int64_t kw, int64_t *lo, int64_t *hi) {
  int64_t a = g->pw - kw; /* ow*sw >= a */
  int64_t l = a <= 0 ? 0 : cdiv(a, g->sw);
  int64_t b = g->w - 1 + g->pw - kw; /* ow*sw <= b */
  int64_t h = b < 0 ? 0 : b / g->sw + 1;
  *lo = imin(l, g->ow);
  *hi = imax(*lo, imin(h, g->ow));
}

/* col[((ci*kh + ki)*kw + kj) * ld + (oh - r0)*ow + oj] = x[ci, oh*sh - ph + ki, oj*sw - pw + kj] or 0,
 * for output rows [r0, r1) of image x. */
static void im2col(const ae_conv_geom *g, const ae_real *x, int64_t r0, int64_t r1, ae_real *col, int64_t ld) {
  const int64_t ow = g->ow, sw = g->sw;
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        ae_real *row = col + ((ci * g->kh + ki) * g->kw + kj) * ld;
        int64_t lo, hi;
        valid_cols(g, kj, &lo, &hi);
        for (int64_t oh = r0; oh < r1; oh++) {
          ae_real *d = row + (oh - r0) * ow;
          int64_t ih = oh * g->sh - g->ph + ki;
          if (ih < 0 || ih >= g->h) {
            memset(d, 0, (size_t)ow * sizeof *d);
            continue;
          }
          const ae_real *s = x + (ci * g->h + ih) * g->w;
          const int64_t iw0 = kj - g->pw; /* input column of output column 0 */
          for (int64_t j = 0; j < lo; j++) d[j] = 0;
          if (sw == 1)
            memcpy(d + lo, s + iw0 + lo, (size_t)(hi - lo) * sizeof *d);
          else
            for (int64_t j = lo; j < hi; j++) d[j] = s[iw0 + j * sw];
          for (int64_t j = hi; j < ow; j++) d[j] = 0;
        }
      }
}

/* The adjoint of im2col: adds col into image x (the same index map). */
static void col2im_add(const ae_conv_geom *g, const ae_real *col, int64_t ld, int64_t r0, int64_t r1, ae_real *x) {
  const int64_t ow = g->ow, sw = g->sw;
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        const ae_real *row = col + ((ci * g->kh + ki) * g->kw + kj) * ld;
        int64_t lo, hi;
        valid_cols(g, kj, &lo, &hi);
        for (int64_t oh = r0; oh < r1; oh++) {
          int64_t ih = oh * g->sh - g->ph + ki;
          if (ih < 0 || ih >= g->h) continue;
          const ae_real *s = row + (oh - r0) * ow;
          ae_real *d = x + (ci * g->h + ih) * g->w;
          const int64_t iw0 = kj - g->pw;
          if (sw == 1)
            for (int64_t j = lo; j < hi; j++) d[iw0 + j] += s[j];
          else
            for (int64_t j = lo; j < hi; j++) d[iw0 + j * sw] += s[j];
        }
      }
}

/* Whether the kernels hand over to the padded-grid path (conv_grid.c): yes,
 * unless AEZOO_CONV=im2col (read once; for A/B measurement). */
static int grid_on(void) {
  static int on = -1;
  int v = __atomic_load_n(&on, __ATOMIC_RELAXED);
  if (v < 0) {
    const char *e = getenv("AEZOO_CONV");
    v = !(e && strcmp(e, "im2col") == 0);
    __atomic_store_n(&on, v, __ATOMIC_RELAXED);
  }
  return v;
}

int ae_conv_up_ok(const ae_conv_geom *g) {
  return g->up > 1 && g->h % g->up == 0 && g->w % g->up == 0 && grid_on() && ae_conv_grid_fits(g);
}

/* The output side of images [n0, n0 + cnt) as one (o, cnt*plane) matrix:
 * copies each y[n, o, :] into tmp's row o, column block n - n0. */
static void gather(const ae_conv_geom *g, const ae_real *y, int64_t n0, int64_t cnt, ae_real *tmp) {
  const int64_t plane = g->oh * g->ow;
  for (int64_t i = 0; i < cnt; i++)
    for (int64_t o = 0; o < g->o; o++)
      memcpy(tmp + o * cnt * plane + i * plane, y + ((n0 + i) * g->o + o) * plane, (size_t)plane * sizeof *tmp);
}

int ae_conv_fwd_kernel(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                       ae_real *y) {
  if (grid_on() && ae_conv_grid_fits(g)) return ae_conv_grid_fwd(t, g, x, w, b, y);
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * g->h * g->w;
  const blocking bk = blocking_of(g);
  const int64_t per_img = cdiv(g->oh, bk.rows), jobs = bk.imgs > 1 ? cdiv(g->n, bk.imgs) : g->n * per_img;
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && jobs >= 2;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  if (ae_conv_scratch_get(t, g->op, par, ckk * bk.cols + (bk.imgs > 1 ? g->o * bk.cols : 0), &s)) return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t job = 0; job < jobs; job++) {
    ae_real *col = ae_conv_scratch_slot(&s), *tmp = col + ckk * bk.cols;
    if (bk.imgs > 1) { /* whole images side by side, then scattered to NCHW */
      int64_t n0 = job * bk.imgs, cnt = imin(bk.imgs, g->n - n0), cols = cnt * plane;
      for (int64_t i = 0; i < cnt; i++) im2col(g, x + (n0 + i) * img, 0, g->oh, col + i * plane, cols);
      ae_gemm(0, 0, g->o, cols, ckk, 1, w, ckk, col, cols, 0, tmp, cols);
      for (int64_t i = 0; i < cnt; i++)
        for (int64_t o = 0; o < g->o; o++) {
          ae_real *d = y + ((n0 + i) * g->o + o) * plane, bo = b ? b[o] : 0;
          const ae_real *src = tmp + o * cols + i * plane;
          for (int64_t j = 0; j < plane; j++) {
            const ae_real v = src[j] + bo;
            d[j] = g->relu && !(v > 0) ? 0 : v;
          }
        }
      continue;
    }
    int64_t n = job / per_img, r0 = job % per_img * bk.rows, r1 = imin(g->oh, r0 + bk.rows), cols = (r1 - r0) * g->ow;
    ae_real *yt = y + n * g->o * plane + r0 * g->ow;
    im2col(g, x + n * img, r0, r1, col, cols);
    if (b)
      for (int64_t o = 0; o < g->o; o++)
        for (int64_t j = 0; j < cols; j++) yt[o * plane + j] = b[o];
    ae_gemm(0, 0, g->o, cols, ckk, 1, w, ckk, col, cols, b ? 1 : 0, yt, plane);
    if (g->relu)
      for (int64_t o = 0; o < g->o; o++) ae_row_relu(yt + o * plane, cols); /* the rows just written */
  });
  ae_tape_rewind(t, m);
  return 0;
}

int ae_conv_data_kernel(ae_tape *t, const ae_conv_geom *g, const ae_real *y, const ae_real *w, const ae_real *b,
                        ae_real *x) {
  if (grid_on() && ae_conv_grid_fits(g)) return ae_conv_grid_data(t, g, y, w, b, x);
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * g->h * g->w;
  const blocking bk = blocking_of(g);
  const int64_t jobs = cdiv(g->n, bk.imgs);
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && jobs >= 2;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  if (ae_conv_scratch_get(t, g->op, par, ckk * bk.cols + (bk.imgs > 1 ? g->o * bk.cols : 0), &s)) return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t job = 0; job < jobs; job++) {
    ae_real *col = ae_conv_scratch_slot(&s), *tmp = col + ckk * bk.cols;
    int64_t n0 = job * bk.imgs, cnt = imin(bk.imgs, g->n - n0);
    for (int64_t i = 0; i < cnt; i++) {
      ae_real *xn = x + (n0 + i) * img;
      if (b)
        for (int64_t ci = 0; ci < g->c; ci++)
          for (int64_t j = 0; j < g->h * g->w; j++) xn[ci * g->h * g->w + j] = b[ci];
      else
        memset(xn, 0, (size_t)img * sizeof *xn);
    }
    if (bk.imgs > 1) {
      int64_t cols = cnt * plane;
      gather(g, y, n0, cnt, tmp);
      ae_gemm(1, 0, ckk, cols, g->o, 1, w, ckk, tmp, cols, 0, col, cols);
      for (int64_t i = 0; i < cnt; i++) col2im_add(g, col + i * plane, cols, 0, g->oh, x + (n0 + i) * img);
    } else {
      for (int64_t r0 = 0; r0 < g->oh; r0 += bk.rows) {
        int64_t r1 = imin(g->oh, r0 + bk.rows), cols = (r1 - r0) * g->ow;
        ae_gemm(1, 0, ckk, cols, g->o, 1, w, ckk, y + n0 * g->o * plane + r0 * g->ow, plane, 0, col, cols);
        col2im_add(g, col, cols, r0, r1, x + n0 * img);
      }
    }
    if (g->relu) ae_row_relu(x + n0 * img, cnt * img); /* the images complete only now */
  });
  ae_tape_rewind(t, m);
  return 0;
}

/* Weight gradient. With few kernel taps (ckk < o, e.g. one input channel)
 * the product is taken transposed, dW^T = col dy^T, which the GEMM runs
 * faster; partials are then (ckk, o). */
int ae_conv_weight_kernel(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *y, ae_real *w) {
  if (grid_on() && ae_conv_grid_fits(g)) return ae_conv_grid_weight(t, g, x, y, w);
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * g->h * g->w, wn = g->o * ckk;
  const blocking bk = blocking_of(g);
  const int64_t nch = imin(g->n, WG_CHUNKS);
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && nch >= 2, tr = ckk < g->o;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  ae_real *part = ae_arena_alloc(t, g->op, (size_t)(nch * wn) * sizeof(ae_real));
  if (!part || ae_conv_scratch_get(t, g->op, par, ckk * bk.cols + (bk.imgs > 1 ? g->o * bk.cols : 0), &s))
    return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t k = 0; k < nch; k++) {
    ae_real *col = ae_conv_scratch_slot(&s), *tmp = col + ckk * bk.cols, *dst = part + k * wn;
    int first = 1;
    for (int64_t n = k * g->n / nch, end = (k + 1) * g->n / nch; n < end;) {
      int64_t cnt = imin(bk.imgs, end - n);
      for (int64_t r0 = 0; r0 < g->oh; r0 += bk.rows) {
        int64_t r1 = imin(g->oh, r0 + bk.rows), cols = cnt * (r1 - r0) * g->ow, ld = plane;
        const ae_real *dy = y + n * g->o * plane + r0 * g->ow;
        if (cnt > 1) {
          gather(g, y, n, cnt, tmp);
          dy = tmp, ld = cols;
        }
        for (int64_t i = 0; i < cnt; i++) im2col(g, x + (n + i) * img, r0, r1, col + i * plane, cols);
        if (tr)
          ae_gemm(0, 1, ckk, g->o, cols, 1, col, cols, dy, ld, first ? 0 : 1, dst, g->o);
        else
          ae_gemm(0, 1, g->o, ckk, cols, 1, dy, ld, col, cols, first ? 0 : 1, dst, ckk);
        first = 0;
      }
      n += cnt;
    }
  });
  ae_conv_sum_partials(g, part, nch, tr, w);
  ae_tape_rewind(t, m);
  return 0;
}

void ae_conv_sum_partials(const ae_conv_geom *g, ae_real *part, int64_t nch, int tr, ae_real *w) {
  const int64_t ckk = g->c * g->kh * g->kw, wn = g->o * ckk;
  ae_real *sum = tr ? part : w; /* tr: summed in place, then transposed into w */
  /* Partials in chunk order: w = ((p0 + p1) + p2) + ... */
  AE_PAR_FOR(AE_PAR(wn * nch), schedule(static),
  for (int64_t i = 0; i < wn; i++) {
    ae_real acc = part[i];
    for (int64_t k = 1; k < nch; k++) acc += part[k * wn + i];
    sum[i] = acc;
  });
  if (!tr) return;
  /* (ckk, o) to (o, ckk); reading the partials transposed had cost conv-ae
   * 2.9% of its step (perf) */
  ae__gemm_transpose(part, ckk, g->o, w);
}
