/* vae.c: the variational autoencoder (Kingma & Welling 2014, "Auto-Encoding
 * Variational Bayes"), with a Gaussian encoder q(z|x) = N(mu(x), diag
 * exp(logvar(x))), a Bernoulli decoder p(x|z) = Bernoulli(sigmoid(g(z)))
 * and a standard normal prior p(z) = N(0, I).
 *   h        = encoder(x)                     784-400 tanh (setting hidden, activation)
 *   mu       = fc_mu(h),  logvar = fc_logvar(h)              (setting code = 20)
 *   z        = mu + exp(logvar / 2) eps,  eps ~ N(0, I)      (reparameterisation)
 *   recon    = -log p(x|z) = sum_i BCE(sigmoid(g(z))_i, x_i)  (from the logits)
 *   kl       = beta * KL(q(z|x) || p(z))
 *            = beta * -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))
 *   loss     = recon + kl  (+ weight_decay/2 sum ||W||^2),  mean over the batch.
 * With beta = 1, recon + kl is the negative ELBO in nats per image (one
 * Monte Carlo sample of z); beta != 1 weighs the KL (beta-VAE), and the
 * "kl" term is reported with its weight, like every penalty in the zoo.
 * The noise eps is drawn from the generator the trainer passes, so a
 * gradient check that resets it sees a deterministic loss.
 * sample: z ~ N(0, I) decoded through the sigmoid (Bernoulli means).
 * encode: mu.  reconstruct: sigmoid(g(mu)), deterministic. */
#include "layers.h"
#include "ops/loss.h"
#include "ops/noise.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct vae_state {
  ae_mlp enc, dec;       /* x -> h; z -> logits */
  ae_dense fc_mu, fc_logvar;
} vae_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INTS, "400", "encoder hidden layer sizes (the decoder mirrors them)", NULL, 1, 1e6},
    {"activation", AE_SET_CHOICE, "tanh", "hidden-layer activation", "relu|sigmoid|tanh|leaky_relu", 0, 0},
    {"code", AE_SET_INT, "20", "latent dimension (mu and logvar each have this many units)", NULL, 1, 1e6},
    {"beta", AE_SET_REAL, "1", "weight of the KL term (1: the negative ELBO)", NULL, 0, 1e6},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static int build(ae_model *m, ae_rng *rng) {
  vae_state *s = m->state;
  ae_act act = (ae_act)ae_act_parse(ae_settings_str(&m->settings, "activation"));
  int64_t hidden[AE_MAX_LAYERS], sizes[AE_MAX_LAYERS + 1], code = ae_settings_int(&m->settings, "code");
  int n = ae_settings_ints(&m->settings, "hidden", hidden, AE_MAX_LAYERS - 1);
  /* encoder: dim, hidden...; decoder: code, hidden reversed..., dim */
  sizes[0] = m->dim;
  for (int i = 0; i < n; i++) sizes[i + 1] = hidden[i];
  if (ae_mlp_init(m, &s->enc, "encoder", n, sizes, act, act, rng)) return -1;
  if (ae_dense_init(m, &s->fc_mu, "fc_mu", hidden[n - 1], code, 1, rng)) return -1;
  if (ae_dense_init(m, &s->fc_logvar, "fc_logvar", hidden[n - 1], code, 1, rng)) return -1;
  sizes[0] = code;
  for (int i = 0; i < n; i++) sizes[i + 1] = hidden[n - 1 - i];
  sizes[n + 1] = m->dim;
  return ae_mlp_init(m, &s->dec, "decoder", n + 1, sizes, act, AE_ACT_NONE, rng);
}

/* mu and logvar of q(z|x). */
static ae_val *posterior(ae_model *m, ae_tape *t, ae_val *x, ae_val **logvar) {
  vae_state *s = m->state;
  ae_val *h = ae_mlp_apply(t, &s->enc, ae_model_flat(m, t, x));
  if (logvar) *logvar = ae_dense_apply(t, &s->fc_logvar, h);
  return ae_dense_apply(t, &s->fc_mu, h);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) { return posterior(m, t, x, NULL); }

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *z) {
  vae_state *s = m->state;
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_mlp_apply(t, &s->dec, z)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *sample(ae_model *m, ae_tape *t, int n, ae_rng *rng) {
  if (n < 1) {
    ae_raise(t, AE_ERR_ARG, "vae.sample", "need at least one sample, got %d", n);
    return NULL;
  }
  ae_val *z = ae_randn(t, AE_SHAPE(n, ae_settings_int(&m->settings, "code")), rng);
  return decode(m, t, z);
}

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  vae_state *s = m->state;
  ae_val *logvar, *mu = posterior(m, t, x, &logvar);
  ae_val *z = ae_reparameterize(t, mu, logvar, rng);
  ae_val *logits = ae_mlp_apply(t, &s->dec, z);
  ae_val *recon = ae_bce_with_logits_loss(t, logits, ae_model_flat(m, t, x), AE_REDUCE_BATCH_MEAN);
  ae_val *kl = ae_kl_gaussian(t, mu, logvar, AE_REDUCE_BATCH_MEAN);
  ae_val *l = ae_term(t, terms, NULL, "recon", 1, recon);
  l = ae_term(t, terms, l, "kl", ae_settings_real(&m->settings, "beta"), kl);
  return ae_zoo_add_weight_decay(m, t, l, terms);
}

const ae_model_def ae_model_vae = {
    .name = "vae",
    .description = "variational autoencoder (784-400-20 tanh, Gaussian encoder, Bernoulli decoder, negative ELBO)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5 code=3",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(vae_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
    .sample = sample,
};
