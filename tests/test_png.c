/* test_png.c: PNG pictures (io/png.h), read back with libpng. Grids have
 * the documented size, every pixel equals round(clamp(x) * 255) of its
 * source pixel (zoomed by repetition) or the background in gaps and empty
 * cells, grey stays grey and RGB keeps its channel order; scatter plots
 * have the requested size, a frame, every label's colour, and place
 * points by their coordinates (x right, y up); bad arguments and
 * unwritable paths give -1 with a message, and a write that fails inside
 * libpng (through the test hook) returns -1 and leaves the old file. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aezoo.h"
#include "io_test_util.h"

TestSuite(png, .init = mkdir_tmp, .fini = rm_tmp);

/* A PNG read back with libpng: size, channels as stored, 8-bit pixels. */
typedef struct picture {
  int w, h, ch;
  uint8_t *pix;
} picture;

static picture read_png(const char *path) {
  png_image im;
  memset(&im, 0, sizeof im);
  im.version = PNG_IMAGE_VERSION;
  cr_assert(png_image_begin_read_from_file(&im, path), "libpng cannot read %s: %s", path, im.message);
  picture p = {(int)im.width, (int)im.height, (im.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1, NULL};
  cr_assert(!(im.format & PNG_FORMAT_FLAG_ALPHA), "unexpected alpha channel");
  im.format = p.ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  p.pix = malloc(PNG_IMAGE_SIZE(im));
  cr_assert(png_image_finish_read(&im, NULL, p.pix, 0, NULL), "%s", im.message);
  return p;
}

static uint8_t expect_u8(double x) {
  if (isnan(x) || x <= 0) return 0;
  if (x >= 1) return 255;
  return (uint8_t)lround(x * 255);
}

Test(png, grey_grid_pixels_and_gaps) {
  const int N = 5, H = 3, W = 4, cols = 3, gap = 2, zoom = 2;
  ae_tensor *t = ae_tensor_new(AE_SHAPE(N, 1, H, W));
  for (int i = 0; i < N * H * W; i++) t->data[i] = (ae_real)((i % 23) / 21.0 - 0.02);
  t->data[7] = (ae_real)1.7;
  t->data[8] = (ae_real)NAN;
  t->data[9] = (ae_real)0.5; /* 127.5 rounds up */
  cr_assert(ae_png_grid(at("g.png"), t, cols, gap, zoom) == 0, "%s", ae_last_error());
  cr_assert_eq(count_files(), 1);
  picture p = read_png(at("g.png"));
  cr_assert_eq(p.ch, 1, "a grey grid must be a grey PNG");
  cr_assert_eq(p.w, cols * (W * zoom + gap) + gap);    /* 32 */
  cr_assert_eq(p.h, 2 * (H * zoom + gap) + gap);       /* 18 */
  int img_px = 0;
  for (int y = 0; y < p.h; y++)
    for (int x = 0; x < p.w; x++) {
      int want = AE_PNG_GRID_BACKGROUND;
      int cx = (x - gap) / (W * zoom + gap), rx = (x - gap) % (W * zoom + gap);
      int cy = (y - gap) / (H * zoom + gap), ry = (y - gap) % (H * zoom + gap);
      int i = cy * cols + cx;
      if (x >= gap && y >= gap && rx < W * zoom && ry < H * zoom && i < N) {
        want = expect_u8((double)t->data[(i * H + ry / zoom) * W + rx / zoom]);
        img_px++;
      }
      cr_assert_eq(p.pix[y * p.w + x], want, "pixel (%d,%d)", x, y);
    }
  cr_assert_eq(img_px, N * H * W * zoom * zoom);
  cr_assert_eq(p.pix[(gap + 7 / W * zoom) * p.w + gap + 7 % W * zoom], 255, "clamped above");
  free(p.pix);
  ae_tensor_free(t);
}

Test(png, rgb_grid_channel_order_and_3d_grey) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(2, 3, 2, 2));
  for (int i = 0; i < 2; i++)
    for (int c = 0; c < 3; c++)
      for (int k = 0; k < 4; k++) t->data[(i * 3 + c) * 4 + k] = (ae_real)(c == 0 ? 1.0 : c == 1 ? k / 4.0 : i);
  cr_assert(ae_png_grid(at("rgb.png"), t, 2, 1, 1) == 0, "%s", ae_last_error());
  picture p = read_png(at("rgb.png"));
  cr_assert(p.ch == 3 && p.w == 2 * 3 + 1 && p.h == 1 * 3 + 1);
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 4; k++) {
      int x = 1 + i * 3 + k % 2, y = 1 + k / 2;
      const uint8_t *q = p.pix + (y * p.w + x) * 3;
      cr_assert(q[0] == 255 && q[1] == expect_u8(k / 4.0) && q[2] == 255 * i, "image %d pixel %d: %d %d %d", i, k, q[0],
                q[1], q[2]);
    }
  const uint8_t *g = p.pix + (0 * p.w + 3) * 3;
  cr_assert(g[0] == AE_PNG_GRID_BACKGROUND && g[1] == AE_PNG_GRID_BACKGROUND && g[2] == AE_PNG_GRID_BACKGROUND);
  free(p.pix);
  ae_tensor_free(t);

  ae_tensor *u = ae_tensor_full(AE_SHAPE(3, 2, 5), (ae_real)0.25);
  cr_assert(ae_png_grid(at("g3.png"), u, 4, 0, 3) == 0, "%s", ae_last_error());
  p = read_png(at("g3.png"));
  cr_assert(p.ch == 1 && p.w == 4 * 15 && p.h == 6);
  cr_assert_eq(p.pix[0], expect_u8(0.25));
  cr_assert_eq(p.pix[p.w - 1], AE_PNG_GRID_BACKGROUND, "the empty fourth cell");
  free(p.pix);
  ae_tensor_free(u);
}

static int colour_count(const picture *p, const uint8_t rgb[3], double *mx, double *my) {
  int n = 0;
  double sx = 0, sy = 0;
  for (int y = 0; y < p->h; y++)
    for (int x = 0; x < p->w; x++)
      if (memcmp(p->pix + (y * p->w + x) * 3, rgb, 3) == 0) n++, sx += x, sy += y;
  if (mx) *mx = n ? sx / n : NAN;
  if (my) *my = n ? sy / n : NAN;
  return n;
}

Test(png, scatter_colours_frame_and_placement) {
  const int N = 30;
  ae_tensor *pts = ae_tensor_new(AE_SHAPE(N, 2));
  int32_t lab[30];
  for (int i = 0; i < N; i++) {
    double a = i * 0.7;
    pts->data[2 * i] = (ae_real)(a * cos(a));
    pts->data[2 * i + 1] = (ae_real)(a * sin(a) * 0.5 + 100);
    lab[i] = i % 10;
  }
  cr_assert(ae_png_scatter(at("s.png"), pts, lab, 200, 150) == 0, "%s", ae_last_error());
  picture p = read_png(at("s.png"));
  cr_assert(p.ch == 3 && p.w == 200 && p.h == 150);
  for (int l = 0; l < 10; l++) {
    uint8_t rgb[3];
    ae_png_palette(l, rgb);
    cr_assert_gt(colour_count(&p, rgb, NULL, NULL), 0, "label %d has no pixel", l);
  }
  const uint8_t frame[3] = {AE_PNG_SCATTER_FRAME, AE_PNG_SCATTER_FRAME, AE_PNG_SCATTER_FRAME};
  const uint8_t bg[3] = {AE_PNG_SCATTER_BACKGROUND, AE_PNG_SCATTER_BACKGROUND, AE_PNG_SCATTER_BACKGROUND};
  cr_assert_gt(colour_count(&p, frame, NULL, NULL), 2 * (150 + 200) - 40 * 4, "no frame");
  cr_assert(memcmp(p.pix, bg, 3) == 0, "corner is not background");
  free(p.pix);

  /* Two points, lower-left (label 0) and upper-right (label 1). */
  ae_tensor *two = ae_tensor_new(AE_SHAPE(2, 2));
  two->data[0] = -3, two->data[1] = 5, two->data[2] = 1, two->data[3] = 9;
  int32_t l2[2] = {0, 1};
  cr_assert(ae_png_scatter(at("two.png"), two, l2, 64, 64) == 0, "%s", ae_last_error());
  p = read_png(at("two.png"));
  uint8_t c0[3], c1[3];
  ae_png_palette(0, c0);
  ae_png_palette(1, c1);
  double x0, y0, x1, y1;
  cr_assert_gt(colour_count(&p, c0, &x0, &y0), 0);
  cr_assert_gt(colour_count(&p, c1, &x1, &y1), 0);
  cr_assert(x0 < x1 && y0 > y1, "label 0 at (%g,%g) must be left of and below label 1 at (%g,%g)", x0, y0, x1, y1);
  /* same scale on both axes: the spans are 4 and 4, so the offsets match */
  cr_assert(fabs((x1 - x0) - (y0 - y1)) < 1.5, "dx %g dy %g", x1 - x0, y0 - y1);
  free(p.pix);

  /* no labels, a non-finite point, all points equal: still a picture */
  two->data[0] = (ae_real)NAN;
  two->data[2] = 1, two->data[3] = 9;
  cr_assert(ae_png_scatter(at("nan.png"), two, NULL, 40, 40) == 0, "%s", ae_last_error());
  p = read_png(at("nan.png"));
  cr_assert_gt(colour_count(&p, c0, &x0, &y0), 0);
  cr_assert(fabs(x0 - 19.5) <= 1 && fabs(y0 - 19.5) <= 1, "a lone point sits in the middle: (%g,%g)", x0, y0);
  free(p.pix);
  ae_tensor_free(two);
  ae_tensor_free(pts);
}

Test(png, bad_arguments_and_unwritable_paths) {
  ae_tensor *t = ae_tensor_new(AE_SHAPE(2, 2, 3, 3));
  cr_assert(ae_png_grid(at("x.png"), t, 2, 1, 1) == -1);
  cr_assert(strstr(ae_last_error(), "2 channels"), "%s", ae_last_error());
  ae_tensor_free(t);
  t = ae_tensor_new(AE_SHAPE(2, 1, 3, 3));
  cr_assert(ae_png_grid(at("x.png"), t, 0, 1, 1) == -1);
  cr_assert(ae_png_grid(at("x.png"), t, 2, 1, 100000) == -1);
  cr_assert(strstr(ae_last_error(), "too large"), "%s", ae_last_error());
  cr_assert(ae_png_grid(at("no/such/dir/x.png"), t, 2, 1, 1) == -1);
  cr_assert(strstr(ae_last_error(), "no/such/dir/x.png") && strstr(ae_last_error(), "No such file"), "%s", ae_last_error());
  ae_tensor *pts = ae_tensor_new(AE_SHAPE(4, 3));
  cr_assert(ae_png_scatter(at("s.png"), pts, NULL, 100, 100) == -1);
  cr_assert(strstr(ae_last_error(), "(4,3)"), "%s", ae_last_error());
  ae_tensor_free(pts);
  pts = ae_tensor_new(AE_SHAPE(4, 2));
  cr_assert(ae_png_scatter(at("s.png"), pts, NULL, 10, 100) == -1);
  cr_assert(ae_png_scatter(at("no/such/dir/s.png"), pts, NULL, 100, 100) == -1);
  cr_assert(strstr(ae_last_error(), "no/such/dir/s.png"), "%s", ae_last_error());
  cr_assert_eq(count_files(), 0);
  ae_tensor_free(pts);
  ae_tensor_free(t);
}

static int fail_after_header(const char *path, size_t written, size_t n) { return written > 0; }

Test(png, failure_inside_libpng_keeps_old_file) {
  ae_tensor *t = ae_tensor_full(AE_SHAPE(4, 1, 8, 8), (ae_real)0.75);
  cr_assert(ae_png_grid(at("g.png"), t, 2, 1, 2) == 0, "%s", ae_last_error());
  ae_io_atomic_test_hook = fail_after_header;
  ae_tensor *u = ae_tensor_full(AE_SHAPE(1, 1, 5, 5), (ae_real)0.1);
  cr_assert(ae_png_grid(at("g.png"), u, 1, 0, 1) == -1);
  cr_assert(strstr(ae_last_error(), "g.png") && strstr(ae_last_error(), "cannot write the PNG"), "%s", ae_last_error());
  ae_tensor *pts = ae_tensor_full(AE_SHAPE(3, 2), 1);
  cr_assert(ae_png_scatter(at("s.png"), pts, NULL, 50, 50) == -1);
  ae_io_atomic_test_hook = NULL;
  cr_assert_eq(count_files(), 1, "a temporary file was left behind");
  picture p = read_png(at("g.png"));
  cr_assert(p.w == 2 * 17 + 1 && p.h == 2 * 17 + 1 && p.pix[p.w + 1] == expect_u8(0.75), "the old picture changed");
  free(p.pix);
  ae_tensor_free(pts);
  ae_tensor_free(u);
  ae_tensor_free(t);
}
