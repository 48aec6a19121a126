/* latent.h: a trained model's codes as data: the codes of a data set in
 * batches, codes decoded back to examples (def->decode), and a Gaussian
 * fitted to the codes of the training data and sampled, so a model without
 * a prior can still generate (`aezoo sample`) and be interpolated in code
 * space (`aezoo interpolate`). Statistics are computed in double. Functions
 * returning int give 0, or -1 with a message in ae_last_error(); those returning a
 * pointer give NULL with a message in ae_last_error(). */
#ifndef AE_LATENT_H
#define AE_LATENT_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* Arena of the tapes used here: mmap'd lazily, only what is touched is used. */
#define AE_LATENT_ARENA ((size_t)1 << 30)

/* The codes def->encode gives the first n examples of x (N, example...),
 * `batch` at a time, no gradients: a new tensor (n, code...). */
AE_API ae_tensor *ae_encode_all(ae_model *m, const ae_tensor *x, int64_t n, int64_t batch);

/* def->decode of codes (N, code...) (any leading count), `batch` at a time:
 * a new tensor (N, example...). Refused (with the model's name) when the
 * model has no decode. */
AE_API ae_tensor *ae_decode_all(ae_model *m, const ae_tensor *codes, int64_t batch);

/* def->reconstruct of the rows of x (N, example...), `batch` at a time:
 * a new tensor of x's shape. */
AE_API ae_tensor *ae_reconstruct_all(ae_model *m, const ae_tensor *x, int64_t batch);

/* The models with a decode hook, space-separated, into buf (for messages). */
AE_API void ae_models_with_decode(char *buf, size_t len);

/* A Gaussian N(mean, cov) over codes of k units. Full covariance, sampled
 * as mean + V diag(sqrt(max(w, 0))) z from the eigen-decomposition
 * cov = V diag(w) V^T (semi-definite covariances, such as those of dead
 * ReLU units, are fine), or diagonal: cov[i] the variances. */
typedef struct ae_gaussian {
  int64_t k;
  int diagonal;
  double *mean;  /* k */
  double *cov;   /* k x k, or k variances when diagonal */
  double *basis; /* full: row i = eigenvector i times sqrt(max(w_i, 0)); NULL when diagonal */
} ae_gaussian;

/* Codes larger than this get a diagonal Gaussian by default (a full one
 * needs k^2 doubles and an O(k^3) eigen-decomposition). */
#define AE_GAUSSIAN_FULL_MAX 4096

/* Fits mean and covariance (divided by n - 1) to the rows of codes
 * (n >= 2, code...) flattened to k units; diagonal: variances only. */
AE_API int ae_gaussian_fit(const ae_tensor *codes, int diagonal, ae_gaussian *g);
/* A full Gaussian with the given mean (k) and covariance (k x k), copied. */
AE_API int ae_gaussian_from(int64_t k, const double *mean, const double *cov, ae_gaussian *g);
/* n draws into out (n, k) (as ae_real), standard normals from rng. */
AE_API int ae_gaussian_sample(const ae_gaussian *g, int64_t n, ae_rng *rng, ae_real *out);
AE_API void ae_gaussian_free(ae_gaussian *g);

/* Decoded images along the straight line between the codes of a and b
 * (one example each, the model's example shape): `steps` >= 2 points
 * h_s = (1 - s/(steps-1)) encode(a) + s/(steps-1) encode(b), decoded into
 * out (steps, example...) (as ae_real: steps * m->dim values). */
AE_API int ae_interpolate_codes(ae_model *m, const ae_real *a, const ae_real *b, int steps, ae_real *out);

#endif
