/* plot.c: figures with axes, ticks, labels, a title and a legend, drawn by
 * cairo and written as PNG through ae_io_atomic (plot.h). */
#include "plot.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/tensor.h" /* ae_set_last_error */
#include "png.h"             /* ae_png_palette */
#include "safetensors.h"     /* ae_io_atomic */

#if defined(__SANITIZE_ADDRESS__)
#include <fontconfig/fontconfig.h>
#include <pthread.h>
/* Under AddressSanitizer only: cairo's font caches and fontconfig's
 * configuration live until the process ends and are never freed, so
 * LeakSanitizer reports them at exit in every process that drew text. Each
 * report is matched against tests/lsan.supp by symbolizing its stack, about
 * 0.2 s a process, paid by hundreds of CLI runs in scripts/test. Releasing
 * that state at exit leaves nothing to report or to suppress. */
static void release_font_state(void) {
  cairo_debug_reset_static_data();
  FcFini();
}
static void register_release(void) { atexit(release_font_state); }
static void release_font_state_at_exit(void) { /* once, whichever thread draws first */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, register_release);
}
#else
static void release_font_state_at_exit(void) {}
#endif

const char *const ae_plot_fashion_classes[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

typedef enum { S_LINE, S_SCATTER, S_QUIVER } series_kind;

typedef struct series {
  series_kind kind;
  char label[96];
  int color, markers;
  int64_t n;
  double *x, *y, *u, *v; /* u, v: quiver only (already scaled) */
  int32_t *labels;       /* scatter only (NULL: all colour 0) */
  const char *const *class_names;
  int nclasses;
} series;

typedef struct axis {
  ae_plot_scale scale;
  int fixed;
  double lo, hi; /* data range (after layout) */
  char label[128];
} axis;

struct ae_plot {
  int w, h;
  char title[160];
  axis ax, ay;
  series *s;
  int ns, cap;
  double left, top, right, bottom; /* plot area in pixels */
};

ae_plot *ae_plot_new(int width, int height) {
  if (width < 64 || height < 64 || width > AE_PNG_MAX_SIDE || height > AE_PNG_MAX_SIDE) {
    ae_set_last_error("plot: size %dx%d out of range (64..%d)", width, height, AE_PNG_MAX_SIDE);
    return NULL;
  }
  ae_plot *p = calloc(1, sizeof *p);
  if (!p) {
    ae_set_last_error("plot: out of memory");
    return NULL;
  }
  p->w = width, p->h = height;
  return p;
}

static void free_series(series *s) { free(s->x), free(s->y), free(s->u), free(s->v), free(s->labels); }

void ae_plot_free(ae_plot *p) {
  if (!p) return;
  for (int i = 0; i < p->ns; i++) free_series(&p->s[i]);
  free(p->s);
  free(p);
}

static void set_text(char *dst, size_t n, const char *s) { snprintf(dst, n, "%s", s ? s : ""); }
void ae_plot_title(ae_plot *p, const char *t) { set_text(p->title, sizeof p->title, t); }
void ae_plot_xlabel(ae_plot *p, const char *l) { set_text(p->ax.label, sizeof p->ax.label, l); }
void ae_plot_ylabel(ae_plot *p, const char *l) { set_text(p->ay.label, sizeof p->ay.label, l); }
void ae_plot_xscale(ae_plot *p, ae_plot_scale s) { p->ax.scale = s; }
void ae_plot_yscale(ae_plot *p, ae_plot_scale s) { p->ay.scale = s; }
static void set_range(axis *a, double lo, double hi) {
  if (!(lo < hi) || (a->scale == AE_PLOT_LOG && !(lo > 0))) return;
  a->fixed = 1, a->lo = lo, a->hi = hi;
}
void ae_plot_xrange(ae_plot *p, double lo, double hi) { set_range(&p->ax, lo, hi); }
void ae_plot_yrange(ae_plot *p, double lo, double hi) { set_range(&p->ay, lo, hi); }

static double *copy(const double *a, int64_t n) {
  double *c = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (c && n > 0) memcpy(c, a, sizeof(double) * (size_t)n);
  return c;
}

static series *add_series(ae_plot *p, series_kind k, const char *label, int64_t n, const double *x,
                          const double *y) {
  if (p->ns == p->cap) {
    int cap = p->cap ? 2 * p->cap : 8;
    series *s = realloc(p->s, sizeof *s * (size_t)cap);
    if (!s) return NULL;
    p->s = s, p->cap = cap;
  }
  series *s = &p->s[p->ns];
  memset(s, 0, sizeof *s);
  s->kind = k, s->n = n;
  set_text(s->label, sizeof s->label, label);
  s->x = copy(x, n), s->y = copy(y, n);
  if (!s->x || !s->y) {
    free_series(s);
    ae_set_last_error("plot: out of memory");
    return NULL;
  }
  p->ns++;
  return s;
}

int ae_plot_line(ae_plot *p, const char *label, int color, int64_t n, const double *x, const double *y,
                 int markers) {
  series *s = add_series(p, S_LINE, label, n, x, y);
  if (!s) return -1;
  s->color = color, s->markers = markers;
  return 0;
}

int ae_plot_scatter(ae_plot *p, int64_t n, const double *x, const double *y, const int32_t *labels,
                    const char *const *class_names, int nclasses) {
  series *s = add_series(p, S_SCATTER, NULL, n, x, y);
  if (!s) return -1;
  if (labels) {
    s->labels = malloc(sizeof(int32_t) * (size_t)(n > 0 ? n : 1));
    if (!s->labels) {
      free_series(s);
      p->ns--;
      ae_set_last_error("plot: out of memory");
      return -1;
    }
    if (n > 0) memcpy(s->labels, labels, sizeof(int32_t) * (size_t)n);
  }
  s->class_names = class_names, s->nclasses = class_names ? nclasses : 0;
  return 0;
}

int ae_plot_quiver(ae_plot *p, const char *label, int color, int64_t n, const double *x, const double *y,
                   const double *u, const double *v, double scale) {
  series *s = add_series(p, S_QUIVER, label, n, x, y);
  if (!s) return -1;
  s->color = color;
  s->u = copy(u, n), s->v = copy(v, n);
  if (!s->u || !s->v) {
    free_series(s);
    p->ns--;
    ae_set_last_error("plot: out of memory");
    return -1;
  }
  for (int64_t i = 0; i < n; i++) s->u[i] *= scale, s->v[i] *= scale;
  return 0;
}

/* ---- layout ------------------------------------------------------------------- */

static int usable(const axis *a, double v) { return isfinite(v) && (a->scale == AE_PLOT_LINEAR || v > 0); }
static double tr(const axis *a, double v) { return a->scale == AE_PLOT_LOG ? log10(v) : v; }

static void extend(double *lo, double *hi, const axis *a, double v) {
  if (!usable(a, v)) return;
  if (v < *lo) *lo = v;
  if (v > *hi) *hi = v;
}

/* The data range of one axis (dim 0: x, 1: y), padded. */
static void fit_axis(ae_plot *p, axis *a, int dim) {
  if (a->fixed) return;
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < p->ns; i++) {
    const series *s = &p->s[i];
    for (int64_t j = 0; j < s->n; j++) {
      double c = dim ? s->y[j] : s->x[j], o = dim ? s->x[j] : s->y[j];
      if (!usable(dim ? &p->ax : &p->ay, o)) continue;
      extend(&lo, &hi, a, c);
      if (s->kind == S_QUIVER) extend(&lo, &hi, a, c + (dim ? s->v[j] : s->u[j]));
    }
  }
  if (!(lo <= hi)) lo = a->scale == AE_PLOT_LOG ? 0.1 : 0, hi = a->scale == AE_PLOT_LOG ? 10 : 1;
  if (a->scale == AE_PLOT_LOG) {
    /* whole decades, so that the decade ticks frame the data */
    double l = floor(log10(lo)), h = ceil(log10(hi));
    if (h <= l) h = l + 1;
    a->lo = pow(10, l), a->hi = pow(10, h);
  } else {
    double pad = (hi - lo) * 0.05;
    if (pad == 0) pad = lo != 0 ? fabs(lo) * 0.1 : 1;
    a->lo = lo - pad, a->hi = hi + pad;
  }
}

void ae_plot_layout(ae_plot *p) {
  fit_axis(p, &p->ax, 0);
  fit_axis(p, &p->ay, 1);
  /* room for the title above, tick labels and the axis labels left and below */
  p->left = 78, p->right = p->w - 20;
  p->top = p->title[0] ? 36 : 14, p->bottom = p->h - (p->ax.label[0] ? 50 : 32);
  if (p->right - p->left < 16) p->left = 4, p->right = p->w - 4;
  if (p->bottom - p->top < 16) p->top = 4, p->bottom = p->h - 4;
}

static double map(const axis *a, double v, double from, double to) {
  return from + (tr(a, v) - tr(a, a->lo)) / (tr(a, a->hi) - tr(a, a->lo)) * (to - from);
}
double ae_plot_px(const ae_plot *p, double x) { return map(&p->ax, x, p->left, p->right); }
double ae_plot_py(const ae_plot *p, double y) { return map(&p->ay, y, p->bottom, p->top); }

void ae_plot_area(const ae_plot *p, double *left, double *top, double *right, double *bottom) {
  *left = p->left, *top = p->top, *right = p->right, *bottom = p->bottom;
}
void ae_plot_ranges(const ae_plot *p, double *xlo, double *xhi, double *ylo, double *yhi) {
  *xlo = p->ax.lo, *xhi = p->ax.hi, *ylo = p->ay.lo, *yhi = p->ay.hi;
}

int ae_plot_nice_ticks(double lo, double hi, int max, double *ticks) {
  if (!(lo < hi) || !isfinite(lo) || !isfinite(hi) || max < 1) return 0;
  static const double mult[3] = {1, 2, 5};
  double step = 0;
  /* the smallest nice step giving at most max ticks */
  for (int e = (int)floor(log10((hi - lo) / max)) - 1; e <= (int)ceil(log10(hi - lo)) + 1 && step == 0; e++)
    for (int k = 0; k < 3; k++) {
      double st = mult[k] * pow(10, e);
      if (floor(hi / st) - ceil(lo / st) + 1 <= max) {
        step = st;
        break;
      }
    }
  if (step == 0) return 0;
  int n = 0;
  for (double k = ceil(lo / step); k * step <= hi * (1 + 1e-12) && n < max; k++) {
    double t = k * step;
    ticks[n++] = fabs(t) < step * 1e-9 ? 0 : t;
  }
  return n;
}

/* Tick values of an axis (after layout): nice linear ticks, or decades on a
 * log axis (every k-th decade when there are many). */
static int axis_ticks(const axis *a, double *t, int max) {
  if (a->scale == AE_PLOT_LINEAR) return ae_plot_nice_ticks(a->lo, a->hi, max, t);
  int l = (int)ceil(log10(a->lo) - 1e-9), h = (int)floor(log10(a->hi) + 1e-9), every = 1, n = 0;
  while ((h - l) / every + 1 > max) every++;
  for (int e = l; e <= h && n < max; e += every) t[n++] = pow(10, e);
  return n;
}

static void tick_text(const axis *a, double v, char *buf, size_t n) {
  if (a->scale == AE_PLOT_LOG) {
    int e = (int)lround(log10(v));
    if (e >= -2 && e <= 3) snprintf(buf, n, "%g", v);
    else snprintf(buf, n, "1e%d", e);
  } else {
    snprintf(buf, n, "%.6g", v);
  }
}

/* ---- drawing ------------------------------------------------------------------ */

static void set_color(cairo_t *cr, int c) {
  uint8_t rgb[3];
  ae_png_palette(c, rgb);
  cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

/* Text anchored at (x, y): ax, ay in {0, 0.5, 1} of its width / height. */
static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - e.width * ax - e.x_bearing, y - e.height * ay - e.y_bearing);
  cairo_show_text(cr, s);
}

static int inside(const ae_plot *p, double px, double py) {
  return px >= p->left - 0.5 && px <= p->right + 0.5 && py >= p->top - 0.5 && py <= p->bottom + 0.5;
}

static void draw_line(cairo_t *cr, const ae_plot *p, const series *s) {
  set_color(cr, s->color);
  cairo_set_line_width(cr, 2);
  int pen = 0;
  for (int64_t j = 0; j < s->n; j++) {
    if (!usable(&p->ax, s->x[j]) || !usable(&p->ay, s->y[j])) {
      pen = 0;
      continue;
    }
    double px = ae_plot_px(p, s->x[j]), py = ae_plot_py(p, s->y[j]);
    if (pen) cairo_line_to(cr, px, py);
    else cairo_move_to(cr, px, py);
    pen = 1;
  }
  cairo_stroke(cr);
  if (!s->markers) return;
  for (int64_t j = 0; j < s->n; j++) {
    if (!usable(&p->ax, s->x[j]) || !usable(&p->ay, s->y[j])) continue;
    cairo_new_sub_path(cr);
    cairo_arc(cr, ae_plot_px(p, s->x[j]), ae_plot_py(p, s->y[j]), 3.5, 0, 2 * M_PI);
  }
  cairo_fill(cr);
}

static void draw_scatter(cairo_t *cr, const ae_plot *p, const series *s) {
  double r = s->n > 2000 ? 1.5 : 2.5;
  for (int64_t j = 0; j < s->n; j++) {
    if (!usable(&p->ax, s->x[j]) || !usable(&p->ay, s->y[j])) continue;
    double px = ae_plot_px(p, s->x[j]), py = ae_plot_py(p, s->y[j]);
    if (!inside(p, px, py)) continue;
    set_color(cr, s->labels ? s->labels[j] : 0);
    cairo_arc(cr, px, py, r, 0, 2 * M_PI);
    cairo_fill(cr);
  }
}

static void draw_quiver(cairo_t *cr, const ae_plot *p, const series *s) {
  set_color(cr, s->color);
  cairo_set_line_width(cr, 1.2);
  for (int64_t j = 0; j < s->n; j++) {
    double x1 = s->x[j] + s->u[j], y1 = s->y[j] + s->v[j];
    if (!usable(&p->ax, s->x[j]) || !usable(&p->ay, s->y[j]) || !usable(&p->ax, x1) || !usable(&p->ay, y1))
      continue;
    double a = ae_plot_px(p, s->x[j]), b = ae_plot_py(p, s->y[j]), c = ae_plot_px(p, x1), d = ae_plot_py(p, y1);
    double len = hypot(c - a, d - b);
    cairo_move_to(cr, a, b);
    cairo_line_to(cr, c, d);
    cairo_stroke(cr);
    if (len < 1) continue;
    double head = fmin(6, len * 0.4), ux = (c - a) / len, uy = (d - b) / len;
    cairo_move_to(cr, c, d);
    cairo_line_to(cr, c - head * ux + head * 0.5 * uy, d - head * uy - head * 0.5 * ux);
    cairo_line_to(cr, c - head * ux - head * 0.5 * uy, d - head * uy + head * 0.5 * ux);
    cairo_close_path(cr);
    cairo_fill(cr);
  }
}

typedef struct legend_entry {
  char text[96];
  int color;
  series_kind kind;
} legend_entry;

static int legend_entries(const ae_plot *p, legend_entry *e, int max) {
  int n = 0;
  for (int i = 0; i < p->ns && n < max; i++) {
    const series *s = &p->s[i];
    if (s->kind != S_SCATTER) {
      if (s->label[0]) e[n].color = s->color, e[n].kind = s->kind, set_text(e[n++].text, sizeof e->text, s->label);
      continue;
    }
    if (!s->labels) continue;
    /* one entry per label present, in label order (labels 0..255) */
    unsigned char seen[256] = {0};
    for (int64_t j = 0; j < s->n; j++)
      if (s->labels[j] >= 0 && s->labels[j] < 256) seen[s->labels[j]] = 1;
    for (int c = 0; c < 256 && n < max; c++) {
      if (!seen[c]) continue;
      e[n].color = c, e[n].kind = S_SCATTER;
      if (c < s->nclasses && s->class_names[c]) set_text(e[n].text, sizeof e->text, s->class_names[c]);
      else snprintf(e[n].text, sizeof e->text, "class %d", c);
      n++;
    }
  }
  return n;
}

static void draw_legend(cairo_t *cr, const ae_plot *p) {
  legend_entry e[32];
  int n = legend_entries(p, e, 32);
  if (n == 0) return;
  cairo_set_font_size(cr, 11);
  double wmax = 0, row = 15;
  for (int i = 0; i < n; i++) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, e[i].text, &te);
    if (te.x_advance > wmax) wmax = te.x_advance;
  }
  double bw = wmax + 36, bh = n * row + 8, bx = p->right - bw - 6, by = p->top + 6;
  /* the corner covering the fewest data points (top right on ties) */
  long best = -1;
  for (int corner = 0; corner < 4; corner++) {
    double cx = corner & 1 ? p->left + 6 : p->right - bw - 6, cy = corner & 2 ? p->bottom - bh - 6 : p->top + 6;
    long covered = 0;
    for (int i = 0; i < p->ns; i++)
      for (int64_t j = 0; j < p->s[i].n; j++) {
        double px = ae_plot_px(p, p->s[i].x[j]), py = ae_plot_py(p, p->s[i].y[j]);
        if (px >= cx - 4 && px <= cx + bw + 4 && py >= cy - 4 && py <= cy + bh + 4) covered++;
      }
    if (best < 0 || covered < best) best = covered, bx = cx, by = cy;
  }
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, bx, by, bw, bh);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (int i = 0; i < n; i++) {
    double cy = by + 4 + row * (i + 0.5);
    set_color(cr, e[i].color);
    if (e[i].kind == S_SCATTER) {
      cairo_arc(cr, bx + 15, cy, 3.5, 0, 2 * M_PI);
      cairo_fill(cr);
    } else {
      cairo_set_line_width(cr, 2);
      cairo_move_to(cr, bx + 6, cy);
      cairo_line_to(cr, bx + 24, cy);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, e[i].text, bx + 30, cy, 0, 0.5);
  }
}

static void draw_axes(cairo_t *cr, const ae_plot *p) {
  double t[32];
  char buf[32];
  cairo_set_font_size(cr, 11);
  cairo_set_line_width(cr, 1);
  /* light grid at the ticks, then the frame */
  int nx = axis_ticks(&p->ax, t, 12);
  for (int i = 0; i < nx; i++) {
    double x = floor(ae_plot_px(p, t[i])) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, x, p->top);
    cairo_line_to(cr, x, p->bottom);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, x, p->bottom);
    cairo_line_to(cr, x, p->bottom + 5);
    cairo_stroke(cr);
    tick_text(&p->ax, t[i], buf, sizeof buf);
    text_at(cr, buf, x, p->bottom + 8, 0.5, 0);
  }
  int ny = axis_ticks(&p->ay, t, 10);
  for (int i = 0; i < ny; i++) {
    double y = floor(ae_plot_py(p, t[i])) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, p->left, y);
    cairo_line_to(cr, p->right, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, p->left - 5, y);
    cairo_line_to(cr, p->left, y);
    cairo_stroke(cr);
    tick_text(&p->ay, t[i], buf, sizeof buf);
    text_at(cr, buf, p->left - 8, y, 1, 0.5);
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, p->left + 0.5, p->top + 0.5, p->right - p->left - 1, p->bottom - p->top - 1);
  cairo_stroke(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_font_size(cr, 12);
  if (p->ax.label[0]) text_at(cr, p->ax.label, (p->left + p->right) / 2, p->h - 8, 0.5, 1);
  if (p->ay.label[0]) {
    cairo_save(cr);
    cairo_translate(cr, 14, (p->top + p->bottom) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, p->ay.label, 0, 0, 0.5, 0.5);
    cairo_restore(cr);
  }
  if (p->title[0]) {
    cairo_set_font_size(cr, 14);
    text_at(cr, p->title, p->w / 2.0, 10, 0.5, 0);
  }
}

static void draw(cairo_t *cr, const ae_plot *p) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  release_font_state_at_exit();
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  draw_axes(cr, p);
  cairo_save(cr);
  cairo_rectangle(cr, p->left, p->top, p->right - p->left, p->bottom - p->top);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (int i = 0; i < p->ns; i++) {
    const series *s = &p->s[i];
    if (s->kind == S_LINE) draw_line(cr, p, s);
    else if (s->kind == S_SCATTER) draw_scatter(cr, p, s);
    else draw_quiver(cr, p, s);
  }
  cairo_restore(cr);
  draw_legend(cr, p);
}

/* ---- output ------------------------------------------------------------------- */

static cairo_status_t on_write(void *closure, const unsigned char *data, unsigned int n) {
  return ae_io_atomic_write(closure, data, n) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

int ae_plot_save(ae_plot *p, const char *path) {
  ae_plot_layout(p);
  cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, p->w, p->h);
  if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
    ae_set_last_error("%s: cannot draw the plot: %s", path, cairo_status_to_string(cairo_surface_status(sf)));
    cairo_surface_destroy(sf);
    return -1;
  }
  cairo_t *cr = cairo_create(sf);
  draw(cr, p);
  cairo_status_t st = cairo_status(cr);
  cairo_destroy(cr);
  if (st != CAIRO_STATUS_SUCCESS) {
    ae_set_last_error("%s: cannot draw the plot: %s", path, cairo_status_to_string(st));
    cairo_surface_destroy(sf);
    return -1;
  }
  ae_io_atomic f;
  if (ae_io_atomic_open(&f, path) != 0) {
    cairo_surface_destroy(sf);
    return -1;
  }
  st = cairo_surface_write_to_png_stream(sf, on_write, &f);
  cairo_surface_destroy(sf);
  if (st != CAIRO_STATUS_SUCCESS) {
    ae_set_last_error("%s: cannot write the PNG: %s", path,
                 f.err_no ? strerror(f.err_no) : cairo_status_to_string(st));
    ae_io_atomic_abort(&f);
    return -1;
  }
  return ae_io_atomic_commit(&f);
}
