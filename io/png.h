/* png.h: pictures written as PNG through libpng: grids of images (inputs,
 * reconstructions, samples, filters) and scatter plots of 2-D points
 * (the spiral and swissroll sets, a 2-unit code coloured by label).
 * Files are replaced atomically (temporary file, fsync, rename). */
#ifndef AE_IO_PNG_H
#define AE_IO_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "base/api.h"
#include "base/tensor.h"

/* Grey level of the gaps between grid cells and of empty cells. */
#define AE_PNG_GRID_BACKGROUND 128
/* Scatter plots: white background, dark grey frame, light grey zero axes. */
#define AE_PNG_SCATTER_BACKGROUND 255
#define AE_PNG_SCATTER_FRAME 64
#define AE_PNG_SCATTER_AXIS 220
/* Largest width or height written. */
#define AE_PNG_MAX_SIDE 16384

/* A grid of images: imgs is (N, C, H, W) with C = 1 (grey) or 3 (RGB), or
 * (N, H, W) for grey; values in [0, 1] (clamped; NaN is drawn as 0), stored
 * as round(x * 255). `cols` cells per row (the last row may be partly
 * empty), `gap` >= 0 pixels of AE_PNG_GRID_BACKGROUND around and between
 * cells, each image scaled up by an integer `zoom` >= 1 (nearest). The
 * picture is cols*(W*zoom+gap)+gap wide and rows*(H*zoom+gap)+gap high,
 * rows = ceil(N / cols); image i sits in row i / cols, column i % cols, so
 * a caller makes bands (inputs, then reconstructions) by ordering.
 * Grey images give a grey PNG, RGB images an RGB PNG. 0, or -1 with a
 * message naming the path and the problem in ae_last_error(). */
AE_API int ae_png_grid(const char *path, const ae_tensor *imgs, int cols, int gap, int zoom);

/* A scatter plot of the rows of pts (N, 2): x = column 0, y = column 1
 * (up). Coloured by labels[i] (NULL: all in palette colour 0), with the
 * 10-colour palette of ae_png_palette. Auto-scaled to the finite points'
 * range, the same scale on both axes, with a margin; a frame around the
 * plot area and light zero axes where 0 is in range; non-finite points are
 * skipped. width, height in 32..AE_PNG_MAX_SIDE. 0, or -1 with
 * ae_last_error(). */
AE_API int ae_png_scatter(const char *path, const ae_tensor *pts, const int32_t *labels, int width, int height);

/* Colour of a label (matplotlib's tab10: blue, orange, green, red, purple,
 * brown, pink, grey, olive, cyan); labels wrap modulo 10, negative ones too. */
AE_API void ae_png_palette(int32_t label, uint8_t rgb[3]);

#endif
