/* cae_deep.c: the contractive penalty of Rifai et al. 2011 ("Contractive
 * auto-encoders", ICML) on a deep encoder, trained end to end: the
 * Jacobian is that of the whole encoder, a gradient of a gradient through
 * every layer, which the tape gives for any encoder (no hand derivation).
 *   h     = f(W_2 f(W_1 x + b_1) + b_2)            784-256-64, f = sigmoid
 *   x_hat = sigmoid(decoder(h))                    mirrored: 64-256-784
 *   loss  = mean_b [ BCE(x_hat_b, x_b) summed over pixels ]     (loss=mse: mean squared error)
 *         + lambda * mean_b ||J_f(x_b)||_F^2,   J_f(x) = dh/dx
 *         + weight_decay/2 * sum ||W||^2
 * The penalty is exact (jacobian=exact: one VJP with create_graph per code
 * unit, 64 here) or Hutchinson's unbiased estimate E_v ||J^T v||^2 with
 * `probes` Gaussian probes v (jacobian=hutchinson; Hoffman, Roberts and
 * Yaida 2019, "Robust learning with Jacobian regularization"), which
 * costs `probes` VJPs whatever the code size. */
#include "grad/jacobian.h"
#include "contractive.h"
#include "layers.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct cae_deep_state {
  ae_mlp enc, dec;
} cae_deep_state;

static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INTS, "256,64", "encoder layer sizes; the last is the code size", NULL, 1, 1e6},
    {"activation", AE_SET_CHOICE, "sigmoid", "activation of every encoder layer (the code too) and of the decoder's "
     "hidden layers", "relu|sigmoid|tanh|leaky_relu", 0, 0},
    {"lambda", AE_SET_REAL, "0.1", "weight of the contractive penalty mean ||dh/dx||_F^2", NULL, 0, 1e6},
    {"jacobian", AE_SET_CHOICE, "exact", "penalty: exact (one VJP per code unit) or Hutchinson's estimate",
     "exact|hutchinson", 0, 0},
    {"probes", AE_SET_INT, "1", "random probes per step for jacobian=hutchinson (at most 1000)", NULL, 1, 1000},
    {"loss", AE_SET_CHOICE, "bce", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static int build(ae_model *m, ae_rng *rng) {
  cae_deep_state *s = m->state;
  ae_act act = (ae_act)ae_act_parse(ae_settings_str(&m->settings, "activation"));
  return ae_zoo_build_mirrored_mlp(m, &s->enc, &s->dec, act, act, rng);
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  cae_deep_state *s = m->state;
  return ae_mlp_apply(t, &s->enc, ae_model_flat(m, t, x));
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {
  cae_deep_state *s = m->state;
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_mlp_apply(t, &s->dec, h)));
}

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

/* lambda = 0 skips the penalty: a plain deep autoencoder. */
static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  cae_deep_state *s = m->state;
  double lambda = ae_settings_real(&m->settings, "lambda");
  ae_val *h = NULL, *jac = NULL;
  AE_GRAD_MODE(t, AE_ZOO_PENALTY_GRAD(t, lambda > 0), training) {
    ae_val *x_in = ae_zoo_input_var(m, t, x, lambda > 0);
    h = ae_mlp_apply(t, &s->enc, x_in);
    if (lambda > 0) jac = ae_zoo_contractive_penalty(m, t, h, x_in, training, rng);
  }
  ae_val *l = ae_zoo_recon_loss(m, t, ae_mlp_apply(t, &s->dec, h), x, terms);
  if (jac) l = ae_term(t, terms, l, "contractive", lambda, jac);
  return ae_zoo_add_weight_decay(m, t, l, terms);
}

const ae_model_def ae_model_cae_deep = {
    .name = "cae-deep",
    .description = "contractive penalty on a deep encoder (784-256-64 sigmoid, mirrored decoder; exact or "
                   "Hutchinson ||dh/dx||_F^2)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5,3",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(cae_deep_state),
    .output_in_unit_range = 1,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
