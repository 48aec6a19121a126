/* loss.h: reconstruction losses, divergences and weight penalties for the
 * autoencoder zoo. Every loss first forms an element-wise term l[i] (the
 * formula given with each function) and then reduces it with an explicit
 * ae_reduction:
 *
 *   AE_REDUCE_SUM         sum_i l[i] over every element: a scalar.
 *   AE_REDUCE_MEAN        sum_i l[i] / numel: a scalar.
 *   AE_REDUCE_BATCH_MEAN  sum_i l[i] / d[0]: summed over every element,
 *                         divided by the size of the leading (batch)
 *                         dimension only. This is "the per-example loss"
 *                         of autoencoder papers (sum over pixels or latent
 *                         units, mean over the batch). A 0-d value has
 *                         batch size 1 (same as SUM).
 *   AE_REDUCE_NONE        no reduction: l itself, of the inputs' shape.
 *
 * Paired arguments (prediction, target) must have equal shapes; a
 * mismatch raises AE_ERR_SHAPE naming both (no silent broadcasting of a
 * target). Like every op, each returns NULL when the tape holds an error.
 * Natural logarithms throughout; all losses are in nats. */
#ifndef AE_LOSS_H
#define AE_LOSS_H

#include "base/api.h"
#include "autograd/tape.h"

typedef enum ae_reduction {
  AE_REDUCE_SUM,
  AE_REDUCE_MEAN,
  AE_REDUCE_BATCH_MEAN,
  AE_REDUCE_NONE,
} ae_reduction;

/* The log-probability floor of ae_bce: each log is clamped to >= -100,
 * as PyTorch's BCELoss does, so p = 0 or 1 gives a finite loss. */
#define AE_BCE_LOG_MIN (-100.0)
/* ae_bce's gradient with respect to p is (p - x) / max(p (1 - p), this):
 * bounded (by 1e12) even where p is 0 or 1 (PyTorch's BCELoss eps). */
#define AE_BCE_GRAD_EPS 1e-12

/* Reduces an element-wise loss l as described above. */
AE_API ae_val *ae_loss_reduce(ae_tape *t, ae_val *l, ae_reduction r);

/* Mean squared error family: l = (x_hat - x)^2 (no 1/2). */
AE_API ae_val *ae_mse_loss(ae_tape *t, ae_val *x_hat, ae_val *x, ae_reduction r);

/* ae_mse_loss(sigmoid(z), x, r) in one op (reduced; unreduced it is that
 * composite): values and gradients bitwise the composite's, with one pass
 * backward, d l/d z = 2 c g (y - x) y (1 - y), y = sigmoid(z) kept from the
 * forward (c: 1, 1/n or 1/B), d l/d x = -2 c g (y - x). */
AE_API ae_val *ae_sigmoid_mse_loss(ae_tape *t, ae_val *z, ae_val *x, ae_reduction r);

/* Binary cross-entropy on probabilities p in [0, 1] against targets x in
 * [0, 1] (not only {0, 1}):
 *   l = -(x max(log p, -100) + (1 - x) max(log(1 - p), -100)).
 * d l/d p = (p - x) / max(p (1 - p), 1e-12); d l/d x = max(log(1-p),-100)
 * - max(log p,-100). For logits prefer ae_bce_with_logits_loss: p =
 * sigmoid(z) saturates to 0 or 1 in float32 at |z| of about 17 and 88. */
AE_API ae_val *ae_bce_loss(ae_tape *t, ae_val *p, ae_val *x, ae_reduction r);

/* Binary cross-entropy on logits z (p = sigmoid(z)):
 *   l = softplus(z) - x z = max(z, 0) - x z + log1p(exp(-|z|)),
 * evaluated in the second form: finite for every finite z, and no
 * cancellation when the prediction is confident and right. d l/d z =
 * sigmoid(z) - x, d l/d x = -z. Reduced, it is one op (unreduced, the
 * composite of ae_bce_logits): values and gradients bitwise the
 * composite's, with sigmoid(z) kept from the forward and a one-pass
 * backward. */
AE_API ae_val *ae_bce_with_logits_loss(ae_tape *t, ae_val *z, ae_val *x, ae_reduction r);

/* Gaussian negative log-likelihood of x under N(mu, exp(logvar)):
 *   l = 0.5 (log(2 pi) + logvar + (x - mu)^2 exp(-logvar)),
 * the full density including the constant 0.5 log(2 pi) = 0.91894. x and
 * mu have equal shapes; logvar has their shape or broadcasts to it (e.g.
 * one learned log-variance per feature); l has x's shape. */
AE_API ae_val *ae_gaussian_nll_loss(ae_tape *t, ae_val *mu, ae_val *logvar, ae_val *x, ae_reduction r);

/* KL(Bernoulli(rho) || Bernoulli(rho_hat)), the sparse autoencoder's
 * penalty, for a target rho in (0, 1) and mean activations rho_hat in
 * (0, 1) (any shape, usually one per hidden unit):
 *   l_j = rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)).
 * Use AE_REDUCE_SUM for the usual sum over hidden units. rho_hat of
 * exactly 0 or 1 gives an infinite penalty (no clamping: rho_hat is a mean
 * of sigmoid units and stays inside in practice). rho outside (0, 1)
 * raises AE_ERR_ARG. */
AE_API ae_val *ae_kl_bernoulli(ae_tape *t, ae_real rho, ae_val *rho_hat, ae_reduction r);
/* The same penalty from activations h of shape (batch, units):
 * rho_hat = mean of h over the batch (axis 0), then ae_kl_bernoulli with r. */
AE_API ae_val *ae_kl_sparsity(ae_tape *t, ae_real rho, ae_val *h, ae_reduction r);

/* KL(N(mu, exp(logvar)) || N(0, 1)) of a diagonal Gaussian, per element:
 *   l = -0.5 (1 + logvar - mu^2 - exp(logvar)).
 * mu and logvar have equal shapes, e.g. (batch, latent): AE_REDUCE_BATCH_MEAN
 * gives the VAE's per-example KL (sum over latent units, mean over batch). */
AE_API ae_val *ae_kl_gaussian(ae_tape *t, ae_val *mu, ae_val *logvar, ae_reduction r);

/* Weight penalties, summed over every element (scale them yourself):
 * L1 = sum |w| (gradient sign(w), 0 at 0); L2 = sum w^2 (no 1/2, so its
 * gradient is 2 w). */
AE_API ae_val *ae_l1_penalty(ae_tape *t, ae_val *w);
AE_API ae_val *ae_l2_penalty(ae_tape *t, ae_val *w);

/* The element-wise ops under ae_bce_loss and ae_bce_with_logits_loss
 * (first-class ops with their own backward rules): l of p's shape. */
AE_API ae_val *ae_bce(ae_tape *t, ae_val *p, ae_val *x);
AE_API ae_val *ae_bce_logits(ae_tape *t, ae_val *z, ae_val *x);

#endif
