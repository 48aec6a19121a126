/* mixture.h: a mixture of Gaussians with full covariances fitted to codes
 * by expectation-maximisation, and sampled: `aezoo sample --mixture K`
 * for models without a prior, whose codes gather in clusters (one per
 * class, roughly) that a single Gaussian smears together.
 * EM from K means picked by k-means++ seeding (the first at random, each
 * next one with probability proportional to its squared distance to the
 * nearest picked, drawn from the model's counter-based generator, so a
 * seed gives the same fit); covariances start at the data's. Each M-step
 * adds ridge = 1e-6 times the data's mean variance to every covariance's
 * diagonal, which keeps a component on a few points invertible. A
 * component left with (almost) no responsibility keeps its parameters.
 * Functions return 0, or -1 with a message in ae_last_error(). */
#ifndef AE_MIXTURE_H
#define AE_MIXTURE_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "latent.h"

/* Mixtures over codes larger than this are refused (each EM iteration
 * costs n K k^2). */
#define AE_MIXTURE_MAX_UNITS 512

typedef struct ae_mixture {
  int64_t k;       /* units */
  int ncomp;       /* components */
  double *weight;  /* ncomp, summing to 1 */
  ae_gaussian *comp; /* ncomp full Gaussians */
} ae_mixture;

/* Fits ncomp components to the rows of codes (n >= ncomp, code...) by
 * `iters` EM iterations; loglik (iters + 1 values, may be NULL) receives
 * the mean log-likelihood per code before each iteration and after the
 * last. */
AE_API int ae_mixture_fit(const ae_tensor *codes, int ncomp, int iters, uint64_t seed, ae_mixture *mx, double *loglik);
/* n draws into out (n, k): a component by its weight, then its Gaussian. */
AE_API int ae_mixture_sample(const ae_mixture *mx, int64_t n, ae_rng *rng, ae_real *out);
AE_API void ae_mixture_free(ae_mixture *mx);

#endif
