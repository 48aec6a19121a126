/* cae_h.c: CAE+H, the higher-order contractive autoencoder of Rifai,
 * Mesnil, Vincent, Muller, Bengio, Dauphin and Glorot 2011, "Higher order
 * contractive auto-encoder" (ECML PKDD): cae's network (one sigmoid layer,
 * tied weights, BCE) whose Jacobian is also asked to vary slowly around
 * each input:
 *   h     = sigmoid(W x + b),  x_hat = sigmoid(W^T h + c)
 *   loss  = mean_b [ BCE(x_hat_b, x_b) summed over pixels ]
 *         + lambda * mean_b ||J(x_b)||_F^2
 *         + gamma  * mean_b E_eps ||J(x_b) - J(x_b + eps)||_F^2,   eps ~ N(0, sigma^2 I)
 *         + weight_decay/2 * sum ||W||^2,          J(x) = dh/dx
 * Both Jacobian terms are estimated stochastically (the paper's "with the
 * stochastic estimate"; 1000 units make the exact first term ~800 products
 * a step, see cae.c; jacobian=exact restores it):
 *   first term:  Hutchinson, ||J^T v||^2 with v ~ N(0, I) of the code's
 *                shape, E_v = ||J||_F^2 (ae_jacobian_frobenius_sq_hutchinson);
 *   second term: for each of `corruptions` (n_c) draws eps_c and each of
 *                `probes` probes v ~ N(0, I) (the same v on both sides),
 *                  ||J(x)^T v - J(x + eps_c)^T v||^2 = ||(J(x) - J(x + eps_c))^T v||^2,
 *                whose expectation over v is ||J(x) - J(x + eps_c)||_F^2
 *                (E[v v^T] = I), and over eps_c the paper's expectation:
 *                an unbiased estimate from 2 n_c probes VJPs (ae_vjp with
 *                create_graph, so it is differentiable in the parameters).
 * The term is exactly 0 when sigma = 0 (both products are the same
 * computation). Every probe is block diagonal over the batch, so the sum
 * over the batch is divided by B. */
#include "grad/jacobian.h"
#include "contractive.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"


static const ae_setting_def settings[] = {
    {"hidden", AE_SET_INT, "1000", "number of sigmoid hidden units", NULL, 1, 1e6},
    {"lambda", AE_SET_REAL, "0.1", "weight of the contractive penalty mean ||J(x)||_F^2", NULL, 0, 1e6},
    {"gamma", AE_SET_REAL, "0.1", "weight of the higher-order term E ||J(x) - J(x + eps)||_F^2", NULL, 0, 1e6},
    {"sigma", AE_SET_REAL, "0.1", "standard deviation of the corruption eps", NULL, 0, 100},
    {"corruptions", AE_SET_INT, "4", "corrupted copies n_c per example for the higher-order term (at most 256)",
     NULL, 1, 256},
    {"probes", AE_SET_INT, "1", "random probes per estimate (first term; per corruption for the second; at most 1000)",
     NULL, 1, 1000},
    {"jacobian", AE_SET_CHOICE, "hutchinson", "first term: exact or Hutchinson's estimate", "exact|hutchinson", 0, 0},
    {"tied", AE_SET_BOOL, "true", "decoder weight is the encoder's transpose", NULL, 0, 0},
    {"loss", AE_SET_CHOICE, "bce", "reconstruction loss", "mse|bce", 0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

/* mean_b E_eps ||J(x_b) - J(x_b + eps)||_F^2 by the estimator above; x_var
 * the input leaf, h its code. */
static ae_val *higher_order(ae_model *m, ae_tape *t, ae_val *x, ae_val *x_var, ae_val *h, int create_graph,
                            ae_rng *rng) {
  ae_zoo_cae_net *net = m->state;
  int nc = (int)ae_settings_int(&m->settings, "corruptions"), k = (int)ae_settings_int(&m->settings, "probes");
  ae_real sigma = (ae_real)ae_settings_real(&m->settings, "sigma");
  ae_val *x_flat = ae_model_flat(m, t, x), *sum = NULL;
  if (!x_flat || !x_var || !h) return NULL;
  for (int c = 0; c < nc && ae_tape_ok(t); c++) {
    ae_val *x_noisy = ae_add(t, x_flat, ae_scale(t, ae_randn(t, x_flat->t.shape, rng), sigma)); /* a constant */
    ae_val *x_c = x_noisy ? ae_var(t, x_noisy->t.shape, x_noisy->t.data) : NULL;
    ae_val *h_c = ae_zoo_cae_code(t, net, x_c);
    for (int p = 0; p < k && h_c; p++) {
      ae_val *v = ae_randn(t, h->t.shape, rng);
      ae_val *d = ae_sub(t, ae_vjp(t, h, v, x_var, create_graph), ae_vjp(t, h_c, v, x_c, create_graph));
      ae_val *sq = ae_sum_sq(t, d);
      sum = sum ? ae_add(t, sum, sq) : sq;
    }
  }
  return ae_scale(t, sum, (ae_real)(1.0 / ((double)nc * k * (double)h->t.shape.d[0])));
}

/* A zero weight skips its term (lambda = gamma = 0: a tied sigmoid autoencoder). */
static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  ae_zoo_cae_net *net = m->state;
  double lambda = ae_settings_real(&m->settings, "lambda"), gamma = ae_settings_real(&m->settings, "gamma");
  int penalised = lambda > 0 || gamma > 0;
  ae_val *h = NULL, *jac = NULL, *jac_diff = NULL;
  AE_GRAD_MODE(t, AE_ZOO_PENALTY_GRAD(t, penalised), training) {
    ae_val *x_in = ae_zoo_input_var(m, t, x, penalised);
    h = ae_zoo_cae_code(t, net, x_in);
    if (lambda > 0) jac = ae_zoo_contractive_penalty(m, t, h, x_in, training, rng);
    if (gamma > 0) jac_diff = higher_order(m, t, x, x_in, h, training, rng);
  }
  ae_val *l = ae_zoo_recon_loss(m, t, ae_zoo_cae_logits(t, net, h), x, terms);
  if (jac) l = ae_term(t, terms, l, "contractive", lambda, jac);
  if (jac_diff) l = ae_term(t, terms, l, "higher_order", gamma, jac_diff);
  return ae_zoo_add_weight_decay(m, t, l, terms);
}

const ae_model_def ae_model_cae_h = {
    .name = "cae-h",
    .description = "CAE+H: cae plus gamma E||J(x) - J(x + eps)||_F^2, both terms by stochastic probes",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "hidden=5 corruptions=2 probes=2",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(ae_zoo_cae_net),
    .output_in_unit_range = 1,
    .build = ae_zoo_cae_model_build,
    .loss = loss,
    .encode = ae_zoo_cae_encode,
    .reconstruct = ae_zoo_cae_reconstruct,
    .decode = ae_zoo_cae_decode,
};
