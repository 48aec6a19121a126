/* noise.h: corruption noise for denoising autoencoders, dropout, the
 * VAE's reparameterised sample, and the proximal (soft-threshold) ops of
 * sparse coding (ISTA / FISTA, as in predictive sparse decomposition).
 *
 * Randomness: every noise op draws from the counter-based generator it is
 * given (base/rng.h), exactly numel(x) draws in one call of
 * ae_rng_uniform, ae_rng_normal or ae_rng_bernoulli, which advances
 * rng->counter by numel(x). Draw i depends only on (seed, counter + i), so
 * the same seed and counter give the same noise whatever the thread count,
 * and a copy of the generator taken before the call reproduces the noise.
 * The noise is a constant on the tape: gradients flow to x (and to mu and
 * logvar for the sample) through the differentiable ops that combine it
 * with x, as stated with each function. A bad probability or scale raises
 * AE_ERR_ARG, a NULL generator too. */
#ifndef AE_NOISE_H
#define AE_NOISE_H

#include "base/api.h"
#include "base/rng.h"
#include "autograd/tape.h"

/* Additive Gaussian noise with clipping:
 *   y = clamp(x + sigma eps, lo, hi),  eps ~ N(0, 1) (ae_rng_normal),
 * dy/dx = 1 where lo <= x + sigma eps <= hi, else 0 (ae_clamp's rule).
 * Pass lo = -INFINITY, hi = INFINITY for no clipping (then no clamp op is
 * recorded). sigma >= 0, lo <= hi. */
AE_API ae_val *ae_gaussian_noise(ae_tape *t, ae_val *x, ae_real sigma, ae_real lo, ae_real hi, ae_rng *rng);

/* Masking noise: y = x m with m ~ Bernoulli(1 - nu) independently per
 * element (ae_rng_bernoulli), so each input is zeroed with probability nu
 * (a fraction nu in expectation; no rescaling, as in Vincent et al. 2010).
 * dy/dx = m. nu in [0, 1]. */
AE_API ae_val *ae_masking_noise(ae_tape *t, ae_val *x, ae_real nu, ae_rng *rng);

/* Salt-and-pepper noise: each element is corrupted with probability
 * `fraction`, and a corrupted element is set to lo or to hi with
 * probability 1/2 each. One uniform u per element (ae_rng_uniform on
 * [0, 1)): u < fraction/2 gives lo, fraction/2 <= u < fraction gives hi,
 * otherwise x is kept. y = where(kept, x, value); dy/dx = [kept].
 * fraction in [0, 1]. */
AE_API ae_val *ae_salt_and_pepper(ae_tape *t, ae_val *x, ae_real fraction, ae_real lo, ae_real hi, ae_rng *rng);

/* Inverted dropout: when training, y = x m / (1 - p) with m ~ Bernoulli(1 - p)
 * (ae_rng_bernoulli), so E[y] = x; dy/dx = m / (1 - p); p = 1 gives zeros.
 * When not training, or p = 0, it returns x itself and draws nothing.
 * p in [0, 1]. */
AE_API ae_val *ae_dropout(ae_tape *t, ae_val *x, ae_real p, int training, ae_rng *rng);

/* Reparameterised Gaussian sample z = mu + exp(logvar / 2) eps, eps ~ N(0, 1)
 * of mu's shape (ae_rng_normal(rng, ., numel, 0, 1)). dz/dmu = 1,
 * dz/dlogvar = exp(logvar / 2) eps / 2. mu and logvar have equal shapes. */
AE_API ae_val *ae_reparameterize(ae_tape *t, ae_val *mu, ae_val *logvar, ae_rng *rng);

/* ---- proximal ops (prox.c) ---- */

/* Soft-threshold, the proximal operator of lambda ||x||_1:
 *   shrink(x, lambda) = sign(x) max(|x| - lambda, 0),  lambda >= 0.
 * A first-class op; its gradient is g [|x| > lambda] (0 on the dead zone
 * and, by choice, at |x| = lambda). */
AE_API ae_val *ae_shrink(ae_tape *t, ae_val *x, ae_real lambda);

/* One ISTA step on a code h for the loss f(h) + lambda ||h||_1:
 *   h' = shrink(h - step grad_h, step lambda),
 * where grad_h = df/dh (e.g. from ae_grad1). The L1 term enters through
 * its proximal operator, not a subgradient, so codes land exactly on 0.
 * step > 0 (at most 1 / Lipschitz constant of df/dh for convergence),
 * lambda >= 0; h and grad_h have equal shapes. Built from ops, so it is
 * differentiable in h and grad_h (unrolled inference). */
AE_API ae_val *ae_ista_step(ae_tape *t, ae_val *h, ae_val *grad_h, ae_real step, ae_real lambda);

/* FISTA's momentum: with t_k = *tk (start at 1),
 *   t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2,
 *   y = h_new + ((t_k - 1) / t_{k+1}) (h_new - h_old),
 * writes t_{k+1} to *tk and returns y, the point where the next ISTA step
 * evaluates its gradient. h_new and h_old have equal shapes. */
AE_API ae_val *ae_fista_extrapolate(ae_tape *t, ae_val *h_new, ae_val *h_old, double *tk);

#endif
