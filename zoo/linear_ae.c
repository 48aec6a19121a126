/* linear_ae.c: the linear autoencoder, which learns the PCA subspace
 * (Baldi and Hornik 1989, "Neural networks and principal component
 * analysis: learning from examples without local minima").
 *   x_hat = c + W_d W_e (x - c)      W_e (code, D), W_d (D, code): no bias, no activation
 *   loss  = mse(x_hat, x)  (mean over pixels and batch)
 *         + weight_decay/2 (||W_e||^2 + ||W_d||^2)
 * Baldi and Hornik's result: every minimum of E||x - W_d W_e x||^2 is
 * global and span(W_d) is the principal subspace of the data's
 * second-moment matrix E[x x^T], which is PCA's (covariance) subspace only
 * for centred data. Pixels are not centred, so the model centres its input
 * with c, a learned per-feature offset ("center", initialised to 0; not a
 * layer bias: the same vector is subtracted before encoding and added back
 * after decoding). For any fixed P = W_d W_e the loss is
 *   tr((I - P) C (I - P)^T) + ||(I - P)(mean - c)||^2,   C the covariance,
 * so at the optimum the second term vanishes and span(W_d) is the top-`code`
 * eigenvector subspace of C: PCA's subspace, and the reconstruction error is
 * PCA's. center=false drops c: the bias-free model of the letter, which
 * learns the principal subspace of uncentred E[x x^T]. Works on any example
 * shape (flattened). */
#include "layers.h"
#include "ops/loss.h"
#include "ops/ops.h"
#include "zoo.h"
#include "models_internal.h"

typedef struct linear_state {
  ae_dense enc, dec;
  ae_param *center; /* NULL when center=false */
} linear_state;

static const ae_setting_def settings[] = {
    {"code", AE_SET_INT, "30", "code size (number of principal directions)", NULL, 1, 1e6},
    {"center", AE_SET_BOOL, "true", "learn an offset c: x_hat = c + W_d W_e (x - c) (PCA of centred data)", NULL,
     0, 0},
    {"weight_decay", AE_SET_REAL, "0", "L2 penalty coefficient on weights", NULL, 0, 10},
};

static int build(ae_model *m, ae_rng *rng) {
  linear_state *s = m->state;
  int64_t code = ae_settings_int(&m->settings, "code");
  if (ae_dense_init(m, &s->enc, "encoder", m->dim, code, 0, rng) ||
      ae_dense_init(m, &s->dec, "decoder", code, m->dim, 0, rng))
    return -1;
  s->center = NULL;
  if (ae_settings_bool(&m->settings, "center")) {
    s->center = ae_model_add_param(m, "center", ae_shape_make(1, (int64_t[]){m->dim}));
    if (!s->center) return -1;
    for (int64_t i = 0; i < m->dim; i++) s->center->value.data[i] = 0;
  }
  return 0;
}

/* x - c (or x), flattened. */
static ae_val *centred(ae_model *m, ae_tape *t, ae_val *x) {
  linear_state *s = m->state;
  ae_val *xf = ae_model_flat(m, t, x);
  return s->center ? ae_sub(t, xf, ae_param_bind(t, s->center)) : xf;
}

static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {
  linear_state *s = m->state;
  return ae_dense_apply(t, &s->enc, centred(m, t, x));
}

/* c + W_d h, flat (B, D): the centre is the decoder's bias (it has none
 * of its own), added by the product's op as ae_add would, without a pass
 * and a value of its own. */
static ae_val *decode_flat(ae_model *m, ae_tape *t, ae_val *h) {
  linear_state *s = m->state;
  if (!s->center) return ae_dense_apply(t, &s->dec, h);
  return ae_linear(t, h, ae_param_bind(t, s->dec.w), ae_param_bind(t, s->center));
}

static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) { return ae_model_unflat(m, t, decode_flat(m, t, h)); }

static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) { return decode(m, t, encode(m, t, x)); }

static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) {
  (void)rng;
  ae_val *x_hat = decode_flat(m, t, encode(m, t, x));
  ae_val *mse = ae_mse_loss(t, x_hat, ae_model_flat(m, t, x), AE_REDUCE_MEAN);
  return ae_zoo_add_weight_decay(m, t, ae_term(t, terms, NULL, "mse", 1, mse), terms);
}

const ae_model_def ae_model_linear_ae = {
    .name = "linear-ae",
    .description = "linear autoencoder (784-30, no bias or activation, learned centring, MSE): the PCA subspace",
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
    .gradcheck_settings = "code=3 weight_decay=0.01",
    .input = AE_INPUT_ANY,
    .state_size = sizeof(linear_state),
    .output_in_unit_range = 0,
    .build = build,
    .loss = loss,
    .encode = encode,
    .reconstruct = reconstruct,
    .decode = decode,
};
