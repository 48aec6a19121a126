/* ae.c: the undercomplete MLP autoencoder, the zoo's simplest model and
 * the template for the others.
 *   h = encoder(x)                  hidden layers with `activation`, linear code
 *   x_hat = sigmoid(decoder(h))     the mirror image of the encoder
 *   loss = mse(x_hat, x)  (mean over pixels)
 *        | bce(x_hat, x)  (from the logits; summed over pixels, mean over the batch)
 *        + weight_decay/2 * sum ||W||^2
 * code_activation=sigmoid makes the code logistic, h = sigmoid(a), and
 * code_noise=sigma adds Gaussian noise to a in training only,
 * h = sigmoid(a + sigma eps), eps ~ N(0, I): the codes of Salakhutdinov and
 * Hinton's semantic hashing (2009), which add noise to the input of the
 * logistic code units so that training pushes them towards 0 or 1 and
 * thresholding them into bits loses little (`aezoo retrieve`). encode()
 * and reconstruct() use no noise. */
#include <string.h>

#include "layers.h"
#include "ops/loss.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct ae_state {
  ae_mlp enc, dec;
} ae_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INTS, "100,30", "encoder layer sizes; the last is the code size", NULL, 1, 1e6},
    {"activation", AE_SET_CHOICE, "relu", "hidden-layer activation", "relu|sigmoid|tanh|leaky_relu", 0, 0},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
    {"code_activation", AE_SET_CHOICE, "linear", "code units: linear, or logistic (semantic hashing with code_noise)",
     "linear|sigmoid", 0, 0},
    {"code_noise", AE_SET_REAL, "0", "std of Gaussian noise added to the code's input in training (semantic hashing)",
     NULL, 0, 1e3},
};

static int build(ae_model *m, ae_rng *rng) {
  ae_state *s = m->state;
  int act = ae_act_parse(ae_settings_str(&m->settings, "activation"));
  return ae_zoo_build_mirrored_mlp(m, &s->enc, &s->dec, (ae_act)act, AE_ACT_NONE, rng);
}

/* The code of x; with noise (rng not NULL) in training. */
static ae_val *code_of(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng) {
  ae_state *s = m->state;
  ae_val *a = ae_mlp_apply(t, &s->enc, ae_model_flat(m, t, x));
  double sigma = ae_settings_real(&m->settings, "code_noise");
  if (rng && sigma > 0 && a) a = ae_add(t, a, ae_scale(t, ae_randn(t, a->t.shape, rng), (ae_real)sigma));
  return strcmp(ae_settings_str(&m->settings, "code_activation"), "sigmoid") == 0 ? ae_sigmoid(t, a) : a;
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) { return code_of(m, t, x, NULL); }

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {
  ae_state *s = m->state;
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_mlp_apply(t, &s->dec, h)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  ae_state *s = m->state;
  ae_val *logits = ae_mlp_apply(t, &s->dec, code_of(m, t, x, rng));
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
}

const ae_model_def ae_model_ae = {
    .name = "ae",
    .description = "undercomplete MLP autoencoder (784-100-30 ReLU, mirrored decoder, MSE or BCE)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5,3",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(ae_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
