/* cae.c: the contractive autoencoder of Rifai, Vincent, Muller, Glorot and
 * Bengio 2011, "Contractive auto-encoders: explicit invariance during
 * feature extraction" (ICML): one sigmoid layer with tied weights,
 *   h     = sigmoid(W x + b)
 *   x_hat = sigmoid(W^T h + c)                 (tied=false: sigmoid(W' h + c))
 *   loss  = mean_b [ BCE(x_hat_b, x_b) summed over pixels ]      (loss=mse: mean squared error)
 *         + lambda * mean_b ||J_f(x_b)||_F^2,   J_f(x) = dh/dx
 *         + weight_decay/2 * sum ||W||^2
 * The reference configuration is 1000 units and lambda = 0.1.
 * The penalty is computed by the generic Jacobian tools (autograd/
 * jacobian.h) with create_graph, not by the closed form
 * sum_j (h_j(1-h_j))^2 sum_i W_ji^2 that holds for this one layer only, so
 * the encoder can be swapped for any other (the tests check that the two
 * agree). jacobian=exact costs min(hidden, dim) products per step (784
 * JVPs at 784-1000); jacobian=hutchinson estimates it without bias from
 * `probes` VJPs with Gaussian probes. At the reference width (784-1000)
 * exact costs hundreds of times a plain step in time, and its tape (one
 * JVP graph per input dimension, kept for the double backward) outgrows the
 * trainer's default arena, while hutchinson costs a few plain steps; so the
 * default is jacobian=hutchinson with 4 probes, and jacobian=exact is for
 * small widths (or a trainer given a large arena). To measure: `aezoo train
 * cae --set jacobian=exact|hutchinson` prints the step time, and
 * benchmarks/zoo_vs_torch.sh times the reference configuration.
 * This file also holds what the contractive models share (contractive.h). */
#include "contractive.h"

#include <math.h>

#include "grad/jacobian.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

/* ---- shared by cae, cae-deep and cae-h ---- */

ae_val *ae_zoo_input_var(ae_model *m, ae_tape *t, ae_val *x, int penalised) {
  ae_val *flat = ae_model_flat(m, t, x);
  return flat && penalised ? ae_var(t, flat->t.shape, flat->t.data) : flat;
}

ae_val *ae_zoo_contractive_penalty(ae_model *m, ae_tape *t, ae_val *h, ae_val *x_var, int create_graph, ae_rng *rng) {
  if (!h || !x_var) return NULL;
  int hutchinson = strcmp(ae_settings_str(&m->settings, "jacobian"), "hutchinson") == 0;
  int probes = (int)ae_settings_int(&m->settings, "probes");
  ae_val *sum = hutchinson ? ae_jacobian_frobenius_sq_hutchinson(t, h, x_var, probes, rng, create_graph)
                           : ae_jacobian_frobenius_sq(t, h, x_var, create_graph);
  return ae_scale(t, sum, (ae_real)(1.0 / (double)h->t.shape.d[0]));
}

int ae_zoo_cae_build(ae_model *m, ae_zoo_cae_net *n, ae_rng *rng) {
  int64_t hidden = ae_settings_int(&m->settings, "hidden");
  if (ae_dense_init(m, &n->enc, "encoder", m->dim, hidden, 1, rng)) return -1;
  n->dec_w = NULL;
  if (!ae_settings_bool(&m->settings, "tied")) {
    n->dec_w = ae_model_add_param(m, "decoder.weight", ae_shape_make(2, (int64_t[]){m->dim, hidden}));
    if (!n->dec_w) return -1;
    ae_init_uniform(n->dec_w, 1.0 / sqrt((double)hidden), rng);
  }
  n->dec_b = ae_model_add_param(m, "decoder.bias", ae_shape_make(1, (int64_t[]){m->dim}));
  if (!n->dec_b) return -1;
  ae_init_uniform(n->dec_b, 1.0 / sqrt((double)hidden), rng); /* as nn.Linear(hidden, dim)'s bias */
  return 0;
}

ae_val *ae_zoo_cae_code(ae_tape *t, const ae_zoo_cae_net *n, ae_val *x_flat) {
  return ae_dense_act_apply(t, &n->enc, AE_ACT_SIGMOID, x_flat);
}

ae_val *ae_zoo_cae_logits(ae_tape *t, const ae_zoo_cae_net *n, ae_val *h) {
  ae_val *c = ae_param_bind(t, n->dec_b);
  if (n->dec_w) return ae_linear(t, h, ae_param_bind(t, n->dec_w), c);
  return ae_add(t, ae_matmul(t, h, ae_param_bind(t, n->enc.w), 0, 0), c); /* h W = (W^T h) per row */
}

int ae_zoo_cae_model_build(ae_model *m, ae_rng *rng) { return ae_zoo_cae_build(m, m->state, rng); }

ae_val *ae_zoo_cae_encode(ae_model *m, ae_tape *t, ae_val *x) {
  return ae_zoo_cae_code(t, m->state, ae_model_flat(m, t, x));
}

ae_val *ae_zoo_cae_decode(ae_model *m, ae_tape *t, ae_val *h) {
  return ae_model_unflat(m, t, ae_sigmoid(t, ae_zoo_cae_logits(t, m->state, h)));
}

ae_val *ae_zoo_cae_reconstruct(ae_model *m, ae_tape *t, ae_val *x) {
  return ae_zoo_cae_decode(m, t, ae_zoo_cae_encode(m, t, x));
}

/* ---- the model ---- */


static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INT, "1000", "number of sigmoid hidden units", NULL, 1, 1e6},
    {"lambda", AE_SET_REAL, "0.1", "weight of the contractive penalty mean ||dh/dx||_F^2", NULL, 0, 1e6},
    {"tied", AE_SET_BOOL, "true", "decoder weight is the encoder's transpose", NULL, 0, 0},
    {"loss", AE_SET_CHOICE, "bce", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
    {"jacobian", AE_SET_CHOICE, "hutchinson",
     "penalty: Hutchinson's unbiased estimate, or exact (min(hidden, dim) products per step; its tape grows with "
     "hidden * dim * batch)",
     "exact|hutchinson", 0, 0},
    {"probes", AE_SET_INT, "4", "random probes per step for jacobian=hutchinson (at most 1000)", NULL, 1, 1000},
};

/* lambda = 0 skips the penalty: a tied sigmoid autoencoder. */
static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  ae_zoo_cae_net *net = m->state;
  double lambda = ae_settings_real(&m->settings, "lambda");
  ae_val *h = NULL, *jac = NULL;
  AE_GRAD_MODE(t, AE_ZOO_PENALTY_GRAD(t, lambda > 0), training) {
    ae_val *x_in = ae_zoo_input_var(m, t, x, lambda > 0);
    h = ae_zoo_cae_code(t, net, x_in);
    if (lambda > 0) jac = ae_zoo_contractive_penalty(m, t, h, x_in, training, rng);
  }
  ae_val *l = ae_zoo_recon_loss(m, t, ae_zoo_cae_logits(t, net, h), x, terms);
  if (jac) l = ae_term(t, terms, l, "contractive", lambda, jac);
  return ae_zoo_add_weight_decay(m, t, l, terms);
}

const ae_model_def ae_model_cae = {
    .name = "cae",
    .description = "contractive autoencoder (one sigmoid layer of 1000, tied weights, BCE + 0.1 ||dh/dx||_F^2)",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(ae_zoo_cae_net),
    .output_in_unit_range = 1,
    .build = ae_zoo_cae_model_build,
    .loss = loss,
    .encode = ae_zoo_cae_encode,
    .reconstruct = ae_zoo_cae_reconstruct,
    .decode = ae_zoo_cae_decode,
};
