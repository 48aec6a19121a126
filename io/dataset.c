/* dataset.c: ae_dataset_load, the --data SPEC front end. It parses the
 * spec, finds the files (IDX directories, single IDX or .npy files) or
 * calls the synthetic generators, turns the raw arrays into an ae_real
 * tensor of examples (images (N,C,H,W) scaled to [0,1] when stored as
 * uint8) plus optional int32 labels, and checks labels against images and
 * float data for NaN/Inf. ae__dataset_load_u8 (dataset_u8.h) walks the
 * same specs and keeps images stored as bytes (IDX, uint8 .npy) as bytes. */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/parallel.h"
#include "base/rowcopy.h"
#include "dataset_u8.h"
#include "idx.h"
#include "npy.h"

#define DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define SPEC_FORMS                                                                                              \
  "fashion-mnist (default: $AEZOO_DATA or " DEFAULT_DIR "), fashion-mnist:DIR, mnist:DIR, a directory of IDX " \
  "files, a path to an IDX file (.gz or not) or a .npy file, spiral, swissroll, sines"

const char *ae_dataset_default_dir(void) {
  const char *e = getenv("AEZOO_DATA");
  return e && *e ? e : DEFAULT_DIR;
}

void ae_dataset_free(ae_dataset *d) {
  if (!d) return;
  ae_tensor_free(d->x);
  free(d->labels);
  memset(d, 0, sizeof *d);
}

int ae_dataset_check_finite(const ae_dataset *d) {
  if (!d || !d->x) {
    ae_set_last_error("check_finite: no data");
    return -1;
  }
  const ae_tensor *x = d->x;
  for (int64_t i = 0; i < x->numel; i++) {
    if (isfinite(x->data[i])) continue;
    /* example index and position inside the example */
    int64_t per = x->shape.ndim > 0 ? x->numel / x->shape.d[0] : 1, rest = i % per;
    char pos[96] = "";
    size_t used = 0;
    for (int k = 1; k < x->shape.ndim; k++) {
      int64_t stride = 1;
      for (int j = k + 1; j < x->shape.ndim; j++) stride *= x->shape.d[j];
      used += (size_t)snprintf(pos + used, sizeof pos - used, k > 1 ? ",%lld" : "%lld", (long long)(rest / stride));
      rest %= stride;
      if (used >= sizeof pos) break;
    }
    ae_set_last_error("%s: example %lld, position (%s) is %s; the data must be finite", d->name,
                 (long long)(i / per), pos, isnan(x->data[i]) ? "NaN" : "Inf");
    return -1;
  }
  return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static int is_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s && s[1] ? s + 1 : p;
}

/* Keeps the first n examples of *x (n <= N). */
static int take_prefix(ae_tensor **x, int64_t n) {
  if (n >= (*x)->shape.d[0]) return 0;
  ae_shape s = (*x)->shape;
  s.d[0] = n;
  ae_tensor *t = ae_tensor_from(s, (*x)->data);
  if (!t) return -1;
  ae_tensor_free(*x);
  *x = t;
  return 0;
}

/* (N) -> (N,1), (N,H,W) -> (N,1,H,W); 2-D and 4-D stay. */
static ae_shape example_shape(int ndim, const int64_t *d) {
  if (ndim == 1) return AE_SHAPE(d[0], 1);
  if (ndim == 3) return AE_SHAPE(d[0], 1, d[1], d[2]);
  return ae_shape_make(ndim, d);
}

void ae__dataset_u8_to_real(const uint8_t *u, int64_t n, ae_real *x) {
#pragma omp simd
  for (int64_t i = 0; i < n; i++) x[i] = (ae_real)u[i] / (ae_real)255;
}

void ae__dataset_u8_gather(const ae__dataset_u8 *d, const int64_t *idx, int64_t n, ae_tensor *out) {
  const int64_t row = d->shape.d[0] > 0 ? ae_shape_numel(d->shape) / d->shape.d[0] : 0;
  ae_rc_prefetch_row_ends(d->x, idx, n, row); /* as ae_gather_rows */
  for (int64_t i = 0; i < n; i++) {
    ae_rc_prefetch_row_rest(d->x, idx, n, i, row);
    ae__dataset_u8_to_real(d->x + idx[i] * row, row, out->data + i * row);
  }
}

void ae__dataset_u8_free(ae__dataset_u8 *d) {
  if (!d) return;
  free(d->x);
  free(d->labels);
  memset(d, 0, sizeof *d);
}

/* Images (and optional labels) from IDX arrays into out; with keep and
 * images of bytes, the bytes (taken from im) into keep->x and their shape
 * into keep->shape, out->x left NULL. */
static int from_idx(ae_idx *im, const char *im_path, const ae_idx *lab, const char *lab_path, int64_t limit,
                    ae_dataset *out, ae__dataset_u8 *keep) {
  int64_t n_all = im->file_rows > 0 ? im->file_rows : im->dims[0]; /* the header's count */
  int64_t n = limit > 0 && limit < im->dims[0] ? limit : im->dims[0];  /* the rows read */
  if (lab) {
    if (lab->ndim != 1 || lab->type == AE_IDX_F32 || lab->type == AE_IDX_F64) {
      ae_set_last_error("%s: a labels file must hold one integer per example, found %d-D %s", lab_path,
                   lab->ndim, ae_idx_type_name(lab->type));
      return -1;
    }
    if (lab->dims[0] != n_all) {
      ae_set_last_error("labels do not match images: %s has %lld images but %s has %lld labels", im_path,
                   (long long)n_all, lab_path, (long long)lab->dims[0]);
      return -1;
    }
    int64_t maxl = 0;
    for (int64_t i = 0; i < n_all; i++) {
      double v = ae_idx_get(lab, i);
      if (v < 0 || v > 1 << 20) {
        ae_set_last_error("%s: label %lld is %g; labels must be in 0..%d", lab_path, (long long)i, v, 1 << 20);
        return -1;
      }
      if (v > maxl) maxl = (int64_t)v;
    }
    out->labels = malloc((size_t)n * sizeof(int32_t));
    if (!out->labels) goto oom;
    for (int64_t i = 0; i < n; i++) out->labels[i] = (int32_t)ae_idx_get(lab, i);
    out->nclasses = (int)maxl + 1;
  }
  ae_shape s = example_shape(im->ndim, im->dims);
  s.d[0] = n;
  if (keep && im->type == AE_IDX_U8) {
    const size_t m = (size_t)ae_shape_numel(s);
    if (m == im->bytes) { /* the rows read are the rows kept */
      keep->x = im->data;
      im->data = NULL;
    } else if ((keep->x = malloc(m ? m : 1)) != NULL) {
      memcpy(keep->x, im->data, m);
    }
    if (!keep->x) goto oom;
    keep->shape = s;
    return 0;
  }
  out->x = ae_tensor_new(s);
  if (!out->x) goto oom;
  int64_t m = out->x->numel;
  ae_real *x = out->x->data;
  if (im->type == AE_IDX_U8) {
    const uint8_t *u = im->data;
#pragma omp parallel for if (AE_PAR(m))
    for (int64_t c = 0; c < m; c += 4096) ae__dataset_u8_to_real(u + c, m - c < 4096 ? m - c : 4096, x + c);
  } else {
    for (int64_t i = 0; i < m; i++) x[i] = (ae_real)ae_idx_get(im, i);
    if (ae_dataset_check_finite(out)) return -1;
  }
  return 0;
oom:
  ae_set_last_error("%s: out of memory for %lld examples", im_path, (long long)n);
  return -1;
}

/* The labels file next to an images file: "images" -> "labels" and
 * "idx3" -> "idx1" in the base name, with or without ".gz". */
static int find_labels_next_to(const char *im_path, char *out, size_t outlen) {
  const char *b = base_name(im_path);
  const char *hit = NULL;
  for (const char *p = strstr(b, "images"); p; p = strstr(p + 1, "images")) hit = p;
  if (!hit) return 0;
  char cand[4096];
  if (strlen(im_path) + 4 >= sizeof cand) return 0;
  snprintf(cand, sizeof cand, "%s", im_path);
  char *c = cand + (hit - im_path);
  memcpy(c, "labels", 6);
  char *i3 = strstr(cand + (b - im_path), "idx3");
  if (i3) i3[3] = '1';
  size_t len = strlen(cand);
  if (is_file(cand) && strcmp(cand, im_path)) return snprintf(out, outlen, "%s", cand), 1;
  if (len > 3 && !strcmp(cand + len - 3, ".gz"))
    cand[len - 3] = 0;
  else
    strcat(cand, ".gz");
  if (is_file(cand) && strcmp(cand, im_path)) return snprintf(out, outlen, "%s", cand), 1;
  return 0;
}

/* First existing file among DIR/PREFIX-KIND{-idxR-ubyte,.idxR-ubyte}[.gz]. */
static int find_in_dir(const char *dir, const char *prefix, const char *kind, int rank, char *out, size_t outlen) {
  static const char *const forms[] = {"%s/%s-%s-idx%d-ubyte.gz", "%s/%s-%s-idx%d-ubyte", "%s/%s-%s.idx%d-ubyte.gz",
                                      "%s/%s-%s.idx%d-ubyte"};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    snprintf(out, outlen, forms[i], dir, prefix, kind, rank);
    if (is_file(out)) return 1;
  }
  return 0;
}

static int load_dir(const char *dir, const char *name, int split, int64_t limit, ae_dataset *out,
                    ae__dataset_u8 *keep) {
  const char *prefix = split ? "t10k" : "train";
  if (!is_dir(dir)) {
    ae_set_last_error("%s: data directory %s does not exist%s", name, dir,
                 !strcmp(name, "fashion-mnist") ? " (install Debian's dataset-fashion-mnist, set AEZOO_DATA, or use "
                                                  "--data fashion-mnist:DIR)"
                                                : "");
    return -1;
  }
  char im_path[4096], lab_path[4096];
  if (!find_in_dir(dir, prefix, "images", 3, im_path, sizeof im_path)) {
    ae_set_last_error("%s: no %s-images-idx3-ubyte.gz (or %s-images-idx3-ubyte) in %s", name, prefix, prefix,
                 dir);
    return -1;
  }
  if (!find_in_dir(dir, prefix, "labels", 1, lab_path, sizeof lab_path)) {
    ae_set_last_error("%s: no %s-labels-idx1-ubyte.gz (or %s-labels-idx1-ubyte) in %s, next to %s", name,
                 prefix, prefix, dir, im_path);
    return -1;
  }
  ae_idx im, lab;
  if (ae_idx_read_rows(im_path, limit, &im)) return -1;
  if (ae_idx_read(lab_path, &lab)) {
    ae_idx_free(&im);
    return -1;
  }
  int rc = from_idx(&im, im_path, &lab, lab_path, limit, out, keep);
  ae_idx_free(&im);
  ae_idx_free(&lab);
  if (rc == 0) snprintf(out->name, sizeof out->name, "%s", name);
  return rc;
}

static int load_idx_file(const char *path, int64_t limit, ae_dataset *out, ae__dataset_u8 *keep) {
  ae_idx im, lab;
  char lab_path[4096];
  if (ae_idx_read_rows(path, limit, &im)) return -1;
  int has_lab = find_labels_next_to(path, lab_path, sizeof lab_path);
  if (has_lab && ae_idx_read(lab_path, &lab)) {
    ae_idx_free(&im);
    return -1;
  }
  snprintf(out->name, sizeof out->name, "%s", base_name(path));
  int rc = from_idx(&im, path, has_lab ? &lab : NULL, lab_path, limit, out, keep);
  ae_idx_free(&im);
  if (has_lab) ae_idx_free(&lab);
  return rc;
}

/* A .npy file of uint8 in C order as its bytes (keep, ae__dataset_load_u8):
 * 1, 0 when the file holds other data (nothing kept), or -1. */
static int keep_npy_bytes(const char *path, int64_t limit, ae__dataset_u8 *keep) {
  ae_shape s;
  int rc = ae__npy_read_rows_u8(path, limit, &keep->x, &s);
  if (rc == 1 && s.ndim == 0) {
    ae_set_last_error("%s: holds a single scalar; data must have 1 to 4 dimensions (N, ...)", path);
    free(keep->x);
    keep->x = NULL;
    return -1;
  }
  if (rc == 1) keep->shape = example_shape(s.ndim, s.d);
  return rc;
}

static int load_npy_file(const char *path, int64_t limit, ae_dataset *out, ae__dataset_u8 *keep) {
  if (keep) {
    int rc = keep_npy_bytes(path, limit, keep);
    if (rc == 1) snprintf(out->name, sizeof out->name, "%s", base_name(path));
    return rc < 0 ? -1 : 0; /* 0: kept, or not bytes (keep->x NULL) */
  }
  ae_tensor *t = ae_npy_read_rows(path, limit);
  if (!t) return -1;
  if (t->shape.ndim == 0) {
    ae_set_last_error("%s: holds a single scalar; data must have 1 to 4 dimensions (N, ...)", path);
    ae_tensor_free(t);
    return -1;
  }
  t->shape = example_shape(t->shape.ndim, t->shape.d);
  out->x = t;
  snprintf(out->name, sizeof out->name, "%s", base_name(path));
  int64_t n = limit > 0 && limit < t->shape.d[0] ? limit : t->shape.d[0];
  if (take_prefix(&out->x, n)) {
    ae_set_last_error("%s: out of memory", path);
    return -1;
  }
  if (ae_dataset_check_finite(out)) {
    ae_set_last_error("%s: %s", path, ae_last_error());
    return -1;
  }
  return 0;
}

static int has_npy_magic(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  char m[6] = {0};
  size_t got = fread(m, 1, 6, f);
  fclose(f);
  return got == 6 && !memcmp(m, "\x93NUMPY", 6);
}

/* ae_dataset_load, or with keep (ae__dataset_load_u8) the images of bytes
 * into keep; 1 when a byte source was kept, 0 (keep given) for a spec
 * whose values are not stored as bytes, before reading it. */
static int load_spec(const char *spec, int split, int64_t limit, uint64_t seed, ae_dataset *out,
                     ae__dataset_u8 *keep) {
  memset(out, 0, sizeof *out);
  if (split != 0 && split != 1) {
    ae_set_last_error("dataset_load: split %d, must be 0 (train) or 1 (test)", split);
    return -1;
  }
  if (limit < 0) {
    ae_set_last_error("dataset_load: limit %lld, must be >= 0 (0 = all)", (long long)limit);
    return -1;
  }
  if (!spec) spec = "fashion-mnist";
  if (!*spec) {
    ae_set_last_error("data spec is empty (valid forms: " SPEC_FORMS ")");
    return -1;
  }
  int rc;
  if (!strcmp(spec, "fashion-mnist"))
    rc = load_dir(ae_dataset_default_dir(), "fashion-mnist", split, limit, out, keep);
  else if (!strncmp(spec, "fashion-mnist:", 14) && spec[14])
    rc = load_dir(spec + 14, "fashion-mnist", split, limit, out, keep);
  else if (!strncmp(spec, "mnist:", 6) && spec[6])
    rc = load_dir(spec + 6, "mnist", split, limit, out, keep);
  else if (ae_synthetic_known(spec))
    rc = keep ? 0 : ae_synthetic_make(spec, split, limit, seed, out);
  else if (is_dir(spec))
    rc = load_dir(spec, base_name(spec), split, limit, out, keep);
  else if (is_file(spec)) {
    size_t len = strlen(spec);
    int npy = (len > 4 && !strcmp(spec + len - 4, ".npy")) || has_npy_magic(spec);
    rc = npy ? load_npy_file(spec, limit, out, keep) : load_idx_file(spec, limit, out, keep);
  } else {
    struct stat st;
    if (stat(spec, &st) == 0) {
      ae_set_last_error("data spec '%s': is %s; data must be a regular file or a directory", spec,
                   ae_io_file_kind(st.st_mode));
      return -1;
    }
    if (!strcmp(spec, "mnist") || !strncmp(spec, "mnist:", 6))
      ae_set_last_error("data spec '%s': mnist needs a directory, mnist:DIR", spec);
    else if (strchr(spec, '/') || strchr(spec, '.'))
      ae_set_last_error("data spec '%s': no such file or directory (valid forms: " SPEC_FORMS ")", spec);
    else
      ae_set_last_error("unknown data spec '%s' (valid forms: " SPEC_FORMS ")", spec);
    return -1;
  }
  if (rc != 0) ae_dataset_free(out);
  if (rc == 0 && keep) rc = keep->x != NULL;
  return rc;
}

int ae_dataset_load(const char *spec, int split, int64_t limit, uint64_t seed, ae_dataset *out) {
  if (!out) {
    ae_set_last_error("dataset_load: output is NULL");
    return -1;
  }
  return load_spec(spec, split, limit, seed, out, NULL);
}

int ae__dataset_load_u8(const char *spec, int split, int64_t limit, uint64_t seed, ae__dataset_u8 *out) {
  memset(out, 0, sizeof *out);
  ae_dataset d;
  int rc = load_spec(spec, split, limit, seed, &d, out);
  if (rc == 1) { /* the labels and the name loaded beside the bytes */
    out->labels = d.labels;
    out->nclasses = d.nclasses;
    snprintf(out->name, sizeof out->name, "%s", d.name);
    d.labels = NULL;
  } else {
    ae__dataset_u8_free(out);
  }
  ae_dataset_free(&d);
  return rc;
}
