/* tangent.h: the directions in input space a model's encoder is most
 * sensitive to at an example (Rifai et al. 2011, "The manifold tangent
 * classifier"; "Contractive auto-encoders"): the right singular vectors of
 * the encoder's Jacobian J = dh/dx (code units x input units) at x, with
 * their singular values; and, to compare, the leading directions of a
 * local PCA of x's nearest neighbours in a training set (Euclidean). Both
 * return 0, or -1 with a message in ae_last_error(). */
#ifndef AE_TANGENT_H
#define AE_TANGENT_H

#include "base/api.h"

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* J = dh/dx at one example x (m->dim values, the model's example shape):
 * *jac (allocated here, caller frees) gets the k x m->dim matrix, row j
 * the gradient of code unit j, *k the code size. Computed from VJPs
 * (grad/jacobian.h) on a batch holding copies of x, one-hot in code
 * unit j on row j (every zoo encoder treats rows independently), up to 256
 * rows a pass. Refused when J is zero: the code is then not a
 * differentiable function of the input on the tape (psd: the code is
 * inferred by MFISTA from a detached input). */
AE_API int ae_encoder_jacobian(ae_model *m, const ae_real *x, double **jac, int64_t *k);

/* The singular values of J at x, all r = min(k, m->dim) of them in
 * s[0..r) (descending; *r set; s holds m->dim values), and the leading
 * ndir right singular vectors (input-space directions, unit norm) in the
 * rows of dirs (ndir x m->dim); rows past r (ndir > r) are zeros. */
AE_API int ae_tangent_directions(ae_model *m, const ae_real *x, int ndir, double *s, int64_t *r, double *dirs);

/* The leading ndir principal directions (rows of dirs, ndir x d) and their
 * variances (var, ndir) of the `neighbours` rows of train (n x d) nearest
 * to x, centred on their mean; ndir < neighbours <= n. If idx is not NULL
 * it receives the neighbours' indices, nearest first. */
AE_API int ae_local_pca(const ae_real *train, int64_t n, int64_t d, const ae_real *x, int64_t neighbours, int ndir,
                 double *var, double *dirs, int64_t *idx);

#endif
