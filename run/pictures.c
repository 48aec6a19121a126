/* pictures.c: reconstruction grids, sample grids and scatter plots of
 * points and codes (pictures.h). */
#include "pictures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/code_plot.h"
#include "io/plot.h"
#include "io/png.h"

#define PIC_ARENA ((size_t)1 << 30) /* mmap'd lazily: only what is touched is used */
#define PIC_COLS 16
#define PIC_SIDE 640

/* (n, example...) holding the first n rows of data. */
static ae_tensor *first_rows(const ae_tensor *x, int64_t n) {
  ae_shape s = x->shape;
  s.d[0] = n;
  return ae_tensor_from(s, x->data);
}

/* An image grid shape (N, C, H, W) for examples of m's shape, or 0 when the
 * examples are not images. */
static int image_shape(const ae_model *m, int64_t n, ae_shape *out) {
  const ae_shape e = m->example;
  if (e.ndim == 3 && (e.d[0] == 1 || e.d[0] == 3)) {
    *out = AE_SHAPE(n, e.d[0], e.d[1], e.d[2]);
    return 1;
  }
  if (e.ndim == 2) {
    *out = AE_SHAPE(n, 1, e.d[0], e.d[1]);
    return 1;
  }
  return 0;
}

static int not_drawable(const ae_model *m, const char *path) {
  char s[64];
  ae_set_last_error("%s: cannot draw examples of shape %s (images (C,H,W) with C = 1 or 3, or 2-D points only)",
                    path, ae_shape_str(m->example, s, sizeof s));
  return -1;
}

static int zoom_for(const ae_model *m) { return m->example.d[m->example.ndim - 1] <= 32 ? 2 : 1; }

static int tape_failed(ae_tape *t, const char *path) {
  if (ae_tape_ok(t)) return 0;
  ae_set_last_error("%s: %s", path, ae_tape_error(t));
  return -1;
}

/* A scatter plot with axes of a (label 0: names[0]) and, if b, b over it
 * (label 1: names[1]), n points each. */
static int scatter_two(const char *path, const char *title, const char *const names[2], const ae_real *a,
                       const ae_real *b, int64_t n) {
  int64_t total = b ? 2 * n : n;
  double *x = malloc(sizeof(double) * (size_t)total), *y = malloc(sizeof(double) * (size_t)total);
  int32_t *lab = malloc(sizeof(int32_t) * (size_t)total);
  ae_plot *p = ae_plot_new(PIC_SIDE, PIC_SIDE);
  int rc = -1;
  if (x && y && lab && p) {
    for (int64_t i = 0; i < total; i++) {
      const ae_real *src = i < n ? a + 2 * i : b + 2 * (i - n);
      x[i] = (double)src[0], y[i] = (double)src[1], lab[i] = i < n ? 0 : 1;
    }
    ae_plot_title(p, title);
    ae_plot_xlabel(p, "x1");
    ae_plot_ylabel(p, "x2");
    rc = ae_plot_scatter(p, total, x, y, lab, names, 2);
    if (rc)
      ae_set_last_error("%s: %s", path, ae_last_error());
    else
      rc = ae_plot_save(p, path);
  } else {
    ae_set_last_error("%s: out of memory", path);
  }
  ae_plot_free(p);
  free(x), free(y), free(lab);
  return rc;
}

int ae_picture_reconstructions(ae_model *m, const ae_dataset *d, int64_t count, uint64_t seed, const char *path) {
  ae_shape img;
  int points = ae_model_is_points(m);
  if (!points && !image_shape(m, 1, &img)) return not_drawable(m, path);
  int64_t n = count < d->x->shape.d[0] ? count : d->x->shape.d[0];
  if (n < 1) {
    ae_set_last_error("%s: no examples to draw", path);
    return -1;
  }
  ae_tensor *x = first_rows(d->x, n);
  ae_tape *t = ae_tape_new(PIC_ARENA);
  ae_tensor *grid = NULL;
  int rc = -1;
  if (!x || !t) {
    ae_set_last_error("%s: %s", path, ae_last_error());
    goto done;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_set_grad_enabled(t, 0);
  ae_val *xv = ae_const_tensor(t, x);
  ae_val *noisy = m->def->corrupt ? m->def->corrupt(m, t, xv, &rng) : NULL;
  ae_val *y = m->def->reconstruct(m, t, noisy ? noisy : xv);
  if (tape_failed(t, path)) goto done;
  if (points) {
    static const char *const names[2] = {"data", "reconstruction"};
    char title[160];
    snprintf(title, sizeof title, "%s: %lld points and their reconstructions", m->def->name, (long long)n);
    rc = scatter_two(path, title, names, x->data, y->t.data, n);
    goto done;
  }
  /* bands of PIC_COLS: inputs, (noisy inputs,) reconstructions */
  int cols = n < PIC_COLS ? (int)n : PIC_COLS;
  int bands = noisy ? 3 : 2;
  int64_t chunks = (n + cols - 1) / cols;
  image_shape(m, chunks * bands * cols, &img);
  grid = ae_tensor_full(img, 0.5);
  if (!grid) {
    ae_set_last_error("%s: %s", path, ae_last_error());
    goto done;
  }
  int64_t row = m->dim;
  const ae_real *src[3] = {x->data, noisy ? noisy->t.data : y->t.data, y->t.data};
  for (int64_t i = 0; i < n; i++) {
    int64_t c = i / cols, k = i % cols;
    for (int b = 0; b < bands; b++) {
      const ae_real *s = src[b == bands - 1 ? 2 : b];
      memcpy(grid->data + ((c * bands + b) * cols + k) * row, s + i * row, sizeof(ae_real) * (size_t)row);
    }
  }
  rc = ae_png_grid(path, grid, cols, 2, zoom_for(m));
done:
  ae_tensor_free(grid);
  ae_tape_free(t);
  ae_tensor_free(x);
  return rc;
}

int ae_picture_samples(ae_model *m, int64_t count, uint64_t seed, const char *path) {
  if (!m->def->sample) {
    ae_set_last_error("model %s is not generative: it has no prior to sample from", m->def->name);
    return -1;
  }
  ae_shape img;
  int points = ae_model_is_points(m);
  if (!points && !image_shape(m, count, &img)) return not_drawable(m, path);
  ae_tape *t = ae_tape_new(PIC_ARENA);
  if (!t) {
    ae_set_last_error("%s: %s", path, ae_last_error());
    return -1;
  }
  ae_rng rng;
  ae_rng_init(&rng, seed);
  ae_set_grad_enabled(t, 0);
  ae_val *s = m->def->sample(m, t, (int)count, &rng);
  int rc = -1;
  if (!tape_failed(t, path)) {
    if (points) {
      static const char *const names[2] = {"sample", "-"};
      char title[160];
      snprintf(title, sizeof title, "%s: %lld samples", m->def->name, (long long)count);
      rc = scatter_two(path, title, names, s->t.data, NULL, count);
    } else {
      ae_tensor view = s->t;
      view.shape = img;
      int cols = count < PIC_COLS ? (int)count : PIC_COLS;
      rc = ae_png_grid(path, &view, cols, 2, zoom_for(m));
    }
  }
  ae_tape_free(t);
  return rc;
}

static ae_val *encode_first(ae_model *m, ae_tape *t, const ae_tensor *x) {
  ae_set_grad_enabled(t, 0);
  return m->def->encode(m, t, ae_const_tensor(t, x));
}

int64_t ae_model_code_size(ae_model *m) {
  ae_shape s = ae_shape_make(m->example.ndim + 1, NULL);
  s.d[0] = 1;
  for (int k = 0; k < m->example.ndim; k++) s.d[k + 1] = m->example.d[k];
  ae_tensor *x = ae_tensor_new(s);
  ae_tape *t = ae_tape_new(PIC_ARENA);
  int64_t n = -1;
  if (x && t) {
    ae_val *c = encode_first(m, t, x);
    if (ae_tape_ok(t))
      n = c->t.numel;
    else
      ae_set_last_error("encode: %s", ae_tape_error(t));
  } else {
    ae_set_last_error("encode: %s", ae_last_error());
  }
  ae_tape_free(t);
  ae_tensor_free(x);
  return n;
}

int ae_picture_codes(ae_model *m, const ae_dataset *d, int64_t count, const char *path) {
  int64_t n = count < d->x->shape.d[0] ? count : d->x->shape.d[0];
  ae_tensor *x = first_rows(d->x, n);
  ae_tape *t = ae_tape_new(PIC_ARENA);
  int rc = -1;
  if (!x || !t) {
    ae_set_last_error("%s: %s", path, ae_last_error());
  } else {
    ae_val *c = encode_first(m, t, x);
    if (!tape_failed(t, path)) {
      ae_tensor view = c->t;
      view.shape = AE_SHAPE(n, c->t.numel / n);
      char title[256];
      snprintf(title, sizeof title, "codes of %s on %s", m->def->name, d->name);
      ae_plot *p = ae_code_plot(&view, d->labels, d->name, title, PIC_SIDE, NULL);
      if (!p) ae_set_last_error("%s: %s", path, ae_last_error());
      rc = p ? ae_plot_save(p, path) : -1;
      ae_plot_free(p);
    }
  }
  ae_tape_free(t);
  ae_tensor_free(x);
  return rc;
}

int ae_picture_examples(const ae_model *m, const ae_real *rows, int64_t n, int cols, const char *path) {
  ae_shape img;
  if (!image_shape(m, n, &img)) return not_drawable(m, path);
  ae_tensor *grid = ae_tensor_from(img, rows);
  if (!grid) {
    ae_set_last_error("%s: %s", path, ae_last_error());
    return -1;
  }
  for (int64_t i = 0; i < grid->numel; i++)
    if (grid->data[i] != grid->data[i]) grid->data[i] = (ae_real)(AE_PNG_GRID_BACKGROUND / 255.0);
  int rc = ae_png_grid(path, grid, cols, 2, zoom_for(m));
  ae_tensor_free(grid);
  return rc;
}
