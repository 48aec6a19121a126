/* dae.c: the denoising autoencoder of Vincent et al. 2008/2010, "Extracting
 * and composing robust features with denoising autoencoders" (ICML) and
 * "Stacked denoising autoencoders" (JMLR 11). The network is ae's MLP; the
 * encoder sees a corrupted copy x~ ~ q(x~ | x) and the loss compares the
 * reconstruction with the CLEAN input:
 *   x~    = clamp(x + sigma eps, 0, 1), eps ~ N(0, I)     noise=gaussian (default, sigma 0.5)
 *         | x * m, m_i ~ Bernoulli(1 - nu)                 noise=masking (nu: fraction zeroed)
 *         | x_i -> 0 or 1 (1/2 each) with probability nu   noise=salt_pepper
 *   h     = encoder(x~)                  hidden layers with `activation`, linear code
 *   x_hat = sigmoid(decoder(h))          the mirror image of the encoder
 *   loss  = mse(x_hat, x)  (mean over pixels)
 *         | bce(x_hat, x)  (from the logits; summed over pixels, mean over the batch)
 *         + weight_decay/2 * sum ||W||^2
 * reconstruct() and encode() take the input as given (no noise); corrupt()
 * (ae_zoo_corrupt, zoo.h, shared with conv-dae and deconv-ae) returns x~
 * for pictures of what the network was trained on. sigma = 0
 * (or nu = 0) gives the plain autoencoder, which the tests compare with. */
#include "layers.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct dae_state {
  ae_mlp enc, dec;
} dae_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INTS, "100,30", "encoder layer sizes; the last is the code size", NULL, 1, 1e6},
    {"activation", AE_SET_CHOICE, "relu", "hidden-layer activation", "relu|sigmoid|tanh|leaky_relu", 0, 0},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss (against the clean input)", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
    {"noise", AE_SET_CHOICE, "gaussian", "corruption: additive Gaussian clipped to [0,1], masking, salt and pepper",
     "gaussian|masking|salt_pepper", 0, 0},
    {"sigma", AE_SET_REAL, "0.5", "standard deviation of the Gaussian noise", NULL, 0, 100},
    {"nu", AE_SET_REAL, "0.3", "fraction of inputs zeroed (masking) or set to 0/1 (salt_pepper)", NULL, 0, 1},
};

static int build(ae_model *m, ae_rng *rng) {
  dae_state *s = m->state;
  int act = ae_act_parse(ae_settings_str(&m->settings, "activation"));
  return ae_zoo_build_mirrored_mlp(m, &s->enc, &s->dec, (ae_act)act, AE_ACT_NONE, rng);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  dae_state *s = m->state;
  return ae_mlp_apply(t, &s->enc, ae_model_flat(m, t, x));
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {
  dae_state *s = m->state;
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_mlp_apply(t, &s->dec, h)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  dae_state *s = m->state;
  ae_val *x_noisy = ae_zoo_corrupt(m, t, x, rng);
  ae_val *logits = ae_mlp_apply(t, &s->dec, encode(m, t, x_noisy));
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
}

const ae_model_def ae_model_dae = {
    .name = "dae",
    .description = "denoising autoencoder (ae's MLP; Gaussian sigma 0.5 clipped to [0,1], masking or salt-and-pepper "
                   "noise; loss against the clean input)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5,3",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(dae_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
    .corrupt = ae_zoo_corrupt,
};
