/* tied.c: the README's worked example of a new model: a tied-weights
 * autoencoder with an L1 penalty on its code. No gradient by hand. Built as
 * a plugin, the aezoo command trains, evaluates and checks it:
 *   cc -shared -fPIC tied.c $(pkg-config --cflags --libs aezoo) -o tied.so */
#include <math.h>
#include "aezoo.h"

typedef struct { ae_param *w, *b, *c; } tied;   /* the model's own state */

static const ae_setting_def settings[] = {
    {"code", AE_SET_INT, "64", "code size", NULL, 1, 1e6},
    {"lambda", AE_SET_REAL, "1e-4", "L1 weight on the code", NULL, 0, 1e6}};

static int build(ae_model *m, ae_rng *rng) {
  tied *s = m->state;
  int64_t k = ae_settings_int(&m->settings, "code");
  s->w = ae_model_add_param(m, "encoder.weight", AE_SHAPE(k, m->dim));  /* (out, in) */
  s->b = ae_model_add_param(m, "encoder.bias", AE_SHAPE(k));
  s->c = ae_model_add_param(m, "decoder.bias", AE_SHAPE(m->dim));
  ae_init_uniform(s->w, 1 / sqrt((double)m->dim), rng);
  return 0;
}
static ae_val *encode(ae_model *m, ae_tape *t, ae_val *x) {              /* h = relu(x W^T + b), one op */
  tied *s = m->state;
  return ae_linear_act(t, ae_model_flat(m, t, x), ae_param_bind(t, s->w), ae_param_bind(t, s->b), AE_ACT_RELU, 0);
}
static ae_val *decode(ae_model *m, ae_tape *t, ae_val *h) {              /* x_hat = sigmoid(h W + c) */
  tied *s = m->state;
  return ae_sigmoid(t, ae_add(t, ae_matmul(t, h, ae_param_bind(t, s->w), 0, 0), ae_param_bind(t, s->c)));
}
static ae_val *reconstruct(ae_model *m, ae_tape *t, ae_val *x) {
  return ae_model_unflat(m, t, decode(m, t, encode(m, t, x)));
}
static ae_val *loss(ae_model *m, ae_tape *t, ae_val *x, ae_rng *rng, ae_terms *terms) { /* mse + lambda |h|_1 */
  ae_val *h = encode(m, t, x);
  ae_val *mse = ae_mse_loss(t, decode(m, t, h), ae_model_flat(m, t, x), AE_REDUCE_MEAN);
  ae_val *l = ae_term(t, terms, NULL, "mse", 1, mse);
  return ae_term(t, terms, l, "l1", ae_settings_real(&m->settings, "lambda") / h->t.shape.d[0], ae_l1_penalty(t, h));
}
const ae_model_def ae_model_tied_ae = {.name = "tied-ae", .description = "tied weights, L1 code", .settings = settings,
    .nsettings = 2, .state_size = sizeof(tied), .build = build, .loss = loss, .encode = encode,
    .reconstruct = reconstruct};
AEZOO_PLUGIN(&ae_model_tied_ae); /* the models `aezoo ... ./tied.so` sees */
