/* dataset_u8.h (internal, not installed): a data set kept in the bytes its
 * file stores, for a training run that only ever reads it a batch at a
 * time. Fashion-MNIST's 60000 images are 47 MB as bytes against 188 MB as
 * floats, and a batch gathered from random rows reads a quarter of the
 * memory: the run converts each batch as it gathers it, with the same
 * conversion ae_dataset_load applies to the whole file, so every value is
 * the one ae_dataset_load would give. */
#ifndef AE_IO_DATASET_U8_H
#define AE_IO_DATASET_U8_H

#include <stdint.h>

#include "io/dataset.h"

typedef struct ae__dataset_u8 {
  uint8_t *x;       /* shape's elements, as stored; value (ae_real)(x[i] / 255.0) */
  ae_shape shape;   /* (N, C, H, W) or (N, D): ae_dataset_load's x's shape */
  int32_t *labels;  /* as ae_dataset: N labels, or NULL */
  int nclasses;
  char name[128];
} ae__dataset_u8;

/* Loads spec as ae_dataset_load(spec, split, limit, seed) would when its
 * images are stored as unsigned bytes (IDX files of type uint8: the
 * fashion-mnist and mnist directories, a single IDX file; .npy files of
 * dtype uint8 in C order), keeping the bytes. 1 when loaded so; 0 when the
 * spec's values are not stored as bytes (float .npy or IDX files,
 * Fortran-order .npy files, synthetic sets: *out is zeroed, load them with
 * ae_dataset_load); -1 with ae_last_error() as ae_dataset_load would set
 * it. */
int ae__dataset_load_u8(const char *spec, int split, int64_t limit, uint64_t seed, ae__dataset_u8 *out);
void ae__dataset_u8_free(ae__dataset_u8 *d);

/* x[i] = (ae_real)(u[i] / 255.0) for i < n: the loader's value of a stored
 * byte. In the float build it is computed as (float)u / 255.0f, one
 * correctly rounded division, which gives the same float for each of the
 * 256 bytes (test_dataset_u8.c checks all of them) and vectorises. */
void ae__dataset_u8_to_real(const uint8_t *u, int64_t n, ae_real *x);

/* npy.c: ae_npy_read_rows's checks on path, then its first max_rows rows
 * (0: all) as the bytes they are when its dtype is uint8 in C order (or
 * the array is 1-D): 1 with *bytes (malloc'ed) and the file's *shape
 * (rows limited); 0 for other data (nothing read); -1 with ae_last_error(). */
int ae__npy_read_rows_u8(const char *path, int64_t max_rows, uint8_t **bytes, ae_shape *shape);

/* Rows idx[0..n) of d, converted, into out's first n rows. */
void ae__dataset_u8_gather(const ae__dataset_u8 *d, const int64_t *idx, int64_t n, ae_tensor *out);

#endif
