/* png.c: image grids and scatter plots rendered into an 8-bit pixel
 * buffer, then encoded by libpng straight into an atomically replaced file
 * (ae_io_atomic, in safetensors.c). libpng reports errors by longjmp: its
 * error callback keeps the message and every failure comes back as -1. */
#include "png.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h" /* ae_io_atomic */

/* ---- encoding --------------------------------------------------------------- */

typedef struct png_job {
  ae_io_atomic file;
  const uint8_t *pix;
  int w, h, ch;
  char msg[256];
} png_job;

static void on_error(png_structp png, png_const_charp msg) {
  png_job *j = png_get_error_ptr(png);
  snprintf(j->msg, sizeof j->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void on_write(png_structp png, png_bytep data, size_t n) {
  png_job *j = png_get_io_ptr(png);
  if (ae_io_atomic_write(&j->file, data, n) != 0) png_error(png, strerror(j->file.err_no));
}

static void on_flush(png_structp png) { (void)png; }

/* Encodes j->pix into j->file. 0, or -1 with j->msg. Everything that
 * changes after setjmp lives in *j (outside this frame). */
static int encode(png_job *j) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, j, on_error, on_warning);
  if (!png) {
    snprintf(j->msg, sizeof j->msg, "out of memory");
    return -1;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    snprintf(j->msg, sizeof j->msg, "out of memory");
    return -1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return -1;
  }
  png_set_write_fn(png, j, on_write, on_flush);
  png_set_IHDR(png, info, (png_uint_32)j->w, (png_uint_32)j->h, 8, j->ch == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < j->h; y++) png_write_row(png, (png_const_bytep)(j->pix + (size_t)y * (size_t)j->w * (size_t)j->ch));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return 0;
}

static int write_png(const char *path, const uint8_t *pix, int w, int h, int ch) {
  png_job *j = calloc(1, sizeof *j);
  if (!j) {
    ae_set_last_error("%s: out of memory", path);
    return -1;
  }
  j->pix = pix;
  j->w = w;
  j->h = h;
  j->ch = ch;
  if (ae_io_atomic_open(&j->file, path) != 0) {
    free(j);
    return -1;
  }
  if (encode(j) != 0) {
    ae_io_atomic_abort(&j->file);
    ae_set_last_error("%s: cannot write the PNG: %s", path, j->msg);
    free(j);
    return -1;
  }
  int rc = ae_io_atomic_commit(&j->file);
  free(j);
  return rc;
}

static uint8_t to_u8(ae_real x) {
  if (!(x > 0)) return 0; /* also NaN */
  if (x >= 1) return 255;
  return (uint8_t)((double)x * 255.0 + 0.5);
}

/* ---- grids -------------------------------------------------------------------- */

int ae_png_grid(const char *path, const ae_tensor *imgs, int cols, int gap, int zoom) {
  if (!path || !imgs) {
    ae_set_last_error("png_grid: %s is NULL", path ? "images" : "path");
    return -1;
  }
  const ae_shape *s = &imgs->shape;
  char sb[64];
  ae_shape_str(*s, sb, sizeof sb);
  int64_t n, c, h, w;
  if (s->ndim == 4) {
    n = s->d[0], c = s->d[1], h = s->d[2], w = s->d[3];
  } else if (s->ndim == 3) {
    n = s->d[0], c = 1, h = s->d[1], w = s->d[2];
  } else {
    ae_set_last_error("%s: images of shape %s; a grid needs (N, C, H, W) or (N, H, W)", path, sb);
    return -1;
  }
  if (c != 1 && c != 3) {
    ae_set_last_error("%s: images of shape %s have %lld channels; a grid needs 1 (grey) or 3 (RGB)", path, sb,
                 (long long)c);
    return -1;
  }
  if (n < 1 || cols < 1 || gap < 0 || zoom < 1) {
    ae_set_last_error("%s: grid of %lld images with cols %d, gap %d, zoom %d; need N >= 1, cols >= 1, gap >= 0, zoom >= 1",
                 path, (long long)n, cols, gap, zoom);
    return -1;
  }
  int64_t rows = (n + cols - 1) / cols;
  int64_t cw = w * zoom + gap, chh = h * zoom + gap; /* cell pitch */
  int64_t W = (int64_t)cols * cw + gap, H = rows * chh + gap;
  if (w * zoom > AE_PNG_MAX_SIDE || h * zoom > AE_PNG_MAX_SIDE || W > AE_PNG_MAX_SIDE || H > AE_PNG_MAX_SIDE) {
    ae_set_last_error("%s: a grid of %lld images %s in %d columns (gap %d, zoom %d) is too large; at most %d pixels a side",
                 path, (long long)n, sb, cols, gap, zoom, AE_PNG_MAX_SIDE);
    return -1;
  }
  size_t bytes = (size_t)W * (size_t)H * (size_t)c;
  uint8_t *pix = malloc(bytes);
  if (!pix) {
    ae_set_last_error("%s: out of memory for a %lldx%lld picture", path, (long long)W, (long long)H);
    return -1;
  }
  memset(pix, AE_PNG_GRID_BACKGROUND, bytes);
  for (int64_t i = 0; i < n; i++) {
    int64_t x0 = gap + (i % cols) * cw, y0 = gap + (i / cols) * chh;
    const ae_real *img = imgs->data + i * c * h * w;
    for (int64_t y = 0; y < h * zoom; y++)
      for (int64_t x = 0; x < w * zoom; x++) {
        uint8_t *p = pix + ((size_t)(y0 + y) * (size_t)W + (size_t)(x0 + x)) * (size_t)c;
        for (int64_t k = 0; k < c; k++) p[k] = to_u8(img[(k * h + y / zoom) * w + x / zoom]);
      }
  }
  int rc = write_png(path, pix, (int)W, (int)H, (int)c);
  free(pix);
  return rc;
}

/* ---- scatter plots ----------------------------------------------------------- */

void ae_png_palette(int32_t label, uint8_t rgb[3]) {
  static const uint8_t tab10[10][3] = {
      {31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
  };
  int k = (int)(((int64_t)label % 10 + 10) % 10);
  memcpy(rgb, tab10[k], 3);
}

static void put(uint8_t *pix, int w, int x, int y, const uint8_t rgb[3]) {
  memcpy(pix + ((size_t)y * (size_t)w + (size_t)x) * 3, rgb, 3);
}

int ae_png_scatter(const char *path, const ae_tensor *pts, const int32_t *labels, int width, int height) {
  if (!path || !pts) {
    ae_set_last_error("png_scatter: %s is NULL", path ? "points" : "path");
    return -1;
  }
  if (pts->shape.ndim != 2 || pts->shape.d[1] != 2) {
    char sb[64];
    ae_shape_str(pts->shape, sb, sizeof sb);
    ae_set_last_error("%s: points of shape %s; a scatter plot needs (N, 2)", path, sb);
    return -1;
  }
  if (width < 32 || height < 32 || width > AE_PNG_MAX_SIDE || height > AE_PNG_MAX_SIDE) {
    ae_set_last_error("%s: scatter plot of %dx%d pixels; each side must be in 32..%d", path, width, height,
                 AE_PNG_MAX_SIDE);
    return -1;
  }
  int64_t n = pts->shape.d[0];
  const ae_real *p = pts->data;
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (int64_t i = 0; i < n; i++) {
    double x = p[2 * i], y = p[2 * i + 1];
    if (!isfinite(x) || !isfinite(y)) continue;
    xmin = fmin(xmin, x), xmax = fmax(xmax, x), ymin = fmin(ymin, y), ymax = fmax(ymax, y);
  }
  if (!(xmin <= xmax)) xmin = -1, xmax = 1, ymin = -1, ymax = 1; /* no finite point */
  double sx = xmax - xmin, sy = ymax - ymin;
  if (sx <= 0 && sy <= 0) sx = sy = 2;
  /* Frame inset from the edges; points keep 5% of the span (and a
   * marker's radius) away from it. One scale for both axes. */
  int side = width < height ? width : height;
  int pad = side / 40 > 4 ? side / 40 : 4;
  int r = 1 + side / 400;
  double aw = width - 2 * pad - 2 * (r + 2), ah = height - 2 * pad - 2 * (r + 2);
  double scale = fmin(sx > 0 ? aw / (1.1 * sx) : INFINITY, sy > 0 ? ah / (1.1 * sy) : INFINITY);
  double cx = 0.5 * (xmin + xmax), cy = 0.5 * (ymin + ymax);
  double ox = 0.5 * (width - 1), oy = 0.5 * (height - 1);

  size_t bytes = (size_t)width * (size_t)height * 3;
  uint8_t *pix = malloc(bytes);
  if (!pix) {
    ae_set_last_error("%s: out of memory for a %dx%d picture", path, width, height);
    return -1;
  }
  memset(pix, AE_PNG_SCATTER_BACKGROUND, bytes);
  const uint8_t axis[3] = {AE_PNG_SCATTER_AXIS, AE_PNG_SCATTER_AXIS, AE_PNG_SCATTER_AXIS};
  const uint8_t frame[3] = {AE_PNG_SCATTER_FRAME, AE_PNG_SCATTER_FRAME, AE_PNG_SCATTER_FRAME};
  int x0 = pad, x1 = width - 1 - pad, y0 = pad, y1 = height - 1 - pad; /* the frame */
  long zx = lround(ox + (0 - cx) * scale), zy = lround(oy - (0 - cy) * scale);
  if (zx > x0 && zx < x1)
    for (int y = y0 + 1; y < y1; y++) put(pix, width, (int)zx, y, axis);
  if (zy > y0 && zy < y1)
    for (int x = x0 + 1; x < x1; x++) put(pix, width, x, (int)zy, axis);
  for (int64_t i = 0; i < n; i++) {
    double x = p[2 * i], y = p[2 * i + 1];
    if (!isfinite(x) || !isfinite(y)) continue;
    uint8_t rgb[3];
    ae_png_palette(labels ? labels[i] : 0, rgb);
    long px = lround(ox + (x - cx) * scale), py = lround(oy - (y - cy) * scale);
    for (int dy = -r; dy <= r; dy++)
      for (int dx = -r; dx <= r; dx++) {
        long qx = px + dx, qy = py + dy;
        if (dx * dx + dy * dy > r * r + r || qx <= x0 || qx >= x1 || qy <= y0 || qy >= y1) continue;
        put(pix, width, (int)qx, (int)qy, rgb);
      }
  }
  for (int x = x0; x <= x1; x++) put(pix, width, x, y0, frame), put(pix, width, x, y1, frame);
  for (int y = y0; y <= y1; y++) put(pix, width, x0, y, frame), put(pix, width, x1, y, frame);
  int rc = write_png(path, pix, width, height, 3);
  free(pix);
  return rc;
}
