/* sparse.c: sparse autoencoders, one hidden layer of sigmoid units with a
 * sparsity penalty on the code (two models):
 *   h     = sigmoid(W_1 x + b_1)           (B, hidden), 300 units by default
 *   x_hat = sigmoid(W_2 h + b_2)
 *   R     = mse(x_hat, x) (mean over pixels) | bce (summed over pixels, mean over batch)
 * sparse-l1: an L1 penalty on the activations, Omega(h) = lambda sum_i |h_i|
 *   (Goodfellow, Bengio and Courville 2016, "Deep Learning", section 14.2.1;
 *   Keras's activity_regularizer=l1(1e-4) in "Building autoencoders in
 *   Keras"), summed over units, averaged over the batch:
 *     loss = R + lambda (1/B) sum_b sum_j |h_bj|  + weight_decay/2 sum ||W||^2
 * sparse-kl: Ng's KL sparsity target (A. Ng, "Sparse autoencoder", CS294A
 *   lecture notes, 2011, section 2.3): with rho_hat_j = (1/B) sum_b h_bj the
 *   mean activation of unit j over the batch,
 *     loss = R + beta sum_j KL(rho || rho_hat_j) + weight_decay/2 sum ||W||^2,
 *     KL(rho || r) = rho log(rho / r) + (1 - rho) log((1 - rho) / (1 - r)).
 *   beta = 3 and the default loss=bce follow the programming exercise of
 *   Ng's notes (sparseae_exercise, train.m: "beta = 3; % weight of sparsity
 *   penalty term"), whose reconstruction term (1/B) sum_b 1/2 ||x_hat - x||^2
 *   is summed over pixels: so is the zoo's bce (per pixel, its gradient with
 *   respect to the logit, p - x, is that of the half squared error up to
 *   sigmoid'), so beta keeps its weight. The zoo's mse is a mean over
 *   pixels, 2/D times Ng's term: with loss=mse, beta = 3 * 2 / D (0.0077 for
 *   D = 784) gives Ng's balance, while beta = 3 makes rho_hat = rho nearly a
 *   hard constraint at a large cost in reconstruction. */
#include "layers.h"
#include "ops/loss.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct sparse_state {
  ae_dense enc, dec;
} sparse_state;

static const ae_setting_def l1_settings[] = {
    {"hidden", AE_SET_INT, "300", "number of sigmoid hidden units", NULL, 1, 1e6},
    {"lambda", AE_SET_REAL, "1e-4", "L1 penalty coefficient on the code (sum over units, mean over batch)", NULL, 0,
     1e6},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static const ae_setting_def kl_settings[] = {
    {"hidden", AE_SET_INT, "300", "number of sigmoid hidden units", NULL, 1, 1e6},
    {"rho", AE_SET_REAL, "0.1", "target mean activation of each hidden unit", NULL, 1e-6, 1 - 1e-6},
    {"beta", AE_SET_REAL, "3", "weight of the KL sparsity penalty (Ng's CS294A notes: 3)", NULL, 0, 1e6},
    {"loss", AE_SET_CHOICE, "bce", "reconstruction loss (bce: summed over pixels, the scale beta = 3 is set for)",
     "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static int build(ae_model *m, ae_rng *rng) {
  sparse_state *s = m->state;
  int64_t hidden = ae_settings_int(&m->settings, "hidden");
  if (ae_dense_init(m, &s->enc, "encoder.0", m->dim, hidden, 1, rng)) return -1;
  return ae_dense_init(m, &s->dec, "decoder.0", hidden, m->dim, 1, rng);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  sparse_state *s = m->state;
  return ae_dense_act_apply(t, &s->enc, AE_ACT_SIGMOID, ae_model_flat(m, t, x));
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {
  sparse_state *s = m->state;
  return ae_model_unflat(m, t, ae_dense_act_apply(t, &s->dec, AE_ACT_SIGMOID, h));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

/* R + penalty + weight decay, with the penalty computed from the code h. */
static ae_val *sparse_loss(ae_model *m, ae_tape *t, ae_val *x, ae_terms *terms,
                           ae_val *(*penalty)(ae_model *, ae_tape *, ae_val *, ae_terms *)) {
  sparse_state *s = m->state;
  ae_val *h = encode(m, t, x);
  ae_val *recon = ae_zoo_recon_loss(m, t, ae_dense_apply(t, &s->dec, h), x, terms);
  return ae_zoo_add_weight_decay(m, t, ae_add(t, recon, penalty(m, t, h, terms)), terms);
}

/* lambda (1/B) sum_b sum_j |h_bj| */
static ae_val *l1_penalty(ae_model *m, ae_tape *t, ae_val *h, ae_terms *terms) {
  double lambda = ae_settings_real(&m->settings, "lambda");
  return ae_term(t, terms, NULL, "l1", lambda, ae_loss_reduce(t, ae_abs(t, h), AE_REDUCE_BATCH_MEAN));
}

/* beta sum_j KL(rho || rho_hat_j), rho_hat = mean of h over the batch */
static ae_val *kl_penalty(ae_model *m, ae_tape *t, ae_val *h, ae_terms *terms) {
  double rho = ae_settings_real(&m->settings, "rho"), beta = ae_settings_real(&m->settings, "beta");
  /* ae_kl_sparsity's formula, with the batch mean over every process of a data-parallel run */
  return ae_term(t, terms, NULL, "kl", beta, ae_kl_bernoulli(t, (ae_real)rho, ae_zoo_batch_mean(m, t, h), AE_REDUCE_SUM));
}

static ae_val *l1_loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  return sparse_loss(m, t, x, terms, l1_penalty);
}

static ae_val *kl_loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  return sparse_loss(m, t, x, terms, kl_penalty);
}

const ae_model_def ae_model_sparse_l1 = {
    .name = "sparse-l1",
    .description = "sparse autoencoder, L1 penalty on the code (300 sigmoid units, lambda 1e-4)",
    .settings = l1_settings,
    .nsettings = sizeof l1_settings / sizeof l1_settings[0],
    .gradcheck_settings = "hidden=5 lambda=0.1 weight_decay=0.01",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(sparse_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = l1_loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};

const ae_model_def ae_model_sparse_kl = {
    .name = "sparse-kl",
    .description = "sparse autoencoder, KL(rho || mean activation) penalty (300 sigmoid units, rho 0.1, beta 3, BCE)",
    .settings = kl_settings,
    .nsettings = sizeof kl_settings / sizeof kl_settings[0],
    .gradcheck_settings = "hidden=5 weight_decay=0.01",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(sparse_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = kl_loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
