/* dataset.h: data sets for the zoo and the CLI, named by a spec string
 * (the CLI's --data SPEC):
 *   fashion-mnist        Fashion-MNIST from ae_dataset_default_dir() (the default)
 *   fashion-mnist:DIR    Fashion-MNIST from DIR
 *   mnist:DIR            MNIST (same IDX files) from DIR
 *   DIR                  an existing directory holding train-/t10k- IDX files
 *   PATH.npy             a NumPy file: uint8 (scaled to [0,1]), float32 or
 *                        float64; 1-D (N values, becomes (N,1)), 2-D rows of
 *                        features (N,D), 3-D images (N,H,W) -> (N,1,H,W),
 *                        4-D images (N,C,H,W) as they are
 *   PATH                 an IDX file, gzipped or not (same shapes as .npy;
 *                        uint8 scaled to [0,1]); for a "...images..." file the
 *                        "...labels..." file next to it is loaded if present
 *   spiral, swissroll, sines   built-in synthetic sets (see synthetic.c)
 * In a directory, split 0 reads train-images-idx3-ubyte[.gz] and
 * train-labels-idx1-ubyte[.gz], split 1 the t10k- files (the MNIST
 * mirrors' "train-images.idx3-ubyte" spelling is accepted too). A single
 * file has no held-out part: both splits give the same data. Synthetic
 * sets draw split 1 from a different stream than split 0. Float data from
 * files is checked to be finite. */
#ifndef AE_IO_DATASET_H
#define AE_IO_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "base/api.h"
#include "base/tensor.h"

typedef struct ae_dataset {
  ae_tensor *x;    /* (N, C, H, W) images or (N, D) features, (N, T, F) sequences, as ae_real; images in [0,1] */
  int32_t *labels; /* N labels in 0..nclasses-1, or NULL */
  int nclasses;    /* 0 when unlabelled; else 1 + the largest label in the whole file */
  char name[128];  /* "fashion-mnist", "mnist", "spiral", a file's base name, ... */
} ae_dataset;

/* split: 0 train, 1 test. limit: at most this many examples (0 = all),
 * taken from the start. seed: synthetic sets (ignored by files).
 * 0, or -1 with a message in ae_last_error(); *out is then
 * zeroed. An unknown spec gets a one-line message listing the forms. */
AE_API int ae_dataset_load(const char *spec, int split, int64_t limit, uint64_t seed, ae_dataset *out);
AE_API void ae_dataset_free(ae_dataset *d);
/* $AEZOO_DATA if set and non-empty, else /usr/share/datasets/fashion-mnist
 * (Debian's dataset-fashion-mnist package). */
AE_API const char *ae_dataset_default_dir(void);
/* Checks every value is finite; -1 with a message naming the data set, the
 * first bad example and its position inside the example. */
AE_API int ae_dataset_check_finite(const ae_dataset *d);

/* Synthetic sets (synthetic.c), also reachable through ae_dataset_load.
 * 1 when name is one of them. */
AE_API int ae_synthetic_known(const char *name);
/* Default sizes: AE_SYNTH_TRAIN examples for split 0, AE_SYNTH_TEST for 1. */
#define AE_SYNTH_TRAIN 2000
#define AE_SYNTH_TEST 500
AE_API int ae_synthetic_make(const char *name, int split, int64_t limit, uint64_t seed, ae_dataset *out);

#endif
