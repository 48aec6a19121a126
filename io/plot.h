/* plot.h: figures drawn with cairo and written as PNG: a plot area with
 * axes, ticks at nice values (1, 2, 5 x 10^k; decades on log axes), tick
 * labels, axis labels, a title and a legend. Series: lines (optionally
 * with markers), scatter plots coloured by label (a legend of class names),
 * and quiver arrows (a vector field). Colours are tab10 (ae_png_palette).
 *
 * Use: p = ae_plot_new(w, h); set title, labels, scales; add series; then
 * ae_plot_save(p, path) lays the figure out, draws it and
 * replaces path atomically (temporary file, fsync, rename). After
 * ae_plot_layout (which ae_plot_save calls), ae_plot_px / ae_plot_py map
 * data coordinates to the pixel coordinates they are drawn at, so callers
 * and tests can find what was drawn where. */
#ifndef AE_IO_PLOT_H
#define AE_IO_PLOT_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ae_plot ae_plot;

typedef enum ae_plot_scale { AE_PLOT_LINEAR = 0, AE_PLOT_LOG = 1 } ae_plot_scale;

/* Fashion-MNIST's ten class names, label 0..9. */
AE_API extern const char *const ae_plot_fashion_classes[10];

/* A figure of width x height pixels (64..16384). NULL when out of memory
 * or the size is out of range (ae_last_error says which). */
AE_API ae_plot *ae_plot_new(int width, int height);
AE_API void ae_plot_free(ae_plot *p);

/* Text (copied; NULL or "" for none). */
AE_API void ae_plot_title(ae_plot *p, const char *title);
AE_API void ae_plot_xlabel(ae_plot *p, const char *label);
AE_API void ae_plot_ylabel(ae_plot *p, const char *label);
/* Log scales plot only positive values (others are skipped). */
AE_API void ae_plot_xscale(ae_plot *p, ae_plot_scale s);
AE_API void ae_plot_yscale(ae_plot *p, ae_plot_scale s);
/* Fixes an axis's range (lo < hi; on log axes both > 0) instead of the
 * data's range. */
AE_API void ae_plot_xrange(ae_plot *p, double lo, double hi);
AE_API void ae_plot_yrange(ae_plot *p, double lo, double hi);

/* A line through n points (x[i], y[i]) in palette colour `color`, drawn
 * with round markers when markers is set; non-finite points (and
 * non-positive ones on a log axis) break the line. label: its legend entry
 * (NULL: none). Data are copied. 0, or -1 when out of memory. */
AE_API int ae_plot_line(ae_plot *p, const char *label, int color, int64_t n, const double *x, const double *y, int markers);
/* Points (x[i], y[i]) coloured by labels[i] (NULL: all colour 0). The
 * legend lists, for each label present, class_names[label] when label <
 * nclasses (class_names may be NULL), else "class <label>". */
AE_API int ae_plot_scatter(ae_plot *p, int64_t n, const double *x, const double *y, const int32_t *labels,
                    const char *const *class_names, int nclasses);
/* Arrows from (x[i], y[i]) to (x[i] + scale u[i], y[i] + scale v[i]) in
 * data units, colour `color`, legend entry label (NULL: none). */
AE_API int ae_plot_quiver(ae_plot *p, const char *label, int color, int64_t n, const double *x, const double *y,
                   const double *u, const double *v, double scale);

/* Computes the axis ranges and the plot area from the series (idempotent). */
AE_API void ae_plot_layout(ae_plot *p);
/* Pixel coordinates of data coordinates (after ae_plot_layout): x from the
 * left edge, y from the top edge. Linear axis over [lo, hi] onto pixels
 * [a, b]: a + (x - lo) / (hi - lo) (b - a); log axis: the same in log10. */
AE_API double ae_plot_px(const ae_plot *p, double x);
AE_API double ae_plot_py(const ae_plot *p, double y);
/* The plot area in pixels and the axis ranges (after ae_plot_layout). */
AE_API void ae_plot_area(const ae_plot *p, double *left, double *top, double *right, double *bottom);
AE_API void ae_plot_ranges(const ae_plot *p, double *xlo, double *xhi, double *ylo, double *yhi);

/* Nice tick values within [lo, hi] (lo < hi, finite): multiples of a step
 * 1, 2 or 5 x 10^k giving between 3 and max ticks where possible. Writes
 * at most max values to ticks and returns the count. */
AE_API int ae_plot_nice_ticks(double lo, double hi, int max, double *ticks);

/* Lays out, draws and writes the figure as a PNG (atomic replace). 0, or
 * -1 with a message naming the path and the problem in ae_last_error(). */
AE_API int ae_plot_save(ae_plot *p, const char *path);

#endif
