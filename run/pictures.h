/* pictures.h: the pictures of a run (train's reconstructions.png and
 * samples.png; reconstruct, sample and encode commands), drawn with io/png.h.
 * Images (C,H,W) give grids; 2-D points (spiral, swissroll: examples of
 * shape (2,)) give scatter plots. All functions return 0, or -1 with a
 * message naming the file in ae_last_error(). Nothing here changes the model's
 * parameters; noise and samples come from a generator seeded with `seed`. */
#ifndef AE_RUN_PICTURES_H
#define AE_RUN_PICTURES_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "io/dataset.h"
#include "zoo/model.h"

/* The first `count` examples of data (N, example...) and their
 * reconstructions. Images: a grid, `cols` = min(count, 16) per row, inputs
 * in the band of rows above the band of their reconstructions; a denoiser
 * (def->corrupt) gets a band of noisy inputs between them, and its
 * reconstructions are those of the noisy inputs. Points: a scatter plot
 * of the reconstructions of the first `count` points (label 1, orange)
 * over the inputs (label 0, blue). */
AE_API int ae_picture_reconstructions(ae_model *m, const ae_dataset *d, int64_t count, uint64_t seed, const char *path);

/* `count` decoded samples from the prior (def->sample): a grid for images,
 * a scatter plot for points. -1 with "model X is not generative" when the
 * model has no sample(). */
AE_API int ae_picture_samples(ae_model *m, int64_t count, uint64_t seed, const char *path);

/* The codes (def->encode) of the first `count` examples as a scatter plot
 * coloured by d->labels (NULL: one colour); only for 2-unit codes: -1 with
 * a message giving the code size otherwise. */
AE_API int ae_picture_codes(ae_model *m, const ae_dataset *d, int64_t count, const char *path);

/* n examples of m's example shape (images), given as n * m->dim values in
 * rows, as a grid of `cols` per row (bands are made by ordering: row i of
 * the grid holds examples i*cols .. i*cols+cols-1). Values are clamped to
 * [0, 1]; NaN cells are drawn as the grid's grey (empty). */
AE_API int ae_picture_examples(const ae_model *m, const ae_real *rows, int64_t n, int cols, const char *path);

/* The size of a model's code for one example (def->encode on one example
 * of zeros), or -1 with ae_last_error(). */
AE_API int64_t ae_model_code_size(ae_model *m);

#endif
