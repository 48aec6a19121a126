/* test_plot.c: figures drawn with cairo (io/plot.h), read back with cairo.
 * The axis mappings equal their closed forms (linear and log10); nice ticks
 * are multiples of 1, 2 or 5 x 10^k inside the range; a line drawn from
 * data point A to B passes through the pixels the mapping gives for points
 * between A and B, in its colour, and not elsewhere; a log-axis line
 * through a power law is straight; the PNG has the requested size, the
 * scatter plot shows each class's colour, and an unwritable path gives -1
 * with a message naming it. PCA (io/pca.h) recovers the coordinates of
 * points built on a known orthonormal pair of directions, with their
 * variances and the total. */
#include <cairo.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aezoo.h"
#include "io_test_util.h"

TestSuite(plot, .init = mkdir_tmp, .fini = rm_tmp);

typedef struct image {
  cairo_surface_t *s;
  int w, h, stride;
  const unsigned char *d;
} image;

static image load(const char *path) {
  image im;
  im.s = cairo_image_surface_create_from_png(path);
  cr_assert_eq(cairo_surface_status(im.s), CAIRO_STATUS_SUCCESS, "cairo cannot read %s", path);
  im.w = cairo_image_surface_get_width(im.s), im.h = cairo_image_surface_get_height(im.s);
  im.stride = cairo_image_surface_get_stride(im.s);
  im.d = cairo_image_surface_get_data(im.s);
  return im;
}

/* rgb of pixel (x, y) */
static void pixel(const image *im, int x, int y, int rgb[3]) {
  uint32_t v = *(const uint32_t *)(im->d + (size_t)y * (size_t)im->stride + 4 * (size_t)x);
  rgb[0] = (v >> 16) & 255, rgb[1] = (v >> 8) & 255, rgb[2] = v & 255;
}

/* 1 when a pixel within 1 of (x, y) is within tol of colour c */
static int near_colour(const image *im, double x, double y, const uint8_t c[3], int tol) {
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++) {
      int rgb[3], px = (int)floor(x) + dx, py = (int)floor(y) + dy;
      if (px < 0 || py < 0 || px >= im->w || py >= im->h) continue;
      pixel(im, px, py, rgb);
      if (abs(rgb[0] - c[0]) <= tol && abs(rgb[1] - c[1]) <= tol && abs(rgb[2] - c[2]) <= tol) return 1;
    }
  return 0;
}

Test(plot, linear_mapping_is_the_closed_form) {
  ae_plot *p = ae_plot_new(400, 300);
  ae_plot_xrange(p, -2, 6);
  ae_plot_yrange(p, 10, 20);
  ae_plot_layout(p);
  double l, t, r, b;
  ae_plot_area(p, &l, &t, &r, &b);
  cr_assert(l > 0 && r < 400 && t > 0 && b < 300 && l < r && t < b);
  for (double x = -2; x <= 6; x += 0.5)
    cr_assert_float_eq(ae_plot_px(p, x), l + (x + 2) / 8 * (r - l), 1e-9);
  for (double y = 10; y <= 20; y += 0.5)
    cr_assert_float_eq(ae_plot_py(p, y), b - (y - 10) / 10 * (b - t), 1e-9); /* y up */
  ae_plot_free(p);
}

Test(plot, log_mapping_is_log10) {
  ae_plot *p = ae_plot_new(400, 300);
  ae_plot_xscale(p, AE_PLOT_LOG);
  ae_plot_yscale(p, AE_PLOT_LOG);
  ae_plot_xrange(p, 1e-9, 1e-1);
  ae_plot_yrange(p, 1e-12, 1);
  ae_plot_layout(p);
  double l, t, r, b;
  ae_plot_area(p, &l, &t, &r, &b);
  for (int e = -9; e <= -1; e++) cr_assert_float_eq(ae_plot_px(p, pow(10, e)), l + (e + 9) / 8.0 * (r - l), 1e-9);
  /* equal ratios are equal distances */
  cr_assert_float_eq(ae_plot_py(p, 3e-7) - ae_plot_py(p, 3e-8), ae_plot_py(p, 1e-3) - ae_plot_py(p, 1e-4), 1e-9);
  cr_assert_float_eq(ae_plot_py(p, 1e-12), b, 1e-9);
  cr_assert_float_eq(ae_plot_py(p, 1), t, 1e-9);
  ae_plot_free(p);
}

Test(plot, log_axis_fits_whole_decades) {
  ae_plot *p = ae_plot_new(300, 200);
  ae_plot_yscale(p, AE_PLOT_LOG);
  double x[3] = {0, 1, 2}, y[3] = {3e-5, -1, 0.02}; /* -1 cannot be drawn on a log axis */
  ae_plot_line(p, NULL, 0, 3, x, y, 0);
  ae_plot_layout(p);
  double xlo, xhi, ylo, yhi;
  ae_plot_ranges(p, &xlo, &xhi, &ylo, &yhi);
  cr_assert_float_eq(ylo, 1e-5, 1e-18);
  cr_assert_float_eq(yhi, 0.1, 1e-15);
  cr_assert(xlo < 0 && xhi > 2, "x range [%g, %g] must hold the data with a margin", xlo, xhi);
  ae_plot_free(p);
}

Test(plot, nice_ticks) {
  double lo[] = {0, -3.7, 0.013, 1e-7, -1000, 5};
  double hi[] = {1, 12.2, 0.97, 3.3e-7, 1e6, 5.0001};
  for (int k = 0; k < 6; k++) {
    double t[10];
    int n = ae_plot_nice_ticks(lo[k], hi[k], 10, t);
    cr_assert(n >= 2 && n <= 10, "[%g, %g]: %d ticks", lo[k], hi[k], n);
    double step = t[1] - t[0], e = pow(10, floor(log10(step))), m = step / e;
    cr_assert(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6, "step %g is not 1, 2 or 5 x 10^k", step);
    step = round(m) * e;
    for (int i = 0; i < n; i++) {
      cr_assert(t[i] >= lo[k] - 1e-12 * fabs(lo[k]) && t[i] <= hi[k] * (1 + 1e-12) + 1e-300, "tick %g outside", t[i]);
      cr_assert(fabs(t[i] / step - round(t[i] / step)) < 1e-6, "tick %g is not a multiple of %g", t[i], step);
      if (i) cr_assert_float_eq(t[i] - t[i - 1], step, step * 1e-6);
    }
  }
  double t[10];
  cr_assert_eq(ae_plot_nice_ticks(0, 1, 10, t), 6); /* 0, 0.2, ..., 1 */
  cr_assert_float_eq(t[5], 1, 1e-12);
  cr_assert_eq(ae_plot_nice_ticks(1, 1, 10, t), 0);
}

Test(plot, line_passes_through_the_mapped_pixels) {
  ae_plot *p = ae_plot_new(480, 360);
  ae_plot_title(p, "a line from A to B");
  ae_plot_xlabel(p, "x");
  ae_plot_ylabel(p, "y");
  ae_plot_xrange(p, 0, 10);
  ae_plot_yrange(p, 0, 10);
  double x[2] = {1, 9}, y[2] = {2, 8};
  cr_assert_eq(ae_plot_line(p, "A to B", 3, 2, x, y, 0), 0);
  cr_assert_eq(ae_plot_save(p, at("line.png")), 0, "%s", ae_last_error());
  image im = load(at("line.png"));
  cr_assert_eq(im.w, 480);
  cr_assert_eq(im.h, 360);
  uint8_t red[3];
  ae_png_palette(3, red);
  int hits = 0;
  for (int k = 1; k < 20; k++) {
    double s = k / 20.0, dx = 1 + 8 * s, dy = 2 + 6 * s;
    if (near_colour(&im, ae_plot_px(p, dx), ae_plot_py(p, dy), red, 40)) hits++;
  }
  /* the legend (top right) may cover a point or two near B */
  cr_assert(hits >= 17, "only %d of 19 points on the segment are drawn in its colour", hits);
  /* points off the line (the mirror image across the diagonal) are not in its colour */
  int misses = 0;
  for (int k = 1; k < 20; k++) {
    double s = k / 20.0;
    if (!near_colour(&im, ae_plot_px(p, 2 + 6 * s), ae_plot_py(p, 1 + 8 * s), red, 40)) misses++;
  }
  cr_assert(misses >= 17, "%d of 19 off-line points are in the line's colour", 19 - misses);
  cairo_surface_destroy(im.s);
  ae_plot_free(p);
}

Test(plot, power_law_is_straight_on_log_axes) {
  ae_plot *p = ae_plot_new(400, 400);
  ae_plot_xscale(p, AE_PLOT_LOG);
  ae_plot_yscale(p, AE_PLOT_LOG);
  double x[2] = {1e-6, 1e-1}, y[2] = {1e-12, 1e-2}; /* y = x^2: slope 2 in decades */
  ae_plot_line(p, NULL, 0, 2, x, y, 1);
  cr_assert_eq(ae_plot_save(p, at("pow.png")), 0, "%s", ae_last_error());
  image im = load(at("pow.png"));
  uint8_t blue[3];
  ae_png_palette(0, blue);
  for (double lx = -5.5; lx <= -1.5; lx += 0.5) {
    double xv = pow(10, lx);
    cr_assert(near_colour(&im, ae_plot_px(p, xv), ae_plot_py(p, xv * xv), blue, 40), "(%g, %g) not drawn", xv,
              xv * xv);
  }
  double slope = (ae_plot_py(p, 1e-4) - ae_plot_py(p, 1e-10)) / (ae_plot_px(p, 1e-2) - ae_plot_px(p, 1e-5));
  double dec_x = ae_plot_px(p, 10) - ae_plot_px(p, 1), dec_y = ae_plot_py(p, 1) - ae_plot_py(p, 10);
  cr_assert_float_eq(-slope * dec_x / dec_y, 2, 1e-9);
  cairo_surface_destroy(im.s);
  ae_plot_free(p);
}

Test(plot, scatter_quiver_and_legend) {
  enum { N = 200 };
  double x[N], y[N];
  int32_t lab[N];
  for (int i = 0; i < N; i++) lab[i] = i % 10, x[i] = lab[i] + 0.3 * sin(i), y[i] = (i / 10) * 0.1;
  ae_plot *p = ae_plot_new(640, 480);
  ae_plot_title(p, "classes");
  cr_assert_eq(ae_plot_scatter(p, N, x, y, lab, ae_plot_fashion_classes, 10), 0);
  double u[2] = {1, 0}, v[2] = {0, 1}, qx[2] = {0, 5}, qy[2] = {0, 1};
  cr_assert_eq(ae_plot_quiver(p, "field", 7, 2, qx, qy, u, v, 0.5), 0);
  cr_assert_eq(ae_plot_save(p, at("scatter.png")), 0, "%s", ae_last_error());
  image im = load(at("scatter.png"));
  for (int c = 0; c < 10; c++) {
    uint8_t rgb[3];
    ae_png_palette(c, rgb);
    int found = 0;
    for (int i = c; i < N && !found; i += 10) found = near_colour(&im, ae_plot_px(p, x[i]), ae_plot_py(p, y[i]), rgb, 30);
    cr_assert(found, "class %d's colour is not at its points", c);
  }
  cairo_surface_destroy(im.s);
  ae_plot_free(p);
}

Test(plot, unwritable_path_names_it) {
  ae_plot *p = ae_plot_new(100, 100);
  cr_assert_eq(ae_plot_save(p, "/nonexistent-dir/x.png"), -1);
  cr_assert(strstr(ae_last_error(), "/nonexistent-dir/x.png"), "message '%s' must name the path", ae_last_error());
  ae_plot_free(p);
  cr_assert_null(ae_plot_new(10, 100));
}

Test(plot, pca_recovers_a_known_plane) {
  enum { N = 400, D = 6 };
  /* orthonormal u, v in R^6; rows = c + a_i u + b_i v + tiny noise, var(a) = 4 var(b) */
  double u[D] = {1, 1, 1, 1, 0, 0}, v[D] = {1, -1, 0, 0, 1, 1}, c[D] = {3, -2, 1, 0, 5, 7};
  for (int j = 0; j < D; j++) u[j] /= 2, v[j] /= 2;
  static double rows[N * D], out[N * 2], a[N], b[N];
  ae_rng rng;
  ae_rng_init(&rng, 5);
  double ma = 0, mb = 0;
  for (int i = 0; i < N; i++) {
    a[i] = 4 * (ae_rng_double(&rng) - 0.5), b[i] = 2 * (ae_rng_double(&rng) - 0.5);
    ma += a[i] / N, mb += b[i] / N;
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++) rows[i * D + j] = c[j] + a[i] * u[j] + b[i] * v[j] + 1e-9 * (ae_rng_double(&rng) - 0.5);
  double var[2], total;
  cr_assert_eq(ae_pca_project(rows, N, D, 2, out, var, &total), 0, "%s", ae_last_error());
  /* the variances are the eigenvalues of (a, b)'s 2 x 2 sample covariance (closed form) */
  double va = 0, vb = 0, cab = 0;
  for (int i = 0; i < N; i++)
    va += (a[i] - ma) * (a[i] - ma) / N, vb += (b[i] - mb) * (b[i] - mb) / N, cab += (a[i] - ma) * (b[i] - mb) / N;
  double mid = (va + vb) / 2, rad = sqrt((va - vb) * (va - vb) / 4 + cab * cab);
  cr_assert_float_eq(var[0], mid + rad, 1e-6 * va);
  cr_assert_float_eq(var[1], mid - rad, 1e-6 * vb);
  cr_assert_float_eq(total, va + vb, 1e-6 * (va + vb));
  /* coordinates equal the centred a, b up to one sign each (a and b are uncorrelated enough
     for the components to be u and v only when their covariance is ~0: compare the spans) */
  double saa = 0, sab = 0, sbb = 0, s0a = 0, s1b = 0, s0b = 0, s1a = 0;
  for (int i = 0; i < N; i++) {
    double x = out[2 * i], y = out[2 * i + 1], A = a[i] - ma, B = b[i] - mb;
    saa += A * A, sbb += B * B, sab += A * B, s0a += x * A, s1b += y * B, s0b += x * B, s1a += y * A;
    /* the plane is recovered exactly: x^2 + y^2 = A^2 + B^2 */
    cr_assert_float_eq(x * x + y * y, A * A + B * B, 1e-6);
  }
  (void)sab, (void)s0b, (void)s1a;
  /* the first component correlates with a, the second with b */
  cr_assert_gt(fabs(s0a) / sqrt(saa * var[0] * N), 0.95);
  cr_assert_gt(fabs(s1b) / sqrt(sbb * var[1] * N), 0.95);
  cr_assert_eq(ae_pca_project(rows, N, D, 7, out, NULL, NULL), -1);
}

Test(plot, code_plot_projects_wide_codes_by_pca) {
  enum { N = 300, D = 5 };
  ae_tensor *codes = ae_tensor_new(AE_SHAPE(N, D));
  int32_t lab[N];
  ae_rng rng;
  ae_rng_init(&rng, 9);
  for (int i = 0; i < N; i++) {
    lab[i] = i % 10;
    for (int j = 0; j < D; j++)
      codes->data[i * D + j] = (ae_real)((j == lab[i] % D ? 3.0 * (lab[i] / 5 + 1) : 0) + 0.2 * ae_rng_double(&rng));
  }
  static double xy[N * 2], rows[N * D], want[N * 2];
  ae_plot *p = ae_code_plot(codes, lab, "fashion-mnist", "codes", 500, xy);
  cr_assert_not_null(p, "%s", ae_last_error());
  for (int i = 0; i < N * D; i++) rows[i] = (double)codes->data[i];
  cr_assert_eq(ae_pca_project(rows, N, D, 2, want, NULL, NULL), 0);
  for (int i = 0; i < 2 * N; i++) cr_assert_float_eq(xy[i], want[i], 1e-9);
  cr_assert_eq(ae_plot_save(p, at("codes.png")), 0, "%s", ae_last_error());
  image im = load(at("codes.png"));
  cr_assert(im.w == 500 && im.h == 500);
  /* the classes spread over the plane: most classes' colours sit at their points */
  int shown = 0;
  for (int c = 0; c < 10; c++) {
    uint8_t rgb[3];
    ae_png_palette(c, rgb);
    int found = 0;
    for (int i = c; i < N && !found; i += 10) found = near_colour(&im, ae_plot_px(p, xy[2 * i]), ae_plot_py(p, xy[2 * i + 1]), rgb, 30);
    shown += found;
  }
  cr_assert_geq(shown, 8, "only %d classes visible", shown);
  cairo_surface_destroy(im.s);
  ae_plot_free(p);
  /* 2-unit codes are drawn as they are */
  ae_tensor *two = ae_tensor_new(AE_SHAPE(4, 2));
  for (int i = 0; i < 8; i++) two->data[i] = (ae_real)(i * 0.5 - 1);
  double xy2[8];
  p = ae_code_plot(two, NULL, "spiral", "codes", 200, xy2);
  cr_assert_not_null(p);
  for (int i = 0; i < 8; i++) cr_assert_float_eq(xy2[i], i * 0.5 - 1, 1e-12);
  ae_plot_free(p);
  int nc;
  cr_assert_eq(ae_code_plot_class_names("fashion-mnist", &nc)[9], ae_plot_fashion_classes[9]);
  cr_assert_eq(nc, 10);
  cr_assert_str_eq(ae_plot_fashion_classes[0], "T-shirt/top");
  cr_assert_null(ae_code_plot_class_names("spiral", &nc));
  ae_tensor_free(two);
  ae_tensor_free(codes);
}
