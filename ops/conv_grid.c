/* conv_grid.c: stride-1 convolution on the padded grid, the path the
 * kernels of conv_kernels.c hand over to when the stride is 1.
 *
 * Pad each image with zeros into xp (c, hp, wp), hp = h + 2 ph, wp = w + 2 pw,
 * and compute the output on a grid of oh rows of wp columns, of which the
 * last kw - 1 of each row are junk and dropped. Tap (ci, ki, kj) of grid
 * column j then reads xp[ci][ki * wp + kj + j]: one contiguous run per tap,
 * so the column matrix is ckk long copies (im2col's per-output-row copies
 * and bounds tests are gone), and a band of output rows [r0, r1) is simply
 * grid columns [r0 wp, r1 wp).
 *   fwd:    y = W col + b[o], junk columns dropped.
 *   data:   the input gradient of a stride-1 conv (conv_transpose2d's
 *           forward) is a stride-1 conv of y with the kernel flipped, its
 *           channels swapped and padding k - 1 - p: it runs fwd, and the
 *           col2im scatter-add is gone.
 *   weight: dW += y_grid col^T, y_grid being y laid out on the grid with
 *           zeros in the junk columns (or dW^T += col y_grid^T when
 *           ckk < o); the batch in AE_CONV_WG_CHUNKS chunks, each summed in
 *           order into its own partial, the partials added in chunk order.
 * Blocks, from the shapes alone: several whole images side by side, or
 * bands of output rows of one image, the column matrix in L2. Threads take
 * whole blocks (fwd) or chunks (weight), so every result is bitwise the same
 * for any thread count. The summation order differs from conv_kernels.c's
 * im2col path (data: taps in flipped order), so the two paths agree to
 * rounding, not bitwise. AEZOO_CONV=im2col turns this path off (A/B runs). */
#include <string.h>

#include "base/gemm.h"
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
  int64_t hp, wp;           /* padded image */
  int64_t xpad;             /* elements of one padded image and its slack, a multiple of 16 */
  int64_t gcols;            /* grid columns of one image: oh * wp */
  int64_t imgs, rows, cols; /* a block: imgs whole images, or bands of `rows` rows; cols: its most columns */
} grid_plan;

static grid_plan plan_of(const ae_conv_geom *g) {
  const int64_t ckk = g->c * g->kh * g->kw;
  grid_plan p;
  p.hp = g->h + 2 * g->ph, p.wp = g->w + 2 * g->pw;
  /* The last tap's run of the last row ends kw - 1 elements past c hp wp;
   * the direct path reads up to DIRECT_JV - 1 further. */
  p.xpad = (g->c * p.hp * p.wp + g->kw + DIRECT_JV + 15) / 16 * 16;
  p.gcols = g->oh * p.wp;
  p.imgs = 1, p.rows = g->oh, p.cols = p.gcols;
  int64_t fit = AE_CONV_TILE_ELEMS / imax(1, ckk * p.gcols);
  if (fit >= 2 && p.gcols < AE_CONV_MAX_COLS) {
    p.imgs = imin(g->n, imin(fit, imax(1, AE_CONV_MAX_COLS / p.gcols)));
    p.cols = p.imgs * p.gcols;
  } else {
    int64_t rt = imax(1, imin(g->oh, AE_CONV_TILE_ELEMS / imax(1, ckk * p.wp)));
    p.rows = cdiv(g->oh, cdiv(g->oh, rt));
    p.cols = p.rows * p.wp;
  }
  return p;
}

int ae_conv_grid_fits(const ae_conv_geom *g) {
  return g->sh == 1 && g->sw == 1 && g->oh > 0 && g->ow > 0 && g->oh == g->h + 2 * g->ph - g->kh + 1 &&
         g->ow == g->w + 2 * g->pw - g->kw + 1;
}

int ae_conv_grid_data_fits(const ae_conv_geom *g) {
  return ae_conv_grid_fits(g) && g->ph <= g->kh - 1 && g->pw <= g->kw - 1;
}

/* xp = image x (c, h, w) with ph rows and pw columns of zeros around each
 * plane, then zeros up to p->xpad. */
static void pad_image(const ae_conv_geom *g, const grid_plan *p, const ae_real *x, ae_real *xp) {
  const int64_t wp = p->wp, pw = g->pw, w = g->w;
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t r = 0; r < p->hp; r++) {
      ae_real *d = xp + (ci * p->hp + r) * wp;
      const int64_t ih = r - g->ph;
      if (ih < 0 || ih >= g->h) {
        for (int64_t j = 0; j < wp; j++) d[j] = 0;
        continue;
      }
      const ae_real *s = x + (ci * g->h + ih) * w;
      for (int64_t j = 0; j < pw; j++) d[j] = 0;
      for (int64_t j = 0; j < w; j++) d[pw + j] = s[j];
      for (int64_t j = pw + w; j < wp; j++) d[j] = 0;
    }
  for (int64_t j = g->c * p->hp * wp; j < p->xpad; j++) xp[j] = 0;
}

/* The column matrix of output rows [r0, r1) of cnt padded images (xp, one
 * every p->xpad elements): col[t * ld + i * band + j] = xp_i[ci hp wp +
 * (ki + r0) wp + kj + j] for tap t = (ci, ki, kj), band = (r1 - r0) wp. */
static void grid_im2col(const ae_conv_geom *g, const grid_plan *p, const ae_real *xp, int64_t cnt, int64_t r0,
                        int64_t r1, ae_real *col, int64_t ld) {
  const int64_t band = (r1 - r0) * p->wp;
  for (int64_t ci = 0; ci < g->c; ci++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        const ae_real *s = xp + ci * p->hp * p->wp + (ki + r0) * p->wp + kj;
        ae_real *d = col + ((ci * g->kh + ki) * g->kw + kj) * ld;
        for (int64_t i = 0; i < cnt; i++) memcpy(d + i * band, s + i * p->xpad, (size_t)band * sizeof *d);
      }
}

/* Direct forward of one padded image xp for few output channels: for each
 * DIRECT_JV grid columns, acc = sum over taps t in order of w[o][t] times
 * the tap's run, then the valid columns go to y (n's planes) plus b[o]. */
static void direct_fwd(const ae_conv_geom *g, const grid_plan *p, const ae_real *xp, const ae_real *w,
                       const ae_real *b, ae_real *y) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow;
  for (int64_t o = 0; o < g->o; o++) {
    const ae_real *wo = w + o * ckk, bo = b ? b[o] : 0;
    ae_real *yo = y + o * plane;
    for (int64_t j0 = 0; j0 < p->gcols; j0 += DIRECT_JV) {
      ae_real acc[DIRECT_JV] = {0};
      for (int64_t ci = 0; ci < g->c; ci++)
        for (int64_t ki = 0; ki < g->kh; ki++)
          for (int64_t kj = 0; kj < g->kw; kj++) {
            const ae_real wt = wo[(ci * g->kh + ki) * g->kw + kj];
            const ae_real *src = xp + ci * p->hp * p->wp + ki * p->wp + kj + j0;
            for (int j = 0; j < DIRECT_JV; j++) acc[j] += wt * src[j];
          }
      for (int64_t j = j0, e = imin(p->gcols, j0 + DIRECT_JV); j < e; j++) {
        const int64_t r = j / p->wp, c = j % p->wp;
        if (c < g->ow) yo[r * g->ow + c] = acc[j - j0] + bo;
      }
    }
  }
}

/* sum_j a[j] b[j] over n elements: DIRECT_JV lane sums, added in lane order. */
static ae_real dot(const ae_real *a, const ae_real *b, int64_t n) {
  ae_real acc[DIRECT_JV] = {0};
  int64_t j = 0;
  for (; j + DIRECT_JV <= n; j += DIRECT_JV)
    for (int l = 0; l < DIRECT_JV; l++) acc[l] += a[j + l] * b[j + l];
  for (int l = 0; j + l < n; l++) acc[l] += a[j + l] * b[j + l];
  ae_real s = 0;
  for (int l = 0; l < DIRECT_JV; l++) s += acc[l];
  return s;
}

int ae_conv_grid_fwd(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *w, const ae_real *b,
                     ae_real *y) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * g->h * g->w;
  const grid_plan p = plan_of(g);
  const int64_t jobs = cdiv(g->n, p.imgs);
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && jobs >= 2;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  if (ae_conv_scratch_get(t, "conv2d", par, p.imgs * p.xpad + (ckk + g->o) * p.cols, &s)) return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t job = 0; job < jobs; job++) {
    ae_real *xp = ae_conv_scratch_slot(&s), *col = xp + p.imgs * p.xpad, *tmp = col + ckk * p.cols;
    const int64_t n0 = job * p.imgs, cnt = imin(p.imgs, g->n - n0);
    for (int64_t i = 0; i < cnt; i++) pad_image(g, &p, x + (n0 + i) * img, xp + i * p.xpad);
    if (g->o <= DIRECT_MAX_O) {
      for (int64_t i = 0; i < cnt; i++) direct_fwd(g, &p, xp + i * p.xpad, w, b, y + (n0 + i) * g->o * plane);
      continue;
    }
    for (int64_t r0 = 0; r0 < g->oh; r0 += p.rows) {
      const int64_t r1 = imin(g->oh, r0 + p.rows), band = (r1 - r0) * p.wp, cols = cnt * band;
      grid_im2col(g, &p, xp, cnt, r0, r1, col, cols);
      ae_gemm(0, 0, g->o, cols, ckk, 1, w, ckk, col, cols, 0, tmp, cols);
      for (int64_t i = 0; i < cnt; i++)
        for (int64_t o = 0; o < g->o; o++) {
          const ae_real bo = b ? b[o] : 0;
          for (int64_t r = r0; r < r1; r++) {
            ae_real *d = y + ((n0 + i) * g->o + o) * plane + r * g->ow;
            const ae_real *src = tmp + o * cols + i * band + (r - r0) * p.wp;
            for (int64_t j = 0; j < g->ow; j++) d[j] = src[j] + bo;
          }
        }
    }
  });
  ae_tape_rewind(t, m);
  return 0;
}

int ae_conv_grid_data(ae_tape *t, const ae_conv_geom *g, const ae_real *y, const ae_real *w, const ae_real *b,
                      ae_real *x) {
  /* x = conv2d(y, wf) + b with wf[ci][oc][ki][kj] = w[oc][ci][kh-1-ki][kw-1-kj], padding k - 1 - p. */
  const ae_conv_geom f = {g->n, g->o, g->oh, g->ow, g->c, g->h, g->w, g->kh, g->kw, 1, 1,
                          g->kh - 1 - g->ph, g->kw - 1 - g->pw};
  const int64_t kk = g->kh * g->kw;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_real *wf = ae_arena_alloc(t, "conv_transpose2d", (size_t)(g->o * g->c * kk) * sizeof(ae_real));
  if (!wf) return -1;
  for (int64_t oc = 0; oc < g->o; oc++)
    for (int64_t ci = 0; ci < g->c; ci++)
      for (int64_t k = 0; k < kk; k++) wf[(ci * g->o + oc) * kk + k] = w[(oc * g->c + ci) * kk + (kk - 1 - k)];
  int rc = ae_conv_grid_fwd(t, &f, y, wf, b, x);
  ae_tape_rewind(t, m);
  return rc;
}

int ae_conv_grid_weight(ae_tape *t, const ae_conv_geom *g, const ae_real *x, const ae_real *y, ae_real *w) {
  const int64_t ckk = g->c * g->kh * g->kw, plane = g->oh * g->ow, img = g->c * g->h * g->w, wn = g->o * ckk;
  const grid_plan p = plan_of(g);
  const int64_t nch = imin(g->n, AE_CONV_WG_CHUNKS);
  const int direct = g->o <= DIRECT_MAX_O; /* dot products, no GEMM */
  const int par = AE_PAR_WORK(g->n * g->o * ckk * plane) && nch >= 2, tr = !direct && ckk < g->o;
  ae_tape_mark m = ae_tape_get_mark(t);
  ae_conv_scratch s;
  ae_real *part = ae_arena_alloc(t, "conv2d_weight_grad", (size_t)(nch * wn) * sizeof(ae_real));
  if (!part || ae_conv_scratch_get(t, "conv2d_weight_grad", par, p.imgs * p.xpad + (ckk + g->o) * p.cols, &s))
    return -1;
  AE_PAR_FOR(par, schedule(static) num_threads(s.nthreads),
  for (int64_t k = 0; k < nch; k++) {
    ae_real *xp = ae_conv_scratch_slot(&s), *col = xp + p.imgs * p.xpad, *yg = col + ckk * p.cols;
    ae_real *dst = part + k * wn;
    int first = 1;
    for (int64_t n = k * g->n / nch, end = (k + 1) * g->n / nch; n < end;) {
      const int64_t cnt = imin(p.imgs, end - n);
      for (int64_t i = 0; i < cnt; i++) pad_image(g, &p, x + (n + i) * img, xp + i * p.xpad);
      if (direct) { /* dst[o][t] += sum over the grid of y_grid[o] times tap t's run, image by image */
        for (int64_t i = 0; i < cnt; i++) {
          for (int64_t o = 0; o < g->o; o++)
            for (int64_t r = 0; r < g->oh; r++) {
              ae_real *d = yg + o * p.gcols + r * p.wp;
              const ae_real *src = y + ((n + i) * g->o + o) * plane + r * g->ow;
              for (int64_t j = 0; j < g->ow; j++) d[j] = src[j];
              for (int64_t j = g->ow; j < p.wp; j++) d[j] = 0;
            }
          for (int64_t o = 0; o < g->o; o++)
            for (int64_t ci = 0; ci < g->c; ci++)
              for (int64_t ki = 0; ki < g->kh; ki++)
                for (int64_t kj = 0; kj < g->kw; kj++) {
                  const ae_real *run = xp + i * p.xpad + ci * p.hp * p.wp + ki * p.wp + kj;
                  ae_real *dw = dst + o * ckk + (ci * g->kh + ki) * g->kw + kj, v = dot(yg + o * p.gcols, run, p.gcols);
                  *dw = first ? v : *dw + v;
                }
          first = 0;
        }
        n += cnt;
        continue;
      }
      for (int64_t r0 = 0; r0 < g->oh; r0 += p.rows) {
        const int64_t r1 = imin(g->oh, r0 + p.rows), band = (r1 - r0) * p.wp, cols = cnt * band;
        grid_im2col(g, &p, xp, cnt, r0, r1, col, cols);
        for (int64_t o = 0; o < g->o; o++)
          for (int64_t i = 0; i < cnt; i++)
            for (int64_t r = r0; r < r1; r++) {
              ae_real *d = yg + o * cols + i * band + (r - r0) * p.wp;
              const ae_real *src = y + ((n + i) * g->o + o) * plane + r * g->ow;
              for (int64_t j = 0; j < g->ow; j++) d[j] = src[j];
              for (int64_t j = g->ow; j < p.wp; j++) d[j] = 0;
            }
        if (tr)
          ae_gemm(0, 1, ckk, g->o, cols, 1, col, cols, yg, cols, first ? 0 : 1, dst, g->o);
        else
          ae_gemm(0, 1, g->o, ckk, cols, 1, yg, cols, col, cols, first ? 0 : 1, dst, ckk);
        first = 0;
      }
      n += cnt;
    }
  });
  ae_conv_sum_partials(g, part, nch, tr, w);
  ae_tape_rewind(t, m);
  return 0;
}
