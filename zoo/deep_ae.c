/* deep_ae.c: the deep autoencoder of Hinton and Salakhutdinov 2006,
 * "Reducing the dimensionality of data with neural networks" (Science 313),
 * 784-1000-500-250-30 with a linear code layer and a mirrored decoder:
 *   h     = W_4 f(W_3 f(W_2 f(W_1 x + b_1) + b_2) + b_3) + b_4     linear code
 *   x_hat = sigmoid(decoder(h))                                     mirrored, logistic output
 *   loss  = mse(x_hat, x)  (mean over pixels)
 *         | bce(x_hat, x)  (from the logits; summed over pixels, mean over the batch)
 *         + weight_decay/2 sum ||W||^2
 * H&S used logistic hidden units (f = sigmoid) and needed RBM pretraining:
 * "without pretraining, the very deep autoencoder always reconstructs the
 * average of the training data". This model trains end to end from
 * PyTorch's default initialisation with the zoo's optimisers (Adam), so its
 * default is f = relu, which trains at this depth without pretraining;
 * activation=sigmoid gives H&S's units (stacked-ae gives greedy layer-wise
 * pretraining). Default loss mse, as the zoo's other models (H&S report
 * squared reconstruction errors; loss=bce is their fine-tuning objective
 * for MNIST). */
#include "layers.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct deep_state {
  ae_mlp enc, dec;
} deep_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INTS, "1000,500,250,30", "encoder layer sizes; the last is the (linear) code size", NULL, 1,
     1e6},
    {"activation", AE_SET_CHOICE, "relu", "hidden-layer activation (H&S 2006: sigmoid)",
     "relu|sigmoid|tanh|leaky_relu", 0, 0},
    {"loss", AE_SET_CHOICE, "mse", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static int build(ae_model *m, ae_rng *rng) {
  deep_state *s = m->state;
  int act = ae_act_parse(ae_settings_str(&m->settings, "activation"));
  return ae_zoo_build_mirrored_mlp(m, &s->enc, &s->dec, (ae_act)act, AE_ACT_NONE, rng);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  deep_state *s = m->state;
  return ae_mlp_apply(t, &s->enc, ae_model_flat(m, t, x));
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {
  deep_state *s = m->state;
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_mlp_apply(t, &s->dec, h)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  deep_state *s = m->state;
  ae_val *logits = ae_mlp_apply(t, &s->dec, encode(m, t, x));
  return ae_zoo_add_weight_decay(m, t, ae_zoo_recon_loss(m, t, logits, x, terms), terms);
}

const ae_model_def ae_model_deep_ae = {
    .name = "deep-ae",
    .description = "deep autoencoder (784-1000-500-250-30, Hinton & Salakhutdinov 2006; ReLU, linear code)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=6,5,4,3 weight_decay=0.01",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(deep_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
